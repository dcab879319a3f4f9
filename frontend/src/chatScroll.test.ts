import { describe, expect, it } from "vitest";

import { isNearBottom, stickToBottomThreshold } from "./chatScroll.ts";

describe("isNearBottom", () => {
  it("is true at the end", () => {
    expect(isNearBottom({ scrollTop: 600, scrollHeight: 1000, clientHeight: 400 })).toBe(true);
  });

  it("is true within the threshold", () => {
    const scrollTop = 600 - (stickToBottomThreshold - 1);
    expect(isNearBottom({ scrollTop, scrollHeight: 1000, clientHeight: 400 })).toBe(true);
  });

  it("is false at the threshold", () => {
    const scrollTop = 600 - stickToBottomThreshold;
    expect(isNearBottom({ scrollTop, scrollHeight: 1000, clientHeight: 400 })).toBe(false);
  });

  it("is false scrolled to the top", () => {
    expect(isNearBottom({ scrollTop: 0, scrollHeight: 1000, clientHeight: 400 })).toBe(false);
  });

  it("is true for a list that does not scroll", () => {
    expect(isNearBottom({ scrollTop: 0, scrollHeight: 300, clientHeight: 400 })).toBe(true);
  });

  it("takes a custom threshold", () => {
    expect(isNearBottom({ scrollTop: 500, scrollHeight: 1000, clientHeight: 400 }, 200)).toBe(true);
    expect(isNearBottom({ scrollTop: 500, scrollHeight: 1000, clientHeight: 400 }, 50)).toBe(false);
  });
});
