import { Fragment, useEffect, useId, useRef, useState } from "react";

import { errorMessage } from "../api.ts";
import { strings } from "../strings.ts";

interface RecoveryKeyViewProps {
  /** The key exactly as the server sent it, groups and dashes included. */
  recoveryKey: string;
  /** True when the key replaces an earlier one, after a recovery. */
  replacesOldKey: boolean;
  /** A further notice under the intro, such as that the recovery turned two-step sign-in off. */
  note?: string | undefined;
  /**
   * Name of the profile that an administrator just created for someone else.
   * With it, the text tells the administrator to give the key to that person.
   * Without it, the key is the reader's own.
   */
  givenTo?: string;
  /** Level of the title: 1 on a screen of its own (the default), 3 inside a titled dialog. */
  headingLevel?: 1 | 3;
  /**
   * Label of the button that leaves the view, such as "Done" when leaving
   * needs no request. Without it the button reads "Continue", and "Signing
   * in…" while onContinue runs.
   */
  continueLabel?: string;
  /**
   * Signs in, enters the workspace, or returns to the list of profiles. A
   * rejection is shown on this screen.
   */
  onContinue: () => Promise<void>;
}

type CopyState = "idle" | "copied" | "failed";

/**
 * Shows a recovery key the one time the server sends it. Continue stays
 * disabled until the user confirms that the key is saved, and until then the
 * browser prompts the user to confirm before leaving or reloading the page,
 * which would lose the key for good. The title takes the focus when the view
 * appears, so that a screen reader starts reading there.
 */
export function RecoveryKeyView({
  recoveryKey,
  replacesOldKey,
  note,
  givenTo,
  headingLevel = 1,
  continueLabel: continueLabelProp,
  onContinue,
}: RecoveryKeyViewProps) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [saved, setSaved] = useState(false);
  const [copyState, setCopyState] = useState<CopyState>("idle");
  const [continuing, setContinuing] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  // Browsers show their own prompt on beforeunload, never a page's text, and
  // only after the user has interacted with the page (MDN,
  // BeforeUnloadEvent.returnValue). Filling in the form that led here counts.
  useEffect(() => {
    if (saved) {
      return;
    }
    const warnBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Chrome before version 119 ignores preventDefault here and prompts
      // only when returnValue is set to a truthy value.
      event.returnValue = true;
    };
    window.addEventListener("beforeunload", warnBeforeUnload);
    return () => window.removeEventListener("beforeunload", warnBeforeUnload);
  }, [saved]);

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

  const Heading = headingLevel === 1 ? "h1" : "h3";
  let title: string = replacesOldKey ? strings.recoveryKey.newTitle : strings.recoveryKey.title;
  let intro: string = strings.recoveryKey.intro;
  let warning: string = strings.recoveryKey.warning;
  let confirm: string = strings.recoveryKey.confirm;
  let continueLabel: string = continuing ? strings.recoveryKey.continuing : strings.recoveryKey.continue;
  if (continueLabelProp !== undefined) {
    continueLabel = continueLabelProp;
  }
  if (givenTo !== undefined) {
    title = strings.recoveryKey.givenTo.title(givenTo);
    intro = strings.recoveryKey.givenTo.intro(givenTo);
    warning = strings.recoveryKey.givenTo.warning(givenTo);
    confirm = strings.recoveryKey.givenTo.confirm(givenTo);
    continueLabel = strings.recoveryKey.givenTo.done;
  }

  return (
    <section className="stack" aria-labelledby={`${id}-title`}>
      <Heading ref={heading} id={`${id}-title`} tabIndex={-1}>
        {title}
      </Heading>
      <p>{intro}</p>
      {replacesOldKey && <p className="notice">{strings.recoveryKey.replaced}</p>}
      {note !== undefined && <p className="notice">{note}</p>}

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

      <p className="warning">{warning}</p>

      <label className="checkbox">
        <input type="checkbox" checked={saved} onChange={(event) => setSaved(event.target.checked)} />
        {confirm}
      </label>

      {error !== null && (
        <p role="alert" className="alert">
          {error}
        </p>
      )}

      <button type="button" className="primary" disabled={!saved || continuing} onClick={() => void handleContinue()}>
        {continueLabel}
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
