import { describe, expect, it } from "vitest";

import { lockCheckDue, lockCheckMarginMs } from "./idleLock.ts";

const minute = 60_000;
const lastRequestAt = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("lockCheckDue", () => {
  it("asks while the idle lock is unknown", () => {
    expect(lockCheckDue(null, lastRequestAt, lastRequestAt)).toBe(true);
  });

  it("never asks for a profile that never locks", () => {
    expect(lockCheckDue(0, lastRequestAt, lastRequestAt + 7 * 24 * 60 * minute)).toBe(false);
  });

  it("waits during the idle time", () => {
    expect(lockCheckDue(15, lastRequestAt, lastRequestAt + 15 * minute - 1)).toBe(false);
  });

  it("waits for the margin after it", () => {
    expect(lockCheckDue(15, lastRequestAt, lastRequestAt + 15 * minute + lockCheckMarginMs - 1)).toBe(false);
  });

  it("asks once the margin has passed", () => {
    expect(lockCheckDue(15, lastRequestAt, lastRequestAt + 15 * minute + lockCheckMarginMs)).toBe(true);
    expect(lockCheckDue(1, lastRequestAt, lastRequestAt + 10 * minute)).toBe(true);
  });
});
