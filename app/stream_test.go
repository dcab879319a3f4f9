package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// failingWriter is a ResponseWriter whose writes fail once failAfter writes
// have succeeded, like a connection to a client that went away.
type failingWriter struct {
	mu        sync.Mutex
	header    http.Header
	writes    int
	failAfter int
}

func (w *failingWriter) Header() http.Header { return w.header }
func (w *failingWriter) WriteHeader(int)     {}
func (w *failingWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.writes > w.failAfter {
		return 0, errors.New("connection reset by peer")
	}
	return len(b), nil
}

func TestStreamWriteErrorCancels(t *testing.T) {
	w := &failingWriter{header: http.Header{}, failAfter: 1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startUIStream(w, cancel, keepAliveInterval)
	defer s.close()

	if !s.send(streamPart{Type: "start"}) {
		t.Fatal("first send failed, want success")
	}
	if s.send(streamPart{Type: "start-step"}) {
		t.Fatal("send after a failed write succeeded, want failure")
	}
	if ctx.Err() == nil {
		t.Fatal("context not cancelled after a failed write")
	}
	if s.send(streamPart{Type: "finish"}) || w.writes != 2 {
		t.Fatalf("stream wrote %d times, want no write after the failure", w.writes)
	}
}

func TestStreamHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	s := startUIStream(rec, nil, keepAliveInterval)
	s.send(streamPart{Type: "text-delta", ID: "t", Delta: "héllo"})
	s.finish()

	if got := rec.Header().Get("Content-Type"); got != "text/event-stream; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := rec.Header().Get(uiStreamHeader); got != uiStreamVersion {
		t.Errorf("%s = %q, want %q", uiStreamHeader, got, uiStreamVersion)
	}
	want := "data: {\"type\":\"text-delta\",\"id\":\"t\",\"delta\":\"héllo\"}\n\ndata: [DONE]\n\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestStreamKeepAlive(t *testing.T) {
	const interval = 5 * time.Millisecond
	w := &lockedRecorder{rec: httptest.NewRecorder()}
	s := startUIStream(w, nil, interval)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.body(), ": keep-alive\n\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no keep-alive comment after 5s; body %q", w.body())
		}
		time.Sleep(time.Millisecond)
	}
	s.close()

	// Nothing is written once the stream is closed.
	closedBody := w.body()
	time.Sleep(20 * interval)
	if got := w.body(); got != closedBody {
		t.Fatalf("stream wrote %q after close", strings.TrimPrefix(got, closedBody))
	}
}

// lockedRecorder is an httptest.ResponseRecorder that can be read while the
// keep-alive goroutine writes to it.
type lockedRecorder struct {
	mu  sync.Mutex
	rec *httptest.ResponseRecorder
}

func (w *lockedRecorder) Header() http.Header { return w.rec.Header() }
func (w *lockedRecorder) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rec.WriteHeader(code)
}
func (w *lockedRecorder) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rec.Write(b)
}
func (w *lockedRecorder) body() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rec.Body.String()
}
