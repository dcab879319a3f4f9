// @ts-check
// Replies rendered as Markdown: a table, a task list and highlighted code,
// with Copy on the code block and on the message. HTML in a reply is shown
// as text, a javascript: link has no href, and an image is never loaded.
// Fork from here opens a new thread with the messages up to that one.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  sendMessage,
  signInThroughPicker,
  startSuite,
  unlabelledControls,
  waitForOpenThreadTitle,
  waitUntil,
} from "./harness.js";

const name = "Grace";
const password = "compiler-a-0-1952";

const code = 'def greet(name):\n    return f"Hello, {name}"  # friendly';

// The chunk of the code highlighter, which Vite names after
// src/codeHighlighter.ts. The page loads it only for a reply with a code
// block that names a language.
const highlighterChunk = /\/assets\/codeHighlighter-[^/]*\.js$/;

// The image points at a closed loopback port, so that a broken renderer
// would send its request nowhere but this machine.
const imageUrl = "http://127.0.0.1:1/hearth-e2e-logo.png";

// The reply, cut into chunks in the middle of the table, the code block and
// the link, so that the page renders partial Markdown while it streams.
const replyChunks = [
  "## Cities\n\n| City | Country |\n|---",
  "---|---------|\n| Rome | Italy |\n| Lyon | France |\n\n",
  "- [x] Book the train\n- [ ] Pack\n\nThis is ~~cheap~~ fine.\n\n",
  "```python\ndef greet(name):\n",
  '    return f"Hello, {name}"  # friendly\n```\n\n',
  "<script>alert(1)</script>\n\n",
  "Do not [click me](javascript:alert(1)) but read ",
  "[the docs](https://example.com/docs).\n\n",
  `![logo](${imageUrl})\n`,
];
const replyText = replyChunks.join("");

describe("markdown", { timeout: 180_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;
  /** @type {string[]} */
  const dialogs = [];
  /** @type {string[]} */
  const pageErrors = [];
  /** @type {string[]} */
  const imageRequests = [];
  /** @type {string[]} */
  const highlighterRequests = [];

  before(async () => {
    suite = await startSuite("markdown");
    const { page } = suite;
    page.on("dialog", (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("request", (request) => {
      if (request.url().startsWith(imageUrl)) {
        imageRequests.push(request.url());
      }
      if (highlighterChunk.test(request.url())) {
        highlighterRequests.push(request.url());
      }
    });
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: suite.hearth.url });
    await createProfileThroughApi(suite.hearth.url, name, password);
    await page.goto(suite.hearth.url);
    await signInThroughPicker(page, name, password);
  });

  after(async () => {
    await suite?.close();
  });

  test("reply without code loads no highlighter", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");

      await threads.getByRole("button", { name: "New chat" }).click();
      // The fake echoes the message, so that the reply has bold text and inline code.
      await sendMessage(page, "Plant **bulbs** with `care`");
      const content = messages.nth(1).locator(".message-content");
      await expectText(content.locator("strong"), "bulbs");
      await expectText(content.locator("code"), "care");
      // The title request takes the fake's next reply, so the next test
      // queues its reply after it.
      await waitForOpenThreadTitle(page);

      assert.deepEqual(highlighterRequests, [], "the page loaded the highlighter for a reply without code");
    });
  });

  test("reply renders as safe Markdown", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      const reply = messages.nth(1);
      const content = reply.locator(".message-content");

      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await fake.queueReply({ chunks: replyChunks, delayMs: 40 });
      await sendMessage(page, "Plan a trip, with **Markdown**");

      // The user's message stays as typed.
      await expectText(messages.nth(0).locator(".message-content"), "Plan a trip, with **Markdown**");
      assert.equal(await messages.nth(0).locator("strong").count(), 0, "the user's message was rendered as Markdown");

      // The table, the task list and the strikethrough.
      await reply.getByRole("button", { name: "Fork from here" }).waitFor();
      const table = content.locator("table");
      await expectText(table.locator("th").nth(0), "City");
      await expectText(table.locator("tbody tr").nth(1).locator("td").nth(0), "Lyon");
      // "##" is an h4 in the page, below the chat's title.
      assert.equal(await content.locator("h4").innerText(), "Cities");
      assert.equal(await content.getByRole("checkbox", { name: "Done", exact: true }).isChecked(), true);
      assert.equal(await content.getByRole("checkbox", { name: "Not done", exact: true }).isChecked(), false);
      await expectText(content.locator("del"), "cheap");

      // The code block is highlighted, with the highlighter loaded once.
      const codeBlock = content.locator("code.hljs.language-python");
      await expectText(codeBlock.locator(".hljs-keyword").first(), "def");
      await expectText(codeBlock.locator(".hljs-comment"), "# friendly");
      assert.equal(highlighterRequests.length, 1, `highlighter requests: ${highlighterRequests.join(", ")}`);

      // The script is text, and no script element came of it.
      assert.match(await content.innerText(), /<script>alert\(1\)<\/script>/);
      assert.equal(await content.locator("script").count(), 0, "the reply contains a script element");

      // The javascript: link is text without href, and clicking it does nothing.
      const inert = content.getByText("click me");
      assert.equal(await inert.getAttribute("href"), null);
      const hrefs = await content.locator("[href]").evaluateAll((elements) =>
        elements.map((element) => element.getAttribute("href") ?? ""),
      );
      assert.deepEqual(hrefs, ["https://example.com/docs", imageUrl], `unexpected links: ${hrefs.join(", ")}`);
      const docs = content.getByRole("link", { name: "the docs" });
      assert.equal(await docs.getAttribute("target"), "_blank");
      assert.equal(await docs.getAttribute("rel"), "noopener noreferrer");
      const urlBefore = page.url();
      await inert.click();
      assert.equal(page.url(), urlBefore, "clicking the inert link navigated");

      // The image is a link to it, and was not loaded.
      assert.equal(await content.locator("img").count(), 0, "the reply contains an img element");
      await content.getByRole("link", { name: "Image: logo" }).waitFor();

      await suite.screenshot("reply.png");
      await page.evaluate(() => document.documentElement.setAttribute("data-theme", "dark"));
      await suite.screenshot("reply-dark.png");
      await page.evaluate(() => document.documentElement.removeAttribute("data-theme"));

      assert.deepEqual(await unlabelledControls(page), []);
      assert.deepEqual(imageRequests, [], "the page requested the image");
      assert.deepEqual(pageErrors, [], "the page threw");
      assert.deepEqual(dialogs, [], "a dialog opened");
    });
  });

  test("code highlighted after a reload", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const reply = page.getByRole("log", { name: "Messages" }).getByRole("article").nth(1);
      const codeBlock = reply.locator("code.language-python");

      // The highlighter's chunk is held back, so that the reply renders
      // from the stored thread before it arrives.
      /** @type {() => void} */
      let releaseHighlighter = () => undefined;
      const highlighterHeld = new Promise((resolve) => {
        releaseHighlighter = () => resolve(undefined);
      });
      await page.route(highlighterChunk, async (route) => {
        await highlighterHeld;
        await route.continue();
      });
      try {
        await page.reload();
        await page.getByRole("button", { name: "Sign out" }).waitFor();

        // Until then the code is plain, and its Copy button is there.
        await expectText(codeBlock, code);
        assert.equal(await codeBlock.locator(".hljs-keyword").count(), 0, "the code was highlighted before the highlighter arrived");
        await reply.getByRole("button", { name: "Copy python code" }).waitFor();

        // Its arrival renders the reply again, highlighted.
        releaseHighlighter();
        await expectText(reply.locator("code.hljs.language-python .hljs-comment"), "# friendly");
      } finally {
        releaseHighlighter();
        await page.unroute(highlighterChunk);
      }
      assert.deepEqual(pageErrors, [], "the page threw");
    });
  });

  test("copy code and message", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const reply = page.getByRole("log", { name: "Messages" }).getByRole("article").nth(1);
      /** @returns {Promise<string>} */
      const clipboard = () => page.evaluate(() => navigator.clipboard.readText());

      // The code block's Copy is a button in the tab order, named after the
      // language, and works from the keyboard.
      const copyCode = reply.getByRole("button", { name: "Copy python code" });
      assert.equal(await copyCode.evaluate((button) => button.tabIndex), 0);
      await copyCode.focus();
      await page.keyboard.press("Enter");
      await expectText(reply.locator(".markdown-copy"), "Copied");
      assert.equal(await clipboard(), code);
      await expectText(reply.locator(".markdown-copy"), "Copy", { timeoutMs: 5_000 });

      // Copy under the reply takes its Markdown source.
      await reply.getByRole("button", { name: "Copy message", exact: true }).click();
      await reply.getByRole("button", { name: "Copied", exact: true }).waitFor();
      assert.equal(await clipboard(), replyText);
    });
  });

  test("fork from the first reply", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      // A second exchange, with the fake's echo, after the title request.
      const title = await waitForOpenThreadTitle(page);
      const threadCount = await threads.getByRole("listitem").count();
      await sendMessage(page, "And then?");
      await expectText(messages.nth(3).locator(".message-content"), "You said: And then?");

      await messages.nth(1).getByRole("button", { name: "Fork from here" }).click();

      // The fork opens, listed, with the first message and its reply only.
      await waitUntil("the fork is listed", async () => (await threads.getByRole("listitem").count()) === threadCount + 1);
      // The server may shorten "Fork of" and a long title.
      const open = threads.locator('[aria-current="page"] .thread-title');
      await expectText(open, /^Fork of /);
      await waitUntil("the fork shows 2 messages", async () => (await messages.count()) === 2);
      await expectText(messages.nth(0).locator(".message-content"), "Plan a trip, with **Markdown**");
      await expectText(messages.nth(1).locator("table th").nth(1), "Country");
      await messages.nth(1).locator("code.hljs.language-python").waitFor();
      await suite.screenshot("fork.png");

      // The original thread keeps its four messages.
      await threads.locator('button:not([aria-current="page"])', { hasText: title }).click();
      await waitUntil("the original shows 4 messages", async () => (await messages.count()) === 4);
      await expectText(messages.nth(3).locator(".message-content"), "You said: And then?");

      assert.deepEqual(pageErrors, [], "the page threw");
      assert.deepEqual(dialogs, [], "a dialog opened");
    });
  });
});
