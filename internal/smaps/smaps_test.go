//go:build linux

package smaps

import (
	"strings"
	"testing"
)

const sample = `00400000-01a00000 r-xp 00000000 fd:01 1048602                            /opt/hearth/bin/hearth
Size:              22528 kB
Rss:                9588 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw
7f2c10000000-7f2c10021000 rw-p 00000000 00:00 0 
Rss:                 132 kB
Anonymous:           132 kB
7f2c20000000-7f2c20400000 r--p 00200000 103:05 77 /home/ada/My Files/hearth.db (deleted)
Rss:                   8 kB
Anonymous:             4 kB
THPeligible:    0
`

func TestParse(t *testing.T) {
	mappings, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{Start: 0x400000, End: 0x1a00000, Perms: "r-xp", Device: 0xfd01, Inode: 1048602, Path: "/opt/hearth/bin/hearth", RssKiB: 9588},
		{Start: 0x7f2c10000000, End: 0x7f2c10021000, Perms: "rw-p", RssKiB: 132, AnonymousKiB: 132},
		// smaps prints the device numbers in hexadecimal.
		{Start: 0x7f2c20000000, End: 0x7f2c20400000, Perms: "r--p", Device: 0x103<<8 | 5, Inode: 77, Path: "/home/ada/My Files/hearth.db (deleted)", RssKiB: 8, AnonymousKiB: 4},
	}
	if len(mappings) != len(want) {
		t.Fatalf("got %d maps, want %d: %+v", len(mappings), len(want), mappings)
	}
	for i := range want {
		if mappings[i] != want[i] {
			t.Errorf("map %d:\n got %+v\nwant %+v", i, mappings[i], want[i])
		}
	}
	if mappings[0].Writable() {
		t.Errorf("Writable is true for %q, want false", mappings[0].Perms)
	}
	if !mappings[1].Writable() {
		t.Errorf("Writable is false for %q, want true", mappings[1].Perms)
	}
}

func TestParseRejectsDamagedLines(t *testing.T) {
	for _, text := range []string{
		"Rss: 4 kB\n",
		"00400000-01a00000 r-xp 00000000 fd:01\n",
		"00400000 r-xp 00000000 fd:01 12 /bin/x\n",
		"00400000-zz r-xp 00000000 fd:01 12 /bin/x\n",
		"00400000-01a00000 r-xp 00000000 fd01 12 /bin/x\n",
		"00400000-01a00000 r-xp 00000000 fd:01 12 /bin/x\nRss: 4 MB\n",
		"00400000-01a00000 r-xp 00000000 fd:01 12 /bin/x\nAnonymous: many kB\n",
	} {
		if mappings, err := parse(strings.NewReader(text)); err == nil {
			t.Errorf("parse(%q) = %+v, want an error", text, mappings)
		}
	}
}

// The device numbers that smaps prints match those that stat returns, so
// this process finds the maps of its own program file.
func TestReadFindsTheProgramFile(t *testing.T) {
	device, inode, err := FileID("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	mappings, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	executable := false
	for _, m := range mappings {
		if m.Device == device && m.Inode == inode && strings.Contains(m.Perms, "x") {
			executable = true
		}
	}
	if !executable {
		t.Fatalf("no executable map with device %#x and inode %d among %d maps", device, inode, len(mappings))
	}
	kib, err := MappedResidentKiB("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if kib == 0 {
		t.Fatal("the running program has no resident page")
	}
}

func TestMappedResidentKiBUnmappedFile(t *testing.T) {
	if kib, err := MappedResidentKiB("/proc/self/smaps"); err == nil {
		t.Fatalf("MappedResidentKiB of a file that is not mapped = %d, want an error", kib)
	}
	if _, err := MappedResidentKiB(t.TempDir() + "/missing"); err == nil {
		t.Fatal("MappedResidentKiB of a missing file gave no error")
	}
}
