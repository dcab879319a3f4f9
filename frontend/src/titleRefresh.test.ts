import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { defaultThreadTitle, type Thread } from "./api.ts";
import { refreshUntilTitled } from "./titleRefresh.ts";

function thread(id: string, title: string): Thread {
  return {
    id,
    resourceId: "p1",
    title,
    createdAt: "2030-01-01T00:00:00Z",
    updatedAt: "2030-01-01T00:00:00Z",
    metadata: null,
    messageCount: 2,
  };
}

describe("refreshUntilTitled", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("refreshes at each delay while the title is the default", async () => {
    const refresh = vi.fn(async () => [thread("t1", defaultThreadTitle)]);
    refreshUntilTitled("t1", refresh, [0, 1_000, 3_000]);

    await vi.advanceTimersByTimeAsync(0);
    expect(refresh).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(refresh).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(refresh).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(refresh).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(refresh).toHaveBeenCalledTimes(3);
  });

  it("stops once the thread has a title", async () => {
    const titles = [defaultThreadTitle, "Trip to Lyon"];
    const refresh = vi.fn(async () => [thread("t1", titles.shift() ?? "Trip to Lyon")]);
    refreshUntilTitled("t1", refresh, [0, 1_000, 2_000, 3_000]);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it("stops when the thread is gone", async () => {
    const refresh = vi.fn(async () => [thread("t2", defaultThreadTitle)]);
    refreshUntilTitled("t1", refresh, [0, 1_000]);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("goes on after a failed refresh", async () => {
    const refresh = vi.fn(async (): Promise<Thread[] | null> => null);
    refreshUntilTitled("t1", refresh, [0, 1_000]);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it("cancels the refreshes not yet made", async () => {
    const refresh = vi.fn(async () => [thread("t1", defaultThreadTitle)]);
    const cancel = refreshUntilTitled("t1", refresh, [0, 1_000]);

    await vi.advanceTimersByTimeAsync(0);
    cancel();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});
