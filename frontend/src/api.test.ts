import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError, listThreads, login, setUnauthorizedHandler, signOut, stopChat } from "./api.ts";
import { strings } from "./strings.ts";

type FetchArguments = [string, RequestInit];

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
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

const loginAnswer = {
  token: "secret-token",
  expiresAt: "2030-01-01T00:00:00Z",
  profile: { id: "p1", name: "Ada", role: "admin" },
};

afterEach(() => {
  signOut();
  setUnauthorizedHandler(null);
  vi.unstubAllGlobals();
});

describe("api client", () => {
  it("sends the token after login", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, []));

    await login("Ada", "correct horse");
    await listThreads();

    const [loginUrl, loginInit] = fetchMock.mock.calls[0] as FetchArguments;
    expect(loginUrl).toBe("/api/auth/login");
    expect(loginInit.body).toBe(JSON.stringify({ name: "Ada", password: "correct horse" }));
    expect(new Headers(loginInit.headers).has("Authorization")).toBe(false);

    const [, threadsInit] = fetchMock.mock.calls[1] as FetchArguments;
    expect(new Headers(threadsInit.headers).get("Authorization")).toBe("Bearer secret-token");
  });

  it("forgets the token on sign-out", async () => {
    const fetchMock = stubFetch(jsonResponse(200, loginAnswer), jsonResponse(200, []));

    await login("Ada", "correct horse");
    signOut();
    await listThreads();

    const [, threadsInit] = fetchMock.mock.calls[1] as FetchArguments;
    expect(new Headers(threadsInit.headers).has("Authorization")).toBe(false);
  });

  it("turns the error shape into an ApiError", async () => {
    stubFetch(jsonResponse(401, { error: { code: "unauthorized", message: "The profile name or password is wrong." } }));

    const result = login("Ada", "wrong");

    await expect(result).rejects.toBeInstanceOf(ApiError);
    await expect(result).rejects.toMatchObject({
      code: "unauthorized",
      status: 401,
      message: "The profile name or password is wrong.",
    });
  });

  it("keeps the message of an unknown error code", async () => {
    stubFetch(jsonResponse(404, { error: { code: "brand_new_code", message: "Gone fishing." } }));

    await expect(listThreads()).rejects.toMatchObject({ code: "not_found", status: 404, message: "Gone fishing." });
  });

  it("describes an error without the error shape by its status", async () => {
    stubFetch(new Response("<html>Bad gateway</html>", { status: 502 }));

    await expect(listThreads()).rejects.toMatchObject({
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

    await expect(listThreads()).rejects.toMatchObject({ code: "network_error", status: 0 });
  });

  it("reports a body that is not JSON as invalid_response", async () => {
    stubFetch(new Response("not json", { status: 200 }));

    await expect(listThreads()).rejects.toMatchObject({ code: "invalid_response", status: 200 });
  });

  it("resolves a 204 answer without reading a body", async () => {
    stubFetch(new Response(null, { status: 204 }));

    await expect(stopChat("t1")).resolves.toBeUndefined();
  });

  it("calls the unauthorized handler when the token is rejected", async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    const fetchMock = stubFetch(
      jsonResponse(200, loginAnswer),
      jsonResponse(401, { error: { code: "invalid_token", message: "Your session is not valid. Sign in again." } }),
      jsonResponse(200, []),
    );

    await login("Ada", "correct horse");
    await expect(listThreads()).rejects.toMatchObject({ code: "invalid_token" });
    expect(handler).toHaveBeenCalledTimes(1);

    // The rejected token is not sent again.
    await listThreads();
    const [, retryInit] = fetchMock.mock.calls[2] as FetchArguments;
    expect(new Headers(retryInit.headers).has("Authorization")).toBe(false);
  });

  it("does not call the unauthorized handler for a wrong password", async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    stubFetch(jsonResponse(401, { error: { code: "unauthorized", message: "The profile name or password is wrong." } }));

    await expect(login("Ada", "wrong")).rejects.toBeInstanceOf(ApiError);
    expect(handler).not.toHaveBeenCalled();
  });
});
