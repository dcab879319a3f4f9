// Groups threads under the sidebar's date headings by the calendar day of
// their last update. Days are compared as calendar dates in one time zone,
// never as spans of 24 hours, so a day of 23 or 25 hours at a daylight
// saving change is still one day.

/** Sidebar heading of a group of threads, in the order the sidebar shows them. */
export type ThreadGroupKey = "today" | "yesterday" | "previous7Days" | "older";

/** Threads that share a heading, in the order they were given. */
export interface ThreadGroup<T> {
  key: ThreadGroupKey;
  threads: T[];
}

const groupOrder: readonly ThreadGroupKey[] = ["today", "yesterday", "previous7Days", "older"];

const millisecondsPerDay = 86_400_000;

/**
 * Returns the calendar date of date in the formatter's time zone as a count
 * of days since 1970-01-01, or NaN for an invalid date. Two dates are on
 * consecutive days exactly when their counts differ by 1.
 */
export function calendarDay(date: Date, formatter: Intl.DateTimeFormat): number {
  if (Number.isNaN(date.getTime())) {
    return Number.NaN;
  }
  let year = Number.NaN;
  let month = Number.NaN;
  let day = Number.NaN;
  for (const part of formatter.formatToParts(date)) {
    if (part.type === "year") {
      year = Number(part.value);
    } else if (part.type === "month") {
      month = Number(part.value);
    } else if (part.type === "day") {
      day = Number(part.value);
    }
  }
  return Date.UTC(year, month - 1, day) / millisecondsPerDay;
}

/**
 * Returns the formatter that calendarDay reads dates with: Gregorian year,
 * month and day in Latin digits, in timeZone, or in the user's time zone when
 * it is undefined.
 */
export function dayFormatter(timeZone?: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-US", {
    calendar: "gregory",
    numberingSystem: "latn",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    ...(timeZone === undefined ? {} : { timeZone }),
  });
}

/**
 * Returns the heading of a thread last updated on calendar day updated when
 * today is calendar day today, both as calendarDay counts them. An update
 * after today, from a clock that runs ahead, counts as today, and an invalid
 * date as older.
 */
export function groupForDay(updated: number, today: number): ThreadGroupKey {
  if (Number.isNaN(updated)) {
    return "older";
  }
  const daysAgo = today - updated;
  if (daysAgo <= 0) {
    return "today";
  }
  if (daysAgo === 1) {
    return "yesterday";
  }
  if (daysAgo <= 7) {
    return "previous7Days";
  }
  return "older";
}

/**
 * Groups threads by the calendar day of updatedAt in timeZone (by default
 * the user's), relative to now: today, yesterday, the 6 days before
 * yesterday, and older. It returns only the groups that have threads, in
 * that order, and keeps the given order of threads within each group.
 */
export function groupThreads<T extends { updatedAt: string }>(
  threads: readonly T[],
  now: Date,
  timeZone?: string,
): ThreadGroup<T>[] {
  const formatter = dayFormatter(timeZone);
  const today = calendarDay(now, formatter);
  const byKey = new Map<ThreadGroupKey, T[]>();
  for (const thread of threads) {
    const key = groupForDay(calendarDay(new Date(thread.updatedAt), formatter), today);
    const group = byKey.get(key);
    if (group === undefined) {
      byKey.set(key, [thread]);
    } else {
      group.push(thread);
    }
  }
  const groups: ThreadGroup<T>[] = [];
  for (const key of groupOrder) {
    const group = byKey.get(key);
    if (group !== undefined) {
      groups.push({ key, threads: group });
    }
  }
  return groups;
}
