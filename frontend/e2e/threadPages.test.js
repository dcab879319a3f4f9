// @ts-check
// The sidebar of a profile with more threads than one page. It renders the
// first page only, and loads the next one on scrolling, on its button and on
// Alt+ArrowDown past its end. The date headings stay right across pages, a
// search finds threads that are not loaded, the open thread keeps its row,
// and threads of the second page can be renamed and deleted. The threads
// come from one POST /api/import.

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
// Two and a half pages. "Question 1" is the newest.
const threadCount = 250;
// Threads 1 to todayCount were updated today, the others three days ago.
const todayCount = 120;
// The one thread whose reply contains searchWord. It is on the third page.
const searchedThread = 230;
const searchWord = "kumquat";
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
 * Returns the titles of the sidebar's rows, in order.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function rowTitles(page) {
  return sidebarOf(page).locator(".thread-button .thread-title").allInnerTexts();
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
 * Waits until the sidebar has count rows.
 *
 * @param {import("playwright-core").Page} page
 * @param {number} count
 */
async function waitForRows(page, count) {
  await waitUntil(`the sidebar has ${count} rows`, async () => {
    const rows = await sidebarOf(page).locator(".thread-button").count();
    return rows === count || rows;
  });
}

/**
 * Scrolls the sidebar to its end, as a person scrolling down would.
 *
 * @param {import("playwright-core").Page} page
 */
async function scrollToEnd(page) {
  await sidebarOf(page).evaluate((sidebar) => {
    sidebar.scrollTop = sidebar.scrollHeight;
  });
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

      await waitForRows(page, pageSize);
      const titles = await rowTitles(page);
      assert.equal(titles[0], titleOf(1));
      assert.equal(titles.at(-1), titleOf(pageSize));
      assert.deepEqual(await sidebar.locator(".thread-group-heading").allInnerTexts(), ["Today"]);
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
      // changes render again, and not the whole page of rows.
      await waitForRows(page, pageSize);
      await takeRowRenders(page);
      await sidebar.getByRole("button", { name: titleOf(5) }).click();
      await waitUntil("thread 5 is open", async () => (await openTitle(page)) === titleOf(5));
      await reply.getByText("number 5").waitFor();
      assert.equal(await takeRowRenders(page), 2);

      await sidebar.getByRole("button", { name: titleOf(1) }).click();
      await waitUntil("thread 1 is open again", async () => (await openTitle(page)) === titleOf(1));
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
      // page, although that page does not hold it.
      await search.press("Escape");
      await waitForRows(page, pageSize + 1);
      const titles = await rowTitles(page);
      assert.equal(titles.at(-1), titleOf(searchedThread));
      assert.equal(await openTitle(page), titleOf(searchedThread));
      await suite.screenshot("open-thread-row.png");
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
      await waitForRows(page, pageSize);

      // The button at the end loads the next page from the keyboard, and
      // the focus moves to the page's first row.
      await sidebar.getByRole("button", { name: "Show more chats" }).focus();
      await page.keyboard.press("Enter");
      await expectText(status, `More than ${2 * pageSize} chats found.`);
      await waitForRows(page, 2 * pageSize);
      await waitUntil("the next page's first row has the focus", async () => {
        const focused = await page.evaluate(() => document.activeElement?.querySelector(".thread-title")?.textContent);
        return focused === titleOf(pageSize + 1) || focused;
      });
      await scrollToEnd(page);
      await expectText(status, `${threadCount} chats found.`);
      await waitForRows(page, threadCount);
      assert.equal(await sidebar.getByRole("button", { name: "Show more chats" }).count(), 0);

      // The list comes back at its top, where its end is far below.
      await sidebar.evaluate((element) => {
        element.scrollTop = 0;
      });
      await search.press("Escape");
      await waitForRows(page, pageSize + 1);
    });
  });

  test("keyboard past the page end", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);

      await sidebar.getByRole("button", { name: titleOf(pageSize) }).click();
      await waitUntil("the page's last thread is open", async () => (await openTitle(page)) === titleOf(pageSize));
      await page.getByRole("textbox", { name: "Message" }).focus();

      // Alt+ArrowDown on the last loaded thread loads the next page and
      // opens the first thread of it.
      await page.keyboard.press("Alt+ArrowDown");
      await waitUntil("the next page's first thread is open", async () => {
        const title = await openTitle(page);
        return title === titleOf(pageSize + 1) || title;
      });
      await waitForRows(page, 2 * pageSize);
      const titles = await rowTitles(page);
      assert.equal(new Set(titles).size, titles.length, "a thread is listed twice");
      assert.deepEqual(titles.slice(pageSize - 1, pageSize + 1), [titleOf(pageSize), titleOf(pageSize + 1)]);

      await page.keyboard.press("Alt+ArrowUp");
      await waitUntil("the thread above is open", async () => (await openTitle(page)) === titleOf(pageSize));
    });
  });

  test("scrolling loads the next page", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const sidebar = sidebarOf(page);

      await scrollToEnd(page);
      await waitForRows(page, threadCount);
      assert.equal(await sidebar.getByRole("button", { name: "Show more chats" }).count(), 0);
      const titles = await rowTitles(page);
      assert.deepEqual(
        titles,
        Array.from({ length: threadCount }, (_, index) => titleOf(index + 1)),
        "the rows are not every thread, newest first",
      );

      // The second page's first threads joined the first page's Today group.
      assert.deepEqual(await sidebar.locator(".thread-group-heading").allInnerTexts(), ["Today", "Previous 7 days"]);
      const today = sidebar.getByRole("region", { name: "Today" });
      assert.equal(await today.locator(".thread-button").count(), todayCount);
      const earlier = sidebar.getByRole("region", { name: "Previous 7 days" });
      assert.equal(await earlier.locator(".thread-button").count(), threadCount - todayCount);
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
        const row = sidebar.locator(".thread-row").filter({ has: page.getByRole("button", { name: title }) });
        await row.getByRole("button", { name: "Chat actions" }).click();
        return page.getByRole("menu");
      };

      // Renaming updates the thread, which moves it to the top.
      await (await openMenu(titleOf(150))).getByRole("menuitem", { name: "Rename" }).click();
      const field = page.getByRole("textbox", { name: "Chat title" });
      await field.fill(renamed);
      await field.press("Enter");
      await field.waitFor({ state: "detached" });
      await waitUntil("the renamed thread is first", async () => {
        const titles = await rowTitles(page);
        return titles[0] === renamed || titles.slice(0, 2);
      });
      let titles = await rowTitles(page);
      assert.equal(titles.length, threadCount);
      assert.ok(!titles.includes(titleOf(150)), "the old title is still listed");
      assert.equal((await serverTitles(page))[0], renamed);

      // Deleting hides the row at once and deletes after the time to undo.
      await (await openMenu(deleted)).getByRole("menuitem", { name: "Delete" }).click();
      await sidebar.getByRole("button", { name: deleted }).waitFor({ state: "detached" });
      const notice = toasts.getByText(`Deleted “${deleted}”.`);
      await notice.waitFor();
      await notice.waitFor({ state: "detached", timeout: undoDelayMs + 5_000 });
      await waitUntil("the server no longer lists the thread", async () => {
        const listed = await serverTitles(page);
        return !listed.includes(deleted) || listed.length;
      });
      titles = await rowTitles(page);
      assert.equal(titles.length, threadCount - 1);
      assert.ok(!titles.includes(deleted), "the deleted thread is back in the list");
      assert.equal(new Set(titles).size, titles.length, "a thread is listed twice");
    });
  });
});
