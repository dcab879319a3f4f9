package memory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// ExportThreadMarkdown writes the thread threadID of o with all its messages,
// oldest first, to w as a Markdown document for people to read. Everything is
// read in one transaction, and nothing is written to w if o does not own the
// thread.
//
// The title is the only level-1 heading, and each message gets a level-2
// heading with its author and time (RFC 3339, UTC) and, when it is not
// complete, its status and error. Message text is written in a block quote,
// so that no line of it can end the quote or start a heading of the
// document:
//
//   - Text of people, tools and the system prompt is escaped, so that a
//     Markdown reader shows it exactly as written: "# Heading", "<script>"
//     and fences are text, and line breaks are kept.
//   - Assistant replies are Markdown and are kept as written, including any
//     raw HTML. Their headings, fences and HTML blocks end with the quote.
//
// Tool calls and results follow as fenced JSON blocks whose fence is longer
// than any run of backticks in the JSON.
//
// As with ExportThreadJSON, a slow w keeps the read transaction open and can
// hold up writers.
func (s *Store) ExportThreadMarkdown(ctx context.Context, o Owner, threadID string, w io.Writer) error {
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec, err := ownedThread(tx, o, threadID)
		if err != nil {
			return err
		}
		md := &markdownWriter{out: bufio.NewWriterSize(w, 64<<10)}
		md.title(rec.thread(threadID, o.Key))
		err = eachMessage(ctx, tx, o, threadID, func(m Message) error {
			md.message(m)
			return md.err
		})
		if err != nil {
			return err
		}
		return md.flush()
	})
	if err != nil {
		return fmt.Errorf("export thread %s as Markdown: %w", threadID, err)
	}
	return nil
}

// markdownWriter writes a thread as Markdown. The first error sticks and is
// returned by flush.
type markdownWriter struct {
	out *bufio.Writer
	err error
}

func (md *markdownWriter) line(s string) {
	if md.err != nil {
		return
	}
	if _, md.err = md.out.WriteString(s); md.err == nil {
		md.err = md.out.WriteByte('\n')
	}
}

func (md *markdownWriter) flush() error {
	if md.err != nil {
		return md.err
	}
	return md.out.Flush()
}

func (md *markdownWriter) title(t Thread) {
	if t.Damaged {
		md.line("# Damaged thread")
		md.line("")
		md.line("*The title of this thread cannot be read: it is damaged or sealed with another key.*")
		md.line("")
		return
	}
	md.line("# " + escapeMarkdownLine(t.Title))
	md.line("")
}

func (md *markdownWriter) message(m Message) {
	heading := "## " + roleLabel(m.Role)
	if !m.CreatedAt.IsZero() {
		heading += " · " + m.CreatedAt.UTC().Format(time.RFC3339)
	}
	md.line(heading)
	md.line("")

	if m.Damaged {
		md.line("*This message cannot be read: it is damaged or sealed with another key.*")
		md.line("")
		return
	}
	if m.Status != StatusComplete && m.Status != "" {
		md.line("*Status: " + escapeMarkdownLine(string(m.Status)) + "*")
		md.line("")
	}
	if m.Error != "" {
		md.line("*Error: " + escapeMarkdownLine(m.Error) + "*")
		md.line("")
	}

	if content := strings.TrimRight(m.Content, "\r\n"); content != "" {
		if m.Role == RoleAssistant {
			md.quoteMarkdown(content)
		} else {
			md.quoteText(content)
		}
		md.line("")
	}
	for _, p := range m.Parts {
		md.part(p)
	}
}

// quoteText writes text in a block quote, escaped so that it reads exactly
// as written. Each line break becomes a hard line break.
func (md *markdownWriter) quoteText(text string) {
	lines := splitLines(text)
	for i, line := range lines {
		escaped := escapeMarkdownLine(line)
		if escaped == "" {
			md.line(">")
			continue
		}
		// A backslash at the end of a line is a hard line break, except at
		// the end of a paragraph, where it would be shown.
		if i+1 < len(lines) && lines[i+1] != "" {
			escaped += `\`
		}
		md.line("> " + escaped)
	}
}

// quoteMarkdown writes Markdown in a block quote as it is. Every line,
// blank ones included, starts with ">", so the quote lasts until the blank
// line after it, and a fence or HTML block left open in the text is closed
// there.
func (md *markdownWriter) quoteMarkdown(text string) {
	for _, line := range splitLines(text) {
		if line == "" {
			md.line(">")
			continue
		}
		md.line("> " + line)
	}
}

// part writes a tool call or result as an indented JSON block, fenced with
// more backticks than any run of backticks in it, so that the JSON cannot
// close the fence.
func (md *markdownWriter) part(p Part) {
	if md.err != nil {
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if md.err = enc.Encode(p); md.err != nil {
		return
	}
	body := strings.TrimSuffix(buf.String(), "\n")
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	md.line(fence + "json")
	md.line(body)
	md.line(fence)
	md.line("")
}

// roleLabel names the author of a message in a heading.
func roleLabel(r Role) string {
	switch r {
	case RoleUser:
		return "You"
	case RoleAssistant:
		return "Assistant"
	case RoleSystem:
		return "System"
	case RoleTool:
		return "Tool"
	default:
		return "Message"
	}
}

// splitLines splits text at each line ending that Markdown recognises:
// "\r\n", "\n" and a lone "\r".
func splitLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return strings.Split(text, "\n")
}

// markdownInlineEscapes are the characters that can start Markdown syntax
// anywhere in a line: backslash escapes, code spans, emphasis, links, raw
// HTML and autolinks, entities, and the GitHub extensions strikethrough and
// tables.
const markdownInlineEscapes = "\\`*_[]<>&~|"

// escapeMarkdownLine returns line with backslash escapes before every
// character that Markdown would read as syntax, so that a Markdown reader
// shows the line as written. Line endings in it become spaces.
//
// Leading spaces and tabs become non-breaking spaces, because four of them
// would start a code block, where escapes are shown. A line that starts
// like a heading, list item, thematic break or setext underline ("#", "-",
// "+", "=", "1." or "1)") has that character escaped too.
func escapeMarkdownLine(line string) string {
	line = strings.Join(splitLines(line), " ")
	var b strings.Builder

	rest := strings.TrimLeft(line, " \t")
	for _, r := range line[:len(line)-len(rest)] {
		if r == '\t' {
			b.WriteString("&nbsp;&nbsp;&nbsp;&nbsp;")
		} else {
			b.WriteString("&nbsp;")
		}
	}

	if rest != "" && strings.ContainsRune("#-+=", rune(rest[0])) {
		b.WriteByte('\\')
	}
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	for i, r := range rest {
		if strings.ContainsRune(markdownInlineEscapes, r) || (digits > 0 && i == digits && (r == '.' || r == ')')) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := range len(s) {
		if s[i] != c {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}
