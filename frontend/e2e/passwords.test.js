// @ts-check
// Forgot password with the recovery key, which replaces the key and keeps the
// chats, and the password change, which signs out the profile's other
// sessions. Both forms show the server's rejections under the input at fault.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  inputDescription,
  loginThroughApi,
  recoveryKeyPattern,
  sendMessage,
  signInThroughPicker,
  startSuite,
  threadsStatus,
  tryToClose,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Alan";
const firstPassword = "enigma-1939";
const secondPassword = "bombe machine at bletchley";
const thirdPassword = "turing-test-1950";

// One byte more than the server accepts in a password (auth.MaxPasswordBytes),
// which the page does not check itself.
const tooLongPassword = "x".repeat(1025);

describe("passwords", { timeout: 180_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("passwords");
  });

  after(async () => {
    await suite?.close();
  });

  /**
   * Sends POST /api/auth/recover and returns its status.
   *
   * @param {string} recoveryKey
   * @param {string} newPassword
   */
  async function recoverStatus(recoveryKey, newPassword) {
    const response = await fetch(`${suite.hearth.url}/api/auth/recover`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, recoveryKey, newPassword }),
    });
    await response.body?.cancel();
    return response.status;
  }

  test("forgot password keeps the chats", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const oldKey = await createProfileThroughApi(suite.hearth.url, name, firstPassword);
      await page.goto(suite.hearth.url);
      await signInThroughPicker(page, name, firstPassword);

      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      await page.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
      await log.waitFor();
      await sendMessage(page, "Remember the milk");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Remember the milk");
      await page.getByRole("button", { name: "Sign out" }).click();

      // The recovery form, reached from the password form.
      await page.getByRole("button", { name: new RegExp(`^${name}`) }).click();
      await page.getByRole("button", { name: "Forgot password?" }).click();
      await page.getByRole("heading", { name: `Set a new password for ${name}` }).waitFor();
      await page.getByText("Afterwards this recovery key no longer works").waitFor();

      // A new password that the server rejects is shown under its field.
      const keyField = page.getByLabel("Recovery key");
      const newPasswordField = page.getByLabel("New password", { exact: true });
      await keyField.fill(oldKey);
      await newPasswordField.fill(tooLongPassword);
      await page.getByLabel("Confirm new password").fill(tooLongPassword);
      await page.getByRole("button", { name: "Set new password" }).click();
      await waitUntil("the new password field shows the server's error", async () => {
        const text = await inputDescription(newPasswordField);
        return /at most 1024/.test(text) || text;
      });
      assert.equal(await newPasswordField.getAttribute("aria-invalid"), "true");

      // A wrong key is rejected.
      await keyField.fill("0000-0000-0000-0000-0000-0000-0000-0000");
      await newPasswordField.fill(secondPassword);
      await page.getByLabel("Confirm new password").fill(secondPassword);
      await page.getByRole("button", { name: "Set new password" }).click();
      await page.getByRole("alert").getByText(/recovery key is wrong/).waitFor();
      assert.equal(await newPasswordField.getAttribute("aria-invalid"), "false");

      // The right key sets the password and shows a new key, once.
      await keyField.fill(oldKey);
      await page.getByRole("button", { name: "Set new password" }).click();
      await page.getByRole("heading", { name: "Save your new recovery key" }).waitFor();
      await page.getByText("Your old recovery key no longer works.").waitFor();
      const newKey = (await page.locator(".recovery-key").innerText()).trim();
      assert.match(newKey, recoveryKeyPattern);
      assert.notEqual(newKey, oldKey);
      const continueButton = page.getByRole("button", { name: "Continue" });
      assert.equal(await continueButton.isDisabled(), true, "Continue is enabled before the checkbox is ticked");
      await suite.screenshot("new-recovery-key.png");

      // Closing or reloading the tab would lose the key, so the browser
      // prompts to confirm leaving.
      assert.equal(await tryToClose(page), "beforeunload");
      assert.equal(page.isClosed(), false);
      await expectText(page.locator(".recovery-key"), newKey);
      await page.getByRole("checkbox", { name: "I have saved my recovery key" }).check();
      await continueButton.click();
      await waitForWorkspace(page, name);

      // The old messages are still readable.
      await expectText(messages.nth(0).locator(".message-content"), "Remember the milk");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Remember the milk");

      // The old key and the old password no longer work, but the new password does.
      assert.equal(await recoverStatus(oldKey, thirdPassword), 401, "the old recovery key still works");
      assert.equal((await loginThroughApi(suite.hearth.url, name, firstPassword)).status, 401, "the old password still works");
      assert.equal((await loginThroughApi(suite.hearth.url, name, secondPassword)).status, 200);
    });
  });

  test("change password signs out other sessions", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const other = await loginThroughApi(suite.hearth.url, name, secondPassword);
      assert.ok(other.token !== null);
      assert.equal((await threadsStatus(suite.hearth.url, { token: other.token })).status, 200);

      await page.getByRole("banner").getByRole("button", { name: "Change password" }).click();
      const dialog = page.getByRole("dialog", { name: "Change password" });
      await dialog.waitFor();
      const currentField = dialog.getByLabel("Current password");
      const newPasswordField = dialog.getByLabel("New password", { exact: true });

      // A new password equal to the current one is rejected under its field.
      await currentField.fill(secondPassword);
      await newPasswordField.fill(secondPassword);
      await dialog.getByLabel("Confirm new password").fill(secondPassword);
      await dialog.getByRole("button", { name: "Change password" }).click();
      await waitUntil("the new password field shows the server's error", async () => {
        const text = await inputDescription(newPasswordField);
        return /same|current/i.test(text) || text;
      });
      assert.equal(await newPasswordField.getAttribute("aria-invalid"), "true");
      assert.equal(await currentField.getAttribute("aria-invalid"), "false");

      // A wrong current password is rejected under its field, which is
      // cleared, and the page stays signed in.
      await currentField.fill("not-the-password");
      await newPasswordField.fill(thirdPassword);
      await dialog.getByLabel("Confirm new password").fill(thirdPassword);
      await dialog.getByRole("button", { name: "Change password" }).click();
      await waitUntil("the current password field shows the server's error", async () => {
        const text = await inputDescription(currentField);
        return /current password is wrong/.test(text) || text;
      });
      assert.equal(await currentField.inputValue(), "");
      assert.equal(await newPasswordField.getAttribute("aria-invalid"), "false");
      assert.equal(await page.getByText(`Signed in as ${name}`).isVisible(), true);

      await currentField.fill(secondPassword);
      await dialog.getByRole("button", { name: "Change password" }).click();
      await dialog.getByText(/Every other session of this profile was signed out/).waitFor();
      await suite.screenshot("password-changed.png");
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });

      // The other session ended, and this page continues with its new
      // session, in memory and in the cookie.
      assert.equal((await threadsStatus(suite.hearth.url, { token: other.token })).status, 401, "the other session still works");
      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      await page.getByRole("log", { name: "Messages" }).getByText("No messages yet.").waitFor();
      await page.reload();
      await waitForWorkspace(page, name);
      assert.equal(await threads.getByRole("listitem").count(), 2);
      assert.equal((await loginThroughApi(suite.hearth.url, name, thirdPassword)).status, 200);
    });
  });
});
