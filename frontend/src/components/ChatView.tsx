import { useCallback, useEffect, useId, useRef, useState } from "react";

import {
  errorMessage,
  getThread,
  isLockedError,
  stopChat,
  type Message,
  type RecalledMessage,
  type Thread,
} from "../api.ts";
import { ChatStreamError, recallPartType, streamChat, type ChatStreamEvent } from "../chatStream.ts";
import { strings } from "../strings.ts";
import { Composer } from "./Composer.tsx";
import { MessageView } from "./MessageView.tsx";

interface ChatViewProps {
  threadId: string;
  /** Title from the thread list, which is refreshed after each reply. */
  title: string | null;
  /**
   * True while the profile is locked: the view does not load the thread
   * then, and loads it again once the profile is unlocked.
   */
  locked: boolean;
  /** Called when a reply ends in any way, so that the thread list can be refreshed. */
  onReplyEnded: () => void;
}

// Entry is a message as this view shows it. Live entries were sent or
// received while the view was open, so a failure among them is announced.
// A live reply also carries the earlier messages recalled for it.
interface Entry {
  message: Message;
  live: boolean;
  recalled?: RecalledMessage[];
}

// Distance from the bottom, in CSS pixels, within which new text keeps the
// message list scrolled to the bottom.
const stickToBottomThreshold = 48;

/**
 * Renders one thread: its messages, the reply being streamed and the
 * composer. Leaving the view (opening another thread, signing out) stops a
 * running reply. Locking the profile keeps the view and its draft.
 */
export function ChatView({ threadId, title, locked, onReplyEnded }: ChatViewProps) {
  const headingId = useId();
  const [thread, setThread] = useState<Thread | null>(null);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [streamingId, setStreamingId] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const abortRef = useRef<AbortController | null>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  // Load the thread, and load it again after the profile is unlocked: while it
  // was locked, the messages on screen may have fallen behind the server.
  useEffect(() => {
    if (locked) {
      return;
    }
    let cancelled = false;
    getThread(threadId).then(
      (result) => {
        if (!cancelled) {
          setThread(result.thread);
          setEntries(result.messages.map((message) => ({ message, live: false })));
          setLoadError(null);
        }
      },
      (err: unknown) => {
        // A locked profile shows the unlock prompt, and unlocking loads the
        // thread again, so the error is not shown here.
        if (!cancelled && !isLockedError(err)) {
          setLoadError(strings.chat.loadFailed(errorMessage(err)));
        }
      },
    );
    return () => {
      cancelled = true;
    };
  }, [threadId, locked]);

  // Stop a running reply when the view goes away.
  useEffect(() => {
    return () => {
      if (abortRef.current !== null) {
        requestStop(abortRef.current, threadId);
      }
    };
  }, [threadId]);

  useEffect(() => {
    const log = logRef.current;
    if (log !== null && stickToBottom.current) {
      log.scrollTop = log.scrollHeight;
    }
  }, [entries]);

  const send = useCallback(
    async (text: string) => {
      const controller = new AbortController();
      abortRef.current = controller;

      // Show the user's message at once, with an empty reply below it that
      // the stream fills in. Both use local ids; the server's copies are
      // fetched the next time the thread is opened.
      const sentAt = new Date().toISOString();
      const userMessageId = localId();
      const replyId = localId();
      setEntries((previous) => [
        ...previous,
        {
          message: { id: userMessageId, threadId, role: "user", content: text, createdAt: sentAt, status: "complete" },
          live: true,
        },
        {
          message: { id: replyId, threadId, role: "assistant", content: "", createdAt: sentAt, status: "incomplete" },
          live: true,
        },
      ]);
      setStreamingId(replyId);
      stickToBottom.current = true;

      const updateReply = (change: (reply: Message) => Message) => {
        setEntries((previous) =>
          previous.map((entry) =>
            entry.message.id === replyId ? { ...entry, message: change(entry.message) } : entry,
          ),
        );
      };

      let ended = false;
      const handleEvent = (event: ChatStreamEvent) => {
        switch (event.type) {
          case recallPartType:
            // A second list for the same reply replaces the first.
            setEntries((previous) =>
              previous.map((entry) => (entry.message.id === replyId ? { ...entry, recalled: event.data } : entry)),
            );
            break;
          case "text-delta":
            updateReply((reply) => ({ ...reply, content: reply.content + event.delta }));
            break;
          case "error":
            updateReply((reply) => ({ ...reply, status: "error", error: event.errorText }));
            break;
          case "finish":
            ended = true;
            updateReply((reply) =>
              reply.status === "error" ? reply : { ...reply, status: event.messageMetadata?.status ?? "complete" },
            );
            break;
          case "abort":
            ended = true;
            updateReply((reply) => ({ ...reply, status: "incomplete" }));
            break;
          case "start":
            break;
        }
      };

      let rejectedAsLocked = false;
      try {
        await streamChat({ message: text, threadId, clientRequestId: localId() }, handleEvent, controller.signal);
        if (!ended) {
          updateReply((reply) =>
            reply.status === "error" ? reply : { ...reply, status: "error", error: strings.chat.connectionClosed },
          );
        }
      } catch (err) {
        if (controller.signal.aborted) {
          updateReply((reply) => ({ ...reply, status: "incomplete" }));
        } else if (isLockedError(err)) {
          // The server stored nothing, so the message goes back into the
          // composer to be sent again once the unlock prompt is answered.
          rejectedAsLocked = true;
          setEntries((previous) =>
            previous.filter((entry) => entry.message.id !== userMessageId && entry.message.id !== replyId),
          );
          setDraft((current) => (current === "" ? text : current));
        } else {
          updateReply((reply) => ({ ...reply, status: "error", error: describeSendError(err) }));
        }
      } finally {
        if (abortRef.current === controller) {
          abortRef.current = null;
        }
        setStreamingId(null);
        if (!rejectedAsLocked) {
          onReplyEnded();
        }
      }
    },
    [threadId, onReplyEnded],
  );

  function handleStop() {
    if (abortRef.current !== null) {
      requestStop(abortRef.current, threadId);
    }
  }

  function handleScroll() {
    const log = logRef.current;
    if (log !== null) {
      stickToBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight < stickToBottomThreshold;
    }
  }

  const streaming = streamingId !== null;
  const hiddenCount = thread === null ? 0 : thread.messageCount - entries.filter((entry) => !entry.live).length;

  return (
    <section className="chat" aria-labelledby={headingId}>
      <h1 id={headingId} className="chat-title">
        {title ?? thread?.title ?? ""}
      </h1>

      {loadError !== null && (
        <p role="alert" className="alert">
          {loadError}
        </p>
      )}
      {thread === null && loadError === null && <p className="muted">{strings.loading.thread}</p>}

      {thread !== null && (
        <>
          <div
            ref={logRef}
            className="message-log"
            role="log"
            aria-live="polite"
            aria-label={strings.chat.messagesLabel}
            aria-busy={streaming}
            tabIndex={0}
            onScroll={handleScroll}
          >
            {hiddenCount > 0 && (
              <p className="muted older-hidden">
                {strings.chat.olderMessagesHidden(thread.messageCount - hiddenCount, thread.messageCount)}
              </p>
            )}
            {entries.length === 0 && <p className="muted">{strings.chat.noMessages}</p>}
            {entries.map((entry) => (
              <MessageView
                key={entry.message.id}
                message={entry.message}
                streaming={entry.message.id === streamingId}
                announceFailure={entry.live}
                recalled={entry.recalled}
              />
            ))}
          </div>

          <div className="chat-controls">
            {streaming && (
              <button type="button" className="stop" onClick={handleStop}>
                {strings.chat.stop}
              </button>
            )}
            {/* Disabled while locked, so that the composer takes the focus back after unlocking. */}
            <Composer
              text={draft}
              onTextChange={setDraft}
              disabled={streaming || locked}
              onSend={(text) => void send(text)}
            />
          </div>
        </>
      )}
    </section>
  );
}

// requestStop aborts the fetch and also sends POST /api/chat/{threadId}/stop,
// because the desktop window's backend notices an aborted fetch only when its
// next write fails. A failed stop request is ignored, because the aborted
// fetch has already ended the reply on this side.
function requestStop(controller: AbortController, threadId: string) {
  controller.abort();
  stopChat(threadId).catch(() => undefined);
}

// describeSendError returns the sentence shown under a reply that failed
// outside the stream's own error events.
function describeSendError(err: unknown): string {
  if (err instanceof ChatStreamError) {
    // The details are for developers, and the console keeps them.
    console.error(err);
    return strings.chat.unreadableReply;
  }
  return errorMessage(err);
}

// localId returns a random id for a message shown before the server stores
// it, and for the clientRequestId of a chat request. crypto.randomUUID is not
// used because it needs a secure context, which the desktop window's custom
// scheme may not count as.
function localId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `local-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
