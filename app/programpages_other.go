//go:build !linux

package app

// ReleaseProgramPages does nothing on systems other than Linux.
func ReleaseProgramPages() error { return nil }
