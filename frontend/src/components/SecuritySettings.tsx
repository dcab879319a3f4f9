import { useCallback, useEffect, useId, useRef, useState } from "react";

import {
  ApiError,
  disableTotp,
  errorMessage,
  getTotpStatus,
  isLockedError,
  renewBackupCodes,
  setupTotp,
  type Profile,
  type TotpSetup,
  type TotpStatus,
} from "../api.ts";
import { strings } from "../strings.ts";
import { BackupCodesView } from "./BackupCodesView.tsx";
import { PasswordAndCodeForm } from "./PasswordAndCodeForm.tsx";
import { TotpEnrolForm } from "./TotpEnrolForm.tsx";

interface SecuritySettingsProps {
  /** The signed-in profile. */
  profile: Profile;
  /**
   * Called with true while backup codes are on screen and not yet confirmed
   * as saved, and with false afterwards, so that the dialog confirms before
   * it closes and loses them.
   */
  onUnsavedCodesChange: (unsaved: boolean) => void;
}

// View is what the section shows: the status with its buttons, the steps
// that turn two-step sign-in on, the forms that turn it off or replace the
// backup codes, or the backup codes the server just sent. notice is the
// sentence shown with the status once the codes are saved.
type View =
  | { kind: "status" }
  | { kind: "enrol"; setup: TotpSetup }
  | { kind: "turn-off" }
  | { kind: "renew-codes" }
  | { kind: "backup-codes"; codes: string[]; replacesOldCodes: boolean; notice: string | null };

/**
 * Renders the Security section of the Settings dialog. It shows whether
 * two-step sign-in is on and how many backup codes are left, and turns it
 * on with the password and a code from the authenticator app. With the
 * password and a current code, it turns it off or replaces the backup
 * codes. Each part is its own form, apart from the settings form, so that
 * Enter in it never saves the settings.
 */
export function SecuritySettings({ profile, onUnsavedCodesChange }: SecuritySettingsProps) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [status, setStatus] = useState<TotpStatus | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [view, setView] = useState<View>({ kind: "status" });
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [preparing, setPreparing] = useState(false);
  // Set when the status returns after a step, so that the focus goes to the
  // section's title rather than to <body> when the step's controls go away.
  const [refocus, setRefocus] = useState(false);

  // load fetches the status. A locked profile shows no error here, because
  // the unlock prompt closes the dialog.
  const load = useCallback(async () => {
    try {
      setStatus(await getTotpStatus());
      setLoadError(null);
    } catch (err) {
      if (!isLockedError(err)) {
        setLoadError(errorMessage(err));
      }
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    if (refocus && view.kind === "status") {
      heading.current?.focus();
      setRefocus(false);
    }
  }, [refocus, view.kind]);

  function showStatus(nextNotice: string | null, nextError: string | null = null) {
    setNotice(nextNotice);
    setActionError(nextError);
    setView({ kind: "status" });
    setRefocus(true);
  }

  function openStep(next: View) {
    setNotice(null);
    setActionError(null);
    setView(next);
  }

  function showCodes(codes: string[], replacesOldCodes: boolean, afterwards: string | null) {
    setStatus({ enabled: true, backupCodesLeft: codes.length });
    onUnsavedCodesChange(true);
    openStep({ kind: "backup-codes", codes, replacesOldCodes, notice: afterwards });
  }

  async function startEnrolment() {
    setNotice(null);
    setActionError(null);
    setPreparing(true);
    try {
      openStep({ kind: "enrol", setup: await setupTotp() });
    } catch (err) {
      if (err instanceof ApiError && err.code === "totp_enabled") {
        await load();
        setNotice(strings.security.alreadyOn);
      } else if (!isLockedError(err)) {
        setActionError(strings.security.prepareFailed(errorMessage(err)));
      }
    } finally {
      setPreparing(false);
    }
  }

  async function turnOff(password: string, code: string) {
    await disableTotp(password, code);
    setStatus({ enabled: false, backupCodesLeft: 0 });
    showStatus(strings.security.turnedOff);
  }

  async function renewCodes(password: string, code: string) {
    const renewed = await renewBackupCodes(password, code);
    showCodes(renewed.backupCodes, true, null);
  }

  let content;
  switch (view.kind) {
    case "enrol":
      content = (
        <TotpEnrolForm
          setup={view.setup}
          onEnabled={(codes) => showCodes(codes, false, strings.security.enabled)}
          onSetupLost={(message) => showStatus(null, message)}
          onCancel={() => showStatus(null)}
        />
      );
      break;
    case "turn-off":
      content = (
        <section className="stack" aria-labelledby={`${id}-step`}>
          <h4 id={`${id}-step`}>{strings.security.turnOff}</h4>
          <PasswordAndCodeForm
            profileName={profile.name}
            intro={strings.security.turnOffIntro}
            submitLabel={strings.security.turnOffSubmit}
            submittingLabel={strings.security.turningOff}
            dangerous
            onSubmit={turnOff}
            onCancel={() => showStatus(null)}
          />
        </section>
      );
      break;
    case "renew-codes":
      content = (
        <section className="stack" aria-labelledby={`${id}-step`}>
          <h4 id={`${id}-step`}>{strings.security.newCodes}</h4>
          <PasswordAndCodeForm
            profileName={profile.name}
            intro={strings.security.newCodesIntro}
            submitLabel={strings.security.newCodesSubmit}
            submittingLabel={strings.security.creatingCodes}
            onSubmit={renewCodes}
            onCancel={() => showStatus(null)}
          />
        </section>
      );
      break;
    case "backup-codes":
      content = (
        <BackupCodesView
          codes={view.codes}
          replacesOldCodes={view.replacesOldCodes}
          profileName={profile.name}
          onSavedChange={(saved) => onUnsavedCodesChange(!saved)}
          onDone={() => {
            onUnsavedCodesChange(false);
            showStatus(view.notice);
          }}
        />
      );
      break;
    case "status":
      content = status !== null && (
        <>
          <p className="security-status">
            {status.enabled ? strings.security.statusOn : strings.security.statusOff}
            {status.enabled && ` ${strings.security.backupCodesLeft(status.backupCodesLeft)}`}
          </p>
          {status.enabled && status.backupCodesLeft === 0 && (
            <p className="warning">{strings.security.noBackupCodesLeft}</p>
          )}
          {notice !== null && (
            <p role="status" className="notice">
              {notice}
            </p>
          )}
          {actionError !== null && (
            <p role="alert" className="alert">
              {actionError}
            </p>
          )}
          <div className="actions">
            {status.enabled ? (
              <>
                <button type="button" onClick={() => openStep({ kind: "renew-codes" })}>
                  {strings.security.newCodes}
                </button>
                <button type="button" className="danger" onClick={() => openStep({ kind: "turn-off" })}>
                  {strings.security.turnOff}
                </button>
              </>
            ) : (
              <button type="button" disabled={preparing} onClick={() => void startEnrolment()}>
                {preparing ? strings.security.preparing : strings.security.turnOn}
              </button>
            )}
          </div>
        </>
      );
      break;
  }

  return (
    <section className="stack security-settings" aria-labelledby={`${id}-title`}>
      <h3 ref={heading} id={`${id}-title`} tabIndex={-1}>
        {strings.security.title}
      </h3>
      <p className="hint">{strings.security.explanation}</p>

      {loadError !== null && (
        <div className="stack">
          <p role="alert" className="alert">
            {strings.security.loadFailed(loadError)}
          </p>
          <button type="button" onClick={() => void load()}>
            {strings.security.retry}
          </button>
        </div>
      )}
      {status === null && loadError === null && <p className="muted">{strings.security.loading}</p>}
      {content}
    </section>
  );
}
