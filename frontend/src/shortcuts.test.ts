import { describe, expect, it } from "vitest";

import {
  adjacentId,
  focusKindOf,
  isApplePlatform,
  keyNames,
  matchShortcut,
  shortcuts,
  type FocusKind,
  type KeyPress,
} from "./shortcuts.ts";

// press returns a key press without modifiers, with the fields in changes.
function press(key: string, changes: Partial<KeyPress> = {}): KeyPress {
  return {
    key,
    code: "",
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    isComposing: false,
    repeat: false,
    ...changes,
  };
}

describe("matchShortcut on Linux and Windows", () => {
  it.each([
    { name: "Ctrl+Shift+O", event: press("O", { ctrlKey: true, shiftKey: true }), want: "newChat" },
    { name: "Ctrl+K", event: press("k", { ctrlKey: true }), want: "searchChats" },
    { name: "Alt+ArrowUp", event: press("ArrowUp", { altKey: true }), want: "previousChat" },
    { name: "Alt+ArrowDown", event: press("ArrowDown", { altKey: true }), want: "nextChat" },
    { name: "Ctrl+Shift+Backspace", event: press("Backspace", { ctrlKey: true, shiftKey: true }), want: "stopReply" },
    { name: "/", event: press("/"), want: "focusComposer" },
    { name: "Ctrl+comma", event: press(",", { ctrlKey: true }), want: "openSettings" },
    { name: "? with Shift", event: press("?", { shiftKey: true }), want: "showShortcuts" },
  ] as const)("matches $name", ({ event, want }) => {
    expect(matchShortcut(event, "other", false)).toBe(want);
  });

  it.each([
    { name: "Ctrl+O without Shift", event: press("o", { ctrlKey: true }) },
    { name: "Ctrl+Shift+K", event: press("K", { ctrlKey: true, shiftKey: true }) },
    { name: "Ctrl+Alt+K", event: press("k", { ctrlKey: true, altKey: true }) },
    { name: "Meta+K", event: press("k", { metaKey: true }) },
    { name: "Ctrl+Meta+K", event: press("k", { ctrlKey: true, metaKey: true }) },
    { name: "ArrowUp alone", event: press("ArrowUp") },
    { name: "Shift+Alt+ArrowDown", event: press("ArrowDown", { altKey: true, shiftKey: true }) },
    { name: "Ctrl+Backspace", event: press("Backspace", { ctrlKey: true }) },
    { name: "Ctrl+?", event: press("?", { ctrlKey: true, shiftKey: true }) },
    { name: "plain k", event: press("k") },
    { name: "Escape", event: press("Escape") },
  ])("ignores $name", ({ event }) => {
    expect(matchShortcut(event, "other", false)).toBeNull();
  });
});

describe("matchShortcut on Apple systems", () => {
  it("uses Command as the primary key", () => {
    expect(matchShortcut(press("k", { metaKey: true }), "other", true)).toBe("searchChats");
    expect(matchShortcut(press("o", { metaKey: true, shiftKey: true }), "other", true)).toBe("newChat");
  });

  it("leaves Ctrl to the system", () => {
    // Ctrl+K deletes to the end of the line in macOS text fields.
    expect(matchShortcut(press("k", { ctrlKey: true }), "text-field", true)).toBeNull();
  });
});

describe("matchShortcut and the focus", () => {
  it("keeps typed characters in text fields and selects", () => {
    for (const focus of ["text-field", "select"] satisfies FocusKind[]) {
      expect(matchShortcut(press("?", { shiftKey: true }), focus, false)).toBeNull();
      expect(matchShortcut(press("/"), focus, false)).toBeNull();
    }
  });

  it("runs modifier shortcuts in text fields", () => {
    expect(matchShortcut(press("k", { ctrlKey: true }), "text-field", false)).toBe("searchChats");
    expect(matchShortcut(press("ArrowDown", { altKey: true }), "text-field", false)).toBe("nextChat");
    expect(matchShortcut(press("Backspace", { ctrlKey: true, shiftKey: true }), "text-field", false)).toBe("stopReply");
  });

  it("leaves Alt with the arrow keys to a select", () => {
    expect(matchShortcut(press("ArrowDown", { altKey: true }), "select", false)).toBeNull();
  });
});

describe("matchShortcut keys", () => {
  it("accepts / typed with Shift", () => {
    // On a German layout "/" is Shift+7.
    expect(matchShortcut(press("/", { shiftKey: true, code: "Digit7" }), "other", false)).toBe("focusComposer");
  });

  it("reads the physical key on a non-Latin layout", () => {
    // The Russian layout types "л" on the key of K.
    expect(matchShortcut(press("л", { ctrlKey: true, code: "KeyK" }), "other", false)).toBe("searchChats");
  });

  it("ignores the physical key of a Latin letter", () => {
    // On a Dvorak layout the key labelled K is where QWERTY has V.
    expect(matchShortcut(press("k", { ctrlKey: true, code: "KeyV" }), "other", false)).toBe("searchChats");
    expect(matchShortcut(press("v", { ctrlKey: true, code: "KeyK" }), "other", false)).toBeNull();
  });

  it("ignores presses of an input method", () => {
    expect(matchShortcut(press("k", { ctrlKey: true, isComposing: true }), "other", false)).toBeNull();
  });

  it("repeats only chat navigation", () => {
    expect(matchShortcut(press("ArrowDown", { altKey: true, repeat: true }), "other", false)).toBe("nextChat");
    expect(matchShortcut(press("o", { ctrlKey: true, shiftKey: true, repeat: true }), "other", false)).toBeNull();
  });
});

describe("shortcut list", () => {
  it("gives every action one shortcut", () => {
    const actions = shortcuts.map((shortcut) => shortcut.action);
    expect(new Set(actions).size).toBe(actions.length);
  });

  it("has no two shortcuts on the same keys", () => {
    const combinations = shortcuts.map(({ keys }) => JSON.stringify([keys.key, keys.primary, keys.shift, keys.alt]));
    expect(new Set(combinations).size).toBe(combinations.length);
  });
});

describe("focusKindOf", () => {
  it.each([
    { element: { tagName: "TEXTAREA" }, want: "text-field" },
    { element: { tagName: "INPUT", type: "search" }, want: "text-field" },
    { element: { tagName: "INPUT", type: "password" }, want: "text-field" },
    { element: { tagName: "INPUT", type: "number" }, want: "text-field" },
    { element: { tagName: "INPUT" }, want: "text-field" },
    { element: { tagName: "DIV", isContentEditable: true }, want: "text-field" },
    { element: { tagName: "SELECT" }, want: "select" },
    { element: { tagName: "INPUT", type: "checkbox" }, want: "other" },
    { element: { tagName: "INPUT", type: "radio" }, want: "other" },
    { element: { tagName: "BUTTON" }, want: "other" },
    { element: { tagName: "BODY", isContentEditable: false }, want: "other" },
    { element: null, want: "other" },
  ])("reads $element as $want", ({ element, want }) => {
    expect(focusKindOf(element)).toBe(want);
  });
});

describe("keyNames", () => {
  it("names the keys on Linux", () => {
    expect(keyNames({ key: "o", primary: true, shift: true }, false)).toEqual(["Ctrl", "Shift", "O"]);
    expect(keyNames({ key: "ArrowUp", alt: true }, false)).toEqual(["Alt", "↑"]);
    expect(keyNames({ key: "?" }, false)).toEqual(["?"]);
  });

  it("names the keys on a Mac", () => {
    expect(keyNames({ key: "k", primary: true }, true)).toEqual(["⌘", "K"]);
    expect(keyNames({ key: "ArrowDown", alt: true }, true)).toEqual(["Option", "↓"]);
  });
});

describe("isApplePlatform", () => {
  it.each([
    { platform: "MacIntel", want: true },
    { platform: "iPhone", want: true },
    { platform: "Linux x86_64", want: false },
    { platform: "Win32", want: false },
    { platform: "", want: false },
  ])("reads $platform as $want", ({ platform, want }) => {
    expect(isApplePlatform(platform)).toBe(want);
  });
});

describe("adjacentId", () => {
  const ids = ["a", "b", "c"];

  it("steps through the list", () => {
    expect(adjacentId(ids, "b", 1)).toBe("c");
    expect(adjacentId(ids, "b", -1)).toBe("a");
  });

  it("stops at the ends", () => {
    expect(adjacentId(ids, "c", 1)).toBeNull();
    expect(adjacentId(ids, "a", -1)).toBeNull();
  });

  it("starts at an end without a current id", () => {
    expect(adjacentId(ids, null, 1)).toBe("a");
    expect(adjacentId(ids, null, -1)).toBe("c");
  });

  it("starts at an end when the current id is not listed", () => {
    // The open chat may be hidden by a search.
    expect(adjacentId(ids, "x", 1)).toBe("a");
  });

  it("returns null for an empty list", () => {
    expect(adjacentId([], null, 1)).toBeNull();
  });
});
