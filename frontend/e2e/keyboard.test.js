// @ts-check
// Hearth by keyboard alone: signing in, sending a message and stopping its
// reply, and the keyboard shortcuts. The tests also check where the focus
// goes after each action, the confirmation before a dialog discards unsaved
// changes, and a visible focus ring on every control in both themes.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  startSuite,
  unlabelledControls,
  waitForOpenThreadTitle,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Ada";
const password = "analytical-engine-1843";

// Ctrl is the primary modifier of the shortcuts on Linux, where the tests run.
const keys = {
  newChat: "Control+Shift+O",
  searchChats: "Control+K",
  previousChat: "Alt+ArrowUp",
  nextChat: "Alt+ArrowDown",
  stopReply: "Control+Shift+Backspace",
  focusComposer: "/",
  openSettings: "Control+Comma",
  showShortcuts: "Shift+Slash",
};

/**
 * Describes the element with the focus as "ROLE: NAME", such as
 * "button: New chat" or "textbox: Message", from Chromium's accessibility
 * tree. It returns "body" when no element has the focus.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string>}
 */
async function focused(page) {
  const isBody = await page.evaluate(() => document.activeElement === null || document.activeElement === document.body);
  if (isBody) {
    return "body";
  }
  const cdp = await page.context().newCDPSession(page);
  try {
    const { result } = await cdp.send("Runtime.evaluate", { expression: "document.activeElement" });
    const { nodes } = await cdp.send("Accessibility.getPartialAXTree", { objectId: result.objectId, fetchRelatives: false });
    const [node] = nodes;
    return node === undefined ? "unknown" : `${node.role?.value ?? ""}: ${String(node.name?.value ?? "").trim()}`;
  } finally {
    await cdp.detach();
  }
}

/**
 * Waits until the element with the focus is described as expected.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} expected  "ROLE: NAME", as focused returns it.
 */
async function waitForFocus(page, expected) {
  await waitUntil(`the focus is on ${expected}`, async () => {
    const current = await focused(page);
    return current === expected || current;
  });
}

/**
 * Returns the id of the thread open in the sidebar, or null.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string | null>}
 */
async function openThreadId(page) {
  return page.evaluate(
    () => document.querySelector('.sidebar [aria-current="page"]')?.getAttribute("data-thread-id") ?? null,
  );
}

/**
 * Returns the ids of the threads in the sidebar, top to bottom.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function sidebarThreadIds(page) {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll(".sidebar [data-thread-id]"), (element) => element.getAttribute("data-thread-id") ?? ""),
  );
}

/**
 * Returns the WCAG 2.1 relative luminance of a colour that
 * getComputedStyle returns, rgb(r, g, b) or rgba(r, g, b, a).
 *
 * @param {string} color
 * @returns {number}
 */
function luminance(color) {
  const parts = color.match(/\d+(\.\d+)?/g)?.slice(0, 3).map(Number) ?? [];
  assert.equal(parts.length, 3, `${color} is not an rgb() colour`);
  const [r, g, b] = parts.map((part) => {
    const channel = part / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * Number(r) + 0.7152 * Number(g) + 0.0722 * Number(b);
}

/**
 * Returns the WCAG 2.1 contrast ratio of two colours.
 *
 * @param {string} first
 * @param {string} second
 * @returns {number}
 */
function contrast(first, second) {
  const [high, low] = [luminance(first), luminance(second)].sort((a, b) => b - a);
  return (Number(high) + 0.05) / (Number(low) + 0.05);
}

/**
 * Presses Tab count times, and after each press returns the focused
 * control's description with its outline: style, width in pixels and colour.
 *
 * @param {import("playwright-core").Page} page
 * @param {number} count
 * @returns {Promise<Array<{ control: string, style: string, width: number, color: string }>>}
 */
async function tabThroughOutlines(page, count) {
  /** @type {Array<{ control: string, style: string, width: number, color: string }>} */
  const stops = [];
  for (let index = 0; index < count; index++) {
    await page.keyboard.press("Tab");
    const outline = await page.evaluate(() => {
      const element = document.activeElement;
      if (element === null || element === document.body) {
        return null;
      }
      const style = getComputedStyle(element);
      return {
        html: element.outerHTML.slice(0, 120),
        style: style.outlineStyle,
        width: Number.parseFloat(style.outlineWidth),
        color: style.outlineColor,
      };
    });
    if (outline === null) {
      continue;
    }
    stops.push({ control: outline.html, style: outline.style, width: outline.width, color: outline.color });
  }
  return stops;
}

describe("keyboard", { timeout: 300_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("keyboard");
    await createProfileThroughApi(suite.hearth.url, name, password);
  });

  after(async () => {
    await suite?.close();
  });

  test("sign in, send and stop by keyboard", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      const composer = page.getByRole("textbox", { name: "Message" });

      // The picker's heading has the focus, the profile's tile is the next
      // stop, and its password form takes the focus. Going back from there
      // gives the focus to the tile again.
      await page.goto(suite.hearth.url);
      await waitForFocus(page, "heading: Who is using Hearth?");
      await page.keyboard.press("Tab");
      await waitForFocus(page, `button: ${name} Administrator`);
      await page.keyboard.press("Enter");
      await waitForFocus(page, "textbox: Password");
      for (let presses = 0; presses < 6 && (await focused(page)) !== "button: Choose another profile"; presses++) {
        await page.keyboard.press("Tab");
      }
      assert.equal(await focused(page), "button: Choose another profile");
      await page.keyboard.press("Enter");
      await waitForFocus(page, `button: ${name} Administrator`);
      await page.keyboard.press("Enter");
      await waitForFocus(page, "textbox: Password");
      await page.keyboard.type(password);
      await page.keyboard.press("Enter");
      await waitForWorkspace(page, name);

      // With no chat yet, New chat has the focus, and the shortcut starts
      // one with the focus in its composer.
      await waitForFocus(page, "button: New chat");
      await page.keyboard.press(keys.newChat);
      await waitForFocus(page, "textbox: Message");

      // After sending, the focus stays in the composer, which cannot be
      // edited while the reply is written. Escape there stops the reply.
      await fake.queueReply({ chunks: ["Once ", "upon ", "a time"], holdAfter: 1 });
      await page.keyboard.type("Tell me a story");
      await page.keyboard.press("Enter");
      await expectText(messages.nth(1).locator(".message-content"), "Once");
      await waitForFocus(page, "textbox: Message");
      assert.equal(await composer.getAttribute("aria-disabled"), "true", "the composer can be edited while the reply is written");
      await page.keyboard.press("Escape");
      await messages.nth(1).getByText("Stopped").waitFor();
      await waitUntil("the composer is enabled", () => composer.isEditable());
      await waitForFocus(page, "textbox: Message");
      await fake.release();

      // The stop shortcut works too, here from the composer. A stopped
      // reply gets no title, so no title request takes the queued reply.
      await fake.queueReply({ chunks: ["Twice ", "upon ", "a time"], holdAfter: 1 });
      await page.keyboard.type("Another one");
      await page.keyboard.press("Enter");
      await expectText(messages.nth(3).locator(".message-content"), "Twice");
      await page.keyboard.press(keys.stopReply);
      await messages.nth(3).getByText("Stopped").waitFor();
      await waitForFocus(page, "textbox: Message");
      await fake.release();
    });
  });

  test("shortcuts", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const composer = page.getByRole("textbox", { name: "Message" });

      // A second chat, so that there is one to move to.
      await page.keyboard.press(keys.newChat);
      await waitUntil("two chats are listed", async () => (await sidebarThreadIds(page)).length === 2);
      await waitForFocus(page, "textbox: Message");
      const [newest, older] = await sidebarThreadIds(page);
      assert.equal(await openThreadId(page), newest);

      // Alt with the arrow keys moves through the list, also from the composer.
      await page.keyboard.press(keys.nextChat);
      await waitUntil("the older chat is open", async () => (await openThreadId(page)) === older);
      await log.getByRole("article").first().waitFor();
      await waitForFocus(page, "textbox: Message");
      await page.keyboard.press(keys.nextChat);
      assert.equal(await openThreadId(page), older, "Alt+ArrowDown went past the last chat");
      await page.keyboard.press(keys.previousChat);
      await waitUntil("the newest chat is open", async () => (await openThreadId(page)) === newest);
      // The opened chat's composer takes the focus once the chat has loaded.
      await log.getByText("No messages yet.", { exact: false }).waitFor();
      await waitForFocus(page, "textbox: Message");

      // Ctrl+K goes to the search, and / from outside a text field to the composer.
      await page.keyboard.press(keys.searchChats);
      await waitForFocus(page, "searchbox: Search chats");
      await page.keyboard.press(keys.focusComposer);
      assert.equal(await threads.getByRole("searchbox").inputValue(), "/", "/ in the search field did not type");
      await page.keyboard.press("Escape");
      await page.keyboard.press("Tab");
      assert.notEqual(await focused(page), "searchbox: Search chats");
      await page.keyboard.press(keys.focusComposer);
      await waitForFocus(page, "textbox: Message");

      // ? in the composer is text; outside it opens the list of shortcuts,
      // and Escape gives the focus back.
      await page.keyboard.press(keys.showShortcuts);
      assert.equal(await composer.inputValue(), "?");
      assert.equal(await page.getByRole("dialog").count(), 0, "? in the composer opened a dialog");
      await page.keyboard.press("Backspace");
      await threads.getByRole("button", { name: "New chat" }).focus();
      await page.keyboard.press(keys.showShortcuts);
      const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
      await shortcuts.waitFor();
      const newChatRow = shortcuts.getByRole("row", { name: /Start a new chat/ });
      assert.deepEqual(await newChatRow.locator("kbd kbd").allInnerTexts(), ["Ctrl", "Shift", "O"]);
      assert.deepEqual(await unlabelledControls(page), []);
      await page.keyboard.press("Escape");
      await shortcuts.waitFor({ state: "detached" });
      await waitForFocus(page, "button: New chat");

      // Ctrl+comma opens Settings, and the shortcuts rest while it is open.
      await page.keyboard.press(keys.openSettings);
      const settings = page.getByRole("dialog", { name: "Settings" });
      await settings.getByRole("button", { name: "Save settings" }).waitFor();
      await page.keyboard.press(keys.showShortcuts);
      assert.equal(await shortcuts.count(), 0, "? opened the shortcuts over Settings");
      await page.keyboard.press("Escape");
      await settings.waitFor({ state: "detached" });
      await waitForFocus(page, "button: New chat");
    });
  });

  test("focus after actions", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");
      const composer = page.getByRole("textbox", { name: "Message" });

      // Send clicked with the mouse in a third chat: the focus goes back to
      // the composer.
      await page.keyboard.press(keys.newChat);
      await waitUntil("three chats are listed", async () => (await sidebarThreadIds(page)).length === 3);
      await waitForFocus(page, "textbox: Message");
      await fake.queueReply({ chunks: ["Noted."] });
      await fake.queueReply({ chunks: ["Shopping list"] });
      await composer.fill("Milk and bread");
      await page.getByRole("button", { name: "Send" }).click();
      await waitForFocus(page, "textbox: Message");
      await expectText(messages.nth(1).locator(".message-content"), "Noted.");
      await waitForOpenThreadTitle(page);

      // A dialog closed with its Close button gives the focus back to the
      // button that opened it, as after Escape.
      await page.getByRole("button", { name: "Memory", exact: true }).click();
      const memory = page.getByRole("dialog", { name: "Memory" });
      await memory.getByRole("button", { name: "Close" }).click();
      await memory.waitFor({ state: "detached" });
      await waitForFocus(page, "button: Memory");
      await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
      await page.getByRole("dialog", { name: "Keyboard shortcuts" }).getByRole("button", { name: "Close" }).click();
      await waitForFocus(page, "button: Keyboard shortcuts");

      // After renaming, the thread's button has the focus again.
      const ids = await sidebarThreadIds(page);
      assert.equal(ids.length, 3, `the sidebar lists ${ids.length} chats`);
      const [first, second, third] = ids;
      const firstRow = threads.locator(".thread-row").nth(0);
      await firstRow.getByRole("button", { name: "Chat actions" }).focus();
      await page.keyboard.press("ArrowDown");
      await page.getByRole("menuitem", { name: "Rename" }).waitFor();
      await page.keyboard.press("Enter");
      await waitForFocus(page, "textbox: Chat title");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("Groceries");
      await page.keyboard.press("Enter");
      await threads.getByRole("button", { name: /^Groceries/ }).waitFor();
      await waitUntil("the renamed thread's button has the focus", () =>
        page.evaluate((id) => document.activeElement?.getAttribute("data-thread-id") === id, first),
      );

      // Deleting a thread gives the focus to the one below it, and deleting
      // the last one to New chat.
      await firstRow.getByRole("button", { name: "Chat actions" }).focus();
      await page.keyboard.press("ArrowUp");
      await page.getByRole("menuitem", { name: "Delete" }).waitFor();
      await page.keyboard.press("Enter");
      await waitUntil("the next thread's button has the focus", () =>
        page.evaluate((id) => document.activeElement?.getAttribute("data-thread-id") === id, second),
      );
      const lastRow = threads.locator(".thread-row").last();
      assert.equal(await lastRow.locator("[data-thread-id]").getAttribute("data-thread-id"), third);
      await lastRow.getByRole("button", { name: "Chat actions" }).focus();
      await page.keyboard.press("ArrowUp");
      await page.getByRole("menuitem", { name: "Delete" }).waitFor();
      await page.keyboard.press("Enter");
      await waitForFocus(page, "button: New chat");

      // Undo both, so that the later tests keep their chats.
      const undo = page.getByRole("region", { name: "Notifications" }).getByRole("button", { name: "Undo" });
      while ((await undo.count()) > 0) {
        await undo.first().click();
      }
      await waitUntil("three chats are listed", async () => (await sidebarThreadIds(page)).length === 3);
    });
  });

  test("unsaved changes ask first", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const settingsButton = page.getByRole("button", { name: "Settings", exact: true });
      const settings = page.getByRole("dialog", { name: "Settings" });
      const question = settings.getByRole("group", { name: "You have unsaved changes. Discard them?" });
      const temperature = settings.getByLabel("Temperature", { exact: true });

      // Without changes, Escape closes Settings at once.
      await settingsButton.click();
      await temperature.waitFor();
      await page.keyboard.press("Escape");
      await settings.waitFor({ state: "detached" });

      // With a change, Escape shows the confirmation, and a second Escape
      // goes back to the field.
      await settingsButton.click();
      await temperature.fill("1.5");
      await page.keyboard.press("Escape");
      await question.waitFor();
      await waitForFocus(page, "button: Keep editing");
      await suite.screenshot("discard-question.png");
      await page.keyboard.press("Escape");
      await question.waitFor({ state: "detached" });
      await waitForFocus(page, "textbox: Temperature");
      assert.equal(await temperature.inputValue(), "1.5");

      // Close shows it too. Keep editing returns the focus to Close.
      await settings.getByRole("button", { name: "Close" }).click();
      await question.waitFor();
      await question.getByRole("button", { name: "Keep editing" }).click();
      await waitForFocus(page, "button: Close");

      // Discard closes without saving, and Settings has the focus again.
      await page.keyboard.press("Escape");
      await question.getByRole("button", { name: "Discard changes" }).click();
      await settings.waitFor({ state: "detached" });
      await waitForFocus(page, "button: Settings");
      await settingsButton.click();
      assert.equal(await temperature.inputValue(), "", "the discarded temperature was saved");
      // The value typed back to the stored one is no change.
      await temperature.fill("2");
      await temperature.fill("");
      await page.keyboard.press("Escape");
      await settings.waitFor({ state: "detached" });

      // The Memory dialog confirms too, for a changed working memory.
      await page.getByRole("button", { name: "Memory", exact: true }).click();
      const memory = page.getByRole("dialog", { name: "Memory" });
      const workingMemory = memory.getByLabel("Document (Markdown)");
      await workingMemory.fill("Likes tea.");
      await page.keyboard.press("Escape");
      const memoryQuestion = memory.getByRole("group", { name: "You have unsaved changes. Discard them?" });
      await memoryQuestion.waitFor();
      await memoryQuestion.getByRole("button", { name: "Discard changes" }).click();
      await memory.waitFor({ state: "detached" });
      await waitForFocus(page, "button: Memory");
    });
  });

  test("focus ring in both themes", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;

      for (const theme of ["light", "dark"]) {
        await page.evaluate((name) => document.documentElement.setAttribute("data-theme", name), theme);
        const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor === "rgba(0, 0, 0, 0)"
          ? getComputedStyle(document.documentElement).backgroundColor
          : getComputedStyle(document.body).backgroundColor);

        // From the top of the page through the header, the sidebar and the
        // chat. The ring is compared with the page's background, although a
        // ring in the header or a dialog is drawn on a surface colour.
        await page.evaluate(() => {
          if (document.activeElement instanceof HTMLElement) {
            document.activeElement.blur();
          }
        });
        const stops = await tabThroughOutlines(page, 40);
        assert.ok(stops.length >= 30, `only ${stops.length} controls took the focus`);

        // And through the Settings dialog.
        await page.getByRole("button", { name: "Settings", exact: true }).click();
        await page.getByRole("dialog", { name: "Settings" }).getByLabel("Temperature", { exact: true }).waitFor();
        stops.push(...(await tabThroughOutlines(page, 30)));
        await page.keyboard.press("Escape");
        await page.getByRole("dialog", { name: "Settings" }).waitFor({ state: "detached" });

        for (const stop of stops) {
          assert.notEqual(stop.style, "none", `${stop.control} shows no focus ring in the ${theme} theme`);
          assert.ok(stop.width >= 2, `${stop.control} has a focus ring of ${stop.width}px in the ${theme} theme`);
          const ratio = contrast(stop.color, background);
          assert.ok(ratio >= 3, `the focus ring of ${stop.control} has ${ratio.toFixed(2)}:1 contrast in the ${theme} theme`);
        }
      }
      await page.evaluate(() => document.documentElement.removeAttribute("data-theme"));
    });
  });
});
