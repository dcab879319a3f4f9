import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import {
  ApiError,
  changePassword,
  chooseEmbedder,
  createProfile,
  createThread,
  deleteOwnProfile,
  deleteProfile,
  disableTotp,
  enableTotp,
  getMe,
  getRecallSettings,
  getSettings,
  getThread,
  getTotpStatus,
  getWorkingMemory,
  getWorkingMemoryHistory,
  listModels,
  listProfiles,
  isLoginChallenge,
  listThreads,
  login,
  loginWithCode,
  logout,
  parseRetryAfter,
  postContinue,
  postRegenerate,
  putMessageEdit,
  recover,
  renewBackupCodes,
  renewRecoveryKey,
  resumeSession,
  revertWorkingMemory,
  saveSettings,
  saveWorkingMemory,
  searchThreads,
  setProfileRole,
  setSessionHandlers,
  setupTotp,
  stopChat,
  updateThread,
} from "./api.ts";
import { strings } from "./strings.ts";

type FetchArguments = [string, RequestInit];

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function errorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse(status, { error: { code, message } }, headers);
}

function fieldErrorResponse(status: number, code: string, message: string, field: string): Response {
  return jsonResponse(status, { error: { code, message, field } });
}

// stubFetch replaces fetch with a mock that returns the given responses in order.
function stubFetch(...responses: Response[]) {
  const fetchMock = vi.fn(async (..._args: FetchArguments) => {
    const next = responses.shift();
    if (next === undefined) {
      throw new Error("unexpected fetch");
    }
    return next;
  });
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

// headersOf returns the headers of the index-th recorded fetch call.
function headersOf(fetchMock: ReturnType<typeof stubFetch>, index: number): Headers {
  const call = fetchMock.mock.calls[index];
  if (call === undefined) {
    throw new Error(`fetch was called ${fetchMock.mock.calls.length} times, not ${index + 1}`);
  }
  return new Headers(call[1].headers);
}

function initOf(fetchMock: ReturnType<typeof stubFetch>, index: number): RequestInit {
  const call = fetchMock.mock.calls[index];
  if (call === undefined) {
    throw new Error(`fetch was called ${fetchMock.mock.calls.length} times, not ${index + 1}`);
  }
  return call[1];
}

// MemoryStorage replaces the browser's sessionStorage, which Node does not
// have, and records every write so that a test can check what was stored.
class MemoryStorage {
  readonly items = new Map<string, string>();
  readonly writes: Array<{ key: string; value: string }> = [];

  get length(): number {
    return this.items.size;
  }

  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.writes.push({ key, value });
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }

  clear(): void {
    this.items.clear();
  }
}

// The sessionStorage key that api.ts keeps the session's secret under.
const csrfStorageKey = "hearth.csrf";

let storage: MemoryStorage;
let local: MemoryStorage;

const profile = { id: "p1", name: "Ada", role: "admin" };

const loginAnswer = {
  token: "secret-token",
  expiresAt: "2030-01-01T00:00:00Z",
  csrfToken: "csrf-from-login",
  profile,
};

const invalidToken = () => errorResponse(401, "invalid_token", "Your session is not valid. Sign in again.");
const locked = () => errorResponse(401, "locked", "This profile is locked. Sign in again to unlock it.");
const wrongPassword = () => errorResponse(401, "unauthorized", "The profile name or password is wrong.");

const handlers = { onLocked: vi.fn(), onEnded: vi.fn() };

beforeEach(() => {
  handlers.onLocked.mockReset();
  handlers.onEnded.mockReset();
  setSessionHandlers(handlers);
  storage = new MemoryStorage();
  local = new MemoryStorage();
  vi.stubGlobal("sessionStorage", storage);
  vi.stubGlobal("localStorage", local);
});

afterEach(async () => {
  // Clear the session that a test started. logout() clears it whatever the
  // server returns.
  stubFetch(new Response(null, { status: 204 }));
  await logout();
  setSessionHandlers(null);
  vi.unstubAllGlobals();
});

describe("api client", () => {
  it("sends the token after login", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await listThreads({ limit: 100 });

    const [loginUrl, loginInit] = fetchMock.mock.calls[0] as FetchArguments;
    expect(loginUrl).toBe("/api/auth/login");
    expect(loginInit.body).toBe(JSON.stringify({ name: "Ada", password: "correct horse" }));
    expect(headersOf(fetchMock, 0).has("Authorization")).toBe(false);
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
  });

  it("sends credentials same-origin on every request", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, []), new Response(null, { status: 204 }));

    await login("Ada", "correct horse");
    await listThreads({ limit: 100 });
    await stopChat("t1");

    expect(fetchMock.mock.calls).toHaveLength(3);
    for (const [index] of fetchMock.mock.calls.entries()) {
      expect(initOf(fetchMock, index).credentials).toBe("same-origin");
    }
  });

  it("sends the secret on GET and POST", async () => {
    const thread = { id: "t1", title: "New Conversation" };
    const fetchMock = stubFetch(
      jsonResponse(200, loginAnswer),
      jsonResponse(200, []),
      jsonResponse(200, { thread, messages: [] }),
      jsonResponse(201, thread),
      new Response(null, { status: 204 }),
      jsonResponse(200, [profile]),
    );

    await login("Ada", "correct horse");
    await listThreads({ limit: 100 });
    await getThread("t1");
    await createThread();
    await stopChat("t1");
    await listProfiles();

    expect(initOf(fetchMock, 1).method).toBe("GET");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(initOf(fetchMock, 2).method).toBe("GET");
    expect(headersOf(fetchMock, 2).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(initOf(fetchMock, 3).method).toBe("POST");
    expect(headersOf(fetchMock, 3).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(initOf(fetchMock, 4).method).toBe("POST");
    expect(headersOf(fetchMock, 4).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(headersOf(fetchMock, 5).get("X-CSRF-Token")).toBe("csrf-from-login");
  });

  it("sends no secret without a session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, [profile]), jsonResponse(200, loginAnswer));

    await listProfiles();
    await login("Ada", "correct horse");

    expect(headersOf(fetchMock, 0).has("X-CSRF-Token")).toBe(false);
    expect(headersOf(fetchMock, 1).has("X-CSRF-Token")).toBe(false);
  });

  it("stores the secret in sessionStorage", async () => {
    stubFetch(jsonResponse(200, loginAnswer));

    await login("Ada", "correct horse");

    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
    expect(storage.length).toBe(1);
    expect(local.length).toBe(0);
  });

  it("never writes the token to storage", async () => {
    stubFetch(
      jsonResponse(200, loginAnswer),
      jsonResponse(200, { ...loginAnswer, token: "changed-token", csrfToken: "changed-csrf" }),
      jsonResponse(200, { ...loginAnswer, token: "recovered-token", csrfToken: "recovered-csrf", recoveryKey: "KEY" }),
    );

    await login("Ada", "correct horse");
    await changePassword("correct horse", "battery staple");
    await recover("Ada", "old-key", "staple battery");

    expect(storage.writes).toEqual([
      { key: csrfStorageKey, value: "csrf-from-login" },
      { key: csrfStorageKey, value: "changed-csrf" },
      { key: csrfStorageKey, value: "recovered-csrf" },
    ]);
    expect(local.writes).toEqual([]);
  });

  it("logout revokes and clears the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), new Response(null, { status: 204 }), invalidToken());

    await login("Ada", "correct horse");
    await logout();
    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "invalid_token" });

    const [logoutUrl, logoutInit] = fetchMock.mock.calls[1] as FetchArguments;
    expect(logoutUrl).toBe("/api/auth/logout");
    expect(logoutInit.method).toBe("POST");
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(headersOf(fetchMock, 2).has("Authorization")).toBe(false);
    expect(headersOf(fetchMock, 2).has("X-CSRF-Token")).toBe(false);
    expect(storage.getItem(csrfStorageKey)).toBeNull();
    // The 401 after sign-out is not news about a session.
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("logout counts a 401 as signed out", async () => {
    stubFetch(jsonResponse(200, loginAnswer), invalidToken());

    await login("Ada", "correct horse");

    await expect(logout()).resolves.toBeUndefined();
    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(storage.getItem(csrfStorageKey)).toBeNull();
  });

  it("logout clears session when unreachable", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer));
    await login("Ada", "correct horse");
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );

    await expect(logout()).rejects.toMatchObject({ code: "network_error" });
    expect(storage.getItem(csrfStorageKey)).toBeNull();

    vi.stubGlobal("fetch", fetchMock);
    fetchMock.mockResolvedValueOnce(jsonResponse(200, []));
    await listThreads({ limit: 100 });
    expect(headersOf(fetchMock, 1).has("Authorization")).toBe(false);
    expect(headersOf(fetchMock, 1).has("X-CSRF-Token")).toBe(false);
  });

  it("turns the error shape into an ApiError", async () => {
    stubFetch(wrongPassword());

    const result = login("Ada", "wrong");

    await expect(result).rejects.toBeInstanceOf(ApiError);
    await expect(result).rejects.toMatchObject({
      code: "unauthorized",
      status: 401,
      message: "The profile name or password is wrong.",
    });
  });

  it("keeps the message of an unknown error code", async () => {
    stubFetch(errorResponse(404, "brand_new_code", "Gone fishing."));

    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "not_found", status: 404, message: "Gone fishing." });
  });

  it("describes an error without the error shape by its status", async () => {
    stubFetch(new Response("<html>Bad gateway</html>", { status: 502 }));

    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({
      code: "internal",
      status: 502,
      message: strings.errors.httpStatus(502),
    });
  });

  it("reports a failed fetch as network_error", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );

    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "network_error", status: 0 });
  });

  it("reports a body that is not JSON as invalid_response", async () => {
    stubFetch(new Response("not json", { status: 200 }));

    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "invalid_response", status: 200 });
  });

  it("resolves a 204 answer without reading a body", async () => {
    stubFetch(new Response(null, { status: 204 }));

    await expect(stopChat("t1")).resolves.toBeUndefined();
  });

  it("reads Retry-After of a 429", async () => {
    stubFetch(
      errorResponse(429, "rate_limited", "Too many failed attempts. Wait before trying again.", { "Retry-After": "8" }),
    );

    await expect(login("Ada", "wrong")).rejects.toMatchObject({
      code: "rate_limited",
      status: 429,
      message: "Too many failed attempts. Wait before trying again.",
      retryAfterSeconds: 8,
    });
  });

  it("gives rate_limited to a 429 without the error shape", async () => {
    stubFetch(new Response("slow down", { status: 429 }));

    await expect(login("Ada", "wrong")).rejects.toMatchObject({ code: "rate_limited", retryAfterSeconds: null });
  });
});

describe("session errors", () => {
  it("invalid_token ends the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), invalidToken(), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "invalid_token" });
    expect(handlers.onEnded).toHaveBeenCalledTimes(1);
    expect(handlers.onLocked).not.toHaveBeenCalled();
    expect(storage.getItem(csrfStorageKey)).toBeNull();

    // The rejected token and secret are not sent again.
    await listThreads({ limit: 100 });
    expect(headersOf(fetchMock, 2).has("Authorization")).toBe(false);
    expect(headersOf(fetchMock, 2).has("X-CSRF-Token")).toBe(false);
  });

  it("unauthorized on a session route ends the session", async () => {
    stubFetch(jsonResponse(200, loginAnswer), errorResponse(401, "unauthorized", "Sign in first."));

    await login("Ada", "correct horse");
    await expect(createThread()).rejects.toMatchObject({ code: "unauthorized" });

    expect(handlers.onEnded).toHaveBeenCalledTimes(1);
    expect(handlers.onLocked).not.toHaveBeenCalled();
    expect(storage.getItem(csrfStorageKey)).toBeNull();
  });

  it("locked keeps the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), locked(), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "locked", status: 401 });
    expect(handlers.onLocked).toHaveBeenCalledTimes(1);
    expect(handlers.onEnded).not.toHaveBeenCalled();

    // The token is still valid, and is sent again with the secret.
    await listThreads({ limit: 100 });
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
    expect(headersOf(fetchMock, 2).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
  });

  it("locked after a resumed session is reported", async () => {
    storage.setItem(csrfStorageKey, "stored-csrf");
    stubFetch(jsonResponse(200, { ...profile, locked: true }), locked());

    const me = await resumeSession();
    await expect(getThread("t1")).rejects.toMatchObject({ code: "locked" });

    expect(me.locked).toBe(true);
    expect(handlers.onLocked).toHaveBeenCalledTimes(1);
  });

  it("wrong password does not end the session", async () => {
    stubFetch(wrongPassword());

    await expect(login("Ada", "wrong")).rejects.toBeInstanceOf(ApiError);

    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("wrong password keeps the stored secret", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), wrongPassword(), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(login("Ada", "wrong")).rejects.toMatchObject({ code: "unauthorized" });
    await listThreads({ limit: 100 });

    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
    expect(headersOf(fetchMock, 2).get("X-CSRF-Token")).toBe("csrf-from-login");
  });

  it("wrong password while locked keeps the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), locked(), wrongPassword(), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "locked" });
    await expect(login("Ada", "wrong")).rejects.toMatchObject({ code: "unauthorized" });
    await listThreads({ limit: 100 });

    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(headersOf(fetchMock, 3).get("Authorization")).toBe("Bearer secret-token");
  });

  it("ignores a 401 from an earlier session", async () => {
    let answerOldRequest: (response: Response) => void = () => undefined;
    const oldAnswer = new Promise<Response>((resolve) => {
      answerOldRequest = resolve;
    });
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer));
    await login("Ada", "correct horse");

    fetchMock.mockReturnValueOnce(oldAnswer);
    const oldRequest = listThreads({ limit: 100 });
    fetchMock.mockResolvedValueOnce(jsonResponse(200, { ...loginAnswer, token: "second-token" }));
    await login("Ada", "correct horse");
    answerOldRequest(invalidToken());

    await expect(oldRequest).rejects.toMatchObject({ code: "invalid_token" });
    expect(handlers.onEnded).not.toHaveBeenCalled();

    fetchMock.mockResolvedValueOnce(jsonResponse(200, []));
    await listThreads({ limit: 100 });
    expect(headersOf(fetchMock, 3).get("Authorization")).toBe("Bearer second-token");
  });
});

describe("resumed session", () => {
  const me = { ...profile, locked: false };

  it("sends the stored secret with the cookie", async () => {
    storage.setItem(csrfStorageKey, "stored-csrf");
    const fetchMock = stubFetch(jsonResponse(200, me), jsonResponse(200, []), jsonResponse(201, { id: "t1" }));

    const resumed = await resumeSession();
    await listThreads({ limit: 100 });
    await createThread();

    expect(resumed.locked).toBe(false);
    expect(fetchMock.mock.calls[0]?.[0]).toBe("/api/auth/me");
    for (const index of [0, 1, 2]) {
      expect(headersOf(fetchMock, index).get("X-CSRF-Token")).toBe("stored-csrf");
      expect(headersOf(fetchMock, index).has("Authorization")).toBe(false);
    }
  });

  it("without a stored secret sends nothing", async () => {
    const fetchMock = stubFetch();

    await expect(resumeSession()).rejects.toMatchObject({ code: "unauthorized", status: 401 });

    expect(fetchMock).not.toHaveBeenCalled();
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("rejected on load clears the secret", async () => {
    storage.setItem(csrfStorageKey, "stored-csrf");
    const fetchMock = stubFetch(errorResponse(401, "unauthorized", "Sign in first."), jsonResponse(200, [profile]));

    await expect(resumeSession()).rejects.toMatchObject({ code: "unauthorized", status: 401 });
    await listProfiles();

    expect(storage.getItem(csrfStorageKey)).toBeNull();
    expect(headersOf(fetchMock, 1).has("X-CSRF-Token")).toBe(false);
    // The page had no session yet, so there is nothing to report.
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("network failure keeps the secret", async () => {
    storage.setItem(csrfStorageKey, "stored-csrf");
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );

    await expect(resumeSession()).rejects.toMatchObject({ code: "network_error" });

    expect(storage.getItem(csrfStorageKey)).toBe("stored-csrf");
  });

  it("sign-in in another tab ends it", async () => {
    // Another tab signed in as someone else, so the browser's cookie now
    // belongs to a session whose secret this tab does not have.
    storage.setItem(csrfStorageKey, "stored-csrf");
    const fetchMock = stubFetch(jsonResponse(200, me), errorResponse(401, "unauthorized", "Sign in first."));
    await resumeSession();

    await expect(createThread()).rejects.toMatchObject({ code: "unauthorized", status: 401 });

    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("stored-csrf");
    expect(handlers.onEnded).toHaveBeenCalledTimes(1);
    expect(storage.getItem(csrfStorageKey)).toBeNull();
  });

  it("logout sends the secret and clears it", async () => {
    storage.setItem(csrfStorageKey, "stored-csrf");
    const fetchMock = stubFetch(jsonResponse(200, me), new Response(null, { status: 204 }));
    await resumeSession();

    await logout();

    expect(fetchMock.mock.calls[1]?.[0]).toBe("/api/auth/logout");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("stored-csrf");
    expect(storage.getItem(csrfStorageKey)).toBeNull();
  });

  it("blocked storage keeps secret in memory", async () => {
    // Browsers throw on any use of sessionStorage when the user blocks site data.
    Object.defineProperty(globalThis, "sessionStorage", {
      configurable: true,
      get() {
        throw new DOMException("The operation is insecure.", "SecurityError");
      },
    });
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await listThreads({ limit: 100 });
    await expect(resumeSession()).rejects.toMatchObject({ status: 401 });

    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    vi.stubGlobal("sessionStorage", storage);
  });
});

describe("password change and recovery", () => {
  it("changePassword replaces the session", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, loginAnswer),
      jsonResponse(200, { ...loginAnswer, token: "new-token", csrfToken: "new-csrf" }),
      jsonResponse(201, { id: "t1" }),
    );

    await login("Ada", "correct horse");
    await changePassword("correct horse", "battery staple");
    await createThread();

    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/password");
    expect(init.body).toBe(JSON.stringify({ current: "correct horse", new: "battery staple" }));
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer new-token");
    expect(headersOf(fetchMock, 2).get("X-CSRF-Token")).toBe("new-csrf");
    expect(storage.getItem(csrfStorageKey)).toBe("new-csrf");
  });

  it("rejected new password names field new", async () => {
    const samePassword = fieldErrorResponse(
      400,
      "invalid_request",
      "The new password is the same as the current one. Choose another.",
      "new",
    );
    stubFetch(jsonResponse(200, loginAnswer), samePassword);

    await login("Ada", "correct horse");

    await expect(changePassword("correct horse", "correct horse")).rejects.toMatchObject({
      code: "invalid_request",
      status: 400,
      field: "new",
    });
    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
  });

  it("wrong current password keeps the session", async () => {
    const wrongCurrent = errorResponse(400, "invalid_request", "The current password is wrong.");
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), wrongCurrent, jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(changePassword("wrong", "battery staple")).rejects.toMatchObject({ code: "invalid_request" });
    await listThreads({ limit: 100 });

    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
  });

  it("changePassword with an ended session is reported", async () => {
    stubFetch(jsonResponse(200, loginAnswer), invalidToken());

    await login("Ada", "correct horse");
    await expect(changePassword("correct horse", "battery staple")).rejects.toMatchObject({ code: "invalid_token" });

    expect(handlers.onEnded).toHaveBeenCalledTimes(1);
  });

  it("recover starts a session and returns the new key", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, { ...loginAnswer, recoveryKey: "AAAA-BBBB", token: "recovered-token" }),
      jsonResponse(200, []),
    );

    const result = await recover("Ada", "old-key", "battery staple");
    await listThreads({ limit: 100 });

    expect(result.recoveryKey).toBe("AAAA-BBBB");
    const [url, init] = fetchMock.mock.calls[0] as FetchArguments;
    expect(url).toBe("/api/auth/recover");
    expect(init.body).toBe(JSON.stringify({ name: "Ada", recoveryKey: "old-key", newPassword: "battery staple" }));
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer recovered-token");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
  });

  it("wrong recovery key does not end a session", async () => {
    stubFetch(errorResponse(401, "unauthorized", "The profile name or recovery key is wrong."));

    await expect(recover("Ada", "wrong", "battery staple")).rejects.toMatchObject({ code: "unauthorized" });

    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(storage.length).toBe(0);
  });

  it("renewRecoveryKey sends the password", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { recoveryKey: "NEW-KEY" }));

    await login("Ada", "correct horse");
    const renewed = await renewRecoveryKey("correct horse");

    expect(renewed).toEqual({ recoveryKey: "NEW-KEY" });
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/recovery-key");
    expect(init.method).toBe("POST");
    expect(init.body).toBe(JSON.stringify({ password: "correct horse" }));
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    // The session stays the same.
    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
  });

  it("renewRecoveryKey wrong password keeps session", async () => {
    const wrong = fieldErrorResponse(400, "invalid_request", "The password is wrong.", "password");
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), wrong, jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(renewRecoveryKey("wrong")).rejects.toMatchObject({
      code: "invalid_request",
      status: 400,
      field: "password",
    });
    await listThreads({ limit: 100 });

    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
  });

  it("renewRecoveryKey reads Retry-After of a 429", async () => {
    stubFetch(
      jsonResponse(200, loginAnswer),
      errorResponse(429, "rate_limited", "Too many failed attempts. Wait before trying again.", {
        "Retry-After": "900",
      }),
    );

    await login("Ada", "correct horse");

    await expect(renewRecoveryKey("wrong")).rejects.toMatchObject({ code: "rate_limited", retryAfterSeconds: 900 });
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });
});

describe("two-step sign-in", () => {
  const challengeAnswer = { mfaRequired: true, challenge: "opaque-challenge", expiresAt: "2030-01-01T00:05:00Z" };
  const wrongCode = () => errorResponse(401, "invalid_code", "The code is wrong. Enter the code your app shows now.");
  const backupCodes = Array.from({ length: 10 }, (_, index) => `aaaa-bbbb-${String(index).padStart(2, "0")}`);

  it("login returns the challenge without a session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, challengeAnswer), jsonResponse(200, []));

    const result = await login("Ada", "correct horse");
    await listThreads({ limit: 100 });

    expect(isLoginChallenge(result)).toBe(true);
    expect(headersOf(fetchMock, 1).has("Authorization")).toBe(false);
    expect(headersOf(fetchMock, 1).has("X-CSRF-Token")).toBe(false);
    expect(storage.getItem(csrfStorageKey)).toBeNull();
  });

  it("isLoginChallenge is false for a session", async () => {
    stubFetch(jsonResponse(200, loginAnswer));

    expect(isLoginChallenge(await login("Ada", "correct horse"))).toBe(false);
  });

  it("loginWithCode sends the challenge and starts the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, challengeAnswer), jsonResponse(200, loginAnswer), jsonResponse(200, []));

    await login("Ada", "correct horse");
    const result = await loginWithCode("opaque-challenge", "123456");
    await listThreads({ limit: 100 });

    expect(result.profile).toEqual(profile);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/login/mfa");
    expect(init.method).toBe("POST");
    expect(init.body).toBe(JSON.stringify({ challenge: "opaque-challenge", code: "123456" }));
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
  });

  it("wrong code at sign-in starts no session", async () => {
    const fetchMock = stubFetch(wrongCode(), jsonResponse(200, []));

    await expect(loginWithCode("opaque-challenge", "000000")).rejects.toMatchObject({
      code: "invalid_code",
      status: 401,
    });
    await listThreads({ limit: 100 });

    expect(headersOf(fetchMock, 1).has("Authorization")).toBe(false);
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("expired challenge keeps its code", async () => {
    stubFetch(errorResponse(401, "challenge_expired", "This sign-in has expired. Sign in again with your password."));

    await expect(loginWithCode("opaque-challenge", "123456")).rejects.toMatchObject({
      code: "challenge_expired",
      status: 401,
    });
  });

  it("wrong code while locked keeps the session", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, loginAnswer),
      locked(),
      jsonResponse(200, challengeAnswer),
      wrongCode(),
      jsonResponse(200, []),
    );

    await login("Ada", "correct horse");
    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "locked" });
    await login("Ada", "correct horse");
    await expect(loginWithCode("opaque-challenge", "000000")).rejects.toMatchObject({ code: "invalid_code" });
    await listThreads({ limit: 100 });

    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(headersOf(fetchMock, 4).get("Authorization")).toBe("Bearer secret-token");
  });

  it("changePassword sends the code when given", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, loginAnswer));

    await login("Ada", "correct horse");
    await changePassword("correct horse", "battery staple", "123456");

    const [, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(init.body).toBe(JSON.stringify({ current: "correct horse", new: "battery staple", code: "123456" }));
  });

  it("changePassword wrong code keeps the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), wrongCode(), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(changePassword("correct horse", "battery staple", "000000")).rejects.toMatchObject({
      code: "invalid_code",
      status: 401,
    });
    await listThreads({ limit: 100 });

    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
  });

  it("changePassword keeps code_required", async () => {
    stubFetch(
      jsonResponse(200, loginAnswer),
      errorResponse(400, "code_required", "Two-step sign-in is on. Enter a code from your app."),
    );

    await login("Ada", "correct horse");

    await expect(changePassword("correct horse", "battery staple")).rejects.toMatchObject({
      code: "code_required",
      status: 400,
    });
  });

  it("getMe reads totpEnabled", async () => {
    stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { ...profile, locked: false, idleLockMinutes: 15, totpEnabled: true }));

    await login("Ada", "correct horse");

    expect((await getMe()).totpEnabled).toBe(true);
  });

  it("getTotpStatus sends GET with the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { enabled: true, backupCodesLeft: 7 }));

    await login("Ada", "correct horse");
    const status = await getTotpStatus();

    expect(status).toEqual({ enabled: true, backupCodesLeft: 7 });
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/totp");
    expect(init.method).toBe("GET");
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
  });

  it("setupTotp sends an empty object", async () => {
    const setup = { secret: "JBSWY3DPEHPK3PXP", uri: "otpauth://totp/Hearth:Ada?secret=JBSWY3DPEHPK3PXP", qr: "data:image/png;base64,AA==" };
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, setup));

    await login("Ada", "correct horse");

    expect(await setupTotp()).toEqual(setup);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/totp/setup");
    expect(init.method).toBe("POST");
    expect(init.body).toBe("{}");
  });

  it("setupTotp keeps totp_enabled", async () => {
    stubFetch(jsonResponse(200, loginAnswer), errorResponse(409, "totp_enabled", "Two-step sign-in is already on."));

    await login("Ada", "correct horse");

    await expect(setupTotp()).rejects.toMatchObject({ code: "totp_enabled", status: 409 });
  });

  it("enableTotp returns the backup codes and takes the new session", async () => {
    const renewed = { ...loginAnswer, token: "token-after-enrolment", csrfToken: "csrf-after-enrolment" };
    const fetchMock = stubFetch(
      jsonResponse(200, loginAnswer),
      jsonResponse(200, { ...renewed, backupCodes }),
      jsonResponse(200, { threads: [], nextCursor: null }),
    );

    await login("Ada", "correct horse");

    expect((await enableTotp("123456", "correct horse")).backupCodes).toEqual(backupCodes);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/totp/enable");
    expect(init.body).toBe(JSON.stringify({ code: "123456", password: "correct horse" }));
    // Later requests carry the session that came with the codes.
    await listThreads({ limit: 100 });
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer token-after-enrolment");
    expect(headersOf(fetchMock, 2).get("X-CSRF-Token")).toBe("csrf-after-enrolment");
  });

  it("enableTotp keeps no_pending_totp", async () => {
    stubFetch(jsonResponse(200, loginAnswer), errorResponse(409, "no_pending_totp", "Start the setup again."));

    await login("Ada", "correct horse");

    await expect(enableTotp("123456", "correct horse")).rejects.toMatchObject({ code: "no_pending_totp", status: 409 });
  });

  it("disableTotp sends password and code", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), new Response(null, { status: 204 }));

    await login("Ada", "correct horse");
    await disableTotp("correct horse", "abcdefghjk");

    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/totp/disable");
    expect(init.method).toBe("POST");
    expect(init.body).toBe(JSON.stringify({ password: "correct horse", code: "abcdefghjk" }));
  });

  it("disableTotp wrong code keeps the session", async () => {
    stubFetch(jsonResponse(200, loginAnswer), wrongCode());

    await login("Ada", "correct horse");

    await expect(disableTotp("correct horse", "000000")).rejects.toMatchObject({ code: "invalid_code" });
    expect(handlers.onEnded).not.toHaveBeenCalled();
    expect(storage.getItem(csrfStorageKey)).toBe("csrf-from-login");
  });

  it("renewBackupCodes returns the new codes", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { backupCodes }));

    await login("Ada", "correct horse");

    expect((await renewBackupCodes("correct horse", "123456")).backupCodes).toEqual(backupCodes);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/totp/backup-codes");
    expect(init.body).toBe(JSON.stringify({ password: "correct horse", code: "123456" }));
  });

  it("renewBackupCodes reads Retry-After of a 429", async () => {
    stubFetch(
      jsonResponse(200, loginAnswer),
      errorResponse(429, "rate_limited", "Too many failed attempts. Wait before trying again.", { "Retry-After": "8" }),
    );

    await login("Ada", "correct horse");

    await expect(renewBackupCodes("correct horse", "000000")).rejects.toMatchObject({
      code: "rate_limited",
      retryAfterSeconds: 8,
    });
  });

  it("renewRecoveryKey sends the code when given", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { recoveryKey: "NEW-KEY" }));

    await login("Ada", "correct horse");
    await renewRecoveryKey("correct horse", "123456");

    const [, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(init.body).toBe(JSON.stringify({ password: "correct horse", code: "123456" }));
  });

  it("recover reads totpDisabled", async () => {
    stubFetch(jsonResponse(200, { ...loginAnswer, recoveryKey: "AAAA-BBBB", totpDisabled: true }));

    const result = await recover("Ada", "old-key", "battery staple");

    expect(result.totpDisabled).toBe(true);
  });
});

describe("profile management", () => {
  const bob = { id: "p2", name: "Bob", role: "user" };
  const lastAdmin = () =>
    errorResponse(409, "conflict", "This is the last administrator. Make another profile an administrator first.");

  it("listProfiles sends GET without a session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, [profile, bob]));

    const list = await listProfiles();

    expect(list).toEqual([profile, bob]);
    const [url, init] = fetchMock.mock.calls[0] as FetchArguments;
    expect(url).toBe("/api/auth/profiles");
    expect(init.method).toBe("GET");
    expect(headersOf(fetchMock, 0).has("X-CSRF-Token")).toBe(false);
  });

  it("createProfile sends the admin's session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(201, { profile: bob, recoveryKey: "KEY" }));

    await login("Ada", "correct horse");
    const created = await createProfile("Bob", "battery staple");

    expect(created).toEqual({ profile: bob, recoveryKey: "KEY" });
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/profiles");
    expect(init.method).toBe("POST");
    expect(init.body).toBe(JSON.stringify({ name: "Bob", password: "battery staple" }));
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(headersOf(fetchMock, 1).get("Content-Type")).toBe("application/json");
  });

  it("createProfile reports a taken name on its field", async () => {
    stubFetch(
      jsonResponse(200, loginAnswer),
      fieldErrorResponse(409, "conflict", "A profile with this name already exists. Choose another name.", "name"),
    );

    await login("Ada", "correct horse");

    await expect(createProfile("Bob", "battery staple")).rejects.toMatchObject({
      code: "conflict",
      status: 409,
      field: "name",
      message: "A profile with this name already exists. Choose another name.",
    });
  });

  it("setProfileRole sends PATCH with the role", async () => {
    const promoted = { ...bob, role: "admin" };
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, promoted));

    await login("Ada", "correct horse");
    const changed = await setProfileRole("p2", "admin");

    expect(changed).toEqual(promoted);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/profiles/p2");
    expect(init.method).toBe("PATCH");
    expect(init.body).toBe(JSON.stringify({ role: "admin" }));
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
  });

  it("setProfileRole encodes the id in the path", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, bob));

    await login("Ada", "correct horse");
    await setProfileRole("a/b?c", "user");

    expect(fetchMock.mock.calls[1]?.[0]).toBe("/api/auth/profiles/a%2Fb%3Fc");
  });

  it("setProfileRole keeps the last admin's sentence", async () => {
    stubFetch(jsonResponse(200, loginAnswer), lastAdmin());

    await login("Ada", "correct horse");

    await expect(setProfileRole("p1", "user")).rejects.toMatchObject({
      code: "conflict",
      status: 409,
      field: null,
      message: "This is the last administrator. Make another profile an administrator first.",
    });
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("deleteProfile sends DELETE without a body", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), new Response(null, { status: 204 }), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(deleteProfile("p2")).resolves.toBeUndefined();
    await listThreads({ limit: 100 });

    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/profiles/p2");
    expect(init.method).toBe("DELETE");
    expect(init.body).toBeUndefined();
    expect(headersOf(fetchMock, 1).has("Content-Type")).toBe(false);
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    // Deleting another profile keeps this session.
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
  });

  it("deleteOwnProfile sends the password and ends the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), new Response(null, { status: 204 }), invalidToken());

    await login("Ada", "correct horse");
    await expect(deleteOwnProfile("p1", "correct horse")).resolves.toBeUndefined();
    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ status: 401 });

    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/auth/profiles/p1");
    expect(init.method).toBe("DELETE");
    expect(init.body).toBe(JSON.stringify({ password: "correct horse" }));
    expect(headersOf(fetchMock, 1).get("Content-Type")).toBe("application/json");
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("csrf-from-login");
    expect(headersOf(fetchMock, 2).has("Authorization")).toBe(false);
    expect(storage.getItem(csrfStorageKey)).toBeNull();
    // The page ended the session itself, so the 401 afterwards is not news.
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("deleteOwnProfile sends the code when given", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), new Response(null, { status: 204 }));

    await login("Ada", "correct horse");
    await deleteOwnProfile("p1", "correct horse", "123456");

    const [, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(init.body).toBe(JSON.stringify({ password: "correct horse", code: "123456" }));
  });

  it("deleteOwnProfile clears the stored secret", async () => {
    storage.setItem(csrfStorageKey, "stored-csrf");
    const fetchMock = stubFetch(jsonResponse(200, { ...profile, locked: false }), new Response(null, { status: 204 }));

    await resumeSession();
    await deleteOwnProfile("p1", "correct horse");

    expect(headersOf(fetchMock, 1).has("Authorization")).toBe(false);
    expect(headersOf(fetchMock, 1).get("X-CSRF-Token")).toBe("stored-csrf");
    expect(storage.getItem(csrfStorageKey)).toBeNull();
  });

  it("deleteOwnProfile wrong password keeps the session", async () => {
    const wrong = fieldErrorResponse(
      400,
      "invalid_request",
      "The password is wrong. Enter your password to delete your own profile.",
      "password",
    );
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), wrong, jsonResponse(200, []));

    await login("Ada", "correct horse");
    const result = deleteOwnProfile("p1", "wrong");

    await expect(result).rejects.toBeInstanceOf(ApiError);
    await expect(result).rejects.toMatchObject({ code: "invalid_request", status: 400, field: "password" });
    await listThreads({ limit: 100 });
    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });

  it("deleteOwnProfile last admin keeps the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), lastAdmin(), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await expect(deleteOwnProfile("p1", "correct horse")).rejects.toMatchObject({ code: "conflict", status: 409 });
    await listThreads({ limit: 100 });

    expect(headersOf(fetchMock, 2).get("Authorization")).toBe("Bearer secret-token");
  });

  it("ignores a field that is not a string", async () => {
    stubFetch(jsonResponse(400, { error: { code: "invalid_request", message: "Bad.", field: 7 } }));

    await expect(listProfiles()).rejects.toMatchObject({ code: "invalid_request", field: null });
  });
});

describe("recall settings", () => {
  const builtinSettings = {
    status: { state: "ready", embedder: "lexical-v1-1024", dimension: 1024, vectors: 12, pending: 0 },
    embedder: { kind: "builtin", hasApiKey: false },
    lexical: true,
    suggestion: "nomic-embed-text",
  };
  const ollamaSettings = {
    status: {
      state: "ready",
      embedder: "ollama:nomic-embed-text",
      dimension: 768,
      vectors: 12,
      pending: 0,
      reembedding: { from: "lexical-v1-1024", to: "ollama:nomic-embed-text", done: 0, total: 12 },
    },
    embedder: { kind: "ollama", model: "nomic-embed-text", hasApiKey: false },
    lexical: false,
    suggestion: "nomic-embed-text",
  };

  it("getRecallSettings sends GET with the session", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, builtinSettings));

    await login("Ada", "correct horse");
    const settings = await getRecallSettings();

    expect(settings).toEqual(builtinSettings);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/memory/recall");
    expect(init.method).toBe("GET");
    expect(headersOf(fetchMock, 1).get("Authorization")).toBe("Bearer secret-token");
  });

  it("chooseEmbedder sends PUT with the choice", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, ollamaSettings));

    await login("Ada", "correct horse");
    const settings = await chooseEmbedder({ kind: "ollama", model: "nomic-embed-text" });

    expect(settings).toEqual(ollamaSettings);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/memory/recall/embedder");
    expect(init.method).toBe("PUT");
    expect(init.body).toBe(JSON.stringify({ kind: "ollama", model: "nomic-embed-text" }));
    expect(headersOf(fetchMock, 1).get("Content-Type")).toBe("application/json");
  });

  it("chooseEmbedder keeps embedder_unavailable", async () => {
    const message = "Ollama does not have the model nomic-embed-text. Install it with: ollama pull nomic-embed-text";
    stubFetch(
      jsonResponse(200, loginAnswer),
      fieldErrorResponse(502, "embedder_unavailable", message, "embedder"),
    );

    await login("Ada", "correct horse");

    await expect(chooseEmbedder({ kind: "ollama", model: "nomic-embed-text" })).rejects.toMatchObject({
      code: "embedder_unavailable",
      status: 502,
      field: "embedder",
      message,
    });
  });

  it("chooseEmbedder reports the field at fault", async () => {
    const message = "An OpenAI-compatible embedder needs a base URL, such as https://api.openai.com/v1, and a model.";
    stubFetch(jsonResponse(200, loginAnswer), fieldErrorResponse(400, "invalid_request", message, "baseUrl"));

    await login("Ada", "correct horse");

    await expect(chooseEmbedder({ kind: "openai", model: "m" })).rejects.toMatchObject({
      code: "invalid_request",
      status: 400,
      field: "baseUrl",
      message,
    });
  });

  it("getRecallSettings while locked keeps the session", async () => {
    stubFetch(jsonResponse(200, loginAnswer), locked());

    await login("Ada", "correct horse");

    await expect(getRecallSettings()).rejects.toMatchObject({ code: "locked", status: 401 });
    expect(handlers.onLocked).toHaveBeenCalledTimes(1);
    expect(handlers.onEnded).not.toHaveBeenCalled();
  });
});

describe("settings and models", () => {
  const settings = {
    backend: { kind: "openai", baseUrl: "https://api.example.com/v1", model: "gpt-4o-mini", apiKeySet: true },
    titleModel: "",
    temperature: 0.7,
    contextLength: 0,
    systemPrompt: "",
    lastMessages: 20,
    workingMemory: { template: "", scope: "resource" },
    defaults: { systemPrompt: "You are Hearth.", workingMemoryTemplate: "# About the user", lastMessages: 20 },
  };
  const update = {
    backend: { kind: "openai" as const, baseUrl: "https://api.example.com/v1", model: "gpt-4o", apiKey: "sk-new" },
    titleModel: "",
    temperature: 0.7,
    contextLength: 0,
    systemPrompt: "",
    lastMessages: 20,
    workingMemory: { template: "", scope: "resource" as const },
    recall: { topK: 4, messageRange: 1, scope: "resource" as const, enabled: true },
    theme: "dark" as const,
  };

  it("getSettings sends GET", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, settings));

    await login("Ada", "correct horse");
    expect(await getSettings()).toEqual(settings);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/settings");
    expect(init.method).toBe("GET");
  });

  it("saveSettings sends PUT with the key", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, settings));

    await login("Ada", "correct horse");
    expect(await saveSettings(update)).toEqual(settings);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/settings");
    expect(init.method).toBe("PUT");
    expect(JSON.parse(String(init.body))).toEqual(update);
  });

  it("saveSettings fetches the settings after a 204", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, loginAnswer),
      new Response(null, { status: 204 }),
      jsonResponse(200, settings),
    );

    await login("Ada", "correct horse");
    expect(await saveSettings(update)).toEqual(settings);
    expect(fetchMock.mock.calls[2]?.[0]).toBe("/api/settings");
  });

  it("saveSettings reports the field at fault", async () => {
    const message = "The temperature must be from 0 to 2.";
    stubFetch(jsonResponse(200, loginAnswer), fieldErrorResponse(400, "invalid_request", message, "temperature"));

    await login("Ada", "correct horse");
    await expect(saveSettings(update)).rejects.toMatchObject({ code: "invalid_request", field: "temperature", message });
  });

  it("listModels keeps the backend's error code", async () => {
    const message = "Ollama is not running at http://127.0.0.1:11434. Start it, then try again.";
    stubFetch(jsonResponse(200, loginAnswer), errorResponse(502, "backend_unreachable", message));

    await login("Ada", "correct horse");
    await expect(listModels()).rejects.toMatchObject({ code: "backend_unreachable", status: 502, message });
  });

  it("updateThread sends PATCH with the model", async () => {
    const thread = { id: "t/1", title: "Trip", model: "qwen2.5:7b" };
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, thread));

    await login("Ada", "correct horse");
    expect(await updateThread("t/1", { model: "qwen2.5:7b" })).toEqual(thread);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/threads/t%2F1");
    expect(init.method).toBe("PATCH");
    expect(init.body).toBe(JSON.stringify({ model: "qwen2.5:7b" }));
  });
});

describe("working memory", () => {
  const document = { content: "# About the user", version: 3, updatedAt: "2030-01-01T00:00:00Z", scope: "thread" };

  it("getWorkingMemory names the thread", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, document), jsonResponse(200, document));

    await login("Ada", "correct horse");
    await getWorkingMemory("t 1");
    await getWorkingMemory();
    expect(fetchMock.mock.calls[1]?.[0]).toBe("/api/memory/working?threadId=t%201");
    expect(fetchMock.mock.calls[2]?.[0]).toBe("/api/memory/working");
  });

  it("saveWorkingMemory sends the base version", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { ...document, version: 4 }));

    await login("Ada", "correct horse");
    const saved = await saveWorkingMemory({ content: "x", version: 3, threadId: "t1" });
    expect(saved.version).toBe(4);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/memory/working");
    expect(init.method).toBe("PUT");
    expect(init.body).toBe(JSON.stringify({ content: "x", version: 3, threadId: "t1" }));
  });

  it("saveWorkingMemory rejects a stale version", async () => {
    stubFetch(jsonResponse(200, loginAnswer), errorResponse(409, "conflict", "The working memory changed."));

    await login("Ada", "correct horse");
    await expect(saveWorkingMemory({ content: "x", version: 2 })).rejects.toMatchObject({ code: "conflict", status: 409 });
  });

  it("getWorkingMemoryHistory returns the versions", async () => {
    const versions = [document, { ...document, version: 2 }];
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { versions }));

    await login("Ada", "correct horse");
    expect(await getWorkingMemoryHistory()).toEqual(versions);
    expect(fetchMock.mock.calls[1]?.[0]).toBe("/api/memory/working/history");
  });

  it("revertWorkingMemory sends both versions", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, { ...document, version: 5 }));

    await login("Ada", "correct horse");
    await revertWorkingMemory({ version: 2, current: 4 });
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/memory/working/revert");
    expect(init.method).toBe("POST");
    expect(init.body).toBe(JSON.stringify({ version: 2, current: 4 }));
  });
});

describe("reply routes", () => {
  const stream = () => new Response("data: [DONE]\n\n", { status: 200, headers: { "Content-Type": "text/event-stream" } });

  it("postRegenerate and postContinue name the reply", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), stream(), stream());
    const signal = new AbortController().signal;

    await login("Ada", "correct horse");
    await postRegenerate("t1", "m2", signal);
    await postContinue("t1", "m 2", signal);

    const [regenerateUrl, regenerateInit] = fetchMock.mock.calls[1] as FetchArguments;
    expect(regenerateUrl).toBe("/api/threads/t1/messages/m2/regenerate");
    expect(regenerateInit.method).toBe("POST");
    expect(regenerateInit.signal).toBe(signal);
    expect(headersOf(fetchMock, 1).get("Accept")).toBe("text/event-stream");
    expect(fetchMock.mock.calls[2]?.[0]).toBe("/api/threads/t1/messages/m%202/continue");
  });

  it("putMessageEdit sends the new content", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), stream());

    await login("Ada", "correct horse");
    await putMessageEdit("t1", "m1", "Changed", new AbortController().signal);
    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/threads/t1/messages/m1");
    expect(init.method).toBe("PUT");
    expect(init.body).toBe(JSON.stringify({ content: "Changed" }));
  });

  it("a 429 carries its wait", async () => {
    stubFetch(
      jsonResponse(200, loginAnswer),
      errorResponse(429, "rate_limited", "Two replies are being written. Wait for one to finish.", { "Retry-After": "4" }),
    );

    await login("Ada", "correct horse");
    await expect(postRegenerate("t1", "m2", new AbortController().signal)).rejects.toMatchObject({
      code: "rate_limited",
      retryAfterSeconds: 4,
    });
  });
});

describe("thread pages", () => {
  const thread = { id: "t1", title: "Plans" };

  it("listThreads asks for one page and reads the next cursor", async () => {
    const fetchMock = stubFetch(
      jsonResponse(200, loginAnswer),
      jsonResponse(200, [thread], { "X-Next-Cursor": "AAAB_x", Link: '</api/threads?cursor=AAAB_x&limit=2>; rel="next"' }),
      jsonResponse(200, []),
    );

    await login("Ada", "correct horse");
    const first = await listThreads({ limit: 2 });
    const last = await listThreads({ limit: 2, cursor: "AAAB_x" });

    expect(fetchMock.mock.calls[1]?.[0]).toBe("/api/threads?limit=2");
    expect(first).toEqual({ threads: [thread], nextCursor: "AAAB_x" });
    expect(fetchMock.mock.calls[2]?.[0]).toBe("/api/threads?limit=2&cursor=AAAB_x");
    expect(last).toEqual({ threads: [], nextCursor: null });
  });

  it("searchThreads sends the query with the page", async () => {
    const match = { ...thread, match: "" };
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, [match], { "X-Next-Cursor": "c2" }));
    const signal = new AbortController().signal;

    await login("Ada", "correct horse");
    const page = await searchThreads("tea & toast", { limit: 100, cursor: "c1" }, signal);

    const [url, init] = fetchMock.mock.calls[1] as FetchArguments;
    expect(url).toBe("/api/threads?q=tea%20%26%20toast&limit=100&cursor=c1");
    expect(init.signal).toBe(signal);
    expect(page).toEqual({ threads: [match], nextCursor: "c2" });
  });

  it("a page that is not JSON is invalid_response", async () => {
    stubFetch(jsonResponse(200, loginAnswer), new Response("<html>", { status: 200 }));

    await login("Ada", "correct horse");
    await expect(listThreads({ limit: 100 })).rejects.toMatchObject({ code: "invalid_response", status: 200 });
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");

  it.each([
    { value: "0", want: 0 },
    { value: "17", want: 17 },
    { value: " 3 ", want: 3 },
    { value: "Tue, 01 Jan 2030 00:00:05 GMT", want: 5 },
    { value: "Tue, 01 Jan 2030 00:00:04 GMT", want: 4 },
    { value: "Mon, 31 Dec 2029 23:59:00 GMT", want: 0 },
  ])("reads $value", ({ value, want }) => {
    expect(parseRetryAfter(value, now)).toBe(want);
  });

  it.each([null, "", "soon", "-1", "1.5"])("rejects %j", (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });
});
