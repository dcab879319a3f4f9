import { useCallback, useRef, useState, type KeyboardEvent, type RefObject, type SyntheticEvent } from "react";

import { escapeOutcome } from "./unsavedChanges.ts";

/** The state and the handlers that a dialog with unsaved changes wires to its elements. */
export interface UnsavedChangesGuard {
  /** True while the dialog shows the confirmation to discard its changes. */
  asking: boolean;
  /** Closes the dialog, or first shows the confirmation when it has unsaved changes. For its Close button. */
  requestClose: () => void;
  /** Takes the question away and gives the focus back to where it was before. */
  keepEditing: () => void;
  /** The dialog's onKeyDown: Escape shows the confirmation, or while it is shown, goes back to editing. */
  handleKeyDown: (event: KeyboardEvent<HTMLDialogElement>) => void;
  /** The dialog's onCancel, for a close request that did not come from a key press the dialog saw. */
  handleCancel: (event: SyntheticEvent<HTMLDialogElement>) => void;
}

// Controls that can take the focus back when the element that had it is gone.
const focusableSelector = "input:not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])";

/**
 * Keeps a modal <dialog> with unsaved changes open on Escape and on its
 * Close button, and has it show a confirmation first (DiscardChangesConfirm).
 * Without changes, Escape and Close close it at once.
 *
 * Escape is handled on keydown, whose preventDefault keeps Chromium from
 * closing the dialog. NOTE: with the focus outside every control of the
 * dialog, the key press reaches only the dialog's cancel event. Chromium lets
 * a page cancel that event only once per user activation, so a second
 * Escape in a row then closes the dialog and loses its changes. Whether
 * WebKitGTK honours preventDefault on keydown has not been tested.
 */
export function useUnsavedChangesGuard(
  dirty: boolean,
  onClose: () => void,
  dialog: RefObject<HTMLDialogElement | null>,
): UnsavedChangesGuard {
  const [asking, setAsking] = useState(false);
  const focusBefore = useRef<HTMLElement | null>(null);

  const ask = useCallback(() => {
    const active = document.activeElement;
    focusBefore.current = active instanceof HTMLElement && active !== document.body ? active : null;
    setAsking(true);
  }, []);

  const requestClose = useCallback(() => {
    if (dirty) {
      ask();
    } else {
      onClose();
    }
  }, [dirty, ask, onClose]);

  const keepEditing = useCallback(() => {
    setAsking(false);
    const target = focusBefore.current;
    focusBefore.current = null;
    if (target !== null && target.isConnected) {
      target.focus();
    } else {
      dialog.current?.querySelector<HTMLElement>(focusableSelector)?.focus();
    }
  }, [dialog]);

  const handleKeyDown = useCallback(
    (event: KeyboardEvent<HTMLDialogElement>) => {
      if (event.key !== "Escape" || event.defaultPrevented || event.nativeEvent.isComposing) {
        return;
      }
      const outcome = escapeOutcome(dirty, asking);
      if (outcome === "close") {
        // The dialog's own cancel and close events follow.
        return;
      }
      event.preventDefault();
      if (outcome === "ask") {
        ask();
      } else {
        keepEditing();
      }
    },
    [dirty, asking, ask, keepEditing],
  );

  const handleCancel = useCallback(
    (event: SyntheticEvent<HTMLDialogElement>) => {
      if (!dirty && !asking) {
        return;
      }
      event.preventDefault();
      if (!asking) {
        ask();
      }
    },
    [dirty, asking, ask],
  );

  return { asking, requestClose, keepEditing, handleKeyDown, handleCancel };
}
