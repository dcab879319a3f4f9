package memory

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// The frozen data file testdata/schema3.db was written by
// TestWriteSchema3Testdata. Like schema2.db, its checks must not be changed
// to fit new code. It holds the frozen messages of schema2.db in a thread
// started with StartThread, so that the resource's client request index has
// an entry, and a damaged mark on that thread.
const (
	frozen3File = "testdata/schema3.db"
	// frozen3ThreadID is the id that StartThread gave the thread when the
	// file was written.
	frozen3ThreadID = "01a243a0-9684-79ca-893a-eb3d56a6ee01"
)

// TestWriteSchema3Testdata writes testdata/schema3.db. It runs only with
// -update-testdata and never overwrites the file.
func TestWriteSchema3Testdata(t *testing.T) {
	if !*updateTestdata {
		t.Skip("writes testdata only with -update-testdata")
	}
	if _, err := os.Stat(frozen3File); err == nil {
		t.Fatalf("%s exists and is frozen. Delete it by hand only if no release has written schema 3.", frozen3File)
	}
	if schemaVersion != 3 {
		t.Fatalf("this code writes schema %d, so it cannot write %s", schemaVersion, frozen3File)
	}
	ctx := context.Background()
	o := frozenOwner(t)
	s, db := openStore(t, frozen3File)
	stepClock(s)

	// Clock readings: the thread and its first message at +0s, the other
	// messages at +1s to +4s, the reply's completion at +5s, the damaged
	// mark at +6s, working memory from +7s on.
	th, _, err := s.StartThread(ctx, o, frozenTitle, frozenMessages[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range frozenMessages[1:] {
		m.ThreadID = th.ID
		if m.ID == frozenMessages[3].ID {
			m.Status = StatusIncomplete
		}
		mustAppend(t, s, o, m)
	}
	reply := frozenMessages[3]
	reply.ThreadID = th.ID
	if _, err := s.UpdateMessage(ctx, o, reply); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkThreadDamaged(ctx, o, th.ID); err != nil {
		t.Fatal(err)
	}
	for i, content := range frozenWorkingMemory {
		mustReplace(t, s, o, WorkingMemoryUpdate{Content: content, Version: i})
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s with thread %s: set frozen3ThreadID to it", frozen3File, th.ID)
}

func TestOpenSchema3Testdata(t *testing.T) {
	ctx := context.Background()
	frozen, err := os.ReadFile(frozen3File)
	if err != nil {
		t.Fatalf("read frozen data file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "schema3.db")
	if err := os.WriteFile(path, frozen, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		now, err := os.ReadFile(frozen3File)
		if err != nil || sha256.Sum256(now) != sha256.Sum256(frozen) {
			t.Errorf("%s changed during the test. Restore it from version control.", frozen3File)
		}
	})

	db := openDB(t, path)
	if got := binary.BigEndian.Uint64(readSchema(t, db)); got != 3 {
		t.Fatalf("frozen file schema version = %d, want 3", got)
	}
	s, err := Open(db)
	if err != nil {
		t.Fatalf("Open frozen file: %v", err)
	}
	o := frozenOwner(t)
	at := func(seconds int) time.Time { return testStart.Add(time.Duration(seconds) * time.Second) }

	// The thread, with its damaged mark.
	threads := mustThreads(t, s, o)
	if len(threads) != 1 {
		t.Fatalf("Threads = %d threads, want 1", len(threads))
	}
	th := threads[0]
	if th.ID != frozen3ThreadID || th.Title != frozenTitle || th.ResourceID != frozenResource || th.Damaged || !th.DamagedMessages {
		t.Errorf("thread = %+v, want %s titled %q of %s, marked as having damaged messages", th, frozen3ThreadID, frozenTitle, frozenResource)
	}
	if !th.CreatedAt.Equal(at(0)) || !th.UpdatedAt.Equal(at(5)) || th.MessageCount != len(frozenMessages) {
		t.Errorf("thread CreatedAt, UpdatedAt, MessageCount = %v, %v, %d, want %v, %v, %d",
			th.CreatedAt, th.UpdatedAt, th.MessageCount, at(0), at(5), len(frozenMessages))
	}

	// The messages, every field.
	msgs := mustLast(t, s, o, th.ID, 100)
	if len(msgs) != len(frozenMessages) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(frozenMessages))
	}
	for i, got := range msgs {
		want := frozenMessages[i]
		want.ThreadID = th.ID
		want.CreatedAt = at(i)
		if !slices.EqualFunc(got.Parts, want.Parts, func(a, b Part) bool { return partsEqual(t, a, b) }) {
			t.Errorf("message %d parts = %+v, want %+v", i, got.Parts, want.Parts)
		}
		got.Parts, want.Parts = nil, nil
		if !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("message %d CreatedAt = %v, want %v", i, got.CreatedAt, want.CreatedAt)
		}
		got.CreatedAt = want.CreatedAt
		if !reflect.DeepEqual(got, want) {
			t.Errorf("message %d = %+v, want %+v", i, got, want)
		}
	}

	// Working memory.
	if wm := mustWorkingMemory(t, s, o, ""); wm.Version != len(frozenWorkingMemory) || wm.Content != frozenWorkingMemory[len(frozenWorkingMemory)-1] {
		t.Errorf("resource working memory = version %d, %q, want version %d, %q",
			wm.Version, wm.Content, len(frozenWorkingMemory), frozenWorkingMemory[len(frozenWorkingMemory)-1])
	}

	// The indexes work: the client request id is found for the resource and
	// for the thread, and the mark is kept.
	if m, err := s.MessageByRequest(ctx, o, frozenMessages[0].ClientRequestID); err != nil || m.ID != frozenMessages[0].ID {
		t.Errorf("MessageByRequest = %s, %v, want %s", m.ID, err, frozenMessages[0].ID)
	}
	started, dup, err := s.StartThread(ctx, o, "", Message{Role: RoleUser, Content: "again", ClientRequestID: frozenMessages[0].ClientRequestID})
	if !errors.Is(err, ErrDuplicate) || started.ID != th.ID || dup.ID != frozenMessages[0].ID {
		t.Errorf("StartThread with the stored client request id = %s, %s, %v, want %s, %s, %v", started.ID, dup.ID, err, th.ID, frozenMessages[0].ID, ErrDuplicate)
	}
	appended, err := s.AppendMessage(ctx, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "again", ClientRequestID: frozenMessages[0].ClientRequestID})
	if !errors.Is(err, ErrDuplicate) || appended.ID != frozenMessages[0].ID {
		t.Errorf("AppendMessage with the stored client request id = %s, %v, want %s, %v", appended.ID, err, frozenMessages[0].ID, ErrDuplicate)
	}
	if marked, err := s.MarkThreadDamaged(ctx, o, th.ID); err != nil || marked {
		t.Errorf("MarkThreadDamaged of the marked thread = %v, %v, want false, nil", marked, err)
	}
}
