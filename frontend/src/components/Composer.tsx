import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { strings } from "../strings.ts";

interface ComposerProps {
  /** True while a reply streams: the message cannot be edited or sent. */
  disabled: boolean;
  /** Receives the message with surrounding white space removed, never blank. */
  onSend: (text: string) => void;
}

/** Renders the message field. Enter sends the message, Shift+Enter starts a new line. */
export function Composer({ disabled, onSend }: ComposerProps) {
  const id = useId();
  const [text, setText] = useState("");
  const textarea = useRef<HTMLTextAreaElement>(null);
  const wasDisabled = useRef(disabled);

  // A disabled textarea loses the focus, so give it back when the reply ends.
  useEffect(() => {
    if (wasDisabled.current && !disabled) {
      textarea.current?.focus();
    }
    wasDisabled.current = disabled;
  }, [disabled]);

  function submit() {
    const message = text.trim();
    if (disabled || message === "") {
      return;
    }
    onSend(message);
    setText("");
  }

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    submit();
  }

  function handleKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // While an input method composes text, Enter confirms the composition.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={handleSubmit}>
      <label htmlFor={`${id}-message`} className="visually-hidden">
        {strings.composer.label}
      </label>
      <textarea
        ref={textarea}
        id={`${id}-message`}
        rows={3}
        autoFocus
        placeholder={strings.composer.placeholder}
        disabled={disabled}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={handleKeyDown}
      />
      <button type="submit" className="primary" disabled={disabled || text.trim() === ""}>
        {strings.composer.send}
      </button>
    </form>
  );
}
