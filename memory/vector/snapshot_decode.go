package vector

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"runtime"
	"slices"
	"sync"
)

// normTolerance is how far the squared length of a stored vector may be
// from 1. Vectors normalised in float64 and rounded to float32 are within
// 1e-6 of it.
const normTolerance = 1e-3

// decoder reads a snapshot whose magic and version have been checked, and
// checks every value it reads against the format's rules. The snapshot may
// be split into parts at any byte.
type decoder struct {
	parts  [][]byte
	size   int // bytes of the snapshot without its checksum
	read   partReader
	off    int
	header header
	// authenticated skips the checks that the caller's authentication of
	// the data makes redundant: the checksum and the vectors' values.
	authenticated bool
}

// corrupt returns an ErrCorruptSnapshot error with a description of the
// problem.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("load vector index: "+format+": %w", append(args, ErrCorruptSnapshot)...)
}

// decode checks the framing and the header of a snapshot of the given kind,
// stored in parts, and calls body with a decoder positioned after the
// header. The checksum is computed on another goroutine meanwhile, and a
// wrong checksum is the error returned, whatever body returns, because it
// explains any other error. When authenticated is set, the checksum is not
// checked.
func decode(parts [][]byte, kind uint8, authenticated bool, body func(d *decoder) error) error {
	total := 0
	for _, part := range parts {
		total += len(part)
	}
	if total < headerSize+checksumSize {
		return corrupt("snapshot has %d bytes, fewer than the %d of a header and checksum", total, headerSize+checksumSize)
	}
	d := &decoder{parts: parts, size: total - checksumSize, read: partReader{parts: parts}, off: headerSize, authenticated: authenticated}
	data := slices.Clone(d.read.bytes(0, headerSize))
	if string(data[:4]) != snapshotMagic {
		return corrupt("snapshot does not start with %q", snapshotMagic)
	}
	if version := binary.LittleEndian.Uint16(data[4:]); version != snapshotVersion {
		return fmt.Errorf("load vector index: snapshot format version %d, this code reads version %d: %w", version, snapshotVersion, ErrSnapshotVersion)
	}

	if authenticated {
		if err := d.readHeader(data, kind); err != nil {
			return err
		}
		return body(d)
	}

	sum := make(chan uint32, 1)
	go func() { sum <- d.checksum() }()
	err := d.readHeader(data, kind)
	if err == nil {
		err = body(d)
	}
	tail := partReader{parts: parts}
	want := binary.LittleEndian.Uint32(tail.bytes(d.size, checksumSize))
	if got := <-sum; got != want {
		return corrupt("checksum is %08x, want %08x", got, want)
	}
	return err
}

// checksum returns the CRC-32C of the snapshot without its checksum.
func (d *decoder) checksum() uint32 {
	var crc uint32
	left := d.size
	for _, part := range d.parts {
		n := min(len(part), left)
		crc = crc32.Update(crc, castagnoli, part[:n])
		left -= n
	}
	return crc
}

// readHeader decodes and checks the header, which is in data.
func (d *decoder) readHeader(data []byte, kind uint8) error {
	h := &d.header
	h.kind, h.flags = data[6], data[7]
	field := func(i int) uint32 { return binary.LittleEndian.Uint32(data[8+4*i:]) }
	h.dim, h.count = field(0), field(1)
	h.opts = Options{
		M:                     int(field(2)),
		EfConstruction:        int(field(3)),
		EfSearch:              int(field(4)),
		ExactThreshold:        int(int32(field(5))),
		Seed:                  binary.LittleEndian.Uint64(data[40:]),
		SimpleSelection:       h.flags&flagSimpleSelection != 0,
		ExtendCandidates:      h.flags&flagExtendCandidates != 0,
		KeepPrunedConnections: h.flags&flagKeepPrunedConnections != 0,
	}
	h.entry, h.top = field(6), field(7)

	if h.kind != kind {
		if name, ok := kindNames[h.kind]; ok {
			return fmt.Errorf("load vector index: snapshot contains an %s index, expected an %s: %w", name, kindNames[kind], ErrSnapshotKind)
		}
		return corrupt("unknown index kind %d", h.kind)
	}
	if err := checkDim(int(h.dim)); err != nil {
		return corrupt("dimension %d is outside 1..%d", h.dim, MaxDim)
	}
	if err := d.checkOptions(); err != nil {
		return err
	}

	// Every element takes at least a key length, one key byte and its
	// vector, so a count that cannot fit is rejected before anything is
	// allocated for it.
	perElement := uint64(5 + 4*uint64(h.dim))
	if kind != kindExact {
		perElement += 5 // top layer and layer 0 link count
	}
	if uint64(h.count)*perElement > uint64(d.size-headerSize) {
		return corrupt("%d elements of dimension %d do not fit in %d bytes", h.count, h.dim, d.size)
	}
	return nil
}

// partReader returns byte ranges of a snapshot stored in parts, for reads
// at offsets that do not decrease.
type partReader struct {
	parts [][]byte
	part  int    // the part that holds the last offset read
	start int    // offset of that part
	spill []byte // copy of the last range that spanned parts
}

// bytes returns the n bytes at offset off, which the caller has checked
// are in the snapshot. A range inside one part is returned without a copy;
// one that spans parts is copied, valid until the next call.
func (r *partReader) bytes(off, n int) []byte {
	for off >= r.start+len(r.parts[r.part]) && r.part+1 < len(r.parts) {
		r.start += len(r.parts[r.part])
		r.part++
	}
	if p := r.parts[r.part][off-r.start:]; n <= len(p) {
		return p[:n:n]
	}
	r.spill = r.spill[:0]
	for n > 0 {
		p := r.parts[r.part][off-r.start:]
		take := min(n, len(p))
		r.spill = append(r.spill, p[:take]...)
		off += take
		n -= take
		if n > 0 {
			r.start += len(r.parts[r.part])
			r.part++
		}
	}
	return r.spill
}

// checkOptions checks the option fields of the header for its kind.
func (d *decoder) checkOptions() error {
	h := d.header
	if h.kind == kindExact {
		if h.flags != 0 || h.opts != (Options{}) || h.entry != noSlot || h.top != 0 {
			return corrupt("Exact snapshot has graph fields set")
		}
		return nil
	}
	if h.flags&^knownFlags != 0 {
		return corrupt("unknown flags %08b", h.flags&^knownFlags)
	}
	if h.opts.M == 0 || h.opts.EfConstruction == 0 || h.opts.EfSearch == 0 {
		return corrupt("M, EfConstruction or EfSearch is 0")
	}
	if _, err := h.opts.withDefaults(int(h.dim)); err != nil {
		return corrupt("%v", err)
	}
	return nil
}

// take returns the next n bytes, valid until the next call.
func (d *decoder) take(n uint64, what string) ([]byte, error) {
	off, err := d.skip(n, what)
	if err != nil {
		return nil, err
	}
	return d.read.bytes(off, int(n)), nil
}

// skip moves past the next n bytes and returns their offset.
func (d *decoder) skip(n uint64, what string) (int, error) {
	if n > uint64(d.size-d.off) {
		return 0, corrupt("snapshot ends inside %s", what)
	}
	off := d.off
	d.off += int(n)
	return off, nil
}

func (d *decoder) uint32(what string) (uint32, error) {
	b, err := d.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// elements decodes the keys and vectors.
func (d *decoder) elements() (keys []string, slots map[string]uint32, vectors chunked[float32], err error) {
	n, dim := int(d.header.count), int(d.header.dim)

	keys = make([]string, n)
	slots = make(map[string]uint32, n)
	for i := range keys {
		length, err := d.uint32("a key length")
		if err != nil {
			return nil, nil, vectors, err
		}
		if length == 0 {
			return nil, nil, vectors, corrupt("key of element %d is empty", i)
		}
		b, err := d.take(uint64(length), "a key")
		if err != nil {
			return nil, nil, vectors, err
		}
		keys[i] = string(b)
		if first, ok := slots[keys[i]]; ok {
			return nil, nil, vectors, corrupt("elements %d and %d have the same key", first, i)
		}
		slots[keys[i]] = uint32(i)
	}

	start, err := d.skip(uint64(n)*uint64(dim)*4, "the vectors")
	if err != nil {
		return nil, nil, vectors, err
	}
	vectors = newChunked[float32](dim)
	vectors.grow(n)
	if err := d.vectors(&vectors, start, n); err != nil {
		return nil, nil, vectors, err
	}
	return keys, slots, vectors, nil
}

// vectors decodes n vectors from offset start into dst, on up to one
// goroutine per core, and checks that each has unit length unless the data
// is authenticated.
func (d *decoder) vectors(dst *chunked[float32], start, n int) error {
	dim := int(d.header.dim)
	workers := min(runtime.GOMAXPROCS(0), max(1, n*dim/minElementsPerWorker))
	bad := make([]int, workers) // first vector of each worker's range that fails, or -1
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			bad[w] = -1
			read := partReader{parts: d.parts}
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				raw := read.bytes(start+4*i*dim, 4*dim)
				vec := dst.at(uint32(i))
				for j := range vec {
					vec[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
				}
				if d.authenticated {
					continue
				}
				// NaN and ±Inf make the sum NaN or +Inf, which fails too.
				if sum := dot(vec, vec); !(math.Abs(float64(sum)-1) <= normTolerance) {
					bad[w] = i
					return
				}
			}
		})
	}
	wg.Wait()

	for _, i := range bad {
		if i < 0 {
			continue
		}
		vec := dst.at(uint32(i))
		for j, x := range vec {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return corrupt("vector of element %d has %v at %d", i, x, j)
			}
		}
		return corrupt("vector of element %d has squared length %g, want 1", i, dot(vec, vec))
	}
	return nil
}

// minElementsPerWorker is the fewest vector elements worth a goroutine of
// their own when a snapshot is decoded.
const minElementsPerWorker = 1 << 20

// graph decodes the top layers and links into g, whose keys and vectors
// are set, and checks that the entry point is on the top layer.
func (d *decoder) graph(g *HNSW) error {
	n := len(g.keys)
	levels, err := d.take(uint64(n), "the top layers")
	if err != nil {
		return err
	}
	g.levels = append([]uint8(nil), levels...)
	top := 0
	for i, level := range g.levels {
		if level > maxLevel {
			return corrupt("top layer of element %d is %d, above the maximum %d", i, level, maxLevel)
		}
		top = max(top, int(level))
	}

	entry := d.header.entry
	switch {
	case n == 0 && (entry != noSlot || d.header.top != 0):
		return corrupt("empty graph has an entry point")
	case n > 0 && entry >= uint32(n):
		return corrupt("entry point %d is not an element", entry)
	case n > 0 && (int(d.header.top) != top || int(g.levels[entry]) != top):
		return corrupt("entry point %d is not on the top layer %d", entry, top)
	}
	g.entry, g.top = entry, top

	g.links0.grow(n)
	g.upper = make([][][]uint32, n)
	var seen visitedSet
	for i := range n {
		slot := uint32(i)
		if g.levels[i] > 0 {
			g.upper[i] = make([][]uint32, g.levels[i])
		}
		for layer := 0; layer <= int(g.levels[i]); layer++ {
			count, err := d.uint32("a link count")
			if err != nil {
				return err
			}
			if count > uint32(g.maxConn(layer)) {
				return corrupt("element %d has %d links on layer %d, more than %d", i, count, layer, g.maxConn(layer))
			}
			raw, err := d.take(4*uint64(count), "a link list")
			if err != nil {
				return err
			}

			// Layer 0 links go straight into the graph's fixed-size record.
			var links []uint32
			if layer == 0 {
				record := g.links0.at(slot)
				record[0] = count
				links = record[1 : 1+count]
			} else {
				links = make([]uint32, count, g.m)
				g.upper[i][layer-1] = links
			}
			seen.reset(n)
			for j := range links {
				link := binary.LittleEndian.Uint32(raw[4*j:])
				switch {
				case link >= uint32(n):
					return corrupt("element %d links to %d on layer %d, which is not an element", i, link, layer)
				case link == slot:
					return corrupt("element %d links to itself on layer %d", i, layer)
				case int(g.levels[link]) < layer:
					return corrupt("element %d links to %d on layer %d, above that element's top layer", i, link, layer)
				case !seen.visit(link):
					return corrupt("element %d links to %d twice on layer %d", i, link, layer)
				}
				links[j] = link
			}
		}
	}
	return nil
}

// end checks that the whole snapshot has been read.
func (d *decoder) end() error {
	if d.off != d.size {
		return corrupt("%d unread bytes after the last element", d.size-d.off)
	}
	return nil
}
