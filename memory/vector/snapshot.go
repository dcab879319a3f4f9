package vector

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
)

// Snapshot format, version 1. All integers are little-endian.
//
//	offset  size  field
//	0       4     magic "HVIX"
//	4       2     format version, 1
//	6       1     kind: 1 Exact, 2 HNSW, 3 Index
//	7       1     flags: bit 0 SimpleSelection, bit 1 ExtendCandidates,
//	              bit 2 KeepPrunedConnections; other bits 0
//	8       4     dimension d, 1 to MaxDim
//	12      4     element count n
//	16      4     M
//	20      4     EfConstruction
//	24      4     EfSearch
//	28      4     ExactThreshold, signed
//	32      4     entry point: element number, or 0xFFFFFFFF when n is 0
//	36      4     top layer of the entry point
//	40      8     Seed
//	48            n keys: uint32 length (at least 1), then the UTF-8 bytes
//	              n×d float32 vector elements, element by element, each
//	              vector of unit length
//	              HNSW and Index only: n top layers, one byte each, then for
//	              each element, for each layer from 0 to its top: uint32
//	              link count, then that many uint32 element numbers
//	end-4   4     CRC-32C (Castagnoli) of every byte before it
//
// Elements are numbered 0 to n-1 in the order of their slots; free slots
// are left out. For Exact, the fields from M to Seed are 0, except the
// entry point, which is 0xFFFFFFFF. A layer holds at most 2·M links on
// layer 0 and M above, each to another element whose top layer is at least
// that layer, with no repeats.
const (
	snapshotMagic   = "HVIX"
	snapshotVersion = 1
	headerSize      = 48
	checksumSize    = 4

	kindExact = 1
	kindHNSW  = 2
	kindIndex = 3

	flagSimpleSelection       = 1 << 0
	flagExtendCandidates      = 1 << 1
	flagKeepPrunedConnections = 1 << 2
	knownFlags                = flagSimpleSelection | flagExtendCandidates | flagKeepPrunedConnections
)

// castagnoli is the CRC-32C table; amd64 and arm64 compute it in hardware.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var kindNames = map[uint8]string{kindExact: "Exact", kindHNSW: "HNSW", kindIndex: "Index"}

// header is the fixed part of a snapshot.
type header struct {
	kind  uint8
	flags uint8
	dim   uint32
	count uint32
	opts  Options
	entry uint32
	top   uint32
}

// MarshalBinary returns a snapshot of the index in the format described in
// snapshot.go. The snapshot is not encrypted.
func (e *Exact) MarshalBinary() ([]byte, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()

	size := headerSize + checksumSize + len(e.keys)*(4+4*e.dim)
	for _, key := range e.keys {
		size += len(key)
	}
	out := make([]byte, 0, size)
	out = appendHeader(out, header{kind: kindExact, dim: uint32(e.dim), count: uint32(len(e.keys)), entry: noSlot})
	out = appendKeys(out, e.keys)
	for slot := range e.keys {
		out = appendVector(out, e.vectors.at(uint32(slot)))
	}
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli)), nil
}

// UnmarshalBinary replaces the contents of the index with the snapshot in
// data, after checking all of it. It returns ErrCorruptSnapshot,
// ErrSnapshotVersion or ErrSnapshotKind, wrapped, and leaves the index
// unchanged, when data is not a valid Exact snapshot.
func (e *Exact) UnmarshalBinary(data []byte) error {
	var (
		dim     int
		keys    []string
		slots   map[string]uint32
		vectors chunked[float32]
	)
	err := decode([][]byte{data}, kindExact, false, func(d *decoder) error {
		var err error
		if keys, slots, vectors, err = d.elements(); err != nil {
			return err
		}
		dim = int(d.header.dim)
		return d.end()
	})
	if err != nil {
		return err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.dim, e.keys, e.slots, e.vectors = dim, keys, slots, vectors
	return nil
}

// MarshalBinary returns a snapshot of the graph in the format described in
// snapshot.go. The snapshot is not encrypted.
func (h *HNSW) MarshalBinary() ([]byte, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.marshalLocked(kindHNSW), nil
}

// UnmarshalBinary replaces the contents of the graph with the snapshot in
// data, after checking all of it, so that it does not need to be rebuilt.
// It returns ErrCorruptSnapshot, ErrSnapshotVersion or ErrSnapshotKind,
// wrapped, and leaves the graph unchanged, when data is not a valid HNSW
// snapshot.
func (h *HNSW) UnmarshalBinary(data []byte) error {
	return h.unmarshal([][]byte{data}, kindHNSW, false)
}

// MarshalBinary returns a snapshot of the index in the format described in
// snapshot.go. The snapshot is not encrypted.
func (x *Index) MarshalBinary() ([]byte, error) {
	x.graph.mu.RLock()
	defer x.graph.mu.RUnlock()
	return x.graph.marshalLocked(kindIndex), nil
}

// UnmarshalBinary replaces the contents of the index with the snapshot in
// data, after checking all of it, so that the graph does not need to be
// rebuilt. It returns ErrCorruptSnapshot, ErrSnapshotVersion or
// ErrSnapshotKind, wrapped, and leaves the index unchanged, when data is
// not a valid Index snapshot.
func (x *Index) UnmarshalBinary(data []byte) error {
	return x.graph.unmarshal([][]byte{data}, kindIndex, false)
}

// UnmarshalParts is UnmarshalBinary for a snapshot split into parts at any
// byte, such as the pieces it was stored in. It reads the parts in order
// without joining them, and keeps no reference to them.
func (x *Index) UnmarshalParts(parts [][]byte) error {
	return x.graph.unmarshal(parts, kindIndex, false)
}

// UnmarshalAuthenticated is UnmarshalParts for parts whose integrity the
// caller has verified, such as by opening them with an AEAD, which makes
// the checksum redundant. It checks neither the checksum nor that each
// vector has unit length and finite elements, which only damaged or forged
// data fails. It still checks every length, key, level and link, so that
// wrong data cannot leave an inconsistent index.
func (x *Index) UnmarshalAuthenticated(parts [][]byte) error {
	return x.graph.unmarshal(parts, kindIndex, true)
}

// marshalLocked encodes the graph, numbering its elements in slot order
// without the free slots.
func (h *HNSW) marshalLocked(kind uint8) []byte {
	number := make([]uint32, len(h.keys))
	live := make([]uint32, 0, len(h.slots))
	size := headerSize + checksumSize + len(h.slots)*(4+4*h.dim+1)
	for slot, key := range h.keys {
		if key == "" {
			continue
		}
		number[slot] = uint32(len(live))
		live = append(live, uint32(slot))
		size += len(key)
		for layer := 0; layer <= int(h.levels[slot]); layer++ {
			size += 4 + 4*len(h.neighborsLocked(uint32(slot), layer))
		}
	}

	hdr := header{
		kind:  kind,
		flags: optionFlags(h.opts),
		dim:   uint32(h.dim),
		count: uint32(len(live)),
		opts:  h.opts,
		entry: noSlot,
		top:   uint32(h.top),
	}
	if h.entry != noSlot {
		hdr.entry = number[h.entry]
	}

	out := make([]byte, 0, size)
	out = appendHeader(out, hdr)
	for _, slot := range live {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(h.keys[slot])))
		out = append(out, h.keys[slot]...)
	}
	for _, slot := range live {
		out = appendVector(out, h.vectors.at(slot))
	}
	for _, slot := range live {
		out = append(out, h.levels[slot])
	}
	for _, slot := range live {
		for layer := 0; layer <= int(h.levels[slot]); layer++ {
			links := h.neighborsLocked(slot, layer)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(links)))
			for _, n := range links {
				out = binary.LittleEndian.AppendUint32(out, number[n])
			}
		}
	}
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
}

// unmarshal checks and decodes a snapshot of the given kind, stored in
// parts, then replaces the graph with it. authenticated skips the checks
// that UnmarshalAuthenticated describes.
func (h *HNSW) unmarshal(parts [][]byte, kind uint8, authenticated bool) error {
	// Decode into a new graph, so that the receiver only changes once the
	// whole snapshot has been checked.
	var g HNSW
	err := decode(parts, kind, authenticated, func(d *decoder) error {
		keys, slots, vectors, err := d.elements()
		if err != nil {
			return err
		}
		g.resetLocked(int(d.header.dim), d.header.opts)
		g.keys, g.slots, g.vectors = keys, slots, vectors
		if err := d.graph(&g); err != nil {
			return err
		}
		return d.end()
	})
	if err != nil {
		return err
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	h.dim, h.opts, h.m, h.maxConn0, h.levelMult = g.dim, g.opts, g.m, g.maxConn0, g.levelMult
	h.keys, h.slots, h.free, h.vectors = g.keys, g.slots, nil, g.vectors
	h.levels, h.links0, h.upper, h.entry, h.top = g.levels, g.links0, g.upper, g.entry, g.top
	// The level stream after a load differs from the one of a new graph
	// with the same seed, but depends only on the seed and the count.
	h.rng = rand.New(rand.NewPCG(g.opts.Seed, levelStream+uint64(len(g.keys))))
	return nil
}

func optionFlags(opts Options) uint8 {
	var flags uint8
	if opts.SimpleSelection {
		flags |= flagSimpleSelection
	}
	if opts.ExtendCandidates {
		flags |= flagExtendCandidates
	}
	if opts.KeepPrunedConnections {
		flags |= flagKeepPrunedConnections
	}
	return flags
}

func appendHeader(out []byte, h header) []byte {
	out = append(out, snapshotMagic...)
	out = binary.LittleEndian.AppendUint16(out, snapshotVersion)
	out = append(out, h.kind, h.flags)
	for _, v := range []uint32{
		h.dim, h.count,
		uint32(h.opts.M), uint32(h.opts.EfConstruction), uint32(h.opts.EfSearch), uint32(int32(h.opts.ExactThreshold)),
		h.entry, h.top,
	} {
		out = binary.LittleEndian.AppendUint32(out, v)
	}
	return binary.LittleEndian.AppendUint64(out, h.opts.Seed)
}

func appendKeys(out []byte, keys []string) []byte {
	for _, key := range keys {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(key)))
		out = append(out, key...)
	}
	return out
}

func appendVector(out []byte, vec []float32) []byte {
	for _, x := range vec {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
	}
	return out
}
