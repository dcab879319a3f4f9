import type { RetryCountdown } from "../useRetryCountdown.ts";
import { strings } from "../strings.ts";

interface RetryNoticeProps {
  countdown: RetryCountdown;
}

/**
 * Shows why the server rejected the attempt and how many seconds remain.
 * Only the server's sentence is announced to screen readers, not every tick
 * of the countdown.
 */
export function RetryNotice({ countdown }: RetryNoticeProps) {
  if (countdown.message === null) {
    return null;
  }
  return (
    <div className="alert retry-notice">
      <p role="alert">{countdown.message}</p>
      {countdown.secondsLeft > 0 && <p className="retry-countdown">{strings.retry.tryAgainIn(countdown.secondsLeft)}</p>}
    </div>
  );
}
