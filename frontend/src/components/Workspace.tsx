import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";

import {
  ApiError,
  createThread,
  deleteThread,
  errorMessage,
  getThread,
  isLockedError,
  listThreads,
  updateThread,
  type Profile,
  type Thread,
} from "../api.ts";
import { loadMarkdown } from "../chunks.ts";
import { DraftStore } from "../drafts.ts";
import { ModelDownloads } from "../modelDownloads.ts";
import { ReplyStore, type MemoryChangeNotice } from "../replyStore.ts";
import { adjacentId } from "../shortcuts.ts";
import { strings } from "../strings.ts";
import { ThreadPager, withOpenThread } from "../threadPages.ts";
import { refreshUntilTitled } from "../titleRefresh.ts";
import { ModelDownloadsContext } from "../useModelDownload.ts";
import { useShortcuts } from "../useShortcuts.ts";
import { ChatView } from "./ChatView.tsx";
import { MemoryToast } from "./MemoryToast.tsx";
import { ThreadList, type ThreadListHandle } from "./ThreadList.tsx";

// The dialogs are about half of the workspace's code, and each loads in a
// chunk of its own when it first opens.
const ChangePasswordDialog = lazy(async () => ({
  default: (await import("./ChangePasswordDialog.tsx")).ChangePasswordDialog,
}));
const DeleteOwnProfileDialog = lazy(async () => ({
  default: (await import("./DeleteOwnProfileDialog.tsx")).DeleteOwnProfileDialog,
}));
const MemoryDialog = lazy(async () => ({ default: (await import("./MemoryDialog.tsx")).MemoryDialog }));
const ProfilesDialog = lazy(async () => ({ default: (await import("./ProfilesDialog.tsx")).ProfilesDialog }));
const SettingsDialog = lazy(async () => ({ default: (await import("./SettingsDialog.tsx")).SettingsDialog }));
const ShortcutsDialog = lazy(async () => ({ default: (await import("./ShortcutsDialog.tsx")).ShortcutsDialog }));

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
  /**
   * The thread to open after sign-in, such as the one open before Lock.
   * When the list no longer has it, the most recently updated thread opens.
   */
  initialThreadId?: string | null;
  /** Called with the open thread's id, or null, whenever it changes. */
  onOpenThreadChanged?: (threadId: string | null) => void;
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
type WorkspaceDialog = "settings" | "memory" | "change-password" | "profiles" | "delete-own-profile" | "shortcuts";

// Maximum number of memory change notices shown at once. Older ones give way to newer ones.
const maxMemoryToasts = 3;

// How long a deleted thread can be brought back with Undo before the
// deletion is sent, in milliseconds.
// NOTE: the time does not stop while the pointer or the focus is on the
// notice, so someone who needs longer to reach Undo cannot extend it.
const undoDeleteMs = 5_000;

/**
 * A thread deleted in the sidebar whose deletion is not done yet. It is
 * "waiting" while Undo can still bring it back, and "deleting" while the
 * request is under way.
 */
interface PendingDeletion {
  thread: Thread;
  phase: "waiting" | "deleting";
  /** True when the thread was open, so that Undo opens it again. */
  wasOpen: boolean;
}

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
  initialThreadId = null,
  onOpenThreadChanged,
  onSignOut,
  onLock,
  onSwitchProfile,
  onProfileChanged,
  onProfileDeleted,
}: WorkspaceProps) {
  // The sidebar's threads, loaded a page at a time.
  const [threadPager] = useState(() => new ThreadPager<Thread>(listThreads));
  const threads = useSyncExternalStore(threadPager.subscribe, threadPager.getState).threads;
  const [threadsError, setThreadsError] = useState<string | null>(null);
  const [openThreadId, setOpenThreadId] = useState<string | null>(null);
  // The open thread as it was last fetched or listed, for its row when no
  // loaded page contains it. It may belong to a thread that is no longer open.
  const [openThreadInfo, setOpenThreadInfo] = useState<Thread | null>(null);
  // Counts the pages loaded for a move past the last thread with the
  // keyboard, so that the move is made again once the page is rendered.
  const [moveAfterLoad, setMoveAfterLoad] = useState(0);
  const threadList = useRef<ThreadListHandle>(null);
  const [creating, setCreating] = useState(false);
  const [newChatError, setNewChatError] = useState<string | null>(null);
  const [openDialog, setOpenDialog] = useState<WorkspaceDialog | null>(null);
  const [replies] = useState(() => new ReplyStore());
  const [drafts] = useState(() => new DraftStore());
  // Model downloads started from a chat's missing-model notice, which go on
  // while another thread is open. Leaving the workspace cancels them.
  const [downloads] = useState(() => new ModelDownloads());
  // Read once: the thread to open when the first list arrives.
  const [threadToRestore] = useState(initialThreadId);
  // Counts the saves of the Settings dialog, so that the open chat reloads
  // the models of a backend that may have changed.
  const [settingsVersion, setSettingsVersion] = useState(0);
  const handleSettingsSaved = useCallback(() => setSettingsVersion((current) => current + 1), []);
  const [memoryToasts, setMemoryToasts] = useState<MemoryChangeNotice[]>([]);
  // The title refreshes under way, by thread id, each with its cancel function.
  const titleRefreshes = useRef(new Map<string, () => void>());
  const [deletions, setDeletions] = useState<PendingDeletion[]>([]);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  // The timers that send the waiting deletions, by thread id.
  const deletionTimers = useRef(new Map<string, number>());
  // A thread whose button takes the focus after the next render, after Undo.
  const [focusThreadId, setFocusThreadId] = useState<string | null>(null);
  const hiddenThreadIds = useMemo(() => new Set(deletions.map((deletion) => deletion.thread.id)), [deletions]);
  const workspaceElement = useRef<HTMLDivElement>(null);
  const newChatButton = useRef<HTMLButtonElement>(null);
  const searchInput = useRef<HTMLInputElement>(null);
  const sidebar = useRef<HTMLElement>(null);
  // Set while a dialog is open: the element that had the focus when it
  // opened, which gets the focus back when it closes, or null for none.
  const dialogOpener = useRef<{ element: HTMLElement | null } | null>(null);

  // refreshThreads fetches the loaded pages of the thread list again, or its
  // first page. It returns the threads, or null when the request failed and
  // the error is shown instead. A locked profile shows no error here,
  // because the unlock prompt covers the workspace and the list is fetched
  // again after unlocking.
  const refreshThreads = useCallback(async (): Promise<Thread[] | null> => {
    try {
      const list = await threadPager.refresh();
      setThreadsError(null);
      return list;
    } catch (err) {
      if (!isLockedError(err)) {
        setThreadsError(errorMessage(err));
      }
      return null;
    }
  }, [threadPager]);

  // Fetch the threads after sign-in and again after unlocking. The thread to
  // restore may be older than the first page, so the first time it is
  // fetched on its own when the page lacks it, and the newest thread opens
  // when it is gone.
  const restoreTried = useRef(false);
  useEffect(() => {
    if (locked) {
      return;
    }
    let cancelled = false;
    void refreshThreads().then(async (list) => {
      if (list === null) {
        return;
      }
      let first: Thread | null = list.find((thread) => thread.id === threadToRestore) ?? null;
      if (first === null && threadToRestore !== null && !restoreTried.current && !cancelled) {
        restoreTried.current = true;
        first = await getThread(threadToRestore).then(
          (found) => found.thread,
          () => null,
        );
        if (first !== null && !cancelled) {
          setOpenThreadInfo(first);
        }
      }
      first ??= list[0] ?? null;
      if (!cancelled && first !== null) {
        const id = first.id;
        setOpenThreadId((current) => current ?? id);
      }
    });
    return () => {
      cancelled = true;
    };
  }, [refreshThreads, locked, threadToRestore]);

  useEffect(() => {
    onOpenThreadChanged?.(openThreadId);
  }, [openThreadId, onOpenThreadChanged]);

  useEffect(() => {
    return () => downloads.abortAll();
  }, [downloads]);

  // The Markdown renderer's chunk loads while the thread list and the first
  // thread are fetched, so that replies seldom show as plain text first.
  useEffect(() => {
    void loadMarkdown().catch(() => undefined);
  }, []);

  async function handleNewChat() {
    setCreating(true);
    setNewChatError(null);
    try {
      const thread = await createThread();
      setOpenThreadId(thread.id);
      setOpenThreadInfo(thread);
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

  const handleOpen = useCallback((thread: Thread) => {
    setOpenThreadId(thread.id);
    setOpenThreadInfo(thread);
  }, []);

  const handleThreadChanged = useCallback(() => {
    void refreshThreads();
  }, [refreshThreads]);

  const handleRename = useCallback(
    async (threadId: string, title: string) => {
      await updateThread(threadId, { title });
      await refreshThreads();
    },
    [refreshThreads],
  );

  // sendDeletion deletes a thread once its time to undo has passed, and
  // keeps it hidden until the list no longer has it. A failed request brings
  // the thread back with the reason. A locked profile brings it back
  // without one, because the unlock prompt already covers the workspace.
  const sendDeletion = useCallback(
    async (thread: Thread) => {
      deletionTimers.current.delete(thread.id);
      setDeletions((current) =>
        current.map((deletion) => (deletion.thread.id === thread.id ? { ...deletion, phase: "deleting" } : deletion)),
      );
      try {
        await deleteThread(thread.id);
      } catch (err) {
        // A thread already deleted, in another window, counts as deleted.
        if (!(err instanceof ApiError && err.code === "not_found")) {
          setDeletions((current) => current.filter((deletion) => deletion.thread.id !== thread.id));
          if (!isLockedError(err)) {
            setDeleteError(strings.sidebar.deleteFailed(threadTitle(thread), errorMessage(err)));
          }
          return;
        }
      }
      await threadPager.remove(thread.id).catch(() => undefined);
      setDeletions((current) => current.filter((deletion) => deletion.thread.id !== thread.id));
    },
    [threadPager],
  );

  // handleDelete hides the thread at once and sends its deletion only after
  // undoDeleteMs, so that Undo can bring it back without a request.
  const handleDelete = useCallback(
    (thread: Thread) => {
      const timers = deletionTimers.current;
      if (timers.has(thread.id)) {
        return;
      }
      const wasOpen = thread.id === openThreadId;
      if (wasOpen) {
        setOpenThreadId(null);
      }
      setDeleteError(null);
      setDeletions((current) => [
        ...current.filter((deletion) => deletion.thread.id !== thread.id),
        { thread, phase: "waiting", wasOpen },
      ]);
      timers.set(
        thread.id,
        window.setTimeout(() => void sendDeletion(thread), undoDeleteMs),
      );
    },
    [openThreadId, sendDeletion],
  );

  function handleUndoDelete(deletion: PendingDeletion) {
    const timers = deletionTimers.current;
    const timer = timers.get(deletion.thread.id);
    if (timer === undefined) {
      // The deletion has been sent already.
      return;
    }
    window.clearTimeout(timer);
    timers.delete(deletion.thread.id);
    setDeletions((current) => current.filter((pending) => pending.thread.id !== deletion.thread.id));
    if (deletion.wasOpen) {
      setOpenThreadId((current) => current ?? deletion.thread.id);
    }
    setFocusThreadId(deletion.thread.id);
  }

  // After Undo, the thread's button takes the focus that the notice had.
  useEffect(() => {
    if (focusThreadId === null) {
      return;
    }
    threadList.current?.focusThread(focusThreadId);
    setFocusThreadId(null);
  }, [focusThreadId]);

  // A lock, a sign-out and a switch of profile cancel the deletions still
  // waiting, and closing or reloading the tab ends their timers unsent. The
  // user chose Delete but did not let the time to undo run out, so Hearth
  // keeps the thread: sending the deletion then could lose a chat deleted by
  // mistake, while keeping it only means deleting it again. A deletion
  // already sent goes on.
  useEffect(() => {
    if (!locked) {
      return;
    }
    const timers = deletionTimers.current;
    for (const timer of timers.values()) {
      window.clearTimeout(timer);
    }
    timers.clear();
    setDeletions((current) => current.filter((deletion) => deletion.phase === "deleting"));
  }, [locked]);

  useEffect(() => {
    const timers = deletionTimers.current;
    return () => {
      for (const timer of timers.values()) {
        window.clearTimeout(timer);
      }
      timers.clear();
    };
  }, []);

  // Fork from here opens the new thread, as New chat does.
  const handleForked = useCallback(
    (thread: Thread) => {
      setOpenThreadId(thread.id);
      setOpenThreadInfo(thread);
      void refreshThreads();
    },
    [refreshThreads],
  );

  // focusFallback gives the focus to the composer, or to New chat when no
  // chat is open, for when the element that had it is gone.
  const focusFallback = useCallback(() => {
    const composer = workspaceElement.current?.querySelector<HTMLTextAreaElement>(".composer textarea");
    if (composer !== null && composer !== undefined && !composer.disabled) {
      composer.focus();
    } else {
      newChatButton.current?.focus();
    }
  }, []);

  // showDialog opens a dialog and remembers the element that opened it: the
  // button pressed, or for a shortcut the element that has the focus.
  function showDialog(dialog: WorkspaceDialog, opener?: HTMLElement) {
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && active !== document.body ? active : null;
    dialogOpener.current = { element: opener ?? focused };
    setOpenDialog(dialog);
  }

  const closeDialog = useCallback(() => setOpenDialog(null), []);

  // A closed dialog gives the focus back to the element that opened it.
  // Removing a <dialog> from the page leaves the focus on <body>, because a
  // native dialog returns the focus only when it closes itself, as on Escape.
  const dialogShown = openDialog !== null;
  useEffect(() => {
    const opener = dialogOpener.current;
    if (dialogShown || opener === null) {
      return;
    }
    dialogOpener.current = null;
    if (opener.element !== null && opener.element.isConnected) {
      opener.element.focus();
    } else {
      focusFallback();
    }
  }, [dialogShown, focusFallback]);

  // A notice's Dismiss removes the button that had the focus, so the focus
  // moves on to the composer or New chat.
  const [refocusAfterNotice, setRefocusAfterNotice] = useState(false);
  useEffect(() => {
    if (!refocusAfterNotice) {
      return;
    }
    setRefocusAfterNotice(false);
    const active = document.activeElement;
    if (active === null || active === document.body) {
      focusFallback();
    }
  }, [refocusAfterNotice, focusFallback]);

  // After sign-in without a chat to open, New chat takes the focus, which
  // the sign-in form left on <body>. With a chat open, the composer takes it.
  const noThreads = threads !== null && threads.length === 0;
  useEffect(() => {
    if (noThreads && !locked && document.activeElement === document.body) {
      newChatButton.current?.focus();
    }
  }, [noThreads, locked]);

  // openAdjacentThread opens the chat above (-1) or below (1) the open one
  // in the sidebar's order, among the search results during a search.
  // Below the last row, it loads the next page and tries again once the page
  // is rendered.
  function openAdjacentThread(step: 1 | -1) {
    const ids = threadList.current?.threadIds() ?? [];
    const next = adjacentId(ids, openThreadId, step);
    if (next === null) {
      if (step === 1) {
        void threadList.current?.loadMore().then((loaded) => {
          if (loaded) {
            setMoveAfterLoad((count) => count + 1);
          }
        });
      }
      return;
    }
    setOpenThreadId(next);
    threadList.current?.scrollToThread(next);
  }

  // Make the move down that waited for a page, now that it is rendered.
  const moveDown = useRef(openAdjacentThread);
  useEffect(() => {
    moveDown.current = openAdjacentThread;
  });
  useEffect(() => {
    if (moveAfterLoad > 0) {
      moveDown.current(1);
    }
  }, [moveAfterLoad]);

  // The keyboard shortcuts work while no dialog covers the workspace.
  useShortcuts(!locked && openDialog === null, {
    newChat: () => {
      if (!creating) {
        void handleNewChat();
      }
    },
    searchChats: () => {
      searchInput.current?.focus();
      searchInput.current?.select();
    },
    previousChat: () => openAdjacentThread(-1),
    nextChat: () => openAdjacentThread(1),
    stopReply: () => {
      if (openThreadId !== null && replies.isRunning(openThreadId)) {
        void replies.stop(openThreadId);
      }
    },
    focusComposer: () => workspaceElement.current?.querySelector<HTMLTextAreaElement>(".composer textarea")?.focus(),
    openSettings: () => showDialog("settings"),
    showShortcuts: () => showDialog("shortcuts"),
  });

  // The rows of the sidebar: the loaded threads, and the open thread when no
  // loaded page contains it.
  const openThreadExtra = openThreadInfo !== null && openThreadInfo.id === openThreadId ? openThreadInfo : null;
  const shownThreads = useMemo(
    () => (threads === null ? null : withOpenThread(threads, openThreadExtra)),
    [threads, openThreadExtra],
  );
  const openThread = shownThreads?.find((thread) => thread.id === openThreadId);
  const waitingDeletions = deletions.filter((deletion) => deletion.phase === "waiting");

  return (
    <div ref={workspaceElement} className="workspace" inert={locked}>
      <header className="workspace-header">
        <p className="brand">{strings.appName}</p>
        <p className="signed-in-as">{strings.workspace.signedInAs(profile.name)}</p>
        <div className="actions">
          <button type="button" onClick={(event) => showDialog("settings", event.currentTarget)}>
            {strings.settings.open}
          </button>
          <button type="button" onClick={(event) => showDialog("memory", event.currentTarget)}>
            {strings.memory.open}
          </button>
          {profile.role === "admin" && (
            <button type="button" onClick={(event) => showDialog("profiles", event.currentTarget)}>
              {strings.profiles.open}
            </button>
          )}
          <button type="button" onClick={(event) => showDialog("change-password", event.currentTarget)}>
            {strings.changePassword.open}
          </button>
          <button type="button" onClick={(event) => showDialog("delete-own-profile", event.currentTarget)}>
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
          <button
            type="button"
            className="help-button"
            aria-label={strings.shortcuts.open}
            title={strings.shortcuts.open}
            onClick={(event) => showDialog("shortcuts", event.currentTarget)}
          >
            <span aria-hidden="true">{strings.shortcuts.openLabel}</span>
          </button>
        </div>
      </header>

      <nav ref={sidebar} className="sidebar" aria-label={strings.workspace.threadsLabel}>
        <button
          ref={newChatButton}
          type="button"
          className="primary new-chat"
          onClick={() => void handleNewChat()}
          disabled={creating}
        >
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
        {shownThreads !== null && (
          <ThreadList
            ref={threadList}
            threads={shownThreads}
            threadPager={threadPager}
            openThreadId={openThreadId}
            hiddenIds={hiddenThreadIds}
            locked={locked}
            onOpen={handleOpen}
            onRename={handleRename}
            onDelete={handleDelete}
            searchInputRef={searchInput}
            focusOutsideList={() => newChatButton.current?.focus()}
            scrollContainer={sidebar}
          />
        )}
      </nav>

      <main className="chat-area">
        {openThreadId === null && threads?.length === 0 && (
          <div className="empty-state">
            <h1>{strings.workspace.firstChatTitle}</h1>
            <p>{strings.workspace.firstChatIntro}</p>
            <button type="button" className="primary" onClick={() => void handleNewChat()} disabled={creating}>
              {strings.workspace.firstChatStart}
            </button>
          </div>
        )}
        {openThreadId === null && threads?.length !== 0 && (
          <div className="empty-state">
            <h1>{strings.workspace.emptyTitle}</h1>
            <p>{strings.workspace.emptyIntro}</p>
          </div>
        )}
        {openThreadId !== null && (
          <ModelDownloadsContext value={downloads}>
            <ChatView
              key={openThreadId}
              threadId={openThreadId}
              title={openThread?.title ?? null}
              locked={locked}
              replies={replies}
              drafts={drafts}
              settingsVersion={settingsVersion}
              onLoaded={setOpenThreadInfo}
              onThreadChanged={handleThreadChanged}
              onForked={handleForked}
            />
          </ModelDownloadsContext>
        )}
      </main>

      {(memoryToasts.length > 0 || waitingDeletions.length > 0 || deleteError !== null) && (
        <div className="toasts" role="region" aria-label={strings.memoryToast.regionLabel} aria-live="polite">
          {waitingDeletions.map((deletion) => (
            <section key={deletion.thread.id} className="toast undo-toast" aria-label={strings.sidebar.deletionLabel}>
              <p>{strings.sidebar.deleted(threadTitle(deletion.thread))}</p>
              <button type="button" onClick={() => handleUndoDelete(deletion)}>
                {strings.sidebar.undo}
              </button>
              <div className="undo-countdown" aria-hidden="true" style={{ animationDuration: `${undoDeleteMs}ms` }} />
            </section>
          ))}
          {deleteError !== null && (
            <section className="toast undo-toast" aria-label={strings.sidebar.deletionLabel}>
              <p role="alert" className="alert">
                {deleteError}
              </p>
              <button
                type="button"
                onClick={() => {
                  setDeleteError(null);
                  setRefocusAfterNotice(true);
                }}
              >
                {strings.sidebar.dismiss}
              </button>
            </section>
          )}
          {memoryToasts.map((change) => (
            <MemoryToast
              key={change.id}
              change={change}
              onDismiss={() => {
                setMemoryToasts((current) => current.filter((toast) => toast.id !== change.id));
                setRefocusAfterNotice(true);
              }}
            />
          ))}
        </div>
      )}

      {/* Nothing shows while a dialog's chunk loads, and the focus stays
          on the control that opened it. */}
      <Suspense fallback={null}>
        {/* NOTE: a lock closes these dialogs. A recovery key or backup codes
            on screen at that moment are lost, and the user has to create
            others after unlocking. */}
        {openDialog === "settings" && !locked && (
          <SettingsDialog profile={profile} onClose={closeDialog} onSaved={handleSettingsSaved} />
        )}
        {openDialog === "memory" && !locked && (
          <MemoryDialog threadId={openThreadId} onClose={closeDialog} />
        )}
        {openDialog === "change-password" && !locked && (
          <ChangePasswordDialog profile={profile} onClose={closeDialog} />
        )}
        {openDialog === "profiles" && profile.role === "admin" && !locked && (
          <ProfilesDialog
            self={profile}
            onSelfChanged={(changed) => {
              // The only change an administrator can make to their own role is
              // a demotion, which ends their access to the dialog.
              closeDialog();
              onProfileChanged(changed);
            }}
            onClose={closeDialog}
          />
        )}
        {openDialog === "delete-own-profile" && !locked && (
          <DeleteOwnProfileDialog profile={profile} onDeleted={onProfileDeleted} onClose={closeDialog} />
        )}
        {openDialog === "shortcuts" && !locked && <ShortcutsDialog onClose={closeDialog} />}
      </Suspense>
    </div>
  );
}

// threadTitle returns the title to show for thread, which a damaged thread
// does not have.
function threadTitle(thread: Thread): string {
  return thread.damaged ? strings.workspace.damagedThread : thread.title;
}
