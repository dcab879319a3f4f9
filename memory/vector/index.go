package vector

import "fmt"

// exactScanBudget is the cost of the largest exact search Index does,
// counted as dim + scanOverhead element comparisons per vector: 1.5 Mi
// (2,006 vectors of 768 elements, 1,512 of 1,024). That is where the graph
// becomes as fast as the scan.
//
// BenchmarkCrossover ran on clustered 768-element vectors on a 2-core Xeon
// VM that other jobs kept at a load average of 7 to 12. With the AVX2 dot
// product, it gave medians of 90 µs for the scan and 95 µs for the graph at
// 1,000 vectors, and 213 µs against 149 µs at 2,000. With the portable
// one they were 180 µs against 196 µs and 361 µs against 278 µs, and
// docs/BENCHMARKS.md puts the crossover between the same sizes on a 2-core
// AMD EPYC VM. Above 2,000 vectors the scan grows linearly or worse (16 ms
// at 32,000) and the graph stays under 0.3 ms. The graph's recall@10 was
// 1.000 up to 32,000 of those vectors, and 0.996 to 0.999 at 1,000 to
// 10,000 vectors of the lexical embedder.
//
// The budget was 24 Mi comparisons, sized as a 7 ms latency budget for the
// scan. Under the 20-client load test of Hearth, whose profiles grew to
// about 5,000 messages, that scan took 27 % of all CPU time.
const (
	exactScanBudget = 3 << 19
	scanOverhead    = 16
)

// DefaultExactThreshold returns the number of vectors of dim elements below
// which Index searches exactly: the most whose exact search costs no more
// than 1.5 Mi element comparisons.
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

// SetExactThreshold changes the number of vectors below which later
// searches are exact, as Options.ExactThreshold sets it: 0 means
// DefaultExactThreshold of the index's dimension and a negative value
// means never. A snapshot keeps the threshold, so this is how an index
// loaded from an older snapshot gets a new default. It returns
// ErrInvalidOptions, wrapped, when n is above 1<<31 - 1.
func (x *Index) SetExactThreshold(n int) error {
	h := &x.graph
	h.mu.Lock()
	defer h.mu.Unlock()
	opts := h.opts
	opts.ExactThreshold = n
	opts, err := opts.withDefaults(h.dim)
	if err != nil {
		return err
	}
	h.opts.ExactThreshold = opts.ExactThreshold
	return nil
}

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
