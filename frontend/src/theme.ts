// The light or dark theme of the page. styles.css keeps the light colours on
// :root and overrides them under [data-theme="dark"], so the theme is the
// data-theme attribute of <html>.

import type { ThemeChoice } from "./api.ts";

/** The theme the page shows. */
export type ResolvedTheme = "light" | "dark";

/** The media query that matches while the operating system is in dark mode. */
export const darkSchemeQuery = "(prefers-color-scheme: dark)";

/** Returns the theme to show for a choice, given whether the system is in dark mode. */
export function resolveTheme(choice: ThemeChoice, systemIsDark: boolean): ResolvedTheme {
  if (choice === "system") {
    return systemIsDark ? "dark" : "light";
  }
  return choice;
}

/** The element that carries data-theme: <html> in the page. */
export interface ThemeRoot {
  setAttribute(name: string, value: string): void;
}

/** The part of a MediaQueryList for darkSchemeQuery that the controller uses. */
export interface SchemeQuery {
  readonly matches: boolean;
  addEventListener(type: "change", listener: () => void): void;
  removeEventListener(type: "change", listener: () => void): void;
}

/**
 * Sets data-theme on the root for the chosen theme. While the choice is
 * "system", it follows changes of the system's mode. Without a scheme query,
 * as in a browser without matchMedia, "system" shows the light theme.
 */
export class ThemeController {
  private readonly root: ThemeRoot;
  private readonly query: SchemeQuery | null;
  private choice: ThemeChoice = "system";
  private listening = false;

  constructor(root: ThemeRoot, query: SchemeQuery | null) {
    this.root = root;
    this.query = query;
  }

  /** Shows the theme for choice now, and for "system" after every change of the system's mode too. */
  apply(choice: ThemeChoice): void {
    this.choice = choice;
    const follow = choice === "system" && this.query !== null;
    if (follow && !this.listening) {
      this.query?.addEventListener("change", this.update);
    } else if (!follow && this.listening) {
      this.query?.removeEventListener("change", this.update);
    }
    this.listening = follow;
    this.update();
  }

  private readonly update = (): void => {
    this.root.setAttribute("data-theme", resolveTheme(this.choice, this.query?.matches ?? false));
  };
}

let pageTheme: ThemeController | null = null;

/**
 * Shows the chosen theme on this page: the saved choice of the signed-in
 * profile, or "system" on the screens before sign-in.
 */
export function applyTheme(choice: ThemeChoice): void {
  if (pageTheme === null) {
    const query = typeof window.matchMedia === "function" ? window.matchMedia(darkSchemeQuery) : null;
    pageTheme = new ThemeController(document.documentElement, query);
  }
  pageTheme.apply(choice);
}
