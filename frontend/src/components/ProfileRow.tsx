import { useId } from "react";

import type { Profile, ProfileRole } from "../api.ts";
import { strings } from "../strings.ts";

interface ProfileRowProps {
  profile: Profile;
  /** True for the signed-in administrator's own profile, which cannot be deleted from here. */
  isSelf: boolean;
  /**
   * True while a change to any profile is being sent. The buttons are then
   * marked aria-disabled rather than disabled, so that the focused one keeps
   * the focus, and the caller ignores their clicks.
   */
  busy: boolean;
  onSetRole: (role: ProfileRole) => void;
  onDelete: () => void;
}

/**
 * Renders one row of the profiles table: the name, the role, a button that toggles
 * the role, and a Delete button for every profile but the administrator's
 * own. The buttons name the profile in aria-describedby, so that a screen
 * reader says which profile a button acts on.
 */
export function ProfileRow({ profile, isSelf, busy, onSetRole, onDelete }: ProfileRowProps) {
  const id = useId();
  const isAdmin = profile.role === "admin";

  return (
    <tr>
      <th scope="row" id={`${id}-name`} className="profile-table-name">
        {profile.name}
        {isSelf && <span className="muted"> {strings.profiles.you}</span>}
      </th>
      <td>{isAdmin ? strings.profiles.roleAdmin : strings.profiles.roleUser}</td>
      <td>
        <div className="actions">
          <button
            type="button"
            aria-describedby={`${id}-name`}
            aria-disabled={busy}
            onClick={() => onSetRole(isAdmin ? "user" : "admin")}
          >
            {isAdmin ? strings.profiles.makeUser : strings.profiles.makeAdmin}
          </button>
          {!isSelf && (
            <button type="button" className="danger" aria-describedby={`${id}-name`} aria-disabled={busy} onClick={onDelete}>
              {strings.profiles.delete}
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
