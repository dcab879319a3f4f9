// @ts-check
// The thread sidebar: threads under date headings, search by title and by
// message content, renaming in place, deleting with Undo, and exporting a
// thread as Markdown or JSON through the actions menu.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  csrfStorageKey,
  expectText,
  sendMessage,
  signInThroughPicker,
  startSuite,
  unlabelledControls,
  waitForOpenThreadTitle,
  waitUntil,
} from "./harness.js";

const name = "Ada";
const password = "analytical-engine-1843";

// The first thread's message contains a word that its title does not.
const recipesTitle = "Family recipes";
const recipesMessage = "Grandmother's kumquat marmalade needs three days to set.";
const budgetTitle = "Quarterly budget review";
const budgetMessage = "Numbers for the spring quarter";
// The new title has a letter beyond ASCII, so the export's file name comes
// in the filename* form of Content-Disposition.
const renamedTitle = "Quartalsübersicht Budget";

// How long Undo is offered before the deletion is sent (undoDeleteMs in
// Workspace.tsx), in milliseconds.
const undoDelayMs = 5_000;

/**
 * Returns the profile's threads as the server lists them, fetched inside the
 * page with its session cookie and secret.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<Array<{ id: string, title: string }>>}
 */
async function serverThreads(page) {
  const { status, body } = await page.evaluate(async (key) => {
    const response = await fetch("/api/threads", {
      headers: { Accept: "application/json", "X-CSRF-Token": sessionStorage.getItem(key) ?? "" },
    });
    return { status: response.status, body: await response.text() };
  }, csrfStorageKey);
  assert.equal(status, 200, `GET /api/threads answered ${status}: ${body}`);
  return /** @type {Array<{ id: string, title: string }>} */ (JSON.parse(body));
}

/**
 * Starts a chat whose reply and background title the fake writes, and waits
 * until the sidebar shows the title.
 *
 * @param {import("./harness.js").Suite} suite
 * @param {string} message
 * @param {string} title
 */
async function startTitledChat(suite, message, title) {
  const { page } = suite;
  const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
  const log = page.getByRole("log", { name: "Messages" });
  const messages = log.getByRole("article");

  await page.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
  await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
  // The first queued reply is the reply to the message, and the second is
  // the title that Hearth requests from the model after the first reply.
  await fake.queueReply({ chunks: ["Noted."] });
  await fake.queueReply({ chunks: [title] });
  await sendMessage(page, message);
  await expectText(messages.nth(1).locator(".message-content"), "Noted.");
  assert.equal(await waitForOpenThreadTitle(page), title);
}

/**
 * Returns the sidebar row of the thread whose button has title in its name.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} title
 */
function threadRow(page, title) {
  const threads = page.getByRole("navigation", { name: "Chats" });
  return threads.locator(".thread-row").filter({ has: page.getByRole("button", { name: title }) });
}

/**
 * Opens the actions menu of the thread with title by clicking its button,
 * and returns the menu.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} title
 */
async function openMenu(page, title) {
  await threadRow(page, title).getByRole("button", { name: "Chat actions" }).click();
  const menu = page.getByRole("menu");
  await menu.waitFor();
  return menu;
}

/**
 * Returns the text of the element that has the focus.
 *
 * @param {import("playwright-core").Page} page
 */
async function focusedText(page) {
  return page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
}

describe("threads", { timeout: 240_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("threads");
    await createProfileThroughApi(suite.hearth.url, name, password);
    await suite.page.goto(suite.hearth.url);
    await signInThroughPicker(suite.page, name, password);
  });

  after(async () => {
    await suite?.close();
  });

  test("grouping and search", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const search = threads.getByRole("searchbox", { name: "Search chats" });
      const status = threads.locator(".thread-search-status");

      await startTitledChat(suite, recipesMessage, recipesTitle);
      await startTitledChat(suite, budgetMessage, budgetTitle);

      // Both threads were updated just now, so they are under Today.
      const today = threads.getByRole("region", { name: "Today" });
      await today.getByRole("heading", { name: "Today" }).waitFor();
      await today.getByRole("button", { name: recipesTitle }).waitFor();
      await today.getByRole("button", { name: budgetTitle }).waitFor();
      assert.equal(await threads.getByRole("heading", { name: "Yesterday" }).count(), 0, "an empty group has a heading");
      await suite.screenshot("grouped.png");

      // A word only in the message's content finds the thread, with a
      // snippet of the message, whatever its case.
      await search.fill("MARMALADE");
      await expectText(status, "1 chat found.");
      await threads.getByRole("button", { name: recipesTitle }).waitFor();
      assert.equal(await threads.getByRole("button", { name: budgetTitle }).count(), 0, "the search lists a thread without the word");
      const snippet = threadRow(page, recipesTitle).locator(".thread-match");
      await expectText(snippet, recipesMessage);
      assert.equal(await snippet.locator("mark").innerText(), "marmalade");
      await suite.screenshot("search.png");

      // A word of the title finds the thread without a snippet.
      await search.fill("budget");
      await expectText(status, "1 chat found.");
      await threads.getByRole("button", { name: budgetTitle }).waitFor();
      assert.equal(await threads.getByRole("button", { name: recipesTitle }).count(), 0, "the search lists a thread without the word");
      assert.equal(await threadRow(page, budgetTitle).locator(".thread-match").count(), 0, "a title match shows a snippet");

      // A word in no thread shows that nothing matches.
      await search.fill("zebra");
      await expectText(status, "No chats contain “zebra”.");
      assert.equal(await threads.locator(".thread-row").count(), 0, "an empty search lists threads");

      // Escape clears the search and shows every thread again.
      await search.press("Escape");
      assert.equal(await search.inputValue(), "");
      await threads.getByRole("button", { name: recipesTitle }).waitFor();
      await threads.getByRole("button", { name: budgetTitle }).waitFor();
    });
  });

  test("menu works from the keyboard", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const menuButton = threadRow(page, budgetTitle).getByRole("button", { name: "Chat actions" });
      assert.equal(await menuButton.getAttribute("aria-haspopup"), "menu");
      assert.equal(await menuButton.getAttribute("aria-expanded"), "false");

      // Arrow Down opens the menu on its first item, and the arrow keys,
      // Home and End move between the items, wrapping at the ends.
      await menuButton.focus();
      await page.keyboard.press("ArrowDown");
      await page.getByRole("menu").waitFor();
      assert.equal(await menuButton.getAttribute("aria-expanded"), "true");
      assert.equal(await focusedText(page), "Rename");
      await page.keyboard.press("ArrowDown");
      assert.equal(await focusedText(page), "Export as Markdown");
      await page.keyboard.press("End");
      assert.equal(await focusedText(page), "Delete");
      await page.keyboard.press("ArrowDown");
      assert.equal(await focusedText(page), "Rename");
      await page.keyboard.press("ArrowUp");
      assert.equal(await focusedText(page), "Delete");
      await page.keyboard.press("Home");
      assert.equal(await focusedText(page), "Rename");
      assert.deepEqual(await unlabelledControls(page), [], "a control of the open menu has no accessible name");
      await suite.screenshot("menu.png");

      // Escape closes it and gives the focus back to the button.
      await page.keyboard.press("Escape");
      await page.getByRole("menu").waitFor({ state: "detached" });
      assert.equal(await menuButton.evaluate((element) => element === document.activeElement), true);

      // Arrow Up opens it on its last item, and Enter runs the item with
      // the focus: Rename.
      await page.keyboard.press("ArrowUp");
      await page.getByRole("menu").waitFor();
      assert.equal(await focusedText(page), "Delete");
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("Enter");
      const field = page.getByRole("textbox", { name: "Chat title" });
      await field.waitFor();
      assert.equal(await field.evaluate((element) => element === document.activeElement), true);
      await field.press("Escape");
      await field.waitFor({ state: "detached" });
    });
  });

  test("rename inline", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const field = page.getByRole("textbox", { name: "Chat title" });
      const budgetId = (await serverThreads(page)).find((thread) => thread.title === budgetTitle)?.id;
      assert.ok(budgetId !== undefined, "the server has no thread titled budgetTitle");

      // Escape cancels: the title stays, here and on the server.
      await (await openMenu(page, budgetTitle)).getByRole("menuitem", { name: "Rename" }).click();
      await field.fill("Something else");
      await field.press("Escape");
      await field.waitFor({ state: "detached" });
      await threads.getByRole("button", { name: budgetTitle }).waitFor();
      assert.equal((await serverThreads(page)).find((thread) => thread.id === budgetId)?.title, budgetTitle);

      // A title the server rejects shows its reason and keeps the field.
      await (await openMenu(page, budgetTitle)).getByRole("menuitem", { name: "Rename" }).click();
      await field.fill("Budget\u200bnotes");
      await field.press("Enter");
      await threads.getByRole("alert").getByText(/could not be renamed.*U\+200B/).waitFor();
      assert.equal(await field.getAttribute("aria-invalid"), "true");
      await suite.screenshot("rename-error.png");

      // Enter saves a valid title.
      await field.fill(renamedTitle);
      await field.press("Enter");
      await field.waitFor({ state: "detached" });
      await threads.getByRole("button", { name: renamedTitle }).waitFor();
      await waitUntil("the server has the new title", async () => {
        const title = (await serverThreads(page)).find((thread) => thread.id === budgetId)?.title;
        return title === renamedTitle || title;
      });
    });
  });

  test("delete and undo", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const toasts = page.getByRole("region", { name: "Notifications" });

      await (await openMenu(page, recipesTitle)).getByRole("menuitem", { name: "Delete" }).click();
      await threads.getByRole("button", { name: recipesTitle }).waitFor({ state: "detached" });
      await toasts.getByText(`Deleted “${recipesTitle}”.`).waitFor();
      await suite.screenshot("undo-toast.png");
      await toasts.getByRole("button", { name: "Undo" }).click();
      await threads.getByRole("button", { name: recipesTitle }).waitFor();
      await toasts.getByText(`Deleted “${recipesTitle}”.`).waitFor({ state: "detached" });

      // After the time to undo, the thread is still on the server.
      await page.waitForTimeout(undoDelayMs + 1_000);
      const titles = (await serverThreads(page)).map((thread) => thread.title);
      assert.ok(titles.includes(recipesTitle), `the server lists ${JSON.stringify(titles)} after Undo`);
      await threads.getByRole("button", { name: recipesTitle }).waitFor();
    });
  });

  test("delete and wait", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const toasts = page.getByRole("region", { name: "Notifications" });

      await (await openMenu(page, recipesTitle)).getByRole("menuitem", { name: "Delete" }).click();
      await threads.getByRole("button", { name: recipesTitle }).waitFor({ state: "detached" });
      const notice = toasts.getByText(`Deleted “${recipesTitle}”.`);
      await notice.waitFor();

      // Nothing is sent while Undo is offered.
      assert.ok(
        (await serverThreads(page)).some((thread) => thread.title === recipesTitle),
        "the thread is gone from the server before the time to undo has passed",
      );

      await notice.waitFor({ state: "detached", timeout: undoDelayMs + 5_000 });
      await waitUntil("the server no longer lists the thread", async () => {
        const titles = (await serverThreads(page)).map((thread) => thread.title);
        return !titles.includes(recipesTitle) || titles;
      });
      assert.equal(await threads.getByRole("button", { name: recipesTitle }).count(), 0, "the deleted thread is back in the list");
      await threads.getByRole("button", { name: renamedTitle }).waitFor();
    });
  });

  test("export Markdown and JSON", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const today = new Date().toISOString().slice(0, 10);
      const fileBase = `Quartalsübersicht-Budget-${today}`;

      const markdownMenu = await openMenu(page, renamedTitle);
      const [markdown] = await Promise.all([
        page.waitForEvent("download"),
        markdownMenu.getByRole("menuitem", { name: "Export as Markdown" }).click(),
      ]);
      assert.equal(markdown.suggestedFilename(), `${fileBase}.md`);
      const markdownText = await readFile(await markdown.path(), "utf8");
      assert.match(markdownText, /^# Quartalsübersicht Budget\n/);
      assert.ok(markdownText.includes(`> ${budgetMessage}`), `the Markdown export lacks the message:\n${markdownText}`);

      const jsonMenu = await openMenu(page, renamedTitle);
      const [json] = await Promise.all([
        page.waitForEvent("download"),
        jsonMenu.getByRole("menuitem", { name: "Export as JSON" }).click(),
      ]);
      assert.equal(json.suggestedFilename(), `${fileBase}.json`);
      const document = JSON.parse(await readFile(await json.path(), "utf8"));
      assert.equal(document.format, "hearth-thread");
      assert.equal(document.thread.title, renamedTitle);
      assert.deepEqual(
        document.messages.map((/** @type {{ content: string }} */ message) => message.content),
        [budgetMessage, "Noted."],
      );
    });
  });
});
