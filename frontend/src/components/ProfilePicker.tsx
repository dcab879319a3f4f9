import { useEffect, useRef, useState } from "react";

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
// profile, or its recovery form. The tiles may name the profile whose tile
// takes the focus, the one whose password form was left.
type Step =
  | { kind: "tiles"; returnTo?: string }
  | { kind: "sign-in"; profile: Profile }
  | { kind: "recover"; profile: Profile };

/** Renders the profiles on this computer as tiles. Choosing one shows the password form. */
export function ProfilePicker({ profiles, notice, initialProfile, onSignedIn }: ProfilePickerProps) {
  const [step, setStep] = useState<Step>(
    initialProfile === null ? { kind: "tiles" } : { kind: "sign-in", profile: initialProfile },
  );
  const heading = useRef<HTMLHeadingElement>(null);
  const tiles = useRef<HTMLUListElement>(null);

  // Back from a password form, that profile's tile takes the focus. Shown
  // after sign-out or on page load, the heading takes it, so that the focus
  // is not left on <body> and a screen reader starts at the question.
  const returnTo = step.kind === "tiles" ? (step.returnTo ?? null) : null;
  const showsTiles = step.kind === "tiles";
  useEffect(() => {
    if (!showsTiles) {
      return;
    }
    const tile = returnTo === null ? null : tiles.current?.querySelector<HTMLElement>(`[data-profile-id="${CSS.escape(returnTo)}"]`);
    if (tile !== null && tile !== undefined) {
      tile.focus();
    } else if (document.activeElement === null || document.activeElement === document.body) {
      heading.current?.focus();
    }
  }, [showsTiles, returnTo]);

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
          onBack={() => setStep({ kind: "tiles", returnTo: step.profile.id })}
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
      <h1 ref={heading} tabIndex={-1}>
        {strings.picker.title}
      </h1>
      {noticeView}
      <p>{strings.picker.intro}</p>
      <ul ref={tiles} className="profile-tiles" aria-label={strings.picker.profilesLabel}>
        {profiles.map((profile) => (
          <li key={profile.id}>
            <button
              type="button"
              className="profile-tile"
              data-profile-id={profile.id}
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
