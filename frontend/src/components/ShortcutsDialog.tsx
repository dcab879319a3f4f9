import { Fragment, useEffect, useId, useRef } from "react";

import { isApplePlatform, keyNames, shortcuts } from "../shortcuts.ts";
import { strings } from "../strings.ts";
import "../shortcuts.css";

interface ShortcutsDialogProps {
  /** Called when the dialog closes: Close, or the Escape key. */
  onClose: () => void;
}

/** Modal dialog that lists the workspace's keyboard shortcuts with their keys. */
export function ShortcutsDialog({ onClose }: ShortcutsDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const apple = isApplePlatform(navigator.platform);

  // showModal makes the rest of the page inert and moves the focus into the
  // dialog. Removing the element from the page closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) {
      element.showModal();
    }
  }, []);

  return (
    <dialog
      ref={dialog}
      className="dialog dialog-wide"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-intro`}
      onClose={onClose}
    >
      <h2 id={`${id}-title`}>{strings.shortcuts.title}</h2>

      <div className="stack">
        <p id={`${id}-intro`}>{strings.shortcuts.intro}</p>

        <table className="shortcut-table">
          <thead>
            <tr>
              <th scope="col">{strings.shortcuts.actionColumn}</th>
              <th scope="col">{strings.shortcuts.keysColumn}</th>
            </tr>
          </thead>
          <tbody>
            {shortcuts.map((shortcut) => (
              <tr key={shortcut.action}>
                <th scope="row">{strings.shortcuts.actions[shortcut.action]}</th>
                <td>
                  <KeyCombinationView names={keyNames(shortcut.keys, apple)} />
                  {shortcut.action === "stopReply" && (
                    <span className="shortcut-note">{strings.shortcuts.stopInComposer}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>

        <p className="hint">{strings.shortcuts.textFieldNote}</p>

        <div className="actions dialog-footer">
          <button type="button" onClick={onClose}>
            {strings.shortcuts.close}
          </button>
        </div>
      </div>
    </dialog>
  );
}

/** Renders the keys pressed together, such as Ctrl + K, each in a <kbd>. */
function KeyCombinationView({ names }: { names: string[] }) {
  return (
    <kbd className="key-combination">
      {names.map((name, index) => (
        <Fragment key={name}>
          {index > 0 && <span className="key-plus">{strings.shortcuts.plus}</span>}
          <kbd>{name}</kbd>
        </Fragment>
      ))}
    </kbd>
  );
}
