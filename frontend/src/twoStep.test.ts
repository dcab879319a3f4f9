import { describe, expect, it } from "vitest";

import { ApiError } from "./api.ts";
import { strings } from "./strings.ts";
import { backupCodesFileText, codeErrorKind, codeInputError, groupSecret, localDay, normalizeCode } from "./twoStep.ts";

describe("normalizeCode", () => {
  it.each([
    { input: "123456", want: "123456" },
    { input: "123 456", want: "123456" },
    { input: " 123-456 ", want: "123456" },
    { input: "ABCD-EFGH-JK", want: "abcdefghjk" },
    { input: "abcd efgh jk", want: "abcdefghjk" },
    { input: "ab\tcd--ef\ngh jk", want: "abcdefghjk" },
    { input: "", want: "" },
  ])("reads $input as $want", ({ input, want }) => {
    expect(normalizeCode(input)).toBe(want);
  });
});

describe("codeInputError", () => {
  it.each(["123456", "123 456", "000000", " 987-654 "])("accepts app code %s", (input) => {
    expect(codeInputError(input, "app")).toBeNull();
  });

  it("asks for a missing app code", () => {
    expect(codeInputError("  ", "app")).toBe(strings.twoStep.appCodeMissing);
  });

  it.each(["12345", "1234567", "12345a", "abcd-efgh-jk", "１２３４５６"])("rejects app code %s", (input) => {
    expect(codeInputError(input, "app")).toBe(strings.twoStep.appCodeInvalid(6));
  });

  it.each(["abcd-efgh-jk", "ABCD EFGH JK", "a2c4e6g8j9", "1234567890"])("accepts backup code %s", (input) => {
    expect(codeInputError(input, "backup")).toBeNull();
  });

  it("asks for a missing backup code", () => {
    expect(codeInputError("", "backup")).toBe(strings.twoStep.backupCodeMissing);
  });

  it.each(["abcd-efgh-j", "abcd-efgh-jkl", "abcd_efgh_jk", "123456"])("rejects backup code %s", (input) => {
    expect(codeInputError(input, "backup")).toBe(strings.twoStep.backupCodeInvalid(10));
  });

  it.each(["123456", "abcd-efgh-jk"])("either accepts %s", (input) => {
    expect(codeInputError(input, "either")).toBeNull();
  });

  it("either asks for a missing code", () => {
    expect(codeInputError("", "either")).toBe(strings.twoStep.eitherCodeMissing);
  });

  it.each(["12345", "abcd-efgh"])("either rejects %s", (input) => {
    expect(codeInputError(input, "either")).toBe(strings.twoStep.eitherCodeInvalid(6, 10));
  });
});

describe("codeErrorKind", () => {
  it.each([
    { code: "challenge_expired", status: 401, want: "challenge-expired" },
    { code: "invalid_code", status: 401, want: "invalid-code" },
    { code: "invalid_code", status: 400, want: "invalid-code" },
    { code: "code_required", status: 400, want: "code-required" },
    { code: "rate_limited", status: 429, want: "rate-limited" },
    { code: "unauthorized", status: 401, want: "other" },
    { code: "network_error", status: 0, want: "other" },
  ] as const)("reads $code ($status) as $want", ({ code, status, want }) => {
    expect(codeErrorKind(new ApiError(code, "message", status))).toBe(want);
  });

  it("reads a 400 on the field code as a wrong code", () => {
    const err = new ApiError("invalid_request", "The code must have 6 digits.", 400, null, "code");

    expect(codeErrorKind(err)).toBe("invalid-code");
  });

  it("reads a 400 on another field as other", () => {
    const err = new ApiError("invalid_request", "The password is wrong.", 400, null, "password");

    expect(codeErrorKind(err)).toBe("other");
  });

  it("reads an error that is not an ApiError as other", () => {
    expect(codeErrorKind(new Error("boom"))).toBe("other");
  });
});

describe("groupSecret", () => {
  it("groups a 32-character secret in eight fours", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
  });

  it("leaves a short last group", () => {
    expect(groupSecret("JBSWY3DPEH")).toBe("JBSW Y3DP EH");
  });

  it("drops padding and spaces and uses upper case", () => {
    expect(groupSecret("jbsw y3dp eh======")).toBe("JBSW Y3DP EH");
  });

  it("returns an empty string for an empty secret", () => {
    expect(groupSecret("")).toBe("");
  });
});

describe("backupCodesFileText", () => {
  const codes = ["aaaa-bbbb-cc", "dddd-eeee-ff"];

  it("names the profile and the day first", () => {
    const text = backupCodesFileText("Ada", codes, "2030-01-31");

    expect(text.split("\n")[0]).toBe(strings.security.codesFileHeading("Ada", "2030-01-31"));
  });

  it("lists each code on a line of its own", () => {
    const lines = backupCodesFileText("Ada", codes, "2030-01-31").split("\n");

    expect(lines).toContain("aaaa-bbbb-cc");
    expect(lines).toContain("dddd-eeee-ff");
    expect(lines.indexOf("dddd-eeee-ff")).toBe(lines.indexOf("aaaa-bbbb-cc") + 1);
  });

  it("ends with a line break", () => {
    expect(backupCodesFileText("Ada", codes, "2030-01-31").endsWith("dddd-eeee-ff\n")).toBe(true);
  });
});

describe("localDay", () => {
  it("pads month and day", () => {
    expect(localDay(new Date(2030, 0, 5, 12))).toBe("2030-01-05");
  });

  it("uses the local calendar day", () => {
    expect(localDay(new Date(2030, 11, 31, 23, 59))).toBe("2030-12-31");
  });
});
