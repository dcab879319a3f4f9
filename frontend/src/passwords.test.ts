import { describe, expect, it } from "vitest";

import {
  checkNewPassword,
  countCharacters,
  newPasswordErrors,
  passwordStrength,
  strengthHint,
  type PasswordStrength,
} from "./passwords.ts";
import { strings } from "./strings.ts";

describe("passwordStrength", () => {
  it.each<{ password: string; want: PasswordStrength }>([
    { password: "", want: "empty" },
    { password: "short", want: "too-short" },
    { password: "1234567", want: "too-short" },
    // Seven emoji are seven characters, though fourteen UTF-16 code units.
    { password: "🔥🔥🔥🔥🔥🔥🔥", want: "too-short" },
    { password: "password", want: "weak" },
    { password: "abababab", want: "weak" },
    { password: "aaaaaaaaaaaaaaaaaaaaaaaa", want: "weak" },
    { password: "passwords12", want: "weak" },
    { password: "hopper-1906", want: "fair" },
    { password: "Password1", want: "fair" },
    { password: "correcthorsebatterystaple", want: "fair" },
    { password: "lowercaseonly123", want: "strong" },
    { password: "correct horse battery", want: "strong" },
    { password: "Tr0ub4dor&3xyz", want: "strong" },
  ])("rates $password as $want", ({ password, want }) => {
    expect(passwordStrength(password)).toBe(want);
  });
});

describe("strengthHint", () => {
  it("counts characters when too short", () => {
    expect(strengthHint("abc")).toBe(strings.passwordStrength.tooShort(3, 8));
  });

  it.each<{ password: string; want: string }>([
    { password: "", want: strings.passwordStrength.empty(8) },
    { password: "password", want: strings.passwordStrength.weak },
    { password: "hopper-1906", want: strings.passwordStrength.fair },
    { password: "correct horse battery", want: strings.passwordStrength.strong },
  ])("describes $password", ({ password, want }) => {
    expect(strengthHint(password)).toBe(want);
  });
});

describe("checkNewPassword", () => {
  it("rejects fewer than 8 characters", () => {
    expect(checkNewPassword("1234567", "1234567")).toBe(strings.newPassword.tooShort(8));
  });

  it("accepts 8 characters however weak", () => {
    expect(checkNewPassword("aaaaaaaa", "aaaaaaaa")).toBeNull();
  });

  it("counts emoji as one character each", () => {
    expect(countCharacters("🔥🔥")).toBe(2);
    expect(checkNewPassword("🔥🔥🔥🔥🔥🔥🔥🔥", "🔥🔥🔥🔥🔥🔥🔥🔥")).toBeNull();
  });

  it("rejects a different confirmation", () => {
    expect(checkNewPassword("hopper-1906", "hopper-1907")).toBe(strings.newPassword.differ);
  });
});

describe("newPasswordErrors", () => {
  it("puts a short password on the password", () => {
    expect(newPasswordErrors("1234567", "")).toEqual({ password: strings.newPassword.tooShort(8) });
  });

  it("puts a different confirmation on the confirmation", () => {
    expect(newPasswordErrors("hopper-1906", "hopper-1907")).toEqual({ confirmation: strings.newPassword.differ });
  });

  it("finds nothing in a matching pair", () => {
    expect(newPasswordErrors("hopper-1906", "hopper-1906")).toEqual({});
  });
});
