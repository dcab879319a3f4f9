package memory

import (
	"context"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// benchContent is the text of each benchmark message, 210 bytes like a
// short chat turn.
var benchContent = strings.Repeat("Tell me about bbolt. ", 10)

// bulkThreads creates n empty threads of o in large transactions, without
// the batch delay and the fsync of each CreateThread, and returns their ids.
// The records are the ones CreateThread writes.
func bulkThreads(tb testing.TB, s *Store, o Owner, n int) []string {
	tb.Helper()
	var ids []string
	for len(ids) < n {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for range min(1000, n-len(ids)) {
				id := NewID()
				now := s.now().UTC()
				rec := threadRecord{ResourceID: o.ResourceID, CreatedAt: now, UpdatedAt: now}
				sealed, err := sealThreadSecrets(o.Key, threadSecrets{Title: "Benchmark thread " + id[:8]}, threadAD(o.ResourceID, id))
				if err != nil {
					return err
				}
				rec.Sealed = sealed
				if err := putThread(tx, id, &rec, time.Time{}); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("create threads: %v", err)
		}
	}
	return ids
}

// bulkAppend appends n messages of benchContent to a thread in large
// transactions, without the batch delay and the fsync of each
// AppendMessage. The records are the ones AppendMessage writes.
func bulkAppend(tb testing.TB, s *Store, o Owner, threadID string, n int) {
	tb.Helper()
	for done := 0; done < n; {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			rec, err := ownedThread(tx, o, threadID)
			if err != nil {
				return err
			}
			previous := rec.UpdatedAt
			for range min(1000, n-done) {
				m := Message{ID: NewID(), ThreadID: threadID, Role: RoleUser, Content: benchContent, Status: StatusComplete, CreatedAt: s.now().UTC()}
				if err := appendMessage(tx, o, &m, rec); err != nil {
					return err
				}
				done++
			}
			return putThread(tx, threadID, rec, previous)
		})
		if err != nil {
			tb.Fatalf("append messages: %v", err)
		}
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	s, _, _ := newStore(b)
	o := newOwner(resourceA)
	th := mustCreateThread(b, s, o, "")
	m := Message{ThreadID: th.ID, Role: RoleUser, Content: benchContent}
	ctx := context.Background()

	for b.Loop() {
		if _, err := s.AppendMessage(ctx, o, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendMessage8Writers(b *testing.B) {
	const writers = 8
	s, _, _ := newStore(b)
	o := newOwner(resourceA)
	th := mustCreateThread(b, s, o, "")
	m := Message{ThreadID: th.ID, Role: RoleUser, Content: benchContent}
	ctx := context.Background()

	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := s.AppendMessage(ctx, o, m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkThreadsList10k(b *testing.B) {
	const threads = 10_000
	s, _, _ := newStore(b)
	o := newOwner(resourceA)
	bulkThreads(b, s, o, threads)
	ctx := context.Background()

	for b.Loop() {
		list, _, err := s.Threads(ctx, o, ThreadPage{})
		if err != nil {
			b.Fatal(err)
		}
		if len(list) != threads {
			b.Fatalf("got %d threads, want %d", len(list), threads)
		}
	}
}

func BenchmarkLastMessages(b *testing.B) {
	s, _, _ := newStore(b)
	o := newOwner(resourceA)
	th := mustCreateThread(b, s, o, "")
	bulkAppend(b, s, o, th.ID, 10_000)
	ctx := context.Background()

	for b.Loop() {
		msgs, err := s.LastMessages(ctx, o, th.ID, 50)
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) != 50 {
			b.Fatalf("got %d messages, want 50", len(msgs))
		}
	}
}

// BenchmarkOpen measures opening and closing a file of 100 threads with
// 1,000 messages each, including the memory store's schema check.
func BenchmarkOpen(b *testing.B) {
	const (
		threads = 100
		each    = 1000
	)
	s, db, path := newStore(b)
	o := newOwner(resourceA)
	for _, id := range bulkThreads(b, s, o, threads) {
		bulkAppend(b, s, o, id, each)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}

	for b.Loop() {
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Open(db); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(info.Size())/(1<<20), "file-MiB")
}

// BenchmarkStore1M builds a store of 1,000,000 messages, 100 threads of
// 10,000, once, then measures reading the last 50 messages of one thread and
// opening the file. Building it takes tens of seconds; it runs only with
// -bench.
func BenchmarkStore1M(b *testing.B) {
	const (
		threads = 100
		each    = 10_000
	)
	s, db, path := newStore(b)
	o := newOwner(resourceA)
	ids := bulkThreads(b, s, o, threads)
	for _, id := range ids {
		bulkAppend(b, s, o, id, each)
	}

	b.Run("LastMessages50", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			msgs, err := s.LastMessages(ctx, o, ids[threads/2], 50)
			if err != nil || len(msgs) != 50 {
				b.Fatalf("LastMessages = %d messages, %v", len(msgs), err)
			}
		}
	})

	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Open(db); err != nil {
				b.Fatal(err)
			}
			if err := db.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(info.Size())/(1<<20), "file-MiB")
	})
}
