import { useCallback, useEffect, useId, useRef, useState } from "react";

import { errorMessage, getRecallSettings, isLockedError, type RecallSettings } from "../api.ts";
import { finishedReembedding, isRecallSettling, recallPollIntervalMs } from "../recall.ts";
import { strings } from "../strings.ts";
import { useUnsavedChangesGuard } from "../useUnsavedChangesGuard.ts";
import { DiscardChangesConfirm } from "./DiscardChangesConfirm.tsx";
import { EmbedderForm } from "./EmbedderForm.tsx";
import { RecallStatusView } from "./RecallStatusView.tsx";
import { WorkingMemoryPanel } from "./WorkingMemoryPanel.tsx";

interface MemoryDialogProps {
  /** The open thread, whose working memory is shown when the profile keeps one per thread. */
  threadId: string | null;
  /**
   * Called when the dialog closes: Close, or the Escape key. With unsaved
   * changes in the embedder form or the working memory, both first ask
   * whether to discard them.
   */
  onClose: () => void;
}

/**
 * Modal dialog with the signed-in profile's memory: the working memory
 * document with its history, and recall with its status and the choice of
 * embedder. While the messages are embedded again after a change of
 * embedder, it fetches the recall status every second until that is done.
 */
export function MemoryDialog({ threadId, onClose }: MemoryDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const [settings, setSettings] = useState<RecallSettings | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [finishedWith, setFinishedWith] = useState<string | null>(null);
  // The settings on screen, compared with the next ones to tell when a
  // re-embedding finished.
  const shownSettings = useRef<RecallSettings | null>(null);
  const [embedderDirty, setEmbedderDirty] = useState(false);
  const [workingMemoryDirty, setWorkingMemoryDirty] = useState(false);
  const guard = useUnsavedChangesGuard(embedderDirty || workingMemoryDirty, onClose, dialog);

  // showModal makes the rest of the page inert and moves the focus into the
  // dialog. Removing the element from the page closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) {
      element.showModal();
    }
  }, []);

  const show = useCallback((next: RecallSettings) => {
    const finished = finishedReembedding(shownSettings.current?.status ?? null, next.status);
    if (finished !== null) {
      setFinishedWith(finished);
    } else if (next.status.reembedding !== undefined) {
      setFinishedWith(null);
    }
    shownSettings.current = next;
    setSettings(next);
    setLoadError(null);
  }, []);

  // load fetches the settings. A locked profile shows no error here, because
  // the unlock prompt closes this dialog.
  const load = useCallback(async () => {
    try {
      show(await getRecallSettings());
    } catch (err) {
      if (!isLockedError(err)) {
        setLoadError(errorMessage(err));
      }
    }
  }, [show]);

  useEffect(() => {
    void load();
  }, [load]);

  // Fetch the status again a second after each response while it changes on
  // its own. New settings, from this poll or from the form, cancel the
  // scheduled fetch and discard the response of one under way, so an older
  // response never replaces a newer one.
  useEffect(() => {
    if (settings === null || !isRecallSettling(settings.status)) {
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      getRecallSettings().then(
        (next) => {
          if (!cancelled) {
            show(next);
          }
        },
        (err: unknown) => {
          if (!cancelled && !isLockedError(err)) {
            setLoadError(errorMessage(err));
          }
        },
      );
    }, recallPollIntervalMs);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [settings, show]);

  return (
    <dialog
      ref={dialog}
      className="dialog dialog-wide"
      aria-labelledby={`${id}-title`}
      onKeyDown={guard.handleKeyDown}
      onCancel={guard.handleCancel}
      onClose={onClose}
    >
      <h2 id={`${id}-title`}>{strings.memory.title}</h2>

      <div className="stack">
        <p>{strings.memory.intro}</p>

        {loadError !== null && (
          <div className="stack">
            <p role="alert" className="alert">
              {strings.memory.loadFailed(loadError)}
            </p>
            <button type="button" onClick={() => void load()}>
              {strings.memory.retry}
            </button>
          </div>
        )}
        {settings === null && loadError === null && <p className="muted">{strings.loading.memory}</p>}

        {settings !== null && (
          <>
            <RecallStatusView settings={settings} finishedWith={finishedWith} />
            {settings.lexical && (
              <div className="notice stack lexical-note">
                <p>{strings.memory.lexicalNote}</p>
                <p>{strings.memory.lexicalSuggestion}</p>
                <code className="command">{strings.memory.pullCommand(settings.suggestion)}</code>
              </div>
            )}
            <EmbedderForm settings={settings} onChosen={show} onDirtyChange={setEmbedderDirty} />
          </>
        )}

        <WorkingMemoryPanel threadId={threadId} onDirtyChange={setWorkingMemoryDirty} />

        {guard.asking && <DiscardChangesConfirm onKeepEditing={guard.keepEditing} onDiscard={onClose} />}
        <div className="actions dialog-footer">
          <button type="button" onClick={guard.requestClose}>
            {strings.memory.close}
          </button>
        </div>
      </div>
    </dialog>
  );
}
