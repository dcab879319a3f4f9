package app

import (
	"os"
	"syscall"

	"go.etcd.io/bbolt"
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

// releasePages drops the pages of db's memory map from this process's
// resident memory, after a walk of every page has faulted them in. The
// map is read-only and shared, so the pages stay in the page cache and the
// next access maps them again without reading the disk. It is a hint: an
// error leaves the pages resident, which costs only memory.
func releasePages(db *bbolt.DB) {
	info, err := os.Stat(db.Path())
	if err != nil || info.Size() == 0 {
		return
	}
	// bbolt maps at least the whole file, in a multiple of the system's
	// page size.
	pageSize := int64(os.Getpagesize())
	length := (info.Size() + pageSize - 1) / pageSize * pageSize
	syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(length), syscall.MADV_DONTNEED)
}
