import { useId, useRef, useState, type FormEvent } from "react";

import { ApiError, errorMessage } from "../api.ts";
import { strings } from "../strings.ts";
import { codeErrorKind, codeInputError, normalizeCode } from "../twoStep.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { CodeField } from "./CodeField.tsx";
import { FieldError } from "./FieldError.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface PasswordAndCodeFormProps {
  /** The signed-in profile's name, for password managers. */
  profileName: string;
  /** The sentence above the fields that describes what the form does. */
  intro: string;
  submitLabel: string;
  submittingLabel: string;
  /** True for a button that makes the profile less protected, such as Turn off. */
  dangerous?: boolean;
  /** Sends the request. A rejection is shown on the form. */
  onSubmit: (password: string, code: string) => Promise<void>;
  onCancel: () => void;
}

// FieldErrors contains one sentence per input in error, and a sentence for
// the whole form when no single input is at fault.
interface FieldErrors {
  password?: string;
  code?: string;
  form?: string;
}

/**
 * Form that requires the password and a current code, from the
 * authenticator app or a backup code, before a change to two-step sign-in:
 * turning it off, or new backup codes. Wrong passwords and codes count
 * towards the same throttle as failed sign-ins.
 */
export function PasswordAndCodeForm({
  profileName,
  intro,
  submitLabel,
  submittingLabel,
  dangerous = false,
  onSubmit,
  onCancel,
}: PasswordAndCodeFormProps) {
  const id = useId();
  const passwordInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitting, setSubmitting] = useState(false);
  const countdown = useRetryCountdown();

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting || countdown.secondsLeft > 0) {
      return;
    }

    const problems: FieldErrors = {};
    if (password === "") {
      problems.password = strings.security.passwordMissing;
    }
    const codeProblem = codeInputError(code, "either");
    if (codeProblem !== null) {
      problems.code = codeProblem;
    }
    if (!showErrors(problems)) {
      return;
    }

    countdown.clear();
    setSubmitting(true);
    try {
      await onSubmit(password, normalizeCode(code));
    } catch (err) {
      // A wrong password or code is cleared, like at sign-in. A throttled
      // attempt was not checked, so the fields keep their values.
      if (err instanceof ApiError && err.field === "password") {
        setPassword("");
        showErrors({ password: err.message });
      } else if (codeErrorKind(err) === "invalid-code") {
        setCode("");
        showErrors({ code: errorMessage(err) });
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
    if (next.password !== undefined) {
      passwordInput.current?.focus();
    } else if (next.code !== undefined) {
      codeInput.current?.focus();
    }
    return Object.keys(next).length === 0;
  }

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate>
      <p>{intro}</p>

      {/* Lets password managers tell which profile the password belongs to. */}
      <input type="text" name="username" autoComplete="username" value={profileName} readOnly hidden />

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.security.password}</label>
        <input
          ref={passwordInput}
          id={`${id}-password`}
          type="password"
          autoComplete="current-password"
          autoFocus
          aria-invalid={errors.password !== undefined}
          aria-describedby={errors.password !== undefined ? `${id}-password-error` : undefined}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <FieldError id={`${id}-password-error`} message={errors.password} />
      </div>

      <CodeField id={id} inputRef={codeInput} value={code} onChange={setCode} error={errors.code} />

      {errors.form !== undefined && (
        <p role="alert" className="alert">
          {errors.form}
        </p>
      )}
      <RetryNotice countdown={countdown} />

      <div className="actions">
        <button
          type="submit"
          className={dangerous ? "danger" : "primary"}
          disabled={submitting || countdown.secondsLeft > 0}
        >
          {submitting ? submittingLabel : submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          {strings.security.cancel}
        </button>
      </div>
    </form>
  );
}
