import { describe, expect, test } from "vitest";

import { chatModelNames, isChatModel } from "./models.ts";

describe("isChatModel", () => {
  test("embedding-only model is left out", () => {
    expect(isChatModel({ name: "nomic-embed-text:latest", capabilities: ["embedding"] })).toBe(false);
  });

  test("completion model counts", () => {
    expect(isChatModel({ name: "llama3.2:latest", capabilities: ["completion", "tools"] })).toBe(true);
  });

  test("model that also embeds counts", () => {
    expect(isChatModel({ name: "both", capabilities: ["embedding", "completion"] })).toBe(true);
  });

  test("model without capabilities counts", () => {
    expect(isChatModel({ name: "gpt-4o-mini" })).toBe(true);
    expect(isChatModel({ name: "old-ollama", capabilities: [] })).toBe(true);
  });

  test("vision-only list counts", () => {
    expect(isChatModel({ name: "odd", capabilities: ["vision"] })).toBe(true);
  });
});

describe("chatModelNames", () => {
  test("keeps order and drops embedders", () => {
    const names = chatModelNames([
      { name: "qwen2.5:0.5b", capabilities: ["completion"] },
      { name: "nomic-embed-text:latest", capabilities: ["embedding"] },
      { name: "llama3.2:latest", capabilities: ["completion", "tools"] },
    ]);
    expect(names).toEqual(["qwen2.5:0.5b", "llama3.2:latest"]);
  });
});
