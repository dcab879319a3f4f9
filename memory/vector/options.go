package vector

import (
	"fmt"
	"math"
)

// Defaults for the zero fields of Options.
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 100
)

// Limits on Options and on the values a snapshot may contain.
const (
	maxM  = 256
	maxEf = 1 << 20
)

// Options configures an HNSW graph and the Index built on it. Zero fields
// take their defaults.
type Options struct {
	// M is the number of neighbours an element connects to when it is
	// inserted. The graph keeps at most M neighbours per element on the
	// upper layers and Mmax0 = 2·M on layer 0, and draws each element's
	// top layer with the level multiplier mL = 1/ln(M), as Malkov and
	// Yashunin recommend. A larger M raises recall and memory (4 bytes per
	// link) and slows inserts. Default DefaultM; 2 to 256.
	M int

	// EfConstruction is the number of nearest elements an insert searches
	// for on each layer before it selects the new element's neighbours
	// (efConstruction). A larger value builds a better graph, more slowly.
	// Default DefaultEfConstruction; 1 to 1<<20.
	EfConstruction int

	// EfSearch is the number of nearest elements Search keeps while it
	// walks layer 0 (efSearch), raised to k when k is larger. It trades
	// query time for recall and can be changed later with SetEfSearch.
	// Default DefaultEfSearch; 1 to 1<<20.
	EfSearch int

	// SimpleSelection makes an insert connect to the M nearest candidates
	// (SELECT-NEIGHBORS-SIMPLE) instead of using the heuristic
	// (SELECT-NEIGHBORS-HEURISTIC), which skips a candidate that is closer
	// to an already chosen neighbour than to the new element. The
	// heuristic keeps links between clusters and gives better recall on
	// clustered data.
	SimpleSelection bool

	// ExtendCandidates makes the heuristic also consider the neighbours of
	// each candidate (extendCandidates). It costs more dot products per
	// insert.
	ExtendCandidates bool

	// KeepPrunedConnections makes the heuristic fill the remaining places
	// with the nearest candidates it skipped (keepPrunedConnections), so
	// that elements keep M links.
	KeepPrunedConnections bool

	// ExactThreshold is used by Index only: below this many vectors, Index
	// searches exactly instead of walking the graph. Default
	// DefaultExactThreshold(dim); a negative value means never; at most
	// 1<<31 - 1.
	ExactThreshold int

	// Seed seeds the random choice of each element's top layer, so that
	// the same sequence of inserts builds the same graph.
	Seed uint64
}

// withDefaults returns opts with defaults in place of zero fields, or an
// error naming the first field out of range.
func (opts Options) withDefaults(dim int) (Options, error) {
	if opts.M == 0 {
		opts.M = DefaultM
	}
	if opts.EfConstruction == 0 {
		opts.EfConstruction = DefaultEfConstruction
	}
	if opts.EfSearch == 0 {
		opts.EfSearch = DefaultEfSearch
	}
	if opts.ExactThreshold == 0 {
		opts.ExactThreshold = DefaultExactThreshold(dim)
	}

	switch {
	case opts.M < 2 || opts.M > maxM:
		return opts, fmt.Errorf("M is %d, want 2 to %d: %w", opts.M, maxM, ErrInvalidOptions)
	case opts.EfConstruction < 1 || opts.EfConstruction > maxEf:
		return opts, fmt.Errorf("EfConstruction is %d, want 1 to %d: %w", opts.EfConstruction, maxEf, ErrInvalidOptions)
	case opts.EfSearch < 1 || opts.EfSearch > maxEf:
		return opts, fmt.Errorf("EfSearch is %d, want 1 to %d: %w", opts.EfSearch, maxEf, ErrInvalidOptions)
	case opts.ExactThreshold > math.MaxInt32:
		return opts, fmt.Errorf("ExactThreshold is %d, want at most %d: %w", opts.ExactThreshold, math.MaxInt32, ErrInvalidOptions)
	}
	return opts, nil
}
