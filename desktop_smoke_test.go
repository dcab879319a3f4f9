//go:build smoke

// The desktop smoke test opens the real Hearth window under its own Xvfb and
// checks from the outside that it renders the login screen and that a second
// window on the same data directory exits. It needs Xvfb, xdotool and
// ImageMagick's import (make deps installs them) and a built frontend in
// frontend/dist. Run it with
//
//	make test-desktop
//
// or, to test a binary that is already built,
//
//	HEARTH_DESKTOP_BIN=build/bin/hearth go test -tags smoke -run TestDesktopSmoke -count=1 -v .
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hearth/app/ollamatest"
)

// smokeArtifacts is the folder, relative to the repository root, that keeps
// the screenshot and the logs of the last run.
const smokeArtifacts = "tmp/desktop-smoke"

// readyLine is logged by the binary when the page requests the profile list,
// which the frontend does first thing after it loads.
const readyLine = `route="GET /api/auth/profiles"`

const (
	// windowTimeout bounds the wait for the window to be mapped.
	windowTimeout = 30 * time.Second
	// readyTimeout bounds the wait for readyLine after the window is visible.
	readyTimeout = 30 * time.Second
	// renderTimeout bounds how long screenshots are retaken until the login
	// screen shows, counted from readyLine.
	renderTimeout = 10 * time.Second
	// secondInstanceLimit is the maximum run time of a second window on the
	// same data directory. The data file's one-second lock timeout is part of it.
	// NOTE: with a load average near 6 on two cores the second window ran for
	// 2.1 s, so this check can fail on a machine busy with other work.
	secondInstanceLimit = 2 * time.Second
	// exitTimeout is how long a process that should exit on its own may run
	// before it is killed, so that a slow exit still shows its output.
	exitTimeout = 10 * time.Second
	// stopGrace is how long cleanup waits after SIGTERM before it sends SIGKILL.
	stopGrace = 3 * time.Second
)

// Colors of the theme in frontend/src/styles.css (--background and
// --accent). The login screen fills most of the window with the background
// and draws its primary button in the accent. A blank window, a white page or
// the "interface was not built" page contain neither.
var (
	themeBackground = color.RGBA{R: 0xf6, G: 0xf7, B: 0xf9, A: 0xff}
	themeAccent     = color.RGBA{R: 0x1d, G: 0x5f, B: 0xbf, A: 0xff}
)

// The first-run screen measured 582,287 background and 17,669 accent pixels
// in a 1280×1024 screenshot under Xvfb. The minimums leave room for layout
// changes.
const (
	// minBackgroundPixels is about a tenth of the 1100×760 window.
	minBackgroundPixels = 80_000
	// minAccentPixels is about an eighth of the primary button and its focus ring.
	minAccentPixels = 2_000
	// colorTolerance allows for rounding in the X server's color conversion.
	colorTolerance = 2
)

// TestDesktopSmoke starts one window on a fresh data directory and keeps it
// open while the subtests run in order.
func TestDesktopSmoke(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found in PATH: run make deps to install it", tool)
		}
	}
	artifacts := resetArtifacts(t)
	bin := desktopBinary(t)
	display := startXvfb(t, artifacts)
	fake := ollamatest.NewServer(t)
	dataDir := t.TempDir()

	first := startDesktop(t, bin, desktopEnv(t, display, dataDir, fake.URL()), filepath.Join(artifacts, "hearth.log"))

	t.Run("LoginScreen", func(t *testing.T) {
		shot := filepath.Join(artifacts, "login.png")
		t.Logf("screenshot: %s", shot)
		waitForWindow(t, display, first, shot)

		select {
		case <-first.ready:
		case <-first.exited:
			t.Fatalf("hearth exited before the page loaded: %v; its output (%s):\n%s", first.exitErr, first.logPath, first.output())
		case <-time.After(readyTimeout):
			takeScreenshot(t, display, shot)
			t.Fatalf("the page did not request the profile list within %s: no %s in %s; the screen at that moment is in %s",
				readyTimeout, readyLine, first.logPath, shot)
		}
		waitForLoginScreen(t, display, shot)
	})

	t.Run("SecondInstance", func(t *testing.T) {
		env := desktopEnv(t, display, dataDir, fake.URL())
		output, elapsed, err := runWithLimit(t, bin, env, exitTimeout)
		saveArtifact(t, filepath.Join(artifacts, "second-instance.log"), output)

		if err == nil {
			t.Errorf("second instance exited with status 0, want non-zero; output:\n%s", output)
		}
		if elapsed > secondInstanceLimit {
			t.Errorf("second instance ran for %s, want at most %s; output:\n%s", elapsed.Round(time.Millisecond), secondInstanceLimit, output)
		}
		if want := "Hearth is already running with data directory"; !bytes.Contains(output, []byte(want)) {
			t.Errorf("second instance output does not contain %q:\n%s", want, output)
		}
		select {
		case <-first.exited:
			t.Errorf("first instance exited while the second started: %v; its output (%s):\n%s", first.exitErr, first.logPath, first.output())
		default:
		}
	})

	t.Run("NoDisplay", func(t *testing.T) {
		env := desktopEnv(t, "", t.TempDir(), fake.URL())
		output, _, err := runWithLimit(t, bin, env, exitTimeout)
		saveArtifact(t, filepath.Join(artifacts, "no-display.log"), output)

		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			t.Errorf("hearth without a display returned %v, want a non-zero exit status; output:\n%s", err, output)
		}
		if want := "hearth serve"; !bytes.Contains(output, []byte(want)) {
			t.Errorf("hearth without a display printed no hint to %q:\n%s", want, output)
		}
	})
}

// resetArtifacts empties smokeArtifacts so that no file from an earlier run
// is mistaken for this run's, and returns its absolute path.
func resetArtifacts(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(smokeArtifacts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// saveArtifact writes data to path for a later look at a failed run.
func saveArtifact(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Errorf("save artifact: %v", err)
	}
}

// desktopBinary returns HEARTH_DESKTOP_BIN when it is set, and otherwise
// builds the desktop binary with the release tags into a temporary folder.
func desktopBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("HEARTH_DESKTOP_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(abs); err != nil {
			t.Fatalf("HEARTH_DESKTOP_BIN: %v; run make build first", err)
		}
		return abs
	}

	if _, err := os.Stat(filepath.Join("frontend", "dist", "index.html")); err != nil {
		t.Fatalf("frontend/dist/index.html is missing: run make build, or npm ci && npm run build in frontend/, first")
	}
	bin := filepath.Join(t.TempDir(), "hearth")
	build := exec.Command("go", "build", "-tags", "desktop,production,webkit2_41", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the desktop binary: %v\n%s", err, output)
	}
	return bin
}

// startXvfb starts an X server for this test alone and returns its display
// name, such as ":1". Xvfb picks the display number itself, so two servers
// cannot race for one number. With -displayfd it tries successively higher
// numbers and skips those whose lock file /tmp/.XN-lock or socket
// /tmp/.X11-unix/XN is taken. Once it listens, it writes the number to the
// given file descriptor (Xserver(1)).
func startXvfb(t *testing.T, artifacts string) string {
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
func desktopEnv(t *testing.T, display, dataDir, ollamaURL string) []string {
	t.Helper()
	home := t.TempDir()
	runtimeDir := filepath.Join(home, "runtime")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
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
		"HEARTH_DATA_DIR=" + dataDir,
		"OLLAMA_HOST=" + ollamaURL,
	}
	if display != "" {
		env = append(env, "DISPLAY="+display)
	}
	return env
}

// desktopProcess is a running hearth binary whose standard output and error
// are copied to a log file.
type desktopProcess struct {
	logPath string
	// ready is closed when a line of the log contains readyLine.
	ready chan struct{}
	// exited is closed when the process has exited; exitErr is set before.
	exited  chan struct{}
	exitErr error
}

// startDesktop starts bin in its own process group, so that cleanup also
// stops the WebKit processes it spawns.
func startDesktop(t *testing.T, bin string, env []string, logPath string) *desktopProcess {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	output, outputWriter, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout = outputWriter
	cmd.Stderr = outputWriter
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	outputWriter.Close()

	p := &desktopProcess{logPath: logPath, ready: make(chan struct{}), exited: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		p.copyLog(output, logFile)
		close(copied)
	}()
	go func() {
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		defer output.Close()
		stopProcessGroup(t, cmd.Process.Pid, p.exited)

		// WebKit's processes hold the pipe too, so the copy ends only once
		// all of them are gone. Closing the pipe stops it otherwise.
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
			t.Errorf("output of %s still open 5s after its process group was killed", bin)
			output.Close()
			<-copied
		}
		logFile.Close()
	})
	return p
}

// copyLog writes each line of output to logFile and closes p.ready at the
// first line that contains readyLine.
func (p *desktopProcess) copyLog(output, logFile *os.File) {
	scanner := bufio.NewScanner(output)
	seen := false
	for scanner.Scan() {
		line := scanner.Text()
		fmt.Fprintln(logFile, line)
		if !seen && strings.Contains(line, readyLine) {
			seen = true
			close(p.ready)
		}
	}
}

// output returns what the process has written so far, for failure messages.
func (p *desktopProcess) output() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	return string(data)
}

// waitForWindow waits until the X server shows a window titled Hearth. When
// none shows, it saves a screenshot to shot before failing.
func waitForWindow(t *testing.T, display string, p *desktopProcess, shot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), windowTimeout)
	defer cancel()

	search := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^Hearth$")
	search.Env = append(os.Environ(), "DISPLAY="+display)
	found := make(chan error, 1)
	go func() {
		_, err := search.Output()
		found <- err
	}()

	select {
	case err := <-found:
		if ctx.Err() != nil {
			takeScreenshot(t, display, shot)
			t.Fatalf("no visible window titled Hearth within %s; the screen is in %s; hearth's output (%s):\n%s", windowTimeout, shot, p.logPath, p.output())
		}
		if err != nil {
			t.Fatalf("xdotool search: %v", err)
		}
	case <-p.exited:
		t.Fatalf("hearth exited before its window showed: %v; its output (%s):\n%s", p.exitErr, p.logPath, p.output())
	}
}

// waitForLoginScreen takes screenshots of the whole screen into path until
// one shows the login screen or renderTimeout passes. The last screenshot
// stays in path either way.
func waitForLoginScreen(t *testing.T, display, path string) {
	t.Helper()
	deadline := time.Now().Add(renderTimeout)
	for {
		// Rendering the response to the profile list takes a few frames.
		time.Sleep(500 * time.Millisecond)

		takeScreenshot(t, display, path)
		background, accent, err := countThemePixels(path)
		if err != nil {
			t.Fatalf("read screenshot: %v", err)
		}
		if background >= minBackgroundPixels && accent >= minAccentPixels {
			t.Logf("login screen rendered: %d background and %d accent pixels", background, accent)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window does not show the login screen after %s: %s has %d pixels of the theme background %v (want at least %d) and %d of the accent %v (want at least %d)",
				renderTimeout, path, background, themeBackground, minBackgroundPixels, accent, themeAccent, minAccentPixels)
		}
	}
}

// takeScreenshot saves the whole screen of display as a PNG file at path.
func takeScreenshot(t *testing.T, display, path string) {
	t.Helper()
	shot := exec.Command("import", "-window", "root", path)
	shot.Env = append(os.Environ(), "DISPLAY="+display)
	if output, err := shot.CombinedOutput(); err != nil {
		t.Fatalf("take screenshot: %v\n%s", err, output)
	}
}

// countThemePixels decodes the PNG at path and counts the pixels that match
// themeBackground and themeAccent.
func countThemePixels(path string) (background, accent int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return 0, 0, fmt.Errorf("decode %s: %w", path, err)
	}

	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			switch {
			case closeColor(c, themeBackground):
				background++
			case closeColor(c, themeAccent):
				accent++
			}
		}
	}
	return background, accent, nil
}

func closeColor(a, b color.RGBA) bool {
	return absDiff(a.R, b.R) <= colorTolerance && absDiff(a.G, b.G) <= colorTolerance && absDiff(a.B, b.B) <= colorTolerance
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// runWithLimit runs bin to completion and returns its combined output, how
// long it ran and the error from Wait. A process still running after limit is
// killed with its process group, and its output is returned all the same.
func runWithLimit(t *testing.T, bin string, env []string, limit time.Duration) ([]byte, time.Duration, error) {
	t.Helper()
	var output bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout = &output
	cmd.Stderr = &output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Without this, Wait would also wait for WebKit processes that inherited
	// the output pipe.
	cmd.WaitDelay = time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { stopProcessGroup(t, cmd.Process.Pid, exited) })

	select {
	case <-exited:
	case <-time.After(limit):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	return output.Bytes(), time.Since(start), waitErr
}

// stopProcessGroup stops the process group led by pid and waits until its
// leader is reaped (exited is closed then) and the other members, such as
// WebKit's helper processes, are gone. SIGTERM comes first so that Xvfb
// removes its lock file and socket. Whatever is left after stopGrace gets
// SIGKILL.
func stopProcessGroup(t *testing.T, pid int, exited <-chan struct{}) {
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
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var members []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses and may
		// contain spaces, are: state, ppid, pgrp.
		end := bytes.LastIndexByte(stat, ')')
		if end < 0 {
			continue
		}
		fields := strings.Fields(string(stat[end+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		if group, err := strconv.Atoi(fields[2]); err == nil && group == pgid {
			members = append(members, pid)
		}
	}
	return members
}
