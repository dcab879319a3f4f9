// The workspace's keyboard shortcuts: the keys of each one, how a key press
// is matched to a shortcut, and how the keys are named in the shortcuts
// dialog. useShortcuts.ts listens for the key presses.
//
// The keys avoid the shortcuts that Chromium, Firefox and WebKitGTK keep for
// themselves (Ctrl+N, Ctrl+T, Ctrl+W, Ctrl+Tab, Ctrl+Shift+N and others),
// which a page cannot take over. The ones chosen are ones a page may take:
// the page calls preventDefault on them, so Ctrl+K does not move the focus to
// the browser's address bar and Ctrl+Shift+O does not open its bookmarks.
// NOTE: Safari and Chrome on macOS keep Command+comma for their own
// settings, so there Open Settings works only in the desktop window.

import { strings } from "./strings.ts";

/** An action that a shortcut runs, named by the same key in strings.shortcuts.actions. */
export type ShortcutAction =
  | "newChat"
  | "searchChats"
  | "previousChat"
  | "nextChat"
  | "stopReply"
  | "focusComposer"
  | "openSettings"
  | "showShortcuts";

/**
 * A key with the modifiers held with it. `primary` is the Command key on
 * Apple systems and Ctrl elsewhere.
 */
export interface KeyCombination {
  /** KeyboardEvent.key; a letter is written in lower case and matched in either case. */
  key: string;
  primary?: boolean;
  shift?: boolean;
  alt?: boolean;
}

/**
 * The places of the focus where a shortcut works. "outside-select" keeps
 * Alt with the arrow keys for a select, which opens its list with them.
 * "outside-text-fields" is for a key that types a character.
 */
export type ShortcutScope = "anywhere" | "outside-select" | "outside-text-fields";

/** One shortcut: what it does, its keys and where the focus may be. */
export interface Shortcut {
  action: ShortcutAction;
  keys: KeyCombination;
  scope: ShortcutScope;
  /** True when holding the keys down repeats the action. */
  repeats: boolean;
}

/** Every shortcut, in the order the shortcuts dialog lists them. */
export const shortcuts: readonly Shortcut[] = [
  // Ctrl+Shift+O is ChatGPT's key for a new chat too.
  { action: "newChat", keys: { key: "o", primary: true, shift: true }, scope: "anywhere", repeats: false },
  { action: "searchChats", keys: { key: "k", primary: true }, scope: "anywhere", repeats: false },
  { action: "previousChat", keys: { key: "ArrowUp", alt: true }, scope: "outside-select", repeats: true },
  { action: "nextChat", keys: { key: "ArrowDown", alt: true }, scope: "outside-select", repeats: true },
  // The message field also stops the reply with Escape (Composer.tsx).
  { action: "stopReply", keys: { key: "Backspace", primary: true, shift: true }, scope: "anywhere", repeats: false },
  { action: "focusComposer", keys: { key: "/" }, scope: "outside-text-fields", repeats: false },
  { action: "openSettings", keys: { key: ",", primary: true }, scope: "anywhere", repeats: false },
  { action: "showShortcuts", keys: { key: "?" }, scope: "outside-text-fields", repeats: false },
];

/** The fields of a KeyboardEvent that matching reads. */
export interface KeyPress {
  key: string;
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  /** True while an input method composes text, when keys belong to it. */
  isComposing: boolean;
  /** True for the presses that holding a key down repeats. */
  repeat: boolean;
}

/** The kind of element that has the focus: a field that takes typed text, a select, or another element. */
export type FocusKind = "text-field" | "select" | "other";

/** The fields of an element that focusKindOf reads. */
export interface FocusedElement {
  tagName: string;
  type?: string;
  isContentEditable?: boolean;
}

// Input types that take no typed text. Every other type, such as text,
// search, password, number or date, does.
const inputTypesWithoutText = new Set(["button", "checkbox", "color", "file", "hidden", "image", "radio", "range", "reset", "submit"]);

/** Returns what kind of element has the focus; null, as for document.activeElement on no page, is "other". */
export function focusKindOf(element: FocusedElement | null): FocusKind {
  if (element === null) {
    return "other";
  }
  const tag = element.tagName.toLowerCase();
  if (tag === "select") {
    return "select";
  }
  if (tag === "textarea" || element.isContentEditable === true) {
    return "text-field";
  }
  if (tag === "input") {
    return inputTypesWithoutText.has((element.type ?? "text").toLowerCase()) ? "other" : "text-field";
  }
  return "other";
}

/**
 * Returns the action of the shortcut that a key press matches, or null.
 * apple selects Command as the primary modifier. A press during text
 * composition never matches, and a repeated press matches only a shortcut
 * that repeats.
 */
export function matchShortcut(press: KeyPress, focus: FocusKind, apple: boolean): ShortcutAction | null {
  if (press.isComposing) {
    return null;
  }
  for (const shortcut of shortcuts) {
    if (press.repeat && !shortcut.repeats) {
      continue;
    }
    if (!scopeAllows(shortcut.scope, focus)) {
      continue;
    }
    if (combinationMatches(shortcut.keys, press, apple)) {
      return shortcut.action;
    }
  }
  return null;
}

function scopeAllows(scope: ShortcutScope, focus: FocusKind): boolean {
  switch (scope) {
    case "anywhere":
      return true;
    case "outside-select":
      return focus !== "select";
    case "outside-text-fields":
      return focus === "other";
  }
}

function combinationMatches(keys: KeyCombination, press: KeyPress, apple: boolean): boolean {
  const primaryDown = apple ? press.metaKey : press.ctrlKey;
  const otherDown = apple ? press.ctrlKey : press.metaKey;
  if (primaryDown !== (keys.primary ?? false) || otherDown || press.altKey !== (keys.alt ?? false)) {
    return false;
  }
  // A character typed without modifiers, such as "?" or "/", needs Shift on
  // some keyboard layouts and not on others, so Shift is not compared.
  const typedCharacter = keys.key.length === 1 && keys.primary !== true && keys.alt !== true;
  if (!typedCharacter && press.shiftKey !== (keys.shift ?? false)) {
    return false;
  }
  return keyMatches(keys.key, press);
}

// keyMatches compares the key of a press with the key of a shortcut. A
// letter matches in either case. On a layout whose letters are not Latin,
// such as Russian, the key is another letter, so the physical key
// (KeyboardEvent.code) is compared instead.
function keyMatches(key: string, press: KeyPress): boolean {
  if (!/^[a-z]$/.test(key)) {
    return press.key === key;
  }
  if (/^[a-z]$/i.test(press.key)) {
    return press.key.toLowerCase() === key;
  }
  return press.code === `Key${key.toUpperCase()}`;
}

/**
 * Returns the names of the keys of a combination, in the order they are
 * pressed, such as ["Ctrl", "Shift", "O"].
 */
export function keyNames(keys: KeyCombination, apple: boolean): string[] {
  const names: string[] = [];
  if (keys.primary === true) {
    names.push(apple ? strings.shortcuts.keys.command : strings.shortcuts.keys.control);
  }
  if (keys.alt === true) {
    names.push(apple ? strings.shortcuts.keys.option : strings.shortcuts.keys.alt);
  }
  if (keys.shift === true) {
    names.push(strings.shortcuts.keys.shift);
  }
  names.push(keyName(keys.key));
  return names;
}

function keyName(key: string): string {
  switch (key) {
    case "ArrowUp":
      return strings.shortcuts.keys.arrowUp;
    case "ArrowDown":
      return strings.shortcuts.keys.arrowDown;
    case "Backspace":
      return strings.shortcuts.keys.backspace;
    case "Escape":
      return strings.shortcuts.keys.escape;
    default:
      return key.toUpperCase();
  }
}

/** Reports whether the platform string, such as navigator.platform, is one of Apple's. */
export function isApplePlatform(platform: string): boolean {
  return /^(Mac|iPhone|iPad|iPod)/i.test(platform);
}

/**
 * Returns the id that comes step places after current in ids, or null past
 * either end. Without a current id, the next one is the first and the
 * previous one the last.
 */
export function adjacentId(ids: readonly string[], current: string | null, step: 1 | -1): string | null {
  const index = current === null ? -1 : ids.indexOf(current);
  if (index < 0) {
    return (step === 1 ? ids[0] : ids.at(-1)) ?? null;
  }
  return ids[index + step] ?? null;
}
