// @ts-check
// A new recovery key for the signed-in profile, from the Change password
// dialog: it needs the password, shows the new key once, prompts to confirm
// leaving the page while the key is unsaved, and the old key stops working.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  inputDescription,
  loginThroughApi,
  recoveryKeyPattern,
  signInThroughPicker,
  startSuite,
  tryToClose,
  unlabelledControls,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Katherine";
const password = "orbital-mechanics-1962";
const newPassword = "friendship-7-reentry";

describe("recovery key renewal", { timeout: 120_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("recovery-key");
  });

  after(async () => {
    await suite?.close();
  });

  /**
   * Sends POST /api/auth/recover and returns its status.
   *
   * @param {string} recoveryKey
   * @param {string} chosenPassword
   */
  async function recoverStatus(recoveryKey, chosenPassword) {
    const response = await fetch(`${suite.hearth.url}/api/auth/recover`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name, recoveryKey, newPassword: chosenPassword }),
    });
    await response.body?.cancel();
    return response.status;
  }

  /**
   * Dispatches a beforeunload event on the page and reports whether the page
   * cancelled it, which makes a browser prompt to confirm leaving.
   *
   * @param {import("playwright-core").Page} page
   */
  async function pageCancelsUnload(page) {
    return page.evaluate(() => {
      const event = new Event("beforeunload", { cancelable: true });
      window.dispatchEvent(event);
      return event.defaultPrevented;
    });
  }

  test("new key replaces the old one", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const oldKey = await createProfileThroughApi(suite.hearth.url, name, password);
      await page.goto(suite.hearth.url);
      await signInThroughPicker(page, name, password);

      // The Change password dialog offers the new key under its form.
      await page.getByRole("banner").getByRole("button", { name: "Change password" }).click();
      const passwordDialog = page.getByRole("dialog", { name: "Change password" });
      await passwordDialog.getByText("Lost your recovery key", { exact: false }).waitFor();
      await suite.screenshot("change-password.png");
      await passwordDialog.getByRole("button", { name: "New recovery key" }).click();

      const dialog = page.getByRole("dialog", { name: "New recovery key" });
      await dialog.getByText("which stops working at once", { exact: false }).waitFor();
      const passwordField = dialog.getByLabel("Your password");
      await waitUntil("the password field has the focus", () =>
        passwordField.evaluate((element) => element === document.activeElement),
      );
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name");
      const submit = dialog.getByRole("button", { name: "Create new recovery key" });

      // An empty password is caught on the page.
      await submit.click();
      await waitUntil("the password field shows its error", async () => {
        const text = await inputDescription(passwordField);
        return text === "Enter your password to create a new recovery key." || text;
      });

      // A wrong password is rejected under the field, which is cleared.
      await passwordField.fill("not-the-password");
      await submit.click();
      await waitUntil("the password field shows the server's error", async () => {
        const text = await inputDescription(passwordField);
        return /password is wrong/.test(text) || text;
      });
      assert.equal(await passwordField.getAttribute("aria-invalid"), "true");
      assert.equal(await passwordField.inputValue(), "");

      // The right password shows the new key once, with the notice that the
      // old one no longer works.
      await passwordField.fill(password);
      await submit.click();
      await dialog.getByRole("heading", { name: "Save your new recovery key" }).waitFor();
      await dialog.getByText("Your old recovery key no longer works.").waitFor();
      const key = (await dialog.locator(".recovery-key").innerText()).trim();
      assert.match(key, recoveryKeyPattern);
      assert.notEqual(key, oldKey);
      const done = dialog.getByRole("button", { name: "Done" });
      assert.equal(await done.isDisabled(), true, "Done is enabled before the checkbox is ticked");
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name on the key");
      await suite.screenshot("new-recovery-key.png");

      // Escape does not throw the key away.
      await page.keyboard.press("Escape");
      assert.equal(await dialog.isVisible(), true, "Escape closed the dialog with the key on screen");

      // Closing or reloading the tab would lose the key, so until the key is
      // saved the browser prompts to confirm leaving.
      assert.equal(await pageCancelsUnload(page), true, "the page does not ask before unloading");
      assert.equal(await tryToClose(page), "beforeunload");
      assert.equal(page.isClosed(), false);
      await expectText(dialog.locator(".recovery-key"), key);
      await dialog.getByRole("checkbox", { name: "I have saved my recovery key" }).check();
      assert.equal(await pageCancelsUnload(page), false, "the page still asks after the key was saved");

      await done.click();
      await dialog.waitFor({ state: "detached" });
      await waitForWorkspace(page, name);

      // The renewal kept this session.
      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      await threads.getByRole("button", { name: /New Conversation/ }).waitFor();

      // The old key no longer recovers the profile, and the new one does.
      assert.equal(await recoverStatus(oldKey, newPassword), 401, "the old recovery key still works");
      assert.equal(await recoverStatus(key, newPassword), 200, "the new recovery key does not work");
      assert.equal((await loginThroughApi(suite.hearth.url, name, newPassword)).status, 200);
    });
  });
});
