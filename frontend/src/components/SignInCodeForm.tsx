import { useId, useRef, useState, type FormEvent, type ReactNode } from "react";

import { errorMessage, loginWithCode, type Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { codeErrorKind, codeInputError, normalizeCode } from "../twoStep.ts";
import { useRetryCountdown } from "../useRetryCountdown.ts";
import { FieldError } from "./FieldError.tsx";
import { RetryNotice } from "./RetryNotice.tsx";

interface SignInCodeFormProps {
  /** Id of the paragraph that explains which code to enter, for a dialog's aria-describedby. */
  introId?: string;
  /** The server's challenge from the password step. */
  challenge: string;
  /** Whether the field takes a code from the authenticator app or a backup code. */
  codeKind: "app" | "backup";
  onCodeKindChange: (codeKind: "app" | "backup") => void;
  /** Called once the code was right. api.loginWithCode has already started the session. */
  onSignedIn: (profile: Profile) => void;
  /**
   * Called with the error when the server rejected the code. The caller
   * returns to the password step when the challenge has expired.
   */
  onRejected: (err: unknown) => void;
  /** Returns to the password step. */
  onBack: () => void;
  /** Further buttons after Verify and Back, such as Switch profile in the unlock prompt. */
  extraActions?: ReactNode;
}

/**
 * Form of the second step of signing in or unlocking with two-step
 * sign-in: a code from the authenticator app, or a backup code instead. A
 * wrong code is cleared and its error shown under the field. Wrong codes count towards
 * the same throttle as wrong passwords, so after too many the Verify button
 * stays disabled for the wait that the server names.
 */
export function SignInCodeForm({
  introId,
  challenge,
  codeKind,
  onCodeKindChange,
  onSignedIn,
  onRejected,
  onBack,
  extraActions,
}: SignInCodeFormProps) {
  const id = useId();
  const codeInput = useRef<HTMLInputElement>(null);
  const [code, setCode] = useState("");
  const [codeError, setCodeError] = useState<string | undefined>(undefined);
  const [formError, setFormError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const countdown = useRetryCountdown();

  function switchCodeKind() {
    setCode("");
    setCodeError(undefined);
    setFormError(null);
    onCodeKindChange(codeKind === "app" ? "backup" : "app");
  }

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting || countdown.secondsLeft > 0) {
      return;
    }
    const problem = codeInputError(code, codeKind);
    if (problem !== null) {
      setCodeError(problem);
      setFormError(null);
      codeInput.current?.focus();
      return;
    }

    setCodeError(undefined);
    setFormError(null);
    countdown.clear();
    setSubmitting(true);
    try {
      const result = await loginWithCode(challenge, normalizeCode(code));
      onSignedIn(result.profile);
    } catch (err) {
      setSubmitting(false);
      // A throttled attempt was not checked, so the code stays in the field.
      // A wrong one is cleared, so that the next code goes into an empty field.
      switch (codeErrorKind(err)) {
        case "invalid-code":
          setCodeError(errorMessage(err));
          setCode("");
          break;
        case "rate-limited":
          countdown.startFrom(err);
          break;
        case "challenge-expired":
          // The caller replaces this form with the password step.
          onRejected(err);
          return;
        default:
          setFormError(errorMessage(err));
      }
      onRejected(err);
      codeInput.current?.focus();
    }
  }

  const isApp = codeKind === "app";
  return (
    <form className="stack" onSubmit={handleSubmit} noValidate>
      <p id={introId}>{isApp ? strings.twoStep.appIntro : strings.twoStep.backupIntro}</p>

      <div className="field">
        <label htmlFor={`${id}-code`}>{isApp ? strings.twoStep.appCode : strings.twoStep.backupCode}</label>
        {/* The key makes a new input for the other kind of code, which
            takes the focus through autoFocus when it appears. */}
        <input
          key={codeKind}
          ref={codeInput}
          id={`${id}-code`}
          type="text"
          className="code-input"
          inputMode={isApp ? "numeric" : "text"}
          autoComplete="one-time-code"
          autoCapitalize="off"
          spellCheck={false}
          autoFocus
          aria-invalid={codeError !== undefined}
          aria-describedby={codeError !== undefined ? `${id}-code-error` : undefined}
          value={code}
          onChange={(event) => setCode(event.target.value)}
        />
        <FieldError id={`${id}-code-error`} message={codeError} />
        <button type="button" className="link" onClick={switchCodeKind}>
          {isApp ? strings.twoStep.useBackupCode : strings.twoStep.useAppCode}
        </button>
      </div>

      {formError !== null && (
        <p role="alert" className="alert">
          {formError}
        </p>
      )}
      <RetryNotice countdown={countdown} />

      <div className="actions">
        <button type="submit" className="primary" disabled={submitting || countdown.secondsLeft > 0}>
          {submitting ? strings.twoStep.submitting : strings.twoStep.submit}
        </button>
        <button type="button" onClick={onBack}>
          {strings.twoStep.back}
        </button>
        {extraActions}
      </div>
    </form>
  );
}
