package vector

import (
	"fmt"
	"sync"
)

// Exact is a flat index that compares the query with every stored vector,
// so its results are always the true nearest neighbours. A search costs one
// dot product per stored vector; see Index for the size up to which that is
// fast enough.
//
// Exact is safe for concurrent use: searches run in parallel, and Add,
// Delete and UnmarshalBinary wait for them and for each other. The zero
// Exact has dimension 0 and rejects every vector; use NewExact, or load a
// snapshot into it with UnmarshalBinary.
type Exact struct {
	mu      sync.RWMutex
	dim     int
	keys    []string          // key of each slot; slots [0, len(keys)) are all in use
	slots   map[string]uint32 // slot of each key
	vectors chunked[float32]  // unit-length vector of each slot
}

// NewExact returns an empty exact index for vectors of dim elements.
func NewExact(dim int) (*Exact, error) {
	if err := checkDim(dim); err != nil {
		return nil, err
	}
	return &Exact{
		dim:     dim,
		slots:   make(map[string]uint32),
		vectors: newChunked[float32](dim),
	}, nil
}

// Dim returns the number of elements every vector must have.
func (e *Exact) Dim() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dim
}

// Len returns the number of stored vectors.
func (e *Exact) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.keys)
}

// Add stores a unit-length copy of vec under key, replacing the vector
// stored there before. It returns ErrEmptyKey, ErrDimension or
// ErrInvalidVector, wrapped, when the input is rejected.
func (e *Exact) Add(key string, vec []float32) error {
	if key == "" {
		return fmt.Errorf("add to exact index: %w", ErrEmptyKey)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	unit := make([]float32, e.dim)
	if err := normalize(unit, vec, e.dim); err != nil {
		return fmt.Errorf("add %q to exact index: %w", key, err)
	}
	slot, ok := e.slots[key]
	if !ok {
		slot = uint32(len(e.keys))
		e.keys = append(e.keys, key)
		e.slots[key] = slot
		e.vectors.grow(len(e.keys))
	}
	copy(e.vectors.at(slot), unit)
	return nil
}

// Delete removes key and reports whether it was present. The last stored
// vector moves into the freed slot, so slots stay dense.
func (e *Exact) Delete(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	slot, ok := e.slots[key]
	if !ok {
		return false
	}
	delete(e.slots, key)

	last := uint32(len(e.keys) - 1)
	if slot != last {
		moved := e.keys[last]
		e.keys[slot] = moved
		e.slots[moved] = slot
		copy(e.vectors.at(slot), e.vectors.at(last))
	}
	clear(e.vectors.at(last))
	e.keys[last] = ""
	e.keys = e.keys[:last]
	return true
}

// Search returns the k stored vectors most similar to query, best first,
// among the keys that filter accepts; a nil filter accepts all keys. It
// returns fewer than k results when fewer keys match, and none when k < 1.
// filter runs with the index's read lock held, so it must not call methods
// of this index.
func (e *Exact) Search(query []float32, k int, filter func(key string) bool) ([]Result, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	unit := make([]float32, e.dim)
	if err := normalize(unit, query, e.dim); err != nil {
		return nil, fmt.Errorf("search exact index: %w", err)
	}
	if k < 1 {
		return nil, nil
	}
	return scan(&e.vectors, e.keys, unit, k, filter), nil
}

// scan compares query with the vector of every slot in [0, len(keys)) that
// has a key, and returns the k best matches that filter accepts, best
// first.
func scan(vectors *chunked[float32], keys []string, query []float32, k int, filter func(key string) bool) []Result {
	best := queue{items: make([]candidate, 0, min(k, len(keys)))}
	for i, key := range keys {
		if key == "" || (filter != nil && !filter(key)) {
			continue
		}
		slot := uint32(i)
		sim := dot(query, vectors.at(slot))
		switch {
		case best.len() < k:
			best.push(candidate{sim, slot})
		case sim > best.top().sim:
			best.replaceTop(candidate{sim, slot})
		}
	}

	results := make([]Result, best.len())
	for i, c := range best.items {
		results[i] = Result{Key: keys[c.slot], Score: c.sim}
	}
	sortResults(results)
	return results
}
