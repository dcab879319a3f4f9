package memory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestThreadModelDefault(t *testing.T) {
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	if th.Model != "" {
		t.Errorf("new thread model = %q, want empty", th.Model)
	}
	if got := mustThread(t, s, o, th.ID); got.Model != "" {
		t.Errorf("Thread model = %q, want empty", got.Model)
	}
}

func TestThreadModelUpdate(t *testing.T) {
	ctx := context.Background()
	s, db, path := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "trip")
	other := mustCreateThread(t, s, o, "other")

	model := "qwen2.5:7b"
	updated, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Model: &model})
	if err != nil {
		t.Fatalf("UpdateThread error: %v", err)
	}
	if updated.Model != model || updated.Title != "trip" {
		t.Errorf("updated thread = model %q, title %q, want %q, %q", updated.Model, updated.Title, model, "trip")
	}

	// The choice is sealed, survives a reopen, shows in the list and
	// belongs to its thread only.
	for _, line := range dumpDB(t, db) {
		if strings.Contains(line, model) {
			t.Errorf("the data file contains the model name in the clear: %s", line)
		}
	}
	s = reopen(t, s, path)
	if got := mustThread(t, s, o, th.ID); got.Model != model {
		t.Errorf("Thread model after reopening = %q, want %q", got.Model, model)
	}
	for _, listed := range mustThreads(t, s, o) {
		want := ""
		if listed.ID == th.ID {
			want = model
		}
		if listed.Model != want {
			t.Errorf("listed thread %s model = %q, want %q", listed.ID, listed.Model, want)
		}
	}
	if got := mustThread(t, s, o, other.ID); got.Model != "" {
		t.Errorf("other thread model = %q, want empty", got.Model)
	}

	// A title change keeps the model; an empty model clears it.
	title := "trip to Lisbon"
	renamed, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Title: &title})
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Model != model || renamed.Title != title {
		t.Errorf("renamed thread = model %q, title %q, want %q, %q", renamed.Model, renamed.Title, model, title)
	}
	empty := ""
	cleared, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Model: &empty})
	if err != nil {
		t.Fatal(err)
	}
	if cleared.Model != "" {
		t.Errorf("cleared thread model = %q, want empty", cleared.Model)
	}
	if got := mustThread(t, s, o, th.ID); got.Model != "" {
		t.Errorf("Thread model after clearing = %q, want empty", got.Model)
	}
}

func TestThreadModelRejected(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "")
	before := dumpDB(t, db)

	for _, model := range []string{"llama 3", "llama\n3", strings.Repeat("m", maxModelBytes+1), "bad\xff"} {
		_, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Model: &model})
		wantInputError(t, err, "model")
	}
	if after := dumpDB(t, db); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Error("rejected model names changed the data file")
	}
}

func TestThreadModelOtherResource(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	th := mustCreateThread(t, s, a, "")
	model := "mistral"
	if _, err := s.UpdateThread(ctx, b, th.ID, ThreadUpdate{Model: &model}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateThread of another resource's thread error = %v, want %v", err, ErrNotFound)
	}
	if got := mustThread(t, s, a, th.ID); got.Model != "" {
		t.Errorf("thread model after another resource's update = %q, want empty", got.Model)
	}
}

func TestThreadModelForkAndDelete(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "source")
	m := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hello"})
	model := "phi3:mini"
	if _, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Model: &model}); err != nil {
		t.Fatal(err)
	}

	fork, err := s.ForkThread(ctx, o, th.ID, m.ID)
	if err != nil {
		t.Fatalf("ForkThread error: %v", err)
	}
	if fork.Model != model {
		t.Errorf("fork model = %q, want %q", fork.Model, model)
	}
	if got := mustThread(t, s, o, fork.ID); got.Model != model {
		t.Errorf("Thread model of the fork = %q, want %q", got.Model, model)
	}

	for _, id := range []string{th.ID, fork.ID} {
		if err := s.DeleteThread(ctx, o, id); err != nil {
			t.Fatalf("DeleteThread error: %v", err)
		}
	}
	if keys := bucketKeys(t, db, string(resourcesBucket), resourceA, string(threadModels)); len(keys) != 0 {
		t.Errorf("model entries after deleting both threads = %v, want none", keys)
	}
}

// TestThreadModelFrozenFile chooses a model for the thread of the frozen
// schema 3 data file, written before threads had models.
func TestThreadModelFrozenFile(t *testing.T) {
	ctx := context.Background()
	frozen, err := os.ReadFile(frozen3File)
	if err != nil {
		t.Fatalf("read frozen data file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "schema3.db")
	if err := os.WriteFile(path, frozen, 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := openStore(t, path)
	o := frozenOwner(t)

	th := mustThread(t, s, o, frozen3ThreadID)
	if th.Model != "" || th.Damaged || th.Title != frozenTitle {
		t.Errorf("frozen thread = model %q, damaged %v, title %q, want no model, not damaged, %q", th.Model, th.Damaged, th.Title, frozenTitle)
	}
	model := "gemma2"
	updated, err := s.UpdateThread(ctx, o, frozen3ThreadID, ThreadUpdate{Model: &model})
	if err != nil {
		t.Fatalf("UpdateThread of the frozen thread error: %v", err)
	}
	if updated.Model != model || updated.Title != frozenTitle || !updated.DamagedMessages {
		t.Errorf("updated frozen thread = model %q, title %q, damaged messages %v, want %q, %q, true", updated.Model, updated.Title, updated.DamagedMessages, model, frozenTitle)
	}
	if got := mustThread(t, s, o, frozen3ThreadID); got.Model != model {
		t.Errorf("Thread model = %q, want %q", got.Model, model)
	}
}
