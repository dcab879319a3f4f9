package memory

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"hearth/seal"
)

// BenchmarkRecallUnlock measures unlock-to-ready: the time from Unlock
// until a profile's index is loaded from its sealed snapshot and searches
// can run, for a profile whose messages are all embedded with the default
// lexical embedder (1,024 dimensions). Setting up embeds every message and
// builds the graph once, which takes minutes at 100,000 messages. Those
// times are reported as metrics.
func BenchmarkRecallUnlock(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			fx := cachedRecallFixture(b, n)
			f, o := fx.f, fx.o
			ctx := context.Background()
			b.ResetTimer()
			// After ResetTimer, which clears reported metrics.
			for name, v := range fx.metrics {
				b.ReportMetric(v, name)
			}
			for range b.N {
				if err := f.recall.Unlock(o); err != nil {
					b.Fatal(err)
				}
				if err := f.recall.Wait(ctx, o); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if got := f.recall.Status(o).Vectors; got != n {
					b.Fatalf("unlocked index holds %d vectors, want %d", got, n)
				}
				f.recall.Lock(o.ResourceID)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRecallRebuild measures the unlock of the profile of
// BenchmarkRecallUnlock when it has no snapshot, as after a snapshot that
// does not load: the index is built again from the sealed vector records.
// Each run deletes the snapshot first and, after the timed unlock, locks
// the profile, which saves a new snapshot, so that BenchmarkRecallUnlock
// still finds one.
func BenchmarkRecallRebuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			fx := cachedRecallFixture(b, n)
			f, o := fx.f, fx.o
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				fx.deleteSnapshot(b)
				b.StartTimer()
				if err := f.recall.Unlock(o); err != nil {
					b.Fatal(err)
				}
				if err := f.recall.Wait(ctx, o); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if got := f.recall.Status(o).Vectors; got != n {
					b.Fatalf("rebuilt index holds %d vectors, want %d", got, n)
				}
				f.recall.Lock(o.ResourceID)
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "vectors/s")
		})
	}
}

// deleteSnapshot removes the saved index of the profile's current space.
func (fx *recallBench) deleteSnapshot(b *testing.B) {
	b.Helper()
	err := fx.f.store.update(func(tx *bbolt.Tx) error {
		st, err := readRecallState(tx, fx.o)
		if err != nil {
			return err
		}
		space := spaceBucket(tx, fx.o.ResourceID, st.Current)
		if space == nil || space.Bucket(snapBucket) == nil {
			return fmt.Errorf("space %q has no snapshot to delete", st.Current)
		}
		return space.DeleteBucket(snapBucket)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// recallBench is a fixture built once per size and process, because
// building it takes far longer than the benchmark.
type recallBench struct {
	f       *recallFixture
	o       Owner
	metrics map[string]float64
}

var (
	recallBenches   = map[int]*recallBench{}
	recallBenchDirs []string // temporary fixture directories, removed by TestMain
)

// TestMain runs the package's tests and benchmarks, then removes the
// temporary directories of the recall fixtures, which take about 1 GiB at
// 100,000 messages.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, fx := range recallBenches {
		fx.f.recall.Close()
		fx.f.db.Close()
	}
	for _, dir := range recallBenchDirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// cachedRecallFixture returns the fixture of n messages, building it on
// first use. When HEARTH_RECALL_BENCH_DIR names a directory, the fixture is
// kept there with its test key, so that later processes reuse it. Otherwise
// it is built in a temporary directory, which TestMain removes.
func cachedRecallFixture(b *testing.B, n int) *recallBench {
	if fx, ok := recallBenches[n]; ok {
		return fx
	}
	if root := os.Getenv("HEARTH_RECALL_BENCH_DIR"); root != "" {
		fx := keptRecallFixture(b, filepath.Join(root, fmt.Sprintf("messages-%d", n)), n)
		recallBenches[n] = fx
		return fx
	}
	// The fixture outlives this benchmark run, so its files are not in
	// b.TempDir, which is removed after each run.
	dir, err := os.MkdirTemp("", "hearth-recall-bench-")
	if err != nil {
		b.Fatal(err)
	}
	recallBenchDirs = append(recallBenchDirs, dir)
	fx := recallBenchFixture(b, n, dir, newOwner(resourceA))
	recallBenches[n] = fx
	return fx
}

// keptRecallFixture opens the fixture kept in dir, or builds it there.
func keptRecallFixture(b *testing.B, dir string, n int) *recallBench {
	b.Helper()
	keyPath := filepath.Join(dir, "test-key")
	if hexKey, err := os.ReadFile(keyPath); err == nil {
		raw, err := hex.DecodeString(string(hexKey))
		if err != nil {
			b.Fatalf("%s: %v", keyPath, err)
		}
		key, err := seal.KeyFrom(raw)
		if err != nil {
			b.Fatalf("%s: %v", keyPath, err)
		}
		f := openRecallBenchStore(b, filepath.Join(dir, "hearth.db"))
		return &recallBench{f: f, o: Owner{ResourceID: resourceA, Key: key}, metrics: map[string]float64{}}
	}

	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	o := newOwner(resourceA)
	fx := recallBenchFixture(b, n, dir, o)
	if err := os.WriteFile(keyPath, []byte(hex.EncodeToString(o.Key.Bytes())), 0o600); err != nil {
		b.Fatal(err)
	}
	return fx
}

// openRecallBenchStore opens the store of a recall fixture at path with
// the lexical embedder of 1,024 dimensions.
func openRecallBenchStore(b *testing.B, path string) *recallFixture {
	b.Helper()
	// The fixture must outlive each run of the benchmark function, so it
	// registers no cleanup, unlike newRecallFixture.
	f := &recallFixture{path: path, logs: new(syncBuffer), wraps: make(map[string]*controlled)}
	db, err := bbolt.Open(f.path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	db.MaxBatchDelay = time.Millisecond
	f.db = db
	if f.store, err = Open(db); err != nil {
		b.Fatal(err)
	}
	f.recall, err = NewRecall(f.store, RecallConfig{
		Embedders: f.build, DefaultEmbedder: specOf(1024, ""), EmbedBatch: 256,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// recallBenchFixture stores n user messages of o in threads of 100, embeds
// them, and locks the profile, which saves the snapshot.
func recallBenchFixture(b *testing.B, n int, dir string, o Owner) *recallBench {
	b.Helper()
	f := openRecallBenchStore(b, filepath.Join(dir, "hearth.db"))
	ctx := context.Background()

	// Writing the messages is setup, not the figure, so it skips fsync.
	f.db.NoSync = true
	words := []string{"rent", "landlord", "boiler", "garden", "tomato", "bike", "chain", "tax", "bakery", "train",
		"holiday", "doctor", "recipe", "school", "meeting", "invoice", "flight", "paint", "insurance", "birthday"}
	var threadID string
	for i := range n {
		if i%100 == 0 {
			th, err := f.store.CreateThread(ctx, o, fmt.Sprintf("Thread %d", i/100), nil)
			if err != nil {
				b.Fatal(err)
			}
			threadID = th.ID
		}
		text := fmt.Sprintf("Note %d about the %s and the %s, with the %s on day %d.", i, words[i%20], words[(i/20)%20], words[(i/400)%20], i%31)
		if _, err := f.store.AppendMessage(ctx, o, Message{ThreadID: threadID, Role: RoleUser, Content: text}); err != nil {
			b.Fatal(err)
		}
	}
	f.db.NoSync = false

	start := time.Now()
	if err := f.recall.Unlock(o); err != nil {
		b.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Hour)
	defer cancel()
	if err := f.recall.Wait(waitCtx, o); err != nil {
		b.Fatal(err)
	}
	embedded := time.Since(start)
	start = time.Now()
	f.recall.Lock(o.ResourceID)
	saved := time.Since(start)
	metrics := map[string]float64{
		"embedded-msgs/s":  float64(n) / embedded.Seconds(),
		"snapshot-save-ms": saved.Seconds() * 1000,
	}
	if st, err := os.Stat(f.path); err == nil {
		metrics["file-MiB"] = float64(st.Size()) / (1 << 20)
	}
	return &recallBench{f: f, o: o, metrics: metrics}
}
