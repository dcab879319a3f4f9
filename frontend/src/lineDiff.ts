// A line diff for showing how a working memory document changed: the lines
// of a longest common subsequence are kept, the others are removed or added.

/** The relation of a diff line to the old and new text: kept, added or removed. */
export type DiffLineKind = "same" | "added" | "removed";

/** One line of a diff. */
export interface DiffLine {
  kind: DiffLineKind;
  /** The line without its line ending. */
  text: string;
}

/**
 * Maximum product of the changed line counts of the two texts for which
 * diffLines searches a longest common subsequence. The search takes time and
 * memory in proportion to that product, so larger changes are shown as every
 * changed old line removed and every changed new line added.
 */
export const maxDiffCells = 1_000_000;

/**
 * Splits text into lines. "\n", "\r\n" and "\r" end a line, and a line
 * ending at the very end of the text starts no further line, so "" has no
 * lines and "a\n" has one.
 */
export function splitLines(text: string): string[] {
  if (text === "") {
    return [];
  }
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === "") {
    lines.pop();
  }
  return lines;
}

/**
 * Returns the lines of after compared with those of before, in the order of
 * after, with each removed line placed before the lines added in its stead.
 */
export function diffLines(before: string, after: string): DiffLine[] {
  const oldLines = splitLines(before);
  const newLines = splitLines(after);

  // The lines that both texts start and end with need no search.
  let start = 0;
  while (start < oldLines.length && start < newLines.length && oldLines[start] === newLines[start]) {
    start++;
  }
  let oldEnd = oldLines.length;
  let newEnd = newLines.length;
  while (oldEnd > start && newEnd > start && oldLines[oldEnd - 1] === newLines[newEnd - 1]) {
    oldEnd--;
    newEnd--;
  }

  const result: DiffLine[] = oldLines.slice(0, start).map((text) => ({ kind: "same", text }));
  result.push(...diffMiddle(oldLines.slice(start, oldEnd), newLines.slice(start, newEnd)));
  result.push(...oldLines.slice(oldEnd).map((text): DiffLine => ({ kind: "same", text })));
  return result;
}

/** Reports whether a diff contains any added or removed line. */
export function hasChanges(diff: readonly DiffLine[]): boolean {
  return diff.some((line) => line.kind !== "same");
}

/**
 * Returns the lines of diff that are changed or at most context lines away
 * from a change, each with its index in diff, so that a view can mark where
 * unchanged lines were left out.
 */
export function linesNearChanges(diff: readonly DiffLine[], context: number): Array<{ line: DiffLine; index: number }> {
  const keep = new Array<boolean>(diff.length).fill(false);
  diff.forEach((line, index) => {
    if (line.kind === "same") {
      return;
    }
    const last = Math.min(diff.length - 1, index + context);
    for (let near = Math.max(0, index - context); near <= last; near++) {
      keep[near] = true;
    }
  });
  return diff.flatMap((line, index) => (keep[index] ? [{ line, index }] : []));
}

// diffMiddle diffs the lines between the common start and end with a
// longest common subsequence table. common[i * width + j] is the length of
// a longest common subsequence of oldLines from i and newLines from j.
function diffMiddle(oldLines: string[], newLines: string[]): DiffLine[] {
  const removed = oldLines.map((text): DiffLine => ({ kind: "removed", text }));
  const added = newLines.map((text): DiffLine => ({ kind: "added", text }));
  if (oldLines.length === 0 || newLines.length === 0 || oldLines.length * newLines.length > maxDiffCells) {
    return [...removed, ...added];
  }

  const width = newLines.length + 1;
  const common = new Uint32Array((oldLines.length + 1) * width);
  for (let i = oldLines.length - 1; i >= 0; i--) {
    for (let j = newLines.length - 1; j >= 0; j--) {
      common[i * width + j] =
        oldLines[i] === newLines[j]
          ? (common[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(common[(i + 1) * width + j] ?? 0, common[i * width + j + 1] ?? 0);
    }
  }

  const result: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < oldLines.length && j < newLines.length) {
    const oldLine = oldLines[i] ?? "";
    const newLine = newLines[j] ?? "";
    if (oldLine === newLine) {
      result.push({ kind: "same", text: oldLine });
      i++;
      j++;
    } else if ((common[(i + 1) * width + j] ?? 0) >= (common[i * width + j + 1] ?? 0)) {
      result.push({ kind: "removed", text: oldLine });
      i++;
    } else {
      result.push({ kind: "added", text: newLine });
      j++;
    }
  }
  result.push(...removed.slice(i), ...added.slice(j));
  return result;
}
