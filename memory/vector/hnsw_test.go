package vector

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// recallTarget is the recall@10 against exact search that the graph must
// reach at the default EfSearch, before and after deletions.
const recallTarget = 0.95

func TestHNSWRecallClustered(t *testing.T) {
	t.Parallel()
	testRecallWithDeletes(t, 10_000, 768)
}

// testRecallWithDeletes builds a graph of n clustered vectors, checks its
// recall@10 against exact search, deletes every tenth vector, and checks
// the recall again and that no deleted key comes back.
func testRecallWithDeletes(t *testing.T, n, dim int) {
	d := clusteredData(1, n, 200, dim)
	graph, err := NewHNSW(dim, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := NewExact(dim)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	fill(t, graph, d, nil)
	t.Logf("built %d × %d in %v", n, dim, time.Since(start).Round(time.Millisecond))
	fill(t, exact, d, nil)
	if got := recall(t, graph, exact, d.queries, 10); got < recallTarget {
		t.Errorf("recall@10 = %.4f, want at least %.2f", got, recallTarget)
	} else {
		t.Logf("recall@10 = %.4f", got)
	}

	start = time.Now()
	deleted := map[string]bool{}
	for i := 0; i < n; i += 10 {
		graph.Delete(d.keys[i])
		exact.Delete(d.keys[i])
		deleted[d.keys[i]] = true
	}
	t.Logf("deleted %d in %v", len(deleted), time.Since(start).Round(time.Millisecond))
	checkGraph(t, graph)
	if got := recall(t, graph, exact, d.queries, 10); got < recallTarget {
		t.Errorf("recall@10 after deleting 10%% = %.4f, want at least %.2f", got, recallTarget)
	} else {
		t.Logf("recall@10 after deleting 10%% = %.4f", got)
	}

	// Searching for a deleted vector itself is where it would show up.
	for i := 0; i < n; i += 10 * max(1, n/2000) {
		got, err := graph.Search(d.vectors[i], 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if deleted[r.Key] {
				t.Fatalf("Search for deleted vector %d returned deleted key %s", i, r.Key)
			}
		}
	}
}

func TestHNSWSelectionOptions(t *testing.T) {
	t.Parallel()
	d := clusteredData(2, 2000, 100, 64)
	exact, err := NewExact(64)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, exact, d, nil)
	for _, opts := range []Options{
		{SimpleSelection: true},
		{ExtendCandidates: true},
		{KeepPrunedConnections: true},
		{ExtendCandidates: true, KeepPrunedConnections: true},
		{M: 4, EfConstruction: 40},
	} {
		graph, err := NewHNSW(64, opts)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fill(t, graph, d, nil)
		t.Logf("%+v: built in %v", opts, time.Since(start))
		start = time.Now()
		for i := 0; i < 2000; i += 5 {
			graph.Delete(d.keys[i])
		}
		t.Logf("deleted in %v", time.Since(start))
		checkGraph(t, graph)
		fill(t, graph, d, func(i int) bool { return i%5 == 0 })
		checkGraph(t, graph)
		if got := recall(t, graph, exact, d.queries, 10); got < recallTarget {
			t.Errorf("%+v: recall@10 = %.4f, want at least %.2f", opts, got, recallTarget)
		}
	}
}

func TestHNSWSameSeedSameGraph(t *testing.T) {
	d := clusteredData(4, 500, 20, 16)
	var results [2][][]Result
	for run := range results {
		graph, err := NewHNSW(16, Options{Seed: 9, EfSearch: 8})
		if err != nil {
			t.Fatal(err)
		}
		fill(t, graph, d, nil)
		for _, q := range d.queries {
			got, _ := graph.Search(q, 5, nil)
			results[run] = append(results[run], got)
		}
	}
	for i := range results[0] {
		if !slices.Equal(results[0][i], results[1][i]) {
			t.Fatalf("query %d: %v, then %v", i, results[0][i], results[1][i])
		}
	}
}

func TestHNSWDeleteEntryPoint(t *testing.T) {
	d := clusteredData(5, 300, 30, 8)
	graph, err := NewHNSW(8, Options{M: 2})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, graph, d, nil)
	for graph.Len() > 0 {
		graph.mu.RLock()
		entry := graph.keys[graph.entry]
		graph.mu.RUnlock()
		if !graph.Delete(entry) {
			t.Fatalf("Delete of entry point %s = false", entry)
		}
		checkGraph(t, graph)
		if got, _ := graph.Search(d.queries[0], 5, nil); len(got) != min(5, graph.Len()) {
			t.Fatalf("Search with %d left returned %d results", graph.Len(), len(got))
		}
	}
}

// TestFilteredSearch puts 500 near-copies of the query outside the thread
// and a handful of less similar vectors inside it: the search must return
// the thread's vectors, not a top-k of the whole index filtered down.
func TestFilteredSearch(t *testing.T) {
	const dim = 32
	d := clusteredData(6, 3000, 1, dim)
	query := d.queries[0]
	for name, index := range implementations(t, dim) {
		t.Run(name, func(t *testing.T) {
			exact, _ := NewExact(dim)
			add := func(key string, vec []float32) {
				t.Helper()
				for _, x := range []Interface{index, exact} {
					if err := x.Add(key, vec); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i, v := range d.vectors {
				add(fmt.Sprintf("other/%d", i), v)
			}
			near := clusteredData(7, 500, 0, dim)
			for i, noise := range near.vectors {
				v := slices.Clone(query)
				for j := range v {
					v[j] += 0.05 * noise[j]
				}
				add(fmt.Sprintf("other/near%d", i), v)
			}
			for i := range 6 {
				add(fmt.Sprintf("thread/%d", i), d.vectors[100*i])
			}

			inThread := func(key string) bool { return strings.HasPrefix(key, "thread/") }
			for _, k := range []int{1, 5, 6, 10} {
				got, err := index.Search(query, k, inThread)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := exact.Search(query, k, inThread)
				if !slices.Equal(resultKeys(got), resultKeys(want)) {
					t.Errorf("k=%d: keys %v, want %v", k, resultKeys(got), resultKeys(want))
				}
			}

			none := func(string) bool { return false }
			if got, _ := index.Search(query, 5, none); len(got) != 0 {
				t.Errorf("Search with a filter that rejects all = %v", got)
			}
		})
	}
}

// TestFilteredSearchWidens checks filters of every selectivity against
// exact search on a graph with a small EfSearch, so that the graph search
// must widen before it finds k matches.
func TestFilteredSearchWidens(t *testing.T) {
	const dim = 16
	d := clusteredData(8, 4000, 30, dim)
	graph, err := NewHNSW(dim, Options{EfSearch: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	exact, _ := NewExact(dim)
	fill(t, graph, d, nil)
	fill(t, exact, d, nil)

	for _, every := range []int{1, 3, 20, 150, 1000, 5000} {
		keep := func(key string) bool {
			var i int
			fmt.Sscanf(key, "m%d", &i)
			return i%every == 0
		}
		var sum float64
		for _, q := range d.queries {
			got, err := graph.Search(q, 10, keep)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := exact.Search(q, 10, keep)
			if len(got) != len(want) {
				t.Fatalf("every %d: %d results, want %d", every, len(got), len(want))
			}
			for _, r := range got {
				if !keep(r.Key) {
					t.Fatalf("every %d: result %s does not pass the filter", every, r.Key)
				}
			}
			sum += overlap(got, want)
		}
		if got := sum / float64(len(d.queries)); got < 0.9 {
			t.Errorf("every %d: recall@10 = %.3f, want at least 0.9", every, got)
		}
	}
}
