package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"hearth/seal"
)

const (
	resourceA = "user_a"
	resourceB = "user_b"
)

// testStart is the first reading of the clock set by stepClock.
var testStart = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// openDB opens the bbolt file at path with the batch delay the app uses and
// closes it when the test ends, unless the test closed it first.
func openDB(tb testing.TB, path string) *bbolt.DB {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatalf("open bbolt %s: %v", path, err)
	}
	db.MaxBatchDelay = time.Millisecond
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

// newOwner returns an owner with the given resource id and a new random key.
func newOwner(resourceID string) Owner {
	return Owner{ResourceID: resourceID, Key: seal.NewKey()}
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
func mustCreateThread(tb testing.TB, s *Store, o Owner, title string) Thread {
	tb.Helper()
	th, err := s.CreateThread(context.Background(), o, title, nil)
	if err != nil {
		tb.Fatalf("CreateThread(%q, %q) error: %v", o.ResourceID, title, err)
	}
	return th
}

// mustAppend appends a message and fails the test if that is rejected.
func mustAppend(tb testing.TB, s *Store, o Owner, m Message) Message {
	tb.Helper()
	stored, err := s.AppendMessage(context.Background(), o, m)
	if err != nil {
		tb.Fatalf("AppendMessage(%q, thread %s) error: %v", o.ResourceID, m.ThreadID, err)
	}
	return stored
}

// mustLast returns the last n messages of a thread and fails the test on an
// error.
func mustLast(tb testing.TB, s *Store, o Owner, threadID string, n int) []Message {
	tb.Helper()
	msgs, err := s.LastMessages(context.Background(), o, threadID, n)
	if err != nil {
		tb.Fatalf("LastMessages(%q, %s, %d) error: %v", o.ResourceID, threadID, n, err)
	}
	return msgs
}

// mustThread returns a thread and fails the test on an error.
func mustThread(tb testing.TB, s *Store, o Owner, threadID string) Thread {
	tb.Helper()
	th, err := s.Thread(context.Background(), o, threadID)
	if err != nil {
		tb.Fatalf("Thread(%q, %s) error: %v", o.ResourceID, threadID, err)
	}
	return th
}

// mustThreads returns all threads of o, newest first, and fails the test on
// an error.
func mustThreads(tb testing.TB, s *Store, o Owner) []Thread {
	tb.Helper()
	threads, next, err := s.Threads(context.Background(), o, ThreadPage{})
	if err != nil {
		tb.Fatalf("Threads(%q) error: %v", o.ResourceID, err)
	}
	if next != "" {
		tb.Errorf("Threads(%q) without a limit returned next cursor %q, want none", o.ResourceID, next)
	}
	return threads
}

// mustReplace stores a new working memory version and fails the test if that
// is rejected.
func mustReplace(tb testing.TB, s *Store, o Owner, u WorkingMemoryUpdate) WorkingMemory {
	tb.Helper()
	wm, err := s.ReplaceWorkingMemory(context.Background(), o, u)
	if err != nil {
		tb.Fatalf("ReplaceWorkingMemory(%q, thread %q, version %d) error: %v", o.ResourceID, u.ThreadID, u.Version, err)
	}
	return wm
}

// mustWorkingMemory returns a working memory document and fails the test on
// an error.
func mustWorkingMemory(tb testing.TB, s *Store, o Owner, threadID string) WorkingMemory {
	tb.Helper()
	wm, err := s.WorkingMemory(context.Background(), o, threadID)
	if err != nil {
		tb.Fatalf("WorkingMemory(%q, thread %q) error: %v", o.ResourceID, threadID, err)
	}
	return wm
}

// wantInputError fails the test unless err is an *InputError for field.
func wantInputError(tb testing.TB, err error, field string) {
	tb.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		tb.Fatalf("error = %v (%T), want *InputError", err, err)
	}
	if ie.Field != field {
		tb.Errorf("InputError.Field = %q, want %q", ie.Field, field)
	}
	if ie.Reason == "" {
		tb.Error("InputError.Reason is empty")
	}
}

// threadIDs returns the ID of each thread.
func threadIDs(threads []Thread) []string {
	out := make([]string, len(threads))
	for i, th := range threads {
		out[i] = th.ID
	}
	return out
}

// messageIDs returns the ID of each message.
func messageIDs(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// sameJSON reports whether a and b encode the same JSON value, ignoring
// spacing and key order.
func sameJSON(tb testing.TB, a, b []byte) bool {
	tb.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		tb.Fatalf("decode JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		tb.Fatalf("decode JSON %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// dumpDB returns every bucket, key, value and bucket sequence of db as lines
// of text, sorted, so that two snapshots can be compared and searched.
func dumpDB(tb testing.TB, db *bbolt.DB) []string {
	tb.Helper()
	var lines []string
	var walk func(path string, b *bbolt.Bucket) error
	walk = func(path string, b *bbolt.Bucket) error {
		lines = append(lines, fmt.Sprintf("%s sequence=%d", path, b.Sequence()))
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return walk(path+"/"+string(k), b.Bucket(k))
			}
			lines = append(lines, fmt.Sprintf("%s/%q=%q", path, k, v))
			return nil
		})
	}
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			return walk(string(name), b)
		})
	})
	if err != nil {
		tb.Fatalf("dump bbolt: %v", err)
	}
	sort.Strings(lines)
	return lines
}

// bucketExists reports whether the nested bucket at path exists.
func bucketExists(tb testing.TB, db *bbolt.DB, path ...string) bool {
	tb.Helper()
	found := false
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(path[0]))
		for _, name := range path[1:] {
			if b == nil {
				return nil
			}
			b = b.Bucket([]byte(name))
		}
		found = b != nil
		return nil
	})
	if err != nil {
		tb.Fatalf("view bbolt: %v", err)
	}
	return found
}

// bucketKeys returns the keys of the nested bucket at path, or nil if it
// does not exist.
func bucketKeys(tb testing.TB, db *bbolt.DB, path ...string) []string {
	tb.Helper()
	var keys []string
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(path[0]))
		for _, name := range path[1:] {
			if b == nil {
				return nil
			}
			b = b.Bucket([]byte(name))
		}
		if b == nil {
			return nil
		}
		keys = []string{}
		return b.ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	if err != nil {
		tb.Fatalf("view bbolt: %v", err)
	}
	return keys
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
		{"urn:uuid:" + id, false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestNewIDOrder(t *testing.T) {
	var ids []string
	for range 1000 {
		ids = append(ids, NewID())
	}
	if !slices.IsSorted(ids) {
		t.Error("NewID returned ids out of order, want each id after the one before")
	}
	if n := len(slices.Compact(slices.Clone(ids))); n != len(ids) {
		t.Errorf("NewID returned %d distinct ids in %d calls", n, len(ids))
	}
}

func TestOwnerRejected(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	key := seal.NewKey()

	tests := []struct {
		name  string
		owner Owner
	}{
		{"empty resource id", Owner{ResourceID: "", Key: key}},
		{"resource id too long", Owner{ResourceID: strings.Repeat("r", maxResourceIDSize+1), Key: key}},
		{"no key", Owner{ResourceID: resourceA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.CreateThread(ctx, tt.owner, "Plans", nil); err == nil {
				t.Error("CreateThread error = nil, want an error")
			}
			if _, _, err := s.Threads(ctx, tt.owner, ThreadPage{}); err == nil {
				t.Error("Threads error = nil, want an error")
			}
			if _, err := s.WorkingMemory(ctx, tt.owner, ""); err == nil {
				t.Error("WorkingMemory error = nil, want an error")
			}
			if _, err := s.ReplaceWorkingMemory(ctx, tt.owner, WorkingMemoryUpdate{Content: "notes"}); err == nil {
				t.Error("ReplaceWorkingMemory error = nil, want an error")
			}
		})
	}

	mustCreateThread(t, s, newOwner(strings.Repeat("r", maxResourceIDSize)), "Plans")
}

func TestDeleteResource(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)

	// Each resource gets two threads with messages, client requests,
	// thread-scoped working memory and a resource-scoped document.
	fill := func(o Owner) (threads []Thread, traces []string) {
		for i := range 2 {
			th := mustCreateThread(t, s, o, fmt.Sprintf("%s thread %d", o.ResourceID, i))
			threads = append(threads, th)
			traces = append(traces, th.ID)
			for j := range 3 {
				m := mustAppend(t, s, o, Message{
					ThreadID: th.ID, Role: RoleUser, Content: fmt.Sprintf("message %d", j),
					ClientRequestID: fmt.Sprintf("%s-req-%d-%d", o.ResourceID, i, j),
				})
				traces = append(traces, m.ID, m.ClientRequestID)
			}
			mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: th.ID, Content: "thread notes"})
		}
		mustReplace(t, s, o, WorkingMemoryUpdate{Content: "resource notes"})
		return threads, append(traces, o.ResourceID)
	}
	threadsB, _ := fill(b)
	onlyB := dumpDB(t, db)
	threadsA, traces := fill(a)

	if err := s.DeleteResource(ctx, resourceA); err != nil {
		t.Fatalf("DeleteResource error: %v", err)
	}

	// Nothing in the file names the deleted resource or any of its ids, and
	// the file holds exactly what it held before the resource wrote anything.
	after := dumpDB(t, db)
	for _, line := range after {
		for _, trace := range traces {
			if strings.Contains(line, trace) {
				t.Errorf("after DeleteResource the file still contains %q: %s", trace, line)
			}
		}
	}
	if !slices.Equal(after, onlyB) {
		t.Errorf("file after DeleteResource:\n%s\nwant the file as it was before %s wrote anything:\n%s",
			strings.Join(after, "\n"), resourceA, strings.Join(onlyB, "\n"))
	}

	if threads := mustThreads(t, s, a); len(threads) != 0 {
		t.Errorf("Threads(%q) after DeleteResource = %d threads, want 0", resourceA, len(threads))
	}
	if wm := mustWorkingMemory(t, s, a, ""); wm.Version != 0 || wm.Content != "" {
		t.Errorf("resource working memory after DeleteResource = version %d, %q, want version 0 and empty", wm.Version, wm.Content)
	}
	for _, th := range threadsA {
		if _, err := s.Thread(ctx, a, th.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("Thread(%s) after DeleteResource error = %v, want %v", th.ID, err, ErrNotFound)
		}
	}

	if got := threadIDs(mustThreads(t, s, b)); len(got) != 2 {
		t.Errorf("Threads(%q) = %v, want its 2 threads", resourceB, got)
	}
	for _, th := range threadsB {
		wantContents(t, mustLast(t, s, b, th.ID, 10), []string{"message 0", "message 1", "message 2"})
		if wm := mustWorkingMemory(t, s, b, th.ID); wm.Content != "thread notes" {
			t.Errorf("thread working memory of %s = %q, want %q", resourceB, wm.Content, "thread notes")
		}
	}
	if wm := mustWorkingMemory(t, s, b, ""); wm.Content != "resource notes" {
		t.Errorf("resource working memory of %s = %q, want %q", resourceB, wm.Content, "resource notes")
	}

	// A deleted resource can start again.
	mustCreateThread(t, s, a, "fresh start")
}

func TestDeleteResourceWorkingMemoryOnly(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	a := newOwner(resourceA)
	mustReplace(t, s, a, WorkingMemoryUpdate{Content: "notes"})

	if err := s.DeleteResource(ctx, resourceA); err != nil {
		t.Fatalf("DeleteResource error: %v", err)
	}
	if bucketExists(t, db, string(workingBucket), string(resourceScopeKey(resourceA))) {
		t.Error("resource working memory bucket still exists after DeleteResource")
	}
	if err := s.DeleteResource(ctx, "user_never_seen"); err != nil {
		t.Errorf("DeleteResource of a resource without data error = %v, want nil", err)
	}
}

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
func wantContents(tb testing.TB, msgs []Message, want []string) {
	tb.Helper()
	got := contents(msgs)
	if len(got) != len(want) {
		tb.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			tb.Fatalf("message %d content = %q, want %q", i, got[i], want[i])
		}
	}
}
