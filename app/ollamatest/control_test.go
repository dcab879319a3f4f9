package ollamatest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"hearth/app/ollamatest"
)

// newControlServer serves the fake the way the fake-ollama command does:
// the control routes under /_fake/ and the Ollama API on the same port.
func newControlServer(t *testing.T) (*ollamatest.Server, string) {
	t.Helper()

	fake := ollamatest.New()
	mux := http.NewServeMux()
	mux.Handle("/_fake/", fake.ControlHandler())
	mux.Handle("/", fake.Handler())
	server := httptest.NewServer(mux)
	t.Cleanup(func() {
		fake.Release()
		server.Close()
	})
	return fake, server.URL
}

// post sends body to baseURL+path and returns the status and response body.
func post(t *testing.T, baseURL, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(baseURL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response of POST %s: %v", path, err)
	}
	return resp.StatusCode, string(data)
}

func TestControlReplies(t *testing.T) {
	_, baseURL := newControlServer(t)
	reply := `{
		"chunks": ["Let me ", "search."],
		"toolCalls": {"1": [{"function": {"name": "search", "arguments": {"query": "hearth"}}}]},
		"doneReason": "length",
		"evalCount": 7
	}`

	if status, body := post(t, baseURL, "/_fake/replies", reply); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/replies returned %d %s, want 204", status, body)
	}

	lines, err := collectChat(t, clientFor(t, baseURL), userChat("llama3.2", "find hearth"))
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	if got := lines[0].Message.Content + lines[1].Message.Content; got != "Let me search." {
		t.Errorf("content is %q, want %q", got, "Let me search.")
	}
	calls := lines[1].Message.ToolCalls
	if len(calls) != 1 || calls[0].Function.Name != "search" {
		t.Fatalf("line 1 tool calls are %+v, want one search call", calls)
	}
	if query, _ := calls[0].Function.Arguments.Get("query"); query != "hearth" {
		t.Errorf("search query is %v, want hearth", query)
	}
	if lines[2].DoneReason != "length" || lines[2].EvalCount != 7 {
		t.Errorf("final line has done reason %q and eval count %d, want length and 7", lines[2].DoneReason, lines[2].EvalCount)
	}
}

func TestControlRepliesInvalid(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // part of the error message
	}{
		{"empty body", ``, "missing request body"},
		{"misspelt field", `{"chunks": ["a"], "delay_ms": 5}`, `unknown field "delay_ms"`},
		{"hold past chunks", `{"chunks": ["a"], "holdAfter": 2}`, "holdAfter is 2"},
		{"success status", `{"status": 200, "error": "x"}`, "status is 200"},
		{"not JSON", `chunks`, "decode reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, baseURL := newControlServer(t)

			status, body := post(t, baseURL, "/_fake/replies", tt.body)

			if status != http.StatusBadRequest {
				t.Errorf("status is %d, want 400", status)
			}
			var errorBody struct{ Error string }
			if err := json.Unmarshal([]byte(body), &errorBody); err != nil {
				t.Fatalf("decode error body %q: %v", body, err)
			}
			if !strings.Contains(errorBody.Error, tt.want) {
				t.Errorf("error is %q, want it to contain %q", errorBody.Error, tt.want)
			}
		})
	}
}

func TestControlRelease(t *testing.T) {
	_, baseURL := newControlServer(t)
	client := clientFor(t, baseURL)
	if status, body := post(t, baseURL, "/_fake/replies", `{"chunks": ["first ", "second"], "holdAfter": 1}`); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/replies returned %d %s, want 204", status, body)
	}

	lines := make(chan api.ChatResponse, 10)
	chatErr := make(chan error, 1)
	go func() {
		chatErr <- client.Chat(t.Context(), userChat("llama3.2", "hi"), func(r api.ChatResponse) error {
			lines <- r
			return nil
		})
	}()
	if got := receive(t, lines).Message.Content; got != "first " {
		t.Fatalf("got chunk %q before the hold, want %q", got, "first ")
	}

	if status, body := post(t, baseURL, "/_fake/release", ``); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/release returned %d %s, want 204", status, body)
	}

	if got := receive(t, lines).Message.Content; got != "second" {
		t.Errorf("got chunk %q after release, want %q", got, "second")
	}
	if err := receive(t, chatErr); err != nil {
		t.Errorf("Chat: %v", err)
	}
}

func TestControlModels(t *testing.T) {
	_, baseURL := newControlServer(t)
	client := clientFor(t, baseURL)

	if status, body := post(t, baseURL, "/_fake/models", `{"models": ["phi4", "mxbai-embed-large:335m"]}`); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/models returned %d %s, want 204", status, body)
	}
	list, err := client.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, m := range list.Models {
		names = append(names, m.Name)
	}
	if want := []string{"phi4:latest", "mxbai-embed-large:335m"}; !slices.Equal(names, want) {
		t.Errorf("listed %q, want %q", names, want)
	}

	if status, body := post(t, baseURL, "/_fake/models", `{"models": []}`); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/models with no models returned %d %s, want 204", status, body)
	}
	list, err = client.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list.Models) != 0 {
		t.Errorf("listed %d models after setting none, want 0", len(list.Models))
	}

	for _, body := range []string{`{"models": [""]}`, `{"models": ["two words"]}`, `{}`, `{"model": "phi4"}`} {
		if status, responseBody := post(t, baseURL, "/_fake/models", body); status != http.StatusBadRequest {
			t.Errorf("POST /_fake/models %s returned %d %s, want 400", body, status, responseBody)
		}
	}
}

func TestControlRequests(t *testing.T) {
	fake, baseURL := newControlServer(t)

	requests := getChatRequests(t, baseURL)
	if requests == nil || len(requests) != 0 {
		t.Errorf("requests before any chat are %v, want an empty JSON array", requests)
	}

	if _, err := collectChat(t, clientFor(t, baseURL), userChat("llama3.2", "note this")); err != nil {
		t.Fatalf("Chat: %v", err)
	}

	requests = getChatRequests(t, baseURL)
	if len(requests) != 1 {
		t.Fatalf("got %d chat requests, want 1", len(requests))
	}
	if got := requests[0].Messages[0].Content; got != "note this" {
		t.Errorf("recorded message is %q, want %q", got, "note this")
	}
	if got := len(fake.Requests()); got != 1 {
		t.Errorf("recorded %d requests, want 1 because control requests are not recorded", got)
	}
}

func TestControlReset(t *testing.T) {
	_, baseURL := newControlServer(t)
	client := clientFor(t, baseURL)
	post(t, baseURL, "/_fake/replies", `{"chunks": ["scripted"]}`)
	post(t, baseURL, "/_fake/models", `{"models": ["other"]}`)

	if status, body := post(t, baseURL, "/_fake/reset", ``); status != http.StatusNoContent {
		t.Fatalf("POST /_fake/reset returned %d %s, want 204", status, body)
	}

	lines, err := collectChat(t, client, userChat("llama3.2", "hi"))
	if err != nil {
		t.Fatalf("Chat with a default model after reset: %v", err)
	}
	if lines[0].Message.Content == "scripted" {
		t.Errorf("chat got the queued reply after reset, want the echo reply")
	}
}

func TestControlWrongMethod(t *testing.T) {
	_, baseURL := newControlServer(t)

	resp, err := http.Get(baseURL + "/_fake/replies")
	if err != nil {
		t.Fatalf("GET /_fake/replies: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /_fake/replies returned %d, want 405", resp.StatusCode)
	}
}

func getChatRequests(t *testing.T, baseURL string) []api.ChatRequest {
	t.Helper()
	resp, err := http.Get(baseURL + "/_fake/requests")
	if err != nil {
		t.Fatalf("GET /_fake/requests: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_fake/requests returned %d, want 200", resp.StatusCode)
	}

	var requests []api.ChatRequest
	if err := json.NewDecoder(resp.Body).Decode(&requests); err != nil {
		t.Fatalf("decode /_fake/requests: %v", err)
	}
	return requests
}
