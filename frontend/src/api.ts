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

/** The signed-in profile as GET /api/auth/me returns it. */
export interface SessionProfile extends Profile {
  /**
   * True when the session is valid but the profile's data key is not in
   * memory: signing in again with the password unlocks it.
   */
  locked: boolean;
  /** Minutes without a request after which the profile locks, from 0 (never) to 10080 (one week). */
  idleLockMinutes: number;
  /** True when signing in needs a code from an authenticator app after the password. */
  totpEnabled?: boolean;
}

/** The response to a successful sign-in or password change: a new session. */
export interface LoginResult {
  token: string;
  /** RFC 3339 time after which the token is rejected. */
  expiresAt: string;
  /**
   * The session's secret, which every request authenticated by the session
   * cookie must repeat in the X-CSRF-Token header.
   */
  csrfToken: string;
  profile: Profile;
}

/**
 * The response to a right password for a profile with two-step sign-in: no
 * session yet, but a challenge that POST /api/auth/login/mfa turns into one
 * with a code from the authenticator app or a backup code.
 */
export interface LoginChallenge {
  mfaRequired: true;
  /** Opaque, single-use string that names this sign-in. It expires after 5 minutes or 5 wrong codes. */
  challenge: string;
  /** RFC 3339 time after which the server rejects the challenge. */
  expiresAt: string;
}

/** The response to a successful recovery: a new session and a new recovery key. */
export interface RecoverResult extends LoginResult {
  /** The replacement recovery key, shown to the user once. The old one no longer works. */
  recoveryKey: string;
  /** True when the recovery turned two-step sign-in off, so that a lost phone does not lock the profile. */
  totpDisabled?: boolean;
}

/** Two-step sign-in of the signed-in profile, as GET /api/auth/totp returns it. */
export interface TotpStatus {
  enabled: boolean;
  /** Number of unused backup codes, from 0 to 10. */
  backupCodesLeft: number;
}

/** A new authenticator secret, waiting for its first code before two-step sign-in is on. */
export interface TotpSetup {
  /** The secret in base32, for typing into an authenticator app. */
  secret: string;
  /** The otpauth:// URI that the QR code contains. */
  uri: string;
  /** The QR code as a data:image/png;base64 URL. */
  qr: string;
}

/** Single-use codes that sign in in place of a code from the authenticator app. */
export interface BackupCodes {
  /** 10 codes in the form xxxx-xxxx-xx, shown to the user once. */
  backupCodes: string[];
}

/** The response to POST /api/auth/recovery-key. */
export interface RenewedRecoveryKey {
  /** The new recovery key, shown to the user once. The old one no longer works. */
  recoveryKey: string;
}

/** The response to creating a profile. */
export interface CreatedProfile {
  profile: Profile;
  /** The profile's recovery key, shown to the user once and never again. */
  recoveryKey: string;
}

/**
 * Title of a thread until the server names it after its first reply, which
 * it does in the background. The Go twin is memory.DefaultThreadTitle.
 */
export const defaultThreadTitle = "New Conversation";

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
  /** Set when the thread's record cannot be read with the profile's key. */
  damaged?: boolean;
  /** Set once opening the thread has found a message that cannot be read. */
  damagedMessages?: boolean;
  /** The model that replies in this thread, or "" (or absent) for the profile's model. */
  model?: string;
}

/** A thread that a search found, as GET /api/threads?q= returns it. */
export interface ThreadMatch extends Thread {
  /**
   * About 120 characters of the oldest message that contains the search
   * text, around the first place it occurs, or "" when the title contains it.
   */
  match: string;
}

/** One page of threads, newest first. */
export interface ThreadPage<T = Thread> {
  threads: T[];
  /** The cursor that continues after this page, or null when it is the last. */
  nextCursor: string | null;
}

/**
 * The page of threads to fetch: the newest limit threads, or with cursor the
 * limit threads that follow the page that returned it. The server accepts a
 * limit from 1 to 1000.
 */
export interface PageRequest {
  limit: number;
  cursor?: string | null;
}

/** Format of a thread export: Markdown to read, or Hearth JSON to import again. */
export type ExportFormat = "markdown" | "json";

/** A thread export, ready to save as a file. */
export interface ThreadExport {
  blob: Blob;
  /** The file name that the server's Content-Disposition header gave. */
  fileName: string;
}

/**
 * Stored state of a message: "incomplete" for a reply that was stopped or cut
 * off, "error" for a reply the model could not give, "interrupted" for a
 * reply whose writing ended because Hearth closed. The Go twin is
 * memory.Status.
 */
export type MessageStatus = "complete" | "incomplete" | "error" | "interrupted";

/** An earlier text of a reply, kept when Regenerate replaced it. */
export interface MessageVersion {
  content: string;
  model?: string;
  status: MessageStatus;
  error?: string;
  createdAt: string;
}

/**
 * A structured piece of a stored reply: a tool call the model made, or the
 * result of one. The Go twin is memory.Part.
 */
export interface MessagePart {
  type: "tool-call" | "tool-result";
  toolCallId?: string;
  toolName?: string;
  input?: unknown;
  output?: unknown;
  /** Set on a tool result that reports a failure. */
  isError?: boolean;
}

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
  /** Set when the message's record cannot be read with the profile's key. */
  damaged?: boolean;
  /** The id the client sent with the chat request that stored this user message. */
  clientRequestId?: string;
  /** Set while the reply is being written, by this page or by another one. */
  streaming?: boolean;
  /** Number of earlier messages of the thread left out of the reply's prompt to fit the model's context. */
  omittedMessages?: number;
  /** Number of recalled messages left out of the reply's prompt to fit the model's context. */
  omittedRecalled?: number;
  /** Earlier replies that Regenerate replaced, oldest first. */
  versions?: MessageVersion[];
  /** Tool calls and their results, in order. */
  parts?: MessagePart[];
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
 * State of the signed-in profile's recall index: "locked" before the profile
 * is unlocked, "loading" while its vectors are read, "ready", or "failed"
 * when they could not be read.
 */
export type RecallState = "locked" | "loading" | "ready" | "failed";

/** Progress of embedding every message again after a change of embedder. */
export interface Reembedding {
  /** Id of the embedder whose vectors recall searches until done reaches total. */
  from: string;
  /** Id of the embedder the messages are embedded with again. */
  to: string;
  done: number;
  total: number;
}

/** The recall index of the signed-in profile. The Go twin is memory.RecallStatus. */
export interface RecallStatus {
  state: RecallState;
  /**
   * Id of the embedder that new messages are embedded with, such as
   * "lexical-v1-1024" or "ollama:nomic-embed-text".
   */
  embedder?: string;
  /** Length of the embedder's vectors, or 0 until it is known. */
  dimension: number;
  /** Number of messages that recall can find. */
  vectors: number;
  /** Number of messages waiting to be embedded. */
  pending: number;
  /** Set while the messages are embedded again after a change of embedder. */
  reembedding?: Reembedding;
  /** The reason embedding last failed, if it has not succeeded since. The server retries it. */
  lastError?: string;
}

/**
 * Kind of embedder that turns messages into vectors for recall. The Go twin
 * is the Embedder constants in app/recall.go.
 */
export type EmbedderKind = "builtin" | "ollama" | "openai";

/** The profile's embedder as the server shows it, without its API key. */
export interface EmbedderSettings {
  kind: EmbedderKind;
  /** Embedding model of an "ollama" or "openai" embedder. */
  model?: string;
  /** Server of an "openai" embedder, or of an "ollama" one that is not Hearth's Ollama. */
  baseUrl?: string;
  /** Vector length requested from an "openai" server, when one was chosen. */
  dimensions?: number;
  /** True when an API key is stored for the "openai" server. */
  hasApiKey: boolean;
}

/** The response to GET /api/memory/recall and PUT /api/memory/recall/embedder. */
export interface RecallSettings {
  status: RecallStatus;
  embedder: EmbedderSettings;
  /** True while the built-in embedder is used, which matches words rather than meaning. */
  lexical: boolean;
  /** The Ollama embedding model to suggest for recall by meaning, such as "nomic-embed-text". */
  suggestion: string;
}

/** The body of PUT /api/memory/recall/embedder. */
export interface EmbedderChoice {
  kind: EmbedderKind;
  /** Embedding model. Without it, an "ollama" embedder uses the server's default model. */
  model?: string;
  /** Base URL of an "openai" server, such as https://api.openai.com/v1. */
  baseUrl?: string;
  /**
   * API key for an "openai" server. Without it, the server keeps the key
   * stored for the same base URL, if any.
   */
  apiKey?: string;
  /** Shorter vectors to request from an "openai" server. */
  dimensions?: number;
}

/**
 * One earlier message found by recall, as search results and the chat
 * stream's data-recall part carry it. The Go twin is app.recalledView.
 */
export interface RecalledMessage {
  threadId: string;
  threadTitle: string;
  /** RFC 3339 time of the message. */
  date: string;
  /**
   * Cosine similarity of the match to the query, from -1 to 1. A message
   * returned as context around a match carries the match's similarity.
   */
  similarity: number;
  /** False for a message returned only as context around a match. */
  match: boolean;
  message: Message;
}

/** Kind of server that writes the replies. The Go twins are BackendOllama and BackendOpenAI in app/model.go. */
export type BackendKind = "ollama" | "openai";

/** The model server of the signed-in profile, as GET /api/settings returns it. */
export interface BackendSettings {
  kind: BackendKind;
  baseUrl: string;
  /** The chat model. */
  model: string;
  /** True when an API key is stored. The key itself is never returned. */
  apiKeySet: boolean;
}

/**
 * Whose working memory a reply reads and updates: "resource" for one
 * document shared by every thread of the profile, "thread" for one per thread.
 */
export type WorkingMemoryScope = "resource" | "thread";

/** The working memory part of the settings. */
export interface WorkingMemorySettings {
  /** The Markdown form that a new working memory document starts from. */
  template: string;
  scope: WorkingMemoryScope;
}

/** The part of the profile that semantic recall searches for each reply. */
export type RecallScope = "resource" | "thread";

/** The options of the semantic recall that finds earlier messages for each reply. */
export interface RecallPreferences {
  /** Number of most similar earlier messages recalled, from 1 to 50. */
  topK: number;
  /** Messages before and after each match that come with it, from 0 to 10. */
  messageRange: number;
  scope: RecallScope;
  /** False leaves recalled messages out of every reply's prompt. */
  enabled: boolean;
}

/** The colours of the interface; "system" follows the operating system's light or dark mode. */
export type ThemeChoice = "system" | "light" | "dark";

/** Hearth's defaults for the settings that fall back to them when left empty. */
export interface SettingsDefaults {
  systemPrompt: string;
  workingMemoryTemplate: string;
  lastMessages: number;
  recall: RecallPreferences;
  theme: ThemeChoice;
}

/** The signed-in profile's settings, as GET and PUT /api/settings return them. */
export interface Settings {
  backend: BackendSettings;
  /** Model that writes thread titles; "" for the chat model. */
  titleModel: string;
  /** Sampling temperature from 0 to 2, or null for the model's default. */
  temperature: number | null;
  /** Context length in tokens, or 0 for the model's own. */
  contextLength: number;
  /** Instructions given to the model before every reply; "" for Hearth's default. */
  systemPrompt: string;
  /** Number of a thread's latest messages given to the model with each reply. */
  lastMessages: number;
  workingMemory: WorkingMemorySettings;
  recall: RecallPreferences;
  theme: ThemeChoice;
  defaults: SettingsDefaults;
}

/** The body of PUT /api/settings. */
export interface SettingsUpdate {
  backend: {
    kind: BackendKind;
    baseUrl: string;
    model: string;
    /**
     * Absent keeps the stored API key, "" removes it, and any other text
     * replaces it. The server never returns the key.
     */
    apiKey?: string;
  };
  titleModel: string;
  temperature: number | null;
  contextLength: number;
  systemPrompt: string;
  lastMessages: number;
  workingMemory: WorkingMemorySettings;
  recall: RecallPreferences;
  theme: ThemeChoice;
}

/** A model that the backend offers. */
export interface ModelInfo {
  name: string;
  /** Size on disk in bytes, when the backend reports it. */
  size?: number;
  /** Context length in tokens, when the backend reports it. */
  contextLength?: number;
  /**
   * The model's abilities as Ollama's /api/show lists them, such as
   * "completion", "tools" and "embedding". Absent for OpenAI-compatible
   * servers and for a model that Ollama could not describe.
   */
  capabilities?: string[];
}

/** The response to GET /api/models. */
export interface ModelList {
  backend: { kind: BackendKind; url: string; model: string };
  models: ModelInfo[];
}

/** A working memory document: what the model keeps in mind about the user. */
export interface WorkingMemoryDocument {
  /** The thread of a document of the "thread" scope. */
  threadId?: string;
  /** The document, in Markdown. */
  content: string;
  /** Number that each change increases; 0 for a document never written. */
  version: number;
  /** RFC 3339 time of the change that made this version. */
  updatedAt?: string;
  scope?: WorkingMemoryScope;
  /** The Markdown form that an empty document starts from. */
  template?: string;
  /** Set when the stored document cannot be read with the profile's key. */
  damaged?: boolean;
}

/**
 * Error codes: the server's codes, plus two that this client sets itself
 * ("network_error" when no response arrived, "invalid_response" when the
 * response could not be read).
 */
export type ApiErrorCode = (typeof serverErrorCodes)[number] | "network_error" | "invalid_response";

// The error codes that the server sends. The Go twins are the Code constants
// in app/errors.go, CodeEmbedderUnavailable in app/recall.go and the backend
// error codes in app/model.go.
const serverErrorCodes = [
  "unauthorized",
  "invalid_token",
  "locked",
  "forbidden",
  "not_found",
  "invalid_request",
  "conflict",
  "duplicate_request",
  "rate_limited",
  "too_large",
  "unsupported_media_type",
  "method_not_allowed",
  "internal",
  "embedder_unavailable",
  "backend_unreachable",
  "model_not_found",
  "backend_disconnected",
  "backend_error",
  "backend_unauthorized",
  "backend_rate_limited",
  "context_too_long",
  "reply_too_long",
  "empty_reply",
  "invalid_code",
  "challenge_expired",
  "code_required",
  "totp_enabled",
  "no_pending_totp",
] as const;

/** A failed API call. The message is a sentence to show to the user. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  /** HTTP status of the response, or 0 when no response arrived. */
  readonly status: number;
  /**
   * Seconds to wait before trying again, from the Retry-After header of a 429
   * response, or null when the response named no wait.
   */
  readonly retryAfterSeconds: number | null;
  /**
   * Name of the request field that the server rejected, such as "name" or
   * "password", or null when no single input is at fault.
   */
  readonly field: string | null;

  constructor(
    code: ApiErrorCode,
    message: string,
    status: number,
    retryAfterSeconds: number | null = null,
    field: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
    this.field = field;
  }
}

/** Functions that App registers to hear that the current session changed on the server. */
export interface SessionHandlers {
  /** The profile locked (401 `locked`): its password unlocks it again. */
  onLocked: () => void;
  /**
   * The server no longer accepts the session (401 `invalid_token` or
   * `unauthorized`), for example after the token expired or was revoked.
   * The client has already cleared the session when this is called.
   */
  onEnded: () => void;
}

// The sessionStorage key of the session's secret (csrfToken), which every
// request authenticated by the session cookie repeats in the X-CSRF-Token
// header. Browsers send cookies to every port of a host, so another server on
// this computer may receive the cookie, but sessionStorage belongs to Hearth's
// origin, port included, and to this tab. A reload in the same tab keeps the
// secret and so the session. A new tab has none and shows the profile picker.
const csrfStorageKey = "hearth.csrf";

// The current session. The bearer token lives only in this variable, never in
// web storage. Inside the desktop window the token in memory is the session.
// In a browser on `hearth serve` the session also lives in the HttpOnly
// cookie hearth_session, which together with the secret in sessionStorage
// survives a reload (see resumeSession). csrfToken is the secret in memory,
// which is written through to sessionStorage.
let authToken: string | null = null;
let csrfToken: string | null = null;

// sessionActive is true from a sign-in (or a resumed cookie session) until
// sign-out or until the server ends the session. Only during that time is a
// 401 response news about the signed-in profile.
let sessionActive = false;

// sessionGeneration changes on every sign-in and sign-out. A 401 response to a
// request sent under an earlier generation is not about the current session,
// so it is not reported.
let sessionGeneration = 0;

let sessionHandlers: SessionHandlers | null = null;

// The time, in milliseconds since the epoch, when this page last sent a
// request with the session, which the server counts as use of the profile
// for its idle lock. Requests of other tabs are not seen here.
let lastSessionRequestAt = 0;

// The signed-in profile's idle lock in minutes, from the last response that
// named it, or null when none has since sign-in.
let knownIdleLockMinutes: number | null = null;

/** Sets the functions called when the server locks or ends the current session. */
export function setSessionHandlers(handlers: SessionHandlers | null): void {
  sessionHandlers = handlers;
}

/**
 * The meaning of a 401 response to a request. "public": the route needs no
 * session, so a 401 is the caller's business (a wrong password). "session":
 * every 401 is news about the session.
 */
type AuthMode = "public" | "session";

/** Reports whether err is the server's response for a locked profile. */
export function isLockedError(err: unknown): boolean {
  return err instanceof ApiError && err.code === "locked";
}

/** Returns the sentence to show for a failed call. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function listProfiles(): Promise<Profile[]> {
  return requestJson<Profile[]>("GET", "/api/auth/profiles", "public");
}

/**
 * Creates a profile and returns it with its recovery key. The first profile
 * on a fresh install needs no session and becomes the administrator, but
 * later ones need an administrator's session. Creating a profile does not sign in.
 */
export function createProfile(name: string, password: string): Promise<CreatedProfile> {
  return requestJson<CreatedProfile>("POST", "/api/auth/profiles", "session", { name, password });
}

/**
 * Gives a profile the role "admin" or "user" and returns the changed profile.
 * Only an administrator may do this. Demoting the last administrator is
 * rejected with a 409 `conflict`.
 */
export function setProfileRole(profileId: string, role: ProfileRole): Promise<Profile> {
  return requestJson<Profile>("PATCH", profilePath(profileId), "session", { role });
}

/**
 * Deletes another profile, which erases its threads and messages and ends its
 * sessions. Only an administrator may do this. To delete the signed-in
 * profile itself, use deleteOwnProfile.
 */
export async function deleteProfile(profileId: string): Promise<void> {
  await requestJson<undefined>("DELETE", profilePath(profileId), "session");
}

/**
 * Deletes the signed-in profile, whose id is profileId, after the server
 * checks its password, and its code when two-step sign-in is on, and then
 * clears the session here because the profile and its sessions no longer
 * exist. A wrong password is a 400 ApiError with field "password", a missing
 * or wrong code a 400 `code_required` or `invalid_code`, and the last
 * administrator gets a 409 `conflict`.
 */
export async function deleteOwnProfile(profileId: string, password: string, code?: string): Promise<void> {
  const body = code === undefined ? { password } : { password, code };
  await requestJson<undefined>("DELETE", profilePath(profileId), "session", body);
  endSession();
}

/**
 * Resumes the session of an earlier page load in this tab, which the session
 * cookie and the secret in sessionStorage prove. It rejects with a 401
 * ApiError, without a request, when this tab has no stored secret, and with the
 * server's 401 when the cookie is gone or belongs to another session, for
 * example after another tab signed in. A locked profile resolves with locked
 * set.
 */
export async function resumeSession(): Promise<SessionProfile> {
  const secret = readStoredSecret();
  if (secret === null) {
    throw new ApiError("unauthorized", strings.errors.noSession, 401);
  }

  csrfToken = secret;
  let me: SessionProfile;
  try {
    me = await requestJson<SessionProfile>("GET", "/api/auth/me", "public");
  } catch (err) {
    // A network failure keeps the secret, so that trying again can still
    // resume the session.
    if (err instanceof ApiError && isSessionRejected(err)) {
      endSession();
    }
    throw err;
  }
  sessionActive = true;
  sessionGeneration++;
  knownIdleLockMinutes = me.idleLockMinutes;
  return me;
}

/**
 * Signs in, which also unlocks the profile, and keeps the returned session
 * for the calls that follow. For a profile with two-step sign-in, the right
 * password returns a LoginChallenge instead and starts no session: pass it
 * to loginWithCode.
 */
export async function login(name: string, password: string): Promise<LoginResult | LoginChallenge> {
  const result = await requestJson<LoginResult | LoginChallenge>("POST", "/api/auth/login", "public", {
    name,
    password,
  });
  if (isLoginChallenge(result)) {
    return result;
  }
  startSession(result);
  return result;
}

/** Reports whether a response to login is the challenge of two-step sign-in. */
export function isLoginChallenge(result: LoginResult | LoginChallenge): result is LoginChallenge {
  return "mfaRequired" in result && result.mfaRequired;
}

/**
 * Completes a two-step sign-in with a code from the authenticator app or a
 * backup code, and keeps the returned session like login. A wrong code is a
 * 401 `invalid_code`, and a used, expired or dropped challenge a 401
 * `challenge_expired`, after which only the password step starts again.
 */
export async function loginWithCode(challenge: string, code: string): Promise<LoginResult> {
  const result = await requestJson<LoginResult>("POST", "/api/auth/login/mfa", "public", { challenge, code });
  startSession(result);
  return result;
}

/**
 * Sets a new password with the recovery key and signs in. The result contains
 * the replacement recovery key: from now on the old one no longer works.
 * Recovery also turns two-step sign-in off, and sets totpDisabled when it
 * was on.
 */
export async function recover(name: string, recoveryKey: string, newPassword: string): Promise<RecoverResult> {
  const result = await requestJson<RecoverResult>("POST", "/api/auth/recover", "public", {
    name,
    recoveryKey,
    newPassword,
  });
  startSession(result);
  return result;
}

/**
 * Changes the signed-in profile's password. The server ends every other
 * session of the profile and returns a new one, which replaces the
 * current session here (and its cookies in a browser). With two-step
 * sign-in on, the server also needs code, a current code from the
 * authenticator app or a backup code: without it the request fails with a
 * 400 `code_required`, and with a wrong one with `invalid_code`.
 */
export async function changePassword(current: string, newPassword: string, code?: string): Promise<LoginResult> {
  const body = code === undefined ? { current, new: newPassword } : { current, new: newPassword, code };
  const result = await requestJson<LoginResult>("POST", "/api/auth/password", "session", body);
  startSession(result);
  return result;
}

/** Fetches the signed-in profile, with its idle lock time. */
export async function getMe(): Promise<SessionProfile> {
  const me = await requestJson<SessionProfile>("GET", "/api/auth/me", "session");
  knownIdleLockMinutes = me.idleLockMinutes;
  return me;
}

/**
 * Returns when this page last sent a request with the session, in
 * milliseconds since the epoch, and the profile's idle lock in minutes, or
 * null while it is not known. The idle lock watch of App reads them.
 */
export function sessionActivity(): { lastRequestAt: number; idleLockMinutes: number | null } {
  return { lastRequestAt: lastSessionRequestAt, idleLockMinutes: knownIdleLockMinutes };
}

/**
 * Sets how many minutes without a request lock the signed-in profile, 0 for
 * never, and returns the changed profile. The server needs the profile
 * unlocked, and a value outside 0 to 10080 is a 400 ApiError with field
 * "idleLockMinutes".
 */
export async function setIdleLock(minutes: number): Promise<SessionProfile> {
  const me = await requestJson<SessionProfile>("PATCH", "/api/auth/me", "session", { idleLockMinutes: minutes });
  knownIdleLockMinutes = me.idleLockMinutes;
  return me;
}

/**
 * Replaces the signed-in profile's recovery key after the server checks its
 * password, and returns the new key. From now on the old key no longer
 * works. A wrong password is a 400 ApiError with field "password", and the
 * attempt counts towards the same throttle as failed sign-ins (429). With
 * two-step sign-in on, the server also needs code, because a recovery key
 * turns two-step sign-in off: without it the request fails with a 400
 * `code_required`, and with a wrong one with `invalid_code`.
 */
export function renewRecoveryKey(password: string, code?: string): Promise<RenewedRecoveryKey> {
  const body = code === undefined ? { password } : { password, code };
  return requestJson<RenewedRecoveryKey>("POST", "/api/auth/recovery-key", "session", body);
}

/** Fetches whether two-step sign-in is on for the signed-in profile, and its backup codes left. */
export function getTotpStatus(): Promise<TotpStatus> {
  return requestJson<TotpStatus>("GET", "/api/auth/totp", "session");
}

/**
 * Starts turning two-step sign-in on: the server makes a new secret, or
 * replaces the one of an earlier setup that was not finished, and returns
 * it for the authenticator app. It is a 409 `totp_enabled` when two-step
 * sign-in is on already.
 */
export function setupTotp(): Promise<TotpSetup> {
  return requestJson<TotpSetup>("POST", "/api/auth/totp/setup", "session", {});
}

/**
 * Turns two-step sign-in on with the password and the first code from the
 * authenticator app, and returns the backup codes, which the server never
 * sends again. Turning it on ends every other session of the profile, so
 * this page continues with the new session that comes with the codes. A
 * wrong password is a 400 on field "password" and a wrong code a 400
 * `invalid_code`, both counted towards the sign-in throttle, and a request
 * without setupTotp first is a 409 `no_pending_totp`.
 */
export async function enableTotp(code: string, password: string): Promise<BackupCodes> {
  const result = await requestJson<LoginResult & BackupCodes>("POST", "/api/auth/totp/enable", "session", {
    code,
    password,
  });
  startSession(result);
  return result;
}

/** Turns two-step sign-in off, with the password and a current code or a backup code. */
export async function disableTotp(password: string, code: string): Promise<void> {
  await requestJson<undefined>("POST", "/api/auth/totp/disable", "session", { password, code });
}

/**
 * Replaces the backup codes, with the password and a current code or a
 * backup code, and returns the new ones. The old codes stop working.
 */
export function renewBackupCodes(password: string, code: string): Promise<BackupCodes> {
  return requestJson<BackupCodes>("POST", "/api/auth/totp/backup-codes", "session", { password, code });
}

/**
 * Signs out on the server, which revokes the token, locks the profile and
 * clears the cookies, and then clears the session here. The session is
 * cleared even when the request fails, and a 401 counts as success because
 * the session had already ended.
 */
export async function logout(): Promise<void> {
  try {
    await requestJson<undefined>("POST", "/api/auth/logout", "public");
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      throw err;
    }
  } finally {
    endSession();
  }
}

/**
 * Fetches one page of the signed-in profile's threads, newest first. A
 * thread updated between two requests moves to the first page, so walking
 * the pages may miss it or return it twice.
 */
export function listThreads(page: PageRequest, signal?: AbortSignal): Promise<ThreadPage> {
  return requestPage<Thread>(`/api/threads?${pageQuery(page)}`, signal);
}

export function createThread(title?: string): Promise<Thread> {
  return requestJson<Thread>("POST", "/api/threads", "session", title === undefined ? {} : { title });
}

/** Fetches a thread with its last 50 messages, oldest first. */
export function getThread(threadId: string): Promise<ThreadWithMessages> {
  return requestJson<ThreadWithMessages>("GET", threadPath(threadId), "session");
}

/**
 * Fetches one page of the signed-in profile's threads whose title or message
 * content contains query, newest first. The server ignores case and rejects
 * a query of more than 200 characters with a 400 ApiError on field "q".
 * Aborting signal rejects with the fetch's AbortError.
 */
export function searchThreads(query: string, page: PageRequest, signal?: AbortSignal): Promise<ThreadPage<ThreadMatch>> {
  return requestPage<ThreadMatch>(`/api/threads?q=${encodeURIComponent(query)}&${pageQuery(page)}`, signal);
}

/**
 * Deletes a thread with its messages, its working memory and its recall
 * vectors. A reply being written there is stopped first.
 */
export async function deleteThread(threadId: string): Promise<void> {
  await requestJson<undefined>("DELETE", threadPath(threadId), "session");
}

/**
 * Downloads a thread as a Markdown or Hearth JSON file, with the session's
 * credentials, and returns its content and the file name that the server
 * chose.
 */
export async function exportThread(threadId: string, format: ExportFormat): Promise<ThreadExport> {
  const accept = format === "json" ? "application/json" : "text/markdown";
  const response = await send(
    "GET",
    `${threadPath(threadId)}/export?format=${format}`,
    "session",
    undefined,
    undefined,
    accept,
  );
  const fallback = format === "json" ? "thread.json" : "thread.md";
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch {
    throw new ApiError("network_error", strings.errors.network, 0);
  }
  return { blob, fileName: fileNameFromContentDisposition(response.headers.get("Content-Disposition")) ?? fallback };
}

/**
 * Returns the file name of a Content-Disposition header value, or null when
 * it names none. The RFC 8187 form `filename*=utf-8''...`, which Go's
 * mime.FormatMediaType writes for a name beyond ASCII, wins over `filename`
 * (RFC 6266, section 4.3). Folders in the name are dropped.
 */
export function fileNameFromContentDisposition(value: string | null): string | null {
  if (value === null) {
    return null;
  }
  let name: string | null = null;
  const extended = /filename\*\s*=\s*([\w!#$%&+^`{}~-]*)'[^']*'([^;\s]+)/i.exec(value);
  if (extended?.[2] !== undefined && (extended[1] ?? "").toLowerCase() === "utf-8") {
    try {
      name = decodeURIComponent(extended[2]);
    } catch {
      name = null;
    }
  }
  if (name === null) {
    const quoted = /(?:^|;)\s*filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(value);
    const token = /(?:^|;)\s*filename\s*=\s*([^";\s]+)/i.exec(value);
    name = quoted?.[1]?.replace(/\\(.)/g, "$1") ?? token?.[1] ?? null;
  }
  const base = name?.split(/[/\\]/).pop()?.trim() ?? "";
  return base === "" ? null : base;
}

/**
 * Creates a thread with copies of a thread's messages up to and including
 * messageId, and returns it. The server titles it "Fork of" and the original
 * title, and leaves the original thread as it was. A damaged message among
 * the copies makes the request fail.
 */
export function forkThread(threadId: string, messageId: string): Promise<Thread> {
  return requestJson<Thread>("POST", `${threadPath(threadId)}/fork`, "session", { messageId });
}

/**
 * Sends a chat message and returns the response once its status is known,
 * with the body still streaming. Read the body with streamChat.
 */
export function postChat(request: ChatRequest, signal: AbortSignal): Promise<Response> {
  return send("POST", "/api/chat", "session", request, signal, "text/event-stream");
}

/** Asks the server to stop the running reply of a thread. */
export async function stopChat(threadId: string): Promise<void> {
  await requestJson<undefined>("POST", `/api/chat/${encodeURIComponent(threadId)}/stop`, "session");
}

/** Fetches the signed-in profile's recall status and embedder. */
export function getRecallSettings(): Promise<RecallSettings> {
  return requestJson<RecallSettings>("GET", "/api/memory/recall", "session");
}

/**
 * Makes choice the signed-in profile's embedder and returns the new recall
 * settings. The server first embeds a test text with it, which may take up to
 * 20 seconds. An embedder that fails the test is a 502 ApiError with code
 * "embedder_unavailable" and a sentence that gives the fix, such as the
 * `ollama pull` command for a missing model. When the new embedder's vectors
 * differ from the current ones, the server embeds every message again in the
 * background and reports its progress in status.reembedding.
 */
export function chooseEmbedder(choice: EmbedderChoice): Promise<RecallSettings> {
  return requestJson<RecallSettings>("PUT", "/api/memory/recall/embedder", "session", choice);
}

/** Fetches the signed-in profile's settings. */
export function getSettings(): Promise<Settings> {
  return requestJson<Settings>("GET", "/api/settings", "session");
}

/**
 * Saves the signed-in profile's settings and returns them as stored. An
 * invalid value is a 400 ApiError whose field names it, such as
 * "backend.baseUrl" or "temperature".
 */
export async function saveSettings(update: SettingsUpdate): Promise<Settings> {
  const saved = await requestJson<Settings | undefined>("PUT", "/api/settings", "session", update);
  // A 204 response carries no settings, so they are fetched.
  return saved ?? getSettings();
}

/**
 * Lists the models of the profile's backend. A backend that cannot be
 * reached is a 502 ApiError with a code such as "backend_unreachable".
 */
export function listModels(): Promise<ModelList> {
  return requestJson<ModelList>("GET", "/api/models", "session");
}

/**
 * Asks the profile's Ollama server to download a model, and returns the
 * response once its status is known, with the progress lines still
 * streaming. Read the body with pullModel (modelPull.ts). Aborting signal
 * cancels the download.
 */
export function postModelPull(name: string, signal: AbortSignal): Promise<Response> {
  return send("POST", "/api/models/pull", "session", { name }, signal, "application/x-ndjson");
}

/**
 * Changes a thread's title or model and returns the changed thread. A model
 * of "" makes the thread use the profile's model.
 */
export function updateThread(threadId: string, change: { title?: string; model?: string }): Promise<Thread> {
  return requestJson<Thread>("PATCH", threadPath(threadId), "session", change);
}

/**
 * Fetches the working memory document. threadId selects the thread's own
 * document, and is ignored unless the profile's scope is "thread".
 */
export function getWorkingMemory(threadId?: string): Promise<WorkingMemoryDocument> {
  return requestJson<WorkingMemoryDocument>("GET", `/api/memory/working${threadQuery(threadId)}`, "session");
}

/**
 * Replaces the working memory document and returns the new version. version
 * is the version that the new content was written from: when the document
 * changed since, the server stores nothing and rejects the request with a
 * 409 `conflict`.
 */
export function saveWorkingMemory(document: {
  content: string;
  version: number;
  threadId?: string;
}): Promise<WorkingMemoryDocument> {
  return requestJson<WorkingMemoryDocument>("PUT", "/api/memory/working", "session", document);
}

/** Fetches the earlier versions of the working memory document, newest first. */
export async function getWorkingMemoryHistory(threadId?: string): Promise<WorkingMemoryDocument[]> {
  const result = await requestJson<{ versions: WorkingMemoryDocument[] }>(
    "GET",
    `/api/memory/working/history${threadQuery(threadId)}`,
    "session",
  );
  return result.versions;
}

/**
 * Stores the content of an earlier version as the newest one, and returns
 * the new document. current is the version the caller last saw: when the
 * document changed since, the server rejects the request with a 409 `conflict`.
 */
export function revertWorkingMemory(request: {
  version: number;
  current: number;
  threadId?: string;
}): Promise<WorkingMemoryDocument> {
  return requestJson<WorkingMemoryDocument>("POST", "/api/memory/working/revert", "session", request);
}

/**
 * Writes the thread's last reply again, keeping its text as an earlier
 * version, and returns the response with the new reply still streaming
 * (read it like postChat's).
 */
export function postRegenerate(threadId: string, messageId: string, signal: AbortSignal): Promise<Response> {
  return send("POST", `${messagePath(threadId, messageId)}/regenerate`, "session", {}, signal, "text/event-stream");
}

/**
 * Takes up a reply that was stopped, interrupted or failed where it ended,
 * and returns the response with the rest of the reply still streaming.
 */
export function postContinue(threadId: string, messageId: string, signal: AbortSignal): Promise<Response> {
  return send("POST", `${messagePath(threadId, messageId)}/continue`, "session", {}, signal, "text/event-stream");
}

/**
 * Replaces a user message with content in a copy of the thread up to that
 * message, and returns the response with the reply to it streaming. The
 * X-Thread-Id header names the new thread, and the original thread stays as
 * it was.
 */
export function putMessageEdit(
  threadId: string,
  messageId: string,
  content: string,
  signal: AbortSignal,
): Promise<Response> {
  return send("PUT", messagePath(threadId, messageId), "session", { content }, signal, "text/event-stream");
}

/**
 * Returns the number of seconds to wait that a Retry-After header value
 * requests: either a number of seconds or an HTTP date (RFC 9110, section
 * 10.2.3). It returns null for a missing or unreadable value.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) {
    return null;
  }
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed);
  }
  // Every HTTP date format names the day or month in letters. The check keeps
  // Date.parse from reading a value such as "-1" or "1.5" as a year.
  const date = /[a-z]/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(date)) {
    return null;
  }
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function profilePath(profileId: string): string {
  return `/api/auth/profiles/${encodeURIComponent(profileId)}`;
}

function threadPath(threadId: string): string {
  return `/api/threads/${encodeURIComponent(threadId)}`;
}

function messagePath(threadId: string, messageId: string): string {
  return `${threadPath(threadId)}/messages/${encodeURIComponent(messageId)}`;
}

// threadQuery returns the query string that names a thread's working memory
// document, or "" for the profile's own.
function threadQuery(threadId: string | undefined): string {
  return threadId === undefined ? "" : `?threadId=${encodeURIComponent(threadId)}`;
}

function startSession(result: LoginResult): void {
  authToken = result.token;
  csrfToken = result.csrfToken;
  knownIdleLockMinutes = null;
  writeStoredSecret(result.csrfToken);
  sessionActive = true;
  sessionGeneration++;
}

function endSession(): void {
  authToken = null;
  csrfToken = null;
  knownIdleLockMinutes = null;
  writeStoredSecret(null);
  sessionActive = false;
  sessionGeneration++;
}

// requestJson sends a request and decodes its JSON response. A 204 response
// resolves to undefined.
async function requestJson<T>(method: string, path: string, mode: AuthMode, body?: object): Promise<T> {
  const response = await send(method, path, mode, body, undefined, "application/json");
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

// requestPage sends GET path and returns the threads of the response with
// the cursor of the next page, which the X-Next-Cursor header carries.
async function requestPage<T extends Thread>(path: string, signal: AbortSignal | undefined): Promise<ThreadPage<T>> {
  const response = await send("GET", path, "session", undefined, signal, "application/json");
  let threads: T[];
  try {
    threads = (await response.json()) as T[];
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") {
      throw err;
    }
    throw new ApiError("invalid_response", strings.errors.invalidResponse, response.status);
  }
  const next = response.headers.get("X-Next-Cursor");
  return { threads, nextCursor: next === null || next === "" ? null : next };
}

// pageQuery returns the query parameters of a page request.
function pageQuery(page: PageRequest): string {
  const query = new URLSearchParams({ limit: String(page.limit) });
  if (page.cursor !== undefined && page.cursor !== null) {
    query.set("cursor", page.cursor);
  }
  return query.toString();
}

// send sends a request with the session's credentials and returns the
// response when its status is 2xx. Otherwise it rejects with an ApiError,
// after notifying the session handlers when the response ends or locks the
// current session.
async function send(
  method: string,
  path: string,
  mode: AuthMode,
  body: object | undefined,
  signal: AbortSignal | undefined,
  accept: string,
): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (authToken !== null) {
    headers["Authorization"] = `Bearer ${authToken}`;
  }
  // The server rejects a request that the session cookie authenticates, GET
  // included, unless this header repeats the session's secret. A cookie that
  // the browser sent on another page's behalf, or that another server on this
  // computer received, comes without it.
  if (csrfToken !== null) {
    headers["X-CSRF-Token"] = csrfToken;
  }

  // same-origin is fetch's default, and is spelled out because the session
  // cookie depends on it.
  const init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
  }
  if (signal !== undefined) {
    init.signal = signal;
  }

  const generation = sessionGeneration;
  if (authToken !== null || csrfToken !== null) {
    lastSessionRequestAt = Date.now();
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
  if (response.ok) {
    return response;
  }

  const error = await errorFromResponse(response);
  if (response.status === 401 && sessionActive && generation === sessionGeneration) {
    reportSessionError(error, mode);
  }
  throw error;
}

// reportSessionError notifies the session handlers of what a 401 response
// means for the current session.
function reportSessionError(error: ApiError, mode: AuthMode): void {
  // A wrong code of two-step sign-in (`invalid_code`) rejects the request,
  // not the session. The server sends it as a 400 on the routes of a
  // signed-in profile, and this check keeps a 401 from signing out as well.
  if (mode === "public" || error.code === "invalid_code") {
    return;
  }
  if (error.code === "locked") {
    sessionHandlers?.onLocked();
    return;
  }
  endSession();
  sessionHandlers?.onEnded();
}

// isSessionRejected reports whether a 401 response means that the server
// does not accept the session at all, as opposed to a locked profile.
function isSessionRejected(error: ApiError): boolean {
  return error.status === 401 && (error.code === "invalid_token" || error.code === "unauthorized");
}

async function errorFromResponse(response: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // The body is optional for an error; the status alone still describes it.
  }
  const retryAfter = response.status === 429 ? parseRetryAfter(response.headers.get("Retry-After")) : null;

  const parsed = parseErrorBody(text, response.status);
  if (parsed !== null) {
    return new ApiError(parsed.code, parsed.message, response.status, retryAfter, parsed.field);
  }
  return new ApiError(
    codeForStatus(response.status),
    strings.errors.httpStatus(response.status),
    response.status,
    retryAfter,
  );
}

// parseErrorBody reads the {"error": {"code", "message", "field"?}} shape,
// or returns null when the text has another shape.
function parseErrorBody(
  text: string,
  status: number,
): { code: ApiErrorCode; message: string; field: string | null } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return readErrorBody(value, status);
}

/**
 * Returns the ApiError that a decoded {"error": {"code", "message"}} value
 * describes, such as the last line of a failed model download, or null for
 * a value of another shape. status is the HTTP status of the response that
 * carried it.
 */
export function apiErrorFromBody(value: unknown, status: number): ApiError | null {
  const parsed = readErrorBody(value, status);
  return parsed === null ? null : new ApiError(parsed.code, parsed.message, status, null, parsed.field);
}

function readErrorBody(
  value: unknown,
  status: number,
): { code: ApiErrorCode; message: string; field: string | null } | null {
  if (!isObject(value) || !isObject(value.error)) {
    return null;
  }

  const { code, message, field } = value.error;
  if (typeof message !== "string") {
    return null;
  }
  // A code this client does not know yet is replaced by the one its status
  // implies, but the server's sentence is kept.
  const known = serverErrorCodes.find((candidate) => candidate === code);
  return { code: known ?? codeForStatus(status), message, field: typeof field === "string" ? field : null };
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
    case 413:
      return "too_large";
    case 405:
      return "method_not_allowed";
    case 415:
      return "unsupported_media_type";
    case 429:
      return "rate_limited";
    default:
      return "internal";
  }
}

// readStoredSecret returns the session's secret that an earlier page load in
// this tab stored, or null. Reading sessionStorage throws where the browser
// blocks storage, and then this tab cannot resume a session.
function readStoredSecret(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(csrfStorageKey) ?? null;
  } catch {
    return null;
  }
}

// writeStoredSecret stores the session's secret, or removes it for null.
// Where the browser blocks storage, the secret stays in memory only, and a
// reload shows the profile picker.
function writeStoredSecret(secret: string | null): void {
  try {
    if (secret === null) {
      globalThis.sessionStorage?.removeItem(csrfStorageKey);
    } else {
      globalThis.sessionStorage?.setItem(csrfStorageKey, secret);
    }
  } catch {
    // The session still works until the page unloads.
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
