import { useEffect, useId, useRef, useState } from "react";

import { errorMessage } from "../api.ts";
import { saveTextFile } from "../desktopSave.ts";
import { strings } from "../strings.ts";
import { backupCodesFileText, localDay } from "../twoStep.ts";
import { writeClipboard } from "../useCopyText.ts";

interface BackupCodesViewProps {
  /** The codes exactly as the server sent them, in the form xxxx-xxxx-xx. */
  codes: readonly string[];
  /** True when the codes replace earlier ones, which no longer work. */
  replacesOldCodes: boolean;
  /** The signed-in profile's name, written at the top of the saved file. */
  profileName: string;
  /** Called when the user ticks or clears the box that confirms that the codes are saved. */
  onSavedChange: (saved: boolean) => void;
  /** Leaves the view. */
  onDone: () => void;
}

// Feedback is the sentence under Copy and Save about their last use.
type Feedback = { text: string; failed: boolean } | null;

/**
 * Shows the backup codes of two-step sign-in the one time the server sends
 * them, with Copy, and Save as a file. Done stays disabled until the user
 * confirms that the codes are saved, and until then the browser prompts
 * the user to confirm before leaving or reloading the page. The title takes
 * the focus when the view appears, so that a screen reader starts there.
 */
export function BackupCodesView({ codes, replacesOldCodes, profileName, onSavedChange, onDone }: BackupCodesViewProps) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [saved, setSaved] = useState(false);
  const [feedback, setFeedback] = useState<Feedback>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  // Browsers show their own prompt on beforeunload, and only after the user
  // has interacted with the page, which entering the code that led here did.
  useEffect(() => {
    if (saved) {
      return;
    }
    const warnBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Chrome before version 119 prompts only when returnValue is truthy.
      event.returnValue = true;
    };
    window.addEventListener("beforeunload", warnBeforeUnload);
    return () => window.removeEventListener("beforeunload", warnBeforeUnload);
  }, [saved]);

  async function handleCopy() {
    try {
      await writeClipboard(codes.join("\n"));
      setFeedback({ text: strings.security.codesCopied, failed: false });
    } catch {
      setFeedback({ text: strings.security.codesCopyFailed, failed: true });
    }
  }

  async function handleSave() {
    const text = backupCodesFileText(profileName, codes, localDay(new Date()));
    try {
      const outcome = await saveTextFile(strings.security.codesFileName, text);
      const sentences = {
        saved: strings.security.codesSaved,
        downloaded: strings.security.codesDownloaded,
        cancelled: strings.security.codesSaveCancelled,
      };
      setFeedback({ text: sentences[outcome], failed: false });
    } catch (err) {
      setFeedback({ text: strings.security.codesSaveFailed(errorMessage(err)), failed: true });
    }
  }

  function handleSavedChange(checked: boolean) {
    setSaved(checked);
    onSavedChange(checked);
  }

  return (
    <section className="stack" aria-labelledby={`${id}-title`}>
      <h4 ref={heading} id={`${id}-title`} tabIndex={-1}>
        {replacesOldCodes ? strings.security.newCodesTitle : strings.security.codesTitle}
      </h4>
      <p>{strings.security.codesIntro}</p>
      {replacesOldCodes && <p className="notice">{strings.security.codesReplaced}</p>}

      <div className="field">
        <p className="field-label" id={`${id}-label`}>
          {strings.security.codesLabel}
        </p>
        <ol className="backup-codes" aria-labelledby={`${id}-label`}>
          {codes.map((code) => (
            <li key={code}>
              <code>{code}</code>
            </li>
          ))}
        </ol>
      </div>
      <div className="actions">
        <button type="button" onClick={() => void handleCopy()}>
          {strings.security.copyCodes}
        </button>
        <button type="button" onClick={() => void handleSave()}>
          {strings.security.saveCodes}
        </button>
      </div>
      <p aria-live="polite" className={feedback?.failed === true ? "alert" : "hint"}>
        {feedback?.text}
      </p>

      <p className="warning">{strings.security.codesWarning}</p>

      <label className="checkbox">
        <input type="checkbox" checked={saved} onChange={(event) => handleSavedChange(event.target.checked)} />
        {strings.security.codesConfirm}
      </label>

      <button type="button" className="primary" disabled={!saved} onClick={onDone}>
        {strings.security.codesDone}
      </button>
    </section>
  );
}
