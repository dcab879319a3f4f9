import { useId, useState, type FormEvent } from "react";

import { createProfile, login, type Profile } from "../api.ts";
import { strings } from "../strings.ts";

/** Minimum password length, the same limit the server enforces for new profiles. */
export const minPasswordLength = 8;

interface FirstRunFormProps {
  onSignedIn: (profile: Profile) => void;
}

/**
 * Form shown on a fresh install: it creates the first profile, which becomes
 * the administrator, and then signs in with it.
 */
export function FirstRunForm({ onSignedIn }: FirstRunFormProps) {
  const id = useId();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();

    const problem = validate(name, password, confirmation);
    if (problem !== null) {
      setError(problem);
      return;
    }

    setError(null);
    setSubmitting(true);
    try {
      await createProfile(name.trim(), password);
      const result = await login(name.trim(), password);
      onSignedIn(result.profile);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setSubmitting(false);
    }
  }

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{strings.firstRun.title}</h1>
      <p>{strings.firstRun.intro}</p>

      <div className="field">
        <label htmlFor={`${id}-name`}>{strings.firstRun.name}</label>
        <input
          id={`${id}-name`}
          type="text"
          autoComplete="username"
          autoFocus
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
      </div>

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.firstRun.password}</label>
        <input
          id={`${id}-password`}
          type="password"
          autoComplete="new-password"
          aria-describedby={`${id}-password-hint`}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <p id={`${id}-password-hint`} className="hint">
          {strings.firstRun.passwordHint}
        </p>
      </div>

      <div className="field">
        <label htmlFor={`${id}-confirmation`}>{strings.firstRun.confirmPassword}</label>
        <input
          id={`${id}-confirmation`}
          type="password"
          autoComplete="new-password"
          value={confirmation}
          onChange={(event) => setConfirmation(event.target.value)}
        />
      </div>

      {error !== null && (
        <p role="alert" className="alert">
          {error}
        </p>
      )}

      <button type="submit" className="primary" disabled={submitting}>
        {submitting ? strings.firstRun.submitting : strings.firstRun.submit}
      </button>
    </form>
  );
}

// validate returns the first problem with the form's values, or null.
function validate(name: string, password: string, confirmation: string): string | null {
  if (name.trim() === "") {
    return strings.firstRun.nameMissing;
  }
  if (password.length < minPasswordLength) {
    return strings.firstRun.passwordTooShort;
  }
  if (password !== confirmation) {
    return strings.firstRun.passwordsDiffer;
  }
  return null;
}
