import { describe, expect, it } from "vitest";

import { escapeOutcome, valuesDiffer } from "./unsavedChanges.ts";

describe("valuesDiffer", () => {
  it("finds no change in equal values", () => {
    expect(valuesDiffer({ name: "a", on: true }, { name: "a", on: true })).toBe(false);
  });

  it("finds a changed text", () => {
    expect(valuesDiffer({ name: "a", on: true }, { name: "b", on: true })).toBe(true);
  });

  it("finds a changed choice", () => {
    expect(valuesDiffer({ name: "a", on: true }, { name: "a", on: false })).toBe(true);
  });

  it("finds a field that only one side has", () => {
    expect(valuesDiffer<Record<string, string>>({ name: "a" }, { name: "a", extra: "" })).toBe(true);
  });
});

describe("escapeOutcome", () => {
  it("closes a dialog without changes", () => {
    expect(escapeOutcome(false, false)).toBe("close");
  });

  it("confirms before discarding changes", () => {
    expect(escapeOutcome(true, false)).toBe("ask");
  });

  it("goes back to editing from the confirmation", () => {
    expect(escapeOutcome(true, true)).toBe("keep-editing");
  });
});
