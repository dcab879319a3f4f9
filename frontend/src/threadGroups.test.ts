import { describe, expect, it } from "vitest";

import { calendarDay, dayFormatter, groupForDay, groupThreads, type ThreadGroupKey } from "./threadGroups.ts";

interface TestThread {
  id: string;
  updatedAt: string;
}

// headingsOf returns each thread's heading, by id, when grouped in timeZone at now.
function headingsOf(threads: TestThread[], now: string, timeZone: string): Record<string, ThreadGroupKey> {
  const headings: Record<string, ThreadGroupKey> = {};
  for (const group of groupThreads(threads, new Date(now), timeZone)) {
    for (const thread of group.threads) {
      headings[thread.id] = group.key;
    }
  }
  return headings;
}

describe("groupThreads", () => {
  it("returns the groups in sidebar order and keeps the order within each", () => {
    const threads = [
      { id: "a", updatedAt: "2026-06-15T09:00:00Z" },
      { id: "b", updatedAt: "2026-06-15T08:00:00Z" },
      { id: "c", updatedAt: "2026-06-14T20:00:00Z" },
      { id: "d", updatedAt: "2026-06-10T20:00:00Z" },
      { id: "e", updatedAt: "2026-01-01T00:00:00Z" },
      { id: "f", updatedAt: "2025-12-31T00:00:00Z" },
    ];
    const groups = groupThreads(threads, new Date("2026-06-15T12:00:00Z"), "UTC");
    expect(groups.map((group) => group.key)).toEqual(["today", "yesterday", "previous7Days", "older"]);
    expect(groups.map((group) => group.threads.map((thread) => thread.id))).toEqual([
      ["a", "b"],
      ["c"],
      ["d"],
      ["e", "f"],
    ]);
  });

  it("leaves out empty groups", () => {
    const groups = groupThreads([{ id: "a", updatedAt: "2026-01-01T00:00:00Z" }], new Date("2026-06-15T12:00:00Z"), "UTC");
    expect(groups).toEqual([{ key: "older", threads: [{ id: "a", updatedAt: "2026-01-01T00:00:00Z" }] }]);
    expect(groupThreads([], new Date(), "UTC")).toEqual([]);
  });

  it("starts a new day at local midnight", () => {
    // Berlin is UTC+2 in June: local midnight of June 15 is 22:00 UTC on June 14.
    const threads = [
      { id: "last second of yesterday", updatedAt: "2026-06-14T21:59:59Z" },
      { id: "first second of today", updatedAt: "2026-06-14T22:00:00Z" },
    ];
    expect(headingsOf(threads, "2026-06-14T22:00:30Z", "Europe/Berlin")).toEqual({
      "last second of yesterday": "yesterday",
      "first second of today": "today",
    });
    // In UTC the same instants are both on June 14, which is today there.
    expect(headingsOf(threads, "2026-06-14T22:00:30Z", "UTC")).toEqual({
      "last second of yesterday": "today",
      "first second of today": "today",
    });
  });

  it("counts the previous 7 days by calendar day", () => {
    // Today is Monday June 15 in UTC. June 8 is 7 days ago, June 7 is 8.
    const threads = [
      { id: "2 days ago", updatedAt: "2026-06-13T00:00:00Z" },
      { id: "start of 7 days ago", updatedAt: "2026-06-08T00:00:00Z" },
      { id: "end of 8 days ago", updatedAt: "2026-06-07T23:59:59.999Z" },
    ];
    expect(headingsOf(threads, "2026-06-15T00:00:00Z", "UTC")).toEqual({
      "2 days ago": "previous7Days",
      "start of 7 days ago": "previous7Days",
      "end of 8 days ago": "older",
    });
  });

  it("keeps yesterday whole across the 23-hour day of spring forward", () => {
    // Berlin moves its clocks from 02:00 to 03:00 on March 29, 2026. At
    // 00:30 on March 30 (22:30 UTC on March 29), 24 hours before the start
    // of today is 23:00 on March 28, so a 24-hour rule would call 23:30 on
    // March 28 yesterday.
    const threads = [
      { id: "March 28, 23:30", updatedAt: "2026-03-28T22:30:00Z" },
      { id: "March 29, 00:15", updatedAt: "2026-03-28T23:15:00Z" },
      { id: "March 29, 23:59", updatedAt: "2026-03-29T21:59:00Z" },
      { id: "March 30, 00:10", updatedAt: "2026-03-29T22:10:00Z" },
    ];
    expect(headingsOf(threads, "2026-03-29T22:30:00Z", "Europe/Berlin")).toEqual({
      "March 28, 23:30": "previous7Days",
      "March 29, 00:15": "yesterday",
      "March 29, 23:59": "yesterday",
      "March 30, 00:10": "today",
    });
  });

  it("keeps yesterday whole across the 25-hour day of fall back", () => {
    // Berlin moves its clocks from 03:00 back to 02:00 on October 25, 2026.
    // At 00:30 on October 26 (23:30 UTC on October 25), 24 hours before the
    // start of today is 01:00 on October 25, so a 24-hour rule would leave
    // 00:10 on October 25 out of yesterday.
    const threads = [
      { id: "October 25, 00:10", updatedAt: "2026-10-24T22:10:00Z" },
      { id: "October 25, 02:30 the second time", updatedAt: "2026-10-25T01:30:00Z" },
      { id: "October 24, 23:50", updatedAt: "2026-10-24T21:50:00Z" },
    ];
    expect(headingsOf(threads, "2026-10-25T23:30:00Z", "Europe/Berlin")).toEqual({
      "October 25, 00:10": "yesterday",
      "October 25, 02:30 the second time": "yesterday",
      "October 24, 23:50": "previous7Days",
    });
  });

  it("handles a time zone whose clocks skip midnight", () => {
    // Santiago moves its clocks from 00:00 to 01:00 on September 6, 2026,
    // so that day has no midnight. 01:00 local is 04:00 UTC.
    const threads = [
      { id: "September 5, 23:59", updatedAt: "2026-09-06T03:59:00Z" },
      { id: "September 6, 01:00", updatedAt: "2026-09-06T04:00:00Z" },
    ];
    expect(headingsOf(threads, "2026-09-06T12:00:00Z", "America/Santiago")).toEqual({
      "September 5, 23:59": "yesterday",
      "September 6, 01:00": "today",
    });
  });

  it("groups by the day in the given time zone", () => {
    // The thread is from June 16 at 02:00 in Kiritimati (UTC+14), where it
    // is now June 17, and from June 15 at 01:00 in Pago Pago (UTC-11),
    // where it is still June 15.
    const threads = [{ id: "t", updatedAt: "2026-06-15T12:00:00Z" }];
    expect(headingsOf(threads, "2026-06-16T10:00:00Z", "Pacific/Kiritimati")).toEqual({ t: "yesterday" });
    expect(headingsOf(threads, "2026-06-16T10:00:00Z", "Pacific/Pago_Pago")).toEqual({ t: "today" });
  });

  it("puts a future time in today and an invalid one in older", () => {
    const threads = [
      { id: "future", updatedAt: "2026-06-20T00:00:00Z" },
      { id: "invalid", updatedAt: "not a date" },
    ];
    expect(headingsOf(threads, "2026-06-15T12:00:00Z", "UTC")).toEqual({ future: "today", invalid: "older" });
  });

  it("uses the user's time zone by default", () => {
    const threads = [
      { id: "a", updatedAt: "2026-06-14T23:30:00Z" },
      { id: "b", updatedAt: "2026-06-10T00:00:00Z" },
    ];
    const now = new Date("2026-06-15T00:30:00Z");
    const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
    expect(groupThreads(threads, now)).toEqual(groupThreads(threads, now, local));
  });
});

describe("calendarDay", () => {
  it("counts consecutive local dates one apart", () => {
    const formatter = dayFormatter("Europe/Berlin");
    const start = calendarDay(new Date("2026-03-28T12:00:00Z"), formatter);
    expect(calendarDay(new Date("2026-03-29T12:00:00Z"), formatter)).toBe(start + 1);
    expect(calendarDay(new Date("2026-03-30T12:00:00Z"), formatter)).toBe(start + 2);
    expect(calendarDay(new Date("1970-01-01T00:00:00Z"), dayFormatter("UTC"))).toBe(0);
  });

  it("returns NaN for an invalid date", () => {
    expect(calendarDay(new Date("nonsense"), dayFormatter("UTC"))).toBeNaN();
  });
});

describe("groupForDay", () => {
  it.each([
    [-1, "today"],
    [0, "today"],
    [1, "yesterday"],
    [2, "previous7Days"],
    [7, "previous7Days"],
    [8, "older"],
    [Number.NaN, "older"],
  ] as const)("%s days ago is %s", (daysAgo, heading) => {
    expect(groupForDay(100 - daysAgo, 100)).toBe(heading);
  });
});
