import { useEffect, useId, useRef, type FormEvent, type KeyboardEvent } from "react";

import { strings } from "../strings.ts";

interface ComposerProps {
  /**
   * The draft. The caller owns it so that it can put back a message that the
   * server rejected because the profile was locked.
   */
  text: string;
  onTextChange: (text: string) => void;
  /**
   * True while a reply streams or the profile is locked: the message cannot be
   * edited or sent. The field takes the focus when this turns false.
   */
  disabled: boolean;
  /**
   * False while sending must wait, such as during the wait after a 429
   * response: the message can still be edited. Defaults to true.
   */
  canSend?: boolean;
  /** Receives the message with surrounding white space removed, never blank. */
  onSend: (text: string) => void;
}

/**
 * Renders the message field. Enter sends the message and empties the field,
 * Shift+Enter starts a new line.
 */
export function Composer({ text, onTextChange, disabled, canSend = true, onSend }: ComposerProps) {
  const id = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const wasDisabled = useRef(disabled);

  // A disabled textarea loses the focus, so give it back when the reply ends
  // or the profile is unlocked.
  useEffect(() => {
    if (wasDisabled.current && !disabled) {
      textarea.current?.focus();
    }
    wasDisabled.current = disabled;
  }, [disabled]);

  function submit() {
    const message = text.trim();
    if (disabled || !canSend || message === "") {
      return;
    }
    onSend(message);
    onTextChange("");
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
        onChange={(event) => onTextChange(event.target.value)}
        onKeyDown={handleKeyDown}
      />
      <button type="submit" className="primary" disabled={disabled || !canSend || text.trim() === ""}>
        {strings.composer.send}
      </button>
    </form>
  );
}
