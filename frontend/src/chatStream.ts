// Reader for the chat reply stream of POST /api/chat: the UI message stream
// protocol of the Vercel AI SDK, version 1, sent as server-sent events. Each
// event is a `data: JSON` line followed by a blank line, and `data: [DONE]`
// ends the stream.

import { postChat, type ChatRequest, type Message, type MessageStatus, type RecalledMessage } from "./api.ts";

/** Metadata the server attaches to the start and finish events. */
export interface StreamMessageMetadata {
  threadId?: string;
  userMessageId?: string;
  /** Id of the stored reply, sent with the finish event when a reply was stored. */
  assistantMessageId?: string;
  /** Stored status of the reply, sent with the finish event. */
  status?: MessageStatus;
  /** Code of the error that ended the reply, such as "model_not_found", sent with the finish event. */
  errorCode?: string;
  /** The model that is not installed, sent with the finish event of a "model_not_found" error. */
  missingModel?: string;
}

/**
 * Type of the data part that lists the earlier messages recalled for a reply.
 * The Go twin is recallPartType in app/http_recall.go.
 */
export const recallPartType = "data-recall";

/** Type of the data part sent after the model changed the working memory. */
export const workingMemoryPartType = "data-working-memory";

/** Type of the data part sent when messages were left out of the prompt to fit the model's context. */
export const contextPartType = "data-context";

/** Type of the data part sent while the backend waits before it tries again. */
export const retryPartType = "data-retry";

/** A change that the model made to the working memory during a reply. The Go twin is app.WorkingMemoryChange. */
export interface WorkingMemoryChange {
  /** The thread whose document changed, when the profile's scope is "thread". */
  threadId?: string;
  /** The version the change made. */
  version: number;
  /** The version before the change, which Undo restores. */
  previousVersion: number;
  previous: string;
  content: string;
}

/** The messages left out of a reply's prompt to fit the model's context. The Go twin is app.ContextReport. */
export interface ContextTrim {
  omittedMessages: number;
  omittedRecalled: number;
  /** The model's context length in tokens, when sent. */
  contextLength?: number;
  /** The estimated size of the prompt in tokens, when sent. */
  promptTokens?: number;
}

/**
 * The stream events that the interface uses. Events of other types (steps,
 * text-start and text-end, reasoning, tool input deltas, unknown data parts)
 * are dropped by the parser.
 */
export type ChatStreamEvent =
  | { type: "start"; messageId?: string; messageMetadata?: StreamMessageMetadata }
  | { type: typeof recallPartType; id: string; data: RecalledMessage[] }
  | { type: typeof workingMemoryPartType; id: string; data: WorkingMemoryChange }
  | { type: typeof contextPartType; id: string; data: ContextTrim }
  | { type: typeof retryPartType; id: string; retryInSeconds: number }
  | { type: "tool-input-available"; toolCallId: string; toolName: string; input: unknown }
  | { type: "tool-output-available"; toolCallId: string; output: unknown }
  | { type: "tool-output-error"; toolCallId: string; errorText: string }
  | { type: "text-delta"; id: string; delta: string }
  | { type: "error"; errorText: string }
  | { type: "finish"; messageMetadata?: StreamMessageMetadata }
  | { type: "abort" };

/** A stream whose framing or JSON could not be read. */
export class ChatStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChatStreamError";
  }
}

/**
 * Sends a chat message and calls onEvent for each event of the reply, in
 * order. The promise resolves when the stream ends, whether or not a finish
 * event arrived. It rejects with the signal's AbortError when the caller
 * aborts, with an ApiError when the server rejects the request, and with a
 * ChatStreamError when the stream cannot be read.
 *
 * Aborting the fetch is not enough to stop a reply inside the desktop window,
 * whose backend only notices the abort when its next write fails: the caller
 * also sends POST /api/chat/{threadId}/stop (api.stopChat).
 *
 * NOTE: Wails v2.9.2 on Windows (WebView2) buffers whole responses, so there
 * the reply would appear only once it is complete. This function is the one
 * place to replace with a transport over Wails events on Windows.
 */
export async function streamChat(
  request: ChatRequest,
  onEvent: (event: ChatStreamEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await postChat(request, signal);
  await readReplyStream(response, onEvent);
}

/**
 * Reads the reply stream of a response from POST /api/chat or from one of
 * the routes that stream like it (regenerate, continue, edit), and calls
 * onEvent for each event, in order. It resolves and rejects as streamChat
 * does once the response has arrived.
 */
export async function readReplyStream(response: Response, onEvent: (event: ChatStreamEvent) => void): Promise<void> {
  if (response.body === null) {
    throw new ChatStreamError("The chat response has no body.");
  }

  const reader = response.body.getReader();
  const parser = new ChatStreamParser();
  try {
    while (!parser.done) {
      const { done, value } = await reader.read();
      const events = done ? parser.end() : parser.push(value);
      for (const event of events) {
        onEvent(event);
      }
      if (done) {
        return;
      }
    }
    // [DONE] arrived, so the rest of the body is not needed.
    await reader.cancel();
  } catch (err) {
    // Stop the download when the stream cannot be read or onEvent threw. The
    // cancel fails harmlessly when the fetch was aborted.
    await reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
}

/**
 * Incremental parser for the event stream. Bytes may be split anywhere across
 * push calls, including inside an event, a line ending or a multi-byte UTF-8
 * character. Comment lines (starting with ":") and fields other than data are
 * skipped, as the server-sent events format prescribes.
 */
export class ChatStreamParser {
  /** True once `data: [DONE]` has been read; later input is ignored. */
  done = false;

  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  private dataLines: string[] = [];

  /** Parses the next bytes and returns the events they complete. */
  push(bytes: Uint8Array): ChatStreamEvent[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    return this.takeLines(false);
  }

  /**
   * Parses what is left when the stream has ended. An event without its
   * closing blank line is dropped, as in the server-sent events format.
   */
  end(): ChatStreamEvent[] {
    this.buffer += this.decoder.decode();
    const events = this.takeLines(true);
    this.dataLines = [];
    return events;
  }

  // takeLines consumes every complete line of the buffer. A trailing "\r" is
  // kept until the next bytes show whether a "\n" follows it, unless the
  // stream has ended.
  private takeLines(streamEnded: boolean): ChatStreamEvent[] {
    const events: ChatStreamEvent[] = [];
    for (;;) {
      const lineEnd = this.buffer.search(/[\r\n]/);
      if (lineEnd === -1) {
        break;
      }

      let next = lineEnd + 1;
      if (this.buffer[lineEnd] === "\r") {
        if (next === this.buffer.length && !streamEnded) {
          break;
        }
        if (this.buffer[next] === "\n") {
          next++;
        }
      }

      const line = this.buffer.slice(0, lineEnd);
      this.buffer = this.buffer.slice(next);
      const event = this.readLine(line);
      if (event !== undefined) {
        events.push(event);
      }
    }
    return events;
  }

  // readLine handles one line and returns the event that a blank line
  // completes, if it is one that the interface uses.
  private readLine(line: string): ChatStreamEvent | undefined {
    if (this.done) {
      return undefined;
    }
    if (line === "") {
      return this.dispatch();
    }
    if (line.startsWith(":")) {
      return undefined;
    }

    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    if (field === "data") {
      this.dataLines.push(value);
    }
    return undefined;
  }

  private dispatch(): ChatStreamEvent | undefined {
    if (this.dataLines.length === 0) {
      return undefined;
    }
    const data = this.dataLines.join("\n");
    this.dataLines = [];

    if (data === "[DONE]") {
      this.done = true;
      return undefined;
    }

    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      throw new ChatStreamError(`The chat stream sent an event that is not valid JSON: ${data.slice(0, 200)}`);
    }
    return toChatStreamEvent(value);
  }
}

// toChatStreamEvent checks the fields the interface reads and returns
// undefined for an event of another type. An event of a known type with a
// missing or mistyped field is an error rather than silently dropped text,
// except for the data parts and tool events, which carry no text of the reply.
function toChatStreamEvent(value: unknown): ChatStreamEvent | undefined {
  if (!isObject(value) || typeof value.type !== "string") {
    throw new ChatStreamError("The chat stream sent an event without a type.");
  }

  switch (value.type) {
    case "start": {
      const event: ChatStreamEvent = { type: "start" };
      if (typeof value.messageId === "string") {
        event.messageId = value.messageId;
      }
      const metadata = toMetadata(value.messageMetadata);
      if (metadata !== undefined) {
        event.messageMetadata = metadata;
      }
      return event;
    }
    case "text-delta":
      if (typeof value.id !== "string" || typeof value.delta !== "string") {
        throw new ChatStreamError("The chat stream sent a text-delta event without its id or delta.");
      }
      return { type: "text-delta", id: value.id, delta: value.delta };
    case "error":
      if (typeof value.errorText !== "string") {
        throw new ChatStreamError("The chat stream sent an error event without its errorText.");
      }
      return { type: "error", errorText: value.errorText };
    case "finish": {
      const event: ChatStreamEvent = { type: "finish" };
      const metadata = toMetadata(value.messageMetadata);
      if (metadata !== undefined) {
        event.messageMetadata = metadata;
      }
      return event;
    }
    case "abort":
      return { type: "abort" };
    case recallPartType:
      return toRecallEvent(value);
    case workingMemoryPartType:
      return toWorkingMemoryEvent(value);
    case contextPartType:
      return toContextEvent(value);
    case retryPartType:
      return toRetryEvent(value);
    case "tool-input-available":
      if (typeof value.toolCallId !== "string" || typeof value.toolName !== "string") {
        return undefined;
      }
      return { type: "tool-input-available", toolCallId: value.toolCallId, toolName: value.toolName, input: value.input };
    case "tool-output-available":
      if (typeof value.toolCallId !== "string") {
        return undefined;
      }
      return { type: "tool-output-available", toolCallId: value.toolCallId, output: value.output };
    case "tool-output-error":
      if (typeof value.toolCallId !== "string") {
        return undefined;
      }
      return {
        type: "tool-output-error",
        toolCallId: value.toolCallId,
        errorText: typeof value.errorText === "string" ? value.errorText : "",
      };
    default:
      return undefined;
  }
}

// The parts below explain a reply but carry none of its text, so a part
// without the documented shape is dropped instead of failing the stream.

function toWorkingMemoryEvent(value: Record<string, unknown>): ChatStreamEvent | undefined {
  const { data } = value;
  if (
    typeof value.id !== "string" ||
    !isObject(data) ||
    !isCount(data.version) ||
    !isCount(data.previousVersion) ||
    typeof data.previous !== "string" ||
    typeof data.content !== "string"
  ) {
    return undefined;
  }
  const change: WorkingMemoryChange = {
    version: data.version,
    previousVersion: data.previousVersion,
    previous: data.previous,
    content: data.content,
  };
  if (typeof data.threadId === "string" && data.threadId !== "") {
    change.threadId = data.threadId;
  }
  return { type: workingMemoryPartType, id: value.id, data: change };
}

function toContextEvent(value: Record<string, unknown>): ChatStreamEvent | undefined {
  const { data } = value;
  if (typeof value.id !== "string" || !isObject(data)) {
    return undefined;
  }
  const omittedMessages = isCount(data.omittedMessages) ? data.omittedMessages : 0;
  const omittedRecalled = isCount(data.omittedRecalled) ? data.omittedRecalled : 0;
  const trim: ContextTrim = { omittedMessages, omittedRecalled };
  if (isCount(data.contextLength)) {
    trim.contextLength = data.contextLength;
  }
  if (isCount(data.promptTokens)) {
    trim.promptTokens = data.promptTokens;
  }
  return { type: contextPartType, id: value.id, data: trim };
}

function toRetryEvent(value: Record<string, unknown>): ChatStreamEvent | undefined {
  const { data } = value;
  if (typeof value.id !== "string" || !isObject(data)) {
    return undefined;
  }
  const seconds = data.retryInSeconds;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    return undefined;
  }
  return { type: retryPartType, id: value.id, retryInSeconds: seconds };
}

// isCount reports whether value is a whole number of at least 0.
function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

// toRecallEvent reads a data-recall part. Items that do not have the
// documented shape, such as a message of a role the interface does not show,
// are left out, and a part without an id or a data list is dropped. Neither
// fails the stream, because the list only explains the reply and losing it
// loses no reply text.
function toRecallEvent(value: Record<string, unknown>): ChatStreamEvent | undefined {
  if (typeof value.id !== "string" || !Array.isArray(value.data)) {
    return undefined;
  }
  const data: RecalledMessage[] = [];
  for (const item of value.data) {
    const recalled = toRecalledMessage(item);
    if (recalled !== undefined) {
      data.push(recalled);
    }
  }
  return { type: recallPartType, id: value.id, data };
}

function toRecalledMessage(value: unknown): RecalledMessage | undefined {
  if (
    !isObject(value) ||
    typeof value.threadId !== "string" ||
    typeof value.threadTitle !== "string" ||
    typeof value.date !== "string" ||
    typeof value.similarity !== "number" ||
    !Number.isFinite(value.similarity) ||
    typeof value.match !== "boolean"
  ) {
    return undefined;
  }
  const message = toMessage(value.message);
  if (message === undefined) {
    return undefined;
  }
  return {
    threadId: value.threadId,
    threadTitle: value.threadTitle,
    date: value.date,
    similarity: value.similarity,
    match: value.match,
    message,
  };
}

// toMessage reads the fields of a stored message that the interface shows,
// and leaves out the others.
function toMessage(value: unknown): Message | undefined {
  if (
    !isObject(value) ||
    typeof value.id !== "string" ||
    typeof value.threadId !== "string" ||
    (value.role !== "user" && value.role !== "assistant") ||
    typeof value.content !== "string" ||
    typeof value.createdAt !== "string" ||
    !isMessageStatus(value.status)
  ) {
    return undefined;
  }
  const message: Message = {
    id: value.id,
    threadId: value.threadId,
    role: value.role,
    content: value.content,
    createdAt: value.createdAt,
    status: value.status,
  };
  if (typeof value.model === "string") {
    message.model = value.model;
  }
  if (typeof value.error === "string") {
    message.error = value.error;
  }
  if (value.damaged === true) {
    message.damaged = true;
  }
  return message;
}

function isMessageStatus(value: unknown): value is MessageStatus {
  return value === "complete" || value === "incomplete" || value === "error" || value === "interrupted";
}

function toMetadata(value: unknown): StreamMessageMetadata | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const metadata: StreamMessageMetadata = {};
  if (typeof value.threadId === "string") {
    metadata.threadId = value.threadId;
  }
  if (typeof value.userMessageId === "string") {
    metadata.userMessageId = value.userMessageId;
  }
  if (typeof value.assistantMessageId === "string") {
    metadata.assistantMessageId = value.assistantMessageId;
  }
  if (isMessageStatus(value.status)) {
    metadata.status = value.status;
  }
  if (typeof value.errorCode === "string") {
    metadata.errorCode = value.errorCode;
  }
  if (typeof value.missingModel === "string") {
    metadata.missingModel = value.missingModel;
  }
  return metadata;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
