import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "./api.ts";
import { ChatStreamError, ChatStreamParser, streamChat, type ChatStreamEvent } from "./chatStream.ts";

const encoder = new TextEncoder();

// A reply as docs/api.md shows it, with the event types that the parser drops.
const sampleStream = [
  'data: {"type":"start","messageId":"m2","messageMetadata":{"threadId":"t1","userMessageId":"m1"}}',
  "",
  'data: {"type":"start-step"}',
  "",
  'data: {"type":"text-start","id":"x"}',
  "",
  'data: {"type":"text-delta","id":"x","delta":"Hel"}',
  "",
  'data: {"type":"text-delta","id":"x","delta":"lo"}',
  "",
  'data: {"type":"text-end","id":"x"}',
  "",
  'data: {"type":"finish-step"}',
  "",
  'data: {"type":"finish","messageMetadata":{"status":"complete"}}',
  "",
  "data: [DONE]",
  "",
  "",
].join("\n");

const sampleEvents: ChatStreamEvent[] = [
  { type: "start", messageId: "m2", messageMetadata: { threadId: "t1", userMessageId: "m1" } },
  { type: "text-delta", id: "x", delta: "Hel" },
  { type: "text-delta", id: "x", delta: "lo" },
  { type: "finish", messageMetadata: { status: "complete" } },
];

// Items of a data-recall part as the server sends them: a match, and the
// reply after it that recall added as context.
const recalledLandlord = {
  threadId: "t0",
  threadTitle: "Flat",
  date: "2030-03-02T10:00:00Z",
  similarity: 0.81,
  match: true,
  message: {
    id: "m0",
    threadId: "t0",
    role: "user",
    content: "My landlord <b>Mr. Whitaker</b> raised the rent.",
    createdAt: "2030-03-02T10:00:00Z",
    status: "complete",
  },
} as const;

const recalledContext = {
  threadId: "t0",
  threadTitle: "Flat",
  date: "2030-03-02T10:00:05Z",
  similarity: 0.81,
  match: false,
  message: {
    id: "m1",
    threadId: "t0",
    role: "assistant",
    content: "Noted.",
    createdAt: "2030-03-02T10:00:05Z",
    status: "complete",
    model: "llama3.2",
  },
} as const;

function recallPart(data: unknown[]): string {
  return `data: ${JSON.stringify({ type: "data-recall", id: "recall-m2", data })}\n\n`;
}

// parseChunks feeds each chunk to a fresh parser, then ends the stream.
function parseChunks(chunks: Uint8Array[]): { events: ChatStreamEvent[]; done: boolean } {
  const parser = new ChatStreamParser();
  const events: ChatStreamEvent[] = [];
  for (const chunk of chunks) {
    events.push(...parser.push(chunk));
  }
  events.push(...parser.end());
  return { events, done: parser.done };
}

function splitAt(bytes: Uint8Array, offset: number): Uint8Array[] {
  return [bytes.slice(0, offset), bytes.slice(offset)];
}

function eachByte(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (byte) => Uint8Array.of(byte));
}

function deltaText(events: ChatStreamEvent[]): string {
  return events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("");
}

describe("ChatStreamParser", () => {
  it("parses a whole reply", () => {
    const { events, done } = parseChunks([encoder.encode(sampleStream)]);
    expect(events).toEqual(sampleEvents);
    expect(done).toBe(true);
  });

  it("parses a reply split at every byte offset", () => {
    const bytes = encoder.encode(sampleStream);
    for (let offset = 0; offset <= bytes.length; offset++) {
      const { events, done } = parseChunks(splitAt(bytes, offset));
      expect(events, `split at byte ${offset}`).toEqual(sampleEvents);
      expect(done, `split at byte ${offset}`).toBe(true);
    }
  });

  it("parses a reply sent one byte at a time", () => {
    const { events } = parseChunks(eachByte(encoder.encode(sampleStream)));
    expect(events).toEqual(sampleEvents);
  });

  it("decodes multi-byte characters split across reads", () => {
    const text = "Grüße, 日本語, 🔥 and ✓";
    const stream = `data: ${JSON.stringify({ type: "text-delta", id: "x", delta: text })}\n\n`;
    const bytes = encoder.encode(stream);

    for (let offset = 0; offset <= bytes.length; offset++) {
      const { events } = parseChunks(splitAt(bytes, offset));
      expect(deltaText(events), `split at byte ${offset}`).toBe(text);
    }
    expect(deltaText(parseChunks(eachByte(bytes)).events)).toBe(text);
  });

  it("drops event types it does not use", () => {
    const stream = [
      'data: {"type":"reasoning-delta","id":"r","delta":"hmm"}',
      "",
      'data: {"type":"tool-input-start","toolCallId":"c","toolName":"search"}',
      "",
      'data: {"type":"data-weather","data":{"city":"Oslo"}}',
      "",
      'data: {"type":"some-future-event"}',
      "",
      'data: {"type":"text-delta","id":"x","delta":"kept"}',
      "",
      "",
    ].join("\n");
    const { events } = parseChunks([encoder.encode(stream)]);
    expect(events).toEqual([{ type: "text-delta", id: "x", delta: "kept" }]);
  });

  it("skips comment lines and other fields", () => {
    const stream = [
      ": keep-alive",
      "",
      "event: message",
      "id: 7",
      "retry: 1000",
      'data: {"type":"text-delta","id":"x","delta":"a"}',
      ": a comment inside an event",
      "",
      ":",
      'data:{"type":"text-delta","id":"x","delta":"b"}',
      "",
      "",
    ].join("\n");
    const { events } = parseChunks([encoder.encode(stream)]);
    expect(deltaText(events)).toBe("ab");
  });

  it("ignores everything after [DONE]", () => {
    const stream = [
      'data: {"type":"text-delta","id":"x","delta":"before"}',
      "",
      "data: [DONE]",
      "",
      'data: {"type":"text-delta","id":"x","delta":"after"}',
      "",
      "data: not json at all",
      "",
      "",
    ].join("\n");
    const { events, done } = parseChunks([encoder.encode(stream)]);
    expect(deltaText(events)).toBe("before");
    expect(done).toBe(true);
  });

  it("accepts CRLF and CR line endings at every split", () => {
    const body = 'data: {"type":"text-delta","id":"x","delta":"one"}';
    const stream = `${body}\r\n\r\n${body.replace("one", "two")}\r\r`;
    const bytes = encoder.encode(stream);
    for (let offset = 0; offset <= bytes.length; offset++) {
      const { events } = parseChunks(splitAt(bytes, offset));
      expect(deltaText(events), `split at byte ${offset}`).toBe("onetwo");
    }
  });

  it("joins the data lines of one event", () => {
    const stream = 'data: {"type":"text-delta",\ndata: "id":"x","delta":"joined"}\n\n';
    const { events } = parseChunks([encoder.encode(stream)]);
    expect(events).toEqual([{ type: "text-delta", id: "x", delta: "joined" }]);
  });

  it("parses error and abort events", () => {
    const stream = [
      'data: {"type":"error","errorText":"Run ollama pull llama3.2 first."}',
      "",
      'data: {"type":"abort"}',
      "",
      "",
    ].join("\n");
    const { events } = parseChunks([encoder.encode(stream)]);
    expect(events).toEqual([
      { type: "error", errorText: "Run ollama pull llama3.2 first." },
      { type: "abort" },
    ]);
  });

  it("drops an event cut off by the end of the stream", () => {
    const stream = 'data: {"type":"text-delta","id":"x","delta":"whole"}\n\ndata: {"type":"text-delta","id":"x","delta":"cut"}\n';
    const { events, done } = parseChunks([encoder.encode(stream)]);
    expect(deltaText(events)).toBe("whole");
    expect(done).toBe(false);
  });

  it("parses a data-recall part", () => {
    const stream = [
      `data: ${JSON.stringify({ type: "data-recall", id: "recall-m2", data: [recalledLandlord, recalledContext] })}`,
      "",
      'data: {"type":"text-delta","id":"x","delta":"Yes."}',
      "",
      "",
    ].join("\n");
    const { events } = parseChunks([encoder.encode(stream)]);
    expect(events).toEqual([
      { type: "data-recall", id: "recall-m2", data: [recalledLandlord, recalledContext] },
      { type: "text-delta", id: "x", delta: "Yes." },
    ]);
  });

  it("keeps only the shown fields of a recalled message", () => {
    const item = {
      ...recalledLandlord,
      extra: "dropped",
      message: { ...recalledLandlord.message, parts: [{ type: "tool-call" }], clientRequestId: "c1" },
    };
    const { events } = parseChunks([encoder.encode(recallPart([item]))]);
    expect(events).toEqual([{ type: "data-recall", id: "recall-m2", data: [recalledLandlord] }]);
  });

  it.each([
    { name: "missing similarity", item: { ...recalledLandlord, similarity: undefined } },
    { name: "similarity as text", item: { ...recalledLandlord, similarity: "0.8" } },
    { name: "match as text", item: { ...recalledLandlord, match: "true" } },
    { name: "missing thread title", item: { ...recalledLandlord, threadTitle: undefined } },
    { name: "tool message", item: { ...recalledLandlord, message: { ...recalledLandlord.message, role: "tool" } } },
    { name: "message without content", item: { ...recalledLandlord, message: { ...recalledLandlord.message, content: 7 } } },
    { name: "message as text", item: { ...recalledLandlord, message: "My landlord" } },
    { name: "null item", item: null },
  ])("leaves out a recalled item with $name", ({ item }) => {
    const { events } = parseChunks([encoder.encode(recallPart([item, recalledContext]))]);
    expect(events).toEqual([{ type: "data-recall", id: "recall-m2", data: [recalledContext] }]);
  });

  it.each([
    { name: "without data", part: { type: "data-recall", id: "recall-m2" } },
    { name: "with data as object", part: { type: "data-recall", id: "recall-m2", data: { results: [] } } },
    { name: "without id", part: { type: "data-recall", data: [] } },
  ])("drops a data-recall part $name", ({ part }) => {
    const stream = `data: ${JSON.stringify(part)}\n\ndata: {"type":"text-delta","id":"x","delta":"kept"}\n\n`;
    const { events } = parseChunks([encoder.encode(stream)]);
    expect(events).toEqual([{ type: "text-delta", id: "x", delta: "kept" }]);
  });

  it("rejects data that is not JSON", () => {
    const parser = new ChatStreamParser();
    expect(() => parser.push(encoder.encode("data: {oops\n\n"))).toThrow(ChatStreamError);
  });

  it("rejects a text-delta without its delta", () => {
    const parser = new ChatStreamParser();
    expect(() => parser.push(encoder.encode('data: {"type":"text-delta","id":"x"}\n\n'))).toThrow(
      ChatStreamError,
    );
  });
});

describe("streamChat", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  // stubFetch replaces fetch with a mock whose response body streams the given chunks.
  function stubFetch(chunks: string[], init?: ResponseInit): ReturnType<typeof vi.fn> {
    const fetchMock = vi.fn(async () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) {
            controller.enqueue(encoder.encode(chunk));
          }
          controller.close();
        },
      });
      return new Response(body, init ?? { headers: { "Content-Type": "text/event-stream" } });
    });
    vi.stubGlobal("fetch", fetchMock);
    return fetchMock;
  }

  it("sends a JSON body and delivers the events in order", async () => {
    const fetchMock = stubFetch([sampleStream.slice(0, 100), sampleStream.slice(100)]);
    const events: ChatStreamEvent[] = [];

    await streamChat({ message: "Hi", threadId: "t1" }, (event) => events.push(event), new AbortController().signal);

    expect(events).toEqual(sampleEvents);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/chat");
    expect(init.method).toBe("POST");
    expect(typeof init.body).toBe("string");
    expect(JSON.parse(init.body as string)).toEqual({ message: "Hi", threadId: "t1" });
    expect(new Headers(init.headers).get("Content-Type")).toBe("application/json");
  });

  it("turns an error answer into an ApiError", async () => {
    stubFetch([JSON.stringify({ error: { code: "not_found", message: "Thread not found or access denied" } })], {
      status: 404,
      headers: { "Content-Type": "application/json" },
    });

    const result = streamChat({ message: "Hi", threadId: "gone" }, () => undefined, new AbortController().signal);

    await expect(result).rejects.toBeInstanceOf(ApiError);
    await expect(result).rejects.toMatchObject({
      code: "not_found",
      status: 404,
      message: "Thread not found or access denied",
    });
  });

  it("rejects with AbortError when aborted mid-stream", async () => {
    const controller = new AbortController();
    // The body sends one delta and then stays open until the fetch is aborted.
    vi.stubGlobal(
      "fetch",
      vi.fn(async (_url: string, init: RequestInit) => {
        const body = new ReadableStream<Uint8Array>({
          start(streamController) {
            streamController.enqueue(encoder.encode('data: {"type":"text-delta","id":"x","delta":"Hel"}\n\n'));
            init.signal?.addEventListener("abort", () => {
              streamController.error(new DOMException("The operation was aborted.", "AbortError"));
            });
          },
        });
        return new Response(body);
      }),
    );
    const events: ChatStreamEvent[] = [];

    const result = streamChat(
      { message: "Hi", threadId: "t1" },
      (event) => {
        events.push(event);
        controller.abort();
      },
      controller.signal,
    );

    await expect(result).rejects.toMatchObject({ name: "AbortError" });
    expect(deltaText(events)).toBe("Hel");
  });
});

describe("ChatStreamParser parts of tools, memory, context and retries", () => {
  function parseParts(parts: unknown[]): ChatStreamEvent[] {
    const text = parts.map((part) => `data: ${JSON.stringify(part)}\n\n`).join("");
    return parseChunks([encoder.encode(text)]).events;
  }

  it("parses tool calls and their results", () => {
    const events = parseParts([
      { type: "tool-input-start", toolCallId: "c1", toolName: "updateWorkingMemory" },
      { type: "tool-input-available", toolCallId: "c1", toolName: "updateWorkingMemory", input: { memory: "- Name: Ada" } },
      { type: "tool-output-available", toolCallId: "c1", output: { version: 2 } },
      { type: "tool-output-error", toolCallId: "c2", errorText: "The memory is too long." },
    ]);
    expect(events).toEqual([
      { type: "tool-input-available", toolCallId: "c1", toolName: "updateWorkingMemory", input: { memory: "- Name: Ada" } },
      { type: "tool-output-available", toolCallId: "c1", output: { version: 2 } },
      { type: "tool-output-error", toolCallId: "c2", errorText: "The memory is too long." },
    ]);
  });

  it("parses a working memory change", () => {
    const data = { threadId: "t1", version: 4, previousVersion: 3, previous: "- Name:", content: "- Name: Ada" };
    expect(parseParts([{ type: "data-working-memory", id: "wm-m2-1", data }])).toEqual([
      { type: "data-working-memory", id: "wm-m2-1", data },
    ]);
  });

  it("leaves out an empty thread of a change", () => {
    const data = { threadId: "", version: 1, previousVersion: 0, previous: "", content: "x" };
    expect(parseParts([{ type: "data-working-memory", id: "wm-m2-1", data }])).toEqual([
      { type: "data-working-memory", id: "wm-m2-1", data: { version: 1, previousVersion: 0, previous: "", content: "x" } },
    ]);
  });

  it("parses a context trim", () => {
    const data = { omittedMessages: 12, omittedRecalled: 2, contextLength: 4096, promptTokens: 3900 };
    expect(parseParts([{ type: "data-context", id: "context-m2", data }])).toEqual([
      { type: "data-context", id: "context-m2", data },
    ]);
  });

  it("parses a retry wait", () => {
    expect(
      parseParts([{ type: "data-retry", id: "retry-m2", transient: true, data: { retryInSeconds: 20 } }]),
    ).toEqual([{ type: "data-retry", id: "retry-m2", retryInSeconds: 20 }]);
  });

  it("drops parts without their fields", () => {
    const events = parseParts([
      { type: "data-working-memory", id: "wm", data: { version: "4", previousVersion: 3, previous: "", content: "" } },
      { type: "data-working-memory", data: { version: 4, previousVersion: 3, previous: "", content: "" } },
      { type: "data-context", id: "context", data: null },
      { type: "data-retry", id: "retry", data: { retryInSeconds: -1 } },
      { type: "data-retry", id: "retry", data: {} },
      { type: "tool-input-available", toolCallId: "c1" },
      { type: "tool-output-available" },
      { type: "text-delta", id: "x", delta: "kept" },
    ]);
    expect(events).toEqual([{ type: "text-delta", id: "x", delta: "kept" }]);
  });

  it("reads the finish metadata of a failed reply", () => {
    const events = parseParts([
      {
        type: "finish",
        messageMetadata: {
          status: "error",
          errorCode: "model_not_found",
          missingModel: "llama3.2",
          assistantMessageId: "m2",
        },
      },
    ]);
    expect(events).toEqual([
      {
        type: "finish",
        messageMetadata: {
          status: "error",
          errorCode: "model_not_found",
          missingModel: "llama3.2",
          assistantMessageId: "m2",
        },
      },
    ]);
  });

  it("reads the interrupted status", () => {
    expect(parseParts([{ type: "finish", messageMetadata: { status: "interrupted" } }])).toEqual([
      { type: "finish", messageMetadata: { status: "interrupted" } },
    ]);
  });
});
