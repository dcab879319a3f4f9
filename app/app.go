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
	"hearth/seal"
)

// Names of the files inside the data directory.
const (
	// DataFileName is the bbolt file with every profile's data.
	DataFileName = "hearth.db"
	// InstallKeyFileName holds the key that seals the token signing keys. It
	// is apart from the data file so that a copy of that file alone cannot
	// forge tokens.
	InstallKeyFileName = "install.key"
)

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
	installKey, err := loadInstallKey(cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, err
	}
	profiles, err := auth.Open(db, installKey)
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
// locks every profile and closes the data file.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	a.StopReplies(ctx)
	a.profiles.Close()
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

// loadInstallKey reads the install key from dir, creating it on first start.
func loadInstallKey(dir string) (*seal.Key, error) {
	path := filepath.Join(dir, InstallKeyFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createInstallKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read install key %s: %w", path, err)
	}
	defer clear(b)
	key, err := seal.KeyFrom(b)
	if err != nil {
		return nil, fmt.Errorf("install key %s has %d bytes, want %d: restore it from a backup, or delete it to make a new one (everyone then signs in again)", path, len(b), seal.KeySize)
	}
	return key, nil
}

// createInstallKey writes a new random key to path, readable by the owner
// only. It writes a temporary file and renames it, so a crash never leaves a
// short key behind.
func createInstallKey(path string) (*seal.Key, error) {
	key := seal.NewKey()
	b := key.Bytes()
	defer clear(b)

	tmp, err := os.CreateTemp(filepath.Dir(path), ".install.key-*")
	if err != nil {
		return nil, fmt.Errorf("create install key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create install key: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write install key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write install key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write install key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("save install key %s: %w", path, err)
	}
	return key, nil
}
