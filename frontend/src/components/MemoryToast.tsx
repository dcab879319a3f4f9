import { useId, useMemo, useState } from "react";

import { ApiError, errorMessage, isLockedError, revertWorkingMemory, saveWorkingMemory } from "../api.ts";
import { diffLines, hasChanges } from "../lineDiff.ts";
import type { MemoryChangeNotice } from "../replyStore.ts";
import { strings } from "../strings.ts";
import { LineDiffView } from "./LineDiffView.tsx";

interface MemoryToastProps {
  change: MemoryChangeNotice;
  onDismiss: () => void;
}

// Unchanged lines shown around each changed line of the diff.
const diffContextLines = 2;

type UndoState = { phase: "idle" } | { phase: "undoing" } | { phase: "undone" } | { phase: "failed"; message: string };

/**
 * Tells that the model changed the working memory during a reply, shows the
 * changed lines, and offers Undo, which restores the version before the
 * change unless the document changed again since.
 */
export function MemoryToast({ change, onDismiss }: MemoryToastProps) {
  const id = useId();
  const [undo, setUndo] = useState<UndoState>({ phase: "idle" });
  const diff = useMemo(() => diffLines(change.previous, change.content), [change.previous, change.content]);

  // A document never written is version 0, which has no entry in the
  // history to revert to, so its earlier text, even empty, is written back.
  const revertible = change.previousVersion >= 1;

  async function handleUndo() {
    setUndo({ phase: "undoing" });
    const thread = change.threadId === undefined ? {} : { threadId: change.threadId };
    try {
      if (revertible) {
        await revertWorkingMemory({ version: change.previousVersion, current: change.version, ...thread });
      } else {
        await saveWorkingMemory({ content: change.previous, version: change.version, ...thread });
      }
      setUndo({ phase: "undone" });
    } catch (err) {
      if (isLockedError(err)) {
        setUndo({ phase: "idle" });
      } else if (err instanceof ApiError && err.code === "conflict") {
        setUndo({ phase: "failed", message: strings.memoryToast.undoConflict });
      } else {
        setUndo({ phase: "failed", message: strings.memoryToast.undoFailed(errorMessage(err)) });
      }
    }
  }

  return (
    <section className="toast stack" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="toast-title">
        {strings.memoryToast.title}
      </h2>
      {hasChanges(diff) ? (
        <LineDiffView diff={diff} label={strings.memoryToast.diffLabel} context={diffContextLines} />
      ) : (
        <p className="hint">{strings.memoryToast.noChanges}</p>
      )}
      {undo.phase === "undone" && (
        <p role="status" className="notice">
          {strings.memoryToast.undone}
        </p>
      )}
      {undo.phase === "failed" && (
        <p role="alert" className="alert">
          {undo.message}
        </p>
      )}
      <div className="actions">
        {undo.phase !== "undone" && (
          <button type="button" onClick={() => void handleUndo()} disabled={undo.phase === "undoing"}>
            {undo.phase === "undoing" ? strings.memoryToast.undoing : strings.memoryToast.undo}
          </button>
        )}
        <button type="button" onClick={onDismiss}>
          {strings.memoryToast.dismiss}
        </button>
      </div>
    </section>
  );
}
