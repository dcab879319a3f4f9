package ollamatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/ollama/ollama/api"
)

// Version is the Ollama release whose HTTP API the fake follows. GET
// /api/version returns it.
const Version = "0.17.4"

const (
	// DefaultContextLength is the context length, in tokens, that /api/show
	// reports until SetContextLength changes it.
	DefaultContextLength = 8192

	// DefaultEmbedDimension is the length of the vectors /api/embed returns
	// until SetEmbedDimension changes it. It matches nomic-embed-text.
	DefaultEmbedDimension = 768

	// maxBodyBytes limits a request body. Chat requests may carry images, so
	// the limit is generous.
	maxBodyBytes = 64 << 20
)

// defaultModels lists the models a new or reset Server has installed.
var defaultModels = []string{"llama3.2", "nomic-embed-text"}

// Request is one HTTP request received by the fake, whatever its route.
type Request struct {
	Method string
	Path   string
	Body   []byte
}

// Server is a fake Ollama server. Its methods are safe for concurrent use.
type Server struct {
	handler http.Handler

	// httpServer is the loopback server started by NewServer, and nil for a
	// Server made with New.
	httpServer *httptest.Server

	// mu guards the fields below it.
	mu             sync.Mutex
	models         []installedModel
	contextLength  int
	embedDimension int
	replies        []Reply
	requests       []Request

	// release is closed by Release and then replaced. Each chat takes the
	// current channel when it starts, so Release frees every chat that
	// started before the call.
	release chan struct{}
}

// New returns a Server with llama3.2 and nomic-embed-text installed and no
// replies queued. It listens nowhere, so serve its Handler yourself.
func New() *Server {
	s := &Server{release: make(chan struct{})}
	s.resetLocked()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", handleRoot)
	mux.HandleFunc("GET /api/version", handleVersion)
	mux.HandleFunc("GET /api/tags", s.handleTags)
	mux.HandleFunc("POST /api/show", s.handleShow)
	mux.HandleFunc("POST /api/pull", s.handlePull)
	mux.HandleFunc("POST /api/chat", s.handleChat)
	mux.HandleFunc("POST /api/embed", s.handleEmbed)
	s.handler = s.record(mux)

	return s
}

// NewServer starts a Server on a loopback port and closes it when t and its
// subtests finish. Before closing, it releases every held chat.
func NewServer(t testing.TB) *Server {
	t.Helper()

	s := New()
	s.httpServer = httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Release()
		s.httpServer.Close()
	})
	return s
}

// Handler returns the handler for the Ollama API routes. It records every
// request before routing it, except a request whose body exceeds 64 MiB,
// which gets 413 Request Entity Too Large.
func (s *Server) Handler() http.Handler {
	return s.handler
}

// URL returns the base URL of the server started by NewServer, such as
// "http://127.0.0.1:40123", or "" for a Server made with New.
func (s *Server) URL() string {
	if s.httpServer == nil {
		return ""
	}
	return s.httpServer.URL
}

// SetModels replaces the installed models. A name without a tag means the
// "latest" tag, as in Ollama. With no names, no model is installed.
// SetModels panics if a name is empty or contains white space.
func (s *Server) SetModels(names ...string) {
	for _, name := range names {
		if !validModelName(name) {
			panic(fmt.Sprintf("ollamatest: invalid model name %q", name))
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	s.models = nil
	for _, name := range names {
		s.installLocked(name)
	}
}

// SetContextLength sets the context length, in tokens, that /api/show
// reports for every model.
func (s *Server) SetContextLength(tokens int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contextLength = tokens
}

// SetEmbedDimension sets the length of the vectors /api/embed returns. It
// panics if dimension is not positive.
func (s *Server) SetEmbedDimension(dimension int) {
	if dimension <= 0 {
		panic(fmt.Sprintf("ollamatest: embed dimension %d is not positive", dimension))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.embedDimension = dimension
}

// Enqueue adds r to the end of the reply queue. Each chat request takes the
// reply at the front. Do not change r's slices or maps after the call.
// Enqueue panics if r is invalid, for example when HoldAfter exceeds the
// number of chunks.
func (s *Server) Enqueue(r Reply) {
	if err := r.validate(); err != nil {
		panic("ollamatest: " + err.Error())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, r)
}

// Release lets every chat that started before the call go past its
// HoldAfter point, including chats that have not reached it yet. Chats that
// start later wait for the next Release.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked()
}

// Reset empties the reply queue and the recorded requests, releases held
// chats, and restores the default models, context length and embed
// dimension.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.releaseLocked()
	s.resetLocked()
}

// Requests returns copies of all recorded requests in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()

	requests := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Body = bytes.Clone(r.Body)
		requests[i] = r
	}
	return requests
}

// ChatRequests returns the recorded /api/chat requests in arrival order,
// freshly decoded so callers may change them. Requests whose body is not
// valid JSON are left out.
func (s *Server) ChatRequests() []api.ChatRequest {
	return decodeRecorded[api.ChatRequest](s, "/api/chat")
}

// EmbedRequests returns the recorded /api/embed requests like ChatRequests.
func (s *Server) EmbedRequests() []api.EmbedRequest {
	return decodeRecorded[api.EmbedRequest](s, "/api/embed")
}

// PullRequests returns the recorded /api/pull requests like ChatRequests.
func (s *Server) PullRequests() []api.PullRequest {
	return decodeRecorded[api.PullRequest](s, "/api/pull")
}

// decodeRecorded decodes the body of every recorded POST to path as a T.
func decodeRecorded[T any](s *Server, path string) []T {
	decoded := []T{}
	for _, r := range s.Requests() {
		if r.Method != http.MethodPost || r.Path != path {
			continue
		}

		var v T
		if err := json.Unmarshal(r.Body, &v); err != nil {
			continue
		}
		decoded = append(decoded, v)
	}
	return decoded
}

func (s *Server) releaseLocked() {
	close(s.release)
	s.release = make(chan struct{})
}

func (s *Server) resetLocked() {
	s.models = nil
	for _, name := range defaultModels {
		s.installLocked(name)
	}
	s.contextLength = DefaultContextLength
	s.embedDimension = DefaultEmbedDimension
	s.replies = nil
	s.requests = nil
}

// record wraps next so that every request is stored before it is routed.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit))
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, fmt.Sprintf("read request body: %v", err))
			return
		}

		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Body: body})
		s.mu.Unlock()

		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// nextReply removes and returns the reply at the front of the queue, or the
// default echo reply for req when the queue is empty. It also returns the
// channel that Release closes next.
func (s *Server) nextReply(req api.ChatRequest) (Reply, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if len(s.replies) == 0 {
		return echoReply(req), s.release
	}
	r := s.replies[0]
	s.replies = slices.Delete(s.replies, 0, 1)
	return r, s.release
}

func handleRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Ollama is running")
}

func handleVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": Version})
}

// decodeBody decodes the JSON request body into v. On failure it writes the
// 400 response that Ollama sends and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("read request body: %v", err))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, "missing request body")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes an error in Ollama's format, {"error": message}, which
// api.Client turns into an api.StatusError.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// writeLine writes v as one NDJSON line and flushes it to the client.
func writeLine(w http.ResponseWriter, controller *http.ResponseController, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return err
	}
	return controller.Flush()
}
