import { useEffect, useRef } from "react";

import { focusKindOf, isApplePlatform, matchShortcut, type ShortcutAction } from "./shortcuts.ts";

/** The function each shortcut runs. A shortcut without one is left to the browser. */
export type ShortcutHandlers = Partial<Record<ShortcutAction, () => void>>;

/**
 * Runs the workspace's keyboard shortcuts (shortcuts.ts) while enabled is
 * true. It listens on the document in the bubbling phase, so a control that
 * handles a key itself and calls preventDefault, such as a menu closing on
 * Escape, keeps it. A matched press is prevented, which keeps the browser's
 * own use of the keys, such as Ctrl+K for its address bar, from running too.
 */
export function useShortcuts(enabled: boolean, handlers: ShortcutHandlers): void {
  // The latest handlers, read when a key is pressed, so that new functions
  // on every render do not add and remove the listener each time.
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });

  useEffect(() => {
    if (!enabled) {
      return;
    }
    const apple = isApplePlatform(navigator.platform);

    function handleKeyDown(event: KeyboardEvent) {
      if (event.defaultPrevented) {
        return;
      }
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      const action = matchShortcut(event, focusKindOf(focused), apple);
      const handler = action === null ? undefined : latest.current[action];
      if (handler === undefined) {
        return;
      }
      event.preventDefault();
      handler();
    }

    document.addEventListener("keydown", handleKeyDown);
    return () => document.removeEventListener("keydown", handleKeyDown);
  }, [enabled]);
}
