import { useId, useState, type FormEvent } from "react";

import { errorMessage, recover, type Profile, type RecoverResult } from "../api.ts";
import { checkNewPassword } from "../passwords.ts";
import { strings } from "../strings.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { PasswordStrengthHint } from "./PasswordStrengthHint.tsx";
import { RecoveryKeyView } from "./RecoveryKeyView.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface RecoverFormProps {
  profile: Profile;
  onSignedIn: (profile: Profile) => void;
  /** Returns to the password form. */
  onBack: () => void;
}

/**
 * Sets a new password with the recovery key ("Forgot password?"). The server
 * replaces the recovery key and signs in, and the new key is shown once
 * before the workspace opens.
 */
export function RecoverForm({ profile, onSignedIn, onBack }: RecoverFormProps) {
  const id = useId();
  const [recoveryKey, setRecoveryKey] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [result, setResult] = useState<RecoverResult | null>(null);
  const countdown = useRetryCountdown();

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (countdown.secondsLeft > 0) {
      return;
    }

    const problem = recoveryKey.trim() === "" ? strings.recover.keyMissing : checkNewPassword(password, confirmation);
    if (problem !== null) {
      setError(problem);
      return;
    }

    setError(null);
    countdown.clear();
    setSubmitting(true);
    try {
      // The server accepts the key with or without its dashes and in any case.
      setResult(await recover(profile.name, recoveryKey.trim(), password));
    } catch (err) {
      if (!countdown.startFrom(err)) {
        setError(errorMessage(err));
      }
      setSubmitting(false);
    }
  }

  if (result !== null) {
    // recover() has already started the new session.
    const enterWorkspace = async () => onSignedIn(result.profile);
    return <RecoveryKeyView recoveryKey={result.recoveryKey} replacesOldKey onContinue={enterWorkspace} />;
  }

  return (
    <form className="stack" onSubmit={handleSubmit} noValidate aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{strings.recover.title(profile.name)}</h1>
      <p>{strings.recover.intro}</p>

      {/* Lets password managers tell which profile the new password belongs to. */}
      <input type="text" name="username" autoComplete="username" value={profile.name} readOnly hidden />

      <div className="field">
        <label htmlFor={`${id}-key`}>{strings.recover.recoveryKey}</label>
        <input
          id={`${id}-key`}
          type="text"
          className="recovery-key-input"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          autoFocus
          aria-describedby={`${id}-key-note`}
          value={recoveryKey}
          onChange={(event) => setRecoveryKey(event.target.value)}
        />
        <p id={`${id}-key-note`} className="hint">
          {strings.recover.oldKeyNote}
        </p>
      </div>

      <div className="field">
        <label htmlFor={`${id}-password`}>{strings.recover.newPassword}</label>
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
        <label htmlFor={`${id}-confirmation`}>{strings.recover.confirmPassword}</label>
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
