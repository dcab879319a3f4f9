import { useCallback, useEffect, useId, useLayoutEffect, useState } from "react";

import {
  ApiError,
  errorMessage,
  getWorkingMemory,
  isLockedError,
  saveWorkingMemory,
  type WorkingMemoryDocument,
} from "../api.ts";
import { strings } from "../strings.ts";
import { WorkingMemoryHistory } from "./WorkingMemoryHistory.tsx";

interface WorkingMemoryPanelProps {
  /** The open thread, whose document is shown when the profile keeps one per thread. */
  threadId: string | null;
  /** Called with true when the text comes to differ from the stored document, and with false when it matches again. */
  onDirtyChange?: (dirty: boolean) => void;
}

/**
 * Shows the working memory document as editable Markdown with Save, and its
 * history. Saving sends the version the text was written from, so a change
 * made meanwhile, for example by the model during a reply, is not
 * overwritten: the panel shows that it was not saved and offers to load the
 * latest version.
 */
export function WorkingMemoryPanel({ threadId, onDirtyChange }: WorkingMemoryPanelProps) {
  const id = useId();
  const [workingDocument, setWorkingDocument] = useState<WorkingMemoryDocument | null>(null);
  const [text, setText] = useState("");
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState(false);
  // True while the panel shows a confirmation before the latest version replaces typed text.
  const [confirmingReload, setConfirmingReload] = useState(false);
  // True when the profile keeps one document per chat and no chat is open.
  const [needsThread, setNeedsThread] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const requestThread = threadId ?? undefined;

  const dirty = workingDocument !== null && text !== workingDocument.content;
  // A layout effect, so that the dialog has the new state before the next
  // key press, such as an Escape right after typing.
  useLayoutEffect(() => {
    onDirtyChange?.(dirty);
  }, [dirty, onDirtyChange]);

  const show = useCallback((next: WorkingMemoryDocument) => {
    setWorkingDocument(next);
    setText(next.content);
    setConflict(false);
    setConfirmingReload(false);
    setSaveError(null);
  }, []);

  // load fetches the document. A locked profile shows no error here, because
  // the unlock prompt closes the dialog. Without an open chat, a profile
  // that keeps one document per chat has no document to show, which the
  // server reports as a missing threadId. The panel shows noThread instead.
  const load = useCallback(async () => {
    try {
      show(await getWorkingMemory(requestThread));
      setLoadError(null);
      setNeedsThread(false);
      setNotice(null);
    } catch (err) {
      if (requestThread === undefined && err instanceof ApiError && err.field === "threadId") {
        setNeedsThread(true);
        setLoadError(null);
      } else if (!isLockedError(err)) {
        setLoadError(errorMessage(err));
      }
    }
  }, [requestThread, show]);

  // reload loads the latest version after a conflict, but first requests confirmation when
  // that would replace text that the user typed and has not saved.
  function reload() {
    if (dirty && !confirmingReload) {
      setConfirmingReload(true);
      return;
    }
    void load();
  }

  useEffect(() => {
    void load();
  }, [load]);

  async function save() {
    if (workingDocument === null || saving) {
      return;
    }
    setSaving(true);
    setNotice(null);
    setSaveError(null);
    try {
      const request: { content: string; version: number; threadId?: string } = {
        content: text,
        version: workingDocument.version,
      };
      if (requestThread !== undefined) {
        request.threadId = requestThread;
      }
      const saved = await saveWorkingMemory(request);
      show(saved);
      setNotice(strings.workingMemory.saved(saved.version));
    } catch (err) {
      if (err instanceof ApiError && err.code === "conflict") {
        setConflict(true);
      } else if (!isLockedError(err)) {
        setSaveError(strings.workingMemory.saveFailed(errorMessage(err)));
      }
    } finally {
      setSaving(false);
    }
  }

  const threadScope = workingDocument?.scope === "thread";

  return (
    <section className="stack working-memory" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{strings.workingMemory.title}</h3>
      <p>{strings.workingMemory.intro}</p>

      {loadError !== null && (
        <div className="stack">
          <p role="alert" className="alert">
            {strings.workingMemory.loadFailed(loadError)}
          </p>
          <button type="button" onClick={() => void load()}>
            {strings.workingMemory.retry}
          </button>
        </div>
      )}
      {workingDocument === null && loadError === null && !needsThread && (
        <p className="muted">{strings.workingMemory.loading}</p>
      )}
      {((threadScope && threadId === null) || needsThread) && (
        <p className="notice">{strings.workingMemory.noThread}</p>
      )}

      {workingDocument !== null && !needsThread && !(threadScope && threadId === null) && (
        <>
          {threadScope && <p className="hint">{strings.workingMemory.threadScope}</p>}
          {workingDocument.damaged && <p className="alert">{strings.workingMemory.damaged}</p>}
          {/* A group rather than a form, so that the embedder form stays the dialog's only
              form: its browser tests find it by the form element. */}
          <div className="stack">
            <div className="field">
              <label htmlFor={`${id}-content`}>{strings.workingMemory.label}</label>
              <textarea
                id={`${id}-content`}
                className="working-memory-text"
                rows={12}
                spellCheck={false}
                placeholder={workingDocument.template}
                aria-describedby={`${id}-version`}
                value={text}
                onChange={(event) => {
                  setText(event.target.value);
                  setNotice(null);
                }}
              />
              <p id={`${id}-version`} className="hint">
                {strings.workingMemory.version(workingDocument.version)}
              </p>
            </div>
            {conflict && (
              <div className="stack">
                <p role="alert" className="alert">
                  {strings.workingMemory.conflict}
                </p>
                {confirmingReload ? (
                  <>
                    <p>{strings.workingMemory.reloadConfirm}</p>
                    <div className="actions">
                      <button type="button" onClick={reload}>
                        {strings.workingMemory.reloadReplace}
                      </button>
                      {/* The safe choice takes the focus from the button that asked. */}
                      <button
                        type="button"
                        autoFocus
                        onClick={() => {
                          setConfirmingReload(false);
                          document.getElementById(`${id}-content`)?.focus();
                        }}
                      >
                        {strings.workingMemory.reloadKeep}
                      </button>
                    </div>
                  </>
                ) : (
                  <div className="actions">
                    <button type="button" onClick={reload}>
                      {strings.workingMemory.reload}
                    </button>
                  </div>
                )}
              </div>
            )}
            {saveError !== null && (
              <p role="alert" className="alert">
                {saveError}
              </p>
            )}
            {notice !== null && (
              <p role="status" className="notice">
                {notice}
              </p>
            )}
            <div className="actions">
              <button
                type="button"
                className="primary"
                onClick={() => void save()}
                disabled={saving || text === workingDocument.content}
              >
                {saving ? strings.workingMemory.saving : strings.workingMemory.save}
              </button>
            </div>
          </div>

          <WorkingMemoryHistory
            threadId={requestThread}
            currentVersion={workingDocument.version}
            onReverted={(reverted, restoredVersion) => {
              show(reverted);
              setNotice(strings.workingMemory.reverted(restoredVersion));
            }}
            onConflict={() => setConflict(true)}
          />
        </>
      )}
    </section>
  );
}
