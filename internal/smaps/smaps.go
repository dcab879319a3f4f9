//go:build linux

// Package smaps reads this process's memory maps from /proc/self/smaps: what
// each map holds and how much of it is resident. Tests use it to check what
// Hearth leaves mapped.
package smaps

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Mapping is one memory map of this process.
type Mapping struct {
	Start, End uintptr
	// Perms is the map's protection and sharing, such as "r-xp".
	Perms string
	// Device and Inode name the mapped file. Both are 0 for anonymous memory.
	Device uint64
	Inode  uint64
	// Path is the mapped file's path when the map was made, or a name such
	// as "[heap]". The kernel appends " (deleted)" once the file is removed.
	Path string
	// RssKiB is the map's resident size. AnonymousKiB is the part of it that
	// belongs to no file: in a private file map, the pages written to since
	// the map was made.
	RssKiB       int
	AnonymousKiB int
}

// Writable reports whether the map can be written to.
func (m Mapping) Writable() bool {
	return strings.Contains(m.Perms, "w")
}

// Read returns every memory map of this process.
func Read() ([]Mapping, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f)
}

// parse reads maps in the format of /proc/PID/smaps: a header line per map,
// "start-end perms offset major:minor inode path", followed by lines of the
// form "Name: value". It makes strings only of the header lines, because a
// process with WebKit's libraries has thousands of the others.
func parse(r io.Reader) ([]Mapping, error) {
	var mappings []Mapping
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := scanner.Bytes()
		name, value, isField := bytes.Cut(line, []byte(":"))
		if !isField || bytes.Contains(name, []byte(" ")) {
			m, err := parseHeader(string(line))
			if err != nil {
				return nil, err
			}
			mappings = append(mappings, m)
			continue
		}
		if len(mappings) == 0 {
			return nil, fmt.Errorf("invalid smaps line %q: it comes before any map", line)
		}
		m := &mappings[len(mappings)-1]
		var err error
		switch string(name) {
		case "Rss":
			m.RssKiB, err = parseKiB(value)
		case "Anonymous":
			m.AnonymousKiB, err = parseKiB(value)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid smaps line %q: %w", line, err)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return mappings, nil
}

// parseHeader parses a map's first line. The path is the rest of the line
// after the inode, so it keeps any spaces it has.
func parseHeader(line string) (Mapping, error) {
	bad := func(reason string) (Mapping, error) {
		return Mapping{}, fmt.Errorf("invalid smaps map line %q: %s", line, reason)
	}
	fields := strings.Fields(line)
	if len(fields) < 5 {
		return bad("want at least 5 fields")
	}

	startText, endText, ok := strings.Cut(fields[0], "-")
	if !ok {
		return bad("the address range has no dash")
	}
	majorText, minorText, ok := strings.Cut(fields[3], ":")
	if !ok {
		return bad("the device has no colon")
	}
	start, err1 := strconv.ParseUint(startText, 16, 64)
	end, err2 := strconv.ParseUint(endText, 16, 64)
	major, err3 := strconv.ParseUint(majorText, 16, 32)
	minor, err4 := strconv.ParseUint(minorText, 16, 32)
	inode, err5 := strconv.ParseUint(fields[4], 10, 64)
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return bad(err.Error())
		}
	}

	rest := line
	for range 5 {
		_, rest, _ = strings.Cut(strings.TrimLeft(rest, " "), " ")
	}
	return Mapping{
		Start:  uintptr(start),
		End:    uintptr(end),
		Perms:  fields[1],
		Device: makedev(major, minor),
		Inode:  inode,
		Path:   strings.TrimLeft(rest, " "),
	}, nil
}

func parseKiB(value []byte) (int, error) {
	number, unit, _ := bytes.Cut(bytes.TrimSpace(value), []byte(" "))
	if string(unit) != "kB" {
		return 0, fmt.Errorf("unit %q, want kB", unit)
	}
	return strconv.Atoi(string(number))
}

// makedev encodes a device's major and minor numbers as stat's st_dev does.
func makedev(major, minor uint64) uint64 {
	return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
}

// FileID returns the device and inode of the file at path, following
// symbolic links, to find the maps of that file.
func FileID(path string) (device, inode uint64, err error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return st.Dev, st.Ino, nil
}

// MappedResidentKiB returns the resident size, in KiB, of this process's
// memory maps of the file at path. It is an error if no map of path exists.
func MappedResidentKiB(path string) (int, error) {
	device, inode, err := FileID(path)
	if err != nil {
		return 0, err
	}
	mappings, err := Read()
	if err != nil {
		return 0, err
	}
	total, found := 0, false
	for _, m := range mappings {
		if m.Device == device && m.Inode == inode {
			total += m.RssKiB
			found = true
		}
	}
	if !found {
		return 0, fmt.Errorf("no memory map of %s in /proc/self/smaps", path)
	}
	return total, nil
}
