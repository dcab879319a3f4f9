package app

import (
	"os"
	"syscall"
)

// fileIdentity returns the device and inode of the file that info
// describes. A copy of a file, or a file restored from a backup, has
// another inode.
func fileIdentity(info os.FileInfo) (device, inode uint64, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), st.Ino, true
}
