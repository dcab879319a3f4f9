// @ts-check
// Ollama is not running: the reply fails with an error that names Ollama as
// not reachable.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createProfileThroughApi, expectText, sendMessage, signInThroughPicker, startSuite } from "./harness.js";

const name = "Margaret";
const password = "apollo-1969";

describe("ollama unreachable", { timeout: 120_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("ollama-unreachable", { ollama: "unreachable" });
  });

  after(async () => {
    await suite?.close();
  });

  test("reply says Ollama is not reachable", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await createProfileThroughApi(suite.hearth.url, name, password);
      await page.goto(suite.hearth.url);
      await signInThroughPicker(page, name, password);

      await page.getByRole("navigation", { name: "Chats" }).getByRole("button", { name: "New chat" }).click();
      const log = page.getByRole("log", { name: "Messages" });
      await log.waitFor();

      // Before any message, the chat shows that Ollama cannot be reached and
      // what to do, with Try again.
      const problem = page.locator(".chat-header .backend-problem");
      await problem.getByText(/Ollama is not reachable at .*Start Ollama/).waitFor();
      await problem.getByRole("button", { name: "Try again" }).click();
      await problem.getByText(/Ollama is not reachable/).waitFor();

      await sendMessage(page, "Hello?");

      const alert = log.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.innerText(), /Ollama is not reachable/);
      await expectText(log.getByRole("article").nth(0).locator(".message-content"), "Hello?");
      await suite.screenshot("ollama-unreachable.png");
    });
  });
});
