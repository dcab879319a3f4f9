import {
  Component,
  memo,
  useDeferredValue,
  useId,
  useMemo,
  useRef,
  useSyncExternalStore,
  type JSX,
  type ReactNode,
} from "react";
import ReactMarkdown, { type Components, type ExtraProps, type Options } from "react-markdown";
import remarkGfm from "remark-gfm";
import type { Element, ElementContent, Root } from "hast";

import { loadHighlighter } from "../chunks.ts";
import type * as codeHighlighter from "../codeHighlighter.ts";
import { strings } from "../strings.ts";
import { useCopyText } from "../useCopyText.ts";
import { useHorizontalScroll } from "../useHorizontalScroll.ts";
import "../markdown.css";

interface MarkdownProps {
  /** The Markdown source: a whole reply, or the part of it streamed so far. */
  text: string;
}

/**
 * Renders GitHub-flavoured Markdown: tables, task lists, strikethrough,
 * autolinks and footnotes, with code blocks highlighted and a Copy button on
 * each. It is safe for text that a model wrote:
 *
 * - HTML in the text is shown as written, never interpreted, because
 *   react-markdown turns raw HTML into text unless a plugin such as
 *   rehype-raw is added, and none is.
 * - Only http, https and mailto links, and links to a place in the same
 *   reply (footnotes), get an href. Every other URL, javascript:, vbscript:,
 *   data: and relative ones included, is shown as inert text.
 * - Images are never loaded: each becomes a link to the image, or its
 *   description, so that a reply makes no network request the user did not
 *   ask for.
 *
 * The text is rendered block by block (see splitBlocks), and each block is
 * memoised, so that while a reply streams only its last block is parsed
 * again for each chunk. Rendering mixed Markdown whole took 70 ms for 8 KB
 * and 300 ms for 32 KB (Vitest under Node 20 on a busy 2-core machine). That
 * is too slow to repeat for every chunk of a long reply, while a block of
 * 1 KB took 15 ms. The text is also a deferred value, so React may skip the
 * renders of chunks that arrive while it is busy. Text that stops in the
 * middle of a construct renders as far as it is complete, and a block that
 * throws while rendering is shown as plain text.
 *
 * The highlighter loads with the first code block that names a language, so
 * that such a block shows as plain code, with its Copy button, until then.
 */
export const Markdown = memo(function Markdown({ text }: MarkdownProps) {
  const deferredText = useDeferredValue(text);
  const id = useId();
  const highlighterReady = useSyncExternalStore(subscribeToHighlighter, isHighlighterLoaded, isHighlighterLoaded);
  // Footnote links point at ids in the same reply. A prefix per reply keeps
  // the ids of two replies on one page apart.
  const remarkRehypeOptions = useMemo(
    () => ({ ...footnoteOptions, clobberPrefix: `md-${id.replace(/[^\w-]/g, "")}-` }),
    [id],
  );

  return (
    <div className="markdown">
      {splitBlocks(deferredText).map((block, index) => (
        // Index keys keep the finished blocks, and the state of their Copy
        // buttons, in place while the last block grows or splits.
        <MarkdownBlock
          key={index}
          text={block}
          remarkRehypeOptions={remarkRehypeOptions}
          highlighterReady={highlighterReady}
        />
      ))}
    </div>
  );
});

interface MarkdownBlockProps {
  text: string;
  remarkRehypeOptions: Options["remarkRehypeOptions"];
  /**
   * Whether the highlighter has loaded. The block does not read it, but its
   * change makes memo render the block again, with its code highlighted.
   */
  highlighterReady: boolean;
}

const MarkdownBlock = memo(function MarkdownBlock({ text, remarkRehypeOptions }: MarkdownBlockProps) {
  return (
    <PlainTextFallback text={text}>
      <ReactMarkdown
        remarkPlugins={remarkPlugins}
        rehypePlugins={rehypePlugins}
        remarkRehypeOptions={remarkRehypeOptions}
        components={components}
        urlTransform={openableUrl}
      >
        {text}
      </ReactMarkdown>
    </PlainTextFallback>
  );
});

// Minimum length of a block, in characters. Each block pays for
// react-markdown's set-up of its own processor, which took a few milliseconds
// with remark-gfm (Node 20 on a 2-core machine), and the last block is parsed
// again for each streamed chunk.
const minBlockLength = 1_000;
// An opening or closing code fence: up to 3 spaces, then 3 or more backticks or tildes.
const fencePattern = /^ {0,3}(`{3,}|~{3,})/;
// A list item's marker at the start of a line.
const listItemPattern = /^ {0,3}([-+*]|\d{1,9}[.)])(\s|$)/;
// A link reference definition ("[id]: url") or footnote definition ("[^1]: text").
const definitionPattern = /^ {0,3}\[[^\]]+\]:/m;

/**
 * Splits Markdown into blocks of at least minBlockLength characters that
 * render the same one by one as together. A block ends at a blank line
 * outside a fenced code block, when the next line is complete and is neither
 * indented nor a list item. An indented line or a list item may continue
 * what came before the blank line, as a list item's paragraph, an indented
 * code block or the next item of a loose list do. Text with a link reference
 * or footnote definition stays whole, because a definition applies to the
 * whole text.
 */
function splitBlocks(text: string): string[] {
  if (definitionPattern.test(text)) {
    return [text];
  }
  const lines = text.split("\n");
  const blocks: string[] = [];
  let blockStart = 0;
  let lineStart = 0;
  let openFence: string | null = null;
  let previousBlank = false;
  lines.forEach((line, index) => {
    const fence = fencePattern.exec(line)?.[1];
    const complete = index < lines.length - 1;
    if (openFence !== null) {
      // A closing fence uses the opening fence's character, at least as many
      // times, with nothing but spaces after it.
      if (complete && fence !== undefined && fence[0] === openFence[0] && fence.length >= openFence.length && line.trim() === fence) {
        openFence = null;
      }
    } else {
      const blank = line.trim() === "";
      const startsBlock = complete && !blank && previousBlank && !/^\s/.test(line) && !listItemPattern.test(line);
      if (startsBlock && lineStart - blockStart >= minBlockLength) {
        blocks.push(text.slice(blockStart, lineStart));
        blockStart = lineStart;
      }
      if (fence !== undefined) {
        openFence = fence;
      }
      previousBlank = blank;
    }
    lineStart += line.length + 1;
  });
  blocks.push(text.slice(blockStart));
  return blocks;
}

// Protocols of the links that get an href. A relative URL is left out too,
// because following it would navigate away from Hearth's page.
const openableProtocols = new Set(["http:", "https:", "mailto:"]);

// openableUrl is react-markdown's urlTransform: it returns the URL of a link
// or image as it may be used, or null to leave the attribute out. A URL that
// starts with # stays, because it points at a place in the same page, as
// footnote links do. Any other URL must be absolute and use one of
// openableProtocols. The URL is parsed as browsers parse it, so that case,
// tabs or control characters cannot disguise a javascript: URL.
function openableUrl(url: string): string | null {
  const trimmed = url.trim();
  if (trimmed.startsWith("#")) {
    return trimmed;
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return null;
  }
  return openableProtocols.has(parsed.protocol) ? parsed.href : null;
}

// isWebUrl reports whether url, already passed through openableUrl, opens a
// web page, which a new tab shows.
function isWebUrl(url: string): boolean {
  return url.startsWith("http://") || url.startsWith("https://");
}

// Footnote labels from strings.ts, where mdast-util-to-hast would write
// English of its own. The label is an h1, which components moves down to h3
// as it does a reply's "#" headings, and only screen readers read it.
const footnoteOptions: NonNullable<Options["remarkRehypeOptions"]> = {
  footnoteLabel: strings.markdown.footnotes,
  footnoteLabelTagName: "h1",
  footnoteLabelProperties: { className: ["visually-hidden"] },
  footnoteBackLabel: (referenceIndex: number) => strings.markdown.footnoteBack(referenceIndex + 1),
};

/**
 * Wraps each block of raw HTML, at the top level or in a quote, in a
 * paragraph that keeps its line breaks (a rehype plugin). react-markdown
 * later turns the HTML into text, which without the paragraph would run into
 * the blocks around it on one line.
 */
function rehypeHtmlBlocksAsParagraphs() {
  return (tree: Root) => {
    wrapHtmlBlocks(tree);
  };
}

function wrapHtmlBlocks(parent: Root | Element): void {
  const children: Array<Root["children"][number] | ElementContent> = parent.children;
  children.forEach((child, index) => {
    if (child.type === "raw") {
      children[index] = { type: "element", tagName: "p", properties: { className: ["markdown-html"] }, children: [child] };
    } else if (child.type === "element" && child.tagName === "blockquote") {
      wrapHtmlBlocks(child);
    }
  });
}

/**
 * Replaces every image with a link to it, or with its description when it is
 * inside a link already or its URL is not a web URL (a rehype plugin). No img
 * element reaches the page, so a reply cannot make it load anything. The
 * link's URL still passes through openableUrl afterwards.
 */
function rehypeImagesAsLinks() {
  return (tree: Root) => {
    replaceImages(tree, false);
  };
}

function replaceImages(parent: Root | Element, insideLink: boolean): void {
  const children: Array<Root["children"][number] | ElementContent> = parent.children;
  children.forEach((child, index) => {
    if (child.type !== "element") {
      return;
    }
    if (child.tagName === "img") {
      children[index] = imageStandIn(child, insideLink);
      return;
    }
    replaceImages(child, insideLink || child.tagName === "a");
  });
}

function imageStandIn(image: Element, insideLink: boolean): Element {
  const alt = typeof image.properties.alt === "string" ? image.properties.alt : "";
  const src = typeof image.properties.src === "string" ? openableUrl(image.properties.src) : null;
  const label: ElementContent = { type: "text", value: strings.markdown.image(alt) };
  if (!insideLink && src !== null && isWebUrl(src)) {
    return { type: "element", tagName: "a", properties: { href: src, className: ["markdown-image"] }, children: [label] };
  }
  return { type: "element", tagName: "span", properties: { className: ["markdown-image"] }, children: [label] };
}

type Highlighter = typeof codeHighlighter.lowlight;

// The code highlighter once its chunk has loaded, the pending load, when the
// last load failed, and the Markdown components to render again when it
// arrives.
let highlighter: Highlighter | null = null;
let highlighterLoad: Promise<void> | null = null;
let highlighterFailedAt: number | null = null;
const highlighterListeners = new Set<() => void>();

/**
 * How long after a failed load of the highlighter's chunk the next code block
 * may try again. A streamed reply renders on every chunk, so without a pause
 * a chunk that is gone, such as an old file name after an upgrade of hearth
 * serve, would be requested once per streamed chunk.
 */
export const highlighterRetryMs = 30_000;

/**
 * Loads the code highlighter's chunk unless it is loaded or loading, and
 * renders every Markdown on the page again once it has arrived. After a
 * failed load, code stays plain, and the first code block that renders
 * highlighterRetryMs later tries again.
 */
export function requestHighlighter(): Promise<void> {
  if (highlighterLoad === null && highlighterFailedAt !== null && Date.now() - highlighterFailedAt < highlighterRetryMs) {
    return Promise.resolve();
  }
  highlighterLoad ??= loadHighlighter().then(
    (module) => {
      highlighter = module.lowlight;
      highlighterFailedAt = null;
      for (const listener of highlighterListeners) {
        listener();
      }
    },
    () => {
      highlighterLoad = null;
      highlighterFailedAt = Date.now();
    },
  );
  return highlighterLoad;
}

function subscribeToHighlighter(listener: () => void): () => void {
  highlighterListeners.add(listener);
  return () => {
    highlighterListeners.delete(listener);
  };
}

function isHighlighterLoaded(): boolean {
  return highlighter !== null;
}

/**
 * Highlights the code blocks whose opening fence names a registered
 * language, with highlight.js's hljs-* classes (a rehype plugin). Other
 * blocks stay plain, because guessing their language would run every
 * grammar on each streamed chunk. Before the highlighter has loaded, the
 * first block that names a language starts its load and stays plain.
 */
function rehypeHighlightCode() {
  return (tree: Root) => {
    highlightCodeBlocks(tree);
  };
}

function highlightCodeBlocks(parent: Root | Element): void {
  for (const child of parent.children) {
    if (child.type !== "element") {
      continue;
    }
    if (child.tagName !== "pre") {
      highlightCodeBlocks(child);
      continue;
    }
    for (const code of child.children) {
      if (code.type === "element" && code.tagName === "code") {
        highlightCode(code);
      }
    }
  }
}

function highlightCode(code: Element): void {
  const language = codeLanguage(code);
  if (language === null) {
    return;
  }
  if (highlighter === null) {
    // The load starts from the render, which is safe because
    // requestHighlighter starts it once and changes no state until the
    // chunk has arrived.
    void requestHighlighter();
    return;
  }
  if (!highlighter.registered(language)) {
    return;
  }
  const highlighted = highlighter.highlight(language, textOf(code));
  const classes = Array.isArray(code.properties.className) ? code.properties.className : [];
  code.properties.className = ["hljs", ...classes];
  code.children = highlighted.children.filter((node): node is ElementContent => node.type !== "doctype");
}

// The plugins are module constants, so that every render passes react-markdown
// the same arrays.
const remarkPlugins: Options["remarkPlugins"] = [remarkGfm];
const rehypePlugins: Options["rehypePlugins"] = [rehypeHtmlBlocksAsParagraphs, rehypeImagesAsLinks, rehypeHighlightCode];

type ElementProps<Tag extends keyof JSX.IntrinsicElements> = JSX.IntrinsicElements[Tag] & ExtraProps;

// Reply headings start at h3, below the chat's title (h1) and the page's
// sections, so that a reply's "# Title" does not break the page's outline.
// Their class keeps the size of the level that the reply wrote.
const components: Components = {
  a: MarkdownLink,
  pre: CodeBlock,
  table: MarkdownTable,
  input: ({ node: _node, ...props }: ElementProps<"input">) => (
    <input {...props} aria-label={props.checked === true ? strings.markdown.taskDone : strings.markdown.taskOpen} />
  ),
  h1: ({ node: _node, ...props }: ElementProps<"h1">) => <h3 className="markdown-h1" {...props} />,
  h2: ({ node: _node, ...props }: ElementProps<"h2">) => <h4 className="markdown-h2" {...props} />,
  h3: ({ node: _node, ...props }: ElementProps<"h3">) => <h5 className="markdown-h3" {...props} />,
  h4: ({ node: _node, ...props }: ElementProps<"h4">) => <h6 className="markdown-h4" {...props} />,
  h5: ({ node: _node, ...props }: ElementProps<"h5">) => <h6 className="markdown-h5" {...props} />,
  h6: ({ node: _node, ...props }: ElementProps<"h6">) => <h6 className="markdown-h6" {...props} />,
};

// MarkdownLink renders a link whose href openableUrl kept, or its text alone
// when openableUrl left the href out. A web link opens in a new tab, without
// giving the page it opens a handle on Hearth's window or the address it came
// from. In the desktop window, which has no tabs, it opens in place.
function MarkdownLink({ node: _node, href, children, ...props }: ElementProps<"a">) {
  if (href === undefined || href === "") {
    return (
      <span className="markdown-inert-link" title={strings.markdown.inertLink}>
        {children}
      </span>
    );
  }
  if (isWebUrl(href)) {
    return (
      <a {...props} href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    );
  }
  return (
    <a {...props} href={href}>
      {children}
    </a>
  );
}

// MarkdownTable renders a table in a box that scrolls sideways when the
// table is wider than the reply. The box then joins the tab order, with a
// name, so that the keyboard can scroll it too (WCAG 2.1.1), as it does for
// a code block's <pre>.
function MarkdownTable({ node: _node, ...props }: ElementProps<"table">) {
  const box = useRef<HTMLDivElement>(null);
  const scrolls = useHorizontalScroll(box);
  return (
    <div
      ref={box}
      className="markdown-table"
      {...(scrolls ? { tabIndex: 0, role: "group", "aria-label": strings.markdown.scrollingTable } : {})}
    >
      <table {...props} />
    </div>
  );
}

// CodeBlock renders a fenced or indented code block with a header that names
// its language and holds the Copy button. The button copies the code as
// written, without the line break that ends every block.
function CodeBlock({ node, children }: ElementProps<"pre">) {
  const [copyState, copy] = useCopyText();
  const pre = useRef<HTMLPreElement>(null);
  const scrolls = useHorizontalScroll(pre);
  const code = node?.children.find(
    (child): child is Element => child.type === "element" && child.tagName === "code",
  );
  const language = code === undefined ? null : codeLanguage(code);

  // In the idle state the accessible name adds the language to the visible
  // "Copy". Afterwards the name is the visible result, and the message log,
  // a polite live region, announces it.
  const label =
    copyState === "copied"
      ? strings.markdown.copied
      : copyState === "failed"
        ? strings.markdown.copyFailed
        : strings.markdown.copyCode;

  return (
    <div className="markdown-code">
      <div className="markdown-code-header">
        <span className="markdown-code-language">{language ?? ""}</span>
        <button
          type="button"
          className="markdown-copy"
          data-state={copyState}
          aria-label={copyState === "idle" ? strings.markdown.copyCodeLabel(language) : undefined}
          onClick={() => copy(code === undefined ? "" : textOf(code).replace(/\n$/, ""))}
        >
          {label}
        </button>
      </div>
      <pre
        ref={pre}
        {...(scrolls ? { tabIndex: 0, role: "group", "aria-label": strings.markdown.scrollingCode(language) } : {})}
      >
        {children}
      </pre>
    </div>
  );
}

// codeLanguage returns the language named after a block's opening fence,
// which remark writes as the class language-NAME, or null.
function codeLanguage(code: Element): string | null {
  const classes = code.properties.className;
  if (!Array.isArray(classes)) {
    return null;
  }
  for (const name of classes) {
    if (typeof name === "string" && name.startsWith("language-") && name.length > "language-".length) {
      return name.slice("language-".length);
    }
  }
  return null;
}

// textOf returns the text of a hast node with the markup that highlighting
// added left out.
function textOf(node: Element | ElementContent): string {
  if (node.type === "text") {
    return node.value;
  }
  if (node.type === "element") {
    return node.children.map(textOf).join("");
  }
  return "";
}

interface PlainTextFallbackProps {
  text: string;
  children: ReactNode;
}

interface PlainTextFallbackState {
  failed: boolean;
  /** The text that failed, so that the next text is tried as Markdown again. */
  text: string;
}

// PlainTextFallback shows the text as written if rendering it as Markdown
// throws, so that a reply the parser or highlighter cannot handle never
// takes the chat down with it.
class PlainTextFallback extends Component<PlainTextFallbackProps, PlainTextFallbackState> {
  override state: PlainTextFallbackState = { failed: false, text: this.props.text };

  static getDerivedStateFromError(): Partial<PlainTextFallbackState> {
    return { failed: true };
  }

  static getDerivedStateFromProps(
    props: PlainTextFallbackProps,
    state: PlainTextFallbackState,
  ): Partial<PlainTextFallbackState> | null {
    return props.text === state.text ? null : { failed: false, text: props.text };
  }

  override render() {
    return this.state.failed ? <div className="markdown-fallback">{this.props.text}</div> : this.props.children;
  }
}
