// Package app wires Hearth together: it opens the data file, builds the
// agent, and serves the HTTP API and the user interface that both the
// desktop window and `hearth serve` use.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"hearth/auth"
	"hearth/memory"
)

// DataFileName is the name of the bbolt file inside the data directory.
const DataFileName = "hearth.db"

// lockTimeout is how long Open waits for another process to release the
// data file before giving up.
const lockTimeout = 750 * time.Millisecond

// closeTimeout bounds how long Close waits for running replies to be stored.
const closeTimeout = 5 * time.Second

// ErrAlreadyRunning is returned by Open when another Hearth process holds
// the data file.
var ErrAlreadyRunning = errors.New("Hearth is already running")

// Config is what Open needs to start Hearth.
type Config struct {
	// DataDir is the directory that holds the data file. It is created if
	// missing.
	DataDir string
	// Model answers the chats.
	Model Model
	// UI is the built frontend, with index.html at its root. When it has no
	// index.html, the UI routes serve a page saying how to build it.
	UI fs.FS
	// Version is reported by the health route.
	Version string
	// Logger receives operational logs; nil means slog.Default().
	Logger *slog.Logger
}

// App is a running Hearth: its data file, its stores and its HTTP handler.
type App struct {
	db          *bbolt.DB
	profiles    *auth.Store
	memory      *memory.Store
	agent       *Agent
	model       Model
	generations *generations
	version     string
	log         *slog.Logger
	handler     http.Handler
}

// Open opens the data file in cfg.DataDir and returns a ready App. If another
// process holds the file, Open returns an error wrapping ErrAlreadyRunning
// after lockTimeout instead of waiting.
func Open(cfg Config) (*App, error) {
	if cfg.Model == nil {
		return nil, errors.New("open app: no model backend configured")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}

	db, err := openDB(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	profiles, err := auth.Open(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	store, err := memory.Open(db)
	if err != nil {
		db.Close()
		return nil, err
	}

	a := &App{
		db:          db,
		profiles:    profiles,
		memory:      store,
		agent:       NewAgent(store, cfg.Model),
		model:       cfg.Model,
		generations: newGenerations(),
		version:     cfg.Version,
		log:         log,
	}
	a.handler = a.routes(cfg.UI)
	return a, nil
}

// Handler returns the HTTP handler serving the API under /api/ and the user
// interface everywhere else.
func (a *App) Handler() http.Handler {
	return a.handler
}

// StopReplies cancels every reply being written and waits until each has
// been stored as incomplete, or until ctx ends.
func (a *App) StopReplies(ctx context.Context) {
	a.generations.stopAll(ctx)
}

// Close stops running replies, giving them up to closeTimeout to be stored,
// and closes the data file.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	a.StopReplies(ctx)
	return a.db.Close()
}

// openDB opens or creates the data file in dir.
func openDB(dir string) (*bbolt.DB, error) {
	if dir == "" {
		return nil, errors.New("open data file: no data directory set")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, DataFileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w with data directory %s: use that window or stop `hearth serve`, or start this one with another --data directory", ErrAlreadyRunning, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("open data file %s: %w", path, err)
	}
	return db, nil
}
