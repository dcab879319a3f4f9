// @ts-check
// The Settings dialog: a round trip of every setting through the server,
// errors next to the field they name, an API key that the page never shows
// once saved, and a model download into the fake Ollama.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  csrfStorageKey,
  expectText,
  inputDescription,
  sendMessage,
  signInThroughPicker,
  startSuite,
  testModel,
  unlabelledControls,
  waitUntil,
  webStorageEntries,
} from "./harness.js";

const name = "Hedy";
const password = "frequency-hopping-1942";
const apiKey = "sk-test-5f2c9a7e41d86b03";
// A loopback port where no server listens, so that the OpenAI-compatible
// backend is unreachable and nothing leaves this computer.
const closedServer = "http://127.0.0.1:9/v1";

/**
 * Returns the body of GET /api/settings, fetched inside the page with its
 * session, as the page's own requests are.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string>}
 */
async function settingsBody(page) {
  const { status, body } = await page.evaluate(async (key) => {
    const response = await fetch("/api/settings", {
      headers: { Accept: "application/json", "X-CSRF-Token": sessionStorage.getItem(key) ?? "" },
    });
    return { status: response.status, body: await response.text() };
  }, csrfStorageKey);
  assert.equal(status, 200, `GET /api/settings answered ${status}: ${body}`);
  return body;
}

describe("settings", { timeout: 180_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("settings");
  });

  after(async () => {
    await suite?.close();
  });

  test("round trip keeps the API key hidden", { timeout: 120_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      await createProfileThroughApi(suite.hearth.url, name, password);
      await page.goto(suite.hearth.url);
      await signInThroughPicker(page, name, password);

      // A profile that never saved settings shows the Ollama server and
      // model that Hearth started with, and that server's models.
      await page.getByRole("banner").getByRole("button", { name: "Settings" }).click();
      const dialog = page.getByRole("dialog", { name: "Settings" });
      const serverUrl = dialog.getByLabel("Server URL");
      await waitUntil("the settings are loaded", async () => (await serverUrl.inputValue()) !== "" || "empty");
      assert.equal(await serverUrl.inputValue(), fake.url);
      assert.equal(await dialog.getByRole("radio", { name: "Ollama" }).isChecked(), true);
      const modelInput = dialog.getByLabel("Model", { exact: true });
      assert.equal(await modelInput.inputValue(), testModel);
      await dialog.getByText(/^The server has \d+ models?\.$/).waitFor();
      assert.notEqual(await dialog.getByLabel("System prompt").getAttribute("placeholder"), "", "no default in the placeholder");
      await dialog.getByRole("heading", { name: "Download a model" }).waitFor();
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name in the Settings dialog");
      await suite.screenshot("settings-ollama.png");

      // The page's own check puts its error next to the field.
      const temperature = dialog.getByLabel("Temperature");
      await temperature.fill("3");
      await dialog.getByRole("button", { name: "Save settings" }).click();
      await waitUntil("the temperature shows its error", async () => {
        const description = await inputDescription(temperature);
        return description.includes("Enter a number from 0 to 2") || description;
      });
      assert.equal(await temperature.getAttribute("aria-invalid"), "true");
      assert.equal(await temperature.evaluate((element) => element === document.activeElement), true);

      // The server's check does too: a base URL with a query passes the
      // page's check and is rejected with field backend.baseUrl.
      await temperature.fill("0.5");
      await dialog.getByRole("radio", { name: "OpenAI-compatible server" }).check();
      await serverUrl.fill(`${closedServer}?team=1`);
      await modelInput.fill("gpt-test");
      const keyInput = dialog.getByLabel("API key");
      assert.equal(await keyInput.getAttribute("type"), "password");
      await keyInput.fill(apiKey);
      await dialog.getByRole("button", { name: "Save settings" }).click();
      await waitUntil("the server URL shows the server's error", async () => {
        const description = await inputDescription(serverUrl);
        return /query or fragment/.test(description) || description;
      });

      // Every other setting, saved.
      await serverUrl.fill(closedServer);
      await dialog.getByLabel("Context length (tokens)").fill("4096");
      await dialog.getByLabel("Title model").fill("gpt-test-mini");
      await dialog.getByLabel("System prompt").fill("Answer briefly.");
      await dialog.getByLabel("Last messages").fill("12");
      await dialog.getByLabel("Template").fill("# Notes\n- Name:");
      await dialog.getByRole("radio", { name: "Per chat" }).check();
      await dialog.getByRole("button", { name: "Save settings" }).click();
      await expectText(dialog.locator("form").getByRole("status").last(), "Settings saved.");

      // The key is saved, and nothing on the page or from the server shows it.
      await dialog.getByText("A key is saved").waitFor();
      await dialog.getByRole("button", { name: "Replace" }).waitFor();
      await dialog.getByRole("button", { name: "Remove" }).waitFor();
      assert.equal(await dialog.getByLabel("API key").count(), 0, "an API key input is still on screen");
      assert.equal((await page.content()).includes(apiKey), false, "the page shows the API key");
      const stored = await settingsBody(page);
      assert.equal(stored.includes(apiKey), false, "GET /api/settings returned the API key");
      assert.equal(JSON.parse(stored).backend.apiKeySet, true);
      const storage = await webStorageEntries(page);
      assert.equal(JSON.stringify(storage).includes(apiKey), false, "web storage holds the API key");

      // The closed server cannot list its models, and the dialog shows why.
      const unreachable = dialog.getByText(/^Hearth could not list the server's models:/);
      await unreachable.waitFor();
      await unreachable.scrollIntoViewIfNeeded();
      await suite.screenshot("settings-openai.png");

      // The settings come back as saved when the dialog opens again.
      await dialog.getByRole("button", { name: "Close" }).click();
      await page.getByRole("banner").getByRole("button", { name: "Settings" }).click();
      await waitUntil("the settings are loaded again", async () => (await serverUrl.inputValue()) === closedServer || (await serverUrl.inputValue()));
      assert.equal(await dialog.getByRole("radio", { name: "OpenAI-compatible server" }).isChecked(), true);
      assert.equal(await modelInput.inputValue(), "gpt-test");
      assert.equal(await temperature.inputValue(), "0.5");
      assert.equal(await dialog.getByLabel("Context length (tokens)").inputValue(), "4096");
      assert.equal(await dialog.getByLabel("Title model").inputValue(), "gpt-test-mini");
      assert.equal(await dialog.getByLabel("System prompt").inputValue(), "Answer briefly.");
      assert.equal(await dialog.getByLabel("Last messages").inputValue(), "12");
      assert.equal(await dialog.getByLabel("Template").inputValue(), "# Notes\n- Name:");
      assert.equal(await dialog.getByRole("radio", { name: "Per chat" }).isChecked(), true);
      await dialog.getByText("A key is saved").waitFor();
      assert.equal((await page.content()).includes(apiKey), false, "the reopened dialog shows the API key");

      // Replace opens an empty input for a new key, and Keep goes back.
      await dialog.getByRole("button", { name: "Replace" }).click();
      const newKey = dialog.getByLabel("New API key");
      assert.equal(await newKey.inputValue(), "");
      await dialog.getByRole("button", { name: "Keep the saved key" }).click();
      await dialog.getByText("A key is saved").waitFor();

      // Remove deletes the key on save.
      await dialog.getByRole("button", { name: "Remove" }).click();
      await dialog.getByText("The saved key is removed when you save.").waitFor();
      await dialog.getByRole("button", { name: "Save settings" }).click();
      await expectText(dialog.locator("form").getByRole("status").last(), "Settings saved.");
      assert.equal(await dialog.getByText("A key is saved").count(), 0);
      assert.equal(JSON.parse(await settingsBody(page)).backend.apiKeySet, false);

      // Back to the fake Ollama, with one working memory for the profile.
      await dialog.getByRole("radio", { name: "Ollama" }).check();
      await serverUrl.fill(fake.url);
      await modelInput.fill(testModel);
      await dialog.getByLabel("Title model").fill("");
      await dialog.getByRole("radio", { name: "For the whole profile" }).check();
      await dialog.getByRole("button", { name: "Save settings" }).click();
      await expectText(dialog.locator("form").getByRole("status").last(), "Settings saved.");
      await dialog.getByText(/^The server has \d+ models?\.$/).waitFor();
    });
  });

  test("download a model from Settings", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const dialog = page.getByRole("dialog", { name: "Settings" });
      const status = dialog.getByText(/^The server has \d+ models?\.$/);
      const before = Number((await status.innerText()).match(/\d+/)?.[0]);

      await dialog.getByLabel("Model name").fill("qwen2.5:0.5b");
      await dialog.getByRole("button", { name: "Download", exact: true }).click();
      await dialog.getByText("qwen2.5:0.5b is downloaded.").waitFor();
      await expectText(status, `The server has ${before + 1} models.`);
      await dialog.getByRole("button", { name: "Close" }).click();

      // The chat uses the saved settings: the fake gets the system prompt.
      const threads = page.getByRole("navigation", { name: "Chats" });
      await threads.getByRole("button", { name: "New chat" }).click();
      const messages = page.getByRole("log", { name: "Messages" }).getByRole("article");
      await sendMessage(page, "Hello");
      await expectText(messages.nth(1).locator(".message-content"), "You said: Hello");
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const [request] = await fake.chatRequests();
      assert.ok(request !== undefined, "the fake received no chat request");
      assert.equal(
        request.messages.some((message) => message.role === "system" && message.content.includes("Answer briefly.")),
        true,
        "the chat request lacks the saved system prompt",
      );
      assert.match(request.model, new RegExp(`^${testModel}(:latest)?$`));

      // The thread's own model, chosen in the chat header, writes its next reply.
      const threadModel = page.getByRole("combobox", { name: "Model for this chat" });
      await threadModel.getByRole("option", { name: /^qwen2\.5:0\.5b/ }).waitFor({ state: "attached" });
      await threadModel.selectOption({ label: (await threadModel.getByRole("option", { name: /^qwen2\.5:0\.5b/ }).innerText()).trim() });
      await waitUntil("the thread keeps its model", async () => !(await threadModel.isDisabled()));
      await sendMessage(page, "Again");
      await expectText(messages.nth(3).locator(".message-content"), "You said: Again");
      const again = (await fake.chatRequests()).find((candidate) => candidate.messages.at(-1)?.content === "Again");
      assert.ok(again !== undefined, "the fake received no request for the second message");
      assert.match(again.model, /^qwen2\.5:0\.5b$/);

      // After a reload the thread still uses its model.
      await page.reload();
      await waitUntil("the picker shows the thread's model", async () => {
        const value = await threadModel.inputValue().catch(() => "");
        return /^qwen2\.5:0\.5b/.test(value) || value;
      });
    });
  });
});
