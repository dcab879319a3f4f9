package vector

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
)

// TestAddBatchRecall builds a graph with four goroutines, more than the
// test machine's cores, so that their links interleave. The graph must be
// consistent and reach the recall of a graph built with Add, before and
// after deletions.
func TestAddBatchRecall(t *testing.T) {
	t.Parallel()
	const n, dim = 6000, 96
	d := clusteredData(21, n, 200, dim)
	exact, _ := NewExact(dim)
	fill(t, exact, d, nil)
	sequential, _ := NewHNSW(dim, Options{Seed: 1})
	fill(t, sequential, d, nil)
	batch, _ := NewHNSW(dim, Options{Seed: 1})

	// Two batches, so that the second links into a graph that has an
	// entry point already.
	half := n / 2
	if err := batch.AddBatch(d.keys[:half], d.vectors[:half], 4); err != nil {
		t.Fatal(err)
	}
	if err := batch.AddBatch(d.keys[half:], d.vectors[half:], 4); err != nil {
		t.Fatal(err)
	}
	checkGraph(t, batch)
	if got := batch.Len(); got != n {
		t.Errorf("Len = %d, want %d", got, n)
	}
	want := recall(t, sequential, exact, d.queries, 10)
	got := recall(t, batch, exact, d.queries, 10)
	t.Logf("recall@10: %.4f with Add, %.4f with AddBatch", want, got)
	if got < recallTarget || got < want-0.01 {
		t.Errorf("recall@10 = %.4f, want at least %.2f and at most 0.01 below Add's %.4f", got, recallTarget, want)
	}

	for i := 0; i < n; i += 10 {
		batch.Delete(d.keys[i])
		exact.Delete(d.keys[i])
	}
	checkGraph(t, batch)
	if got := recall(t, batch, exact, d.queries, 10); got < recallTarget {
		t.Errorf("recall@10 after deleting 10%% = %.4f, want at least %.2f", got, recallTarget)
	}
	for i := 0; i < n; i += 10 {
		found, _ := batch.Search(d.vectors[i], 10, nil)
		if slices.ContainsFunc(found, func(r Result) bool { return r.Key == d.keys[i] }) {
			t.Fatalf("Search returned deleted key %s", d.keys[i])
		}
	}
}

// TestAddBatchOneWorkerMatchesAdd checks that a batch linked by one
// goroutine builds the graph that Add builds from the same vectors.
func TestAddBatchOneWorkerMatchesAdd(t *testing.T) {
	d := clusteredData(22, 800, 30, 16)
	added, _ := NewHNSW(16, Options{Seed: 3})
	fill(t, added, d, nil)
	batch, _ := NewHNSW(16, Options{Seed: 3})
	if err := batch.AddBatch(d.keys, d.vectors, 1); err != nil {
		t.Fatal(err)
	}
	want, _ := added.MarshalBinary()
	got, _ := batch.MarshalBinary()
	if !slices.Equal(got, want) {
		t.Error("the graph built by AddBatch with one worker differs from the one Add built")
	}
}

func TestAddBatchRejectsInput(t *testing.T) {
	d := clusteredData(23, 50, 5, 8)
	nan := slices.Clone(d.vectors[3])
	nan[2] = float32(math.NaN())
	for _, c := range []struct {
		name string
		keys []string
		vecs [][]float32
		want error
	}{
		{"empty key", []string{"a", "", "c"}, d.vectors[:3], ErrEmptyKey},
		{"short vector", []string{"a", "b"}, [][]float32{d.vectors[0], d.vectors[1][:7]}, ErrDimension},
		{"NaN", []string{"a", "b"}, [][]float32{d.vectors[0], nan}, ErrInvalidVector},
		{"zeros", []string{"a", "b"}, [][]float32{d.vectors[0], make([]float32, 8)}, ErrInvalidVector},
		{"more keys than vectors", []string{"a", "b"}, d.vectors[:1], nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			graph, _ := NewHNSW(8, Options{Seed: 1})
			fill(t, graph, d, func(i int) bool { return i >= 10 })
			before, _ := graph.MarshalBinary()
			err := graph.AddBatch(c.keys, c.vecs, 2)
			switch {
			case err == nil:
				t.Fatal("AddBatch returned no error")
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("error = %v, want %v", err, c.want)
			}
			if after, _ := graph.MarshalBinary(); !slices.Equal(after, before) {
				t.Error("a rejected batch changed the graph")
			}
		})
	}
}

// TestAddBatchReplaces adds a batch whose keys repeat within it and exist in
// the graph already: the last vector of each key must be the one stored.
func TestAddBatchReplaces(t *testing.T) {
	const dim = 16
	d := clusteredData(24, 400, 0, dim)
	graph, _ := NewHNSW(dim, Options{Seed: 2})
	fill(t, graph, d, func(i int) bool { return i < 200 })

	// Keys 100 to 299 get the vectors of 200 to 399, and keys 100 to 149
	// appear twice, the second time with the vector of 0 to 49.
	var keys []string
	var vecs [][]float32
	for i := 100; i < 300; i++ {
		keys = append(keys, d.keys[i])
		vecs = append(vecs, d.vectors[i+100])
	}
	for i := 100; i < 150; i++ {
		keys = append(keys, d.keys[i])
		vecs = append(vecs, d.vectors[i-100])
	}
	if err := graph.AddBatch(keys, vecs, 3); err != nil {
		t.Fatal(err)
	}
	checkGraph(t, graph)
	if got := graph.Len(); got != 300 {
		t.Errorf("Len = %d, want 300", got)
	}
	for i := 100; i < 300; i++ {
		want := d.vectors[i+100]
		if i < 150 {
			want = d.vectors[i-100]
		}
		only := func(key string) bool { return key == d.keys[i] }
		got, err := graph.Search(want, 1, only)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Score < 0.9999 {
			t.Fatalf("Search for the vector last added as %s = %v, want it with score 1", d.keys[i], got)
		}
	}
}

// TestAddBatchWithSearches runs batches on an Index while other goroutines
// search, add and delete, so that the race detector checks AddBatch's links
// and the searches that wait for them.
func TestAddBatchWithSearches(t *testing.T) {
	t.Parallel()
	const dim = 32
	d := clusteredData(25, 3000, 50, dim)
	index, err := NewIndex(dim, Options{ExactThreshold: 100, EfSearch: 40, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		for start := 0; start < 2400; start += 400 {
			if err := index.AddBatch(d.keys[start:start+400], d.vectors[start:start+400], 3); err != nil {
				t.Errorf("AddBatch: %v", err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := 2400; i < 3000; i++ {
			if err := index.Add(d.keys[i], d.vectors[i]); err != nil {
				t.Errorf("Add: %v", err)
				return
			}
			if i%3 == 0 {
				index.Delete(d.keys[i])
			}
		}
	})
	for w := range 2 {
		wg.Go(func() {
			for i := range 300 {
				if _, err := index.Search(d.queries[(w+i)%len(d.queries)], 10, nil); err != nil {
					t.Errorf("Search: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	checkGraph(t, &index.graph)
	if got, want := index.Len(), 2400+400; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	exact, _ := NewExact(dim)
	fill(t, exact, d, func(i int) bool { return i < 2400 || i%3 != 0 })
	if got := recall(t, index, exact, d.queries, 10); got < recallTarget {
		t.Errorf("recall@10 = %.4f, want at least %.2f", got, recallTarget)
	}
}

// BenchmarkAddBatch measures building a 10,000-vector graph with AddBatch
// and one or two goroutines, one op per build.
func BenchmarkAddBatch(b *testing.B) {
	const n, dim = 10_000, 768
	d := clusteredData(1, n, 0, dim)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("n=%d/dim=%d/workers=%d", n, dim, workers), func(b *testing.B) {
			for b.Loop() {
				graph, _ := NewHNSW(dim, Options{Seed: 1})
				if err := graph.AddBatch(d.keys, d.vectors, workers); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "inserts/s")
		})
	}
}
