package memory

import (
	"os"
	"syscall"

	"go.etcd.io/bbolt"
)

// ReleasePages drops the pages of db's memory map from this process's
// resident memory, after a read of the whole file has faulted them in. The
// map is read-only and shared, so the pages stay in the page cache, and the
// next read maps them again without going to the disk. The read
// transaction holds off a remap of the file while the pages are released.
// It is a hint: an error leaves the pages resident, which costs only
// memory.
func ReleasePages(db *bbolt.DB) {
	_ = db.View(func(tx *bbolt.Tx) error {
		// bbolt maps at least the data of this transaction, in a multiple
		// of the system's page size.
		pageSize := int64(os.Getpagesize())
		length := (tx.Size() + pageSize - 1) / pageSize * pageSize
		if length > 0 {
			syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(length), syscall.MADV_DONTNEED)
		}
		return nil
	})
}
