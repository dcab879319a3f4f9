// Display helpers for semantic recall: the earlier messages recalled for a
// reply, and the state of the profile's recall index.

import type { EmbedderSettings, RecallStatus, RecalledMessage } from "./api.ts";
import { strings } from "./strings.ts";

/**
 * Maximum number of characters of a recalled message shown under a reply.
 * The list also clamps each text to a few lines (.used-memory-text in
 * styles.css), but only this limit keeps a very long message out of the DOM.
 */
export const excerptLength = 400;

/** Interval, in milliseconds, between two fetches of the recall status while it changes on its own. */
export const recallPollIntervalMs = 1_000;

/**
 * Returns the recalled messages that matched the query, in the order given,
 * without the messages that recall added only as context around a match.
 */
export function matchedMemories(recalled: readonly RecalledMessage[]): RecalledMessage[] {
  return recalled.filter((item) => item.match);
}

/**
 * Returns text cut to at most maxCharacters characters, counted in Unicode
 * code points so that no emoji or other character is split, and ending in an
 * ellipsis when it was cut.
 */
export function excerpt(text: string, maxCharacters: number = excerptLength): string {
  const characters = Array.from(text);
  if (characters.length <= maxCharacters) {
    return text;
  }
  return `${characters.slice(0, maxCharacters).join("").trimEnd()}…`;
}

/**
 * Formats a cosine similarity, from -1 to 1, as a whole percentage in the
 * given locale, or the browser's when locale is undefined.
 */
export function formatSimilarity(similarity: number, locale?: string): string {
  return new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(similarity);
}

/**
 * Formats an RFC 3339 time as a date and time in the given locale, or the
 * browser's when locale is undefined. A time that cannot be read is
 * returned as it is.
 */
export function formatRecallDate(date: string, locale?: string): string {
  const time = Date.parse(date);
  if (Number.isNaN(time)) {
    return date;
  }
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(time);
}

/** Returns the name of an embedder as the Memory dialog shows it. */
export function describeEmbedder(embedder: EmbedderSettings): string {
  switch (embedder.kind) {
    case "builtin":
      return strings.embedder.describeBuiltin;
    case "ollama":
      return strings.embedder.describeOllama(embedder.model ?? "");
    case "openai":
      return strings.embedder.describeOpenAI(embedder.model ?? "", embedder.baseUrl ?? "");
  }
}

/**
 * Reports whether the recall status changes without any request from this
 * page: while the messages are embedded again after a change of embedder, or
 * while the index loads. The Memory dialog polls the status until it does not.
 */
export function isRecallSettling(status: RecallStatus): boolean {
  return status.reembedding !== undefined || status.state === "loading";
}

/**
 * Returns the id of the embedder whose re-embedding ended between two
 * fetches of the status, or null when none did. A change back to the
 * previous embedder also ends a re-embedding, but without finishing it, so
 * it returns null when the new status names another embedder than the one
 * the messages were being embedded with.
 */
export function finishedReembedding(before: RecallStatus | null, after: RecallStatus): string | null {
  const running = before?.reembedding;
  if (running === undefined || after.reembedding !== undefined || after.embedder !== running.to) {
    return null;
  }
  return running.to;
}
