import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import { changePassword, errorMessage } from "../api.ts";
import { checkNewPassword } from "../passwords.ts";
import { strings } from "../strings.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { PasswordStrengthHint } from "./PasswordStrengthHint.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface ChangePasswordDialogProps {
  /** Called when the dialog closes: Cancel, Close, or the Escape key. */
  onClose: () => void;
}

/**
 * Modal dialog that changes the signed-in profile's password. The server
 * signs out every other session of the profile and starts a new one for this
 * page, which api.changePassword keeps.
 */
export function ChangePasswordDialog({ onClose }: ChangePasswordDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [done, setDone] = useState(false);
  const countdown = useRetryCountdown();

  // showModal makes the rest of the page inert and moves the focus into the
  // dialog. Removing the element from the page closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) {
      element.showModal();
    }
  }, []);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (countdown.secondsLeft > 0) {
      return;
    }

    const problem = current === "" ? strings.changePassword.currentMissing : checkNewPassword(password, confirmation);
    if (problem !== null) {
      setError(problem);
      return;
    }

    setError(null);
    countdown.clear();
    setSubmitting(true);
    try {
      await changePassword(current, password);
      setDone(true);
    } catch (err) {
      if (!countdown.startFrom(err)) {
        setError(errorMessage(err));
      }
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <dialog ref={dialog} className="dialog" aria-labelledby={`${id}-title`} onClose={onClose}>
      <h2 id={`${id}-title`}>{strings.changePassword.title}</h2>

      {done ? (
        <div className="stack">
          <p role="status">{strings.changePassword.done}</p>
          <div className="actions">
            <button type="button" className="primary" autoFocus onClick={onClose}>
              {strings.changePassword.close}
            </button>
          </div>
        </div>
      ) : (
        <form className="stack" onSubmit={handleSubmit} noValidate>
          <div className="field">
            <label htmlFor={`${id}-current`}>{strings.changePassword.current}</label>
            <input
              id={`${id}-current`}
              type="password"
              autoComplete="current-password"
              autoFocus
              value={current}
              onChange={(event) => setCurrent(event.target.value)}
            />
          </div>

          <div className="field">
            <label htmlFor={`${id}-password`}>{strings.changePassword.newPassword}</label>
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
            <label htmlFor={`${id}-confirmation`}>{strings.changePassword.confirmPassword}</label>
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
              {submitting ? strings.changePassword.submitting : strings.changePassword.submit}
            </button>
            <button type="button" onClick={onClose}>
              {strings.changePassword.cancel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
