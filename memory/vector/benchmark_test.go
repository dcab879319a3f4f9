package vector

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks that need a large graph share one per dataset and size within
// a process, so that `go test -bench . -count 3` builds each only once and
// the build stays out of every timer. The graphs are built with AddBatch
// and one goroutine per core (see buildWorkers). Built with Add, one vector
// at a time, 100,000 × 768 took about 2 minutes on one core of a 2-core AMD
// EPYC VM, and 1,000,000 × 256 about 30 to 40 minutes.

// dataKind selects the generator of a shared graph's vectors.
type dataKind string

const (
	clustered dataKind = "clustered"
	random    dataKind = "random"
)

// builtGraph is a graph built with default options, an exact index of the
// same vectors, and what building the graph cost.
type builtGraph struct {
	data           dataset
	graph          *HNSW
	build          time.Duration
	bytesPerVector float64 // growth of the live heap during the build, per vector

	// The exact index is built on first use, because at 1,000,000 × 768 it
	// takes another 3 GB that only some benchmarks need.
	exactOnce sync.Once
	exact     *Exact

	truthOnce sync.Once
	truth     [][]Result // exact top 10 of each of the first truthQueries queries
}

// truthQueries is the number of queries that recall@10 is measured on.
const truthQueries = 200

type graphKey struct {
	kind   dataKind
	n, dim int
}

var (
	graphsMu sync.Mutex
	graphs   = map[graphKey]*builtGraph{}
)

// sharedGraph returns the graph of n vectors of dim elements drawn by kind,
// with 1,000 queries from the same distribution, building it on first use.
// The graph stores its own copy of each key, so that bytesPerVector counts
// the 8 key bytes too.
func sharedGraph(b *testing.B, kind dataKind, n, dim int) *builtGraph {
	b.Helper()
	graphsMu.Lock()
	defer graphsMu.Unlock()
	key := graphKey{kind, n, dim}
	if g, ok := graphs[key]; ok {
		return g
	}

	g := new(builtGraph)
	switch kind {
	case clustered:
		g.data = clusteredData(1, n, 1000, dim)
	case random:
		g.data = randomData(1, n, 1000, dim)
	default:
		b.Fatalf("unknown data kind %q", kind)
	}
	var err error
	if g.graph, err = NewHNSW(dim, Options{Seed: 1}); err != nil {
		b.Fatal(err)
	}

	before := heapAlloc()
	start := time.Now()
	keys := make([]string, n)
	for i, key := range g.data.keys {
		keys[i] = strings.Clone(key)
	}
	if err := g.graph.AddBatch(keys, g.data.vectors, buildWorkers()); err != nil {
		b.Fatal(err)
	}
	g.build = time.Since(start)
	keys = nil
	g.bytesPerVector = float64(heapAlloc()-before) / float64(n)
	graphs[key] = g
	return g
}

// buildWorkers returns the number of goroutines that build a shared graph:
// GOMAXPROCS, so that -cpu=1 measures a build in one goroutine.
func buildWorkers() int {
	return runtime.GOMAXPROCS(0)
}

// exactIndex returns an exact index of g's vectors, building it on first
// use.
func (g *builtGraph) exactIndex(b *testing.B) *Exact {
	b.Helper()
	g.exactOnce.Do(func() {
		exact, err := NewExact(g.graph.Dim())
		if err != nil {
			b.Fatal(err)
		}
		fill(b, exact, g.data, nil)
		g.exact = exact
	})
	return g.exact
}

// recall returns the recall@10 of index against exact search over the
// first truthQueries queries. The exact results are computed on the first
// call and reused, so index must hold the vectors of g.data.
func (g *builtGraph) recall(b *testing.B, index Interface) float64 {
	b.Helper()
	queries := g.data.queries[:truthQueries]
	g.truthOnce.Do(func() { g.truth = exactTop(g.data, queries, 10) })

	var sum float64
	for i, q := range queries {
		got, err := index.Search(q, 10, nil)
		if err != nil {
			b.Fatalf("Search: %v", err)
		}
		sum += overlap(got, g.truth[i])
	}
	return sum / float64(len(queries))
}

// exactTop returns the k vectors of d most similar to each query, best
// first, as Exact.Search orders them. It compares each query with every
// vector of d, on every core, without building an index.
func exactTop(d dataset, queries [][]float32, k int) [][]Result {
	top := make([][]Result, len(queries))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				best := queue{}
				for j, v := range d.vectors {
					c := candidate{dot(queries[i], v), uint32(j)}
					switch {
					case best.len() < k:
						best.push(c)
					case c.sim > best.top().sim:
						best.replaceTop(c)
					}
				}
				results := make([]Result, best.len())
				for r, c := range best.items {
					results[r] = Result{Key: d.keys[c.slot], Score: c.sim}
				}
				sortResults(results)
				top[i] = results
			}
		})
	}
	for i := range queries {
		next <- i
	}
	close(next)
	wg.Wait()
	return top
}

// heapAlloc returns the bytes of live heap objects after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.HeapAlloc
}

// layoutBytes returns the bytes per stored vector that the graph's own
// arrays take: the vector, the layer-0 link record, the level, the key with
// its string header, and the links above layer 0 with their slice headers.
// It leaves out the key map and the pooled search buffers, so it comes out
// below the heap growth that heapAlloc measures.
func layoutBytes(h *HNSW) float64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	const sliceHeader, stringHeader = 24, 16
	perSlot := 4*h.dim + 4*(1+h.maxConn0) + 1 + stringHeader + sliceHeader
	total := perSlot * len(h.keys)
	for slot, key := range h.keys {
		total += len(key)
		for _, links := range h.upper[slot] {
			total += sliceHeader + 4*cap(links)
		}
	}
	return float64(total) / float64(len(h.slots))
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

// BenchmarkCrossover measures exact and graph search latency on clustered
// 768-element vectors of growing size, to find where the graph becomes
// faster than a scan. Each size is a graph of its own, shared with the
// other benchmarks.
func BenchmarkCrossover(b *testing.B) {
	const dim = 768
	for _, n := range []int{500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000} {
		b.Run(fmt.Sprintf("n=%d/exact", n), func(b *testing.B) {
			g := sharedGraph(b, clustered, n, dim)
			searchLatencies(b, g.exactIndex(b), g.data.queries, 10, nil)
		})
		b.Run(fmt.Sprintf("n=%d/hnsw", n), func(b *testing.B) {
			g := sharedGraph(b, clustered, n, dim)
			searchLatencies(b, g.graph, g.data.queries, 10, nil)
			b.ReportMetric(g.recall(b, g.graph), "recall@10")
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

// BenchmarkSearch measures graph search with the default options on
// clustered vectors. It also reports recall@10 against exact search, and
// from the graph's one build per process: the build time, inserts per
// second, the live heap growth per vector (B/vector) and the part of it
// that the graph's arrays account for (layout-B/vector).
func BenchmarkSearch(b *testing.B) {
	for _, c := range []struct{ n, dim int }{{10_000, 768}, {100_000, 768}, {1_000_000, 256}} {
		b.Run(fmt.Sprintf("n=%d/dim=%d", c.n, c.dim), func(b *testing.B) {
			g := sharedGraph(b, clustered, c.n, c.dim)
			searchLatencies(b, g.graph, g.data.queries, 10, nil)
			b.ReportMetric(g.recall(b, g.graph), "recall@10")
			b.ReportMetric(g.build.Seconds(), "build-s")
			b.ReportMetric(float64(c.n)/g.build.Seconds(), "inserts/s")
			b.ReportMetric(g.bytesPerVector, "B/vector")
			b.ReportMetric(layoutBytes(g.graph), "layout-B/vector")
		})
	}
}

// BenchmarkRecallScale measures graph search on clustered vectors at
// 10,000, 100,000 and 1,000,000 elements of 768 dimensions, with the
// recall@10, build time, insert rate and memory of each graph's one build
// per process. The 1,000,000-vector build took 96 minutes with AddBatch,
// before dot used AVX2, on a 2-core Xeon VM that other jobs kept at a load
// average of 5 to 12.
//
// HEARTH_RECALL_SCALE replaces the sizes with a comma-separated list, each
// a count with an optional dimension, such as "10000,200000/256", so that
// a smaller size can be tried first. A dimension other than 768 is named in
// the sub-benchmark.
func BenchmarkRecallScale(b *testing.B) {
	sizes := []scaleSize{{10_000, 768}, {100_000, 768}, {1_000_000, 768}}
	if env := os.Getenv("HEARTH_RECALL_SCALE"); env != "" {
		var err error
		if sizes, err = parseScaleSizes(env); err != nil {
			b.Fatalf("HEARTH_RECALL_SCALE: %v", err)
		}
	}
	for _, c := range sizes {
		name := fmt.Sprintf("n=%d", c.n)
		if c.dim != 768 {
			name += fmt.Sprintf("/dim=%d", c.dim)
		}
		b.Run(name, func(b *testing.B) {
			g := sharedGraph(b, clustered, c.n, c.dim)
			searchLatencies(b, g.graph, g.data.queries, 10, nil)
			b.ReportMetric(g.recall(b, g.graph), "recall@10")
			b.ReportMetric(g.build.Seconds(), "build-s")
			b.ReportMetric(float64(c.n)/g.build.Seconds(), "inserts/s")
			b.ReportMetric(g.bytesPerVector, "B/vector")
			b.ReportMetric(layoutBytes(g.graph), "layout-B/vector")
		})
	}
}

// scaleSize is one size of BenchmarkRecallScale.
type scaleSize struct{ n, dim int }

// parseScaleSizes parses a list such as "10000,200000/256".
func parseScaleSizes(list string) ([]scaleSize, error) {
	var sizes []scaleSize
	for _, item := range strings.Split(list, ",") {
		count, dim, hasDim := strings.Cut(strings.TrimSpace(item), "/")
		size := scaleSize{dim: 768}
		var err error
		if size.n, err = strconv.Atoi(count); err != nil || size.n < 1 {
			return nil, fmt.Errorf("size %q is not a positive count of vectors", item)
		}
		if hasDim {
			if size.dim, err = strconv.Atoi(dim); err != nil || checkDim(size.dim) != nil {
				return nil, fmt.Errorf("size %q has an invalid dimension", item)
			}
		}
		sizes = append(sizes, size)
	}
	return sizes, nil
}

// BenchmarkEfSearch measures recall@10 and latency for several values of
// EfSearch at 1,000,000 × 256, the size of BenchmarkSearch where the default
// EfSearch gives the lowest recall.
func BenchmarkEfSearch(b *testing.B) {
	for _, ef := range []int{DefaultEfSearch, 200, 400, 800} {
		b.Run(fmt.Sprintf("n=1000000/dim=256/ef=%d", ef), func(b *testing.B) {
			g := sharedGraph(b, clustered, 1_000_000, 256)
			if err := g.graph.SetEfSearch(ef); err != nil {
				b.Fatal(err)
			}
			defer g.graph.SetEfSearch(DefaultEfSearch)
			searchLatencies(b, g.graph, g.data.queries, 10, nil)
			b.ReportMetric(g.recall(b, g.graph), "recall@10")
		})
	}
}

// BenchmarkFilteredSearch measures graph search at 100,000 × 768 with
// filters that accept a share of the keys.
func BenchmarkFilteredSearch(b *testing.B) {
	for _, every := range []int{2, 100, 2000} {
		b.Run(fmt.Sprintf("n=100000/dim=768/match=1in%d", every), func(b *testing.B) {
			g := sharedGraph(b, clustered, 100_000, 768)
			keep := make(map[string]bool)
			for i := 0; i < len(g.data.keys); i += every {
				keep[g.data.keys[i]] = true
			}
			filter := func(key string) bool { return keep[key] }
			searchLatencies(b, g.graph, g.data.queries, 10, filter)

			var sum float64
			for _, q := range g.data.queries[:100] {
				got, _ := g.graph.Search(q, 10, filter)
				want, _ := g.exactIndex(b).Search(q, 10, filter)
				sum += overlap(got, want)
			}
			b.ReportMetric(sum/100, "recall@10")
		})
	}
}

// BenchmarkDelete measures deleting from the 100,000 × 768 graph, relinking
// included. The deleted vectors are added back afterwards.
func BenchmarkDelete(b *testing.B) {
	g := sharedGraph(b, clustered, 100_000, 768)
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
	g := sharedGraph(b, clustered, 100_000, 768)
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
