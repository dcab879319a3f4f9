package vector

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

// implementations returns a new empty index of each type for dim, with a
// name for subtests. The Index searches exactly below 8 vectors, so the
// small tests exercise both of its paths.
func implementations(tb testing.TB, dim int) map[string]Interface {
	tb.Helper()
	exact, err := NewExact(dim)
	if err != nil {
		tb.Fatal(err)
	}
	graph, err := NewHNSW(dim, Options{Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	index, err := NewIndex(dim, Options{Seed: 1, ExactThreshold: 8})
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]Interface{"Exact": exact, "HNSW": graph, "Index": index}
}

func TestDot(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 8, 13, 768} {
		a, b := make([]float32, n), make([]float32, n)
		var want float64
		for i := range a {
			a[i], b[i] = float32(i+1), float32(2*i-3)
			want += float64(a[i]) * float64(b[i])
		}
		if got := dot(a, b); float64(got) != want {
			t.Errorf("dot of %d elements = %v, want %v", n, got, want)
		}
	}
}

func TestNewRejectsDimension(t *testing.T) {
	for _, dim := range []int{-1, 0, MaxDim + 1} {
		if _, err := NewExact(dim); !errors.Is(err, ErrDimension) {
			t.Errorf("NewExact(%d) error = %v, want ErrDimension", dim, err)
		}
		if _, err := NewHNSW(dim, Options{}); !errors.Is(err, ErrDimension) {
			t.Errorf("NewHNSW(%d) error = %v, want ErrDimension", dim, err)
		}
		if _, err := NewIndex(dim, Options{}); !errors.Is(err, ErrDimension) {
			t.Errorf("NewIndex(%d) error = %v, want ErrDimension", dim, err)
		}
	}
}

func TestNewRejectsOptions(t *testing.T) {
	for _, opts := range []Options{
		{M: 1},
		{M: -3},
		{M: maxM + 1},
		{EfConstruction: -1},
		{EfConstruction: maxEf + 1},
		{EfSearch: -1},
		{EfSearch: maxEf + 1},
		{ExactThreshold: math.MaxInt32 + 1},
	} {
		if _, err := NewHNSW(4, opts); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewHNSW(4, %+v) error = %v, want ErrInvalidOptions", opts, err)
		}
		if _, err := NewIndex(4, opts); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("NewIndex(4, %+v) error = %v, want ErrInvalidOptions", opts, err)
		}
	}
}

func TestOptionsDefaults(t *testing.T) {
	x, err := NewIndex(768, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := x.Options()
	want := Options{M: DefaultM, EfConstruction: DefaultEfConstruction, EfSearch: DefaultEfSearch, ExactThreshold: DefaultExactThreshold(768)}
	if got != want {
		t.Errorf("Options() = %+v, want %+v", got, want)
	}
	if err := x.SetEfSearch(0); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("SetEfSearch(0) error = %v, want ErrInvalidOptions", err)
	}
	if err := x.SetEfSearch(40); err != nil {
		t.Fatal(err)
	}
	if got := x.Options().EfSearch; got != 40 {
		t.Errorf("EfSearch after SetEfSearch(40) = %d", got)
	}
}

func TestAddSearchRejectInput(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	cases := []struct {
		name string
		vec  []float32
		want error
	}{
		{"short", []float32{1, 2}, ErrDimension},
		{"long", []float32{1, 2, 3, 4}, ErrDimension},
		{"nil", nil, ErrDimension},
		{"zero", []float32{0, 0, 0}, ErrInvalidVector},
		{"NaN", []float32{1, nan, 0}, ErrInvalidVector},
		{"Inf", []float32{1, 0, inf}, ErrInvalidVector},
		{"negative Inf", []float32{-inf, 0, 0}, ErrInvalidVector},
	}
	for name, index := range implementations(t, 3) {
		if err := index.Add("ok", []float32{1, 0, 0}); err != nil {
			t.Fatalf("%s: Add: %v", name, err)
		}
		for _, c := range cases {
			if err := index.Add("bad", c.vec); !errors.Is(err, c.want) {
				t.Errorf("%s: Add(%s) error = %v, want %v", name, c.name, err, c.want)
			}
			if _, err := index.Search(c.vec, 3, nil); !errors.Is(err, c.want) {
				t.Errorf("%s: Search(%s) error = %v, want %v", name, c.name, err, c.want)
			}
		}
		if err := index.Add("", []float32{1, 0, 0}); !errors.Is(err, ErrEmptyKey) {
			t.Errorf("%s: Add with empty key error = %v, want ErrEmptyKey", name, err)
		}
		if got := index.Len(); got != 1 {
			t.Errorf("%s: Len after rejected adds = %d, want 1", name, got)
		}
	}
}

func TestLargeAndTinyComponents(t *testing.T) {
	for name, index := range implementations(t, 2) {
		if err := index.Add("big", []float32{3e38, 3e38}); err != nil {
			t.Errorf("%s: Add of large components: %v", name, err)
		}
		if err := index.Add("tiny", []float32{1e-45, 0}); err != nil {
			t.Errorf("%s: Add of a subnormal component: %v", name, err)
		}
		got, err := index.Search([]float32{1, 1}, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Key != "big" || math.Abs(float64(got[0].Score)-1) > 1e-6 {
			t.Errorf("%s: Search = %v, want big with score 1", name, got)
		}
	}
}

func TestSearchBasics(t *testing.T) {
	for name, index := range implementations(t, 2) {
		t.Run(name, func(t *testing.T) {
			if got, err := index.Search([]float32{1, 0}, 5, nil); err != nil || len(got) != 0 {
				t.Errorf("Search of empty index = %v, %v; want no results", got, err)
			}

			// Ten directions on the upper half circle, 18° apart.
			for i := range 10 {
				angle := float64(i) * math.Pi / 10
				vec := []float32{float32(3 * math.Cos(angle)), float32(3 * math.Sin(angle))}
				if err := index.Add(fmt.Sprint(i), vec); err != nil {
					t.Fatal(err)
				}
			}
			if got := index.Len(); got != 10 {
				t.Errorf("Len = %d, want 10", got)
			}
			if got := index.Dim(); got != 2 {
				t.Errorf("Dim = %d, want 2", got)
			}

			got, err := index.Search([]float32{1, 0.01}, 3, nil)
			if err != nil {
				t.Fatal(err)
			}
			if keys := resultKeys(got); !slices.Equal(keys, []string{"0", "1", "2"}) {
				t.Errorf("Search keys = %v, want [0 1 2]", keys)
			}
			if math.Abs(float64(got[1].Score)-math.Cos(math.Pi/10-0.01)) > 1e-4 {
				t.Errorf("score of 1 = %v, want cos(18°-0.01)", got[1].Score)
			}

			if got, _ := index.Search([]float32{1, 0}, 0, nil); got != nil {
				t.Errorf("Search with k=0 = %v, want nil", got)
			}
			if got, _ := index.Search([]float32{1, 0}, -1, nil); got != nil {
				t.Errorf("Search with k=-1 = %v, want nil", got)
			}
			if got, _ := index.Search([]float32{1, 0}, 50, nil); len(got) != 10 {
				t.Errorf("Search with k=50 returned %d results, want 10", len(got))
			}
		})
	}
}

func TestAddReplacesVector(t *testing.T) {
	for name, index := range implementations(t, 2) {
		for i := range 20 {
			if err := index.Add(fmt.Sprint(i), []float32{1, float32(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := index.Add("5", []float32{-1, 0}); err != nil {
			t.Fatal(err)
		}
		if got := index.Len(); got != 20 {
			t.Errorf("%s: Len after replacing = %d, want 20", name, got)
		}
		got, err := index.Search([]float32{-1, 0}, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Key != "5" || got[0].Score < 0.9999 {
			t.Errorf("%s: Search for the replaced vector = %v, want key 5 with score 1", name, got)
		}
	}
}

func TestDeleteAndReAdd(t *testing.T) {
	for name, index := range implementations(t, 2) {
		for i := range 30 {
			if err := index.Add(fmt.Sprint(i), []float32{float32(i), 1}); err != nil {
				t.Fatal(err)
			}
		}
		if !index.Delete("7") {
			t.Errorf("%s: Delete(7) = false, want true", name)
		}
		if index.Delete("7") {
			t.Errorf("%s: second Delete(7) = true, want false", name)
		}
		if index.Delete("missing") {
			t.Errorf("%s: Delete(missing) = true, want false", name)
		}
		if got := index.Len(); got != 29 {
			t.Errorf("%s: Len after delete = %d, want 29", name, got)
		}
		got, _ := index.Search([]float32{7, 1}, 30, nil)
		if slices.Contains(resultKeys(got), "7") {
			t.Errorf("%s: deleted key 7 returned by Search", name)
		}
		if len(got) != 29 {
			t.Errorf("%s: Search returned %d results, want 29", name, len(got))
		}

		if err := index.Add("7", []float32{-1, 0}); err != nil {
			t.Fatalf("%s: re-adding 7: %v", name, err)
		}
		got, _ = index.Search([]float32{-1, 0}, 1, nil)
		if len(got) != 1 || got[0].Key != "7" {
			t.Errorf("%s: Search after re-adding 7 = %v", name, got)
		}
	}
}

func TestDeleteEverything(t *testing.T) {
	for name, index := range implementations(t, 4) {
		d := clusteredData(3, 200, 0, 4)
		fill(t, index, d, nil)
		for _, i := range []int{5, 199, 0, 100} {
			index.Delete(d.keys[i])
		}
		for _, key := range d.keys {
			index.Delete(key)
		}
		if got := index.Len(); got != 0 {
			t.Errorf("%s: Len after deleting everything = %d", name, got)
		}
		if got, err := index.Search(d.vectors[0], 3, nil); err != nil || len(got) != 0 {
			t.Errorf("%s: Search of emptied index = %v, %v", name, got, err)
		}
		fill(t, index, d, nil)
		if got := index.Len(); got != 200 {
			t.Errorf("%s: Len after refilling = %d, want 200", name, got)
		}
		for i := range 20 {
			got, _ := index.Search(d.vectors[i], 1, nil)
			if len(got) != 1 || got[0].Key != d.keys[i] {
				t.Errorf("%s: Search for vector %d after refilling = %v", name, i, got)
			}
		}
		if h := graphOf(index); h != nil {
			checkGraph(t, h)
		}
	}
}

func TestZeroValueRejectsVectors(t *testing.T) {
	for name, index := range map[string]Interface{"Exact": new(Exact), "HNSW": new(HNSW), "Index": new(Index)} {
		if err := index.Add("a", []float32{1}); !errors.Is(err, ErrDimension) {
			t.Errorf("%s: Add on zero value error = %v, want ErrDimension", name, err)
		}
		if err := index.Add("a", nil); !errors.Is(err, ErrInvalidVector) {
			t.Errorf("%s: Add of nil on zero value error = %v, want ErrInvalidVector", name, err)
		}
		if _, err := index.Search([]float32{1}, 1, nil); !errors.Is(err, ErrDimension) {
			t.Errorf("%s: Search on zero value error = %v, want ErrDimension", name, err)
		}
		if index.Delete("a") || index.Len() != 0 || index.Dim() != 0 {
			t.Errorf("%s: zero value is not empty", name)
		}
	}
}

func resultKeys(results []Result) []string {
	keys := make([]string, len(results))
	for i, r := range results {
		keys[i] = r.Key
	}
	return keys
}

// graphOf returns the graph behind index, or nil for Exact.
func graphOf(index Interface) *HNSW {
	switch x := index.(type) {
	case *HNSW:
		return x
	case *Index:
		return &x.graph
	}
	return nil
}

// checkGraph fails the test unless the graph's slots, links and entry
// point are consistent.
func checkGraph(t *testing.T, h *HNSW) {
	t.Helper()
	h.mu.RLock()
	defer h.mu.RUnlock()

	live, top := 0, -1
	for i, key := range h.keys {
		slot := uint32(i)
		if key == "" {
			if h.levels[slot] != 0 || len(h.neighborsLocked(slot, 0)) != 0 || h.upper[slot] != nil {
				t.Errorf("free slot %d has links", slot)
			}
			continue
		}
		live++
		if got, ok := h.slots[key]; !ok || got != slot {
			t.Errorf("slot of key %q = %d, %v; want %d", key, got, ok, slot)
		}
		level := int(h.levels[slot])
		top = max(top, level)
		if len(h.upper[slot]) != level {
			t.Errorf("slot %d has %d upper layers, want %d", slot, len(h.upper[slot]), level)
		}
		for layer := 0; layer <= level; layer++ {
			links := h.neighborsLocked(slot, layer)
			if len(links) > h.maxConn(layer) {
				t.Errorf("slot %d has %d links on layer %d", slot, len(links), layer)
			}
			seen := map[uint32]bool{}
			for _, n := range links {
				switch {
				case n == slot:
					t.Errorf("slot %d links to itself on layer %d", slot, layer)
				case int(n) >= len(h.keys) || h.keys[n] == "":
					t.Errorf("slot %d links to free slot %d on layer %d", slot, n, layer)
				case int(h.levels[n]) < layer:
					t.Errorf("slot %d links to %d on layer %d, above its top layer %d", slot, n, layer, h.levels[n])
				case seen[n]:
					t.Errorf("slot %d links to %d twice on layer %d", slot, n, layer)
				}
				seen[n] = true
			}
		}
	}
	if live != len(h.slots) || live+len(h.free) != len(h.keys) {
		t.Errorf("%d live slots, %d keys, %d free, %d slots", live, len(h.slots), len(h.free), len(h.keys))
	}
	switch {
	case live == 0 && h.entry != noSlot:
		t.Errorf("empty graph has entry point %d", h.entry)
	case live > 0 && (h.entry == noSlot || h.keys[h.entry] == ""):
		t.Errorf("entry point %d is not live", h.entry)
	case live > 0 && (int(h.levels[h.entry]) != top || h.top != top):
		t.Errorf("entry point %d is on layer %d and top is %d, want %d", h.entry, h.levels[h.entry], h.top, top)
	}
}

// TestDotMatchesGeneric compares dot, which uses vek32's AVX2 code where the
// CPU has it, with the portable dotGeneric on random vectors of lengths on
// both sides of each SIMD block size.
func TestDotMatchesGeneric(t *testing.T) {
	t.Logf("AVX2 and FMA in use: %v", accelerated)
	d := randomData(13, 2, 0, 1100)
	for _, n := range append([]int{0, 1, 7, 8, 9, 31, 32, 33, 39, 40, 41, 63, 64, 65, 768, 1024}, 1100) {
		a, b := d.vectors[0][:n], d.vectors[1][:n]
		got, want := dot(a, b), dotGeneric(a, b)
		if math.Abs(float64(got-want)) > 1e-5 {
			t.Errorf("dot of %d elements = %v, dotGeneric %v", n, got, want)
		}
		if self := dot(a, a); n > 0 && math.Abs(float64(self)-float64(dotGeneric(a, a))) > 1e-5 {
			t.Errorf("dot of %d elements with itself = %v, dotGeneric %v", n, self, dotGeneric(a, a))
		}
	}
	// b may be longer than a.
	if got, want := dot(d.vectors[0][:40], d.vectors[1]), dotGeneric(d.vectors[0][:40], d.vectors[1][:40]); math.Abs(float64(got-want)) > 1e-5 {
		t.Errorf("dot with a longer second vector = %v, want %v", got, want)
	}
}

func BenchmarkDotGeneric(b *testing.B) {
	d := randomData(1, 2, 0, 768)
	var sum float32
	for b.Loop() {
		sum += dotGeneric(d.vectors[0], d.vectors[1])
	}
	_ = sum
}
