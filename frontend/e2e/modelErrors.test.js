// @ts-check
// A model that is not installed: the reply fails with the command that
// installs it, and the user's message is kept.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  sendMessage,
  signInThroughPicker,
  startSuite,
  testModel,
  waitForWorkspace,
} from "./harness.js";

const name = "Linus";
const password = "penguin-1991";
const message = "Are you there? <img src=x onerror=alert(1)>";

describe("model errors", { timeout: 120_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("model-errors");
  });

  after(async () => {
    await suite?.close();
  });

  test("model not installed names ollama pull", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      await createProfileThroughApi(suite.hearth.url, name, password);
      await page.goto(suite.hearth.url);
      await signInThroughPicker(page, name, password);

      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      await log.waitFor();

      // The message also checks that HTML in a message is shown as text.
      await fake.setModels([]);
      await sendMessage(page, message);

      const alert = log.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.innerText(), new RegExp(`ollama pull ${testModel.replace(".", "\\.")}`));
      await expectText(messages.nth(0).locator(".message-content"), message);
      assert.equal(await log.locator("img").count(), 0, "HTML in the message was rendered");
      await suite.screenshot("model-not-installed.png");

      // The user's message was stored before the model was asked. The reload
      // keeps the profile signed in.
      await page.reload();
      await waitForWorkspace(page, name);
      await expectText(messages.nth(0).locator(".message-content"), message);
      assert.match(await messages.nth(0).innerText(), /^You\b/);

      // The reason the reply failed is kept with the message.
      assert.equal(await messages.count(), 1);
      assert.match(await messages.nth(0).locator(".alert").innerText(), new RegExp(`ollama pull ${testModel.replace(".", "\\.")}`));
    });
  });
});
