import { describe, expect, it, vi } from "vitest";

import { firstScreenEvent, firstScreenReporter, type FirstScreenHost } from "./firstScreen.ts";

// fakeHost records the emitted events and keeps the animation frame
// callbacks until runFrames runs them.
function fakeHost(withRuntime: boolean) {
  const frames: FrameRequestCallback[] = [];
  const emit = vi.fn();
  const host: FirstScreenHost = {
    requestAnimationFrame: (callback) => frames.push(callback),
  };
  if (withRuntime) {
    host.runtime = { EventsEmit: emit };
  }
  const runFrames = () => {
    for (const callback of frames.splice(0)) {
      callback(0);
    }
  };
  return { host, emit, frames, runFrames };
}

describe("firstScreenReporter", () => {
  it("emits the event in the next animation frame", () => {
    const { host, emit, runFrames } = fakeHost(true);
    firstScreenReporter(host)();
    expect(emit).not.toHaveBeenCalled();

    runFrames();
    expect(emit).toHaveBeenCalledTimes(1);
    expect(emit).toHaveBeenCalledWith(firstScreenEvent);
  });

  it("emits only once", () => {
    const { host, emit, runFrames } = fakeHost(true);
    const report = firstScreenReporter(host);
    report();
    runFrames();
    report();
    runFrames();
    expect(emit).toHaveBeenCalledTimes(1);
  });

  it("does nothing without the Wails runtime", () => {
    const { host, frames } = fakeHost(false);
    expect(() => firstScreenReporter(host)()).not.toThrow();
    expect(frames).toHaveLength(0);
  });
});
