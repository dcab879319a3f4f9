// The entries of the chat view: the stored messages of a thread with the
// reply being streamed merged in, and the notes under a reply that come
// either from its stream or from the stored message.

import type { Message, MessagePart, MessageStatus } from "./api.ts";
import type { ContextTrim } from "./chatStream.ts";
import type { LiveReply, ToolActivity } from "./replyStore.ts";

/** A message as the chat view shows it. */
export interface ChatEntry {
  message: Message;
  /**
   * True for the messages of a reply streamed while this page was open: a
   * failure among them is announced to screen readers.
   */
  live: boolean;
  /** True while the text of the reply still arrives. */
  streaming: boolean;
  /** The stream that is writing or wrote this reply, for the notes it sent. */
  reply?: LiveReply;
  /** A failure of the stream that the stored message does not show, such as a Regenerate that stored nothing. */
  failure?: string;
}

/** Tool name of the model's tool that rewrites the working memory. The Go twin is in app/tools.go. */
export const updateWorkingMemoryTool = "updateWorkingMemory";

/**
 * Returns the entries to show for a thread's stored messages and the reply of
 * the thread in the store, if any. Until the view has loaded the thread
 * after the reply ended (live.settled), the streamed copy replaces the
 * stored one. After that the stored copy is shown, and the streamed
 * messages only where the server stored none.
 */
export function mergeReplies(stored: readonly Message[], live: LiveReply | undefined): ChatEntry[] {
  const entries: ChatEntry[] = stored.map((message) => ({ message, live: false, streaming: message.streaming === true }));
  if (live === undefined || live.awaitingThread || live.rejection !== undefined) {
    return entries;
  }
  const targetIndex = entries.findIndex((entry) => entry.message.id === live.targetMessageId);
  const rewritesReply = live.kind === "continue" || (live.kind === "regenerate" && entries[targetIndex]?.message.role !== "user");
  if (rewritesReply) {
    mergeRewrite(entries, targetIndex, live);
    return entries;
  }

  // A new message, an edit, or Regenerate of a user message left without a
  // reply, which writes the reply the message never got.
  const userIndex = live.kind === "regenerate" ? targetIndex : findUserMessage(entries, live);
  const target = entries[userIndex];
  if (live.kind === "regenerate" && target === undefined) {
    return entries;
  }
  if (target !== undefined) {
    // The stored user message belongs to this stream, so a failure stored on
    // it is announced. For Regenerate, the reason no reply was written is
    // hidden while one is written.
    const { error: _error, ...withoutError } = target.message;
    const rewritten = live.kind === "regenerate" && !live.settled;
    entries[userIndex] = { ...target, live: true, message: rewritten ? withoutError : target.message };
  }
  const replyIndex = live.replyMessageId === undefined ? -1 : entries.findIndex((entry) => entry.message.id === live.replyMessageId);
  if (replyIndex !== -1) {
    const storedEntry = entries[replyIndex];
    if (storedEntry !== undefined) {
      entries[replyIndex] = live.settled
        ? { ...storedEntry, live: true, reply: live }
        : streamedEntry({ ...live.reply, id: storedEntry.message.id }, live);
    }
  }

  if (userIndex === -1 && live.userMessage !== undefined) {
    entries.push({ message: live.userMessage, live: true, streaming: false });
  }
  if (replyIndex === -1 && showsUnstoredReply(live, userIndex === -1 ? undefined : entries[userIndex]?.message)) {
    entries.push(streamedEntry(live.reply, live));
  }
  return entries;
}

/**
 * Returns the model that a failed message names as not installed, or null.
 * The stream names it in the finish event. A stored message keeps only the
 * sentence, so the model is read from the `ollama pull MODEL` command in it.
 */
export function missingModelOf(message: Message, live?: LiveReply): string | null {
  if (live !== undefined && live.missingModel !== undefined && live.missingModel !== "") {
    return live.missingModel;
  }
  const error = message.error ?? "";
  // NOTE: this depends on the wording of the backend's model_not_found
  // message in app/ollama.go, because stored messages keep no error code.
  const match = /ollama pull ([^\s`'"]+)/.exec(error);
  if (match?.[1] === undefined) {
    return null;
  }
  return match[1].replace(/[.,;:]+$/, "");
}

/** Returns the tool calls of a stored reply, in order, each with the outcome of its result. */
export function storedToolActivities(message: Message): ToolActivity[] {
  const parts = message.parts ?? [];
  const results = new Map<string, MessagePart>();
  for (const part of parts) {
    if (part.type === "tool-result" && part.toolCallId !== undefined) {
      results.set(part.toolCallId, part);
    }
  }

  const activities: ToolActivity[] = [];
  for (const part of parts) {
    if (part.type !== "tool-call" || part.toolCallId === undefined) {
      continue;
    }
    const result = results.get(part.toolCallId);
    const activity: ToolActivity = {
      toolCallId: part.toolCallId,
      toolName: part.toolName ?? "",
      state: result === undefined ? (message.streaming ? "running" : "failed") : result.isError ? "failed" : "done",
    };
    const errorText = result?.isError ? toolErrorText(result.output) : null;
    if (errorText !== null) {
      activity.errorText = errorText;
    }
    activities.push(activity);
  }
  return activities;
}

/**
 * Returns how the prompt of a reply was cut to fit the model's context: from
 * the stream when it sent a data-context part, otherwise from the stored
 * message. It returns null when nothing was left out.
 */
export function contextTrimOf(message: Message, live?: LiveReply): ContextTrim | null {
  const trim = live?.context ?? {
    omittedMessages: message.omittedMessages ?? 0,
    omittedRecalled: message.omittedRecalled ?? 0,
  };
  return trim.omittedMessages > 0 || trim.omittedRecalled > 0 ? trim : null;
}

/** Reports whether a reply with this status can be continued: it was stopped, interrupted or failed. */
export function isResumable(status: MessageStatus): boolean {
  return status === "incomplete" || status === "interrupted" || status === "error";
}

/** Reports whether a message id was given by the server, not by this page for a message being sent. */
export function isStoredId(id: string): boolean {
  return !id.startsWith("live-");
}

// mergeRewrite shows the stream of a Regenerate or Continue in place of the
// stored reply it rewrites, entries[index].
function mergeRewrite(entries: ChatEntry[], index: number, live: LiveReply) {
  const storedEntry = entries[index];
  if (storedEntry === undefined) {
    return;
  }
  const storedMessage = storedEntry.message;

  if (live.settled) {
    const entry: ChatEntry = { ...storedEntry, live: true, reply: live };
    const error = live.reply.status === "error" ? live.reply.error : undefined;
    if (error !== undefined && error !== storedMessage.error) {
      entry.failure = error;
    }
    entries[index] = entry;
    return;
  }

  const message: Message = { ...live.reply, id: storedMessage.id };
  const versions = [...(storedMessage.versions ?? [])];
  if (live.kind === "regenerate") {
    versions.push({
      content: storedMessage.content,
      status: storedMessage.status,
      createdAt: storedMessage.createdAt,
      ...(storedMessage.model === undefined ? {} : { model: storedMessage.model }),
    });
  }
  if (versions.length > 0) {
    message.versions = versions;
  }
  entries[index] = streamedEntry(message, live);
}

// findUserMessage returns the index of the stored copy of the stream's user
// message, or -1. The start event names the stored id. Before it arrives,
// the clientRequestId of a new message finds it. An edit sends none, so its
// copy is the last user message of the new thread with the same text.
function findUserMessage(entries: ChatEntry[], live: LiveReply): number {
  const sent = live.userMessage;
  if (sent === undefined) {
    return -1;
  }
  const byId = entries.findIndex(
    (entry) =>
      entry.message.role === "user" &&
      (entry.message.id === live.userMessageId ||
        (sent.clientRequestId !== undefined && entry.message.clientRequestId === sent.clientRequestId)),
  );
  if (byId !== -1 || live.kind !== "edit" || live.userMessageId !== undefined) {
    return byId;
  }
  for (let index = entries.length - 1; index >= 0; index--) {
    const message = entries[index]?.message;
    if (message?.role === "user") {
      return message.content === sent.content ? index : -1;
    }
  }
  return -1;
}

// showsUnstoredReply reports whether the streamed reply is shown although
// the server has not stored it. While it streams it always is. Once
// settled, only a reply with text or with a failure that the stored user
// message does not show is, such as a connection that broke.
function showsUnstoredReply(live: LiveReply, storedUser: Message | undefined): boolean {
  if (!live.settled) {
    return true;
  }
  if (live.reply.content !== "") {
    return true;
  }
  return live.reply.status === "error" && (storedUser?.error ?? "") === "";
}

function streamedEntry(message: Message, live: LiveReply): ChatEntry {
  return { message, live: true, streaming: !live.done, reply: live };
}

// toolErrorText reads the reason from a failed tool result such as
// {"error": "..."}, or returns null.
function toolErrorText(output: unknown): string | null {
  if (typeof output === "object" && output !== null && "error" in output && typeof output.error === "string") {
    return output.error;
  }
  return null;
}
