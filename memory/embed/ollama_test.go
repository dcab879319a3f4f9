package embed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"hearth/app/ollamatest"
	"hearth/memory/embed"
)

// quickRetry retries at once, so that tests of retries take no time.
var quickRetry = embed.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}

// newOllama returns an Ollama embedder for the server at url with
// quickRetry, after applying change to its config.
func newOllama(t *testing.T, url string, change func(*embed.OllamaConfig)) *embed.Ollama {
	t.Helper()
	cfg := embed.OllamaConfig{URL: url, Retry: quickRetry}
	if change != nil {
		change(&cfg)
	}
	o, err := embed.NewOllama(cfg)
	if err != nil {
		t.Fatalf("NewOllama: %v", err)
	}
	return o
}

// flakyOllama serves fake behind a loopback server that answers the first
// failures requests with status and message in Ollama's error format. It
// returns the server's URL and a count of all requests it received.
func flakyOllama(t *testing.T, fake *ollamatest.Server, failures, status int, message string) (string, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(requests.Add(1)) <= failures {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"error": message})
			return
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	return server.URL, &requests
}

// stalledOllama serves fake behind a loopback server that holds the first
// stalls requests until the client gives up.
func stalledOllama(t *testing.T, fake *ollamatest.Server, stalls int) (string, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(requests.Add(1)) <= stalls {
			// The server notices a closed connection only after the
			// handler has read the request body.
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
			return
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(server.Close)
	return server.URL, &requests
}

// closedURL returns the URL of a loopback port on which nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	url := "http://" + listener.Addr().String()
	listener.Close()
	return url
}

// checkError fails the test unless err wraps want and its message contains
// every one of parts.
func checkError(t *testing.T, err, want error, parts ...string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error is %v, want %v", err, want)
	}
	for _, part := range parts {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

func TestOllamaEmbedBatch(t *testing.T) {
	fake := ollamatest.NewServer(t)
	o := newOllama(t, fake.URL(), nil)
	texts := []string{"my landlord raised the rent", "大家さん", "🎂 party"}

	if o.ID() != "ollama:nomic-embed-text" || o.Dim() != 0 {
		t.Errorf("before the first call, ID and Dim are %q and %d, want ollama:nomic-embed-text and 0", o.ID(), o.Dim())
	}
	batch := embedAll(t, o, texts...)

	if o.Dim() != ollamatest.DefaultEmbedDimension {
		t.Errorf("Dim is %d, want %d", o.Dim(), ollamatest.DefaultEmbedDimension)
	}
	for i, text := range texts {
		single := embedAll(t, o, text)[0]
		checkUnit(t, batch[i])
		if sim := dot(t, batch[i], single); sim < 0.99999 {
			t.Errorf("vector %d of the batch has similarity %.5f to the same text embedded alone, want 1", i, sim)
		}
	}
	if sim := dot(t, batch[0], batch[1]); sim > 0.99 {
		t.Errorf("vectors of different texts have similarity %.3f, want them distinct", sim)
	}

	requests := fake.EmbedRequests()
	if len(requests) != 4 {
		t.Fatalf("fake received %d embed requests, want 4", len(requests))
	}
	input, ok := requests[0].Input.([]any)
	if requests[0].Model != embed.DefaultOllamaModel || !ok || len(input) != len(texts) {
		t.Errorf("first request has model %q and input %#v, want %s and a list of %d texts", requests[0].Model, requests[0].Input, embed.DefaultOllamaModel, len(texts))
	}
}

func TestOllamaSplitsBatches(t *testing.T) {
	fake := ollamatest.NewServer(t)
	o := newOllama(t, fake.URL(), func(cfg *embed.OllamaConfig) { cfg.BatchSize = 2 })
	texts := []string{"one", "two", "three", "four", "five"}

	batch := embedAll(t, o, texts...)

	var sizes []int
	for _, r := range fake.EmbedRequests() {
		input, _ := r.Input.([]any)
		sizes = append(sizes, len(input))
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) {
		t.Errorf("requests had %v texts, want [2 2 1]", sizes)
	}
	for i, text := range texts {
		if sim := dot(t, batch[i], embedAll(t, o, text)[0]); sim < 0.99999 {
			t.Errorf("vector %d is not the vector of %q", i, text)
		}
	}
}

func TestOllamaID(t *testing.T) {
	tests := []struct{ model, want string }{
		{"", "ollama:nomic-embed-text"},
		{"nomic-embed-text:latest", "ollama:nomic-embed-text"},
		{"mxbai-embed-large:335m", "ollama:mxbai-embed-large:335m"},
	}
	for _, tt := range tests {
		o := newOllama(t, "", func(cfg *embed.OllamaConfig) { cfg.Model = tt.model })
		if o.ID() != tt.want {
			t.Errorf("ID for model %q is %q, want %q", tt.model, o.ID(), tt.want)
		}
	}
}

func TestOllamaModelNotFound(t *testing.T) {
	fake := ollamatest.NewServer(t)
	fake.SetModels("llama3.2")
	o := newOllama(t, fake.URL(), nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkError(t, err, embed.ErrModelNotFound, "ollama pull nomic-embed-text", fake.URL())
	if n := len(fake.EmbedRequests()); n != 1 {
		t.Errorf("fake received %d requests, want 1 because a missing model is not retried", n)
	}
}

func TestOllamaNotAnEmbeddingModel(t *testing.T) {
	url, requests := flakyOllama(t, ollamatest.New(), 1, http.StatusBadRequest, `"llama3.2" does not support embeddings`)
	o := newOllama(t, url, func(cfg *embed.OllamaConfig) { cfg.Model = "llama3.2" })

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkError(t, err, embed.ErrRejected, "llama3.2", "does not produce embeddings", "nomic-embed-text")
	if requests.Load() != 1 {
		t.Errorf("server received %d requests, want 1", requests.Load())
	}
}

func TestOllamaBadRequestNotRetried(t *testing.T) {
	url, requests := flakyOllama(t, ollamatest.New(), 1, http.StatusBadRequest, "input length exceeds the context length")
	o := newOllama(t, url, nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkError(t, err, embed.ErrRejected, "400 Bad Request", "input length exceeds the context length")
	if requests.Load() != 1 {
		t.Errorf("server received %d requests, want 1", requests.Load())
	}
}

func TestOllamaDimensionMismatch(t *testing.T) {
	fake := ollamatest.NewServer(t)
	o := newOllama(t, fake.URL(), nil)
	embedAll(t, o, "rent")

	fake.SetEmbedDimension(512)
	_, err := o.Embed(t.Context(), []string{"landlord"})

	checkError(t, err, embed.ErrDimensionMismatch, "dimension 512", "want 768", "ollama:nomic-embed-text")
	if o.Dim() != 768 {
		t.Errorf("Dim is %d after the mismatch, want 768", o.Dim())
	}
}

func TestOllamaRetriesServerErrors(t *testing.T) {
	fake := ollamatest.New()
	url, requests := flakyOllama(t, fake, 2, http.StatusServiceUnavailable, "server busy, please try again")
	o := newOllama(t, url, nil)

	vectors := embedAll(t, o, "rent", "landlord")

	if requests.Load() != 3 {
		t.Errorf("server received %d requests, want 3: two failures and one success", requests.Load())
	}
	checkUnit(t, vectors[0])
}

func TestOllamaGivesUpOnServerErrors(t *testing.T) {
	url, requests := flakyOllama(t, ollamatest.New(), 100, http.StatusInternalServerError, "llama runner process has terminated")

	o := newOllama(t, url, nil)
	_, err := o.Embed(t.Context(), []string{"rent"})

	checkError(t, err, embed.ErrUnavailable, "500 Internal Server Error", "after 3 attempts", "llama runner process has terminated")
	if requests.Load() != 3 {
		t.Errorf("server received %d requests, want 3", requests.Load())
	}
}

func TestOllamaUnreachable(t *testing.T) {
	url := closedURL(t)
	o := newOllama(t, url, nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkError(t, err, embed.ErrUnavailable, "not reachable at "+url, "after 3 attempts", "ollama serve")
}

func TestOllamaTimeoutRetried(t *testing.T) {
	url, requests := stalledOllama(t, ollamatest.New(), 1)
	o := newOllama(t, url, func(cfg *embed.OllamaConfig) { cfg.Timeout = 100 * time.Millisecond })

	embedAll(t, o, "rent")

	if requests.Load() != 2 {
		t.Errorf("server received %d requests, want 2: one timed out and one answered", requests.Load())
	}
}

func TestOllamaTimeout(t *testing.T) {
	url, _ := stalledOllama(t, ollamatest.New(), 100)
	o := newOllama(t, url, func(cfg *embed.OllamaConfig) {
		cfg.Timeout = 50 * time.Millisecond
		cfg.Retry.MaxAttempts = 2
	})

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkError(t, err, embed.ErrUnavailable, "timed out after 50ms", "after 2 attempts")
}

func TestOllamaInvalidResponse(t *testing.T) {
	tests := []struct {
		name       string
		embeddings [][]float32
		want       string
	}{
		{"too few", [][]float32{{1, 0}}, "returned 1 vectors for 2 texts"},
		{"zero vector", [][]float32{{1, 0}, {0, 0}}, "text 1 that is all zeros"},
		{"empty vector", [][]float32{{1, 0}, {}}, "empty vector for text 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				json.NewEncoder(w).Encode(api.EmbedResponse{Model: embed.DefaultOllamaModel, Embeddings: tt.embeddings})
			}))
			defer server.Close()
			o := newOllama(t, server.URL, nil)

			_, err := o.Embed(t.Context(), []string{"rent", "landlord"})

			checkError(t, err, embed.ErrInvalidResponse, tt.want)
			if d := o.Dim(); d != 0 {
				t.Errorf("Dim is %d after a rejected first response, want 0", d)
			}
		})
	}
}

func TestOllamaMixedLengthsLearnNothing(t *testing.T) {
	var calls int
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		calls++
		embeddings := [][]float32{{1, 0, 0}, {0, 1, 0}}
		if calls == 1 {
			embeddings[1] = []float32{1, 0}
		}
		json.NewEncoder(w).Encode(api.EmbedResponse{Model: embed.DefaultOllamaModel, Embeddings: embeddings})
	}))
	defer server.Close()
	o := newOllama(t, server.URL, nil)

	_, err := o.Embed(t.Context(), []string{"rent", "landlord"})
	checkError(t, err, embed.ErrDimensionMismatch, "dimension 2")
	if d := o.Dim(); d != 0 {
		t.Fatalf("Dim is %d after a response with mixed lengths, want 0", d)
	}

	// The next, consistent response is accepted and sets the dimension.
	if _, err := o.Embed(t.Context(), []string{"rent", "landlord"}); err != nil {
		t.Fatalf("a consistent response after a mixed one: %v", err)
	}
	if d := o.Dim(); d != 3 {
		t.Errorf("Dim is %d, want 3", d)
	}
}

func TestOllamaEmptyTextSendsNothing(t *testing.T) {
	fake := ollamatest.NewServer(t)
	o := newOllama(t, fake.URL(), nil)

	_, err := o.Embed(t.Context(), []string{"rent", ""})

	checkError(t, err, embed.ErrEmptyText, "text 1 of 2")
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("fake received %d requests, want none", n)
	}
}

func TestOllamaCanceled(t *testing.T) {
	url, _ := stalledOllama(t, ollamatest.New(), 100)
	o := newOllama(t, url, nil)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)

	_, err := o.Embed(ctx, []string{"rent"})

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error is %v, want context.Canceled", err)
	}
}

func TestOllamaLogsRetries(t *testing.T) {
	url, _ := flakyOllama(t, ollamatest.New(), 1, http.StatusServiceUnavailable, "server busy")
	var logs bytes.Buffer
	o := newOllama(t, url, func(cfg *embed.OllamaConfig) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})

	embedAll(t, o, "my secret message")

	for _, part := range []string{"level=WARN", "retrying", "backend=ollama:nomic-embed-text", "attempt=1"} {
		if !strings.Contains(logs.String(), part) {
			t.Errorf("log %q does not contain %q", logs.String(), part)
		}
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("log %q contains the text", logs.String())
	}
}

func TestNewOllamaInvalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  embed.OllamaConfig
		want string
	}{
		{"no scheme", embed.OllamaConfig{URL: "127.0.0.1:11434"}, "invalid Ollama URL"},
		{"other scheme", embed.OllamaConfig{URL: "ftp://127.0.0.1"}, "invalid Ollama URL"},
		{"model with space", embed.OllamaConfig{Model: "nomic embed"}, "invalid Ollama model name"},
		{"negative timeout", embed.OllamaConfig{Timeout: -time.Second}, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := embed.NewOllama(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error is %v, want one containing %q", err, tt.want)
			}
		})
	}
}
