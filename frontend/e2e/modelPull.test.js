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

const name = "Grace";
const password = "compiler-1952-cobol";

/**
 * The states of the download's progress bars that the page went through,
 * as recorded by recordProgress.
 *
 * @typedef {{ label: string, value: number | null, max: number | null }} ProgressSample
 */

/**
 * Records in the page every state of every progress bar from now on. The
 * fake Ollama sends its progress without delays, so a poll from the test
 * could miss every state between the first and the last.
 *
 * @param {import("playwright-core").Page} page
 */
async function recordProgress(page) {
  await page.evaluate(() => {
    /** @type {Array<{ label: string, value: number | null, max: number | null }>} */
    const samples = [];
    Object.assign(window, { progressSamples: samples });
    const sample = () => {
      for (const bar of document.querySelectorAll("progress")) {
        const label = bar.id === "" ? "" : (document.querySelector(`label[for="${CSS.escape(bar.id)}"]`)?.textContent ?? "");
        samples.push({
          label,
          value: bar.hasAttribute("value") ? bar.value : null,
          max: bar.hasAttribute("max") ? bar.max : null,
        });
      }
    };
    new MutationObserver(sample).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

/**
 * @param {import("playwright-core").Page} page
 * @returns {Promise<ProgressSample[]>}
 */
async function progressSamples(page) {
  return page.evaluate(() => /** @type {ProgressSample[]} */ (Reflect.get(window, "progressSamples")));
}

/**
 * Makes the page receive the lines of POST /api/models/pull 150 ms apart.
 * The fake Ollama sends a whole download's progress at once, and React
 * draws the lines of one read together, so without the pause the page
 * would draw only the last one. It wraps the page's fetch, which the API
 * client calls for every request.
 *
 * @param {import("playwright-core").Page} page
 */
async function spacePullLines(page) {
  await page.evaluate(() => {
    const originalFetch = window.fetch.bind(window);
    window.fetch = async (input, init) => {
      const response = await originalFetch(input, init);
      if (!String(input).endsWith("/api/models/pull") || response.body === null) {
        return response;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      let buffer = "";
      const spaced = new ReadableStream({
        async pull(controller) {
          for (;;) {
            const end = buffer.indexOf("\n");
            if (end !== -1) {
              const line = buffer.slice(0, end + 1);
              buffer = buffer.slice(end + 1);
              await new Promise((resolve) => setTimeout(resolve, 150));
              controller.enqueue(encoder.encode(line));
              return;
            }
            const { done, value } = await reader.read();
            if (done) {
              if (buffer !== "") {
                controller.enqueue(encoder.encode(buffer));
              }
              controller.close();
              return;
            }
            buffer += decoder.decode(value, { stream: true });
          }
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
      return new Response(spaced, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
  });
}

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
