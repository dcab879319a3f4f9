// @ts-check
// Every screen passes axe-core without serious or critical violations, and
// every control has an accessible name. The screens are first run, the
// profile picker, sign-in with an error, the empty workspace, a streamed
// Markdown reply, the thread menu, Settings, Memory, the keyboard shortcuts,
// the unlock prompt and the dark theme. Each screen is saved as a PNG in the
// artifacts folder, and with HEARTH_SCREENSHOTS=1 also in docs/screenshots/.
// A last test doubles the browser's default font size and checks that the
// text follows it without the layout overflowing sideways.

import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  loginThroughApi,
  seriousAxeViolations,
  sendMessage,
  signInThroughPicker,
  startSuite,
  unlabelledControls,
  waitForOpenThreadTitle,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const admin = { name: "Ada", password: "analytical-engine-1843" };
const other = { name: "Grace", password: "compiler-a-0-1952" };

// The size of the screenshots, which the README shows.
const viewport = { width: 1280, height: 800 };

// Where HEARTH_SCREENSHOTS=1 saves the screenshots for the documentation,
// and the size above which one is reported as too large for it, in bytes.
const docsScreenshotsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");
const maxDocsScreenshotBytes = 200 * 1024;

// The reply, cut in the middle of the table and of the code block, so that
// the page renders partial Markdown while it streams.
const replyChunks = [
  "Here are the three largest cities:\n\n| City | Country | Population |\n|---",
  "---|---------|-----------:|\n| Tokyo | Japan | 37.4 M |\n| Delhi | India | 32.9 M |\n| Shanghai | China | 29.2 M |\n\n",
  "And a function that sorts them:\n\n```python\ndef largest(cities, count=3):\n",
  '    """Return the most populous cities."""\n    return sorted(cities, key=lambda city: city.population, reverse=True)[:count]\n\n\n',
  // A line wider than the reply, so that the code block scrolls sideways.
  "print(largest(cities), 'are the largest cities of the list, ordered by population from the largest to the smallest')\n```\n",
];

/**
 * Fails with every serious or critical axe violation and every unlabelled
 * control on the page, and saves a screenshot named after the screen.
 *
 * @param {import("./harness.js").Suite} suite
 * @param {string} screen  File name without extension, such as "settings".
 */
async function checkScreen(suite, screen) {
  const { page } = suite;
  // Wait for animations and the fonts, so that colours and the screenshot are final.
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(200);
  await suite.screenshot(`${screen}.png`);
  if (process.env.HEARTH_SCREENSHOTS === "1") {
    mkdirSync(docsScreenshotsDir, { recursive: true });
    const file = path.join(docsScreenshotsDir, `${screen}.png`);
    await page.screenshot({ path: file });
    const bytes = statSync(file).size;
    assert.ok(bytes <= maxDocsScreenshotBytes, `${file} has ${bytes} bytes, more than ${maxDocsScreenshotBytes}`);
  }

  const violations = await seriousAxeViolations(page);
  assert.deepEqual(
    violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.help}\n  ${violation.nodes.join("\n  ")}`),
    [],
    `axe found serious or critical violations on ${screen}`,
  );
  assert.deepEqual(await unlabelledControls(page), [], `a control on ${screen} has no accessible name`);
}

/**
 * Returns the parts of the main layout that are wider than their box, as
 * "SELECTOR: SCROLL WIDTH > CLIENT WIDTH", empty when nothing overflows
 * sideways. The message list's tables and code blocks scroll inside their
 * own boxes, which the check does not count.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const selectors = [
      "html",
      "body",
      ".auth-card",
      ".workspace",
      ".workspace-header",
      ".sidebar",
      ".chat-area",
      ".chat",
      ".message-log",
      ".composer",
      "dialog[open]",
    ];
    /** @type {string[]} */
    const overflowing = [];
    for (const selector of selectors) {
      for (const element of document.querySelectorAll(selector)) {
        // One pixel of rounding is allowed.
        if (element.scrollWidth > element.clientWidth + 1) {
          overflowing.push(`${selector}: ${element.scrollWidth} > ${element.clientWidth}`);
        }
      }
    }
    if (document.documentElement.scrollWidth > window.innerWidth) {
      overflowing.push(`page: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    }
    return overflowing;
  });
}

describe("accessibility", { timeout: 300_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("accessibility");
    await suite.page.setViewportSize(viewport);
  });

  after(async () => {
    await suite?.close();
  });

  test("screens before sign-in", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;

      await page.goto(suite.hearth.url);
      await page.getByRole("heading", { name: "Create your profile" }).waitFor();
      await checkScreen(suite, "first-run");

      await createProfileThroughApi(suite.hearth.url, admin.name, admin.password);
      const { token } = await loginThroughApi(suite.hearth.url, admin.name, admin.password);
      assert.ok(token !== null, "the administrator could not sign in through the API");
      await createProfileThroughApi(suite.hearth.url, other.name, other.password, token);
      await page.reload();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      await checkScreen(suite, "profile-picker");

      await page.getByRole("button", { name: /^Ada\b/ }).click();
      await page.getByLabel("Password", { exact: true }).fill("not-the-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").waitFor();
      await checkScreen(suite, "sign-in-error");
    });
  });

  test("workspace screens", { timeout: 120_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);

      await page.getByLabel("Password", { exact: true }).fill(admin.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await waitForWorkspace(page, admin.name);
      await page.getByRole("heading", { name: "Start your first chat" }).waitFor();
      await checkScreen(suite, "workspace-empty");

      // A chat with a reply that streams a table and a code block.
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await fake.queueReply({ chunks: replyChunks, delayMs: 60 });
      await fake.queueReply({ chunks: ["Largest cities"] });
      await sendMessage(page, "Which cities are the largest? Add a Python function that sorts them.");
      const reply = messages.nth(1);
      await expectText(reply.locator("table tbody tr").nth(2).locator("td").nth(0), "Shanghai");
      await reply.locator("code.hljs.language-python").waitFor();
      // The long line makes the code block scroll sideways, so the keyboard
      // can reach it to scroll it.
      const codeBlock = reply.locator("pre");
      await waitUntil("the code block is in the tab order", async () => (await codeBlock.getAttribute("tabindex")) === "0");
      assert.equal(await codeBlock.getAttribute("aria-label"), "python code");
      await reply.getByRole("button", { name: "Fork from here" }).waitFor();
      await waitForOpenThreadTitle(page);
      await checkScreen(suite, "chat");

      await threads.getByRole("button", { name: "Chat actions" }).first().click();
      await page.getByRole("menu").waitFor();
      await checkScreen(suite, "thread-menu");
      await page.keyboard.press("Escape");
      await page.getByRole("menu").waitFor({ state: "detached" });

      await page.getByRole("button", { name: "Settings", exact: true }).click();
      const settings = page.getByRole("dialog", { name: "Settings" });
      await settings.getByRole("button", { name: "Save settings" }).waitFor();
      await checkScreen(suite, "settings");
      await settings.getByRole("button", { name: "Close" }).click();
      await settings.waitFor({ state: "detached" });

      await page.getByRole("button", { name: "Memory", exact: true }).click();
      const memory = page.getByRole("dialog", { name: "Memory" });
      await memory.getByRole("button", { name: "Use this embedder" }).waitFor();
      await memory.getByLabel("Document (Markdown)").waitFor();
      await checkScreen(suite, "memory");
      await memory.getByRole("button", { name: "Close" }).click();
      await memory.waitFor({ state: "detached" });

      await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
      const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
      await shortcuts.waitFor();
      await checkScreen(suite, "shortcuts");
      await shortcuts.getByRole("button", { name: "Close" }).click();
      await shortcuts.waitFor({ state: "detached" });
    });
  });

  test("dark theme", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await page.evaluate(() => document.documentElement.setAttribute("data-theme", "dark"));
      await checkScreen(suite, "chat-dark");

      await page.getByRole("button", { name: "Settings", exact: true }).click();
      const settings = page.getByRole("dialog", { name: "Settings" });
      await settings.getByRole("button", { name: "Save settings" }).waitFor();
      await checkScreen(suite, "settings-dark");
      await settings.getByRole("button", { name: "Close" }).click();
      await settings.waitFor({ state: "detached" });

      await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
      const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
      await shortcuts.waitFor();
      await checkScreen(suite, "shortcuts-dark");
      await shortcuts.getByRole("button", { name: "Close" }).click();
      await shortcuts.waitFor({ state: "detached" });
      await page.evaluate(() => document.documentElement.removeAttribute("data-theme"));
    });
  });

  test("unlock prompt", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;

      // A restart locks every profile, so the page shows the unlock prompt.
      await suite.restartHearth();
      await page.reload();
      const unlock = page.getByRole("dialog", { name: "Hearth is locked" });
      await unlock.waitFor();
      await checkScreen(suite, "unlock");

      await unlock.getByLabel("Password", { exact: true }).fill(admin.password);
      await unlock.getByRole("button", { name: "Unlock" }).click();
      await unlock.waitFor({ state: "detached" });
      await waitForWorkspace(page, admin.name);
    });
  });

  test("text follows the default font size", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const log = page.getByRole("log", { name: "Messages" });

      /**
       * Fails when the page no longer uses the large default size, or
       * overflows sideways, and saves a screenshot of the window. The
       * screenshot is not of the full page, because Playwright's full-page
       * screenshot resets the font sizes set through the DevTools protocol.
       *
       * @param {string} screen
       */
      async function checkLargeText(screen) {
        const rootSize = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
        assert.equal(rootSize, "32px", `the page does not use the browser's default font size on ${screen}`);
        assert.deepEqual(await horizontalOverflow(page), [], `${screen} overflows sideways with large text`);
        await page.screenshot({ path: path.join(suite.artifactsDir, `large-text-${screen}.png`) });
      }

      // Chromium's own setting of the default font size, as a person who
      // needs larger text sets it, doubled from 16 pixels.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Page.setFontSizes", { fontSizes: { standard: 32, fixed: 26 } });
      try {
        await page.reload();
        await waitForWorkspace(page, admin.name);
        await log.getByRole("article").nth(1).locator("table").waitFor();
        const replyText = await log
          .locator(".message-content p")
          .first()
          .evaluate((element) => getComputedStyle(element).fontSize);
        assert.equal(replyText, "32px", "the reply's text does not follow the default font size");
        await checkLargeText("chat");

        await page.getByRole("button", { name: "Settings", exact: true }).click();
        const settings = page.getByRole("dialog", { name: "Settings" });
        await settings.getByRole("button", { name: "Save settings" }).waitFor();
        await checkLargeText("settings");
        await settings.getByRole("button", { name: "Close" }).click();
        await settings.waitFor({ state: "detached" });

        await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
        const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
        await shortcuts.waitFor();
        await checkLargeText("shortcuts");
        await shortcuts.getByRole("button", { name: "Close" }).click();
        await shortcuts.waitFor({ state: "detached" });

        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
        await checkLargeText("picker");

        await signInThroughPicker(page, other.name, other.password);
        await page.getByRole("heading", { name: "Start your first chat" }).waitFor();
        await checkLargeText("workspace");
      } finally {
        await cdp.send("Page.setFontSizes", { fontSizes: { standard: 16, fixed: 13 } });
        await cdp.detach();
      }
    });
  });
});
