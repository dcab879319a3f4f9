import type { Ref } from "react";

import { strings } from "../strings.ts";
import { FieldError } from "./FieldError.tsx";

interface CodeFieldProps {
  /** Prefix of the ids of the input, its error and its hint. */
  id: string;
  inputRef: Ref<HTMLInputElement>;
  value: string;
  onChange: (value: string) => void;
  /** The sentence to show under the field, or undefined when the code has no error. */
  error: string | undefined;
  /** A sentence under the field that says why the code is needed, if any. */
  hint?: string;
}

/**
 * Renders the field for a current code from the authenticator app or a
 * backup code, which the forms that change a profile with two-step sign-in
 * ask for next to the password.
 */
export function CodeField({ id, inputRef, value, onChange, error, hint }: CodeFieldProps) {
  const described = [error !== undefined ? `${id}-code-error` : "", hint !== undefined ? `${id}-code-hint` : ""]
    .filter((part) => part !== "")
    .join(" ");
  return (
    <div className="field">
      <label htmlFor={`${id}-code`}>{strings.twoStep.eitherCode}</label>
      <input
        ref={inputRef}
        id={`${id}-code`}
        type="text"
        className="code-input"
        autoComplete="one-time-code"
        autoCapitalize="off"
        spellCheck={false}
        aria-invalid={error !== undefined}
        aria-describedby={described === "" ? undefined : described}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      <FieldError id={`${id}-code-error`} message={error} />
      {hint !== undefined && (
        <p id={`${id}-code-hint`} className="hint">
          {hint}
        </p>
      )}
    </div>
  );
}
