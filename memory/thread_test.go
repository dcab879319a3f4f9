package memory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"
)

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
		{"emoji with joiners", "Family 👩‍👩‍👧‍👦 trip 🇵🇹", "Family 👩‍👩‍👧‍👦 trip 🇵🇹"},
		{"combining marks", "Jose\u0301 y Zoe\u0308", "Jose\u0301 y Zoe\u0308"},
		{"right-to-left", "שלום עולם مرحبا", "שלום עולם مرحبا"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			o := newOwner(resourceA)
			th := mustCreateThread(t, s, o, tt.title)
			if th.Title != tt.want {
				t.Errorf("Title = %q, want %q", th.Title, tt.want)
			}
			if got := mustThread(t, s, o, th.ID).Title; got != tt.want {
				t.Errorf("stored Title = %q, want %q", got, tt.want)
			}
		})
	}
}

// rejectedTitles are titles that CreateThread and UpdateThread reject.
var rejectedTitles = []struct {
	name  string
	title string
}{
	{"201 characters", strings.Repeat("a", 201)},
	{"201 multi-byte characters", strings.Repeat("日", 201)},
	{"invalid UTF-8", "Trip\xff"},
	{"NUL", "Trip\x00"},
	{"escape", "Trip\x1b[31m"},
	{"inner line break", "Trip\nto Rome"},
	{"line separator", "Trip\u2028to Rome"},
	{"bidi override", "Trip\u202eemoR"},
	{"bidi isolate", "Trip \u2067x\u2069"},
	{"right-to-left mark", "Trip\u200f"},
	{"zero width space", "Trip\u200bto"},
}

func TestCreateThreadRejected(t *testing.T) {
	for _, tt := range rejectedTitles {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			o := newOwner(resourceA)
			_, err := s.CreateThread(context.Background(), o, tt.title, nil)
			wantInputError(t, err, "title")

			if threads := mustThreads(t, s, o); len(threads) != 0 {
				t.Errorf("Threads has %d threads after a rejected create, want 0", len(threads))
			}
		})
	}
}

func TestCreateThreadFields(t *testing.T) {
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)

	th := mustCreateThread(t, s, o, "Plans")

	if !ValidID(th.ID) {
		t.Errorf("ID %q is not a valid id", th.ID)
	}
	if th.ResourceID != resourceA {
		t.Errorf("ResourceID = %q, want %q", th.ResourceID, resourceA)
	}
	if !th.CreatedAt.Equal(testStart) || !th.UpdatedAt.Equal(testStart) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v, want %v", th.CreatedAt, th.UpdatedAt, testStart)
	}
	if th.MessageCount != 0 || th.Damaged {
		t.Errorf("MessageCount, Damaged = %d, %v, want 0, false", th.MessageCount, th.Damaged)
	}
	if string(th.Metadata) != "{}" {
		t.Errorf("Metadata = %s, want {}", th.Metadata)
	}

	got := mustThread(t, s, o, th.ID)
	if got.ID != th.ID || got.Title != th.Title || !got.CreatedAt.Equal(th.CreatedAt) || !got.UpdatedAt.Equal(th.UpdatedAt) || string(got.Metadata) != "{}" {
		t.Errorf("Thread = %+v, want %+v", got, th)
	}
}

// rejectedMetadata are metadata values that CreateThread and UpdateThread
// reject, because metadata must be a JSON object of at most
// MaxMetadataBytes.
var rejectedMetadata = []struct {
	name     string
	metadata string
}{
	{"array", `["a"]`},
	{"null", `null`},
	{"number", `1`},
	{"string", `"text"`},
	{"not JSON", `{"a":`},
	{"trailing data", `{} {}`},
	{"too large", `{"a":"` + strings.Repeat("x", MaxMetadataBytes-7) + `"}`},
}

func TestCreateThreadMetadata(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)

	// The largest accepted metadata is MaxMetadataBytes bytes of JSON.
	atLimit := `{"a":"` + strings.Repeat("x", MaxMetadataBytes-8) + `"}`
	if len(atLimit) != MaxMetadataBytes {
		t.Fatalf("test metadata has %d bytes, want %d", len(atLimit), MaxMetadataBytes)
	}
	for _, metadata := range []string{`{"pinned":true, "tags":["a","日本"]}`, `{}`, atLimit} {
		th, err := s.CreateThread(ctx, o, "Plans", json.RawMessage(metadata))
		if err != nil {
			t.Fatalf("CreateThread with metadata of %d bytes error: %v", len(metadata), err)
		}
		if got := mustThread(t, s, o, th.ID).Metadata; !sameJSON(t, got, []byte(metadata)) {
			t.Errorf("stored metadata = %.80s, want %.80s", got, metadata)
		}
	}
	created := len(mustThreads(t, s, o))

	for _, tt := range rejectedMetadata {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateThread(ctx, o, "Plans", json.RawMessage(tt.metadata))
			wantInputError(t, err, "metadata")
		})
	}
	if n := len(mustThreads(t, s, o)); n != created {
		t.Errorf("Threads has %d threads after rejected creates, want %d", n, created)
	}
}

func TestThreadsOrder(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)
	a, b := newOwner(resourceA), newOwner(resourceB)

	first := mustCreateThread(t, s, a, "first")
	second := mustCreateThread(t, s, a, "second")
	third := mustCreateThread(t, s, a, "third")
	mustCreateThread(t, s, b, "someone else's")

	wantOrder := func(t *testing.T, want ...Thread) {
		t.Helper()
		if got := threadIDs(mustThreads(t, s, a)); !slices.Equal(got, threadIDs(want)) {
			t.Errorf("Threads order = %v, want %v", got, threadIDs(want))
		}
	}

	wantOrder(t, third, second, first)

	appended := mustAppend(t, s, a, Message{ThreadID: first.ID, Role: RoleUser, Content: "hello"})
	wantOrder(t, first, third, second)
	if got := mustThread(t, s, a, first.ID).UpdatedAt; !got.Equal(appended.CreatedAt) {
		t.Errorf("UpdatedAt after append = %v, want message CreatedAt %v", got, appended.CreatedAt)
	}

	reply := mustAppend(t, s, a, Message{ThreadID: second.ID, Role: RoleAssistant, Content: "hi", Status: StatusIncomplete})
	wantOrder(t, second, first, third)

	mustAppend(t, s, a, Message{ThreadID: third.ID, Role: RoleUser, Content: "hey"})
	wantOrder(t, third, second, first)

	// Completing a streamed reply counts as an update of its thread.
	reply.Content, reply.Status = "hi there", StatusComplete
	if _, err := s.UpdateMessage(ctx, a, reply); err != nil {
		t.Fatalf("UpdateMessage error: %v", err)
	}
	wantOrder(t, second, third, first)

	// So do renaming a thread and deleting one of its messages.
	title := "first, renamed"
	if _, err := s.UpdateThread(ctx, a, first.ID, ThreadUpdate{Title: &title}); err != nil {
		t.Fatalf("UpdateThread error: %v", err)
	}
	wantOrder(t, first, second, third)
	if err := s.DeleteMessage(ctx, a, third.ID, mustLast(t, s, a, third.ID, 1)[0].ID); err != nil {
		t.Fatalf("DeleteMessage error: %v", err)
	}
	wantOrder(t, third, first, second)
}

func TestThreadsOrderSameTime(t *testing.T) {
	s, _, _ := newStore(t)
	s.now = func() time.Time { return testStart }
	o := newOwner(resourceA)

	var want []string
	for range 5 {
		want = append([]string{mustCreateThread(t, s, o, "").ID}, want...)
	}

	if got := threadIDs(mustThreads(t, s, o)); !slices.Equal(got, want) {
		t.Errorf("Threads ids = %v, want newest id first %v", got, want)
	}
	page, next, err := s.Threads(context.Background(), o, ThreadPage{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	rest, _, err := s.Threads(context.Background(), o, ThreadPage{Cursor: next})
	if err != nil {
		t.Fatal(err)
	}
	if got := append(threadIDs(page), threadIDs(rest)...); !slices.Equal(got, want) {
		t.Errorf("two pages of threads with the same time = %v, want %v", got, want)
	}
}

func TestThreadsRecordLayouts(t *testing.T) {
	s, db, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)

	// The thread without a record comes first in the threads bucket, so
	// that looking it up lands on the record of the next thread.
	missing := mustCreateThread(t, s, o, "record deleted")
	binary := mustCreateThread(t, s, o, "binary record")
	mustAppend(t, s, o, Message{ThreadID: binary.ID, Role: RoleUser, Content: "hello"})
	asJSON := mustCreateThread(t, s, o, "JSON record")
	garbage := mustCreateThread(t, s, o, "record overwritten")

	// Rewrite the records as an older version left them, or as damage
	// leaves them, keeping the resource's index as it was.
	err := db.Update(func(tx *bbolt.Tx) error {
		threads := tx.Bucket(threadsBucket)
		rec, err := decodeThreadRecord(threads.Get([]byte(asJSON.ID)), []byte(asJSON.ID))
		if err != nil {
			return err
		}
		old, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := threads.Put([]byte(asJSON.ID), old); err != nil {
			return err
		}
		if err := threads.Delete([]byte(missing.ID)); err != nil {
			return err
		}
		return threads.Put([]byte(garbage.ID), []byte{threadRecordBinary, 1, 2})
	})
	if err != nil {
		t.Fatal(err)
	}

	listed := mustThreads(t, s, o)
	if got, want := threadIDs(listed), []string{garbage.ID, asJSON.ID, binary.ID, missing.ID}; !slices.Equal(got, want) {
		t.Fatalf("Threads ids = %v, want %v", got, want)
	}
	for _, th := range []Thread{listed[0], listed[3]} {
		if !th.Damaged || th.Title != "" || th.ResourceID != resourceA || th.MessageCount != 0 || !th.CreatedAt.IsZero() {
			t.Errorf("thread %s without a readable record = %+v, want it damaged, with no title, count or time", th.ID, th)
		}
	}
	if th := listed[1]; th.Damaged || th.Title != "JSON record" || !th.CreatedAt.Equal(asJSON.CreatedAt) {
		t.Errorf("thread with a JSON record = %+v, want title %q created %v", th, "JSON record", asJSON.CreatedAt)
	}
	if th := listed[2]; th.Damaged || th.Title != "binary record" || th.MessageCount != 1 || string(th.Metadata) != "{}" {
		t.Errorf("thread with a binary record = %+v, want title %q, 1 message and empty metadata", th, "binary record")
	}
}

func TestThreadsPaging(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)
	a, b := newOwner(resourceA), newOwner(resourceB)

	var created []Thread
	for i := range 25 {
		created = append(created, mustCreateThread(t, s, a, fmt.Sprintf("thread %02d", i)))
		if i%5 == 0 {
			mustCreateThread(t, s, b, "someone else's")
		}
	}
	newestFirst := slices.Clone(threadIDs(created))
	slices.Reverse(newestFirst)

	// pages lists every page of a's threads with the given limit.
	pages := func(t *testing.T, limit int) [][]string {
		t.Helper()
		var out [][]string
		cursor := ""
		for range 100 {
			page, next, err := s.Threads(ctx, a, ThreadPage{Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatalf("Threads(limit %d, cursor %q) error: %v", limit, cursor, err)
			}
			out = append(out, threadIDs(page))
			if next == "" {
				return out
			}
			cursor = next
		}
		t.Fatal("Threads kept returning a next cursor after 100 pages")
		return nil
	}

	tests := []struct {
		limit int
		sizes []int
	}{
		{10, []int{10, 10, 5}},
		{5, []int{5, 5, 5, 5, 5}},
		{25, []int{25}},
		{26, []int{25}},
		{0, []int{25}},
		{-1, []int{25}},
		{1, slices.Repeat([]int{1}, 25)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			got := pages(t, tt.limit)
			var sizes []int
			var all []string
			for _, page := range got {
				sizes = append(sizes, len(page))
				all = append(all, page...)
			}
			if !slices.Equal(sizes, tt.sizes) {
				t.Errorf("page sizes = %v, want %v", sizes, tt.sizes)
			}
			if !slices.Equal(all, newestFirst) {
				t.Errorf("threads over all pages = %v, want each thread once, newest first %v", all, newestFirst)
			}
		})
	}

	// Appending to the oldest thread moves it to the front of the first page.
	mustAppend(t, s, a, Message{ThreadID: created[0].ID, Role: RoleUser, Content: "back again"})
	first := pages(t, 10)[0]
	if first[0] != created[0].ID {
		t.Errorf("first thread after an append = %s, want the appended thread %s", first[0], created[0].ID)
	}
	if want := append([]string{created[0].ID}, newestFirst[:9]...); !slices.Equal(first, want) {
		t.Errorf("first page after an append = %v, want %v", first, want)
	}
}

func TestThreadsCursorRejected(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	mustCreateThread(t, s, o, "Plans")

	for _, cursor := range []string{
		"!!!",
		"not a cursor at all",
		base64.RawURLEncoding.EncodeToString([]byte("short")),
		base64.RawURLEncoding.EncodeToString(make([]byte, 8)),
		base64.StdEncoding.EncodeToString(make([]byte, 20)),
	} {
		_, _, err := s.Threads(ctx, o, ThreadPage{Limit: 10, Cursor: cursor})
		wantInputError(t, err, "cursor")
	}
}

func FuzzThreadsCursor(f *testing.F) {
	s, _, _ := newStore(f)
	o := newOwner(resourceA)
	for range 3 {
		mustCreateThread(f, s, o, "")
	}
	_, next, err := s.Threads(context.Background(), o, ThreadPage{Limit: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(next)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("____________")

	f.Fuzz(func(t *testing.T, cursor string) {
		threads, _, err := s.Threads(context.Background(), o, ThreadPage{Limit: 2, Cursor: cursor})
		var ie *InputError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("Threads(cursor %q) error = %v, want nil or *InputError", cursor, err)
		}
		if len(threads) > 2 {
			t.Errorf("Threads(cursor %q) returned %d threads, want at most 2", cursor, len(threads))
		}
	})
}

func TestUpdateThread(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	th, err := s.CreateThread(ctx, o, "Plans", json.RawMessage(`{"pinned":false}`))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hello"})

	title := "  Plans for 京都 🚄  "
	got, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Title: &title})
	if err != nil {
		t.Fatalf("UpdateThread(title) error: %v", err)
	}
	if got.Title != "Plans for 京都 🚄" || !sameJSON(t, got.Metadata, []byte(`{"pinned":false}`)) {
		t.Errorf("after a title update: title %q, metadata %s, want the new title and the old metadata", got.Title, got.Metadata)
	}
	if !got.UpdatedAt.After(th.UpdatedAt) || !got.CreatedAt.Equal(th.CreatedAt) || got.MessageCount != 1 {
		t.Errorf("after a title update: %+v, want a later UpdatedAt, CreatedAt and MessageCount kept", got)
	}

	got, err = s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Metadata: json.RawMessage(`{"pinned":true,"color":"מים"}`)})
	if err != nil {
		t.Fatalf("UpdateThread(metadata) error: %v", err)
	}
	if got.Title != "Plans for 京都 🚄" || !sameJSON(t, got.Metadata, []byte(`{"pinned":true,"color":"מים"}`)) {
		t.Errorf("after a metadata update: title %q, metadata %s, want the old title and the new metadata", got.Title, got.Metadata)
	}

	stored := mustThread(t, s, o, th.ID)
	if stored.Title != got.Title || !sameJSON(t, stored.Metadata, got.Metadata) || !stored.UpdatedAt.Equal(got.UpdatedAt) {
		t.Errorf("stored thread = %+v, want %+v", stored, got)
	}

	empty := ""
	got, err = s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Title: &empty})
	if err != nil || got.Title != DefaultThreadTitle {
		t.Errorf("UpdateThread(empty title) = %q, %v, want %q", got.Title, err, DefaultThreadTitle)
	}
}

// TestUpdateThreadLargeMetadata checks that metadata accepted once is
// accepted again when an update or a fork carries it over unchanged, even
// when it is full of characters that JSON encoders like to escape.
func TestUpdateThreadLargeMetadata(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	metadata := `{"html":"` + strings.Repeat("<&>", (MaxMetadataBytes-11)/3) + `"}`
	metadata += strings.Repeat(" ", MaxMetadataBytes-len(metadata))
	if len(metadata) != MaxMetadataBytes {
		t.Fatalf("test metadata has %d bytes, want %d", len(metadata), MaxMetadataBytes)
	}

	th, err := s.CreateThread(ctx, o, "Plans", json.RawMessage(metadata))
	if err != nil {
		t.Fatalf("CreateThread error: %v", err)
	}
	if len(th.Metadata) > MaxMetadataBytes || !sameJSON(t, th.Metadata, []byte(metadata)) {
		t.Errorf("stored metadata has %d bytes, want the same JSON in at most %d", len(th.Metadata), MaxMetadataBytes)
	}
	m := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hi"})

	title := "Plans, renamed"
	updated, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Title: &title})
	if err != nil {
		t.Fatalf("UpdateThread(title) of a thread with %d bytes of metadata error: %v", len(metadata), err)
	}
	if !sameJSON(t, updated.Metadata, []byte(metadata)) {
		t.Error("UpdateThread(title) changed the metadata")
	}
	fork, err := s.ForkThread(ctx, o, th.ID, m.ID)
	if err != nil {
		t.Fatalf("ForkThread of a thread with %d bytes of metadata error: %v", len(metadata), err)
	}
	if !sameJSON(t, fork.Metadata, []byte(metadata)) {
		t.Error("ForkThread did not copy the metadata")
	}
}

func TestUpdateThreadRejected(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	th, err := s.CreateThread(ctx, o, "Plans", json.RawMessage(`{"pinned":false}`))
	if err != nil {
		t.Fatal(err)
	}
	before := dumpDB(t, db)

	for _, tt := range rejectedTitles {
		t.Run("title "+tt.name, func(t *testing.T) {
			_, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Title: &tt.title})
			wantInputError(t, err, "title")
		})
	}
	for _, tt := range rejectedMetadata {
		t.Run("metadata "+tt.name, func(t *testing.T) {
			_, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Metadata: json.RawMessage(tt.metadata)})
			wantInputError(t, err, "metadata")
		})
	}

	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("rejected updates changed the data file")
	}
	if got := mustThread(t, s, o, th.ID); got.Title != "Plans" {
		t.Errorf("Title after rejected updates = %q, want %q", got.Title, "Plans")
	}
}

func TestDeleteThread(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	deleted := mustCreateThread(t, s, o, "to delete")
	remaining := mustCreateThread(t, s, o, "to keep")
	for i := range 3 {
		for j, th := range []Thread{deleted, remaining} {
			mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: fmt.Sprintf("message %d", i), ClientRequestID: fmt.Sprintf("req-%d-%d", j, i)})
		}
	}
	if _, err := s.MarkThreadDamaged(ctx, o, deleted.ID); err != nil {
		t.Fatal(err)
	}
	mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: deleted.ID, Content: "thread notes"})
	mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: remaining.ID, Content: "remaining notes"})
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: "resource notes"})

	if err := s.DeleteThread(ctx, o, deleted.ID); err != nil {
		t.Fatalf("DeleteThread error: %v", err)
	}

	// Every bucket and index entry of the thread is deleted.
	for _, path := range [][]string{
		{string(messagesBucket), deleted.ID},
		{string(messageIDsBucket), deleted.ID},
		{string(requestsBucket), deleted.ID},
		{string(workingBucket), string(threadScopeKey(deleted.ID))},
	} {
		if bucketExists(t, db, path...) {
			t.Errorf("bucket %v still exists after DeleteThread", path)
		}
	}
	if keys := bucketKeys(t, db, string(threadsBucket)); slices.Contains(keys, deleted.ID) || len(keys) != 1 {
		t.Errorf("threads bucket keys = %v, want only %s", keys, remaining.ID)
	}
	if keys := bucketKeys(t, db, string(resourcesBucket), resourceA, string(ownedBucket)); !slices.Equal(keys, []string{remaining.ID}) {
		t.Errorf("resource's thread index = %v, want only %s", keys, remaining.ID)
	}
	if keys := bucketKeys(t, db, string(resourcesBucket), resourceA, string(requestsIndex)); !slices.Equal(keys, []string{"req-1-0", "req-1-1", "req-1-2"}) {
		t.Errorf("resource's client request index = %v, want only the remaining thread's", keys)
	}
	if keys := bucketKeys(t, db, string(resourcesBucket), resourceA, string(damagedThreads)); len(keys) != 0 {
		t.Errorf("resource's damaged marks = %v, want none", keys)
	}
	// The deleted thread's client request ids are free again.
	mustAppend(t, s, o, Message{ThreadID: remaining.ID, Role: RoleUser, Content: "message 3", ClientRequestID: "req-0-0"})
	recent := bucketKeys(t, db, string(resourcesBucket), resourceA, string(recentBucket))
	if len(recent) != 1 || !strings.HasSuffix(recent[0], remaining.ID) {
		t.Errorf("resource's recent index has %d keys, want one for %s", len(recent), remaining.ID)
	}
	for _, line := range dumpDB(t, db) {
		if strings.Contains(line, deleted.ID) {
			t.Errorf("data file still names the deleted thread: %s", line)
		}
	}

	// The API agrees, and the other thread and the resource's document stay.
	if _, err := s.Thread(ctx, o, deleted.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Thread after DeleteThread error = %v, want %v", err, ErrNotFound)
	}
	if err := s.DeleteThread(ctx, o, deleted.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteThread error = %v, want %v", err, ErrNotFound)
	}
	if got := threadIDs(mustThreads(t, s, o)); !slices.Equal(got, []string{remaining.ID}) {
		t.Errorf("Threads = %v, want only %s", got, remaining.ID)
	}
	wantContents(t, mustLast(t, s, o, remaining.ID, 10), []string{"message 0", "message 1", "message 2", "message 3"})
	for _, bucket := range []string{string(messagesBucket), string(messageIDsBucket), string(requestsBucket)} {
		if !bucketExists(t, db, bucket, remaining.ID) {
			t.Errorf("bucket %s/%s of the remaining thread is deleted", bucket, remaining.ID)
		}
	}
	if wm := mustWorkingMemory(t, s, o, remaining.ID); wm.Content != "remaining notes" {
		t.Errorf("remaining thread's working memory = %q, want %q", wm.Content, "remaining notes")
	}
	if wm := mustWorkingMemory(t, s, o, ""); wm.Content != "resource notes" {
		t.Errorf("resource working memory = %q, want %q", wm.Content, "resource notes")
	}
}

func TestForkThread(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)
	source, err := s.CreateThread(ctx, o, "Kyoto 京都", json.RawMessage(`{"pinned":true}`))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for _, m := range []Message{
		{Role: RoleUser, Content: "Plan a trip 🚄", ClientRequestID: "req-1"},
		{Role: RoleAssistant, Model: "llama3.2", PromptTokens: 5, ReplyTokens: 2,
			Parts: []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "weather", Input: json.RawMessage(`{"city":"Kyoto"}`)}}},
		{Role: RoleTool, Parts: []Part{{Type: "tool-result", ToolCallID: "call_1", Output: json.RawMessage(`{"sky":"clear"}`), IsError: false}}},
		{Role: RoleAssistant, Content: "Day 1: שלום", Status: StatusError, Error: "The model stopped."},
		{Role: RoleUser, Content: "after the fork point"},
	} {
		m.ThreadID = source.ID
		msgs = append(msgs, mustAppend(t, s, o, m))
	}

	fork, err := s.ForkThread(ctx, o, source.ID, msgs[3].ID)
	if err != nil {
		t.Fatalf("ForkThread error: %v", err)
	}
	if !ValidID(fork.ID) || fork.ID == source.ID {
		t.Errorf("fork ID = %q, want a new valid id", fork.ID)
	}
	if fork.Title != "Fork of Kyoto 京都" || !sameJSON(t, fork.Metadata, []byte(`{"pinned":true}`)) {
		t.Errorf("fork title, metadata = %q, %s, want %q and the source's metadata", fork.Title, fork.Metadata, "Fork of Kyoto 京都")
	}
	if fork.MessageCount != 4 || fork.ResourceID != resourceA {
		t.Errorf("fork MessageCount, ResourceID = %d, %q, want 4, %q", fork.MessageCount, fork.ResourceID, resourceA)
	}
	if got := mustThreads(t, s, o)[0].ID; got != fork.ID {
		t.Errorf("newest thread = %s, want the fork %s", got, fork.ID)
	}

	copied := mustLast(t, s, o, fork.ID, 10)
	if len(copied) != 4 {
		t.Fatalf("fork has %d messages, want 4", len(copied))
	}
	sourceIDs := messageIDs(msgs)
	for i, c := range copied {
		m := msgs[i]
		if !ValidID(c.ID) || slices.Contains(sourceIDs, c.ID) {
			t.Errorf("copy %d ID = %s, want a new valid id", i, c.ID)
		}
		if c.ThreadID != fork.ID {
			t.Errorf("copy %d ThreadID = %s, want %s", i, c.ThreadID, fork.ID)
		}
		if c.Role != m.Role || c.Content != m.Content || c.Status != m.Status || c.Error != m.Error || c.Model != m.Model ||
			c.PromptTokens != m.PromptTokens || c.ReplyTokens != m.ReplyTokens || !c.CreatedAt.Equal(m.CreatedAt) || c.Damaged {
			t.Errorf("copy %d = %+v, want the fields of %+v", i, c, m)
		}
		if !slices.EqualFunc(c.Parts, m.Parts, func(a, b Part) bool { return partsEqual(t, a, b) }) {
			t.Errorf("copy %d parts = %+v, want %+v", i, c.Parts, m.Parts)
		}
	}

	// The source is unchanged, and the fork takes messages of its own.
	wantContents(t, mustLast(t, s, o, source.ID, 10), contents(msgs))
	mustAppend(t, s, o, Message{ThreadID: fork.ID, Role: RoleUser, Content: "only in the fork"})
	if n := len(mustLast(t, s, o, source.ID, 10)); n != 5 {
		t.Errorf("source has %d messages after an append to the fork, want 5", n)
	}

	// Forking at the last message copies all of them.
	whole, err := s.ForkThread(ctx, o, source.ID, msgs[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	wantContents(t, mustLast(t, s, o, whole.ID, 10), contents(msgs))
}

func TestForkThreadNotFound(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	source := mustCreateThread(t, s, o, "source")
	other := mustCreateThread(t, s, o, "other")
	empty := mustCreateThread(t, s, o, "empty")
	mustAppend(t, s, o, Message{ThreadID: source.ID, Role: RoleUser, Content: "hi"})
	foreign := mustAppend(t, s, o, Message{ThreadID: other.ID, Role: RoleUser, Content: "elsewhere"})

	tests := []struct {
		name      string
		threadID  string
		messageID string
	}{
		{"message of another thread", source.ID, foreign.ID},
		{"unknown message", source.ID, NewID()},
		{"empty message id", source.ID, ""},
		{"thread without messages", empty.ID, foreign.ID},
		{"unknown thread", NewID(), foreign.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.ForkThread(ctx, o, tt.threadID, tt.messageID); !errors.Is(err, ErrNotFound) {
				t.Errorf("ForkThread error = %v, want %v", err, ErrNotFound)
			}
		})
	}
	if n := len(mustThreads(t, s, o)); n != 3 {
		t.Errorf("Threads has %d threads after rejected forks, want 3", n)
	}
}

func TestForkTitle(t *testing.T) {
	long := strings.Repeat("日", MaxTitleLength)
	got := forkTitle(long)
	if n := len([]rune(got)); n != MaxTitleLength {
		t.Errorf("fork title of a %d-character title has %d characters, want %d", MaxTitleLength, n, MaxTitleLength)
	}
	if !strings.HasPrefix(got, "Fork of 日") || !strings.HasSuffix(got, "…") {
		t.Errorf("fork title = %q, want it to start with %q and end with …", got, "Fork of 日")
	}
	if got := forkTitle("Plans"); got != "Fork of Plans" {
		t.Errorf("forkTitle(%q) = %q, want %q", "Plans", got, "Fork of Plans")
	}

	// A thread with a title of the maximum length can still be forked.
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, long)
	m := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "hi"})
	fork, err := s.ForkThread(context.Background(), o, th.ID, m.ID)
	if err != nil {
		t.Fatalf("ForkThread of a thread with a %d-character title error: %v", MaxTitleLength, err)
	}
	if fork.Title != got {
		t.Errorf("fork title = %q, want %q", fork.Title, got)
	}
}

func TestMalformedThreadID(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th := mustCreateThread(t, s, o, "Plans")
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
			if _, err := s.Thread(ctx, o, tt.id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Thread error = %v, want %v", err, ErrNotFound)
			}
			if _, err := s.LastMessages(ctx, o, tt.id, 10); !errors.Is(err, ErrNotFound) {
				t.Errorf("LastMessages error = %v, want %v", err, ErrNotFound)
			}
			_, err := s.AppendMessage(ctx, o, Message{ThreadID: tt.id, Role: RoleUser, Content: "hi"})
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("AppendMessage error = %v, want %v", err, ErrNotFound)
			}
			if err := s.DeleteThread(ctx, o, tt.id); !errors.Is(err, ErrNotFound) {
				t.Errorf("DeleteThread error = %v, want %v", err, ErrNotFound)
			}
			if tt.id != "" {
				if _, err := s.WorkingMemory(ctx, o, tt.id); !errors.Is(err, ErrNotFound) {
					t.Errorf("WorkingMemory error = %v, want %v", err, ErrNotFound)
				}
			}
		})
	}

	// An owner without a resource id is rejected, never served.
	if _, err := s.Thread(ctx, Owner{Key: o.Key}, th.ID); err == nil {
		t.Error("Thread with an empty resource id: error = nil, want an error")
	}
}
