import { useEffect, useId, useRef, useState, type SyntheticEvent } from "react";

import type { Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { ChangePasswordForm } from "./ChangePasswordForm.tsx";
import { RecoveryKeyView } from "./RecoveryKeyView.tsx";
import { RenewRecoveryKeyForm } from "./RenewRecoveryKeyForm.tsx";

interface ChangePasswordDialogProps {
  /** The signed-in profile. */
  profile: Profile;
  /** Called when the dialog closes: Cancel, Close, Done, or the Escape key. */
  onClose: () => void;
}

// Step is what the dialog shows: the password form, the notice after a
// password change, the form that replaces the recovery key, or the new key.
type Step =
  | { kind: "change-password" }
  | { kind: "password-changed" }
  | { kind: "renew-recovery-key" }
  | { kind: "new-recovery-key"; recoveryKey: string };

/**
 * Modal dialog that changes the signed-in profile's password, or replaces its
 * recovery key and shows the new one once. Both steps need the password.
 */
export function ChangePasswordDialog({ profile, onClose }: ChangePasswordDialogProps) {
  const id = useId();
  const dialog = useRef<HTMLDialogElement>(null);
  const [step, setStep] = useState<Step>({ kind: "change-password" });

  // showModal makes the rest of the page inert and moves the focus into the
  // dialog. Removing the element from the page closes it.
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) {
      element.showModal();
    }
  }, []);

  // While the new recovery key is on screen, Escape does not close the
  // dialog, because the key cannot be shown again.
  // NOTE: Chromium makes a dialog's cancel event cancelable only after a new
  // user activation, so a second Escape in a row still closes the dialog.
  function handleCancel(event: SyntheticEvent<HTMLDialogElement>) {
    if (step.kind === "new-recovery-key") {
      event.preventDefault();
    }
  }

  const renewing = step.kind === "renew-recovery-key" || step.kind === "new-recovery-key";
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby={`${id}-title`} onCancel={handleCancel} onClose={onClose}>
      <h2 id={`${id}-title`}>{renewing ? strings.renewRecoveryKey.title : strings.changePassword.title}</h2>

      {step.kind === "change-password" && (
        <div className="stack">
          <ChangePasswordForm onChanged={() => setStep({ kind: "password-changed" })} onCancel={onClose} />
          <div className="dialog-aside stack">
            <p>{strings.renewRecoveryKey.offer}</p>
            <div className="actions">
              <button type="button" onClick={() => setStep({ kind: "renew-recovery-key" })}>
                {strings.renewRecoveryKey.open}
              </button>
            </div>
          </div>
        </div>
      )}

      {step.kind === "password-changed" && (
        <div className="stack">
          <p role="status">{strings.changePassword.done}</p>
          <div className="actions">
            <button type="button" className="primary" autoFocus onClick={onClose}>
              {strings.changePassword.close}
            </button>
          </div>
        </div>
      )}

      {step.kind === "renew-recovery-key" && (
        <RenewRecoveryKeyForm
          profile={profile}
          onRenewed={(recoveryKey) => setStep({ kind: "new-recovery-key", recoveryKey })}
          onCancel={onClose}
        />
      )}

      {step.kind === "new-recovery-key" && (
        <RecoveryKeyView
          recoveryKey={step.recoveryKey}
          replacesOldKey
          headingLevel={3}
          continueLabel={strings.renewRecoveryKey.done}
          onContinue={async () => onClose()}
        />
      )}
    </dialog>
  );
}
