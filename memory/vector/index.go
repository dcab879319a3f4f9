package vector

import "fmt"

// Exact search costs about 0.3 ns per vector element plus 4 ns per vector
// (BenchmarkExactScan on one core of a 2-core AMD EPYC VM, Go 1.26), so
// its cost is counted as dim + scanOverhead element comparisons per
// vector. exactScanBudget is the count at which Index switches to the
// graph: 32,099 vectors of 768 elements, about 8 ms, which keeps a query
// under 10 ms on that machine; see BenchmarkCrossover for the graph's
// side.
const (
	exactScanBudget = 24 << 20
	scanOverhead    = 16
)

// DefaultExactThreshold returns the number of vectors of dim elements below
// which Index searches exactly: the most whose exact search costs no more
// than 24 Mi element comparisons.
func DefaultExactThreshold(dim int) int {
	return exactScanBudget / (max(dim, 1) + scanOverhead)
}

// Index is the index for semantic recall: an HNSW graph that searches
// exactly while it is small. Below Options.ExactThreshold vectors a search
// compares the query with every vector, which is exact and fast enough;
// from there on it walks the graph. The graph is maintained from the first
// Add, so crossing the threshold costs nothing extra.
//
// Index is safe for concurrent use: searches run in parallel, and Add,
// Delete and UnmarshalBinary wait for them and for each other. The zero
// Index has dimension 0 and rejects every vector; use NewIndex, or load a
// snapshot into it with UnmarshalBinary.
type Index struct {
	graph HNSW
}

// NewIndex returns an empty index for vectors of dim elements.
func NewIndex(dim int, opts Options) (*Index, error) {
	if err := checkDim(dim); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults(dim)
	if err != nil {
		return nil, err
	}
	x := new(Index)
	x.graph.resetLocked(dim, opts)
	return x, nil
}

// Dim returns the number of elements every vector must have.
func (x *Index) Dim() int { return x.graph.Dim() }

// Len returns the number of stored vectors.
func (x *Index) Len() int { return x.graph.Len() }

// Options returns the options in effect, with defaults filled in and
// EfSearch as last set.
func (x *Index) Options() Options { return x.graph.Options() }

// SetEfSearch changes the number of nearest elements later graph searches
// keep on layer 0, as HNSW.SetEfSearch does.
func (x *Index) SetEfSearch(ef int) error { return x.graph.SetEfSearch(ef) }

// Add stores a unit-length copy of vec under key, replacing the vector
// stored there before. It returns ErrEmptyKey, ErrDimension or
// ErrInvalidVector, wrapped, when the input is rejected.
func (x *Index) Add(key string, vec []float32) error { return x.graph.Add(key, vec) }

// Delete removes key and reports whether it was present, as HNSW.Delete
// does.
func (x *Index) Delete(key string) bool { return x.graph.Delete(key) }

// Search returns up to k stored vectors most similar to query, best first,
// among the keys that filter accepts; a nil filter accepts all keys. Below
// the exact threshold the results are exact; above it they are as HNSW.Search
// returns them. It returns fewer than k only when fewer keys match. filter
// runs with the index's read lock held, so it must not call methods of this
// index.
func (x *Index) Search(query []float32, k int, filter func(key string) bool) ([]Result, error) {
	results, err := x.graph.search(query, k, filter, true)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	return results, nil
}

// Keys returns the stored keys, in no particular order.
func (x *Index) Keys() []string { return x.graph.Keys() }
