// @ts-check
// A reply that fails because its model is not installed offers to download
// the model, shows the download's progress, and then replies on Retry.

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
import { progressSamples, recordProgress, spacePullLines } from "./pullProgress.js";

const name = "Grace";
const password = "compiler-1952-cobol";

describe("model pull", { timeout: 120_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("model-pull");
  });

  after(async () => {
    await suite?.close();
  });

  test("missing model is pulled from the chat", { timeout: 60_000 }, async (t) => {
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

      // Without the model the reply fails, with a button to download it.
      await fake.setModels([]);
      await sendMessage(page, "Are you installed?");
      const download = log.getByRole("button", { name: `Download ${testModel}` });
      await download.waitFor();
      assert.match(await log.getByRole("alert").innerText(), /is not installed/);
      await suite.screenshot("missing-model.png");

      // The download shows its progress, then offers Retry.
      await recordProgress(page);
      await spacePullLines(page);
      await download.click();
      await log.locator("progress[value]").waitFor();
      await suite.screenshot("pull-progress.png");
      await log.getByText(`${testModel} is downloaded. Retry to get the reply.`).waitFor();
      const samples = (await progressSamples(page)).filter((sample) => sample.label === `Download of ${testModel}`);
      assert.ok(samples.length > 0, "no progress bar was shown");
      assert.ok(
        samples.some((sample) => sample.max !== null && sample.max > 0 && sample.value !== null && sample.value > 0 && sample.value < sample.max),
        `the progress bar never showed part of the download: ${JSON.stringify(samples)}`,
      );
      const tags = await fetch(`${fake.url}/api/tags`).then((response) => response.json());
      assert.ok(
        tags.models.some((/** @type {{ name: string }} */ model) => model.name.startsWith(testModel)),
        "the fake does not have the model",
      );

      // Retry writes the reply that the message never got, without sending
      // the message again.
      await fake.queueReply({ chunks: ["Yes, ", "now I am."] });
      await log.getByRole("button", { name: "Retry" }).click();
      await expectText(messages.nth(1).locator(".message-content"), "Yes, now I am.");
      assert.equal(await messages.count(), 2);
      assert.equal(await log.getByRole("alert").count(), 0, "the failure is still shown after the reply");
      await suite.screenshot("pulled-and-replied.png");

      // The server stored the reply and forgot the failure.
      await page.reload();
      await waitForWorkspace(page, name);
      await expectText(messages.nth(0).locator(".message-content"), "Are you installed?");
      await expectText(messages.nth(1).locator(".message-content"), "Yes, now I am.");
      assert.equal(await log.locator(".alert").count(), 0);
    });
  });
});
