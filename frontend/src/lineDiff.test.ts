import { describe, expect, it } from "vitest";

import { diffLines, hasChanges, linesNearChanges, maxDiffCells, splitLines, type DiffLine } from "./lineDiff.ts";

// render writes a diff as the lines of a unified diff: " " for a kept line,
// "+" for an added one and "-" for a removed one.
function render(diff: DiffLine[]): string[] {
  const marks = { same: " ", added: "+", removed: "-" } as const;
  return diff.map((line) => `${marks[line.kind]}${line.text}`);
}

// sides rebuilds both texts' lines from a diff.
function sides(diff: DiffLine[]): { before: string[]; after: string[] } {
  return {
    before: diff.filter((line) => line.kind !== "added").map((line) => line.text),
    after: diff.filter((line) => line.kind !== "removed").map((line) => line.text),
  };
}

describe("splitLines", () => {
  it.each([
    { text: "", want: [] },
    { text: "a", want: ["a"] },
    { text: "a\n", want: ["a"] },
    { text: "a\n\n", want: ["a", ""] },
    { text: "a\r\nb\rc\nd", want: ["a", "b", "c", "d"] },
    { text: "\n", want: [""] },
  ])("splits $text", ({ text, want }) => {
    expect(splitLines(text)).toEqual(want);
  });
});

describe("diffLines", () => {
  it("keeps equal texts", () => {
    const diff = diffLines("a\nb\n", "a\nb\n");
    expect(render(diff)).toEqual([" a", " b"]);
    expect(hasChanges(diff)).toBe(false);
  });

  it("adds every line to an empty text", () => {
    expect(render(diffLines("", "a\nb"))).toEqual(["+a", "+b"]);
  });

  it("removes every line of a cleared text", () => {
    expect(render(diffLines("a\nb", ""))).toEqual(["-a", "-b"]);
  });

  it("shows a changed line as removed then added", () => {
    const before = "# About the user\n- **Name**:\n- **Location**:\n";
    const after = "# About the user\n- **Name**: Ada\n- **Location**:\n";
    const diff = diffLines(before, after);
    expect(render(diff)).toEqual([" # About the user", "-- **Name**:", "+- **Name**: Ada", " - **Location**:"]);
    expect(hasChanges(diff)).toBe(true);
  });

  it("keeps lines common to both around inserts", () => {
    expect(render(diffLines("a\nc\ne", "a\nb\nc\nd\ne"))).toEqual([" a", "+b", " c", "+d", " e"]);
  });

  it("finds moved lines as a remove and an add", () => {
    expect(render(diffLines("a\nb\nc", "b\nc\na"))).toEqual(["-a", " b", " c", "+a"]);
  });

  it("ignores the line ending style", () => {
    expect(hasChanges(diffLines("a\r\nb\r\n", "a\nb"))).toBe(false);
  });

  it("keeps repeated lines", () => {
    expect(render(diffLines("x\nx\nx", "x\nx"))).toEqual([" x", " x", "-x"]);
  });

  it("rebuilds both sides from the diff", () => {
    const cases = [
      ["a\nb\nc\nd", "d\nc\nb\na"],
      ["one\ntwo\nthree", "zero\none\nthree\nfour"],
      ["", ""],
      ["same", "same"],
      ["- a\n- b\n- c", "- a\n- c\n- b\n- d"],
    ] as const;
    for (const [before, after] of cases) {
      const { before: oldLines, after: newLines } = sides(diffLines(before, after));
      expect(oldLines, `before of ${JSON.stringify([before, after])}`).toEqual(splitLines(before));
      expect(newLines, `after of ${JSON.stringify([before, after])}`).toEqual(splitLines(after));
    }
  });

  it("gives up the search for very large changes", () => {
    const size = Math.ceil(Math.sqrt(maxDiffCells)) + 1;
    const before = Array.from({ length: size }, (_, index) => `old ${index}`).join("\n");
    const after = Array.from({ length: size }, (_, index) => `new ${index}`).join("\n");
    const diff = diffLines(`head\n${before}\ntail`, `head\n${after}\ntail`);
    expect(diff).toHaveLength(2 * size + 2);
    expect(diff[0]).toEqual({ kind: "same", text: "head" });
    expect(diff[1]).toEqual({ kind: "removed", text: "old 0" });
    expect(diff[size + 1]).toEqual({ kind: "added", text: "new 0" });
    expect(diff.at(-1)).toEqual({ kind: "same", text: "tail" });
  });
});

describe("linesNearChanges", () => {
  const diff = diffLines("a\nb\nc\nd\ne\nf\ng", "a\nb\nc\nD\ne\nf\ng");

  it("keeps context lines around a change", () => {
    expect(linesNearChanges(diff, 1).map(({ index }) => index)).toEqual([2, 3, 4, 5]);
  });

  it("keeps only the change without context", () => {
    expect(linesNearChanges(diff, 0).map(({ line }) => `${line.kind}:${line.text}`)).toEqual(["removed:d", "added:D"]);
  });

  it("keeps nothing of an unchanged text", () => {
    expect(linesNearChanges(diffLines("a\nb", "a\nb"), 2)).toEqual([]);
  });
});
