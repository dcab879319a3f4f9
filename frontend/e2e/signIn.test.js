// @ts-check
// The first-run form's checks, a wrong password, the session across a reload
// and in other tabs, the cookie rejected without the session's secret,
// switching profile, locking and signing out.

import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import {
  cookieHeader,
  createProfileThroughApi,
  csrfSecret,
  csrfStorageKey,
  errorCodeOf,
  loginThroughApi,
  signInThroughPicker,
  startSuite,
  threadsStatus,
  waitForWorkspace,
  webStorageEntries,
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

  test("reload keeps the session", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await waitForWorkspace(page, name);

      await page.reload();
      await waitForWorkspace(page, name);
      assert.equal(await page.getByRole("dialog").count(), 0, "a dialog opened after the reload");

      // Requests that read and change state work after the reload, so the
      // page sent the session's secret from sessionStorage.
      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      await threads.getByRole("button", { name: /New Conversation/ }).waitFor();

      const cookies = await page.context().cookies(`${suite.hearth.url}/api/threads`);
      const session = cookies.find((cookie) => cookie.name === "hearth_session");
      assert.ok(session !== undefined, "no hearth_session cookie");
      assert.equal(session.httpOnly, true, "hearth_session is readable by the page");
      assert.equal(session.sameSite, "Strict");
      assert.deepEqual(
        cookies.map((cookie) => cookie.name),
        ["hearth_session"],
        "the browser has other cookies for Hearth",
      );
      const visible = await page.evaluate(() => document.cookie);
      assert.doesNotMatch(visible, /hearth_/);

      // The only stored value is the secret, which is not the token.
      const storage = await webStorageEntries(page);
      assert.deepEqual(Object.keys(storage.local), [], "localStorage has entries");
      assert.deepEqual(Object.keys(storage.session), [csrfStorageKey], "sessionStorage has other entries");
      const secret = storage.session[csrfStorageKey] ?? "";
      assert.ok(secret.length >= 16, `the stored secret is only ${secret.length} characters long`);
      assert.equal(secret.includes(session.value), false, "sessionStorage contains the session token");
      assert.equal(session.value.includes(secret), false, "the secret is part of the session token");
    });
  });

  test("new tab shows the picker", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;

      // A new tab of the same browser sends the same cookie but has no
      // secret, so it shows the profile picker.
      const tab = await page.context().newPage();
      try {
        await tab.goto(suite.hearth.url);
        await tab.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
        assert.equal(await csrfSecret(tab), null, "the new tab has a secret");
      } finally {
        await tab.close();
      }

      // The first tab is still signed in.
      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      await threads.getByRole("listitem").nth(1).waitFor();
      await waitForWorkspace(page, name);
    });
  });

  test("cookie without secret is rejected", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const url = suite.hearth.url;
      const secret = await csrfSecret(page);
      assert.ok(secret !== null, "the page keeps no secret");

      // Browsers send cookies to every port of a host. Another server on
      // this computer, here one that this test starts on loopback, receives
      // Hearth's cookie when the browser visits it under /api.
      /** @type {string[]} */
      const received = [];
      const other = http.createServer((request, response) => {
        received.push(request.headers.cookie ?? "");
        response.end("other server");
      });
      other.listen(0, "127.0.0.1");
      await once(other, "listening");
      const address = other.address();
      assert.ok(address !== null && typeof address === "object");
      const visitor = await page.context().newPage();
      try {
        await visitor.goto(`http://127.0.0.1:${address.port}/api/anything`);
      } finally {
        await visitor.close();
        other.close();
      }
      const stolen = received.find((header) => header.includes("hearth_session="));
      assert.ok(stolen !== undefined, `the other server received no hearth_session cookie: ${JSON.stringify(received)}`);

      // The cookie alone, or with a wrong secret, gets 401.
      assert.deepEqual(await threadsStatus(url, { cookie: stolen }), { status: 401, code: "unauthorized" });
      assert.deepEqual(await threadsStatus(url, { cookie: stolen, csrf: "not-the-secret" }), {
        status: 401,
        code: "unauthorized",
      });
      const created = await fetch(`${url}/api/threads`, {
        method: "POST",
        headers: { Cookie: stolen, "Content-Type": "application/json" },
        body: "{}",
      });
      assert.deepEqual({ status: created.status, code: errorCodeOf(await created.text()) }, {
        status: 401,
        code: "unauthorized",
      });

      // So does a request that the browser itself sends with its cookies but
      // without the header.
      const fromBrowser = await page.request.get(`${url}/api/threads`);
      assert.deepEqual({ status: fromBrowser.status(), code: errorCodeOf(await fromBrowser.text()) }, {
        status: 401,
        code: "unauthorized",
      });

      // With the secret, the same cookie works, and the page is still signed in.
      assert.equal((await threadsStatus(url, { cookie: await cookieHeader(page, url), csrf: secret })).status, 200);
      await page.reload();
      await waitForWorkspace(page, name);
    });
  });

  test("switch profile signs out", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const cookie = await cookieHeader(page, suite.hearth.url);
      const csrf = (await csrfSecret(page)) ?? "";
      assert.equal((await threadsStatus(suite.hearth.url, { cookie, csrf })).status, 200);

      await page.getByRole("button", { name: "Switch profile" }).click();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      assert.equal((await threadsStatus(suite.hearth.url, { cookie, csrf })).status, 401, "the old cookie still works");
      assert.equal(await csrfSecret(page), null, "the secret was kept");

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
      const csrf = (await csrfSecret(page)) ?? "";
      assert.equal((await threadsStatus(suite.hearth.url, { token })).status, 200);
      assert.equal((await threadsStatus(suite.hearth.url, { cookie, csrf })).status, 200);

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
      await page.getByRole("status").getByText("You are signed out.").waitFor();

      // The server returns 401 to the old session, by token and by cookie,
      // and the browser no longer has the session cookie.
      const byToken = await threadsStatus(suite.hearth.url, { token });
      assert.equal(byToken.status, 401, "the old token still works");
      assert.equal(byToken.code, "invalid_token");
      assert.equal((await threadsStatus(suite.hearth.url, { cookie, csrf })).status, 401, "the old cookie still works");
      const cookies = await page.context().cookies(`${suite.hearth.url}/api/threads`);
      assert.deepEqual(
        cookies.map((each) => each.name).filter((each) => each.startsWith("hearth_")),
        [],
        "session cookies were kept",
      );
      assert.deepEqual(await webStorageEntries(page), { local: {}, session: {} }, "web storage has entries");

      await page.reload();
      await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
    });
  });

  test("lock keeps the profile chosen", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await signInThroughPicker(page, name, password);
      const cookie = await cookieHeader(page, suite.hearth.url);
      const csrf = (await csrfSecret(page)) ?? "";

      await page.getByRole("button", { name: "Lock" }).click();
      await page.getByRole("heading", { name: `Sign in as ${name}` }).waitFor();
      await page.getByRole("status").getByText("Hearth is locked.", { exact: false }).waitFor();
      assert.equal((await threadsStatus(suite.hearth.url, { cookie, csrf })).status, 401, "the old cookie still works");

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

      // After a reload this tab relies on the cookie and its secret. Before
      // one, it also sends its own bearer token, which the server prefers to
      // the cookie, so the tab would keep acting for its own profile.
      await page.reload();
      await waitForWorkspace(page, name);
      const firstSecret = await csrfSecret(page);

      // A second tab of the same browser signs in as someone else, which
      // replaces the cookie that both tabs send.
      const tab = await page.context().newPage();
      try {
        await tab.goto(suite.hearth.url);
        await signInThroughPicker(tab, otherName, otherPassword);
        await waitForWorkspace(tab, otherName);
        const secondSecret = await csrfSecret(tab);
        assert.ok(secondSecret !== null && secondSecret !== firstSecret, "the second tab did not get its own secret");

        // The first tab's next request carries the new cookie with the old
        // secret, so it returns to the picker instead of acting for the
        // other profile.
        await page.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
        await page.getByRole("heading", { name: "Who is using Hearth?" }).waitFor();
        await page.getByRole("status").getByText("Your session has ended.", { exact: false }).waitFor();
        assert.equal(await csrfSecret(page), null, "the first tab kept its secret");

        // The first tab's click created no chat for the other profile, and
        // the second tab is still signed in.
        const other = await loginThroughApi(suite.hearth.url, otherName, otherPassword);
        assert.ok(other.token !== null);
        const listed = await fetch(`${suite.hearth.url}/api/threads`, {
          headers: { Authorization: `Bearer ${other.token}` },
        });
        assert.deepEqual(await listed.json(), [], "the first tab acted for the other profile");
        const otherThreads = tab.getByRole("navigation", { name: "Chats" });
        await otherThreads.getByRole("button", { name: "New chat" }).click();
        await otherThreads.getByRole("button", { name: /New Conversation/ }).waitFor();
        await waitForWorkspace(tab, otherName);
      } finally {
        await tab.close();
      }
    });
  });
});
