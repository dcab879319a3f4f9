import { useCallback, useEffect, useState } from "react";

import { createThread, errorMessage, isLockedError, listThreads, type Profile, type Thread } from "../api.ts";
import { strings } from "../strings.ts";
import { ChangePasswordDialog } from "./ChangePasswordDialog.tsx";
import { ChatView } from "./ChatView.tsx";
import { ThreadList } from "./ThreadList.tsx";

interface WorkspaceProps {
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
}

/**
 * Renders the signed-in screen: a header with the profile, the threads in a
 * sidebar and the open thread's chat. After sign-in it opens the most
 * recently updated thread, if there is one.
 */
export function Workspace({ profile, locked, onSignOut, onLock, onSwitchProfile }: WorkspaceProps) {
  const [threads, setThreads] = useState<Thread[] | null>(null);
  const [threadsError, setThreadsError] = useState<string | null>(null);
  const [openThreadId, setOpenThreadId] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [newChatError, setNewChatError] = useState<string | null>(null);
  const [changingPassword, setChangingPassword] = useState(false);

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

  const handleReplyEnded = useCallback(() => {
    void refreshThreads();
  }, [refreshThreads]);

  const openThread = threads?.find((thread) => thread.id === openThreadId);

  return (
    <div className="workspace" inert={locked}>
      <header className="workspace-header">
        <p className="brand">{strings.appName}</p>
        <p className="signed-in-as">{strings.workspace.signedInAs(profile.name)}</p>
        <div className="actions">
          <button type="button" onClick={() => setChangingPassword(true)}>
            {strings.changePassword.open}
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
            onReplyEnded={handleReplyEnded}
          />
        )}
      </main>

      {changingPassword && !locked && <ChangePasswordDialog onClose={() => setChangingPassword(false)} />}
    </div>
  );
}
