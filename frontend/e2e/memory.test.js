// @ts-check
// Semantic recall as a user sees it. A reply in a new chat lists the earlier
// message it recalled under "Used memories". The Memory dialog explains the
// built-in embedder, and it rejects an Ollama model that is not installed
// with the command that installs it, then switches to it once it is.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  expectText,
  isTitleRequest,
  recallStatus,
  sendMessage,
  startSuite,
  testModel,
  unlabelledControls,
  waitForOpenThreadTitle,
  waitForWorkspace,
  waitUntil,
} from "./harness.js";

const name = "Grace";
const password = "compiler-a0-1952";

// The markup checks that a recalled message is shown as text, not as HTML.
const landlordMessage = "My landlord <b>Mr. Whitaker</b> raises the rent to 1,450 euros from April.";
const question = "What did I tell you about my landlord?";
const embeddingModel = "nomic-embed-text";

describe("memory", { timeout: 180_000 }, () => {
  /** @type {import("./harness.js").Suite} */
  let suite;

  before(async () => {
    suite = await startSuite("memory");
  });

  after(async () => {
    await suite?.close();
  });

  test("used memories and embedder switch", { timeout: 120_000 }, async (t) => {
    await suite.captureFailure(t.name, async () => {
      const { page } = suite;
      const fake = /** @type {import("./harness.js").FakeOllama} */ (suite.fake);

      // Sign up: the first profile, whose recovery key is confirmed.
      await page.goto(suite.hearth.url);
      await page.getByRole("heading", { name: "Create your profile" }).waitFor();
      await page.getByLabel("Name").fill(name);
      await page.getByLabel("Password", { exact: true }).fill(password);
      await page.getByLabel("Confirm password").fill(password);
      await page.getByRole("button", { name: "Create profile" }).click();
      await page.getByRole("checkbox", { name: "I have saved my recovery key" }).check();
      await page.getByRole("button", { name: "Continue" }).click();
      await waitForWorkspace(page, name);

      const threads = page.getByRole("navigation", { name: "Chats" });
      const log = page.getByRole("log", { name: "Messages" });
      const messages = log.getByRole("article");

      // In the first chat, the user mentions the landlord.
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the first chat is empty", async () => (await log.isVisible()) && (await messages.count()) === 0);
      await fake.queueReply({ chunks: ["Noted: ", "Mr. Whitaker, ", "from April."] });
      await sendMessage(page, landlordMessage);
      await expectText(messages.nth(1).locator(".message-content"), "Noted: Mr. Whitaker, from April.");
      assert.equal(await log.locator(".used-memories").count(), 0, "the first reply lists used memories");

      // Both messages are embedded in the background after the reply.
      await waitUntil("recall has embedded the first chat", async () => {
        const status = await recallStatus(page);
        return (status.state === "ready" && status.pending === 0 && status.vectors >= 2) || status;
      });

      // Hearth titles the first chat in the background with a request to the
      // fake, which must not take the reply queued for the second chat.
      const firstTitle = await waitForOpenThreadTitle(page);

      // In a second chat, the user's question about the landlord gets a
      // reply that lists the earlier message, collapsed.
      await threads.getByRole("button", { name: "New chat" }).click();
      await waitUntil("the second chat is empty", async () => (await messages.count()) === 0);
      await fake.queueReply({ chunks: ["You told me ", "about Mr. Whitaker."] });
      await sendMessage(page, question);
      const reply = messages.nth(1);
      await expectText(reply.locator(".message-content"), "You told me about Mr. Whitaker.");

      const used = reply.locator("details.used-memories");
      const summary = used.locator("summary");
      const count = Number((await expectText(summary, /^Used memories \(\d+\)$/)).match(/\d+/)?.[0]);
      assert.ok(count >= 1, `the summary counts ${count} used memories`);
      assert.equal(await used.evaluate((element) => /** @type {HTMLDetailsElement} */ (element).open), false);
      // The title of the first chat repeats its first words, so the item is
      // found by its text alone.
      const landlordItem = used
        .getByRole("listitem")
        .filter({ has: page.locator(".used-memory-text", { hasText: "Mr. Whitaker</b> raises the rent" }) });
      assert.equal(await landlordItem.isVisible(), false, "the used memories start expanded");

      await summary.click();
      await landlordItem.waitFor();
      assert.equal(await used.getByRole("listitem").count(), count);
      assert.equal(
        (await landlordItem.locator(".used-memory-text").innerText()).trim(),
        landlordMessage,
        "the recalled text differs from the message",
      );
      assert.equal(await used.locator("b").count(), 0, "HTML in a recalled message was rendered");
      assert.equal((await landlordItem.locator(".used-memory-thread").innerText()).trim(), firstTitle);
      assert.match(await landlordItem.locator(".used-memory-source").innerText(), /\b\d{1,3}% similar\b/);
      assert.match((await landlordItem.locator("time").getAttribute("datetime")) ?? "", /^\d{4}-\d{2}-\d{2}T/);
      assert.match(await landlordItem.locator("time").innerText(), /\d{4}/);
      assert.match(await landlordItem.locator(".used-memory-author").innerText(), /^You$/);
      await suite.screenshot("used-memories.png");

      // The model received the recalled message with the question.
      const requests = (await fake.chatRequests()).filter((request) => !isTitleRequest(request));
      assert.equal(requests.length, 2);
      const recalledInPrompt = requests[1]?.messages.some(
        (message) => message.role === "system" && message.content.includes("Mr. Whitaker"),
      );
      assert.equal(recalledInPrompt, true, "the second prompt has no recalled message");

      // The Memory dialog shows the built-in embedder and suggests Ollama.
      await page.getByRole("banner").getByRole("button", { name: "Memory" }).click();
      const dialog = page.getByRole("dialog", { name: "Memory" });
      await dialog.getByText("Messages remembered").waitFor();
      await dialog.getByText(/The built-in embedder matches words, not meaning/).waitFor();
      await expectText(dialog.locator("code.command"), `ollama pull ${embeddingModel}`);
      await expectText(dialog.locator(".facts dd").nth(0), "Ready");
      await expectText(dialog.locator(".facts dd").nth(3), /^Built-in \(offline\)\s*lexical-v1-1024, 1024 dimensions$/);
      assert.equal(await dialog.getByRole("radio", { name: "Built-in (offline)" }).isChecked(), true);
      assert.deepEqual(await unlabelledControls(page), [], "controls without an accessible name in the Memory dialog");
      await suite.screenshot("memory-dialog.png");

      // Ollama without the embedding model: the server's sentence with the
      // command that installs it, next to the form. Nothing changes.
      await fake.setModels([testModel]);
      await dialog.getByRole("radio", { name: "Ollama" }).check();
      const modelInput = dialog.getByLabel("Model", { exact: true });
      assert.equal(await modelInput.inputValue(), embeddingModel);
      const submit = dialog.getByRole("button", { name: "Use this embedder" });
      await submit.click();
      const alert = dialog.locator("form").getByRole("alert");
      await expectText(alert, new RegExp(`Install it with: ollama pull ${embeddingModel}$`));
      await expectText(dialog.locator(".facts dd").nth(3), /^Built-in \(offline\)/);
      await suite.screenshot("embedder-missing-model.png");

      // Installed, the model is accepted. The status names it, with the
      // progress of embedding every message again or, once that finished,
      // without a progress bar.
      await fake.setModels([testModel, embeddingModel]);
      await submit.click();
      await expectText(dialog.locator("form").getByRole("status"), `Saved. Embedder: Ollama, model ${embeddingModel}.`);
      assert.equal(await alert.count(), 0, "the error stays after the embedder was accepted");
      await dialog.getByText(/The built-in embedder matches words/).waitFor({ state: "detached" });

      // Each check reads the progress block in one step without waiting,
      // because it disappears as soon as the re-embedding ends.
      let sawProgress = false;
      await waitUntil(
        "the status reaches the Ollama embedder",
        async () => {
          const [progress] = await dialog.locator(".reembedding").evaluateAll((blocks) =>
            blocks.map((block) => ({
              text: /** @type {HTMLElement} */ (block).innerText,
              hasBar: block.querySelector("progress") !== null,
            })),
          );
          if (progress !== undefined) {
            assert.match(progress.text, /^Embedding your messages again(: \d+ of \d+|…)\n/);
            assert.match(progress.text, /recall keeps using the vectors of the previous embedder \(lexical-v1-1024\)/);
            assert.equal(progress.hasBar, true, "the progress block has no progress bar");
            if (!sawProgress) {
              sawProgress = true;
              await dialog.getByRole("heading", { name: "Recall" }).scrollIntoViewIfNeeded();
              await suite.screenshot("reembedding.png");
            }
            return `in progress: ${progress.text}`;
          }
          const embedderText = (await dialog.locator(".facts dd").nth(3).innerText({ timeout: 1_000 })).trim();
          return embedderText.includes(`ollama:${embeddingModel}, 768 dimensions`) || embedderText;
        },
        { timeoutMs: 30_000 },
      );
      // With four messages the re-embedding may end before the form's
      // request returns, and then no progress bar is shown.
      if (sawProgress) {
        await dialog.getByText(`Every message is now embedded with ollama:${embeddingModel}.`).waitFor();
      }
      t.diagnostic(sawProgress ? "the progress bar was shown" : "the re-embedding ended before a progress bar was shown");
      await waitUntil("recall has embedded every message with Ollama", async () => {
        const status = await recallStatus(page);
        return (status.embedder === `ollama:${embeddingModel}` && status.pending === 0) || status;
      });
      const remembered = Number(await dialog.locator(".facts dd").nth(1).innerText());
      assert.ok(remembered >= 2, `the dialog shows ${remembered} messages remembered`);
      await suite.screenshot("embedder-switched.png");

      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });
    });
  });
});
