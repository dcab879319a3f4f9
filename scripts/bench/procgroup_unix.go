//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// interruptGroupOnCancel starts cmd in a process group of its own and
// makes the end of its context interrupt the whole group. go test runs
// the test binary as a child, which would outlive a signal sent to the go
// command alone.
func interruptGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	}
}
