import { useState } from "react";

import type { Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { SignInForm } from "./SignInForm.tsx";

interface ProfilePickerProps {
  profiles: Profile[];
  /** Sentence shown above the profiles, such as "You are signed out." */
  notice: string | null;
  onSignedIn: (profile: Profile) => void;
}

/** Renders the profiles on this computer as tiles. Choosing one shows the password form. */
export function ProfilePicker({ profiles, notice, onSignedIn }: ProfilePickerProps) {
  const [chosen, setChosen] = useState<Profile | null>(null);

  if (chosen !== null) {
    return <SignInForm profile={chosen} onSignedIn={onSignedIn} onBack={() => setChosen(null)} />;
  }

  return (
    <div className="stack">
      <h1>{strings.picker.title}</h1>
      {notice !== null && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <p>{strings.picker.intro}</p>
      <ul className="profile-tiles" aria-label={strings.picker.profilesLabel}>
        {profiles.map((profile) => (
          <li key={profile.id}>
            <button type="button" className="profile-tile" onClick={() => setChosen(profile)}>
              <span className="profile-initial" aria-hidden="true">
                {initialOf(profile.name)}
              </span>
              <span className="profile-name">{profile.name}</span>
              {profile.role === "admin" && (
                <span className="profile-role">{strings.picker.administrator}</span>
              )}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

// initialOf returns the first character of a name, keeping a character made
// of two UTF-16 code units (such as an emoji) whole.
function initialOf(name: string): string {
  const [first = ""] = Array.from(name);
  return first.toLocaleUpperCase();
}
