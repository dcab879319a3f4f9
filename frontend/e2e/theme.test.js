// @ts-check
// The theme, recall and idle lock of the Settings dialog. The dark theme
// stays after a reload and a new sign-in, while the sign-in screens follow
// the system. The number of messages to recall limits the matches of the
// next reply, and the idle lock is saved on the profile.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  csrfStorageKey,
  expectText,
  recallStatus,
  sendMessage,
  signInThroughPicker,
  startSuite,
  unlabelledControls,
  waitUntil,
} from "./harness.js";

const name = "Lovelace";
const password = "analytical-engine-1843";

/**
 * Returns the data-theme attribute of <html>, or null when it has none.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string | null>}
 */
async function pageTheme(page) {
  return page.evaluate(() => document.documentElement.getAttribute("data-theme"));
}

/**
 * Waits until <html> has data-theme set to theme.
 *
 * @param {import("playwright-core").Page} page
 * @param {"light" | "dark"} theme
 * @param {string} when  The situation, for the failure message.
 */
async function waitForTheme(page, theme, when) {
  await waitUntil(`the page shows the ${theme} theme ${when}`, async () => {
    const current = await pageTheme(page);
    return current === theme || current;
  });
}

/**
 * Returns the relative luminance (WCAG 2.1) of a CSS colour of the form
 * rgb(r, g, b) or rgba(r, g, b, a), as getComputedStyle returns it.
 *
 * @param {string} color
 * @returns {number}
 */
function luminance(color) {
  const parts = color.match(/\d+(\.\d+)?/g)?.slice(0, 3).map(Number);
  assert.ok(parts !== undefined, `${color} is not an rgb() colour`);
  assert.equal(parts.length, 3, `${color} is not an rgb() colour`);
  const [r, g, b] = parts.map((part) => {
    const c = part / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * /** @type {number} */ (r) + 0.7152 * /** @type {number} */ (g) + 0.0722 * /** @type {number} */ (b);
}

/**
 * Returns the WCAG 2.1 contrast ratio of two CSS colours.
 *
 * @param {string} first
 * @param {string} second
 * @returns {number}
 */
function contrast(first, second) {
  const [high, low] = [luminance(first), luminance(second)].sort((a, b) => b - a);
  return (/** @type {number} */ (high) + 0.05) / (/** @type {number} */ (low) + 0.05);
}

/**
 * Returns the computed background colour of <html>, which carries the
 * page's background.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string>}
 */
async function pageBackground(page) {
  return page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
}

/**
 * Returns the parsed JSON body of a GET request to path, sent inside the
 * page with its session, as the page's own requests are.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} path
 * @returns {Promise<any>}
 */
async function getJson(page, path) {
  const { status, body } = await page.evaluate(
    async ({ key, url }) => {
      const response = await fetch(url, {
        headers: { Accept: "application/json", "X-CSRF-Token": sessionStorage.getItem(key) ?? "" },
      });
      return { status: response.status, body: await response.text() };
    },
    { key: csrfStorageKey, url: path },
  );
  assert.equal(status, 200, `GET ${path} answered ${status}: ${body}`);
  return JSON.parse(body);
}

/**
 * Returns the items of the data-recall part of a chat stream, or an empty
 * list when the stream has none.
 *
 * @param {string} stream  The body of a POST /api/chat response.
 * @returns {Array<{ match: boolean, threadId: string }>}
 */
function recallItems(stream) {
  for (const line of stream.split("\n")) {
    if (!line.startsWith("data: {")) {
      continue;
    }
    const part = JSON.parse(line.slice("data: ".length));
    if (part.type === "data-recall") {
      return part.data;
    }
  }
  return [];
}

/**
 * Makes the page keep a copy of the body of every POST /api/chat response
 * it receives from now on, for chatStreams. The browser does not keep the
 * body of a streamed response for Playwright, so the page's fetch is
 * wrapped to read a clone of each one.
 *
 * @param {import("playwright-core").Page} page
 */
async function recordChatStreams(page) {
  await page.evaluate(() => {
    const pageWindow = /** @type {any} */ (window);
    const originalFetch = window.fetch;
    pageWindow.chatStreams = [];
    window.fetch = async (input, init) => {
      const response = await originalFetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input), window.location.href);
      if (url.pathname === "/api/chat") {
        pageWindow.chatStreams.push(response.clone().text());
      }
      return response;
    };
  });
}

/**
 * Returns the bodies of the chat responses recorded since
 * recordChatStreams, oldest first, once each has ended.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function chatStreams(page) {
  return page.evaluate(() => Promise.all(/** @type {any} */ (window).chatStreams));
}

/**
 * Opens the Settings dialog and waits until its form is loaded.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<import("playwright-core").Locator>}
 */
async function openSettings(page) {
  await page.getByRole("banner").getByRole("button", { name: "Settings" }).click();
  const dialog = page.getByRole("dialog", { name: "Settings" });
  await dialog.getByRole("button", { name: "Save settings" }).waitFor();
  return dialog;
}

/**
 * Saves the Settings dialog's form and waits for its notice.
 *
 * @param {import("playwright-core").Locator} dialog
 */
async function saveSettings(dialog) {
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expectText(dialog.locator("form").getByRole("status").last(), "Settings saved.");
}

describe("theme, recall and idle lock settings", { timeout: 180_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("theme");
  });

  after(async () => {
    await suite?.close();
  });

  test("dark theme stays after sign-in", { timeout: 90_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await createProfileThroughApi(suite.hearth.url, name, password);

      // The sign-in screens follow the system's mode as it changes.
      await page.emulateMedia({ colorScheme: "light" });
      await page.goto(suite.hearth.url);
      await page.getByRole("button", { name: new RegExp(`^${name}\\b`) }).waitFor();
      await waitForTheme(page, "light", "on the picker of a light system");
      await page.emulateMedia({ colorScheme: "dark" });
      await waitForTheme(page, "dark", "on the picker after the system turned dark");
      await page.emulateMedia({ colorScheme: "light" });
      await waitForTheme(page, "light", "on the picker after the system turned light");
      const lightBackground = await pageBackground(page);

      // A profile that never chose a theme follows the system too.
      await signInThroughPicker(page, name, password);
      await waitForTheme(page, "light", "after the first sign-in");
      const dialog = await openSettings(page);
      assert.equal(await dialog.getByRole("radio", { name: "Same as the system" }).isChecked(), true);
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name in the Settings dialog");

      // Dark, saved: the page turns dark at once, with a dark background
      // and a focus outline with enough contrast on it.
      await dialog.getByRole("radio", { name: "Dark", exact: true }).check();
      await saveSettings(dialog);
      await waitForTheme(page, "dark", "after saving Dark");
      const darkBackground = await pageBackground(page);
      assert.ok(luminance(darkBackground) < 0.05, `the dark page background is ${darkBackground}`);
      assert.ok(
        contrast(darkBackground, lightBackground) > 10,
        `the dark background ${darkBackground} is close to the light one ${lightBackground}`,
      );
      const topK = dialog.getByLabel("Messages to recall");
      await topK.focus();
      const outline = await topK.evaluate((element) => {
        const style = getComputedStyle(element);
        return { style: style.outlineStyle, color: style.outlineColor, width: style.outlineWidth };
      });
      assert.equal(outline.style, "solid", "the focused input shows no outline in the dark theme");
      assert.ok(
        contrast(outline.color, darkBackground) >= 3,
        `the focus outline ${outline.color} has too little contrast on ${darkBackground}`,
      );
      await suite.screenshot("settings-dark.png");

      // A system that turns light does not change an explicit choice.
      await page.emulateMedia({ colorScheme: "light" });
      await waitForTheme(page, "dark", "while the system is light");
      const stored = await getJson(page, "/api/settings");
      assert.equal(stored.theme, "dark");

      // A reload resumes the session with the saved theme.
      await dialog.getByRole("button", { name: "Close" }).click();
      await page.reload();
      await page.getByRole("button", { name: "Sign out" }).waitFor();
      await waitForTheme(page, "dark", "after a reload");

      // Signing out shows the picker in the system's theme, and signing in
      // again brings the saved one back.
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("button", { name: new RegExp(`^${name}\\b`) }).waitFor();
      await waitForTheme(page, "light", "on the picker after signing out");
      await signInThroughPicker(page, name, password);
      await waitForTheme(page, "dark", "after signing in again");
      assert.ok(luminance(await pageBackground(page)) < 0.05, "the background after signing in again is not dark");
    });
  });

  test("topK 1 recalls one match", { timeout: 90_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");

      // Two messages about the landlord, whose replies repeat them: four
      // messages that a question about the landlord can match.
      await threads.getByRole("button", { name: "New chat" }).click();
      await sendMessage(page, "My landlord raised the rent in March.");
      await expectText(messages.nth(1).locator(".message-content"), "You said: My landlord raised the rent in March.");
      await sendMessage(page, "My landlord also promised to fix the heating.");
      await expectText(messages.nth(3).locator(".message-content"), "You said: My landlord also promised to fix the heating.");
      await waitUntil(
        "recall has embedded the first chat",
        async () => {
          const status = await recallStatus(page);
          return (status.state === "ready" && status.pending === 0 && status.vectors >= 4) || status;
        },
        { timeoutMs: 30_000 },
      );

      // One message to recall, and none around it.
      const dialog = await openSettings(page);
      assert.equal(await dialog.getByRole("switch", { name: "Recall earlier messages" }).isChecked(), true);
      await dialog.getByLabel("Messages to recall").fill("1");
      await dialog.getByLabel("Messages around each match").fill("0");
      await saveSettings(dialog);
      await dialog.getByRole("button", { name: "Close" }).click();
      const recall = (await getJson(page, "/api/settings")).recall;
      assert.deepEqual(recall, { topK: 1, messageRange: 0, scope: "resource", enabled: true });

      // The next reply's data-recall holds one match.
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await messages.count()) === 0);
      await recordChatStreams(page);
      await sendMessage(page, "What did I tell you about my landlord?");
      await expectText(messages.nth(1).locator(".message-content"), "You said: What did I tell you about my landlord?");
      const streams = await chatStreams(page);
      assert.equal(streams.length, 1, `the page sent ${streams.length} chat requests`);
      const items = recallItems(/** @type {string} */ (streams[0]));
      const matches = items.filter((item) => item.match).length;
      assert.equal(matches, 1, `the reply's data-recall holds ${matches} matches: ${JSON.stringify(items)}`);
      assert.equal(items.length, 1, `the reply's data-recall holds context messages: ${JSON.stringify(items)}`);
      await expectText(messages.nth(1).locator("details.used-memories summary"), "Used memories (1)");
    });
  });

  test("idle lock is saved on the profile", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      assert.equal((await getJson(page, "/api/auth/me")).idleLockMinutes, 15, "the default idle lock");

      const dialog = await openSettings(page);
      const idleLock = dialog.getByLabel("Lock after idle minutes");
      assert.equal(await idleLock.inputValue(), "15");

      // Over a week is rejected next to the input, before any request.
      await idleLock.fill("10081");
      await dialog.getByRole("button", { name: "Save settings" }).click();
      await waitUntil("the idle lock shows its error", async () => (await idleLock.getAttribute("aria-invalid")) === "true");
      assert.equal((await getJson(page, "/api/auth/me")).idleLockMinutes, 15);

      await idleLock.fill("45");
      await saveSettings(dialog);
      assert.equal((await getJson(page, "/api/auth/me")).idleLockMinutes, 45);

      // 0 turns the lock off, and the dialog shows it when opened again.
      await idleLock.fill("0");
      await saveSettings(dialog);
      assert.equal((await getJson(page, "/api/auth/me")).idleLockMinutes, 0);
      await dialog.getByRole("button", { name: "Close" }).click();
      await openSettings(page);
      assert.equal(await idleLock.inputValue(), "0");
      assert.equal((await getJson(page, "/api/settings")).recall.topK, 1, "saving the idle lock changed the recall");
    });
  });
});
