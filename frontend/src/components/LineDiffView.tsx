import { linesNearChanges, type DiffLine } from "../lineDiff.ts";
import { strings } from "../strings.ts";

interface LineDiffViewProps {
  diff: readonly DiffLine[];
  /** Accessible name of the diff. */
  label: string;
  /**
   * Number of unchanged lines kept around each change. Longer runs of
   * unchanged lines are left out. Undefined keeps every line.
   */
  context?: number;
}

// The mark shown before each kind of line, as in a unified diff.
const diffMarks = { same: " ", added: "+", removed: "-" } as const;

/**
 * Shows a line diff: removed lines marked "-", added lines marked "+", and
 * unchanged lines. Screen readers hear "Removed:" and "Added:" instead of
 * the marks. The text is inserted as text nodes, never as HTML.
 */
export function LineDiffView({ diff, label, context }: LineDiffViewProps) {
  const shown = context === undefined ? diff.map((line, index) => ({ line, index })) : linesNearChanges(diff, context);

  return (
    <pre className="line-diff" aria-label={label}>
      {shown.map(({ line, index }, position) => {
        const gap = position > 0 && index !== (shown[position - 1]?.index ?? -1) + 1;
        return (
          <span key={index} className={`diff-line diff-${line.kind}${gap ? " diff-gap" : ""}`}>
            {line.kind === "added" && <span className="visually-hidden">{strings.diff.added} </span>}
            {line.kind === "removed" && <span className="visually-hidden">{strings.diff.removed} </span>}
            <span aria-hidden="true" className="diff-mark">
              {diffMarks[line.kind]}
            </span>
            {line.text}
            {"\n"}
          </span>
        );
      })}
    </pre>
  );
}
