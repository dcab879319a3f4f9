// @ts-check
// Sign-in throttling: after five wrong passwords the server rejects attempts
// for a while (429), and the form counts the wait down with Sign in disabled.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createProfileThroughApi, startSuite, waitForWorkspace, waitUntil } from "./harness.js";

const name = "Edsger";
const password = "goto-considered-harmful";

describe("throttling", { timeout: 120_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("throttle");
  });

  after(async () => {
    await suite?.close();
  });

  test("sixth wrong password shows a countdown", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await createProfileThroughApi(suite.hearth.url, name, password);
      await page.goto(suite.hearth.url);
      await page.getByRole("button", { name: new RegExp(`^${name}`) }).click();

      const passwordField = page.getByLabel("Password", { exact: true });
      const signIn = page.getByRole("button", { name: "Sign in" });

      /**
       * Submits a password and returns the sign-in response.
       *
       * @param {string} attempt
       */
      const submit = async (attempt) => {
        await passwordField.fill(attempt);
        const [response] = await Promise.all([
          page.waitForResponse((candidate) => candidate.url().endsWith("/api/auth/login")),
          signIn.click(),
        ]);
        return response;
      };

      /**
       * Waits until the countdown shows seconds and the button is disabled,
       * checked together in one poll.
       *
       * @param {RegExp} countdown
       */
      const waitForCountdown = (countdown) =>
        waitUntil(`the countdown matches ${countdown} with Sign in disabled`, async () => {
          const text = await page.locator(".retry-countdown").innerText({ timeout: 500 });
          return (countdown.test(text) && (await signIn.isDisabled())) || text;
        });

      // Five wrong passwords get 401, one after another.
      for (let attempt = 1; attempt <= 5; attempt++) {
        const response = await submit(`wrong-password-${attempt}`);
        assert.equal(response.status(), 401, `attempt ${attempt} answered ${response.status()}`);
        await page.getByRole("alert").getByText(/password is wrong/).waitFor();
      }

      // The sixth, at once, must wait: the server's message, the countdown
      // from Retry-After, and a disabled button.
      const sixth = await submit("wrong-password-6");
      assert.equal(sixth.status(), 429);
      assert.equal(sixth.headers()["retry-after"], "1");
      await waitForCountdown(/^Try again in 1 second\.$/);
      await page.getByRole("alert").getByText(/Too many failed attempts/).waitFor();
      await suite.screenshot("countdown.png");

      // Once the wait is over, the button comes back. The next failure
      // doubles the wait, and the countdown counts it down.
      await waitUntil("Sign in is enabled", () => signIn.isEnabled());
      assert.equal(await page.locator(".retry-countdown").count(), 0, "the countdown stayed after the wait");
      assert.equal((await submit("wrong-password-7")).status(), 401);
      const eighth = await submit("wrong-password-8");
      assert.equal(eighth.status(), 429);
      assert.equal(eighth.headers()["retry-after"], "2");
      await waitForCountdown(/^Try again in 2 seconds\.$/);
      await waitForCountdown(/^Try again in 1 second\.$/);
      await waitUntil("Sign in is enabled", () => signIn.isEnabled());

      // The right password works after the wait.
      await submit(password);
      await waitForWorkspace(page, name);
    });
  });
});
