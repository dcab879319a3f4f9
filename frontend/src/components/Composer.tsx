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
   * True while the profile is locked: the field is disabled. It takes the
   * focus back when this turns false, unless the focus has moved elsewhere.
   */
  disabled: boolean;
  /**
   * True while a reply is being written: the message cannot be edited or
   * sent, but the field keeps the focus, and Escape in it calls onStop.
   * Defaults to false.
   */
  busy?: boolean;
  /** Stops the reply being written. */
  onStop?: () => void;
  /**
   * False while sending must wait, such as during the wait after a 429
   * response: the message can still be edited. Defaults to true.
   */
  canSend?: boolean;
  /** Receives the message with surrounding white space removed, never blank. */
  onSend: (text: string) => void;
  /**
   * Called once, when the field first renders, and the field takes the
   * focus if it returns true. Defaults to taking it.
   */
  takeFocus?: () => boolean;
}

/**
 * Renders the message field. Enter sends the message and empties the field,
 * Shift+Enter starts a new line. The field keeps the focus after sending,
 * also when Send was clicked.
 */
export function Composer({
  text,
  onTextChange,
  disabled,
  busy = false,
  onStop,
  canSend = true,
  onSend,
  takeFocus,
}: ComposerProps) {
  const id = useId();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const blocked = disabled || busy;
  const wasBlocked = useRef(blocked);
  const takeFocusAtFirst = useRef(takeFocus);

  useEffect(() => {
    if (takeFocusAtFirst.current?.() ?? true) {
      textarea.current?.focus();
    }
  }, []);

  // A disabled textarea loses the focus, and so does the Stop button when
  // the reply ends, leaving it on <body>. The field takes it back when the
  // reply ends or the profile is unlocked, unless the user moved it to
  // another control meanwhile.
  useEffect(() => {
    const active = document.activeElement;
    const focusLost = active === null || active === document.body;
    if (wasBlocked.current && !blocked && (focusLost || active === textarea.current)) {
      textarea.current?.focus();
    }
    wasBlocked.current = blocked;
  }, [blocked]);

  function submit() {
    const message = text.trim();
    if (blocked || !canSend || message === "") {
      return;
    }
    onSend(message);
    onTextChange("");
    textarea.current?.focus();
  }

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    submit();
  }

  function handleKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // While an input method composes text, Enter and Escape belong to it.
    if (event.nativeEvent.isComposing) {
      return;
    }
    if (event.key === "Escape" && busy && onStop !== undefined) {
      event.preventDefault();
      onStop();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey) {
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
        placeholder={strings.composer.placeholder}
        disabled={disabled}
        readOnly={busy}
        aria-disabled={busy || undefined}
        value={text}
        onChange={(event) => onTextChange(event.target.value)}
        onKeyDown={handleKeyDown}
      />
      <button type="submit" className="primary" disabled={blocked || !canSend || text.trim() === ""}>
        {strings.composer.send}
      </button>
    </form>
  );
}
