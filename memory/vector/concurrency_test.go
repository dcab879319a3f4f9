package vector

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentOperations runs 5,000 random adds, deletes and searches from
// four goroutines on one Index. Adds dominate the first half and deletes
// the second, so the index crosses its exact threshold in both directions.
// Each goroutine owns its keys, so it can track which of them are stored
// and check its filtered searches against that. At the end the index is
// compared with an exact index of the expected contents.
func TestConcurrentOperations(t *testing.T) {
	t.Parallel()
	const (
		dim        = 32
		workers    = 4
		operations = 5000
		threshold  = 150
	)
	pool := clusteredData(12, 4000, 100, dim)
	index, err := NewIndex(dim, Options{ExactThreshold: threshold, EfSearch: 40, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}

	type state struct {
		live    map[string][]float32 // key → vector last added
		deleted map[string]bool      // deleted and not added again
	}
	states := make([]state, workers)
	var largest atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		states[w] = state{live: map[string][]float32{}, deleted: map[string]bool{}}
		wg.Go(func() {
			st := states[w]
			prefix := fmt.Sprintf("w%d/", w)
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			for op := range operations / workers {
				key := fmt.Sprintf("%s%d", prefix, rng.IntN(120))
				vec := pool.vectors[rng.IntN(len(pool.vectors))]
				adds, deletes := 6, 2
				if op >= operations/workers/2 {
					adds, deletes = 2, 5
				}
				switch r := rng.IntN(10); {
				case r < adds:
					if err := index.Add(key, vec); err != nil {
						t.Errorf("worker %d op %d: Add(%s): %v", w, op, key, err)
						return
					}
					st.live[key] = vec
					delete(st.deleted, key)
					if n := int64(index.Len()); n > largest.Load() {
						largest.Store(n)
					}
				case r < adds+deletes:
					_, present := st.live[key]
					if got := index.Delete(key); got != present {
						t.Errorf("worker %d op %d: Delete(%s) = %v, want %v", w, op, key, got, present)
					}
					if present {
						delete(st.live, key)
						st.deleted[key] = true
					}
				default:
					query := pool.queries[rng.IntN(len(pool.queries))]
					own := func(key string) bool { return strings.HasPrefix(key, prefix) }
					got, err := index.Search(query, 10, own)
					if err != nil {
						t.Errorf("worker %d op %d: Search: %v", w, op, err)
						return
					}
					if want := min(10, len(st.live)); len(got) != want {
						t.Errorf("worker %d op %d: filtered Search returned %d results, want %d", w, op, len(got), want)
					}
					for _, r := range got {
						if _, ok := st.live[r.Key]; !ok {
							t.Errorf("worker %d op %d: Search returned %s, which is not stored", w, op, r.Key)
						}
					}
					if _, err := index.Search(query, 10, nil); err != nil {
						t.Errorf("worker %d op %d: Search: %v", w, op, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Compare the final contents with an exact index of what should be
	// there.
	want := map[string][]float32{}
	deleted := map[string]bool{}
	for _, st := range states {
		maps.Copy(want, st.live)
		maps.Copy(deleted, st.deleted)
	}
	exact, _ := NewExact(dim)
	for key, vec := range want {
		if err := exact.Add(key, vec); err != nil {
			t.Fatal(err)
		}
	}
	if got := index.Len(); got != len(want) {
		t.Errorf("Len = %d, want %d", got, len(want))
	}
	if largest.Load() < threshold || len(want) >= threshold {
		t.Errorf("the index grew to about %d and ended with %d, so it did not cross the threshold %d both ways", largest.Load(), len(want), threshold)
	}
	checkGraph(t, &index.graph)

	for key, vec := range want {
		only := func(k string) bool { return k == key }
		got, err := index.Search(vec, 1, only)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Score < 0.9999 {
			t.Errorf("Search for the last vector added as %s = %v, want it with score 1", key, got)
		}
	}
	for key := range deleted {
		only := func(k string) bool { return k == key }
		if got, _ := index.Search(pool.queries[0], 1, only); len(got) != 0 {
			t.Errorf("deleted key %s returned by Search", key)
		}
	}
	if got := recall(t, index, exact, pool.queries, 10); got < recallTarget {
		t.Errorf("recall@10 after the concurrent operations = %.4f, want at least %.2f", got, recallTarget)
	}
	if got := recall(t, &index.graph, exact, pool.queries, 10); got < recallTarget {
		t.Errorf("recall@10 of the graph after the concurrent operations = %.4f, want at least %.2f", got, recallTarget)
	}
}
