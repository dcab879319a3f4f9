// Typed client for Hearth's HTTP API (docs/api.md). Every call to the backend
// goes through this module. Request bodies are always JSON strings: a Blob or
// FormData body crashes the request bridge of the desktop window (Wails v2.9.2).

import { strings } from "./strings.ts";

/** A person's profile on this computer. */
export interface Profile {
  id: string;
  name: string;
  /** The first profile created on this computer is "admin". */
  role: ProfileRole;
}

/** Permission level of a profile beyond its own data. The Go twin is auth.Role. */
export type ProfileRole = "admin" | "user";

/** The response to a successful sign-in. */
export interface LoginResult {
  token: string;
  /** RFC 3339 time after which the token is rejected. */
  expiresAt: string;
  profile: Profile;
}

/** A conversation between one profile and the assistant. */
export interface Thread {
  id: string;
  /** Id of the profile that owns the thread. */
  resourceId: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  metadata: Record<string, unknown> | null;
  messageCount: number;
}

/**
 * Stored state of a message: "incomplete" for a reply that was stopped or cut
 * off, "error" for a reply the model could not give.
 */
export type MessageStatus = "complete" | "incomplete" | "error";

/** One message of a thread. */
export interface Message {
  id: string;
  threadId: string;
  role: "user" | "assistant";
  /** Plain text, shown as text and never parsed as HTML. */
  content: string;
  createdAt: string;
  status: MessageStatus;
  model?: string;
  /**
   * Sentence for the user that says why the reply failed. On a user message it
   * means the reply failed before any text was written, so none was stored.
   */
  error?: string;
}

/** A thread with its most recent messages, oldest first. */
export interface ThreadWithMessages {
  thread: Thread;
  messages: Message[];
}

/** The body of POST /api/chat. */
export interface ChatRequest {
  message: string;
  /** Thread to continue; without it the server creates a thread. */
  threadId?: string;
  /** Id the client picks for this request, stored with the messages it creates. */
  clientRequestId?: string;
}

/**
 * Error codes: the server's codes, plus two that this client sets itself
 * ("network_error" when no response arrived, "invalid_response" when the
 * response could not be read).
 */
export type ApiErrorCode = (typeof serverErrorCodes)[number] | "network_error" | "invalid_response";

// The error codes that the server sends. The Go twin is the Code constants in
// app/errors.go.
const serverErrorCodes = [
  "unauthorized",
  "invalid_token",
  "forbidden",
  "not_found",
  "invalid_request",
  "conflict",
  "too_large",
  "unsupported_media_type",
  "internal",
] as const;

/** A failed API call. The message is a sentence to show to the user. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** HTTP status of the response, or 0 when no response arrived. */
  readonly status: number;

  constructor(code: ApiErrorCode, message: string, status: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

// The bearer token of the signed-in profile. It lives only in this variable,
// never in localStorage or sessionStorage, so reloading the page signs out.
let authToken: string | null = null;

let unauthorizedHandler: (() => void) | null = null;

/**
 * Sets the function called when the server rejects the token of the signed-in
 * profile (HTTP 401 on a request that carried a token), for example after the
 * token expired.
 */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  unauthorizedHandler = handler;
}

/** Forgets the token. Later calls that need a signed-in profile fail with 401. */
export function signOut(): void {
  // TODO: revoke the token on the server once the API has a sign-out route.
  authToken = null;
}

export function listProfiles(): Promise<Profile[]> {
  return requestJson<Profile[]>("GET", "/api/auth/profiles");
}

/**
 * Creates a profile. The first profile on a fresh install needs no token and
 * becomes the administrator; later ones need an administrator's token.
 */
export async function createProfile(name: string, password: string): Promise<Profile> {
  const body = await requestJson<{ profile: Profile }>("POST", "/api/auth/profiles", {
    name,
    password,
  });
  return body.profile;
}

/** Signs in and keeps the returned token for the calls that follow. */
export async function login(name: string, password: string): Promise<LoginResult> {
  const result = await requestJson<LoginResult>("POST", "/api/auth/login", { name, password });
  authToken = result.token;
  return result;
}

/** Lists the signed-in profile's threads, newest first. */
export function listThreads(): Promise<Thread[]> {
  return requestJson<Thread[]>("GET", "/api/threads");
}

export function createThread(title?: string): Promise<Thread> {
  return requestJson<Thread>("POST", "/api/threads", title === undefined ? {} : { title });
}

/** Fetches a thread with its last 50 messages, oldest first. */
export function getThread(threadId: string): Promise<ThreadWithMessages> {
  return requestJson<ThreadWithMessages>("GET", `/api/threads/${encodeURIComponent(threadId)}`);
}

/**
 * Sends a chat message and returns the response once its status is known,
 * with the body still streaming. Read the body with streamChat.
 */
export async function postChat(request: ChatRequest, signal: AbortSignal): Promise<Response> {
  const response = await send("POST", "/api/chat", request, signal, "text/event-stream");
  if (!response.ok) {
    throw await errorFromResponse(response);
  }
  return response;
}

/** Asks the server to stop the running reply of a thread. */
export async function stopChat(threadId: string): Promise<void> {
  await requestJson<undefined>("POST", `/api/chat/${encodeURIComponent(threadId)}/stop`);
}

// requestJson sends a request and decodes its JSON response. A 204 response
// resolves to undefined.
async function requestJson<T>(method: string, path: string, body?: object): Promise<T> {
  const response = await send(method, path, body, undefined, "application/json");
  if (!response.ok) {
    throw await errorFromResponse(response);
  }
  if (response.status === 204) {
    return undefined as T;
  }

  try {
    // The server and this page ship in the same binary, so the response is
    // trusted to have the documented shape and is not validated field by field.
    return (await response.json()) as T;
  } catch {
    throw new ApiError("invalid_response", strings.errors.invalidResponse, response.status);
  }
}

async function send(
  method: string,
  path: string,
  body: object | undefined,
  signal: AbortSignal | undefined,
  accept: string,
): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const sentToken = authToken;
  if (sentToken !== null) {
    headers["Authorization"] = `Bearer ${sentToken}`;
  }

  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
  }
  if (signal !== undefined) {
    init.signal = signal;
  }

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    // An abort is the caller's own decision, not a network failure.
    if (err instanceof DOMException && err.name === "AbortError") {
      throw err;
    }
    throw new ApiError("network_error", strings.errors.network, 0);
  }

  // Only a request that carried the current token can prove that the token is
  // no longer accepted. A wrong password also gets a 401, but that request
  // carries no token.
  if (response.status === 401 && sentToken !== null && sentToken === authToken) {
    authToken = null;
    unauthorizedHandler?.();
  }
  return response;
}

async function errorFromResponse(response: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The body is optional for an error; the status alone still describes it.
  }

  const parsed = parseErrorBody(text, response.status);
  if (parsed !== null) {
    return new ApiError(parsed.code, parsed.message, response.status);
  }
  return new ApiError(
    codeForStatus(response.status),
    strings.errors.httpStatus(response.status),
    response.status,
  );
}

// parseErrorBody reads the {"error": {"code", "message"}} shape, or returns
// null when the text has another shape.
function parseErrorBody(text: string, status: number): { code: ApiErrorCode; message: string } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || !isObject(value.error)) {
    return null;
  }

  const { code, message } = value.error;
  if (typeof message !== "string") {
    return null;
  }
  // A code this client does not know yet is replaced by the one its status
  // implies, but the server's sentence is kept.
  const known = serverErrorCodes.find((candidate) => candidate === code);
  return { code: known ?? codeForStatus(status), message };
}

function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    default:
      return "internal";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
