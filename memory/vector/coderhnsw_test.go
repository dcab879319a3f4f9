package vector

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/coder/hnsw"
)

// BenchmarkCoderHNSW compares github.com/coder/hnsw v0.6.1 with exact
// search and with this package's HNSW on the same 10,000 × 768 vectors,
// clustered and uniformly random. Both graphs use M 16, EfSearch 100 and a
// fixed seed for their levels. It reports the query latency of each and the
// recall@10 of each graph, so that a fixed release of coder/hnsw can be
// measured before it is adopted. Deletions are left out because they panic
// in v0.6.1.
func BenchmarkCoderHNSW(b *testing.B) {
	const n, dim = 10_000, 768
	for _, kind := range []dataKind{clustered, random} {
		b.Run(fmt.Sprintf("%s/n=%d/dim=%d/exact", kind, n, dim), func(b *testing.B) {
			g := sharedGraph(b, kind, n, dim)
			searchLatencies(b, g.exactIndex(b), g.data.queries, 10, nil)
		})

		b.Run(fmt.Sprintf("%s/n=%d/dim=%d/coder", kind, n, dim), func(b *testing.B) {
			g := sharedGraph(b, kind, n, dim)
			coder, build := sharedCoderGraph(g)
			searchLatencies(b, coder, g.data.queries, 10, nil)
			b.ReportMetric(g.recall(b, coder), "recall@10")
			b.ReportMetric(build.Seconds(), "build-s")
		})

		b.Run(fmt.Sprintf("%s/n=%d/dim=%d/hearth", kind, n, dim), func(b *testing.B) {
			g := sharedGraph(b, kind, n, dim)
			searchLatencies(b, g.graph, g.data.queries, 10, nil)
			b.ReportMetric(g.recall(b, g.graph), "recall@10")
			b.ReportMetric(g.build.Seconds(), "build-s")
		})
	}
}

var (
	coderGraphsMu sync.Mutex
	coderGraphs   = map[*builtGraph]coderGraph{}
)

// coderGraph is a coder/hnsw graph of a builtGraph's vectors and the time
// that building it took.
type coderGraph struct {
	adapter coderAdapter
	build   time.Duration
}

// sharedCoderGraph returns a coder/hnsw graph of g's vectors, building it on
// first use.
func sharedCoderGraph(g *builtGraph) (coderAdapter, time.Duration) {
	coderGraphsMu.Lock()
	defer coderGraphsMu.Unlock()
	if c, ok := coderGraphs[g]; ok {
		return c.adapter, c.build
	}

	graph := hnsw.NewGraph[string]()
	graph.Rng = rand.New(rand.NewSource(1)) // coder/hnsw seeds its default from the clock
	graph.Distance = hnsw.CosineDistance
	graph.M = DefaultM
	graph.EfSearch = DefaultEfSearch
	start := time.Now()
	for i, v := range g.data.vectors {
		graph.Add(hnsw.MakeNode(g.data.keys[i], v))
	}
	c := coderGraph{coderAdapter{graph}, time.Since(start)}
	coderGraphs[g] = c
	return c.adapter, c.build
}

// coderAdapter gives a coder/hnsw graph the Search method that
// builtGraph.recall calls. Its Add and Delete are not used.
type coderAdapter struct {
	graph *hnsw.Graph[string]
}

func (a coderAdapter) Search(query []float32, k int, _ func(string) bool) ([]Result, error) {
	nodes := a.graph.Search(query, k)
	results := make([]Result, len(nodes))
	for i, node := range nodes {
		results[i] = Result{Key: node.Key}
	}
	return results, nil
}

func (a coderAdapter) Add(string, []float32) error { panic("not used") }
func (a coderAdapter) Delete(string) bool          { panic("not used") }
func (a coderAdapter) Len() int                    { return a.graph.Len() }
func (a coderAdapter) Dim() int                    { return a.graph.Dims() }

// BenchmarkRecallCompare measures top-10 search at 100,000 clustered
// 768-element vectors with exact search, this package's HNSW and
// github.com/coder/hnsw v0.6.1. The budget for recall is a p50 of at most
// 2 ms, a p99 of at most 5 ms and a recall@10 of at least 0.95. Each graph
// is built once per process, and the HNSW graph is the one the other
// benchmarks share; build-s is what building it took.
func BenchmarkRecallCompare(b *testing.B) {
	const n, dim = 100_000, 768
	b.Run(fmt.Sprintf("n=%d/exact", n), func(b *testing.B) {
		g := sharedGraph(b, clustered, n, dim)
		exact := g.exactIndex(b)
		searchLatencies(b, exact, g.data.queries, 10, nil)
		b.ReportMetric(g.recall(b, exact), "recall@10")
	})
	b.Run(fmt.Sprintf("n=%d/hnsw", n), func(b *testing.B) {
		g := sharedGraph(b, clustered, n, dim)
		searchLatencies(b, g.graph, g.data.queries, 10, nil)
		b.ReportMetric(g.recall(b, g.graph), "recall@10")
		b.ReportMetric(g.build.Seconds(), "build-s")
	})
	b.Run(fmt.Sprintf("n=%d/coder", n), func(b *testing.B) {
		g := sharedGraph(b, clustered, n, dim)
		coder, build := sharedCoderGraph(g)
		searchLatencies(b, coder, g.data.queries, 10, nil)
		b.ReportMetric(g.recall(b, coder), "recall@10")
		b.ReportMetric(build.Seconds(), "build-s")
	})
}
