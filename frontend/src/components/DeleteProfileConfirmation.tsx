import { useId, useState } from "react";

import { deleteProfile, errorMessage, type Profile } from "../api.ts";
import { strings } from "../strings.ts";

interface DeleteProfileConfirmationProps {
  /**
   * The profile to delete. The administrator's own profile is deleted in
   * DeleteOwnProfileDialog instead, which asks for the password.
   */
  profile: Profile;
  onDeleted: () => void;
  onCancel: () => void;
}

/**
 * Asks an administrator to confirm the deletion of another profile, and
 * deletes it. Cancel has the focus at first, so that Enter does not delete.
 */
export function DeleteProfileConfirmation({ profile, onDeleted, onCancel }: DeleteProfileConfirmationProps) {
  const id = useId();
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function handleDelete() {
    if (deleting) {
      return;
    }
    setError(null);
    setDeleting(true);
    try {
      await deleteProfile(profile.id);
      onDeleted();
    } catch (err) {
      setError(errorMessage(err));
      setDeleting(false);
    }
  }

  return (
    <section className="stack" aria-labelledby={`${id}-title`} aria-describedby={`${id}-warning`}>
      <h3 id={`${id}-title`}>{strings.deleteProfile.title(profile.name)}</h3>
      <p id={`${id}-warning`} className="warning">
        {strings.deleteProfile.warning(profile.name)}
      </p>

      {error !== null && (
        <p role="alert" className="alert">
          {error}
        </p>
      )}

      <div className="actions">
        <button type="button" className="danger" aria-disabled={deleting} onClick={() => void handleDelete()}>
          {deleting ? strings.deleteProfile.submitting : strings.deleteProfile.submit(profile.name)}
        </button>
        <button type="button" autoFocus onClick={onCancel}>
          {strings.deleteProfile.cancel}
        </button>
      </div>
    </section>
  );
}
