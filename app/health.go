package app

import (
	"context"
	"net/http"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// How the health route checks the default backend: each check waits at
// most healthProbeTimeout, and its result is reused for healthProbeTTL, so
// that frequent health checks do not flood the model server.
const (
	healthProbeTimeout = 2 * time.Second
	healthProbeTTL     = 10 * time.Second
)

// healthView is the response of GET /api/health. It holds nothing secret:
// the backend URL is shown without credentials, and no profile is named.
type healthView struct {
	Status  string        `json:"status"`
	Version string        `json:"version"`
	Storage storageHealth `json:"storage"`
	Backend backendHealth `json:"backend"`
}

type storageHealth struct {
	// Status is "ok" when a read of the data file succeeds.
	Status    string `json:"status"`
	SizeBytes int64  `json:"sizeBytes"`
}

type backendHealth struct {
	BackendInfo
	// Status is "ok" when the backend listed its models, and otherwise
	// the backend error code, such as backend_unreachable.
	Status    string    `json:"status"`
	CheckedAt time.Time `json:"checkedAt"`
}

// backendProbe remembers the last check of the default backend.
type backendProbe struct {
	mu   sync.Mutex
	last backendHealth
}

// check returns the backend's status, checking it again when the last
// check is older than healthProbeTTL. Concurrent callers share one check.
func (p *backendProbe) check(ctx context.Context, m Model) backendHealth {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.CheckedAt.IsZero() && time.Since(p.last.CheckedAt) < healthProbeTTL {
		return p.last
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healthProbeTimeout)
	defer cancel()
	h := backendHealth{BackendInfo: m.Describe(), Status: "ok", CheckedAt: time.Now().UTC()}
	h.URL = redactURL(h.URL)
	if _, err := m.Models(ctx); err != nil {
		code, _ := backendMessage(err)
		h.Status = code
	}
	p.last = h
	return h
}

// handleHealth serves GET /api/health: the version, whether the data file
// can be read and whether the default model backend responds. A backend
// that is down makes the status "degraded", because Hearth still serves
// everything stored.
func (a *App) handleHealth(w http.ResponseWriter, r *http.Request) error {
	view := healthView{Status: "ok", Version: a.version, Storage: storageHealth{Status: "ok"}}
	status := http.StatusOK
	err := a.db.View(func(tx *bbolt.Tx) error {
		view.Storage.SizeBytes = tx.Size()
		return nil
	})
	if err != nil {
		a.log.Error("health check could not read the data file", "err", err)
		view.Status, view.Storage.Status, status = "error", "unavailable", http.StatusServiceUnavailable
	}
	view.Backend = a.probe.check(r.Context(), a.model)
	if view.Backend.Status != "ok" && view.Status == "ok" {
		view.Status = "degraded"
	}
	writeJSON(w, status, view)
	return nil
}
