package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

// The UI message stream protocol of the Vercel AI SDK, version 1: server-sent
// events whose data lines are JSON parts, ended by "data: [DONE]".
const (
	uiStreamHeader  = "x-vercel-ai-ui-message-stream"
	uiStreamVersion = "v1"

	// keepAliveInterval is how often a stream gets an SSE comment line, so
	// that proxies and clients do not drop it while the model is silent.
	keepAliveInterval = 15 * time.Second
)

// streamPart is one part of the UI message stream. Fields that a part type
// does not use stay empty and are left out of the JSON.
type streamPart struct {
	Type            string `json:"type"`
	ID              string `json:"id,omitempty"`
	Delta           string `json:"delta,omitempty"`
	MessageID       string `json:"messageId,omitempty"`
	MessageMetadata any    `json:"messageMetadata,omitempty"`
	ErrorText       string `json:"errorText,omitempty"`
	// Data is the payload of a data part, whose type is "data-" and a name.
	Data any `json:"data,omitempty"`
	// Transient data parts are shown while the stream runs and not kept
	// with the message.
	Transient bool `json:"transient,omitempty"`
	// The fields of tool parts. ToolName is a pointer because
	// tool-input-available must carry it even when the model sent an
	// empty name, and other parts must leave it out.
	ToolCallID string          `json:"toolCallId,omitempty"`
	ToolName   *string         `json:"toolName,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
}

// uiStream writes a UI message stream to an HTTP response. It is safe for
// concurrent use. After the first failed write it stops writing and calls
// onBroken, because a failed write is the only sign of a client that went
// away inside the desktop window, where the request context is never
// cancelled.
type uiStream struct {
	mu       sync.Mutex
	w        http.ResponseWriter
	rc       *http.ResponseController
	onBroken context.CancelFunc
	broken   bool
	closed   bool // set when the handler is done with the response

	stopKeepAlive chan struct{}
}

// startUIStream writes the stream's headers and starts a keep-alive comment
// every keepAlive. The caller must call close when done.
func startUIStream(w http.ResponseWriter, onBroken context.CancelFunc, keepAlive time.Duration) *uiStream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set(uiStreamHeader, uiStreamVersion)
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	s := &uiStream{w: w, rc: http.NewResponseController(w), onBroken: onBroken, stopKeepAlive: make(chan struct{})}
	s.flush()
	go s.keepAlive(keepAlive)
	return s
}

// send writes one part. It returns false once the client is gone.
func (s *uiStream) send(p streamPart) bool {
	data, err := json.Marshal(p)
	if err != nil {
		// streamPart holds only strings and JSON-ready metadata.
		panic("encode stream part: " + err.Error())
	}
	return s.write("data: " + string(data) + "\n\n")
}

// finish writes the end marker and closes the stream.
func (s *uiStream) finish() {
	s.write("data: [DONE]\n\n")
	s.close()
}

// close stops all writing, the keep-alive comments included, so that nothing
// touches the response after the handler returns. It is safe to call twice.
func (s *uiStream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.stopKeepAlive)
	}
}

func (s *uiStream) keepAlive(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stopKeepAlive:
			return
		case <-t.C:
			if !s.write(": keep-alive\n\n") {
				return
			}
		}
	}
}

func (s *uiStream) write(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken || s.closed {
		return false
	}
	if _, err := s.w.Write([]byte(text)); err != nil {
		s.markBrokenLocked()
		return false
	}
	s.flushLocked()
	return !s.broken
}

func (s *uiStream) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
}

// flushLocked pushes buffered bytes to the client where the writer supports
// it. The desktop window's writer does not, and streams without it.
func (s *uiStream) flushLocked() {
	err := s.rc.Flush()
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.markBrokenLocked()
	}
}

func (s *uiStream) markBrokenLocked() {
	s.broken = true
	if s.onBroken != nil {
		s.onBroken()
	}
}
