import { useId, useReducer, useRef, useState, type FormEvent } from "react";

import { errorMessage, isLoginChallenge, login, type Profile } from "../api.ts";
import { firstSignInStep, nextSignInStep } from "../signInSteps.ts";
import { strings } from "../strings.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { RetryNotice } from "./RetryNotice.tsx";
import { SignInCodeForm } from "./SignInCodeForm.tsx";

interface SignInFormProps {
  profile: Profile;
  onSignedIn: (profile: Profile) => void;
  /** Returns to the list of profiles. */
  onBack: () => void;
  /** Opens the form that sets a new password with the recovery key. */
  onForgotPassword: () => void;
}

/**
 * Password form for the chosen profile, followed by the code step when the
 * profile has two-step sign-in. A rejected password shows the server's
 * message. After too many failures the server rejects attempts for a while
 * (HTTP 429), and the Sign in button stays disabled until then.
 */
export function SignInForm({ profile, onSignedIn, onBack, onForgotPassword }: SignInFormProps) {
  const id = useId();
  const [step, dispatch] = useReducer(nextSignInStep, firstSignInStep);
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const countdown = useRetryCountdown();
  const passwordInput = useRef<HTMLInputElement>(null);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (countdown.secondsLeft > 0) {
      return;
    }
    if (password === "") {
      setError(strings.signIn.passwordMissing);
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
      onSignedIn(result.profile);
    } catch (err) {
      // A throttled attempt was not checked, so the password stays in the
      // field for the next attempt. A wrong one is cleared.
      if (!countdown.startFrom(err)) {
        setError(errorMessage(err));
        setPassword("");
      }
      setSubmitting(false);
      passwordInput.current?.focus();
    }
  }

  if (step.kind === "code") {
    return (
      <section className="stack" aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>{strings.signIn.title(profile.name)}</h1>
        <SignInCodeForm
          challenge={step.challenge}
          codeKind={step.codeKind}
          onCodeKindChange={(codeKind) => dispatch({ type: "code-kind-chosen", codeKind })}
          onSignedIn={onSignedIn}
          onRejected={(err) => dispatch({ type: "code-rejected", error: err })}
          onBack={() => dispatch({ type: "back" })}
        />
      </section>
    );
  }

  const alert = error ?? step.notice;
  return (
    <form className="stack" onSubmit={handleSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{strings.signIn.title(profile.name)}</h1>

      {/* Lets password managers tell which profile the password belongs to. */}
      <input type="text" name="username" autoComplete="username" value={profile.name} readOnly hidden />

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.signIn.password}</label>
        <input
          ref={passwordInput}
          id={`${id}-password`}
          type="password"
          autoComplete="current-password"
          autoFocus
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <button type="button" className="link" onClick={onForgotPassword}>
          {strings.signIn.forgotPassword}
        </button>
      </div>

      {alert !== null && (
        <p role="alert" className="alert">
          {alert}
        </p>
      )}
      <RetryNotice countdown={countdown} />

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting || countdown.secondsLeft > 0}>
          {submitting ? strings.signIn.submitting : strings.signIn.submit}
        </button>
        <button type="button" onClick={onBack}>
          {strings.signIn.back}
        </button>
      </div>
    </form>
  );
}
