import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "./api.ts";
import { ChatStreamError, type ChatStreamEvent } from "./chatStream.ts";
import {
  ReplyStore,
  applyStreamEvent,
  endLiveReply,
  newLiveReply,
  stopGraceMs,
  type LiveReply,
  type MemoryChangeNotice,
} from "./replyStore.ts";
import { strings } from "./strings.ts";

const encoder = new TextEncoder();

// ScriptedResponse is a reply stream that a test writes part by part. An
// abort of the request's signal fails the body, as fetch does.
class ScriptedResponse {
  readonly response: Response;
  private controller!: ReadableStreamDefaultController<Uint8Array>;

  constructor(signal: AbortSignal, headers: Record<string, string> = {}) {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
    });
    signal.addEventListener("abort", () => this.controller.error(new DOMException("aborted", "AbortError")));
    this.response = new Response(body, { headers: { "Content-Type": "text/event-stream", ...headers } });
  }

  send(part: object) {
    this.controller.enqueue(encoder.encode(`data: ${JSON.stringify(part)}\n\n`));
  }

  finish(status = "complete") {
    this.send({ type: "finish", messageMetadata: { status } });
    this.controller.enqueue(encoder.encode("data: [DONE]\n\n"));
    this.controller.close();
  }

  close() {
    this.controller.close();
  }
}

// scripted returns a send function for ReplyStore.start and the list of
// responses it created, one per call.
function scripted(headers: Record<string, string> = {}) {
  const responses: ScriptedResponse[] = [];
  const signals: AbortSignal[] = [];
  const send = async (signal: AbortSignal) => {
    const scriptedResponse = new ScriptedResponse(signal, headers);
    responses.push(scriptedResponse);
    signals.push(signal);
    return scriptedResponse.response;
  };
  return { send, responses, signals };
}

function firstResponse(responses: ScriptedResponse[]): ScriptedResponse {
  const response = responses[0];
  if (response === undefined) {
    throw new Error("no request was sent");
  }
  return response;
}

function liveSend(): LiveReply {
  return newLiveReply({ threadId: "t1", kind: "send", text: "Hello", clientRequestId: "c1" }, "live-1", 0);
}

function applyAll(live: LiveReply, events: ChatStreamEvent[], now = 0): LiveReply {
  return events.reduce((current, event) => applyStreamEvent(current, event, now), live);
}

describe("newLiveReply", () => {
  it("makes a user message and an empty reply for a send", () => {
    const live = liveSend();
    expect(live.userMessage).toMatchObject({ role: "user", content: "Hello", clientRequestId: "c1", threadId: "t1" });
    expect(live.reply).toMatchObject({ role: "assistant", content: "", status: "incomplete" });
    expect(live.awaitingThread).toBe(false);
  });

  it("starts Continue from the reply's text", () => {
    const live = newLiveReply({ threadId: "t1", kind: "continue", targetMessageId: "m2", replyContent: "Once" }, "live-1", 0);
    expect(live.reply.content).toBe("Once");
    expect(live.userMessage).toBeUndefined();
    expect(live.targetMessageId).toBe("m2");
  });

  it("waits for the thread of an edit", () => {
    const live = newLiveReply({ threadId: "t1", kind: "edit", targetMessageId: "m1", text: "Hi" }, "live-1", 0);
    expect(live.awaitingThread).toBe(true);
    expect(live.userMessage?.content).toBe("Hi");
  });
});

describe("applyStreamEvent", () => {
  it("records the stored ids from start", () => {
    const live = applyStreamEvent(
      liveSend(),
      { type: "start", messageId: "m2", messageMetadata: { threadId: "t1", userMessageId: "m1" } },
      0,
    );
    expect(live.replyMessageId).toBe("m2");
    expect(live.userMessageId).toBe("m1");
  });

  it("appends text deltas", () => {
    const live = applyAll(liveSend(), [
      { type: "text-delta", id: "x", delta: "Hel" },
      { type: "text-delta", id: "x", delta: "lo" },
    ]);
    expect(live.reply.content).toBe("Hello");
  });

  it("completes on finish", () => {
    const live = applyAll(liveSend(), [{ type: "finish", messageMetadata: { status: "complete" } }]);
    expect(live.finished).toBe(true);
    expect(live.reply.status).toBe("complete");
  });

  it("keeps an error through an incomplete finish", () => {
    const live = applyAll(liveSend(), [
      { type: "text-delta", id: "x", delta: "Hi" },
      { type: "error", errorText: "The model went away." },
      {
        type: "finish",
        messageMetadata: { status: "incomplete", errorCode: "backend_disconnected", assistantMessageId: "m2" },
      },
    ]);
    expect(live.reply.status).toBe("error");
    expect(live.reply.error).toBe("The model went away.");
    expect(live.errorCode).toBe("backend_disconnected");
    expect(live.replyMessageId).toBe("m2");
  });

  it("records a missing model", () => {
    const live = applyAll(liveSend(), [
      { type: "error", errorText: "The model llama3.2 is not installed." },
      { type: "finish", messageMetadata: { status: "error", errorCode: "model_not_found", missingModel: "llama3.2" } },
    ]);
    expect(live.errorCode).toBe("model_not_found");
    expect(live.missingModel).toBe("llama3.2");
  });

  it("marks an aborted reply incomplete", () => {
    const live = applyAll(liveSend(), [{ type: "abort" }]);
    expect(live.finished).toBe(true);
    expect(live.reply.status).toBe("incomplete");
  });

  it("sets the retry time until text arrives", () => {
    const waiting = applyStreamEvent(liveSend(), { type: "data-retry", id: "retry-m2", retryInSeconds: 7 }, 1_000);
    expect(waiting.retryAt).toBe(8_000);
    const writing = applyStreamEvent(waiting, { type: "text-delta", id: "x", delta: "Hi" }, 9_000);
    expect(writing.retryAt).toBeUndefined();
  });

  it("keeps the context trim", () => {
    const live = applyStreamEvent(
      liveSend(),
      { type: "data-context", id: "context-m2", data: { omittedMessages: 4, omittedRecalled: 1 } },
      0,
    );
    expect(live.context).toEqual({ omittedMessages: 4, omittedRecalled: 1 });
  });

  it("follows a tool call to its result", () => {
    const running = applyStreamEvent(
      liveSend(),
      { type: "tool-input-available", toolCallId: "c1", toolName: "updateWorkingMemory", input: { memory: "x" } },
      0,
    );
    expect(running.tools).toEqual([{ toolCallId: "c1", toolName: "updateWorkingMemory", state: "running" }]);
    const done = applyStreamEvent(running, { type: "tool-output-available", toolCallId: "c1", output: { ok: true } }, 0);
    expect(done.tools[0]?.state).toBe("done");
    const failed = applyStreamEvent(running, { type: "tool-output-error", toolCallId: "c1", errorText: "Too long." }, 0);
    expect(failed.tools[0]).toEqual({
      toolCallId: "c1",
      toolName: "updateWorkingMemory",
      state: "failed",
      errorText: "Too long.",
    });
  });

  it("reads the reason out of a tool's error output", () => {
    const running = applyStreamEvent(
      liveSend(),
      { type: "tool-input-available", toolCallId: "c1", toolName: "updateWorkingMemory", input: {} },
      0,
    );
    const failed = applyStreamEvent(
      running,
      { type: "tool-output-error", toolCallId: "c1", errorText: '{"error":"The memory cannot be empty."}' },
      0,
    );
    expect(failed.tools[0]?.errorText).toBe("The memory cannot be empty.");
  });

  it("ignores a result of an unknown tool call", () => {
    const live = liveSend();
    expect(applyStreamEvent(live, { type: "tool-output-available", toolCallId: "zz", output: null }, 0)).toBe(live);
  });

  it("keeps each memory change once", () => {
    const change: ChatStreamEvent = {
      type: "data-working-memory",
      id: "wm-m2-1",
      data: { version: 3, previousVersion: 2, previous: "a", content: "b" },
    };
    const live = applyAll(liveSend(), [change, change]);
    expect(live.memoryChanges).toEqual([{ id: "wm-m2-1", version: 3, previousVersion: 2, previous: "a", content: "b" }]);
  });
});

describe("endLiveReply", () => {
  it("completes a finished stream", () => {
    const finished = applyAll(liveSend(), [{ type: "finish", messageMetadata: { status: "complete" } }]);
    const ended = endLiveReply(finished, null, true);
    expect(ended.done).toBe(true);
    expect(ended.reply.status).toBe("complete");
    expect(ended.reply.error).toBeUndefined();
  });

  it("fails a stream that ended without finish", () => {
    const ended = endLiveReply(liveSend(), null, true);
    expect(ended.reply.status).toBe("error");
    expect(ended.reply.error).toBe(strings.chat.connectionClosed);
  });

  it("marks an aborted request incomplete", () => {
    const ended = endLiveReply(liveSend(), new DOMException("aborted", "AbortError"), true);
    expect(ended.reply.status).toBe("incomplete");
    expect(ended.reply.error).toBeUndefined();
  });

  it.each([
    ["locked", 401],
    ["rate_limited", 429],
    ["conflict", 409],
  ] as const)("rejects a send answered %s", (code, status) => {
    const err = new ApiError(code, "No.", status, code === "rate_limited" ? 5 : null);
    const ended = endLiveReply(liveSend(), err, false);
    expect(ended.rejection).toBe(err);
    expect(ended.reply.status).toBe("incomplete");
    expect(ended.reply.error).toBeUndefined();
  });

  it("shows a duplicate send in the reply", () => {
    const err = new ApiError("duplicate_request", "This message was already sent.", 409);
    const ended = endLiveReply(liveSend(), err, false);
    expect(ended.rejection).toBeUndefined();
    expect(ended.reply).toMatchObject({ status: "error", error: "This message was already sent." });
    expect(ended.errorCode).toBe("duplicate_request");
  });

  it("rejects an edit answered conflict", () => {
    const live = newLiveReply({ threadId: "t1", kind: "edit", targetMessageId: "m1", text: "Changed" }, "live-1", 0);
    const err = new ApiError("conflict", "A reply is already being written.", 409);
    const ended = endLiveReply(live, err, false);
    expect(ended.rejection).toBe(err);
    expect(ended.userMessage?.content).toBe("Changed");
  });

  it("explains a connection lost mid-reply", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const streaming = applyAll(liveSend(), [{ type: "text-delta", id: "x", delta: "Half" }]);
    const ended = endLiveReply(streaming, new TypeError("network error"), true);
    expect(ended.reply.status).toBe("error");
    expect(ended.reply.error).toBe(strings.chat.serverStopped);
    expect(ended.reply.content).toBe("Half");
    expect(error).toHaveBeenCalledOnce();
    error.mockRestore();
  });

  it("rejects every refused Regenerate", () => {
    const live = newLiveReply({ threadId: "t1", kind: "regenerate", targetMessageId: "m2" }, "live-1", 0);
    const ended = endLiveReply(live, new ApiError("conflict", "Not the last reply.", 409), false);
    expect(ended.rejection?.message).toBe("Not the last reply.");
  });

  it("rejects a Continue that reached no server", () => {
    const live = newLiveReply({ threadId: "t1", kind: "continue", targetMessageId: "m2" }, "live-1", 0);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const ended = endLiveReply(live, new TypeError("Failed to fetch"), false);
    expect(ended.rejection?.code).toBe("network_error");
    expect(ended.rejection?.message).toBe(strings.chat.serverStopped);
    error.mockRestore();
  });

  it("rejects a send that reached no server", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const ended = endLiveReply(liveSend(), new TypeError("Failed to fetch"), false);
    expect(ended.rejection?.code).toBe("network_error");
    expect(ended.rejection?.message).toBe(strings.chat.serverStopped);
    expect(ended.userMessage?.content).toBeDefined();
    error.mockRestore();
  });

  it("hides the details of an unreadable stream", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const ended = endLiveReply(liveSend(), new ChatStreamError("bad JSON"), true);
    expect(ended.reply.error).toBe(strings.chat.unreadableReply);
    expect(error).toHaveBeenCalledOnce();
    error.mockRestore();
  });
});

describe("ReplyStore", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("streams a reply into the store", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send, responses } = scripted({ "X-Thread-Id": "t1" });
    const changes = vi.fn();
    store.subscribe(changes);
    const ended = vi.fn();
    store.handlers.onEnded = ended;

    const live = store.start({ threadId: "t1", kind: "send", text: "Hello", send });
    expect(live?.userMessage?.content).toBe("Hello");
    expect(store.isRunning("t1")).toBe(true);
    await vi.waitFor(() => expect(responses).toHaveLength(1));

    const response = firstResponse(responses);
    response.send({ type: "start", messageId: "m2", messageMetadata: { userMessageId: "m1" } });
    response.send({ type: "text-delta", id: "x", delta: "Hi" });
    await vi.waitFor(() => expect(store.get("t1")?.reply.content).toBe("Hi"));
    response.finish();

    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));
    expect(store.isRunning("t1")).toBe(false);
    expect(store.get("t1")?.reply.status).toBe("complete");
    expect(store.get("t1")?.replyMessageId).toBe("m2");
    expect(ended).toHaveBeenCalledOnce();
    expect(changes.mock.calls.length).toBeGreaterThan(2);
  });

  it("keeps streaming without subscribers", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send, responses } = scripted();
    const unsubscribe = store.subscribe(() => undefined);
    store.start({ threadId: "t1", kind: "send", text: "Hello", send });
    unsubscribe();
    await vi.waitFor(() => expect(responses).toHaveLength(1));

    const response = firstResponse(responses);
    response.send({ type: "text-delta", id: "x", delta: "Still here" });
    response.finish();
    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));
    expect(store.get("t1")?.reply.content).toBe("Still here");
  });

  it("runs one reply per thread", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send } = scripted();
    expect(store.start({ threadId: "t1", kind: "send", text: "a", send })).not.toBeNull();
    expect(store.start({ threadId: "t1", kind: "send", text: "b", send })).toBeNull();
    expect(store.start({ threadId: "t2", kind: "send", text: "c", send })).not.toBeNull();
  });

  it("returns the same object until a change", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send } = scripted();
    store.start({ threadId: "t1", kind: "send", text: "a", send });
    expect(store.get("t1")).toBe(store.get("t1"));
  });

  it("stops through the server", async () => {
    const stopRequests: string[] = [];
    const store = new ReplyStore(async (threadId) => {
      stopRequests.push(threadId);
    }, () => 0);
    const { send, responses, signals } = scripted();
    store.start({ threadId: "t1", kind: "send", text: "Hello", send });
    await vi.waitFor(() => expect(responses).toHaveLength(1));

    await store.stop("t1");
    expect(stopRequests).toEqual(["t1"]);
    expect(store.get("t1")?.stopping).toBe(true);
    expect(signals[0]?.aborted).toBe(false);

    firstResponse(responses).finish("incomplete");
    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));
    expect(store.get("t1")?.reply.status).toBe("incomplete");
    expect(store.get("t1")?.stopping).toBe(false);
  });

  it("aborts when the stop request fails", async () => {
    const store = new ReplyStore(async () => {
      throw new ApiError("network_error", "Offline.", 0);
    }, () => 0);
    const { send, responses } = scripted();
    store.start({ threadId: "t1", kind: "send", text: "Hello", send });
    await vi.waitFor(() => expect(responses).toHaveLength(1));

    await store.stop("t1");
    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));
    expect(store.get("t1")?.reply.status).toBe("incomplete");
  });

  it("aborts a reply that goes on after Stop", async () => {
    vi.useFakeTimers();
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send, responses, signals } = scripted();
    store.start({ threadId: "t1", kind: "send", text: "Hello", send });
    await vi.waitFor(() => expect(responses).toHaveLength(1));

    await store.stop("t1");
    vi.advanceTimersByTime(stopGraceMs - 1);
    expect(signals[0]?.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(signals[0]?.aborted).toBe(true);
    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));
  });

  it("moves an edit to the new thread", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send, responses } = scripted({ "X-Thread-Id": "t2" });
    const created = vi.fn();
    store.handlers.onThreadCreated = created;

    store.start({ threadId: "t1", kind: "edit", targetMessageId: "m1", text: "Changed", send });
    expect(store.get("t1")?.awaitingThread).toBe(true);
    await vi.waitFor(() => expect(store.get("t2")).toBeDefined());

    expect(store.get("t1")).toBeUndefined();
    const moved = store.get("t2");
    expect(moved?.threadId).toBe("t2");
    expect(moved?.awaitingThread).toBe(false);
    expect(moved?.userMessage?.threadId).toBe("t2");
    expect(created).toHaveBeenCalledWith(moved, "t1");

    firstResponse(responses).send({ type: "text-delta", id: "x", delta: "New" });
    firstResponse(responses).finish();
    await vi.waitFor(() => expect(store.get("t2")?.done).toBe(true));
    expect(store.get("t2")?.reply.content).toBe("New");
  });

  it("rejects a refused edit in its thread", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const send = async () => {
      throw new ApiError("not_found", "No such message.", 404);
    };
    store.start({ threadId: "t1", kind: "edit", targetMessageId: "m1", text: "Changed", send });
    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));
    expect(store.get("t1")?.rejection?.message).toBe("No such message.");
    expect(store.get("t1")?.awaitingThread).toBe(false);
  });

  it("reports memory changes", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send, responses } = scripted();
    const changes: MemoryChangeNotice[] = [];
    store.handlers.onMemoryChange = (change) => changes.push(change);
    store.start({ threadId: "t1", kind: "send", text: "I moved to Lyon", send });
    await vi.waitFor(() => expect(responses).toHaveLength(1));

    firstResponse(responses).send({
      type: "data-working-memory",
      id: "wm-m2-1",
      data: { version: 2, previousVersion: 1, previous: "- Location:", content: "- Location: Lyon" },
    });
    firstResponse(responses).finish();
    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));
    expect(changes).toEqual([
      { id: "wm-m2-1", version: 2, previousVersion: 1, previous: "- Location:", content: "- Location: Lyon" },
    ]);
  });

  it("settles and dismisses only the ended reply", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send, responses } = scripted();
    const live = store.start({ threadId: "t1", kind: "send", text: "a", send });
    if (live === null) {
      throw new Error("the reply did not start");
    }
    store.settle("t1", live.id);
    expect(store.get("t1")?.settled).toBe(false);
    await vi.waitFor(() => expect(responses).toHaveLength(1));
    firstResponse(responses).finish();
    await vi.waitFor(() => expect(store.get("t1")?.done).toBe(true));

    store.settle("t1", "another");
    expect(store.get("t1")?.settled).toBe(false);
    store.settle("t1", live.id);
    expect(store.get("t1")?.settled).toBe(true);
    store.dismiss("t1", live.id);
    expect(store.get("t1")).toBeUndefined();
  });

  it("aborts everything on abortAll", async () => {
    const store = new ReplyStore(async () => undefined, () => 0);
    const { send, responses, signals } = scripted();
    store.start({ threadId: "t1", kind: "send", text: "a", send });
    store.start({ threadId: "t2", kind: "send", text: "b", send });
    await vi.waitFor(() => expect(responses).toHaveLength(2));

    store.abortAll();
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    await vi.waitFor(() => expect(store.get("t1")?.done && store.get("t2")?.done).toBe(true));
  });
});
