import { useId, useRef, useState, type FormEvent } from "react";

import { ApiError, errorMessage, renewRecoveryKey, type Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { FieldError } from "./FieldError.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface RenewRecoveryKeyFormProps {
  /** The signed-in profile, whose recovery key is replaced. */
  profile: Profile;
  /** Receives the new recovery key, which the server sends only this once. */
  onRenewed: (recoveryKey: string) => void;
  onCancel: () => void;
}

/**
 * Form that replaces the signed-in profile's recovery key after the server
 * checks its password. Wrong passwords count towards the same throttle as
 * failed sign-ins.
 */
export function RenewRecoveryKeyForm({ profile, onRenewed, onCancel }: RenewRecoveryKeyFormProps) {
  const id = useId();
  const passwordInput = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>(undefined);
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const countdown = useRetryCountdown();

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting || countdown.secondsLeft > 0) {
      return;
    }
    if (password === "") {
      setPasswordError(strings.renewRecoveryKey.passwordMissing);
      setFormError(null);
      passwordInput.current?.focus();
      return;
    }

    setPasswordError(undefined);
    setFormError(null);
    countdown.clear();
    setSubmitting(true);
    try {
      const renewed = await renewRecoveryKey(password);
      onRenewed(renewed.recoveryKey);
    } catch (err) {
      // A throttled attempt was not checked, so the password stays in the
      // field for the next attempt. A wrong one is cleared.
      if (err instanceof ApiError && err.field === "password") {
        setPasswordError(err.message);
        setPassword("");
        passwordInput.current?.focus();
      } else if (!countdown.startFrom(err)) {
        setFormError(errorMessage(err));
      }
      setSubmitting(false);
    }
  }

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate>
      <p>{strings.renewRecoveryKey.intro}</p>

      {/* Lets password managers tell which profile the password belongs to. */}
      <input type="text" name="username" autoComplete="username" value={profile.name} readOnly hidden />

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.renewRecoveryKey.password}</label>
        <input
          ref={passwordInput}
          id={`${id}-password`}
          type="password"
          autoComplete="current-password"
          autoFocus
          aria-invalid={passwordError !== undefined}
          aria-describedby={passwordError !== undefined ? `${id}-password-error` : undefined}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <FieldError id={`${id}-password-error`} message={passwordError} />
      </div>

      {formError !== null && (
        <p role="alert" className="alert">
          {formError}
        </p>
      )}
      <RetryNotice countdown={countdown} />

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting || countdown.secondsLeft > 0}>
          {submitting ? strings.renewRecoveryKey.submitting : strings.renewRecoveryKey.submit}
        </button>
        <button type="button" onClick={onCancel}>
          {strings.renewRecoveryKey.cancel}
        </button>
      </div>
    </form>
  );
}
