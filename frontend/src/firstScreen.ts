// Start-up time of the desktop window. Once the page shows its first screen
// with its data, it emits firstScreenEvent through the Wails runtime, and
// desktop.go logs how long the process took to get there. In a browser on
// `hearth serve` the runtime is absent and nothing is sent.

/** Name of the Wails event. Its twin is firstScreenEvent in desktop.go. */
export const firstScreenEvent = "hearth:first-screen";

/**
 * The parts of `window` that reportFirstScreen uses: the Wails v2 runtime,
 * which the window injects into the page, and requestAnimationFrame.
 */
export interface FirstScreenHost {
  runtime?: { EventsEmit?: unknown };
  requestAnimationFrame: (callback: FrameRequestCallback) => number;
}

/**
 * Returns a function that emits firstScreenEvent from the next animation
 * frame, the first time it is called and only when the Wails runtime is
 * there. Later calls do nothing.
 */
export function firstScreenReporter(host: FirstScreenHost): () => void {
  let reported = false;
  return () => {
    if (reported) {
      return;
    }
    reported = true;
    if (typeof host.runtime?.EventsEmit !== "function") {
      return;
    }
    host.requestAnimationFrame(() => {
      const emit = host.runtime?.EventsEmit;
      if (typeof emit === "function") {
        emit(firstScreenEvent);
      }
    });
  };
}

/** Emits firstScreenEvent once per page load; see firstScreenReporter. */
export const reportFirstScreen = firstScreenReporter(globalThis as unknown as FirstScreenHost);
