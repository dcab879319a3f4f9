import { useCallback, useEffect, useId, useRef, useState, type SyntheticEvent } from "react";

import {
  errorMessage,
  listProfiles,
  setProfileRole,
  type CreatedProfile,
  type Profile,
  type ProfileRole,
} from "../api.ts";
import { strings } from "../strings.ts";
import { AddProfileForm } from "./AddProfileForm.tsx";
import { DeleteProfileConfirmation } from "./DeleteProfileConfirmation.tsx";
import { ProfileRow } from "./ProfileRow.tsx";
import { RecoveryKeyView } from "./RecoveryKeyView.tsx";

interface ProfilesDialogProps {
  /** The signed-in administrator. */
  self: Profile;
  /** Called when the administrator changed their own role, with the changed profile. */
  onSelfChanged: (profile: Profile) => void;
  /** Called when the dialog closes: Close, or the Escape key. */
  onClose: () => void;
}

// Step is what the dialog shows under its title: the table of profiles, the
// form that adds one, the new profile's recovery key, or the confirmation
// before deleting a profile.
type Step =
  | { kind: "list" }
  | { kind: "add" }
  | { kind: "created"; created: CreatedProfile }
  | { kind: "confirm-delete"; profile: Profile };

/**
 * Modal dialog in which an administrator lists, adds and deletes profiles and
 * changes their roles. The list is fetched from the server when the dialog
 * opens and again after every change.
 */
export function ProfilesDialog({ self, onSelfChanged, onClose }: ProfilesDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const [step, setStep] = useState<Step>({ kind: "list" });
  const [profiles, setProfiles] = useState<Profile[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  // notice reports the last change that succeeded, and actionError the
  // server's sentence for one that failed, such as the last administrator's
  // 409.
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // showModal makes the rest of the page inert and moves the focus into the
  // dialog. Removing the element from the page closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) {
      element.showModal();
    }
  }, []);

  const refresh = useCallback(async () => {
    try {
      setProfiles(await listProfiles());
      setLoadError(null);
    } catch (err) {
      setLoadError(errorMessage(err));
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // showList returns to the table with a notice about the change that led
  // there, and fetches the profiles again.
  function showList(nextNotice: string | null) {
    setStep({ kind: "list" });
    setNotice(nextNotice);
    setActionError(null);
    void refresh();
  }

  async function handleSetRole(profile: Profile, role: ProfileRole) {
    if (busy) {
      return;
    }
    setBusy(true);
    setNotice(null);
    setActionError(null);
    try {
      const changed = await setProfileRole(profile.id, role);
      setNotice(changed.role === "admin" ? strings.profiles.nowAdmin(changed.name) : strings.profiles.nowUser(changed.name));
      await refresh();
      if (changed.id === self.id) {
        onSelfChanged(changed);
      }
    } catch (err) {
      setActionError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  function handleDeleteRequest(profile: Profile) {
    if (busy) {
      return;
    }
    setStep({ kind: "confirm-delete", profile });
  }

  // While the recovery key is on screen, Escape does not close the dialog,
  // because the key cannot be shown again.
  // NOTE: Chromium makes a dialog's cancel event cancelable only after a new
  // user activation, so a second Escape in a row still closes the dialog.
  function handleCancel(event: SyntheticEvent<HTMLDialogElement>) {
    if (step.kind === "created") {
      event.preventDefault();
    }
  }

  return (
    <dialog
      ref={dialog}
      className="dialog dialog-wide"
      aria-labelledby={`${id}-title`}
      onCancel={handleCancel}
      onClose={onClose}
    >
      <h2 id={`${id}-title`}>{strings.profiles.title}</h2>

      {step.kind === "add" && (
        <AddProfileForm onCreated={(created) => setStep({ kind: "created", created })} onCancel={() => showList(null)} />
      )}

      {step.kind === "created" && (
        <RecoveryKeyView
          recoveryKey={step.created.recoveryKey}
          replacesOldKey={false}
          givenTo={step.created.profile.name}
          headingLevel={3}
          onContinue={async () => showList(strings.profiles.created(step.created.profile.name))}
        />
      )}

      {step.kind === "confirm-delete" && (
        <DeleteProfileConfirmation
          profile={step.profile}
          onDeleted={() => showList(strings.profiles.deleted(step.profile.name))}
          onCancel={() => showList(null)}
        />
      )}

      {step.kind === "list" && (
        <div className="stack">
          <p>{strings.profiles.intro}</p>

          {notice !== null && (
            <p role="status" className="notice">
              {notice}
            </p>
          )}
          {actionError !== null && (
            <p role="alert" className="alert">
              {actionError}
            </p>
          )}

          {loadError !== null && (
            <div className="stack">
              <p role="alert" className="alert">
                {strings.profiles.loadFailed(loadError)}
              </p>
              <button type="button" onClick={() => void refresh()}>
                {strings.profiles.retry}
              </button>
            </div>
          )}
          {profiles === null && loadError === null && <p className="muted">{strings.loading.profiles}</p>}
          {profiles !== null && (
            <table className="profile-table">
              <caption className="visually-hidden">{strings.profiles.tableCaption}</caption>
              <thead>
                <tr>
                  <th scope="col">{strings.profiles.nameColumn}</th>
                  <th scope="col">{strings.profiles.roleColumn}</th>
                  <th scope="col">
                    <span className="visually-hidden">{strings.profiles.actionsColumn}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {profiles.map((profile) => (
                  <ProfileRow
                    key={profile.id}
                    profile={profile}
                    isSelf={profile.id === self.id}
                    busy={busy}
                    onSetRole={(role) => void handleSetRole(profile, role)}
                    onDelete={() => handleDeleteRequest(profile)}
                  />
                ))}
              </tbody>
            </table>
          )}

          <div className="actions">
            <button type="button" className="primary" autoFocus onClick={() => setStep({ kind: "add" })}>
              {strings.profiles.add}
            </button>
            <button type="button" onClick={onClose}>
              {strings.profiles.close}
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}
