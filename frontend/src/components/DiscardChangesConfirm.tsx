import { useEffect, useId, useRef } from "react";

import { strings } from "../strings.ts";

interface DiscardChangesConfirmProps {
  onKeepEditing: () => void;
  onDiscard: () => void;
  /** The question, when the dialog would lose more than typed text. Without it, the question about unsaved changes. */
  question?: string | undefined;
  /** Label of the button that discards. Without it, "Discard changes". */
  discardLabel?: string | undefined;
}

/**
 * Renders, inside a dialog, the confirmation before it discards unsaved
 * changes. Keep editing takes the focus when it appears, so that Enter or
 * a second Escape does not lose anything.
 */
export function DiscardChangesConfirm({
  onKeepEditing,
  onDiscard,
  question = strings.unsavedChanges.question,
  discardLabel = strings.unsavedChanges.discard,
}: DiscardChangesConfirmProps) {
  const id = useId();
  const keepButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    keepButton.current?.focus();
  }, []);

  return (
    <div className="discard-confirm" role="group" aria-labelledby={`${id}-question`}>
      <p id={`${id}-question`}>{question}</p>
      <div className="actions">
        <button ref={keepButton} type="button" onClick={onKeepEditing}>
          {strings.unsavedChanges.keepEditing}
        </button>
        <button type="button" className="danger" onClick={onDiscard}>
          {discardLabel}
        </button>
      </div>
    </div>
  );
}
