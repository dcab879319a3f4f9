package app

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"unsafe"

	"hearth/internal/smaps"
)

func residentKiB(t *testing.T, path string) int {
	t.Helper()
	kib, err := smaps.MappedResidentKiB(path)
	if err != nil {
		t.Fatal(err)
	}
	return kib
}

// releaseMarker is written before the release, to check that the program's
// data keeps its writes.
var releaseMarker = []byte("unchanged")

// The segments found hold this program's code, and none of them overlaps
// a writable map or a page that was written to, such as the program's data
// or its relocated read-only data.
func TestReadOnlySegmentsOfThisProgram(t *testing.T) {
	ranges, err := readOnlySegments("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if testProgramIsPIE(t) {
		if len(ranges) != 0 {
			t.Fatalf("a position-independent test program gave segments %+v, want none", ranges)
		}
		return
	}
	inRanges := func(addr uintptr) bool {
		for _, r := range ranges {
			if addr >= r.start && addr < r.end {
				return true
			}
		}
		return false
	}
	if code := reflect.ValueOf(readOnlySegments).Pointer(); !inRanges(code) {
		t.Fatalf("the code of readOnlySegments at %#x is in none of %+v", code, ranges)
	}
	if data := uintptr(unsafe.Pointer(&releaseMarker)); inRanges(data) {
		t.Fatalf("the writable variable at %#x is in %+v", data, ranges)
	}

	mappings, err := smaps.Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mappings {
		if !m.Writable() && m.AnonymousKiB == 0 {
			continue
		}
		for _, r := range ranges {
			if m.Start < r.end && r.start < m.End {
				t.Errorf("segment %#x-%#x overlaps the map %#x-%#x %s with %d KiB written", r.start, r.end, m.Start, m.End, m.Perms, m.AnonymousKiB)
			}
		}
	}
}

// ReleaseProgramPages gives back most of the program's resident pages, and
// the program runs on with its data intact.
func TestReleaseProgramPages(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.createThread(token)
	copy(releaseMarker, "changed!!")
	before := residentKiB(t, "/proc/self/exe")

	if err := ReleaseProgramPages(); err != nil {
		t.Fatal(err)
	}
	after := residentKiB(t, "/proc/self/exe")
	t.Logf("the program's resident pages went from %d to %d KiB", before, after)
	switch {
	case testProgramIsPIE(t) && after < before/2:
		t.Fatalf("the program's resident pages went from %d to %d KiB, want no release in a position-independent program", before, after)
	case !testProgramIsPIE(t) && after > before/2:
		t.Fatalf("%d of the program's %d resident KiB stay after the release, want at most half", after, before)
	}
	if string(releaseMarker) != "changed!!" {
		t.Fatalf("a variable reads %q after the release, want %q", releaseMarker, "changed!!")
	}
	env.createThread(token)
}

// testProgramIsPIE reports whether the test program was built as a
// position-independent executable, as with go test -buildmode=pie.
func testProgramIsPIE(t *testing.T) bool {
	t.Helper()
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Type == elf.ET_DYN
}

// breakpointTarget is never called. A test writes into its code as a
// debugger writes a breakpoint.
//
//go:noinline
func breakpointTarget() int { return 7 }

// A write into the program's code, such as a debugger's breakpoint set
// before start-up, survives the release.
func TestReleaseProgramPagesKeepsBreakpoints(t *testing.T) {
	code := int64(reflect.ValueOf(breakpointTarget).Pointer())
	mem, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	readCode := func() byte {
		b := make([]byte, 1)
		if _, err := mem.ReadAt(b, code); err != nil {
			t.Fatal(err)
		}
		return b[0]
	}
	original := readCode()
	const trap = 0xCC
	if _, err := mem.WriteAt([]byte{trap}, code); err != nil {
		t.Fatalf("write a breakpoint through /proc/self/mem: %v", err)
	}
	defer mem.WriteAt([]byte{original}, code)

	if err := ReleaseProgramPages(); err != nil {
		t.Fatal(err)
	}
	if got := readCode(); got != trap {
		t.Fatalf("the code at %#x reads %#x after the release, want the breakpoint %#x", code, got, trap)
	}
}

// unwrittenPages leaves out a page of a private map that was written to,
// and keeps the pages around it, read or never touched.
func TestUnwrittenPagesSkipsWrittenPages(t *testing.T) {
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "mapped")
	if err := os.WriteFile(path, bytes.Repeat([]byte{'h'}, 4*page), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := syscall.Mmap(int(f.Fd()), 0, 4*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(data)
	readSum += data[0]
	data[2*page] = 'w'

	pagemap, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer pagemap.Close()
	start := uintptr(unsafe.Pointer(&data[0]))
	spans, err := unwrittenPages(pagemap, addressRange{start: start, end: start + uintptr(4*page)})
	if err != nil {
		t.Fatal(err)
	}
	want := []addressRange{{start, start + uintptr(2*page)}, {start + uintptr(3*page), start + uintptr(4*page)}}
	if !reflect.DeepEqual(spans, want) {
		t.Fatalf("spans %+v, want %+v: every page but the third", spans, want)
	}
}

// readSum keeps a test's read of a mapped page from being compiled away.
var readSum byte

// writeELF writes a small 64-bit ELF file of type typ, with one read-only
// loadable segment and, if dynamic is not empty, a dynamic section.
func writeELF(t *testing.T, typ elf.Type, dynamic ...elf.Dyn64) string {
	t.Helper()
	const (
		headerSize   = 64
		progSize     = 56
		sectionSize  = 64
		dynamicStart = headerSize + progSize
	)
	names := "\x00.dynamic\x00.shstrtab\x00"
	var dyn bytes.Buffer
	binary.Write(&dyn, binary.LittleEndian, append(dynamic, elf.Dyn64{Tag: int64(elf.DT_NULL)}))
	namesStart := dynamicStart + dyn.Len()
	sectionsStart := (namesStart + len(names) + 7) &^ 7

	var out bytes.Buffer
	header := elf.Header64{
		Type: uint16(typ), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: headerSize, Shoff: uint64(sectionsStart),
		Ehsize: headerSize, Phentsize: progSize, Phnum: 1,
		Shentsize: sectionSize, Shnum: 3, Shstrndx: 2,
	}
	copy(header.Ident[:], elf.ELFMAG)
	header.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	header.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	header.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&out, binary.LittleEndian, header)
	binary.Write(&out, binary.LittleEndian, elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: 0x400000, Paddr: 0x400000, Filesz: 0x1800, Memsz: 0x1800, Align: 0x1000,
	})
	out.Write(dyn.Bytes())
	out.WriteString(names)
	out.Write(make([]byte, sectionsStart-out.Len()))
	sectionType := elf.SHT_DYNAMIC
	if len(dynamic) == 0 {
		sectionType = elf.SHT_NULL
	}
	binary.Write(&out, binary.LittleEndian, []elf.Section64{
		{},
		{Name: 1, Type: uint32(sectionType), Off: dynamicStart, Size: uint64(dyn.Len()), Entsize: 16, Addralign: 8},
		{Name: 10, Type: uint32(elf.SHT_STRTAB), Off: uint64(namesStart), Size: uint64(len(names)), Addralign: 1},
	})

	path := filepath.Join(t.TempDir(), "program")
	if err := os.WriteFile(path, out.Bytes(), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadOnlySegmentsOfOtherPrograms(t *testing.T) {
	pageEnd := uintptr(0x400000 + 2*os.Getpagesize())
	for _, tc := range []struct {
		name    string
		typ     elf.Type
		dynamic []elf.Dyn64
		want    []addressRange
	}{
		{"a static executable", elf.ET_EXEC, nil, []addressRange{{0x400000, pageEnd}}},
		{"a dynamic executable", elf.ET_EXEC, []elf.Dyn64{{Tag: int64(elf.DT_FLAGS), Val: uint64(elf.DF_BIND_NOW)}}, []addressRange{{0x400000, pageEnd}}},
		// Its load address is not looked up.
		{"a position-independent executable", elf.ET_DYN, nil, nil},
		// The dynamic loader writes to its code.
		{"an executable with DT_TEXTREL", elf.ET_EXEC, []elf.Dyn64{{Tag: int64(elf.DT_TEXTREL)}}, nil},
		{"an executable with DF_TEXTREL", elf.ET_EXEC, []elf.Dyn64{{Tag: int64(elf.DT_FLAGS), Val: uint64(elf.DF_TEXTREL | elf.DF_BIND_NOW)}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readOnlySegments(writeELF(t, tc.typ, tc.dynamic...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := readOnlySegments(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing file gave no error")
	}
}
