import { describe, expect, it } from "vitest";

import type { PageRequest, ThreadPage } from "./api.ts";
import {
  appendPage,
  maxThreadPageSize,
  refreshLimit,
  ThreadPager,
  threadPageSize,
  withOpenThread,
} from "./threadPages.ts";

interface Item {
  id: string;
  title: string;
}

function item(id: string, title = id): Item {
  return { id, title };
}

function ids(items: readonly Item[] | null): string[] | null {
  return items === null ? null : items.map((entry) => entry.id);
}

// FakeServer lists its items newest first and pages them as GET
// /api/threads does: the cursor names the last item of the page before, and
// the next page starts after it. touch moves an item to the top, as a reply
// or a rename does on the server.
class FakeServer {
  items: Item[];
  readonly requests: PageRequest[] = [];
  // Set to make the next request fail with this error.
  failNext: Error | null = null;
  // Requests wait for release while held, so that a test can order them.
  private held: Array<() => void> | null = null;

  constructor(count: number) {
    this.items = Array.from({ length: count }, (_, index) => item(`t${count - index}`));
  }

  // fetchPage reads the items when the request arrives, and responds once
  // the requests are released.
  readonly fetchPage = async (request: PageRequest, signal: AbortSignal): Promise<ThreadPage<Item>> => {
    this.requests.push({ ...request });
    const failure = this.failNext;
    this.failNext = null;
    let start = 0;
    if (request.cursor !== undefined && request.cursor !== null) {
      start = this.items.findIndex((entry) => entry.id === request.cursor) + 1;
    }
    const threads = this.items.slice(start, start + request.limit).map((entry) => ({ ...entry }));
    const last = threads.at(-1);
    const more = start + request.limit < this.items.length;

    if (this.held !== null) {
      await new Promise<void>((resolve) => this.held?.push(resolve));
    }
    signal.throwIfAborted();
    if (failure !== null) {
      throw failure;
    }
    return { threads, nextCursor: more && last !== undefined ? last.id : null };
  };

  touch(id: string, title?: string): void {
    const found = this.items.find((entry) => entry.id === id);
    if (found === undefined) {
      throw new Error(`no item ${id}`);
    }
    this.items = [{ ...found, title: title ?? found.title }, ...this.items.filter((entry) => entry !== found)];
  }

  add(id: string): void {
    this.items = [item(id), ...this.items];
  }

  delete(id: string): void {
    this.items = this.items.filter((entry) => entry.id !== id);
  }

  hold(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const resolve of waiting) {
      resolve();
    }
  }
}

describe("refreshLimit", () => {
  it.each([
    { loaded: 0, want: 100 },
    { loaded: 1, want: 100 },
    { loaded: 100, want: 100 },
    { loaded: 101, want: 200 },
    { loaded: 250, want: 300 },
    { loaded: 1_000, want: 1_000 },
    { loaded: 4_321, want: 1_000 },
  ])("asks for $want after $loaded loaded", ({ loaded, want }) => {
    expect(refreshLimit(loaded, 100)).toBe(want);
  });

  it("uses the default page size", () => {
    expect(refreshLimit(0)).toBe(threadPageSize);
    expect(refreshLimit(Number.MAX_SAFE_INTEGER)).toBe(maxThreadPageSize);
  });
});

describe("appendPage", () => {
  it("adds the threads not loaded yet, in order", () => {
    const merged = appendPage([item("a"), item("b")], [item("b"), item("c"), item("d")]);
    expect(ids(merged)).toEqual(["a", "b", "c", "d"]);
  });

  it("keeps the loaded copy of a repeated thread", () => {
    const loaded = item("a", "New title");
    const merged = appendPage([loaded], [item("a", "Old title")]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toBe(loaded);
  });

  it("drops repeats within one page", () => {
    expect(ids(appendPage([], [item("a"), item("a"), item("b")]))).toEqual(["a", "b"]);
  });
});

describe("withOpenThread", () => {
  it("adds the open thread after the loaded ones", () => {
    const open = item("old");
    expect(ids(withOpenThread([item("a"), item("b")], open))).toEqual(["a", "b", "old"]);
  });

  it("keeps the list when a page holds the open thread", () => {
    const threads = [item("a"), item("b")];
    expect(withOpenThread(threads, item("b"))).toBe(threads);
  });

  it("keeps the list without an open thread", () => {
    const threads = [item("a")];
    expect(withOpenThread(threads, null)).toBe(threads);
  });
});

describe("ThreadPager", () => {
  it("starts with nothing loaded", () => {
    const pager = new ThreadPager(new FakeServer(3).fetchPage, 2);
    expect(pager.getState()).toEqual({ threads: null, nextCursor: null, loadingMore: false });
  });

  it("loads the first page, then the next ones", async () => {
    const server = new FakeServer(5);
    const pager = new ThreadPager(server.fetchPage, 2);

    expect(ids(await pager.refresh())).toEqual(["t5", "t4"]);
    expect(pager.getState().nextCursor).toBe("t4");

    expect(await pager.loadMore()).toBe(true);
    expect(ids(pager.getState().threads)).toEqual(["t5", "t4", "t3", "t2"]);
    expect(await pager.loadMore()).toBe(true);
    expect(ids(pager.getState().threads)).toEqual(["t5", "t4", "t3", "t2", "t1"]);
    expect(pager.getState().nextCursor).toBeNull();

    expect(server.requests).toEqual([{ limit: 2 }, { limit: 2, cursor: "t4" }, { limit: 2, cursor: "t2" }]);
  });

  it("loads one page for two calls at once", async () => {
    const server = new FakeServer(6);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();

    const first = pager.loadMore();
    const second = pager.loadMore();
    expect(second).toBe(first);
    expect(await first).toBe(true);
    expect(ids(pager.getState().threads)).toEqual(["t6", "t5", "t4", "t3"]);
    expect(server.requests).toHaveLength(2);

    // Once it has ended, the next call loads the next page.
    expect(await pager.loadMore()).toBe(true);
    expect(ids(pager.getState().threads)).toEqual(["t6", "t5", "t4", "t3", "t2", "t1"]);
  });

  it("sends nothing past the last page", async () => {
    const server = new FakeServer(2);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();

    expect(await pager.loadMore()).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it("sends nothing before the first page", async () => {
    const server = new FakeServer(2);
    const pager = new ThreadPager(server.fetchPage, 2);

    expect(await pager.loadMore()).toBe(false);
    expect(server.requests).toHaveLength(0);
  });

  it("refreshes as many threads as are loaded", async () => {
    const server = new FakeServer(7);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();
    await pager.loadMore();

    // A thread on the second page gets a reply, and a new one starts.
    server.touch("t4", "Renamed");
    server.add("t8");
    const threads = await pager.refresh();

    expect(server.requests.at(-1)).toEqual({ limit: 4 });
    expect(ids(threads)).toEqual(["t8", "t4", "t7", "t6"]);
    expect(threads.find((entry) => entry.id === "t4")?.title).toBe("Renamed");
    expect(pager.getState().nextCursor).toBe("t6");
  });

  it("finds a thread that moved up at the next refresh", async () => {
    const server = new FakeServer(6);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();
    server.touch("t3");
    await pager.loadMore();

    // t3 moved above the loaded pages, so the page after t5 skips it.
    expect(ids(pager.getState().threads)).toEqual(["t6", "t5", "t4", "t2"]);
    server.touch("t1");
    await pager.refresh();
    expect(ids(pager.getState().threads)).toEqual(["t1", "t3", "t6", "t5"]);
    await pager.loadMore();
    expect(ids(pager.getState().threads)).toEqual(["t1", "t3", "t6", "t5", "t4", "t2"]);
    expect(pager.getState().nextCursor).toBeNull();
  });

  it("runs a refresh after the page under way", async () => {
    const server = new FakeServer(6);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();

    server.hold();
    const more = pager.loadMore();
    const refreshed = pager.refresh();
    await Promise.resolve();
    expect(server.requests).toHaveLength(2);
    expect(pager.getState().loadingMore).toBe(true);
    server.release();
    await more;
    // The refresh was sent once the page had come, so it requests both pages.
    await refreshed;
    expect(server.requests.at(-1)).toEqual({ limit: 4 });
    expect(ids(pager.getState().threads)).toEqual(["t6", "t5", "t4", "t3"]);
    expect(pager.getState().loadingMore).toBe(false);
  });

  it("keeps the threads when a page fails", async () => {
    const server = new FakeServer(4);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();

    server.failNext = new Error("offline");
    await expect(pager.loadMore()).rejects.toThrow("offline");
    expect(ids(pager.getState().threads)).toEqual(["t4", "t3"]);
    expect(pager.getState()).toMatchObject({ nextCursor: "t3", loadingMore: false });

    // The same page loads when tried again.
    expect(await pager.loadMore()).toBe(true);
    expect(ids(pager.getState().threads)).toEqual(["t4", "t3", "t2", "t1"]);
  });

  it("keeps the threads when a refresh fails", async () => {
    const server = new FakeServer(4);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();

    server.failNext = new Error("offline");
    await expect(pager.refresh()).rejects.toThrow("offline");
    expect(ids(pager.getState().threads)).toEqual(["t4", "t3"]);
  });

  it("removes a deleted thread after the refresh under way", async () => {
    const server = new FakeServer(4);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();

    // The refresh was sent before the deletion reached the server, so its
    // response still lists the thread.
    server.hold();
    const refreshed = pager.refresh();
    const removed = pager.remove("t3");
    await Promise.resolve();
    server.delete("t3");
    server.release();
    await refreshed;
    await removed;
    expect(ids(pager.getState().threads)).toEqual(["t4"]);
  });

  it("tells its subscribers of each change", async () => {
    const server = new FakeServer(4);
    const pager = new ThreadPager(server.fetchPage, 2);
    const seen: Array<string[] | null> = [];
    const unsubscribe = pager.subscribe(() => seen.push(ids(pager.getState().threads)));

    await pager.refresh();
    await pager.loadMore();
    unsubscribe();
    await pager.remove("t1");

    expect(seen).toEqual([["t4", "t3"], ["t4", "t3"], ["t4", "t3", "t2", "t1"]]);
  });

  it("stops after close", async () => {
    const server = new FakeServer(4);
    const pager = new ThreadPager(server.fetchPage, 2);
    await pager.refresh();

    server.hold();
    const more = pager.loadMore();
    await Promise.resolve();
    pager.close();
    server.release();
    await expect(more).rejects.toMatchObject({ name: "AbortError" });
    await expect(pager.refresh()).rejects.toMatchObject({ name: "AbortError" });
    expect(ids(pager.getState().threads)).toEqual(["t4", "t3"]);
    expect(server.requests).toHaveLength(2);
  });
});
