package app

import (
	"context"
	"sync"
)

// generations tracks the replies being written, one per thread at most, so
// that a stop request can cancel them and shutdown can wait for them to be
// stored.
type generations struct {
	mu      sync.Mutex
	running map[string]context.CancelFunc // thread id → cancel
	wg      sync.WaitGroup
}

func newGenerations() *generations {
	return &generations{running: make(map[string]context.CancelFunc)}
}

// start registers a reply for threadID. It returns false if one is already
// running there. The caller must call the returned release when the reply
// has been stored.
func (g *generations) start(threadID string, cancel context.CancelFunc) (release func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, busy := g.running[threadID]; busy {
		return nil, false
	}
	g.running[threadID] = cancel
	g.wg.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			delete(g.running, threadID)
			g.mu.Unlock()
			g.wg.Done()
		})
	}, true
}

// stop cancels the reply running in threadID and reports whether there was
// one.
func (g *generations) stop(threadID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	cancel, ok := g.running[threadID]
	if ok {
		cancel()
	}
	return ok
}

// stopAll cancels every running reply and waits until each has been released
// or ctx ends.
func (g *generations) stopAll(ctx context.Context) {
	g.mu.Lock()
	for _, cancel := range g.running {
		cancel()
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
