//go:build !linux

package memory

import "go.etcd.io/bbolt"

// ReleasePages does nothing on systems other than Linux.
func ReleasePages(db *bbolt.DB) {}
