// The codes of two-step sign-in: the 6-digit codes of an authenticator app
// (TOTP, RFC 6238) and the single-use backup codes. The server checks them.
// This module only catches input that cannot be a code before a request,
// which would count towards the sign-in throttle, and reads the server's
// errors about codes.

import { ApiError } from "./api.ts";
import { strings } from "./strings.ts";

/**
 * The kind of code a field takes: "app" for a code from the authenticator
 * app, "backup" for a backup code, "either" where the server accepts both.
 */
export type CodeKind = "app" | "backup" | "either";

/** Number of digits of a code from the authenticator app. */
export const appCodeDigits = 6;

/** Number of letters and digits of a backup code, without its dashes. The server shows it as xxxx-xxxx-xx. */
export const backupCodeLength = 10;

const appCodePattern = new RegExp(`^[0-9]{${appCodeDigits}}$`);
const backupCodePattern = new RegExp(`^[a-z0-9]{${backupCodeLength}}$`);

/**
 * Returns a code as the server reads it: without spaces and dashes, in lower
 * case, so that "123 456" and "ABCD-EFGH-JK" are sent as "123456" and
 * "abcdefghjk". The server ignores both as well, so this never changes
 * which code is checked.
 */
export function normalizeCode(input: string): string {
  return input.replace(/[\s-]+/g, "").toLowerCase();
}

/**
 * Returns the sentence to show under a code field whose input cannot be a
 * code of the kind, or null when it can. It checks only the form, and the
 * server checks whether the code is right.
 */
export function codeInputError(input: string, kind: CodeKind): string | null {
  const code = normalizeCode(input);
  const isAppCode = appCodePattern.test(code);
  const isBackupCode = backupCodePattern.test(code);
  switch (kind) {
    case "app":
      if (code === "") {
        return strings.twoStep.appCodeMissing;
      }
      return isAppCode ? null : strings.twoStep.appCodeInvalid(appCodeDigits);
    case "backup":
      if (code === "") {
        return strings.twoStep.backupCodeMissing;
      }
      return isBackupCode ? null : strings.twoStep.backupCodeInvalid(backupCodeLength);
    case "either":
      if (code === "") {
        return strings.twoStep.eitherCodeMissing;
      }
      return isAppCode || isBackupCode ? null : strings.twoStep.eitherCodeInvalid(appCodeDigits, backupCodeLength);
  }
}

/**
 * Meaning of a failed request with a code, for the form that sent it:
 *   - "challenge-expired": the sign-in's challenge is used, expired or
 *     dropped, so only the password step can start again;
 *   - "invalid-code": the code is wrong, or the server rejected its form;
 *   - "code-required": the request needed a code and had none, because
 *     two-step sign-in was turned on since the form was shown;
 *   - "rate-limited": too many failures, so the server waits (429);
 *   - "other": any other failure, such as a network error.
 */
export type CodeErrorKind = "challenge-expired" | "invalid-code" | "code-required" | "rate-limited" | "other";

/** Classifies the error of a request that carried a code of two-step sign-in. */
export function codeErrorKind(err: unknown): CodeErrorKind {
  if (!(err instanceof ApiError)) {
    return "other";
  }
  switch (err.code) {
    case "challenge_expired":
      return "challenge-expired";
    case "invalid_code":
      return "invalid-code";
    case "code_required":
      return "code-required";
    case "rate_limited":
      return "rate-limited";
    default:
      // A 400 on the field "code" is the server's check of the code's form.
      return err.field === "code" ? "invalid-code" : "other";
  }
}

/**
 * Returns the base32 secret of an authenticator app in groups of four
 * characters, separated by spaces, as apps that take a key typed by hand
 * accept it. Spaces and "=" padding already in the secret are dropped.
 */
export function groupSecret(secret: string): string {
  const compact = secret.replace(/[\s=]+/g, "").toUpperCase();
  return (compact.match(/.{1,4}/g) ?? []).join(" ");
}

/**
 * Returns the text of the file that Save writes with the backup codes: a
 * heading that names the profile and the day, then one code per line.
 * createdOn is the day as YYYY-MM-DD.
 */
export function backupCodesFileText(profileName: string, codes: readonly string[], createdOn: string): string {
  const lines = [
    strings.security.codesFileHeading(profileName, createdOn),
    "",
    strings.security.codesFileNote,
    "",
    ...codes,
    "",
  ];
  return lines.join("\n");
}

/** Returns the local day of date as YYYY-MM-DD. */
export function localDay(date: Date): string {
  const month = String(date.getMonth() + 1).padStart(2, "0");
  const day = String(date.getDate()).padStart(2, "0");
  return `${date.getFullYear()}-${month}-${day}`;
}
