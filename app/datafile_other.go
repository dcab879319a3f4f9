//go:build !linux

package app

import "os"

// fileIdentity reports no identity on systems other than Linux, where
// Hearth is not built or tested yet, so RecordCleanClose records nothing
// and every open of the data file reads every page.
func fileIdentity(info os.FileInfo) (device, inode uint64, ok bool) {
	return 0, 0, false
}
