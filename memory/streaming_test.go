package memory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"go.etcd.io/bbolt"
)

// streamingIndex returns the entries of the streaming index as
// "resource/thread id/message id", sorted.
func streamingIndex(tb testing.TB, db *bbolt.DB) []string {
	tb.Helper()
	var out []string
	err := db.View(func(tx *bbolt.Tx) error {
		entries, err := streamingEntries(tx)
		for _, e := range entries {
			out = append(out, e.resourceID+"/"+e.threadID+"/"+e.messageID)
		}
		return err
	})
	if err != nil {
		tb.Fatalf("read streaming index: %v", err)
	}
	sort.Strings(out)
	return out
}

// indexEntry returns the streamingIndex form of m's entry.
func indexEntry(o Owner, m Message) string {
	return o.ResourceID + "/" + m.ThreadID + "/" + m.ID
}

// streamingReply returns a reply that is still being written.
func streamingReply(threadID, content string) Message {
	return Message{ThreadID: threadID, Role: RoleAssistant, Content: content, Status: StatusIncomplete, Streaming: true}
}

// mustRecover runs RecoverInterrupted and fails the test on an error.
func mustRecover(tb testing.TB, s *Store) int {
	tb.Helper()
	n, err := s.RecoverInterrupted(context.Background())
	if err != nil {
		tb.Fatalf("RecoverInterrupted error: %v", err)
	}
	return n
}

func TestRecoverInterrupted(t *testing.T) {
	ctx := context.Background()
	s, db, path := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	thA := mustCreateThread(t, s, a, "")
	thB := mustCreateThread(t, s, b, "")

	question := mustAppend(t, s, a, Message{ThreadID: thA.ID, Role: RoleUser, Content: "Plan a trip"})
	cut := mustAppend(t, s, a, streamingReply(thA.ID, "Day 1: the temple"))
	stopped := mustAppend(t, s, a, Message{ThreadID: thA.ID, Role: RoleAssistant, Content: "Stopped here", Status: StatusIncomplete})
	finished := mustAppend(t, s, a, streamingReply(thA.ID, "Day 1"))
	progressing := mustAppend(t, s, a, streamingReply(thA.ID, "Day"))
	_, startedB, err := s.StartThread(ctx, b, "", streamingReply("", "Hello th"))
	if err != nil {
		t.Fatal(err)
	}
	cutB := mustAppend(t, s, b, streamingReply(thB.ID, "Bonjour"))

	// One reply ends before the crash, another saves more text while it
	// streams.
	finished.Content, finished.Status, finished.Streaming = "Day 1, then day 2", StatusComplete, false
	if _, err := s.UpdateMessage(ctx, a, finished); err != nil {
		t.Fatal(err)
	}
	progressing.Content = "Day 1 and"
	if _, err := s.UpdateMessage(ctx, a, progressing); err != nil {
		t.Fatal(err)
	}
	want := []string{indexEntry(a, cut), indexEntry(a, progressing), indexEntry(b, startedB), indexEntry(b, cutB)}
	sort.Strings(want)
	if got := streamingIndex(t, db); !slices.Equal(got, want) {
		t.Errorf("streaming index = %v, want %v", got, want)
	}

	// The process dies: the file is reopened with the replies still
	// marked as streaming.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, db = openStore(t, path)
	before := map[string][]Message{thA.ID: mustLast(t, s, a, thA.ID, 100), startedB.ThreadID: mustLast(t, s, b, startedB.ThreadID, 100), thB.ID: mustLast(t, s, b, thB.ID, 100)}

	if n := mustRecover(t, s); n != 4 {
		t.Errorf("RecoverInterrupted = %d, want 4", n)
	}
	if got := streamingIndex(t, db); len(got) != 0 {
		t.Errorf("streaming index after recovery = %v, want empty", got)
	}
	interrupted := map[string]bool{cut.ID: true, progressing.ID: true, startedB.ID: true, cutB.ID: true}
	for threadID, msgs := range before {
		o := a
		if threadID != thA.ID {
			o = b
		}
		after := mustLast(t, s, o, threadID, 100)
		if len(after) != len(msgs) {
			t.Fatalf("thread %s has %d messages after recovery, want %d", threadID, len(after), len(msgs))
		}
		for i, m := range msgs {
			want := m
			if interrupted[m.ID] {
				want.Status, want.Streaming = StatusInterrupted, false
			}
			if !reflect.DeepEqual(after[i], want) {
				t.Errorf("message %s after recovery = %+v, want %+v", m.ID, after[i], want)
			}
		}
	}

	// The messages it left alone, by name.
	msgs := mustLast(t, s, a, thA.ID, 100)
	if got := msgs[0]; got.ID != question.ID || got.Status != StatusComplete {
		t.Errorf("question = %s %q, want %s %q", got.ID, got.Status, question.ID, StatusComplete)
	}
	if got := msgs[2]; got.ID != stopped.ID || got.Status != StatusIncomplete || got.Content != "Stopped here" {
		t.Errorf("stopped reply = %s %q %q, want %s %q %q", got.ID, got.Status, got.Content, stopped.ID, StatusIncomplete, "Stopped here")
	}
	if got := msgs[3]; got.ID != finished.ID || got.Status != StatusComplete {
		t.Errorf("finished reply = %s %q, want %s %q", got.ID, got.Status, finished.ID, StatusComplete)
	}
	if got := msgs[4]; got.Content != "Day 1 and" || got.Status != StatusInterrupted {
		t.Errorf("progressing reply = %q %q, want %q %q", got.Content, got.Status, "Day 1 and", StatusInterrupted)
	}

	// A second call finds nothing to do.
	if n := mustRecover(t, s); n != 0 {
		t.Errorf("second RecoverInterrupted = %d, want 0", n)
	}
	if got := mustLast(t, s, a, thA.ID, 100); !reflect.DeepEqual(got, msgs) {
		t.Errorf("second RecoverInterrupted changed the messages: %+v, want %+v", got, msgs)
	}
}

func TestRecoverInterruptedAfterDeletes(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	keptThread := mustCreateThread(t, s, a, "kept")
	deletedThread := mustCreateThread(t, s, a, "deleted")
	resourceThread := mustCreateThread(t, s, b, "deleted with its resource")

	survivor := mustAppend(t, s, a, streamingReply(keptThread.ID, "still here"))
	deletedMessage := mustAppend(t, s, a, streamingReply(keptThread.ID, "deleted"))
	deletedWithThread := mustAppend(t, s, a, streamingReply(deletedThread.ID, "deleted with the thread"))
	mustAppend(t, s, b, streamingReply(resourceThread.ID, "deleted with the resource"))

	if err := s.DeleteMessage(ctx, a, keptThread.ID, deletedMessage.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteResource(ctx, resourceB); err != nil {
		t.Fatal(err)
	}
	// DeleteMessage and DeleteResource remove their entries at once.
	got := streamingIndex(t, db)
	if slices.Contains(got, indexEntry(a, deletedMessage)) {
		t.Errorf("streaming index %v still lists the deleted message", got)
	}
	if bucketExists(t, db, string(streamingBucket), resourceB) {
		t.Error("the streaming index of the deleted resource survived DeleteResource")
	}

	if err := s.DeleteThread(ctx, a, deletedThread.ID); err != nil {
		t.Fatal(err)
	}
	if n := mustRecover(t, s); n != 1 {
		t.Errorf("RecoverInterrupted = %d, want 1 (only the message that still exists)", n)
	}
	if got := streamingIndex(t, db); len(got) != 0 {
		t.Errorf("streaming index after recovery = %v, want empty", got)
	}

	// Nothing deleted came back.
	if _, err := s.Thread(ctx, a, deletedThread.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted thread after recovery: %v, want %v", err, ErrNotFound)
	}
	if bucketExists(t, db, string(messagesBucket), deletedThread.ID) || bucketExists(t, db, string(messagesBucket), resourceThread.ID) {
		t.Error("recovery recreated the messages of a deleted thread")
	}
	if bucketExists(t, db, string(resourcesBucket), resourceB) {
		t.Error("recovery recreated the deleted resource")
	}
	msgs := mustLast(t, s, a, keptThread.ID, 100)
	if got, want := messageIDs(msgs), []string{survivor.ID}; !slices.Equal(got, want) {
		t.Fatalf("messages of the kept thread = %v, want %v", got, want)
	}
	if msgs[0].Status != StatusInterrupted || msgs[0].Content != "still here" {
		t.Errorf("surviving reply = %q %q, want %q %q", msgs[0].Status, msgs[0].Content, StatusInterrupted, "still here")
	}
	if _, err := s.MessageWithNeighbours(ctx, a, deletedThread.ID, deletedWithThread.ID, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("message of the deleted thread after recovery: %v, want %v", err, ErrNotFound)
	}
}

func TestUnindexThreadStreaming(t *testing.T) {
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	first := mustCreateThread(t, s, o, "")
	second := mustCreateThread(t, s, o, "")
	mustAppend(t, s, o, streamingReply(first.ID, "one"))
	mustAppend(t, s, o, streamingReply(first.ID, "two"))
	keptReply := mustAppend(t, s, o, streamingReply(second.ID, "three"))

	err := db.Update(func(tx *bbolt.Tx) error {
		return unindexThreadStreaming(tx, o.ResourceID, first.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := streamingIndex(t, db), []string{indexEntry(o, keptReply)}; !slices.Equal(got, want) {
		t.Errorf("streaming index = %v, want %v", got, want)
	}
}

func TestDeleteThreadUnindexesStreaming(t *testing.T) {
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	deleted := mustCreateThread(t, s, o, "")
	kept := mustCreateThread(t, s, o, "")
	mustAppend(t, s, o, streamingReply(deleted.ID, "one"))
	keptReply := mustAppend(t, s, o, streamingReply(kept.ID, "two"))

	if err := s.DeleteThread(context.Background(), o, deleted.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := streamingIndex(t, db), []string{indexEntry(o, keptReply)}; !slices.Equal(got, want) {
		t.Errorf("streaming index after DeleteThread = %v, want %v", got, want)
	}
}

func TestRecoverInterruptedSkipsStaleEntries(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	th := mustCreateThread(t, s, a, "")
	done := mustAppend(t, s, a, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "whole"})
	streaming := mustAppend(t, s, a, streamingReply(th.ID, "part"))

	// Entries a writer without the index could leave: one for a message
	// that is not streaming, one filed under the wrong resource, one for
	// a thread that does not exist, and a key of the wrong length.
	err := db.Update(func(tx *bbolt.Tx) error {
		if err := indexStreaming(tx, a.ResourceID, th.ID, done.ID, true); err != nil {
			return err
		}
		if err := indexStreaming(tx, b.ResourceID, th.ID, streaming.ID, true); err != nil {
			return err
		}
		if err := indexStreaming(tx, a.ResourceID, NewID(), NewID(), true); err != nil {
			return err
		}
		return tx.Bucket(streamingBucket).Bucket([]byte(a.ResourceID)).Put([]byte("short"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}

	if n := mustRecover(t, s); n != 1 {
		t.Errorf("RecoverInterrupted = %d, want 1", n)
	}
	msgs := mustLast(t, s, a, th.ID, 10)
	if msgs[0].Status != StatusComplete {
		t.Errorf("whole message status = %q, want %q", msgs[0].Status, StatusComplete)
	}
	if msgs[1].Status != StatusInterrupted || msgs[1].Streaming {
		t.Errorf("streaming reply = status %q, streaming %v, want %q, false", msgs[1].Status, msgs[1].Streaming, StatusInterrupted)
	}
	if got := streamingIndex(t, db); len(got) != 0 {
		t.Errorf("streaming index after recovery = %v, want empty", got)
	}
	if _, err := s.Thread(ctx, b, th.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("thread read by the other resource after recovery: %v, want %v", err, ErrNotFound)
	}
}

// A file written before the streaming index existed opens, gains the empty
// index, and has nothing to recover.
func TestRecoverInterruptedSchema3File(t *testing.T) {
	frozen, err := os.ReadFile(frozen3File)
	if err != nil {
		t.Fatalf("read frozen data file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "schema3.db")
	if err := os.WriteFile(path, frozen, 0o600); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	if bucketExists(t, db, string(streamingBucket)) {
		t.Fatal("the frozen file already has a streaming index")
	}
	s, err := Open(db)
	if err != nil {
		t.Fatalf("Open frozen file: %v", err)
	}
	if !bucketExists(t, db, string(streamingBucket)) {
		t.Error("Open did not create the streaming index")
	}

	o := frozenOwner(t)
	before := mustLast(t, s, o, frozen3ThreadID, 100)
	if n := mustRecover(t, s); n != 0 {
		t.Errorf("RecoverInterrupted on the frozen file = %d, want 0", n)
	}
	after := mustLast(t, s, o, frozen3ThreadID, 100)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("messages after recovery = %+v, want %+v", after, before)
	}
	for _, m := range after {
		if m.Streaming || m.OmittedMessages != 0 || m.OmittedRecalled != 0 || m.Versions != nil {
			t.Errorf("old message %s has streaming %v, omitted %d and %d, %d versions, want none", m.ID, m.Streaming, m.OmittedMessages, m.OmittedRecalled, len(m.Versions))
		}
	}
}

// Recall embeds a reply only once it is whole: not while it streams or
// after it is interrupted, but once it is updated to complete.
func TestRecallSkipsIncompleteReply(t *testing.T) {
	ctx := context.Background()
	f := newRecallFixture(t, "", RecallConfig{})
	o := newOwner(resourceA)
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Trains")
	mustAppend(t, f.store, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "Tell me about trains."})
	reply := mustAppend(t, f.store, o, streamingReply(th.ID, "The shinkansen runs from Tokyo"))
	stopped := mustAppend(t, f.store, o, Message{ThreadID: th.ID, Role: RoleAssistant, Content: "The maglev was stopped", Status: StatusIncomplete})
	f.recall.Enqueue(o, th.ID)
	f.wait(t, o)

	if n := f.recall.Status(o).Vectors; n != 1 {
		t.Errorf("with a streaming and a stopped reply the index holds %d vectors, want 1 (the user message)", n)
	}
	for _, r := range f.search(t, o, RecallQuery{Text: "shinkansen maglev", TopK: 5, MessageRange: -1}) {
		if r.Message.ID == reply.ID || r.Message.ID == stopped.ID {
			t.Errorf("incomplete reply %s was recalled", r.Message.ID)
		}
	}

	reply.Content, reply.Status, reply.Streaming = "The shinkansen runs from Tokyo to Osaka.", StatusComplete, false
	if _, err := f.store.UpdateMessage(ctx, o, reply); err != nil {
		t.Fatal(err)
	}
	f.recall.Enqueue(o, th.ID)
	f.wait(t, o)
	if n := f.recall.Status(o).Vectors; n != 2 {
		t.Errorf("after the reply was completed the index holds %d vectors, want 2", n)
	}
	if got := matches(f.search(t, o, RecallQuery{Text: "shinkansen Osaka", TopK: 1})); !slices.Equal(got, []string{reply.Content}) {
		t.Errorf("search for the completed reply = %q, want %q", got, reply.Content)
	}
}

func TestEmbeddableTextStatus(t *testing.T) {
	for _, status := range []Status{StatusComplete, StatusIncomplete, StatusError, StatusInterrupted} {
		m := Message{Role: RoleAssistant, Content: "some text", Status: status}
		got := embeddableText(m)
		if want := status == StatusComplete; (got != "") != want {
			t.Errorf("embeddableText of a %s reply = %q, want text: %v", status, got, want)
		}
	}
}
