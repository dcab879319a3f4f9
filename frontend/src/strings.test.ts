import { describe, expect, it } from "vitest";

import { strings } from "./strings.ts";

describe("retry countdown", () => {
  it.each([
    { seconds: 1, want: "Try again in 1 second." },
    { seconds: 2, want: "Try again in 2 seconds." },
    { seconds: 59, want: "Try again in 59 seconds." },
    { seconds: 119, want: "Try again in 119 seconds." },
    { seconds: 120, want: "Try again in 2 minutes." },
    { seconds: 121, want: "Try again in 3 minutes." },
    { seconds: 180, want: "Try again in 3 minutes." },
    { seconds: 899, want: "Try again in 15 minutes." },
    { seconds: 900, want: "Try again in 15 minutes." },
  ])("reads $seconds s as $want", ({ seconds, want }) => {
    expect(strings.retry.tryAgainIn(seconds)).toBe(want);
  });
});

describe("re-embedding progress", () => {
  it("counts done of total", () => {
    expect(strings.memory.reembedding(3, 12)).toBe("Embedding your messages again: 3 of 12");
  });

  it("counts nothing before the total is known", () => {
    expect(strings.memory.reembedding(0, 0)).toBe("Embedding your messages again…");
  });
});
