// @ts-check
// Two-step sign-in in the browser. The tests turn it on with a code computed
// from the key shown on the page, sign in with the password and a fresh
// code, and check that a wrong code is rejected. Then a backup code works
// only once, the unlock prompt has the code step too, and turning two-step
// sign-in off needs the password and a code.
//
// The codes come from the otpauth library, as an authenticator app would
// compute them (RFC 6238: SHA-1, 6 digits, 30 s). The server accepts a code
// of one step before or after the current one, but never a step at or before
// the last one used, so every code after enrolment is the next step's.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Secret, TOTP } from "otpauth";

import {
  expectText,
  inputDescription,
  seriousAxeViolations,
  startSuite,
  unlabelledControls,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Hedy";
const password = "frequency-hopping-1942";

/** Length of a TOTP step in milliseconds. */
const stepMs = 30_000;

/** The hint under the field of the first code, which its error comes before. */
const firstCodeHint = "Enter the code the app now shows for Hearth, to check that the app has the key.";

/** The display form of a backup code. */
const backupCodePattern = /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{2}$/i;

describe("two-step sign-in", { timeout: 240_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;
  /** @type {TOTP} */
  let authenticator;
  /** @type {string[]} */
  let backupCodes = [];

  before(async () => {
    suite = await startSuite("two-step");
  });

  after(async () => {
    await suite?.close();
  });

  /**
   * Returns the code that the authenticator shows the given number of 30 s
   * steps from now.
   *
   * @param {number} steps
   */
  function codeIn(steps) {
    return authenticator.generate({ timestamp: Date.now() + steps * stepMs });
  }

  /**
   * Returns a 6-digit code that differs from the codes of every step the
   * server accepts around now, so that the server rejects it.
   */
  function wrongCode() {
    const valid = new Set([-2, -1, 0, 1, 2].map(codeIn));
    for (let candidate = 0; ; candidate++) {
      const code = String(candidate).padStart(6, "0");
      if (!valid.has(code)) {
        return code;
      }
    }
  }

  /** Opens the Settings dialog and returns its Security section. */
  async function openSecurity() {
    const { page } = suite;
    await page.getByRole("banner").getByRole("button", { name: "Settings" }).click();
    const dialog = page.getByRole("dialog", { name: "Settings" });
    const security = dialog.getByRole("region", { name: "Security" });
    await security.locator(".security-status").waitFor();
    return { dialog, security };
  }

  /** Closes the Settings dialog with its Close button. */
  async function closeSettings() {
    const dialog = suite.page.getByRole("dialog", { name: "Settings" });
    await dialog.locator(".dialog-footer").getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "detached" });
  }

  /** Signs out and waits for the profile picker. */
  async function signOut() {
    const { page } = suite;
    await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
  }

  /**
   * Chooses the profile on the picker, sends the password, and returns the
   * response of POST /api/auth/login.
   */
  async function sendPassword() {
    const { page } = suite;
    await page.getByRole("button", { name: new RegExp(`^${name}\\b`) }).click();
    await page.getByLabel("Password", { exact: true }).fill(password);
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().endsWith("/api/auth/login")),
      page.getByRole("button", { name: "Sign in" }).click(),
    ]);
    assert.equal(response.status(), 200);
    return response;
  }

  /**
   * Enters code in the code step's field, presses Verify, and returns the
   * response of POST /api/auth/login/mfa.
   *
   * @param {import("playwright-core").Locator} field
   * @param {string} code
   */
  async function verify(field, code) {
    const { page } = suite;
    await field.fill(code);
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().endsWith("/api/auth/login/mfa")),
      page.getByRole("button", { name: "Verify" }).click(),
    ]);
    return response;
  }

  test("enrol and sign in with a code", { timeout: 90_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;

      // First run: the profile and its recovery key.
      await page.goto(suite.hearth.url);
      await page.getByRole("heading", { name: "Create your profile" }).waitFor();
      await page.getByLabel("Name").fill(name);
      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByLabel("Confirm password").fill(password);
      await page.getByRole("button", { name: "Create profile" }).click();
      await page.getByRole("checkbox", { name: "I have saved my recovery key" }).check();
      await page.getByRole("button", { name: "Continue" }).click();
      await waitForWorkspace(page, name);

      // Settings → Security starts off.
      const { dialog, security } = await openSecurity();
      await expectText(security.locator(".security-status"), "Two-step sign-in is off.");
      await security.getByRole("button", { name: "Turn on two-step sign-in" }).click();

      // The QR code is an image the page could decode, and the key is shown
      // in groups of four.
      const enrolHeading = security.getByRole("heading", { name: "Add Hearth to your authenticator app" });
      await enrolHeading.waitFor();
      const qr = security.getByRole("img", { name: "QR code that adds Hearth to an authenticator app" });
      assert.match((await qr.getAttribute("src")) ?? "", /^data:image\/png;base64,/);
      await waitUntil("the QR code is decoded", () =>
        qr.evaluate((image) => (image instanceof HTMLImageElement && image.naturalWidth > 0) || "not decoded"),
      );
      const groupedKey = (await security.locator(".totp-secret").innerText()).trim();
      assert.match(groupedKey, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/);
      authenticator = new TOTP({
        issuer: "Hearth",
        label: name,
        algorithm: "SHA1",
        digits: 6,
        period: stepMs / 1000,
        secret: Secret.fromBase32(groupedKey.replace(/ /g, "")),
      });

      // Copy puts the key on the clipboard without the spaces.
      await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: suite.hearth.url });
      await security.getByRole("button", { name: "Copy key" }).click();
      await security.getByText("The key was copied to the clipboard.").waitFor();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), groupedKey.replace(/ /g, ""));
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name while enrolling");
      await suite.screenshot("enrol.png");

      // A wrong first code leaves two-step sign-in off. Turning it on also
      // needs the password.
      await security.getByLabel("Your password").fill(password);
      const firstCode = security.getByLabel("Code from the app");
      await firstCode.fill(wrongCode());
      await security.getByRole("button", { name: "Turn on", exact: true }).click();
      await waitUntil("the first code is rejected", async () => (await firstCode.getAttribute("aria-invalid")) === "true");
      assert.notEqual(await inputDescription(firstCode), firstCodeHint, "no error under the first code field");
      assert.equal(await firstCode.inputValue(), "");
      assert.equal(await enrolHeading.isVisible(), true, "the enrolment closed after a wrong code");

      // The right code turns it on and shows the 10 backup codes once.
      await firstCode.fill(codeIn(0));
      await security.getByRole("button", { name: "Turn on", exact: true }).click();
      await security.getByRole("heading", { name: "Save your backup codes" }).waitFor();
      const codeItems = security.locator(".backup-codes li");
      backupCodes = (await codeItems.allInnerTexts()).map((code) => code.trim());
      assert.equal(backupCodes.length, 10);
      for (const code of backupCodes) {
        assert.match(code, backupCodePattern);
      }
      assert.equal(new Set(backupCodes).size, 10, "the backup codes repeat");
      const done = security.getByRole("button", { name: "Done" });
      assert.equal(await done.isDisabled(), true, "Done is enabled before the checkbox is ticked");
      await suite.screenshot("backup-codes.png");

      // Escape shows a confirmation before the dialog loses the unsaved codes.
      await page.keyboard.press("Escape");
      await dialog.getByText("Your backup codes are not saved").waitFor();
      await dialog.getByRole("button", { name: "Keep editing" }).click();
      assert.equal(await codeItems.count(), 10, "the codes went away after Keep editing");

      await security.getByRole("checkbox", { name: "I have saved my backup codes" }).check();
      await done.click();
      await expectText(security.locator(".security-status"), "Two-step sign-in is on. 10 backup codes left.");
      await security.locator(".security-status").scrollIntoViewIfNeeded();
      await suite.screenshot("security-on.png");
      await closeSettings();
      await signOut();

      // The right password alone gets a challenge, and no session.
      const login = await sendPassword();
      const body = /** @type {Record<string, unknown>} */ (await login.json());
      assert.equal(body.mfaRequired, true);
      assert.equal(typeof body.challenge, "string");
      assert.equal(body.token, undefined, "the password step returned a token");
      assert.equal(await login.headerValue("set-cookie"), null, "the password step set a cookie");

      const codeField = page.getByLabel("Code from the app");
      await waitUntil("the code field has the focus", () =>
        codeField.evaluate((element) => element === document.activeElement),
      );
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name on the code step");
      assert.deepEqual(await seriousAxeViolations(page), [], "axe-core violations on the code step");
      await suite.screenshot("code-step.png");

      // A wrong code is rejected under the field, which is cleared.
      const rejected = await verify(codeField, wrongCode());
      assert.equal(rejected.status(), 401);
      await waitUntil("the code field shows the server's error", async () => {
        const text = await inputDescription(codeField);
        return text !== "" || text;
      });
      assert.equal(await codeField.getAttribute("aria-invalid"), "true");
      assert.equal(await codeField.inputValue(), "");
      assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0, "signed in with a wrong code");

      // The next step's code signs in.
      const accepted = await verify(codeField, codeIn(1));
      assert.equal(accepted.status(), 200);
      await waitForWorkspace(page, name);
    });
  });

  test("backup code signs in once", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      assert.equal(backupCodes.length, 10, "the enrolment test did not leave backup codes");
      const [first, second] = backupCodes;
      assert.ok(first !== undefined, "no first backup code");
      assert.ok(second !== undefined, "no second backup code");

      // Upper case and spaces in place of dashes still match.
      await signOut();
      await sendPassword();
      await page.getByRole("button", { name: "Use a backup code instead" }).click();
      const backupField = page.getByLabel("Backup code");
      await waitUntil("the backup code field has the focus", () =>
        backupField.evaluate((element) => element === document.activeElement),
      );
      assert.equal((await verify(backupField, first.toUpperCase().replace(/-/g, " "))).status(), 200);
      await waitForWorkspace(page, name);

      // The same code does not work twice.
      await signOut();
      await sendPassword();
      await page.getByRole("button", { name: "Use a backup code instead" }).click();
      assert.equal((await verify(backupField, first)).status(), 401);
      await waitUntil("the backup code field shows the server's error", async () => {
        const text = await inputDescription(backupField);
        return text !== "" || text;
      });

      assert.equal((await verify(backupField, second)).status(), 200);
      await waitForWorkspace(page, name);

      const { security } = await openSecurity();
      await expectText(security.locator(".security-status"), "Two-step sign-in is on. 8 backup codes left.");
      await closeSettings();
    });
  });

  test("unlock after restart asks for a code", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fourth = backupCodes[3];
      assert.ok(fourth !== undefined, "the enrolment test did not leave backup codes");

      // A restart locks the profile, and the reload shows the unlock prompt.
      await suite.restartHearth();
      await page.reload();
      const unlock = page.getByRole("dialog", { name: "Hearth is locked" });
      await unlock.getByLabel("Password", { exact: true }).fill(password);
      await unlock.getByRole("button", { name: "Unlock" }).click();

      // The password alone does not unlock, and the prompt shows the code step.
      const codeField = unlock.getByLabel("Code from the app");
      await codeField.waitFor();
      assert.notEqual(await page.locator(".workspace").getAttribute("inert"), null, "the workspace is not inert");
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name in the unlock prompt");
      await suite.screenshot("unlock-code-step.png");

      await unlock.getByRole("button", { name: "Use a backup code instead" }).click();
      assert.equal((await verify(unlock.getByLabel("Backup code"), fourth)).status(), 200);
      await unlock.waitFor({ state: "detached" });
      await waitForWorkspace(page, name);
    });
  });

  test("turning off needs password and code", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const third = backupCodes[2];
      assert.ok(third !== undefined, "the enrolment test did not leave backup codes");

      // While two-step sign-in is on, Change password, New recovery key and
      // Delete my profile have a code field.
      await page.getByRole("banner").getByRole("button", { name: "Change password" }).click();
      const passwordDialog = page.getByRole("dialog", { name: "Change password" });
      await passwordDialog.getByLabel("Code from the app, or a backup code").waitFor();
      await passwordDialog.getByRole("button", { name: "New recovery key" }).click();
      const renewDialog = page.getByRole("dialog", { name: "New recovery key" });
      await renewDialog.getByLabel("Code from the app, or a backup code").waitFor();
      await renewDialog.getByRole("button", { name: "Cancel" }).click();
      await renewDialog.waitFor({ state: "detached" });

      await page.getByRole("banner").getByRole("button", { name: "Delete my profile" }).click();
      const deleteDialog = page.getByRole("dialog", { name: "Delete my profile" });
      await deleteDialog.getByLabel("Code from the app, or a backup code").waitFor();
      await deleteDialog.getByRole("button", { name: "Cancel" }).click();
      await deleteDialog.waitFor({ state: "detached" });

      const { security } = await openSecurity();
      await security.getByRole("button", { name: "Turn off two-step sign-in" }).click();
      const passwordField = security.getByLabel("Your password");
      const codeField = security.getByLabel("Code from the app, or a backup code");
      const turnOff = security.getByRole("button", { name: "Turn off", exact: true });

      // Without a code the page shows an error and sends nothing.
      let disableRequests = 0;
      /** @param {import("playwright-core").Request} request */
      const countDisableRequests = (request) => {
        if (request.url().endsWith("/api/auth/totp/disable")) {
          disableRequests++;
        }
      };
      page.on("request", countDisableRequests);
      await passwordField.fill(password);
      await turnOff.click();
      await waitUntil("the code field shows that the code is missing", async () => {
        const text = await inputDescription(codeField);
        return /Enter the code from your authenticator app/.test(text) || text;
      });
      page.off("request", countDisableRequests);
      assert.equal(disableRequests, 0, "a request was sent without a code");

      await codeField.fill(third);
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url().endsWith("/api/auth/totp/disable")),
        turnOff.click(),
      ]);
      assert.equal(response.status(), 204);
      await expectText(security.locator(".security-status"), "Two-step sign-in is off.");
      await closeSettings();

      // The password alone signs in again.
      await signOut();
      await sendPassword();
      await waitForWorkspace(page, name);
    });
  });
});
