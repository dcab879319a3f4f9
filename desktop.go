package main

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"hearth/app"
)

//go:embed build/appicon.png
var appIcon []byte

// errNoDisplay is returned when the window cannot open because there is no
// graphical session.
var errNoDisplay = errors.New("no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the Hearth window cannot open; " +
	"run `hearth serve` and open http://" + defaultServeAddr + " in a browser instead")

// startupWait bounds how long a request from the window waits for the data
// file to open before it is answered with an error.
const startupWait = 10 * time.Second

// firstScreenEvent is the Wails event that the page emits once, from the
// animation frame after its first screen has rendered with its data. Its twin
// is firstScreenEvent in frontend/src/firstScreen.ts.
const firstScreenEvent = "hearth:first-screen"

// runDesktop opens the Hearth window. The window serves the same handler as
// hearth serve, in-process through Wails' asset server, so no port is
// opened.
//
// The data file is opened in OnStartup rather than before wails.Run: Wails
// checks its single-instance lock only inside Run, and a second launch must
// reach that check to bring the first window forward instead of failing on
// the data file's lock. The window starts hidden and is shown once the page
// has loaded.
func runDesktop(opts config) error {
	opts.desktop = true
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errNoDisplay
	}
	log, logFile, err := newLogger(opts.dataDir)
	if err != nil {
		return err
	}
	defer logFile.Close()
	releaseStartupPages(log)

	handler := newStartupHandler()
	saver := newFileSaver(log)
	var opened *app.App
	var windowCtx context.Context

	err = wails.Run(&options.App{
		Title:            "Hearth",
		Width:            1100,
		Height:           760,
		MinWidth:         640,
		MinHeight:        480,
		StartHidden:      true,
		BackgroundColour: &options.RGBA{R: 250, G: 248, B: 245, A: 255},
		AssetServer:      &assetserver.Options{Handler: handler},
		LogLevel:         logger.WARNING,
		// The page saves exports through FileSaver's native save dialog.
		Bind: []interface{}{saver},
		OnStartup: func(ctx context.Context) {
			windowCtx = ctx
			saver.start(ctx)
			// The page can show its first screen only once openApp below
			// has opened the data file, so the listener is registered
			// before the event can come.
			wailsruntime.EventsOnce(ctx, firstScreenEvent, func(...interface{}) {
				log.Info("first screen shown", "sinceStartMs", sinceProcessStart().Milliseconds())
			})
			a, err := openApp(opts, log)
			var damaged *app.DamagedFileError
			if errors.As(err, &damaged) && askStartFresh(ctx, damaged) {
				opts.startFresh = true
				a, err = openApp(opts, log)
			}
			if err != nil {
				// Nothing is open yet, so exiting here loses nothing. Quitting
				// through Wails is not safe before its main loop runs.
				fmt.Fprintln(os.Stderr, "hearth:", err)
				log.Error("start failed", "err", err)
				os.Exit(1)
			}
			opened = a
			handler.ready(a.Handler())
			log.Info("window opened", "data", opts.dataDir, "backend", app.RedactURL(opts.ollamaURL), "model", opts.model)
		},
		// The window is shown once the page has loaded, which needs the data
		// file. Showing it from OnStartup instead races with the hide that
		// StartHidden queues on the main thread, and the hide can win.
		OnDomReady: func(ctx context.Context) {
			wailsruntime.WindowShow(ctx)
		},
		OnShutdown: func(ctx context.Context) {
			if opened != nil {
				closeApp(opened, opts.dataDir, log)
			}
		},
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: singleInstanceID(opts.dataDir),
			OnSecondInstanceLaunch: func(options.SecondInstanceData) {
				if windowCtx != nil {
					wailsruntime.WindowUnminimise(windowCtx)
					wailsruntime.WindowShow(windowCtx)
				}
			},
		},
		Linux: &linux.Options{
			Icon:        appIcon,
			ProgramName: "hearth",
			// Wails turns WebKitGTK's hardware acceleration on whenever
			// Linux options are given. A chat page has no 3D or WebGL
			// content to gain from it. Without a GPU it runs on software
			// OpenGL, which on 2026-12-05 cost 95 MiB in the web process
			// and 135 ms of start under Xvfb (docs/BENCHMARKS.md). Never
			// is also Wails' default when no Linux options are given.
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
	if err != nil {
		return fmt.Errorf("run window: %w", err)
	}
	return nil
}

// askStartFresh asks whether to move a damaged data file aside and start
// with an empty one.
func askStartFresh(ctx context.Context, damaged *app.DamagedFileError) bool {
	const startFresh, quit = "Start fresh", "Quit"
	answer, err := wailsruntime.MessageDialog(ctx, wailsruntime.MessageDialogOptions{
		Type:  wailsruntime.QuestionDialog,
		Title: "Hearth's data file is damaged",
		Message: fmt.Sprintf("Hearth cannot read %s (%v).\n\nStart fresh moves the file aside, keeping it for recovery, "+
			"and starts with no profiles. Quit leaves everything as it is, so that you can restore a backup.", damaged.Path, damaged.Err),
		Buttons:       []string{startFresh, quit},
		DefaultButton: quit,
		CancelButton:  quit,
	})
	return err == nil && answer == startFresh
}

// singleInstanceID names the single-instance lock after the data directory,
// so that two windows on two data directories can run side by side.
func singleInstanceID(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return "hearth-" + hex.EncodeToString(sum[:8])
}

// startupHandler holds requests from the window until the data file is open,
// then passes them to Hearth's handler.
type startupHandler struct {
	once    sync.Once
	opened  chan struct{}
	handler http.Handler
}

func newStartupHandler() *startupHandler {
	return &startupHandler{opened: make(chan struct{})}
}

func (h *startupHandler) ready(handler http.Handler) {
	h.once.Do(func() {
		h.handler = handler
		close(h.opened)
	})
}

func (h *startupHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.opened:
		h.handler.ServeHTTP(w, r)
	case <-time.After(startupWait):
		http.Error(w, "Hearth is still opening its data file. Reload the window in a moment.", http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}
