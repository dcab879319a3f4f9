package vector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the frozen snapshot files in testdata")

// snapshotter is an index with a snapshot.
type snapshotter interface {
	Interface
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

func TestSnapshotRoundTrip(t *testing.T) {
	const dim = 16
	d := clusteredData(20, 1500, 50, dim)
	for name, index := range implementations(t, dim) {
		t.Run(name, func(t *testing.T) {
			original := index.(snapshotter)
			fill(t, original, d, nil)
			for i := 0; i < len(d.keys); i += 7 {
				original.Delete(d.keys[i]) // leaves free slots in the graph
			}

			data, err := original.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var loaded snapshotter
			switch name {
			case "Exact":
				loaded = new(Exact)
			case "HNSW":
				loaded = new(HNSW)
			case "Index":
				loaded = new(Index)
			}
			if err := loaded.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}

			if got, want := loaded.Len(), original.Len(); got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
			if got := loaded.Dim(); got != dim {
				t.Errorf("Dim = %d, want %d", got, dim)
			}
			if g := graphOf(original); g != nil {
				checkGraph(t, graphOf(loaded))
				if got, want := graphOf(loaded).Options(), g.Options(); got != want {
					t.Errorf("Options = %+v, want %+v", got, want)
				}
			}
			for i, q := range d.queries {
				for _, filter := range []func(string) bool{nil, func(key string) bool { return key[len(key)-1] == '3' }} {
					got, err := loaded.Search(q, 10, filter)
					if err != nil {
						t.Fatal(err)
					}
					want, _ := original.Search(q, 10, filter)
					if !slices.Equal(got, want) {
						t.Fatalf("query %d: loaded index returned %v, original %v", i, got, want)
					}
				}
			}

			again, err := loaded.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, data) {
				t.Errorf("snapshot of the loaded index differs from the snapshot it was loaded from")
			}

			// The loaded index keeps working.
			fill(t, loaded, d, func(i int) bool { return i%7 == 0 })
			if got := loaded.Len(); got != len(d.keys) {
				t.Errorf("Len after adding the deleted vectors back = %d, want %d", got, len(d.keys))
			}
			if g := graphOf(loaded); g != nil {
				checkGraph(t, g)
			}
		})
	}
}

func TestSnapshotEmpty(t *testing.T) {
	for name, index := range implementations(t, 3) {
		original := index.(snapshotter)
		data, err := original.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		loaded := newLike(original)
		if err := loaded.UnmarshalBinary(data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if loaded.Len() != 0 || loaded.Dim() != 3 {
			t.Errorf("%s: loaded empty index has Len %d and Dim %d", name, loaded.Len(), loaded.Dim())
		}
		if err := loaded.Add("a", []float32{1, 2, 3}); err != nil {
			t.Errorf("%s: Add to loaded empty index: %v", name, err)
		}
	}
}

func TestSnapshotRejectsOtherKind(t *testing.T) {
	indexes := implementations(t, 3)
	for name, index := range indexes {
		data, err := index.(snapshotter).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for other, target := range indexes {
			if other == name {
				continue
			}
			if err := target.(snapshotter).UnmarshalBinary(data); !errors.Is(err, ErrSnapshotKind) {
				t.Errorf("%s snapshot loaded into %s: error = %v, want ErrSnapshotKind", name, other, err)
			}
		}
	}
}

// TestSnapshotRejectsDamage checks that every truncation and every flipped
// bit of a snapshot is rejected, and that the index it was loaded into is
// left unchanged.
func TestSnapshotRejectsDamage(t *testing.T) {
	const dim = 4
	d := clusteredData(21, 40, 1, dim)
	for name, index := range implementations(t, dim) {
		source := index.(snapshotter)
		fill(t, source, d, nil)
		data, err := source.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}

		target := implementations(t, dim)[name].(snapshotter)
		if err := target.Add("kept", []float32{1, 0, 0, 0}); err != nil {
			t.Fatal(err)
		}
		for n := range len(data) {
			if err := target.UnmarshalBinary(data[:n]); !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("%s: snapshot cut to %d of %d bytes: error = %v, want ErrCorruptSnapshot", name, n, len(data), err)
			}
		}
		for i := range data {
			for bit := range 8 {
				damaged := slices.Clone(data)
				damaged[i] ^= 1 << bit
				if err := target.UnmarshalBinary(damaged); err == nil {
					t.Fatalf("%s: snapshot with bit %d of byte %d flipped was accepted", name, bit, i)
				}
			}
		}
		if got, _ := target.Search([]float32{1, 0, 0, 0}, 5, nil); len(got) != 1 || got[0].Key != "kept" {
			t.Errorf("%s: index changed by rejected snapshots: Search returns %v", name, got)
		}
	}
}

// snapshotSpec describes a snapshot field by field, so that tests can
// write snapshots that break one rule each. encode follows the format
// description in snapshot.go without using the code under test.
type snapshotSpec struct {
	magic      string
	version    uint16
	kind       uint8
	flags      uint8
	dim        uint32
	count      uint32 // len(keys) when zero
	m          uint32
	efC, efS   uint32
	threshold  int32
	entry, top uint32
	seed       uint64
	keys       []string
	keyLength  uint32 // written as the first key's length when not zero
	vectors    [][]float32
	levels     []uint8
	links      [][][]uint32 // element → layer → links
	trailing   []byte
}

// validGraphSpec returns a small valid HNSW snapshot: four elements with M
// = 2, where a is on layers 0 and 1.
func validGraphSpec() snapshotSpec {
	s := float32(math.Sqrt(0.5))
	return snapshotSpec{
		magic: "HVIX", version: 1, kind: kindHNSW, dim: 2,
		m: 2, efC: 10, efS: 10, threshold: 100, entry: 0, top: 1, seed: 7,
		keys:    []string{"a", "b", "c", "d"},
		vectors: [][]float32{{1, 0}, {0, 1}, {s, s}, {-s, s}},
		levels:  []uint8{1, 0, 0, 0},
		links: [][][]uint32{
			{{1, 2, 3}, {}},
			{{0, 2}},
			{{0, 1}},
			{{1}},
		},
	}
}

func (s snapshotSpec) encode() []byte {
	le := binary.LittleEndian

	out := []byte(s.magic)
	out = le.AppendUint16(out, s.version)
	out = append(out, s.kind, s.flags)
	count := s.count
	if count == 0 {
		count = uint32(len(s.keys))
	}
	for _, v := range []uint32{s.dim, count, s.m, s.efC, s.efS, uint32(s.threshold), s.entry, s.top} {
		out = le.AppendUint32(out, v)
	}
	out = le.AppendUint64(out, s.seed)

	for i, key := range s.keys {
		length := uint32(len(key))
		if i == 0 && s.keyLength != 0 {
			length = s.keyLength
		}
		out = le.AppendUint32(out, length)
		out = append(out, key...)
	}
	for _, vec := range s.vectors {
		for _, x := range vec {
			out = le.AppendUint32(out, math.Float32bits(x))
		}
	}

	out = append(out, s.levels...)
	for _, layers := range s.links {
		for _, links := range layers {
			out = le.AppendUint32(out, uint32(len(links)))
			for _, n := range links {
				out = le.AppendUint32(out, n)
			}
		}
	}

	out = append(out, s.trailing...)
	return le.AppendUint32(out, crc32.Checksum(out, crc32.MakeTable(crc32.Castagnoli)))
}

func TestSnapshotSpecIsValid(t *testing.T) {
	var h HNSW
	if err := h.UnmarshalBinary(validGraphSpec().encode()); err != nil {
		t.Fatal(err)
	}
	checkGraph(t, &h)
	got, err := h.Search([]float32{1, 0.1}, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if keys := resultKeys(got); !slices.Equal(keys, []string{"a", "c", "b", "d"}) {
		t.Errorf("Search keys = %v, want [a c b d]", keys)
	}
	if got, want := h.Options(), (Options{M: 2, EfConstruction: 10, EfSearch: 10, ExactThreshold: 100, Seed: 7}); got != want {
		t.Errorf("Options = %+v, want %+v", got, want)
	}

	exact := snapshotSpec{magic: "HVIX", version: 1, kind: kindExact, dim: 2, entry: noSlot,
		keys: []string{"x", "y"}, vectors: [][]float32{{1, 0}, {0, -1}}}
	var e Exact
	if err := e.UnmarshalBinary(exact.encode()); err != nil {
		t.Fatal(err)
	}
	if e.Len() != 2 {
		t.Errorf("Exact Len = %d, want 2", e.Len())
	}
}

func TestSnapshotRejectsInvalidFields(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name   string
		change func(s *snapshotSpec)
		want   error
	}{
		{"magic", func(s *snapshotSpec) { s.magic = "HVIY" }, ErrCorruptSnapshot},
		{"newer version", func(s *snapshotSpec) { s.version = 2 }, ErrSnapshotVersion},
		{"version 0", func(s *snapshotSpec) { s.version = 0 }, ErrSnapshotVersion},
		{"kind Index", func(s *snapshotSpec) { s.kind = kindIndex }, ErrSnapshotKind},
		{"unknown kind", func(s *snapshotSpec) { s.kind = 9 }, ErrCorruptSnapshot},
		{"unknown flag", func(s *snapshotSpec) { s.flags = 1 << 5 }, ErrCorruptSnapshot},
		{"dimension 0", func(s *snapshotSpec) { s.dim = 0 }, ErrCorruptSnapshot},
		{"dimension too large", func(s *snapshotSpec) { s.dim = MaxDim + 1 }, ErrCorruptSnapshot},
		{"dimension wrong", func(s *snapshotSpec) { s.dim = 3 }, ErrCorruptSnapshot},
		{"count too large", func(s *snapshotSpec) { s.count = 1 << 30 }, ErrCorruptSnapshot},
		{"count too small", func(s *snapshotSpec) { s.count = 3 }, ErrCorruptSnapshot},
		{"M 1", func(s *snapshotSpec) { s.m = 1 }, ErrCorruptSnapshot},
		{"M 0", func(s *snapshotSpec) { s.m = 0 }, ErrCorruptSnapshot},
		{"M too large", func(s *snapshotSpec) { s.m = maxM + 1 }, ErrCorruptSnapshot},
		{"EfSearch 0", func(s *snapshotSpec) { s.efS = 0 }, ErrCorruptSnapshot},
		{"EfConstruction too large", func(s *snapshotSpec) { s.efC = maxEf + 1 }, ErrCorruptSnapshot},
		{"empty key", func(s *snapshotSpec) { s.keys[2] = "" }, ErrCorruptSnapshot},
		{"repeated key", func(s *snapshotSpec) { s.keys[3] = "a" }, ErrCorruptSnapshot},
		{"key longer than the data", func(s *snapshotSpec) { s.keyLength = 300 }, ErrCorruptSnapshot},
		{"key length beyond 32 bits of data", func(s *snapshotSpec) { s.keyLength = math.MaxUint32 }, ErrCorruptSnapshot},
		{"NaN element", func(s *snapshotSpec) { s.vectors[1][0] = nan }, ErrCorruptSnapshot},
		{"infinite element", func(s *snapshotSpec) { s.vectors[1][1] = float32(math.Inf(-1)) }, ErrCorruptSnapshot},
		{"vector not unit length", func(s *snapshotSpec) { s.vectors[1][1] = 0.9 }, ErrCorruptSnapshot},
		{"zero vector", func(s *snapshotSpec) { s.vectors[1] = []float32{0, 0} }, ErrCorruptSnapshot},
		{"level above maximum", func(s *snapshotSpec) {
			s.levels[0], s.top = maxLevel+1, maxLevel+1
			for len(s.links[0]) < maxLevel+2 {
				s.links[0] = append(s.links[0], nil)
			}
		}, ErrCorruptSnapshot},
		{"entry not an element", func(s *snapshotSpec) { s.entry = 4 }, ErrCorruptSnapshot},
		{"entry not on top layer", func(s *snapshotSpec) { s.entry = 1 }, ErrCorruptSnapshot},
		{"top layer wrong", func(s *snapshotSpec) { s.top = 2 }, ErrCorruptSnapshot},
		{"link to itself", func(s *snapshotSpec) { s.links[1][0] = []uint32{0, 1} }, ErrCorruptSnapshot},
		{"link to no element", func(s *snapshotSpec) { s.links[1][0] = []uint32{0, 4} }, ErrCorruptSnapshot},
		{"link repeated", func(s *snapshotSpec) { s.links[1][0] = []uint32{2, 2} }, ErrCorruptSnapshot},
		{"too many links", func(s *snapshotSpec) { s.links[0][0] = []uint32{1, 2, 3, 1, 2} }, ErrCorruptSnapshot},
		{"too many upper links", func(s *snapshotSpec) { s.links[0][1] = []uint32{1, 2, 3} }, ErrCorruptSnapshot},
		{"link above target's top layer", func(s *snapshotSpec) { s.links[0][1] = []uint32{1} }, ErrCorruptSnapshot},
		{"missing layer", func(s *snapshotSpec) { s.links[0] = s.links[0][:1] }, ErrCorruptSnapshot},
		{"trailing bytes", func(s *snapshotSpec) { s.trailing = []byte{0} }, ErrCorruptSnapshot},
		{"empty graph with entry", func(s *snapshotSpec) {
			*s = snapshotSpec{magic: "HVIX", version: 1, kind: kindHNSW, dim: 2, m: 2, efC: 10, efS: 10, entry: 0}
		}, ErrCorruptSnapshot},
		{"Exact with graph fields", func(s *snapshotSpec) {
			*s = snapshotSpec{magic: "HVIX", version: 1, kind: kindExact, dim: 2, m: 2, entry: noSlot,
				keys: []string{"x"}, vectors: [][]float32{{1, 0}}}
		}, ErrCorruptSnapshot},
	}
	// UnmarshalAuthenticated leaves out the checks of the vectors' values,
	// and must fail every other case.
	values := map[string]bool{"NaN element": true, "infinite element": true, "vector not unit length": true, "zero vector": true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := validGraphSpec()
			c.change(&spec)
			var target snapshotter = new(HNSW)
			if spec.kind == kindExact {
				target = new(Exact)
			}
			if err := target.UnmarshalBinary(spec.encode()); !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}

			if spec.kind != kindHNSW {
				return
			}
			spec.kind = kindIndex
			err := new(Index).UnmarshalAuthenticated([][]byte{spec.encode()})
			switch {
			case values[c.name] && err != nil:
				t.Errorf("UnmarshalAuthenticated error = %v, want none", err)
			case !values[c.name] && !errors.Is(err, c.want):
				t.Errorf("UnmarshalAuthenticated error = %v, want %v", err, c.want)
			}
		})
	}
}

// TestSnapshotVersion1File loads a snapshot written by the first version of
// the format, kept in testdata, and checks that it still loads and writes
// back unchanged. go test -run TestSnapshotVersion1File -update rewrites
// it, which is only right before the format's first release.
func TestSnapshotVersion1File(t *testing.T) {
	path := filepath.Join("testdata", "index-v1.snap")
	if *update {
		d := clusteredData(30, 60, 0, 8)
		x, err := NewIndex(8, Options{M: 4, EfConstruction: 20, EfSearch: 16, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		fill(t, x, d, nil)
		for i := 0; i < 60; i += 6 {
			x.Delete(d.keys[i])
		}
		data, err := x.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var x Index
	if err := x.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 50 || x.Dim() != 8 {
		t.Errorf("Len %d and Dim %d, want 50 and 8", x.Len(), x.Dim())
	}
	// The file keeps the default ExactThreshold of 8 dimensions when it was
	// written, 24 Mi / (8 + 16) comparisons, not today's default.
	if got, want := x.Options(), (Options{M: 4, EfConstruction: 20, EfSearch: 16, ExactThreshold: 1 << 20, Seed: 1}); got != want {
		t.Errorf("Options = %+v, want %+v", got, want)
	}
	checkGraph(t, &x.graph)
	again, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("the loaded snapshot does not write back unchanged")
	}
	got, err := x.Search([]float32{1, 0, 0, 0, 0, 0, 0, 0}, 50, nil)
	if err != nil || len(got) != 50 {
		t.Errorf("Search returned %d results and error %v, want 50", len(got), err)
	}
}

// FuzzUnmarshalBinary loads arbitrary bytes, as they are and with a
// correct checksum appended so that the fuzzer reaches the field checks, and
// checks that a snapshot that loads is a consistent index that writes back
// unchanged.
func FuzzUnmarshalBinary(f *testing.F) {
	f.Add(validGraphSpec().encode())
	d := clusteredData(40, 30, 0, 3)
	for _, index := range implementations(f, 3) {
		fill(f, index, d, nil)
		index.Delete(d.keys[4])
		data, err := index.(snapshotter).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		resigned := binary.LittleEndian.AppendUint32(slices.Clone(data), crc32.Checksum(data, castagnoli))
		for _, input := range [][]byte{data, resigned} {
			for _, target := range []snapshotter{new(Exact), new(HNSW), new(Index)} {
				if err := target.UnmarshalBinary(input); err != nil {
					continue
				}
				if g := graphOf(target); g != nil {
					checkGraph(t, g)
				}
				query := make([]float32, target.Dim())
				query[0] = 1
				if _, err := target.Search(query, 3, nil); err != nil {
					t.Errorf("Search of a loaded index: %v", err)
				}
				again, err := target.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again, input) {
					t.Error("a loaded snapshot does not write back unchanged")
				}
			}

			// Without the checksum and the vector checks, what loads must
			// still be a consistent graph that can be searched.
			var x Index
			if err := x.UnmarshalAuthenticated([][]byte{input[:len(input)/2], input[len(input)/2:]}); err == nil {
				checkGraph(t, &x.graph)
				query := make([]float32, x.Dim())
				query[0] = 1
				if _, err := x.Search(query, 3, nil); err != nil {
					t.Errorf("Search of an index loaded by UnmarshalAuthenticated: %v", err)
				}
			}
		}
	})
}

// newLike returns a new empty index of the same type as x.
func newLike(x snapshotter) snapshotter {
	switch x.(type) {
	case *Exact:
		return new(Exact)
	case *HNSW:
		return new(HNSW)
	default:
		return new(Index)
	}
}

// TestSnapshotParts loads snapshots split into parts at every byte, and into
// many parts of uneven sizes, some of them empty, and checks that each loads
// the index that a whole snapshot loads.
func TestSnapshotParts(t *testing.T) {
	small := clusteredData(41, 30, 0, 4)
	large := clusteredData(42, 1500, 0, 16)
	for _, d := range []dataset{small, large} {
		dim := len(d.vectors[0])
		x, _ := NewIndex(dim, Options{Seed: 6})
		fill(t, x, d, nil)
		for i := 0; i < len(d.keys); i += 9 {
			x.Delete(d.keys[i])
		}
		data, err := x.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}

		var splits [][][]byte
		if len(data) < 5000 {
			for cut := range len(data) + 1 {
				splits = append(splits, [][]byte{data[:cut], data[cut:]})
			}
		}
		for _, size := range []int{1, 7, 4096} {
			var parts [][]byte
			for off := 0; off < len(data); off += size {
				parts = append(parts, data[off:min(off+size, len(data))], nil)
			}
			splits = append(splits, parts)
		}

		for _, parts := range splits {
			for name, load := range map[string]func(*Index, [][]byte) error{
				"UnmarshalParts":         (*Index).UnmarshalParts,
				"UnmarshalAuthenticated": (*Index).UnmarshalAuthenticated,
			} {
				var loaded Index
				if err := load(&loaded, parts); err != nil {
					t.Fatalf("%s of %d bytes in %d parts: %v", name, len(data), len(parts), err)
				}
				again, _ := loaded.MarshalBinary()
				if !bytes.Equal(again, data) {
					t.Fatalf("%s of %d bytes in %d parts: the loaded index does not write back the same snapshot", name, len(data), len(parts))
				}
			}
		}

		damaged := slices.Clone(data)
		damaged[len(damaged)/2] ^= 1
		half := len(damaged) / 2
		if err := new(Index).UnmarshalParts([][]byte{damaged[:half], damaged[half:]}); !errors.Is(err, ErrCorruptSnapshot) {
			t.Errorf("damaged snapshot in two parts: error = %v, want ErrCorruptSnapshot", err)
		}

		// A wrong checksum is what UnmarshalAuthenticated does not check.
		resealed := slices.Clone(data)
		resealed[len(resealed)-1] ^= 1
		if err := new(Index).UnmarshalAuthenticated([][]byte{resealed}); err != nil {
			t.Errorf("UnmarshalAuthenticated of a snapshot with another checksum: %v", err)
		}
	}
}

// TestSnapshotLargeVectors loads a snapshot with enough vector elements to
// be decoded by several goroutines, and one whose damaged vector, with a
// correct checksum, is in the last goroutine's share.
func TestSnapshotLargeVectors(t *testing.T) {
	const n, dim = 2100, 1024
	d := randomData(43, n, 5, dim)
	exact, _ := NewExact(dim)
	fill(t, exact, d, nil)
	data, err := exact.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var loaded Exact
	if err := loaded.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	for _, q := range d.queries {
		got, _ := loaded.Search(q, 10, nil)
		want, _ := exact.Search(q, 10, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("loaded index returned %v, original %v", got, want)
		}
	}

	// Element n-2 is scaled by 1.5: its squared length is 2.25.
	damaged := slices.Clone(data[:len(data)-checksumSize])
	start := len(damaged) - 2*4*dim
	for j := range dim {
		at := start + 4*j
		x := math.Float32frombits(binary.LittleEndian.Uint32(damaged[at:]))
		binary.LittleEndian.PutUint32(damaged[at:], math.Float32bits(1.5*x))
	}
	damaged = binary.LittleEndian.AppendUint32(damaged, crc32.Checksum(damaged, castagnoli))
	err = loaded.UnmarshalBinary(damaged)
	if !errors.Is(err, ErrCorruptSnapshot) || !strings.Contains(err.Error(), fmt.Sprintf("element %d has squared length", n-2)) {
		t.Errorf("error = %v, want ErrCorruptSnapshot naming element %d", err, n-2)
	}
}
