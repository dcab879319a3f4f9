import { describe, expect, it } from "vitest";

import { DraftStore } from "./drafts.ts";

describe("DraftStore", () => {
  it("returns an empty draft for a new thread", () => {
    expect(new DraftStore().get("t1")).toBe("");
  });

  it("keeps one draft per thread", () => {
    const drafts = new DraftStore();
    drafts.set("t1", "First");
    drafts.set("t2", "Second");
    expect(drafts.get("t1")).toBe("First");
    expect(drafts.get("t2")).toBe("Second");
  });

  it("replaces a thread's draft", () => {
    const drafts = new DraftStore();
    drafts.set("t1", "Hel");
    drafts.set("t1", "Hello");
    expect(drafts.get("t1")).toBe("Hello");
  });

  it("clears a draft set to empty", () => {
    const drafts = new DraftStore();
    drafts.set("t1", "Sent soon");
    drafts.set("t1", "");
    expect(drafts.get("t1")).toBe("");
    drafts.set("t2", "Other");
    expect(drafts.get("t2")).toBe("Other");
  });
});
