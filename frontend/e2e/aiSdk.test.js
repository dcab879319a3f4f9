// @ts-check
// Hearth's chat stream read by the Vercel AI SDK's own client code, from the
// `ai` package: its SSE parser with its chunk schema, readUIMessageStream,
// which assembles the UI message, and DefaultChatTransport. A client that
// Hearth's team did not write checks that POST /api/chat follows the UI
// message stream protocol, version 1. The browser that startSuite launches
// is not used.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  DefaultChatTransport,
  generateId,
  getToolName,
  isDataUIPart,
  isTextUIPart,
  isToolUIPart,
  parseJsonEventStream,
  readUIMessageStream,
  uiMessageChunkSchema,
} from "ai";

import {
  createProfileThroughApi,
  defaultThreadTitle,
  loginThroughApi,
  startSuite,
  testModel,
  waitUntil,
} from "./harness.js";

/** @typedef {import("ai").UIMessage} UIMessage */
/** @typedef {import("ai").UIMessageChunk} UIMessageChunk */

const name = "Barbara";
const password = "liskov-substitution-1987";

/**
 * One reply as the SDK read it.
 *
 * @typedef {object} StreamedReply
 * @property {Response} response     The HTTP response, whose body is consumed.
 * @property {string} threadId       The X-Thread-Id header.
 * @property {UIMessage} message     The message that readUIMessageStream assembled last.
 * @property {UIMessageChunk[]} chunks  Every chunk that passed the SDK's schema, in order.
 * @property {unknown[]} errors      The errors that readUIMessageStream reported.
 * @property {string} rawBody        The SSE text as Hearth sent it.
 */

/** @type {import("./harness.js").Suite} */
let suite;
/** @type {string} */
let token;

before(async () => {
  suite = await startSuite("ai-sdk");
  await createProfileThroughApi(suite.hearth.url, name, password);
  const login = await loginThroughApi(suite.hearth.url, name, password);
  assert.equal(login.status, 200, `POST /api/auth/login returned ${login.status}`);
  token = /** @type {string} */ (login.token);
});

after(async () => {
  await suite?.close();
});

/** @returns {import("./harness.js").FakeOllama} */
function fakeOllama() {
  return /** @type {import("./harness.js").FakeOllama} */ (suite.fake);
}

/**
 * Converts an SSE response body into UI message chunks with the SDK's
 * parser and schema. A part that the schema rejects errors the stream with
 * the part's JSON and the fields that the schema rejected.
 *
 * @param {ReadableStream<Uint8Array>} body
 * @returns {ReadableStream<UIMessageChunk>}
 */
function parseChunks(body) {
  return parseJsonEventStream({ stream: body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(result, controller) {
        if (!result.success) {
          const part = JSON.stringify(result.rawValue);
          throw new Error(`the AI SDK's uiMessageChunkSchema rejected the part ${part}: ${schemaIssues(result.error)}`);
        }
        controller.enqueue(result.value);
      },
    }),
  );
}

/**
 * Returns the issues of a rejected part as "path: message" lines. The chunk
 * schema is a union with one branch per part type, and only the branch for
 * the part's own type is of interest, which is the branch without an issue on
 * "type". Any other error gives its whole message.
 *
 * @param {Error} error
 * @returns {string}
 */
function schemaIssues(error) {
  /** @typedef {{ path: PropertyKey[], message: string }} Issue */
  const cause = /** @type {{ issues?: Array<{ code: string, errors?: Issue[][] }> } | undefined} */ (error.cause);
  const union = cause?.issues?.[0];
  /** @type {Issue[] | undefined} */
  let branch;
  if (union?.code === "invalid_union") {
    branch = union.errors?.find((issues) => issues.every((issue) => issue.path[0] !== "type"));
  }
  if (branch === undefined) {
    return error.message;
  }
  return branch.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`).join("; ");
}

/**
 * Assembles the message from a chunk stream with readUIMessageStream, and
 * returns it with a copy of every chunk and the errors that the SDK reported.
 * Unless allowErrors is set, an error part, or a chunk that the SDK cannot
 * apply to the message, makes it throw.
 *
 * @param {ReadableStream<UIMessageChunk>} stream
 * @param {{ allowErrors?: boolean }} [options]
 * @returns {Promise<{ message: UIMessage, chunks: UIMessageChunk[], errors: unknown[] }>}
 */
async function assembleMessage(stream, { allowErrors = false } = {}) {
  /** @type {UIMessageChunk[]} */
  const chunks = [];
  const recorded = stream.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        chunks.push(structuredClone(chunk));
        controller.enqueue(chunk);
      },
    }),
  );

  /** @type {unknown[]} */
  const errors = [];
  /** @type {UIMessage | undefined} */
  let message;
  const snapshots = readUIMessageStream({
    stream: recorded,
    terminateOnError: !allowErrors,
    onError: (error) => errors.push(error),
  });
  for await (const snapshot of snapshots) {
    message = snapshot;
  }
  assert.ok(message !== undefined, "readUIMessageStream produced no message");
  return { message, chunks, errors };
}

/**
 * Sends POST /api/chat with body, as the profile's bearer token, and returns
 * the response, once its status and headers have arrived, with its
 * X-Thread-Id.
 *
 * @param {Record<string, unknown>} body
 * @returns {Promise<{ response: Response, threadId: string }>}
 */
async function postChat(body) {
  const response = await fetch(`${suite.hearth.url}/api/chat`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) {
    assert.fail(`POST /api/chat returned ${response.status}: ${await response.text()}`);
  }
  const threadId = response.headers.get("X-Thread-Id");
  assert.ok(threadId !== null, "POST /api/chat returned no X-Thread-Id header");
  assert.notEqual(threadId, "", "POST /api/chat returned an empty X-Thread-Id header");
  return { response, threadId };
}

/**
 * Reads a chat response with the SDK. Unless allowErrors is set, an error
 * part fails it. It reads the body to its end even when the SDK fails, so
 * that Hearth has finished the reply when it returns or throws.
 *
 * @param {{ response: Response, threadId: string }} chat
 * @param {{ allowErrors?: boolean }} [options]
 * @returns {Promise<StreamedReply>}
 */
async function readReply({ response, threadId }, options) {
  assert.ok(response.body !== null, "POST /api/chat returned no body");

  // One copy of the body goes to the SDK and the other is kept as text,
  // because the SDK's parser drops the closing "data: [DONE]".
  const [forSdk, forText] = response.body.tee();
  const [assembled, text] = await Promise.allSettled([
    assembleMessage(parseChunks(forSdk), options),
    new Response(forText).text(),
  ]);
  if (assembled.status === "rejected") {
    throw assembled.reason;
  }
  if (text.status === "rejected") {
    throw text.reason;
  }
  return { response, threadId, ...assembled.value, rawBody: text.value };
}

/**
 * Sends POST /api/chat with body and reads the reply with the SDK.
 *
 * @param {Record<string, unknown>} body
 * @param {{ allowErrors?: boolean }} [options]
 * @returns {Promise<StreamedReply>}
 */
async function sendChat(body, options) {
  return readReply(await postChat(body), options);
}

/**
 * Checks that the SSE text ends with the protocol's end marker.
 *
 * @param {string} rawBody
 */
function assertEndsWithDone(rawBody) {
  const tail = JSON.stringify(rawBody.slice(-80));
  assert.ok(rawBody.endsWith("data: [DONE]\n\n"), `the stream does not end with [DONE]: ${tail}`);
}

/**
 * Checks what every reply stream shares: the headers, the order of the
 * framing parts, one text part whose deltas make up the message's text, the
 * start and finish metadata, the data parts kept in the message, and the
 * closing [DONE].
 *
 * @param {StreamedReply} reply
 * @param {string} expectedText
 */
function assertReplyStream(reply, expectedText) {
  const { response, threadId, message, chunks, rawBody } = reply;
  assert.match(response.headers.get("Content-Type") ?? "", /^text\/event-stream\b/);
  assert.equal(response.headers.get("x-vercel-ai-ui-message-stream"), "v1");

  const types = chunks.map((chunk) => chunk.type);
  assert.deepEqual(types.slice(0, 3), ["start", "start-step", "text-start"], `the stream begins ${types.join(", ")}`);
  assert.deepEqual(types.slice(-3), ["text-end", "finish-step", "finish"], `the stream ends ${types.join(", ")}`);
  assert.ok(!types.includes("error"), `the stream carries an error part: ${JSON.stringify(chunks)}`);
  assertEndsWithDone(rawBody);

  // The assembled message.
  const start = /** @type {Extract<UIMessageChunk, { type: "start" }>} */ (chunks[0]);
  assert.equal(message.role, "assistant");
  assert.equal(message.id, start.messageId);
  const textParts = message.parts.filter(isTextUIPart);
  assert.equal(textParts.length, 1, `the message has ${textParts.length} text parts`);
  assert.equal(textParts[0]?.text, expectedText);
  assert.equal(textParts[0]?.state, "done");
  const deltas = chunks.flatMap((chunk) => (chunk.type === "text-delta" ? [chunk.delta] : []));
  assert.equal(deltas.join(""), expectedText);

  // Start and finish metadata, which the SDK merges into one object.
  const metadata = /** @type {Record<string, unknown>} */ (message.metadata);
  assert.equal(metadata.threadId, threadId, "the start metadata's threadId differs from X-Thread-Id");
  assert.equal(typeof metadata.userMessageId, "string");
  assert.notEqual(metadata.userMessageId, "");
  assert.equal(metadata.status, "complete");
  assert.equal(metadata.assistantMessageId, message.id);

  // Every data part that is not transient is kept in the message as it was sent.
  for (const chunk of chunks) {
    if (!chunk.type.startsWith("data-")) {
      continue;
    }
    const sent = /** @type {{ type: string, id?: string, data: unknown, transient?: boolean }} */ (chunk);
    if (sent.transient) {
      continue;
    }
    const kept = message.parts.filter(isDataUIPart).find((part) => part.type === sent.type && part.id === sent.id);
    assert.ok(kept !== undefined, `the message has no part for ${sent.type} ${sent.id}`);
    assert.deepEqual(kept.data, sent.data, `the message's ${sent.type} part differs from the one sent`);
  }
}

/**
 * Returns the data part of the given type from the message, and fails when
 * it has none or several.
 *
 * @param {UIMessage} message
 * @param {string} type
 */
function singleDataPart(message, type) {
  const parts = message.parts.filter(isDataUIPart).filter((part) => part.type === type);
  assert.equal(parts.length, 1, `the message has ${parts.length} ${type} parts: ${JSON.stringify(message.parts)}`);
  return /** @type {{ type: string, id?: string, data: any }} */ (parts[0]);
}

/**
 * Sends an authenticated JSON request to Hearth and returns the parsed
 * response body, failing on any status other than expectedStatus.
 *
 * @param {string} method
 * @param {string} route
 * @param {unknown} [body]
 * @param {number} [expectedStatus]
 * @returns {Promise<any>}
 */
async function apiRequest(method, route, body, expectedStatus = 200) {
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`${suite.hearth.url}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.equal(response.status, expectedStatus, `${method} ${route} returned ${response.status}: ${text}`);
  return text === "" ? null : JSON.parse(text);
}

/**
 * Returns the stored messages of a thread, oldest first.
 *
 * @param {string} threadId
 * @returns {Promise<Array<{ id: string, role: string, content: string, status: string, parts?: any[] }>>}
 */
async function storedMessages(threadId) {
  const { messages } = await apiRequest("GET", `/api/threads/${threadId}`);
  return messages;
}

/**
 * Waits until Hearth has titled a new thread. Hearth sends the title request
 * to the fake in the background after a thread's first reply, and a reply
 * queued before that request would be taken by it.
 *
 * @param {string} threadId
 */
async function waitForTitle(threadId) {
  await waitUntil(
    `thread ${threadId} has a title`,
    async () => {
      const { thread } = await apiRequest("GET", `/api/threads/${threadId}`);
      return (thread.title !== "" && thread.title !== defaultThreadTitle) || thread.title;
    },
    { timeoutMs: 20_000 },
  );
}

describe("AI SDK readUIMessageStream", { timeout: 180_000 }, () => {
  test("multi-byte text and start metadata", { timeout: 60_000 }, async () => {
    // Chunk boundaries fall inside grapheme clusters: between the code points
    // of a ZWJ emoji, of a flag and of a letter with a combining accent.
    const chunks = ["Hello ", "👋 ", "日本", "語のテキスト、", "👩\u200d", "💻 and ", "🇯", "🇵 ", "cafe", "\u0301 😀!"];
    const expectedText = chunks.join("");
    await fakeOllama().queueReply({ chunks });

    const reply = await sendChat({ message: "Say hello in several scripts." });
    assertReplyStream(reply, expectedText);

    const stored = await storedMessages(reply.threadId);
    assert.equal(stored.length, 2);
    assert.equal(stored[0]?.id, /** @type {Record<string, unknown>} */ (reply.message.metadata).userMessageId);
    assert.equal(stored[1]?.id, reply.message.id);
    assert.equal(stored[1]?.content, expectedText);
    await waitForTitle(reply.threadId);
  });

  test("updateWorkingMemory tool parts", { timeout: 60_000 }, async () => {
    const before = await apiRequest("GET", "/api/memory/working");
    const memory = "# About the user\n- **Name**: Barbara 🧮\n- **City**: 東京";

    // The model calls the tool with its first line, then writes the rest
    // of its reply once it has the result.
    await fakeOllama().queueReply({
      chunks: ["Noted, ", "Barbara. "],
      toolCalls: { 0: [{ function: { name: "updateWorkingMemory", arguments: { memory } } }] },
    });
    await fakeOllama().queueReply({ chunks: ["I will remember ", "東京."] });

    const reply = await sendChat({ message: "I moved to Tokyo." });
    assertReplyStream(reply, "Noted, Barbara. I will remember 東京.");
    const { message, chunks } = reply;

    // The tool parts as Hearth sent them.
    const inputChunk = chunks.find((chunk) => chunk.type === "tool-input-available");
    const outputChunk = chunks.find((chunk) => chunk.type === "tool-output-available");
    assert.ok(inputChunk?.type === "tool-input-available", "the stream has no tool-input-available part");
    assert.ok(outputChunk?.type === "tool-output-available", "the stream has no tool-output-available part");
    assert.equal(inputChunk.toolName, "updateWorkingMemory");
    assert.equal(outputChunk.toolCallId, inputChunk.toolCallId);
    assert.deepEqual(inputChunk.input, { memory });
    assert.deepEqual(outputChunk.output, { ok: true, version: before.version + 1 });

    // The tool part that the SDK assembled from them.
    const toolParts = message.parts.filter(isToolUIPart);
    assert.equal(toolParts.length, 1, `the message has ${toolParts.length} tool parts`);
    const toolPart = /** @type {import("ai").ToolUIPart} */ (toolParts[0]);
    assert.equal(toolPart.type, "tool-updateWorkingMemory");
    assert.equal(getToolName(toolPart), "updateWorkingMemory");
    assert.equal(toolPart.toolCallId, inputChunk.toolCallId);
    assert.equal(toolPart.state, "output-available");
    assert.deepEqual(toolPart.input, inputChunk.input);
    assert.deepEqual(toolPart.output, outputChunk.output);

    // The change, as a data part after the tool's result.
    const types = chunks.map((chunk) => chunk.type);
    const order = `the tool and working memory parts are out of order: ${types.join(", ")}`;
    assert.ok(types.indexOf("tool-input-available") < types.indexOf("tool-output-available"), order);
    assert.ok(types.indexOf("tool-output-available") < types.indexOf("data-working-memory"), order);
    const change = singleDataPart(message, "data-working-memory");
    assert.equal(change.id, `wm-${message.id}-1`);
    assert.deepEqual(change.data, {
      version: before.version + 1,
      previousVersion: before.version,
      previous: before.content,
      content: memory,
    });

    // Hearth stored the same call and result.
    const stored = await storedMessages(reply.threadId);
    const storedParts = stored.at(-1)?.parts ?? [];
    assert.deepEqual(
      storedParts.map((part) => [part.type, part.toolCallId]),
      [
        ["tool-call", toolPart.toolCallId],
        ["tool-result", toolPart.toolCallId],
      ],
    );
    assert.deepEqual(storedParts[0].input, toolPart.input);
    assert.deepEqual(storedParts[1].output, toolPart.output);
    await waitForTitle(reply.threadId);
  });

  test("unknown tool gives output-error", { timeout: 60_000 }, async () => {
    await fakeOllama().queueReply({
      chunks: ["Let me look. "],
      toolCalls: { 0: [{ function: { name: "searchWeb", arguments: { query: "weather in Oslo" } } }] },
    });
    await fakeOllama().queueReply({ chunks: ["I cannot search ", "the web."] });

    const reply = await sendChat({ message: "What is the weather in Oslo?" });
    assertReplyStream(reply, "Let me look. I cannot search the web.");

    const errorChunk = reply.chunks.find((chunk) => chunk.type === "tool-output-error");
    assert.ok(errorChunk?.type === "tool-output-error", "the stream has no tool-output-error part");
    const toolParts = reply.message.parts.filter(isToolUIPart);
    assert.equal(toolParts.length, 1, `the message has ${toolParts.length} tool parts`);
    const toolPart = /** @type {import("ai").ToolUIPart} */ (toolParts[0]);
    assert.equal(toolPart.type, "tool-searchWeb");
    assert.equal(toolPart.toolCallId, errorChunk.toolCallId);
    assert.equal(toolPart.state, "output-error");
    assert.deepEqual(toolPart.input, { query: "weather in Oslo" });
    assert.equal(toolPart.errorText, errorChunk.errorText);
    // The error text is the JSON result that the model received.
    assert.match(JSON.parse(errorChunk.errorText).error, /no tool named "searchWeb"/);
    assert.ok(
      !reply.chunks.some((chunk) => chunk.type === "data-working-memory"),
      "a failed call changed the working memory",
    );
    await waitForTitle(reply.threadId);
  });

  // The SDK's schema requires toolName as a string, even an empty one.
  test(
    "tool call without a name",
    { timeout: 60_000 },
    async () => {
      await fakeOllama().queueReply({
        chunks: ["Hmm. "],
        toolCalls: { 0: [{ function: { name: "", arguments: {} } }] },
      });
      await fakeOllama().queueReply({ chunks: ["Never mind."] });

      const chat = await postChat({ message: "Do something odd." });
      try {
        const reply = await readReply(chat);
        assertReplyStream(reply, "Hmm. Never mind.");
        const toolParts = reply.message.parts.filter(isToolUIPart);
        assert.equal(toolParts.length, 1, `the message has ${toolParts.length} tool parts`);
        assert.equal(toolParts[0]?.state, "output-error");
      } finally {
        await waitForTitle(chat.threadId);
      }
    },
  );

  test("error part and finish metadata", { timeout: 60_000 }, async () => {
    // Without the configured model installed, the fake responds with 404
    // "model not found", which Hearth reports inside the stream.
    await fakeOllama().setModels([]);
    /** @type {StreamedReply} */
    let reply;
    try {
      reply = await sendChat({ message: "Is anyone there?" }, { allowErrors: true });
    } finally {
      await fakeOllama().reset();
    }
    const { chunks, message, errors, rawBody } = reply;

    // A data-recall part may come too, when an earlier message matches.
    const types = chunks.map((chunk) => chunk.type).filter((type) => !type.startsWith("data-"));
    assert.deepEqual(types, ["start", "start-step", "text-start", "text-end", "error", "finish-step", "finish"]);
    assertEndsWithDone(rawBody);
    const errorChunk = chunks.find((chunk) => chunk.type === "error");
    assert.ok(errorChunk?.type === "error", "the stream has no error part");
    assert.notEqual(errorChunk.errorText, "");
    assert.equal(errors.length, 1, `readUIMessageStream reported ${errors.length} errors: ${errors.join("; ")}`);
    assert.equal(/** @type {Error} */ (errors[0]).message, errorChunk.errorText);

    const metadata = /** @type {Record<string, unknown>} */ (message.metadata);
    assert.equal(metadata.threadId, reply.threadId);
    assert.equal(metadata.errorCode, "model_not_found");
    assert.equal(metadata.missingModel, testModel);
    assert.equal(metadata.status, "error");
    assert.equal(metadata.assistantMessageId, undefined);
    assert.deepEqual(
      message.parts.filter(isTextUIPart).map((part) => part.text),
      [""],
      "the failed reply has text",
    );
  });

  test("data-context part", { timeout: 60_000 }, async () => {
    // The first message, of about 7,300 characters, fits the fake's window
    // of 8,192 tokens but not a window of 1,024, so the second reply's prompt
    // leaves it out.
    const longMessage = Array.from({ length: 250 }, (_, index) => `Sentence ${index} of a long story.`).join(" ");
    await fakeOllama().queueReply({ chunks: ["Read ", "it."] });
    const first = await sendChat({ message: longMessage });
    assertReplyStream(first, "Read it.");
    assert.ok(
      !first.chunks.some((chunk) => chunk.type === "data-context"),
      "the first reply already left messages out",
    );
    await waitForTitle(first.threadId);

    await apiRequest("PUT", "/api/settings", { contextLength: 1024 });
    try {
      await fakeOllama().queueReply({ chunks: ["Short ", "answer."] });
      const second = await sendChat({ message: "And now, in brief?", threadId: first.threadId });
      assertReplyStream(second, "Short answer.");
      assert.equal(second.threadId, first.threadId);

      const context = singleDataPart(second.message, "data-context");
      assert.equal(context.id, `context-${second.message.id}`);
      assert.equal(context.data.contextLength, 1024);
      assert.ok(context.data.omittedMessages >= 1, `omittedMessages is ${context.data.omittedMessages}`);
      assert.equal(typeof context.data.omittedRecalled, "number");
      assert.ok(context.data.promptTokens > 0, `promptTokens is ${context.data.promptTokens}`);
      assert.ok(context.data.promptTokens <= 1024, `promptTokens is ${context.data.promptTokens}`);
    } finally {
      // Without fields, every setting goes back to its default.
      await apiRequest("PUT", "/api/settings", {});
    }
  });

  test("data-recall part", { timeout: 90_000 }, async () => {
    const landlordMessage = "My landlord Mr. Whitaker raises the rent to 1,450 euros from April.";
    await fakeOllama().queueReply({ chunks: ["Noted: ", "Mr. Whitaker."] });
    const first = await sendChat({ message: landlordMessage });
    assertReplyStream(first, "Noted: Mr. Whitaker.");
    await waitForTitle(first.threadId);

    // Hearth embeds the messages in the background after the reply.
    await waitUntil("recall has embedded every message", async () => {
      const { status } = await apiRequest("GET", "/api/memory/recall");
      return (status.state === "ready" && status.pending === 0) || status;
    });

    await fakeOllama().queueReply({ chunks: ["From April, ", "1,450 euros."] });
    const second = await sendChat({ message: "What did I tell you about my landlord Mr. Whitaker?" });
    assertReplyStream(second, "From April, 1,450 euros.");
    assert.notEqual(second.threadId, first.threadId);

    const recall = singleDataPart(second.message, "data-recall");
    assert.equal(recall.id, `recall-${second.message.id}`);
    assert.ok(Array.isArray(recall.data), `the data-recall data is ${JSON.stringify(recall.data)}`);
    const landlord = recall.data.find(
      /** @param {any} item */ (item) => item.message?.content === landlordMessage,
    );
    assert.ok(landlord !== undefined, `the landlord message was not recalled: ${JSON.stringify(recall.data)}`);
    assert.equal(landlord.threadId, first.threadId);
    assert.equal(landlord.match, true);
    await waitForTitle(second.threadId);
  });
});

// DefaultChatTransport posts {id, messages, trigger, messageId} to the
// route, as useChat does, in place of Hearth's {message, threadId}. Hearth
// reads id as the thread id when it is one, and otherwise as the client's
// own chat id, bound to a thread of its own.
describe("AI SDK DefaultChatTransport", { timeout: 120_000 }, () => {
  /** @type {string | null} */
  let lastThreadHeader = null;
  /** @type {typeof globalThis.fetch} */
  const recordingFetch = async (input, init) => {
    const response = await fetch(input, init);
    lastThreadHeader = response.headers.get("X-Thread-Id");
    return response;
  };

  /** @returns {DefaultChatTransport<UIMessage>} */
  function newTransport() {
    return new DefaultChatTransport({
      api: `${suite.hearth.url}/api/chat`,
      headers: { Authorization: `Bearer ${token}` },
      fetch: recordingFetch,
    });
  }

  /**
   * @param {string} text
   * @returns {UIMessage}
   */
  function userMessage(text) {
    return { id: generateId(), role: "user", parts: [{ type: "text", text }] };
  }

  /**
   * Returns the text of a message's text parts, joined.
   *
   * @param {UIMessage} message
   */
  function textOf(message) {
    return message.parts
      .filter(isTextUIPart)
      .map((part) => part.text)
      .join("");
  }

  // The chat as the client stores it, carried from one test to the next.
  /** @type {UIMessage[]} */
  let history = [];
  /** @type {string} */
  let threadId = "";

  test("submit-message in a created thread", { timeout: 60_000 }, async () => {
    const thread = await apiRequest("POST", "/api/threads", {}, 201);
    const expectedText = "Hi from the transport ✨, 你好.";
    await fakeOllama().queueReply({ chunks: ["Hi from the ", "transport ✨, ", "你", "好."] });
    const first = userMessage("Hello through DefaultChatTransport.");

    const stream = await newTransport().sendMessages({
      trigger: "submit-message",
      chatId: thread.id,
      messageId: undefined,
      messages: [first],
      abortSignal: undefined,
    });
    const { message, chunks } = await assembleMessage(stream);

    assert.equal(lastThreadHeader, thread.id);
    assert.equal(chunks[0]?.type, "start");
    assert.equal(chunks.at(-1)?.type, "finish");
    assert.equal(textOf(message), expectedText);
    const metadata = /** @type {Record<string, unknown>} */ (message.metadata);
    assert.equal(metadata.threadId, thread.id);
    assert.equal(metadata.status, "complete");
    assert.equal(metadata.assistantMessageId, message.id);

    const stored = await storedMessages(thread.id);
    assert.deepEqual(
      stored.map((entry) => [entry.role, entry.content]),
      [
        ["user", "Hello through DefaultChatTransport."],
        ["assistant", expectedText],
      ],
    );
    threadId = thread.id;
    history = [first, message];
    await waitForTitle(threadId);
  });

  test("follow-up with whole history", { timeout: 60_000 }, async (t) => {
    if (threadId === "") {
      t.skip("the first transport test did not start a thread");
      return;
    }
    await fakeOllama().queueReply({ chunks: ["Still ", "here."] });
    const next = userMessage("Are you still there?");

    const stream = await newTransport().sendMessages({
      trigger: "submit-message",
      chatId: threadId,
      messageId: undefined,
      messages: [...history, next],
      abortSignal: undefined,
    });
    const { message } = await assembleMessage(stream);

    assert.equal(lastThreadHeader, threadId, "the follow-up went to another thread");
    assert.equal(textOf(message), "Still here.");

    // Hearth stores only the new message, under the client's message id as
    // its clientRequestId, and not the history that came with it.
    const stored = await storedMessages(threadId);
    assert.deepEqual(
      stored.map((entry) => [entry.role, entry.content]),
      [
        ["user", "Hello through DefaultChatTransport."],
        ["assistant", "Hi from the transport ✨, 你好."],
        ["user", "Are you still there?"],
        ["assistant", "Still here."],
      ],
    );
    assert.equal(/** @type {{ clientRequestId?: string }} */ (stored[2]).clientRequestId, next.id);
    history = [...history, next, message];
  });

  // useChat's regenerate sends the messages before the reply and the
  // reply's id as messageId.
  test("regenerate-message rewrites the reply", { timeout: 60_000 }, async (t) => {
    const reply = history.at(-1);
    if (threadId === "" || reply?.role !== "assistant") {
      t.skip("the earlier transport tests did not write a reply");
      return;
    }
    await fakeOllama().queueReply({ chunks: ["Yes, ", "still here."] });

    const stream = await newTransport().sendMessages({
      trigger: "regenerate-message",
      chatId: threadId,
      messageId: reply.id,
      messages: history.slice(0, -1),
      abortSignal: undefined,
    });
    const { message } = await assembleMessage(stream);

    assert.equal(lastThreadHeader, threadId);
    assert.equal(message.id, reply.id, "the regenerated reply has a new id");
    assert.equal(textOf(message), "Yes, still here.");
    const stored = await storedMessages(threadId);
    assert.equal(stored.length, 4);
    assert.equal(stored[3]?.id, reply.id);
    assert.equal(stored[3]?.content, "Yes, still here.");
  });

  // useChat makes up a chat id when it is given none. Hearth binds such an
  // id to a new thread on the first message and continues that thread on
  // the next, so useChat works without creating the thread first.
  test("chat id of the client", { timeout: 60_000 }, async () => {
    const chatId = generateId();
    await fakeOllama().queueReply({ chunks: ["First ", "answer."] });
    const first = userMessage("Hello from a chat id Hearth has not seen.");
    const firstStream = await newTransport().sendMessages({
      trigger: "submit-message",
      chatId,
      messageId: undefined,
      messages: [first],
      abortSignal: undefined,
    });
    const firstReply = await assembleMessage(firstStream);
    const boundThread = lastThreadHeader;
    assert.ok(boundThread, "the first answer named no thread in X-Thread-Id");
    assert.notEqual(boundThread, chatId);
    const metadata = /** @type {Record<string, unknown>} */ (firstReply.message.metadata);
    assert.equal(metadata.threadId, boundThread);
    await waitForTitle(boundThread);

    await fakeOllama().queueReply({ chunks: ["Second ", "answer."] });
    const second = userMessage("And again in the same chat.");
    const secondStream = await newTransport().sendMessages({
      trigger: "submit-message",
      chatId,
      messageId: undefined,
      messages: [first, firstReply.message, second],
      abortSignal: undefined,
    });
    await assembleMessage(secondStream);
    assert.equal(lastThreadHeader, boundThread, "the same chat id went to another thread");

    const stored = await storedMessages(boundThread);
    assert.deepEqual(
      stored.map((entry) => [entry.role, entry.content]),
      [
        ["user", "Hello from a chat id Hearth has not seen."],
        ["assistant", "First answer."],
        ["user", "And again in the same chat."],
        ["assistant", "Second answer."],
      ],
    );
  });
});
