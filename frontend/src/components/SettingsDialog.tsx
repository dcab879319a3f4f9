import { useCallback, useEffect, useId, useRef, useState } from "react";

import {
  errorMessage,
  getMe,
  getSettings,
  isLockedError,
  type BackendKind,
  type Profile,
  type Settings,
} from "../api.ts";
import { strings } from "../strings.ts";
import { applyTheme } from "../theme.ts";
import { useModelList } from "../useModelList.ts";
import { useUnsavedChangesGuard } from "../useUnsavedChangesGuard.ts";
import { DiscardChangesConfirm } from "./DiscardChangesConfirm.tsx";
import { ModelDownload } from "./ModelDownload.tsx";
import { SecuritySettings } from "./SecuritySettings.tsx";
import { SettingsForm } from "./SettingsForm.tsx";

interface SettingsDialogProps {
  /** The signed-in profile. */
  profile: Profile;
  /**
   * Called when the dialog closes: Close, or the Escape key. With unsaved
   * changes in the form, both first ask whether to discard them.
   */
  onClose: () => void;
  /** Called after the server stored changed settings, whose backend may differ. */
  onSaved?: () => void;
}

/**
 * Modal dialog with the signed-in profile's settings and idle lock, for an
 * Ollama server the download of a model, and two-step sign-in. Saving
 * applies the chosen theme to the page. Closing it cancels a running
 * download.
 */
export function SettingsDialog({ profile, onClose, onSaved }: SettingsDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [idleLockMinutes, setIdleLockMinutes] = useState<number | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [formKind, setFormKind] = useState<BackendKind | null>(null);
  const models = useModelList();
  const { refresh: refreshModels } = models;
  const [dirty, setDirty] = useState(false);
  // True while backup codes of two-step sign-in are on screen and not yet
  // confirmed as saved. Closing then loses them, as closing loses changes.
  const [unsavedCodes, setUnsavedCodes] = useState(false);
  const guard = useUnsavedChangesGuard(dirty || unsavedCodes, onClose, dialog);

  // showModal makes the rest of the page inert and moves the focus into the
  // dialog. Removing the element from the page closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) {
      element.showModal();
    }
  }, []);

  // load fetches the settings and the idle lock. A locked profile shows no
  // error here, because the unlock prompt closes this dialog.
  const load = useCallback(async () => {
    try {
      const [next, me] = await Promise.all([getSettings(), getMe()]);
      setSettings(next);
      setIdleLockMinutes(me.idleLockMinutes);
      setFormKind(next.backend.kind);
      setLoadError(null);
    } catch (err) {
      if (!isLockedError(err)) {
        setLoadError(errorMessage(err));
      }
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const handleSaved = useCallback(
    (saved: Settings, savedIdleLockMinutes: number) => {
      setSettings(saved);
      setIdleLockMinutes(savedIdleLockMinutes);
      applyTheme(saved.theme);
      // The list belongs to the saved backend, which may have changed.
      refreshModels();
      onSaved?.();
    },
    [refreshModels, onSaved],
  );

  // Downloads go to the saved server, so they are offered while both the
  // saved server and the one chosen in the form are Ollama servers.
  const offersDownload = settings?.backend.kind === "ollama" && formKind === "ollama";

  return (
    <dialog
      ref={dialog}
      className="dialog dialog-wide"
      aria-labelledby={`${id}-title`}
      onKeyDown={guard.handleKeyDown}
      onCancel={guard.handleCancel}
      onClose={onClose}
    >
      <h2 id={`${id}-title`}>{strings.settings.title}</h2>

      <div className="stack">
        <p>{strings.settings.intro}</p>

        {loadError !== null && (
          <div className="stack">
            <p role="alert" className="alert">
              {strings.settings.loadFailed(loadError)}
            </p>
            <button type="button" onClick={() => void load()}>
              {strings.settings.retry}
            </button>
          </div>
        )}
        {settings === null && loadError === null && <p className="muted">{strings.settings.loading}</p>}

        {settings !== null && idleLockMinutes !== null && (
          <>
            <SettingsForm
              settings={settings}
              idleLockMinutes={idleLockMinutes}
              models={models}
              onSaved={handleSaved}
              onKindChange={setFormKind}
              onDirtyChange={setDirty}
            />
            {offersDownload && <ModelDownload onDownloaded={refreshModels} />}
            <SecuritySettings profile={profile} onUnsavedCodesChange={setUnsavedCodes} />
          </>
        )}

        {guard.asking && (
          <DiscardChangesConfirm
            onKeepEditing={guard.keepEditing}
            onDiscard={onClose}
            question={unsavedCodes ? strings.security.discardCodesQuestion : undefined}
            discardLabel={unsavedCodes ? strings.security.discardCodes : undefined}
          />
        )}
        <div className="actions dialog-footer">
          <button type="button" onClick={guard.requestClose}>
            {strings.settings.close}
          </button>
        </div>
      </div>
    </dialog>
  );
}
