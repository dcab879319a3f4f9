import { useId, type Ref } from "react";

import type { ApiKeyAction } from "../settingsForm.ts";
import { strings } from "../strings.ts";
import { FieldError } from "./FieldError.tsx";

interface ApiKeyFieldProps {
  /** True when the server has a key stored. */
  apiKeySet: boolean;
  /**
   * True when the base URL in the form differs from the saved one. The
   * server keeps a stored key only for the URL it was given for.
   */
  urlChanged: boolean;
  action: ApiKeyAction;
  /** The new key typed, for the "replace" action. */
  value: string;
  onActionChange: (action: ApiKeyAction) => void;
  onValueChange: (value: string) => void;
  error: string | undefined;
  inputRef: Ref<HTMLInputElement>;
}

/**
 * Renders the write-only API key input of the settings form. The server
 * never returns a stored key, so a stored key shows as "A key is saved" with
 * Replace and Remove, and the input only ever contains a new key.
 */
export function ApiKeyField({
  apiKeySet,
  urlChanged,
  action,
  value,
  onActionChange,
  onValueChange,
  error,
  inputRef,
}: ApiKeyFieldProps) {
  const id = useId();

  if (apiKeySet && action === "keep") {
    return (
      <div className="field">
        <span className="field-label">{strings.settings.apiKey}</span>
        <div className="actions api-key-saved">
          <p role="status">{strings.settings.apiKeySaved}</p>
          <button type="button" onClick={() => onActionChange("replace")}>
            {strings.settings.apiKeyReplace}
          </button>
          <button type="button" onClick={() => onActionChange("remove")}>
            {strings.settings.apiKeyRemove}
          </button>
        </div>
        {urlChanged && <p className="warning">{strings.settings.apiKeyUrlChanged}</p>}
        <FieldError id={`${id}-error`} message={error} />
      </div>
    );
  }

  if (apiKeySet && action === "remove") {
    return (
      <div className="field">
        <span className="field-label">{strings.settings.apiKey}</span>
        <div className="actions api-key-saved">
          <p role="status">{strings.settings.apiKeyRemoving}</p>
          <button type="button" onClick={() => onActionChange("keep")}>
            {strings.settings.apiKeyKeep}
          </button>
        </div>
        <FieldError id={`${id}-error`} message={error} />
      </div>
    );
  }

  const describedBy = [error !== undefined ? `${id}-error` : null, `${id}-hint`].filter((part) => part !== null);
  return (
    <div className="field">
      <label htmlFor={`${id}-key`}>{apiKeySet ? strings.settings.apiKeyNew : strings.settings.apiKey}</label>
      <input
        ref={inputRef}
        id={`${id}-key`}
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        aria-invalid={error !== undefined}
        aria-describedby={describedBy.join(" ")}
        value={value}
        onChange={(event) => onValueChange(event.target.value)}
      />
      <FieldError id={`${id}-error`} message={error} />
      <p id={`${id}-hint`} className="hint">
        {strings.settings.apiKeyHint}
      </p>
      {apiKeySet && (
        <div className="actions">
          <button type="button" className="link" onClick={() => onActionChange("keep")}>
            {strings.settings.apiKeyKeep}
          </button>
        </div>
      )}
    </div>
  );
}
