// @ts-check
// Flows of the chat screen that the other browser tests leave out. The
// first tests cover the first-chat prompt, the working memory of a per-chat
// profile with no chat open, the chat model menu without embedding models
// and the backend switch in Settings. Then come a reply that leaves a
// scrolled-up message list where it is, a memory notice beside the chat
// header, a model download that goes on in another chat, and a change of
// model with a download's moving progress bar. The last two tests lock the
// profile, with Lock and by the idle lock, and find the open thread again.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  expectText,
  sendMessage,
  signInThroughPicker,
  startSuite,
  testModel,
  waitForOpenThreadTitle,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";
import { progressSamples, recordProgress, spacePullLines } from "./pullProgress.js";

const name = "Ursula";
const password = "left-hand-of-darkness";

// A model that the fake Ollama does not have until it is downloaded, and
// that it describes as a chat model.
const downloadedModel = "qwen2.5:0.5b";

/**
 * Opens Settings, lets change fill in the form, saves, and closes the dialog.
 *
 * @param {import("playwright-core").Page} page
 * @param {(dialog: import("playwright-core").Locator) => Promise<void>} change
 */
async function saveSettings(page, change) {
  await page.getByRole("banner").getByRole("button", { name: "Settings" }).click();
  const dialog = page.getByRole("dialog", { name: "Settings" });
  await dialog.getByText(/^The server has \d+ models?\.$/).waitFor();
  await change(dialog);
  await dialog.getByRole("button", { name: "Save settings" }).click();
  await expectText(dialog.locator("form.settings-form").getByRole("status").last(), "Settings saved.");
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "detached" });
}

/**
 * Returns whether two boxes on the page overlap.
 *
 * @param {{ x: number, y: number, width: number, height: number }} a
 * @param {{ x: number, y: number, width: number, height: number }} b
 */
function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe("ui flows", { timeout: 420_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("ui-flows");
    await createProfileThroughApi(suite.hearth.url, name, password);
    await suite.page.goto(suite.hearth.url);
    await signInThroughPicker(suite.page, name, password);
  });

  after(async () => {
    await suite?.close();
  });

  test("first chat prompt and per-chat memory", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const chatArea = page.locator("main.chat-area");
      await chatArea.getByRole("heading", { name: "Start your first chat" }).waitFor();

      // With one working memory per chat and no chat open, the Memory
      // dialog shows a sentence about opening a chat, not the server's error.
      await saveSettings(page, (dialog) => dialog.getByRole("radio", { name: "Per chat" }).check());
      await page.getByRole("banner").getByRole("button", { name: "Memory" }).click();
      const memory = page.getByRole("dialog", { name: "Memory" });
      await memory.getByText("Each chat keeps its own working memory. Open a chat to see its document.").waitFor();
      await memory.getByText(/^Messages remembered/).waitFor();
      assert.equal(await memory.getByRole("alert").count(), 0, "the Memory dialog shows an error");
      assert.equal(await memory.getByLabel("Document (Markdown)").count(), 0, "a document is shown without a chat");
      await memory.getByRole("button", { name: "Close" }).click();
      await saveSettings(page, (dialog) => dialog.getByRole("radio", { name: "For the whole profile" }).check());

      // The prompt's button starts the first chat.
      await chatArea.getByRole("button", { name: "Start a chat" }).click();
      await page.getByRole("log", { name: "Messages" }).waitFor();
      await page.getByRole("navigation", { name: "Chats" }).getByRole("listitem").first().waitFor();
      assert.equal(await chatArea.getByRole("heading", { name: "Start your first chat" }).count(), 0);
    });
  });

  test("model menu leaves out embedders", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const menu = page.getByRole("combobox", { name: "Model for this chat" });
      await menu.getByRole("option", { name: /^llama3\.2/ }).waitFor({ state: "attached" });
      const options = await menu.getByRole("option").allInnerTexts();
      assert.equal(
        options.some((option) => option.includes("nomic-embed-text")),
        false,
        `the chat model menu offers an embedding model: ${JSON.stringify(options)}`,
      );
    });
  });

  test("backend switch empties the server inputs", { timeout: 30_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      await page.getByRole("banner").getByRole("button", { name: "Settings" }).click();
      const dialog = page.getByRole("dialog", { name: "Settings" });
      const serverUrl = dialog.getByLabel("Server URL");
      const model = dialog.getByLabel("Model", { exact: true });
      await waitUntil("the settings are loaded", async () => (await serverUrl.inputValue()) === fake.url || (await serverUrl.inputValue()));

      // The Ollama server and model do not carry over to the other kind.
      await dialog.getByRole("radio", { name: "OpenAI-compatible server" }).check();
      assert.equal(await serverUrl.inputValue(), "");
      assert.equal(await model.inputValue(), "");
      assert.equal(await serverUrl.getAttribute("placeholder"), "https://api.openai.com/v1");

      // What was typed for each kind comes back with it.
      await serverUrl.fill("http://127.0.0.1:9/v1");
      await dialog.getByRole("radio", { name: "Ollama" }).check();
      assert.equal(await serverUrl.inputValue(), fake.url);
      assert.equal(await model.inputValue(), testModel);
      await dialog.getByRole("radio", { name: "OpenAI-compatible server" }).check();
      assert.equal(await serverUrl.inputValue(), "http://127.0.0.1:9/v1");

      await dialog.getByRole("radio", { name: "Ollama" }).check();
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });
    });
  });

  test("reply leaves a scrolled-up list in place", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");
      const jump = page.getByRole("button", { name: "Jump to latest" });

      // A reply long enough to scroll, arriving a piece at a time, after
      // which the list sits at the end: the Markdown of each piece renders
      // after the list has scrolled, and the list must follow it anyway.
      const lines = Array.from({ length: 60 }, (_, index) => `Line ${index + 1} of a long answer.\n\n`);
      await fake.queueReply({ chunks: lines, delayMs: 30 });
      await sendMessage(page, "Tell me a long story");
      await expectText(messages.nth(1).locator(".message-content p").last(), "Line 60 of a long answer.");
      await waitForOpenThreadTitle(page);
      assert.equal(await jump.count(), 0, "Jump to latest shows at the end of the list");
      const distance = await log.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight);
      assert.ok(distance < 48, `the list ended ${distance} px above its end`);

      // The next reply starts, and the user scrolls up to read.
      await fake.queueReply({ chunks: ["First part. ", ...lines.map((line) => `More: ${line}`)], holdAfter: 1 });
      await sendMessage(page, "And another one");
      await expectText(messages.nth(3).locator(".message-content"), "First part.");
      await log.evaluate((element) => {
        element.scrollTop = 200;
      });
      await jump.waitFor();

      // The rest of the reply arrives without moving the list.
      await fake.release();
      await expectText(messages.nth(3).locator(".message-content p").last(), "More: Line 60 of a long answer.");
      await page.getByRole("button", { name: "Stop" }).waitFor({ state: "detached" });
      assert.equal(await log.evaluate((element) => element.scrollTop), 200, "the list moved while the reply streamed");
      assert.equal(await jump.isVisible(), true);
      await suite.screenshot("jump-to-latest.png");

      // Jump to latest goes to the end and follows new text again.
      await jump.click();
      await waitUntil("the list is at its end", () =>
        log.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight < 48),
      );
      await jump.waitFor({ state: "detached" });
    });
  });

  test("memory notice leaves the header free", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");

      await fake.queueReply({
        chunks: ["Noted. "],
        toolCalls: { 0: [{ function: { name: "updateWorkingMemory", arguments: { memory: "# About the user\n- **Name**: Ursula" } } }] },
      });
      await fake.queueReply({ chunks: ["I will remember."] });
      await sendMessage(page, "My name is Ursula.");
      await expectText(messages.nth(5).locator(".message-content"), "Noted. I will remember.");

      const notice = page.getByRole("region", { name: "Notifications" }).getByRole("region", { name: "Memory updated" });
      await notice.waitFor();
      const noticeBox = await notice.boundingBox();
      const menuBox = await page.getByRole("combobox", { name: "Model for this chat" }).boundingBox();
      const titleBox = await page.locator(".chat-title").boundingBox();
      assert.ok(noticeBox !== null, "the memory notice has no box");
      assert.ok(menuBox !== null, "the model menu has no box");
      assert.ok(titleBox !== null, "the chat title has no box");
      assert.equal(overlaps(noticeBox, menuBox), false, "the memory notice covers the model menu");
      assert.equal(overlaps(noticeBox, titleBox), false, "the memory notice covers the chat title");
      await suite.screenshot("memory-notice.png");
      await notice.getByRole("button", { name: "Dismiss" }).click();
      await notice.waitFor({ state: "detached" });
    });
  });

  test("download goes on in another chat", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      // A second chat whose reply fails for want of the model.
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await fake.setModels([]);
      await sendMessage(page, "Are you there?");
      const download = log.getByRole("button", { name: `Download ${testModel}` });
      await download.waitFor();

      // The download starts, slowly, and the other chat opens meanwhile.
      await spacePullLines(page, 400);
      await download.click();
      await log.getByRole("button", { name: "Cancel" }).waitFor();
      await threads.locator(".thread-button").nth(1).click();
      await expectText(messages.nth(0).locator(".message-content"), "Tell me a long story");

      // Back in the chat, the download is still there and finishes.
      await threads.locator(".thread-button").nth(0).click();
      await expectText(messages.nth(0).locator(".message-content"), "Are you there?");
      await log.getByText(`${testModel} is downloaded. Retry to get the reply.`).waitFor();
      assert.equal(await download.count(), 0, "the chat offers the download again");

      await fake.queueReply({ chunks: ["Yes, I am here."] });
      await log.getByRole("button", { name: "Retry" }).click();
      await expectText(messages.nth(1).locator(".message-content"), "Yes, I am here.");
      await fake.reset();
    });
  });

  test("model change and pull progress in Settings", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      // A reload drops the slowed fetch of the previous test.
      await page.reload();
      await waitForWorkspace(page, name);
      await recordProgress(page);
      await spacePullLines(page);

      await page.getByRole("banner").getByRole("button", { name: "Settings" }).click();
      const dialog = page.getByRole("dialog", { name: "Settings" });
      await dialog.getByText(/^The server has \d+ models?\.$/).waitFor();
      await dialog.getByLabel("Model name").fill(downloadedModel);
      await dialog.getByRole("button", { name: "Download", exact: true }).click();
      await dialog.locator("progress[value]").waitFor();
      await dialog.getByRole("button", { name: "Cancel" }).waitFor();
      await dialog.getByText(`${downloadedModel} is downloaded.`).waitFor();

      // The bar moved: it showed part of the download, and more later.
      const samples = (await progressSamples(page)).filter((sample) => sample.label === `Download of ${downloadedModel}`);
      const partial = samples.filter(
        (sample) => sample.max !== null && sample.value !== null && sample.value > 0 && sample.value < sample.max,
      );
      assert.ok(partial.length > 0, `the progress bar never showed part of the download: ${JSON.stringify(samples)}`);
      const fractions = samples
        .filter((sample) => sample.max !== null && sample.max > 0 && sample.value !== null)
        .map((sample) => /** @type {number} */ (sample.value) / /** @type {number} */ (sample.max));
      assert.ok(new Set(fractions).size >= 2, `the progress bar did not move: ${JSON.stringify(samples)}`);

      // The downloaded model becomes the profile's model, and writes the next reply.
      // The download's form has a status of its own, after the settings form.
      await dialog.getByLabel("Model", { exact: true }).fill(downloadedModel);
      await dialog.getByRole("button", { name: "Save settings" }).click();
      await expectText(dialog.locator("form.settings-form").getByRole("status").last(), "Settings saved.");
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });

      const menu = page.getByRole("combobox", { name: "Model for this chat" });
      await menu.getByRole("option", { name: `The profile's model (${downloadedModel})` }).waitFor({ state: "attached" });
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");
      await sendMessage(page, "Which model is this?");
      await expectText(messages.nth(3).locator(".message-content"), "You said: Which model is this?");
      const request = (await fake.chatRequests()).find((candidate) => candidate.messages.at(-1)?.content === "Which model is this?");
      assert.ok(request !== undefined, "the fake received no request for the message");
      assert.equal(request.model, downloadedModel);
    });
  });

  test("Lock brings back the open thread", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");

      // The older chat is open, so that it is not the one opened by default.
      await threads.locator(".thread-button").nth(1).click();
      await expectText(messages.nth(0).locator(".message-content"), "Tell me a long story");

      await page.getByRole("banner").getByRole("button", { name: "Lock" }).click();
      await page.getByText("Hearth is locked. Enter your password to continue.").waitFor();
      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await waitForWorkspace(page, name);
      await expectText(messages.nth(0).locator(".message-content"), "Tell me a long story");
      await expectText(threads.locator('[aria-current="page"] .thread-title'), /story/i);
    });
  });

  test("idle lock keeps the open thread", { timeout: 150_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const threads = page.getByRole("navigation", { name: "Chats" });
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");
      const composer = page.getByRole("textbox", { name: "Message" });

      // One minute is the shortest idle lock.
      await saveSettings(page, (dialog) => dialog.getByLabel("Lock after idle minutes").fill("1"));
      await threads.locator(".thread-button").nth(1).click();
      await expectText(messages.nth(0).locator(".message-content"), "Tell me a long story");
      await composer.fill("A draft written before the lock");

      // Without any request for a minute the server locks the profile, and
      // the page covers the chat with the unlock prompt on its own.
      const unlock = page.getByRole("dialog", { name: "Hearth is locked" });
      await unlock.waitFor({ timeout: 110_000 });
      assert.notEqual(await page.locator(".workspace").getAttribute("inert"), null, "the workspace is not inert");
      await suite.screenshot("idle-locked.png");

      await unlock.getByLabel("Password", { exact: true }).fill(password);
      await unlock.getByRole("button", { name: "Unlock" }).click();
      await unlock.waitFor({ state: "detached" });
      await expectText(messages.nth(0).locator(".message-content"), "Tell me a long story");
      assert.equal(await composer.inputValue(), "A draft written before the lock");

      await saveSettings(page, (dialog) => dialog.getByLabel("Lock after idle minutes").fill("15"));
    });
  });
});
