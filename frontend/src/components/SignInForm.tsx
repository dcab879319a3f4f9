import { useId, useRef, useState, type FormEvent } from "react";

import { login, type Profile } from "../api.ts";
import { strings } from "../strings.ts";

interface SignInFormProps {
  profile: Profile;
  onSignedIn: (profile: Profile) => void;
  /** Returns to the list of profiles. */
  onBack: () => void;
}

/** Password form for the chosen profile. A rejected password shows the server's message. */
export function SignInForm({ profile, onSignedIn, onBack }: SignInFormProps) {
  const id = useId();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const passwordInput = useRef<HTMLInputElement>(null);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (password === "") {
      setError(strings.signIn.passwordMissing);
      passwordInput.current?.focus();
      return;
    }

    setError(null);
    setSubmitting(true);
    try {
      const result = await login(profile.name, password);
      onSignedIn(result.profile);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setPassword("");
      setSubmitting(false);
      passwordInput.current?.focus();
    }
  }

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
      </div>

      {error !== null && (
        <p role="alert" className="alert">
          {error}
        </p>
      )}

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting}>
          {submitting ? strings.signIn.submitting : strings.signIn.submit}
        </button>
        <button type="button" onClick={onBack}>
          {strings.signIn.back}
        </button>
      </div>
    </form>
  );
}
