import { useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from "react";

import {
  errorMessage,
  forkThread,
  getThread,
  isLockedError,
  postChat,
  postContinue,
  postRegenerate,
  putMessageEdit,
  type Message,
  type Thread,
} from "../api.ts";
import { isStoredId, mergeReplies, type ChatEntry } from "../chatMessages.ts";
import { isNearBottom } from "../chatScroll.ts";
import type { DraftStore } from "../drafts.ts";
import type { ReplyStore } from "../replyStore.ts";
import { strings } from "../strings.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { Composer } from "./Composer.tsx";
import { MessageView } from "./MessageView.tsx";
import { RetryNotice } from "./RetryNotice.tsx";
import { ThreadModelPicker } from "./ThreadModelPicker.tsx";

interface ChatViewProps {
  threadId: string;
  /** Title from the thread list, which is refreshed after each reply. */
  title: string | null;
  /**
   * True while the profile is locked: the view does not load the thread
   * then, and loads it again once the profile is unlocked.
   */
  locked: boolean;
  /** The replies being streamed, which outlive this view. */
  replies: ReplyStore;
  /** The composer drafts by thread, which outlive this view. */
  drafts: DraftStore;
  /**
   * Number of times the profile's settings were saved. A change reloads the
   * model list of the thread's model menu, because the backend may have changed.
   */
  settingsVersion: number;
  /** Called with the thread each time it has loaded, and after its model changed. */
  onLoaded?: (thread: Thread) => void;
  /** Called with the thread after its model changed, so that the thread list can be refreshed. */
  onThreadChanged: (thread: Thread) => void;
  /** Called with the new thread that Fork from here created, to open it. */
  onForked: (thread: Thread) => void;
}

// Interval, in milliseconds, between two fetches of a thread whose last
// reply is being written without a stream on this page, for example after a
// reload.
const streamingPollIntervalMs = 1_000;

/**
 * Renders one thread: its messages, the reply being streamed, the actions on
 * replies and the composer. A reply keeps streaming when the view goes away
 * (another thread opens, the profile locks), because the reply store reads
 * it; only Stop stops it.
 */
export function ChatView({
  threadId,
  title,
  locked,
  replies,
  drafts,
  settingsVersion,
  onLoaded,
  onThreadChanged,
  onForked,
}: ChatViewProps) {
  const headingId = useId();
  const [thread, setThread] = useState<Thread | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraftState] = useState(() => drafts.get(threadId));
  // The edit that the server rejected, which its message's editor shows again.
  const [rejectedEdit, setRejectedEdit] = useState<RejectedEdit | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const countdown = useRetryCountdown();
  const { startFrom: startCountdown, clear: clearCountdown } = countdown;
  const logRef = useRef<HTMLDivElement>(null);
  // The element that had the focus when the chat opened: the row, button or
  // shortcut that opened it. The composer, which appears once the chat has
  // loaded, takes the focus only if it has not moved since, so that a slow
  // load does not pull it away from where the user went meanwhile.
  const focusAtOpen = useRef<Element | null>(document.activeElement);
  const composerMayTakeFocus = useCallback(() => {
    const active = document.activeElement;
    return active === null || active === document.body || active === focusAtOpen.current;
  }, []);
  // True while the message list follows new text. Scrolling up turns it
  // off, so that a reply being written never moves what the user reads,
  // and the Jump to latest button appears instead.
  const stickToBottom = useRef(true);
  // The scroll position after the last scroll, to tell the user moving up
  // from the text growing below.
  const lastScrollTop = useRef(0);
  // The text and clientRequestId of a message that got no response at all.
  // The same text sent again keeps the id, so that the server stores it
  // once even if the first request reached it.
  const unanswered = useRef<{ text: string; clientRequestId: string } | null>(null);
  const [awayFromBottom, setAwayFromBottom] = useState(false);
  // Number of the latest load, so that an older response never replaces a newer one.
  const loadSequence = useRef(0);

  // setDraft changes the composer's text and the thread's draft in the store.
  const setDraft = useCallback(
    (update: string | ((current: string) => string)) => {
      const next = typeof update === "function" ? update(drafts.get(threadId)) : update;
      drafts.set(threadId, next);
      setDraftState(next);
    },
    [drafts, threadId],
  );

  const live = useSyncExternalStore(replies.subscribe, () => replies.get(threadId));
  const running = live !== undefined && !live.done;

  // load fetches the thread. When the reply in the store had ended before
  // the request was sent, the response shows its outcome, so the reply is
  // settled and the stored messages replace the streamed ones.
  const load = useCallback(async () => {
    const sequence = ++loadSequence.current;
    const liveAtStart = replies.get(threadId);
    try {
      const result = await getThread(threadId);
      if (sequence !== loadSequence.current) {
        return;
      }
      setThread(result.thread);
      setMessages(result.messages);
      setLoadError(null);
      onLoaded?.(result.thread);
      if (liveAtStart?.done) {
        replies.settle(threadId, liveAtStart.id);
      }
    } catch (err) {
      // A locked profile shows the unlock prompt, and unlocking loads the
      // thread again, so the error is not shown here.
      if (sequence === loadSequence.current && !isLockedError(err)) {
        setLoadError(strings.chat.loadFailed(errorMessage(err)));
      }
    }
  }, [replies, threadId, onLoaded]);

  // Load the thread, and load it again after the profile is unlocked: while it
  // was locked, the messages on screen may have fallen behind the server.
  useEffect(() => {
    if (!locked) {
      void load();
    }
    return () => {
      loadSequence.current++;
    };
  }, [load, locked]);

  // Load the thread again when its reply ends, to show what the server stored.
  const endedReplyId = live !== undefined && live.done && !live.settled && live.rejection === undefined ? live.id : null;
  useEffect(() => {
    if (endedReplyId !== null && !locked) {
      void load();
    }
  }, [endedReplyId, load, locked]);

  // A request that the server rejected before any reply started shows apart
  // from the messages. A new message goes back into the composer, and an
  // edited message back into its editor.
  useEffect(() => {
    const rejection = live?.rejection;
    if (live === undefined || rejection === undefined) {
      return;
    }
    const text = live.userMessage?.content;
    if (live.kind === "send" && text !== undefined) {
      setDraft((current) => (current === "" ? text : current));
      const clientRequestId = live.userMessage?.clientRequestId;
      if (rejection.code === "network_error" && clientRequestId !== undefined) {
        unanswered.current = { text, clientRequestId };
      }
    }
    if (live.kind === "edit" && text !== undefined && live.targetMessageId !== undefined) {
      setRejectedEdit({ messageId: live.targetMessageId, text });
    }
    if (!startCountdown(rejection) && !isLockedError(rejection)) {
      setActionError(strings.chat.actionFailed(rejection.message));
    }
    replies.dismiss(threadId, live.id);
  }, [live, startCountdown, replies, threadId, setDraft]);

  // Poll a thread whose last reply is being written by a request that this
  // page does not read, until it is done.
  const lastStoredStreaming = messages.at(-1)?.streaming === true;
  useEffect(() => {
    if (locked || running || !lastStoredStreaming) {
      return;
    }
    const timer = setTimeout(() => void load(), streamingPollIntervalMs);
    return () => clearTimeout(timer);
  }, [messages, lastStoredStreaming, running, locked, load]);

  const entries = mergeReplies(messages, live);

  useEffect(() => {
    const log = logRef.current;
    if (log !== null && stickToBottom.current) {
      log.scrollTop = log.scrollHeight;
      lastScrollTop.current = log.scrollTop;
    }
  });

  // The log is rendered once the thread has loaded.
  const logShown = thread !== null;
  // Markdown renders a reply's newest text after React's commit, so the
  // log grows after the effect above ran. The observer follows that growth
  // while the view sticks to the bottom.
  useEffect(() => {
    const log = logRef.current;
    if (log === null) {
      return;
    }
    const observer = new MutationObserver(() => {
      if (stickToBottom.current) {
        log.scrollTop = log.scrollHeight;
        lastScrollTop.current = log.scrollTop;
      }
    });
    observer.observe(log, { childList: true, subtree: true, characterData: true });
    return () => observer.disconnect();
  }, [logShown]);

  // startReply clears the notices of the previous attempt before a new request.
  const startReply = useCallback(
    (request: Parameters<ReplyStore["start"]>[0]) => {
      setActionError(null);
      clearCountdown();
      stickToBottom.current = true;
      setAwayFromBottom(false);
      replies.start(request);
    },
    [clearCountdown, replies],
  );

  const send = useCallback(
    (text: string) => {
      const retry = unanswered.current;
      unanswered.current = null;
      const clientRequestId = retry !== null && retry.text === text ? retry.clientRequestId : localId();
      startReply({
        threadId,
        kind: "send",
        text,
        clientRequestId,
        send: (signal) => postChat({ message: text, threadId, clientRequestId }, signal),
      });
    },
    [startReply, threadId],
  );

  // regenerate writes the thread's last message again: a reply anew, or for
  // a user message left without a reply, the reply it never got.
  const regenerate = useCallback(
    (messageId: string) => {
      startReply({
        threadId,
        kind: "regenerate",
        targetMessageId: messageId,
        send: (signal) => postRegenerate(threadId, messageId, signal),
      });
    },
    [startReply, threadId],
  );

  const continueReply = useCallback(
    (message: Message) => {
      startReply({
        threadId,
        kind: "continue",
        targetMessageId: message.id,
        replyContent: message.content,
        send: (signal) => postContinue(threadId, message.id, signal),
      });
    },
    [startReply, threadId],
  );

  const edit = useCallback(
    (message: Message, text: string) => {
      startReply({
        threadId,
        kind: "edit",
        targetMessageId: message.id,
        text,
        send: (signal) => putMessageEdit(threadId, message.id, text, signal),
      });
    },
    [startReply, threadId],
  );

  // fork copies the thread up to message into a new thread and has the
  // workspace open it. A failure shows with the errors of the other actions.
  const fork = useCallback(
    async (message: Message) => {
      setActionError(null);
      try {
        onForked(await forkThread(threadId, message.id));
      } catch (err) {
        if (!isLockedError(err)) {
          setActionError(strings.messageActions.forkFailed(errorMessage(err)));
        }
      }
    },
    [onForked, threadId],
  );

  const lastEntry = entries.at(-1);

  // retry requests again a reply that failed because its model was missing,
  // by regenerating the stored message it belongs to: the failed reply, or
  // the user message when no reply was stored. Only when the server stored
  // neither is the message sent again.
  const retry = useCallback(
    (entry: ChatEntry) => {
      const { message, reply } = entry;
      const targetId = isStoredId(message.id) ? message.id : (reply?.replyMessageId ?? reply?.userMessageId);
      if (targetId !== undefined) {
        regenerate(targetId);
        return;
      }
      const text = reply?.userMessage?.content;
      if (text !== undefined) {
        send(text);
      }
    },
    [regenerate, send],
  );

  // handleScroll stops following the reply only when the user moved up:
  // a scroll event that arrives after the text grew below the view is not
  // the user leaving the bottom.
  function handleScroll() {
    const log = logRef.current;
    if (log === null) {
      return;
    }
    if (isNearBottom(log)) {
      stickToBottom.current = true;
    } else if (log.scrollTop < lastScrollTop.current) {
      stickToBottom.current = false;
    } else if (stickToBottom.current) {
      log.scrollTop = log.scrollHeight;
    }
    lastScrollTop.current = log.scrollTop;
    setAwayFromBottom(!stickToBottom.current);
  }

  // jumpToLatest scrolls to the newest text and follows it again. The focus
  // goes to the message list, because the button disappears.
  function jumpToLatest() {
    const log = logRef.current;
    if (log === null) {
      return;
    }
    stickToBottom.current = true;
    setAwayFromBottom(false);
    log.scrollTop = log.scrollHeight;
    log.focus({ preventScroll: true });
  }

  function handleThreadChanged(changed: Thread) {
    setThread(changed);
    onLoaded?.(changed);
    onThreadChanged(changed);
  }

  const hiddenCount = thread === null ? 0 : thread.messageCount - messages.length;

  return (
    <section className="chat" aria-labelledby={headingId}>
      <header className="chat-header">
        <h1 id={headingId} className="chat-title">
          {title ?? thread?.title ?? ""}
        </h1>
        {thread !== null && (
          <ThreadModelPicker
            key={settingsVersion}
            threadId={threadId} model={thread.model ?? ""} onChanged={handleThreadChanged} />
        )}
      </header>

      {loadError !== null && (
        <div className="stack">
          <p role="alert" className="alert">
            {loadError}
          </p>
          <div className="actions">
            <button type="button" onClick={() => void load()}>
              {strings.chat.loadRetry}
            </button>
          </div>
        </div>
      )}
      {thread === null && loadError === null && <p className="muted">{strings.loading.thread}</p>}

      {thread !== null && (
        <>
          <div className="message-log-frame">
            <div
              ref={logRef}
              className="message-log"
              role="log"
              aria-live="polite"
              aria-label={strings.chat.messagesLabel}
              aria-busy={running}
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
                  entry={entry}
                  last={entry === lastEntry}
                  busy={running || locked}
                  onContinue={continueReply}
                  onRegenerate={(message) => regenerate(message.id)}
                  rejectedEditText={rejectedEdit?.messageId === entry.message.id ? rejectedEdit.text : undefined}
                  onEdit={edit}
                  onEditClosed={() => setRejectedEdit(null)}
                  onRetry={retry}
                  onFork={fork}
                />
              ))}
            </div>
            {awayFromBottom && (
              <button type="button" className="jump-to-latest" onClick={jumpToLatest}>
                {strings.chat.jumpToLatest}
              </button>
            )}
          </div>

          <div className="chat-controls">
            {running && (
              // aria-disabled rather than disabled while stopping, so that the
              // button keeps the focus until it goes and the composer takes
              // it. A second stop request does nothing.
              <button
                type="button"
                className="stop"
                onClick={() => void replies.stop(threadId)}
                aria-disabled={live.stopping}
              >
                {live.stopping ? strings.chat.stopping : strings.chat.stop}
              </button>
            )}
            <RetryNotice countdown={countdown} />
            {actionError !== null && (
              <p role="alert" className="alert">
                {actionError}
              </p>
            )}
            {/* Disabled while locked, so that the composer takes the focus back after unlocking. */}
            <Composer
              text={draft}
              onTextChange={setDraft}
              disabled={locked}
              busy={running}
              onStop={() => void replies.stop(threadId)}
              canSend={countdown.secondsLeft === 0}
              onSend={send}
              takeFocus={composerMayTakeFocus}
            />
          </div>
        </>
      )}
    </section>
  );
}

// RejectedEdit is an edit of a user message that the server rejected before
// any reply started, with the text the user had typed.
interface RejectedEdit {
  messageId: string;
  text: string;
}

// localId returns a random id for the clientRequestId of a chat request.
// crypto.randomUUID is not used because it needs a secure context, which
// the desktop window's custom scheme may not count as.
function localId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `client-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
