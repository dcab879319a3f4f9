package app

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A request in progress holds off the release for as long as it lasts; the
// release follows once it ends.
func TestIdleReleaseWaitsForRequests(t *testing.T) {
	const delay = 10 * time.Millisecond
	released := make(chan struct{}, 8)
	ir := newIdleRelease(delay, func() { released <- struct{}{} })
	t.Cleanup(ir.close)

	entered, finish := make(chan struct{}), make(chan struct{})
	server := httptest.NewServer(ir.track(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-finish
	})))
	defer server.Close()
	var once sync.Once
	unblock := func() { once.Do(func() { close(finish) }) }
	// A failure below must not leave the handler waiting, or Close waits
	// for it.
	defer unblock()

	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(server.URL)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-entered
	select {
	case <-released:
		t.Fatal("released while a request was in progress")
	case <-time.After(20 * delay):
	}

	unblock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatal("no release 10 s after the last request ended")
	}
	select {
	case <-released:
		t.Fatal("released twice for one idle period")
	case <-time.After(20 * delay):
	}
}

// A release scheduled by an earlier idle period does nothing once another
// request has started, and none runs after close.
func TestIdleReleaseSkipsStaleRounds(t *testing.T) {
	var calls atomic.Int32
	// The delay is long enough that no timer fires during the test: it
	// calls fire itself, as a timer would.
	ir := newIdleRelease(time.Hour, func() { calls.Add(1) })

	ir.begin()
	ir.end()
	stale := ir.round
	ir.begin()
	ir.fire(ir.round)
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d releases while a request was in progress, want 0", n)
	}
	ir.end()
	ir.fire(stale)
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d releases from the round before the last request, want 0", n)
	}
	ir.fire(ir.round)
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d releases after the last request, want 1", n)
	}

	ir.begin()
	ir.end()
	ir.close()
	if ir.timer != nil {
		t.Error("close left the release timer running")
	}
	ir.fire(ir.round)
	ir.begin()
	ir.end()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d releases in all after close, want 1", n)
	}
	if ir.timer != nil {
		t.Error("a request after close scheduled a release")
	}
}

// A negative delay never schedules a release.
func TestIdleReleaseNegativeDelay(t *testing.T) {
	ir := newIdleRelease(-1, func() { t.Error("released with a negative delay") })
	ir.begin()
	ir.end()
	if ir.timer != nil {
		t.Error("a negative delay scheduled a release")
	}
}
