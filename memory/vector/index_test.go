package vector

import (
	"errors"
	"slices"
	"testing"
)

func TestDefaultExactThreshold(t *testing.T) {
	for _, c := range []struct{ dim, want int }{
		{768, 2006},
		{1024, 1512},
		{256, 5782},
		{1, 92521},
		{MaxDim, 23},
	} {
		if got := DefaultExactThreshold(c.dim); got != c.want {
			t.Errorf("DefaultExactThreshold(%d) = %d, want %d", c.dim, got, c.want)
		}
	}
}

// TestIndexSwitchesAtThreshold builds an Index, an Exact and an HNSW with the
// same options from the same random vectors, on which a graph with a tiny
// EfSearch often misses. Below the threshold the Index must return what
// Exact returns, and from the threshold on what HNSW returns.
func TestIndexSwitchesAtThreshold(t *testing.T) {
	const dim, threshold = 32, 300
	d := randomData(10, threshold, 40, dim)
	opts := Options{EfSearch: 1, ExactThreshold: threshold, Seed: 5}
	index, err := NewIndex(dim, opts)
	if err != nil {
		t.Fatal(err)
	}
	graph, err := NewHNSW(dim, opts)
	if err != nil {
		t.Fatal(err)
	}
	exact, _ := NewExact(dim)
	fill(t, index, d, func(i int) bool { return i < threshold-1 })
	fill(t, graph, d, func(i int) bool { return i < threshold-1 })
	fill(t, exact, d, func(i int) bool { return i < threshold-1 })

	sameAs := func(other Interface) (same, differ int) {
		for _, q := range d.queries {
			got, err := index.Search(q, 10, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := other.Search(q, 10, nil)
			if slices.Equal(got, want) {
				same++
			} else {
				differ++
			}
		}
		return same, differ
	}

	if same, differ := sameAs(exact); differ != 0 {
		t.Errorf("below the threshold, %d of %d queries differ from exact search", differ, same+differ)
	}
	if _, differ := sameAs(graph); differ == 0 {
		t.Fatal("the graph with EfSearch 1 returned exact results for every query, so the test cannot tell the paths apart")
	}

	last := threshold - 1
	for _, x := range []Interface{index, graph, exact} {
		if err := x.Add(d.keys[last], d.vectors[last]); err != nil {
			t.Fatal(err)
		}
	}
	if same, differ := sameAs(graph); differ != 0 {
		t.Errorf("at the threshold, %d of %d queries differ from the graph search", differ, same+differ)
	}

	index.Delete(d.keys[0])
	exact.Delete(d.keys[0])
	if same, differ := sameAs(exact); differ != 0 {
		t.Errorf("back below the threshold, %d of %d queries differ from exact search", differ, same+differ)
	}
}

func TestIndexNeverExact(t *testing.T) {
	const dim = 32
	d := randomData(11, 200, 40, dim)
	opts := Options{EfSearch: 1, ExactThreshold: -1, Seed: 5}
	index, _ := NewIndex(dim, opts)
	graph, _ := NewHNSW(dim, opts)
	fill(t, index, d, nil)
	fill(t, graph, d, nil)
	for _, q := range d.queries {
		got, _ := index.Search(q, 10, nil)
		want, _ := graph.Search(q, 10, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("Index with ExactThreshold -1 returned %v, graph %v", got, want)
		}
	}
}

func TestIndexSetExactThreshold(t *testing.T) {
	const dim = 32
	d := randomData(12, 200, 40, dim)
	index, _ := NewIndex(dim, Options{EfSearch: 1, ExactThreshold: -1, Seed: 5})
	exact, _ := NewExact(dim)
	fill(t, index, d, nil)
	fill(t, exact, d, nil)
	if err := index.SetExactThreshold(201); err != nil {
		t.Fatal(err)
	}
	for _, q := range d.queries {
		got, _ := index.Search(q, 10, nil)
		want, _ := exact.Search(q, 10, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("after SetExactThreshold(201), Index returned %v, exact search %v", got, want)
		}
	}

	for _, c := range []struct{ set, want int }{{0, DefaultExactThreshold(dim)}, {-1, -1}, {7, 7}} {
		if err := index.SetExactThreshold(c.set); err != nil {
			t.Fatal(err)
		}
		if got := index.Options().ExactThreshold; got != c.want {
			t.Errorf("SetExactThreshold(%d): ExactThreshold = %d, want %d", c.set, got, c.want)
		}
	}
	if err := index.SetExactThreshold(1 << 31); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("SetExactThreshold(1<<31) error = %v, want ErrInvalidOptions", err)
	}
	if got := index.Options().ExactThreshold; got != 7 {
		t.Errorf("a rejected threshold changed ExactThreshold to %d", got)
	}
}
