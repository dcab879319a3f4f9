import { useCallback, useEffect, useState } from "react";

import { createThread, listThreads, type Profile, type Thread } from "../api.ts";
import { strings } from "../strings.ts";
import { ChatView } from "./ChatView.tsx";
import { ThreadList } from "./ThreadList.tsx";

interface WorkspaceProps {
  profile: Profile;
  onSignOut: () => void;
  onSwitchProfile: () => void;
}

/**
 * Renders the signed-in screen: a header with the profile, the threads in a
 * sidebar and the open thread's chat. After sign-in it opens the most
 * recently updated thread, if there is one.
 */
export function Workspace({ profile, onSignOut, onSwitchProfile }: WorkspaceProps) {
  const [threads, setThreads] = useState<Thread[] | null>(null);
  const [threadsError, setThreadsError] = useState<string | null>(null);
  const [openThreadId, setOpenThreadId] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [newChatError, setNewChatError] = useState<string | null>(null);

  // refreshThreads fetches the thread list. It returns the threads, or null
  // when the request failed and the error is shown instead.
  const refreshThreads = useCallback(async (): Promise<Thread[] | null> => {
    try {
      const list = await listThreads();
      setThreads(list);
      setThreadsError(null);
      return list;
    } catch (err) {
      setThreadsError(err instanceof Error ? err.message : String(err));
      return null;
    }
  }, []);

  useEffect(() => {
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
  }, [refreshThreads]);

  async function handleNewChat() {
    setCreating(true);
    setNewChatError(null);
    try {
      const thread = await createThread();
      setOpenThreadId(thread.id);
      await refreshThreads();
    } catch (err) {
      setNewChatError(strings.workspace.newChatFailed(err instanceof Error ? err.message : String(err)));
    } finally {
      setCreating(false);
    }
  }

  const handleReplyEnded = useCallback(() => {
    void refreshThreads();
  }, [refreshThreads]);

  const openThread = threads?.find((thread) => thread.id === openThreadId);

  return (
    <div className="workspace">
      <header className="workspace-header">
        <p className="brand">{strings.appName}</p>
        <p className="signed-in-as">{strings.workspace.signedInAs(profile.name)}</p>
        <div className="actions">
          <button type="button" onClick={onSwitchProfile}>
            {strings.workspace.switchProfile}
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
            onReplyEnded={handleReplyEnded}
          />
        )}
      </main>
    </div>
  );
}
