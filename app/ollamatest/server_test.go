package ollamatest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"

	"hearth/app/ollamatest"
)

// receiveTimeout bounds every wait for the server, so a broken hold or
// stream fails the test in place of hanging it.
const receiveTimeout = 5 * time.Second

func newClient(t *testing.T, s *ollamatest.Server) *api.Client {
	t.Helper()
	return clientFor(t, s.URL())
}

func clientFor(t *testing.T, rawURL string) *api.Client {
	t.Helper()
	base, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse server URL %q: %v", rawURL, err)
	}
	return api.NewClient(base, http.DefaultClient)
}

func userChat(model, content string) *api.ChatRequest {
	return &api.ChatRequest{
		Model:    model,
		Messages: []api.Message{{Role: "user", Content: content}},
	}
}

// collectChat runs a chat and returns every line the client received.
func collectChat(t *testing.T, client *api.Client, req *api.ChatRequest) ([]api.ChatResponse, error) {
	t.Helper()
	var lines []api.ChatResponse
	err := client.Chat(t.Context(), req, func(r api.ChatResponse) error {
		lines = append(lines, r)
		return nil
	})
	return lines, err
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(receiveTimeout):
		t.Fatalf("nothing received within %v", receiveTimeout)
		var zero T
		return zero
	}
}

func toolCall(name, key, value string) api.ToolCall {
	args := api.NewToolCallFunctionArguments()
	args.Set(key, value)
	return api.ToolCall{
		ID:       "call_" + name,
		Function: api.ToolCallFunction{Name: name, Arguments: args},
	}
}

func TestChatStreamsChunksInOrder(t *testing.T) {
	s := ollamatest.NewServer(t)
	s.Enqueue(ollamatest.Reply{
		Chunks:          []string{"Hel", "lo, ", "world"},
		DoneReason:      "length",
		PromptEvalCount: 12,
		EvalCount:       3,
	})

	lines, err := collectChat(t, newClient(t, s), userChat("llama3.2", "hi"))
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 3 chunks and the final line", len(lines))
	}
	var assembled strings.Builder
	for i, line := range lines[:3] {
		if line.Done {
			t.Errorf("line %d has done set, want only the final line to", i)
		}
		if line.Message.Role != "assistant" {
			t.Errorf("line %d role is %q, want assistant", i, line.Message.Role)
		}
		if line.Model != "llama3.2" {
			t.Errorf("line %d model is %q, want llama3.2", i, line.Model)
		}
		assembled.WriteString(line.Message.Content)
	}
	if got := assembled.String(); got != "Hello, world" {
		t.Errorf("assembled content is %q, want %q", got, "Hello, world")
	}

	final := lines[3]
	if !final.Done {
		t.Errorf("final line has done false, want true")
	}
	if final.Message.Content != "" {
		t.Errorf("final line content is %q, want empty", final.Message.Content)
	}
	if final.DoneReason != "length" {
		t.Errorf("done reason is %q, want length", final.DoneReason)
	}
	if final.PromptEvalCount != 12 {
		t.Errorf("prompt eval count is %d, want 12", final.PromptEvalCount)
	}
	if final.EvalCount != 3 {
		t.Errorf("eval count is %d, want 3", final.EvalCount)
	}
}

func TestChatEchoesWhenQueueEmpty(t *testing.T) {
	s := ollamatest.NewServer(t)
	req := &api.ChatRequest{
		Model: "llama3.2",
		Messages: []api.Message{
			{Role: "system", Content: "Be brief."},
			{Role: "user", Content: "first question"},
			{Role: "assistant", Content: "first answer"},
			{Role: "user", Content: "how  are\tyou"},
		},
	}

	lines, err := collectChat(t, newClient(t, s), req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	var assembled strings.Builder
	chunks := 0
	for _, line := range lines {
		if !line.Done {
			chunks++
		}
		assembled.WriteString(line.Message.Content)
	}
	if got, want := assembled.String(), "You said: how are you"; got != want {
		t.Errorf("assembled content is %q, want %q", got, want)
	}
	if chunks < 2 {
		t.Errorf("got %d chunks, want the words in several chunks", chunks)
	}
	final := lines[len(lines)-1]
	if final.DoneReason != "stop" {
		t.Errorf("done reason is %q, want stop", final.DoneReason)
	}
	if final.EvalCount != chunks {
		t.Errorf("eval count is %d, want %d, the number of chunks", final.EvalCount, chunks)
	}
	if final.PromptEvalCount != 9 {
		t.Errorf("prompt eval count is %d, want 9, the words in all messages", final.PromptEvalCount)
	}
}

func TestChatWithoutStream(t *testing.T) {
	s := ollamatest.NewServer(t)
	call := toolCall("search", "query", "weather")
	s.Enqueue(ollamatest.Reply{
		Chunks:    []string{"Looking ", "it up."},
		ToolCalls: map[int][]api.ToolCall{1: {call}},
	})
	req := userChat("llama3.2", "weather?")
	req.Stream = new(bool)

	lines, err := collectChat(t, newClient(t, s), req)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	if len(lines) != 1 {
		t.Fatalf("got %d responses, want 1 for stream false", len(lines))
	}
	if !lines[0].Done {
		t.Errorf("response has done false, want true")
	}
	if got := lines[0].Message.Content; got != "Looking it up." {
		t.Errorf("content is %q, want the joined chunks %q", got, "Looking it up.")
	}
	if got := len(lines[0].Message.ToolCalls); got != 1 {
		t.Fatalf("got %d tool calls, want 1", got)
	}
	if got := lines[0].Message.ToolCalls[0].Function.Name; got != "search" {
		t.Errorf("tool call name is %q, want search", got)
	}
}

func TestChatToolCalls(t *testing.T) {
	tests := []struct {
		name string
		line int // index of the line that carries the tool call
	}{
		{"middle chunk", 1},
		{"first chunk", 0},
		{"final line", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ollamatest.NewServer(t)
			s.Enqueue(ollamatest.Reply{
				Chunks:    []string{"Checking ", "the ", "weather."},
				ToolCalls: map[int][]api.ToolCall{tt.line: {toolCall("get_weather", "city", "Paris")}},
			})

			lines, err := collectChat(t, newClient(t, s), userChat("llama3.2", "weather in Paris?"))
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if len(lines) != 4 {
				t.Fatalf("got %d lines, want 4", len(lines))
			}

			for i, line := range lines {
				calls := line.Message.ToolCalls
				if i != tt.line {
					if len(calls) != 0 {
						t.Errorf("line %d has %d tool calls, want none", i, len(calls))
					}
					continue
				}

				if len(calls) != 1 {
					t.Fatalf("line %d has %d tool calls, want 1", i, len(calls))
				}
				if calls[0].ID != "call_get_weather" {
					t.Errorf("tool call ID is %q, want call_get_weather", calls[0].ID)
				}
				if calls[0].Function.Name != "get_weather" {
					t.Errorf("tool call name is %q, want get_weather", calls[0].Function.Name)
				}
				city, ok := calls[0].Function.Arguments.Get("city")
				if !ok || city != "Paris" {
					t.Errorf("tool call argument city is %v (present %t), want Paris", city, ok)
				}
			}
		})
	}
}

func TestChatStatusError(t *testing.T) {
	s := ollamatest.NewServer(t)
	s.Enqueue(ollamatest.Reply{Status: http.StatusServiceUnavailable, Error: "server busy, please try again"})

	lines, err := collectChat(t, newClient(t, s), userChat("llama3.2", "hi"))

	var statusErr api.StatusError
	if !errors.As(err, &statusErr) {
		t.Fatalf("Chat error is %v (%T), want api.StatusError", err, err)
	}
	if statusErr.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status code is %d, want 503", statusErr.StatusCode)
	}
	if statusErr.ErrorMessage != "server busy, please try again" {
		t.Errorf("error message is %q, want %q", statusErr.ErrorMessage, "server busy, please try again")
	}
	if len(lines) != 0 {
		t.Errorf("got %d lines, want none with an error status", len(lines))
	}
}

func TestModelNotInstalled(t *testing.T) {
	const want = `model "missing" not found, try pulling it first`
	tests := []struct {
		name string
		call func(context.Context, *api.Client) error
	}{
		{"chat", func(ctx context.Context, c *api.Client) error {
			return c.Chat(ctx, userChat("missing", "hi"), func(api.ChatResponse) error { return nil })
		}},
		{"embed", func(ctx context.Context, c *api.Client) error {
			_, err := c.Embed(ctx, &api.EmbedRequest{Model: "missing", Input: "hi"})
			return err
		}},
		{"show", func(ctx context.Context, c *api.Client) error {
			_, err := c.Show(ctx, &api.ShowRequest{Model: "missing"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ollamatest.NewServer(t)

			err := tt.call(t.Context(), newClient(t, s))

			var statusErr api.StatusError
			if !errors.As(err, &statusErr) {
				t.Fatalf("error is %v (%T), want api.StatusError", err, err)
			}
			if statusErr.StatusCode != http.StatusNotFound {
				t.Errorf("status code is %d, want 404", statusErr.StatusCode)
			}
			if statusErr.ErrorMessage != want {
				t.Errorf("error message is %q, want %q", statusErr.ErrorMessage, want)
			}
		})
	}
}

func TestModelNameLatestTag(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)

	if _, err := collectChat(t, client, userChat("llama3.2:latest", "hi")); err != nil {
		t.Errorf("chat with llama3.2:latest: %v, want it to match llama3.2", err)
	}

	s.SetModels("qwen3:8b")
	if _, err := collectChat(t, client, userChat("qwen3", "hi")); err == nil {
		t.Errorf("chat with qwen3 succeeded, want not found because only qwen3:8b is installed")
	}
	if _, err := collectChat(t, client, userChat("qwen3:8b", "hi")); err != nil {
		t.Errorf("chat with qwen3:8b: %v", err)
	}
}

func TestChatDropAfter(t *testing.T) {
	t.Run("api client", func(t *testing.T) {
		s := ollamatest.NewServer(t)
		s.Enqueue(ollamatest.Reply{Chunks: []string{"one ", "two ", "three"}, DropAfter: 2})

		lines, err := collectChat(t, newClient(t, s), userChat("llama3.2", "hi"))

		// api.Client of Ollama 0.17.4 returns nil here, so the missing
		// final line is what shows the drop.
		t.Logf("Chat returned %v", err)
		if len(lines) != 2 {
			t.Fatalf("got %d lines, want the 2 before the drop", len(lines))
		}
		if lines[0].Message.Content != "one " || lines[1].Message.Content != "two " {
			t.Errorf("got contents %q and %q, want %q and %q", lines[0].Message.Content, lines[1].Message.Content, "one ", "two ")
		}
		for i, line := range lines {
			if line.Done {
				t.Errorf("line %d has done set, want no final line after a drop", i)
			}
		}
	})

	t.Run("wire", func(t *testing.T) {
		s := ollamatest.NewServer(t)
		s.Enqueue(ollamatest.Reply{Chunks: []string{"one ", "two ", "three"}, DropAfter: 2})
		body, err := json.Marshal(userChat("llama3.2", "hi"))
		if err != nil {
			t.Fatal(err)
		}

		resp, err := http.Post(s.URL()+"/api/chat", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST /api/chat: %v", err)
		}
		defer resp.Body.Close()
		received, err := io.ReadAll(resp.Body)

		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading the body returned %v, want io.ErrUnexpectedEOF", err)
		}
		if got := strings.Count(string(received), "\n"); got != 2 {
			t.Errorf("received %d lines before the drop, want 2:\n%s", got, received)
		}
	})

	t.Run("without stream", func(t *testing.T) {
		s := ollamatest.NewServer(t)
		s.Enqueue(ollamatest.Reply{Chunks: []string{"one ", "two"}, DropAfter: 1})
		req := userChat("llama3.2", "hi")
		req.Stream = new(bool)

		lines, err := collectChat(t, newClient(t, s), req)

		if err == nil {
			t.Errorf("Chat returned nil, want an error because the connection closed before any response")
		}
		if len(lines) != 0 {
			t.Errorf("got %d responses, want none", len(lines))
		}
	})
}

func TestChatHoldAfterWaitsForRelease(t *testing.T) {
	s := ollamatest.NewServer(t)
	s.Enqueue(ollamatest.Reply{Chunks: []string{"one ", "two ", "three"}, HoldAfter: 2})
	client := newClient(t, s)

	lines := make(chan api.ChatResponse, 10)
	chatErr := make(chan error, 1)
	go func() {
		chatErr <- client.Chat(t.Context(), userChat("llama3.2", "hi"), func(r api.ChatResponse) error {
			lines <- r
			return nil
		})
	}()

	for _, want := range []string{"one ", "two "} {
		if got := receive(t, lines).Message.Content; got != want {
			t.Fatalf("got chunk %q before the hold, want %q", got, want)
		}
	}
	select {
	case line := <-lines:
		t.Fatalf("got line %q before Release, want none", line.Message.Content)
	case err := <-chatErr:
		t.Fatalf("Chat returned %v before Release, want it to wait", err)
	default:
	}

	s.Release()

	if got := receive(t, lines).Message.Content; got != "three" {
		t.Errorf("got chunk %q after Release, want %q", got, "three")
	}
	if final := receive(t, lines); !final.Done {
		t.Errorf("last line has done false, want the final line")
	}
	if err := receive(t, chatErr); err != nil {
		t.Errorf("Chat: %v", err)
	}
}

func TestChatHoldEndsWithRequest(t *testing.T) {
	s := ollamatest.NewServer(t)
	s.Enqueue(ollamatest.Reply{Chunks: []string{"one ", "two"}, HoldAfter: 1})
	client := newClient(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	lines := make(chan api.ChatResponse, 10)
	chatErr := make(chan error, 1)
	go func() {
		chatErr <- client.Chat(ctx, userChat("llama3.2", "hi"), func(r api.ChatResponse) error {
			lines <- r
			return nil
		})
	}()
	receive(t, lines)

	cancel()

	// api.Client of Ollama 0.17.4 returns nil or context.Canceled here,
	// depending on where the cancel lands, so only its return is checked.
	t.Logf("Chat returned %v", receive(t, chatErr))
	select {
	case line := <-lines:
		t.Errorf("got line %q after the cancel, want none", line.Message.Content)
	default:
	}

	// The held handler must have ended, or this chat would get its reply
	// from a stale queue position or hang.
	after, err := collectChat(t, client, userChat("llama3.2", "again"))
	if err != nil {
		t.Fatalf("Chat after cancel: %v", err)
	}
	if got := after[0].Message.Content; got != "You " {
		t.Errorf("next chat starts with %q, want the echo reply", got)
	}
}

func TestChatDelayBetweenChunks(t *testing.T) {
	s := ollamatest.NewServer(t)
	s.Enqueue(ollamatest.Reply{Chunks: []string{"a", "b"}, DelayMS: 20})

	start := time.Now()
	lines, err := collectChat(t, newClient(t, s), userChat("llama3.2", "hi"))
	elapsed := time.Since(start)

	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if len(lines) != 3 {
		t.Errorf("got %d lines, want 3", len(lines))
	}
	// Three lines with 20 ms before each take at least 60 ms.
	if elapsed < 60*time.Millisecond {
		t.Errorf("chat took %v, want at least 60ms", elapsed)
	}
}

func TestEmbed(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)
	texts := []string{"Cats like fish.", "Cats like fish.", "fish like cats too", "Quarterly stock market report"}

	resp, err := client.Embed(t.Context(), &api.EmbedRequest{Model: "nomic-embed-text", Input: texts})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}

	if resp.Model != "nomic-embed-text" {
		t.Errorf("model is %q, want nomic-embed-text", resp.Model)
	}
	if len(resp.Embeddings) != len(texts) {
		t.Fatalf("got %d vectors, want %d", len(resp.Embeddings), len(texts))
	}
	for i, v := range resp.Embeddings {
		if len(v) != ollamatest.DefaultEmbedDimension {
			t.Errorf("vector %d has dimension %d, want %d", i, len(v), ollamatest.DefaultEmbedDimension)
		}
		if n := norm(v); math.Abs(n-1) > 1e-5 {
			t.Errorf("vector %d has norm %v, want 1", i, n)
		}
	}
	if !slices.Equal(resp.Embeddings[0], resp.Embeddings[1]) {
		t.Errorf("equal texts got different vectors")
	}
	related := cosine(resp.Embeddings[0], resp.Embeddings[2])
	unrelated := cosine(resp.Embeddings[0], resp.Embeddings[3])
	if related <= unrelated {
		t.Errorf("cosine of texts sharing words is %v, want more than %v for texts sharing none", related, unrelated)
	}
	if related > 0.999 {
		t.Errorf("cosine of different texts with the same words is %v, want them apart", related)
	}
}

func TestEmbedDimension(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)
	s.SetEmbedDimension(32)

	full, err := client.Embed(t.Context(), &api.EmbedRequest{Model: "nomic-embed-text", Input: "hello"})
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(full.Embeddings) != 1 || len(full.Embeddings[0]) != 32 {
		t.Fatalf("got vectors of shape %d×%d, want 1×32", len(full.Embeddings), len(full.Embeddings[0]))
	}

	truncated, err := client.Embed(t.Context(), &api.EmbedRequest{Model: "nomic-embed-text", Input: "hello", Dimensions: 8})
	if err != nil {
		t.Fatalf("Embed with dimensions 8: %v", err)
	}
	v := truncated.Embeddings[0]
	if len(v) != 8 {
		t.Fatalf("got dimension %d, want 8", len(v))
	}
	if n := norm(v); math.Abs(n-1) > 1e-5 {
		t.Errorf("truncated vector has norm %v, want 1", n)
	}
	if cosine(v, full.Embeddings[0][:8]) < 0.9999 {
		t.Errorf("truncated vector is not the normalised prefix of the full vector")
	}
}

func TestEmbedInvalidInput(t *testing.T) {
	s := ollamatest.NewServer(t)

	_, err := newClient(t, s).Embed(t.Context(), &api.EmbedRequest{Model: "nomic-embed-text", Input: []any{"ok", 3}})

	var statusErr api.StatusError
	if !errors.As(err, &statusErr) {
		t.Fatalf("error is %v (%T), want api.StatusError", err, err)
	}
	if statusErr.StatusCode != http.StatusBadRequest || statusErr.ErrorMessage != "invalid input type" {
		t.Errorf("got %d %q, want 400 %q", statusErr.StatusCode, statusErr.ErrorMessage, "invalid input type")
	}
}

func TestPullStreamsProgressThenLists(t *testing.T) {
	s := ollamatest.NewServer(t)
	s.SetModels()
	client := newClient(t, s)

	var progress []api.ProgressResponse
	err := client.Pull(t.Context(), &api.PullRequest{Model: "qwen3"}, func(p api.ProgressResponse) error {
		progress = append(progress, p)
		return nil
	})
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}

	var statuses []string
	layerLines := 0
	for _, p := range progress {
		statuses = append(statuses, p.Status)
		if p.Digest == "" {
			continue
		}
		layerLines++
		if !strings.HasPrefix(p.Digest, "sha256:") || p.Total <= 0 || p.Completed > p.Total {
			t.Errorf("layer line %+v, want a sha256 digest and 0 <= completed <= total", p)
		}
	}
	if layerLines < 3 {
		t.Errorf("got %d layer progress lines, want several", layerLines)
	}
	if statuses[0] != "pulling manifest" {
		t.Errorf("first status is %q, want pulling manifest", statuses[0])
	}
	if tail := statuses[len(statuses)-3:]; !slices.Equal(tail, []string{"verifying sha256 digest", "writing manifest", "success"}) {
		t.Errorf("last statuses are %q, want verifying, writing manifest, success", tail)
	}

	list, err := client.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list.Models) != 1 || list.Models[0].Name != "qwen3:latest" {
		t.Errorf("listed models %+v, want only qwen3:latest", list.Models)
	}
	if _, err := collectChat(t, client, userChat("qwen3", "hi")); err != nil {
		t.Errorf("chat with the pulled model: %v", err)
	}
}

func TestPullWithoutStream(t *testing.T) {
	s := ollamatest.NewServer(t)
	s.SetModels()

	var progress []api.ProgressResponse
	err := newClient(t, s).Pull(t.Context(), &api.PullRequest{Model: "phi4", Stream: new(bool)}, func(p api.ProgressResponse) error {
		progress = append(progress, p)
		return nil
	})
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}

	if len(progress) != 1 || progress[0].Status != "success" {
		t.Errorf("got progress %+v, want one success line", progress)
	}
}

func TestTagsListsDefaultModels(t *testing.T) {
	s := ollamatest.NewServer(t)

	list, err := newClient(t, s).List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}

	var names []string
	for _, m := range list.Models {
		names = append(names, m.Name)
		if m.Size <= 0 || m.Digest == "" || m.Details.Family == "" {
			t.Errorf("model %s has size %d, digest %q, family %q, want all set", m.Name, m.Size, m.Digest, m.Details.Family)
		}
	}
	if want := []string{"llama3.2:latest", "nomic-embed-text:latest"}; !slices.Equal(names, want) {
		t.Errorf("listed %q, want %q", names, want)
	}
}

func TestShowContextLength(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)

	resp, err := client.Show(t.Context(), &api.ShowRequest{Model: "llama3.2"})
	if err != nil {
		t.Fatalf("Show: %v", err)
	}
	if got := resp.ModelInfo["llama.context_length"]; got != float64(ollamatest.DefaultContextLength) {
		t.Errorf("llama.context_length is %v, want %d", got, ollamatest.DefaultContextLength)
	}
	if !hasCapability(resp, "completion") || !hasCapability(resp, "tools") {
		t.Errorf("capabilities are %v, want completion and tools", resp.Capabilities)
	}

	s.SetContextLength(4096)
	resp, err = client.Show(t.Context(), &api.ShowRequest{Model: "nomic-embed-text"})
	if err != nil {
		t.Fatalf("Show: %v", err)
	}
	if got := resp.ModelInfo["nomic-bert.context_length"]; got != float64(4096) {
		t.Errorf("nomic-bert.context_length is %v, want 4096", got)
	}
	if got := resp.ModelInfo["nomic-bert.embedding_length"]; got != float64(ollamatest.DefaultEmbedDimension) {
		t.Errorf("nomic-bert.embedding_length is %v, want %d", got, ollamatest.DefaultEmbedDimension)
	}
	if !hasCapability(resp, "embedding") {
		t.Errorf("capabilities are %v, want embedding", resp.Capabilities)
	}
}

func TestVersionAndHeartbeat(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)

	version, err := client.Version(t.Context())
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if version != ollamatest.Version {
		t.Errorf("version is %q, want %q", version, ollamatest.Version)
	}
	if err := client.Heartbeat(t.Context()); err != nil {
		t.Errorf("Heartbeat: %v", err)
	}

	resp, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "Ollama is running" {
		t.Errorf("GET / body is %q, want %q", body, "Ollama is running")
	}
}

func TestRequestsRecorded(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)

	if _, err := collectChat(t, client, userChat("llama3.2", "remember this")); err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if _, err := client.Embed(t.Context(), &api.EmbedRequest{Model: "nomic-embed-text", Input: []string{"a", "b"}}); err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if err := client.Pull(t.Context(), &api.PullRequest{Model: "phi4"}, func(api.ProgressResponse) error { return nil }); err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if _, err := client.List(t.Context()); err != nil {
		t.Fatalf("List: %v", err)
	}

	var routes []string
	for _, r := range s.Requests() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	want := []string{"POST /api/chat", "POST /api/embed", "POST /api/pull", "GET /api/tags"}
	if !slices.Equal(routes, want) {
		t.Errorf("recorded %q, want %q", routes, want)
	}

	chats := s.ChatRequests()
	if len(chats) != 1 || chats[0].Messages[0].Content != "remember this" {
		t.Fatalf("chat requests are %+v, want one with the user message", chats)
	}
	chats[0].Messages[0].Content = "changed"
	if got := s.ChatRequests()[0].Messages[0].Content; got != "remember this" {
		t.Errorf("changing a returned request changed the record to %q", got)
	}

	embeds := s.EmbedRequests()
	if len(embeds) != 1 || embeds[0].Model != "nomic-embed-text" {
		t.Errorf("embed requests are %+v, want one for nomic-embed-text", embeds)
	}
	pulls := s.PullRequests()
	if len(pulls) != 1 || pulls[0].Model != "phi4" {
		t.Errorf("pull requests are %+v, want one for phi4", pulls)
	}
}

func TestReset(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)
	s.Enqueue(ollamatest.Reply{Chunks: []string{"scripted"}})
	s.SetModels("other")
	s.SetContextLength(100)
	if _, err := client.List(t.Context()); err != nil {
		t.Fatalf("List: %v", err)
	}

	s.Reset()

	if got := len(s.Requests()); got != 0 {
		t.Errorf("got %d recorded requests after Reset, want 0", got)
	}
	lines, err := collectChat(t, client, userChat("llama3.2", "hi"))
	if err != nil {
		t.Fatalf("Chat with a default model after Reset: %v", err)
	}
	if got := lines[0].Message.Content; got == "scripted" {
		t.Errorf("chat got the queued reply after Reset, want the echo reply")
	}
	show, err := client.Show(t.Context(), &api.ShowRequest{Model: "llama3.2"})
	if err != nil {
		t.Fatalf("Show: %v", err)
	}
	if got := show.ModelInfo["llama.context_length"]; got != float64(ollamatest.DefaultContextLength) {
		t.Errorf("context length after Reset is %v, want %d", got, ollamatest.DefaultContextLength)
	}
}

func TestEnqueuePanicsOnInvalidReply(t *testing.T) {
	tests := []struct {
		name  string
		reply ollamatest.Reply
	}{
		{"hold after past chunks", ollamatest.Reply{Chunks: []string{"a"}, HoldAfter: 2}},
		{"drop after past chunks", ollamatest.Reply{Chunks: []string{"a"}, DropAfter: 2}},
		{"negative delay", ollamatest.Reply{DelayMS: -1}},
		{"success status", ollamatest.Reply{Status: http.StatusOK}},
		{"error without status", ollamatest.Reply{Error: "boom"}},
		{"tool call past final line", ollamatest.Reply{Chunks: []string{"a"}, ToolCalls: map[int][]api.ToolCall{2: nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ollamatest.New()
			defer func() {
				if recover() == nil {
					t.Errorf("Enqueue(%+v) did not panic", tt.reply)
				}
			}()
			s.Enqueue(tt.reply)
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	s := ollamatest.NewServer(t)
	client := newClient(t, s)
	const workers = 8
	for range workers {
		s.Enqueue(ollamatest.Reply{Chunks: []string{"a", "b"}})
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for range workers {
		wg.Go(func() {
			_, err := collectChat(t, client, userChat("llama3.2", "hi"))
			errs <- err
		})
		wg.Go(func() {
			_, err := client.Embed(t.Context(), &api.EmbedRequest{Model: "nomic-embed-text", Input: "x"})
			errs <- err
			s.Requests()
		})
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Errorf("concurrent request: %v", err)
		}
	}
	if got := len(s.ChatRequests()); got != workers {
		t.Errorf("recorded %d chat requests, want %d", got, workers)
	}
}

func TestURLEmptyForNew(t *testing.T) {
	if got := ollamatest.New().URL(); got != "" {
		t.Errorf("URL of a Server made with New is %q, want empty", got)
	}
}

func norm(v []float32) float64 {
	var squares float64
	for _, x := range v {
		squares += float64(x) * float64(x)
	}
	return math.Sqrt(squares)
}

func cosine(a, b []float32) float64 {
	var dot float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
	}
	return dot / (norm(a) * norm(b))
}

func hasCapability(resp *api.ShowResponse, want string) bool {
	for _, c := range resp.Capabilities {
		if string(c) == want {
			return true
		}
	}
	return false
}
