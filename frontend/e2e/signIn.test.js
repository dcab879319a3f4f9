// @ts-check
// The first-run form's checks, a wrong password, switching profile and
// signing out.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createProfileThroughApi, signInThroughPicker, startSuite } from "./harness.js";

const name = "Grace";
const password = "hopper-1906";

describe("sign in", { timeout: 120_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("sign-in");
  });

  after(async () => {
    await suite?.close();
  });

  /** @returns {Promise<unknown[]>} */
  async function listProfiles() {
    const response = await fetch(`${suite.hearth.url}/api/auth/profiles`);
    assert.equal(response.status, 200);
    return /** @type {unknown[]} */ (await response.json());
  }

  test("first-run form rejects bad input", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await page.goto(suite.hearth.url);
      await page.getByRole("heading", { name: "Create your profile" }).waitFor();
      const submit = page.getByRole("button", { name: "Create profile" });
      const alert = page.getByRole("alert");

      await page.getByLabel("Name").fill(name);
      await page.getByLabel("Password", { exact: true }).fill("short");
      await page.getByLabel("Confirm password").fill("short");
      await submit.click();
      await alert.getByText("at least 8 characters").waitFor();

      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByLabel("Confirm password").fill(`${password}x`);
      await submit.click();
      await alert.getByText("do not match").waitFor();

      assert.deepEqual(await listProfiles(), [], "a profile was created from invalid input");
    });
  });

  test("wrong password does not sign in", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await createProfileThroughApi(suite.hearth.url, name, password);
      await page.reload();

      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      await page.getByRole("button", { name: new RegExp(`^${name}`) }).click();
      const passwordField = page.getByLabel("Password", { exact: true });
      await passwordField.fill("not-the-password");
      await page.getByRole("button", { name: "Sign in" }).click();

      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.innerText(), /password is wrong/);
      assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0, "signed in with a wrong password");
      assert.equal(await passwordField.inputValue(), "", "the wrong password was kept in the field");

      // The right password still works afterwards.
      await passwordField.fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByText(`Signed in as ${name}`).waitFor();
    });
  });

  test("token stays out of web storage", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await page.getByText(`Signed in as ${name}`).waitFor();

      const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length }));
      assert.equal(stored.local, 0, "localStorage has entries");
      assert.equal(stored.session, 0, "sessionStorage has entries");
    });
  });

  test("switch profile and sign out", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const picker = page.getByRole("heading", { name: "Who is using Hearth?" });

      await page.getByRole("button", { name: "Switch profile" }).click();
      await picker.waitFor();

      await signInThroughPicker(page, name, password);
      await page.getByRole("button", { name: "Sign out" }).click();
      await picker.waitFor();
      await page.getByRole("status").getByText("You are signed out.").waitFor();
    });
  });
});
