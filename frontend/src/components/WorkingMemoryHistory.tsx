import { useEffect, useId, useState } from "react";

import {
  ApiError,
  errorMessage,
  getWorkingMemoryHistory,
  isLockedError,
  revertWorkingMemory,
  type WorkingMemoryDocument,
} from "../api.ts";
import { diffLines } from "../lineDiff.ts";
import { formatRecallDate } from "../recall.ts";
import { strings } from "../strings.ts";
import { LineDiffView } from "./LineDiffView.tsx";

interface WorkingMemoryHistoryProps {
  /** The thread whose document is shown, for the "thread" scope. */
  threadId: string | undefined;
  /** The current version, which the history is fetched again for, and which a revert must start from. */
  currentVersion: number;
  /** Called with the new document after a revert, and the version whose text it restored. */
  onReverted: (document: WorkingMemoryDocument, restoredVersion: number) => void;
  /** Called when a revert failed because the document changed since it was loaded. */
  onConflict: () => void;
}

/**
 * Lists the versions of the working memory document, newest first, each
 * with its changes from the version before it and a Revert button that
 * makes its text the current version again.
 */
export function WorkingMemoryHistory({ threadId, currentVersion, onReverted, onConflict }: WorkingMemoryHistoryProps) {
  const id = useId();
  const [versions, setVersions] = useState<WorkingMemoryDocument[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [revertingVersion, setRevertingVersion] = useState<number | null>(null);
  const [revertError, setRevertError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    getWorkingMemoryHistory(threadId).then(
      (list) => {
        if (!cancelled) {
          setVersions(list);
          setLoadError(null);
        }
      },
      (err: unknown) => {
        if (!cancelled && !isLockedError(err)) {
          setLoadError(errorMessage(err));
        }
      },
    );
    return () => {
      cancelled = true;
    };
  }, [threadId, currentVersion]);

  async function revert(version: number) {
    setRevertingVersion(version);
    setRevertError(null);
    try {
      const request: { version: number; current: number; threadId?: string } = { version, current: currentVersion };
      if (threadId !== undefined) {
        request.threadId = threadId;
      }
      onReverted(await revertWorkingMemory(request), version);
    } catch (err) {
      if (err instanceof ApiError && err.code === "conflict") {
        onConflict();
      } else if (!isLockedError(err)) {
        setRevertError(strings.workingMemory.revertFailed(errorMessage(err)));
      }
    } finally {
      setRevertingVersion(null);
    }
  }

  return (
    <section className="stack working-memory-history" aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`}>{strings.workingMemory.historyTitle}</h4>
      {loadError !== null && (
        <p role="alert" className="alert">
          {strings.workingMemory.historyFailed(loadError)}
        </p>
      )}
      {versions === null && loadError === null && <p className="muted">{strings.workingMemory.historyLoading}</p>}
      {versions !== null && versions.length === 0 && <p className="muted">{strings.workingMemory.historyEmpty}</p>}
      {revertError !== null && (
        <p role="alert" className="alert">
          {revertError}
        </p>
      )}
      {versions !== null && versions.length > 0 && (
        <ul className="history-list">
          {versions.map((entry, index) => {
            const previous = versions[index + 1];
            const date = entry.updatedAt === undefined ? "" : formatRecallDate(entry.updatedAt);
            return (
              <li key={entry.version} className="history-item">
                <details>
                  <summary>{strings.workingMemory.historyItem(entry.version, date)}</summary>
                  {previous === undefined && <p className="hint">{strings.workingMemory.firstVersion}</p>}
                  <LineDiffView
                    diff={diffLines(previous?.content ?? "", entry.content)}
                    label={strings.workingMemory.historyItem(entry.version, date)}
                  />
                </details>
                {entry.version !== currentVersion && (
                  <button
                    type="button"
                    onClick={() => void revert(entry.version)}
                    disabled={revertingVersion !== null}
                    aria-label={strings.workingMemory.revertLabel(entry.version)}
                  >
                    {revertingVersion === entry.version ? strings.workingMemory.reverting : strings.workingMemory.revert}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
