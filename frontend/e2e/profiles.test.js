// @ts-check
// Profile management in the Profiles dialog and the Delete my profile dialog.
// An administrator adds a profile and passes on its recovery key. The new
// user chats in a second browser, apart from the administrator's chats.
// Roles change, the last administrator stays, and profiles are deleted by an
// administrator and by their owner.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  inputDescription,
  loginThroughApi,
  profilesThroughApi,
  recoveryKeyPattern,
  sendMessage,
  signInThroughPicker,
  startSuite,
  unlabelledControls,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const admin = { name: "Ada", password: "analytical-engine-1843" };
const user = { name: "Bob", password: "difference engine two" };
// A name that ends in a letter outside ASCII, which the picker must still find.
const selfDeleter = { name: "Zoë", password: "needle-of-cleopatra" };

const lastAdminSentence = "This is the last administrator. Make another profile an administrator first.";

describe("profiles", { timeout: 240_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;
  /** The second browser, where the user signs in. @type {import("playwright-core").Page} */
  let userPage;

  before(async () => {
    suite = await startSuite("profiles");
    userPage = await suite.openBrowser("user");
  });

  after(async () => {
    await suite?.close();
  });

  /**
   * Returns the row of the profiles table whose row header starts with name.
   *
   * @param {import("playwright-core").Locator} dialog
   * @param {string} name
   */
  function profileRow(dialog, name) {
    return dialog
      .getByRole("row")
      .filter({ has: dialog.page().getByRole("rowheader", { name: new RegExp(`^${name}\\b`) }) });
  }

  /**
   * Opens the Profiles dialog from the workspace header and waits for the table.
   *
   * @param {import("playwright-core").Page} page
   */
  async function openProfilesDialog(page) {
    await page.getByRole("banner").getByRole("button", { name: "Profiles" }).click();
    const dialog = page.getByRole("dialog", { name: "Profiles" });
    await dialog.getByRole("table").waitFor();
    return dialog;
  }

  /**
   * Fails with the list of controls that have no accessible name.
   *
   * @param {import("playwright-core").Page} page
   * @param {string} where  The screen being checked, for the failure message.
   */
  async function assertControlsLabelled(page, where) {
    assert.deepEqual(await unlabelledControls(page), [], `controls without an accessible name on ${where}`);
  }

  /**
   * Describes the focused element as "TAG: TEXT", or "input: LABEL" for an input.
   *
   * @param {import("playwright-core").Page} page
   * @returns {Promise<string>}
   */
  async function focusedElement(page) {
    return page.evaluate(() => {
      const element = document.activeElement;
      if (element === null) {
        return "";
      }
      if (element instanceof HTMLInputElement) {
        return `input: ${element.labels?.[0]?.textContent?.trim() ?? ""}`;
      }
      return `${element.tagName.toLowerCase()}: ${element.textContent?.trim() ?? ""}`;
    });
  }

  /**
   * Returns the ids of the threads that GET /api/threads lists for a token.
   *
   * @param {string} token
   * @returns {Promise<string[]>}
   */
  async function threadIds(token) {
    const response = await fetch(`${suite.hearth.url}/api/threads`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 200, `GET /api/threads answered ${response.status}`);
    const threads = /** @type {Array<{ id: string }>} */ (await response.json());
    return threads.map((thread) => thread.id);
  }

  /**
   * Returns the status of GET /api/threads/{threadId} for a token.
   *
   * @param {string} token
   * @param {string} threadId
   */
  async function threadStatus(token, threadId) {
    const response = await fetch(`${suite.hearth.url}/api/threads/${threadId}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    await response.body?.cancel();
    return response.status;
  }

  /**
   * Returns the role that GET /api/auth/profiles lists for name.
   *
   * @param {string} name
   */
  async function roleThroughApi(name) {
    const profile = (await profilesThroughApi(suite.hearth.url)).find((candidate) => candidate.name === name);
    assert.ok(profile !== undefined, `no profile named ${name}`);
    return profile.role;
  }

  /**
   * Signs out of the workspace on page, waits for the picker tile whose
   * accessible name is exactly tileName, and signs in again.
   *
   * @param {import("playwright-core").Page} page
   * @param {{ name: string, password: string }} person
   * @param {string} tileName  Such as "Bob", or "Bob Administrator" for an administrator.
   */
  async function signOutAndSignIn(page, person, tileName) {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("list", { name: "Profiles" }).getByRole("button", { name: tileName, exact: true }).waitFor();
    await signInThroughPicker(page, person.name, person.password);
  }

  /** Signs in as the administrator through the API and returns the bearer token. */
  async function signInAsAdminThroughApi() {
    const session = await loginThroughApi(suite.hearth.url, admin.name, admin.password);
    assert.equal(session.status, 200, `signing in as ${admin.name} answered ${session.status}`);
    assert.ok(session.token !== null);
    return session.token;
  }

  test("check finds an unlabelled control", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      // The accessibility check must be able to fail: a button with no text
      // and no label is reported.
      const { page } = suite;
      await page.goto(suite.hearth.url);
      await page.evaluate(() => {
        const button = document.createElement("button");
        button.id = "unlabelled-probe";
        document.body.append(button);
      });
      const found = await unlabelledControls(page);
      assert.equal(found.length, 1, `found ${JSON.stringify(found)}`);
      assert.match(found[0] ?? "", /unlabelled-probe/);
    });
  });

  test("admin adds a profile by keyboard", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await createProfileThroughApi(suite.hearth.url, admin.name, admin.password);
      await page.goto(suite.hearth.url);
      await signInThroughPicker(page, admin.name, admin.password);
      await assertControlsLabelled(page, "the administrator's workspace");

      // The Profiles button opens the dialog from the keyboard, with the
      // focus inside it.
      const profilesButton = page.getByRole("banner").getByRole("button", { name: "Profiles" });
      await profilesButton.focus();
      await page.keyboard.press("Enter");
      const dialog = page.getByRole("dialog", { name: "Profiles" });
      await dialog.getByRole("table").waitFor();
      assert.equal(await focusedElement(page), "button: Add profile");

      // The table lists the administrator, marked as the signed-in profile,
      // who has a role button but no Delete button.
      assert.equal(await dialog.getByRole("rowheader").count(), 1);
      const adminRow = profileRow(dialog, admin.name);
      await expectText(adminRow.getByRole("rowheader"), `${admin.name} (you)`);
      await adminRow.getByRole("cell", { name: "Administrator" }).waitFor();
      await adminRow.getByRole("button", { name: "Make user" }).waitFor();
      assert.equal(await adminRow.getByRole("button", { name: "Delete" }).count(), 0, "own profile has Delete");
      await assertControlsLabelled(page, "the profiles table");

      // Enter on Add profile opens the form with the focus in Name. An
      // empty form is rejected next to the name, and the focus stays there.
      await page.keyboard.press("Enter");
      await dialog.getByRole("heading", { name: "Add a profile" }).waitFor();
      assert.equal(await focusedElement(page), "input: Name");
      await assertControlsLabelled(page, "the add profile form");
      await page.keyboard.press("Enter");
      const nameField = dialog.getByLabel("Name");
      await waitUntil("the name field shows its error", async () => {
        const text = await inputDescription(nameField);
        return text === "Enter a name for the profile." || text;
      });
      assert.equal(await nameField.getAttribute("aria-invalid"), "true");

      // A taken name: the server's 409 sentence appears next to the name.
      await page.keyboard.type(admin.name);
      await page.keyboard.press("Tab");
      assert.equal(await focusedElement(page), "input: Password");
      await page.keyboard.type("short");
      await dialog.getByText("Too short: 5 of at least 8 characters.").waitFor();
      await page.keyboard.press("Control+A");
      await page.keyboard.type(user.password);
      await dialog.getByText("Strong.").waitFor();
      await page.keyboard.press("Tab");
      assert.equal(await focusedElement(page), "input: Confirm password");
      await page.keyboard.type(user.password);
      await page.keyboard.press("Enter");
      await waitUntil("the name field shows the server's error", async () => {
        const text = await inputDescription(nameField);
        return text === "A profile with this name already exists. Choose another name." || text;
      });
      assert.equal(await focusedElement(page), "input: Name");

      // The right name shows the recovery key, addressed to the administrator.
      await nameField.fill(user.name);
      await page.keyboard.press("Enter");
      await dialog.getByRole("heading", { name: `Recovery key for ${user.name}` }).waitFor();
      assert.equal(await focusedElement(page), `h3: Recovery key for ${user.name}`);
      await dialog.getByText(`Give this recovery key to ${user.name}.`, { exact: false }).waitFor();
      await dialog
        .getByText("Whoever loses both the password and this recovery key loses the data of this profile for good", {
          exact: false,
        })
        .waitFor();
      const key = (await dialog.locator(".recovery-key").innerText()).trim();
      assert.match(key, recoveryKeyPattern);
      const done = dialog.getByRole("button", { name: "Done" });
      assert.equal(await done.isDisabled(), true, "Done is enabled before the checkbox is ticked");
      await assertControlsLabelled(page, "the new profile's recovery key");
      await suite.screenshot("recovery-key.png");

      // Escape does not throw the key away.
      await page.keyboard.press("Escape");
      assert.equal(await dialog.isVisible(), true, "Escape closed the dialog with the key on screen");

      // Tab reaches Copy, then the checkbox, then Done.
      await page.keyboard.press("Tab");
      assert.equal(await focusedElement(page), "button: Copy");
      await page.keyboard.press("Tab");
      assert.equal(await focusedElement(page), `input: I have saved this recovery key for ${user.name}`);
      await page.keyboard.press("Space");
      await page.keyboard.press("Tab");
      assert.equal(await focusedElement(page), "button: Done");
      await page.keyboard.press("Enter");

      // Back at the refreshed table, with the new user.
      await dialog
        .getByRole("status")
        .getByText(`The profile ${user.name} was added.`, { exact: false })
        .waitFor();
      const userRow = profileRow(dialog, user.name);
      await userRow.getByRole("cell", { name: "User" }).waitFor();
      await userRow.getByRole("button", { name: "Make administrator" }).waitFor();
      await userRow.getByRole("button", { name: "Delete" }).waitFor();
      await suite.screenshot("profiles.png");

      // Escape closes the dialog and gives the focus back to Profiles.
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      assert.equal(await focusedElement(page), "button: Profiles");

      // The key that was shown is the profile's real recovery key: it sets
      // a password (the same one again) for the new profile.
      const recovered = await fetch(`${suite.hearth.url}/api/auth/recover`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: user.name, recoveryKey: key, newPassword: user.password }),
      });
      await recovered.body?.cancel();
      assert.equal(recovered.status, 200, "the recovery key shown does not work");
      assert.deepEqual(
        (await profilesThroughApi(suite.hearth.url)).map(({ name, role }) => ({ name, role })),
        [
          { name: admin.name, role: "admin" },
          { name: user.name, role: "user" },
        ],
      );
    });
  });

  test("user chats apart from the admin", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const log = page.getByRole("log", { name: "Messages" });

      // The administrator writes in a chat of their own.
      await page.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
      await log.waitFor();
      await sendMessage(page, "The administrator's secret plan");
      await expectText(log.getByRole("article").nth(1).locator(".message-content"), "You said: The administrator's secret plan");

      // The user signs in in the other browser, whose page shows no Profiles
      // button and none of the administrator's chats.
      await userPage.goto(suite.hearth.url);
      await signInThroughPicker(userPage, user.name, user.password);
      await waitForWorkspace(userPage, user.name);
      const userHeader = userPage.getByRole("banner");
      await userHeader.getByRole("button", { name: "Delete my profile" }).waitFor();
      assert.equal(await userHeader.getByRole("button", { name: "Profiles" }).count(), 0, "a user has the Profiles button");
      const userThreads = userPage.getByRole("navigation", { name: "Chats" });
      await userThreads.getByText("No chats yet.").waitFor();
      await assertControlsLabelled(userPage, "the user's workspace");

      const userLog = userPage.getByRole("log", { name: "Messages" });
      await userThreads.getByRole("button", { name: "New chat" }).click();
      await userLog.waitFor();
      await sendMessage(userPage, "The user's own question");
      await expectText(userLog.getByRole("article").nth(1).locator(".message-content"), "You said: The user's own question");
      assert.equal(await userThreads.getByRole("listitem").count(), 1);
      assert.equal(await userLog.innerText().then((text) => text.includes("secret plan")), false);

      // After a reload the administrator still has only their own chat.
      await page.reload();
      await waitForWorkspace(page, admin.name);
      const adminThreads = page.getByRole("navigation", { name: "Chats" });
      await adminThreads.getByRole("listitem").first().waitFor();
      assert.equal(await adminThreads.getByRole("listitem").count(), 1);
      await expectText(log.getByRole("article").nth(0).locator(".message-content"), "The administrator's secret plan");
      assert.equal(await log.innerText().then((text) => text.includes("own question")), false);

      // On the server too, neither profile lists or opens the other's thread.
      const adminToken = await signInAsAdminThroughApi();
      const userSession = await loginThroughApi(suite.hearth.url, user.name, user.password);
      assert.ok(userSession.token !== null);
      const adminThreadIds = await threadIds(adminToken);
      const userThreadIds = await threadIds(userSession.token);
      assert.equal(adminThreadIds.length, 1);
      assert.equal(userThreadIds.length, 1);
      assert.equal(await threadStatus(userSession.token, adminThreadIds[0] ?? ""), 404);
      assert.equal(await threadStatus(adminToken, userThreadIds[0] ?? ""), 404);
    });
  });

  test("admin promotes then demotes the user", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const dialog = await openProfilesDialog(page);
      const userRow = profileRow(dialog, user.name);

      await userRow.getByRole("button", { name: "Make administrator" }).click();
      await dialog.getByRole("status").getByText(`${user.name} is now an administrator.`).waitFor();
      await userRow.getByRole("cell", { name: "Administrator" }).waitFor();
      assert.equal(await roleThroughApi(user.name), "admin");

      // After signing in again, the picker marks the user as an
      // administrator and the workspace has the Profiles button.
      await signOutAndSignIn(userPage, user, `${user.name} Administrator`);
      await userPage.getByRole("banner").getByRole("button", { name: "Profiles" }).waitFor();

      await userRow.getByRole("button", { name: "Make user" }).click();
      await dialog.getByRole("status").getByText(`${user.name} is now a user.`).waitFor();
      await userRow.getByRole("cell", { name: "User" }).waitFor();
      assert.equal(await roleThroughApi(user.name), "user");
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });

      // The user's page still shows the role of its sign-in, but the server
      // rejects what an administrator may do, with its sentence.
      const staleDialog = await openProfilesDialog(userPage);
      await profileRow(staleDialog, user.name).getByRole("button", { name: "Make administrator" }).click();
      await staleDialog.getByRole("alert").getByText("Only an administrator can do this.").waitFor();
      assert.equal(await roleThroughApi(user.name), "user");
      await staleDialog.getByRole("button", { name: "Close" }).click();
      await staleDialog.waitFor({ state: "detached" });

      // The demoted user loses the button at the next sign-in.
      await signOutAndSignIn(userPage, user, user.name);
      await userPage.getByRole("banner").getByRole("button", { name: "Delete my profile" }).waitFor();
      assert.equal(await userPage.getByRole("banner").getByRole("button", { name: "Profiles" }).count(), 0);
    });
  });

  test("admin demotes themselves", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const dialog = await openProfilesDialog(page);
      await profileRow(dialog, user.name).getByRole("button", { name: "Make administrator" }).click();
      await dialog.getByRole("status").getByText(`${user.name} is now an administrator.`).waitFor();
      await dialog.getByRole("button", { name: "Close" }).click();
      await signOutAndSignIn(userPage, user, `${user.name} Administrator`);

      // With another administrator left, the user may demote themselves.
      // The dialog closes and the Profiles button goes at once.
      const ownDialog = await openProfilesDialog(userPage);
      const ownRow = profileRow(ownDialog, user.name);
      await expectText(ownRow.getByRole("rowheader"), `${user.name} (you)`);
      await ownRow.getByRole("button", { name: "Make user" }).click();
      await ownDialog.waitFor({ state: "detached" });
      const userHeader = userPage.getByRole("banner");
      await waitUntil(
        "the Profiles button is gone",
        async () => (await userHeader.getByRole("button", { name: "Profiles" }).count()) === 0,
      );
      assert.equal(await roleThroughApi(user.name), "user");
      assert.equal(await roleThroughApi(admin.name), "admin");
    });
  });

  test("last admin stays an admin", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;

      // Demoting oneself as the only administrator shows the server's sentence.
      const dialog = await openProfilesDialog(page);
      const adminRow = profileRow(dialog, admin.name);
      await adminRow.getByRole("button", { name: "Make user" }).click();
      await dialog.getByRole("alert").getByText(lastAdminSentence).waitFor();
      await adminRow.getByRole("cell", { name: "Administrator" }).waitFor();
      assert.equal(await roleThroughApi(admin.name), "admin");
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });

      // Deleting one's own profile shows the same sentence, even with the
      // right password.
      await page.getByRole("banner").getByRole("button", { name: "Delete my profile" }).click();
      const deleteDialog = page.getByRole("dialog", { name: "Delete my profile" });
      await deleteDialog.getByLabel("Your password").fill(admin.password);
      await deleteDialog.getByRole("button", { name: "Delete my profile" }).click();
      await deleteDialog.getByRole("alert").getByText(lastAdminSentence).waitFor();
      await deleteDialog.getByRole("button", { name: "Cancel" }).click();
      await deleteDialog.waitFor({ state: "detached" });
      await waitForWorkspace(page, admin.name);
      assert.equal((await loginThroughApi(suite.hearth.url, admin.name, admin.password)).status, 200);
    });
  });

  test("admin deletes the user", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const userSession = await loginThroughApi(suite.hearth.url, user.name, user.password);
      assert.ok(userSession.token !== null);

      const dialog = await openProfilesDialog(page);
      const userRow = profileRow(dialog, user.name);

      // The confirmation names the profile and warns that its chats go for
      // good. Cancel has the focus and deletes nothing.
      await userRow.getByRole("button", { name: "Delete" }).click();
      await dialog.getByRole("heading", { name: `Delete ${user.name}?` }).waitFor();
      await dialog.getByText("erases all of its conversations. They cannot be recovered", { exact: false }).waitFor();
      assert.equal(await focusedElement(page), "button: Cancel");
      await assertControlsLabelled(page, "the delete confirmation");
      await suite.screenshot("delete-confirmation.png");
      await page.keyboard.press("Enter");
      await userRow.waitFor();
      assert.equal((await profilesThroughApi(suite.hearth.url)).length, 2, "Cancel deleted the profile");

      await userRow.getByRole("button", { name: "Delete" }).click();
      await dialog.getByRole("button", { name: `Delete ${user.name}` }).click();
      await dialog
        .getByRole("status")
        .getByText(`The profile ${user.name} and its conversations were deleted.`)
        .waitFor();
      await userRow.waitFor({ state: "detached" });
      assert.equal(await dialog.getByRole("rowheader").count(), 1);
      assert.deepEqual(
        (await profilesThroughApi(suite.hearth.url)).map((p) => p.name),
        [admin.name],
      );

      // The user's browser returns to the picker at its next request, and
      // the picker no longer offers the deleted profile.
      await userPage.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
      await userPage.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      await userPage.getByRole("status").getByText("Your session has ended.", { exact: false }).waitFor();
      assert.equal(await userPage.getByRole("button", { name: user.name, exact: true }).count(), 0);

      // The profile's sessions and password no longer work.
      const afterDeletion = await fetch(`${suite.hearth.url}/api/threads`, {
        headers: { Authorization: `Bearer ${userSession.token}` },
      });
      await afterDeletion.body?.cancel();
      assert.equal(afterDeletion.status, 401, "the deleted profile's token still works");
      assert.equal((await loginThroughApi(suite.hearth.url, user.name, user.password)).status, 401);

      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });
    });
  });

  test("user deletes their own profile", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const adminToken = await signInAsAdminThroughApi();
      await createProfileThroughApi(suite.hearth.url, selfDeleter.name, selfDeleter.password, adminToken);

      // The picker lists the new profile after a reload.
      await userPage.reload();
      await signInThroughPicker(userPage, selfDeleter.name, selfDeleter.password);
      const userLog = userPage.getByRole("log", { name: "Messages" });
      await userPage.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
      await userLog.waitFor();
      await sendMessage(userPage, "Soon gone");
      await expectText(userLog.getByRole("article").nth(1).locator(".message-content"), "You said: Soon gone");

      await userPage.getByRole("banner").getByRole("button", { name: "Delete my profile" }).click();
      const dialog = userPage.getByRole("dialog", { name: "Delete my profile" });
      await dialog.waitFor();
      await dialog.getByText(`This deletes your profile ${selfDeleter.name} and erases all of its conversations.`, { exact: false }).waitFor();
      await assertControlsLabelled(userPage, "the delete-my-profile dialog");
      const passwordField = dialog.getByLabel("Your password");
      assert.equal(await focusedElement(userPage), "input: Your password");

      // An empty password shows an error under the field.
      await dialog.getByRole("button", { name: "Delete my profile" }).click();
      await waitUntil("the password field shows its error", async () => {
        const text = await inputDescription(passwordField);
        return text === "Enter your password to confirm." || text;
      });

      // A wrong password is rejected next to the field, and the field is cleared.
      await passwordField.fill("not-the-password");
      await dialog.getByRole("button", { name: "Delete my profile" }).click();
      await waitUntil("the password field shows the server's error", async () => {
        const text = await inputDescription(passwordField);
        return /password is wrong/.test(text) || text;
      });
      assert.equal(await passwordField.getAttribute("aria-invalid"), "true");
      assert.equal(await passwordField.inputValue(), "");
      await suite.screenshot("delete-own-wrong-password.png", userPage);
      assert.equal((await loginThroughApi(suite.hearth.url, selfDeleter.name, selfDeleter.password)).status, 200);

      // The right password deletes the profile and returns to the picker.
      await passwordField.fill(selfDeleter.password);
      await dialog.getByRole("button", { name: "Delete my profile" }).click();
      await userPage.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      await userPage.getByRole("status").getByText("Your profile and its conversations were deleted.").waitFor();
      assert.equal(await userPage.getByRole("button", { name: selfDeleter.name, exact: true }).count(), 0);
      assert.deepEqual(
        (await profilesThroughApi(suite.hearth.url)).map((p) => p.name),
        [admin.name],
      );
      assert.equal((await loginThroughApi(suite.hearth.url, selfDeleter.name, selfDeleter.password)).status, 401);

      // The server cleared the session cookie, so a reload stays at the picker.
      const cookies = await userPage.context().cookies(`${suite.hearth.url}/api/threads`);
      assert.equal(cookies.some((cookie) => cookie.name === "hearth_session"), false, "the session cookie was kept");
      await userPage.reload();
      await userPage.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
    });
  });
});
