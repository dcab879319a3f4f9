package memory

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

func TestStartThread(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	stepClock(s)
	o := newOwner(resourceA)

	th, m, err := s.StartThread(ctx, o, "", Message{Role: RoleUser, Content: "hello", ClientRequestID: "req-1"})
	if err != nil {
		t.Fatalf("StartThread error: %v", err)
	}
	if !ValidID(th.ID) || th.Title != DefaultThreadTitle || th.MessageCount != 1 || th.ResourceID != resourceA {
		t.Errorf("thread = %+v, want a new thread titled %q with 1 message", th, DefaultThreadTitle)
	}
	if !ValidID(m.ID) || m.ThreadID != th.ID || m.Status != StatusComplete || !m.CreatedAt.Equal(th.UpdatedAt) {
		t.Errorf("message = %+v, want a complete message of thread %s written at the thread's update time", m, th.ID)
	}
	if got := mustThread(t, s, o, th.ID); got.MessageCount != 1 || !got.UpdatedAt.Equal(th.UpdatedAt) {
		t.Errorf("stored thread = %+v, want it as returned", got)
	}
	wantContents(t, mustLast(t, s, o, th.ID, 10), []string{"hello"})
	before := dumpDB(t, db)

	// A retry creates nothing and returns what the first request stored.
	again, dup, err := s.StartThread(ctx, o, "", Message{Role: RoleUser, Content: "hello again", ClientRequestID: "req-1"})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("retried StartThread error = %v, want %v", err, ErrDuplicate)
	}
	if again.ID != th.ID || again.MessageCount != 1 || dup.ID != m.ID || dup.Content != "hello" {
		t.Errorf("retry returned thread %s with %d messages and message %s %q, want %s with 1 and %s %q",
			again.ID, again.MessageCount, dup.ID, dup.Content, th.ID, m.ID, "hello")
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("a retried StartThread changed the data file")
	}

	// A client request id first used in an existing thread is found too.
	other := mustCreateThread(t, s, o, "other")
	stored := mustAppend(t, s, o, Message{ThreadID: other.ID, Role: RoleUser, Content: "in other", ClientRequestID: "req-2"})
	got, dup, err := s.StartThread(ctx, o, "", Message{Role: RoleUser, Content: "in other", ClientRequestID: "req-2"})
	if !errors.Is(err, ErrDuplicate) || got.ID != other.ID || got.Title != "other" || dup.ID != stored.ID {
		t.Errorf("StartThread with an id used in another thread = %s %q, %s, %v, want %s %q, %s, %v",
			got.ID, got.Title, dup.ID, err, other.ID, "other", stored.ID, ErrDuplicate)
	}

	// Without a client request id, every call starts a thread.
	for range 2 {
		if _, _, err := s.StartThread(ctx, o, "untagged", Message{Role: RoleUser, Content: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mustThreads(t, s, o)); n != 4 {
		t.Errorf("threads = %d, want 4", n)
	}
}

func TestStartThreadRejected(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	before := dumpDB(t, db)

	_, _, err := s.StartThread(ctx, o, "", Message{Role: RoleUser, Content: "hi", ClientRequestID: "req\x00"})
	wantInputError(t, err, "clientRequestId")
	_, _, err = s.StartThread(ctx, o, string(make([]byte, MaxTitleLength+1)), Message{Role: RoleUser, Content: "hi"})
	if err == nil {
		t.Error("StartThread with an invalid title succeeded")
	}
	if _, _, err := s.StartThread(ctx, o, "", Message{Role: "robot", Content: "hi"}); err == nil {
		t.Error("StartThread with an invalid role succeeded")
	}
	if _, _, err := s.StartThread(ctx, Owner{ResourceID: resourceA}, "", Message{Role: RoleUser, Content: "hi"}); err == nil {
		t.Error("StartThread without a key succeeded")
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("rejected StartThread calls changed the data file")
	}
}

func TestStartThreadConcurrent(t *testing.T) {
	const writers = 8
	s, _, _ := newStore(t)
	o := newOwner(resourceA)

	threads := make([]Thread, writers)
	msgs := make([]Message, writers)
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			threads[w], msgs[w], errs[w] = s.StartThread(context.Background(), o, "", Message{
				Role: RoleUser, Content: fmt.Sprintf("attempt %d", w), ClientRequestID: "req-same",
			})
		})
	}
	close(start)
	wg.Wait()

	listed := mustThreads(t, s, o)
	if len(listed) != 1 {
		t.Fatalf("got %d threads from %d starts with one client request id, want 1", len(listed), writers)
	}
	stored := mustLast(t, s, o, listed[0].ID, 10)
	if len(stored) != 1 {
		t.Fatalf("the thread has %d messages, want 1", len(stored))
	}
	winners := 0
	for w := range writers {
		switch {
		case errs[w] == nil:
			winners++
		case !errors.Is(errs[w], ErrDuplicate):
			t.Errorf("writer %d error = %v, want nil or %v", w, errs[w], ErrDuplicate)
		}
		if threads[w].ID != listed[0].ID || msgs[w].ID != stored[0].ID {
			t.Errorf("writer %d got thread %s message %s, want %s %s", w, threads[w].ID, msgs[w].ID, listed[0].ID, stored[0].ID)
		}
	}
	if winners != 1 {
		t.Errorf("%d starts succeeded, want exactly 1", winners)
	}
}

func TestClientRequestsPerResource(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	th, m, err := s.StartThread(ctx, a, "", Message{Role: RoleUser, Content: "mine", ClientRequestID: "req-1"})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.MessageByRequest(ctx, b, "req-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MessageByRequest of another resource's id: error = %v, want %v", err, ErrNotFound)
	}
	theirs, _, err := s.StartThread(ctx, b, "", Message{Role: RoleUser, Content: "theirs", ClientRequestID: "req-1"})
	if err != nil || theirs.ID == th.ID {
		t.Errorf("StartThread of another resource with the same id = %s, %v, want a new thread", theirs.ID, err)
	}
	if got, err := s.MessageByRequest(ctx, a, "req-1"); err != nil || got.ID != m.ID || got.Content != "mine" {
		t.Errorf("MessageByRequest = %s %q, %v, want %s %q", got.ID, got.Content, err, m.ID, "mine")
	}
	if _, err := s.MessageByRequest(ctx, a, "req-unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MessageByRequest of an unknown id: error = %v, want %v", err, ErrNotFound)
	}
}

func TestForkDropsClientRequestIDs(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	th, first, err := s.StartThread(ctx, o, "", Message{Role: RoleUser, Content: "hello", ClientRequestID: "req-1"})
	if err != nil {
		t.Fatal(err)
	}
	fork, err := s.ForkThread(ctx, o, th.ID, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if copied := mustLast(t, s, o, fork.ID, 10); len(copied) != 1 || copied[0].ClientRequestID != "" {
		t.Fatalf("fork messages = %+v, want one copy without a client request id", copied)
	}

	// The id still names the original, also after the fork is deleted.
	if err := s.DeleteThread(ctx, o, fork.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.MessageByRequest(ctx, o, "req-1"); err != nil || got.ID != first.ID {
		t.Errorf("MessageByRequest after deleting the fork = %s, %v, want %s", got.ID, err, first.ID)
	}
}

// TestMigrateClientRequestIndex opens a file in schema 2, whose client
// request ids are indexed per thread only and may repeat across threads.
func TestMigrateClientRequestIndex(t *testing.T) {
	ctx := context.Background()
	s, db, path := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	older := mustCreateThread(t, s, a, "older")
	newer := mustCreateThread(t, s, a, "newer")
	theirs := mustCreateThread(t, s, b, "theirs")
	oldest := mustAppend(t, s, a, Message{ThreadID: older.ID, Role: RoleUser, Content: "first", ClientRequestID: "req-shared"})
	only := mustAppend(t, s, a, Message{ThreadID: newer.ID, Role: RoleUser, Content: "second", ClientRequestID: "req-only"})
	mustAppend(t, s, b, Message{ThreadID: theirs.ID, Role: RoleUser, Content: "theirs", ClientRequestID: "req-shared"})

	// Make the file look as schema 2 wrote it: no resource index, and the
	// shared id in the newer thread's own index as well, as a fork copied it.
	copied := mustAppend(t, s, a, Message{ThreadID: newer.ID, Role: RoleUser, Content: "copy"})
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, resource := range []string{resourceA, resourceB} {
			if err := tx.Bucket(resourcesBucket).Bucket([]byte(resource)).DeleteBucket(requestsIndex); err != nil {
				return err
			}
		}
		msgs := tx.Bucket(messagesBucket).Bucket([]byte(newer.ID))
		key := tx.Bucket(messageIDsBucket).Bucket([]byte(newer.ID)).Get([]byte(copied.ID))
		var mr messageRecord
		if err := json.Unmarshal(msgs.Get(key), &mr); err != nil {
			return err
		}
		mr.ClientRequestID = "req-shared"
		if err := putMessageRecord(msgs, key, &mr); err != nil {
			return err
		}
		if err := tx.Bucket(requestsBucket).Bucket([]byte(newer.ID)).Put([]byte("req-shared"), []byte(copied.ID)); err != nil {
			return err
		}
		return tx.Bucket(metaBucket).Put(schemaKey, binary.BigEndian.AppendUint64(nil, 2))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, db = openStore(t, path)
	if got := binary.BigEndian.Uint64(readSchema(t, db)); got != schemaVersion {
		t.Fatalf("schema after Open = %d, want %d", got, schemaVersion)
	}
	for _, tt := range []struct {
		owner     Owner
		requestID string
		want      Message
	}{
		{a, "req-shared", oldest},
		{a, "req-only", only},
	} {
		got, err := s.MessageByRequest(ctx, tt.owner, tt.requestID)
		if err != nil || got.ID != tt.want.ID {
			t.Errorf("MessageByRequest(%s, %s) = %s, %v, want %s", tt.owner.ResourceID, tt.requestID, got.ID, err, tt.want.ID)
		}
	}
	if got, err := s.MessageByRequest(ctx, b, "req-shared"); err != nil || got.Content != "theirs" {
		t.Errorf("MessageByRequest(%s, req-shared) = %q, %v, want their own message", resourceB, got.Content, err)
	}

	// Once the older thread is gone, a retry in the newer one still finds
	// its own copy through the thread's index.
	if err := s.DeleteThread(ctx, a, older.ID); err != nil {
		t.Fatal(err)
	}
	dup, err := s.AppendMessage(ctx, a, Message{ThreadID: newer.ID, Role: RoleUser, Content: "retry", ClientRequestID: "req-shared"})
	if !errors.Is(err, ErrDuplicate) || dup.ID != copied.ID {
		t.Errorf("AppendMessage retry in the newer thread = %s, %v, want %s, %v", dup.ID, err, copied.ID, ErrDuplicate)
	}
}
