// The replies being streamed, one at most per thread. The store reads each
// stream to its end whether or not a view of its thread is open. So a reply
// keeps streaming while the user reads another thread, and shows its
// progress when the thread is opened again.

import { ApiError, errorMessage, stopChat, type Message, type RecalledMessage } from "./api.ts";
import {
  ChatStreamError,
  contextPartType,
  readReplyStream,
  recallPartType,
  retryPartType,
  workingMemoryPartType,
  type ChatStreamEvent,
  type ContextTrim,
  type WorkingMemoryChange,
} from "./chatStream.ts";
import { strings } from "./strings.ts";

/**
 * The request that started a reply: a new message, Regenerate or Continue
 * of a stored reply, or an edited user message, whose reply the server
 * writes in a new thread.
 */
export type ReplyKind = "send" | "regenerate" | "continue" | "edit";

/** A tool call of the model during a reply, as the reply shows it. */
export interface ToolActivity {
  toolCallId: string;
  toolName: string;
  state: "running" | "done" | "failed";
  /** The reason a failed call failed, when the server sent one. */
  errorText?: string;
}

/** A change of the working memory reported by the stream, with the id of its part. */
export interface MemoryChangeNotice extends WorkingMemoryChange {
  id: string;
}

/** A reply being streamed, or the last one streamed in its thread. */
export interface LiveReply {
  /** Local id of this stream. */
  id: string;
  /** The thread that the reply belongs to. */
  threadId: string;
  kind: ReplyKind;
  /**
   * True for an edit until the response names the new thread in its
   * X-Thread-Id header. Until then threadId is the edited thread, where
   * nothing new is shown.
   */
  awaitingThread: boolean;
  /** The stored reply that Regenerate or Continue writes, or the user message that an edit replaces. */
  targetMessageId?: string;
  /** The user's message of a send or an edit, with a local id. */
  userMessage?: Message;
  /** Id of the stored user message, from the start event. */
  userMessageId?: string;
  /** The reply as streamed so far, with a local id. */
  reply: Message;
  /** Id of the stored reply, from the start or finish event. */
  replyMessageId?: string;
  recalled?: RecalledMessage[];
  context?: ContextTrim;
  /** Time, in milliseconds since the epoch, at which the backend tries again after a rate limit. */
  retryAt?: number;
  tools: ToolActivity[];
  memoryChanges: MemoryChangeNotice[];
  /** Code of the error that ended the reply, such as "model_not_found". */
  errorCode?: string;
  /** The model that is not installed, for a "model_not_found" error. */
  missingModel?: string;
  /** True once a finish or abort event arrived. */
  finished: boolean;
  /** True once the request has ended in any way. */
  done: boolean;
  /**
   * True once the view has loaded the thread after the request ended, so
   * that the stored messages show the outcome and replace the streamed copy.
   */
  settled: boolean;
  /** True after Stop, until the request ends. */
  stopping: boolean;
  /**
   * The error of a request that the server rejected before any reply
   * started: always for Regenerate, Continue and edits, and for a new
   * message when the profile is locked, too many replies are being written
   * (429), or a reply is already being written in the thread (409
   * conflict). The view shows it apart from the messages.
   */
  rejection?: ApiError;
}

/** The request for a reply that ReplyStore.start sends. */
export interface ReplyRequest {
  threadId: string;
  kind: ReplyKind;
  targetMessageId?: string;
  /** The text of the user's message of a send or an edit. */
  text?: string;
  /** The clientRequestId sent with a new message, which the stored message keeps. */
  clientRequestId?: string;
  /** The text of the reply that Continue extends. */
  replyContent?: string;
  /** Sends the request and returns the response whose body is the reply stream. */
  send: (signal: AbortSignal) => Promise<Response>;
}

/** Functions that the store calls when something happens to a reply, wherever it is shown. */
export interface ReplyStoreHandlers {
  /** The request of a reply ended in any way. */
  onEnded?: (reply: LiveReply) => void;
  /** An edit's response named the new thread that the reply belongs to. */
  onThreadCreated?: (reply: LiveReply, editedThreadId: string) => void;
  /** The model changed the working memory. */
  onMemoryChange?: (change: MemoryChangeNotice, reply: LiveReply) => void;
}

/**
 * Time, in milliseconds, that a reply may keep streaming after Stop before
 * its request is aborted here. The server normally ends the stream with a
 * finish event at once.
 */
export const stopGraceMs = 10_000;

/**
 * Returns a new reply for request, before anything was sent. now is the time
 * in milliseconds since the epoch.
 */
export function newLiveReply(request: Omit<ReplyRequest, "send">, id: string, now: number): LiveReply {
  const createdAt = new Date(now).toISOString();
  const live: LiveReply = {
    id,
    threadId: request.threadId,
    kind: request.kind,
    awaitingThread: request.kind === "edit",
    reply: {
      id: `${id}-reply`,
      threadId: request.threadId,
      role: "assistant",
      content: request.replyContent ?? "",
      createdAt,
      status: "incomplete",
    },
    tools: [],
    memoryChanges: [],
    finished: false,
    done: false,
    settled: false,
    stopping: false,
  };
  if (request.targetMessageId !== undefined) {
    live.targetMessageId = request.targetMessageId;
  }
  if (request.text !== undefined && (request.kind === "send" || request.kind === "edit")) {
    live.userMessage = {
      id: `${id}-user`,
      threadId: request.threadId,
      role: "user",
      content: request.text,
      createdAt,
      status: "complete",
    };
    if (request.clientRequestId !== undefined) {
      live.userMessage.clientRequestId = request.clientRequestId;
    }
  }
  return live;
}

/** Returns live after one event of its stream, which arrived at time now, in milliseconds since the epoch. */
export function applyStreamEvent(live: LiveReply, event: ChatStreamEvent, now: number): LiveReply {
  switch (event.type) {
    case "start": {
      const next = { ...live };
      if (event.messageId !== undefined) {
        next.replyMessageId = event.messageId;
      }
      if (event.messageMetadata?.userMessageId !== undefined) {
        next.userMessageId = event.messageMetadata.userMessageId;
      }
      return next;
    }
    case recallPartType:
      // A second list for the same reply replaces the first.
      return { ...live, recalled: event.data };
    case contextPartType:
      return { ...live, context: event.data };
    case retryPartType:
      return { ...live, retryAt: now + event.retryInSeconds * 1000 };
    case workingMemoryPartType: {
      if (live.memoryChanges.some((change) => change.id === event.id)) {
        return live;
      }
      return { ...live, memoryChanges: [...live.memoryChanges, { id: event.id, ...event.data }] };
    }
    case "tool-input-available": {
      const activity: ToolActivity = { toolCallId: event.toolCallId, toolName: event.toolName, state: "running" };
      return { ...live, tools: [...live.tools.filter((tool) => tool.toolCallId !== event.toolCallId), activity] };
    }
    case "tool-output-available":
      return updateTool(live, event.toolCallId, (tool) => ({ ...tool, state: "done" }));
    case "tool-output-error": {
      const reason = toolErrorReason(event.errorText);
      return updateTool(live, event.toolCallId, (tool) =>
        reason === "" ? { ...tool, state: "failed" } : { ...tool, state: "failed", errorText: reason },
      );
    }
    case "text-delta":
      // Text means that the backend is no longer waiting.
      return withoutRetry({ ...live, reply: { ...live.reply, content: live.reply.content + event.delta } });
    case "error":
      return withoutRetry({ ...live, reply: { ...live.reply, status: "error", error: event.errorText } });
    case "finish": {
      const metadata = event.messageMetadata;
      const next = withoutRetry({ ...live, finished: true });
      // An error event already set the status, which a finish event with
      // "incomplete" must not hide: the reply shows why it stopped.
      const status = live.reply.status === "error" && metadata?.status !== "complete" ? "error" : metadata?.status;
      next.reply = { ...live.reply, status: status ?? "complete" };
      if (metadata?.assistantMessageId !== undefined) {
        next.replyMessageId = metadata.assistantMessageId;
      }
      if (metadata?.errorCode !== undefined) {
        next.errorCode = metadata.errorCode;
      }
      if (metadata?.missingModel !== undefined) {
        next.missingModel = metadata.missingModel;
      }
      return next;
    }
    case "abort":
      return withoutRetry({ ...live, finished: true, reply: { ...live.reply, status: "incomplete" } });
  }
}

/**
 * Returns live once its request has ended: with err, the error that ended
 * it, or null when the stream ended normally. responded is true when the
 * response had arrived.
 */
export function endLiveReply(live: LiveReply, err: unknown, responded: boolean): LiveReply {
  const next: LiveReply = withoutRetry({ ...live, done: true, stopping: false, awaitingThread: false });
  if (err === null) {
    if (!live.finished && live.reply.status !== "error") {
      next.reply = { ...live.reply, status: "error", error: strings.chat.connectionClosed };
    }
    return next;
  }

  if (err instanceof DOMException && err.name === "AbortError") {
    if (!live.finished) {
      next.reply = { ...live.reply, status: "incomplete" };
    }
    return next;
  }
  if (!responded && err instanceof ApiError && isRejection(live, err)) {
    next.rejection = err;
    return next;
  }
  // No response at all, as when Hearth's server is down: a new message goes
  // back into the composer too. ChatView sends the same text again with the
  // same clientRequestId, so a server that stored it after all returns 409
  // duplicate_request instead of storing it twice.
  if (!responded && !(err instanceof ApiError)) {
    next.rejection = new ApiError("network_error", describeReplyError(err), 0);
    return next;
  }
  if (!responded && live.kind !== "send") {
    next.rejection = new ApiError("network_error", describeReplyError(err), 0);
    return next;
  }
  next.reply = { ...live.reply, status: "error", error: describeReplyError(err) };
  if (err instanceof ApiError) {
    next.errorCode = err.code;
  }
  return next;
}

/**
 * Keeps the replies being streamed, at most one per thread, and the last
 * one of each thread after it ended. It is a store for React's
 * useSyncExternalStore: get returns the same object until the reply changes.
 */
export class ReplyStore {
  /** The functions called on what happens to replies. */
  handlers: ReplyStoreHandlers = {};

  private readonly replies = new Map<string, LiveReply>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly stopTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly listeners = new Set<() => void>();
  private nextId = 0;

  /**
   * requestStop sends the server the request to stop a thread's reply, and
   * now returns the time in milliseconds since the epoch. Tests replace both.
   */
  constructor(
    private readonly requestStop: (threadId: string) => Promise<void> = stopChat,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds a function called after every change, and returns the function that removes it. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Returns the reply of a thread: the one streaming, or the last one, or undefined. */
  get(threadId: string): LiveReply | undefined {
    return this.replies.get(threadId);
  }

  /** Reports whether a reply of the thread is being streamed. */
  isRunning(threadId: string): boolean {
    const live = this.replies.get(threadId);
    return live !== undefined && !live.done;
  }

  /**
   * Sends request and streams its reply into the store. It returns the new
   * reply, or null without sending anything when a reply of the thread is
   * already being streamed.
   */
  start(request: ReplyRequest): LiveReply | null {
    if (this.isRunning(request.threadId)) {
      return null;
    }
    this.nextId++;
    const { send, ...fields } = request;
    const live = newLiveReply(fields, `live-${this.nextId}`, this.now());
    const controller = new AbortController();
    this.controllers.set(live.id, controller);
    this.replies.set(live.threadId, live);
    this.notify();
    void this.run(live.id, send, controller);
    return live;
  }

  /**
   * Stops the reply being streamed in a thread by asking the server, which
   * ends the stream with a finish event. When that request fails, or the
   * stream goes on for stopGraceMs, the request is aborted here instead.
   */
  async stop(threadId: string): Promise<void> {
    const live = this.replies.get(threadId);
    if (live === undefined || live.done || live.stopping) {
      return;
    }
    const controller = this.controllers.get(live.id);
    this.update(live.id, (current) => ({ ...current, stopping: true }));
    // An edit whose response has not named its thread yet cannot be
    // stopped on the server by thread.
    if (live.awaitingThread) {
      controller?.abort();
      return;
    }
    this.stopTimers.set(
      live.id,
      setTimeout(() => controller?.abort(), stopGraceMs),
    );
    try {
      await this.requestStop(live.threadId);
    } catch {
      controller?.abort();
    }
  }

  /**
   * Marks the ended reply id of a thread as settled: the view has loaded the
   * thread since it ended.
   */
  settle(threadId: string, id: string): void {
    const live = this.replies.get(threadId);
    if (live !== undefined && live.id === id && live.done && !live.settled) {
      this.replies.set(threadId, { ...live, settled: true });
      this.notify();
    }
  }

  /** Forgets the ended reply id of a thread, such as a rejection the view has shown. */
  dismiss(threadId: string, id: string): void {
    const live = this.replies.get(threadId);
    if (live !== undefined && live.id === id && live.done) {
      this.replies.delete(threadId);
      this.notify();
    }
  }

  /**
   * Aborts every request without asking the server to stop, for leaving the
   * workspace. The server decides whether the replies go on.
   */
  abortAll(): void {
    for (const controller of this.controllers.values()) {
      controller.abort();
    }
  }

  private async run(id: string, send: (signal: AbortSignal) => Promise<Response>, controller: AbortController) {
    let responded = false;
    try {
      const response = await send(controller.signal);
      responded = true;
      this.takeThread(id, response.headers.get("X-Thread-Id"));
      await readReplyStream(response, (event) => this.handleEvent(id, event));
      this.end(id, null, responded);
    } catch (err) {
      this.end(id, err, responded);
    }
  }

  private handleEvent(id: string, event: ChatStreamEvent) {
    const live = this.update(id, (current) => applyStreamEvent(current, event, this.now()));
    if (event.type === workingMemoryPartType && live !== undefined) {
      this.handlers.onMemoryChange?.({ id: event.id, ...event.data }, live);
    }
  }

  // takeThread moves an edit's reply to the new thread that the response
  // names.
  private takeThread(id: string, threadId: string | null) {
    const live = this.find(id);
    if (live === undefined || !live.awaitingThread) {
      return;
    }
    const editedThreadId = live.threadId;
    const moved: LiveReply = { ...live, awaitingThread: false };
    if (threadId !== null && threadId !== "" && threadId !== editedThreadId) {
      moved.threadId = threadId;
      moved.reply = { ...moved.reply, threadId };
      if (moved.userMessage !== undefined) {
        moved.userMessage = { ...moved.userMessage, threadId };
      }
      this.replies.delete(editedThreadId);
    }
    this.replies.set(moved.threadId, moved);
    this.notify();
    this.handlers.onThreadCreated?.(moved, editedThreadId);
  }

  private end(id: string, err: unknown, responded: boolean) {
    const timer = this.stopTimers.get(id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.stopTimers.delete(id);
    }
    this.controllers.delete(id);
    const ended = this.update(id, (current) => endLiveReply(current, err, responded));
    if (ended !== undefined) {
      this.handlers.onEnded?.(ended);
    }
  }

  // update replaces the reply id, wherever it is kept, with change(reply),
  // and returns the new reply, or undefined when the reply is gone.
  private update(id: string, change: (live: LiveReply) => LiveReply): LiveReply | undefined {
    const live = this.find(id);
    if (live === undefined) {
      return undefined;
    }
    const next = change(live);
    if (next !== live) {
      this.replies.set(next.threadId, next);
      this.notify();
    }
    return next;
  }

  private find(id: string): LiveReply | undefined {
    for (const live of this.replies.values()) {
      if (live.id === id) {
        return live;
      }
    }
    return undefined;
  }

  private notify() {
    for (const listener of this.listeners) {
      listener();
    }
  }
}

// isRejection reports whether err, which arrived instead of a response,
// leaves nothing to show in the thread. That is every error of Regenerate,
// Continue and edits. For a new message it is a locked profile, too many
// replies being written (429), or a reply already being written in the
// thread, such as from another tab (409 conflict). The server stored none of
// these messages, so they go back into the composer. A 409
// duplicate_request is not one: the server had stored that message.
function isRejection(live: LiveReply, err: ApiError): boolean {
  return (
    live.kind !== "send" || err.code === "locked" || err.code === "rate_limited" || err.code === "conflict"
  );
}

function updateTool(live: LiveReply, toolCallId: string, change: (tool: ToolActivity) => ToolActivity): LiveReply {
  if (!live.tools.some((tool) => tool.toolCallId === toolCallId)) {
    return live;
  }
  return { ...live, tools: live.tools.map((tool) => (tool.toolCallId === toolCallId ? change(tool) : tool)) };
}

// toolErrorReason returns the sentence of a failed tool call's errorText.
// Hearth sends the tool's output there, such as {"error": "..."}, so the
// sentence is taken out of that object when the text is one.
function toolErrorReason(errorText: string): string {
  try {
    const value: unknown = JSON.parse(errorText);
    if (typeof value === "object" && value !== null && "error" in value && typeof value.error === "string") {
      return value.error;
    }
  } catch {
    // Plain text is the reason itself.
  }
  return errorText;
}

function withoutRetry(live: LiveReply): LiveReply {
  if (live.retryAt === undefined) {
    return live;
  }
  const next = { ...live };
  delete next.retryAt;
  return next;
}

// describeReplyError returns the sentence shown for a reply that failed
// outside the stream's own error events.
function describeReplyError(err: unknown): string {
  if (err instanceof ChatStreamError) {
    // The details are for developers, and the console keeps them.
    console.error(err);
    return strings.chat.unreadableReply;
  }
  // fetch rejects with a TypeError, whose message is the browser's own
  // ("network error", "Failed to fetch"), when the connection breaks, such
  // as when Hearth stops while the reply streams.
  if (err instanceof TypeError) {
    console.error(err);
    return strings.chat.serverStopped;
  }
  return errorMessage(err);
}
