package vector

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// batchLinks is the state that the goroutines of one AddBatch share while
// they link its elements. The graph's write lock keeps searches and other
// changes out for the whole batch, so only the links and the entry point
// change, and only under these locks.
type batchLinks struct {
	// slots has one lock per slot, held while that slot's links are read
	// or changed.
	slots []sync.Mutex
	// entryMu guards the entry point and the top layer.
	entryMu sync.Mutex
}

// AddBatch stores a unit-length copy of each vector of vecs under the key of
// the same index and links them into the graph, as Add would one after the
// other, with up to `workers` goroutines making the links. Where a key
// repeats, its last vector is the one stored. Searches and other changes
// wait until the whole batch is linked.
//
// Every key and vector is checked before the graph changes: AddBatch returns
// ErrEmptyKey, ErrDimension or ErrInvalidVector, wrapped, and leaves the
// graph unchanged when one is rejected.
//
// Links made by several goroutines at once depend on their timing, so with
// more than one worker the same batch builds a slightly different graph
// each time. With ExtendCandidates, whose neighbour selection reads the
// links of other elements, the links are made in one goroutine.
func (h *HNSW) AddBatch(keys []string, vecs [][]float32, workers int) error {
	if len(keys) != len(vecs) {
		return fmt.Errorf("add batch to HNSW index: %d keys for %d vectors", len(keys), len(vecs))
	}

	h.mu.Lock()
	defer h.mu.Unlock()

	// Check everything first, and keep the last index of each key.
	last := make(map[string]int, len(keys))
	for i, key := range keys {
		if key == "" {
			return fmt.Errorf("add batch to HNSW index: key %d: %w", i, ErrEmptyKey)
		}
		if _, err := unitScale(vecs[i], h.dim); err != nil {
			return fmt.Errorf("add %q to HNSW index: %w", key, err)
		}
		last[key] = i
	}
	room := len(h.free) + (noSlot - len(h.keys))
	for key := range last {
		if _, ok := h.slots[key]; ok {
			room++ // its slot is freed first
		}
	}
	if len(last) > room {
		return fmt.Errorf("add batch to HNSW index: %d new vectors do not fit in the %d free slots", len(last), room)
	}

	// Store every vector and draw its level in the order given, as Add
	// would, then link them all.
	slots := make([]uint32, 0, len(last))
	for i, key := range keys {
		if last[key] != i {
			continue
		}
		if slot, ok := h.slots[key]; ok {
			h.deleteLocked(slot)
		}
		slot := h.allocateLocked(key)
		_ = normalize(h.vectors.at(slot), vecs[i], h.dim) // checked above
		h.setLevelLocked(slot, h.randomLevel())
		slots = append(slots, slot)
	}
	h.connectAllLocked(slots, workers)
	return nil
}

// connectAllLocked links the elements in slots, whose vectors and levels are
// set, with up to `workers` goroutines.
func (h *HNSW) connectAllLocked(slots []uint32, workers int) {
	s := h.getScratch()
	defer h.scratch.Put(s)

	// The first element of an empty graph becomes its entry point, which
	// every other insert starts from.
	if len(slots) > 0 && h.entry == noSlot {
		h.connectLocked(s, slots[0])
		slots = slots[1:]
	}
	workers = min(workers, len(slots))
	if workers <= 1 || h.opts.ExtendCandidates {
		for _, slot := range slots {
			h.connectLocked(s, slot)
		}
		return
	}

	h.batch = &batchLinks{slots: make([]sync.Mutex, len(h.keys))}
	defer func() { h.batch = nil }()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			s := h.getScratch()
			defer h.scratch.Put(s)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(slots) {
					return
				}
				h.connectLocked(s, slots[i])
			}
		})
	}
	wg.Wait()
}

// lockSlot locks the links of slot during AddBatch, and does nothing
// otherwise.
func (h *HNSW) lockSlot(slot uint32) {
	if h.batch != nil {
		h.batch.slots[slot].Lock()
	}
}

// unlockSlot unlocks what lockSlot locked.
func (h *HNSW) unlockSlot(slot uint32) {
	if h.batch != nil {
		h.batch.slots[slot].Unlock()
	}
}

// followLocked returns the links of slot on layer for a search to follow.
// During AddBatch, other goroutines change links, so it returns a copy taken
// under the slot's lock, valid until the next call with the same scratch.
func (h *HNSW) followLocked(s *scratch, slot uint32, layer int) []uint32 {
	if h.batch == nil {
		return h.neighborsLocked(slot, layer)
	}
	h.batch.slots[slot].Lock()
	s.links = append(s.links[:0], h.neighborsLocked(slot, layer)...)
	h.batch.slots[slot].Unlock()
	return s.links
}

// AddBatch stores a unit-length copy of each vector of vecs under the key
// of the same index, as HNSW.AddBatch does, with up to `workers` goroutines.
// It returns ErrEmptyKey, ErrDimension or ErrInvalidVector, wrapped, and
// leaves the index unchanged when an input is rejected.
func (x *Index) AddBatch(keys []string, vecs [][]float32, workers int) error {
	return x.graph.AddBatch(keys, vecs, workers)
}
