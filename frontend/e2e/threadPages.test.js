// @ts-check
// The sidebar of a profile with more threads than one page. It loads the
// first page only, and loads the next one on scrolling, on its button and on
// Alt+ArrowDown past its end. It renders only the rows in and near view, so
// that the rows in the document stay few however many pages have loaded.
// The date headings stay right across pages, a search finds threads that
// are not loaded, the open thread keeps its row, and threads of the second
// page can be renamed and deleted. The threads come from one POST
// /api/import.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  csrfStorageKey,
  expectText,
  loginThroughApi,
  signInThroughPicker,
  startSuite,
  waitUntil,
} from "./harness.js";

const name = "Hedy";
const password = "frequency-hopping-1942";

// One page of the sidebar (threadPageSize in src/threadPages.ts).
const pageSize = 100;
// Three and a half pages. "Question 1" is the newest.
const threadCount = 350;
// Threads 1 to todayCount were updated today, the others three days ago.
const todayCount = 120;
// The one thread whose reply contains searchWord. It is on the fourth page.
const searchedThread = 330;
const searchWord = "kumquat";
// The maximum number of rows that the sidebar may have in the document. In
// the 760-pixel-high window it rendered at most 20 at once: those in view,
// 5 more at each end (overscanRows in ThreadList.tsx) and the row with the
// focus. The bound is twice that, and far below the number of threads
// loaded.
const maxRenderedRows = 40;
// How long Undo is offered before the deletion is sent (undoDeleteMs in
// Workspace.tsx), in milliseconds.
const undoDelayMs = 5_000;

/**
 * Returns the title of thread number n.
 *
 * @param {number} n
 */
function titleOf(n) {
  return `Question ${n} about the garden`;
}

/**
 * Returns a hearth-profile export with threadCount threads, newest first.
 * Today's were updated in the last second, 1 ms apart, and the others three
 * days ago, under Previous 7 days. Every time is in the past, so that a
 * thread updated during the test moves to the top.
 */
function profileExport() {
  const today = new Date(Date.now() - 1_000);
  const earlier = new Date(today);
  earlier.setDate(earlier.getDate() - 3);

  const threads = [];
  for (let n = 1; n <= threadCount; n++) {
    const day = n <= todayCount ? today : earlier;
    const updatedAt = new Date(day.getTime() - n).toISOString();
    const reply = n === searchedThread ? `Plant the ${searchWord} in spring.` : `Plant bulb **number ${n}** in autumn.`;
    threads.push({
      thread: { title: titleOf(n), createdAt: updatedAt, updatedAt },
      messages: [
        { role: "user", content: `When should I plant bulb number ${n}?`, createdAt: updatedAt },
        { role: "assistant", content: reply, createdAt: updatedAt },
      ],
    });
  }
  return { format: "hearth-profile", version: 1, threads };
}

/**
 * Imports the profile's threads through the API with a bearer token.
 *
 * @param {string} hearthUrl
 * @param {string} token
 */
async function importThreads(hearthUrl, token) {
  const response = await fetch(`${hearthUrl}/api/import`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(profileExport()),
  });
  const text = await response.text();
  assert.equal(response.status, 200, `POST /api/import answered ${response.status}: ${text}`);
  assert.equal(JSON.parse(text).threads, threadCount, `the import stored other threads than expected: ${text}`);
}

/**
 * Returns the titles of the profile's threads as the server lists them,
 * fetched inside the page with its session cookie and secret.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function serverTitles(page) {
  const { status, body } = await page.evaluate(async (key) => {
    const response = await fetch("/api/threads?limit=1000", {
      headers: { Accept: "application/json", "X-CSRF-Token": sessionStorage.getItem(key) ?? "" },
    });
    return { status: response.status, body: await response.text() };
  }, csrfStorageKey);
  assert.equal(status, 200, `GET /api/threads answered ${status}: ${body}`);
  return /** @type {Array<{ title: string }>} */ (JSON.parse(body)).map((thread) => thread.title);
}

/**
 * @param {import("playwright-core").Page} page
 */
function sidebarOf(page) {
  return page.getByRole("navigation", { name: "Chats" });
}

/**
 * Returns the titles of the sidebar's rendered rows, in order.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function rowTitles(page) {
  return sidebarOf(page).locator(".thread-button .thread-title").allInnerTexts();
}

/**
 * Returns the number of rows in the document.
 *
 * @param {import("playwright-core").Page} page
 */
async function renderedRows(page) {
  return sidebarOf(page).locator(".thread-row").count();
}

/**
 * Returns each rendered group's heading with its size, as the aria-setsize
 * of its rows gives it, in order.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<Array<[string, number]>>}
 */
async function groupSizes(page) {
  return sidebarOf(page).evaluate((sidebar) =>
    Array.from(sidebar.querySelectorAll(".thread-group"), (group) => [
      group.querySelector(".thread-group-heading")?.textContent ?? "",
      Number(group.querySelector(".thread-row")?.getAttribute("aria-setsize")),
    ]),
  );
}

/**
 * Waits until the rendered groups have the given headings and sizes.
 *
 * @param {import("playwright-core").Page} page
 * @param {Array<[string, number]>} expected
 */
async function waitForGroups(page, expected) {
  await waitUntil(`the sidebar's groups are ${JSON.stringify(expected)}`, async () => {
    const sizes = await groupSizes(page);
    return JSON.stringify(sizes) === JSON.stringify(expected) || sizes;
  });
}

/**
 * Returns the title, position and group size of the last rendered row, and
 * whether its thread is the open one, read at one moment.
 *
 * @param {import("playwright-core").Page} page
 */
async function lastRow(page) {
  return sidebarOf(page).evaluate((sidebar) => {
    const rows = sidebar.querySelectorAll(".thread-row");
    const row = rows[rows.length - 1];
    return {
      title: row?.querySelector(".thread-title")?.textContent?.trim() ?? "",
      position: Number(row?.getAttribute("aria-posinset")),
      setSize: Number(row?.getAttribute("aria-setsize")),
      open: row?.querySelector('[aria-current="page"]') !== null,
    };
  });
}

/**
 * Waits for two frames of the page, after which a scroll has been handled
 * and its rows rendered.
 *
 * @param {import("playwright-core").Page} page
 */
async function nextFrames(page) {
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(undefined)))),
  );
}

/**
 * Scrolls the sidebar from its top to its end by half its height at a time,
 * as a person reading it would. It returns the title of every row and the
 * text of every heading rendered on the way, in order, each once. Once the
 * last page has loaded, those are every listed thread.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<{ titles: string[], headings: string[], maxRendered: number }>}
 */
async function scanList(page) {
  const sidebar = sidebarOf(page);
  /** @type {Map<number, { heading: boolean, text: string }>} */
  const seen = new Map();
  let maxRendered = 0;
  // The end counts once two reads in a row find the list at its end,
  // because rows measured lower than the estimate shorten the list, and the
  // rows of the end render a frame after the scroll position moves there.
  let endReads = 0;
  await sidebar.evaluate((element) => {
    element.scrollTop = 0;
  });

  for (;;) {
    await nextFrames(page);
    const { items, atEnd } = await sidebar.evaluate((element) => ({
      items: Array.from(element.querySelectorAll(".thread-group-heading, .thread-row"), (item) => ({
        index: Number(item.getAttribute("data-index")),
        heading: item.classList.contains("thread-group-heading"),
        text: (item.classList.contains("thread-group-heading") ? item : item.querySelector(".thread-title"))?.textContent ?? "",
      })),
      atEnd: element.scrollTop + element.clientHeight >= element.scrollHeight - 1,
    }));

    maxRendered = Math.max(maxRendered, items.filter((item) => !item.heading).length);
    for (const item of items) {
      seen.set(item.index, { heading: item.heading, text: item.text });
    }
    endReads = atEnd ? endReads + 1 : 0;
    if (endReads === 2) {
      break;
    }
    if (!atEnd) {
      await sidebar.evaluate((element) => {
        element.scrollTop += element.clientHeight / 2;
      });
    }
  }

  // Every index between the first and the last seen must have been seen.
  const indexes = [...seen.keys()].sort((a, b) => a - b);
  const missing = [];
  for (let position = 1; position < indexes.length; position++) {
    const previous = /** @type {number} */ (indexes[position - 1]);
    const index = /** @type {number} */ (indexes[position]);
    if (index !== previous + 1) {
      missing.push(`${previous + 1}–${index - 1}`);
    }
  }
  assert.deepEqual(missing, [], "the scroll through the list skipped items");

  const ordered = indexes.map((index) => /** @type {{ heading: boolean, text: string }} */ (seen.get(index)));
  return {
    titles: ordered.filter((item) => !item.heading).map((item) => item.text),
    headings: ordered.filter((item) => item.heading).map((item) => item.text),
    maxRendered,
  };
}

/**
 * Scrolls the sidebar from its top until the row of title is rendered, and
 * returns the row.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} title
 */
async function scrollToRow(page, title) {
  const sidebar = sidebarOf(page);
  const row = sidebar.locator(".thread-row").filter({ has: page.getByRole("button", { name: title }) });
  await sidebar.evaluate((element) => {
    element.scrollTop = 0;
  });
  for (;;) {
    await nextFrames(page);
    if ((await row.count()) > 0) {
      await row.scrollIntoViewIfNeeded();
      return row;
    }
    const atEnd = await sidebar.evaluate((element) => {
      const end = element.scrollTop + element.clientHeight >= element.scrollHeight - 1;
      element.scrollTop += element.clientHeight / 2;
      return end;
    });
    assert.ok(!atEnd, `the sidebar has no row for ${title}`);
  }
}

/**
 * Returns the title of the thread that is open in the sidebar.
 *
 * @param {import("playwright-core").Page} page
 */
async function openTitle(page) {
  return (await sidebarOf(page).locator('[aria-current="page"] .thread-title').innerText()).trim();
}

/**
 * Scrolls the sidebar to its end, as a person scrolling down would, and
 * waits for the rows there to render. It scrolls twice, because the rows
 * measured on the first arrival can move the end.
 *
 * @param {import("playwright-core").Page} page
 */
async function scrollToEnd(page) {
  for (let pass = 0; pass < 2; pass++) {
    await sidebarOf(page).evaluate((sidebar) => {
      sidebar.scrollTop = sidebar.scrollHeight;
    });
    await nextFrames(page);
  }
}

/**
 * Stands in for React DevTools' global hook, which React calls after every
 * commit, production builds included, and counts in window.rowRenders the
 * sidebar rows that rendered. It walks the committed tree beside the one
 * before, as DevTools does, and skips a subtree whose child fibers are the
 * ones of the commit before, because React left it as it was. It runs in
 * the page, before React loads.
 */
function countRowRenders() {
  const counter = /** @type {{ rowRenders: number }} */ (/** @type {unknown} */ (window));
  counter.rowRenders = 0;
  /** @param {any} fiber */
  const visit = (fiber) => {
    const previous = fiber.alternate;
    if (
      typeof fiber.type === "string" &&
      fiber.memoizedProps?.className === "thread-row" &&
      previous?.memoizedProps !== fiber.memoizedProps
    ) {
      counter.rowRenders += 1;
    }
    if (previous !== null && fiber.child === previous.child) {
      return;
    }
    for (let child = fiber.child; child !== null; child = child.sibling) {
      visit(child);
    }
  };
  Object.assign(window, {
    __REACT_DEVTOOLS_GLOBAL_HOOK__: {
      supportsFiber: true,
      inject: () => 1,
      /** @param {number} _rendererId @param {any} root */
      onCommitFiberRoot: (_rendererId, root) => visit(root.current),
      onCommitFiberUnmount: () => undefined,
      onPostCommitFiberRoot: () => undefined,
      checkDCE: () => undefined,
    },
  });
}

/**
 * Returns how many sidebar rows have rendered since the count was last
 * reset, and resets it.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<number>}
 */
async function takeRowRenders(page) {
  return page.evaluate(() => {
    const counter = /** @type {{ rowRenders: number }} */ (/** @type {unknown} */ (window));
    const count = counter.rowRenders;
    counter.rowRenders = 0;
    return count;
  });
}

describe("thread pages", { timeout: 240_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;
  /** @type {string[]} */
  const threadRequests = [];

  before(async () => {
    suite = await startSuite("thread-pages");
    await createProfileThroughApi(suite.hearth.url, name, password);
    const { token } = await loginThroughApi(suite.hearth.url, name, password);
    assert.ok(token !== null, "signing in through the API failed");
    await importThreads(suite.hearth.url, token);

    suite.page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.pathname === "/api/threads" && request.method() === "GET") {
        threadRequests.push(`${url.pathname}${url.search}`);
      }
    });
    await suite.page.addInitScript(countRowRenders);
    await suite.page.goto(suite.hearth.url);
    await signInThroughPicker(suite.page, name, password);
  });

  after(async () => {
    await suite?.close();
  });

  test("first page only", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);

      // One page of Today's threads is listed, of which only the rows in
      // and near view are in the document.
      await waitForGroups(page, [["Today", pageSize]]);
      const titles = await rowTitles(page);
      assert.deepEqual(
        titles,
        Array.from({ length: titles.length }, (_, index) => titleOf(index + 1)),
        "the rendered rows are not the newest threads in order",
      );
      assert.ok(titles.length < maxRenderedRows, `${titles.length} of ${pageSize} rows are rendered`);
      await sidebar.getByRole("button", { name: "Show more chats" }).waitFor();
      assert.ok(
        threadRequests.length > 0 && threadRequests.every((request) => /[?&]limit=100\b/.test(request)),
        `a thread list request asked for other than one page: ${JSON.stringify(threadRequests)}`,
      );

      // The newest thread opens, and its reply renders as Markdown once the
      // renderer's chunk has loaded.
      assert.equal(await openTitle(page), titleOf(1));
      const reply = page.getByRole("log", { name: "Messages" }).getByRole("article").nth(1);
      await reply.locator(".markdown strong").getByText("number 1").waitFor();
      await suite.screenshot("first-page.png");
    });
  });

  test("opening a thread renders two rows", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);
      const reply = page.getByRole("log", { name: "Messages" }).getByRole("article").nth(1);

      // The rows are memoised, so that only the two whose current state
      // changes render again, and not every rendered row.
      await waitForGroups(page, [["Today", pageSize]]);
      await takeRowRenders(page);
      await sidebar.getByRole("button", { name: titleOf(5) }).click();
      await waitUntil("thread 5 is open", async () => (await openTitle(page)) === titleOf(5));
      await reply.getByText("number 5").waitFor();
      assert.equal(await takeRowRenders(page), 2);

      await sidebar.getByRole("button", { name: titleOf(1) }).click();
      await waitUntil("thread 1 is open again", async () => (await openTitle(page)) === titleOf(1));
    });
  });

  test("keyboard past the page end", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);
      const search = sidebar.getByRole("searchbox", { name: "Search chats" });
      const status = sidebar.locator(".thread-search-status");

      // The page's last thread is opened from a search, because scrolling
      // to its row would load the next page.
      await search.fill(titleOf(pageSize));
      await expectText(status, "1 chat found.");
      await sidebar.getByRole("button", { name: titleOf(pageSize) }).click();
      await waitUntil("the page's last thread is open", async () => (await openTitle(page)) === titleOf(pageSize));
      await search.press("Escape");
      await waitForGroups(page, [["Today", pageSize]]);
      await page.getByRole("textbox", { name: "Message" }).focus();

      // Alt+ArrowDown on the last loaded thread loads the next page, opens
      // the first thread of it and scrolls its row into view.
      await page.keyboard.press("Alt+ArrowDown");
      await waitUntil("the next page's first thread is open", async () => {
        const title = await openTitle(page);
        return title === titleOf(pageSize + 1) || title;
      });
      const titles = await rowTitles(page);
      assert.equal(new Set(titles).size, titles.length, "a thread is listed twice");
      const index = titles.indexOf(titleOf(pageSize));
      assert.deepEqual(titles.slice(index, index + 2), [titleOf(pageSize), titleOf(pageSize + 1)]);
      assert.ok(titles.length < maxRenderedRows, `${titles.length} rows are rendered`);
      assert.ok(await sidebar.locator('[aria-current="page"]').isVisible(), "the open thread's row is out of view");

      await page.keyboard.press("Alt+ArrowUp");
      await waitUntil("the thread above is open", async () => (await openTitle(page)) === titleOf(pageSize));
    });
  });

  test("search finds an unloaded thread", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);
      const search = sidebar.getByRole("searchbox", { name: "Search chats" });
      const status = sidebar.locator(".thread-search-status");

      await search.fill(searchWord);
      await expectText(status, "1 chat found.");
      await sidebar.getByRole("button", { name: titleOf(searchedThread) }).click();
      await waitUntil("the found thread is open", async () => (await openTitle(page)) === titleOf(searchedThread));

      // Without the search, the open thread keeps its row after the loaded
      // pages, although they do not hold it. Scrolling to it starts to load
      // the third page, which is held back until the row has been checked.
      /** @type {() => void} */
      let release = () => undefined;
      const released = new Promise((resolve) => {
        release = () => resolve(undefined);
      });
      /** @param {URL} url */
      const nextPage = (url) => url.pathname === "/api/threads" && url.searchParams.has("cursor");
      await page.route(nextPage, async (route) => {
        await released;
        await route.continue();
      });
      try {
        await search.press("Escape");
        await waitForGroups(page, [["Today", todayCount]]);
        await scrollToEnd(page);
        await sidebar.getByRole("button", { name: "Loading more chats…" }).waitFor();
        const earlier = 2 * pageSize - todayCount + 1;
        await waitUntil("the open thread's row is last", async () => {
          const last = await lastRow(page);
          return last.title === titleOf(searchedThread) || last;
        });
        assert.deepEqual(await lastRow(page), { title: titleOf(searchedThread), position: earlier, setSize: earlier, open: true });
        await suite.screenshot("open-thread-row.png");
      } finally {
        release();
      }
      await sidebar.getByRole("button", { name: "Show more chats" }).waitFor();
      await page.unroute(nextPage);
      await sidebar.evaluate((element) => {
        element.scrollTop = 0;
      });
    });
  });

  test("search results come in pages", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);
      const search = sidebar.getByRole("searchbox", { name: "Search chats" });
      const status = sidebar.locator(".thread-search-status");

      // Every title contains the word.
      await search.fill("garden");
      await expectText(status, `More than ${pageSize} chats found.`);
      await waitForGroups(page, [["Today", pageSize]]);

      // The button at the end loads the next page from the keyboard, and
      // the focus moves to the page's first row, which is rendered for it.
      await sidebar.getByRole("button", { name: "Show more chats" }).focus();
      await page.keyboard.press("Enter");
      await expectText(status, `More than ${2 * pageSize} chats found.`);
      await waitUntil("the next page's first row has the focus", async () => {
        const focused = await page.evaluate(() => document.activeElement?.querySelector(".thread-title")?.textContent);
        return focused === titleOf(pageSize + 1) || focused;
      });
      await waitUntil("every match has loaded", async () => {
        await scrollToEnd(page);
        return (await status.innerText()) === `${threadCount} chats found.`;
      });
      assert.equal(await sidebar.getByRole("button", { name: "Show more chats" }).count(), 0);
      await scrollToEnd(page);
      await nextFrames(page);
      const last = await lastRow(page);
      const earlier = threadCount - todayCount;
      assert.deepEqual([last.title, last.position, last.setSize], [titleOf(threadCount), earlier, earlier]);
      assert.ok((await renderedRows(page)) < maxRenderedRows, `${await renderedRows(page)} rows are rendered`);

      // The list comes back at its top, where its end is far below.
      await sidebar.evaluate((element) => {
        element.scrollTop = 0;
      });
      await search.press("Escape");
      await waitForGroups(page, [["Today", todayCount]]);
    });
  });

  test("scrolling loads the next page", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);

      await waitUntil("every thread has loaded", async () => {
        await scrollToEnd(page);
        return (await sidebar.getByRole("button", { name: /Show more chats|Loading/ }).count()) === 0;
      });
      const { titles, headings, maxRendered } = await scanList(page);
      assert.deepEqual(
        titles,
        Array.from({ length: threadCount }, (_, index) => titleOf(index + 1)),
        "the rows are not every thread, newest first",
      );
      assert.ok(maxRendered < maxRenderedRows, `${maxRendered} rows were rendered at once`);

      // The later pages' first threads joined the first page's Today group.
      assert.deepEqual(headings, ["Today", "Previous 7 days"]);
      // Each group's rows give its size. A row that has the focus stays
      // rendered, with its group, wherever the list is scrolled, so only
      // the first and the last group are compared.
      await sidebar.evaluate((element) => {
        element.scrollTop = 0;
      });
      await nextFrames(page);
      assert.deepEqual((await groupSizes(page))[0], ["Today", todayCount]);
      await scrollToEnd(page);
      await nextFrames(page);
      assert.deepEqual((await groupSizes(page)).at(-1), ["Previous 7 days", threadCount - todayCount]);
    });
  });

  test("last thread opens with few rows rendered", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);
      const reply = page.getByRole("log", { name: "Messages" }).getByRole("article").nth(1);

      // At the end of every loaded thread, few rows are in the document,
      // and the last of them is the oldest thread.
      await scrollToEnd(page);
      await nextFrames(page);
      const rendered = await renderedRows(page);
      assert.ok(rendered < maxRenderedRows, `${rendered} of ${threadCount} rows are rendered`);
      const earlier = threadCount - todayCount;
      const last = await lastRow(page);
      assert.deepEqual([last.title, last.position, last.setSize], [titleOf(threadCount), earlier, earlier]);

      // The mouse opens it.
      await sidebar.getByRole("button", { name: titleOf(threadCount) }).click();
      await waitUntil("the last thread is open", async () => (await openTitle(page)) === titleOf(threadCount));
      await reply.getByText(`number ${threadCount}`).waitFor();

      // So does the keyboard: from the thread above, Tab passes its menu
      // button to the last thread's button, and Enter opens it.
      await page.keyboard.press("Alt+ArrowUp");
      await waitUntil("the thread above is open", async () => (await openTitle(page)) === titleOf(threadCount - 1));
      await sidebar.getByRole("button", { name: titleOf(threadCount - 1) }).focus();
      await page.keyboard.press("Tab");
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => document.activeElement?.querySelector(".thread-title")?.textContent);
      assert.equal(focused, titleOf(threadCount));
      await page.keyboard.press("Enter");
      await waitUntil("the last thread is open again", async () => (await openTitle(page)) === titleOf(threadCount));
      await reply.getByText(`number ${threadCount}`).waitFor();
    });
  });

  test("Home and End jump at once", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const row = await scrollToRow(page, titleOf(200));
      await row.locator(".thread-button").focus();

      // The browser would animate these scrolls over many frames, past the
      // rendered rows, so the sidebar showed empty frames. The list jumps
      // instead, so the rows at the end are there two frames later.
      await page.keyboard.press("End");
      await nextFrames(page);
      assert.equal((await lastRow(page)).title, titleOf(threadCount), "End did not show the last thread at once");
      await page.keyboard.press("Home");
      await nextFrames(page);
      assert.equal((await rowTitles(page))[0], titleOf(1), "Home did not show the first thread at once");
      const focused = await page.evaluate(() => document.activeElement?.querySelector(".thread-title")?.textContent);
      assert.equal(focused, titleOf(200), "Home and End moved the focus");
    });
  });

  test("focus survives leaving the window", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);
      const row = await scrollToRow(page, titleOf(3));
      await row.locator(".thread-button").focus();

      // Another page in front takes the focus from this one, as switching
      // to another application does. Headless Chromium reports every page
      // as focused until focus emulation is turned off.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: false });
      const other = await page.context().newPage();
      try {
        await other.bringToFront();
        await waitUntil("the page has lost the focus", () => page.evaluate(() => !document.hasFocus()));

        // The sidebar scrolls meanwhile, as a mouse wheel over a window in
        // the background does, far past the focused row.
        await sidebar.evaluate((element) => {
          element.scrollTop = element.scrollHeight;
        });
        await nextFrames(page);

        await page.bringToFront();
        await waitUntil("the page has the focus again", () => page.evaluate(() => document.hasFocus()));
        const focused = await page.evaluate(() => document.activeElement?.querySelector(".thread-title")?.textContent ?? document.activeElement?.tagName);
        assert.equal(focused, titleOf(3), "the focus did not come back to the row that had it");
      } finally {
        await other.close();
        await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });
        await cdp.detach();
      }
    });
  });

  test("rename and delete on page two", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);
      const toasts = page.getByRole("region", { name: "Notifications" });
      const renamed = "Renamed on page two";
      const deleted = titleOf(160);

      /** @param {string} title */
      const openMenu = async (title) => {
        const row = await scrollToRow(page, title);
        await row.getByRole("button", { name: "Chat actions" }).click();
        return page.getByRole("menu");
      };

      // Renaming updates the thread, which moves it to the top, and its
      // button takes the focus there.
      await (await openMenu(titleOf(150))).getByRole("menuitem", { name: "Rename" }).click();
      const field = page.getByRole("textbox", { name: "Chat title" });
      await field.fill(renamed);
      await field.press("Enter");
      await field.waitFor({ state: "detached" });
      await waitUntil("the renamed thread is first and has the focus", async () => {
        const focused = await page.evaluate(() => document.activeElement?.querySelector(".thread-title")?.textContent);
        const titles = await rowTitles(page);
        return (titles[0] === renamed && focused === renamed) || { first: titles[0], focused };
      });
      let { titles } = await scanList(page);
      assert.equal(titles.length, threadCount);
      assert.equal(titles[0], renamed);
      assert.ok(!titles.includes(titleOf(150)), "the old title is still listed");
      assert.equal((await serverTitles(page))[0], renamed);

      // Deleting hides the row at once, gives the focus to the row below
      // it, and deletes after the time to undo.
      await (await openMenu(deleted)).getByRole("menuitem", { name: "Delete" }).click();
      await sidebar.getByRole("button", { name: deleted }).waitFor({ state: "detached" });
      await waitUntil("the next thread's button has the focus", async () => {
        const focused = await page.evaluate(() => document.activeElement?.querySelector(".thread-title")?.textContent);
        return focused === titleOf(161) || focused;
      });
      const notice = toasts.getByText(`Deleted “${deleted}”.`);
      await notice.waitFor();
      await notice.waitFor({ state: "detached", timeout: undoDelayMs + 5_000 });
      await waitUntil("the server no longer lists the thread", async () => {
        const listed = await serverTitles(page);
        return !listed.includes(deleted) || listed.length;
      });
      ({ titles } = await scanList(page));
      assert.equal(titles.length, threadCount - 1);
      assert.ok(!titles.includes(deleted), "the deleted thread is back in the list");
      assert.equal(new Set(titles).size, titles.length, "a thread is listed twice");
    });
  });
});
