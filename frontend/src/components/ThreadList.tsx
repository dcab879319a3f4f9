import {
  memo,
  useCallback,
  useEffect,
  useId,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type KeyboardEvent,
  type ReactNode,
  type Ref,
  type RefObject,
} from "react";
import { defaultRangeExtractor, useVirtualizer, type Range, type VirtualItem } from "@tanstack/react-virtual";

import {
  errorMessage,
  exportThread,
  isLockedError,
  searchThreads,
  type ExportFormat,
  type Thread,
  type ThreadMatch,
} from "../api.ts";
import { downloadFile, saveExport } from "../desktopSave.ts";
import { strings } from "../strings.ts";
import { groupThreads, type ThreadGroupKey } from "../threadGroups.ts";
import { flattenGroups, indexesToRender, type HeadingItem, type ListItem, type RowItem } from "../threadListItems.ts";
import { ThreadPager, type ThreadPagerState } from "../threadPages.ts";
import "../sidebar.css";

/** The methods of the thread list that the workspace calls. */
export interface ThreadListHandle {
  /**
   * Loads the next page of the rows shown: the threads, or the matches of
   * the search. It resolves to true when it fetched a page, and to false
   * when there is none to fetch or the request failed, whose error the list
   * shows.
   */
  loadMore: () => Promise<boolean>;
  /**
   * Returns the ids of the threads listed, in the order of their rows, the
   * rows that are not rendered included.
   */
  threadIds: () => string[];
  /** Scrolls the list as little as it takes to show the thread's row. */
  scrollToThread: (threadId: string) => void;
  /** Gives the focus to the thread's button, rendering its row if it is not. */
  focusThread: (threadId: string) => void;
}

interface ThreadListProps {
  /**
   * The loaded threads in the order the server sends them, most recently
   * updated first, and the open thread after them when no loaded page
   * contains it.
   */
  threads: readonly Thread[];
  /** The pager that loaded threads, which loads their next page. */
  threadPager: ThreadPager<Thread>;
  openThreadId: string | null;
  /** Threads whose deletion is waiting for its undo time to pass. They are not shown. */
  hiddenIds: ReadonlySet<string>;
  /** True while the profile is locked: no search is sent. */
  locked: boolean;
  /** Opens a thread, given as its row shows it. */
  onOpen: (thread: Thread) => void;
  /** Saves a new title. It rejects with the error to show under the title field. */
  onRename: (threadId: string, title: string) => Promise<void>;
  /** Hides the thread, offers to undo, and deletes it once the time to undo has passed. */
  onDelete: (thread: Thread) => void;
  /** Receives the search field, which the search shortcut focuses. */
  searchInputRef: RefObject<HTMLInputElement | null>;
  /**
   * Gives the focus to a control outside the list, for when the row that had
   * it is deleted and no thread follows it.
   */
  focusOutsideList: () => void;
  /**
   * The element that scrolls the list. Its scroll position decides which
   * rows are rendered, and its end coming near loads the next page.
   */
  scrollContainer: RefObject<HTMLElement | null>;
  ref?: Ref<ThreadListHandle>;
}

// Wait after the last keystroke before a search is sent, in milliseconds.
const searchDelayMs = 250;

// Maximum length of a search in characters, as the server accepts it (memory.MaxSearchQueryLength).
const maxSearchLength = 200;

// Maximum length of a title in characters, as the server accepts it (memory.MaxTitleLength).
const maxTitleLength = 200;

// How often the date headings are worked out again, so that a page left open
// over midnight moves its threads to Yesterday, in milliseconds.
const headingRefreshMs = 60_000;

// How far below the visible part of the list its end may be for the next
// page to load: one more height of the list, so that scrolling seldom
// reaches the end before the page arrives.
const loadMoreMargin = "0px 0px 100% 0px";

// Estimates of the heights of a heading and of a row with its title on one
// line, with the space below each, at the default text size, in pixels. The
// virtualiser uses them until it has measured the rendered ones.
const estimatedHeadingHeight = 24;
const estimatedRowHeight = 60;

// Rows rendered beyond each end of the visible part of the list, so that
// Tab and Shift+Tab find the next row in the document, and a fast scroll
// seldom shows an empty space.
const overscanRows = 5;

/** A search and the pager that loads its matches. */
interface Search {
  query: string;
  pager: ThreadPager<ThreadMatch>;
  /** The matches of the search before, shown until this one's first page arrives. */
  previousMatches: ThreadMatch[] | null;
}

// The state of no pager, for the subscription while no search runs.
const noPagerState: ThreadPagerState<ThreadMatch> = { threads: null, nextCursor: null, loadingMore: false };

function subscribeToNothing(): () => void {
  return () => undefined;
}

function getNoPagerState(): ThreadPagerState<ThreadMatch> {
  return noPagerState;
}

/** A thread as a row shows it: with the search's snippet when it was found by one. */
type ListedThread = Thread & { match?: string };

const updatedAtFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * Renders the signed-in profile's threads under date headings, with a search
 * field above them. Each thread is a button that opens it, next to a menu
 * that renames, exports or deletes it.
 */
export function ThreadList({
  threads,
  threadPager,
  openThreadId,
  hiddenIds,
  locked,
  onOpen,
  onRename,
  onDelete,
  searchInputRef: searchInput,
  focusOutsideList,
  scrollContainer,
  ref,
}: ThreadListProps) {
  const searchId = useId();
  const groupsElement = useRef<HTMLDivElement>(null);
  const moreElement = useRef<HTMLDivElement>(null);
  // A thread whose button takes the focus after the next render: after its
  // rename ends, when the row may have moved under another heading and
  // lost the focus, after the thread above it was deleted, or as the first
  // of a page that loaded while the focus was on the control that loads
  // more, which goes away after the last page.
  const [focusThreadId, setFocusThreadId] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState<Search | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [loadMoreError, setLoadMoreError] = useState<string | null>(null);
  const [actionStatus, setActionStatus] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [now, setNow] = useState(() => new Date());
  const trimmedQuery = query.trim();
  const threadPages = useSyncExternalStore(threadPager.subscribe, threadPager.getState);
  const searchPages = useSyncExternalStore(
    search?.pager.subscribe ?? subscribeToNothing,
    search?.pager.getState ?? getNoPagerState,
  );

  useEffect(() => {
    const timer = window.setInterval(() => setNow(new Date()), headingRefreshMs);
    return () => window.clearInterval(timer);
  }, []);

  // Search once typing pauses: the first page of matches for a new search.
  // A change of the threads, such as a rename or a new reply, fetches the
  // matches loaded so far again, so that the results stay current.
  useEffect(() => {
    if (trimmedQuery === "" || locked) {
      return;
    }
    const timer = window.setTimeout(() => {
      let current = search;
      if (current === null || current.query !== trimmedQuery) {
        current?.pager.close();
        current = {
          query: trimmedQuery,
          pager: new ThreadPager<ThreadMatch>((request, signal) => searchThreads(trimmedQuery, request, signal)),
          previousMatches: current === null ? null : (current.pager.getState().threads ?? current.previousMatches),
        };
        setSearch(current);
        setLoadMoreError(null);
      }
      current.pager.refresh().then(
        () => setSearchError(null),
        (err: unknown) => {
          if (isAbortError(err) || isLockedError(err)) {
            return;
          }
          setSearchError(strings.sidebar.searchFailed(errorMessage(err)));
        },
      );
    }, searchDelayMs);
    return () => window.clearTimeout(timer);
    // search is left out of the dependencies, because setting it here must
    // not start the same search again.
  }, [trimmedQuery, locked, threadPages.threads]);

  // A search's requests stop when another search replaces it, when it is
  // cleared, and when the list goes away.
  useEffect(() => () => search?.pager.close(), [search]);

  const byId = useMemo(() => new Map(threads.map((thread) => [thread.id, thread])), [threads]);
  const searching = trimmedQuery !== "";
  const resultsCurrent = search !== null && search.query === trimmedQuery && searchPages.threads !== null;
  // The pages of the rows shown: the threads', or the current search's once
  // its first page has come.
  let shownPages: ThreadPagerState<Thread> | null = threadPages;
  if (searching) {
    shownPages = resultsCurrent ? searchPages : null;
  }
  const hasMore = shownPages !== null && shownPages.nextCursor !== null && (!searching || searchError === null);
  const loadingMore = shownPages?.loadingMore ?? false;

  // The rows: every loaded thread, or the search's matches with the latest
  // title and times from the list, so that a rename shows before the next
  // search. While a new search runs, the matches of the one before stay.
  const listed = useMemo((): ListedThread[] => {
    if (!searching) {
      return threads.filter((thread) => !hiddenIds.has(thread.id));
    }
    // A failed search shows its error alone, not the matches of an earlier one.
    if (searchError !== null) {
      return [];
    }
    return (searchPages.threads ?? search?.previousMatches ?? [])
      .filter((found) => !hiddenIds.has(found.id))
      .map((found) => ({ ...found, ...byId.get(found.id), match: found.match }));
  }, [searching, searchError, threads, searchPages, search, hiddenIds, byId]);
  const groups = useMemo(() => groupThreads(listed, now), [listed, now]);
  const items = useMemo(() => flattenGroups(groups), [groups]);
  const indexById = useMemo(() => new Map(items.map((item, index) => [item.key, index])), [items]);

  // The row whose element has the focus. It stays rendered, wherever the
  // list is scrolled, so that the focus is not lost to the document.
  const [focusedRowId, setFocusedRowId] = useState<string | null>(null);
  const focusedIndex = focusedRowId === null ? undefined : indexById.get(focusedRowId);
  const pendingFocusIndex = focusThreadId === null ? undefined : indexById.get(focusThreadId);
  const rangeExtractor = useCallback(
    (range: Range) => indexesToRender(defaultRangeExtractor(range), [focusedIndex, pendingFocusIndex], items),
    [focusedIndex, pendingFocusIndex, items],
  );
  // The offset of the list in the scroll container, which the search field
  // and the notices above it take.
  const [scrollMargin, setScrollMargin] = useState(0);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollContainer.current,
    estimateSize: (index) => (items[index]?.kind === "heading" ? estimatedHeadingHeight : estimatedRowHeight),
    getItemKey: (index) => items[index]?.key ?? index,
    overscan: overscanRows,
    rangeExtractor,
    scrollMargin,
  });

  useLayoutEffect(() => {
    const list = groupsElement.current;
    const container = scrollContainer.current;
    if (list === null || container === null) {
      return;
    }
    const offset = list.getBoundingClientRect().top - container.getBoundingClientRect().top + container.scrollTop;
    if (offset !== scrollMargin) {
      setScrollMargin(offset);
    }
  });

  // The row to focus is rendered by the range above, so its button exists
  // once this effect runs. Focusing it scrolls it into view.
  useEffect(() => {
    if (focusThreadId === null) {
      return;
    }
    setFocusThreadId(null);
    groupsElement.current?.querySelector<HTMLElement>(`[data-thread-id="${CSS.escape(focusThreadId)}"]`)?.focus();
  }, [focusThreadId]);

  // loadMore loads the next page of the rows shown. When the focus is on the
  // control that loads more, as the load starts or as the page arrives, it
  // moves to the first new row. The second check covers a page that the
  // list began to load by itself, as its end came into view, just before
  // the focus reached the control.
  const loadMore = useCallback(async (): Promise<boolean> => {
    let pager: ThreadPager<Thread> | undefined = threadPager;
    if (searching) {
      pager = resultsCurrent && searchError === null ? search?.pager : undefined;
    }
    if (pager === undefined) {
      return false;
    }
    const hadFocus = moreElement.current?.contains(document.activeElement) ?? false;
    const loadedBefore = pager.getState().threads?.length ?? 0;
    setLoadMoreError(null);
    try {
      const loaded = await pager.loadMore();
      const hasFocus = moreElement.current?.contains(document.activeElement) ?? false;
      const firstNew = pager.getState().threads?.[loadedBefore];
      if (loaded && (hadFocus || hasFocus) && firstNew !== undefined) {
        setFocusThreadId(firstNew.id);
      }
      return loaded;
    } catch (err) {
      if (!isAbortError(err) && !isLockedError(err)) {
        setLoadMoreError(strings.sidebar.loadMoreFailed(errorMessage(err)));
      }
      return false;
    }
  }, [searching, resultsCurrent, search, searchError, threadPager]);

  useImperativeHandle(
    ref,
    () => ({
      loadMore,
      threadIds: () => items.filter((item) => item.kind === "row").map((item) => item.key),
      scrollToThread: (threadId) => {
        const index = indexById.get(threadId);
        if (index !== undefined) {
          virtualizer.scrollToIndex(index);
        }
      },
      focusThread: (threadId) => setFocusThreadId(threadId),
    }),
    [loadMore, items, indexById, virtualizer],
  );

  // The next page loads once the end of the list comes near. The observer
  // is made again after each page and each change of the rows, and it
  // reports at once whether the end is near, so that a list that still
  // ends within view goes on loading.
  const rowCount = listed.length;
  const autoLoad = hasMore && !loadingMore && loadMoreError === null && !locked;
  useEffect(() => {
    const target = moreElement.current;
    if (!autoLoad || target === null) {
      return;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) {
          observer.disconnect();
          void loadMore();
        }
      },
      { root: scrollContainer.current, rootMargin: loadMoreMargin },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [autoLoad, loadMore, rowCount, scrollContainer]);

  function clearSearch() {
    setQuery("");
    setSearch(null);
    setSearchError(null);
    setLoadMoreError(null);
  }

  function handleSearchKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      clearSearch();
    }
  }

  async function handleExport(thread: Thread, format: ExportFormat) {
    setActionError(null);
    setActionStatus(strings.sidebar.exporting);
    try {
      await saveExport(await exportThread(thread.id, format), downloadFile);
      setActionStatus(null);
    } catch (err) {
      setActionStatus(null);
      if (!isLockedError(err)) {
        setActionError(strings.sidebar.exportFailed(errorMessage(err)));
      }
    }
  }

  function handleDelete(thread: Thread) {
    setActionError(null);
    // The row goes away, so the focus moves to the thread shown after it,
    // or out of the list when it was the last one.
    const ids = items.filter((item) => item.kind === "row").map((item) => item.key);
    const index = ids.indexOf(thread.id);
    const next = index < 0 ? undefined : ids[index + 1];
    if (next === undefined) {
      focusOutsideList();
    } else {
      setFocusThreadId(next);
    }
    onDelete(thread);
  }

  // The rows' actions call the handlers of the latest render through a ref,
  // so that they stay the same functions and memo skips the rows whose
  // thread has not changed when the list renders again.
  const latestHandlers = useRef({ onOpen, onRename, handleExport, handleDelete });
  useLayoutEffect(() => {
    latestHandlers.current = { onOpen, onRename, handleExport, handleDelete };
  });
  const rowActions = useMemo(
    (): ThreadRowActions => ({
      open: (thread) => latestHandlers.current.onOpen(thread),
      rename: (threadId, title) => latestHandlers.current.onRename(threadId, title),
      export: (thread, format) => void latestHandlers.current.handleExport(thread, format),
      delete: (thread) => latestHandlers.current.handleDelete(thread),
      renameDone: (threadId) => setFocusThreadId(threadId),
    }),
    [],
  );

  /**
   * Scrolls to the top or the end of the list at once on Home and End from a
   * thread's button. The browser would animate the scroll over many frames,
   * each beyond the rows rendered around the last position, which showed an
   * empty sidebar until the animation ended.
   */
  function handleRowsKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const container = scrollContainer.current;
    if (event.key !== "Home" && event.key !== "End") {
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || container === null) {
      return;
    }
    if (!(event.target instanceof HTMLElement) || !event.target.classList.contains("thread-button")) {
      return;
    }
    event.preventDefault();
    container.scrollTo({ top: event.key === "Home" ? 0 : container.scrollHeight, behavior: "instant" });
  }

  let status = "";
  if (searching && searchError === null) {
    if (!resultsCurrent) {
      status = strings.sidebar.searching;
    } else if (listed.length === 0 && !hasMore) {
      status = strings.sidebar.noResults(trimmedQuery);
    } else {
      status = strings.sidebar.resultCount(listed.length, !hasMore);
    }
  }

  return (
    <div className="thread-sidebar">
      <div className="thread-search" role="search">
        <label htmlFor={searchId} className="visually-hidden">
          {strings.sidebar.searchLabel}
        </label>
        <input
          ref={searchInput}
          id={searchId}
          type="search"
          value={query}
          placeholder={strings.sidebar.searchPlaceholder}
          maxLength={maxSearchLength}
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${searchId}-hint`}
          onChange={(event) => {
            setQuery(event.target.value);
            setSearchError(null);
            if (event.target.value.trim() === "") {
              setSearch(null);
              setLoadMoreError(null);
            }
          }}
          onKeyDown={handleSearchKeyDown}
        />
        <p id={`${searchId}-hint`} className="visually-hidden">
          {strings.sidebar.searchHint}
        </p>
      </div>

      <p role="status" className="thread-search-status">
        {status}
      </p>
      {searchError !== null && (
        <p role="alert" className="alert">
          {searchError}
        </p>
      )}
      {actionStatus !== null && (
        <p role="status" className="muted">
          {actionStatus}
        </p>
      )}
      {actionError !== null && (
        <div className="thread-action-error">
          <p role="alert" className="alert">
            {actionError}
          </p>
          <button type="button" onClick={() => setActionError(null)}>
            {strings.sidebar.dismiss}
          </button>
        </div>
      )}

      {!searching && listed.length === 0 && !hasMore && <p className="muted">{strings.workspace.noThreads}</p>}
      <div
        ref={groupsElement}
        className="thread-groups"
        style={{ height: virtualizer.getTotalSize() }}
        aria-busy={searching && !resultsCurrent && searchError === null}
        onFocus={(event) => setFocusedRowId(rowIdOf(event.target, items))}
        onBlur={(event) => {
          // Leaving the window blurs the row too, and the row must still
          // be there to take the focus back when the window returns, so
          // only a move of the focus within the document lets it go.
          if (!document.hasFocus()) {
            return;
          }
          if (!(event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget))) {
            setFocusedRowId(null);
          }
        }}
        onKeyDown={handleRowsKeyDown}
      >
        {renderedSections(virtualizer.getVirtualItems(), items).map((section) => (
          <ThreadGroupSection
            key={section.heading.key}
            group={section.heading.item.group}
            first={section.heading.item.groupIndex === 0}
            index={section.heading.index}
            top={section.heading.start - scrollMargin}
            measureRef={virtualizer.measureElement}
          >
            {section.rows.map((row) => (
              <ThreadRow
                key={row.item.key}
                ref={virtualizer.measureElement}
                index={row.index}
                top={row.start - scrollMargin}
                position={row.item.position}
                setSize={row.item.groupSize}
                thread={row.item.thread}
                query={resultsCurrent ? trimmedQuery : ""}
                current={row.item.key === openThreadId}
                actions={rowActions}
              />
            ))}
          </ThreadGroupSection>
        ))}
      </div>
      {hasMore && (
        <div ref={moreElement} className="thread-list-more">
          {loadMoreError === null ? (
            // aria-disabled rather than disabled while loading, so that the
            // button keeps the focus.
            <button
              type="button"
              aria-disabled={loadingMore}
              onClick={() => {
                if (!loadingMore) {
                  void loadMore();
                }
              }}
            >
              {loadingMore ? strings.sidebar.loadingMore : strings.sidebar.loadMore}
            </button>
          ) : (
            <>
              <p role="alert" className="alert">
                {loadMoreError}
              </p>
              <button type="button" onClick={() => void loadMore()}>
                {strings.sidebar.loadMoreRetry}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

/** A rendered item of the list, with its place in the list and its offset. */
interface RenderedItem<T> {
  item: T;
  key: string;
  index: number;
  /** The offset of the item's top in the scroll container, as the virtualiser gives it. */
  start: number;
}

/** A group's heading and those of its rows that are rendered. */
interface RenderedSection {
  heading: RenderedItem<HeadingItem>;
  rows: RenderedItem<RowItem<ListedThread>>[];
}

/**
 * Returns the virtual items as sections of the groups they belong to. Every
 * group with a rendered row has its heading among the virtual items, which
 * the range extractor ensures, and comes before its rows.
 */
function renderedSections(virtualItems: readonly VirtualItem[], items: readonly ListItem<ListedThread>[]): RenderedSection[] {
  const sections: RenderedSection[] = [];
  for (const virtualItem of virtualItems) {
    const item = items[virtualItem.index];
    if (item === undefined) {
      continue;
    }
    const rendered = { key: item.key, index: virtualItem.index, start: virtualItem.start };
    if (item.kind === "heading") {
      sections.push({ heading: { ...rendered, item }, rows: [] });
    } else {
      sections.at(-1)?.rows.push({ ...rendered, item });
    }
  }
  return sections;
}

/** Returns the id of the thread whose row contains target, or null. */
function rowIdOf(target: EventTarget, items: readonly ListItem<ListedThread>[]): string | null {
  if (!(target instanceof Element)) {
    return null;
  }
  const index = Number(target.closest<HTMLElement>(".thread-row")?.dataset["index"]);
  const item = items[index];
  return item?.kind === "row" ? item.key : null;
}

interface ThreadGroupSectionProps {
  group: ThreadGroupKey;
  /** True for the first group of the list, whose heading has no space above it. */
  first: boolean;
  /** The heading's index among the list's items. */
  index: number;
  /** The heading's offset from the top of the list, in pixels. */
  top: number;
  /** Receives the heading's element, which the virtualiser measures. */
  measureRef: (element: HTMLElement | null) => void;
  children: ReactNode;
}

/**
 * Renders one date heading with those of its threads that are rendered.
 * The heading and the rows are positioned in the list by the virtualiser.
 */
function ThreadGroupSection({ group, first, index, top, measureRef, children }: ThreadGroupSectionProps) {
  const headingId = useId();
  return (
    <section className="thread-group" aria-labelledby={headingId}>
      <h2
        ref={measureRef}
        id={headingId}
        data-index={index}
        className={first ? "thread-group-heading" : "thread-group-heading thread-group-heading-after"}
        style={{ top }}
      >
        {strings.sidebar.groups[group]}
      </h2>
      <ul className="thread-list">{children}</ul>
    </section>
  );
}

/** The handlers of a row's button and menu, the same functions for every row and render. */
interface ThreadRowActions {
  open: (thread: Thread) => void;
  rename: (threadId: string, title: string) => Promise<void>;
  export: (thread: Thread, format: ExportFormat) => void;
  delete: (thread: Thread) => void;
  /** Called when renaming ends, saved or cancelled, so that the thread's button takes the focus again. */
  renameDone: (threadId: string) => void;
}

interface ThreadRowProps {
  /** Receives the row's element, which the virtualiser measures. */
  ref: (element: HTMLElement | null) => void;
  /** The row's index among the list's items. */
  index: number;
  /** The row's offset from the top of the list, in pixels. */
  top: number;
  /** The row's position in its group, from 1. */
  position: number;
  /** The number of rows in the group, rendered or not. */
  setSize: number;
  thread: ListedThread;
  /** The search whose match the row shows, or "" outside a search. */
  query: string;
  current: boolean;
  actions: ThreadRowActions;
}

/**
 * Renders one thread: the button that opens it, or the field that renames
 * it, and its actions menu. It is memoised, because rendering all 100 rows
 * of a page again whenever the list rendered, three times during sign-in,
 * took 1.7 MiB more anonymous memory in the desktop window's web process
 * (BenchmarkFootprint, WebKitGTK 2.50). The list also renders again on
 * every scroll that changes which rows are rendered.
 */
const ThreadRow = memo(function ThreadRow({
  ref,
  index,
  top,
  position,
  setSize,
  thread,
  query,
  current,
  actions,
}: ThreadRowProps) {
  const titleId = useId();
  const [editing, setEditing] = useState(false);
  const title = thread.damaged ? strings.workspace.damagedThread : thread.title;

  const items: MenuItem[] = [
    // A damaged thread's title cannot be read, so it cannot be changed either.
    ...(thread.damaged ? [] : [{ label: strings.sidebar.rename, onSelect: () => setEditing(true) }]),
    { label: strings.sidebar.exportMarkdown, onSelect: () => actions.export(thread, "markdown") },
    { label: strings.sidebar.exportJson, onSelect: () => actions.export(thread, "json") },
    { label: strings.sidebar.delete, onSelect: () => actions.delete(thread) },
  ];

  return (
    <li
      ref={ref}
      className="thread-row"
      data-index={index}
      style={{ top }}
      aria-posinset={position}
      aria-setsize={setSize}
    >
      {editing ? (
        <RenameField
          title={thread.title}
          onSave={(newTitle) => actions.rename(thread.id, newTitle)}
          onDone={() => {
            setEditing(false);
            actions.renameDone(thread.id);
          }}
        />
      ) : (
        <button
          type="button"
          className="thread-button"
          data-thread-id={thread.id}
          aria-current={current ? "page" : undefined}
          onClick={() => actions.open(thread)}
        >
          <span id={titleId} className="thread-title">
            {title}
          </span>
          {thread.damagedMessages && !thread.damaged && (
            <span className="thread-damage">{strings.workspace.damagedMessages}</span>
          )}
          {thread.match !== undefined && thread.match !== "" && (
            <span className="thread-match">{highlight(thread.match, query)}</span>
          )}
          <time className="thread-time" dateTime={thread.updatedAt}>
            {updatedAtFormat.format(new Date(thread.updatedAt))}
          </time>
        </button>
      )}
      {!editing && <ThreadMenu items={items} describedBy={titleId} />}
    </li>
  );
});

interface RenameFieldProps {
  title: string;
  /** Saves the new title, and rejects with the error to show. */
  onSave: (title: string) => Promise<void>;
  /** Ends renaming, whether saved or cancelled. */
  onDone: () => void;
}

/**
 * Renders the field that renames a thread in place of its title. Enter
 * saves, Escape cancels, and leaving the field saves a changed title unless
 * a save of it has failed.
 */
function RenameField({ title, onSave, onDone }: RenameFieldProps) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  // Set once Enter or Escape has decided the outcome, so that the blur that
  // follows does not save a second time.
  const settled = useRef(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  async function save() {
    const value = input.current?.value.trim() ?? "";
    if (value === title) {
      settled.current = true;
      onDone();
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await onSave(value);
      settled.current = true;
      onDone();
    } catch (err) {
      settled.current = false;
      setSaving(false);
      setError(strings.sidebar.renameFailed(errorMessage(err)));
      input.current?.focus();
    }
  }

  function handleKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (saving) {
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      settled.current = true;
      void save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      settled.current = true;
      onDone();
    }
  }

  function handleBlur() {
    if (settled.current || saving) {
      return;
    }
    // After a failed save, leaving the field cancels the rename, so that
    // clicking away does not send the rejected title again.
    if (error !== null || (input.current?.value.trim() ?? "") === title) {
      onDone();
      return;
    }
    void save();
  }

  const describedBy = error === null ? `${id}-hint` : `${id}-hint ${id}-error`;
  return (
    <div className="thread-rename">
      <input
        ref={input}
        type="text"
        defaultValue={title}
        maxLength={maxTitleLength}
        aria-label={strings.sidebar.renameLabel}
        aria-describedby={describedBy}
        aria-invalid={error !== null}
        readOnly={saving}
        onKeyDown={handleKeyDown}
        onBlur={handleBlur}
      />
      <p id={`${id}-hint`} className="hint">
        {saving ? strings.sidebar.renaming : strings.sidebar.renameHint}
      </p>
      {error !== null && (
        <p id={`${id}-error`} role="alert" className="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** One action of a thread's menu. */
interface MenuItem {
  label: string;
  onSelect: () => void;
}

/**
 * Renders a menu button and the menu it opens, following the WAI-ARIA menu
 * button pattern. Enter, Space or a click opens the menu on its first item,
 * and Arrow Down or Arrow Up opens it on its first or last one. In the menu,
 * the arrow keys, Home and End move between items, and Enter or Space runs
 * one. Escape closes the menu and returns the focus to the button.
 */
function ThreadMenu({ items, describedBy }: { items: MenuItem[]; describedBy: string }) {
  const buttonId = useId();
  const menuId = useId();
  const container = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const itemButtons = useRef<(HTMLButtonElement | null)[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);

  useEffect(() => {
    if (open) {
      itemButtons.current[active]?.focus();
    }
  }, [open, active]);

  // A press anywhere outside the menu closes it.
  useEffect(() => {
    if (!open) {
      return;
    }
    function handlePointerDown(event: PointerEvent) {
      if (event.target instanceof Node && !container.current?.contains(event.target)) {
        setOpen(false);
      }
    }
    // Focus that leaves the menu, as a shortcut moves it, closes it too.
    function handleFocusIn(event: FocusEvent) {
      if (event.target instanceof Node && !container.current?.contains(event.target)) {
        setOpen(false);
      }
    }
    document.addEventListener("pointerdown", handlePointerDown);
    document.addEventListener("focusin", handleFocusIn);
    return () => {
      document.removeEventListener("pointerdown", handlePointerDown);
      document.removeEventListener("focusin", handleFocusIn);
    };
  }, [open]);

  function openAt(index: number) {
    setActive(index);
    setOpen(true);
  }

  function close() {
    setOpen(false);
    button.current?.focus();
  }

  function handleButtonKeyDown(event: KeyboardEvent<HTMLButtonElement>) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      openAt(0);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      openAt(items.length - 1);
    }
  }

  function handleMenuKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    const last = items.length - 1;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        setActive((index) => (index >= last ? 0 : index + 1));
        break;
      case "ArrowUp":
        event.preventDefault();
        setActive((index) => (index <= 0 ? last : index - 1));
        break;
      case "Home":
        event.preventDefault();
        setActive(0);
        break;
      case "End":
        event.preventDefault();
        setActive(last);
        break;
      case "Escape":
        event.preventDefault();
        event.stopPropagation();
        close();
        break;
      case "Tab":
        setOpen(false);
        break;
    }
  }

  return (
    <div className="thread-menu" ref={container}>
      <button
        ref={button}
        id={buttonId}
        type="button"
        className="thread-menu-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={strings.sidebar.actionsLabel}
        aria-describedby={describedBy}
        onClick={() => (open ? setOpen(false) : openAt(0))}
        onKeyDown={handleButtonKeyDown}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      {open && (
        <ul id={menuId} role="menu" aria-labelledby={buttonId} className="thread-menu-list" onKeyDown={handleMenuKeyDown}>
          {items.map((item, index) => (
            <li key={item.label} role="none">
              <button
                ref={(element) => {
                  itemButtons.current[index] = element;
                }}
                type="button"
                role="menuitem"
                tabIndex={-1}
                className="thread-menu-item"
                onClick={() => {
                  close();
                  item.onSelect();
                }}
                onMouseEnter={() => setActive(index)}
              >
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Returns text with the first place that contains query marked. Marking is
 * skipped where lower case changes the length of the text, as it does for
 * "İ", because the positions would no longer line up.
 */
function highlight(text: string, query: string): ReactNode {
  const lowerText = text.toLocaleLowerCase();
  const lowerQuery = query.toLocaleLowerCase();
  if (lowerQuery === "" || lowerText.length !== text.length || lowerQuery.length !== query.length) {
    return text;
  }
  const start = lowerText.indexOf(lowerQuery);
  if (start < 0) {
    return text;
  }
  const end = start + query.length;
  return (
    <>
      {text.slice(0, start)}
      <mark>{text.slice(start, end)}</mark>
      {text.slice(end)}
    </>
  );
}

// isAbortError reports whether err is the rejection of an aborted request,
// such as a search that another search replaced.
function isAbortError(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}
