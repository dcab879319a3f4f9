package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// mustImportProfile imports doc into o and fails the test on an error.
func mustImportProfile(tb testing.TB, s *Store, o Owner, doc []byte) ImportResult {
	tb.Helper()
	result, err := s.ImportProfile(context.Background(), o, bytes.NewReader(doc))
	if err != nil {
		tb.Fatalf("ImportProfile(%q) error: %v", o.ResourceID, err)
	}
	return result
}

// normalizedProfile decodes a profile document and removes what an import
// changes on purpose: the export time, ids, the resource id and client
// request ids. A thread working memory document names its thread by its
// position in "threads" instead of its id.
func normalizedProfile(tb testing.TB, doc []byte) map[string]any {
	tb.Helper()
	var p map[string]any
	if err := json.Unmarshal(doc, &p); err != nil {
		tb.Fatalf("decode profile document: %v", err)
	}
	delete(p, "exportedAt")
	position := map[string]int{}
	for i, entry := range p["threads"].([]any) {
		thread := entry.(map[string]any)["thread"].(map[string]any)
		position[thread["id"].(string)] = i
		delete(thread, "id")
		delete(thread, "resourceId")
		for _, m := range entry.(map[string]any)["messages"].([]any) {
			for _, key := range []string{"id", "threadId", "clientRequestId"} {
				delete(m.(map[string]any), key)
			}
		}
	}
	wm := p["workingMemory"].(map[string]any)
	for _, doc := range append([]any{wm["resource"]}, wm["threads"].([]any)...) {
		d := doc.(map[string]any)
		if id, ok := d["threadId"].(string); ok {
			d["threadId"] = position[id]
		}
		for _, v := range d["versions"].([]any) {
			delete(v.(map[string]any), "threadId")
		}
	}
	return p
}

// wantNoPlaintext fails the test if the data file at path contains any of
// the sentences in a form that is not sealed.
func wantNoPlaintext(tb testing.TB, path string, sentences []string) {
	tb.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for _, sentence := range sentences {
		for form, encoded := range encodings(sentence) {
			if bytes.Contains(file, encoded) {
				tb.Errorf("data file contains %q (%s)", sentence, form)
			}
		}
	}
}

func TestImportProfileRoundTrip(t *testing.T) {
	source, _, _ := newStore(t)
	stepClock(source)
	a := newOwner(resourceA)
	f := fillProfile(t, source, a)
	first := exportProfile(t, source, a)

	target, db, path := newStore(t)
	b := newOwner(resourceB)
	result := mustImportProfile(t, target, b, first)

	want := ImportResult{Threads: 3, Messages: 10, WorkingMemory: 2, ThreadIDs: result.ThreadIDs, Problems: []ImportProblem{}}
	if !reflect.DeepEqual(result, want) {
		t.Errorf("result = %+v, want %+v", result, want)
	}
	if encoded := string(mustJSON(t, result)); !strings.Contains(encoded, `"problems":[]`) {
		t.Errorf("result encodes as %s, want an empty list of problems", encoded)
	}
	for _, id := range result.ThreadIDs {
		if !ValidID(id) || slices.Contains(threadIDs(f.threads), id) {
			t.Errorf("imported thread id %q is not a new valid id", id)
		}
	}

	// Exporting the imported profile gives the same document, but for ids.
	second := exportProfile(t, target, b)
	if got, want := normalizedProfile(t, second), normalizedProfile(t, first); !reflect.DeepEqual(got, want) {
		t.Errorf("export after import =\n%s\nwant the first export\n%s", second, first)
	}

	// The imported messages read back with every field, under new ids.
	for i, id := range result.ThreadIDs {
		got := mustLast(t, target, b, id, MaxLastMessages)
		want := slices.Clone(f.messages[i])
		for j := range want {
			if got[j].ID == want[j].ID || !ValidID(got[j].ID) {
				t.Errorf("thread %d message %d id = %q, want a new id", i, j, got[j].ID)
			}
			want[j].ID, want[j].ThreadID, want[j].ClientRequestID = got[j].ID, id, ""
		}
		wantMessages(t, got, want)
		th := mustThread(t, target, b, id)
		wantThread(t, th, Thread{
			ID: id, ResourceID: resourceB, Title: f.threads[i].Title, CreatedAt: f.threads[i].CreatedAt,
			UpdatedAt: f.threads[i].UpdatedAt, Metadata: f.threads[i].Metadata, MessageCount: f.threads[i].MessageCount,
		})
	}
	if wm := mustWorkingMemory(t, target, b, ""); wm.Version != 2 || wm.Content != mustWorkingMemory(t, source, a, "").Content {
		t.Errorf("imported resource working memory = %+v, want version 2 with the source's content", wm)
	}

	// Everything imported is sealed in the data file.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantNoPlaintext(t, path, f.sentences)
}

func TestImportProfileThreadDocument(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	f := fillProfile(t, s, a)
	var doc bytes.Buffer
	if err := s.ExportThreadJSON(ctx, a, f.threads[0].ID, &doc); err != nil {
		t.Fatal(err)
	}

	result := mustImportProfile(t, s, b, doc.Bytes())
	if result.Threads != 1 || result.Messages != len(f.messages[0]) || result.WorkingMemory != 0 || len(result.Problems) != 0 {
		t.Fatalf("result = %+v, want 1 thread with %d messages", result, len(f.messages[0]))
	}
	got := mustLast(t, s, b, result.ThreadIDs[0], MaxLastMessages)
	want := slices.Clone(f.messages[0])
	for j := range want {
		want[j].ID, want[j].ThreadID, want[j].ClientRequestID = got[j].ID, result.ThreadIDs[0], ""
	}
	wantMessages(t, got, want)
	if th := mustThread(t, s, b, result.ThreadIDs[0]); th.Title != f.threads[0].Title {
		t.Errorf("title = %q, want %q", th.Title, f.threads[0].Title)
	}
}

// TestImportProfileFrozenV1 imports testdata/hearth-profile-v1.json, which
// ExportProfile wrote in format version 1. The file is frozen, so that a
// change that can no longer import what an earlier version exported fails
// here. Fix the code rather than the expected values.
func TestImportProfileFrozenV1(t *testing.T) {
	doc, err := os.ReadFile("testdata/hearth-profile-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	result := mustImportProfile(t, s, o, doc)
	if want := (ImportResult{Threads: 2, Messages: 5, WorkingMemory: 2, ThreadIDs: result.ThreadIDs, Problems: []ImportProblem{}}); !reflect.DeepEqual(result, want) {
		t.Fatalf("result = %+v, want %+v", result, want)
	}
	at := func(seconds int) time.Time { return testStart.Add(time.Duration(seconds) * time.Second) }

	kyoto := mustThread(t, s, o, result.ThreadIDs[0])
	wantThread(t, kyoto, Thread{
		ID: kyoto.ID, ResourceID: resourceA, Title: "Frozen export 京都 🚄", CreatedAt: at(0), UpdatedAt: at(6),
		Metadata: json.RawMessage(`{"pinned":true}`), MessageCount: 5,
	})
	got := mustLast(t, s, o, kyoto.ID, 10)
	want := []Message{
		{Role: RoleUser, Content: "Plan two days in Kyoto, please 🙏 e\u0301", CreatedAt: at(1), Status: StatusComplete},
		{
			Role: RoleAssistant, CreatedAt: at(2), Status: StatusComplete, Model: "llama3.2", PromptTokens: 41, ReplyTokens: 9,
			Parts: []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "weather", Input: json.RawMessage(`{"city":"京都","days":2}`)}},
		},
		{
			Role: RoleTool, CreatedAt: at(3), Status: StatusComplete,
			Parts: []Part{{Type: "tool-result", ToolCallID: "call_1", ToolName: "weather", Output: json.RawMessage(`{"forecast":"晴れ","high":21}`)}},
		},
		{Role: RoleAssistant, Content: "Day 1: 伏見稲荷大社.\n\n# Day 2\nArashiyama 🎋", CreatedAt: at(4), Status: StatusIncomplete, Model: "llama3.2"},
		{Role: RoleUser, Content: "And day 3?", CreatedAt: at(5), Status: StatusError, Error: "The model backend did not answer in time."},
	}
	for i := range want {
		if i < len(got) {
			want[i].ID, want[i].ThreadID = got[i].ID, kyoto.ID
		}
	}
	wantMessages(t, got, want)

	empty := mustThread(t, s, o, result.ThreadIDs[1])
	wantThread(t, empty, Thread{ID: empty.ID, ResourceID: resourceA, Title: "Empty thread", CreatedAt: at(7), UpdatedAt: at(7), Metadata: json.RawMessage(`{}`)})

	history, err := s.WorkingMemoryHistory(context.Background(), o, "")
	if err != nil {
		t.Fatal(err)
	}
	wantHistory := []WorkingMemory{
		{Content: "# About the person\n- Likes trains 🚄\n", Version: 2, UpdatedAt: at(9)},
		{Content: "# About the person\n- Likes trains\n", Version: 1, UpdatedAt: at(8)},
	}
	if !reflect.DeepEqual(history, wantHistory) {
		t.Errorf("resource working memory history = %+v, want %+v", history, wantHistory)
	}
	wantThreadMemory := WorkingMemory{ThreadID: kyoto.ID, Content: "# This trip\n- Kyoto\n", Version: 1, UpdatedAt: at(10)}
	if wm := mustWorkingMemory(t, s, o, kyoto.ID); !reflect.DeepEqual(wm, wantThreadMemory) {
		t.Errorf("thread working memory = %+v, want %+v", wm, wantThreadMemory)
	}
}

// itemsDocument is a hand-written profile document with one item of each
// kind that the import leaves out or changes, next to good items.
var itemsDocument = `{"format":"hearth-profile","version":1,"exportedAt":"2025-01-01T00:00:00Z","memberOfALaterRelease":{"x":[1,2]},
"threads":[
{"thread":{"id":"t0","title":"Good thread","createdAt":"2024-01-01T10:00:00Z","updatedAt":"2024-01-01T11:00:00Z","metadata":{"pinned":true}},
 "messages":[
  {"id":"m0","role":"user","content":"first","createdAt":"2024-01-01T10:00:01Z","clientRequestId":"req-9"},
  {"role":"admin","content":"bad role","createdAt":"2024-01-01T10:00:02Z"},
  {"role":"assistant","content":"bad status","status":"done"},
  {"role":"assistant","content":5},
  {"role":"user","damaged":true},
  {"role":"user","content":"from 1960","createdAt":"1960-01-01T00:00:00Z"},
  {"role":"assistant","content":"no time","status":"incomplete"},
  {"role":"assistant","content":"` + strings.Repeat("a", MaxContentBytes+1) + `"},
  {"role":"tool","parts":[{"type":"tool-result","toolCallId":"c1","output":{"ok":true}}],"createdAt":"2024-01-01T10:00:09Z"}
 ]},
{"thread":{"id":"t1","title":"` + strings.Repeat("x", MaxTitleLength+1) + `"},"messages":[{"role":"user","content":"left out with its thread"}]},
{"thread":{"id":"t2","title":"line\nbreak"},"messages":[]},
{"thread":{"id":"t3","title":"Meta","metadata":[1,2]},"messages":[]},
{"thread":{"id":"t4","damaged":true,"title":""},"messages":[{"role":"user","content":"readable"}]},
{"thread":{"id":"t5","damaged":true},"messages":[{"role":"user","damaged":true}]},
{"thread":"not an object","messages":[]},
{"messages":[{"role":"user","content":"orphan"}]},
{"thread":{"id":"t8","title":"From the future","createdAt":"2300-01-01T00:00:00Z"},"messages":[]},
{"thread":{"id":"t9","title":"  No times  ","metadata":null},"messages":[{"role":"user","content":"hello"}]}
],
"workingMemory":{
 "resource":{"versions":[
  {"content":"v1","version":7,"updatedAt":"2024-02-01T00:00:00Z"},
  {"damaged":true,"version":8},
  {"content":"` + strings.Repeat("w", MaxWorkingMemoryBytes+1) + `","version":9},
  {"content":"v2","version":10,"updatedAt":"2024-02-02T00:00:00Z"}
 ]},
 "threads":[
  {"threadId":"t0","versions":[{"content":"t0 notes","version":1,"updatedAt":"2024-01-01T12:00:00Z"}]},
  {"threadId":"t1","versions":[{"content":"t1 notes","version":1}]},
  {"threadId":"nope","versions":[{"content":"x","version":1}]},
  {"threadId":"t0","versions":[{"content":"second","version":1}]},
  {"threadId":"t9","versions":[{"damaged":true}]}
 ]}
}`

func TestImportProfileItems(t *testing.T) {
	s, db, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	result := mustImportProfile(t, s, o, []byte(itemsDocument))

	// Every problem, in the order the import found it: items while the file
	// is read, threads and their working memory when it was read whole.
	wantProblems := []struct{ pointer, reason string }{
		{"/threads/0/messages/1", `invalid message role "admin"`},
		{"/threads/0/messages/2", `invalid message status "done"`},
		{"/threads/0/messages/3", "not in the expected form"},
		{"/threads/0/messages/4", "damaged"},
		{"/threads/0/messages/5", "1960-01-01T00:00:00Z is out of range"},
		{"/threads/0/messages/7", "the limit is 1048576 bytes"},
		{"/threads/5/messages/0", "damaged"},
		{"/workingMemory/resource/versions/1", "damaged"},
		{"/workingMemory/resource/versions/2", "the limit is 65536"},
		{"/workingMemory/threads/4/versions/0", "damaged"},
		{"/threads/1", "The title has 201 characters; use at most 200. The thread with its messages was left out."},
		{"/threads/2", "control or formatting character U+000A"},
		{"/threads/3", "must be a JSON object"},
		{"/threads/4", `imported as "New Conversation"`},
		{"/threads/5", "no readable messages"},
		{"/threads/6", "not in the expected form"},
		{"/threads/7", `no "thread" member`},
		{"/threads/8", "out of range"},
		{"/workingMemory/threads/1", "thread that was left out"},
		{"/workingMemory/threads/2", `names the thread "nope"`},
		{"/workingMemory/threads/3", "only the first was imported"},
	}
	if len(result.Problems) != len(wantProblems) {
		t.Errorf("got %d problems, want %d", len(result.Problems), len(wantProblems))
	}
	for i, p := range result.Problems {
		if i >= len(wantProblems) {
			t.Errorf("extra problem %+v", p)
			continue
		}
		if p.Pointer != wantProblems[i].pointer || !strings.Contains(p.Reason, wantProblems[i].reason) {
			t.Errorf("problem %d = %+v, want pointer %q and a reason with %q", i, p, wantProblems[i].pointer, wantProblems[i].reason)
		}
	}
	result.Problems = nil
	want := ImportResult{
		ThreadIDs: result.ThreadIDs, Threads: 3, Messages: 5, WorkingMemory: 2,
		ThreadsSkipped: 7, MessagesSkipped: 9, WorkingMemorySkipped: 4,
	}
	if !reflect.DeepEqual(result, want) {
		t.Errorf("result = %+v, want %+v", result, want)
	}
	if len(result.ThreadIDs) != 3 {
		t.Fatalf("imported %d threads, want 3", len(result.ThreadIDs))
	}
	good, damaged, untimed := result.ThreadIDs[0], result.ThreadIDs[1], result.ThreadIDs[2]
	date := func(day, hour, minute, second int) time.Time {
		return time.Date(2024, 1, day, hour, minute, second, 0, time.UTC)
	}

	// The good thread keeps its good messages, in order, with their times.
	wantThread(t, mustThread(t, s, o, good), Thread{
		ID: good, ResourceID: resourceA, Title: "Good thread", CreatedAt: date(1, 10, 0, 0), UpdatedAt: date(1, 11, 0, 0),
		Metadata: json.RawMessage(`{"pinned":true}`), MessageCount: 3,
	})
	got := mustLast(t, s, o, good, 10)
	wantGood := []Message{
		{Role: RoleUser, Content: "first", CreatedAt: date(1, 10, 0, 1), Status: StatusComplete},
		{Role: RoleAssistant, Content: "no time", CreatedAt: date(1, 10, 0, 1), Status: StatusIncomplete},
		{Role: RoleTool, CreatedAt: date(1, 10, 0, 9), Status: StatusComplete, Parts: []Part{{Type: "tool-result", ToolCallID: "c1", Output: json.RawMessage(`{"ok":true}`)}}},
	}
	for i := range min(len(got), len(wantGood)) {
		wantGood[i].ID, wantGood[i].ThreadID = got[i].ID, good
	}
	wantMessages(t, got, wantGood)
	if wm := mustWorkingMemory(t, s, o, good); wm.Content != "t0 notes" || wm.Version != 1 || !wm.UpdatedAt.Equal(date(1, 12, 0, 0)) {
		t.Errorf("good thread's working memory = %+v, want version 1 %q", wm, "t0 notes")
	}

	// A damaged thread with a readable message gets the default title, and a
	// thread without times gets the time of the import.
	if th := mustThread(t, s, o, damaged); th.Title != DefaultThreadTitle || th.MessageCount != 1 {
		t.Errorf("damaged thread = %+v, want %q with 1 message", th, DefaultThreadTitle)
	}
	th := mustThread(t, s, o, untimed)
	if th.Title != "No times" || string(th.Metadata) != "{}" || !th.CreatedAt.Equal(testStart) || !th.UpdatedAt.Equal(testStart) {
		t.Errorf("thread without times = %+v, want %q created and updated at %v", th, "No times", testStart)
	}
	if msgs := mustLast(t, s, o, untimed, 10); len(msgs) != 1 || !msgs[0].CreatedAt.Equal(testStart) {
		t.Errorf("message without a time = %+v, want one at %v", msgs, testStart)
	}

	// The resource's document keeps its good versions, numbered anew.
	history, err := s.WorkingMemoryHistory(context.Background(), o, "")
	if err != nil {
		t.Fatal(err)
	}
	wantHistory := []WorkingMemory{
		{Content: "v2", Version: 2, UpdatedAt: time.Date(2024, 2, 2, 0, 0, 0, 0, time.UTC)},
		{Content: "v1", Version: 1, UpdatedAt: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
	}
	if !reflect.DeepEqual(history, wantHistory) {
		t.Errorf("resource working memory history = %+v, want %+v", history, wantHistory)
	}

	// Nothing of the left-out threads reached the file.
	for _, line := range dumpDB(t, db) {
		if strings.Contains(line, "t1 notes") || len(line) > 4*MaxContentBytes {
			t.Errorf("data file has a record of a left-out item: %.200s", line)
		}
	}
	if n := len(mustThreads(t, s, o)); n != 3 {
		t.Errorf("Threads = %d threads, want 3", n)
	}
}

func TestImportProfileKeepsWorkingMemory(t *testing.T) {
	source, _, _ := newStore(t)
	a := newOwner(resourceA)
	fillProfile(t, source, a)
	doc := exportProfile(t, source, a)

	s, _, _ := newStore(t)
	b := newOwner(resourceB)
	mine := mustReplace(t, s, b, WorkingMemoryUpdate{Content: "# My own notes\n"})

	result := mustImportProfile(t, s, b, doc)
	if result.WorkingMemory != 1 || result.WorkingMemorySkipped != 1 {
		t.Errorf("working memory imported, skipped = %d, %d, want 1 (the thread's), 1 (the resource's)", result.WorkingMemory, result.WorkingMemorySkipped)
	}
	wantProblems := []ImportProblem{{Pointer: "/workingMemory/resource", Reason: "This profile already has working memory, so the imported document was left out. Its own is kept."}}
	if !reflect.DeepEqual(result.Problems, wantProblems) {
		t.Errorf("problems = %+v, want %+v", result.Problems, wantProblems)
	}
	if wm := mustWorkingMemory(t, s, b, ""); !reflect.DeepEqual(wm, mine) {
		t.Errorf("resource working memory after the import = %+v, want it unchanged %+v", wm, mine)
	}
	if wm := mustWorkingMemory(t, s, b, result.ThreadIDs[0]); wm.Version != 1 || wm.Content == "" {
		t.Errorf("thread working memory = %+v, want version 1 imported", wm)
	}
}

func TestImportProfileWorkingMemoryHistory(t *testing.T) {
	const versions = 60
	var doc strings.Builder
	doc.WriteString(`{"format":"hearth-profile","version":1,"threads":[],"workingMemory":{"resource":{"versions":[`)
	for v := 1; v <= versions; v++ {
		if v > 1 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, `{"content":"version %d","version":%d,"updatedAt":"%s"}`, v, v, testStart.Add(time.Duration(v)*time.Minute).Format(time.RFC3339))
	}
	doc.WriteString("]}}}")

	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	if result := mustImportProfile(t, s, o, []byte(doc.String())); result.WorkingMemory != 1 {
		t.Fatalf("result = %+v, want 1 working memory document", result)
	}
	history, err := s.WorkingMemoryHistory(context.Background(), o, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != WorkingMemoryHistory+1 {
		t.Fatalf("history has %d versions, want %d", len(history), WorkingMemoryHistory+1)
	}
	for i, wm := range history {
		source := versions - i
		if wm.Version != WorkingMemoryHistory+1-i || wm.Content != fmt.Sprintf("version %d", source) || !wm.UpdatedAt.Equal(testStart.Add(time.Duration(source)*time.Minute)) {
			t.Errorf("history entry %d = %+v, want version %d with the content of source version %d", i, wm, WorkingMemoryHistory+1-i, source)
		}
	}
}

func TestImportProfileRejected(t *testing.T) {
	source, _, _ := newStore(t)
	a := newOwner(resourceA)
	fillProfile(t, source, a)
	export := exportProfile(t, source, a)

	tests := []struct {
		name   string
		doc    string
		reason string
	}{
		{"empty", "", "The file is empty."},
		{"white space", " \n\t", "The file is empty."},
		{"not JSON", "Hello, Hearth", "not valid JSON"},
		{"cut off", string(export[:len(export)/2]), "cut off"},
		{"list", "[]", "ChatGPT"},
		{"string", `"hearth-profile"`, "not a Hearth export"},
		{"no format", `{"version":1,"threads":[]}`, "no format name"},
		{"other format", `{"format":"mastodon-archive","version":1}`, `"mastodon-archive"`},
		{"format not text", `{"format":5,"version":1}`, "format name is not in the expected form"},
		{"newer version", `{"format":"hearth-profile","version":2,"threads":[{"thread":{},"messages":{"a":1}}]}`, "newer version of Hearth (format version 2)"},
		{"no version", `{"format":"hearth-profile","threads":[]}`, "no format version"},
		{"version 0", `{"format":"hearth-profile","version":0}`, "no format version"},
		{"negative version", `{"format":"hearth-profile","version":-1}`, "format version -1, but this version of Hearth reads only version 1"},
		{"version as text", `{"format":"hearth-profile","version":"1"}`, "format version is not in the expected form"},
		{"data after the document", `{"format":"hearth-profile","version":1}{}`, "more data after the end"},
		{"threads not a list", `{"format":"hearth-profile","version":1,"threads":{}}`, `"threads" is not a list`},
		{"messages not a list", `{"format":"hearth-profile","version":1,"threads":[{"messages":{}}]}`, "/threads/0/messages is not a list"},
		{"thread document without its thread", `{"format":"hearth-thread","version":1,"messages":[]}`, `without its "thread"`},
		{"thread document with threads", `{"format":"hearth-thread","version":1,"thread":{},"threads":[]}`, `"threads" or "workingMemory"`},
		{"profile document with a thread", `{"format":"hearth-profile","version":1,"thread":{}}`, `"thread" or "messages"`},
		{"a profile and then the document cut off", `{"format":"hearth-profile","version":1,"threads":[{"thread":{"title":"a"}}`, "cut off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db, _ := newStore(t)
			before := dumpDB(t, db)
			result, err := s.ImportProfile(context.Background(), newOwner(resourceB), strings.NewReader(tt.doc))
			wantInputError(t, err, "file")
			var ie *InputError
			if errors.As(err, &ie) && !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", ie.Reason, tt.reason)
			}
			if !reflect.DeepEqual(result, ImportResult{}) {
				t.Errorf("result = %+v, want the zero result", result)
			}
			if after := dumpDB(t, db); !slices.Equal(after, before) {
				t.Error("a rejected file changed the data file")
			}
		})
	}
}

// spaces is an endless reader of spaces, which JSON reads as white space.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestImportReaderLimit(t *testing.T) {
	const limit = 10
	tests := []struct {
		name    string
		input   func() io.Reader
		want    string
		wantErr bool
	}{
		{"under the limit", func() io.Reader { return strings.NewReader("123456789") }, "123456789", false},
		{"exactly the limit", func() io.Reader { return strings.NewReader("1234567890") }, "1234567890", false},
		{"one byte more", func() io.Reader { return strings.NewReader("12345678901") }, "", true},
		{"endless", func() io.Reader { return spaces{} }, "", true},
	}
	for _, tt := range tests {
		// Whole reads cross the limit inside one read, and one byte at a
		// time reaches it exactly.
		for _, oneByte := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, one byte per read %v", tt.name, oneByte), func(t *testing.T) {
				var r io.Reader = &importReader{r: io.LimitReader(tt.input(), 100), remaining: limit}
				if oneByte {
					r = oneByteReader{r}
				}
				got, err := io.ReadAll(r)
				if tt.wantErr {
					wantInputError(t, err, "file")
					return
				}
				if err != nil || string(got) != tt.want {
					t.Errorf("read %q, %v, want %q, nil", got, err, tt.want)
				}
			})
		}
	}
}

// oneByteReader reads at most one byte per call.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	return o.r.Read(p[:min(len(p), 1)])
}

func TestImportProfileSizeLimit(t *testing.T) {
	s, db, _ := newStore(t)
	before := dumpDB(t, db)
	endless := io.MultiReader(strings.NewReader(`{"format":"hearth-profile","version":1,"threads":[`), spaces{})
	_, err := s.ImportProfile(context.Background(), newOwner(resourceA), endless)
	wantInputError(t, err, "file")
	if err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Errorf("error = %v, want one about the 64 MiB limit", err)
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("a rejected file changed the data file")
	}
}

func TestImportProfileCountLimits(t *testing.T) {
	tooManyThreads := `{"format":"hearth-profile","version":1,"threads":[` +
		strings.Repeat(`{"thread":{"title":"t"},"messages":[]},`, MaxImportThreads) + `{"thread":{"title":"t"},"messages":[]}]}`
	tooManyMessages := `{"format":"hearth-thread","version":1,"thread":{"title":"t"},"messages":[` +
		strings.Repeat(`{"role":"user","content":"m"},`, MaxImportMessages) + `{"role":"user","content":"m"}]}`
	tooManyDocuments := `{"format":"hearth-profile","version":1,"threads":[],"workingMemory":{"threads":[` +
		strings.Repeat(`{"threadId":"t","versions":[]},`, MaxImportThreads) + `{"threadId":"t","versions":[]}]}}`

	s, db, _ := newStore(t)
	before := dumpDB(t, db)
	for name, tt := range map[string]struct{ doc, reason string }{
		"threads":                  {tooManyThreads, "more than 10000 threads"},
		"messages":                 {tooManyMessages, "more than 500000 messages"},
		"working memory documents": {tooManyDocuments, "more than 10000 thread working memory documents"},
	} {
		_, err := s.ImportProfile(context.Background(), newOwner(resourceA), strings.NewReader(tt.doc))
		wantInputError(t, err, "file")
		if err == nil || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("too many %s: error = %v, want one with %q", name, err, tt.reason)
		}
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("a rejected file changed the data file")
	}
}

func TestImportProfileProblemLimit(t *testing.T) {
	const bad = MaxImportProblems + 5
	doc := `{"format":"hearth-thread","version":1,"thread":{"title":"t"},"messages":[` +
		strings.Repeat(`{"role":"nobody"},`, bad) + `{"role":"user","content":"kept"}]}`
	s, _, _ := newStore(t)
	result := mustImportProfile(t, s, newOwner(resourceA), []byte(doc))
	if len(result.Problems) != MaxImportProblems || result.ProblemsOmitted != 5 || result.MessagesSkipped != bad || result.Messages != 1 {
		t.Errorf("result lists %d problems, omits %d, skipped %d, imported %d messages, want %d, 5, %d, 1",
			len(result.Problems), result.ProblemsOmitted, result.MessagesSkipped, result.Messages, MaxImportProblems, bad)
	}
}

func TestImportProfileRefusedCalls(t *testing.T) {
	source, _, _ := newStore(t)
	a := newOwner(resourceA)
	fillProfile(t, source, a)
	doc := exportProfile(t, source, a)

	s, db, _ := newStore(t)
	before := dumpDB(t, db)
	if _, err := s.ImportProfile(context.Background(), Owner{ResourceID: resourceB}, bytes.NewReader(doc)); err == nil {
		t.Error("ImportProfile without a key error = nil, want an error")
	}
	if _, err := s.ImportChatGPT(context.Background(), Owner{Key: a.Key}, bytes.NewReader(doc)); err == nil {
		t.Error("ImportChatGPT without a resource id error = nil, want an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ImportProfile(ctx, newOwner(resourceB), bytes.NewReader(doc)); !errors.Is(err, context.Canceled) {
		t.Errorf("ImportProfile with a cancelled context error = %v, want %v", err, context.Canceled)
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("refused imports changed the data file")
	}
}

// failingReader returns data and then fails.
type failingReader struct{ data *strings.Reader }

var errReadFailed = errors.New("connection reset")

func (r failingReader) Read(p []byte) (int, error) {
	if r.data.Len() == 0 {
		return 0, errReadFailed
	}
	return r.data.Read(p)
}

func TestImportProfileReadError(t *testing.T) {
	s, db, _ := newStore(t)
	before := dumpDB(t, db)
	r := failingReader{strings.NewReader(`{"format":"hearth-profile","version":1,"threads":[{"thread":{"title":"a"},"messages":[]}`)}
	if _, err := s.ImportProfile(context.Background(), newOwner(resourceA), r); !errors.Is(err, errReadFailed) {
		t.Errorf("error = %v, want %v", err, errReadFailed)
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("a failed read changed the data file")
	}
}

func TestImportProfileTwice(t *testing.T) {
	source, _, _ := newStore(t)
	a := newOwner(resourceA)
	fillProfile(t, source, a)
	doc := exportProfile(t, source, a)

	s, _, _ := newStore(t)
	b := newOwner(resourceB)
	first := mustImportProfile(t, s, b, doc)
	second := mustImportProfile(t, s, b, doc)
	if second.Threads != first.Threads || second.WorkingMemorySkipped != 1 {
		t.Errorf("second import = %+v, want %d new threads and the resource's working memory skipped", second, first.Threads)
	}
	if n := len(mustThreads(t, s, b)); n != 2*first.Threads {
		t.Errorf("Threads after two imports = %d, want %d: an import always creates new threads", n, 2*first.Threads)
	}
}

// FuzzImportProfile checks that any file is imported or rejected with an
// *InputError, and that what is imported reads back.
func FuzzImportProfile(f *testing.F) {
	frozen, err := os.ReadFile("testdata/hearth-profile-v1.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frozen)
	f.Add([]byte(`{"format":"hearth-thread","version":1,"thread":{"title":"a"},"messages":[{"role":"user","content":"b"}]}`))
	f.Add([]byte(`{"format":"hearth-profile","version":1,"threads":[{"thread":{"id":"x"},"messages":[{}]}],"workingMemory":{"threads":[{"threadId":"x","versions":[{"content":"c"}]}]}}`))
	s, _, _ := newStore(f)

	f.Fuzz(func(t *testing.T, doc []byte) {
		o := newOwner("user_fuzz_" + NewID())
		result, err := s.ImportProfile(context.Background(), o, bytes.NewReader(doc))
		var ie *InputError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("error = %v (%T), want nil or *InputError", err, err)
		}
		if len(result.ThreadIDs) != result.Threads {
			t.Errorf("result has %d thread ids for %d threads", len(result.ThreadIDs), result.Threads)
		}
		messages := 0
		for _, id := range result.ThreadIDs {
			msgs, err := s.LastMessages(context.Background(), o, id, MaxLastMessages)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if m.Damaged {
					t.Errorf("imported message %s is damaged", m.ID)
				}
			}
			messages += len(msgs)
		}
		if messages != result.Messages {
			t.Errorf("read back %d messages, want the %d imported", messages, result.Messages)
		}
	})
}

func BenchmarkImportProfile(b *testing.B) {
	const (
		threads = 100
		each    = 100
	)
	source, _, _ := newStore(b)
	a := newOwner(resourceA)
	for _, id := range bulkThreads(b, source, a, threads) {
		bulkAppend(b, source, a, id, each)
	}
	doc := exportProfile(b, source, a)
	s, _, _ := newStore(b)
	ctx := context.Background()

	for b.Loop() {
		result, err := s.ImportProfile(ctx, newOwner("user_"+NewID()), bytes.NewReader(doc))
		if err != nil {
			b.Fatal(err)
		}
		if result.Messages != threads*each {
			b.Fatalf("imported %d messages, want %d", result.Messages, threads*each)
		}
	}
	b.ReportMetric(float64(len(doc))/(1<<20), "doc-MiB")
	b.ReportMetric(float64(threads*each)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// A reply exported while it was being written is imported as a reply no one
// writes: not streaming, and not found by RecoverInterrupted.
func TestImportClearsStreaming(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	th := mustCreateThread(t, s, a, "half written")
	mustAppend(t, s, a, Message{ThreadID: th.ID, Role: RoleUser, Content: "tell me a story"})
	mustAppend(t, s, a, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "Once upon", Status: StatusIncomplete, Streaming: true})
	var doc bytes.Buffer
	if err := s.ExportThreadJSON(ctx, a, th.ID, &doc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc.Bytes(), []byte(`"streaming":true`)) {
		t.Fatalf("the export does not mark the reply as streaming: %s", doc.Bytes())
	}

	result := mustImportProfile(t, s, b, doc.Bytes())
	got := mustLast(t, s, b, result.ThreadIDs[0], MaxLastMessages)
	if len(got) != 2 {
		t.Fatalf("imported %d messages, want 2", len(got))
	}
	if got[1].Streaming {
		t.Error("the imported reply is marked streaming")
	}
	if got[1].Status != StatusIncomplete || got[1].Content != "Once upon" {
		t.Errorf("imported reply = %q with status %q, want the text and status kept", got[1].Content, got[1].Status)
	}
	// Only the original reply, still streaming in A, is left unfinished.
	n, err := s.RecoverInterrupted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("RecoverInterrupted marked %d replies, want only the original one", n)
	}
}
