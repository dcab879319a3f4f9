// Command hearth is a private AI assistant that several people can share on
// one computer. Run without arguments it opens the desktop window; "hearth
// serve" serves the same interface and HTTP API on a loopback address.
package main

import (
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"gopkg.in/natefinch/lumberjack.v2"

	"hearth/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// frontendDist holds the built user interface. A committed placeholder keeps
// the folder non-empty so that this compiles before the first npm build.
//
//go:embed all:frontend/dist
var frontendDist embed.FS

// DefaultModel is the Ollama model used unless HEARTH_MODEL names another.
const DefaultModel = "llama3.2"

const usage = `Hearth is a private AI assistant for everyone who shares this computer.

Usage:
  hearth [--data DIR] [--start-fresh] open the Hearth window
  hearth serve [--addr ADDR] [--allow-remote] [--data DIR]
                                      serve the same interface and API for a
                                      browser or scripts on ADDR (default
                                      %s); an address that other
                                      computers can reach needs --allow-remote
  hearth version                      print the version

--start-fresh moves a damaged data file aside (to hearth.db.damaged-TIME)
and starts with an empty one; a data file that opens is never moved.
--adopt-install-key makes a new install.key when it was lost and trusts the
existing profiles under it; restoring the lost file is safer.

Environment:
  HEARTH_DATA_DIR   data directory (default: %s)
  OLLAMA_HOST       Ollama server (default: 127.0.0.1:11434)
  HEARTH_MODEL      Ollama model for chats (default: %s)
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hearth:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	command := "desktop"
	if len(args) > 0 && !isFlag(args[0]) {
		command, args = args[0], args[1:]
	}

	switch command {
	case "desktop":
		opts, err := parseConfig("hearth", args, false)
		if err != nil {
			return err
		}
		return runDesktop(opts)
	case "serve":
		opts, err := parseConfig("hearth serve", args, true)
		if err != nil {
			return err
		}
		return runServe(opts)
	case "version":
		fmt.Println("hearth", version)
		return nil
	case "help":
		printUsage(os.Stdout)
		return nil
	}
	printUsage(os.Stderr)
	return fmt.Errorf("unknown command %q: use serve, version or help", command)
}

// config holds the settings shared by the desktop window and hearth serve.
type config struct {
	dataDir     string
	addr        string
	allowRemote bool
	startFresh  bool
	adoptKey    bool
	ollamaURL   string
	model       string
	// desktop is set for the desktop window, whose replies go on when the
	// page stops reading them.
	desktop bool
}

// parseConfig reads flags and environment variables. Flags win over the
// environment.
func parseConfig(name string, args []string, serve bool) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts := config{}
	fs.StringVar(&opts.dataDir, "data", os.Getenv("HEARTH_DATA_DIR"), "data `directory`")
	fs.BoolVar(&opts.startFresh, "start-fresh", false, "if the data file is damaged, move it aside and start with an empty one")
	fs.BoolVar(&opts.adoptKey, "adopt-install-key", false, "if install.key is missing, make a new one and trust the existing profiles under it")
	if serve {
		fs.StringVar(&opts.addr, "addr", defaultServeAddr, "address to listen on, loopback unless --allow-remote")
		fs.BoolVar(&opts.allowRemote, "allow-remote", false, "allow --addr to be an address other computers can reach")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(os.Stdout)
			os.Exit(0)
		}
		return config{}, fmt.Errorf("%v (run hearth help for the usage)", err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (run hearth help for the usage)", fs.Arg(0))
	}
	// An empty --data, as from an unset shell variable, must not fall back to
	// the user's real data directory.
	dataFlagSet := false
	fs.Visit(func(f *flag.Flag) { dataFlagSet = dataFlagSet || f.Name == "data" })
	if dataFlagSet && opts.dataDir == "" {
		return config{}, errors.New("--data is empty: give a directory, or leave the flag out to use the default")
	}

	if opts.dataDir == "" {
		dir, err := defaultDataDir()
		if err != nil {
			return config{}, fmt.Errorf("find the data directory: %w; set HEARTH_DATA_DIR or pass --data DIR", err)
		}
		opts.dataDir = dir
	}
	abs, err := filepath.Abs(opts.dataDir)
	if err != nil {
		return config{}, fmt.Errorf("data directory %q: %w", opts.dataDir, err)
	}
	opts.dataDir = abs

	opts.ollamaURL, err = app.OllamaURLFromEnv(os.Getenv("OLLAMA_HOST"))
	if err != nil {
		return config{}, err
	}
	opts.model = os.Getenv("HEARTH_MODEL")
	if opts.model == "" {
		opts.model = DefaultModel
	}
	return opts, nil
}

// defaultDataDir follows the platform's convention: $XDG_DATA_HOME/hearth
// (or ~/.local/share/hearth) on Linux and the user configuration directory
// elsewhere.
func defaultDataDir() (string, error) {
	if runtime.GOOS == "linux" {
		if xdg := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(xdg) {
			return filepath.Join(xdg, "hearth"), nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, ".local", "share", "hearth"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "Hearth"), nil
}

// openApp starts logging into the data directory and opens Hearth there.
func openApp(opts config, log *slog.Logger) (*app.App, error) {
	model, err := app.NewOllama(opts.ollamaURL, opts.model, nil)
	if err != nil {
		return nil, err
	}
	ui, err := fs.Sub(frontendDist, "frontend/dist")
	if err != nil {
		return nil, err
	}
	return app.Open(app.Config{DataDir: opts.dataDir, Model: model, UI: ui, Version: version, Logger: log, StartFresh: opts.startFresh, AdoptInstallKey: opts.adoptKey, OllamaURL: opts.ollamaURL,
		KeepRepliesOnDisconnect: opts.desktop})
}

// closeApp closes Hearth and, when that succeeds, records the clean close,
// so that the next start can skip reading every page of the data file.
func closeApp(a *app.App, dataDir string, log *slog.Logger) {
	if err := a.Close(); err != nil {
		log.Error("close data file", "err", err)
		return
	}
	if err := app.RecordCleanClose(dataDir); err != nil {
		log.Warn("recording the clean close failed, so the next start reads every page of the data file", "err", err)
	}
}

// releaseStartupPages gives back the pages of code and read-only data that
// package initialisation mapped and that may never run again (see
// app.ReleaseProgramPages). Failing costs only memory.
func releaseStartupPages(log *slog.Logger) {
	if err := app.ReleaseProgramPages(); err != nil {
		log.Info("releasing the program's start-up pages failed, so they stay resident", "err", err)
	}
}

// newLogger logs to stderr and to a rotating file in the data directory.
func newLogger(dataDir string) (*slog.Logger, io.Closer, error) {
	logDir := filepath.Join(dataDir, "logs")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create log directory %s: %w", logDir, err)
	}
	file := &lumberjack.Logger{
		Filename:   filepath.Join(logDir, "hearth.log"),
		MaxSize:    10, // megabytes
		MaxBackups: 3,
	}
	handler := slog.NewMultiHandler(
		slog.NewTextHandler(os.Stderr, nil),
		slog.NewJSONHandler(file, nil),
	)
	return slog.New(handler), file, nil
}

func isFlag(arg string) bool {
	return len(arg) > 0 && arg[0] == '-'
}

func printUsage(w io.Writer) {
	dir, err := defaultDataDir()
	if err != nil {
		dir = "unknown"
	}
	fmt.Fprintf(w, usage, defaultServeAddr, dir, DefaultModel)
}
