import type { Message, RecalledMessage } from "../api.ts";
import { strings } from "../strings.ts";
import { UsedMemories } from "./UsedMemories.tsx";

interface MessageViewProps {
  message: Message;
  /** True while the reply is still arriving. */
  streaming: boolean;
  /**
   * Announces a failure with role="alert". Set for replies that fail while
   * the chat is open, not for failed replies loaded with the thread.
   */
  announceFailure: boolean;
  /**
   * The earlier messages recalled for this reply, from the chat stream.
   * NOTE: stored messages do not keep this list, so only replies streamed
   * since the chat was opened show it.
   */
  recalled?: readonly RecalledMessage[] | undefined;
}

/**
 * Renders one message as plain text. React inserts the content as a text
 * node, so HTML in it is shown as written and never interpreted.
 */
export function MessageView({ message, streaming, announceFailure, recalled }: MessageViewProps) {
  const author = message.role === "user" ? strings.message.you : strings.message.assistant;

  return (
    <article className={`message message-${message.role}`} data-status={message.status}>
      <p className="message-author">{author}</p>
      {message.damaged && <p className="alert">{strings.message.damaged}</p>}
      {message.content !== "" && <div className="message-content">{message.content}</div>}
      {streaming && <p className="message-status">{strings.message.writing}</p>}
      {!streaming && message.status === "incomplete" && (
        <p className="message-status">{strings.message.stopped}</p>
      )}
      {message.role === "user" && message.error && <p className="alert">{message.error}</p>}
      {!streaming && message.role === "assistant" && message.status === "error" && (
        <p className="alert" role={announceFailure ? "alert" : undefined}>
          {message.error || strings.message.failed}
        </p>
      )}
      {message.role === "assistant" && recalled !== undefined && <UsedMemories recalled={recalled} />}
    </article>
  );
}
