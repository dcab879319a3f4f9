// Paging of the sidebar's threads, for the thread list and for a search. The
// sidebar lists only the pages loaded so far, newest first, and loads the
// next one when the user scrolls near its end or moves past the last thread
// with the keyboard.

import type { PageRequest, ThreadPage } from "./api.ts";

/**
 * Number of threads in one page. A thread's row is 3.5 rem high, or about
 * 5.5 rem with its title on two lines, so 100 rows fill the sidebar of a
 * 1,440-pixel-high window four to six times at the default text size.
 */
export const threadPageSize = 100;

/** The largest page the server returns (maxThreadPage in app/http_threads.go). */
export const maxThreadPageSize = 1000;

/** The threads that a ThreadPager has loaded, and where their next page starts. */
export interface ThreadPagerState<T> {
  /** The threads loaded so far, newest first, or null before the first page has loaded. */
  threads: T[] | null;
  /** The cursor of the next page, or null once the last page has loaded. */
  nextCursor: string | null;
  /** True while the next page is being fetched. */
  loadingMore: boolean;
}

/** Fetches one page of threads. Aborting signal rejects with the fetch's AbortError. */
export type FetchThreadPage<T> = (request: PageRequest, signal: AbortSignal) => Promise<ThreadPage<T>>;

/**
 * Returns the limit that fetches again, in one request, at least the loaded
 * number of threads, rounded up to whole pages: one page before anything has
 * loaded, and at most maxThreadPageSize.
 */
export function refreshLimit(loaded: number, pageSize: number = threadPageSize): number {
  const pages = Math.max(1, Math.ceil(loaded / pageSize));
  return Math.min(maxThreadPageSize, pages * pageSize);
}

/**
 * Returns loaded followed by the threads of page that are not among them. A
 * thread updated between two requests moves to the top of the list, so the
 * next page can repeat one that an earlier page or a refresh returned.
 */
export function appendPage<T extends { id: string }>(loaded: readonly T[], page: readonly T[]): T[] {
  const ids = new Set(loaded.map((thread) => thread.id));
  const added = page.filter((thread) => {
    if (ids.has(thread.id)) {
      return false;
    }
    ids.add(thread.id);
    return true;
  });
  return [...loaded, ...added];
}

/**
 * Returns threads with open added at the end when it is not among them, so
 * that the open thread keeps its row although no loaded page contains it,
 * as after opening an old thread from a search. Such a thread is older than
 * every loaded one, unless it changed since the last refresh, and a change
 * refreshes the list anyway.
 */
export function withOpenThread<T extends { id: string }>(threads: readonly T[], open: T | null): readonly T[] {
  if (open === null || threads.some((thread) => thread.id === open.id)) {
    return threads;
  }
  return [...threads, open];
}

/**
 * Loads pages of threads and keeps what it loaded. Its operations run one at
 * a time, in the order they were called, and each reads the state that the
 * one before left, so a refresh and the next page never overlap. After
 * close, the request under way is aborted, nothing changes any more, and
 * every operation rejects with an AbortError. Subscribe with
 * useSyncExternalStore(pager.subscribe, pager.getState).
 */
export class ThreadPager<T extends { id: string }> {
  private state: ThreadPagerState<T> = { threads: null, nextCursor: null, loadingMore: false };
  private readonly listeners = new Set<() => void>();
  private queue: Promise<unknown> = Promise.resolve();
  // The loadMore call under way, which a second call joins.
  private pendingMore: Promise<boolean> | null = null;
  private readonly controller = new AbortController();
  private readonly fetchPage: FetchThreadPage<T>;
  private readonly pageSize: number;

  constructor(fetchPage: FetchThreadPage<T>, pageSize: number = threadPageSize) {
    this.fetchPage = fetchPage;
    this.pageSize = pageSize;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): ThreadPagerState<T> => this.state;

  /**
   * Fetches the newest threads again, as many as are loaded rounded up to
   * whole pages, or the first page before any has loaded, and replaces the
   * loaded threads with them. It resolves to the threads, and rejects with
   * the fetch's error, which leaves the loaded threads as they were.
   * NOTE: at most maxThreadPageSize threads come back, so a refresh after
   * more were loaded keeps only the newest maxThreadPageSize.
   */
  refresh(): Promise<T[]> {
    return this.enqueue(async () => {
      const limit = refreshLimit(this.state.threads?.length ?? 0, this.pageSize);
      const page = await this.fetchPage({ limit }, this.controller.signal);
      const threads = appendPage([], page.threads);
      this.update({ threads, nextCursor: page.nextCursor });
      return threads;
    });
  }

  /**
   * Fetches the page after the loaded threads and adds its threads that are
   * not loaded yet. It resolves to true when it fetched a page, and to false
   * without a request when the last page has loaded or none has yet. It
   * rejects with the fetch's error, which leaves the loaded threads as they
   * were. A call while another is under way returns that one's promise, so
   * that a scroll and a click at the same moment load one page.
   */
  loadMore(): Promise<boolean> {
    if (this.pendingMore !== null) {
      return this.pendingMore;
    }
    const more = this.enqueue(async () => {
      const cursor = this.state.nextCursor;
      if (this.state.threads === null || cursor === null) {
        return false;
      }
      this.update({ loadingMore: true });
      try {
        const page = await this.fetchPage({ limit: this.pageSize, cursor }, this.controller.signal);
        this.update({
          threads: appendPage(this.state.threads ?? [], page.threads),
          nextCursor: page.nextCursor,
          loadingMore: false,
        });
        return true;
      } catch (err) {
        this.update({ loadingMore: false });
        throw err;
      }
    });
    this.pendingMore = more;
    const clear = () => {
      this.pendingMore = null;
    };
    more.then(clear, clear);
    return more;
  }

  /**
   * Removes a deleted thread from the loaded ones, once the operations
   * called before have ended, so that a refresh sent before the deletion
   * cannot bring it back.
   */
  remove(threadId: string): Promise<void> {
    return this.enqueue(async () => {
      const threads = this.state.threads;
      if (threads !== null) {
        this.update({ threads: threads.filter((thread) => thread.id !== threadId) });
      }
    });
  }

  /** Aborts the request under way, and makes every later operation reject. */
  close(): void {
    this.controller.abort();
  }

  private enqueue<R>(operation: () => Promise<R>): Promise<R> {
    const result = this.queue.then(() => {
      this.controller.signal.throwIfAborted();
      return operation();
    });
    // The queue goes on after a failed operation. Its caller gets the error.
    this.queue = result.catch(() => undefined);
    return result;
  }

  private update(change: Partial<ThreadPagerState<T>>): void {
    if (this.controller.signal.aborted) {
      return;
    }
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) {
      listener();
    }
  }
}
