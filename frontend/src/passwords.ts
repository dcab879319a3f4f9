// Checks on new passwords: the length rule that the server enforces, and a
// strength estimate that only informs and never rejects a password.

import { strings } from "./strings.ts";

/**
 * Minimum password length in characters (Unicode code points). The Go twin
 * is auth.MinPasswordLength, which counts runes the same way.
 */
export const minPasswordLength = 8;

/** Estimated strength of a password, from its length and character variety. */
export type PasswordStrength = "empty" | "too-short" | "weak" | "fair" | "strong";

// Lengths, in characters, that earn the first and the second length point.
const longLength = 12;
const veryLongLength = 16;

// A password with fewer distinct characters than this is weak at any length,
// such as "abababab".
const minDistinctCharacters = 5;

/** Returns the number of characters in text, counting a surrogate pair (such as an emoji) once. */
export function countCharacters(text: string): number {
  return Array.from(text).length;
}

/**
 * Estimates a password's strength. Length and variety each earn up to two
 * points: 12 and 16 characters earn one point each, and using two kinds of
 * characters earns one point, three or more kinds two points. The kinds are
 * lowercase letters, uppercase letters, digits, and everything else
 * (symbols, spaces, letters without case). Up to one point is weak, two are
 * fair, three or more are strong.
 *
 * This is a hint for the person typing, not a rule: the server accepts any
 * password with at least minPasswordLength characters.
 */
export function passwordStrength(password: string): PasswordStrength {
  const characters = Array.from(password);
  if (characters.length === 0) {
    return "empty";
  }
  if (characters.length < minPasswordLength) {
    return "too-short";
  }
  if (new Set(characters).size < minDistinctCharacters) {
    return "weak";
  }

  let lengthPoints = 0;
  if (characters.length >= longLength) {
    lengthPoints++;
  }
  if (characters.length >= veryLongLength) {
    lengthPoints++;
  }

  const kinds = new Set(characters.map(kindOf)).size;
  const varietyPoints = Math.min(kinds - 1, 2);

  const points = lengthPoints + varietyPoints;
  if (points <= 1) {
    return "weak";
  }
  return points === 2 ? "fair" : "strong";
}

/** Returns the hint shown under a new password field for the password typed so far. */
export function strengthHint(password: string): string {
  const hints = strings.passwordStrength;
  switch (passwordStrength(password)) {
    case "empty":
      return hints.empty(minPasswordLength);
    case "too-short":
      return hints.tooShort(countCharacters(password), minPasswordLength);
    case "weak":
      return hints.weak;
    case "fair":
      return hints.fair;
    case "strong":
      return hints.strong;
  }
}

/**
 * The problem with a new password and its confirmation, as a sentence under
 * the input at fault. At most one of the two is set.
 */
export interface NewPasswordErrors {
  password?: string;
  confirmation?: string;
}

/**
 * Finds the problem with a new password and its confirmation. It rejects only
 * what the server would reject, and a confirmation that differs.
 */
export function newPasswordErrors(password: string, confirmation: string): NewPasswordErrors {
  if (countCharacters(password) < minPasswordLength) {
    return { password: strings.newPassword.tooShort(minPasswordLength) };
  }
  if (password !== confirmation) {
    return { confirmation: strings.newPassword.differ };
  }
  return {};
}

/**
 * Returns the problem with a new password and its confirmation as one
 * sentence for the whole form, or null.
 */
export function checkNewPassword(password: string, confirmation: string): string | null {
  const errors = newPasswordErrors(password, confirmation);
  return errors.password ?? errors.confirmation ?? null;
}

function kindOf(character: string): string {
  if (/\p{Ll}/u.test(character)) {
    return "lowercase";
  }
  if (/\p{Lu}/u.test(character)) {
    return "uppercase";
  }
  if (/\p{Nd}/u.test(character)) {
    return "digit";
  }
  return "other";
}
