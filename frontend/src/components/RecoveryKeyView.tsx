import { Fragment, useId, useState } from "react";

import { errorMessage } from "../api.ts";
import { strings } from "../strings.ts";

interface RecoveryKeyViewProps {
  /** The key exactly as the server sent it, groups and dashes included. */
  recoveryKey: string;
  /** True when the key replaces an earlier one, after a recovery. */
  replacesOldKey: boolean;
  /** Signs in, or enters the workspace. A rejection is shown on this screen. */
  onContinue: () => Promise<void>;
}

type CopyState = "idle" | "copied" | "failed";

/**
 * Shows a recovery key the one time the server sends it. Continue stays
 * disabled until the user confirms that the key is saved.
 */
export function RecoveryKeyView({ recoveryKey, replacesOldKey, onContinue }: RecoveryKeyViewProps) {
  const id = useId();
  const [saved, setSaved] = useState(false);
  const [copyState, setCopyState] = useState<CopyState>("idle");
  const [continuing, setContinuing] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function handleCopy() {
    try {
      // navigator.clipboard is missing outside a secure context, and the
      // desktop window's custom scheme may not count as one. The key stays
      // selectable text for copying by hand.
      if (navigator.clipboard === undefined) {
        throw new Error("The clipboard API is not available.");
      }
      await navigator.clipboard.writeText(recoveryKey);
      setCopyState("copied");
    } catch {
      setCopyState("failed");
    }
  }

  async function handleContinue() {
    setError(null);
    setContinuing(true);
    try {
      await onContinue();
    } catch (err) {
      setError(errorMessage(err));
      setContinuing(false);
    }
  }

  return (
    <section className="stack" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{replacesOldKey ? strings.recoveryKey.newTitle : strings.recoveryKey.title}</h1>
      <p>{strings.recoveryKey.intro}</p>
      {replacesOldKey && <p className="notice">{strings.recoveryKey.replaced}</p>}

      <div className="field">
        <p className="field-label">{strings.recoveryKey.label}</p>
        <code className="recovery-key">{withBreaksAfterDashes(recoveryKey)}</code>
      </div>
      <div className="actions">
        <button type="button" onClick={() => void handleCopy()}>
          {strings.recoveryKey.copy}
        </button>
      </div>
      <p aria-live="polite" className={copyState === "failed" ? "alert" : "hint"}>
        {copyState === "copied" && strings.recoveryKey.copied}
        {copyState === "failed" && strings.recoveryKey.copyFailed}
      </p>

      <p className="warning">{strings.recoveryKey.warning}</p>

      <label className="checkbox">
        <input type="checkbox" checked={saved} onChange={(event) => setSaved(event.target.checked)} />
        {strings.recoveryKey.confirm}
      </label>

      {error !== null && (
        <p role="alert" className="alert">
          {error}
        </p>
      )}

      <button type="button" className="primary" disabled={!saved || continuing} onClick={() => void handleContinue()}>
        {continuing ? strings.recoveryKey.continuing : strings.recoveryKey.continue}
      </button>
    </section>
  );
}

// withBreaksAfterDashes lets a long key wrap only between its groups. A <wbr>
// adds no text, so the key selected and copied by hand is the server's string.
function withBreaksAfterDashes(key: string) {
  const groups = key.split("-");
  return groups.map((group, index) => (
    <Fragment key={index}>
      {group}
      {index < groups.length - 1 && (
        <>
          -<wbr />
        </>
      )}
    </Fragment>
  ));
}
