import { useCallback, useEffect, useRef, useState } from "react";

import { createThread, errorMessage, isLockedError, listThreads, type Profile, type Thread } from "../api.ts";
import { DraftStore } from "../drafts.ts";
import { ReplyStore, type MemoryChangeNotice } from "../replyStore.ts";
import { strings } from "../strings.ts";
import { refreshUntilTitled } from "../titleRefresh.ts";
import { ChangePasswordDialog } from "./ChangePasswordDialog.tsx";
import { ChatView } from "./ChatView.tsx";
import { DeleteOwnProfileDialog } from "./DeleteOwnProfileDialog.tsx";
import { MemoryDialog } from "./MemoryDialog.tsx";
import { MemoryToast } from "./MemoryToast.tsx";
import { ProfilesDialog } from "./ProfilesDialog.tsx";
import { SettingsDialog } from "./SettingsDialog.tsx";
import { ThreadList } from "./ThreadList.tsx";

interface WorkspaceProps {
  /**
   * The signed-in profile. Its role decides whether the Profiles button is
   * shown.
   * NOTE: the role is the one the server sent at sign-in or page load. A
   * change that another administrator makes shows after the next sign-in or
   * reload, and until then the server rejects what the old role no longer
   * allows (403).
   */
  profile: Profile;
  /**
   * True while the profile is locked. The workspace stays on screen under the
   * unlock prompt, keeps the open thread and the draft, and loads nothing
   * until it is unlocked.
   */
  locked: boolean;
  onSignOut: () => void;
  /** Signs out but keeps this profile chosen in the picker. */
  onLock: () => void;
  onSwitchProfile: () => void;
  /** Called when the profile changed its own role in the Profiles dialog. */
  onProfileChanged: (profile: Profile) => void;
  /** Called after the profile deleted itself. The session has already ended by then. */
  onProfileDeleted: () => void;
}

// WorkspaceDialog is the modal dialog open over the workspace, if any.
type WorkspaceDialog = "settings" | "memory" | "change-password" | "profiles" | "delete-own-profile";

// Maximum number of memory change notices shown at once. Older ones give way to newer ones.
const maxMemoryToasts = 3;

/**
 * Renders the signed-in screen: a header with the profile, the threads in a
 * sidebar, the open thread's chat, and the notices of working memory
 * changes. After sign-in it opens the most recently updated thread, if
 * there is one. The replies being streamed live in a store of the
 * workspace, so they go on while another thread is open. Leaving the
 * workspace (signing out, switching profile) aborts their requests.
 */
export function Workspace({
  profile,
  locked,
  onSignOut,
  onLock,
  onSwitchProfile,
  onProfileChanged,
  onProfileDeleted,
}: WorkspaceProps) {
  const [threads, setThreads] = useState<Thread[] | null>(null);
  const [threadsError, setThreadsError] = useState<string | null>(null);
  const [openThreadId, setOpenThreadId] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [newChatError, setNewChatError] = useState<string | null>(null);
  const [openDialog, setOpenDialog] = useState<WorkspaceDialog | null>(null);
  const [replies] = useState(() => new ReplyStore());
  const [drafts] = useState(() => new DraftStore());
  // Counts the saves of the Settings dialog, so that the open chat reloads
  // the models of a backend that may have changed.
  const [settingsVersion, setSettingsVersion] = useState(0);
  const handleSettingsSaved = useCallback(() => setSettingsVersion((current) => current + 1), []);
  const [memoryToasts, setMemoryToasts] = useState<MemoryChangeNotice[]>([]);
  // The title refreshes under way, by thread id, each with its cancel function.
  const titleRefreshes = useRef(new Map<string, () => void>());

  // refreshThreads fetches the thread list. It returns the threads, or null
  // when the request failed and the error is shown instead. A locked profile
  // shows no error here, because the unlock prompt covers the workspace and
  // the list is fetched again after unlocking.
  const refreshThreads = useCallback(async (): Promise<Thread[] | null> => {
    try {
      const list = await listThreads();
      setThreads(list);
      setThreadsError(null);
      return list;
    } catch (err) {
      if (!isLockedError(err)) {
        setThreadsError(errorMessage(err));
      }
      return null;
    }
  }, []);

  // Fetch the threads after sign-in and again after unlocking.
  useEffect(() => {
    if (locked) {
      return;
    }
    let cancelled = false;
    void refreshThreads().then((list) => {
      const newest = list?.[0];
      if (!cancelled && newest !== undefined) {
        setOpenThreadId((current) => current ?? newest.id);
      }
    });
    return () => {
      cancelled = true;
    };
  }, [refreshThreads, locked]);

  async function handleNewChat() {
    setCreating(true);
    setNewChatError(null);
    try {
      const thread = await createThread();
      setOpenThreadId(thread.id);
      await refreshThreads();
    } catch (err) {
      if (!isLockedError(err)) {
        setNewChatError(strings.workspace.newChatFailed(errorMessage(err)));
      }
    } finally {
      setCreating(false);
    }
  }

  // Hear what happens to replies, in whatever thread they are written.
  useEffect(() => {
    const refreshes = titleRefreshes.current;
    replies.handlers = {
      onEnded: (reply) => {
        // The server names a new thread in the background after its first
        // reply, so the list is fetched until the title shows up.
        refreshes.get(reply.threadId)?.();
        refreshes.set(reply.threadId, refreshUntilTitled(reply.threadId, refreshThreads));
      },
      onThreadCreated: (reply, editedThreadId) => {
        setOpenThreadId((current) => (current === editedThreadId ? reply.threadId : current));
        void refreshThreads();
      },
      onMemoryChange: (change) => {
        setMemoryToasts((current) =>
          [...current.filter((toast) => toast.id !== change.id), change].slice(-maxMemoryToasts),
        );
      },
    };
    return () => {
      replies.handlers = {};
      replies.abortAll();
      for (const cancel of refreshes.values()) {
        cancel();
      }
      refreshes.clear();
    };
  }, [replies, refreshThreads]);

  const handleThreadChanged = useCallback(() => {
    void refreshThreads();
  }, [refreshThreads]);

  const openThread = threads?.find((thread) => thread.id === openThreadId);

  return (
    <div className="workspace" inert={locked}>
      <header className="workspace-header">
        <p className="brand">{strings.appName}</p>
        <p className="signed-in-as">{strings.workspace.signedInAs(profile.name)}</p>
        <div className="actions">
          <button type="button" onClick={() => setOpenDialog("settings")}>
            {strings.settings.open}
          </button>
          <button type="button" onClick={() => setOpenDialog("memory")}>
            {strings.memory.open}
          </button>
          {profile.role === "admin" && (
            <button type="button" onClick={() => setOpenDialog("profiles")}>
              {strings.profiles.open}
            </button>
          )}
          <button type="button" onClick={() => setOpenDialog("change-password")}>
            {strings.changePassword.open}
          </button>
          <button type="button" onClick={() => setOpenDialog("delete-own-profile")}>
            {strings.deleteOwnProfile.open}
          </button>
          <button type="button" onClick={onSwitchProfile}>
            {strings.workspace.switchProfile}
          </button>
          <button type="button" onClick={onLock}>
            {strings.workspace.lock}
          </button>
          <button type="button" onClick={onSignOut}>
            {strings.workspace.signOut}
          </button>
        </div>
      </header>

      <nav className="sidebar" aria-label={strings.workspace.threadsLabel}>
        <button type="button" className="primary new-chat" onClick={() => void handleNewChat()} disabled={creating}>
          {strings.workspace.newChat}
        </button>
        {newChatError !== null && (
          <p role="alert" className="alert">
            {newChatError}
          </p>
        )}
        {threadsError !== null && (
          <div className="stack">
            <p role="alert" className="alert">
              {strings.workspace.threadsFailed(threadsError)}
            </p>
            <button type="button" onClick={() => void refreshThreads()}>
              {strings.workspace.retry}
            </button>
          </div>
        )}
        {threads === null && threadsError === null && <p className="muted">{strings.loading.threads}</p>}
        {threads !== null && <ThreadList threads={threads} openThreadId={openThreadId} onOpen={setOpenThreadId} />}
      </nav>

      <main className="chat-area">
        {openThreadId === null ? (
          <div className="empty-state">
            <h1>{strings.workspace.emptyTitle}</h1>
            <p>{strings.workspace.emptyIntro}</p>
          </div>
        ) : (
          <ChatView
            key={openThreadId}
            threadId={openThreadId}
            title={openThread?.title ?? null}
            locked={locked}
            replies={replies}
            drafts={drafts}
            settingsVersion={settingsVersion}
            onThreadChanged={handleThreadChanged}
          />
        )}
      </main>

      {memoryToasts.length > 0 && (
        <div className="toasts" role="region" aria-label={strings.memoryToast.regionLabel} aria-live="polite">
          {memoryToasts.map((change) => (
            <MemoryToast
              key={change.id}
              change={change}
              onDismiss={() => setMemoryToasts((current) => current.filter((toast) => toast.id !== change.id))}
            />
          ))}
        </div>
      )}

      {/* NOTE: a lock closes these dialogs. A recovery key on screen at that
          moment is lost, and the user has to create another after unlocking. */}
      {openDialog === "settings" && !locked && (
        <SettingsDialog onClose={() => setOpenDialog(null)} onSaved={handleSettingsSaved} />
      )}
      {openDialog === "memory" && !locked && (
        <MemoryDialog threadId={openThreadId} onClose={() => setOpenDialog(null)} />
      )}
      {openDialog === "change-password" && !locked && (
        <ChangePasswordDialog profile={profile} onClose={() => setOpenDialog(null)} />
      )}
      {openDialog === "profiles" && profile.role === "admin" && !locked && (
        <ProfilesDialog
          self={profile}
          onSelfChanged={(changed) => {
            // The only change an administrator can make to their own role is
            // a demotion, which ends their access to the dialog.
            setOpenDialog(null);
            onProfileChanged(changed);
          }}
          onClose={() => setOpenDialog(null)}
        />
      )}
      {openDialog === "delete-own-profile" && !locked && (
        <DeleteOwnProfileDialog profile={profile} onDeleted={onProfileDeleted} onClose={() => setOpenDialog(null)} />
      )}
    </div>
  );
}
