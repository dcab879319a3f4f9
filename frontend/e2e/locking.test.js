// @ts-check
// A profile that locks while its page is open: after Hearth restarts, the
// unlock prompt appears over the workspace, and unlocking continues where the
// user was, with the open thread and the composer's draft.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  sendMessage,
  signInThroughPicker,
  startSuite,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Barbara";
const password = "liskov-substitution";

describe("locking", { timeout: 180_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("locking");
  });

  after(async () => {
    await suite?.close();
  });

  test("reload after restart asks to unlock", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await createProfileThroughApi(suite.hearth.url, name, password);
      await page.goto(suite.hearth.url);
      await signInThroughPicker(page, name, password);

      // Two threads, so that the open one is not simply the only one.
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      await threads.getByRole("button", { name: "New chat" }).click();
      await log.waitFor();
      await sendMessage(page, "First thread");
      await expectText(messages.nth(1).locator(".message-content"), "You said: First thread");
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await messages.count()) === 0);
      await sendMessage(page, "Second thread");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Second thread");

      await suite.restartHearth();
      await page.reload();

      // The prompt covers the workspace of the same profile, and Escape does
      // not dismiss it.
      const unlock = page.getByRole("dialog", { name: "Hearth is locked" });
      await unlock.waitFor();
      await unlock.getByText(`The profile ${name} is locked`).waitFor();
      assert.notEqual(await page.locator(".workspace").getAttribute("inert"), null, "the workspace is not inert");
      await page.keyboard.press("Escape");
      await page.keyboard.press("Escape");
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
      assert.equal(await unlock.isVisible(), true, "Escape closed the unlock prompt");
      await suite.screenshot("unlock-prompt.png");

      // A wrong password is rejected and the prompt stays.
      const passwordField = unlock.getByLabel("Password", { exact: true });
      await passwordField.fill("not-the-password");
      await unlock.getByRole("button", { name: "Unlock" }).click();
      await unlock.getByRole("alert").getByText(/password is wrong/).waitFor();

      await passwordField.fill(password);
      await unlock.getByRole("button", { name: "Unlock" }).click();
      await unlock.waitFor({ state: "detached" });
      await waitForWorkspace(page, name);

      // The most recently updated thread opens with its messages.
      await expectText(messages.nth(0).locator(".message-content"), "Second thread");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Second thread");
      assert.equal(await threads.getByRole("listitem").count(), 2);
    });
  });

  test("locked send keeps thread and draft", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      const composer = page.getByRole("textbox", { name: "Message" });

      // Open the older thread, so that the thread kept is not the default one.
      await threads.locator(".thread-button").nth(1).click();
      await expectText(messages.nth(0).locator(".message-content"), "First thread");

      // Hearth restarts behind the page's back, so the profile locks.
      await suite.restartHearth();
      await sendMessage(page, "Sent while locked");

      const unlock = page.getByRole("dialog", { name: "Hearth is locked" });
      await unlock.waitFor();
      await waitUntil("the rejected message is back in the composer", async () =>
        (await composer.inputValue()) === "Sent while locked" ? true : await composer.inputValue(),
      );
      await waitUntil("the rejected message left the thread", async () => (await messages.count()) === 2);

      await unlock.getByLabel("Password", { exact: true }).fill(password);
      await unlock.getByRole("button", { name: "Unlock" }).click();
      await unlock.waitFor({ state: "detached" });

      // The same thread is open, reloaded, with the draft still in the
      // composer, which has the focus again.
      await expectText(messages.nth(0).locator(".message-content"), "First thread");
      assert.equal(await composer.inputValue(), "Sent while locked");
      await waitUntil("the composer has the focus", () =>
        composer.evaluate((element) => element === document.activeElement),
      );
      // Hearth titles each thread after its first words, so the open thread's
      // title names the first one.
      await expectText(threads.locator('[aria-current="page"] .thread-title'), /First thread/);

      // Sending it now works.
      await composer.press("Enter");
      await expectText(messages.nth(2).locator(".message-content"), "Sent while locked");
      await expectText(messages.nth(3).locator(".message-content"), "You said: Sent while locked");
    });
  });

  test("switch profile from the unlock prompt", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await suite.restartHearth();
      await page.reload();

      const unlock = page.getByRole("dialog", { name: "Hearth is locked" });
      await unlock.getByRole("button", { name: "Switch profile" }).click();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();

      // The switch signed out, so a reload no longer finds the locked session.
      await page.reload();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
    });
  });
});
