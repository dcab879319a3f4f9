import { describe, expect, it } from "vitest";

import type { RecallStatus, RecalledMessage } from "./api.ts";
import {
  describeEmbedder,
  excerpt,
  excerptLength,
  finishedReembedding,
  formatRecallDate,
  formatSimilarity,
  isRecallSettling,
  matchedMemories,
} from "./recall.ts";

function recalled(id: string, match: boolean): RecalledMessage {
  return {
    threadId: "t0",
    threadTitle: "Flat",
    date: "2030-03-02T10:00:00Z",
    similarity: 0.8,
    match,
    message: {
      id,
      threadId: "t0",
      role: "user",
      content: `message ${id}`,
      createdAt: "2030-03-02T10:00:00Z",
      status: "complete",
    },
  };
}

const ready: RecallStatus = { state: "ready", embedder: "lexical-v1-1024", dimension: 1024, vectors: 4, pending: 0 };

const reembedding: RecallStatus = {
  state: "ready",
  embedder: "ollama:nomic-embed-text",
  dimension: 768,
  vectors: 4,
  pending: 0,
  reembedding: { from: "lexical-v1-1024", to: "ollama:nomic-embed-text", done: 1, total: 4 },
};

describe("matchedMemories", () => {
  it("keeps matches in order", () => {
    const items = [recalled("a", false), recalled("b", true), recalled("c", false), recalled("d", true)];
    expect(matchedMemories(items).map((item) => item.message.id)).toEqual(["b", "d"]);
  });

  it("returns none for context only", () => {
    expect(matchedMemories([recalled("a", false)])).toEqual([]);
  });
});

describe("excerpt", () => {
  it("keeps a short text", () => {
    expect(excerpt("My landlord\nraised the rent.")).toBe("My landlord\nraised the rent.");
  });

  it("keeps a text of exactly the limit", () => {
    const text = "a".repeat(excerptLength);
    expect(excerpt(text)).toBe(text);
  });

  it("cuts a long text with an ellipsis", () => {
    expect(excerpt("one two three", 8)).toBe("one two…");
  });

  it("never splits an emoji", () => {
    expect(excerpt("🔥🔥🔥", 2)).toBe("🔥🔥…");
  });
});

describe("formatSimilarity", () => {
  it.each([
    { similarity: 0.8234, want: "82%" },
    { similarity: 1, want: "100%" },
    { similarity: 0, want: "0%" },
    { similarity: 0.005, want: "1%" },
  ])("formats $similarity as $want", ({ similarity, want }) => {
    expect(formatSimilarity(similarity, "en-US")).toBe(want);
  });
});

describe("formatRecallDate", () => {
  it("formats in the locale", () => {
    const date = "2030-03-02T10:00:00Z";
    const want = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" }).format(
      Date.parse(date),
    );
    expect(formatRecallDate(date, "en-US")).toBe(want);
    expect(formatRecallDate(date, "en-US")).toMatch(/Mar 2, 2030/);
  });

  it("returns an unreadable date as it is", () => {
    expect(formatRecallDate("last spring", "en-US")).toBe("last spring");
  });
});

describe("describeEmbedder", () => {
  it.each([
    { embedder: { kind: "builtin", hasApiKey: false } as const, want: "Built-in (offline)" },
    {
      embedder: { kind: "ollama", model: "nomic-embed-text", hasApiKey: false } as const,
      want: "Ollama, model nomic-embed-text",
    },
    {
      embedder: {
        kind: "openai",
        model: "text-embedding-3-small",
        baseUrl: "https://api.openai.com/v1",
        hasApiKey: true,
      } as const,
      want: "OpenAI-compatible server, model text-embedding-3-small at https://api.openai.com/v1",
    },
  ])("names $embedder.kind", ({ embedder, want }) => {
    expect(describeEmbedder(embedder)).toBe(want);
  });
});

describe("isRecallSettling", () => {
  it("is true while re-embedding", () => {
    expect(isRecallSettling(reembedding)).toBe(true);
  });

  it("is true while loading", () => {
    expect(isRecallSettling({ ...ready, state: "loading" })).toBe(true);
  });

  it("is false when ready with pending messages", () => {
    expect(isRecallSettling({ ...ready, pending: 3, lastError: "Ollama timed out." })).toBe(false);
  });

  it("is false when locked", () => {
    expect(isRecallSettling({ state: "locked", dimension: 0, vectors: 0, pending: 0 })).toBe(false);
  });
});

describe("finishedReembedding", () => {
  it("names the embedder when it finished", () => {
    const { reembedding: _, ...done } = reembedding;
    expect(finishedReembedding(reembedding, done)).toBe("ollama:nomic-embed-text");
  });

  it("is null while it runs", () => {
    expect(finishedReembedding(reembedding, { ...reembedding })).toBeNull();
  });

  it("is null after a switch back", () => {
    expect(finishedReembedding(reembedding, ready)).toBeNull();
  });

  it("is null without an earlier status", () => {
    expect(finishedReembedding(null, ready)).toBeNull();
  });

  it("is null when none ran", () => {
    expect(finishedReembedding(ready, ready)).toBeNull();
  });
});
