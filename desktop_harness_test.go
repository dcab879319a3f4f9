//go:build smoke || benchproc

// Helpers shared by the desktop smoke test and the process benchmarks: a
// private X server, a clean environment for the window and the stopping of
// a process group.

package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// stopGrace is how long cleanup waits after SIGTERM before it sends SIGKILL.
	stopGrace = 3 * time.Second
)

// startXvfb starts an X server for this test or benchmark alone and returns
// its display name, such as ":1". Xvfb picks the display number itself, so
// two servers cannot race for one number. With -displayfd it tries successively higher
// numbers and skips those whose lock file /tmp/.XN-lock or socket
// /tmp/.X11-unix/XN is taken. Once it listens, it writes the number to the
// given file descriptor (Xserver(1)).
func startXvfb(t testing.TB, artifacts string) string {
	t.Helper()
	numberReader, numberWriter, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer numberReader.Close()
	logFile, err := os.Create(filepath.Join(artifacts, "xvfb.log"))
	if err != nil {
		t.Fatal(err)
	}

	// ExtraFiles[0] becomes file descriptor 3 in the child.
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{numberWriter}
	xvfb.Stdout = logFile
	xvfb.Stderr = logFile
	xvfb.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := xvfb.Start(); err != nil {
		numberWriter.Close()
		logFile.Close()
		t.Fatalf("start Xvfb: %v", err)
	}
	numberWriter.Close()
	exited := make(chan struct{})
	go func() {
		xvfb.Wait()
		logFile.Close()
		close(exited)
	}()
	t.Cleanup(func() { stopProcessGroup(t, xvfb.Process.Pid, exited) })

	number := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(numberReader).ReadString('\n')
		number <- strings.TrimSpace(line)
	}()
	select {
	case n := <-number:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb reported display number %q; see %s", n, logFile.Name())
		}
		return ":" + n
	case <-exited:
		t.Fatalf("Xvfb exited during start-up; see %s", logFile.Name())
	case <-time.After(15 * time.Second):
		t.Fatalf("Xvfb did not report a display within 15s; see %s", logFile.Name())
	}
	return ""
}

// desktopEnv returns a minimal environment for the binary: the user's PATH,
// and a fresh HOME and XDG folders so that nothing reads or writes the real
// user's files. An empty display leaves DISPLAY unset.
//
// DBUS_SESSION_BUS_ADDRESS points at a socket that does not exist, so that
// neither Wails nor GTK finds or starts a session bus. Without a bus Wails'
// single-instance lock is off and the data file lock alone stops a second
// window.
func desktopEnv(t testing.TB, display, dataDir, ollamaURL string) []string {
	t.Helper()
	return desktopEnvWithHome(t, t.TempDir(), display, dataDir, ollamaURL)
}

// desktopEnvWithHome is desktopEnv with home as the home folder, so that
// several launches can share what WebKit keeps there.
func desktopEnvWithHome(t testing.TB, home, display, dataDir, ollamaURL string) []string {
	t.Helper()
	runtimeDir := filepath.Join(home, "runtime")
	if err := os.MkdirAll(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR=" + runtimeDir,
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(runtimeDir, "no-bus"),
		"NO_AT_BRIDGE=1",
		// GTK's file chooser saves its settings through dconf, which needs
		// the session bus. The memory backend keeps them in the process.
		"GSETTINGS_BACKEND=memory",
		"HEARTH_DATA_DIR=" + dataDir,
		"OLLAMA_HOST=" + ollamaURL,
	}
	if display != "" {
		env = append(env, "DISPLAY="+display)
	}
	return env
}

// stopProcessGroup stops the process group led by pid and waits until its
// leader is reaped (exited is closed then) and the other members, such as
// WebKit's helper processes, are gone. SIGTERM comes first so that Xvfb
// removes its lock file and socket. Whatever is left after stopGrace gets
// SIGKILL.
func stopProcessGroup(t testing.TB, pid int, exited <-chan struct{}) {
	t.Helper()
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("send SIGTERM to process group %d: %v", pid, err)
	}
	if waitGroupGone(pid, exited, stopGrace) {
		return
	}

	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		t.Errorf("send SIGKILL to process group %d: %v", pid, err)
	}
	if !waitGroupGone(pid, exited, 10*time.Second) {
		t.Errorf("processes %v of group %d still running 10s after SIGKILL", liveGroupMembers(pid), pid)
	}
}

// waitGroupGone reports whether, within timeout, the leader pid has been
// reaped and no other member of its process group is left.
func waitGroupGone(pid int, exited <-chan struct{}, timeout time.Duration) bool {
	deadline := time.After(timeout)
	select {
	case <-exited:
	case <-deadline:
		return false
	}
	for len(liveGroupMembers(pid)) > 0 {
		select {
		case <-deadline:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// liveGroupMembers returns the processes in group pgid that have not exited.
// Zombies, which have exited but whose parent has not reaped them, do not
// count.
func liveGroupMembers(pgid int) []int {
	var members []int
	for pid, fields := range liveProcessStats() {
		if group, err := strconv.Atoi(fields[2]); err == nil && group == pgid {
			members = append(members, pid)
		}
	}
	return members
}

// liveProcessStats returns the fields of /proc/PID/stat that follow the
// command name (state, ppid, pgrp and on) for every process that has not
// exited. Zombies and dead processes are left out.
func liveProcessStats() map[int][]string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	stats := map[int][]string{}
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may contain spaces, so
		// the fields are counted from its closing parenthesis.
		end := bytes.LastIndexByte(stat, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(string(stat[end+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		stats[pid] = fields
	}
	return stats
}
