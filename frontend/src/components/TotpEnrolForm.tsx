import { useEffect, useId, useRef, useState, type FormEvent } from "react";

import { ApiError, enableTotp, errorMessage, type TotpSetup } from "../api.ts";
import { strings } from "../strings.ts";
import { codeErrorKind, codeInputError, groupSecret, normalizeCode } from "../twoStep.ts";
import { writeClipboard } from "../useCopyText.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { FieldError } from "./FieldError.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface TotpEnrolFormProps {
  /** The secret that POST /api/auth/totp/setup returned. */
  setup: TotpSetup;
  /** Receives the backup codes once the first code was right and two-step sign-in is on. */
  onEnabled: (backupCodes: string[]) => void;
  /**
   * Called when the server no longer has this setup (409), with its
   * sentence, so that the caller shows the status again.
   */
  onSetupLost: (message: string) => void;
  onCancel: () => void;
}

type CopyState = "idle" | "copied" | "failed";

/**
 * Form of the step that adds Hearth to an authenticator app: the QR code,
 * the same key as text in groups of four with Copy, and the field for the
 * app's first code. Two-step sign-in is on only once that code was right.
 */
export function TotpEnrolForm({ setup, onEnabled, onSetupLost, onCancel }: TotpEnrolFormProps) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  const passwordInput = useRef<HTMLInputElement>(null);
  const [code, setCode] = useState("");
  const [codeError, setCodeError] = useState<string | undefined>(undefined);
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>(undefined);
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [copyState, setCopyState] = useState<CopyState>("idle");
  const countdown = useRetryCountdown();

  useEffect(() => {
    heading.current?.focus();
  }, []);

  async function handleCopy() {
    try {
      // Apps accept the key without the spaces of its groups.
      await writeClipboard(setup.secret);
      setCopyState("copied");
    } catch {
      setCopyState("failed");
    }
  }

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting || countdown.secondsLeft > 0) {
      return;
    }
    const problem = codeInputError(code, "app");
    const missingPassword = password === "" ? strings.security.passwordMissing : undefined;
    if (problem !== null || missingPassword !== undefined) {
      setCodeError(problem ?? undefined);
      setPasswordError(missingPassword);
      setFormError(null);
      if (missingPassword !== undefined) {
        passwordInput.current?.focus();
      } else {
        codeInput.current?.focus();
      }
      return;
    }

    setCodeError(undefined);
    setPasswordError(undefined);
    setFormError(null);
    countdown.clear();
    setSubmitting(true);
    try {
      const result = await enableTotp(normalizeCode(code), password);
      onEnabled(result.backupCodes);
    } catch (err) {
      setSubmitting(false);
      if (err instanceof ApiError && err.code === "no_pending_totp") {
        onSetupLost(err.message);
        return;
      }
      // A wrong password or code is cleared, so that the next one goes
      // into an empty field. A throttled attempt was not checked, so both
      // stay.
      if (err instanceof ApiError && err.field === "password") {
        setPassword("");
        setPasswordError(err.message);
        passwordInput.current?.focus();
        return;
      }
      if (codeErrorKind(err) === "invalid-code" || codeErrorKind(err) === "code-required") {
        setCode("");
        setCodeError(errorMessage(err));
      } else if (!countdown.startFrom(err)) {
        setFormError(errorMessage(err));
      }
      codeInput.current?.focus();
    }
  }

  return (
    <section className="stack" aria-labelledby={`${id}-title`}>
      <h4 ref={heading} id={`${id}-title`} tabIndex={-1}>
        {strings.security.enrolTitle}
      </h4>

      <p>{strings.security.scanStep}</p>
      <img className="totp-qr" src={setup.qr} alt={strings.security.qrAlt} />

      <p id={`${id}-secret-step`}>{strings.security.secretStep}</p>
      <div className="field">
        <p className="field-label">{strings.security.secretLabel}</p>
        <code className="totp-secret" aria-describedby={`${id}-secret-step`}>
          {groupSecret(setup.secret)}
        </code>
      </div>
      <div className="actions">
        <button type="button" onClick={() => void handleCopy()}>
          {strings.security.copySecret}
        </button>
      </div>
      <p aria-live="polite" className={copyState === "failed" ? "alert" : "hint"}>
        {copyState === "copied" && strings.security.secretCopied}
        {copyState === "failed" && strings.security.secretCopyFailed}
      </p>

      <form className="stack" onSubmit={handleSubmit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-password`}>{strings.security.password}</label>
          <input
            ref={passwordInput}
            id={`${id}-password`}
            type="password"
            autoComplete="current-password"
            aria-invalid={passwordError !== undefined}
            aria-describedby={passwordError !== undefined ? `${id}-password-error` : undefined}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
          <FieldError id={`${id}-password-error`} message={passwordError} />
        </div>

        <div className="field">
          <label htmlFor={`${id}-code`}>{strings.twoStep.appCode}</label>
          <input
            ref={codeInput}
            id={`${id}-code`}
            type="text"
            className="code-input"
            inputMode="numeric"
            autoComplete="one-time-code"
            spellCheck={false}
            aria-invalid={codeError !== undefined}
            aria-describedby={codeError !== undefined ? `${id}-code-error ${id}-code-hint` : `${id}-code-hint`}
            value={code}
            onChange={(event) => setCode(event.target.value)}
          />
          <FieldError id={`${id}-code-error`} message={codeError} />
          <p id={`${id}-code-hint`} className="hint">
            {strings.security.firstCodeHint}
          </p>
        </div>

        <p className="hint">{strings.security.signsOutOthers}</p>
        {formError !== null && (
          <p role="alert" className="alert">
            {formError}
          </p>
        )}
        <RetryNotice countdown={countdown} />

        <div className="actions">
          <button type="submit" className="primary" disabled={submitting || countdown.secondsLeft > 0}>
            {submitting ? strings.security.enabling : strings.security.enable}
          </button>
          <button type="button" onClick={onCancel}>
            {strings.security.cancel}
          </button>
        </div>
      </form>
    </section>
  );
}
