package memory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// profileFixture is what fillProfile wrote, for tests to compare with.
type profileFixture struct {
	threads []Thread
	// messages are the stored messages of each thread, oldest first.
	messages [][]Message
	// sentences are texts written once, to look for in the raw file.
	sentences []string
}

// fillProfile writes a profile with Unicode text, metadata, tool parts,
// incomplete and failed replies, an empty thread, and working memory of the
// resource and of one thread, each with several versions.
func fillProfile(tb testing.TB, s *Store, o Owner) profileFixture {
	tb.Helper()
	ctx := context.Background()
	const (
		kyotoTitle  = "Trip to Kyoto 京都 🚄 שלום"
		userText    = "Plan two days in Kyoto, please 🙏 e\u0301\u0301 — my passport number ends in 4711"
		replyText   = "Day 1: 伏見稲荷大社 at dawn.\n\n# Day 2\n\n```go\nfmt.Println(\"مرحبا\")\n```\n<b>Arashiyama</b> 🎋👩‍👩‍👧"
		toolInput   = "weather in Kyoto for the secret anniversary trip"
		toolOutput  = "Sunny over Kyoto, twenty-one degrees"
		stopped     = "The reply about the ryokan booking was cut off"
		errorText   = "The model backend did not answer about the ryokan in time."
		resourceOld = "# About the person\n- Likes trains\n"
		resourceNew = "# About the person\n- Likes trains 🚄\n- Reads Hebrew: שלום\n- Allergic to buckwheat soba\n"
		threadNotes = "# This trip\n- Kyoto, two days, anniversary surprise\n"
	)
	var f profileFixture

	kyoto, err := s.CreateThread(ctx, o, kyotoTitle, json.RawMessage(`{"pinned":true,"tags":["travel","日本"]}`))
	if err != nil {
		tb.Fatal(err)
	}
	mustAppend(tb, s, o, Message{ThreadID: kyoto.ID, Role: RoleSystem, Content: "You are a travel assistant."})
	mustAppend(tb, s, o, Message{ThreadID: kyoto.ID, Role: RoleUser, Content: userText, ClientRequestID: "req-1"})
	mustAppend(tb, s, o, Message{
		ThreadID: kyoto.ID, Role: RoleAssistant, Model: "llama3.2", PromptTokens: 41, ReplyTokens: 9,
		Parts: []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "weather", Input: json.RawMessage(`{"query":"` + toolInput + `","days":2}`)}},
	})
	mustAppend(tb, s, o, Message{
		ThreadID: kyoto.ID, Role: RoleTool,
		Parts: []Part{{Type: "tool-result", ToolCallID: "call_1", ToolName: "weather", Output: json.RawMessage(`{"forecast":"` + toolOutput + `"}`), IsError: true}},
	})
	mustAppend(tb, s, o, Message{ThreadID: kyoto.ID, Role: RoleAssistant, Model: "llama3.2", Content: replyText, PromptTokens: 77, ReplyTokens: 30})
	mustAppend(tb, s, o, Message{ThreadID: kyoto.ID, Role: RoleAssistant, Model: "llama3.2", Content: stopped, Status: StatusIncomplete})
	failed := mustAppend(tb, s, o, Message{ThreadID: kyoto.ID, Role: RoleAssistant, Model: "llama3.2", Status: StatusIncomplete})
	failed.Status, failed.Error = StatusError, errorText
	if _, err := s.UpdateMessage(ctx, o, failed); err != nil {
		tb.Fatal(err)
	}

	empty := mustCreateThread(tb, s, o, "")
	short := mustCreateThread(tb, s, o, "<script>alert(1)</script> & friends")
	for _, content := range numbered(0, 3) {
		mustAppend(tb, s, o, Message{ThreadID: short.ID, Role: RoleUser, Content: content})
	}

	mustReplace(tb, s, o, WorkingMemoryUpdate{Content: resourceOld})
	mustReplace(tb, s, o, WorkingMemoryUpdate{Content: resourceNew, Version: 1})
	mustReplace(tb, s, o, WorkingMemoryUpdate{ThreadID: kyoto.ID, Content: threadNotes})

	for _, th := range []Thread{kyoto, empty, short} {
		f.threads = append(f.threads, mustThread(tb, s, o, th.ID))
		f.messages = append(f.messages, mustLast(tb, s, o, th.ID, MaxLastMessages))
	}
	f.sentences = []string{kyotoTitle, userText, toolInput, toolOutput, stopped, errorText, resourceNew, threadNotes, "Allergic to buckwheat soba"}
	return f
}

// exportProfile returns the profile document of o.
func exportProfile(tb testing.TB, s *Store, o Owner) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := s.ExportProfile(context.Background(), o, &buf); err != nil {
		tb.Fatalf("ExportProfile(%q) error: %v", o.ResourceID, err)
	}
	return buf.Bytes()
}

// profileDocument is a decoded hearth-profile document.
type profileDocument struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	ExportedAt time.Time `json:"exportedAt"`
	Threads    []struct {
		Thread   Thread    `json:"thread"`
		Messages []Message `json:"messages"`
	} `json:"threads"`
	WorkingMemory struct {
		Resource workingMemoryDocument   `json:"resource"`
		Threads  []workingMemoryDocument `json:"threads"`
	} `json:"workingMemory"`
}

func decodeProfile(tb testing.TB, doc []byte) profileDocument {
	tb.Helper()
	var p profileDocument
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		tb.Fatalf("decode profile document: %v\n%s", err, doc)
	}
	return p
}

// wantMessages fails the test unless got has exactly the fields of want,
// comparing parts by their JSON values.
func wantMessages(tb testing.TB, got, want []Message) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !slices.EqualFunc(g.Parts, w.Parts, func(a, b Part) bool { return partsEqual(tb, a, b) }) {
			tb.Errorf("message %d parts = %+v, want %+v", i, g.Parts, w.Parts)
		}
		if !g.CreatedAt.Equal(w.CreatedAt) {
			tb.Errorf("message %d CreatedAt = %v, want %v", i, g.CreatedAt, w.CreatedAt)
		}
		g.Parts, w.Parts = nil, nil
		g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			tb.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
}

// wantThread fails the test unless got and want have the same fields,
// comparing times with Equal and metadata as JSON.
func wantThread(tb testing.TB, got, want Thread) {
	tb.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		tb.Errorf("thread %q times = %v, %v, want %v, %v", want.Title, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	if !sameJSON(tb, got.Metadata, want.Metadata) {
		tb.Errorf("thread %q metadata = %s, want %s", want.Title, got.Metadata, want.Metadata)
	}
	got.CreatedAt, got.UpdatedAt, got.Metadata = want.CreatedAt, want.UpdatedAt, want.Metadata
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("thread = %+v, want %+v", got, want)
	}
}

func TestExportProfile(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	f := fillProfile(t, s, o)
	other := newOwner(resourceB)
	mustAppend(t, s, other, Message{ThreadID: mustCreateThread(t, s, other, "not A's").ID, Role: RoleUser, Content: "B's secret"})
	mustReplace(t, s, other, WorkingMemoryUpdate{Content: "B's notes"})

	doc := exportProfile(t, s, o)
	p := decodeProfile(t, doc)

	if p.Format != ProfileFormat || p.Version != ExportVersion {
		t.Errorf("format, version = %q, %d, want %q, %d", p.Format, p.Version, ProfileFormat, ExportVersion)
	}
	// The clock moves on with every reading, and the export read it last.
	if p.ExportedAt.IsZero() || !p.ExportedAt.After(f.threads[2].UpdatedAt) {
		t.Errorf("exportedAt = %v, want a time after the last write %v", p.ExportedAt, f.threads[2].UpdatedAt)
	}
	if bytes.Contains(doc, []byte("B's")) {
		t.Error("the export of A contains B's thread or working memory")
	}

	// Threads in the order of their ids, which is the order of creation.
	if len(p.Threads) != len(f.threads) {
		t.Fatalf("got %d threads, want %d", len(p.Threads), len(f.threads))
	}
	for i, got := range p.Threads {
		wantThread(t, got.Thread, f.threads[i])
		wantMessages(t, got.Messages, f.messages[i])
	}

	// Working memory, oldest version first, with the thread's document.
	resource := p.WorkingMemory.Resource
	if resource.ThreadID != "" || len(resource.Versions) != 2 {
		t.Fatalf("resource working memory = %+v, want 2 versions", resource)
	}
	history, err := s.WorkingMemoryHistory(context.Background(), o, "")
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(history)
	if !reflect.DeepEqual(resource.Versions, history) {
		t.Errorf("resource versions = %+v, want the history oldest first %+v", resource.Versions, history)
	}
	if len(p.WorkingMemory.Threads) != 1 {
		t.Fatalf("got %d thread working memory documents, want 1", len(p.WorkingMemory.Threads))
	}
	threadDoc := p.WorkingMemory.Threads[0]
	want := mustWorkingMemory(t, s, o, f.threads[0].ID)
	if threadDoc.ThreadID != f.threads[0].ID || len(threadDoc.Versions) != 1 || !reflect.DeepEqual(threadDoc.Versions[0], want) {
		t.Errorf("thread working memory = %+v, want thread %s with %+v", threadDoc, f.threads[0].ID, want)
	}
}

func TestExportProfileEmpty(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	doc := exportProfile(t, s, newOwner(resourceA))

	want := `{"format":"hearth-profile","version":1,"exportedAt":"2025-03-01T12:00:00Z",
"threads":[],
"workingMemory":{"resource":{"versions":[]},"threads":[]}}
`
	if string(doc) != want {
		t.Errorf("export of an empty profile =\n%s\nwant\n%s", doc, want)
	}
}

func TestExportThreadJSON(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	f := fillProfile(t, s, o)

	// More messages than one page of LastMessages returns by default.
	long := mustCreateThread(t, s, o, "long")
	appendNumbered(t, s, o, long.ID, 120)

	for i, th := range append(slices.Clone(f.threads), mustThread(t, s, o, long.ID)) {
		var buf bytes.Buffer
		if err := s.ExportThreadJSON(context.Background(), o, th.ID, &buf); err != nil {
			t.Fatalf("ExportThreadJSON(%q) error: %v", th.Title, err)
		}
		var doc struct {
			Format   string    `json:"format"`
			Version  int       `json:"version"`
			Thread   Thread    `json:"thread"`
			Messages []Message `json:"messages"`
		}
		dec := json.NewDecoder(&buf)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("decode thread document: %v", err)
		}
		if doc.Format != ThreadFormat || doc.Version != ExportVersion {
			t.Errorf("format, version = %q, %d, want %q, %d", doc.Format, doc.Version, ThreadFormat, ExportVersion)
		}
		wantThread(t, doc.Thread, th)
		if i < len(f.messages) {
			wantMessages(t, doc.Messages, f.messages[i])
			continue
		}
		wantContents(t, doc.Messages, numbered(0, 120))
	}
}

func TestExportDamagedMessage(t *testing.T) {
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "partly damaged")
	appendNumbered(t, s, o, th.ID, 3)
	copySealed(t, db, recordPath{[]string{string(messagesBucket), th.ID}, sequenceKey(1)}, recordPath{[]string{string(messagesBucket), th.ID}, sequenceKey(2)})
	stored := mustLast(t, s, o, th.ID, 10)

	var buf bytes.Buffer
	if err := s.ExportThreadJSON(context.Background(), o, th.ID, &buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Messages []Message `json:"messages"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	wantMessages(t, doc.Messages, stored)
	if len(doc.Messages) == 3 && (!doc.Messages[1].Damaged || doc.Messages[1].Content != "" || doc.Messages[1].ID != stored[1].ID) {
		t.Errorf("damaged message exported as %+v, want its id, Damaged and no content", doc.Messages[1])
	}

	buf.Reset()
	if err := s.ExportThreadMarkdown(context.Background(), o, th.ID, &buf); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "*This message cannot be read"); got != 1 {
		t.Errorf("Markdown notes %d damaged messages, want 1:\n%s", got, buf.String())
	}
	if got := len(markdownOutline(t, buf.String())); got != 4 {
		t.Errorf("Markdown has %d headings, want the title and 3 messages:\n%s", got, buf.String())
	}
}

func TestExportDamagedThread(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	good := mustCreateThread(t, s, o, "good")
	bad := mustCreateThread(t, s, o, "bad")
	mustAppend(t, s, o, Message{ThreadID: bad.ID, Role: RoleUser, Content: "still readable"})
	threads := recordPath{buckets: []string{string(threadsBucket)}}
	from, to := threads, threads
	from.key, to.key = []byte(good.ID), []byte(bad.ID)
	copySealed(t, db, from, to)

	var md bytes.Buffer
	if err := s.ExportThreadMarkdown(ctx, o, bad.ID, &md); err != nil {
		t.Fatal(err)
	}
	if headings := markdownOutline(t, md.String()); len(headings) != 2 || headings[0] != "# Damaged thread" {
		t.Errorf("Markdown headings = %q, want %q and one message", headings, "# Damaged thread")
	}
	if !strings.Contains(md.String(), "> still readable") {
		t.Errorf("Markdown of a damaged thread lacks its readable message:\n%s", md.String())
	}

	p := decodeProfile(t, exportProfile(t, s, o))
	if len(p.Threads) != 2 {
		t.Fatalf("got %d threads, want 2", len(p.Threads))
	}
	damaged := p.Threads[1]
	if !damaged.Thread.Damaged || damaged.Thread.Title != "" || damaged.Thread.ID != bad.ID {
		t.Errorf("damaged thread exported as %+v, want its id with Damaged and no title", damaged.Thread)
	}
	wantContents(t, damaged.Messages, []string{"still readable"})

	// Imported elsewhere, the readable message keeps its thread.
	target, _, _ := newStore(t)
	b := newOwner(resourceB)
	result := mustImportProfile(t, target, b, exportProfile(t, s, o))
	if result.Threads != 2 || len(result.Problems) != 1 || result.Problems[0].Pointer != "/threads/1" {
		t.Errorf("import result = %+v, want 2 threads and a problem at /threads/1", result)
	}
}

func TestExportOwnership(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	th := mustCreateThread(t, s, a, "private")
	mustAppend(t, s, a, Message{ThreadID: th.ID, Role: RoleUser, Content: "secret"})

	exports := []struct {
		name string
		run  func(o Owner, threadID string, w io.Writer) error
	}{
		{"ExportThreadJSON", func(o Owner, threadID string, w io.Writer) error {
			return s.ExportThreadJSON(ctx, o, threadID, w)
		}},
		{"ExportThreadMarkdown", func(o Owner, threadID string, w io.Writer) error {
			return s.ExportThreadMarkdown(ctx, o, threadID, w)
		}},
	}
	for _, export := range exports {
		for _, tt := range []struct {
			name     string
			owner    Owner
			threadID string
		}{
			{"another resource's thread", b, th.ID},
			{"missing thread", a, NewID()},
			{"malformed id", a, "../" + th.ID},
		} {
			t.Run(export.name+" "+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				err := export.run(tt.owner, tt.threadID, &buf)
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("error = %v, want %v", err, ErrNotFound)
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %q, want nothing", buf.String())
				}
			})
		}
	}

	if p := decodeProfile(t, exportProfile(t, s, b)); len(p.Threads) != 0 {
		t.Errorf("ExportProfile of %s lists %d threads, want 0", resourceB, len(p.Threads))
	}
	if err := s.ExportProfile(ctx, Owner{ResourceID: resourceA}, io.Discard); err == nil {
		t.Error("ExportProfile without a key error = nil, want an error")
	}
}

// failingWriter accepts limit bytes and then fails.
type failingWriter struct{ limit int }

var errWriteFailed = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, errWriteFailed
	}
	w.limit -= len(p)
	return len(p), nil
}

func TestExportWriteError(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "big")
	bulkAppend(t, s, o, th.ID, 2000)

	for _, tt := range []struct {
		name string
		run  func(w io.Writer) error
	}{
		{"ExportThreadJSON", func(w io.Writer) error { return s.ExportThreadJSON(ctx, o, th.ID, w) }},
		{"ExportThreadMarkdown", func(w io.Writer) error { return s.ExportThreadMarkdown(ctx, o, th.ID, w) }},
		{"ExportProfile", func(w io.Writer) error { return s.ExportProfile(ctx, o, w) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(&failingWriter{limit: 100_000}); !errors.Is(err, errWriteFailed) {
				t.Errorf("error = %v, want %v", err, errWriteFailed)
			}
		})
	}
}

func TestExportCancelled(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "cancelled")
	appendNumbered(t, s, o, th.ID, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if err := s.ExportProfile(ctx, o, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("ExportProfile error = %v, want %v", err, context.Canceled)
	}
	if err := s.ExportThreadJSON(ctx, o, th.ID, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("ExportThreadJSON error = %v, want %v", err, context.Canceled)
	}
	if err := s.ExportThreadMarkdown(ctx, o, th.ID, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("ExportThreadMarkdown error = %v, want %v", err, context.Canceled)
	}
}

func TestExportThreadMarkdown(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "Kyoto *plans* #1")
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "Plan **two** days.\n1. Temples\n  - food <3"})
	mustAppend(t, s, o, Message{
		ThreadID: th.ID, Role: RoleAssistant, Content: "# Day 1\n\nFushimi Inari.",
		Parts: []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "run", Input: json.RawMessage("{\"code\":\"```go\\nx\\n```\"}")}},
	})
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleTool, Parts: []Part{{Type: "tool-result", ToolCallID: "call_1", Output: json.RawMessage(`"ok"`)}}})
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "Day 2:", Status: StatusIncomplete})
	failed := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "And day 3?"})
	failed.Status, failed.Error = StatusError, "The backend did not answer.\nTry again."
	if _, err := s.UpdateMessage(context.Background(), o, failed); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	if err := s.ExportThreadMarkdown(context.Background(), o, th.ID, &buf); err != nil {
		t.Fatal(err)
	}
	want := "# Kyoto \\*plans\\* #1\n" +
		"\n" +
		"## You · 2025-03-01T12:00:01Z\n" +
		"\n" +
		"> Plan \\*\\*two\\*\\* days.\\\n" +
		"> 1\\. Temples\\\n" +
		"> &nbsp;&nbsp;\\- food \\<3\n" +
		"\n" +
		"## Assistant · 2025-03-01T12:00:02Z\n" +
		"\n" +
		"> # Day 1\n" +
		">\n" +
		"> Fushimi Inari.\n" +
		"\n" +
		"````json\n" +
		"{\n" +
		"  \"type\": \"tool-call\",\n" +
		"  \"toolCallId\": \"call_1\",\n" +
		"  \"toolName\": \"run\",\n" +
		"  \"input\": {\n" +
		"    \"code\": \"```go\\nx\\n```\"\n" +
		"  }\n" +
		"}\n" +
		"````\n" +
		"\n" +
		"## Tool · 2025-03-01T12:00:03Z\n" +
		"\n" +
		"```json\n" +
		"{\n" +
		"  \"type\": \"tool-result\",\n" +
		"  \"toolCallId\": \"call_1\",\n" +
		"  \"output\": \"ok\"\n" +
		"}\n" +
		"```\n" +
		"\n" +
		"## Assistant · 2025-03-01T12:00:04Z\n" +
		"\n" +
		"*Status: incomplete*\n" +
		"\n" +
		"> Day 2:\n" +
		"\n" +
		"## You · 2025-03-01T12:00:05Z\n" +
		"\n" +
		"*Status: error*\n" +
		"\n" +
		"*Error: The backend did not answer. Try again.*\n" +
		"\n" +
		"> And day 3?\n" +
		"\n"
	if got := buf.String(); got != want {
		t.Errorf("Markdown =\n%s\nwant\n%s", got, want)
	}
}

// markdownHostileTexts are message texts that would change the structure of
// a Markdown document if written into it as they are.
var markdownHostileTexts = []string{
	"# Heading\n## Another heading",
	"   ### indented heading",
	"```\nunclosed fence\n# not a heading inside the fence",
	"````\n```\n# still fenced\n",
	"~~~\n# tilde fence\n",
	"<script>alert(document.cookie)</script>\n# after the script",
	"<div>\n\n# after a blank line in HTML",
	"<!-- comment\n# heading in a comment",
	"line one\r# heading after a lone CR\r\n# heading after CRLF",
	"Setext heading\n===",
	"Setext heading\n---",
	"    indented code\n# heading after it",
	"> quoted\n# heading after the quote",
	"- list item\n\n# heading after the list",
	"| a | b |\n|---|---|\n| 1 | 2 |",
	"trailing backslash \\\n# next",
	"\n\n\n# after blank lines",
	"text\n\u2028# after a line separator",
	"`` code span `` and ``` runs ```` of ````` backticks",
	"[link](javascript:alert(1)) ![img](x.png) <https://example.com>",
	"&amp; &lt;script&gt; &#35; heading",
}

func TestExportMarkdownStructure(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "# <script>alert(1)</script> ```")

	var messages int
	for _, text := range markdownHostileTexts {
		for _, role := range []Role{RoleUser, RoleAssistant, RoleSystem, RoleTool} {
			mustAppend(t, s, o, Message{ThreadID: th.ID, Role: role, Content: text})
			messages++
		}
		mustAppend(t, s, o, Message{
			ThreadID: th.ID, Role: RoleTool,
			Parts: []Part{{Type: "tool-result", Output: mustJSON(t, text)}},
		})
		messages++
	}

	var buf bytes.Buffer
	if err := s.ExportThreadMarkdown(context.Background(), o, th.ID, &buf); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	headings := markdownOutline(t, doc)
	if len(headings) != 1+messages {
		t.Fatalf("document has %d headings, want the title and %d messages:\n%s", len(headings), messages, doc)
	}
	if want := `# \# \<script\>alert(1)\</script\> \` + "`" + `\` + "`" + `\` + "`"; headings[0] != want {
		t.Errorf("title heading = %q, want %q", headings[0], want)
	}
	for i, h := range headings[1:] {
		if !strings.HasPrefix(h, "## ") {
			t.Errorf("heading %d = %q, want a message heading", i+1, h)
		}
	}

	// Text of people is escaped: "<script>" reaches no reader as HTML.
	if !strings.Contains(doc, `> \<script\>alert(document.cookie)\</script\>\`) {
		t.Error("user text with <script> is not escaped")
	}
}

// mustJSON returns v as JSON.
func mustJSON(tb testing.TB, v any) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// markdownOutline reads a document line by line as CommonMark reads its
// top-level blocks, and returns its ATX headings. It fails the test for
// each top-level line that could change the document's structure, which
// the exporter must never write. These are a line that starts an HTML
// block, a setext underline or thematic break, an indented code block, a
// lazy continuation of a block quote, a carriage return, and a fence left
// open.
func markdownOutline(tb testing.TB, doc string) []string {
	tb.Helper()
	if strings.Contains(doc, "\r") {
		tb.Errorf("document contains a carriage return, which Markdown reads as a line ending")
	}
	var (
		headings  []string
		fence     string // the open fence, or ""
		inQuote   bool
		lines     = strings.Split(strings.TrimSuffix(doc, "\n"), "\n")
		indent    = func(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }
		fenceOpen = func(line string) string {
			rest := line[indent(line):]
			for _, c := range []string{"`", "~"} {
				if n := len(rest) - len(strings.TrimLeft(rest, c)); n >= 3 && indent(line) <= 3 {
					return strings.Repeat(c, n)
				}
			}
			return ""
		}
	)
	for i, line := range lines {
		switch {
		case fence != "":
			rest := strings.TrimSpace(line)
			if indent(line) <= 3 && strings.HasPrefix(rest, fence) && strings.Trim(rest, fence[:1]) == "" {
				fence = ""
			}
		case strings.HasPrefix(line, ">"):
			inQuote = true
		case line == "":
			inQuote = false
		case inQuote:
			tb.Errorf("line %d %q continues the block quote before it", i+1, line)
		case indent(line) >= 4 || strings.HasPrefix(line, "\t"):
			tb.Errorf("line %d %q is an indented code block", i+1, line)
		case strings.HasPrefix(strings.TrimLeft(line, " "), "#"):
			rest := strings.TrimLeft(line, " #")
			level := len(strings.TrimLeft(line, " ")) - len(strings.TrimLeft(strings.TrimLeft(line, " "), "#"))
			if level <= 6 && (rest == "" || strings.HasPrefix(strings.TrimLeft(line, " ")[level:], " ")) {
				headings = append(headings, line)
			}
		case fenceOpen(line) != "":
			fence = fenceOpen(line)
		case strings.HasPrefix(strings.TrimLeft(line, " "), "<"):
			tb.Errorf("line %d %q starts an HTML block", i+1, line)
		case strings.Trim(line, "=- ") == "" || strings.Trim(line, "*_ ") == "":
			tb.Errorf("line %d %q is a setext underline or thematic break", i+1, line)
		}
	}
	if fence != "" {
		tb.Errorf("the document ends inside a fence %q", fence)
	}
	return headings
}

func TestEscapeMarkdownLine(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{"plain words", "plain words"},
		{"# Heading", `\# Heading`},
		{"C# and F#", "C# and F#"},
		{"- item", `\- item`},
		{"+ item", `\+ item`},
		{"===", `\===`},
		{"1. first", `1\. first`},
		{"2024) year", `2024\) year`},
		{"3.14 is pi", `3\.14 is pi`},
		{"v1.2", "v1.2"},
		{"*bold* _em_ ~del~", `\*bold\* \_em\_ \~del\~`},
		{"`code`", "\\`code\\`"},
		{"[a](b) <c> & d | e", `\[a\](b) \<c\> \& d \| e`},
		{`back\slash`, `back\\slash`},
		{"    four spaces", "&nbsp;&nbsp;&nbsp;&nbsp;four spaces"},
		{"\tтаб", "&nbsp;&nbsp;&nbsp;&nbsp;таб"},
		{"  - indented item", `&nbsp;&nbsp;\- indented item`},
		{"two\nlines\rand\r\nthree", "two lines and three"},
		{"京都 👩‍👩‍👧 שלום", "京都 👩‍👩‍👧 שלום"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := escapeMarkdownLine(tt.line); got != tt.want {
			t.Errorf("escapeMarkdownLine(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestLongestRun(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"no ticks", 0},
		{"a`b", 1},
		{"``x```y`", 3},
		{"`````", 5},
	}
	for _, tt := range tests {
		if got := longestRun(tt.s, '`'); got != tt.want {
			t.Errorf("longestRun(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

// FuzzMarkdownStructure checks that no message text changes the outline of
// the Markdown document: one heading for the title and one per message.
func FuzzMarkdownStructure(f *testing.F) {
	for _, text := range markdownHostileTexts {
		f.Add(text, true)
		f.Add(text, false)
	}
	f.Fuzz(func(t *testing.T, text string, assistant bool) {
		role := RoleUser
		if assistant {
			role = RoleAssistant
		}
		var buf bytes.Buffer
		md := &markdownWriter{out: bufio.NewWriter(&buf)}
		md.title(Thread{Title: text})
		md.message(Message{Role: role, Content: text, Status: StatusComplete, CreatedAt: testStart})
		md.message(Message{Role: RoleTool, Parts: []Part{{Type: "tool-result", Output: mustJSON(t, text)}}, Status: StatusComplete})
		if err := md.flush(); err != nil {
			t.Fatal(err)
		}
		if headings := markdownOutline(t, buf.String()); len(headings) != 3 {
			t.Errorf("document has %d headings %q, want 3:\n%s", len(headings), headings, buf.String())
		}
	})
}

func BenchmarkExportProfile(b *testing.B) {
	const (
		threads = 100
		each    = 100
	)
	s, _, _ := newStore(b)
	o := newOwner(resourceA)
	for _, id := range bulkThreads(b, s, o, threads) {
		bulkAppend(b, s, o, id, each)
	}
	ctx := context.Background()
	var size int64

	for b.Loop() {
		counter := &countingWriter{}
		if err := s.ExportProfile(ctx, o, counter); err != nil {
			b.Fatal(err)
		}
		size = counter.n
	}
	b.ReportMetric(float64(size)/(1<<20), "doc-MiB")
	b.ReportMetric(float64(threads*each)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
