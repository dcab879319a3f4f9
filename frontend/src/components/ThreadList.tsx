import type { Thread } from "../api.ts";
import { strings } from "../strings.ts";

interface ThreadListProps {
  /** Threads in the order the server sends them: most recently updated first. */
  threads: Thread[];
  openThreadId: string | null;
  onOpen: (threadId: string) => void;
}

const updatedAtFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Renders the signed-in profile's threads, each as a button that opens it. */
export function ThreadList({ threads, openThreadId, onOpen }: ThreadListProps) {
  if (threads.length === 0) {
    return <p className="muted">{strings.workspace.noThreads}</p>;
  }

  return (
    <ul className="thread-list">
      {threads.map((thread) => (
        <li key={thread.id}>
          <button
            type="button"
            className="thread-button"
            aria-current={thread.id === openThreadId ? "page" : undefined}
            onClick={() => onOpen(thread.id)}
          >
            <span className="thread-title">{thread.damaged ? strings.workspace.damagedThread : thread.title}</span>
            {thread.damagedMessages && !thread.damaged && <span className="thread-damage">{strings.workspace.damagedMessages}</span>}
            <time className="thread-time" dateTime={thread.updatedAt}>
              {updatedAtFormat.format(new Date(thread.updatedAt))}
            </time>
          </button>
        </li>
      ))}
    </ul>
  );
}
