import { describe, expect, it } from "vitest";

import { resolveTheme, ThemeController, type SchemeQuery, type ThemeRoot } from "./theme.ts";

// FakeRoot records the attributes set on it, as <html> would keep them.
class FakeRoot implements ThemeRoot {
  readonly attributes = new Map<string, string>();

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }

  get theme(): string | undefined {
    return this.attributes.get("data-theme");
  }
}

// FakeSchemeQuery is a prefers-color-scheme query whose result the test
// changes with setDark, as the operating system would.
class FakeSchemeQuery implements SchemeQuery {
  matches: boolean;
  readonly listeners = new Set<() => void>();

  constructor(dark: boolean) {
    this.matches = dark;
  }

  addEventListener(_type: "change", listener: () => void): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: "change", listener: () => void): void {
    this.listeners.delete(listener);
  }

  setDark(dark: boolean): void {
    this.matches = dark;
    for (const listener of this.listeners) {
      listener();
    }
  }
}

describe("resolveTheme", () => {
  it.each([
    { choice: "system", systemIsDark: false, want: "light" },
    { choice: "system", systemIsDark: true, want: "dark" },
    { choice: "light", systemIsDark: true, want: "light" },
    { choice: "dark", systemIsDark: false, want: "dark" },
  ] as const)("reads $choice with a dark system $systemIsDark as $want", ({ choice, systemIsDark, want }) => {
    expect(resolveTheme(choice, systemIsDark)).toBe(want);
  });
});

describe("ThemeController", () => {
  it("follows the system while the choice is system", () => {
    const root = new FakeRoot();
    const query = new FakeSchemeQuery(false);
    const controller = new ThemeController(root, query);

    controller.apply("system");
    expect(root.theme).toBe("light");
    query.setDark(true);
    expect(root.theme).toBe("dark");
    query.setDark(false);
    expect(root.theme).toBe("light");
  });

  it("ignores the system for an explicit choice", () => {
    const root = new FakeRoot();
    const query = new FakeSchemeQuery(true);
    const controller = new ThemeController(root, query);

    controller.apply("system");
    controller.apply("light");
    expect(root.theme).toBe("light");
    expect(query.listeners.size).toBe(0);
    query.setDark(false);
    query.setDark(true);
    expect(root.theme).toBe("light");

    controller.apply("dark");
    query.setDark(false);
    expect(root.theme).toBe("dark");
  });

  it("listens once however often system is chosen", () => {
    const query = new FakeSchemeQuery(false);
    const controller = new ThemeController(new FakeRoot(), query);

    controller.apply("system");
    controller.apply("system");
    expect(query.listeners.size).toBe(1);
    controller.apply("dark");
    controller.apply("system");
    expect(query.listeners.size).toBe(1);
  });

  it("shows light for system without a scheme query", () => {
    const root = new FakeRoot();
    new ThemeController(root, null).apply("system");
    expect(root.theme).toBe("light");
  });
});
