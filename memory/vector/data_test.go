package vector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// clusterSpread is the expected length of the Gaussian noise added to each
// unit-length cluster centre before normalising: points of one cluster have
// a cosine similarity of about 1/(1+0.6²) ≈ 0.74 to each other and about 0
// to other clusters.
const clusterSpread = 0.6

// dataset is a reproducible set of vectors to index and queries to run.
type dataset struct {
	keys    []string
	vectors [][]float32
	queries [][]float32
}

// clusteredData returns n vectors and q queries of dim elements drawn from
// the same distribution: one of 100 random unit centres plus Gaussian noise
// of expected length clusterSpread.
func clusteredData(seed uint64, n, q, dim int) dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	const clusters = 100
	centres := make([][]float32, clusters)
	for i := range centres {
		centres[i] = gaussianVector(rng, dim, 1/math.Sqrt(float64(dim)))
		unitize(centres[i])
	}
	sigma := clusterSpread / math.Sqrt(float64(dim))
	point := func() []float32 {
		centre := centres[rng.IntN(clusters)]
		v := gaussianVector(rng, dim, sigma)
		for i := range v {
			v[i] += centre[i]
		}
		unitize(v)
		return v
	}

	var d dataset
	for i := range n {
		d.keys = append(d.keys, fmt.Sprintf("m%07d", i))
		d.vectors = append(d.vectors, point())
	}
	for range q {
		d.queries = append(d.queries, point())
	}
	return d
}

// randomData returns n vectors and q queries drawn uniformly from the unit
// sphere, the hardest case for a graph index.
func randomData(seed uint64, n, q, dim int) dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	var d dataset
	for i := range n {
		d.keys = append(d.keys, fmt.Sprintf("m%07d", i))
		v := gaussianVector(rng, dim, 1)
		unitize(v)
		d.vectors = append(d.vectors, v)
	}
	for range q {
		v := gaussianVector(rng, dim, 1)
		unitize(v)
		d.queries = append(d.queries, v)
	}
	return d
}

func gaussianVector(rng *rand.Rand, dim int, sigma float64) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * sigma)
	}
	return v
}

func unitize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	scale := 1 / math.Sqrt(sum)
	for i := range v {
		v[i] = float32(float64(v[i]) * scale)
	}
}

// fill adds the vectors of d whose index passes keep (all when keep is nil).
func fill(tb testing.TB, index Interface, d dataset, keep func(i int) bool) {
	tb.Helper()
	for i, v := range d.vectors {
		if keep != nil && !keep(i) {
			continue
		}
		if err := index.Add(d.keys[i], v); err != nil {
			tb.Fatalf("Add(%s): %v", d.keys[i], err)
		}
	}
}

// recall returns the mean fraction of the exact top k that index returns
// for each query.
func recall(tb testing.TB, index, exact Interface, queries [][]float32, k int) float64 {
	tb.Helper()
	var sum float64
	for _, q := range queries {
		got, err := index.Search(q, k, nil)
		if err != nil {
			tb.Fatalf("Search: %v", err)
		}
		want, err := exact.Search(q, k, nil)
		if err != nil {
			tb.Fatalf("exact Search: %v", err)
		}
		sum += overlap(got, want)
	}
	return sum / float64(len(queries))
}

// overlap returns the fraction of want's keys that got contains.
func overlap(got, want []Result) float64 {
	if len(want) == 0 {
		return 1
	}
	in := make(map[string]bool, len(got))
	for _, r := range got {
		in[r.Key] = true
	}
	hits := 0
	for _, r := range want {
		if in[r.Key] {
			hits++
		}
	}
	return float64(hits) / float64(len(want))
}
