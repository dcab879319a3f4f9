import { lazy, Suspense, useState } from "react";

import type { Message, MessageVersion } from "../api.ts";
import {
  contextTrimOf,
  isResumable,
  isStoredId,
  missingModelOf,
  storedToolActivities,
  type ChatEntry,
} from "../chatMessages.ts";
import { loadMarkdown } from "../chunks.ts";
import { strings } from "../strings.ts";
import { useCopyText } from "../useCopyText.ts";
import { BackendRetryNotice } from "./BackendRetryNotice.tsx";
import { ErrorBoundary } from "./ErrorBoundary.tsx";
import { MessageEditor } from "./MessageEditor.tsx";
import { MissingModelDownload } from "./MissingModelDownload.tsx";
import { ReplyStatus } from "./ReplyStatus.tsx";
import { ToolActivityList } from "./ToolActivityList.tsx";
import { UsedMemories } from "./UsedMemories.tsx";
import { VersionSwitcher } from "./VersionSwitcher.tsx";

// react-markdown, remark-gfm and lowlight's languages were most of the page's
// code, which the first screen does not need.
const Markdown = lazy(async () => ({ default: (await loadMarkdown()).Markdown }));

interface MessageViewProps {
  entry: ChatEntry;
  /**
   * True for the thread's last message. A reply there always offers
   * Regenerate, and Continue when it is not complete, and a user message
   * there that got no reply offers Regenerate too, which writes the reply it
   * never got. The server rewrites only the last message of a thread.
   */
  last: boolean;
  /** True while a reply of the thread is being written: the actions wait until it ends. */
  busy: boolean;
  onContinue: (message: Message) => void;
  /** Writes the reply to the thread's last message again, or the reply that a user message there never got. */
  onRegenerate: (message: Message) => void;
  /**
   * The text of an edit of this message that the server rejected, or
   * undefined. While it is set, the editor is open with that text.
   */
  rejectedEditText?: string | undefined;
  /** Sends the changed text of a user message, whose reply the server writes in a new thread. */
  onEdit: (message: Message, text: string) => void;
  /** Called when the editor closes by Save or Cancel, so that a rejected edit is not shown again. */
  onEditClosed: () => void;
  /** Asks again for a reply that failed because its model was missing, once the model is downloaded. */
  onRetry: (entry: ChatEntry) => void;
  /**
   * Copies the thread up to and including this stored message into a new
   * thread and opens it. It settles when the request is done, and shows its
   * own errors.
   */
  onFork: (message: Message) => Promise<void>;
}

/**
 * Renders one message with the parts that belong under it. A reply is
 * rendered as Markdown (see Markdown.tsx for what it renders and what it
 * never does with HTML, links and images), and shows its state, the notes
 * its stream sent, Continue and Regenerate, and the versions that
 * Regenerate replaced. A user message shows its editor. Every stored message
 * offers Copy and Fork from here.
 */
export function MessageView({
  entry,
  last,
  busy,
  onContinue,
  onRegenerate,
  rejectedEditText,
  onEdit,
  onEditClosed,
  onRetry,
  onFork,
}: MessageViewProps) {
  const { message, streaming, reply } = entry;
  const [editing, setEditing] = useState(false);
  const [forking, setForking] = useState(false);
  const [copyState, copy] = useCopyText();
  // Position of the version shown among the earlier ones and the current
  // one, or null for the current one, which Continue and Regenerate go back to.
  const [versionPosition, setVersionPosition] = useState<number | null>(null);

  const author = message.role === "user" ? strings.message.you : strings.message.assistant;
  const versions = message.versions ?? [];
  const versionCount = versions.length + 1;
  const earlierVersion: MessageVersion | undefined =
    versionPosition !== null && versionPosition < versionCount ? versions[versionPosition - 1] : undefined;
  const shown = earlierVersion ?? message;
  const stored = isStoredId(message.id);

  const missingModel = streaming ? null : missingModelOf(message, reply);
  const trim = message.role === "assistant" ? contextTrimOf(message, reply) : null;
  const tools = reply !== undefined && reply.tools.length > 0 ? reply.tools : storedToolActivities(message);

  // Copy takes the text shown, an earlier version included. Fork copies the
  // messages as stored, so it is left out while an earlier version is shown,
  // and for a damaged message, which the server cannot copy.
  const canCopy = !streaming && shown.content !== "";
  const canFork = stored && !streaming && !message.damaged && earlierVersion === undefined;

  async function fork() {
    setForking(true);
    try {
      await onFork(message);
    } finally {
      setForking(false);
    }
  }

  const copyAndFork = (
    <>
      {canCopy && (
        <button
          type="button"
          className="link"
          data-state={copyState}
          // While idle, the name says what is copied. Afterwards it is the
          // visible result, which the message log announces.
          aria-label={copyState === "idle" ? strings.messageActions.copyLabel : undefined}
          onClick={() => copy(shown.content)}
        >
          {copyState === "copied"
            ? strings.messageActions.copied
            : copyState === "failed"
              ? strings.messageActions.copyFailed
              : strings.messageActions.copy}
        </button>
      )}
      {canFork && (
        <button
          type="button"
          className="link"
          title={strings.messageActions.forkHint}
          onClick={() => void fork()}
          disabled={busy || forking}
        >
          {forking ? strings.messageActions.forking : strings.messageActions.fork}
        </button>
      )}
    </>
  );

  if (editing || rejectedEditText !== undefined) {
    return (
      <article className={`message message-${message.role}`} data-status={message.status}>
        <p className="message-author">{author}</p>
        <MessageEditor
          initialText={rejectedEditText ?? message.content}
          busy={busy}
          onCancel={() => {
            setEditing(false);
            onEditClosed();
          }}
          onSave={(text) => {
            setEditing(false);
            onEditClosed();
            onEdit(message, text);
          }}
        />
      </article>
    );
  }

  return (
    <article className={`message message-${message.role}`} data-status={message.status}>
      <p className="message-author">{author}</p>
      {message.damaged && <p className="alert">{strings.message.damaged}</p>}
      {earlierVersion !== undefined && <p className="hint">{strings.message.earlierVersion}</p>}
      {/* A user message stays plain text with its line breaks, because people
          type text that looks like Markdown (an asterisk, a # at the start of
          a line) and expect to see it as they wrote it. React inserts it as a
          text node, so HTML in it is shown as written. */}
      {shown.content !== "" && message.role === "assistant" && (
        <div className="message-content">
          {/* Until the renderer has loaded, the reply shows as plain text
              with its line breaks, so that the message takes about the room
              it will take and the list does not jump. It stays so if the
              renderer's chunk fails to load. */}
          <ErrorBoundary fallback={() => <div className="markdown-pending">{shown.content}</div>}>
            <Suspense fallback={<div className="markdown-pending">{shown.content}</div>}>
              <Markdown text={shown.content} />
            </Suspense>
          </ErrorBoundary>
        </div>
      )}
      {shown.content !== "" && message.role === "user" && <div className="message-content">{shown.content}</div>}

      {streaming && (
        <p className="message-status">{entry.live ? strings.message.writing : strings.message.writingElsewhere}</p>
      )}
      {streaming && reply?.retryAt !== undefined && <BackendRetryNotice retryAt={reply.retryAt} />}
      {tools.length > 0 && earlierVersion === undefined && <ToolActivityList tools={tools} />}

      {!streaming && message.role === "assistant" && (
        <ReplyStatus status={shown.status} error={shown.error} announce={entry.live && earlierVersion === undefined} />
      )}
      {!streaming && entry.failure !== undefined && (
        <p className="alert" role={entry.live ? "alert" : undefined}>
          {entry.failure}
        </p>
      )}
      {message.role === "user" && message.error && (
        <p className="alert" role={entry.live ? "alert" : undefined}>
          {message.error}
        </p>
      )}
      {missingModel !== null && earlierVersion === undefined && (
        <MissingModelDownload model={missingModel} busy={busy} onRetry={() => onRetry(entry)} />
      )}

      {trim !== null && earlierVersion === undefined && (
        <p className="muted context-note">{strings.message.contextTrimmed(trim.omittedMessages, trim.omittedRecalled)}</p>
      )}
      {message.role === "assistant" && reply?.recalled !== undefined && earlierVersion === undefined && (
        <UsedMemories recalled={reply.recalled} />
      )}

      {!streaming && stored && message.role === "assistant" && (
        <div className="actions message-actions" role="group" aria-label={strings.message.actionsLabel}>
          {versions.length > 0 && (
            <VersionSwitcher
              position={versionPosition ?? versionCount}
              count={versionCount}
              onChange={(position) => setVersionPosition(position === versionCount ? null : position)}
            />
          )}
          {last && isResumable(message.status) && message.content !== "" && (
            <button
              type="button"
              onClick={() => {
                setVersionPosition(null);
                onContinue(message);
              }}
              disabled={busy}
            >
              {strings.message.continue}
            </button>
          )}
          {last && (
            <button
              type="button"
              onClick={() => {
                setVersionPosition(null);
                onRegenerate(message);
              }}
              disabled={busy}
            >
              {strings.message.regenerate}
            </button>
          )}
          {copyAndFork}
        </div>
      )}
      {stored && message.role === "user" && !message.damaged && (
        <div className="actions message-actions">
          {last && message.error && missingModel === null && (
            <button type="button" onClick={() => onRegenerate(message)} disabled={busy}>
              {strings.message.regenerate}
            </button>
          )}
          <button type="button" className="link" onClick={() => setEditing(true)} disabled={busy}>
            {strings.message.edit}
          </button>
          {copyAndFork}
        </div>
      )}
    </article>
  );
}
