package vector

import (
	"fmt"
	"testing"
	"time"

	"github.com/coder/hnsw"
)

// BenchmarkCoderHNSW builds github.com/coder/hnsw v0.6.1 and this package's
// HNSW, both with M 16 and EfSearch 100, from the same 10,000 × 768 vectors.
// It reports the recall@10 and query latency of each, so that a fixed
// release of coder/hnsw can be measured before it is adopted. Deletions are
// left out because they panic in v0.6.1.
func BenchmarkCoderHNSW(b *testing.B) {
	for _, c := range []struct {
		name string
		data func(seed uint64, n, q, dim int) dataset
	}{{"clustered", clusteredData}, {"random", randomData}} {
		const n, dim = 10_000, 768
		d := c.data(1, n, 1000, dim)
		exact, _ := NewExact(dim)
		fill(b, exact, d, nil)

		b.Run(fmt.Sprintf("%s/n=%d/dim=%d/coder", c.name, n, dim), func(b *testing.B) {
			graph := hnsw.NewGraph[string]()
			graph.Distance = hnsw.CosineDistance
			graph.M = DefaultM
			graph.EfSearch = DefaultEfSearch
			start := time.Now()
			for i, v := range d.vectors {
				graph.Add(hnsw.MakeNode(d.keys[i], v))
			}
			build := time.Since(start)
			adapter := coderAdapter{graph}
			searchLatencies(b, adapter, d.queries, 10, nil)
			b.ReportMetric(recall(b, adapter, exact, d.queries[:200], 10), "recall@10")
			b.ReportMetric(build.Seconds(), "build-s")
		})

		b.Run(fmt.Sprintf("%s/n=%d/dim=%d/hearth", c.name, n, dim), func(b *testing.B) {
			graph, _ := NewHNSW(dim, Options{Seed: 1})
			start := time.Now()
			fill(b, graph, d, nil)
			build := time.Since(start)
			searchLatencies(b, graph, d.queries, 10, nil)
			b.ReportMetric(recall(b, graph, exact, d.queries[:200], 10), "recall@10")
			b.ReportMetric(build.Seconds(), "build-s")
		})
	}
}

// coderAdapter gives a coder/hnsw graph the Search method that recall
// calls. Its Add and Delete are not used.
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
