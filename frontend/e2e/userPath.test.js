// @ts-check
// The whole path of a new user: first run with its recovery key, a streamed
// reply, a stopped reply, and the same chats after Hearth restarts.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  expectText,
  isTitleRequest,
  recoveryKeyPattern,
  sendMessage,
  startSuite,
  testModel,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Ada";
const password = "correct horse battery";

describe("user path", { timeout: 120_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("user-path");
  });

  after(async () => {
    await suite?.close();
  });

  test("first run, streamed reply and restart", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);

      // First run: create the administrator profile. The strength hint
      // follows the password as it is typed.
      await page.goto(suite.hearth.url);
      await page.getByRole("heading", { name: "Create your profile" }).waitFor();
      await page.getByText(/first profile is the administrator/).waitFor();
      await page.getByLabel("Name").fill(name);
      const passwordField = page.getByLabel("Password", { exact: true });
      await passwordField.fill("abc");
      await page.getByText("Too short: 3 of at least 8 characters.").waitFor();
      await passwordField.fill(password);
      await page.getByText("Strong.").waitFor();
      assert.match(await passwordField.getAttribute("aria-describedby") ?? "", /password-hint/);
      await page.getByLabel("Confirm password").fill(password);
      await page.getByRole("button", { name: "Create profile" }).click();

      // The recovery key is shown once, and Continue waits for the checkbox.
      await page.getByRole("heading", { name: "Save your recovery key" }).waitFor();
      const key = (await page.locator(".recovery-key").innerText()).trim();
      assert.match(key, recoveryKeyPattern);
      await page.getByText(/lose both your password and this recovery key/).waitFor();
      const continueButton = page.getByRole("button", { name: "Continue" });
      assert.equal(await continueButton.isDisabled(), true, "Continue is enabled before the checkbox is ticked");
      assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0, "signed in before Continue");

      // Copy puts the key on the clipboard, as the server grouped it.
      await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: suite.hearth.url });
      await page.getByRole("button", { name: "Copy" }).click();
      await page.getByText("The recovery key was copied to the clipboard.").waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
      await suite.screenshot("recovery-key.png");

      await page.getByRole("checkbox", { name: "I have saved my recovery key" }).check();
      await continueButton.click();
      await waitForWorkspace(page, name);

      // A new thread opens with an empty message list.
      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      await threads.getByRole("button", { name: /New Conversation/ }).waitFor();
      const log = page.getByRole("log", { name: "Messages" });
      await log.waitFor();

      // The fake sends the first chunk, then waits for release() to send the rest.
      await fake.queueReply({ chunks: ["Hel", "lo ", "world"], delayMs: 0, holdAfter: 1 });
      await sendMessage(page, "Hello there");

      const messages = log.getByRole("article");
      await expectText(messages.nth(0).locator(".message-content"), "Hello there");
      const reply = messages.nth(1).locator(".message-content");
      await expectText(reply, "Hel");
      assert.equal(await log.innerText().then((text) => text.includes("world")), false, "the held chunk is shown");
      await page.getByRole("button", { name: "Stop" }).waitFor();
      assert.equal(await page.getByRole("textbox", { name: "Message" }).isDisabled(), true, "composer enabled while streaming");

      // Released, the reply completes and the composer comes back.
      await fake.release();
      await expectText(reply, "Hello world");
      await page.getByRole("button", { name: "Stop" }).waitFor({ state: "detached" });
      await waitUntil("the composer is enabled", () => page.getByRole("textbox", { name: "Message" }).isEnabled());
      assert.equal(await messages.count(), 2);
      await suite.screenshot("chat.png");

      // Hearth received the message for the configured model. The request
      // for a title, which Hearth sends in the background, is left out.
      const requests = (await fake.chatRequests()).filter((request) => !isTitleRequest(request));
      assert.equal(requests.length, 1);
      const [request] = requests;
      assert.ok(request !== undefined);
      assert.match(request.model, new RegExp(`^${testModel}(:latest)?$`));
      assert.equal(request.messages.at(-1)?.content, "Hello there");

      // After a restart on the same data, the session cookie is still valid
      // but the profile is locked. Unlocking brings back the thread and both
      // messages.
      await suite.restartHearth();
      await page.reload();
      const unlock = page.getByRole("dialog", { name: "Hearth is locked" });
      await unlock.waitFor();
      await unlock.getByLabel("Password", { exact: true }).fill(password);
      await unlock.getByRole("button", { name: "Unlock" }).click();
      await unlock.waitFor({ state: "detached" });
      const thread = threads.locator(".thread-button");
      await thread.waitFor();
      assert.equal(await threads.getByRole("listitem").count(), 1);
      await thread.click();
      await expectText(messages.nth(0).locator(".message-content"), "Hello there");
      await expectText(messages.nth(1).locator(".message-content"), "Hello world");
      assert.equal(await messages.count(), 2);
      assert.equal(await log.getByText("Stopped").count(), 0, "a complete reply is marked as stopped");
    });
  });

  test("stop keeps the partial reply", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);

      // Shift+Enter starts a new line and Enter sends.
      await fake.queueReply({ chunks: ["Once ", "upon ", "a time"], holdAfter: 1 });
      const composer = page.getByRole("textbox", { name: "Message" });
      await composer.fill("Tell me");
      await composer.press("Shift+Enter");
      await composer.pressSequentially("a story");
      assert.equal(await composer.inputValue(), "Tell me\na story");
      assert.equal(await messages.count(), 0, "Shift+Enter sent the message");
      await composer.press("Enter");
      await expectText(messages.nth(0).locator(".message-content"), "Tell me\na story");
      await expectText(messages.nth(1).locator(".message-content"), "Once");
      await page.getByRole("button", { name: "Stop" }).click();

      await messages.nth(1).getByText("Stopped").waitFor();
      await waitUntil("the composer is enabled", () => page.getByRole("textbox", { name: "Message" }).isEnabled());
      await fake.release();

      // The server stored the partial reply as incomplete. The stopped chat
      // is the most recently updated one, so it opens after the reload, which
      // keeps the profile signed in.
      await page.reload();
      await waitForWorkspace(page, name);
      await expectText(messages.nth(0).locator(".message-content"), "Tell me\na story");
      await expectText(messages.nth(1).locator(".message-content"), "Once");
      await messages.nth(1).getByText("Stopped").waitFor();
      assert.equal(await threads.getByRole("listitem").count(), 2);
    });
  });
});
