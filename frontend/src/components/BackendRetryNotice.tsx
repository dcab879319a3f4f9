import { useEffect, useState } from "react";

import { strings } from "../strings.ts";

interface BackendRetryNoticeProps {
  /** Time, in milliseconds since the epoch, at which the backend tries again. */
  retryAt: number;
}

// How often the countdown updates, in milliseconds. Shorter than a second so
// that the number shown never lags a whole second behind.
const tickMs = 250;

/**
 * Counts down, under a reply, the wait that the model's API asked for
 * before Hearth tries again. It shows nothing once the wait is over.
 */
export function BackendRetryNotice({ retryAt }: BackendRetryNoticeProps) {
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), tickMs);
    return () => clearInterval(timer);
  }, [retryAt]);

  const secondsLeft = Math.ceil((retryAt - now) / 1000);
  if (secondsLeft <= 0) {
    return null;
  }
  return <p className="message-status backend-retry">{strings.message.backendRetry(secondsLeft)}</p>;
}
