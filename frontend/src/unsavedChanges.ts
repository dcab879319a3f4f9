// The rules of a dialog that confirms before it discards unsaved changes:
// when its values count as changed, and what Escape does.
// useUnsavedChangesGuard.ts applies them to a dialog.

/** Reports whether two sets of form values differ in any field, compared with ===. */
export function valuesDiffer<Values extends object>(current: Values, saved: Values): boolean {
  const keys = new Set([...Object.keys(current), ...Object.keys(saved)]);
  for (const key of keys) {
    if ((current as Record<string, unknown>)[key] !== (saved as Record<string, unknown>)[key]) {
      return true;
    }
  }
  return false;
}

/**
 * The result of Escape in a dialog: close it, show the confirmation to
 * discard its changes, or hide that confirmation and go back to editing.
 */
export type EscapeOutcome = "close" | "ask" | "keep-editing";

/** Returns the result of Escape, given whether the dialog has unsaved changes and shows the confirmation already. */
export function escapeOutcome(dirty: boolean, asking: boolean): EscapeOutcome {
  if (asking) {
    return "keep-editing";
  }
  return dirty ? "ask" : "close";
}
