package vector

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// noSlot marks the absence of an entry point.
const noSlot = math.MaxUint32

// maxLevel caps the layer an element is drawn for. With M = 2 a level above
// 32 has a probability below 1 in 4 billion; with larger M it is smaller.
const maxLevel = 32

// HNSW is an approximate nearest-neighbour index: a Hierarchical Navigable
// Small World graph as described by Yu. A. Malkov and D. A. Yashunin,
// "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", IEEE TPAMI 42(4), 2020
// (arXiv:1603.09320). Insert follows the paper's algorithm 1, the layer
// search algorithm 2, neighbour selection algorithms 3 and 4, and Search
// algorithm 5. The tuning knobs are the fields of Options.
//
// Every element appears on layer 0 and, with probability falling by a
// factor M per layer, on the layers above it. A search descends greedily
// from the single entry point on the top layer to layer 1, then keeps the
// EfSearch best elements while it walks layer 0.
//
// Vectors are stored at unit length and compared by dot product, which is
// their cosine similarity. Keys map to dense uint32 slots; a deleted
// element's slot is reused by a later Add.
//
// HNSW is safe for concurrent use: searches run in parallel, and Add,
// Delete and UnmarshalBinary wait for them and for each other. The zero
// HNSW has dimension 0 and rejects every vector; use NewHNSW, or load a
// snapshot into it with UnmarshalBinary.
type HNSW struct {
	scratch sync.Pool

	mu        sync.RWMutex
	dim       int
	opts      Options // with defaults filled in, and EfSearch as last set
	m         int     // M: links per element on layers above 0
	maxConn0  int     // Mmax0 = 2·M: links per element on layer 0
	levelMult float64 // mL = 1/ln(M)

	keys    []string          // key of each slot, "" when the slot is free
	slots   map[string]uint32 // slot of each key
	free    []uint32          // free slots, reused last in, first out
	vectors chunked[float32]  // unit-length vector of each slot
	levels  []uint8           // top layer of each slot's element
	links0  chunked[uint32]   // layer 0 of each slot: link count, then up to Mmax0 slots
	upper   [][][]uint32      // layers 1..levels[slot] of each slot, at index layer-1
	entry   uint32            // element on the top layer, where searches start, or noSlot
	top     int               // top layer of the entry point
	rng     *rand.Rand        // source of levels

	// batch is set while AddBatch links elements from several goroutines,
	// which then read and change links under its per-slot locks.
	batch *batchLinks
}

// scratch holds the buffers of one search or insert, pooled so that
// searches do not allocate them again.
type scratch struct {
	query      []float32
	visited    visitedSet
	candidates queue // elements still to expand, nearest first
	results    queue // best elements found so far, furthest first
	entries    []candidate
	pruned     []candidate
	work       []candidate
	discarded  []candidate
	selected   []uint32
	links      []uint32 // copy of the links being followed, during AddBatch
	linked     []uint32 // copy of the new element's links, during an insert
	earlier    []uint32 // links that others gave the new element, during AddBatch
}

// NewHNSW returns an empty graph for vectors of dim elements.
func NewHNSW(dim int, opts Options) (*HNSW, error) {
	if err := checkDim(dim); err != nil {
		return nil, err
	}
	opts, err := opts.withDefaults(dim)
	if err != nil {
		return nil, err
	}
	h := new(HNSW)
	h.resetLocked(dim, opts)
	return h, nil
}

// resetLocked empties the graph and sets its dimension and options, which
// must have been checked.
func (h *HNSW) resetLocked(dim int, opts Options) {
	h.dim = dim
	h.opts = opts
	h.m = opts.M
	h.maxConn0 = 2 * opts.M
	h.levelMult = 1 / math.Log(float64(opts.M))
	h.keys = nil
	h.slots = make(map[string]uint32)
	h.free = nil
	h.vectors = newChunked[float32](dim)
	h.levels = nil
	h.links0 = newChunked[uint32](1 + h.maxConn0)
	h.upper = nil
	h.entry, h.top = noSlot, 0
	h.rng = rand.New(rand.NewPCG(opts.Seed, levelStream))
}

// levelStream selects the random stream of level draws for a given seed.
const levelStream = 0x6865617274682d76

// getScratch returns pooled buffers for a search or insert of the current
// dimension.
func (h *HNSW) getScratch() *scratch {
	s, _ := h.scratch.Get().(*scratch)
	if s == nil {
		s = &scratch{candidates: queue{nearestFirst: true}}
	}
	if len(s.query) != h.dim {
		s.query = make([]float32, h.dim)
	}
	return s
}

// Dim returns the number of elements every vector must have.
func (h *HNSW) Dim() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.dim
}

// Len returns the number of stored vectors.
func (h *HNSW) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.slots)
}

// Keys returns the stored keys, in no particular order.
func (h *HNSW) Keys() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	keys := make([]string, 0, len(h.slots))
	for key := range h.slots {
		keys = append(keys, key)
	}
	return keys
}

// Options returns the options in effect, with defaults filled in and
// EfSearch as last set.
func (h *HNSW) Options() Options {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.opts
}

// SetEfSearch changes the number of nearest elements later searches keep on
// layer 0. It returns ErrInvalidOptions, wrapped, when ef is outside
// 1..1<<20.
func (h *HNSW) SetEfSearch(ef int) error {
	if ef < 1 || ef > maxEf {
		return fmt.Errorf("EfSearch is %d, want 1 to %d: %w", ef, maxEf, ErrInvalidOptions)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.opts.EfSearch = ef
	return nil
}

// Add stores a unit-length copy of vec under key and links it into the
// graph, replacing the vector stored there before. It returns ErrEmptyKey,
// ErrDimension or ErrInvalidVector, wrapped, when the input is rejected.
func (h *HNSW) Add(key string, vec []float32) error {
	if key == "" {
		return fmt.Errorf("add to HNSW index: %w", ErrEmptyKey)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.getScratch()
	defer h.scratch.Put(s)
	if err := normalize(s.query, vec, h.dim); err != nil {
		return fmt.Errorf("add %q to HNSW index: %w", key, err)
	}
	if slot, ok := h.slots[key]; ok {
		h.deleteLocked(slot)
	}
	if len(h.free) == 0 && len(h.keys) >= noSlot {
		return fmt.Errorf("add %q to HNSW index: index is full at %d slots", key, len(h.keys))
	}
	h.insertLocked(s, key, s.query)
	return nil
}

// Search returns up to k stored vectors most similar to query, best first,
// among the keys that filter accepts; a nil filter accepts all keys. The
// results are approximate, and Options.EfSearch trades speed for recall.
// A filtered search walks through rejected keys too and goes on until it has
// EfSearch matches. When the filter is too selective for that, it compares
// the query with every matching vector instead. Search returns fewer than k
// results only when fewer keys match. filter runs with the index's read
// lock held, so it must not call methods of this index.
func (h *HNSW) Search(query []float32, k int, filter func(key string) bool) ([]Result, error) {
	results, err := h.search(query, k, filter, false)
	if err != nil {
		return nil, fmt.Errorf("search HNSW index: %w", err)
	}
	return results, nil
}

// search walks the graph, or compares query with every stored vector when
// exactBelowThreshold is set and fewer than Options.ExactThreshold are
// stored.
func (h *HNSW) search(query []float32, k int, filter func(key string) bool, exactBelowThreshold bool) ([]Result, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	s := h.getScratch()
	defer h.scratch.Put(s)
	if err := normalize(s.query, query, h.dim); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, nil
	}

	exactBelow := 0
	if exactBelowThreshold {
		exactBelow = h.opts.ExactThreshold
	}
	switch {
	case len(h.slots) == 0:
		return nil, nil
	case len(h.slots) < exactBelow:
		return scan(&h.vectors, h.keys, s.query, k, filter), nil
	default:
		return h.searchLocked(s, k, filter), nil
	}
}

// searchLocked is K-NN-SEARCH (algorithm 5) for the query in s.query. The
// walk of layer 0 counts only the elements that filter accepts as results,
// but moves through all of them, so it goes on until it has EfSearch
// matches, as SEARCH-LAYER describes, or has reached every element it can.
//
// Two cases end in an exact scan instead. A filtered walk that has compared
// an eighth of the vectors without finding enough matches stops, because
// the filter is so selective that the scan, which computes dot products
// only for the matching keys, is cheaper than walking on. A walk that
// returns fewer than k results has missed elements that deletions cut off
// from the rest of the graph, and the scan finds them.
func (h *HNSW) searchLocked(s *scratch, k int, filter func(key string) bool) []Result {
	ep := h.descendLocked(s, s.query, h.entry, h.top, 0)
	budget := 0
	if filter != nil {
		budget = len(h.slots) / 8
	}
	s.visited.reset(len(h.keys))
	complete := h.searchLayerLocked(s, s.query, append(s.entries[:0], ep), max(h.opts.EfSearch, k), 0, filter, budget)
	if !complete || s.results.len() < min(k, len(h.slots)) {
		return scan(&h.vectors, h.keys, s.query, k, filter)
	}
	return h.resultsLocked(s.results.items, k)
}

// resultsLocked returns the k most similar of found as results, best first.
func (h *HNSW) resultsLocked(found []candidate, k int) []Result {
	results := make([]Result, len(found))
	for i, c := range found {
		results[i] = Result{Key: h.keys[c.slot], Score: c.sim}
	}
	sortResults(results)
	return results[:min(k, len(results))]
}

// descendLocked walks greedily from entry, an element whose top layer is
// top, down to layer `bottom`+1 and returns the element nearest to q that it
// found there, the entry point for layer `bottom`. It is SEARCH-LAYER with
// ef = 1.
func (h *HNSW) descendLocked(s *scratch, q []float32, entry uint32, top, bottom int) candidate {
	ep := candidate{dot(q, h.vectors.at(entry)), entry}
	for layer := top; layer > bottom; layer-- {
		for improved := true; improved; {
			improved = false
			for _, n := range h.followLocked(s, ep.slot, layer) {
				if sim := dot(q, h.vectors.at(n)); sim > ep.sim {
					ep = candidate{sim, n}
					improved = true
				}
			}
		}
	}
	return ep
}

// searchLayerLocked is SEARCH-LAYER (algorithm 2): a best-first search of
// one layer from entries that leaves in s.results the ef elements nearest
// to q that it found and filter accepts (all when filter is nil). entries
// must not share memory with s.results. The caller resets s.visited, and
// the search neither reaches nor returns the elements marked in it. When
// budget is positive and the search compares q with more than budget
// elements, it stops and returns false.
func (h *HNSW) searchLayerLocked(s *scratch, q []float32, entries []candidate, ef, layer int, filter func(key string) bool, budget int) (complete bool) {
	s.candidates.reset()
	s.results.reset()
	accept := func(c candidate) {
		if filter == nil || filter(h.keys[c.slot]) {
			keepBest(&s.results, c, ef)
		}
	}

	compared := 0
	for _, ep := range entries {
		if s.visited.visit(ep.slot) {
			s.candidates.push(ep)
			accept(ep)
			compared++
		}
	}

	for s.candidates.len() > 0 {
		// Once the results are full and the nearest unexpanded candidate
		// is further than all of them, no expansion can improve them.
		// While they are not full, every element reached is expanded.
		c := s.candidates.pop()
		if s.results.len() == ef && c.sim < s.results.top().sim {
			break
		}
		for _, n := range h.followLocked(s, c.slot, layer) {
			if !s.visited.visit(n) {
				continue
			}
			compared++
			if budget > 0 && compared > budget {
				return false
			}
			found := candidate{dot(q, h.vectors.at(n)), n}
			if s.results.len() < ef || found.sim > s.results.top().sim {
				s.candidates.push(found)
				accept(found)
			}
		}
	}
	return true
}

// keepBest adds c to q, a furthest-first queue, and drops the furthest
// element when that leaves more than limit.
func keepBest(q *queue, c candidate, limit int) {
	switch {
	case q.len() < limit:
		q.push(c)
	case c.sim > q.top().sim:
		q.replaceTop(c)
	}
}

// insertLocked is INSERT (algorithm 1): it stores unit under key in a new
// slot, draws the slot's top layer, and links it to its nearest neighbours
// on every layer from there down to 0.
func (h *HNSW) insertLocked(s *scratch, key string, unit []float32) {
	slot := h.allocateLocked(key)
	copy(h.vectors.at(slot), unit)
	h.setLevelLocked(slot, h.randomLevel())
	h.connectLocked(s, slot)
}

// setLevelLocked sets the top layer of a new element and makes room for
// its links above layer 0.
func (h *HNSW) setLevelLocked(slot uint32, level int) {
	h.levels[slot] = uint8(level)
	if level > 0 {
		h.upper[slot] = make([][]uint32, level)
	}
}

// connectLocked links the element in slot, whose vector and top layer are
// set, into the graph: the part of INSERT after the level is drawn. During
// AddBatch it runs in several goroutines at once.
func (h *HNSW) connectLocked(s *scratch, slot uint32) {
	q := h.vectors.at(slot)
	level := int(h.levels[slot])
	if b := h.batch; b != nil {
		b.entryMu.Lock()
	}
	entry, top := h.entry, h.top
	if b := h.batch; b != nil {
		if level > top || entry == noSlot {
			// An insert that raises the top layer holds the lock to its
			// end, so that two of them do not overwrite each other's
			// entry point.
			defer b.entryMu.Unlock()
		} else {
			b.entryMu.Unlock()
		}
	}
	if entry == noSlot {
		h.entry, h.top = slot, level
		return
	}

	// Above the new element's top layer, only the nearest element found
	// on each layer is carried down.
	entries := append(s.entries[:0], h.descendLocked(s, q, entry, top, level))

	// On each layer the element shares, search for its efConstruction
	// nearest elements, connect it to a selection of them, and start the
	// next layer's search from all of them.
	for layer := min(top, level); layer >= 0; layer-- {
		// During AddBatch, other goroutines may link to the new element
		// before it is linked on every layer, so its own search could
		// reach it.
		s.visited.reset(len(h.keys))
		s.visited.visit(slot)
		h.searchLayerLocked(s, q, entries, h.opts.EfConstruction, layer, nil, 0)
		entries = append(entries[:0], s.results.items...)
		selected := h.selectNeighborsLocked(s, slot, q, entries, h.m, layer)

		// Links that other goroutines of AddBatch gave the new element
		// meanwhile are kept, as if they had been added after these.
		h.lockSlot(slot)
		s.earlier = append(s.earlier[:0], h.neighborsLocked(slot, layer)...)
		h.setNeighborsLocked(slot, layer, selected)
		h.unlockSlot(slot)
		// linkLocked reuses the buffer selected is in.
		s.linked = append(s.linked[:0], selected...)
		for _, n := range s.linked {
			h.linkLocked(s, n, slot, layer)
		}
		for _, n := range s.earlier {
			h.linkLocked(s, slot, n, layer)
		}
	}
	s.entries = entries

	if level > top {
		h.entry, h.top = slot, level
	}
}

// allocateLocked assigns key a free slot, or a new one.
func (h *HNSW) allocateLocked(key string) uint32 {
	var slot uint32
	if n := len(h.free); n > 0 {
		slot = h.free[n-1]
		h.free = h.free[:n-1]
		h.keys[slot] = key
	} else {
		slot = uint32(len(h.keys))
		h.keys = append(h.keys, key)
		h.levels = append(h.levels, 0)
		h.upper = append(h.upper, nil)
		h.vectors.grow(len(h.keys))
		h.links0.grow(len(h.keys))
	}
	h.slots[key] = slot
	return slot
}

// randomLevel draws a top layer as ⌊-ln(u)·mL⌋ for u uniform in (0, 1], so
// each layer holds about 1/M of the elements of the layer below it.
func (h *HNSW) randomLevel() int {
	u := 1 - h.rng.Float64()
	return min(int(-math.Log(u)*h.levelMult), maxLevel)
}

// linkLocked adds a link from slot `from` to slot `to` on layer. When from
// already has the maximum number of links there, its links are chosen again
// from the old ones and `to` with SELECT-NEIGHBORS, so the new link may be
// dropped.
func (h *HNSW) linkLocked(s *scratch, from, to uint32, layer int) {
	h.lockSlot(from)
	defer h.unlockSlot(from)
	links := h.neighborsLocked(from, layer)
	if slices.Contains(links, to) {
		return // linked already by another goroutine of AddBatch
	}
	if len(links) < h.maxConn(layer) {
		h.setNeighborsLocked(from, layer, append(links, to))
		return
	}

	base := h.vectors.at(from)
	candidates := append(s.pruned[:0], candidate{dot(base, h.vectors.at(to)), to})
	for _, n := range links {
		candidates = append(candidates, candidate{dot(base, h.vectors.at(n)), n})
	}
	s.pruned = candidates
	h.setNeighborsLocked(from, layer, h.selectNeighborsLocked(s, from, base, candidates, h.maxConn(layer), layer))
}

// selectNeighborsLocked picks at most m links for the element in slot self,
// whose vector is q, from candidates, whose sim fields hold their
// similarity to q. The result is only valid until the next call with the
// same scratch.
//
// With SimpleSelection it is SELECT-NEIGHBORS-SIMPLE (algorithm 3): the m
// most similar candidates. Otherwise it is SELECT-NEIGHBORS-HEURISTIC
// (algorithm 4), which takes candidates nearest first. It keeps one only
// when it is more similar to q than to every candidate kept before it, so
// the links point in different directions instead of into one cluster.
func (h *HNSW) selectNeighborsLocked(s *scratch, self uint32, q []float32, candidates []candidate, m, layer int) []uint32 {
	work := append(s.work[:0], candidates...)

	// extendCandidates: add the neighbours of every candidate, except the
	// element itself. Slots whose key is empty are free, or being deleted,
	// and never become links.
	if h.opts.ExtendCandidates && !h.opts.SimpleSelection {
		s.visited.reset(len(h.keys))
		s.visited.visit(self)
		for _, c := range candidates {
			s.visited.visit(c.slot)
		}
		for _, c := range candidates {
			for _, n := range h.neighborsLocked(c.slot, layer) {
				if h.keys[n] != "" && s.visited.visit(n) {
					work = append(work, candidate{dot(q, h.vectors.at(n)), n})
				}
			}
		}
	}
	slices.SortFunc(work, func(a, b candidate) int { return cmp.Compare(b.sim, a.sim) })

	selected := s.selected[:0]
	discarded := s.discarded[:0]
	for _, c := range work {
		if len(selected) == m {
			break
		}
		if h.opts.SimpleSelection || h.diverseLocked(c, selected) {
			selected = append(selected, c.slot)
		} else {
			discarded = append(discarded, c)
		}
	}

	// keepPrunedConnections: fill the remaining places with the nearest
	// candidates the heuristic skipped.
	if h.opts.KeepPrunedConnections {
		for _, c := range discarded {
			if len(selected) == m {
				break
			}
			selected = append(selected, c.slot)
		}
	}

	s.work, s.discarded, s.selected = work, discarded, selected
	return selected
}

// diverseLocked reports whether candidate c is more similar to the element
// it is a candidate for than to every element in selected.
func (h *HNSW) diverseLocked(c candidate, selected []uint32) bool {
	v := h.vectors.at(c.slot)
	for _, r := range selected {
		if dot(v, h.vectors.at(r)) > c.sim {
			return false
		}
	}
	return true
}

// maxConn returns the maximum number of links per element on layer: Mmax0
// on layer 0 and M above it.
func (h *HNSW) maxConn(layer int) int {
	if layer == 0 {
		return h.maxConn0
	}
	return h.m
}

// neighborsLocked returns the links of slot on layer, which must not be
// above the slot's top layer. The slice aliases the graph: it changes with
// the next setNeighborsLocked for the same slot and layer.
func (h *HNSW) neighborsLocked(slot uint32, layer int) []uint32 {
	if layer == 0 {
		record := h.links0.at(slot)
		return record[1 : 1+record[0]]
	}
	return h.upper[slot][layer-1]
}

// setNeighborsLocked replaces the links of slot on layer with links, which
// may alias the current ones and must hold at most maxConn(layer) slots.
func (h *HNSW) setNeighborsLocked(slot uint32, layer int, links []uint32) {
	if layer == 0 {
		record := h.links0.at(slot)
		copy(record[1:], links)
		record[0] = uint32(len(links))
		return
	}
	current := h.upper[slot][layer-1]
	if cap(current) < len(links) {
		current = make([]uint32, 0, h.m)
	}
	h.upper[slot][layer-1] = append(current[:0], links...)
}
