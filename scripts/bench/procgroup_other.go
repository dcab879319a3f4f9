//go:build !unix

package main

import "os/exec"

// interruptGroupOnCancel leaves cmd as it is: outside Unix the end of its
// context kills the go command, and a test binary it started may outlive
// it.
func interruptGroupOnCancel(cmd *exec.Cmd) {}
