// The parts of the page that Vite builds into chunks of their own, so that
// the first screen loads and runs only the code it needs. Each function
// loads its chunk once and returns the same module after that, so calling
// it early, before the part is shown, makes showing it wait less.

/** Loads the signed-in workspace and everything it opens. */
export function loadWorkspace() {
  return import("./components/Workspace.tsx");
}

/** Loads the Markdown renderer of replies, with its parser. */
export function loadMarkdown() {
  return import("./components/Markdown.tsx");
}

/** Loads the code highlighter of replies: lowlight and its grammars. */
export function loadHighlighter() {
  return import("./codeHighlighter.ts");
}
