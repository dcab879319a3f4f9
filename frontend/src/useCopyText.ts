import { useCallback, useEffect, useRef, useState } from "react";

/** Result of the last copy to the clipboard, shown on the button for a moment. */
export type CopyState = "idle" | "copied" | "failed";

// Time for which a Copy button shows "Copied" or "Copy failed", in milliseconds.
const copyFeedbackMs = 2_000;

/**
 * Returns the state of a Copy button and the function that copies text to
 * the clipboard. The state goes back to "idle" copyFeedbackMs after a copy.
 */
export function useCopyText(): [CopyState, (text: string) => void] {
  const [state, setState] = useState<CopyState>("idle");
  const resetTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(resetTimer.current), []);

  const copy = useCallback((text: string) => {
    void writeClipboard(text).then(
      () => showResult("copied"),
      () => showResult("failed"),
    );

    function showResult(result: CopyState) {
      setState(result);
      clearTimeout(resetTimer.current);
      resetTimer.current = setTimeout(() => setState("idle"), copyFeedbackMs);
    }
  }, []);

  return [state, copy];
}

/**
 * Copies text to the clipboard. navigator.clipboard is missing outside a
 * secure context, and the desktop window's custom scheme may not count as
 * one, so the caller keeps the text selectable for copying by hand.
 */
export async function writeClipboard(text: string): Promise<void> {
  if (navigator.clipboard === undefined) {
    throw new Error("The clipboard API is not available.");
  }
  await navigator.clipboard.writeText(text);
}
