import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { strings } from "../strings.ts";

interface MessageEditorProps {
  /** The message's text when editing starts. */
  initialText: string;
  /** Receives the changed text, with surrounding white space removed, never blank. */
  onSave: (text: string) => void;
  onCancel: () => void;
  /** True while a reply of the thread is being written: saving waits. */
  busy: boolean;
}

/**
 * Edits a user message in place. Saving sends the changed message in a new
 * thread that forks at this message, and Escape cancels.
 */
export function MessageEditor({ initialText, onSave, onCancel, busy }: MessageEditorProps) {
  const id = useId();
  const [text, setText] = useState(initialText);
  const [error, setError] = useState<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const element = textarea.current;
    if (element !== null) {
      element.focus();
      element.setSelectionRange(element.value.length, element.value.length);
    }
  }, []);

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = text.trim();
    if (trimmed === "") {
      setError(strings.editMessage.empty);
      return;
    }
    onSave(trimmed);
  }

  function handleKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    }
  }

  return (
    <form className="stack message-editor" onSubmit={handleSubmit}>
      <label htmlFor={`${id}-text`} className="visually-hidden">
        {strings.editMessage.label}
      </label>
      <textarea
        ref={textarea}
        id={`${id}-text`}
        rows={Math.min(10, Math.max(2, text.split("\n").length))}
        value={text}
        aria-describedby={`${id}-hint${error !== null ? ` ${id}-error` : ""}`}
        aria-invalid={error !== null}
        onChange={(event) => {
          setText(event.target.value);
          setError(null);
        }}
        onKeyDown={handleKeyDown}
      />
      {error !== null && (
        <p id={`${id}-error`} role="alert" className="field-error">
          {error}
        </p>
      )}
      <p id={`${id}-hint`} className="hint">
        {strings.editMessage.hint}
      </p>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {strings.editMessage.save}
        </button>
        <button type="button" onClick={onCancel}>
          {strings.editMessage.cancel}
        </button>
      </div>
    </form>
  );
}
