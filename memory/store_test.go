package memory

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"
)

const (
	resourceA = "user_a"
	resourceB = "user_b"
)

// testStart is the first reading of the clock set by stepClock.
var testStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// openDB opens the bbolt file at path and closes it when the test ends,
// unless the test closed it first.
func openDB(tb testing.TB, path string) *bbolt.DB {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatalf("open bbolt %s: %v", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil && !errors.Is(err, bbolt.ErrDatabaseNotOpen) {
			tb.Errorf("close bbolt: %v", err)
		}
	})
	return db
}

// openStore opens a Store on the bbolt file at path.
func openStore(tb testing.TB, path string) (*Store, *bbolt.DB) {
	tb.Helper()
	db := openDB(tb, path)
	s, err := Open(db)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	return s, db
}

// newStore opens a Store on a fresh bbolt file in a temporary directory and
// returns the file's path too.
func newStore(tb testing.TB) (*Store, *bbolt.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "hearth.db")
	s, db := openStore(tb, path)
	return s, db, path
}

// stepClock makes s read a clock that starts at testStart and moves one
// second forward on every reading, so that each write has its own time.
func stepClock(s *Store) {
	var mu sync.Mutex
	next := testStart
	s.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Second)
		return t
	}
}

// mustCreateThread creates a thread and fails the test if that is rejected.
func mustCreateThread(tb testing.TB, s *Store, resourceID, title string) Thread {
	tb.Helper()
	th, err := s.CreateThread(context.Background(), resourceID, title)
	if err != nil {
		tb.Fatalf("CreateThread(%q, %q) error: %v", resourceID, title, err)
	}
	return th
}

// mustAppend appends a message and fails the test if that is rejected.
func mustAppend(tb testing.TB, s *Store, resourceID string, m Message) Message {
	tb.Helper()
	stored, err := s.AppendMessage(context.Background(), resourceID, m)
	if err != nil {
		tb.Fatalf("AppendMessage(%q, thread %s) error: %v", resourceID, m.ThreadID, err)
	}
	return stored
}

// mustLast returns the last n messages of a thread and fails the test on an
// error.
func mustLast(tb testing.TB, s *Store, resourceID, threadID string, n int) []Message {
	tb.Helper()
	msgs, err := s.LastMessages(context.Background(), resourceID, threadID, n)
	if err != nil {
		tb.Fatalf("LastMessages(%q, %s, %d) error: %v", resourceID, threadID, n, err)
	}
	return msgs
}

// mustThread returns a thread and fails the test on an error.
func mustThread(tb testing.TB, s *Store, resourceID, threadID string) Thread {
	tb.Helper()
	th, err := s.Thread(context.Background(), resourceID, threadID)
	if err != nil {
		tb.Fatalf("Thread(%q, %s) error: %v", resourceID, threadID, err)
	}
	return th
}

// wantInputError fails the test unless err is an *InputError for field.
func wantInputError(t *testing.T, err error, field string) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *InputError", err, err)
	}
	if ie.Field != field {
		t.Errorf("InputError.Field = %q, want %q", ie.Field, field)
	}
	if ie.Reason == "" {
		t.Error("InputError.Reason is empty")
	}
}

func TestCreateThreadTitle(t *testing.T) {
	tests := []struct {
		name  string
		title string
		want  string
	}{
		{"empty", "", DefaultThreadTitle},
		{"spaces only", "  \t\n ", DefaultThreadTitle},
		{"trimmed", "  Trip to Lisbon \n", "Trip to Lisbon"},
		{"200 characters", strings.Repeat("a", 200), strings.Repeat("a", 200)},
		{"200 multi-byte characters", strings.Repeat("日", 200), strings.Repeat("日", 200)},
		{"201 characters before trimming", " " + strings.Repeat("a", 200), strings.Repeat("a", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			th := mustCreateThread(t, s, resourceA, tt.title)
			if th.Title != tt.want {
				t.Errorf("Title = %q, want %q", th.Title, tt.want)
			}
			if got := mustThread(t, s, resourceA, th.ID).Title; got != tt.want {
				t.Errorf("stored Title = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCreateThreadRejected(t *testing.T) {
	tests := []struct {
		name  string
		title string
	}{
		{"201 characters", strings.Repeat("a", 201)},
		{"201 multi-byte characters", strings.Repeat("日", 201)},
		{"invalid UTF-8", "Trip\xff"},
		{"NUL", "Trip\x00"},
		{"inner line break", "Trip\nto Rome"},
		{"bidi override", "Trip\u202eemoR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			_, err := s.CreateThread(context.Background(), resourceA, tt.title)
			wantInputError(t, err, "title")

			threads, err := s.Threads(context.Background(), resourceA)
			if err != nil {
				t.Fatal(err)
			}
			if len(threads) != 0 {
				t.Errorf("Threads has %d threads after a rejected create, want 0", len(threads))
			}
		})
	}
}

func TestCreateThreadResourceID(t *testing.T) {
	s, _, _ := newStore(t)
	for _, id := range []string{"", strings.Repeat("r", maxResourceIDSize+1)} {
		if _, err := s.CreateThread(context.Background(), id, "Plans"); err == nil {
			t.Errorf("CreateThread(resource id of %d bytes) error = nil, want an error", len(id))
		}
	}
	mustCreateThread(t, s, strings.Repeat("r", maxResourceIDSize), "Plans")
}

func TestCreateThreadFields(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)

	th := mustCreateThread(t, s, resourceA, "Plans")

	if !ValidID(th.ID) {
		t.Errorf("ID %q is not a valid id", th.ID)
	}
	if th.ResourceID != resourceA {
		t.Errorf("ResourceID = %q, want %q", th.ResourceID, resourceA)
	}
	if !th.CreatedAt.Equal(testStart) || !th.UpdatedAt.Equal(testStart) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v, want %v", th.CreatedAt, th.UpdatedAt, testStart)
	}
	if th.MessageCount != 0 {
		t.Errorf("MessageCount = %d, want 0", th.MessageCount)
	}
	if string(th.Metadata) != "{}" {
		t.Errorf("Metadata = %s, want {}", th.Metadata)
	}

	got := mustThread(t, s, resourceA, th.ID)
	if got.ID != th.ID || got.Title != th.Title || !got.CreatedAt.Equal(th.CreatedAt) || !got.UpdatedAt.Equal(th.UpdatedAt) {
		t.Errorf("Thread = %+v, want %+v", got, th)
	}
}

func TestThreadsOrder(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)

	first := mustCreateThread(t, s, resourceA, "first")
	second := mustCreateThread(t, s, resourceA, "second")
	third := mustCreateThread(t, s, resourceA, "third")
	mustCreateThread(t, s, resourceB, "someone else's")

	wantOrder := func(t *testing.T, want ...Thread) {
		t.Helper()
		threads, err := s.Threads(ctx, resourceA)
		if err != nil {
			t.Fatalf("Threads error: %v", err)
		}
		var got, wantTitles []string
		for _, th := range threads {
			got = append(got, th.Title)
		}
		for _, th := range want {
			wantTitles = append(wantTitles, th.Title)
		}
		if strings.Join(got, ",") != strings.Join(wantTitles, ",") {
			t.Errorf("Threads order = %v, want %v", got, wantTitles)
		}
	}

	wantOrder(t, third, second, first)

	appended := mustAppend(t, s, resourceA, Message{ThreadID: first.ID, Role: RoleUser, Content: "hello"})
	wantOrder(t, first, third, second)
	if got := mustThread(t, s, resourceA, first.ID).UpdatedAt; !got.Equal(appended.CreatedAt) {
		t.Errorf("UpdatedAt after append = %v, want message CreatedAt %v", got, appended.CreatedAt)
	}

	reply := mustAppend(t, s, resourceA, Message{ThreadID: second.ID, Role: RoleAssistant, Content: "hi", Status: StatusIncomplete})
	wantOrder(t, second, first, third)

	mustAppend(t, s, resourceA, Message{ThreadID: third.ID, Role: RoleUser, Content: "hey"})
	wantOrder(t, third, second, first)

	// Completing a streamed reply counts as an update of its thread.
	reply.Content, reply.Status = "hi there", StatusComplete
	if _, err := s.UpdateMessage(ctx, resourceA, reply); err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}
	wantOrder(t, second, third, first)
}

func TestThreadsOrderSameTime(t *testing.T) {
	s, _, _ := newStore(t)
	s.now = func() time.Time { return testStart }

	var want []string
	for i := 0; i < 5; i++ {
		want = append([]string{mustCreateThread(t, s, resourceA, "").ID}, want...)
	}

	threads, err := s.Threads(context.Background(), resourceA)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, th := range threads {
		got = append(got, th.ID)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Threads ids = %v, want newest id first %v", got, want)
	}
}

func TestOwnership(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "private")
	msg := mustAppend(t, s, resourceA, Message{ThreadID: th.ID, Role: RoleUser, Content: "secret"})
	missing := NewID()

	// Each operation runs on A's thread as B, and on a thread id that does
	// not exist as B and as A. All three errors must match apart from the id.
	ops := []struct {
		name string
		run  func(resourceID, threadID string) error
	}{
		{"Thread", func(resourceID, threadID string) error {
			_, err := s.Thread(ctx, resourceID, threadID)
			return err
		}},
		{"LastMessages", func(resourceID, threadID string) error {
			_, err := s.LastMessages(ctx, resourceID, threadID, 10)
			return err
		}},
		{"AppendMessage", func(resourceID, threadID string) error {
			_, err := s.AppendMessage(ctx, resourceID, Message{ThreadID: threadID, Role: RoleUser, Content: "intrusion"})
			return err
		}},
		{"UpdateMessage", func(resourceID, threadID string) error {
			_, err := s.UpdateMessage(ctx, resourceID, Message{ID: msg.ID, ThreadID: threadID, Role: RoleUser, Content: "overwritten"})
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			foreign := op.run(resourceB, th.ID)
			absent := op.run(resourceB, missing)
			absentOwn := op.run(resourceA, missing)

			for _, err := range []error{foreign, absent, absentOwn} {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("error = %v, want %v", err, ErrNotFound)
				}
			}
			if foreign == nil || absent == nil || absentOwn == nil {
				return
			}
			got := strings.ReplaceAll(foreign.Error(), th.ID, "<id>")
			want := strings.ReplaceAll(absent.Error(), missing, "<id>")
			if got != want {
				t.Errorf("error for another resource's thread = %q, want the same as for a missing thread %q", got, want)
			}
			if own := strings.ReplaceAll(absentOwn.Error(), missing, "<id>"); own != want {
				t.Errorf("error for the owner's missing thread = %q, want %q", own, want)
			}
		})
	}

	threads, err := s.Threads(ctx, resourceB)
	if err != nil {
		t.Fatalf("Threads error: %v", err)
	}
	if len(threads) != 0 {
		t.Errorf("Threads(%q) = %d threads, want 0", resourceB, len(threads))
	}

	// A's thread is unchanged by B's attempts.
	msgs := mustLast(t, s, resourceA, th.ID, 10)
	if len(msgs) != 1 || msgs[0].Content != "secret" {
		t.Errorf("A's messages = %+v, want the one message %q", msgs, "secret")
	}
	if got := mustThread(t, s, resourceA, th.ID).MessageCount; got != 1 {
		t.Errorf("MessageCount = %d, want 1", got)
	}
}

func TestMalformedThreadID(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	th := mustCreateThread(t, s, resourceA, "Plans")
	v4 := uuid.NewString()

	ids := []struct {
		name string
		id   string
	}{
		{"empty", ""},
		{"not a UUID", "thread-1"},
		{"uppercase", strings.ToUpper(th.ID)},
		{"UUIDv4", v4},
		{"no hyphens", strings.ReplaceAll(th.ID, "-", "")},
		{"braces", "{" + th.ID + "}"},
		{"URN", "urn:uuid:" + th.ID},
		{"trailing space", th.ID + " "},
		{"path", "../" + th.ID},
	}
	for _, tt := range ids {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Thread(ctx, resourceA, tt.id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Thread error = %v, want %v", err, ErrNotFound)
			}
			if _, err := s.LastMessages(ctx, resourceA, tt.id, 10); !errors.Is(err, ErrNotFound) {
				t.Errorf("LastMessages error = %v, want %v", err, ErrNotFound)
			}
			_, err := s.AppendMessage(ctx, resourceA, Message{ThreadID: tt.id, Role: RoleUser, Content: "hi"})
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("AppendMessage error = %v, want %v", err, ErrNotFound)
			}
		})
	}

	if _, err := s.Thread(ctx, "", th.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Thread with empty resource id: error = %v, want %v", err, ErrNotFound)
	}
}

func TestValidID(t *testing.T) {
	id := NewID()
	tests := []struct {
		id   string
		want bool
	}{
		{id, true},
		{"01936b2e-1e8a-7c3b-9f4d-2a6b8c0d1e2f", true},
		{"01936B2E-1E8A-7C3B-9F4D-2A6B8C0D1E2F", false},
		{"01936b2e-1e8a-4c3b-9f4d-2a6b8c0d1e2f", false},
		{"01936b2e1e8a7c3b9f4d2a6b8c0d1e2f", false},
		{"{" + id + "}", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hearth.db")
	_, db := openStore(t, path)
	err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(metaBucket).Put(schemaKey, binary.BigEndian.AppendUint64(nil, schemaVersion+1))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	if _, err := Open(db); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open error = %v, want %v", err, ErrNewerSchema)
	}
}

func TestOpenMalformedSchema(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "hearth.db"))
	err := db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		return meta.Put(schemaKey, []byte{1})
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := Open(db); err == nil {
		t.Error("Open error = nil, want an error for a 1-byte schema version")
	}
}

func TestOpenWritesSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hearth.db")
	_, db := openStore(t, path)

	var got []byte
	err := db.View(func(tx *bbolt.Tx) error {
		got = append(got, tx.Bucket(metaBucket).Get(schemaKey)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := binary.BigEndian.AppendUint64(nil, schemaVersion)
	if string(got) != string(want) {
		t.Errorf("schema version bytes = %x, want %x", got, want)
	}

	// A second Open on the same file keeps working.
	if _, err := Open(db); err != nil {
		t.Errorf("second Open error = %v", err)
	}
}
