import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterEach, describe, expect, it, vi } from "vitest";

// loadHighlighter fails until the test lets it load the real chunk. This
// file is apart from MarkdownHighlighter.test.ts because the highlighter,
// once loaded, stays loaded for the rest of a file.
const loadHighlighter = vi.hoisted(() => vi.fn());
vi.mock("../chunks.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../chunks.ts")>();
  return { ...actual, loadHighlighter };
});

const { Markdown, highlighterRetryMs, requestHighlighter } = await import("./Markdown.tsx");
const { loadHighlighter: loadRealHighlighter } = await vi.importActual<typeof import("../chunks.ts")>("../chunks.ts");

function render(text: string): string {
  return renderToStaticMarkup(createElement(Markdown, { text }));
}

const goBlock = "```go\nfunc main() {}\n```\n";

afterEach(() => {
  vi.useRealTimers();
});

describe("Markdown highlighter after a failed load", () => {
  it("waits before it requests the chunk again", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    loadHighlighter.mockRejectedValue(new TypeError("Failed to fetch dynamically imported module"));

    await requestHighlighter();
    expect(loadHighlighter).toHaveBeenCalledTimes(1);

    // A streamed reply renders its code block again on every chunk.
    for (let i = 0; i < 20; i++) {
      expect(render(goBlock)).toContain('<code class="language-go">func main() {}\n</code>');
    }
    expect(loadHighlighter).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(highlighterRetryMs - 1);
    render(goBlock);
    expect(loadHighlighter).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(1);
    loadHighlighter.mockImplementation(loadRealHighlighter);
    await requestHighlighter();
    expect(loadHighlighter).toHaveBeenCalledTimes(2);
    expect(render(goBlock)).toContain('<code class="hljs language-go">');
  });
});
