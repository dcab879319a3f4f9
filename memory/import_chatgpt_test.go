package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// mustImportChatGPT imports doc into o and fails the test on an error.
func mustImportChatGPT(tb testing.TB, s *Store, o Owner, doc []byte) ImportResult {
	tb.Helper()
	result, err := s.ImportChatGPT(context.Background(), o, bytes.NewReader(doc))
	if err != nil {
		tb.Fatalf("ImportChatGPT(%q) error: %v", o.ResourceID, err)
	}
	return result
}

// TestImportChatGPT imports testdata/chatgpt-conversations.json, a
// hand-written export with six conversations:
//
//  0. Lisbon: a regenerated reply and an edited question, each a branch,
//     and the hidden system prompt.
//  1. A photo: a multimodal question, a reply without create_time, code
//     run by the python tool, a reply still in progress, and no
//     conversation create_time.
//  2. A title of 220 characters with a line break, and Unicode text.
//  3. An empty conversation: only the hidden system prompt.
//  4. A null title, hidden custom instructions and a "thoughts" message.
//  5. A null current_node, with two replies to choose from.
func TestImportChatGPT(t *testing.T) {
	doc, err := os.ReadFile("testdata/chatgpt-conversations.json")
	if err != nil {
		t.Fatal(err)
	}
	s, db, path := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	result := mustImportChatGPT(t, s, o, doc)

	want := ImportResult{
		ThreadIDs: result.ThreadIDs, Threads: 5, Messages: 15, ThreadsSkipped: 1, MessagesSkipped: 1,
		Problems: []ImportProblem{
			{Pointer: "/3", Reason: "The conversation has no messages to import, so it was left out."},
			{Pointer: "/4/mapping/think-thoughts", Reason: `The message has content of type "thoughts", which is not imported, so it was left out.`},
		},
	}
	if !reflect.DeepEqual(result, want) {
		t.Fatalf("result = %+v, want %+v", result, want)
	}

	at := func(month, day, hour, minute, second, micro int) time.Time {
		return time.Date(2024, time.Month(month), day, hour, minute, second, micro*1000, time.UTC)
	}
	type expectedThread struct {
		title            string
		created, updated time.Time
		messages         []Message
	}
	threads := []expectedThread{
		{
			title: "Lisbon weekend 🇵🇹", created: at(5, 1, 11, 59, 59, 500_000), updated: at(5, 1, 12, 1, 50, 250_000),
			messages: []Message{
				{Role: RoleUser, Content: "Plan a weekend in Lisbon, please. Bom dia! ☀️", CreatedAt: at(5, 1, 12, 0, 0, 125_000)},
				{Role: RoleAssistant, Model: "gpt-4o", Content: "**Day 1:** Alfama and *pastéis de nata*.\n**Day 2:** Belém and the LX Factory.", CreatedAt: at(5, 1, 12, 0, 30, 750_000)},
				{Role: RoleUser, Content: "And where should we eat on Saturday?", CreatedAt: at(5, 1, 12, 1, 40, 0)},
				{Role: RoleAssistant, Model: "gpt-4o", Content: "Try Taberna da Rua das Flores.", CreatedAt: at(5, 1, 12, 1, 50, 250_000)},
			},
		},
		{
			title: "Photo of my cat", created: at(6, 1, 12, 0, 0, 0), updated: at(6, 1, 12, 0, 15, 123_456),
			messages: []Message{
				{Role: RoleUser, Content: "[Image not imported]\n\nWhat breed is this cat?", CreatedAt: at(6, 1, 12, 0, 0, 0)},
				{Role: RoleAssistant, Model: "gpt-4o", Content: "It looks like a British Shorthair.", CreatedAt: at(6, 1, 12, 0, 0, 0)},
				{Role: RoleAssistant, Model: "gpt-4o", Content: "```python\nprint(\"cat\" * 3)\n```", CreatedAt: at(6, 1, 12, 0, 10, 0)},
				{Role: RoleTool, Content: "catcatcat", CreatedAt: at(6, 1, 12, 0, 11, 0)},
				{Role: RoleAssistant, Model: "gpt-4o", Content: "The code printed `catcatcat`, one word per", CreatedAt: at(6, 1, 12, 0, 15, 123_456), Status: StatusIncomplete},
			},
		},
		{
			title: strings.Repeat("Kyoto 京都 🚄 ", 18) + "K…", created: at(7, 1, 12, 0, 0, 0), updated: at(7, 1, 12, 1, 0, 0),
			messages: []Message{
				{Role: RoleUser, Content: "שלום! مرحبا. Jose\u0301 👩‍👩‍👧 — what is 京都 famous for?", CreatedAt: at(7, 1, 12, 0, 1, 0)},
				{Role: RoleAssistant, Model: "gpt-4", Content: "Temples: 清水寺, 金閣寺.\n\n```python\nprint(\"京都\")\n```", CreatedAt: at(7, 1, 12, 1, 0, 0)},
			},
		},
		{
			title: DefaultThreadTitle, created: at(9, 1, 12, 0, 0, 0), updated: at(9, 1, 12, 1, 40, 0),
			messages: []Message{
				{Role: RoleUser, Content: "Hi", CreatedAt: at(9, 1, 12, 0, 1, 0)},
				{Role: RoleAssistant, Model: "o3", Content: "Hello!", CreatedAt: at(9, 1, 12, 1, 40, 0)},
			},
		},
		{
			title: "No current node", created: at(10, 1, 12, 0, 0, 0), updated: at(10, 1, 12, 0, 30, 0),
			messages: []Message{
				{Role: RoleUser, Content: "Tell me a joke.", CreatedAt: at(10, 1, 12, 0, 1, 0)},
				{Role: RoleAssistant, Model: "gpt-4o-mini", Content: "A bbolt page walks into a B+tree…", CreatedAt: at(10, 1, 12, 0, 30, 0), Status: StatusIncomplete},
			},
		},
	}
	if len(result.ThreadIDs) != len(threads) {
		t.Fatalf("imported %d threads, want %d", len(result.ThreadIDs), len(threads))
	}
	for i, want := range threads {
		id := result.ThreadIDs[i]
		th := mustThread(t, s, o, id)
		if th.Title != want.title || !th.CreatedAt.Equal(want.created) || !th.UpdatedAt.Equal(want.updated) || th.MessageCount != len(want.messages) || string(th.Metadata) != "{}" {
			t.Errorf("thread %d = %q created %v updated %v with %d messages, metadata %s, want %q created %v updated %v with %d messages, metadata {}",
				i, th.Title, th.CreatedAt, th.UpdatedAt, th.MessageCount, th.Metadata, want.title, want.created, want.updated, len(want.messages))
		}
		got := mustLast(t, s, o, id, 100)
		for j := range want.messages {
			if want.messages[j].Status == "" {
				want.messages[j].Status = StatusComplete
			}
			if j < len(got) {
				want.messages[j].ID, want.messages[j].ThreadID = got[j].ID, id
			}
		}
		wantMessages(t, got, want.messages)
	}

	// The threads list newest first by their ChatGPT update times.
	newestFirst := slices.Clone(result.ThreadIDs)
	slices.Reverse(newestFirst)
	if listed := threadIDs(mustThreads(t, s, o)); !slices.Equal(listed, newestFirst) {
		t.Errorf("Threads = %v, want the imported threads newest first %v", listed, newestFirst)
	}

	// The imported text is sealed.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantNoPlaintext(t, path, []string{"Plan a weekend in Lisbon, please.", "It looks like a British Shorthair.", "Lisbon weekend", "Taberna da Rua das Flores", "what is 京都 famous for?"})
}

func TestImportChatGPTConversations(t *testing.T) {
	// node returns a mapping entry with a message, or a root for an empty role.
	node := func(id, parent, role, text string, children ...string) string {
		parentJSON := "null"
		if parent != "" {
			parentJSON = `"` + parent + `"`
		}
		message := "null"
		if role != "" {
			message = `{"author":{"role":"` + role + `"},"create_time":1700000000,"content":{"content_type":"text","parts":[` + text + `]},"status":"finished_successfully","metadata":{}}`
		}
		childrenJSON, _ := json.Marshal(append([]string{}, children...))
		return `"` + id + `":{"id":"` + id + `","message":` + message + `,"parent":` + parentJSON + `,"children":` + string(childrenJSON) + `}`
	}
	conversation := func(current string, nodes ...string) string {
		return `{"title":"t","create_time":1700000000,"current_node":"` + current + `","mapping":{` + strings.Join(nodes, ",") + `}}`
	}

	tests := []struct {
		name         string
		conversation string
		want         []string // contents
		problem      string   // the reason of the one problem, if any
		pointer      string
	}{
		{
			name:         "loop",
			conversation: conversation("b", node("a", "b", "user", `"one"`, "b"), node("b", "a", "assistant", `"two"`, "a")),
			problem:      "form a loop", pointer: "/0",
		},
		{
			name:         "parent missing",
			conversation: conversation("b", node("b", "gone", "user", `"one"`)),
			problem:      `refers to the message "gone"`, pointer: "/0",
		},
		{
			name:         "node of another form on the branch",
			conversation: conversation("b", node("a", "", "user", `"one"`, "b"), `"b":{"message":"not a message","parent":"a"}`),
			problem:      `The message "b" of the conversation is not in the expected form`, pointer: "/0",
		},
		{
			name:         "node of another form off the branch",
			conversation: conversation("b", node("a", "", "user", `"one"`, "b", "c"), node("b", "a", "assistant", `"two"`), `"c":[1,2]`),
			want:         []string{"one", "two"},
		},
		{
			name:         "author not known",
			conversation: conversation("b", node("a", "", "user", `"one"`, "b"), node("b", "a", "critic", `"two"`)),
			want:         []string{"one"},
			problem:      `is from "critic"`, pointer: "/0/mapping/b",
		},
		{
			name:         "content too large",
			conversation: conversation("b", node("a", "", "user", `"one"`, "b"), node("b", "a", "assistant", `"`+strings.Repeat("x", MaxContentBytes+1)+`"`)),
			want:         []string{"one"},
			problem:      "the limit is 1048576 bytes", pointer: "/0/mapping/b",
		},
		{
			name:         "node id with a slash and a tilde",
			conversation: conversation("a/~b", node("r", "", "user", `"one"`, "a/~b"), node("a/~b", "r", "critic", `"x"`)),
			want:         []string{"one"},
			problem:      `is from "critic"`, pointer: "/0/mapping/a~1~0b",
		},
		{
			name:         "parts of every kind",
			conversation: conversation("a", node("a", "", "user", `"text", null, 5, ["list"], {"content_type":"audio_asset_pointer"}, {"content_type":"audio_transcription","text":"spoken"}, {}, "  "`)),
			want:         []string{"text\n\n[Attachment not imported]\n\n[Attachment not imported]\n\n[Attachment not imported: audio_asset_pointer]\n\nspoken\n\n[Attachment not imported]"},
		},
		{
			name:         "no current node and no mapping",
			conversation: `{"title":"t"}`,
			problem:      "no messages to import", pointer: "/0",
		},
		{
			name:         "current node missing from the mapping",
			conversation: conversation("gone", node("r", "", "", "", "a"), node("a", "r", "user", `"one"`, "b", "c"), node("b", "a", "assistant", `"first"`), node("c", "a", "assistant", `"second"`)),
			want:         []string{"one", "second"},
		},
		{
			name:         "members of other types",
			conversation: `{"title":5,"create_time":"yesterday","update_time":[1],"current_node":7,"mapping":{` + node("a", "", "user", `"one"`) + `}}`,
			want:         []string{"one"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			o := newOwner(resourceA)
			result := mustImportChatGPT(t, s, o, []byte("["+tt.conversation+"]"))

			var wantProblems []ImportProblem
			if tt.problem != "" {
				wantProblems = []ImportProblem{{Pointer: tt.pointer}}
			}
			if len(result.Problems) != len(wantProblems) {
				t.Fatalf("problems = %+v, want one at %q with %q", result.Problems, tt.pointer, tt.problem)
			}
			for _, p := range result.Problems {
				if p.Pointer != tt.pointer || !strings.Contains(p.Reason, tt.problem) {
					t.Errorf("problem = %+v, want one at %q with %q", p, tt.pointer, tt.problem)
				}
			}
			if tt.want == nil {
				if result.Threads != 0 || result.ThreadsSkipped != 1 {
					t.Errorf("result = %+v, want the conversation skipped", result)
				}
				return
			}
			if result.Threads != 1 {
				t.Fatalf("result = %+v, want 1 thread", result)
			}
			wantContents(t, mustLast(t, s, o, result.ThreadIDs[0], 100), tt.want)
		})
	}
}

func TestImportChatGPTRejected(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		reason string
	}{
		{"empty", "", "The file is empty."},
		{"object", `{"format":"hearth-profile","version":1}`, "If it is a Hearth export, import it as one."},
		{"string", `"conversations"`, "not ChatGPT's conversations.json"},
		{"not JSON", "PK\x03\x04 zip archive", "not valid JSON"},
		{"cut off", `[{"title":"a","mapping":{`, "cut off"},
		{"conversation not an object", `[{"title":"a"}, 5]`, "/1 is not an object"},
		{"mapping not an object", `[{"mapping":[]}]`, "/0/mapping is not an object"},
		{"too many conversations", "[" + strings.Repeat("{},", MaxImportThreads) + "{}]", "more than 10000 conversations"},
		{"too many nodes", `[{"mapping":{` + strings.Repeat(`"n":{},`, MaxImportMessages) + `"n":{}}}]`, "more than 500000 messages"},
		{"data after the list", "[] []", "more data after the end"},
	}
	s, db, _ := newStore(t)
	before := dumpDB(t, db)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			result, err := s.ImportChatGPT(context.Background(), newOwner(resourceA), strings.NewReader(tt.doc))
			wantInputError(t, err, "file")
			var ie *InputError
			if errors.As(err, &ie) && !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", ie.Reason, tt.reason)
			}
			if !reflect.DeepEqual(result, ImportResult{}) {
				t.Errorf("result = %+v, want the zero result", result)
			}
		})
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("rejected files changed the data file")
	}
}

func TestChatGPTTitle(t *testing.T) {
	long := strings.Repeat("é", MaxTitleLength+10)
	tests := []struct {
		name  string
		title *string
		want  string
	}{
		{"missing", nil, ""},
		{"plain", ptr("Trip planning"), "Trip planning"},
		{"line breaks and tabs", ptr("one\ntwo\r\nthree\tfour"), "one two three four"},
		{"line separator", ptr("a\u2028b"), "a b"},
		{"bidi controls dropped", ptr("\u202eevil\u202c name"), "evil name"},
		{"joiners kept", ptr("👩‍👩‍👧 family"), "👩‍👩‍👧 family"},
		{"spaces around", ptr("   padded   "), "padded"},
		{"only controls", ptr("\n\t\u200b"), ""},
		{"longer than the limit", &long, strings.Repeat("é", MaxTitleLength-1) + "…"},
		{"exactly the limit", ptr(strings.Repeat("é", MaxTitleLength)), strings.Repeat("é", MaxTitleLength)},
		{"cut at a space", ptr(strings.Repeat("a", MaxTitleLength-2) + " b c"), strings.Repeat("a", MaxTitleLength-2) + "…"},
	}
	for _, tt := range tests {
		got := chatGPTTitle(tt.title)
		if got != tt.want {
			t.Errorf("%s: chatGPTTitle = %q, want %q", tt.name, got, tt.want)
		}
		if _, err := newThreadSecrets(got, nil); err != nil {
			t.Errorf("%s: newThreadSecrets(%q) error = %v, want the title accepted", tt.name, got, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestChatGPTTime(t *testing.T) {
	tests := []struct {
		seconds *float64
		want    time.Time
		ok      bool
	}{
		{nil, time.Time{}, false},
		{ptr(0.0), time.Unix(0, 0).UTC(), true},
		{ptr(1717243215.123456), time.Date(2024, 6, 1, 12, 0, 15, 123_456_000, time.UTC), true},
		{ptr(1714564799.5), time.Date(2024, 5, 1, 11, 59, 59, 500_000_000, time.UTC), true},
		{ptr(-1.0), time.Time{}, false},
		{ptr(1e300), time.Time{}, false},
		{ptr(float64(maxImportTime.Unix())), time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := chatGPTTime(tt.seconds)
		if !got.Equal(tt.want) || ok != tt.ok {
			t.Errorf("chatGPTTime(%v) = %v, %v, want %v, %v", tt.seconds, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFencedCode(t *testing.T) {
	tests := []struct {
		code, language, want string
	}{
		{"print(1)", "python", "```python\nprint(1)\n```"},
		{"x\n", "unknown", "```\nx\n```"},
		{"a ``` b", "", "````\na ``` b\n````"},
		{"x", "py`thon", "```\nx\n```"},
	}
	for _, tt := range tests {
		if got := fencedCode(tt.code, tt.language); got != tt.want {
			t.Errorf("fencedCode(%q, %q) = %q, want %q", tt.code, tt.language, got, tt.want)
		}
	}
}

// FuzzImportChatGPT checks that any file is imported or rejected with an
// *InputError, and that the result adds up.
func FuzzImportChatGPT(f *testing.F) {
	fixture, err := os.ReadFile("testdata/chatgpt-conversations.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add([]byte(`[{"mapping":{"a":{"message":{"author":{"role":"user"},"content":{"parts":["x"]}},"parent":"a"}},"current_node":"a"}]`))
	s, _, _ := newStore(f)

	f.Fuzz(func(t *testing.T, doc []byte) {
		o := newOwner("user_fuzz_" + NewID())
		result, err := s.ImportChatGPT(context.Background(), o, bytes.NewReader(doc))
		var ie *InputError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("error = %v (%T), want nil or *InputError", err, err)
		}
		messages := 0
		for _, id := range result.ThreadIDs {
			msgs, err := s.LastMessages(context.Background(), o, id, MaxLastMessages)
			if err != nil {
				t.Fatal(err)
			}
			messages += len(msgs)
		}
		if len(result.ThreadIDs) != result.Threads || messages != result.Messages {
			t.Errorf("result = %+v, but %d threads with %d messages read back", result, len(result.ThreadIDs), messages)
		}
	})
}
