import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import { ApiError, deleteOwnProfile, errorMessage, type Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { codeErrorKind, codeInputError, normalizeCode } from "../twoStep.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { useTotpEnabled } from "../useTotpEnabled.ts";
import { CodeField } from "./CodeField.tsx";
import { FieldError } from "./FieldError.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface DeleteOwnProfileDialogProps {
  /** The signed-in profile, which this dialog deletes. */
  profile: Profile;
  /** Called after the server deleted the profile. The session has already ended by then. */
  onDeleted: () => void;
  /** Called when the dialog closes: Cancel, or the Escape key. */
  onClose: () => void;
}

/**
 * Modal dialog in which any signed-in profile deletes itself and all of its
 * conversations, after the server checks its password, and a current code
 * when two-step sign-in is on. Wrong passwords and codes count towards the
 * same throttle as failed sign-ins, and the last administrator cannot delete
 * itself (409).
 */
export function DeleteOwnProfileDialog({ profile, onDeleted, onClose }: DeleteOwnProfileDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>(undefined);
  const [code, setCode] = useState("");
  const [codeError, setCodeError] = useState<string | undefined>(undefined);
  const { enabled: codeNeeded, markEnabled: showCodeField } = useTotpEnabled();
  // Set when a code error arrives before the code field is on the page, so
  // that the field takes the focus once it renders.
  const [focusCodeField, setFocusCodeField] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const countdown = useRetryCountdown();

  // showModal makes the rest of the page inert and moves the focus into the
  // dialog. Removing the element from the page closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) {
      element.showModal();
    }
  }, []);

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
    const nextPasswordError = password === "" ? strings.deleteOwnProfile.passwordMissing : undefined;
    const nextCodeError = codeNeeded ? (codeInputError(code, "either") ?? undefined) : undefined;
    if (nextPasswordError !== undefined || nextCodeError !== undefined) {
      setPasswordError(nextPasswordError);
      setCodeError(nextCodeError);
      setFormError(null);
      if (nextPasswordError !== undefined) {
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
      await deleteOwnProfile(profile.id, password, codeNeeded ? normalizeCode(code) : undefined);
      onDeleted();
    } catch (err) {
      // A throttled attempt was not checked, so the fields keep their
      // values for the next attempt. A wrong password or code is cleared.
      const codeProblem = codeErrorKind(err);
      if (err instanceof ApiError && err.field === "password") {
        setPasswordError(err.message);
        setPassword("");
        passwordInput.current?.focus();
      } else if (codeProblem === "code-required" || codeProblem === "invalid-code") {
        showCodeField();
        setFocusCodeField(!codeNeeded);
        setCode("");
        setCodeError(errorMessage(err));
        codeInput.current?.focus();
      } else if (!countdown.startFrom(err)) {
        setFormError(errorMessage(err));
      }
      setSubmitting(false);
    }
  }

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-warning`}
      onClose={onClose}
    >
      <h2 id={`${id}-title`}>{strings.deleteOwnProfile.title}</h2>

      <form className="stack" onSubmit={handleSubmit} noValidate>
        <p id={`${id}-warning`} className="warning">
          {strings.deleteOwnProfile.warning(profile.name)}
        </p>

        {/* Lets password managers tell which profile the password belongs to. */}
        <input type="text" name="username" autoComplete="username" value={profile.name} readOnly hidden />

        <div className="field">
          <label htmlFor={`${id}-password`}>{strings.deleteOwnProfile.password}</label>
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
            hint={strings.deleteOwnProfile.codeHint}
          />
        )}

        {formError !== null && (
          <p role="alert" className="alert">
            {formError}
          </p>
        )}
        <RetryNotice countdown={countdown} />

        <div className="actions">
          <button type="submit" className="danger" disabled={submitting || countdown.secondsLeft > 0}>
            {submitting ? strings.deleteOwnProfile.submitting : strings.deleteOwnProfile.submit}
          </button>
          <button type="button" onClick={onClose}>
            {strings.deleteOwnProfile.cancel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
