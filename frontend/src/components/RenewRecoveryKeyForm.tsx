import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import { ApiError, errorMessage, renewRecoveryKey, type Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { codeErrorKind, codeInputError, normalizeCode } from "../twoStep.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { useTotpEnabled } from "../useTotpEnabled.ts";
import { CodeField } from "./CodeField.tsx";
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
 * failed sign-ins. With two-step sign-in on, the form also requires a
 * current code, because the recovery key can turn two-step sign-in off.
 */
export function RenewRecoveryKeyForm({ profile, onRenewed, onCancel }: RenewRecoveryKeyFormProps) {
  const id = useId();
  const passwordInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>(undefined);
  const [codeError, setCodeError] = useState<string | undefined>(undefined);
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const countdown = useRetryCountdown();
  const { enabled: codeNeeded, markEnabled: showCodeField } = useTotpEnabled();
  // Set when a code error arrives before the code field is on the page, so
  // that the field takes the focus once it appears.
  const [focusCodeField, setFocusCodeField] = useState(false);

  useEffect(() => {
    if (focusCodeField && codeNeeded) {
      codeInput.current?.focus();
      setFocusCodeField(false);
    }
  }, [focusCodeField, codeNeeded]);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting || countdown.secondsLeft > 0) {
      return;
    }
    const missingPassword = password === "" ? strings.renewRecoveryKey.passwordMissing : undefined;
    const codeProblem = codeNeeded ? (codeInputError(code, "either") ?? undefined) : undefined;
    if (missingPassword !== undefined || codeProblem !== undefined) {
      setPasswordError(missingPassword);
      setCodeError(codeProblem);
      setFormError(null);
      if (missingPassword !== undefined) {
        passwordInput.current?.focus();
      } else {
        codeInput.current?.focus();
      }
      return;
    }

    setPasswordError(undefined);
    setCodeError(undefined);
    setFormError(null);
    countdown.clear();
    setSubmitting(true);
    try {
      const renewed = await renewRecoveryKey(password, codeNeeded ? normalizeCode(code) : undefined);
      onRenewed(renewed.recoveryKey);
    } catch (err) {
      // A throttled attempt was not checked, so the password and code stay
      // in their fields for the next attempt. A wrong one is cleared.
      const codeErrorFound = codeErrorKind(err);
      if (err instanceof ApiError && err.field === "password") {
        setPasswordError(err.message);
        setPassword("");
        passwordInput.current?.focus();
      } else if (codeErrorFound === "code-required" || codeErrorFound === "invalid-code") {
        showCodeField();
        setFocusCodeField(!codeNeeded);
        setCodeError(errorMessage(err));
        setCode("");
        codeInput.current?.focus();
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

      {codeNeeded && (
        <CodeField
          id={id}
          inputRef={codeInput}
          value={code}
          onChange={setCode}
          error={codeError}
          hint={strings.renewRecoveryKey.codeHint}
        />
      )}

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
