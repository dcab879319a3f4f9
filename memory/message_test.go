package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestAppendMessageFields(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	in := Message{
		ThreadID: th.ID, Role: RoleAssistant, Content: "Hello", Model: "llama3.2",
		PromptTokens: 12, ReplyTokens: 3, ClientRequestID: "req-1",
		CreatedAt: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	got := mustAppend(t, s, o, in)

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

	stored := mustLast(t, s, o, th.ID, 1)
	if len(stored) != 1 {
		t.Fatalf("got %d messages, want 1", len(stored))
	}
	m := stored[0]
	if m.ID != got.ID || m.ThreadID != th.ID || m.Role != RoleAssistant || m.Content != "Hello" ||
		m.Model != "llama3.2" || m.PromptTokens != 12 || m.ReplyTokens != 3 || m.ClientRequestID != "req-1" ||
		m.Status != StatusComplete || !m.CreatedAt.Equal(got.CreatedAt) || m.Damaged {
		t.Errorf("stored message = %+v, want %+v", m, got)
	}
}

func TestAppendMessageRejected(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	tests := []struct {
		name  string
		msg   Message
		field string // the InputError field, or empty for another error
	}{
		{"empty role", Message{Role: "", Content: "hi"}, ""},
		{"unknown role", Message{Role: "admin", Content: "hi"}, ""},
		{"unknown status", Message{Role: RoleUser, Content: "hi", Status: "done"}, ""},
		{"malformed id", Message{ID: "message-1", Role: RoleUser, Content: "hi"}, ""},
		{"uppercase id", Message{ID: strings.ToUpper(NewID()), Role: RoleUser, Content: "hi"}, ""},
		{"UUIDv4 id", Message{ID: uuid.NewString(), Role: RoleUser, Content: "hi"}, ""},
		{"client request id too long", Message{Role: RoleUser, Content: "hi", ClientRequestID: strings.Repeat("r", MaxClientRequestIDBytes+1)}, "clientRequestId"},
		{"client request id with NUL", Message{Role: RoleUser, Content: "hi", ClientRequestID: "req\x00"}, "clientRequestId"},
		{"client request id not UTF-8", Message{Role: RoleUser, Content: "hi", ClientRequestID: "req\xff"}, "clientRequestId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.msg.ThreadID = th.ID
			_, err := s.AppendMessage(context.Background(), o, tt.msg)
			if err == nil {
				t.Fatal("AppendMessage error = nil, want an error")
			}
			if tt.field != "" {
				wantInputError(t, err, tt.field)
			}
		})
	}

	if n := len(mustLast(t, s, o, th.ID, 100)); n != 0 {
		t.Errorf("got %d messages after rejected appends, want 0", n)
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 0 {
		t.Errorf("MessageCount = %d, want 0", n)
	}
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hi", ClientRequestID: strings.Repeat("r", MaxClientRequestIDBytes)})
}

func TestAppendMessageCallerID(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	id := NewID()

	got := mustAppend(t, s, o, Message{ID: id, ThreadID: th.ID, Role: RoleUser, Content: "first"})
	if got.ID != id {
		t.Errorf("ID = %q, want %q", got.ID, id)
	}

	_, err := s.AppendMessage(ctx, o, Message{ID: id, ThreadID: th.ID, Role: RoleUser, Content: "duplicate"})
	if err == nil {
		t.Error("AppendMessage with a duplicate id: error = nil, want an error")
	}

	msgs := mustLast(t, s, o, th.ID, 10)
	wantContents(t, msgs, []string{"first"})
	if msgs[0].ID != id {
		t.Errorf("stored ID = %q, want %q", msgs[0].ID, id)
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 1 {
		t.Errorf("MessageCount = %d, want 1", n)
	}

	// The rejected append was rolled back and left no stray record behind.
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "second"})
	wantContents(t, mustLast(t, s, o, th.ID, 10), []string{"first", "second"})
}

func TestAppendMessageDuplicateRequest(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	other := mustCreateThread(t, s, o, "")

	first := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hello", ClientRequestID: "req-1"})
	before := dumpDB(t, db)

	got, err := s.AppendMessage(ctx, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hello again", ClientRequestID: "req-1"})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second AppendMessage error = %v, want %v", err, ErrDuplicate)
	}
	if got.ID != first.ID || got.Content != "hello" || got.ThreadID != th.ID || !got.CreatedAt.Equal(first.CreatedAt) || got.ClientRequestID != "req-1" {
		t.Errorf("duplicate returned %+v, want the first message %+v", got, first)
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("a duplicate append changed the data file")
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 1 {
		t.Errorf("MessageCount = %d, want 1", n)
	}

	// Client request ids are unique per resource, so the same id sent to
	// another thread is a retry too.
	got, err = s.AppendMessage(ctx, o, Message{ThreadID: other.ID, Role: RoleUser, Content: "hello there", ClientRequestID: "req-1"})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("AppendMessage to another thread error = %v, want %v", err, ErrDuplicate)
	}
	if got.ID != first.ID || got.ThreadID != th.ID {
		t.Errorf("duplicate in another thread returned message %s of thread %s, want %s of %s", got.ID, got.ThreadID, first.ID, th.ID)
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("a duplicate append to another thread changed the data file")
	}
	if byRequest, err := s.MessageByRequest(ctx, o, "req-1"); err != nil || byRequest.ID != first.ID {
		t.Errorf("MessageByRequest(req-1) = %s, %v, want %s, nil", byRequest.ID, err, first.ID)
	}

	// Once its message is deleted, the client request id is free again.
	if err := s.DeleteMessage(ctx, o, th.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	again := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hello anew", ClientRequestID: "req-1"})
	wantContents(t, mustLast(t, s, o, th.ID, 10), []string{"hello anew"})
	if again.ID == first.ID {
		t.Errorf("new message reuses the deleted message's id %s", first.ID)
	}
}

func TestAppendMessageDuplicateRequestConcurrent(t *testing.T) {
	const writers = 8
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	results := make([]Message, writers)
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			results[w], errs[w] = s.AppendMessage(context.Background(), o, Message{
				ThreadID: th.ID, Role: RoleUser, Content: fmt.Sprintf("attempt %d", w), ClientRequestID: "req-same",
			})
		})
	}
	close(start)
	wg.Wait()

	stored := mustLast(t, s, o, th.ID, 100)
	if len(stored) != 1 {
		t.Fatalf("got %d messages from %d appends with one client request id, want 1", len(stored), writers)
	}
	winners := 0
	for w := range writers {
		switch {
		case errs[w] == nil:
			winners++
		case !errors.Is(errs[w], ErrDuplicate):
			t.Errorf("writer %d error = %v, want nil or %v", w, errs[w], ErrDuplicate)
		}
		if results[w].ID != stored[0].ID || results[w].Content != stored[0].Content {
			t.Errorf("writer %d got %s %q, want the stored message %s %q", w, results[w].ID, results[w].Content, stored[0].ID, stored[0].Content)
		}
	}
	if winners != 1 {
		t.Errorf("%d appends succeeded, want exactly 1", winners)
	}
}

// appendNumbered appends n messages "message 000" and so on, alternating
// user and assistant, and returns their ids.
func appendNumbered(tb testing.TB, s *Store, o Owner, threadID string, n int) []string {
	tb.Helper()
	var ids []string
	for i, content := range numbered(0, n) {
		role := RoleUser
		if i%2 == 1 {
			role = RoleAssistant
		}
		ids = append(ids, mustAppend(tb, s, o, Message{ThreadID: threadID, Role: role, Content: content}).ID)
	}
	return ids
}

// reopenedThread writes a thread of n numbered messages, closes the file and
// opens it again, and returns the reopened store with the message ids.
func reopenedThread(t *testing.T, n int) (*Store, Owner, Thread, []string) {
	t.Helper()
	s, db, path := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	ids := appendNumbered(t, s, o, th.ID, n)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, _ := openStore(t, path)
	return reopened, o, th, ids
}

func TestLastMessagesOrder(t *testing.T) {
	s, o, th, ids := reopenedThread(t, 120)

	all := mustLast(t, s, o, th.ID, 1000)
	wantContents(t, all, numbered(0, 120))
	if !slices.Equal(messageIDs(all), ids) {
		t.Errorf("message ids after reopening = %v, want %v", messageIDs(all), ids)
	}
	for i, m := range all {
		wantRole := RoleUser
		if i%2 == 1 {
			wantRole = RoleAssistant
		}
		if m.Role != wantRole || m.ThreadID != th.ID || m.Damaged {
			t.Errorf("message %d = %+v, want role %s in thread %s", i, m, wantRole, th.ID)
		}
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 120 {
		t.Errorf("MessageCount = %d, want 120", n)
	}

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
			msgs := mustLast(t, s, o, th.ID, tt.n)
			if msgs == nil {
				t.Error("LastMessages returned nil, want an empty or full slice")
			}
			wantContents(t, msgs, tt.want)
		})
	}
}

func TestMessagesBeforePaging(t *testing.T) {
	ctx := context.Background()
	s, o, th, ids := reopenedThread(t, 120)

	for _, size := range []int{25, 1, 120, 7} {
		t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
			var pages [][]Message
			before := ""
			for range 200 {
				page, err := s.MessagesBefore(ctx, o, th.ID, before, size)
				if err != nil {
					t.Fatalf("MessagesBefore(%q, %d) error: %v", before, size, err)
				}
				if len(page) == 0 {
					break
				}
				if len(page) > size {
					t.Fatalf("page has %d messages, want at most %d", len(page), size)
				}
				pages = append(pages, page)
				before = page[0].ID
			}

			// The pages, newest page first, each oldest first, cover every
			// message once.
			var all []Message
			for _, page := range slices.Backward(pages) {
				all = append(all, page...)
			}
			if got := messageIDs(all); !slices.Equal(got, ids) {
				t.Errorf("ids over all pages = %v, want each message once in order %v", got, ids)
			}
			if want := (120 + size - 1) / size; len(pages) != want {
				t.Errorf("got %d pages, want %d", len(pages), want)
			}
			wantContents(t, pages[0], numbered(120-len(pages[0]), 120))
		})
	}

	// The first message has nothing before it.
	page, err := s.MessagesBefore(ctx, o, th.ID, ids[0], 10)
	if err != nil || len(page) != 0 || page == nil {
		t.Errorf("MessagesBefore the first message = %v, %v, want an empty slice", page, err)
	}
}

func TestMessagesBeforeNotFound(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	empty := mustCreateThread(t, s, o, "")
	other := mustCreateThread(t, s, o, "")
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hi"})
	elsewhere := mustAppend(t, s, o, Message{ThreadID: other.ID, Role: RoleUser, Content: "hello"})

	tests := []struct {
		name     string
		threadID string
		beforeID string
	}{
		{"unknown message", th.ID, NewID()},
		{"message of another thread", th.ID, elsewhere.ID},
		{"malformed message id", th.ID, "message-1"},
		{"thread without messages", empty.ID, elsewhere.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.MessagesBefore(ctx, o, tt.threadID, tt.beforeID, 10); !errors.Is(err, ErrNotFound) {
				t.Errorf("MessagesBefore error = %v, want %v", err, ErrNotFound)
			}
			if _, err := s.MessageWithNeighbours(ctx, o, tt.threadID, tt.beforeID, 2); !errors.Is(err, ErrNotFound) {
				t.Errorf("MessageWithNeighbours error = %v, want %v", err, ErrNotFound)
			}
		})
	}
}

func TestMessageWithNeighbours(t *testing.T) {
	ctx := context.Background()
	s, o, th, ids := reopenedThread(t, 120)

	tests := []struct {
		name  string
		index int
		span  int
		want  []string
	}{
		{"start", 0, 3, numbered(0, 4)},
		{"second", 1, 3, numbered(0, 5)},
		{"middle", 60, 3, numbered(57, 64)},
		{"end", 119, 3, numbered(116, 120)},
		{"next to the end", 118, 3, numbered(115, 120)},
		{"no span", 60, 0, numbered(60, 61)},
		{"negative span", 60, -5, numbered(60, 61)},
		{"span over the thread", 60, 500, numbered(0, 120)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := s.MessageWithNeighbours(ctx, o, th.ID, ids[tt.index], tt.span)
			if err != nil {
				t.Fatalf("MessageWithNeighbours error: %v", err)
			}
			wantContents(t, msgs, tt.want)
		})
	}
}

func TestMessageWithNeighboursSpanLimit(t *testing.T) {
	s, db, _ := newStore(t)
	// NoSync skips the fsync of each commit, which this test does not need.
	db.NoSync = true
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	ids := appendNumbered(t, s, o, th.ID, MaxLastMessages+3)

	middle := len(ids) / 2
	msgs, err := s.MessageWithNeighbours(context.Background(), o, th.ID, ids[middle], MaxLastMessages)
	if err != nil {
		t.Fatal(err)
	}
	half := MaxLastMessages / 2
	wantContents(t, msgs, numbered(middle-half, middle+half+1))
}

func TestLastMessagesEmptyThread(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	msgs := mustLast(t, s, o, th.ID, 10)
	if msgs == nil || len(msgs) != 0 {
		t.Errorf("LastMessages = %#v, want an empty slice", msgs)
	}
	if _, err := s.MessagesBefore(ctx, o, th.ID, NewID(), 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("MessagesBefore an unknown message of an empty thread error = %v, want %v", err, ErrNotFound)
	}
}

func TestLastMessagesLimit(t *testing.T) {
	s, db, _ := newStore(t)
	// NoSync skips the fsync of each commit, which this test does not need.
	db.NoSync = true
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	appendNumbered(t, s, o, th.ID, MaxLastMessages+5)

	msgs := mustLast(t, s, o, th.ID, MaxLastMessages*10)
	wantContents(t, msgs, numbered(5, MaxLastMessages+5))
}

func TestUpdateMessage(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "Say hello"})
	partial := mustAppend(t, s, o, Message{
		ThreadID: th.ID, Role: RoleAssistant, Content: "Hel", Status: StatusIncomplete,
		Model: "llama3.2", ClientRequestID: "req-1",
	})
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "after"})

	update := partial
	update.Content = "Hello there"
	update.Status = StatusComplete
	update.PromptTokens, update.ReplyTokens = 7, 2
	update.Parts = []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "clock", Input: json.RawMessage(`{}`)}}
	update.Model = "other-model"
	// Fields that UpdateMessage does not replace.
	update.ClientRequestID = "req-2"
	update.CreatedAt = time.Time{}

	got, err := s.UpdateMessage(ctx, o, update)
	if err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}
	if got.Content != "Hello there" || got.Status != StatusComplete || got.PromptTokens != 7 || got.ReplyTokens != 2 || len(got.Parts) != 1 {
		t.Errorf("UpdateMessage = %+v, want the new content, status, parts and token counts", got)
	}

	msgs := mustLast(t, s, o, th.ID, 10)
	wantContents(t, msgs, []string{"Say hello", "Hello there", "after"})
	m := msgs[1]
	if m.ID != partial.ID || m.Status != StatusComplete || m.PromptTokens != 7 || m.ReplyTokens != 2 {
		t.Errorf("stored message = %+v, want id %s, complete, tokens 7 and 2", m, partial.ID)
	}
	if len(m.Parts) != 1 || m.Parts[0].ToolName != "clock" {
		t.Errorf("stored parts = %+v, want the clock tool call", m.Parts)
	}
	if m.Model != "other-model" || m.ClientRequestID != "req-1" || !m.CreatedAt.Equal(partial.CreatedAt) {
		t.Errorf("stored model, request id, CreatedAt = %q, %q, %v, want %q, %q, %v",
			m.Model, m.ClientRequestID, m.CreatedAt, "other-model", "req-1", partial.CreatedAt)
	}
	update.Model = ""
	if got, err := s.UpdateMessage(ctx, o, update); err != nil || got.Model != "other-model" {
		t.Errorf("UpdateMessage without a model = %q, %v; want the stored model kept", got.Model, err)
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 3 {
		t.Errorf("MessageCount = %d, want 3", n)
	}

	// The client request id stays with the message it was first sent with.
	dup, err := s.AppendMessage(ctx, o, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "x", ClientRequestID: "req-1"})
	if !errors.Is(err, ErrDuplicate) || dup.ID != partial.ID {
		t.Errorf("append with the first client request id = %s, %v, want %s, %v", dup.ID, err, partial.ID, ErrDuplicate)
	}
}

func TestUpdateMessageError(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	reply := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "Par", Status: StatusIncomplete})

	reply.Status = StatusError
	reply.Error = "The model stopped responding."
	if _, err := s.UpdateMessage(context.Background(), o, reply); err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}

	m := mustLast(t, s, o, th.ID, 1)[0]
	if m.Status != StatusError || m.Error != reply.Error || m.Content != "Par" {
		t.Errorf("stored status, error, content = %q, %q, %q, want %q, %q, %q",
			m.Status, m.Error, m.Content, StatusError, reply.Error, "Par")
	}
}

func TestUpdateMessageNotFound(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	empty := mustCreateThread(t, s, o, "empty")
	full := mustCreateThread(t, s, o, "full")
	other := mustCreateThread(t, s, o, "other")
	m := mustAppend(t, s, o, Message{ThreadID: full.ID, Role: RoleUser, Content: "hi"})
	mustAppend(t, s, o, Message{ThreadID: other.ID, Role: RoleUser, Content: "hello"})

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
			_, err := s.UpdateMessage(ctx, o, Message{ID: tt.id, ThreadID: tt.threadID, Role: RoleUser, Content: "x"})
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("error = %v, want %v", err, ErrNotFound)
			}
		})
	}
}

// TestSendWhileReplyIncomplete follows a person who sends a second message
// while the reply to the first is still being written.
func TestSendWhileReplyIncomplete(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	first := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "What is bbolt?", ClientRequestID: "req-1"})
	reply := mustAppend(t, s, o, Message{ID: NewID(), ThreadID: th.ID, Role: RoleAssistant, Content: "bbolt is", Status: StatusIncomplete, Model: "llama3.2"})
	second := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "And who wrote it?", ClientRequestID: "req-2"})

	reply.Content, reply.Status = "bbolt is an embedded key/value store for Go.", StatusComplete
	if _, err := s.UpdateMessage(ctx, o, reply); err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}

	msgs := mustLast(t, s, o, th.ID, 10)
	if got, want := messageIDs(msgs), []string{first.ID, reply.ID, second.ID}; !slices.Equal(got, want) {
		t.Fatalf("message order = %v, want user 1, reply, user 2 %v", got, want)
	}
	wantContents(t, msgs, []string{"What is bbolt?", "bbolt is an embedded key/value store for Go.", "And who wrote it?"})
	for i, want := range []struct {
		role   Role
		status Status
	}{{RoleUser, StatusComplete}, {RoleAssistant, StatusComplete}, {RoleUser, StatusComplete}} {
		if msgs[i].Role != want.role || msgs[i].Status != want.status {
			t.Errorf("message %d role, status = %s, %s, want %s, %s", i, msgs[i].Role, msgs[i].Status, want.role, want.status)
		}
	}
	if !msgs[1].CreatedAt.Equal(reply.CreatedAt) || !msgs[1].CreatedAt.Before(msgs[2].CreatedAt) {
		t.Errorf("reply CreatedAt = %v, want its append time %v, before user 2 at %v", msgs[1].CreatedAt, reply.CreatedAt, msgs[2].CreatedAt)
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 3 {
		t.Errorf("MessageCount = %d, want 3", n)
	}
}

func TestDeleteMessage(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	other := mustCreateThread(t, s, o, "")
	ids := appendNumbered(t, s, o, th.ID, 5)
	elsewhere := mustAppend(t, s, o, Message{ThreadID: other.ID, Role: RoleUser, Content: "elsewhere"})

	if err := s.DeleteMessage(ctx, o, th.ID, ids[2]); err != nil {
		t.Fatalf("DeleteMessage error: %v", err)
	}
	wantContents(t, mustLast(t, s, o, th.ID, 10), []string{"message 000", "message 001", "message 003", "message 004"})
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 4 {
		t.Errorf("MessageCount = %d, want 4", n)
	}
	if keys := bucketKeys(t, db, string(messageIDsBucket), th.ID); slices.Contains(keys, ids[2]) || len(keys) != 4 {
		t.Errorf("message id index = %v, want 4 ids without %s", keys, ids[2])
	}

	// Neighbours and paging skip the deleted message.
	around, err := s.MessageWithNeighbours(ctx, o, th.ID, ids[1], 1)
	if err != nil {
		t.Fatal(err)
	}
	wantContents(t, around, []string{"message 000", "message 001", "message 003"})
	before, err := s.MessagesBefore(ctx, o, th.ID, ids[3], 10)
	if err != nil {
		t.Fatal(err)
	}
	wantContents(t, before, []string{"message 000", "message 001"})

	for _, tt := range []struct {
		name      string
		threadID  string
		messageID string
	}{
		{"deleted message", th.ID, ids[2]},
		{"message of another thread", th.ID, elsewhere.ID},
		{"unknown message", th.ID, NewID()},
		{"empty message id", th.ID, ""},
	} {
		if err := s.DeleteMessage(ctx, o, tt.threadID, tt.messageID); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteMessage of %s error = %v, want %v", tt.name, err, ErrNotFound)
		}
	}
	wantContents(t, mustLast(t, s, o, other.ID, 10), []string{"elsewhere"})

	// The next message still goes to the end.
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "message 005"})
	wantContents(t, mustLast(t, s, o, th.ID, 10), []string{"message 000", "message 001", "message 003", "message 004", "message 005"})
}

func TestParts(t *testing.T) {
	s, _, path := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	parts := []Part{
		{Type: "tool-call", ToolCallID: "call_1", ToolName: "search", Input: json.RawMessage(`{"query": "京都 <weather> & rain", "limit": 3}`)},
		{Type: "tool-call", ToolCallID: "call_2", ToolName: "clock"},
	}
	results := []Part{
		{Type: "tool-result", ToolCallID: "call_1", ToolName: "search", Output: json.RawMessage(`[{"title":"晴れ"}]`)},
		{Type: "tool-result", ToolCallID: "call_2", ToolName: "clock", Output: json.RawMessage(`"no clock here"`), IsError: true},
	}
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleAssistant, Parts: parts})
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleTool, Parts: results})

	s = reopen(t, s, path)
	msgs := mustLast(t, s, o, th.ID, 10)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	for i, want := range [][]Part{parts, results} {
		if !slices.EqualFunc(msgs[i].Parts, want, func(a, b Part) bool { return partsEqual(t, a, b) }) {
			t.Errorf("message %d parts = %+v, want %+v", i, msgs[i].Parts, want)
		}
	}
}

// reopen closes the store's file and opens it again.
func reopen(tb testing.TB, s *Store, path string) *Store {
	tb.Helper()
	if err := s.db.Close(); err != nil {
		tb.Fatal(err)
	}
	reopened, _ := openStore(tb, path)
	return reopened
}

func TestUnicodeByteExact(t *testing.T) {
	ctx := context.Background()
	s, _, path := newStore(t)
	o := newOwner(resourceA)

	contentTests := []struct {
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
	titles := []string{
		"家族 👩‍👩‍👧‍👦 旅行",
		"Jose\u0301 Zoe\u0308 n\u0303",
		"שלום עולם مرحبا",
		"<b>&amp;</b>",
	}
	document := "# 关于\n- 👩‍👩‍👧‍👦 family\n- Jose\u0301\n- שלום مرحبا\n- \u202Eabc\u202C\n- NUL \x00 end\n"

	th := mustCreateThread(t, s, o, "")
	for _, tt := range contentTests {
		mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: tt.content})
	}
	var titled []string
	for _, title := range titles {
		titled = append(titled, mustCreateThread(t, s, o, title).ID)
	}
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: document})
	mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: th.ID, Content: document})

	s = reopen(t, s, path)
	msgs := mustLast(t, s, o, th.ID, len(contentTests))
	if len(msgs) != len(contentTests) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(contentTests))
	}
	for i, tt := range contentTests {
		if got := msgs[i].Content; got != tt.content {
			t.Errorf("content %s = %q, want %q", tt.name, got, tt.content)
		}
	}
	for i, id := range titled {
		if got := mustThread(t, s, o, id).Title; got != titles[i] {
			t.Errorf("title = %q, want %q", got, titles[i])
		}
	}
	for _, threadID := range []string{"", th.ID} {
		wm, err := s.WorkingMemory(ctx, o, threadID)
		if err != nil || wm.Content != document {
			t.Errorf("working memory (thread %q) = %q, %v, want %q", threadID, wm.Content, err, document)
		}
	}
}

func TestContentSize(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	atLimit := strings.Repeat("a", MaxContentBytes)
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: atLimit})
	if got := mustLast(t, s, o, th.ID, 1)[0].Content; got != atLimit {
		t.Errorf("stored content has %d bytes, want %d", len(got), len(atLimit))
	}

	// 3-byte characters up to the limit, then one more byte.
	multiByte := strings.Repeat("€", MaxContentBytes/3) + strings.Repeat("a", MaxContentBytes%3)
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: multiByte})

	_, err := s.AppendMessage(ctx, o, Message{ThreadID: th.ID, Role: RoleUser, Content: atLimit + "a"})
	wantInputError(t, err, "message")
	_, err = s.AppendMessage(ctx, o, Message{ThreadID: th.ID, Role: RoleUser, Content: multiByte + "a"})
	wantInputError(t, err, "message")

	for _, invalid := range []string{"\xff", "ab\xc3", "\xed\xa0\x80", "\xc0\xaf"} {
		_, err := s.AppendMessage(ctx, o, Message{ThreadID: th.ID, Role: RoleUser, Content: invalid})
		wantInputError(t, err, "message")
	}

	first := mustLast(t, s, o, th.ID, 10)[0]
	first.Content = atLimit + "a"
	_, err = s.UpdateMessage(ctx, o, first)
	wantInputError(t, err, "message")
	first.Content = "\xff"
	_, err = s.UpdateMessage(ctx, o, first)
	wantInputError(t, err, "message")

	msgs := mustLast(t, s, o, th.ID, 10)
	if len(msgs) != 2 || msgs[0].Content != atLimit || msgs[1].Content != multiByte {
		t.Errorf("got %d messages, want the 2 accepted ones unchanged", len(msgs))
	}
}

func TestAppendConcurrent(t *testing.T) {
	const (
		writers = 8
		each    = 25
	)
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				content := fmt.Sprintf("writer %d message %02d", w, i)
				if _, err := s.AppendMessage(context.Background(), o, Message{ThreadID: th.ID, Role: RoleUser, Content: content}); err != nil {
					t.Errorf("AppendMessage(%q) error: %v", content, err)
					return
				}
			}
		})
	}
	wg.Wait()

	msgs := mustLast(t, s, o, th.ID, MaxLastMessages)
	if len(msgs) != writers*each {
		t.Fatalf("got %d messages, want %d", len(msgs), writers*each)
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != writers*each {
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
	for w, n := range next {
		if n != each {
			t.Errorf("writer %d: %d messages stored, want %d", w, n, each)
		}
	}

	// Paging backwards returns the same order as one read.
	var paged []Message
	before := ""
	for {
		page, err := s.MessagesBefore(context.Background(), o, th.ID, before, 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(page, paged...)
		before = page[0].ID
	}
	if !slices.Equal(messageIDs(paged), messageIDs(msgs)) {
		t.Error("paging backwards after concurrent appends gives another order than LastMessages")
	}
}
