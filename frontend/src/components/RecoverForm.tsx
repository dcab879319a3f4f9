import { useId, useRef, useState, type FormEvent } from "react";

import { ApiError, errorMessage, recover, type Profile, type RecoverResult } from "../api.ts";
import { newPasswordErrors } from "../passwords.ts";
import { strings } from "../strings.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { FieldError } from "./FieldError.tsx";
import { PasswordStrengthHint } from "./PasswordStrengthHint.tsx";
import { RecoveryKeyView } from "./RecoveryKeyView.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface RecoverFormProps {
  profile: Profile;
  onSignedIn: (profile: Profile) => void;
  /** Returns to the password form. */
  onBack: () => void;
}

// FieldErrors contains one sentence per input in error, shown under that
// input, and a sentence for the whole form when no single input is at fault,
// such as a wrong recovery key (401).
interface FieldErrors {
  recoveryKey?: string;
  password?: string;
  confirmation?: string;
  form?: string;
}

/**
 * Sets a new password with the recovery key ("Forgot password?"). The server
 * replaces the recovery key, turns two-step sign-in off and signs in, and
 * the new key is shown once before the workspace opens. The form warns
 * before and confirms after that two-step sign-in goes off, because the
 * user has to turn it on again with a new entry in the authenticator app.
 */
export function RecoverForm({ profile, onSignedIn, onBack }: RecoverFormProps) {
  const id = useId();
  const keyInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const confirmationInput = useRef<HTMLInputElement>(null);
  const [recoveryKey, setRecoveryKey] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitting, setSubmitting] = useState(false);
  const [result, setResult] = useState<RecoverResult | null>(null);
  const countdown = useRetryCountdown();

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting || countdown.secondsLeft > 0) {
      return;
    }

    const problems: FieldErrors = { ...newPasswordErrors(password, confirmation) };
    if (recoveryKey.trim() === "") {
      problems.recoveryKey = strings.recover.keyMissing;
    }
    if (!showErrors(problems)) {
      return;
    }

    countdown.clear();
    setSubmitting(true);
    try {
      // The server accepts the key with or without its dashes and in any case.
      setResult(await recover(profile.name, recoveryKey.trim(), password));
    } catch (err) {
      if (err instanceof ApiError && err.field === "recoveryKey") {
        showErrors({ recoveryKey: err.message });
      } else if (err instanceof ApiError && err.field === "newPassword") {
        showErrors({ password: err.message });
      } else if (countdown.startFrom(err)) {
        setErrors({});
      } else {
        showErrors({ form: errorMessage(err) });
      }
      setSubmitting(false);
    }
  }

  // showErrors shows the errors and moves the focus to the first input in
  // error. It returns true when there are none.
  function showErrors(next: FieldErrors): boolean {
    setErrors(next);
    if (next.recoveryKey !== undefined) {
      keyInput.current?.focus();
    } else if (next.password !== undefined) {
      passwordInput.current?.focus();
    } else if (next.confirmation !== undefined) {
      confirmationInput.current?.focus();
    }
    return Object.keys(next).length === 0;
  }

  if (result !== null) {
    // recover() has already started the new session.
    const enterWorkspace = async () => onSignedIn(result.profile);
    return (
      <RecoveryKeyView
        recoveryKey={result.recoveryKey}
        replacesOldKey
        note={result.totpDisabled === true ? strings.recover.twoStepDisabled : undefined}
        onContinue={enterWorkspace}
      />
    );
  }

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{strings.recover.title(profile.name)}</h1>
      <p>{strings.recover.intro}</p>
      <p className="notice">{strings.recover.twoStepNote}</p>

      {/* Lets password managers tell which profile the new password belongs to. */}
      <input type="text" name="username" autoComplete="username" value={profile.name} readOnly hidden />

      <div className="field">
        <label htmlFor={`${id}-key`}>{strings.recover.recoveryKey}</label>
        <input
          ref={keyInput}
          id={`${id}-key`}
          type="text"
          className="recovery-key-input"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          autoFocus
          aria-invalid={errors.recoveryKey !== undefined}
          aria-describedby={
            errors.recoveryKey !== undefined ? `${id}-key-error ${id}-key-note` : `${id}-key-note`
          }
          value={recoveryKey}
          onChange={(event) => setRecoveryKey(event.target.value)}
        />
        <FieldError id={`${id}-key-error`} message={errors.recoveryKey} />
        <p id={`${id}-key-note`} className="hint">
          {strings.recover.oldKeyNote}
        </p>
      </div>

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.recover.newPassword}</label>
        <input
          ref={passwordInput}
          id={`${id}-password`}
          type="password"
          autoComplete="new-password"
          aria-invalid={errors.password !== undefined}
          aria-describedby={
            errors.password !== undefined ? `${id}-password-error ${id}-password-hint` : `${id}-password-hint`
          }
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <FieldError id={`${id}-password-error`} message={errors.password} />
        <PasswordStrengthHint id={`${id}-password-hint`} password={password} />
      </div>

      <div className="field">
        <label htmlFor={`${id}-confirmation`}>{strings.recover.confirmPassword}</label>
        <input
          ref={confirmationInput}
          id={`${id}-confirmation`}
          type="password"
          autoComplete="new-password"
          aria-invalid={errors.confirmation !== undefined}
          aria-describedby={errors.confirmation !== undefined ? `${id}-confirmation-error` : undefined}
          value={confirmation}
          onChange={(event) => setConfirmation(event.target.value)}
        />
        <FieldError id={`${id}-confirmation-error`} message={errors.confirmation} />
      </div>

      {errors.form !== undefined && (
        <p role="alert" className="alert">
          {errors.form}
        </p>
      )}
      <RetryNotice countdown={countdown} />

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting || countdown.secondsLeft > 0}>
          {submitting ? strings.recover.submitting : strings.recover.submit}
        </button>
        <button type="button" onClick={onBack}>
          {strings.recover.back}
        </button>
      </div>
    </form>
  );
}
