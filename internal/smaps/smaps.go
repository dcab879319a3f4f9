//go:build linux

// Package smaps reads how much of a file's memory maps is resident in this
// process, from /proc/self/smaps. Tests use it to check that Hearth
// releases the pages of its data file after reading all of it.
package smaps

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// MappedResidentKiB returns the resident size, in KiB, of this process's
// memory maps of the file at path. It is an error if no map of path exists.
func MappedResidentKiB(path string) (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()

	total, inMapping, found := 0, false, false
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := scanner.Text()
		fields := strings.Fields(line)
		// A map's first line starts with its address range, such as
		// "7f00-7f80"; the lines about it start with a name and a colon.
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			inMapping = len(fields) >= 6 && fields[5] == path
			found = found || inMapping
			continue
		}
		if inMapping && len(fields) == 3 && fields[0] == "Rss:" {
			kib, err := strconv.Atoi(fields[1])
			if err != nil {
				return 0, fmt.Errorf("parse %q of /proc/self/smaps: %w", line, err)
			}
			total += kib
		}
	}
	if err := scanner.Err(); err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("no memory map of %s in /proc/self/smaps", path)
	}
	return total, nil
}
