package openaitest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
)

// DefaultModel is the model a new or reset Server lists and accepts.
const DefaultModel = "gpt-4o-mini"

// maxBodyBytes limits a request body. A prompt may carry a long
// conversation, so the limit is generous.
const maxBodyBytes = 64 << 20

// Request is one HTTP request received by the fake, whatever its route.
type Request struct {
	Method string
	// Path is the URL path, such as "/v1/chat/completions".
	Path   string
	Header http.Header
	Body   []byte
}

// Model is a model that GET /v1/models lists.
type Model struct {
	ID string
	// Extra holds more fields of the model object, such as
	// {"context_length": 131072}, as servers other than OpenAI add them.
	// They are written next to the standard fields and replace any of
	// them with the same name. Do not change the map after SetModels.
	Extra map[string]any
}

// Server is a fake OpenAI-compatible server. Its methods are safe for
// concurrent use.
type Server struct {
	handler http.Handler

	// httpServer is the loopback server started by NewServer, and nil for a
	// Server made with New.
	httpServer *httptest.Server

	// mu guards the fields below it.
	mu       sync.Mutex
	models   []Model
	apiKey   string
	replies  []Reply
	requests []Request

	// release is closed by Release and then replaced. Each chat takes the
	// current channel when it starts, so Release frees every chat that
	// started before the call.
	release chan struct{}
}

// New returns a Server that lists DefaultModel, requires no API key and has
// no replies queued. It listens nowhere, so serve its Handler yourself,
// with the routes under /v1.
func New() *Server {
	s := &Server{release: make(chan struct{})}
	s.resetLocked()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	s.handler = s.record(s.authorize(mux))

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

// Handler returns the handler for the API routes. It records every request
// before checking the API key and routing it, except a request whose body
// exceeds 64 MiB, which gets 413 Request Entity Too Large.
func (s *Server) Handler() http.Handler {
	return s.handler
}

// URL returns the base URL of the server started by NewServer, such as
// "http://127.0.0.1:40123/v1", or "" for a Server made with New.
func (s *Server) URL() string {
	if s.httpServer == nil {
		return ""
	}
	return s.httpServer.URL + "/v1"
}

// SetModels replaces the listed models. Chat requests for a model that is
// not listed get 404 with the code "model_not_found". With no models,
// every chat request gets that 404. SetModels panics if an ID is empty.
func (s *Server) SetModels(models ...Model) {
	for _, m := range models {
		if m.ID == "" {
			panic("openaitest: model with an empty ID")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = slices.Clone(models)
}

// SetAPIKey makes every route reject, with 401 Unauthorized, a request
// whose Authorization header is not "Bearer " followed by key. An empty key
// lets every request through, as a local server without keys does.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// Enqueue adds r to the end of the reply queue. Each chat request takes the
// reply at the front. Do not change r's slices after the call. Enqueue
// panics if r is invalid, for example when HoldAfter exceeds the number of
// chunks.
func (s *Server) Enqueue(r Reply) {
	if err := r.validate(); err != nil {
		panic("openaitest: " + err.Error())
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
// chats, removes the API key and restores the default model list.
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
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		requests[i] = r
	}
	return requests
}

// ChatRequests returns the recorded POST /v1/chat/completions requests in
// arrival order, freshly decoded so callers may change them. Requests whose
// body is not valid JSON are left out. The params type has no field for
// "stream", so read Requests for that.
func (s *Server) ChatRequests() []openai.ChatCompletionNewParams {
	decoded := []openai.ChatCompletionNewParams{}
	for _, r := range s.Requests() {
		if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" {
			continue
		}

		var params openai.ChatCompletionNewParams
		if err := json.Unmarshal(r.Body, &params); err != nil {
			continue
		}
		decoded = append(decoded, params)
	}
	return decoded
}

func (s *Server) releaseLocked() {
	close(s.release)
	s.release = make(chan struct{})
}

func (s *Server) resetLocked() {
	s.models = []Model{{ID: DefaultModel}}
	s.apiKey = ""
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
			writeError(w, http.StatusRequestEntityTooLarge, apiError{Message: fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit)})
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, apiError{Message: fmt.Sprintf("read request body: %v", err)})
			return
		}

		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()

		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// authorize wraps next so that, once SetAPIKey has set a key, requests
// without it get the 401 responses OpenAI sends.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		key := s.apiKey
		s.mu.Unlock()

		if key == "" {
			next.ServeHTTP(w, r)
			return
		}

		sent, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !hasBearer || sent == "":
			writeError(w, http.StatusUnauthorized, apiError{
				Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
			})
		case sent != key:
			// OpenAI masks all but a few characters of the key it
			// repeats. The fake repeats it whole, so tests can check
			// that clients keep server messages' secrets out of their
			// errors.
			writeError(w, http.StatusUnauthorized, apiError{
				Message: fmt.Sprintf("Incorrect API key provided: %s. You can find your API key in your account settings.", sent),
				Code:    "invalid_api_key",
			})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// nextReply removes and returns the reply at the front of the queue, or the
// default echo reply for req when the queue is empty. It also returns the
// channel that Release closes next.
func (s *Server) nextReply(req openai.ChatCompletionNewParams) (Reply, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if len(s.replies) == 0 {
		return echoReply(req), s.release
	}
	r := s.replies[0]
	s.replies = slices.Delete(s.replies, 0, 1)
	return r, s.release
}

// isListed reports whether a model with the ID model is listed.
func (s *Server) isListed(model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.models, func(m Model) bool { return m.ID == model })
}

// apiError is the object OpenAI sends under "error" in an error response
// or event.
type apiError struct {
	Message string
	Type    string // "invalid_request_error" when empty
	Code    string // null when empty
}

// MarshalJSON writes e in OpenAI's shape, with "param" and an empty code
// as null.
func (e apiError) MarshalJSON() ([]byte, error) {
	var code *string
	if e.Code != "" {
		code = &e.Code
	}
	return json.Marshal(struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}{e.Message, cmp.Or(e.Type, "invalid_request_error"), nil, code})
}

// replyError returns the error that reply describes, for an HTTP response
// with status or for an error event when status is 0.
func replyError(reply Reply, status int) apiError {
	errorType := reply.ErrorType
	if errorType == "" && (status == 0 || status >= 500) {
		errorType = "server_error"
	}
	return apiError{
		Message: cmp.Or(reply.Error, http.StatusText(status), "The server had an error while processing your request."),
		Type:    errorType,
		Code:    reply.ErrorCode,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError writes an error response in OpenAI's shape, {"error": e}.
func writeError(w http.ResponseWriter, status int, e apiError) {
	writeJSON(w, status, map[string]apiError{"error": e})
}
