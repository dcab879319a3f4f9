package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
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

// BenchmarkAppendMessage8Writers has 8 writers append to one thread at
// once. Their commits are shared through bbolt's Batch, as in the app.
func BenchmarkAppendMessage8Writers(b *testing.B) {
	s, _, _ := newStore(b)
	o := newOwner(resourceA)
	th := mustCreateThread(b, s, o, "")
	benchmarkWriters(b, s, s.update, o, []string{th.ID})
}

// BenchmarkAppendFsyncEach8Writers is BenchmarkAppendMessage8Writers with
// a durable commit of its own for each message (db.Update, no Batch): the
// reference that shows what sharing commits buys.
func BenchmarkAppendFsyncEach8Writers(b *testing.B) {
	s, db, _ := newStore(b)
	o := newOwner(resourceA)
	th := mustCreateThread(b, s, o, "")
	benchmarkWriters(b, s, db.Update, o, []string{th.ID})
}

// benchmarkWriters has 8 writers append b.N messages of benchContent in
// all, writer w to threads[w % len(threads)], each message committed by
// commit, and reports the messages appended per second.
func benchmarkWriters(b *testing.B, s *Store, commit func(func(*bbolt.Tx) error) error, o Owner, threads []string) {
	const writers = 8
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		m := Message{ThreadID: threads[w%len(threads)], Role: RoleUser, Content: benchContent}
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := s.appendWith(commit, o, m); err != nil {
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

	benchmarkOpen(b, path, nil)
	b.ReportMetric(float64(info.Size())/(1<<20), "file-MiB")
}

// BenchmarkStore1M builds a store of 1,000,000 messages, 100 threads of
// 10,000, once, then measures reading the last 50 messages of one thread and
// opening the file, as it is and as it would be with NoFreelistSync. Building it takes tens of seconds; it runs only with
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
		benchmarkOpen(b, path, nil)
		b.ReportMetric(float64(info.Size())/(1<<20), "file-MiB")
	})

	// A commit made with NoFreelistSync drops bbolt's free list from the
	// file, so that every later open rebuilds the list by walking every
	// page. This commit writes the schema version again, unchanged.
	unsynced := &bbolt.Options{NoFreelistSync: true, FreelistType: bbolt.FreelistMapType}
	db, err = bbolt.Open(path, 0o600, unsynced)
	if err != nil {
		b.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(metaBucket).Put(schemaKey, binary.BigEndian.AppendUint64(nil, schemaVersion))
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("OpenNoFreelistSync", func(b *testing.B) {
		benchmarkOpen(b, path, unsynced)
	})
}

// benchmarkOpen opens and closes the bbolt file at path with options,
// including the memory store's schema check.
func benchmarkOpen(b *testing.B, path string, options *bbolt.Options) {
	for b.Loop() {
		db, err := bbolt.Open(path, 0o600, options)
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
}

// scaleThreadMessages is the number of messages in each thread of the
// stores of BenchmarkStoreScale.
const scaleThreadMessages = 100

// BenchmarkStoreScale measures three operations in stores of 10,000,
// 100,000 and 1,000,000 messages, one profile each, in threads of 100
// messages: 100, 1,000 and 10,000 threads.
//
//   - LastMessages50 reads the last 50 messages of the middle thread.
//   - Append8Writers has 8 writers append to 8 new threads at once, as
//     BenchmarkAppendMessage8Writers does, and reports msgs/s. The threads
//     are deleted after each run, so the store keeps its size over -count
//     runs.
//   - ListThreads lists every thread of the profile in one page, so it
//     grows with the thread count: 100, 1,000 and 10,000 threads.
//
// Each store is built once per process, outside the timers, and shared by
// the three operations and every run. The largest took 14 s to build on 2
// cores that other jobs shared.
func BenchmarkStoreScale(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			st := cachedScaleStore(b, n)
			ctx := context.Background()

			b.Run("LastMessages50", func(b *testing.B) {
				middle := st.threads[len(st.threads)/2]
				for b.Loop() {
					msgs, err := st.s.LastMessages(ctx, st.o, middle, 50)
					if err != nil || len(msgs) != 50 {
						b.Fatalf("LastMessages = %d messages, %v", len(msgs), err)
					}
				}
			})

			b.Run("Append8Writers", func(b *testing.B) {
				var threads []string
				for range 8 {
					threads = append(threads, mustCreateThread(b, st.s, st.o, "").ID)
				}
				benchmarkWriters(b, st.s, st.s.update, st.o, threads)
				b.StopTimer()
				for _, id := range threads {
					if err := st.s.DeleteThread(ctx, st.o, id); err != nil {
						b.Fatal(err)
					}
				}
			})

			b.Run("ListThreads", func(b *testing.B) {
				for b.Loop() {
					list, _, err := st.s.Threads(ctx, st.o, ThreadPage{})
					if err != nil || len(list) != len(st.threads) {
						b.Fatalf("Threads = %d threads, %v; want %d", len(list), err, len(st.threads))
					}
				}
			})
		})
	}
}

// scaleStore is a store of BenchmarkStoreScale: one profile, o, with
// threads of scaleThreadMessages messages.
type scaleStore struct {
	s       *Store
	o       Owner
	threads []string
}

// scaleStores maps a message count to its store, once built.
var scaleStores = map[int]*scaleStore{}

// cachedScaleStore returns the store of the given size, building it on
// first use. Its file outlives each run of the benchmark, so it is not in
// b.TempDir, which is removed after each run. It is removed while open
// instead, so that the system frees it when the process ends, however it
// ends.
//
// NOTE: On Windows a file cannot be removed while open, so there the
// directory stays behind in the temporary directory.
func cachedScaleStore(b *testing.B, messages int) *scaleStore {
	if st, ok := scaleStores[messages]; ok {
		return st
	}
	dir, err := os.MkdirTemp("", "hearth-scale-bench-")
	if err != nil {
		b.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(dir, "hearth.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Logf("the store stays in %s: %v", dir, err)
	}
	db.MaxBatchDelay = time.Millisecond
	s, err := Open(db)
	if err != nil {
		b.Fatal(err)
	}
	st := &scaleStore{s: s, o: newOwner(resourceA)}
	st.threads = bulkProfile(b, s, st.o, messages/scaleThreadMessages, scaleThreadMessages)
	scaleStores[messages] = st
	return st
}

// bulkProfile creates threads threads of o with each messages apiece, in
// transactions of about 10,000 messages, and returns their ids. The records
// are the ones StartThread and AppendMessage write.
func bulkProfile(tb testing.TB, s *Store, o Owner, threads, each int) []string {
	tb.Helper()
	perTx := max(1, 10_000/each)
	var ids []string
	for len(ids) < threads {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for range min(perTx, threads-len(ids)) {
				id := NewID()
				now := s.now().UTC()
				rec := threadRecord{ResourceID: o.ResourceID, CreatedAt: now, UpdatedAt: now}
				sealed, err := sealThreadSecrets(o.Key, threadSecrets{Title: "Benchmark thread " + id[:8]}, threadAD(o.ResourceID, id))
				if err != nil {
					return err
				}
				rec.Sealed = sealed
				for range each {
					m := Message{ID: NewID(), ThreadID: id, Role: RoleUser, Content: benchContent, Status: StatusComplete, CreatedAt: s.now().UTC()}
					if err := appendMessage(tx, o, &m, &rec); err != nil {
						return err
					}
				}
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
