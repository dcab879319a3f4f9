package app

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// DefaultConcurrentReplies is how many replies one profile may have being
// written at once.
const DefaultConcurrentReplies = 2

// Reasons start refuses a reply.
var (
	errThreadBusy     = errors.New("a reply is already being written in this thread")
	errTooManyReplies = errors.New("the profile has as many replies being written as it may")
)

// generations tracks the replies being written, one per thread at most and
// a few per profile, so that a stop request can cancel them and shutdown or
// a profile's deletion can wait for them to be stored. Background jobs of a
// thread, such as writing its title, are tracked under their own keys and
// do not count towards the limit.
type generations struct {
	limit int // replies per profile

	mu      sync.Mutex
	running map[string]*generation // thread id or job key → work
	wg      sync.WaitGroup
}

// generation is one reply or background job being run.
type generation struct {
	profileID string
	job       bool // a background job, not a reply
	cancel    context.CancelFunc
	done      chan struct{} // closed when the work has been stored
}

func newGenerations(limit int) *generations {
	return &generations{limit: limit, running: make(map[string]*generation)}
}

// start registers a reply of profileID for threadID. It returns errThreadBusy
// if one is already running there, and errTooManyReplies if the profile
// has g.limit replies running. The caller must call the returned release
// when the reply has been stored.
func (g *generations) start(threadID, profileID string, cancel context.CancelFunc) (release func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, busy := g.running[threadID]; busy {
		return nil, errThreadBusy
	}
	if g.countLocked(profileID) >= g.limit {
		return nil, errTooManyReplies
	}
	return g.addLocked(threadID, &generation{profileID: profileID, cancel: cancel, done: make(chan struct{})}), nil
}

// full reports whether profileID has as many replies running as it may.
func (g *generations) full(profileID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.countLocked(profileID) >= g.limit
}

// countLocked counts the replies of profileID being written.
func (g *generations) countLocked(profileID string) int {
	count := 0
	for _, gen := range g.running {
		if gen.profileID == profileID && !gen.job {
			count++
		}
	}
	return count
}

// startJob registers a background job of profileID under key, unless one
// runs under it already.
func (g *generations) startJob(key, profileID string, cancel context.CancelFunc) (release func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, busy := g.running[key]; busy {
		return nil, false
	}
	return g.addLocked(key, &generation{profileID: profileID, job: true, cancel: cancel, done: make(chan struct{})}), true
}

// addLocked registers gen under key and returns its release.
func (g *generations) addLocked(key string, gen *generation) func() {
	g.running[key] = gen
	g.wg.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			delete(g.running, key)
			g.mu.Unlock()
			close(gen.done)
			g.wg.Done()
		})
	}
}

// stop cancels the reply running in threadID and reports whether there was
// one.
func (g *generations) stop(threadID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen, ok := g.running[threadID]
	if ok {
		gen.cancel()
	}
	return ok
}

// stopThread cancels the reply and the background jobs of threadID and
// waits until each has been stored, or until ctx ends.
func (g *generations) stopThread(ctx context.Context, threadID string) {
	g.stopWhere(ctx, func(key string, _ *generation) bool {
		return key == threadID || strings.HasSuffix(key, "/"+threadID)
	})
}

// stopProfile cancels every reply of profileID and waits until each has
// been stored, or until ctx ends.
func (g *generations) stopProfile(ctx context.Context, profileID string) {
	g.stopWhere(ctx, func(_ string, gen *generation) bool { return gen.profileID == profileID })
}

// stopWhere cancels the work that match selects and waits until each has
// been stored, or until ctx ends.
func (g *generations) stopWhere(ctx context.Context, match func(key string, gen *generation) bool) {
	g.mu.Lock()
	var stopped []*generation
	for key, gen := range g.running {
		if match(key, gen) {
			gen.cancel()
			stopped = append(stopped, gen)
		}
	}
	g.mu.Unlock()

	for _, gen := range stopped {
		select {
		case <-gen.done:
		case <-ctx.Done():
			return
		}
	}
}

// stopAll cancels every running reply and waits until each has been released
// or ctx ends.
func (g *generations) stopAll(ctx context.Context) {
	g.mu.Lock()
	for _, gen := range g.running {
		gen.cancel()
	}
	g.mu.Unlock()

	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
