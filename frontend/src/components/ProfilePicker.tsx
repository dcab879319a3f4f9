import { useState } from "react";

import type { Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { RecoverForm } from "./RecoverForm.tsx";
import { SignInForm } from "./SignInForm.tsx";

interface ProfilePickerProps {
  profiles: Profile[];
  /** Sentence shown above the picker, such as "You are signed out." */
  notice: string | null;
  /** Profile whose password form opens at once, such as the one just locked. */
  initialProfile: Profile | null;
  onSignedIn: (profile: Profile) => void;
}

// Step is what the picker shows: the tiles, the password form of the chosen
// profile, or its recovery form.
type Step = { kind: "tiles" } | { kind: "sign-in"; profile: Profile } | { kind: "recover"; profile: Profile };

/** Renders the profiles on this computer as tiles. Choosing one shows the password form. */
export function ProfilePicker({ profiles, notice, initialProfile, onSignedIn }: ProfilePickerProps) {
  const [step, setStep] = useState<Step>(
    initialProfile === null ? { kind: "tiles" } : { kind: "sign-in", profile: initialProfile },
  );

  const noticeView = notice !== null && (
    <p className="notice" role="status">
      {notice}
    </p>
  );

  if (step.kind === "sign-in") {
    return (
      <div className="stack">
        {noticeView}
        <SignInForm
          profile={step.profile}
          onSignedIn={onSignedIn}
          onBack={() => setStep({ kind: "tiles" })}
          onForgotPassword={() => setStep({ kind: "recover", profile: step.profile })}
        />
      </div>
    );
  }

  if (step.kind === "recover") {
    return (
      <RecoverForm
        profile={step.profile}
        onSignedIn={onSignedIn}
        onBack={() => setStep({ kind: "sign-in", profile: step.profile })}
      />
    );
  }

  return (
    <div className="stack">
      <h1>{strings.picker.title}</h1>
      {noticeView}
      <p>{strings.picker.intro}</p>
      <ul className="profile-tiles" aria-label={strings.picker.profilesLabel}>
        {profiles.map((profile) => (
          <li key={profile.id}>
            <button
              type="button"
              className="profile-tile"
              onClick={() => setStep({ kind: "sign-in", profile })}
            >
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
