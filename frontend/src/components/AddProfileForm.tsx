import { useId, useRef, useState, type FormEvent } from "react";

import { ApiError, createProfile, errorMessage, type CreatedProfile } from "../api.ts";
import { countCharacters, minPasswordLength } from "../passwords.ts";
import { strings } from "../strings.ts";
import { FieldError } from "./FieldError.tsx";
import { PasswordStrengthHint } from "./PasswordStrengthHint.tsx";

interface AddProfileFormProps {
  /** Receives the new profile and its recovery key, which the server sends only this once. */
  onCreated: (created: CreatedProfile) => void;
  onCancel: () => void;
}

// FieldErrors contains one sentence per input in error, shown under that input,
// and a sentence for the whole form when no single input is at fault.
interface FieldErrors {
  name?: string;
  password?: string;
  confirmation?: string;
  form?: string;
}

/**
 * Form in which an administrator creates a profile for someone else, with the
 * administrator's session. It does not sign in as the new profile.
 */
export function AddProfileForm({ onCreated, onCancel }: AddProfileFormProps) {
  const id = useId();
  const nameInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const confirmationInput = useRef<HTMLInputElement>(null);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitting, setSubmitting] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();

    const problems = checkInput(name, password, confirmation);
    if (!showErrors(problems)) {
      return;
    }

    setSubmitting(true);
    try {
      const created = await createProfile(name.trim(), password);
      onCreated(created);
    } catch (err) {
      showErrors(errorsFromServer(err));
      setSubmitting(false);
    }
  }

  // showErrors shows the errors and moves the focus to the first input in
  // error. It returns true when there are none.
  function showErrors(next: FieldErrors): boolean {
    setErrors(next);
    if (next.name !== undefined) {
      nameInput.current?.focus();
    } else if (next.password !== undefined) {
      passwordInput.current?.focus();
    } else if (next.confirmation !== undefined) {
      confirmationInput.current?.focus();
    }
    return Object.keys(next).length === 0;
  }

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{strings.addProfile.title}</h3>
      <p>{strings.addProfile.intro}</p>

      <div className="field">
        <label htmlFor={`${id}-name`}>{strings.addProfile.name}</label>
        <input
          ref={nameInput}
          id={`${id}-name`}
          type="text"
          autoComplete="off"
          autoFocus
          aria-invalid={errors.name !== undefined}
          aria-describedby={errors.name !== undefined ? `${id}-name-error` : undefined}
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <FieldError id={`${id}-name-error`} message={errors.name} />
      </div>

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.addProfile.password}</label>
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
        <label htmlFor={`${id}-confirmation`}>{strings.addProfile.confirmPassword}</label>
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

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting}>
          {submitting ? strings.addProfile.submitting : strings.addProfile.submit}
        </button>
        <button type="button" onClick={onCancel}>
          {strings.addProfile.cancel}
        </button>
      </div>
    </form>
  );
}

// checkInput finds the problems that need no request: a missing name, a
// password shorter than the server accepts, and a confirmation that differs.
function checkInput(name: string, password: string, confirmation: string): FieldErrors {
  const errors: FieldErrors = {};
  if (name.trim() === "") {
    errors.name = strings.addProfile.nameMissing;
  }
  if (countCharacters(password) < minPasswordLength) {
    errors.password = strings.newPassword.tooShort(minPasswordLength);
  } else if (password !== confirmation) {
    errors.confirmation = strings.newPassword.differ;
  }
  return errors;
}

// errorsFromServer puts the server's sentence under the input that its
// field names: "name" for a name that is taken or invalid (409 or 400),
// "password" for a password the server rejects (400). Any other error
// belongs to the whole form.
function errorsFromServer(err: unknown): FieldErrors {
  if (err instanceof ApiError && err.field === "name") {
    return { name: err.message };
  }
  if (err instanceof ApiError && err.field === "password") {
    return { password: err.message };
  }
  return { form: errorMessage(err) };
}
