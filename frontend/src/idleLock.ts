// The schedule of the page's checks whether the server locked the profile
// after its idle time. Every request that the server accepts, GET
// /api/auth/me included, counts as use of the profile, so a check at a
// fixed interval would keep an idle profile unlocked forever. The page
// checks only once its idle time has passed without a request from this page.

/** Interval, in milliseconds, at which the page compares the time since its last request with the idle lock. */
export const lockWatchIntervalMs = 5_000;

/**
 * Time, in milliseconds, that the page waits past the end of the idle time
 * before it checks, so that the server's lock comes first even when the
 * request that counted as the last use took a moment to arrive.
 */
export const lockCheckMarginMs = 2_000;

/**
 * Reports whether the page should check now whether the server locked the
 * profile. idleLockMinutes is the profile's idle lock, 0 for never, or null
 * while the page does not know it, in which case the check also fetches it.
 * lastRequestAt and now are in milliseconds since the epoch.
 */
export function lockCheckDue(idleLockMinutes: number | null, lastRequestAt: number, now: number): boolean {
  if (idleLockMinutes === null) {
    return true;
  }
  if (idleLockMinutes <= 0) {
    return false;
  }
  return now - lastRequestAt >= idleLockMinutes * 60_000 + lockCheckMarginMs;
}
