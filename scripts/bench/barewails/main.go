// Command bare-wails is the reference window for Hearth's process
// benchmarks (bench_process_test.go in the repository root). It is a Wails
// v2 window with the options that shape Hearth's start: the same size and
// background, started hidden and shown once the page's DOM is ready. It
// shows one static page with a heading and a paragraph, and has no data
// file, no API and no frontend bundle.
//
// The page emits the same event as Hearth's from its first animation frame,
// and the window then prints one line to standard output:
//
//	first screen shown sinceStartMs=N
//
// where N is the milliseconds since package main was initialised. Hearth
// counts from the start of the process instead, which is earlier by the
// work of the dynamic loader and the libraries' constructors. The
// benchmarks time both windows from exec themselves. Build it with Hearth's
// release tags:
//
//	CGO_ENABLED=1 go build -tags desktop,production,webkit2_41 -ldflags "-w -s" -o build/bin/bare-wails ./scripts/bench/barewails
package main

import (
	"context"
	"embed"
	"fmt"
	"os"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// firstScreenEvent is the event that index.html emits. It has the same name
// as Hearth's, firstScreenEvent in desktop.go.
const firstScreenEvent = "hearth:first-screen"

// processStart is the time package main was initialised.
var processStart = time.Now()

//go:embed index.html
var page embed.FS

func main() {
	err := wails.Run(&options.App{
		Title:            "Bare Wails",
		Width:            1100,
		Height:           760,
		MinWidth:         640,
		MinHeight:        480,
		StartHidden:      true,
		BackgroundColour: &options.RGBA{R: 250, G: 248, B: 245, A: 255},
		AssetServer:      &assetserver.Options{Assets: page},
		LogLevel:         logger.WARNING,
		OnStartup: func(ctx context.Context) {
			wailsruntime.EventsOnce(ctx, firstScreenEvent, func(...interface{}) {
				fmt.Printf("first screen shown sinceStartMs=%d\n", time.Since(processStart).Milliseconds())
			})
		},
		OnDomReady: func(ctx context.Context) {
			wailsruntime.WindowShow(ctx)
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare-wails:", err)
		os.Exit(1)
	}
}
