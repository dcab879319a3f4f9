// @ts-check
// The first-run form's checks, a wrong password, the session cookie across a
// reload, switching profile, locking and signing out.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  cookieHeader,
  createProfileThroughApi,
  loginThroughApi,
  signInThroughPicker,
  startSuite,
  threadsStatus,
  waitForWorkspace,
  webStorageSizes,
} from "./harness.js";

const name = "Grace";
const password = "hopper-1906";

describe("sign in", { timeout: 180_000 }, () => {
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

  /**
   * Clicks Sign in and returns the bearer token from the server's response,
   * which the page keeps only in memory.
   *
   * @returns {Promise<string>}
   */
  async function signInAndCaptureToken() {
    const { page } = suite;
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().endsWith("/api/auth/login")),
      page.getByRole("button", { name: "Sign in" }).click(),
    ]);
    assert.equal(response.status(), 200);
    const body = /** @type {{ token: string }} */ (await response.json());
    await waitForWorkspace(page, name);
    return body.token;
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

  test("reload keeps the session in a cookie", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await waitForWorkspace(page, name);

      await page.reload();
      await waitForWorkspace(page, name);
      assert.equal(await page.getByRole("dialog").count(), 0, "a dialog opened after the reload");

      // A request that changes state works after the reload, so the page
      // found the CSRF token.
      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      await threads.getByRole("button", { name: /New Conversation/ }).waitFor();

      const cookies = await page.context().cookies(`${suite.hearth.url}/api/threads`);
      const session = cookies.find((cookie) => cookie.name === "hearth_session");
      assert.ok(session !== undefined, "no hearth_session cookie");
      assert.equal(session.httpOnly, true, "hearth_session is readable by the page");
      assert.equal(session.sameSite, "Strict");
      const visible = await page.evaluate(() => document.cookie);
      assert.doesNotMatch(visible, /hearth_session/);
      assert.match(visible, /hearth_csrf=/);

      assert.deepEqual(await webStorageSizes(page), { local: 0, session: 0 }, "web storage has entries");
    });
  });

  test("switch profile signs out", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const cookie = await cookieHeader(page, suite.hearth.url);
      assert.equal((await threadsStatus(suite.hearth.url, { cookie })).status, 200);

      await page.getByRole("button", { name: "Switch profile" }).click();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      assert.equal((await threadsStatus(suite.hearth.url, { cookie })).status, 401, "the old cookie still works");

      // The reload shows the picker again, not the old profile.
      await page.reload();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
    });
  });

  test("sign out ends the session", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await page.getByRole("button", { name: new RegExp(`^${name}`) }).click();
      await page.getByLabel("Password", { exact: true }).fill(password);
      const token = await signInAndCaptureToken();
      const cookie = await cookieHeader(page, suite.hearth.url);
      assert.equal((await threadsStatus(suite.hearth.url, { token })).status, 200);
      assert.equal((await threadsStatus(suite.hearth.url, { cookie })).status, 200);

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      await page.getByRole("status").getByText("You are signed out.").waitFor();

      // The server returns 401 to the old session, by token and by cookie,
      // and the browser no longer has the session cookie.
      const byToken = await threadsStatus(suite.hearth.url, { token });
      assert.equal(byToken.status, 401, "the old token still works");
      assert.equal(byToken.code, "invalid_token");
      assert.equal((await threadsStatus(suite.hearth.url, { cookie })).status, 401, "the old cookie still works");
      const cookies = await page.context().cookies(`${suite.hearth.url}/api/threads`);
      assert.deepEqual(
        cookies.map((each) => each.name).filter((each) => each.startsWith("hearth_")),
        [],
        "session cookies were kept",
      );

      await page.reload();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
    });
  });

  test("lock keeps the profile chosen", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await signInThroughPicker(page, name, password);
      const cookie = await cookieHeader(page, suite.hearth.url);

      await page.getByRole("button", { name: "Lock" }).click();
      await page.getByRole("heading", { name: `Sign in as ${name}` }).waitFor();
      await page.getByRole("status").getByText("Hearth is locked.", { exact: false }).waitFor();
      assert.equal((await threadsStatus(suite.hearth.url, { cookie })).status, 401, "the old cookie still works");

      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await waitForWorkspace(page, name);
    });
  });

  test("sign-in in another tab ends this one", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const otherName = "Hedy";
      const otherPassword = "frequency-hopping";
      const admin = await loginThroughApi(suite.hearth.url, name, password);
      assert.ok(admin.token !== null);
      const created = await fetch(`${suite.hearth.url}/api/auth/profiles`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${admin.token}` },
        body: JSON.stringify({ name: otherName, password: otherPassword }),
      });
      assert.equal(created.status, 201);

      // This page relies on the cookie alone after a reload.
      await page.reload();
      await waitForWorkspace(page, name);

      // Another tab of the same browser signs in as someone else, which
      // replaces the cookies that this page's requests would carry.
      const other = await page.context().request.post(`${suite.hearth.url}/api/auth/login`, {
        data: { name: otherName, password: otherPassword },
      });
      assert.equal(other.status(), 200);

      // The next request of this page ends its session instead of acting
      // for the other profile.
      await page.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      await page.getByRole("status").getByText("Your session has ended.", { exact: false }).waitFor();
    });
  });
});
