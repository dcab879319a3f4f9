import { describe, expect, it } from "vitest";

import { ApiError } from "./api.ts";
import { firstSignInStep, nextSignInStep, type SignInStep } from "./signInSteps.ts";
import { strings } from "./strings.ts";

const codeStep: SignInStep = { kind: "code", challenge: "challenge-1", codeKind: "app" };
const expired = new ApiError("challenge_expired", "Sign in again with your password.", 401);
const wrongCode = new ApiError("invalid_code", "The code is wrong.", 401);
const throttled = new ApiError("rate_limited", "Too many failed attempts.", 429, 4);

describe("nextSignInStep", () => {
  it("starts at the password without a notice", () => {
    expect(firstSignInStep).toEqual({ kind: "password", notice: null });
  });

  it("moves to the code step on a challenge", () => {
    const next = nextSignInStep(firstSignInStep, { type: "challenge-received", challenge: "challenge-1" });

    expect(next).toEqual(codeStep);
  });

  it("starts the code step with the app's code", () => {
    const backup: SignInStep = { kind: "code", challenge: "old", codeKind: "backup" };

    const next = nextSignInStep(backup, { type: "challenge-received", challenge: "new" });

    expect(next).toEqual({ kind: "code", challenge: "new", codeKind: "app" });
  });

  it("switches to a backup code and back", () => {
    const backup = nextSignInStep(codeStep, { type: "code-kind-chosen", codeKind: "backup" });
    const app = nextSignInStep(backup, { type: "code-kind-chosen", codeKind: "app" });

    expect(backup).toEqual({ ...codeStep, codeKind: "backup" });
    expect(app).toEqual(codeStep);
  });

  it("ignores a code kind on the password step", () => {
    expect(nextSignInStep(firstSignInStep, { type: "code-kind-chosen", codeKind: "backup" })).toBe(firstSignInStep);
  });

  it("returns to the password when the challenge expired", () => {
    const next = nextSignInStep(codeStep, { type: "code-rejected", error: expired });

    expect(next).toEqual({ kind: "password", notice: strings.twoStep.challengeExpired });
  });

  it("keeps the challenge after a wrong code", () => {
    expect(nextSignInStep(codeStep, { type: "code-rejected", error: wrongCode })).toBe(codeStep);
  });

  it("keeps the challenge while throttled", () => {
    expect(nextSignInStep(codeStep, { type: "code-rejected", error: throttled })).toBe(codeStep);
  });

  it("keeps the challenge after a network error", () => {
    const offline = new ApiError("network_error", "Hearth's server could not be reached.", 0);

    expect(nextSignInStep(codeStep, { type: "code-rejected", error: offline })).toBe(codeStep);
  });

  it("keeps the code kind after a wrong backup code", () => {
    const backup: SignInStep = { ...codeStep, codeKind: "backup" };

    expect(nextSignInStep(backup, { type: "code-rejected", error: wrongCode })).toEqual(backup);
  });

  it("goes back to the password without a notice", () => {
    expect(nextSignInStep(codeStep, { type: "back" })).toEqual(firstSignInStep);
  });

  it("clears the notice when the password is sent again", () => {
    const notified: SignInStep = { kind: "password", notice: strings.twoStep.challengeExpired };

    expect(nextSignInStep(notified, { type: "password-submitted" })).toEqual(firstSignInStep);
  });

  it("ignores a rejected code on the password step", () => {
    expect(nextSignInStep(firstSignInStep, { type: "code-rejected", error: expired })).toBe(firstSignInStep);
  });
});
