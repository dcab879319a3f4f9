import { useId, useState, type FormEvent } from "react";

import { createProfile, errorMessage, isLoginChallenge, login, type Profile } from "../api.ts";
import { checkNewPassword } from "../passwords.ts";
import { strings } from "../strings.ts";
import { PasswordStrengthHint } from "./PasswordStrengthHint.tsx";
import { RecoveryKeyView } from "./RecoveryKeyView.tsx";

interface FirstRunFormProps {
  onSignedIn: (profile: Profile) => void;
}

// CreatedStep is the profile just created, kept until the user has saved the
// recovery key and signs in with the password typed in the form.
interface CreatedStep {
  name: string;
  password: string;
  recoveryKey: string;
}

/**
 * Form shown on a fresh install: it creates the first profile, which becomes
 * the administrator, shows its recovery key once, and then signs in.
 */
export function FirstRunForm({ onSignedIn }: FirstRunFormProps) {
  const id = useId();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [created, setCreated] = useState<CreatedStep | null>(null);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();

    const problem = name.trim() === "" ? strings.firstRun.nameMissing : checkNewPassword(password, confirmation);
    if (problem !== null) {
      setError(problem);
      return;
    }

    setError(null);
    setSubmitting(true);
    try {
      const result = await createProfile(name.trim(), password);
      setCreated({ name: result.profile.name, password, recoveryKey: result.recoveryKey });
    } catch (err) {
      setError(errorMessage(err));
      setSubmitting(false);
    }
  }

  if (created !== null) {
    const signIn = async () => {
      const result = await login(created.name, created.password);
      if (isLoginChallenge(result)) {
        throw new Error(strings.twoStep.unexpectedChallenge);
      }
      onSignedIn(result.profile);
    };
    return <RecoveryKeyView recoveryKey={created.recoveryKey} replacesOldKey={false} onContinue={signIn} />;
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
        <PasswordStrengthHint id={`${id}-password-hint`} password={password} />
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
