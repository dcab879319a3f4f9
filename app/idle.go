package app

import (
	"net/http"
	"sync"
	"time"
)

// defaultIdleRelease is how long the API waits, with no request in
// progress, before it gives back the pages of the data file that requests
// and background work have mapped. Linux 6.18 maps a file's pages in whole
// cached blocks of up to 2 MiB, so on 2026-12-05 a few requests left 31 MiB
// mapped. The pages stay in the page cache, so the first request after a
// release maps them again without reading the disk.
const defaultIdleRelease = 5 * time.Second

// idleRelease calls release once the API has had no request in progress for
// delay. Each request that starts cancels a pending call, and the last one
// to end schedules the next.
type idleRelease struct {
	delay   time.Duration
	release func()

	mu     sync.Mutex
	active int
	// round counts the requests started. A scheduled call runs only if no
	// request started after the one that scheduled it.
	round  uint64
	timer  *time.Timer
	closed bool
	// releasing is held while release runs, so that close can wait for it.
	releasing sync.Mutex
}

func newIdleRelease(delay time.Duration, release func()) *idleRelease {
	return &idleRelease{delay: delay, release: release}
}

// track wraps next so that its requests count as activity.
func (ir *idleRelease) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ir.begin()
		defer ir.end()
		next.ServeHTTP(w, r)
	})
}

// backgroundWork records work done outside a request, such as recall's
// embedding or a thread's title, so that what it mapped is released too once
// the API is idle.
func (ir *idleRelease) backgroundWork() {
	ir.begin()
	ir.end()
}

func (ir *idleRelease) begin() {
	ir.mu.Lock()
	ir.active++
	ir.round++
	if ir.timer != nil {
		ir.timer.Stop()
		ir.timer = nil
	}
	ir.mu.Unlock()
}

func (ir *idleRelease) end() {
	ir.mu.Lock()
	defer ir.mu.Unlock()
	ir.active--
	if ir.active > 0 || ir.closed || ir.delay < 0 {
		return
	}
	round := ir.round
	ir.timer = time.AfterFunc(ir.delay, func() { ir.fire(round) })
}

// fire calls release if the API is still idle since the round that
// scheduled it. A request that starts during the release is not held up:
// it maps again what it reads.
func (ir *idleRelease) fire(round uint64) {
	ir.releasing.Lock()
	defer ir.releasing.Unlock()
	ir.mu.Lock()
	idle := !ir.closed && ir.active == 0 && ir.round == round
	ir.mu.Unlock()
	if idle {
		ir.release()
	}
}

// close cancels a pending release and waits for one in progress.
func (ir *idleRelease) close() {
	ir.mu.Lock()
	ir.closed = true
	if ir.timer != nil {
		ir.timer.Stop()
		ir.timer = nil
	}
	ir.mu.Unlock()
	ir.releasing.Lock()
	defer ir.releasing.Unlock()
}
