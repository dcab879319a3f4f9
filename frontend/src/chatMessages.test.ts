import { describe, expect, it, vi } from "vitest";

import { ApiError, type Message } from "./api.ts";
import {
  contextTrimOf,
  isResumable,
  isStoredId,
  mergeReplies,
  missingModelOf,
  storedToolActivities,
} from "./chatMessages.ts";
import { applyStreamEvent, endLiveReply, newLiveReply, type LiveReply } from "./replyStore.ts";

function message(fields: Partial<Message> & Pick<Message, "id" | "role" | "content">): Message {
  return { threadId: "t1", createdAt: "2030-01-01T00:00:00Z", status: "complete", ...fields };
}

const earlier = [
  message({ id: "m1", role: "user", content: "Hi" }),
  message({ id: "m2", role: "assistant", content: "Hello!" }),
];

// texts returns each entry as "role:content".
function texts(entries: ReturnType<typeof mergeReplies>): string[] {
  return entries.map((entry) => `${entry.message.role}:${entry.message.content}`);
}

// sendLive returns a send of "Tell me" whose start event named m3 and m4.
function sendLive(): LiveReply {
  const live = newLiveReply({ threadId: "t1", kind: "send", text: "Tell me", clientRequestId: "c1" }, "live-1", 0);
  return applyStreamEvent(
    applyStreamEvent(live, { type: "start", messageId: "m4", messageMetadata: { userMessageId: "m3" } }, 0),
    { type: "text-delta", id: "x", delta: "Once" },
    0,
  );
}

describe("mergeReplies", () => {
  it("shows stored messages without a stream", () => {
    const entries = mergeReplies(earlier, undefined);
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hello!"]);
    expect(entries.every((entry) => !entry.live && !entry.streaming)).toBe(true);
  });

  it("appends a new message and its reply", () => {
    const entries = mergeReplies(earlier, sendLive());
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hello!", "user:Tell me", "assistant:Once"]);
    expect(entries[3]?.streaming).toBe(true);
    expect(entries[3]?.live).toBe(true);
  });

  it("shows the stored user message once", () => {
    const stored = [...earlier, message({ id: "m3", role: "user", content: "Tell me", clientRequestId: "c1" })];
    expect(texts(mergeReplies(stored, sendLive()))).toEqual([
      "user:Hi",
      "assistant:Hello!",
      "user:Tell me",
      "assistant:Once",
    ]);
  });

  it("finds the user message by clientRequestId before start", () => {
    const live = newLiveReply({ threadId: "t1", kind: "send", text: "Tell me", clientRequestId: "c1" }, "live-1", 0);
    const stored = [...earlier, message({ id: "m3", role: "user", content: "Tell me", clientRequestId: "c1" })];
    expect(texts(mergeReplies(stored, live))).toEqual(["user:Hi", "assistant:Hello!", "user:Tell me", "assistant:"]);
  });

  it("shows the streamed text over a stored copy", () => {
    const stored = [
      ...earlier,
      message({ id: "m3", role: "user", content: "Tell me" }),
      message({ id: "m4", role: "assistant", content: "On", status: "incomplete", streaming: true }),
    ];
    const entries = mergeReplies(stored, sendLive());
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hello!", "user:Tell me", "assistant:Once"]);
    expect(entries[3]?.message.id).toBe("m4");
    expect(entries[3]?.streaming).toBe(true);
  });

  it("shows the stored copy once settled", () => {
    const finished = applyStreamEvent(sendLive(), { type: "finish", messageMetadata: { status: "complete" } }, 0);
    const settled: LiveReply = { ...endLiveReply(finished, null, true), settled: true };
    const stored = [
      ...earlier,
      message({ id: "m3", role: "user", content: "Tell me" }),
      message({ id: "m4", role: "assistant", content: "Once upon a time" }),
    ];
    const entries = mergeReplies(stored, settled);
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hello!", "user:Tell me", "assistant:Once upon a time"]);
    expect(entries[3]?.reply).toBe(settled);
    expect(entries[3]?.streaming).toBe(false);
  });

  // The text goes back into the composer instead, so that it is not lost.
  it("leaves out a send that reached no server", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const live = newLiveReply({ threadId: "t1", kind: "send", text: "Tell me", clientRequestId: "c1" }, "live-1", 0);
    const settled: LiveReply = { ...endLiveReply(live, new TypeError("Failed to fetch"), false), settled: true };
    expect(settled.rejection?.code).toBe("network_error");
    expect(texts(mergeReplies(earlier, settled))).toEqual(["user:Hi", "assistant:Hello!"]);
    error.mockRestore();
  });

  it("leaves a stored failure to the user message", () => {
    const live = newLiveReply({ threadId: "t1", kind: "send", text: "Tell me", clientRequestId: "c1" }, "live-1", 0);
    const failed = applyStreamEvent(
      applyStreamEvent(live, { type: "start", messageMetadata: { userMessageId: "m3" } }, 0),
      { type: "error", errorText: "The model llama3.2 is not installed." },
      0,
    );
    const settled: LiveReply = { ...endLiveReply(failed, null, true), settled: true };
    const stored = [
      ...earlier,
      message({ id: "m3", role: "user", content: "Tell me", error: "The model llama3.2 is not installed." }),
    ];
    expect(texts(mergeReplies(stored, settled))).toEqual(["user:Hi", "assistant:Hello!", "user:Tell me"]);
  });

  it("hides a rejected send", () => {
    const live = newLiveReply({ threadId: "t1", kind: "send", text: "Tell me" }, "live-1", 0);
    const rejected: LiveReply = { ...live, done: true, rejection: new ApiError("rate_limited", "Wait.", 429, 5) };
    expect(texts(mergeReplies(earlier, rejected))).toEqual(["user:Hi", "assistant:Hello!"]);
  });

  it("shows nothing of an edit before its thread is known", () => {
    const live = newLiveReply({ threadId: "t1", kind: "edit", targetMessageId: "m1", text: "Hey" }, "live-1", 0);
    expect(texts(mergeReplies(earlier, live))).toEqual(["user:Hi", "assistant:Hello!"]);
  });

  it("finds an edited message in the new thread by its text", () => {
    const live: LiveReply = {
      ...newLiveReply({ threadId: "t2", kind: "edit", targetMessageId: "m1", text: "Hey" }, "live-1", 0),
      awaitingThread: false,
    };
    const stored = [message({ id: "n1", role: "user", content: "Hey", threadId: "t2" })];
    expect(texts(mergeReplies(stored, live))).toEqual(["user:Hey", "assistant:"]);
  });

  it("rewrites the target of Regenerate in place", () => {
    const live = applyStreamEvent(
      newLiveReply({ threadId: "t1", kind: "regenerate", targetMessageId: "m2" }, "live-1", 0),
      { type: "text-delta", id: "x", delta: "Hey" },
      0,
    );
    const entries = mergeReplies(earlier, live);
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hey"]);
    expect(entries[1]?.message.id).toBe("m2");
    expect(entries[1]?.message.versions).toEqual([
      { content: "Hello!", status: "complete", createdAt: "2030-01-01T00:00:00Z" },
    ]);
  });

  it("extends the target of Continue", () => {
    const stored = [earlier[0] as Message, message({ id: "m2", role: "assistant", content: "Once", status: "incomplete" })];
    const live = applyStreamEvent(
      newLiveReply({ threadId: "t1", kind: "continue", targetMessageId: "m2", replyContent: "Once" }, "live-1", 0),
      { type: "text-delta", id: "x", delta: " upon" },
      0,
    );
    expect(texts(mergeReplies(stored, live))).toEqual(["user:Hi", "assistant:Once upon"]);
  });

  it("shows a Regenerate that stored nothing as a failure", () => {
    const live = applyStreamEvent(
      newLiveReply({ threadId: "t1", kind: "regenerate", targetMessageId: "m2" }, "live-1", 0),
      { type: "error", errorText: "Ollama is not running." },
      0,
    );
    const settled: LiveReply = { ...endLiveReply(live, null, true), settled: true };
    const entries = mergeReplies(earlier, settled);
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hello!"]);
    expect(entries[1]?.failure).toBe("Ollama is not running.");
  });
});

describe("mergeReplies for Regenerate of a user message", () => {
  const failedUser = message({ id: "m3", role: "user", content: "Tell me", error: "The model llama3.2 is not installed." });
  const stored = [...earlier, failedUser];

  function regenerateUser(): LiveReply {
    const live = newLiveReply({ threadId: "t1", kind: "regenerate", targetMessageId: "m3" }, "live-1", 0);
    return applyStreamEvent(
      applyStreamEvent(live, { type: "start", messageId: "m4", messageMetadata: { userMessageId: "m3" } }, 0),
      { type: "text-delta", id: "x", delta: "Once" },
      0,
    );
  }

  it("appends the reply and hides the old failure", () => {
    const entries = mergeReplies(stored, regenerateUser());
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hello!", "user:Tell me", "assistant:Once"]);
    expect(entries[2]?.message.error).toBeUndefined();
    expect(entries[3]?.streaming).toBe(true);
  });

  it("shows the stored reply once settled", () => {
    const ended = endLiveReply(
      applyStreamEvent(regenerateUser(), { type: "finish", messageMetadata: { status: "complete" } }, 0),
      null,
      true,
    );
    const settled: LiveReply = { ...ended, settled: true };
    const storedAfter = [
      ...earlier,
      message({ id: "m3", role: "user", content: "Tell me" }),
      message({ id: "m4", role: "assistant", content: "Once upon" }),
    ];
    const entries = mergeReplies(storedAfter, settled);
    expect(texts(entries)).toEqual(["user:Hi", "assistant:Hello!", "user:Tell me", "assistant:Once upon"]);
  });

  it("shows nothing for an unknown target", () => {
    const live = newLiveReply({ threadId: "t1", kind: "regenerate", targetMessageId: "zz" }, "live-1", 0);
    expect(texts(mergeReplies(earlier, live))).toEqual(["user:Hi", "assistant:Hello!"]);
  });
});

describe("missingModelOf", () => {
  it("takes the model from the stream", () => {
    const live = { ...sendLive(), missingModel: "qwen2.5:7b" };
    expect(missingModelOf(message({ id: "m", role: "assistant", content: "" }), live)).toBe("qwen2.5:7b");
  });

  it("reads the model from a stored error", () => {
    const error =
      "The model llama3.2 is not installed in Ollama. Download it from Settings, or run `ollama pull llama3.2`, then try again.";
    expect(missingModelOf(message({ id: "m", role: "user", content: "Hi", error }))).toBe("llama3.2");
  });

  it("reads a model with a tag", () => {
    const error = "Ollama does not have the model. Install it with: ollama pull qwen2.5:7b.";
    expect(missingModelOf(message({ id: "m", role: "user", content: "Hi", error }))).toBe("qwen2.5:7b");
  });

  it("finds none in other errors", () => {
    expect(missingModelOf(message({ id: "m", role: "user", content: "Hi", error: "Ollama is not running." }))).toBeNull();
    expect(missingModelOf(message({ id: "m", role: "user", content: "Hi" }))).toBeNull();
  });
});

describe("storedToolActivities", () => {
  it("pairs calls with their results", () => {
    const reply = message({
      id: "m2",
      role: "assistant",
      content: "Noted.",
      parts: [
        { type: "tool-call", toolCallId: "c1", toolName: "updateWorkingMemory", input: { memory: "x" } },
        { type: "tool-result", toolCallId: "c1", toolName: "updateWorkingMemory", output: { version: 2 } },
        { type: "tool-call", toolCallId: "c2", toolName: "updateWorkingMemory", input: { memory: "" } },
        {
          type: "tool-result",
          toolCallId: "c2",
          toolName: "updateWorkingMemory",
          output: { error: "The memory cannot be empty." },
          isError: true,
        },
      ],
    });
    expect(storedToolActivities(reply)).toEqual([
      { toolCallId: "c1", toolName: "updateWorkingMemory", state: "done" },
      {
        toolCallId: "c2",
        toolName: "updateWorkingMemory",
        state: "failed",
        errorText: "The memory cannot be empty.",
      },
    ]);
  });

  it("marks a call without a result running while streaming", () => {
    const parts = [{ type: "tool-call" as const, toolCallId: "c1", toolName: "search" }];
    expect(storedToolActivities(message({ id: "m", role: "assistant", content: "", parts, streaming: true }))[0]?.state).toBe(
      "running",
    );
    expect(storedToolActivities(message({ id: "m", role: "assistant", content: "", parts }))[0]?.state).toBe("failed");
  });

  it("returns none without parts", () => {
    expect(storedToolActivities(message({ id: "m", role: "assistant", content: "" }))).toEqual([]);
  });
});

describe("contextTrimOf", () => {
  it("prefers the stream's part", () => {
    const live = { ...sendLive(), context: { omittedMessages: 3, omittedRecalled: 0, contextLength: 4096 } };
    expect(contextTrimOf(message({ id: "m", role: "assistant", content: "" }), live)).toEqual({
      omittedMessages: 3,
      omittedRecalled: 0,
      contextLength: 4096,
    });
  });

  it("reads a stored reply", () => {
    const reply = message({ id: "m", role: "assistant", content: "", omittedMessages: 0, omittedRecalled: 2 });
    expect(contextTrimOf(reply)).toEqual({ omittedMessages: 0, omittedRecalled: 2 });
  });

  it("returns null when nothing was left out", () => {
    expect(contextTrimOf(message({ id: "m", role: "assistant", content: "" }))).toBeNull();
  });
});

describe("isResumable", () => {
  it.each([
    { status: "complete", want: false },
    { status: "incomplete", want: true },
    { status: "interrupted", want: true },
    { status: "error", want: true },
  ] as const)("reads $status as $want", ({ status, want }) => {
    expect(isResumable(status)).toBe(want);
  });
});

describe("isStoredId", () => {
  it("tells local ids from stored ones", () => {
    expect(isStoredId("live-3-reply")).toBe(false);
    expect(isStoredId("01J9Z8")).toBe(true);
  });
});
