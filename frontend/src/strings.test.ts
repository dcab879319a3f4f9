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

describe("context trim note", () => {
  it.each([
    { messages: 1, recalled: 0, want: "1 earlier message was left out to fit the model's context." },
    { messages: 12, recalled: 0, want: "12 earlier messages were left out to fit the model's context." },
    { messages: 0, recalled: 1, want: "1 recalled message was left out to fit the model's context." },
    {
      messages: 3,
      recalled: 2,
      want: "3 earlier messages were left out to fit the model's context. 2 recalled messages were left out to fit the model's context.",
    },
  ])("counts $messages messages and $recalled recalled", ({ messages, recalled, want }) => {
    expect(strings.message.contextTrimmed(messages, recalled)).toBe(want);
  });
});

describe("settings wording", () => {
  it("names the profile's model", () => {
    expect(strings.chat.profileModel("llama3.2")).toBe("The profile's model (llama3.2)");
    expect(strings.chat.profileModel("")).toBe("The profile's model");
  });

  it("counts the server's models", () => {
    expect(strings.settings.modelsCount(1)).toBe("The server has 1 model.");
    expect(strings.settings.modelsCount(3)).toBe("The server has 3 models.");
  });
});
