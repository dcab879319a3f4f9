package memory

import (
	"context"
	"encoding/json"
	"testing"

	"go.etcd.io/bbolt"
)

func TestWrongKeyWritesRejected(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	owner := newOwner("user_a")
	thread := mustCreateThread(t, s, owner, "Mine")
	mustAppend(t, s, owner, Message{ThreadID: thread.ID, Role: RoleUser, Content: "first"})
	mustReplace(t, s, owner, WorkingMemoryUpdate{Content: "# Notes", Version: 0})

	// The same resource with another key: nothing it writes may land where
	// the real owner would then find it damaged.
	impostor := newOwner("user_a")
	if _, err := s.AppendMessage(ctx, impostor, Message{ThreadID: thread.ID, Role: RoleUser, Content: "forged"}); err == nil {
		t.Error("AppendMessage with the wrong key succeeded")
	}
	last := mustLast(t, s, owner, thread.ID, 10)
	if _, err := s.UpdateMessage(ctx, impostor, Message{ID: last[0].ID, ThreadID: thread.ID, Role: RoleUser, Content: "changed"}); err == nil {
		t.Error("UpdateMessage with the wrong key succeeded")
	}
	if _, err := s.ReplaceWorkingMemory(ctx, impostor, WorkingMemoryUpdate{Content: "# Forged", Version: 1}); err == nil {
		t.Error("ReplaceWorkingMemory with the wrong key succeeded")
	}

	got := mustLast(t, s, owner, thread.ID, 10)
	if len(got) != 1 || got[0].Content != "first" || got[0].Damaged {
		t.Fatalf("messages after the refused writes = %+v, want the one original message", got)
	}
	if wm := mustWorkingMemory(t, s, owner, ""); wm.Content != "# Notes" || wm.Damaged {
		t.Fatalf("working memory after the refused write = %+v", wm)
	}
}

func TestInvalidPartJSON(t *testing.T) {
	s, _, _ := newStore(t)
	owner := newOwner("user_a")
	thread := mustCreateThread(t, s, owner, "Tools")
	for _, part := range []Part{
		{Type: "tool-call", ToolName: "update", Input: json.RawMessage(`{"content":`)},
		{Type: "tool-result", ToolName: "update", Output: json.RawMessage(`not json`)},
	} {
		_, err := s.AppendMessage(context.Background(), owner, Message{ThreadID: thread.ID, Role: RoleAssistant, Parts: []Part{part}})
		wantInputError(t, err, "parts")
	}
}

func TestUnreadableThreadRecordListed(t *testing.T) {
	s, db, _ := newStore(t)
	owner := newOwner("user_a")
	good := mustCreateThread(t, s, owner, "Good")
	bad := mustCreateThread(t, s, owner, "Bad")
	err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(threadsBucket).Put([]byte(bad.ID), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}

	threads := mustThreads(t, s, owner)
	if len(threads) != 2 {
		t.Fatalf("listed %d threads, want 2", len(threads))
	}
	for _, th := range threads {
		switch th.ID {
		case good.ID:
			if th.Damaged || th.Title != "Good" {
				t.Errorf("good thread = %+v", th)
			}
		case bad.ID:
			if !th.Damaged {
				t.Errorf("unreadable thread = %+v, want Damaged", th)
			}
		}
	}
}
