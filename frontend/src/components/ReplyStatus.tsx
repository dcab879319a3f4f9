import type { MessageStatus } from "../api.ts";
import { strings } from "../strings.ts";

interface ReplyStatusProps {
  status: MessageStatus;
  /** The sentence that explains why the reply failed or stopped, if the server sent one. */
  error: string | undefined;
  /** Announces a failure with role="alert", for replies that fail while the chat is open. */
  announce: boolean;
}

/**
 * Shows why a reply that is no longer being written is not complete: the
 * error that ended it, Stopped, or Interrupted when Hearth closed. It shows
 * nothing for a complete reply.
 */
export function ReplyStatus({ status, error, announce }: ReplyStatusProps) {
  const reason = error ?? "";
  if (status === "error" || (status === "incomplete" && reason !== "")) {
    return (
      <p className="alert" role={announce ? "alert" : undefined}>
        {reason === "" ? strings.message.failed : reason}
      </p>
    );
  }
  if (status === "incomplete") {
    return <p className="message-status">{strings.message.stopped}</p>;
  }
  if (status === "interrupted") {
    return <p className="message-status">{strings.message.interrupted}</p>;
  }
  return null;
}
