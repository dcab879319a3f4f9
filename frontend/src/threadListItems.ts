// The sidebar's grouped threads as one flat list of items, a heading before
// each group's rows, which the virtualiser of the thread list positions and
// renders only in part.

import type { ThreadGroup, ThreadGroupKey } from "./threadGroups.ts";

/** The heading of a group, as an item of the flat list. */
export interface HeadingItem {
  kind: "heading";
  /** The group's key after a prefix that no thread id has, because thread ids are UUIDs. */
  key: string;
  group: ThreadGroupKey;
  /** Position of the group among the groups, from 0. */
  groupIndex: number;
}

/** A thread's row, as an item of the flat list. */
export interface RowItem<T> {
  kind: "row";
  /** The thread's id. */
  key: string;
  thread: T;
  groupIndex: number;
  /** Index of the group's heading in the flat list. */
  headingIndex: number;
  /** Position of the row in its group, from 1, as aria-posinset counts. */
  position: number;
  /** Number of rows in the group, as aria-setsize counts. */
  groupSize: number;
}

export type ListItem<T> = HeadingItem | RowItem<T>;

/**
 * Returns the groups as one list: each group's heading followed by its
 * threads' rows, in the order given.
 */
export function flattenGroups<T extends { id: string }>(groups: readonly ThreadGroup<T>[]): ListItem<T>[] {
  const items: ListItem<T>[] = [];
  groups.forEach((group, groupIndex) => {
    const headingIndex = items.length;
    items.push({ kind: "heading", key: `heading:${group.key}`, group: group.key, groupIndex });
    group.threads.forEach((thread, index) => {
      items.push({
        kind: "row",
        key: thread.id,
        thread,
        groupIndex,
        headingIndex,
        position: index + 1,
        groupSize: group.threads.length,
      });
    });
  });
  return items;
}

/**
 * Returns the indexes of the items to render, in ascending order: those of
 * range, and those of extra that are valid indexes of items, such as the row
 * that has the focus. The heading of every group with a row among them is
 * added too, so that each rendered group keeps its heading.
 */
export function indexesToRender<T>(
  range: readonly number[],
  extra: readonly (number | undefined)[],
  items: readonly ListItem<T>[],
): number[] {
  const indexes = new Set<number>();
  for (const index of [...range, ...extra]) {
    if (index === undefined || index < 0 || index >= items.length) {
      continue;
    }
    indexes.add(index);
    const item = items[index];
    if (item?.kind === "row") {
      indexes.add(item.headingIndex);
    }
  }
  return [...indexes].sort((a, b) => a - b);
}
