import { useCallback, useEffect, useState } from "react";

import { listProfiles, setUnauthorizedHandler, signOut, type Profile } from "../api.ts";
import { strings } from "../strings.ts";
import { FirstRunForm } from "./FirstRunForm.tsx";
import { ProfilePicker } from "./ProfilePicker.tsx";
import { Workspace } from "./Workspace.tsx";

// Screen is what the window shows. The token itself is kept by api.ts.
type Screen =
  | { kind: "loading" }
  | { kind: "load-failed"; reason: string }
  | { kind: "first-run" }
  | { kind: "pick-profile"; profiles: Profile[]; notice: string | null }
  | { kind: "signed-in"; profile: Profile };

/** Renders the whole interface: first run, profile picker, or the signed-in workspace. */
export function App() {
  const [screen, setScreen] = useState<Screen>({ kind: "loading" });

  // showProfiles fetches the profiles and shows the first-run form when there
  // are none, the picker otherwise. The notice is shown above the picker.
  const showProfiles = useCallback(async (notice: string | null) => {
    setScreen({ kind: "loading" });
    try {
      const profiles = await listProfiles();
      setScreen(
        profiles.length === 0 ? { kind: "first-run" } : { kind: "pick-profile", profiles, notice },
      );
    } catch (err) {
      setScreen({ kind: "load-failed", reason: err instanceof Error ? err.message : String(err) });
    }
  }, []);

  useEffect(() => {
    void showProfiles(null);
  }, [showProfiles]);

  useEffect(() => {
    setUnauthorizedHandler(() => void showProfiles(strings.picker.sessionEnded));
    return () => setUnauthorizedHandler(null);
  }, [showProfiles]);

  // Forget the token once the workspace is gone. React runs the workspace's
  // cleanup first, and that cleanup still needs the token to stop a reply
  // that is being written.
  useEffect(() => {
    if (screen.kind !== "signed-in") {
      signOut();
    }
  }, [screen.kind]);

  const handleSignedIn = useCallback((profile: Profile) => {
    setScreen({ kind: "signed-in", profile });
  }, []);

  if (screen.kind === "signed-in") {
    return (
      <Workspace
        profile={screen.profile}
        onSignOut={() => void showProfiles(strings.picker.signedOut)}
        onSwitchProfile={() => void showProfiles(null)}
      />
    );
  }

  return (
    <main className="auth-screen">
      <div className="auth-card">
        <p className="brand">{strings.appName}</p>
        {screen.kind === "loading" && <p aria-live="polite">{strings.loading.profiles}</p>}
        {screen.kind === "load-failed" && (
          <>
            <p role="alert" className="alert">
              {strings.startup.loadFailed(screen.reason)}
            </p>
            <button type="button" onClick={() => void showProfiles(null)}>
              {strings.startup.retry}
            </button>
          </>
        )}
        {screen.kind === "first-run" && <FirstRunForm onSignedIn={handleSignedIn} />}
        {screen.kind === "pick-profile" && (
          <ProfilePicker profiles={screen.profiles} notice={screen.notice} onSignedIn={handleSignedIn} />
        )}
      </div>
    </main>
  );
}
