package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// versionedReply returns an assistant reply in threadID with two earlier
// versions and every new field set.
func versionedReply(threadID string) Message {
	return Message{
		ThreadID: threadID, Role: RoleAssistant, Status: StatusIncomplete, Model: "llama3.2",
		Content: "Third try: 伏見稲荷 at dawn", Streaming: true, OmittedMessages: 4, OmittedRecalled: 2,
		Versions: []MessageVersion{
			{
				Content: "First try: a plan about the zeppelin", Model: "llama3.1", Status: StatusComplete,
				CreatedAt: testStart.Add(-2 * time.Hour),
				Parts:     []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "weather", Input: json.RawMessage(`{"city":"Kyoto"}`)}},
			},
			{
				Content: "Second try, cut off", Model: "llama3.2", Status: StatusError,
				Error: "The model backend did not answer in time.", CreatedAt: testStart.Add(-time.Hour),
			},
		},
	}
}

// wantSameMessage compares the stored fields of two messages, with parts
// compared as JSON values.
func wantSameMessage(tb testing.TB, got, want Message) {
	tb.Helper()
	if len(got.Versions) != len(want.Versions) {
		tb.Fatalf("message %s has %d versions, want %d", got.ID, len(got.Versions), len(want.Versions))
	}
	got, want = cloneMessage(got), cloneMessage(want)
	for i := range got.Versions {
		gv, wv := got.Versions[i], want.Versions[i]
		if len(gv.Parts) != len(wv.Parts) {
			tb.Errorf("version %d has %d parts, want %d", i, len(gv.Parts), len(wv.Parts))
		}
		for j := range min(len(gv.Parts), len(wv.Parts)) {
			if !partsEqual(tb, gv.Parts[j], wv.Parts[j]) {
				tb.Errorf("version %d part %d = %+v, want %+v", i, j, gv.Parts[j], wv.Parts[j])
			}
		}
		if !gv.CreatedAt.Equal(wv.CreatedAt) {
			tb.Errorf("version %d CreatedAt = %v, want %v", i, gv.CreatedAt, wv.CreatedAt)
		}
		got.Versions[i].Parts, want.Versions[i].Parts = nil, nil
		got.Versions[i].CreatedAt, want.Versions[i].CreatedAt = time.Time{}, time.Time{}
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		tb.Errorf("message CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("message = %+v, want %+v", got, want)
	}
}

// cloneMessage copies m with its own slice of versions, so that a test can
// clear fields of the copy.
func cloneMessage(m Message) Message {
	if m.Versions != nil {
		m.Versions = append([]MessageVersion{}, m.Versions...)
	}
	return m
}

func TestMessageNewFieldsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, db, path := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")

	want := mustAppend(t, s, o, versionedReply(th.ID))
	got := mustLast(t, s, o, th.ID, 1)[0]
	wantSameMessage(t, got, want)

	// The fields survive closing and reopening the file.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ = openStore(t, path)
	got = mustLast(t, s, o, th.ID, 1)[0]
	wantSameMessage(t, got, want)

	around, err := s.MessageWithNeighbours(ctx, o, th.ID, want.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(around) != 1 {
		t.Fatalf("MessageWithNeighbours returned %d messages, want 1", len(around))
	}
	wantSameMessage(t, around[0], want)
}

func TestUpdateMessageVersions(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	stored := mustAppend(t, s, o, versionedReply(th.ID))

	// A writer that does not set versions keeps them.
	update := stored
	update.Versions = nil
	update.Content, update.Status, update.Streaming = "Third try, finished", StatusComplete, false
	update.OmittedMessages, update.OmittedRecalled = 5, 0
	got, err := s.UpdateMessage(ctx, o, update)
	if err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}
	want := update
	want.Versions = stored.Versions
	wantSameMessage(t, got, want)
	wantSameMessage(t, mustLast(t, s, o, th.ID, 1)[0], want)

	// A new list replaces the stored one.
	update.Versions = stored.Versions[1:]
	if _, err := s.UpdateMessage(ctx, o, update); err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}
	wantSameMessage(t, mustLast(t, s, o, th.ID, 1)[0], update)

	// An empty list drops them.
	update.Versions = []MessageVersion{}
	if _, err := s.UpdateMessage(ctx, o, update); err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}
	if got := mustLast(t, s, o, th.ID, 1)[0]; len(got.Versions) != 0 {
		t.Errorf("after an update with no versions the message has %d versions, want 0", len(got.Versions))
	}
}

func TestMessageVersionsSealed(t *testing.T) {
	s, db, path := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	reply := versionedReply(th.ID)
	reply.Versions[0].Content = "a secret about the marmalade-tortoise"
	reply.Versions[1].Error = "a secret error about the velvet-harbour"
	stored := mustAppend(t, s, o, reply)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{"marmalade-tortoise", "velvet-harbour", `"city":"Kyoto"`, "llama3.1"} {
		if bytes.Contains(raw, []byte(needle)) {
			t.Errorf("the data file contains the version's %q in the clear", needle)
		}
	}
	// The counts and the flag are in the clear, next to the message id.
	if !bytes.Contains(raw, []byte(`"streaming":true,"omittedMessages":4,"omittedRecalled":2`)) {
		t.Errorf("the data file does not hold the streaming flag and omitted counts of message %s in the clear", stored.ID)
	}
}

func TestMessageVersionsWrongKey(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	stored := mustAppend(t, s, o, versionedReply(th.ID))

	// The record is read with a key that does not open it.
	impostor := newOwner(resourceA)
	var got Message
	err := s.db.View(func(tx *bbolt.Tx) error {
		msgs, key, err := messageKey(tx, th.ID, stored.ID)
		if err != nil {
			return err
		}
		got, err = decodeMessage(msgs.Get(key), impostor, th.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Damaged || got.Versions != nil || got.Content != "" {
		t.Errorf("message read with the wrong key = damaged %v, %d versions, content %q, want damaged with none", got.Damaged, len(got.Versions), got.Content)
	}
	if !got.Streaming || got.OmittedMessages != 4 || got.OmittedRecalled != 2 {
		t.Errorf("clear fields read with the wrong key = streaming %v, omitted %d and %d, want true, 4 and 2", got.Streaming, got.OmittedMessages, got.OmittedRecalled)
	}
}

func TestMessageVersionDefaultStatus(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	reply := Message{ThreadID: th.ID, Role: RoleAssistant, Content: "now", Versions: []MessageVersion{{Content: "before"}}}

	stored := mustAppend(t, s, o, reply)
	if got := stored.Versions[0].Status; got != StatusComplete {
		t.Errorf("stored version status = %q, want %q", got, StatusComplete)
	}
	if got := reply.Versions[0].Status; got != "" {
		t.Errorf("the caller's version status was changed to %q", got)
	}
	if got := mustLast(t, s, o, th.ID, 1)[0].Versions[0].Status; got != StatusComplete {
		t.Errorf("read version status = %q, want %q", got, StatusComplete)
	}
}

func TestMessageVersionsRejected(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	big := strings.Repeat("x", MaxContentBytes)

	tests := []struct {
		name  string
		edit  func(m *Message)
		field string
	}{
		{"invalid UTF-8", func(m *Message) { m.Versions[0].Content = "bad \xff text" }, "versions"},
		{"version too long", func(m *Message) { m.Versions[0].Content = big + "x" }, "versions"},
		{"invalid status", func(m *Message) { m.Versions[1].Status = "finished" }, "versions"},
		{"invalid part JSON", func(m *Message) { m.Versions[0].Parts[0].Input = json.RawMessage(`{"city":`) }, "versions"},
		{"error too long", func(m *Message) { m.Versions[1].Error = strings.Repeat("e", maxErrorBytes+1) }, "versions"},
		{"model too long", func(m *Message) { m.Versions[1].Model = strings.Repeat("m", maxModelBytes+1) }, "versions"},
		{"too many versions", func(m *Message) { m.Versions = make([]MessageVersion, MaxMessageVersions+1) }, "versions"},
		{"total too long", func(m *Message) {
			m.Content = big
			m.Versions = make([]MessageVersion, MaxMessageBytes/MaxContentBytes)
			for i := range m.Versions {
				m.Versions[i].Content = big
			}
		}, "versions"},
		{"streaming but complete", func(m *Message) { m.Status = StatusComplete }, "streaming"},
		{"streaming but interrupted", func(m *Message) { m.Status = StatusInterrupted }, "streaming"},
		{"negative omitted messages", func(m *Message) { m.OmittedMessages = -1 }, "omittedMessages"},
		{"negative omitted recalled", func(m *Message) { m.OmittedRecalled = -1 }, "omittedRecalled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := versionedReply(th.ID)
			tt.edit(&m)
			_, err := s.AppendMessage(ctx, o, m)
			wantInputError(t, err, tt.field)
		})
	}
	if n := mustThread(t, s, o, th.ID).MessageCount; n != 0 {
		t.Errorf("MessageCount after rejected appends = %d, want 0", n)
	}

	// The limit counts the versions an update keeps: they leave 1,000
	// bytes for the content, and the update has 2,000.
	m := versionedReply(th.ID)
	m.Versions = make([]MessageVersion, MaxMessageBytes/MaxContentBytes)
	for i := range m.Versions {
		m.Versions[i].Content = big
	}
	m.Versions[0].Content = big[1000:]
	m.Content = ""
	stored := mustAppend(t, s, o, m)
	stored.Versions, stored.Content = nil, strings.Repeat("y", 2000)
	_, err := s.UpdateMessage(ctx, o, stored)
	wantInputError(t, err, "versions")
	if got := mustLast(t, s, o, th.ID, 1)[0]; got.Content != "" || len(got.Versions) != len(m.Versions) {
		t.Errorf("after the rejected update the message has %d bytes of content and %d versions, want 0 and %d", len(got.Content), len(got.Versions), len(m.Versions))
	}
}

func TestMessageInterruptedStatusAccepted(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	stored := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "half a", Status: StatusInterrupted})
	if got := mustLast(t, s, o, th.ID, 1)[0]; got.ID != stored.ID || got.Status != StatusInterrupted {
		t.Errorf("stored message = %s with status %q, want %s with status %q", got.ID, got.Status, stored.ID, StatusInterrupted)
	}
}

func TestForkThreadKeepsVersions(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	reply := versionedReply(th.ID)
	reply.Streaming, reply.Status = false, StatusComplete
	stored := mustAppend(t, s, o, reply)

	fork, err := s.ForkThread(ctx, o, th.ID, stored.ID)
	if err != nil {
		t.Fatal(err)
	}
	copied := mustLast(t, s, o, fork.ID, 1)[0]
	want := stored
	want.ID, want.ThreadID, want.CreatedAt = copied.ID, fork.ID, copied.CreatedAt
	wantSameMessage(t, copied, want)
}
