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
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"hearth/auth"
	"hearth/memory"
)

// closeTimeout bounds how long Close waits for running replies to be stored.
const closeTimeout = 5 * time.Second

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
	// StartFresh moves a damaged data file aside and starts with an empty
	// one. A data file that opens is used as it is.
	StartFresh bool
	// AdoptInstallKey makes a new install key when it is missing although
	// profiles exist, and trusts their records under it.
	AdoptInstallKey bool
	// OllamaURL is the Ollama server an Ollama embedder uses when its
	// settings name none, normally the one Model talks to.
	OllamaURL string
	// KeepRepliesOnDisconnect lets a reply go on being written when its
	// client stops reading, as in the desktop window, where the page does
	// so when the user switches threads. Only a stop request or Close ends
	// it then.
	KeepRepliesOnDisconnect bool
	// SkipTitles leaves new threads with the default title instead of
	// asking the model for one after the first reply, for tests that
	// script the model's replies one request at a time.
	SkipTitles bool
	// Recall overrides the defaults of semantic recall, for tests. Its
	// Embedders, DefaultEmbedder and Logger are set by Open.
	Recall memory.RecallConfig
	// Limits bounds each profile's requests; zero fields take the
	// defaults.
	Limits Limits
	// IdleRelease is how long the app waits with no request in progress
	// and no background work before it gives back the data file's mapped
	// pages. Zero means 5 s, and a negative value keeps them mapped.
	IdleRelease time.Duration

	// insecureTestCost opens the profile store with
	// auth.WithInsecureTestCost, so that this package's tests can create
	// many profiles quickly. It is unexported so that nothing outside the
	// package, the hearth command included, can set it.
	insecureTestCost bool
	// clock, when set, is the profile store's clock, for this package's
	// tests of two-step sign-in codes and challenge expiry.
	clock func() time.Time
}

// App is a running Hearth: its data file, its stores and its HTTP handler.
type App struct {
	db        *bbolt.DB
	profiles  *auth.Store
	memory    *memory.Store
	recall    *memory.Recall
	embedders recallEmbedders
	agent     *Agent
	model     Model
	// backendCache holds the backends profiles' settings name.
	backendCache *backendCache
	generations  *generations
	rates        *rateLimits
	probe        backendProbe
	// keepRepliesOnDisconnect and skipTitles: see Config.
	keepRepliesOnDisconnect bool
	skipTitles              bool
	// attemptSlots holds one token per request that checks a password or
	// recovery key; see limitAttempts.
	attemptSlots chan struct{}
	// importSlot holds a token while an import runs; see handleImport.
	importSlot chan struct{}
	attemptLog logLimiter
	version    string
	log        *slog.Logger
	handler    http.Handler
	idle       *idleRelease
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
	var damaged *DamagedFileError
	if errors.As(err, &damaged) && cfg.StartFresh {
		// The file was just found damaged, so it is moved without opening
		// it again: a fault while opening leaves it locked by this process.
		aside, moveErr := moveAside(damaged.Path)
		if moveErr != nil {
			return nil, moveErr
		}
		log.Warn("damaged data file moved aside; starting with an empty one", "movedTo", aside)
		db, err = openDB(cfg.DataDir)
	}
	if err != nil {
		return nil, err
	}
	profiles, err := openProfiles(db, cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	store, err := memory.Open(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	// No reply can be running yet, since the file lock is this process's:
	// a reply still marked streaming was left by a process that died.
	if n, err := store.RecoverInterrupted(context.Background()); err != nil {
		db.Close()
		return nil, err
	} else if n > 0 {
		log.Warn("replies left unfinished by a stopped process are marked interrupted", "replies", n)
	}

	idleDelay := cfg.IdleRelease
	if idleDelay == 0 {
		idleDelay = defaultIdleRelease
	}
	idle := newIdleRelease(idleDelay, func() { memory.ReleasePages(db) })

	embedders := recallEmbedders{ollamaURL: cfg.OllamaURL, logger: log}
	if embedders.ollamaURL == "" {
		embedders.ollamaURL = DefaultOllamaURL
	}
	recallCfg := cfg.Recall
	recallCfg.Embedders, recallCfg.DefaultEmbedder, recallCfg.Logger = embedders.build, builtinSpec, log
	recallCfg.StillUnlocked = func(resourceID string) bool {
		profileID, ok := strings.CutPrefix(resourceID, auth.ResourcePrefix)
		return ok && profiles.IsUnlocked(profileID)
	}
	recallCfg.AfterWork = idle.backgroundWork
	recall, err := memory.NewRecall(store, recallCfg)
	if err != nil {
		db.Close()
		return nil, err
	}

	limits := cfg.Limits.withDefaults()
	agent := NewAgent(store)
	agent.recall, agent.log = recall, log
	a := &App{
		db:                      db,
		profiles:                profiles,
		memory:                  store,
		recall:                  recall,
		embedders:               embedders,
		agent:                   agent,
		model:                   cfg.Model,
		backendCache:            newBackendCache(cfg.Model),
		generations:             newGenerations(limits.ConcurrentReplies),
		rates:                   newRateLimits(limits),
		keepRepliesOnDisconnect: cfg.KeepRepliesOnDisconnect,
		skipTitles:              cfg.SkipTitles,
		attemptSlots:            make(chan struct{}, maxWaitingAttempts),
		importSlot:              make(chan struct{}, 1),
		version:                 cfg.Version,
		log:                     log,
		idle:                    idle,
	}
	profiles.OnLock(a.profileLocked)
	a.handler = idle.track(a.routes(cfg.UI))
	return a, nil
}

// Handler returns the HTTP handler serving the API under /api/ and the user
// interface everywhere else.
func (a *App) Handler() http.Handler {
	return a.handler
}

// openProfiles opens the profile store with the install key. A missing
// install key is made anew on a fresh data file; when profiles exist, their
// records cannot be trusted under a new key, so Open refuses unless the
// person starting Hearth chose to adopt them (cfg.AdoptInstallKey).
func openProfiles(db *bbolt.DB, cfg Config, log *slog.Logger) (*auth.Store, error) {
	path := filepath.Join(cfg.DataDir, InstallKeyFileName)
	installKey, err := readInstallKey(path)
	created := false
	if errors.Is(err, fs.ErrNotExist) {
		exist, existErr := auth.ProfilesExist(db)
		if existErr != nil {
			return nil, existErr
		}
		if exist && !cfg.AdoptInstallKey {
			return nil, fmt.Errorf("%w: %s is missing but %s has profiles; restore it from the same backup as the data file, or start with --adopt-install-key to trust the profiles under a new key (every session ends)", ErrInstallKeyMissing, path, DataFileName)
		}
		installKey, err = createInstallKey(path)
		created = exist
	}
	if err != nil {
		return nil, err
	}

	var opts []auth.Option
	if cfg.insecureTestCost {
		opts = append(opts, auth.WithInsecureTestCost())
	}
	if cfg.clock != nil {
		opts = append(opts, auth.WithClock(cfg.clock))
	}
	profiles, err := auth.Open(db, installKey, opts...)
	if err != nil {
		return nil, err
	}
	if created {
		if err := profiles.AdoptInstallKey(context.Background()); err != nil {
			return nil, fmt.Errorf("adopt the profiles under the new install key: %w", err)
		}
		log.Warn("install key was missing; made a new one and adopted the existing profiles", "path", path)
	}
	if tampered, err := profiles.CountTampered(context.Background()); err != nil {
		return nil, err
	} else if tampered > 0 {
		log.Error("profile records do not match the install key; those profiles cannot sign in until the matching install.key is restored", "profiles", tampered, "path", path)
	}
	return profiles, nil
}

// profileLocked takes what a locked profile's key opened out of memory:
// its recall index, its replies and background jobs, which hold copies of
// the key, and the cached backends, which hold API keys.
func (a *App) profileLocked(profileID string) {
	a.recall.Lock(auth.Profile{ID: profileID}.ResourceID())
	if a.profiles.IsUnlocked(profileID) {
		// A new sign-in replaced the key: the profile is still unlocked,
		// and its replies go on.
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	a.generations.stopProfile(ctx, profileID)
	a.backendCache.dropKeyed()
}

// StopReplies cancels every reply being written and waits until each has
// been stored as incomplete, or until ctx ends.
func (a *App) StopReplies(ctx context.Context) {
	a.generations.stopAll(ctx)
}

// Close stops running replies, giving them up to closeTimeout to be stored,
// saves the recall indexes, locks every profile and closes the data file.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	a.idle.close()
	a.StopReplies(ctx)
	a.recall.Close()
	a.profiles.Close()
	return a.db.Close()
}
