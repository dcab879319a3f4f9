import type { RecalledMessage } from "../api.ts";
import { excerpt, formatRecallDate, formatSimilarity, matchedMemories } from "../recall.ts";
import { strings } from "../strings.ts";

interface UsedMemoriesProps {
  /** The earlier messages recalled for the reply, with the context around each match. */
  recalled: readonly RecalledMessage[];
}

/**
 * Renders, under a reply, a collapsed list of the earlier messages that
 * recall matched and gave to the model, each with its thread, date,
 * similarity and the start of its text. Messages recalled only as context
 * around a match are left out. The text is inserted as a text node, so HTML
 * in it is shown as written and never interpreted.
 */
export function UsedMemories({ recalled }: UsedMemoriesProps) {
  const matches = matchedMemories(recalled);
  if (matches.length === 0) {
    return null;
  }

  return (
    <details className="used-memories">
      <summary>{strings.usedMemories.summary(matches.length)}</summary>
      <ul className="used-memory-list" aria-label={strings.usedMemories.listLabel}>
        {matches.map((item) => (
          <li key={item.message.id} className="used-memory">
            <p className="used-memory-source">
              <span className="used-memory-thread">{item.threadTitle || strings.usedMemories.untitledThread}</span>
              <time dateTime={item.date}>{formatRecallDate(item.date)}</time>
              <span>{strings.usedMemories.similarity(formatSimilarity(item.similarity))}</span>
            </p>
            <p className="used-memory-author">
              {item.message.role === "user" ? strings.message.you : strings.message.assistant}
            </p>
            {item.message.damaged ? (
              <p className="used-memory-text muted">{strings.message.damaged}</p>
            ) : (
              <p className="used-memory-text">{excerpt(item.message.content)}</p>
            )}
          </li>
        ))}
      </ul>
    </details>
  );
}
