import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import { ApiError, changePassword, errorMessage } from "../api.ts";
import { newPasswordErrors } from "../passwords.ts";
import { strings } from "../strings.ts";
import { codeErrorKind, codeInputError, normalizeCode } from "../twoStep.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { useTotpEnabled } from "../useTotpEnabled.ts";
import { CodeField } from "./CodeField.tsx";
import { FieldError } from "./FieldError.tsx";
import { PasswordStrengthHint } from "./PasswordStrengthHint.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface ChangePasswordFormProps {
  /** Called after the server changed the password. api.changePassword has already replaced the session. */
  onChanged: () => void;
  onCancel: () => void;
}

// FieldErrors contains one sentence per input in error, shown under that
// input, and a sentence for the whole form when no single input is at fault.
interface FieldErrors {
  current?: string;
  code?: string;
  password?: string;
  confirmation?: string;
  form?: string;
}

/**
 * Form that changes the signed-in profile's password. The server signs out
 * every other session of the profile and starts a new one for this page.
 * With two-step sign-in on, the form also requires a current code from the
 * authenticator app or a backup code.
 */
export function ChangePasswordForm({ onChanged, onCancel }: ChangePasswordFormProps) {
  const id = useId();
  const currentInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const confirmationInput = useRef<HTMLInputElement>(null);
  const [current, setCurrent] = useState("");
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitting, setSubmitting] = useState(false);
  const { enabled: codeNeeded, markEnabled: showCodeField } = useTotpEnabled();
  // Set when a code error arrives before the code field is on the page, so
  // that the field takes the focus once it appears.
  const [focusCodeField, setFocusCodeField] = useState(false);
  const countdown = useRetryCountdown();

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

    const problems: FieldErrors = { ...newPasswordErrors(password, confirmation) };
    if (current === "") {
      problems.current = strings.changePassword.currentMissing;
    }
    const codeProblem = codeNeeded ? codeInputError(code, "either") : null;
    if (codeProblem !== null) {
      problems.code = codeProblem;
    }
    if (!showErrors(problems)) {
      return;
    }

    countdown.clear();
    setSubmitting(true);
    try {
      await changePassword(current, password, codeNeeded ? normalizeCode(code) : undefined);
      onChanged();
    } catch (err) {
      // A wrong current password or code is cleared, like at sign-in. A
      // throttled attempt was not checked, so the fields keep their values.
      const codeError = codeErrorKind(err);
      if (err instanceof ApiError && err.field === "current") {
        setCurrent("");
        showErrors({ current: err.message });
      } else if (codeError === "code-required" || codeError === "invalid-code") {
        showCodeField();
        setFocusCodeField(!codeNeeded);
        setCode("");
        showErrors({ code: errorMessage(err) });
      } else if (err instanceof ApiError && err.field === "new") {
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
    if (next.current !== undefined) {
      currentInput.current?.focus();
    } else if (next.code !== undefined) {
      codeInput.current?.focus();
    } else if (next.password !== undefined) {
      passwordInput.current?.focus();
    } else if (next.confirmation !== undefined) {
      confirmationInput.current?.focus();
    }
    return Object.keys(next).length === 0;
  }

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate>
      <div className="field">
        <label htmlFor={`${id}-current`}>{strings.changePassword.current}</label>
        <input
          ref={currentInput}
          id={`${id}-current`}
          type="password"
          autoComplete="current-password"
          autoFocus
          aria-invalid={errors.current !== undefined}
          aria-describedby={errors.current !== undefined ? `${id}-current-error` : undefined}
          value={current}
          onChange={(event) => setCurrent(event.target.value)}
        />
        <FieldError id={`${id}-current-error`} message={errors.current} />
      </div>

      {codeNeeded && (
        <CodeField
          id={id}
          inputRef={codeInput}
          value={code}
          onChange={setCode}
          error={errors.code}
          hint={strings.changePassword.codeHint}
        />
      )}

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.changePassword.newPassword}</label>
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
        <label htmlFor={`${id}-confirmation`}>{strings.changePassword.confirmPassword}</label>
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
          {submitting ? strings.changePassword.submitting : strings.changePassword.submit}
        </button>
        <button type="button" onClick={onCancel}>
          {strings.changePassword.cancel}
        </button>
      </div>
    </form>
  );
}
