import { useCallback, useEffect, useState } from "react";

import { ApiError } from "./api.ts";

/** The wait that a 429 `rate_limited` response imposes on a form. */
export interface RetryCountdown {
  /** The server's sentence, or null when no wait is running. */
  message: string | null;
  /** Whole seconds left to wait, counting down to 0. */
  secondsLeft: number;
  /**
   * Starts the countdown when err is a 429 response and returns true, or
   * returns false for any other error.
   */
  startFrom: (err: unknown) => boolean;
  /** Ends the countdown and hides the message. */
  clear: () => void;
}

// How often the countdown updates, in milliseconds. Shorter than a second so
// that the number shown never lags a whole second behind.
const tickMs = 250;

/**
 * Keeps the countdown of a 429 response's Retry-After header for a form whose
 * submit button stays disabled until the wait is over.
 */
export function useRetryCountdown(): RetryCountdown {
  const [message, setMessage] = useState<string | null>(null);
  const [deadline, setDeadline] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (deadline === null) {
      return;
    }
    const timer = setInterval(() => {
      const time = Date.now();
      setNow(time);
      if (time >= deadline) {
        setDeadline(null);
        setMessage(null);
      }
    }, tickMs);
    return () => clearInterval(timer);
  }, [deadline]);

  const startFrom = useCallback((err: unknown): boolean => {
    if (!(err instanceof ApiError && err.code === "rate_limited")) {
      return false;
    }
    const time = Date.now();
    setNow(time);
    setMessage(err.message);
    // Without a Retry-After header the message stays up with no countdown,
    // and the button stays enabled.
    setDeadline(err.retryAfterSeconds === null ? null : time + err.retryAfterSeconds * 1000);
    return true;
  }, []);

  const clear = useCallback(() => {
    setMessage(null);
    setDeadline(null);
  }, []);

  const secondsLeft = deadline === null ? 0 : Math.max(0, Math.ceil((deadline - now) / 1000));
  return { message, secondsLeft, startFrom, clear };
}
