//go:build benchproc

// The process benchmarks measure Hearth as a user meets it: the time from
// exec to the first screen of the desktop window and to the first response
// of hearth serve, the memory of the window and its WebKit processes, and the
// size of the binary. The window figures come with the same figures of a
// bare Wails v2 window (scripts/bench/barewails), measured in the same run,
// so that Hearth's own share can be told from the cost of Wails and
// WebKitGTK. Each window runs under its own Xvfb. Run them with the built
// binaries:
//
//	HEARTH_DESKTOP_BIN=$PWD/build/bin/hearth BARE_WAILS_BIN=$PWD/build/bin/bare-wails \
//	FAKE_OLLAMA_BIN=$PWD/build/bin/fake-ollama \
//	go test -tags benchproc -run '^$' -bench . -benchtime=1x -count=10 .
//
// They need Xvfb and xdotool (make deps installs them). xev, which x11-utils
// installs with xdotool, times the mapping of the window.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that name the binaries under test, and how to build
// each.
const (
	desktopBinEnv    = "HEARTH_DESKTOP_BIN"
	bareWailsBinEnv  = "BARE_WAILS_BIN"
	fakeOllamaBinEnv = "FAKE_OLLAMA_BIN"
)

var buildTargets = map[string]string{
	desktopBinEnv:    "make build (build/bin/hearth)",
	bareWailsBinEnv:  `CGO_ENABLED=1 go build -tags desktop,production,webkit2_41 -ldflags "-w -s" -o build/bin/bare-wails ./scripts/bench/barewails`,
	fakeOllamaBinEnv: "make build (build/bin/fake-ollama)",
}

// firstScreenLine is part of the line that both windows write once the page
// has rendered its first screen: Hearth logs it to standard error, and the
// bare window prints it to standard output.
const firstScreenLine = "first screen shown"

// The shared data directory: one profile with benchThreads threads, each a
// question and an answer.
const (
	benchThreads     = 10_000
	benchProfileName = "Bench"
	benchPassword    = "correct horse battery staple"
)

const (
	// launchTimeout bounds each wait for a window's first screen, for
	// hearth serve's first healthy response and for each step of the
	// sign-in.
	launchTimeout = 60 * time.Second
	// embedTimeout bounds the wait for recall to embed every message of the
	// shared data directory.
	embedTimeout = 15 * time.Minute
	// serveStopTimeout bounds the wait for hearth serve to save the recall
	// index and exit after SIGTERM.
	serveStopTimeout = 2 * time.Minute
	// healthPollInterval is the pause between two health requests that
	// fail.
	healthPollInterval = time.Millisecond
)

// How the footprint is sampled once the window is ready: after
// footprintIdle, footprintSamples times, footprintInterval apart.
const (
	footprintIdle     = 10 * time.Second
	footprintSamples  = 3
	footprintInterval = time.Second
)

// threadOpenedLine is part of the request log line of the first thread that
// the workspace opens. The workspace requests it in an effect of the render
// that puts the thread list in the page, so the line comes after that
// render.
const threadOpenedLine = `route="GET /api/threads/{threadId}"`

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRoot.dir != "" {
		os.RemoveAll(benchRoot.dir)
	}
	os.Exit(code)
}

// benchRoot is a temporary folder that lives as long as the test process,
// for what the benchmarks share across their runs: the data directory and
// the windows' home folders. TestMain removes it.
var benchRoot struct {
	once sync.Once
	dir  string
	err  error
}

// processFolder returns a new folder in benchRoot.
func processFolder(b *testing.B, name string) string {
	b.Helper()
	benchRoot.once.Do(func() {
		benchRoot.dir, benchRoot.err = os.MkdirTemp("", "hearth-bench-process-")
	})
	if benchRoot.err != nil {
		b.Fatal(benchRoot.err)
	}
	dir := filepath.Join(benchRoot.dir, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	return dir
}

// windowHomes holds, for each window binary, the home folder that all its
// launches share, so that each launch finds what WebKit kept from the one
// before, as a user's second start does.
var windowHomes struct {
	mu   sync.Mutex
	dirs map[string]string
}

// windowHome returns the home folder of bin's launches, and whether it was
// just made.
func windowHome(b *testing.B, bin string) (home string, fresh bool) {
	b.Helper()
	windowHomes.mu.Lock()
	defer windowHomes.mu.Unlock()
	if home, ok := windowHomes.dirs[bin]; ok {
		return home, false
	}
	if windowHomes.dirs == nil {
		windowHomes.dirs = map[string]string{}
	}
	home = processFolder(b, "home-"+filepath.Base(bin))
	windowHomes.dirs[bin] = home
	return home, true
}

// BenchmarkDesktopStart times the window from exec to its first screen: for
// Hearth the profile picker of a data directory with one profile and
// benchThreads threads, and for the bare window its static page. Each page
// emits one Wails event from the animation frame after that screen has
// rendered, and the process writes firstScreenLine when it receives it.
// window-ms/op is the time from exec until the X server maps the window.
//
// Every launch of a binary shares one home folder. The first launch of each
// binary in the process is a warm-up outside the timer, so that the timed
// ones find WebKit's folders and the shared libraries in the page cache, as
// a user's second start does.
func BenchmarkDesktopStart(b *testing.B) {
	b.Run("app", func(b *testing.B) {
		bin := requiredBinary(b, desktopBinEnv)
		dataDir := sharedDataDir(b)
		fake := startFakeOllama(b)
		benchmarkStart(b, bin, func(home, display string) []string {
			return desktopEnvWithHome(b, home, display, dataDir, fake)
		})
	})
	b.Run("bare", func(b *testing.B) {
		bin := requiredBinary(b, bareWailsBinEnv)
		benchmarkStart(b, bin, func(home, display string) []string {
			return desktopEnvWithHome(b, home, display, b.TempDir(), "")
		})
	})
}

// benchmarkStart launches bin b.N times under one Xvfb and times each launch
// until firstScreenLine. env returns the environment of one launch.
func benchmarkStart(b *testing.B, bin string, env func(home, display string) []string) {
	requireTools(b, "Xvfb", "xdotool", "xev")
	display := startXvfb(b, b.TempDir())
	maps := watchMaps(b, display)
	home, fresh := windowHome(b, bin)
	if fresh {
		w := launchWindow(b, bin, env(home, display))
		w.waitFirstScreen(b)
		w.stop(b)
	}

	var windowTotal, unloggedTotal time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		launchEnv := env(home, display)
		maps.reset()
		b.StartTimer()

		w := launchWindow(b, bin, launchEnv)
		w.waitFirstScreen(b)
		b.StopTimer()

		mapped, ok := maps.firstMapAfter(w.started)
		if !ok {
			b.Fatalf("no window was mapped on %s before the first screen of %s", display, bin)
		}
		windowTotal += mapped.Sub(w.started)
		unloggedTotal += w.unloggedTime(b)
		w.stop(b)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(windowTotal.Milliseconds())/float64(b.N), "window-ms/op")
	b.Logf("%s: the time to the first screen measured from exec, less the logged sinceStartMs: %+.0f ms on average",
		filepath.Base(bin), float64(unloggedTotal.Milliseconds())/float64(b.N))
}

// BenchmarkServeStart times hearth serve from exec until GET /api/health
// returns 200, on the shared data directory with a fake Ollama that returns
// the model list, which the health route requests, at once. The server listens on a port that
// the kernel picks, so the health requests start once it prints its address,
// which it does after it listens.
func BenchmarkServeStart(b *testing.B) {
	bin := requiredBinary(b, desktopBinEnv)
	dataDir := sharedDataDir(b)
	fake := startFakeOllama(b)
	client := &http.Client{Timeout: 10 * time.Second}

	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		env := desktopEnv(b, "", dataDir, fake)
		b.StartTimer()

		s := startServe(b, bin, env)
		waitHealthy(b, client, s.url)
		b.StopTimer()
		s.stop(b)
		b.StartTimer()
	}
}

// BenchmarkFootprint reports the resident and proportional set sizes of the
// window and every process it started, summed, once the window is idle.
// Hearth signs in to the shared data directory through its window, as a
// user does, and is measured once its workspace shows the thread list. PSS
// divides each shared page among the processes that map it, so pss-MiB
// counts the shared libraries once, and rss-MiB counts them in every process.
func BenchmarkFootprint(b *testing.B) {
	b.Run("app", func(b *testing.B) {
		bin := requiredBinary(b, desktopBinEnv)
		dataDir := sharedDataDir(b)
		fake := startFakeOllama(b)
		benchmarkFootprint(b, bin, func(home, display string) []string {
			return desktopEnvWithHome(b, home, display, dataDir, fake)
		}, signIn)
	})
	b.Run("bare", func(b *testing.B) {
		bin := requiredBinary(b, bareWailsBinEnv)
		benchmarkFootprint(b, bin, func(home, display string) []string {
			return desktopEnvWithHome(b, home, display, b.TempDir(), "")
		}, nil)
	})
}

// benchmarkFootprint launches bin b.N times under one Xvfb. After the first
// screen it calls ready, if given, to bring the window to the state to
// measure. It reports the median of the samples of the last launch.
func benchmarkFootprint(b *testing.B, bin string, env func(home, display string) []string, ready func(b *testing.B, display string, w *launchedWindow)) {
	requireTools(b, "Xvfb", "xdotool")
	display := startXvfb(b, b.TempDir())
	home, _ := windowHome(b, bin)

	var median treeMemory
	for range b.N {
		w := launchWindow(b, bin, env(home, display))
		w.waitFirstScreen(b)
		if ready != nil {
			ready(b, display, w)
		}
		time.Sleep(footprintIdle)

		samples := make([]treeMemory, 0, footprintSamples)
		for i := range footprintSamples {
			if i > 0 {
				time.Sleep(footprintInterval)
			}
			samples = append(samples, sampleTree(b, w.pid))
		}
		slices.SortFunc(samples, func(x, y treeMemory) int { return cmp.Compare(x.pssKiB, y.pssKiB) })
		median = samples[len(samples)/2]
		w.stop(b)
	}

	for _, p := range median.processes {
		b.Logf("pid %d %-22s rss %6.1f MiB  pss %6.1f MiB (anonymous %6.1f, files %6.1f)",
			p.pid, p.name, mib(p.rssKiB), mib(p.pssKiB), mib(p.pssAnonKiB), mib(p.pssFileKiB))
	}
	b.ReportMetric(mib(median.rssKiB), "rss-MiB")
	b.ReportMetric(mib(median.pssKiB), "pss-MiB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBinarySize reports the size of the desktop binary and of the
// bare window, in megabytes of 10^6 bytes.
func BenchmarkBinarySize(b *testing.B) {
	app := fileSize(b, requiredBinary(b, desktopBinEnv))
	bare := fileSize(b, requiredBinary(b, bareWailsBinEnv))
	for range b.N {
	}
	b.ReportMetric(float64(app)/1e6, "MB")
	b.ReportMetric(float64(bare)/1e6, "bare-MB")
	b.ReportMetric(0, "ns/op")
}

// signIn signs in to the profile of the shared data directory through the
// window's keyboard, as a user does: Tab moves from the picker's heading to
// the profile's tile, Return opens its password form, whose field takes the
// focus. It returns once the workspace has requested the first thread,
// which it does after rendering the thread list.
func signIn(b *testing.B, display string, w *launchedWindow) {
	b.Helper()
	window := findWindow(b, display, "^Hearth$")
	logged := w.lineCount()
	xdotool(b, display, "windowfocus", "--sync", window)
	xdotool(b, display, "key", "Tab", "Return")
	// The password form renders in the frame after Return.
	time.Sleep(200 * time.Millisecond)
	xdotool(b, display, "type", "--delay", "10", benchPassword)
	xdotool(b, display, "key", "Return")
	logged = w.waitForLine(b, logged, `route="POST /api/auth/login"`, "status=200")
	w.waitForLine(b, logged, threadOpenedLine, "status=200")
}

// requiredBinary returns the absolute path in the environment variable
// name, and fails the benchmark, naming the variable and the command that
// builds the binary, when it is unset or names no file.
func requiredBinary(b *testing.B, name string) string {
	b.Helper()
	path := os.Getenv(name)
	if path == "" {
		b.Fatalf("%s is not set: build the binary with %s and set %s to its path", name, buildTargets[name], name)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		b.Fatalf("%s: %v; build it with %s", name, err, buildTargets[name])
	}
	return abs
}

// requireTools fails the benchmark when a tool is not in PATH.
func requireTools(b *testing.B, tools ...string) {
	b.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s not found in PATH: run make deps to install it", tool)
		}
	}
}

func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return info.Size()
}

// launchedWindow is a running window binary whose standard output and error
// are read line by line.
type launchedWindow struct {
	pid int
	// started is taken just before exec.
	started time.Time
	// firstScreen is closed at the first line that contains
	// firstScreenLine, which is kept in firstScreenText and was read at
	// firstScreenAt.
	firstScreen     chan struct{}
	firstScreenText string
	firstScreenAt   time.Time
	// exited is closed when the process has exited; exitErr is set before.
	exited  chan struct{}
	exitErr error
	// copied is closed when every process holding the output pipe has
	// closed it.
	copied chan struct{}
	output *os.File

	mu    sync.Mutex
	lines []string
}

// launchWindow starts bin in its own process group, so that stop also ends
// the WebKit processes it spawns.
func launchWindow(b *testing.B, bin string, env []string) *launchedWindow {
	b.Helper()
	output, outputWriter, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout = outputWriter
	cmd.Stderr = outputWriter
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	w := &launchedWindow{firstScreen: make(chan struct{}), exited: make(chan struct{}), copied: make(chan struct{}), output: output}
	w.started = time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", bin, err)
	}
	outputWriter.Close()
	w.pid = cmd.Process.Pid

	go w.readOutput()
	go func() {
		w.exitErr = cmd.Wait()
		close(w.exited)
	}()
	b.Cleanup(func() { w.stop(b) })
	return w
}

func (w *launchedWindow) readOutput() {
	defer close(w.copied)
	scanner := bufio.NewScanner(w.output)
	seen := false
	for scanner.Scan() {
		line := scanner.Text()
		w.mu.Lock()
		w.lines = append(w.lines, line)
		w.mu.Unlock()
		if !seen && strings.Contains(line, firstScreenLine) {
			seen = true
			w.firstScreenAt, w.firstScreenText = time.Now(), line
			close(w.firstScreen)
		}
	}
}

// waitFirstScreen waits until the window writes firstScreenLine.
func (w *launchedWindow) waitFirstScreen(b *testing.B) {
	b.Helper()
	select {
	case <-w.firstScreen:
	case <-w.exited:
		b.Fatalf("the window exited before its first screen: %v; its output:\n%s", w.exitErr, w.text())
	case <-time.After(launchTimeout):
		b.Fatalf("no line with %q within %s; the window's output:\n%s", firstScreenLine, launchTimeout, w.text())
	}
}

// unloggedTime returns how much longer the first screen took from exec, as
// the benchmark measured it, than the sinceStartMs of the window's line
// reports. It is called after waitFirstScreen.
func (w *launchedWindow) unloggedTime(b *testing.B) time.Duration {
	b.Helper()
	_, value, ok := strings.Cut(w.firstScreenText, "sinceStartMs=")
	if !ok {
		b.Fatalf("the line %q has no sinceStartMs", w.firstScreenText)
	}
	ms, err := strconv.Atoi(strings.Fields(value)[0])
	if err != nil {
		b.Fatalf("the line %q: %v", w.firstScreenText, err)
	}
	return w.firstScreenAt.Sub(w.started) - time.Duration(ms)*time.Millisecond
}

// lineCount returns the number of lines the window has written so far.
func (w *launchedWindow) lineCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.lines)
}

// waitForLine waits until a line after the first from lines contains every
// one of parts, and returns the number of lines up to and including it.
func (w *launchedWindow) waitForLine(b *testing.B, from int, parts ...string) int {
	b.Helper()
	deadline := time.Now().Add(launchTimeout)
	for {
		w.mu.Lock()
		lines := w.lines[min(from, len(w.lines)):]
		w.mu.Unlock()
		for i, line := range lines {
			if containsEvery(line, parts) {
				return from + i + 1
			}
		}
		select {
		case <-w.exited:
			b.Fatalf("the window exited while the benchmark waited for a line with %q: %v; its output:\n%s", parts, w.exitErr, w.text())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("no line with %q within %s; the window's output:\n%s", parts, launchTimeout, w.text())
		}
	}
}

// text returns the output so far, for failure messages.
func (w *launchedWindow) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// stop ends the window's process group and waits until its output is
// closed. It may be called more than once.
func (w *launchedWindow) stop(b *testing.B) {
	b.Helper()
	stopProcessGroup(b, w.pid, w.exited)
	select {
	case <-w.copied:
	case <-time.After(5 * time.Second):
		// A process outside the group still holds the pipe.
		w.output.Close()
		<-w.copied
	}
	w.output.Close()
}

func containsEvery(s string, parts []string) bool {
	for _, part := range parts {
		if !strings.Contains(s, part) {
			return false
		}
	}
	return true
}

// mapWatcher records when the X server maps a top-level window, from the
// MapNotify events that xev prints for the root window's children. Windows
// with override-redirect, such as menus and tooltips, are left out.
type mapWatcher struct {
	mu   sync.Mutex
	maps []time.Time
}

// watchMaps starts xev on display and returns its watcher.
func watchMaps(b *testing.B, display string) *mapWatcher {
	b.Helper()
	cmd := exec.Command("xev", "-root", "-event", "substructure")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start xev: %v", err)
	}

	exited := make(chan struct{})
	watcher := &mapWatcher{}
	go func() {
		// xev prints "MapNotify event, ..." and, on a later line,
		// "override NO" for a top-level window.
		scanner := bufio.NewScanner(stdout)
		var mapAt time.Time
		for scanner.Scan() {
			line := scanner.Text()
			switch {
			case strings.HasPrefix(line, "MapNotify event"):
				mapAt = time.Now()
			case !mapAt.IsZero() && strings.Contains(line, "override NO"):
				watcher.mu.Lock()
				watcher.maps = append(watcher.maps, mapAt)
				watcher.mu.Unlock()
				mapAt = time.Time{}
			case !mapAt.IsZero() && strings.Contains(line, "override YES"):
				mapAt = time.Time{}
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(exited)
	}()
	b.Cleanup(func() { stopProcessGroup(b, cmd.Process.Pid, exited) })
	return watcher
}

func (m *mapWatcher) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maps = nil
}

// firstMapAfter returns the time of the first mapping after start.
func (m *mapWatcher) firstMapAfter(start time.Time) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.maps {
		if t.After(start) {
			return t, true
		}
	}
	return time.Time{}, false
}

// findWindow waits until display shows a window whose title matches the
// regular expression title, and returns its X window id.
func findWindow(b *testing.B, display, title string) string {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), launchTimeout)
	defer cancel()
	search := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", title)
	search.Env = append(os.Environ(), "DISPLAY="+display)
	output, err := search.Output()
	if err != nil {
		b.Fatalf("no visible window titled %q on %s within %s: %v", title, display, launchTimeout, err)
	}
	ids := strings.Fields(string(output))
	if len(ids) != 1 {
		b.Fatalf("xdotool found %d visible windows titled %q, want 1: %q", len(ids), title, output)
	}
	return ids[0]
}

// xdotool runs xdotool with args on display.
func xdotool(b *testing.B, display string, args ...string) {
	b.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if output, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, output)
	}
}

// processMemory is the memory of one process, from /proc/PID/smaps_rollup.
type processMemory struct {
	pid            int
	name           string
	rssKiB, pssKiB int64
	// pssAnonKiB and pssFileKiB split pssKiB into anonymous memory, such
	// as the Go heap, and pages of mapped files, such as the data file.
	pssAnonKiB, pssFileKiB int64
}

// treeMemory is the memory of a process and all its descendants.
type treeMemory struct {
	rssKiB, pssKiB int64
	processes      []processMemory
}

// sampleTree sums Rss and Pss over root and every process descending from
// it, found through the parent ids in /proc/*/stat.
func sampleTree(b *testing.B, root int) treeMemory {
	b.Helper()
	var tree treeMemory
	for _, pid := range descendants(root) {
		p, err := readProcessMemory(pid)
		if errors.Is(err, os.ErrNotExist) {
			continue // exited since the walk
		}
		if err != nil {
			b.Fatal(err)
		}
		tree.processes = append(tree.processes, p)
		tree.rssKiB += p.rssKiB
		tree.pssKiB += p.pssKiB
	}
	if len(tree.processes) == 0 {
		b.Fatalf("process %d has exited, so its memory cannot be sampled", root)
	}
	return tree
}

// descendants returns root and every live process whose chain of parents
// leads to root.
func descendants(root int) []int {
	parents := map[int]int{}
	for pid, fields := range liveProcessStats() {
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			parents[pid] = ppid
		}
	}

	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		for pid, ppid := range parents {
			if ppid == tree[i] {
				tree = append(tree, pid)
			}
		}
	}
	return tree
}

// readProcessMemory reads the Rss, Pss, Pss_Anon and Pss_File lines of
// /proc/PID/smaps_rollup, which the kernel gives in kB (KiB).
func readProcessMemory(pid int) (processMemory, error) {
	p := processMemory{pid: pid}
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	comm, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil {
		return p, err
	}
	p.name = strings.TrimSpace(string(comm))
	rollup, err := os.ReadFile(filepath.Join(dir, "smaps_rollup"))
	if err != nil {
		return p, err
	}
	for line := range strings.Lines(string(rollup)) {
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		value, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return p, fmt.Errorf("%s/smaps_rollup: %q: %w", dir, line, err)
		}
		switch fields[0] {
		case "Rss:":
			p.rssKiB = value
		case "Pss:":
			p.pssKiB = value
		case "Pss_Anon:":
			p.pssAnonKiB = value
		case "Pss_File:":
			p.pssFileKiB = value
		}
	}
	return p, nil
}

func mib(kib int64) float64 {
	return float64(kib) / 1024
}

// startFakeOllama starts the fake Ollama binary on a loopback port for the
// rest of the benchmark and returns its URL.
func startFakeOllama(b *testing.B) string {
	b.Helper()
	p, url := startFakeOllamaProcess(b, requiredBinary(b, fakeOllamaBinEnv))
	b.Cleanup(func() { stopProcessGroup(b, p.pid, p.exited) })
	return url
}

// lineProcess is a process whose combined output is read line by line.
type lineProcess struct {
	pid     int
	lines   chan string
	exited  chan struct{}
	exitErr error
}

// startLineProcess starts bin with args in its own process group.
func startLineProcess(tb testing.TB, env []string, bin string, args ...string) *lineProcess {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	output, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	p := &lineProcess{pid: cmd.Process.Pid, lines: make(chan string, 1024), exited: make(chan struct{})}
	go func() {
		scanner := bufio.NewScanner(output)
		for scanner.Scan() {
			select {
			case p.lines <- scanner.Text():
			default: // no reader is left
			}
		}
		// Wait closes the pipe, so it comes after the last line is read.
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	return p
}

// waitForPrefix returns the rest of the first line that starts with prefix.
func (p *lineProcess) waitForPrefix(tb testing.TB, prefix string) string {
	tb.Helper()
	var seen []string
	timeout := time.After(launchTimeout)
	for {
		select {
		case line := <-p.lines:
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest
			}
			seen = append(seen, line)
		case <-p.exited:
			tb.Fatalf("process exited before it printed %q: %v; its output:\n%s", prefix, p.exitErr, strings.Join(seen, "\n"))
		case <-timeout:
			tb.Fatalf("no line starting with %q within %s; the output:\n%s", prefix, launchTimeout, strings.Join(seen, "\n"))
		}
	}
}

func startFakeOllamaProcess(tb testing.TB, bin string) (*lineProcess, string) {
	tb.Helper()
	p := startLineProcess(tb, os.Environ(), bin, "--addr", "127.0.0.1:0")
	url := p.waitForPrefix(tb, "fake-ollama listening on ")
	return p, strings.TrimSpace(url)
}

// serveProcess is a running hearth serve.
type serveProcess struct {
	*lineProcess
	url string
}

// startServe starts bin serve on a free loopback port and returns once it
// has printed its address.
func startServe(b *testing.B, bin string, env []string) *serveProcess {
	b.Helper()
	p := startLineProcess(b, env, bin, "serve", "--addr", "127.0.0.1:0")
	s := &serveProcess{lineProcess: p}
	b.Cleanup(func() { stopProcessGroup(b, p.pid, p.exited) })
	s.url = strings.TrimSpace(p.waitForPrefix(b, "Hearth is serving on "))
	return s
}

func (s *serveProcess) stop(b *testing.B) {
	b.Helper()
	stopProcessGroup(b, s.pid, s.exited)
}

// waitHealthy requests GET /api/health every healthPollInterval until it
// returns 200.
func waitHealthy(b *testing.B, client *http.Client, url string) {
	b.Helper()
	deadline := time.Now().Add(launchTimeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(url + "/api/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("status %d: %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(healthPollInterval)
	}
	b.Fatalf("GET %s/api/health did not return 200 within %s; the last response: %s", url, launchTimeout, last)
}

// benchData is the data directory that the app benchmarks share: one
// profile with benchThreads threads, every message embedded for recall and
// the recall index saved. It is built once per process in benchRoot.
var benchData struct {
	once sync.Once
	dir  string
}

// sharedDataDir returns the shared data directory, building it on the first
// call. Building takes about a minute, most of it in embedding the messages
// for recall.
func sharedDataDir(b *testing.B) string {
	b.Helper()
	benchData.once.Do(func() {
		dir := processFolder(b, "data")
		buildDataDir(b, dir)
		benchData.dir = dir
	})
	if benchData.dir == "" {
		b.Fatal("the shared data directory could not be built; the first benchmark that needed it failed with the reason")
	}
	return benchData.dir
}

// buildDataDir fills dir through Hearth's own API on a hearth serve: it
// creates the profile, imports benchThreads threads in one request, waits
// until recall has embedded every message, and stops the server, which
// saves the recall index.
func buildDataDir(b *testing.B, dir string) {
	b.Helper()
	bin := requiredBinary(b, desktopBinEnv)
	fake, fakeURL := startFakeOllamaProcess(b, requiredBinary(b, fakeOllamaBinEnv))
	defer stopProcessGroup(b, fake.pid, fake.exited)

	started := time.Now()
	s := startServe(b, bin, desktopEnv(b, "", dir, fakeURL))
	api := &apiClient{b: b, url: s.url, http: &http.Client{Timeout: 5 * time.Minute}}

	credentials := map[string]string{"name": benchProfileName, "password": benchPassword}
	api.request("POST", "/api/auth/profiles", credentials, http.StatusCreated, nil)
	var login struct {
		Token string `json:"token"`
	}
	api.request("POST", "/api/auth/login", credentials, http.StatusOK, &login)
	api.token = login.Token

	var imported struct {
		Threads  int `json:"threads"`
		Messages int `json:"messages"`
	}
	api.request("POST", "/api/import", benchExport(benchThreads), http.StatusOK, &imported)
	if imported.Threads != benchThreads || imported.Messages != 2*benchThreads {
		b.Fatalf("the import stored %d threads and %d messages, want %d and %d", imported.Threads, imported.Messages, benchThreads, 2*benchThreads)
	}
	waitRecallReady(b, api, 2*benchThreads)

	// SIGTERM makes hearth serve lock the profile, which saves its recall
	// index, and exit.
	if err := syscall.Kill(s.pid, syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(serveStopTimeout):
		b.Fatalf("hearth serve did not exit within %s of SIGTERM", serveStopTimeout)
	}
	if s.exitErr != nil {
		b.Fatalf("hearth serve exited with %v after SIGTERM", s.exitErr)
	}
	b.Logf("built the shared data directory in %s: %d threads, %d messages", time.Since(started).Round(time.Second), imported.Threads, imported.Messages)
}

// benchExport returns a hearth-profile document with n threads, each with a
// short question and answer.
func benchExport(n int) map[string]any {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type thread struct {
		Thread   map[string]string `json:"thread"`
		Messages []message         `json:"messages"`
	}
	threads := make([]thread, n)
	for i := range threads {
		threads[i] = thread{
			Thread: map[string]string{"title": fmt.Sprintf("Question %d about the garden", i+1)},
			Messages: []message{
				{Role: "user", Content: fmt.Sprintf("When should I plant bulb number %d?", i+1)},
				{Role: "assistant", Content: fmt.Sprintf("Plant bulb number %d in autumn, before the first frost.", i+1)},
			},
		}
	}
	return map[string]any{"format": "hearth-profile", "version": 1, "threads": threads}
}

// waitRecallReady waits until the profile's recall index contains want vectors
// and none is pending.
func waitRecallReady(b *testing.B, api *apiClient, want int) {
	b.Helper()
	var recall struct {
		Status struct {
			State   string `json:"state"`
			Vectors int    `json:"vectors"`
			Pending int    `json:"pending"`
		} `json:"status"`
	}
	deadline := time.Now().Add(embedTimeout)
	for {
		api.request("GET", "/api/memory/recall", nil, http.StatusOK, &recall)
		st := recall.Status
		if st.State == "ready" && st.Pending == 0 && st.Vectors >= want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("recall is %s with %d vectors and %d pending after %s, want ready with %d", st.State, st.Vectors, st.Pending, embedTimeout, want)
		}
		time.Sleep(time.Second)
	}
}

// apiClient sends JSON requests to Hearth's API.
type apiClient struct {
	b     *testing.B
	url   string
	token string
	http  *http.Client
}

// request sends body as JSON, fails unless the status is want, and decodes
// the response into out unless out is nil.
func (c *apiClient) request(method, path string, body any, want int, out any) {
	c.b.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			c.b.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url+path, reader)
	if err != nil {
		c.b.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		c.b.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.b.Fatalf("%s %s: read the response: %v", method, path, err)
	}

	if resp.StatusCode != want {
		c.b.Fatalf("%s %s returned %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.b.Fatalf("%s %s: decode the response: %v\n%s", method, path, err, data)
		}
	}
}
