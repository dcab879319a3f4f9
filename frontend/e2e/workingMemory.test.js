// @ts-check
// The working memory: editing it in the Memory dialog, a change the model
// makes during a reply, shown in a notice with Undo, and its history.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createProfileThroughApi,
  csrfStorageKey,
  expectText,
  sendMessage,
  signInThroughPicker,
  startSuite,
  unlabelledControls,
  waitUntil,
} from "./harness.js";

const name = "Rosalind";
const password = "photo-51-diffraction";

const firstText = "# About the user\n- **Name**: Rosalind\n- **Location**:";
const modelText = "# About the user\n- **Name**: Rosalind\n- **Location**: London";

/**
 * Replaces the working memory through the API inside the page, as another
 * window of the same profile would, and returns the new version.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} content
 * @param {number} version
 * @returns {Promise<number>}
 */
async function replaceThroughApi(page, content, version) {
  const { status, body } = await page.evaluate(
    async ({ key, content, version }) => {
      const response = await fetch("/api/memory/working", {
        method: "PUT",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRF-Token": sessionStorage.getItem(key) ?? "",
        },
        body: JSON.stringify({ content, version }),
      });
      return { status: response.status, body: await response.text() };
    },
    { key: csrfStorageKey, content, version },
  );
  assert.equal(status, 200, `PUT /api/memory/working answered ${status}: ${body}`);
  return /** @type {{ version: number }} */ (JSON.parse(body)).version;
}

describe("working memory", { timeout: 180_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("working-memory");
    await createProfileThroughApi(suite.hearth.url, name, password);
    await suite.page.goto(suite.hearth.url);
    await signInThroughPicker(suite.page, name, password);
  });

  after(async () => {
    await suite?.close();
  });

  test("edit in the Memory dialog", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      await page.getByRole("banner").getByRole("button", { name: "Memory" }).click();
      const dialog = page.getByRole("dialog", { name: "Memory" });
      const document = dialog.getByLabel("Document (Markdown)");
      await document.waitFor();
      assert.equal(await document.inputValue(), "");
      assert.notEqual(await document.getAttribute("placeholder"), "", "the empty document shows no template");
      await dialog.getByText("There are no earlier versions yet.").waitFor();

      await document.fill(firstText);
      await dialog.getByRole("button", { name: "Save", exact: true }).click();
      await dialog.getByText("Saved as version 1.").waitFor();
      await dialog.getByText(/^Version 1, /).waitFor();
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name in the Memory dialog");

      // A change made elsewhere since the dialog loaded is not overwritten.
      await replaceThroughApi(page, `${firstText}\n- **Job**: chemist`, 1);
      await document.fill(`${firstText}\n- **Hobby**: climbing`);
      await dialog.getByRole("button", { name: "Save", exact: true }).click();
      await dialog.getByRole("alert").getByText(/was changed somewhere else/).waitFor();
      await suite.screenshot("working-memory-conflict.png");

      // Loading the latest version requests confirmation first, because it replaces the typed
      // text. Keep my text leaves it as it is.
      await dialog.getByRole("button", { name: "Load the latest version" }).click();
      await dialog.getByText(/^Loading the latest version replaces the text you typed/).waitFor();
      await dialog.getByRole("button", { name: "Keep my text" }).click();
      assert.equal(await document.inputValue(), `${firstText}\n- **Hobby**: climbing`);
      await dialog.getByRole("button", { name: "Load the latest version" }).click();
      await dialog.getByRole("button", { name: "Replace my text" }).click();
      await waitUntil("the latest version is loaded", async () =>
        (await document.inputValue()) === `${firstText}\n- **Job**: chemist` || (await document.inputValue()),
      );

      // Reverting to version 1 makes its text current again, as version 3.
      await dialog.getByRole("button", { name: "Revert to version 1" }).click();
      await dialog.getByText(/^Reverted\. The text of version 1 is now the current version\.$/).waitFor();
      assert.equal(await document.inputValue(), firstText);
      await dialog.getByText(/^Version 3, /).waitFor();
      await dialog.getByText(/^Version 2, /).click();
      await expectText(dialog.locator(".history-item details[open] .diff-added"), /- \*\*Job\*\*: chemist$/);
      await dialog.getByRole("button", { name: "Close" }).click();
    });
  });

  test("model change shows a notice with Undo", { timeout: 60_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the new chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);

      // The model calls the tool, then writes its reply once it has the result.
      await fake.queueReply({
        chunks: ["Noted. "],
        toolCalls: { 0: [{ function: { name: "updateWorkingMemory", arguments: { memory: modelText } } }] },
      });
      await fake.queueReply({ chunks: ["London ", "it is."] });
      await sendMessage(page, "I live in London.");
      await expectText(messages.nth(1).locator(".message-content"), "Noted. London it is.");
      await messages.nth(1).getByText("Updated the working memory.").waitFor();

      // The notice shows the changed lines.
      const notices = page.getByRole("region", { name: "Notifications" });
      const notice = notices.getByRole("region", { name: "Memory updated" });
      await notice.waitFor();
      const diff = notice.getByLabel("Changes to the working memory");
      await expectText(diff.locator(".diff-removed"), /- \*\*Location\*\*:$/);
      await expectText(diff.locator(".diff-added"), /- \*\*Location\*\*: London$/);
      await suite.screenshot("memory-notice.png");

      // Undo restores the text from before the change.
      await notice.getByRole("button", { name: "Undo" }).click();
      await notice.getByText("The change was undone.").waitFor();
      assert.equal(await notice.getByRole("button", { name: "Undo" }).count(), 0);
      await notice.getByRole("button", { name: "Dismiss" }).click();
      await notices.waitFor({ state: "detached" });

      await page.getByRole("banner").getByRole("button", { name: "Memory" }).click();
      const dialog = page.getByRole("dialog", { name: "Memory" });
      const document = dialog.getByLabel("Document (Markdown)");
      await waitUntil("the document is loaded", async () => (await document.inputValue()) !== "" || "empty");
      assert.equal(await document.inputValue(), firstText);
      await dialog.getByText(/^Version 5, /).waitFor();
      await dialog.getByText(/^Version 4, /).waitFor();
      await dialog.getByRole("button", { name: "Close" }).click();
    });
  });
});
