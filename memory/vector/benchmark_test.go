package vector

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// Benchmarks that need a large graph share one per size within a run, so
// that `go test -bench .` builds each only once. Building 100,000 × 768
// takes about 100 s, and 1,000,000 × 256 several minutes.

// builtGraph is a graph of clustered vectors with an exact index of the
// same vectors, and what building it cost.
type builtGraph struct {
	data           dataset
	graph          *HNSW
	exact          *Exact
	build          time.Duration
	bytesPerVector float64
}

var (
	graphsMu sync.Mutex
	graphs   = map[[2]int]*builtGraph{}
)

// sharedGraph returns the graph of n clustered vectors of dim elements with
// default options, building it on first use.
func sharedGraph(b *testing.B, n, dim int) *builtGraph {
	b.Helper()
	graphsMu.Lock()
	defer graphsMu.Unlock()
	if g, ok := graphs[[2]int{n, dim}]; ok {
		return g
	}

	g := &builtGraph{data: clusteredData(1, n, 1000, dim)}
	var err error
	if g.graph, err = NewHNSW(dim, Options{Seed: 1}); err != nil {
		b.Fatal(err)
	}
	before := heapAlloc()
	start := time.Now()
	fill(b, g.graph, g.data, nil)
	g.build = time.Since(start)
	g.bytesPerVector = float64(heapAlloc()-before) / float64(n)

	if g.exact, err = NewExact(dim); err != nil {
		b.Fatal(err)
	}
	fill(b, g.exact, g.data, nil)
	graphs[[2]int{n, dim}] = g
	return g
}

// heapAlloc returns the bytes of live heap objects after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.HeapAlloc
}

// searchLatencies runs b.Loop over the queries, timing each search, and
// reports the 50th and 99th percentiles in microseconds.
func searchLatencies(b *testing.B, index Interface, queries [][]float32, k int, filter func(string) bool) {
	b.Helper()
	var latencies []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := index.Search(queries[i%len(queries)], k, filter); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
		i++
	}
	slices.Sort(latencies)
	percentile := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(percentile(0.50), "p50-µs")
	b.ReportMetric(percentile(0.99), "p99-µs")
}

func BenchmarkDot(b *testing.B) {
	d := randomData(1, 2, 0, 768)
	var sum float32
	for b.Loop() {
		sum += dot(d.vectors[0], d.vectors[1])
	}
	_ = sum
}

// BenchmarkExactScan measures exact search at the default exact threshold
// of each dimension: the slowest exact search Index does.
func BenchmarkExactScan(b *testing.B) {
	for _, dim := range []int{16, 64, 256, 768} {
		n := DefaultExactThreshold(dim)
		d := randomData(1, n, 100, dim)
		exact, _ := NewExact(dim)
		fill(b, exact, d, nil)
		b.Run(fmt.Sprintf("n=%d/dim=%d", n, dim), func(b *testing.B) {
			searchLatencies(b, exact, d.queries, 10, nil)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/vector")
		})
	}
}

// BenchmarkCrossover measures exact and graph search latency on the same
// growing set of 768-element clustered vectors.
func BenchmarkCrossover(b *testing.B) {
	const dim = 768
	sizes := []int{1000, 2000, 4000, 8000, 16000, 32000, 64000}
	d := clusteredData(1, sizes[len(sizes)-1], 200, dim)
	graph, _ := NewHNSW(dim, Options{Seed: 1})
	exact, _ := NewExact(dim)
	added := 0
	for _, n := range sizes {
		for ; added < n; added++ {
			if err := graph.Add(d.keys[added], d.vectors[added]); err != nil {
				b.Fatal(err)
			}
			if err := exact.Add(d.keys[added], d.vectors[added]); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("n=%d/exact", n), func(b *testing.B) {
			searchLatencies(b, exact, d.queries, 10, nil)
		})
		b.Run(fmt.Sprintf("n=%d/hnsw", n), func(b *testing.B) {
			searchLatencies(b, graph, d.queries, 10, nil)
			b.ReportMetric(recall(b, graph, exact, d.queries, 10), "recall@10")
		})
	}
}

// BenchmarkBuild measures inserts into a new graph, one op per build.
func BenchmarkBuild(b *testing.B) {
	for _, c := range []struct{ n, dim int }{{10_000, 768}, {10_000, 256}} {
		d := clusteredData(1, c.n, 0, c.dim)
		b.Run(fmt.Sprintf("n=%d/dim=%d", c.n, c.dim), func(b *testing.B) {
			for b.Loop() {
				graph, _ := NewHNSW(c.dim, Options{Seed: 1})
				fill(b, graph, d, nil)
			}
			b.ReportMetric(float64(c.n*b.N)/b.Elapsed().Seconds(), "inserts/s")
		})
	}
}

// BenchmarkSearch measures graph search with the default options, and
// reports recall@10 against exact search, the build time, and the heap
// bytes per vector (vector, links, key and map entry).
func BenchmarkSearch(b *testing.B) {
	for _, c := range []struct{ n, dim int }{{10_000, 768}, {100_000, 768}, {1_000_000, 256}} {
		b.Run(fmt.Sprintf("n=%d/dim=%d", c.n, c.dim), func(b *testing.B) {
			g := sharedGraph(b, c.n, c.dim)
			searchLatencies(b, g.graph, g.data.queries, 10, nil)
			b.ReportMetric(recall(b, g.graph, g.exact, g.data.queries[:200], 10), "recall@10")
			b.ReportMetric(g.build.Seconds(), "build-s")
			b.ReportMetric(float64(c.n)/g.build.Seconds(), "inserts/s")
			b.ReportMetric(g.bytesPerVector, "B/vector")
		})
	}
}

// BenchmarkFilteredSearch measures graph search at 100,000 × 768 with
// filters that accept a share of the keys.
func BenchmarkFilteredSearch(b *testing.B) {
	for _, every := range []int{2, 100, 2000} {
		b.Run(fmt.Sprintf("n=100000/dim=768/match=1in%d", every), func(b *testing.B) {
			g := sharedGraph(b, 100_000, 768)
			keep := make(map[string]bool)
			for i := 0; i < len(g.data.keys); i += every {
				keep[g.data.keys[i]] = true
			}
			filter := func(key string) bool { return keep[key] }
			searchLatencies(b, g.graph, g.data.queries, 10, filter)

			var sum float64
			for _, q := range g.data.queries[:100] {
				got, _ := g.graph.Search(q, 10, filter)
				want, _ := g.exact.Search(q, 10, filter)
				sum += overlap(got, want)
			}
			b.ReportMetric(sum/100, "recall@10")
		})
	}
}

// BenchmarkDelete measures deleting from the 100,000 × 768 graph, relinking
// included. The deleted vectors are added back afterwards.
func BenchmarkDelete(b *testing.B) {
	g := sharedGraph(b, 100_000, 768)
	var deleted []int
	for b.Loop() {
		i := (len(deleted) * 7919) % len(g.data.keys)
		if !g.graph.Delete(g.data.keys[i]) {
			b.Fatalf("Delete(%s) = false", g.data.keys[i])
		}
		deleted = append(deleted, i)
	}
	for _, i := range deleted {
		if err := g.graph.Add(g.data.keys[i], g.data.vectors[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshot measures saving and loading the 100,000 × 768 graph.
func BenchmarkSnapshot(b *testing.B) {
	g := sharedGraph(b, 100_000, 768)
	var data []byte
	b.Run("n=100000/dim=768/save", func(b *testing.B) {
		for b.Loop() {
			var err error
			if data, err = g.graph.MarshalBinary(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data))/1e6, "MB")
	})
	b.Run("n=100000/dim=768/load", func(b *testing.B) {
		for b.Loop() {
			var loaded HNSW
			if err := loaded.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data))/1e6, "MB")
	})
}
