// @ts-check
// Replies after they started: Stop then Continue, and Regenerate with its
// earlier versions. A reply keeps streaming while another thread is open,
// and another window shows it too. Too many replies at once make the next
// one wait, and an edited message starts a new thread. A reply whose prompt
// left out earlier messages shows a note.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  csrfStorageKey,
  expectText,
  isTitleRequest,
  sendMessage,
  signInThroughPicker,
  startSuite,
  waitForOpenThreadTitle,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Ada";
const password = "analytical-engine-1843";

/**
 * Saves the profile's settings through the API inside the page, as the
 * Settings dialog would. Fields left out take their defaults.
 *
 * @param {import("playwright-core").Page} page
 * @param {Record<string, unknown>} settings
 */
async function saveSettingsThroughApi(page, settings) {
  const { status, body } = await page.evaluate(
    async ({ key, settings }) => {
      const response = await fetch("/api/settings", {
        method: "PUT",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRF-Token": sessionStorage.getItem(key) ?? "",
        },
        body: JSON.stringify(settings),
      });
      return { status: response.status, body: await response.text() };
    },
    { key: csrfStorageKey, settings },
  );
  assert.equal(status, 200, `PUT /api/settings answered ${status}: ${body}`);
}

describe("replies", { timeout: 240_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("replies");
    await createProfileThroughApi(suite.hearth.url, name, password);
    await suite.page.goto(suite.hearth.url);
    await signInThroughPicker(suite.page, name, password);
  });

  after(async () => {
    await suite?.close();
  });

  test("stop, continue and regenerate", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      const reply = messages.nth(1);

      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);

      // Stop keeps the text so far and offers Continue and Regenerate.
      await fake.queueReply({ chunks: ["Once ", "upon ", "a time."], holdAfter: 1 });
      await sendMessage(page, "Tell me a story");
      await expectText(reply.locator(".message-content"), "Once");
      await page.getByRole("button", { name: "Stop" }).click();
      await reply.getByText("Stopped").waitFor();
      await fake.release();
      await reply.getByRole("button", { name: "Continue" }).waitFor();
      await reply.getByRole("button", { name: "Regenerate" }).waitFor();
      await suite.screenshot("stopped.png");

      // Continue takes the reply up where it ended, in the same message.
      await fake.queueReply({ chunks: ["upon ", "a time."] });
      await reply.getByRole("button", { name: "Continue" }).click();
      await expectText(reply.locator(".message-content"), "Once upon a time.");
      await reply.getByText("Stopped").waitFor({ state: "detached" });
      assert.equal(await messages.count(), 2);
      assert.equal(await reply.getByRole("button", { name: "Continue" }).count(), 0, "a complete reply offers Continue");
      const continued = (await fake.chatRequests()).filter((request) => !isTitleRequest(request)).at(-1);
      assert.ok(continued !== undefined, "the fake received no request to continue");
      assert.equal(
        continued.messages.some((message) => message.role === "assistant" && message.content.includes("Once")),
        true,
        "the request to continue lacks the reply so far",
      );

      // Regenerate writes the reply anew and keeps the old text as version 1.
      // The title request that the complete reply set off goes first, so
      // that it does not take the queued reply.
      await waitForOpenThreadTitle(page);
      await fake.queueReply({ chunks: ["A dragon ", "appeared."] });
      await reply.getByRole("button", { name: "Regenerate" }).click();
      await expectText(reply.locator(".message-content"), "A dragon appeared.");
      const versions = reply.getByRole("group", { name: "Versions of this reply" });
      await expectText(versions.locator(".version-position"), "2/2");
      await versions.getByRole("button", { name: "Previous version" }).click();
      await expectText(versions.locator(".version-position"), "1/2");
      await expectText(reply.locator(".message-content"), "Once upon a time.");
      await reply.getByText(/An earlier version of this reply/).waitFor();
      assert.equal(await versions.getByRole("button", { name: "Previous version" }).isDisabled(), true);
      await suite.screenshot("earlier-version.png");
      await versions.getByRole("button", { name: "Next version" }).click();
      await expectText(reply.locator(".message-content"), "A dragon appeared.");

      // The versions are stored with the reply.
      await page.reload();
      await waitForWorkspace(page, name);
      await expectText(reply.locator(".message-content"), "A dragon appeared.");
      await expectText(versions.locator(".version-position"), "2/2");
    });
  });

  test("reply streams on while another thread is open", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      // The thread of the first test has a title; the new one keeps the
      // default title while its reply is held.
      const storyTitle = await waitForOpenThreadTitle(page);
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await fake.queueReply({ chunks: ["Part one, ", "part two."], holdAfter: 1 });
      await sendMessage(page, "Write in two parts");
      await expectText(messages.nth(1).locator(".message-content"), "Part one,");

      // Another thread opens while the reply waits.
      await threads.getByRole("button", { name: storyTitle }).click();
      await expectText(messages.nth(1).locator(".message-content"), "A dragon appeared.");
      assert.equal(await page.getByRole("button", { name: "Stop" }).count(), 0, "the other thread shows Stop");

      // Back in the first thread, the reply is still being written.
      await threads.getByRole("button", { name: /New Conversation/ }).click();
      await expectText(messages.nth(1).locator(".message-content"), "Part one,");
      await page.getByRole("button", { name: "Stop" }).waitFor();
      await messages.nth(1).getByText("Writing a reply…").waitFor();

      // Released, it completes on screen without a reload.
      await fake.release();
      await expectText(messages.nth(1).locator(".message-content"), "Part one, part two.");
      await page.getByRole("button", { name: "Stop" }).waitFor({ state: "detached" });
      assert.equal(await messages.count(), 2);
    });
  });

  test("another window follows a reply being written", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      await waitForOpenThreadTitle(page);
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await fake.queueReply({ chunks: ["Seen ", "from afar."], holdAfter: 1 });
      await sendMessage(page, "Are you visible elsewhere?");
      await expectText(messages.nth(1).locator(".message-content"), "Seen");

      // A second window of the same profile has no stream of this reply:
      // it shows what the server stored so far, and fetches it again until
      // the reply is done.
      const other = await suite.openBrowser("other");
      await other.goto(suite.hearth.url);
      await signInThroughPicker(other, name, password);
      const otherMessages = other.getByRole("log", { name: "Messages" }).getByRole("article");
      await expectText(otherMessages.nth(0).locator(".message-content"), "Are you visible elsewhere?");
      await expectText(otherMessages.nth(1).locator(".message-content"), "Seen");
      await otherMessages.nth(1).getByText("Writing a reply… It shows here when it is done.").waitFor();

      await fake.release();
      await expectText(otherMessages.nth(1).locator(".message-content"), "Seen from afar.");
      await otherMessages.nth(1).getByText(/^Writing a reply/).waitFor({ state: "detached" });
      await expectText(messages.nth(1).locator(".message-content"), "Seen from afar.");
    });
  });

  test("too many replies at once wait", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      const composer = page.getByRole("textbox", { name: "Message" });

      // The title requests of the earlier threads go first, so that they do
      // not take the held replies.
      await waitForOpenThreadTitle(page);

      // Two replies are held, each in a new thread.
      for (const text of ["First held", "Second held"]) {
        await threads.getByRole("button", { name: "New chat" }).click();
        await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
        await fake.queueReply({ chunks: [`${text} reply, `, "done."], holdAfter: 1 });
        await sendMessage(page, text);
        await expectText(messages.nth(1).locator(".message-content"), `${text} reply,`);
      }

      // A third is refused for a few seconds, and the message stays in the
      // composer.
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await sendMessage(page, "Third");
      const notice = page.locator(".retry-notice");
      await notice.getByRole("alert").getByText(/already writing 2 replies/).waitFor();
      await notice.getByText(/^Try again in \d seconds?\.$/).waitFor();
      assert.equal(await composer.inputValue(), "Third");
      assert.equal(await messages.count(), 0, "the refused message is shown in the thread");
      assert.equal(await page.getByRole("button", { name: "Send" }).isDisabled(), true, "Send is enabled during the wait");
      await suite.screenshot("too-many-replies.png");

      // Once the held replies end, the message goes through.
      await fake.release();
      await notice.waitFor({ state: "detached", timeout: 15_000 });
      await composer.press("Enter");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Third");
    });
  });

  test("edit sends the message in a new thread", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await sendMessage(page, "Plan a trip to Rome");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Plan a trip to Rome");
      const romeTitle = await waitForOpenThreadTitle(page);
      const threadCount = await threads.getByRole("listitem").count();

      // The editor starts with the message's text.
      await messages.nth(0).getByRole("button", { name: "Edit" }).click();
      const editor = messages.nth(0).getByRole("textbox", { name: "Edit your message" });
      assert.equal(await editor.inputValue(), "Plan a trip to Rome");
      await editor.fill("Plan a trip to Naples");
      await suite.screenshot("editing.png");
      await messages.nth(0).getByRole("button", { name: "Save and send" }).click();

      // The page moves to the new thread, which the reply streams into.
      await expectText(messages.nth(0).locator(".message-content"), "Plan a trip to Naples");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Plan a trip to Naples");
      assert.equal(await messages.count(), 2);
      await waitUntil("the new thread is listed", async () => (await threads.getByRole("listitem").count()) === threadCount + 1);
      assert.notEqual(await waitForOpenThreadTitle(page), romeTitle);

      // The old thread stays as it was.
      await threads.getByRole("button", { name: romeTitle }).click();
      await expectText(messages.nth(0).locator(".message-content"), "Plan a trip to Rome");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Plan a trip to Rome");
    });
  });

  test("left-out messages show a note", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      // A context of 1,024 tokens cannot take two exchanges of messages of
      // about 1,500 characters each, by Hearth's estimate of four characters
      // per token.
      await saveSettingsThroughApi(page, { contextLength: 1024 });
      /** @param {string} label */
      const long = (label) => `${label}: ${"many words about the weather ".repeat(52)}`.trim();
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await sendMessage(page, long("First"));
      await expectText(messages.nth(1).locator(".message-content"), /^You said: First:/);
      assert.equal(await messages.nth(1).locator(".context-note").count(), 0, "the first reply has a note");
      await waitForOpenThreadTitle(page);

      await sendMessage(page, long("Second"));
      await expectText(messages.nth(3).locator(".message-content"), /^You said: Second:/);
      const note = messages.nth(3).locator(".context-note");
      await expectText(note, /^\d+ earlier messages? (was|were) left out to fit the model's context\.$/);

      // The stored reply keeps the note.
      await page.reload();
      await waitForWorkspace(page, name);
      await expectText(note, /^\d+ earlier messages? (was|were) left out to fit the model's context\.$/);
      await saveSettingsThroughApi(page, { contextLength: 0 });
    });
  });
});
