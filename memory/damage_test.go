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

// damageMessage flips a byte of a message's sealed fields, as a change made
// to the file outside Hearth would.
func damageMessage(tb testing.TB, db *bbolt.DB, threadID, messageID string) {
	tb.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		msgs, key, err := messageKey(tx, threadID, messageID)
		if err != nil {
			return err
		}
		var mr messageRecord
		if err := json.Unmarshal(msgs.Get(key), &mr); err != nil {
			return err
		}
		mr.Sealed[len(mr.Sealed)-1] ^= 0xff
		return putMessageRecord(msgs, key, &mr)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestMarkThreadDamaged(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	hurt := mustCreateThread(t, s, o, "Hurt")
	whole := mustCreateThread(t, s, o, "Whole")
	bad := mustAppend(t, s, o, Message{ThreadID: hurt.ID, Role: RoleUser, Content: "damaged soon"})
	mustAppend(t, s, o, Message{ThreadID: hurt.ID, Role: RoleUser, Content: "still fine"})
	mustAppend(t, s, o, Message{ThreadID: whole.ID, Role: RoleUser, Content: "fine"})
	damageMessage(t, db, hurt.ID, bad.ID)

	msgs := mustLast(t, s, o, hurt.ID, 10)
	if len(msgs) != 2 || !msgs[0].Damaged || msgs[1].Damaged || msgs[1].Content != "still fine" {
		t.Fatalf("messages = %+v, want the first damaged and the second intact", msgs)
	}
	if mustThread(t, s, o, hurt.ID).DamagedMessages {
		t.Error("thread marked before MarkThreadDamaged")
	}

	for i, want := range []bool{true, false} {
		marked, err := s.MarkThreadDamaged(ctx, o, hurt.ID)
		if err != nil || marked != want {
			t.Errorf("MarkThreadDamaged call %d = %v, %v, want %v, nil", i+1, marked, err, want)
		}
	}

	for _, th := range mustThreads(t, s, o) {
		wantMarked := th.ID == hurt.ID
		if th.DamagedMessages != wantMarked || th.Damaged {
			t.Errorf("listed thread %q DamagedMessages, Damaged = %v, %v, want %v, false", th.Title, th.DamagedMessages, th.Damaged, wantMarked)
		}
	}
	if got := mustThread(t, s, o, hurt.ID); !got.DamagedMessages || got.Title != "Hurt" {
		t.Errorf("Thread = %+v, want its title and DamagedMessages", got)
	}
	title := "Hurt, renamed"
	if got, err := s.UpdateThread(ctx, o, hurt.ID, ThreadUpdate{Title: &title}); err != nil || !got.DamagedMessages {
		t.Errorf("UpdateThread = %+v, %v, want DamagedMessages kept", got, err)
	}

	// The mark does not stop the thread from being written to.
	mustAppend(t, s, o, Message{ThreadID: hurt.ID, Role: RoleUser, Content: "after the damage"})
}
