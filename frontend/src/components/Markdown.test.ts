import { createElement, Fragment } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { beforeAll, describe, expect, it } from "vitest";

import { strings } from "../strings.ts";
import { Markdown, requestHighlighter } from "./Markdown.tsx";

// The highlighter loads on demand (see MarkdownHighlighter.test.ts), and these
// tests render with it loaded.
beforeAll(() => requestHighlighter());

function render(text: string): string {
  return renderToStaticMarkup(createElement(Markdown, { text }));
}

describe("Markdown GFM", () => {
  it("renders a table", () => {
    const html = render("| Name | Size |\n|------|-----:|\n| a.txt | 12 |\n");
    expect(html).toContain("<table>");
    expect(html).toContain("<th>Name</th>");
    expect(html).toMatch(/<th style="text-align:right">Size<\/th>/);
    expect(html).toContain("<td>a.txt</td>");
    expect(html).toContain('<div class="markdown-table"><table>');
  });

  it("renders a task list", () => {
    const html = render("- [x] Book the train\n- [ ] Pack\n");
    expect(html).toContain('<ul class="contains-task-list">');
    const items = html.match(/<li class="task-list-item">.*?<\/li>/g) ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]).toMatch(/<input type="checkbox" disabled="" aria-label="Done" checked=""\/> Book the train/);
    expect(items[1]).toMatch(/<input type="checkbox" disabled="" aria-label="Not done"\/> Pack/);
  });

  it("renders strikethrough", () => {
    expect(render("It costs ~~40~~ 30 euros.")).toContain("<del>40</del>");
  });

  it("links bare URLs", () => {
    const html = render("See www.example.com or https://example.org/a?b=1.");
    expect(html).toContain(
      '<a href="http://www.example.com/" target="_blank" rel="noopener noreferrer">www.example.com</a>',
    );
    expect(html).toContain(
      '<a href="https://example.org/a?b=1" target="_blank" rel="noopener noreferrer">https://example.org/a?b=1</a>',
    );
  });

  it("moves headings two levels down", () => {
    const html = render("# Plan\n\n## Day 1\n\n###### Notes");
    expect(html).toContain('<h3 class="markdown-h1">Plan</h3>');
    expect(html).toContain('<h4 class="markdown-h2">Day 1</h4>');
    expect(html).toContain('<h6 class="markdown-h6">Notes</h6>');
    expect(html).not.toMatch(/<h[12][ >]/);
  });
});

describe("Markdown code blocks", () => {
  it("highlights a named language", () => {
    const html = render("```python\ndef add(a, b):\n    return a + b  # sum\n```\n");
    expect(html).toContain('<code class="hljs language-python">');
    expect(html).toContain('<span class="hljs-keyword">def</span>');
    expect(html).toContain('<span class="hljs-title function_">add</span>');
    expect(html).toContain('<span class="hljs-comment"># sum</span>');
  });

  it("names the language on Copy", () => {
    const html = render("```ts\nconst a = 1;\n```\n");
    expect(html).toContain('<span class="markdown-code-language">ts</span>');
    expect(html).toMatch(
      /<button type="button" class="markdown-copy" data-state="idle" aria-label="Copy ts code">Copy<\/button>/,
    );
  });

  it("offers Copy without a language", () => {
    const html = render("```\nplain text\n```\n");
    expect(html).toContain('aria-label="Copy code"');
    expect(html).toContain("<code>plain text\n</code>");
    expect(html).not.toContain("hljs");
  });

  it("leaves an unknown language plain", () => {
    const html = render("```klingon\nQapla'\n```\n");
    expect(html).toContain('<code class="language-klingon">Qapla&#x27;\n</code>');
    expect(html).not.toContain("hljs-");
    expect(html).toContain('aria-label="Copy klingon code"');
  });

  it("escapes HTML inside code", () => {
    const html = render("```html\n<script>alert(1)</script>\n```\n");
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;");
  });
});

describe("Markdown HTML", () => {
  it("shows a script as text", () => {
    const html = render("Before\n\n<script>alert(1)</script>\n\nAfter");
    expect(html).not.toContain("<script");
    expect(html).toContain('<p class="markdown-html">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it("keeps the lines of an HTML block", () => {
    const html = render("<div>\n<b>bold</b>\n</div>\n\n> <table>\n> <tr>");
    expect(html).toContain('<p class="markdown-html">&lt;div&gt;\n&lt;b&gt;bold&lt;/b&gt;\n&lt;/div&gt;</p>');
    expect(html).toContain('<blockquote>\n<p class="markdown-html">&lt;table&gt;\n&lt;tr&gt;</p>\n</blockquote>');
    expect(html).not.toMatch(/<(div|b|table|tr)>/);
  });

  it("shows an img tag as text", () => {
    const html = render("Look: <img src=x onerror=alert(1)> here");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("shows other tags as text", () => {
    const html = render('<iframe src="https://example.com"></iframe>\n\n<a href="javascript:alert(1)">x</a>');
    expect(html).not.toContain("<iframe");
    expect(html).not.toContain("<a ");
    expect(html).toContain("&lt;iframe");
  });
});

describe("Markdown links", () => {
  it.each([
    { name: "javascript", url: "javascript:alert(1)" },
    { name: "javascript in capitals", url: "JAVASCRIPT:alert(1)" },
    { name: "javascript with an encoded tab", url: "java&#x09;script:alert(1)" },
    { name: "javascript with an encoded colon", url: "javascript&colon;alert(1)" },
    { name: "vbscript", url: "vbscript:msgbox(1)" },
    { name: "data", url: "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==" },
    { name: "file", url: "file:///etc/passwd" },
    { name: "relative path", url: "/api/threads" },
    { name: "protocol-relative", url: "//example.com/x" },
  ])("leaves a $name link without href", ({ url }) => {
    const html = render(`[x](${url})`);
    expect(html).not.toContain("href=");
    expect(html).toContain(`<span class="markdown-inert-link" title="${strings.markdown.inertLink}">x</span>`);
  });

  it("leaves a reference-style javascript link without href", () => {
    const html = render("[x][evil]\n\n[evil]: javascript:alert(1)");
    expect(html).not.toContain("href=");
    expect(html).toContain(">x</span>");
  });

  it("opens a web link in a new tab", () => {
    expect(render("[docs](https://example.com/docs)")).toContain(
      '<a href="https://example.com/docs" target="_blank" rel="noopener noreferrer">docs</a>',
    );
  });

  it("keeps a mailto link in place", () => {
    expect(render("[write](mailto:ada@example.com)")).toContain('<a href="mailto:ada@example.com">write</a>');
  });
});

describe("Markdown images", () => {
  it("turns a remote image into a link", () => {
    const html = render("![A cat](https://example.com/cat.png)");
    expect(html).not.toContain("<img");
    expect(html).toContain(
      '<a class="markdown-image" href="https://example.com/cat.png" target="_blank" rel="noopener noreferrer">Image: A cat</a>',
    );
  });

  it("shows a data image as its description", () => {
    const html = render("![dot](data:image/png;base64,iVBORw0KGgo=)");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("href=");
    expect(html).toContain('<span class="markdown-image">Image: dot</span>');
  });

  it("shows an image inside a link as its description", () => {
    const html = render("[![badge](https://example.com/b.svg)](https://example.com)");
    expect(html).not.toContain("<img");
    expect(html).toContain('<a href="https://example.com/" target="_blank" rel="noopener noreferrer">');
    expect(html).toContain('<span class="markdown-image">Image: badge</span>');
    expect(html.match(/<a /g)).toHaveLength(1);
  });

  it("names an image without description", () => {
    expect(render("![](https://example.com/x.png)")).toContain(">Image</a>");
  });
});

describe("Markdown footnotes", () => {
  it("keeps the ids of two replies apart", () => {
    const text = "Rome[^1]\n\n[^1]: Founded in 753 BC.";
    const html = renderToStaticMarkup(
      createElement(Fragment, null, createElement(Markdown, { text }), createElement(Markdown, { text })),
    );
    const targets = [...html.matchAll(/href="#([^"]+-fn-1)"/g)].map((match) => match[1]);
    expect(targets).toHaveLength(2);
    expect(targets[0]).not.toBe(targets[1]);
    for (const target of targets) {
      expect(html).toContain(`id="${target}"`);
    }
    expect(html).toContain('<h3 class="visually-hidden" id="footnote-label">Footnotes</h3>');
  });
});

describe("Markdown blocks", () => {
  // A paragraph of about 1,100 characters, so that the reply is rendered in
  // several blocks.
  const filler = `${"Rome was not built in a day. ".repeat(38).trim()}\n`;
  const longReply = [
    "# Plan",
    "",
    filler,
    "1. First step",
    "",
    "2. Second step, after a blank line",
    "",
    "   More about the second step.",
    "",
    filler,
    "```python",
    "def first():",
    "    pass",
    "",
    "",
    "def second():",
    "    pass",
    "```",
    "",
    filler,
    "- item",
    "",
    "      indented code in the item",
    "",
    "> A quote",
    "",
    "| a | b |",
    "|---|---|",
    "| 1 | 2 |",
    "",
    "~~~",
    "```",
    "",
    "still code",
    "~~~",
    "",
    filler,
    "Last paragraph.",
  ].join("\n");

  // A definition keeps the text in one block, and renders nothing itself.
  // It goes first, because at the end it would be inside an unclosed fence.
  function renderWhole(text: string): string {
    return render(`[unused]: https://example.com/\n\n${text}`);
  }

  // The blocks follow each other without the line break that react-markdown
  // writes between blocks of one document.
  function withoutBlockBreaks(html: string): string {
    return html.replace(/>\n+</g, "><");
  }

  it("renders a long reply as it renders whole", () => {
    const html = render(longReply);
    // Only the line breaks between blocks differ, so the reply was split.
    expect(html).not.toBe(renderWhole(longReply));
    expect(withoutBlockBreaks(html)).toBe(withoutBlockBreaks(renderWhole(longReply)));
  });

  it("renders prefixes as they render whole", () => {
    for (let length = 0; length <= longReply.length; length += 97) {
      const prefix = longReply.slice(0, length);
      expect(withoutBlockBreaks(render(prefix)), `prefix of ${length} characters`).toBe(
        withoutBlockBreaks(renderWhole(prefix)),
      );
    }
  });

  it("keeps a loose list in one list", () => {
    const html = render(longReply);
    expect(html.match(/<ol>/g)).toHaveLength(1);
    expect(html).not.toContain("<ol start=");
  });

  it("keeps a code block with blank lines whole", () => {
    const html = render(longReply);
    expect(html.match(/<code class="hljs language-python">/g)).toHaveLength(1);
    expect(html).toMatch(/first<\/span>\(\):\n {4}<span class="hljs-keyword">pass<\/span>\n\n\n/);
  });

  it("resolves a reference defined far below", () => {
    const html = render(`See [the docs][docs].\n\n${filler}\n${filler}\n[docs]: https://example.com/docs`);
    expect(html).toContain('<a href="https://example.com/docs" target="_blank" rel="noopener noreferrer">the docs</a>');
  });
});

describe("Markdown while streaming", () => {
  const reply = [
    "# Trip",
    "",
    "| Day | City |",
    "|-----|------|",
    "| 1 | **Rome** |",
    "",
    "- [x] Tickets ~~maybe~~",
    "- [ ] Hotel[^1]",
    "",
    "```js",
    "const x = `<b>${1}</b>`;",
    "```",
    "",
    "> Quote with [a link](https://example.com) and ![img](https://example.com/i.png)",
    "",
    "[^1]: Near the station.",
  ].join("\n");

  it("renders every prefix of a reply", () => {
    for (let length = 0; length <= reply.length; length++) {
      const html = render(reply.slice(0, length));
      expect(html.startsWith('<div class="markdown">'), `prefix of ${length} characters`).toBe(true);
      expect(html, `prefix of ${length} characters`).not.toContain("<img");
    }
  });

  it("renders an unclosed code block", () => {
    const html = render("Here:\n\n```python\ndef f(");
    expect(html).toContain('<code class="hljs language-python">');
    expect(html).toContain('aria-label="Copy python code"');
  });
});
