//go:build smoke

// The desktop smoke test opens the real Hearth window under its own Xvfb,
// with the fake Ollama of app/ollamatest as its model server, and checks from
// the outside that it renders the login screen. Then it drives the window
// with xdotool's keyboard input to create the first profile, sign in, send a
// message, see the reply stream in, and export the chat through the native
// save dialog. It also checks that a second window on the same data directory
// exits. It needs Xvfb, xdotool and ImageMagick's import (make deps installs
// them) and a built frontend in frontend/dist. Run it with
//
//	make test-desktop
//
// or, to test a binary that is already built,
//
//	HEARTH_DESKTOP_BIN=build/bin/hearth go test -tags smoke -run TestDesktopSmoke -count=1 -v .
//
// Screenshots and logs go to tmp/desktop-smoke/. With HEARTH_SCREENSHOTS=1
// the test also copies the chat screen to docs/screenshots/desktop-chat.png.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

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

	// window is the X window id of the first window, once it shows the login screen.
	var window string
	// chatted is set once the Chat subtest has sent a message and seen the reply.
	chatted := false
	t.Run("LoginScreen", func(t *testing.T) {
		shot := filepath.Join(artifacts, "login.png")
		t.Logf("screenshot: %s", shot)
		id := waitForWindow(t, display, first, shot)

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
		window = id
	})

	t.Run("Chat", func(t *testing.T) {
		if window == "" {
			t.Skip("the login screen did not show")
		}
		d := &windowDriver{t: t, display: display, window: window, process: first, artifacts: artifacts}
		testChat(t, d, fake)
		chatted = true
	})

	t.Run("ExportDialog", func(t *testing.T) {
		if !chatted {
			t.Skip("the chat did not complete")
		}
		d := &windowDriver{t: t, display: display, window: window, process: first, artifacts: artifacts}
		testExportDialog(t, d)
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

// The profile that the Chat subtest creates, and the message it sends.
const (
	chatProfileName = "Ada"
	chatPassword    = "correct horse battery staple"
	chatMessage     = "Hello from the desktop smoke test"
)

// chatReplyChunks is the reply that the fake Ollama streams, one chunk per
// line. The stream is held after chatHoldAfter lines, which end with a
// complete code block, so that a screenshot shows the start of the reply
// while the rest has not arrived.
var chatReplyChunks = []string{
	"Here is a reply streamed from the fake Ollama server, a few lines at a time.\n\n",
	"```go\n",
	"fmt.Println(\"Hello from Hearth\")\n",
	"```\n\n",
	"The code block above was on screen before the rest of this reply arrived. ",
	"Hearth stores the reply when the stream ends and writes the thread's title from it.\n\n",
	"- Markdown renders while the reply streams\n",
	"- The title comes from the stored messages\n",
}

const chatHoldAfter = 4

// chatTitle is the fake Ollama's reply to the title request.
const chatTitle = "Greeting from the smoke test"

// stepTimeout bounds each wait of the Chat subtest for a log line, a
// request to the fake Ollama or a screen.
const stepTimeout = 15 * time.Second

// Layout of the workspace in frontend/src/styles.css, in pixels of the
// window: the header above, the 16rem sidebar on the left, and the message
// field at the bottom of the chat column. The heights are rounded up from a
// 1100×760 window.
const (
	headerHeight   = 56
	sidebarWidth   = 256
	composerHeight = 140
)

// More colours of the light theme, from frontend/src/styles.css (--user-bubble
// and the background of .warning) and frontend/src/markdown.css
// (--code-header-background).
var (
	userBubbleColor        = color.RGBA{R: 0xe8, G: 0xf0, B: 0xfc, A: 0xff}
	warningBackgroundColor = color.RGBA{R: 0xff, G: 0xf8, B: 0xe5, A: 0xff}
	codeHeaderColor        = color.RGBA{R: 0xea, G: 0xee, B: 0xf2, A: 0xff}
)

// Minimum pixel counts of the Chat subtest's screen checks. Each is well
// below what the element measured under Xvfb, and above what the screen
// shows without it.
const (
	// minWarningPixels is part of the recovery key's warning box (about 380×160).
	minWarningPixels = 5_000
	// minNewChatPixels is part of the New chat button (about 220×40).
	minNewChatPixels = 4_000
	// minFocusRingPixels is part of a 3-pixel focus outline around a button.
	minFocusRingPixels = 300
	// minComposerRingPixels is part of the focus outline around the message field.
	minComposerRingPixels = 1_000
	// minBubblePixels is part of the bubble of a one-line user message.
	minBubblePixels = 2_000
	// minCodeHeaderPixels is part of a code block's header bar.
	minCodeHeaderPixels = 2_000
	// minNewTextPixels is part of the dark text pixels that the rest of the
	// reply adds after the held part: a paragraph, a list and the Regenerate
	// button. They measured 2,925 under Xvfb, and a paragraph alone about 1,200.
	minNewTextPixels = 1_800
	// minTitleChangePixels is part of the dark text pixels by which the
	// thread's title changes in the sidebar.
	minTitleChangePixels = 100
	// minChatBackgroundPixels is about a fifth of the chat column.
	minChatBackgroundPixels = 50_000
)

// maxTabs bounds the Tab presses that look for the New chat button.
const maxTabs = 25

// testChat drives the window from outside as a user would with the keyboard:
// it creates the first profile, signs in, starts a chat, sends a message and
// checks that the reply streams in, is stored and shows. It checks each step
// in hearth's request log and in screenshots of the window, and never reads
// the data file.
func testChat(t *testing.T, d *windowDriver, fake *ollamatest.Server) {
	fake.Enqueue(ollamatest.Reply{Chunks: chatReplyChunks, HoldAfter: chatHoldAfter, DelayMS: 20})
	fake.Enqueue(ollamatest.Reply{Chunks: []string{chatTitle}})
	reply := strings.Join(chatReplyChunks, "")

	// Without a window manager, the X server gives the keyboard to the
	// window under the pointer unless a window is focused explicitly.
	d.xdotool("windowfocus", "--sync", d.window)

	// The first-run form focuses its name field, and Tab moves to the
	// password and its confirmation.
	logged := d.process.lineCount()
	d.xdotool("type", "--delay", "10", chatProfileName)
	d.xdotool("key", "Tab")
	d.xdotool("type", "--delay", "10", chatPassword)
	d.xdotool("key", "Tab")
	d.xdotool("type", "--delay", "10", chatPassword)
	d.xdotool("key", "Return")
	logged = d.process.waitForLog(t, logged, stepTimeout, `route="POST /api/auth/profiles"`, "status=201")

	// The recovery key screen focuses its title. Tab reaches Copy, then the
	// "I have saved my recovery key" box, whose check enables Continue.
	d.waitForScreen("recovery-key", func(img image.Image) error {
		if n := countColor(img, img.Bounds(), warningBackgroundColor); n < minWarningPixels {
			return fmt.Errorf("%d pixels of the warning background %v, want at least %d", n, warningBackgroundColor, minWarningPixels)
		}
		return nil
	})
	d.xdotool("key", "Tab", "Tab", "space")
	d.xdotool("key", "Tab", "Return")
	logged = d.process.waitForLog(t, logged, stepTimeout, `route="POST /api/auth/login"`, "status=200")
	logged = d.process.waitForLog(t, logged, stepTimeout, `route="GET /api/threads"`, "status=200")

	// The workspace opens with no thread, so New chat must be pressed first.
	d.waitForScreen("workspace", func(img image.Image) error {
		if n := countColor(img, sidebarRegion(img), themeAccent); n < minNewChatPixels {
			return fmt.Errorf("%d accent pixels in the sidebar, want at least %d for the New chat button", n, minNewChatPixels)
		}
		return nil
	})
	// The New chat shortcut, which also checks that WebKitGTK passes it to
	// the page.
	d.xdotool("key", "ctrl+shift+o")
	logged = d.process.waitForLog(t, logged, stepTimeout, `route="POST /api/threads"`, "status=201")

	// The message field takes the focus when the chat opens.
	d.waitForScreen("new-chat", func(img image.Image) error {
		if n := countColor(img, composerRegion(img), themeAccent); n < minComposerRingPixels {
			return fmt.Errorf("%d accent pixels around the message field, want at least %d for its focus outline", n, minComposerRingPixels)
		}
		return nil
	})
	d.xdotool("type", "--delay", "10", chatMessage)
	d.xdotool("key", "Return")

	// The fake holds the stream after the code block, so the page shows the
	// start of the reply while the request is still open.
	waitForChatRequests(t, fake, 1)
	heldScreen := d.waitForScreen("chat-streaming", func(img image.Image) error {
		messages := messagesRegion(img)
		if n := countColor(img, messages, userBubbleColor); n < minBubblePixels {
			return fmt.Errorf("%d pixels of the user message bubble %v, want at least %d", n, userBubbleColor, minBubblePixels)
		}
		if n := countColor(img, messages, codeHeaderColor); n < minCodeHeaderPixels {
			return fmt.Errorf("%d pixels of the code block header %v, want at least %d for the streamed start of the reply", n, codeHeaderColor, minCodeHeaderPixels)
		}
		return nil
	})
	if d.process.hasLogSince(logged, `route="POST /api/chat"`) {
		t.Fatalf("POST /api/chat ended while the fake Ollama held the reply; the screenshot does not show a reply still streaming")
	}
	heldText := countDark(heldScreen, messagesRegion(heldScreen))
	fake.Release()
	logged = d.process.waitForLog(t, logged, stepTimeout, `route="POST /api/chat"`, "status=200")

	// Hearth writes the title from the stored messages, so the title request
	// that reaches the fake Ollama contains the stored reply.
	titleRequest := waitForChatRequests(t, fake, 2)[1]
	if !chatRequestContains(titleRequest, "assistant: "+strings.TrimSpace(reply)) {
		t.Errorf("the title request does not contain the whole reply, so the reply was not stored as streamed; its messages: %+v", titleRequest.Messages)
	}
	// The page fetches the thread list again until the title shows, which
	// changes the text of the thread's row in the sidebar.
	heldSidebarText := countDark(heldScreen, sidebarRegion(heldScreen))
	final := d.waitForStableScreen("chat", func(img image.Image) error {
		if n := countDark(img, sidebarRegion(img)); abs(n-heldSidebarText) < minTitleChangePixels {
			return fmt.Errorf("%d dark text pixels in the sidebar, and %d while the reply was held: the thread's title has not changed", n, heldSidebarText)
		}
		messages := messagesRegion(img)
		if n := countDark(img, messages); n < heldText+minNewTextPixels {
			return fmt.Errorf("%d dark text pixels in the messages, want at least %d: %d while the reply was held, and %d more for the rest of the reply",
				n, heldText+minNewTextPixels, heldText, minNewTextPixels)
		}
		if n := countColor(img, messages, userBubbleColor); n < minBubblePixels {
			return fmt.Errorf("%d pixels of the user message bubble %v, want at least %d", n, userBubbleColor, minBubblePixels)
		}
		if n := countColor(img, messages, codeHeaderColor); n < minCodeHeaderPixels {
			return fmt.Errorf("%d pixels of the code block header %v, want at least %d", n, codeHeaderColor, minCodeHeaderPixels)
		}
		column := image.Rect(sidebarWidth, headerHeight, img.Bounds().Max.X, img.Bounds().Max.Y)
		if n := countColor(img, column, themeBackground); n < minChatBackgroundPixels {
			return fmt.Errorf("%d pixels of the theme background %v in the chat column, want at least %d", n, themeBackground, minChatBackgroundPixels)
		}
		return nil
	})
	t.Logf("chat screen: %s; dark text pixels in the messages: %d while the reply was held, %d at the end",
		d.screenshotPath("chat"), heldText, countDark(final, messagesRegion(final)))
	publishScreenshot(t, d.screenshotPath("chat"), "desktop-chat.png")
}

// exportDialogTitle is the title of the save dialog that FileSaver opens.
const exportDialogTitle = "Save export"

// testExportDialog exports the chat of testChat as Markdown from the thread's
// menu, and saves it through the native save dialog that the page opens
// through the FileSaver binding. It types the full path of the file into the
// dialog's name field.
func testExportDialog(t *testing.T, d *windowDriver) {
	exported := filepath.Join(t.TempDir(), "exported-chat.md")

	// In the sidebar, Tab goes from New chat to the search field, the
	// thread's row and the thread's menu button. Enter opens the menu on
	// Rename, and Arrow Down moves to Export as Markdown.
	workspace := d.screenshot("export-start")
	newChat := colorBounds(workspace, sidebarRegion(workspace), themeAccent)
	d.tabUntilFocused("New chat button", newChat)
	logged := d.process.lineCount()
	d.xdotool("key", "Tab", "Tab", "Tab", "Return")
	d.xdotool("key", "Down", "Return")
	logged = d.process.waitForLog(t, logged, stepTimeout, `route="GET /api/threads/{threadId}/export"`, "status=200")

	dialog := d.waitForDialog(exportDialogTitle)
	d.xdotool("windowfocus", "--sync", dialog)
	d.xdotool("key", "ctrl+a")
	d.xdotool("type", "--delay", "10", exported)
	// Typing a path can leave GTK's completion of the folder open, which
	// takes the first Enter.
	time.Sleep(300 * time.Millisecond)
	d.screenshotRoot("export-dialog")
	d.xdotool("key", "Return")
	d.process.waitForLog(t, logged, stepTimeout, `msg="export saved"`)

	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{chatMessage, "The code block above was on screen"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the exported file %s does not contain %q:\n%s", exported, want, data)
		}
	}
	info, err := os.Stat(exported)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("the exported file has mode %v, want -rw-------", mode)
	}
}

// waitForChatRequests waits until the fake Ollama has received at least n
// chat requests, and returns them.
func waitForChatRequests(t *testing.T, fake *ollamatest.Server, n int) []api.ChatRequest {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		requests := fake.ChatRequests()
		if len(requests) >= n {
			return requests
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fake Ollama received %d chat requests within %s, want %d", len(requests), stepTimeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func chatRequestContains(req api.ChatRequest, text string) bool {
	for _, m := range req.Messages {
		if strings.Contains(m.Content, text) {
			return true
		}
	}
	return false
}

// publishScreenshot copies the screenshot at path to docs/screenshots/name
// when HEARTH_SCREENSHOTS is 1, so that an ordinary run leaves the
// repository as it was.
func publishScreenshot(t *testing.T, path, name string) {
	t.Helper()
	if os.Getenv("HEARTH_SCREENSHOTS") != "1" {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, name)
	if err := os.WriteFile(target, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("copied the screenshot to %s", target)
}

// windowDriver types into one window of an X display and takes screenshots
// of it into the artifacts folder.
type windowDriver struct {
	t         *testing.T
	display   string
	window    string
	process   *desktopProcess
	artifacts string
}

// xdotool runs xdotool with args on the driver's display.
func (d *windowDriver) xdotool(args ...string) {
	d.t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+d.display)
	if output, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, output)
	}
}

// waitForDialog waits until the display shows a window titled title and
// returns its X window id.
func (d *windowDriver) waitForDialog(title string) string {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	search := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^"+title+"$")
	search.Env = append(os.Environ(), "DISPLAY="+d.display)
	output, err := search.Output()
	if err != nil {
		d.screenshotRoot("no-dialog")
		d.t.Fatalf("no window titled %q within %s (%v); the screen is in %s", title, stepTimeout, err, d.screenshotPath("no-dialog"))
	}
	ids := strings.Fields(string(output))
	if len(ids) == 0 {
		d.t.Fatalf("xdotool search found no window titled %q", title)
	}
	return ids[0]
}

// screenshotRoot saves the whole screen as name.png in the artifacts
// folder, for a look at windows other than the driver's.
func (d *windowDriver) screenshotRoot(name string) {
	d.t.Helper()
	takeScreenshot(d.t, d.display, d.screenshotPath(name))
}

func (d *windowDriver) screenshotPath(name string) string {
	return filepath.Join(d.artifacts, name+".png")
}

// screenshot saves the window's content as name.png in the artifacts
// folder and returns it decoded.
func (d *windowDriver) screenshot(name string) image.Image {
	d.t.Helper()
	path := d.screenshotPath(name)
	cmd := exec.Command("import", "-window", d.window, path)
	cmd.Env = append(os.Environ(), "DISPLAY="+d.display)
	if output, err := cmd.CombinedOutput(); err != nil {
		d.t.Fatalf("take screenshot of window %s: %v\n%s", d.window, err, output)
	}
	img, err := decodePNG(path)
	if err != nil {
		d.t.Fatal(err)
	}
	return img
}

// waitForScreen takes screenshots of the window into name.png until check
// returns nil for one, and returns that one. It fails after stepTimeout with
// check's last error. The last screenshot stays in name.png either way.
func (d *windowDriver) waitForScreen(name string, check func(image.Image) error) image.Image {
	d.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		img := d.screenshot(name)
		err := check(img)
		if err == nil {
			return img
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the window does not show the %s screen after %s: %v; see %s and %s", name, stepTimeout, err, d.screenshotPath(name), d.process.logPath)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitForStableScreen is waitForScreen, but it returns only a screenshot
// that passes check and whose region above the message field is the same
// as in the screenshot before it, so that the page has finished drawing.
// The message field is left out because its caret blinks.
func (d *windowDriver) waitForStableScreen(name string, check func(image.Image) error) image.Image {
	d.t.Helper()
	var previous image.Image
	return d.waitForScreen(name, func(img image.Image) error {
		if err := check(img); err != nil {
			previous = nil
			return err
		}
		last := previous
		previous = img
		b := img.Bounds()
		if last == nil || !sameRegion(last, img, image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Max.Y-composerHeight)) {
			return errors.New("the window was still changing")
		}
		return nil
	})
}

// tabUntilFocused presses Tab until the focus outline shows around the
// element whose box on screen is box, found by its fill colour. Every
// focusable element of the page has a 3-pixel accent outline 2 pixels
// outside its box when the keyboard focuses it (:focus-visible in
// frontend/src/styles.css). Counting the Tab presses instead would break
// whenever a control is added before the element.
func (d *windowDriver) tabUntilFocused(name string, box image.Rectangle) {
	d.t.Helper()
	outline := box.Inset(-7)
	// The element may have the focus already, as New chat does after a
	// sign-in to a profile without chats, so the first look comes before
	// any Tab.
	for presses := 0; presses <= maxTabs; presses++ {
		if presses > 0 {
			d.xdotool("key", "Tab")
		}
		// A screenshot right after the key press can miss the next frame.
		time.Sleep(100 * time.Millisecond)
		img := d.screenshot("focus")
		ring := countColor(img, outline, themeAccent) - countColor(img, box.Inset(-1), themeAccent)
		if ring >= minFocusRingPixels {
			return
		}
	}
	d.t.Fatalf("no focus outline around the %s at %v after %d presses of Tab; the last screen is in %s", name, box, maxTabs, d.screenshotPath("focus"))
}

// sidebarRegion returns the sidebar below the header.
func sidebarRegion(img image.Image) image.Rectangle {
	b := img.Bounds()
	return image.Rect(b.Min.X, b.Min.Y+headerHeight, b.Min.X+sidebarWidth, b.Max.Y)
}

// messagesRegion returns the chat column between the header and the message field.
func messagesRegion(img image.Image) image.Rectangle {
	b := img.Bounds()
	return image.Rect(b.Min.X+sidebarWidth, b.Min.Y+headerHeight, b.Max.X, b.Max.Y-composerHeight)
}

// composerRegion returns the bottom of the chat column, where the message field is.
func composerRegion(img image.Image) image.Rectangle {
	b := img.Bounds()
	return image.Rect(b.Min.X+sidebarWidth, b.Max.Y-composerHeight, b.Max.X, b.Max.Y)
}

// countColor returns the number of pixels of img within r that are within
// colorTolerance of c.
func countColor(img image.Image, r image.Rectangle, c color.RGBA) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if closeColor(rgbaAt(img, x, y), c) {
				n++
			}
		}
	}
	return n
}

// countDark returns the number of pixels of img within r dark enough to be
// part of text in the light theme (--text is #1f2328): every channel below 0x60.
func countDark(img image.Image, r image.Rectangle) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := rgbaAt(img, x, y)
			if p.R < 0x60 && p.G < 0x60 && p.B < 0x60 {
				n++
			}
		}
	}
	return n
}

// colorBounds returns the smallest rectangle that holds every pixel of img
// within r that is within colorTolerance of c.
func colorBounds(img image.Image, r image.Rectangle, c color.RGBA) image.Rectangle {
	var bounds image.Rectangle
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if closeColor(rgbaAt(img, x, y), c) {
				bounds = bounds.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return bounds
}

// sameRegion reports whether a and b have the same pixels within r.
func sameRegion(a, b image.Image, r image.Rectangle) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r = r.Intersect(a.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgbaAt(a, x, y) != rgbaAt(b, x, y) {
				return false
			}
		}
	}
	return true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func rgbaAt(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

func decodePNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
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

// desktopProcess is a running hearth binary whose standard output and error
// are copied to a log file.
type desktopProcess struct {
	logPath string
	// ready is closed when a line of the log contains readyLine.
	ready chan struct{}
	// exited is closed when the process has exited; exitErr is set before.
	exited  chan struct{}
	exitErr error

	mu sync.Mutex
	// lines holds every line of the output so far, for waitForLog.
	lines []string
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
		p.mu.Lock()
		p.lines = append(p.lines, line)
		p.mu.Unlock()
		if !seen && strings.Contains(line, readyLine) {
			seen = true
			close(p.ready)
		}
	}
}

// lineCount returns the number of lines the process has written so far.
func (p *desktopProcess) lineCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// waitForLog waits until a line after the first from lines contains every
// one of parts, and returns the number of lines up to and including it. It
// fails after timeout or when the process exits.
func (p *desktopProcess) waitForLog(t *testing.T, from int, timeout time.Duration, parts ...string) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		lines := p.lines[min(from, len(p.lines)):]
		p.mu.Unlock()
		for i, line := range lines {
			if containsAll(line, parts) {
				return from + i + 1
			}
		}

		select {
		case <-p.exited:
			t.Fatalf("hearth exited while the test waited for a log line with %q: %v; its output (%s):\n%s", parts, p.exitErr, p.logPath, p.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %s; hearth's output is in %s", parts, timeout, p.logPath)
		}
	}
}

// hasLogSince reports whether a line after the first from lines contains
// every one of parts.
func (p *desktopProcess) hasLogSince(from int, parts ...string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range p.lines[min(from, len(p.lines)):] {
		if containsAll(line, parts) {
			return true
		}
	}
	return false
}

func containsAll(s string, parts []string) bool {
	for _, part := range parts {
		if !strings.Contains(s, part) {
			return false
		}
	}
	return true
}

// output returns what the process has written so far, for failure messages.
func (p *desktopProcess) output() string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	return string(data)
}

// waitForWindow waits until the X server shows a window titled Hearth and
// returns its X window id. When none shows, it saves a screenshot to shot
// before failing.
func waitForWindow(t *testing.T, display string, p *desktopProcess, shot string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), windowTimeout)
	defer cancel()

	search := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^Hearth$")
	search.Env = append(os.Environ(), "DISPLAY="+display)
	type result struct {
		output []byte
		err    error
	}
	found := make(chan result, 1)
	go func() {
		output, err := search.Output()
		found <- result{output, err}
	}()

	select {
	case r := <-found:
		if ctx.Err() != nil {
			takeScreenshot(t, display, shot)
			t.Fatalf("no visible window titled Hearth within %s; the screen is in %s; hearth's output (%s):\n%s", windowTimeout, shot, p.logPath, p.output())
		}
		if r.err != nil {
			t.Fatalf("xdotool search: %v", r.err)
		}
		ids := strings.Fields(string(r.output))
		if len(ids) != 1 {
			t.Fatalf("xdotool search found %d visible windows titled Hearth, want 1: %q", len(ids), r.output)
		}
		return ids[0]
	case <-p.exited:
		t.Fatalf("hearth exited before its window showed: %v; its output (%s):\n%s", p.exitErr, p.logPath, p.output())
	}
	return ""
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
