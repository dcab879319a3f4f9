package app

import (
	"context"
	"sync"
)

// generations tracks the replies being written, one per thread at most, so
// that a stop request can cancel them and shutdown or a profile's deletion
// can wait for them to be stored.
type generations struct {
	mu      sync.Mutex
	running map[string]*generation // thread id → reply
	wg      sync.WaitGroup
}

// generation is one reply being written.
type generation struct {
	profileID string
	cancel    context.CancelFunc
	done      chan struct{} // closed when the reply has been stored
}

func newGenerations() *generations {
	return &generations{running: make(map[string]*generation)}
}

// start registers a reply of profileID for threadID. It returns false if one
// is already running there. The caller must call the returned release when
// the reply has been stored.
func (g *generations) start(threadID, profileID string, cancel context.CancelFunc) (release func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, busy := g.running[threadID]; busy {
		return nil, false
	}
	gen := &generation{profileID: profileID, cancel: cancel, done: make(chan struct{})}
	g.running[threadID] = gen
	g.wg.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			delete(g.running, threadID)
			g.mu.Unlock()
			close(gen.done)
			g.wg.Done()
		})
	}, true
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

// stopProfile cancels every reply of profileID and waits until each has
// been stored, or until ctx ends.
func (g *generations) stopProfile(ctx context.Context, profileID string) {
	g.mu.Lock()
	var stopped []*generation
	for _, gen := range g.running {
		if gen.profileID == profileID {
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
