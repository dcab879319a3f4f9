import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";

import {
  ApiError,
  errorMessage,
  getMe,
  getSettings,
  listProfiles,
  logout,
  resumeSession,
  sessionActivity,
  setSessionHandlers,
  type Profile,
} from "../api.ts";
import { loadWorkspace } from "../chunks.ts";
import { reportFirstScreen } from "../firstScreen.ts";
import { lockCheckDue, lockWatchIntervalMs } from "../idleLock.ts";
import { strings } from "../strings.ts";
import { applyTheme } from "../theme.ts";
import { ErrorBoundary } from "./ErrorBoundary.tsx";
import { FirstRunForm } from "./FirstRunForm.tsx";
import { ProfilePicker } from "./ProfilePicker.tsx";
import { UnlockDialog } from "./UnlockDialog.tsx";

// The workspace is everything after sign-in, which the first screen does not
// need. Its chunk loads once the first screen is shown.
const Workspace = lazy(async () => ({ default: (await loadWorkspace()).Workspace }));

// SignOutReason is the button that ended a session. All three sign out on the
// server, which locks the profile, and differ only in what the picker shows
// next.
type SignOutReason = "sign-out" | "lock" | "switch-profile";

/** The screen that the window shows. api.ts keeps the session itself. */
export type Screen =
  | { kind: "loading" }
  | { kind: "load-failed"; reason: string }
  | { kind: "first-run" }
  | { kind: "pick-profile"; profiles: Profile[]; notice: string | null; initialProfile: Profile | null }
  | { kind: "signed-in"; profile: Profile; locked: boolean }
  | { kind: "signing-out"; profile: Profile; reason: SignOutReason };

/**
 * Loads the first screen. In a browser on `hearth serve`, that is the
 * workspace of the session that an earlier page load in this tab started,
 * which the session cookie proves. Without one (401, and always inside the
 * desktop window), it is the profile picker. main.tsx calls it before React
 * renders anything.
 */
export async function loadStartScreen(): Promise<Screen> {
  try {
    const me = await resumeSession();
    return { kind: "signed-in", profile: { id: me.id, name: me.name, role: me.role }, locked: me.locked };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      return loadProfilesScreen(null);
    }
    return { kind: "load-failed", reason: errorMessage(err) };
  }
}

// loadProfilesScreen fetches the profiles and returns the first-run form
// when there are none, the picker otherwise. The notice is shown above the
// picker, and the profile with id chosenId, if any, opens with its password
// form.
async function loadProfilesScreen(notice: string | null, chosenId: string | null = null): Promise<Screen> {
  try {
    const profiles = await listProfiles();
    if (profiles.length === 0) {
      return { kind: "first-run" };
    }
    const initialProfile = profiles.find((profile) => profile.id === chosenId) ?? null;
    return { kind: "pick-profile", profiles, notice, initialProfile };
  } catch (err) {
    return { kind: "load-failed", reason: errorMessage(err) };
  }
}

interface AppProps {
  /**
   * The first screen, when main.tsx loaded it before the first render, or
   * the loadStartScreen call that main.tsx started. Without either, App
   * calls loadStartScreen itself.
   */
  start?: { screen: Screen } | { loading: Promise<Screen> };
}

/**
 * Renders the whole interface: first run, profile picker, or the signed-in
 * workspace, with the unlock prompt over it while the profile is locked.
 */
export function App({ start: initialStart }: AppProps) {
  const [screen, setScreen] = useState<Screen>(
    initialStart !== undefined && "screen" in initialStart ? initialStart.screen : { kind: "loading" },
  );
  const signOutStarted = useRef<Screen | null>(null);
  // The thread open in each profile's workspace, by profile id, so that
  // signing in after Lock or Switch profile opens it again. It lives in
  // memory only, and signing out forgets the profile's entry.
  const openThreads = useRef(new Map<string, string | null>());
  // The start screen that main.tsx began to load, used once. Try again, after
  // a failed start, loads it anew.
  const pendingStart = useRef(
    initialStart !== undefined && "loading" in initialStart ? initialStart.loading : undefined,
  );
  const startLoaded = initialStart !== undefined && "screen" in initialStart;

  const showProfiles = useCallback(async (notice: string | null, chosenId: string | null = null) => {
    setScreen({ kind: "loading" });
    setScreen(await loadProfilesScreen(notice, chosenId));
  }, []);

  const start = useCallback(async () => {
    const pending = pendingStart.current;
    pendingStart.current = undefined;
    setScreen({ kind: "loading" });
    setScreen(await (pending ?? loadStartScreen()));
  }, []);

  useEffect(() => {
    if (!startLoaded) {
      void start();
    }
  }, [start, startLoaded]);

  // The first screen after "loading" (the picker, the first-run form or the
  // error) has its data, so the desktop window can log how long start-up
  // took (firstScreen.ts). The workspace's chunk starts to load after the
  // frame that reports it, so that it neither delays that frame nor makes
  // signing in wait.
  const startedUp = screen.kind !== "loading";
  useEffect(() => {
    if (!startedUp) {
      return;
    }
    reportFirstScreen();
    let timer: number | undefined;
    const frame = window.requestAnimationFrame(() => {
      timer = window.setTimeout(() => void loadWorkspace().catch(() => undefined));
    });
    return () => {
      window.cancelAnimationFrame(frame);
      window.clearTimeout(timer);
    };
  }, [startedUp]);

  // The theme is the system's on the screens before sign-in, and the
  // profile's saved choice once its settings load. A locked profile keeps
  // the theme on screen until it is unlocked, because its settings cannot
  // be read before.
  const signedIn = screen.kind === "signed-in";
  const unlockedProfileId = screen.kind === "signed-in" && !screen.locked ? screen.profile.id : null;
  useEffect(() => {
    if (!signedIn) {
      applyTheme("system");
      return;
    }
    if (unlockedProfileId === null) {
      return;
    }
    let current = true;
    getSettings().then(
      (settings) => {
        if (current) {
          applyTheme(settings.theme);
        }
      },
      () => {
        // The theme stays as it is. The Settings dialog shows why the
        // settings do not load, and a locked profile shows the unlock prompt.
      },
    );
    return () => {
      current = false;
    };
  }, [signedIn, unlockedProfileId]);

  // The server locks an idle profile on its own, so once this page has sent
  // no request for the profile's idle time it checks whether that happened
  // (see idleLock.ts), and checks that time again whenever the tab is shown.
  // The unlock prompt then covers the workspace at once, not only at the
  // next request. A failed check changes nothing, and an ended session
  // reaches onEnded through api.ts.
  const watchedProfileId = screen.kind === "signed-in" && !screen.locked ? screen.profile.id : null;
  useEffect(() => {
    if (watchedProfileId === null) {
      return;
    }
    let current = true;
    let asking = false;
    const check = () => {
      const { lastRequestAt, idleLockMinutes } = sessionActivity();
      if (asking || !lockCheckDue(idleLockMinutes, lastRequestAt, Date.now())) {
        return;
      }
      asking = true;
      getMe().then(
        (me) => {
          if (current && me.locked) {
            setScreen((shown) =>
              shown.kind === "signed-in" && shown.profile.id === me.id ? { ...shown, locked: true } : shown,
            );
          }
        },
        () => undefined,
      ).finally(() => {
        asking = false;
      });
    };
    const handleVisibility = () => {
      if (document.visibilityState === "visible") {
        check();
      }
    };
    const timer = window.setInterval(check, lockWatchIntervalMs);
    document.addEventListener("visibilitychange", handleVisibility);
    return () => {
      current = false;
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", handleVisibility);
    };
  }, [watchedProfileId]);

  useEffect(() => {
    setSessionHandlers({
      onLocked: () =>
        setScreen((current) =>
          current.kind === "signed-in" && !current.locked ? { ...current, locked: true } : current,
        ),
      onEnded: () => void showProfiles(strings.picker.sessionEnded),
    });
    return () => setSessionHandlers(null);
  }, [showProfiles]);

  const beginSignOut = useCallback((reason: SignOutReason) => {
    setScreen((current) =>
      current.kind === "signed-in" ? { kind: "signing-out", profile: current.profile, reason } : current,
    );
  }, []);

  // Sign out once the workspace is gone. React runs the workspace's cleanup
  // first, and that cleanup still needs the session to stop a reply that is
  // being written. The ref keeps a second run of this effect (React's strict
  // mode in development) from signing out twice.
  useEffect(() => {
    if (screen.kind !== "signing-out" || signOutStarted.current === screen) {
      return;
    }
    signOutStarted.current = screen;

    const chosenId = screen.reason === "lock" ? screen.profile.id : null;
    const notice = noticeAfterSignOut(screen.reason);
    if (screen.reason === "sign-out") {
      openThreads.current.delete(screen.profile.id);
    }
    logout().then(
      () => showProfiles(notice, chosenId),
      (err: unknown) => showProfiles(strings.picker.signOutFailed(errorMessage(err)), chosenId),
    );
  }, [screen, showProfiles]);

  const handleSignedIn = useCallback((profile: Profile) => {
    setScreen({ kind: "signed-in", profile, locked: false });
  }, []);

  // handleProfileChanged keeps the workspace's profile in step after the
  // administrator changed their own role.
  const handleProfileChanged = useCallback((profile: Profile) => {
    setScreen((current) => (current.kind === "signed-in" ? { ...current, profile } : current));
  }, []);

  // handleProfileDeleted shows the picker, or the first-run form when no
  // profile is left. api.deleteOwnProfile has already ended the session.
  const handleProfileDeleted = useCallback(() => {
    if (screen.kind === "signed-in") {
      openThreads.current.delete(screen.profile.id);
    }
    void showProfiles(strings.picker.profileDeleted);
  }, [screen, showProfiles]);

  const signedInProfileId = screen.kind === "signed-in" ? screen.profile.id : null;
  const handleOpenThreadChanged = useCallback(
    (threadId: string | null) => {
      if (signedInProfileId !== null) {
        openThreads.current.set(signedInProfileId, threadId);
      }
    },
    [signedInProfileId],
  );

  const handleUnlocked = useCallback((profile: Profile) => {
    setScreen((current) => (current.kind === "signed-in" ? { kind: "signed-in", profile, locked: false } : current));
  }, []);

  if (screen.kind === "signed-in") {
    return (
      <>
        <ErrorBoundary
          fallback={(error) => (
            <main className="auth-screen">
              <div className="auth-card">
                <p className="brand">{strings.appName}</p>
                <p role="alert" className="alert">
                  {strings.startup.workspaceFailed(errorMessage(error))}
                </p>
                <button type="button" onClick={() => window.location.reload()}>
                  {strings.startup.reload}
                </button>
              </div>
            </main>
          )}
        >
          <Suspense
            fallback={
              <main className="auth-screen">
                <div className="auth-card">
                  <p className="brand">{strings.appName}</p>
                  <p aria-live="polite">{strings.loading.workspace}</p>
                </div>
              </main>
            }
          >
            <Workspace
              key={screen.profile.id}
              profile={screen.profile}
              locked={screen.locked}
              initialThreadId={openThreads.current.get(screen.profile.id) ?? null}
              onOpenThreadChanged={handleOpenThreadChanged}
              onSignOut={() => beginSignOut("sign-out")}
              onLock={() => beginSignOut("lock")}
              onSwitchProfile={() => beginSignOut("switch-profile")}
              onProfileChanged={handleProfileChanged}
              onProfileDeleted={handleProfileDeleted}
            />
          </Suspense>
        </ErrorBoundary>
        {screen.locked && (
          <UnlockDialog
            profile={screen.profile}
            onUnlocked={handleUnlocked}
            onSwitchProfile={() => beginSignOut("switch-profile")}
          />
        )}
      </>
    );
  }

  return (
    <main className="auth-screen">
      <div className="auth-card">
        <p className="brand">{strings.appName}</p>
        {screen.kind === "loading" && <p aria-live="polite">{strings.loading.profiles}</p>}
        {screen.kind === "signing-out" && <p aria-live="polite">{strings.workspace.signingOut}</p>}
        {screen.kind === "load-failed" && (
          <>
            <p role="alert" className="alert">
              {strings.startup.loadFailed(screen.reason)}
            </p>
            <button type="button" onClick={() => void start()}>
              {strings.startup.retry}
            </button>
          </>
        )}
        {screen.kind === "first-run" && <FirstRunForm onSignedIn={handleSignedIn} />}
        {screen.kind === "pick-profile" && (
          <ProfilePicker
            profiles={screen.profiles}
            notice={screen.notice}
            initialProfile={screen.initialProfile}
            onSignedIn={handleSignedIn}
          />
        )}
      </div>
    </main>
  );
}

function noticeAfterSignOut(reason: SignOutReason): string | null {
  switch (reason) {
    case "sign-out":
      return strings.picker.signedOut;
    case "lock":
      return strings.picker.locked;
    case "switch-profile":
      return null;
  }
}
