package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// contents returns the Content of each message.
func contents(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Content
	}
	return out
}

// numbered returns the contents "message <from>" up to "message <to-1>",
// each number written with at least three digits.
func numbered(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("message %03d", i))
	}
	return out
}

// wantContents fails the test unless msgs have exactly the contents want,
// in that order.
func wantContents(t *testing.T, msgs []Message, want []string) {
	t.Helper()
	got := contents(msgs)
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("message %d content = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestAppendMessageFields(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	th := mustCreateThread(t, s, resourceA, "")

	in := Message{
		ThreadID: th.ID, Role: RoleAssistant, Content: "Hello", Model: "llama3.2",
		PromptTokens: 12, ReplyTokens: 3, ClientRequestID: "req-1",
		CreatedAt: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	got := mustAppend(t, s, resourceA, in)

	if !ValidID(got.ID) {
		t.Errorf("ID %q is not a valid id", got.ID)
	}
	if got.Status != StatusComplete {
		t.Errorf("Status = %q, want %q", got.Status, StatusComplete)
	}
	// The store sets CreatedAt and ignores the caller's value.
	if want := testStart.Add(time.Second); !got.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
	}

	stored := mustLast(t, s, resourceA, th.ID, 1)
	if len(stored) != 1 {
		t.Fatalf("got %d messages, want 1", len(stored))
	}
	m := stored[0]
	if m.ID != got.ID || m.ThreadID != th.ID || m.Role != RoleAssistant || m.Content != "Hello" ||
		m.Model != "llama3.2" || m.PromptTokens != 12 || m.ReplyTokens != 3 || m.ClientRequestID != "req-1" ||
		m.Status != StatusComplete || !m.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("stored message = %+v, want %+v", m, got)
	}
}

func TestAppendMessageRejected(t *testing.T) {
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")

	tests := []struct {
		name string
		msg  Message
	}{
		{"empty role", Message{Role: "", Content: "hi"}},
		{"unknown role", Message{Role: "admin", Content: "hi"}},
		{"unknown status", Message{Role: RoleUser, Content: "hi", Status: "done"}},
		{"malformed id", Message{ID: "message-1", Role: RoleUser, Content: "hi"}},
		{"uppercase id", Message{ID: strings.ToUpper(NewID()), Role: RoleUser, Content: "hi"}},
		{"UUIDv4 id", Message{ID: uuid.NewString(), Role: RoleUser, Content: "hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.msg.ThreadID = th.ID
			if _, err := s.AppendMessage(context.Background(), resourceA, tt.msg); err == nil {
				t.Error("AppendMessage error = nil, want an error")
			}
		})
	}

	if n := len(mustLast(t, s, resourceA, th.ID, 100)); n != 0 {
		t.Errorf("got %d messages after rejected appends, want 0", n)
	}
	if n := mustThread(t, s, resourceA, th.ID).MessageCount; n != 0 {
		t.Errorf("MessageCount = %d, want 0", n)
	}
}

func TestAppendMessageCallerID(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")
	id := NewID()

	got := mustAppend(t, s, resourceA, Message{ID: id, ThreadID: th.ID, Role: RoleUser, Content: "first"})
	if got.ID != id {
		t.Errorf("ID = %q, want %q", got.ID, id)
	}

	_, err := s.AppendMessage(ctx, resourceA, Message{ID: id, ThreadID: th.ID, Role: RoleUser, Content: "duplicate"})
	if err == nil {
		t.Error("AppendMessage with a duplicate id: error = nil, want an error")
	}

	msgs := mustLast(t, s, resourceA, th.ID, 10)
	wantContents(t, msgs, []string{"first"})
	if msgs[0].ID != id {
		t.Errorf("stored ID = %q, want %q", msgs[0].ID, id)
	}
	if n := mustThread(t, s, resourceA, th.ID).MessageCount; n != 1 {
		t.Errorf("MessageCount = %d, want 1", n)
	}

	// The rejected append was rolled back and left no stray record behind.
	mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: "second"})
	wantContents(t, mustLast(t, s, resourceA, th.ID, 10), []string{"first", "second"})
}

func TestLastMessagesOrder(t *testing.T) {
	s, db, path := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")
	var ids []string
	for i, content := range numbered(0, 120) {
		role := RoleUser
		if i%2 == 1 {
			role = RoleAssistant
		}
		ids = append(ids, mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: role, Content: content}).ID)
	}

	check := func(t *testing.T, s *Store) {
		t.Helper()
		all := mustLast(t, s, resourceA, th.ID, 1000)
		wantContents(t, all, numbered(0, 120))
		for i, m := range all {
			if m.ID != ids[i] {
				t.Fatalf("message %d ID = %s, want %s", i, m.ID, ids[i])
			}
		}
		if n := mustThread(t, s, resourceA, th.ID).MessageCount; n != 120 {
			t.Errorf("MessageCount = %d, want 120", n)
		}
	}
	check(t, s)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, _ := openStore(t, path)
	check(t, reopened)

	tests := []struct {
		n    int
		want []string
	}{
		{50, numbered(70, 120)},
		{1, numbered(119, 120)},
		{119, numbered(1, 120)},
		{120, numbered(0, 120)},
		{121, numbered(0, 120)},
		{0, nil},
		{-1, nil},
		{-1 << 62, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d", tt.n), func(t *testing.T) {
			msgs := mustLast(t, reopened, resourceA, th.ID, tt.n)
			if msgs == nil {
				t.Error("LastMessages returned nil, want an empty or full slice")
			}
			wantContents(t, msgs, tt.want)
		})
	}
}

func TestLastMessagesEmptyThread(t *testing.T) {
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")
	msgs := mustLast(t, s, resourceA, th.ID, 10)
	if msgs == nil || len(msgs) != 0 {
		t.Errorf("LastMessages = %#v, want an empty slice", msgs)
	}
}

func TestLastMessagesLimit(t *testing.T) {
	s, db, _ := newStore(t)
	// NoSync skips the fsync of each commit, which this test does not need.
	db.NoSync = true
	th := mustCreateThread(t, s, resourceA, "")
	for _, content := range numbered(0, MaxLastMessages+5) {
		mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: content})
	}

	msgs := mustLast(t, s, resourceA, th.ID, MaxLastMessages*10)
	wantContents(t, msgs, numbered(5, MaxLastMessages+5))
}

func TestUpdateMessage(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)
	th := mustCreateThread(t, s, resourceA, "")
	mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: "Say hello"})
	partial := mustAppend(t, s, resourceA, Message{
		ThreadID: th.ID, Role: RoleAssistant, Content: "Hel", Status: StatusIncomplete,
		Model: "llama3.2", ClientRequestID: "req-1",
	})
	mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: "after"})

	update := partial
	update.Content = "Hello there"
	update.Status = StatusComplete
	update.PromptTokens, update.ReplyTokens = 7, 2
	// Fields that UpdateMessage does not replace.
	update.Model = "other-model"
	update.ClientRequestID = "req-2"
	update.CreatedAt = time.Time{}

	got, err := s.UpdateMessage(ctx, resourceA, update)
	if err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}
	if got.Content != "Hello there" || got.Status != StatusComplete || got.PromptTokens != 7 || got.ReplyTokens != 2 {
		t.Errorf("UpdateMessage = %+v, want the new content, status and token counts", got)
	}

	msgs := mustLast(t, s, resourceA, th.ID, 10)
	wantContents(t, msgs, []string{"Say hello", "Hello there", "after"})
	m := msgs[1]
	if m.ID != partial.ID || m.Status != StatusComplete || m.PromptTokens != 7 || m.ReplyTokens != 2 {
		t.Errorf("stored message = %+v, want id %s, complete, tokens 7 and 2", m, partial.ID)
	}
	if m.Model != "llama3.2" || m.ClientRequestID != "req-1" || !m.CreatedAt.Equal(partial.CreatedAt) {
		t.Errorf("stored model, request id, CreatedAt = %q, %q, %v, want %q, %q, %v",
			m.Model, m.ClientRequestID, m.CreatedAt, "llama3.2", "req-1", partial.CreatedAt)
	}
	if n := mustThread(t, s, resourceA, th.ID).MessageCount; n != 3 {
		t.Errorf("MessageCount = %d, want 3", n)
	}
}

func TestUpdateMessageError(t *testing.T) {
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")
	reply := mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "Par", Status: StatusIncomplete})

	reply.Status = StatusError
	reply.Error = "The model stopped responding."
	if _, err := s.UpdateMessage(context.Background(), resourceA, reply); err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}

	m := mustLast(t, s, resourceA, th.ID, 1)[0]
	if m.Status != StatusError || m.Error != reply.Error || m.Content != "Par" {
		t.Errorf("stored status, error, content = %q, %q, %q, want %q, %q, %q",
			m.Status, m.Error, m.Content, StatusError, reply.Error, "Par")
	}
}

func TestUpdateMessageNotFound(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	empty := mustCreateThread(t, s, resourceA, "empty")
	full := mustCreateThread(t, s, resourceA, "full")
	other := mustCreateThread(t, s, resourceA, "other")
	m := mustAppend(t, s, resourceA, Message{ThreadID: full.ID, Role: RoleUser, Content: "hi"})
	mustAppend(t, s, resourceA, Message{ThreadID: other.ID, Role: RoleUser, Content: "hello"})

	tests := []struct {
		name     string
		threadID string
		id       string
	}{
		{"thread without messages", empty.ID, NewID()},
		{"unknown message id", full.ID, NewID()},
		{"empty message id", full.ID, ""},
		{"message of another thread", other.ID, m.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UpdateMessage(ctx, resourceA, Message{ID: tt.id, ThreadID: tt.threadID, Role: RoleUser, Content: "x"})
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("error = %v, want %v", err, ErrNotFound)
			}
		})
	}
}

func TestContentUnicode(t *testing.T) {
	s, db, path := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")

	tests := []struct {
		name    string
		content string
	}{
		{"emoji ZWJ sequence", "family 👩‍👩‍👧‍👦 and flag 🇩🇪"},
		{"CJK", "你好，世界。日本語のテキスト。한국어"},
		{"combining marks", "Jose\u0301 and Z\u0351\u0362a\u0327l\u0336g\u0340o"},
		{"precomposed", "Jos\u00e9"},
		{"right-to-left", "שלום עולם and مرحبا بالعالم"},
		{"bidi controls", "\u202Eabc\u202C \u2067x\u2069"},
		{"NUL and controls", "a\x00b\x07c\x1bd"},
		{"HTML characters", `<script>alert("&amp;")</script>`},
		{"line and paragraph separators", "a\u2028b\u2029c"},
		{"byte order mark", "\ufeffstart"},
		{"replacement character", "\ufffd"},
		{"noncharacter", "\uffff\U0010FFFF"},
		{"empty", ""},
	}
	for _, tt := range tests {
		mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: tt.content})
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, _ := openStore(t, path)
	msgs := mustLast(t, reopened, resourceA, th.ID, len(tests))
	if len(msgs) != len(tests) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := msgs[i].Content; got != tt.content {
				t.Errorf("content = %q, want %q", got, tt.content)
			}
		})
	}
}

func TestContentSize(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")

	atLimit := strings.Repeat("a", MaxContentBytes)
	mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: atLimit})
	if got := mustLast(t, s, resourceA, th.ID, 1)[0].Content; got != atLimit {
		t.Errorf("stored content has %d bytes, want %d", len(got), len(atLimit))
	}

	// 3-byte characters up to the limit, then one more byte.
	multiByte := strings.Repeat("€", MaxContentBytes/3) + strings.Repeat("a", MaxContentBytes%3)
	mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: multiByte})

	_, err := s.AppendMessage(ctx, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: atLimit + "a"})
	wantInputError(t, err, "message")
	_, err = s.AppendMessage(ctx, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: multiByte + "a"})
	wantInputError(t, err, "message")

	for _, invalid := range []string{"\xff", "ab\xc3", "\xed\xa0\x80", "\xc0\xaf"} {
		_, err := s.AppendMessage(ctx, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: invalid})
		wantInputError(t, err, "message")
	}

	first := mustLast(t, s, resourceA, th.ID, 10)[0]
	first.Content = atLimit + "a"
	_, err = s.UpdateMessage(ctx, resourceA, first)
	wantInputError(t, err, "message")
	first.Content = "\xff"
	_, err = s.UpdateMessage(ctx, resourceA, first)
	wantInputError(t, err, "message")

	if n := len(mustLast(t, s, resourceA, th.ID, 10)); n != 2 {
		t.Errorf("got %d messages, want 2", n)
	}
}

func TestAppendConcurrent(t *testing.T) {
	const (
		writers = 8
		each    = 25
	)
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "")

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				content := fmt.Sprintf("writer %d message %02d", w, i)
				if _, err := s.AppendMessage(context.Background(), resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: content}); err != nil {
					t.Errorf("AppendMessage(%q) error: %v", content, err)
					return
				}
			}
		})
	}
	wg.Wait()

	msgs := mustLast(t, s, resourceA, th.ID, MaxLastMessages)
	if len(msgs) != writers*each {
		t.Fatalf("got %d messages, want %d", len(msgs), writers*each)
	}
	if n := mustThread(t, s, resourceA, th.ID).MessageCount; n != writers*each {
		t.Errorf("MessageCount = %d, want %d", n, writers*each)
	}

	// Every message is stored once, and each writer's messages keep the
	// order in which that writer appended them.
	ids := map[string]bool{}
	next := make([]int, writers)
	for _, m := range msgs {
		if ids[m.ID] {
			t.Errorf("id %s stored twice", m.ID)
		}
		ids[m.ID] = true

		var w, i int
		if _, err := fmt.Sscanf(m.Content, "writer %d message %d", &w, &i); err != nil {
			t.Fatalf("unexpected content %q", m.Content)
		}
		if i != next[w] {
			t.Errorf("writer %d: message %d stored where %d was expected", w, i, next[w])
		}
		next[w] = i + 1
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	s, _, _ := newStore(b)
	th := mustCreateThread(b, s, resourceA, "")
	m := Message{ThreadID: th.ID, Role: RoleUser, Content: strings.Repeat("Tell me about bbolt. ", 10)}
	ctx := context.Background()

	for b.Loop() {
		if _, err := s.AppendMessage(ctx, resourceA, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLastMessages(b *testing.B) {
	s, db, _ := newStore(b)
	th := mustCreateThread(b, s, resourceA, "")

	// Fill without an fsync per message, which is not what is measured.
	db.NoSync = true
	m := Message{ThreadID: th.ID, Role: RoleUser, Content: strings.Repeat("Tell me about bbolt. ", 10)}
	for range 10000 {
		mustAppend(b, s, resourceA, m)
	}
	db.NoSync = false
	if err := db.Sync(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	for b.Loop() {
		msgs, err := s.LastMessages(ctx, resourceA, th.ID, 50)
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) != 50 {
			b.Fatalf("got %d messages, want 50", len(msgs))
		}
	}
}
