package memory

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"go.etcd.io/bbolt"
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

// recallBench is a fixture built once per size and process, because
// building it takes far longer than the benchmark.
type recallBench struct {
	f       *recallFixture
	o       Owner
	metrics map[string]float64
}

var recallBenches = map[int]*recallBench{}

func cachedRecallFixture(b *testing.B, n int) *recallBench {
	if fx, ok := recallBenches[n]; ok {
		return fx
	}
	// The fixture outlives this benchmark run, so its files are not in
	// b.TempDir, which is removed after each run.
	dir, err := os.MkdirTemp("", "hearth-recall-bench-")
	if err != nil {
		b.Fatal(err)
	}
	fx := recallBenchFixture(b, n, dir)
	recallBenches[n] = fx
	return fx
}

// recallBenchFixture stores n user messages of o in threads of 100, embeds
// them, and locks the profile, which saves the snapshot.
func recallBenchFixture(b *testing.B, n int, dir string) *recallBench {
	b.Helper()
	// The fixture must outlive each run of the benchmark function, so it
	// registers no cleanup, unlike newRecallFixture.
	f := &recallFixture{path: dir + "/hearth.db", logs: new(syncBuffer), wraps: make(map[string]*controlled)}
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
	o := newOwner(resourceA)
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
