// @ts-check
// Test harness for the browser tests: it starts the fake Ollama command and
// `hearth serve` as child processes on loopback ports, each in a fresh temp
// data directory, and drives Debian's Chromium with playwright-core.
//
// Inputs, from the environment:
//   HEARTH_BIN       path to the built hearth binary (required)
//   FAKE_OLLAMA_BIN  path to the built fake-ollama command (required)
//   E2E_ARTIFACTS    folder for screenshots and logs (default ../tmp/e2e,
//                    relative to frontend/)
//   CHROMIUM_BIN     browser to drive (default /usr/bin/chromium)

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { accessSync, constants, createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const frontendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Folder that receives each suite's screenshots and logs. */
export const artifactsRoot = path.resolve(frontendDir, process.env.E2E_ARTIFACTS ?? "../tmp/e2e");

/** The model that Hearth is configured to use through HEARTH_MODEL, installed in the fake by default. */
export const testModel = "llama3.2";

// Flags for a quiet, offline Chromium. Playwright 1.65 already passes
// --disable-background-networking, --disable-component-update, --disable-sync
// and --no-first-run, and they are repeated so that they stay set if its
// defaults change.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

// How long a child process may take to print its listening line, and to exit
// after SIGTERM before it is killed.
const startTimeoutMs = 20_000;
const stopTimeoutMs = 10_000;

/** Default time limit of the polling assertions, in milliseconds. */
export const defaultWaitMs = 10_000;

// Children still running when the test process exits, for example after an
// uncaught error, are killed so that no server outlives the test run.
/** @type {Set<import("node:child_process").ChildProcess>} */
const liveChildren = new Set();
process.on("exit", () => {
  for (const child of liveChildren) {
    child.kill("SIGKILL");
  }
});

/**
 * @typedef {object} ServerProcess
 * @property {string} url           Base URL from the process's listening line.
 * @property {() => Promise<void>} stop  Sends SIGTERM and waits for the exit.
 */

/**
 * @typedef {object} Suite
 * @property {string} name            Name of the suite's artifacts folder.
 * @property {string} artifactsDir    Where screenshots and logs go.
 * @property {string} dataDir         Hearth's data directory.
 * @property {FakeOllama | null} fake The fake Ollama, or null for a suite without one.
 * @property {ServerProcess} hearth   The running `hearth serve`.
 * @property {import("playwright-core").Page} page
 * @property {(label: string) => Promise<import("playwright-core").Page>} openBrowser
 *   Starts a second Chromium with its own profile folder, so its cookies are
 *   apart from page's, as for another person at the same computer. Its
 *   console goes to browser-console-LABEL.log, and it stops with the suite.
 * @property {() => Promise<void>} restartHearth  Stops Hearth and starts it again on the same address and data.
 * @property {(file: string, target?: import("playwright-core").Page) => Promise<void>} screenshot
 *   Saves a PNG of target, by default page, into artifactsDir.
 * @property {(testName: string, fn: () => Promise<void>) => Promise<void>} captureFailure
 *   Runs a test body and, when it fails, saves a screenshot named after the
 *   test of page and of each browser from openBrowser.
 * @property {() => Promise<void>} close  Stops everything and removes the temp folders.
 */

/**
 * Starts a fake Ollama, `hearth serve` and Chromium for one test file.
 *
 * @param {string} name  Folder name for the suite's artifacts.
 * @param {{ ollama?: "fake" | "unreachable" }} [options]
 *   "unreachable" points OLLAMA_HOST at a closed loopback port instead of
 *   starting the fake.
 * @returns {Promise<Suite>}
 */
export async function startSuite(name, options = {}) {
  const hearthBin = requireExecutable("HEARTH_BIN");
  const fakeBin = options.ollama === "unreachable" ? null : requireExecutable("FAKE_OLLAMA_BIN");
  const chromiumBin = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

  const artifactsDir = path.join(artifactsRoot, name);
  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  const tempDir = mkdtempSync(path.join(os.tmpdir(), `hearth-e2e-${name}-`));
  const dataDir = path.join(tempDir, "data");

  /** @type {Array<() => Promise<void>>} */
  const cleanups = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err) => console.error(`e2e cleanup of ${name} failed:`, err));
    }
    rmSync(tempDir, { recursive: true, force: true });
  };

  try {
    // 1. The model backend: the fake, or a loopback port where nothing listens.
    let fake = null;
    let ollamaUrl;
    if (fakeBin !== null) {
      const fakeProcess = await startServer({
        name: "fake-ollama",
        command: fakeBin,
        args: ["--addr", "127.0.0.1:0"],
        env: process.env,
        readyLine: /^fake-ollama listening on (http:\/\/127\.0\.0\.1:\d+)$/,
        artifactsDir,
      });
      cleanups.push(fakeProcess.stop);
      fake = new FakeOllama(fakeProcess.url);
      ollamaUrl = fakeProcess.url;
    } else {
      ollamaUrl = `http://127.0.0.1:${await closedLoopbackPort()}`;
    }

    // 2. Hearth. A restart reuses the address so that the page can reload.
    const hearthEnv = { ...process.env, OLLAMA_HOST: ollamaUrl, HEARTH_MODEL: testModel };
    /** @param {string} addr */
    const startHearth = (addr) =>
      startServer({
        name: "hearth",
        command: hearthBin,
        args: ["serve", "--addr", addr, "--data", dataDir],
        env: hearthEnv,
        readyLine: /^Hearth is serving on (http:\/\/127\.0\.0\.1:\d+)\/?$/,
        artifactsDir,
      });
    let hearth = await startHearth("127.0.0.1:0");
    cleanups.push(() => hearth.stop());

    // 3. Chromium with a fresh profile folder, and a log of the page's console.
    const browser = await launchBrowser(
      chromiumBin,
      path.join(tempDir, "chromium-profile"),
      path.join(artifactsDir, "browser-console.log"),
    );
    cleanups.push(browser.close);
    const { page } = browser;

    /** @type {Map<string, import("playwright-core").Page>} */
    const otherPages = new Map();

    /** @type {Suite} */
    const suite = {
      name,
      artifactsDir,
      dataDir,
      fake,
      hearth,
      page,
      async openBrowser(label) {
        assert.ok(!otherPages.has(label), `a browser labelled ${label} is already open`);
        const other = await launchBrowser(
          chromiumBin,
          path.join(tempDir, `chromium-profile-${label}`),
          path.join(artifactsDir, `browser-console-${label}.log`),
        );
        cleanups.push(other.close);
        otherPages.set(label, other.page);
        return other.page;
      },
      async restartHearth() {
        const addr = new URL(hearth.url).host;
        await hearth.stop();
        hearth = await startHearth(addr);
        suite.hearth = hearth;
      },
      async screenshot(file, target = page) {
        await target.screenshot({ path: path.join(artifactsDir, file), fullPage: true });
      },
      async captureFailure(testName, fn) {
        try {
          await fn();
        } catch (err) {
          const base = `failed-${testName.replace(/[^a-z0-9]+/gi, "-")}`;
          await suite.screenshot(`${base}.png`).catch(() => undefined);
          for (const [label, other] of otherPages) {
            await suite.screenshot(`${base}-${label}.png`, other).catch(() => undefined);
          }
          throw err;
        }
      },
      close,
    };
    return suite;
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Launches Chromium with the profile folder profileDir and writes the
 * console of its page, and the page's uncaught errors, to consoleFile.
 *
 * @param {string} chromiumBin
 * @param {string} profileDir
 * @param {string} consoleFile
 * @returns {Promise<{ page: import("playwright-core").Page, close: () => Promise<void> }>}
 */
async function launchBrowser(chromiumBin, profileDir, consoleFile) {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumBin,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1100, height: 760 },
  });
  const consoleLog = createWriteStream(consoleFile);
  const close = async () => {
    await context.close();
    consoleLog.end();
    await once(consoleLog, "close");
  };

  try {
    const page = context.pages()[0] ?? (await context.newPage());
    /** @param {string} line */
    const logConsole = (line) => {
      // The page may still log while the browser closes, after the file is closed.
      if (!consoleLog.writableEnded) {
        consoleLog.write(`${line}\n`);
      }
    };
    page.on("console", (message) => logConsole(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (err) => logConsole(`pageerror: ${err.stack ?? err.message}`));
    return { page, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The fields of a recorded Ollama chat request that the tests read.
 *
 * @typedef {{ model: string, messages: Array<{ role: string, content: string }> }} OllamaChatRequest
 */

/** Client for the fake Ollama's control routes under /_fake/. */
export class FakeOllama {
  /** @param {string} url  Base URL of the fake. */
  constructor(url) {
    this.url = url;
  }

  /**
   * Queues the reply to the next chat request.
   *
   * @param {{ chunks: string[], delayMs?: number, holdAfter?: number, toolCalls?: Record<number, Array<{ function: { name: string, arguments: Record<string, unknown> } }>> }} reply
   *   holdAfter N sends N chunks and then waits for release(). toolCalls
   *   maps a line number to the tool calls sent on that line, and line
   *   chunks.length is the final line.
   */
  async queueReply(reply) {
    await this.#post("/_fake/replies", reply);
  }

  /** Lets a held reply continue. */
  async release() {
    await this.#post("/_fake/release", {});
  }

  /** Clears queued replies and recorded requests and restores the default models. */
  async reset() {
    await this.#post("/_fake/reset", {});
  }

  /**
   * Sets the installed models. A chat for any other model gets 404 "model not found".
   *
   * @param {string[]} models
   */
  async setModels(models) {
    await this.#post("/_fake/models", { models });
  }

  /**
   * Returns the recorded chat requests in Ollama's format, oldest first.
   *
   * @returns {Promise<OllamaChatRequest[]>}
   */
  async chatRequests() {
    const response = await fetch(`${this.url}/_fake/requests`);
    assert.equal(response.status, 200, `GET /_fake/requests answered ${response.status}`);
    return /** @type {OllamaChatRequest[]} */ (await response.json());
  }

  /**
   * @param {string} route
   * @param {unknown} body
   */
  async #post(route, body) {
    const response = await fetch(`${this.url}${route}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 204, `POST ${route} answered ${response.status}: ${await response.text()}`);
  }
}

/**
 * Creates a profile through the API, as the first-run form would, so that a
 * test can start at the profile picker. Every profile after the first needs
 * an administrator's bearer token. It returns the profile's recovery key.
 *
 * @param {string} hearthUrl
 * @param {string} name
 * @param {string} password
 * @param {string} [adminToken]
 * @returns {Promise<string>}
 */
export async function createProfileThroughApi(hearthUrl, name, password, adminToken) {
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/json" };
  if (adminToken !== undefined) {
    headers["Authorization"] = `Bearer ${adminToken}`;
  }
  const response = await fetch(`${hearthUrl}/api/auth/profiles`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name, password }),
  });
  const text = await response.text();
  assert.equal(response.status, 201, `POST /api/auth/profiles answered ${response.status}: ${text}`);
  const body = /** @type {{ recoveryKey: string }} */ (JSON.parse(text));
  assert.match(body.recoveryKey, recoveryKeyPattern);
  return body.recoveryKey;
}

/** The display form of a recovery key: 8 groups of 4 Crockford base32 characters. */
export const recoveryKeyPattern = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/;

/**
 * Signs in through the API, as a script would, and returns the status and,
 * on success, the bearer token.
 *
 * @param {string} hearthUrl
 * @param {string} name
 * @param {string} password
 * @returns {Promise<{ status: number, token: string | null }>}
 */
export async function loginThroughApi(hearthUrl, name, password) {
  const response = await fetch(`${hearthUrl}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, password }),
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    return { status: response.status, token: null };
  }
  const body = /** @type {{ token: string }} */ (await response.json());
  return { status: response.status, token: body.token };
}

/**
 * Sends GET /api/threads with the given credentials and returns the status
 * and the error code, to check whether a session is still accepted. csrf is
 * sent as the X-CSRF-Token header, which a cookie session needs.
 *
 * @param {string} hearthUrl
 * @param {{ token?: string, cookie?: string, csrf?: string }} credentials
 * @returns {Promise<{ status: number, code: string | null }>}
 */
export async function threadsStatus(hearthUrl, { token, cookie, csrf }) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (token !== undefined) {
    headers["Authorization"] = `Bearer ${token}`;
  }
  if (cookie !== undefined) {
    headers["Cookie"] = cookie;
  }
  if (csrf !== undefined) {
    headers["X-CSRF-Token"] = csrf;
  }
  const response = await fetch(`${hearthUrl}/api/threads`, { headers });
  return { status: response.status, code: errorCodeOf(await response.text()) };
}

/**
 * Returns the code of an error body such as {"error": {"code": "unauthorized"}},
 * or null for a body without one.
 *
 * @param {string} text
 * @returns {string | null}
 */
export function errorCodeOf(text) {
  try {
    return JSON.parse(text)?.error?.code ?? null;
  } catch {
    return null;
  }
}

/** The sessionStorage key under which the page keeps the session's secret (src/api.ts). */
export const csrfStorageKey = "hearth.csrf";

/**
 * Returns the session's secret that the page keeps in its sessionStorage, or
 * null when it has none.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string | null>}
 */
export async function csrfSecret(page) {
  return page.evaluate((key) => sessionStorage.getItem(key), csrfStorageKey);
}

/**
 * The fields of the recall status (GET /api/memory/recall) that the tests read.
 *
 * @typedef {{ state: string, embedder?: string, vectors: number, pending: number }} RecallStatus
 */

/**
 * Returns the signed-in profile's recall status, fetched inside the page with
 * its session cookie and secret, as the page's own requests are.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<RecallStatus>}
 */
export async function recallStatus(page) {
  const { status, body } = await page.evaluate(async (key) => {
    const response = await fetch("/api/memory/recall", {
      headers: { Accept: "application/json", "X-CSRF-Token": sessionStorage.getItem(key) ?? "" },
    });
    return { status: response.status, body: await response.text() };
  }, csrfStorageKey);
  assert.equal(status, 200, `GET /api/memory/recall answered ${status}: ${body}`);
  return /** @type {{ status: RecallStatus }} */ (JSON.parse(body)).status;
}

/**
 * Returns the browser's cookies for Hearth as a Cookie header value, so that
 * a test can replay the page's session outside the browser.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} hearthUrl
 * @returns {Promise<string>}
 */
export async function cookieHeader(page, hearthUrl) {
  const cookies = await page.context().cookies(`${hearthUrl}/api/threads`);
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
}

/**
 * Returns the profiles that GET /api/auth/profiles lists, sorted by name.
 *
 * @param {string} hearthUrl
 * @returns {Promise<Array<{ id: string, name: string, role: string }>>}
 */
export async function profilesThroughApi(hearthUrl) {
  const response = await fetch(`${hearthUrl}/api/auth/profiles`);
  assert.equal(response.status, 200, `GET /api/auth/profiles answered ${response.status}`);
  return /** @type {Array<{ id: string, name: string, role: string }>} */ (await response.json());
}

// Accessibility roles of the controls that a person operates, each of which
// needs an accessible name.
const controlRoles = new Set([
  "button",
  "checkbox",
  "combobox",
  "link",
  "listbox",
  "menuitem",
  "radio",
  "searchbox",
  "slider",
  "spinbutton",
  "switch",
  "tab",
  "textbox",
]);

/**
 * Returns the controls on the page that have no accessible name, as
 * "ROLE: HTML" strings, empty when every control is labelled. It reads
 * Chromium's accessibility tree through the DevTools protocol, so the names
 * are the ones Chromium computes from labels, aria-label, aria-labelledby and
 * the text inside, and passes on to screen readers.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string[]>}
 */
export async function unlabelledControls(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("Accessibility.enable");
    await cdp.send("DOM.enable");
    const { nodes } = await cdp.send("Accessibility.getFullAXTree");
    /** @type {string[]} */
    const unlabelled = [];
    for (const node of nodes) {
      const role = String(node.role?.value ?? "");
      const name = String(node.name?.value ?? "").trim();
      if (node.ignored || !controlRoles.has(role) || name !== "") {
        continue;
      }
      let html = `backend node ${node.backendDOMNodeId}`;
      if (node.backendDOMNodeId !== undefined) {
        const { outerHTML } = await cdp.send("DOM.getOuterHTML", { backendNodeId: node.backendDOMNodeId });
        html = outerHTML.slice(0, 200);
      }
      unlabelled.push(`${role}: ${html}`);
    }
    return unlabelled;
  } finally {
    await cdp.detach();
  }
}

/**
 * Returns every entry of the page's localStorage and sessionStorage.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<{ local: Record<string, string>, session: Record<string, string> }>}
 */
export async function webStorageEntries(page) {
  return page.evaluate(() => {
    /** @param {Storage} storage */
    const entries = (storage) => {
      /** @type {Record<string, string>} */
      const result = {};
      for (let index = 0; index < storage.length; index++) {
        const key = storage.key(index);
        if (key !== null) {
          result[key] = storage.getItem(key) ?? "";
        }
      }
      return result;
    };
    return { local: entries(localStorage), session: entries(sessionStorage) };
  });
}

/**
 * Closes page as a person closing the tab would, running its beforeunload
 * handlers. When the browser shows a dialog to confirm leaving, the dialog is
 * dismissed, so that the page stays open, and its type ("beforeunload") is
 * returned. When the page closes without a dialog, it returns null.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string | null>}
 */
export async function tryToClose(page) {
  /** @type {Promise<import("playwright-core").Dialog>} */
  const dialog = new Promise((resolve) => page.once("dialog", resolve));
  /** @type {Promise<null>} */
  const closed = new Promise((resolve) => page.once("close", () => resolve(null)));
  // With runBeforeUnload, close returns without waiting for the page to close.
  await page.close({ runBeforeUnload: true });

  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("the page neither closed nor asked to stay")), defaultWaitMs);
  });
  try {
    const result = await Promise.race([dialog, closed, timeout]);
    if (result === null) {
      return null;
    }
    await result.dismiss();
    return result.type();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Returns the text of the elements that an input's aria-describedby names,
 * such as its error and its hint, joined by spaces.
 *
 * @param {import("playwright-core").Locator} input
 * @returns {Promise<string>}
 */
export async function inputDescription(input) {
  return input.evaluate((element) => {
    const ids = (element.getAttribute("aria-describedby") ?? "").split(/\s+/).filter((id) => id !== "");
    return ids.map((id) => document.getElementById(id)?.textContent?.trim() ?? "").join(" ");
  });
}

/**
 * Waits until the workspace of the named profile is on screen.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} name
 */
export async function waitForWorkspace(page, name) {
  await page.getByText(`Signed in as ${name}`).waitFor();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/**
 * Signs in from the profile picker and waits for the signed-in screen.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} name
 * @param {string} password
 */
export async function signInThroughPicker(page, name, password) {
  // The tile's name starts with the profile's name. A letter or digit
  // after it would make it another profile's, such as "Ada" in "Adam";
  // \p{L} also covers letters outside ASCII, which \b does not.
  const tile = new RegExp(`^${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, "u");
  await page.getByRole("button", { name: tile }).click();
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Title of a thread until Hearth names it after its first reply (memory.DefaultThreadTitle). */
export const defaultThreadTitle = "New Conversation";

/**
 * Reports whether a recorded chat request is the one Hearth sends in the
 * background after a thread's first reply to have the model title the
 * thread. The check matches its system message, titleInstruction in
 * app/titles.go, so it follows that wording.
 *
 * @param {OllamaChatRequest} request
 * @returns {boolean}
 */
export function isTitleRequest(request) {
  const [first] = request.messages;
  return first?.role === "system" && first.content.startsWith("Write a short title");
}

/**
 * Waits until the open thread's title in the sidebar is no longer the
 * default one, and returns it. Hearth writes the title in the background
 * after the first reply, with a chat request of its own to the fake. A test
 * that queues the next reply waits for this first, because the title
 * request may otherwise take the queued reply.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<string>}
 */
export async function waitForOpenThreadTitle(page) {
  const open = page.getByRole("navigation", { name: "Chats" }).locator('[aria-current="page"] .thread-title');
  let title = "";
  await waitUntil(
    "the open thread has a title",
    async () => {
      title = (await open.innerText({ timeout: 1_000 })).trim();
      return (title !== "" && title !== defaultThreadTitle) || title;
    },
    { timeoutMs: 20_000 },
  );
  return title;
}

/**
 * Sends a message from the composer by pressing Enter.
 *
 * @param {import("playwright-core").Page} page
 * @param {string} text
 */
export async function sendMessage(page, text) {
  const composer = page.getByRole("textbox", { name: "Message" });
  await composer.fill(text);
  await composer.press("Enter");
}

/**
 * Polls check until it returns true, and fails with the last value it
 * returned (or the last error it threw) when time runs out. This is the
 * harness's stand-in for Playwright Test's `expect.poll`, which
 * playwright-core does not include.
 *
 * @param {string} description  What is awaited, for the failure message.
 * @param {() => Promise<unknown>} check  Returns true when the condition holds, or a value to report.
 * @param {{ timeoutMs?: number }} [options]
 */
export async function waitUntil(description, check, { timeoutMs = defaultWaitMs } = {}) {
  const deadline = Date.now() + timeoutMs;
  /** @type {unknown} */
  let last;
  for (;;) {
    try {
      last = await check();
      if (last === true) {
        return;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const lastResult = last instanceof Error ? last.message : JSON.stringify(last);
      assert.fail(`timed out after ${timeoutMs} ms waiting until ${description}; last result: ${lastResult}`);
    }
    await delay(50);
  }
}

/**
 * Waits until the locator's text equals expected, or matches it when
 * expected is a regular expression, and returns the text.
 *
 * @param {import("playwright-core").Locator} locator
 * @param {string | RegExp} expected
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<string>}
 */
export async function expectText(locator, expected, options) {
  let text = "";
  await waitUntil(
    `${locator} has text ${expected}`,
    async () => {
      text = (await locator.innerText({ timeout: 1_000 })).trim();
      const matches = typeof expected === "string" ? text === expected : expected.test(text);
      return matches || text;
    },
    options,
  );
  return text;
}

// requireExecutable returns the path in the environment variable, after
// checking that it names an executable file.
/** @param {string} variable */
function requireExecutable(variable) {
  const file = process.env[variable];
  if (file === undefined || file === "") {
    throw new Error(
      `${variable} is not set: build the binaries first (see frontend/README.md) and set HEARTH_BIN and FAKE_OLLAMA_BIN`,
    );
  }
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`${variable}=${file} is not an executable file`);
  }
  return path.resolve(file);
}

/**
 * @typedef {object} ServerSpec
 * @property {string} name       Base name of the log files.
 * @property {string} command
 * @property {string[]} args
 * @property {NodeJS.ProcessEnv} env
 * @property {RegExp} readyLine  Matches the stdout line that names the URL, in group 1.
 * @property {string} artifactsDir
 */

/**
 * Starts a server process and resolves once it prints its listening line.
 * Standard error and output are appended to NAME.stderr.log and
 * NAME.stdout.log, so a restart keeps the earlier run's logs.
 *
 * @param {ServerSpec} spec
 * @returns {Promise<ServerProcess>}
 */
async function startServer({ name, command, args, env, readyLine, artifactsDir }) {
  const stderrLog = createWriteStream(path.join(artifactsDir, `${name}.stderr.log`), { flags: "a" });
  const stdoutLog = createWriteStream(path.join(artifactsDir, `${name}.stdout.log`), { flags: "a" });
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  liveChildren.add(child);
  child.stderr.pipe(stderrLog);

  // Resolves on exit, and also when the process could not be started at all.
  const exited = new Promise((resolve) => {
    child.once("exit", resolve);
    child.once("error", resolve);
  });
  /** @type {Promise<string>} */
  const url = new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("close", () => stdoutLog.end());
    lines.on("line", (line) => {
      stdoutLog.write(`${line}\n`);
      const match = readyLine.exec(line);
      if (match?.[1] !== undefined) {
        resolve(match[1]);
      }
    });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      reject(
        new Error(
          `${name} exited with ${signal ?? `code ${code}`} before printing its listening line; see ${artifactsDir}/${name}.stderr.log`,
        ),
      ),
    );
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    liveChildren.delete(child);
  };

  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} printed no listening line within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
  });
  try {
    return { url: await Promise.race([url, timeout]), stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// closedLoopbackPort returns a loopback port that was free a moment ago, by
// listening on port 0 and closing the listener again.
/** @returns {Promise<number>} */
async function closedLoopbackPort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address !== null, "the listener has no address");
  assert.ok(typeof address === "object", `the listener's address is ${address}, not a TCP address`);
  server.close();
  await once(server, "close");
  return address.port;
}

/** @param {string} text */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * One rule of axe-core that the page breaks, with the elements that break it.
 *
 * @typedef {object} AxeViolation
 * @property {string} id        The rule, such as "color-contrast".
 * @property {string} impact    "serious" or "critical".
 * @property {string} help      The rule's one-line description.
 * @property {string[]} nodes   Each element's CSS selector and axe's summary of what is wrong with it.
 */

/** The axe-core build that the page loads, from the devDependency. */
const axeSourcePath = path.join(frontendDir, "node_modules", "axe-core", "axe.min.js");

/** @type {string | null} */
let axeSource = null;

/**
 * Runs axe-core on the whole page and returns the violations of impact
 * serious or critical, empty when there are none. Minor and moderate ones,
 * such as content outside a landmark, are left out.
 *
 * axe's source is evaluated through the DevTools protocol (page.evaluate),
 * not added as a <script> element with page.addScriptTag, because Hearth's
 * Content Security Policy (script-src 'self', app/ui.go) refuses inline
 * scripts and does not cover the protocol's evaluation.
 *
 * @param {import("playwright-core").Page} page
 * @returns {Promise<AxeViolation[]>}
 */
export async function seriousAxeViolations(page) {
  if (axeSource === null) {
    const { readFile } = await import("node:fs/promises");
    axeSource = await readFile(axeSourcePath, "utf8");
  }
  const hasAxe = () => page.evaluate(() => "axe" in window);
  if (!(await hasAxe())) {
    await page.evaluate(axeSource);
  }
  assert.ok(await hasAxe(), "axe-core did not load into the page");

  /** @type {AxeViolation[]} */
  const violations = await page.evaluate(async () => {
    const axe = /** @type {any} */ (window).axe;
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((/** @type {any} */ violation) => ({
      id: String(violation.id),
      impact: String(violation.impact ?? ""),
      help: String(violation.help),
      nodes: violation.nodes.map(
        (/** @type {any} */ node) => `${node.target.join(" ")}: ${String(node.failureSummary ?? "").replace(/\s+/g, " ")}`,
      ),
    }));
  });
  return violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
}
