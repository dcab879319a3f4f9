import { useEffect, useId, useReducer, useRef, useState, type FormEvent } from "react";

import { errorMessage, isLoginChallenge, login, type Profile } from "../api.ts";
import { firstSignInStep, nextSignInStep } from "../signInSteps.ts";
import { strings } from "../strings.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { RetryNotice } from "./RetryNotice.tsx";
import { SignInCodeForm } from "./SignInCodeForm.tsx";

interface UnlockDialogProps {
  /** The locked profile, whose name signs in again. */
  profile: Profile;
  onUnlocked: (profile: Profile) => void;
  onSwitchProfile: () => void;
}

/**
 * Modal prompt over the workspace of a locked profile, which the caller makes
 * inert. Signing in again with the profile's password unlocks it, and the
 * workspace underneath keeps its state. A profile with two-step sign-in
 * also needs a code after the password. The prompt cannot be dismissed: it
 * leaves only by unlocking or by switching profile.
 *
 * It is not a native <dialog>: the HTML standard makes a dialog's cancel event
 * cancelable only after a fresh user activation, so a second Escape would
 * close it whatever the page does.
 */
export function UnlockDialog({ profile, onUnlocked, onSwitchProfile }: UnlockDialogProps) {
  const id = useId();
  const passwordInput = useRef<HTMLInputElement>(null);
  const [step, dispatch] = useReducer(nextSignInStep, firstSignInStep);
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const countdown = useRetryCountdown();

  // The element focused before the prompt opened, such as the composer, read
  // during the first render because the password field's autoFocus moves the
  // focus before any effect runs. It gets the focus back after unlocking.
  const [focusedBefore] = useState(() => document.activeElement);
  useEffect(() => {
    return () => {
      if (focusedBefore instanceof HTMLElement) {
        focusedBefore.focus();
      }
    };
  }, [focusedBefore]);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (countdown.secondsLeft > 0) {
      return;
    }
    if (password === "") {
      setError(strings.unlock.passwordMissing);
      passwordInput.current?.focus();
      return;
    }

    setError(null);
    dispatch({ type: "password-submitted" });
    countdown.clear();
    setSubmitting(true);
    try {
      const result = await login(profile.name, password);
      if (isLoginChallenge(result)) {
        // The password is not needed again, so it does not stay in memory.
        setPassword("");
        setSubmitting(false);
        dispatch({ type: "challenge-received", challenge: result.challenge });
        return;
      }
      onUnlocked(result.profile);
    } catch (err) {
      if (!countdown.startFrom(err)) {
        setError(errorMessage(err));
        setPassword("");
      }
      setSubmitting(false);
      passwordInput.current?.focus();
    }
  }

  const alert = error ?? (step.kind === "password" ? step.notice : null);
  const switchProfileButton = (
    <button type="button" onClick={onSwitchProfile}>
      {strings.unlock.switchProfile}
    </button>
  );
  const passwordForm = (
    <form className="stack" onSubmit={handleSubmit} noValidate>
      <p id={`${id}-intro`}>{strings.unlock.intro(profile.name)}</p>

      {/* Lets password managers tell which profile the password belongs to. */}
      <input type="text" name="username" autoComplete="username" value={profile.name} readOnly hidden />

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.unlock.password}</label>
        <input
          ref={passwordInput}
          id={`${id}-password`}
          type="password"
          autoComplete="current-password"
          autoFocus
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </div>

      {alert !== null && (
        <p role="alert" className="alert">
          {alert}
        </p>
      )}
      <RetryNotice countdown={countdown} />

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting || countdown.secondsLeft > 0}>
          {submitting ? strings.unlock.submitting : strings.unlock.submit}
        </button>
        {switchProfileButton}
      </div>
    </form>
  );

  return (
    <div className="dialog-backdrop">
      <div
        role="dialog"
        aria-modal="true"
        className="dialog"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-intro`}
      >
        <div className="stack">
          <h2 id={`${id}-title`}>{strings.unlock.title}</h2>
          {step.kind === "code" ? (
            <SignInCodeForm
              introId={`${id}-intro`}
              challenge={step.challenge}
              codeKind={step.codeKind}
              onCodeKindChange={(codeKind) => dispatch({ type: "code-kind-chosen", codeKind })}
              onSignedIn={onUnlocked}
              onRejected={(err) => dispatch({ type: "code-rejected", error: err })}
              onBack={() => dispatch({ type: "back" })}
              extraActions={switchProfileButton}
            />
          ) : (
            passwordForm
          )}
        </div>
      </div>
    </div>
  );
}
