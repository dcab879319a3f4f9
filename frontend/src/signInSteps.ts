// The steps of signing in with a password, and for a profile with two-step
// sign-in a code after it. The sign-in form of the profile picker and the
// unlock prompt after the idle lock share them.

import { strings } from "./strings.ts";
import { codeErrorKind } from "./twoStep.ts";

/**
 * The step on screen. "password" may carry a notice that explains why the
 * password is needed again. "code" contains the server's challenge, which only
 * lives in memory, and whether the user enters a code from the app or a
 * backup code.
 */
export type SignInStep =
  | { kind: "password"; notice: string | null }
  | { kind: "code"; challenge: string; codeKind: "app" | "backup" };

/** An event on the sign-in form. */
export type SignInEvent =
  /** The password was sent, which hides the notice of an earlier step. */
  | { type: "password-submitted" }
  /** The password was right and the server requests a code. */
  | { type: "challenge-received"; challenge: string }
  /** The user switched between a code from the app and a backup code. */
  | { type: "code-kind-chosen"; codeKind: "app" | "backup" }
  /** The server rejected the code. */
  | { type: "code-rejected"; error: unknown }
  /** The user went back to the password. */
  | { type: "back" };

export const firstSignInStep: SignInStep = { kind: "password", notice: null };

/**
 * Returns the step after event. A rejected code keeps the code step, unless
 * the server dropped the challenge (5 minutes passed, it was used, or 5
 * codes were wrong): then the password step returns, with a notice that
 * explains why. A successful sign-in has no step, because the form goes away.
 */
export function nextSignInStep(step: SignInStep, event: SignInEvent): SignInStep {
  switch (event.type) {
    case "password-submitted":
      return step.kind === "password" ? { kind: "password", notice: null } : step;
    case "challenge-received":
      return { kind: "code", challenge: event.challenge, codeKind: "app" };
    case "code-kind-chosen":
      return step.kind === "code" ? { ...step, codeKind: event.codeKind } : step;
    case "code-rejected":
      if (step.kind === "code" && codeErrorKind(event.error) === "challenge-expired") {
        return { kind: "password", notice: strings.twoStep.challengeExpired };
      }
      return step;
    case "back":
      return firstSignInStep;
  }
}
