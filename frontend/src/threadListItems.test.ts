import { describe, expect, it } from "vitest";

import type { ThreadGroup } from "./threadGroups.ts";
import { flattenGroups, indexesToRender } from "./threadListItems.ts";

const groups: ThreadGroup<{ id: string }>[] = [
  { key: "today", threads: [{ id: "a" }, { id: "b" }] },
  { key: "older", threads: [{ id: "c" }, { id: "d" }, { id: "e" }] },
];

describe("flattenGroups", () => {
  it("puts each heading before its group's rows", () => {
    const items = flattenGroups(groups);
    expect(items.map((item) => item.key)).toEqual(["heading:today", "a", "b", "heading:older", "c", "d", "e"]);
  });

  it("gives each row its position and group size", () => {
    const rows = flattenGroups(groups).filter((item) => item.kind === "row");
    expect(rows.map((row) => [row.key, row.position, row.groupSize, row.headingIndex])).toEqual([
      ["a", 1, 2, 0],
      ["b", 2, 2, 0],
      ["c", 1, 3, 3],
      ["d", 2, 3, 3],
      ["e", 3, 3, 3],
    ]);
  });

  it("returns no items for no groups", () => {
    expect(flattenGroups([])).toEqual([]);
  });
});

describe("indexesToRender", () => {
  const items = flattenGroups(groups);

  it("adds the heading of a group whose heading is out of range", () => {
    expect(indexesToRender([5, 6], [], items)).toEqual([3, 5, 6]);
  });

  it("adds the extra rows and their headings in order", () => {
    expect(indexesToRender([5, 6], [1, undefined], items)).toEqual([0, 1, 3, 5, 6]);
  });

  it("skips extra indexes outside the items", () => {
    expect(indexesToRender([0, 1], [-1, 7, 100], items)).toEqual([0, 1]);
  });

  it("lists an index once", () => {
    expect(indexesToRender([3, 4], [4, 3], items)).toEqual([3, 4]);
  });
});
