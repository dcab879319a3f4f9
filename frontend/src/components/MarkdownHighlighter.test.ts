import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";

// loadHighlighter is wrapped in a spy that still loads the real chunk, so
// that the tests see when Markdown requests the highlighter.
const loadHighlighter = vi.hoisted(() => vi.fn());
vi.mock("../chunks.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../chunks.ts")>();
  loadHighlighter.mockImplementation(actual.loadHighlighter);
  return { ...actual, loadHighlighter };
});

const { Markdown, requestHighlighter } = await import("./Markdown.tsx");

function render(text: string): string {
  return renderToStaticMarkup(createElement(Markdown, { text }));
}

const pythonBlock = "```python\ndef add(a, b):\n    return a + b\n```\n";

// The tests run in order, because the highlighter, once loaded, stays loaded
// for the rest of the file.
describe("Markdown highlighter loading", () => {
  it("is not loaded for text without code", () => {
    render("# Plan\n\nPlant the **bulbs** in autumn, and `water` them.\n\n- one\n- two\n");
    render("```\nno language named\n```\n");

    expect(loadHighlighter).not.toHaveBeenCalled();
  });

  it("shows plain code until it arrives", () => {
    const html = render(pythonBlock);

    expect(loadHighlighter).toHaveBeenCalledTimes(1);
    expect(html).toContain('<code class="language-python">def add(a, b):\n    return a + b\n</code>');
    expect(html).toContain('<button type="button" class="markdown-copy"');
    expect(html).not.toContain("hljs");
  });

  it("highlights code once arrived", async () => {
    await requestHighlighter();

    const html = render(pythonBlock);

    expect(loadHighlighter).toHaveBeenCalledTimes(1);
    expect(html).toContain('<code class="hljs language-python">');
    expect(html).toContain('<span class="hljs-keyword">def</span>');
  });
});
