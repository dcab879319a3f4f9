// Fetching the thread list again after a reply, until the title that the
// server writes in the background shows up.

import { defaultThreadTitle, type Thread } from "./api.ts";

/**
 * Times, in milliseconds after a reply ended, at which the thread list is
 * fetched again while the thread still has the default title. The server
 * requests a title from the model after the first reply, which takes a few
 * seconds with a local model (an estimate).
 */
export const titleRefreshDelaysMs: readonly number[] = [0, 1_500, 3_500, 6_500, 10_000];

/**
 * Calls refresh at each of delaysMs after now until the thread's title in
 * the returned list is no longer the default one, or the thread is missing
 * from it. It returns a function that cancels the refreshes not yet made.
 * A refresh that fails (returns null) does not stop the later ones.
 */
export function refreshUntilTitled(
  threadId: string,
  refresh: () => Promise<Thread[] | null>,
  delaysMs: readonly number[] = titleRefreshDelaysMs,
): () => void {
  let cancelled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let step = 0;

  const schedule = () => {
    const delay = delaysMs[step];
    if (cancelled || delay === undefined) {
      return;
    }
    const wait = step === 0 ? delay : delay - (delaysMs[step - 1] ?? 0);
    step++;
    timer = setTimeout(() => {
      void refresh().then((threads) => {
        const thread = threads?.find((candidate) => candidate.id === threadId);
        if (threads !== null && (thread === undefined || thread.title !== defaultThreadTitle)) {
          return;
        }
        schedule();
      });
    }, Math.max(0, wait));
  };

  schedule();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
