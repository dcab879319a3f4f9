package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"hearth/app/openaitest"
)

// openaiTestKey is the API key the fake requires in tests that set one.
const openaiTestKey = "sk-test-7f3a9c1e5b2d4f6a8c0e"

// newTestOpenAI returns an OpenAI backend for the API at baseURL with the
// fake's default model.
func newTestOpenAI(t *testing.T, baseURL, apiKey string) *OpenAI {
	t.Helper()
	o, err := NewOpenAI(baseURL, apiKey, openaitest.DefaultModel, nil)
	if err != nil {
		t.Fatalf("NewOpenAI(%q): %v", baseURL, err)
	}
	return o
}

// chatOpenAI runs a chat with one user message and returns every chunk fn
// received.
func chatOpenAI(t *testing.T, o *OpenAI, req ChatRequest) ([]ChatChunk, error) {
	t.Helper()
	if req.Messages == nil {
		req.Messages = []ChatMessage{{Role: "user", Content: "hi"}}
	}
	var chunks []ChatChunk
	err := o.Chat(t.Context(), req, func(c ChatChunk) error {
		chunks = append(chunks, c)
		return nil
	})
	return chunks, err
}

// contentOf joins the content of chunks.
func contentOf(chunks []ChatChunk) string {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(c.Content)
	}
	return b.String()
}

// toolCallsOf returns the tool calls of all chunks, in order.
func toolCallsOf(chunks []ChatChunk) []ToolCall {
	var calls []ToolCall
	for _, c := range chunks {
		calls = append(calls, c.ToolCalls...)
	}
	return calls
}

// backendErrorOf returns err as a *BackendError, failing the test when it
// is not one.
func backendErrorOf(t *testing.T, err error) *BackendError {
	t.Helper()
	var be *BackendError
	if !errors.As(err, &be) {
		t.Fatalf("error is %T %v, want a *BackendError", err, err)
	}
	return be
}

// chatRequestCount counts the chat completion requests the fake received.
func chatRequestCount(s *openaitest.Server) int {
	return len(s.ChatRequests())
}

func TestOpenAIChatStreamsText(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Hel", "lo, ", "world")})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	if len(chunks) != 4 {
		t.Fatalf("got %d chunks, want 3 content chunks and the final one: %+v", len(chunks), chunks)
	}
	for i, want := range []string{"Hel", "lo, ", "world"} {
		if chunks[i].Content != want {
			t.Errorf("chunk %d content is %q, want %q", i, chunks[i].Content, want)
		}
		if chunks[i].Done {
			t.Errorf("chunk %d has Done set, want only the final chunk to", i)
		}
	}
	final := chunks[3]
	if !final.Done {
		t.Errorf("final chunk has Done false, want true")
	}
	if final.Content != "" || len(final.ToolCalls) != 0 {
		t.Errorf("final chunk is %+v, want no content and no tool calls", final)
	}
}

func TestOpenAIChatUsage(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{
		Chunks:           openaitest.TextChunks("a", "b"),
		PromptTokens:     120,
		CompletionTokens: 7,
	})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	final := chunks[len(chunks)-1]
	if final.PromptTokens != 120 {
		t.Errorf("prompt tokens are %d, want 120", final.PromptTokens)
	}
	if final.ReplyTokens != 7 {
		t.Errorf("reply tokens are %d, want 7", final.ReplyTokens)
	}
	for i, c := range chunks[:len(chunks)-1] {
		if c.PromptTokens != 0 || c.ReplyTokens != 0 {
			t.Errorf("chunk %d has token counts %d/%d, want them only on the final chunk", i, c.PromptTokens, c.ReplyTokens)
		}
	}
}

func TestOpenAIChatToolCalls(t *testing.T) {
	tests := []struct {
		name        string
		chunks      []openaitest.Chunk
		wantContent string
		wantCalls   []ToolCall
	}{
		{
			name: "arguments in four deltas",
			chunks: []openaitest.Chunk{
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search"}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `{"que`}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `ry": "wea`}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `ther in `}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `Paris"}`}}},
			},
			wantCalls: []ToolCall{{ID: "call_a", Name: "search", Arguments: `{"query": "weather in Paris"}`}},
		},
		{
			name: "two calls with interleaved deltas",
			chunks: []openaitest.Chunk{
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q":`}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 1, ID: "call_b", Name: "remember", Arguments: `{"fact":`}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `"tea"}`}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 1, Arguments: `"likes tea"}`}}},
			},
			wantCalls: []ToolCall{
				{ID: "call_a", Name: "search", Arguments: `{"q":"tea"}`},
				{ID: "call_b", Name: "remember", Arguments: `{"fact":"likes tea"}`},
			},
		},
		{
			name: "two calls in one chunk",
			chunks: []openaitest.Chunk{
				{ToolCalls: []openaitest.ToolCallDelta{
					{Index: 0, ID: "call_a", Name: "search", Arguments: `{}`},
					{Index: 1, ID: "call_b", Name: "clock", Arguments: `{}`},
				}},
			},
			wantCalls: []ToolCall{
				{ID: "call_a", Name: "search", Arguments: `{}`},
				{ID: "call_b", Name: "clock", Arguments: `{}`},
			},
		},
		{
			name: "text and a call in one chunk",
			chunks: []openaitest.Chunk{
				{Content: "Let me look.", ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q":"x"}`}}},
			},
			wantContent: "Let me look.",
			wantCalls:   []ToolCall{{ID: "call_a", Name: "search", Arguments: `{"q":"x"}`}},
		},
		{
			name: "malformed arguments passed through",
			chunks: []openaitest.Chunk{
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q": "unterminated`}}},
			},
			wantCalls: []ToolCall{{ID: "call_a", Name: "search", Arguments: `{"q": "unterminated`}},
		},
		{
			name: "call without an ID",
			chunks: []openaitest.Chunk{
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Name: "clock", Arguments: `{}`}}},
			},
			wantCalls: []ToolCall{{ID: "call_1", Name: "clock", Arguments: `{}`}},
		},
		{
			// A server that leaves out the index sends every call at 0.
			name: "second ID at the same index",
			chunks: []openaitest.Chunk{
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q":"x"}`}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_b", Name: "clock", Arguments: `{}`}}},
			},
			wantCalls: []ToolCall{
				{ID: "call_a", Name: "search", Arguments: `{"q":"x"}`},
				{ID: "call_b", Name: "clock", Arguments: `{}`},
			},
		},
		{
			name: "ID and name repeated in every delta",
			chunks: []openaitest.Chunk{
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q":`}}},
				{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `"x"}`}}},
			},
			wantCalls: []ToolCall{{ID: "call_a", Name: "search", Arguments: `{"q":"x"}`}},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.NewServer(t)
			s.Enqueue(openaitest.Reply{Chunks: tt.chunks})

			chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}

			if got := contentOf(chunks); got != tt.wantContent {
				t.Errorf("content is %q, want %q", got, tt.wantContent)
			}
			calls := toolCallsOf(chunks)
			if len(calls) != len(tt.wantCalls) {
				t.Fatalf("got %d tool calls %+v, want %d %+v", len(calls), calls, len(tt.wantCalls), tt.wantCalls)
			}
			for i, want := range tt.wantCalls {
				if calls[i] != want {
					t.Errorf("tool call %d is %+v, want %+v", i, calls[i], want)
				}
			}
			final := chunks[len(chunks)-1]
			if !final.Done {
				t.Errorf("last chunk has Done false, want true")
			}
			if len(final.ToolCalls) != len(tt.wantCalls) {
				t.Errorf("final chunk has %d tool calls, want all %d on it", len(final.ToolCalls), len(tt.wantCalls))
			}
		})
	}
}

func TestOpenAIChatErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(s *openaitest.Server)
		apiKey    string
		model     string
		wantCode  string
		wantModel string
		// wantInMessage is a part of the BackendError's message.
		wantInMessage string
	}{
		{
			name:          "wrong API key",
			setup:         func(s *openaitest.Server) { s.SetAPIKey("sk-the-right-one") },
			apiKey:        openaiTestKey,
			wantCode:      CodeBackendAuth,
			wantInMessage: "check the key in Settings",
		},
		{
			name:          "missing API key",
			setup:         func(s *openaitest.Server) { s.SetAPIKey("sk-the-right-one") },
			wantCode:      CodeBackendAuth,
			wantInMessage: "requires an API key",
		},
		{
			name: "forbidden",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{Status: http.StatusForbidden, Error: "Project does not have access to this model."})
			},
			wantCode:      CodeBackendAuth,
			wantInMessage: "Project does not have access",
		},
		{
			name: "context length exceeded code",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{Status: http.StatusBadRequest, Error: "Please reduce the length of the messages.", ErrorCode: "context_length_exceeded"})
			},
			wantCode: CodeContextTooLong,
		},
		{
			name: "llama.cpp context size message",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{
					Status:    http.StatusBadRequest,
					Error:     "request (9412 tokens) exceeds the available context size (8192 tokens), try increasing it",
					ErrorType: "exceed_context_size_error",
				})
			},
			wantCode: CodeContextTooLong,
		},
		{
			name: "vLLM maximum context message",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{Status: http.StatusBadRequest, Error: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens."})
			},
			wantCode: CodeContextTooLong,
		},
		{
			name:          "model not found",
			model:         "gpt-nonexistent",
			wantCode:      CodeModelNotFound,
			wantModel:     "gpt-nonexistent",
			wantInMessage: "gpt-nonexistent",
		},
		{
			name: "server error",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{Status: http.StatusInternalServerError, Error: "The engine is overloaded."})
			},
			wantCode:      CodeBackendFailed,
			wantInMessage: "The engine is overloaded.",
		},
		{
			name: "error event in the stream",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Hal", "f"), ErrorAfter: 1, Error: "Upstream provider failed."})
			},
			wantCode:      CodeBackendFailed,
			wantInMessage: "Upstream provider failed.",
		},
		{
			name: "context length in an error event",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("x"), ErrorAfter: 1, ErrorCode: "context_length_exceeded", Error: "too long"})
			},
			wantCode: CodeContextTooLong,
		},
		{
			name: "used-up quota",
			setup: func(s *openaitest.Server) {
				s.Enqueue(openaitest.Reply{Status: http.StatusTooManyRequests, Error: "You exceeded your current quota.", ErrorCode: "insufficient_quota", RetryAfter: "1"})
			},
			wantCode:      CodeBackendFailed,
			wantInMessage: "no quota left",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.NewServer(t)
			if tt.setup != nil {
				tt.setup(s)
			}

			_, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), tt.apiKey), ChatRequest{Model: tt.model})

			be := backendErrorOf(t, err)
			if be.Code != tt.wantCode {
				t.Errorf("code is %q, want %q (message %q)", be.Code, tt.wantCode, be.Message)
			}
			if be.Model != tt.wantModel {
				t.Errorf("model is %q, want %q", be.Model, tt.wantModel)
			}
			if !strings.Contains(strings.ToLower(be.Message), strings.ToLower(tt.wantInMessage)) {
				t.Errorf("message is %q, want it to contain %q", be.Message, tt.wantInMessage)
			}
			if got := chatRequestCount(s); got != 1 {
				t.Errorf("server got %d chat requests, want 1, with no retry", got)
			}
		})
	}
}

func TestOpenAIChatKeepsKeyOutOfErrors(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetAPIKey("sk-the-right-one")
	// The fake repeats a wrong key in full in its 401 message.
	o := newTestOpenAI(t, s.URL(), openaiTestKey)

	_, err := chatOpenAI(t, o, ChatRequest{})

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendAuth {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendAuth)
	}
	for _, text := range []string{err.Error(), be.Message, be.Err.Error()} {
		if strings.Contains(text, openaiTestKey) {
			t.Errorf("error text %q contains the API key", text)
		}
	}
	if !strings.Contains(be.Message, "[API key]") {
		t.Errorf("message is %q, want the server's text with the key replaced by [API key]", be.Message)
	}
	if strings.Contains(o.Describe().URL, openaiTestKey) {
		t.Errorf("Describe URL %q contains the API key", o.Describe().URL)
	}
}

func TestOpenAIChatUnreachable(t *testing.T) {
	base := closedLoopbackURL(t) + "/v1"

	_, err := chatOpenAI(t, newTestOpenAI(t, base, ""), ChatRequest{})

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendUnreachable {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendUnreachable)
	}
	if !strings.Contains(be.Message, base) {
		t.Errorf("message %q does not name the URL %s", be.Message, base)
	}
}

func TestOpenAIChatWrongBaseURL(t *testing.T) {
	s := openaitest.NewServer(t)
	root := strings.TrimSuffix(s.URL(), "/v1")

	_, err := chatOpenAI(t, newTestOpenAI(t, root, ""), ChatRequest{})

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendFailed {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendFailed)
	}
	if !strings.Contains(be.Message, "/v1") {
		t.Errorf("message %q does not suggest the /v1 path", be.Message)
	}
}

func TestOpenAIChatDropped(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Half ", "a reply"), DropAfter: 1})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendDisconnected {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendDisconnected)
	}
	if !strings.Contains(be.Message, "continue or regenerate") {
		t.Errorf("message %q does not say to continue or regenerate", be.Message)
	}
	if got := contentOf(chunks); got != "Half " {
		t.Errorf("content before the drop is %q, want %q", got, "Half ")
	}
	for _, c := range chunks {
		if c.Done {
			t.Errorf("got a Done chunk from a dropped stream")
		}
	}
}

func TestOpenAIChatDroppedAfterToolCallDelta(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{
		Chunks: []openaitest.Chunk{
			{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q":`}}},
			{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `"x"}`}}},
		},
		DropAfter: 1,
	})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendDisconnected {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendDisconnected)
	}
	if calls := toolCallsOf(chunks); len(calls) != 0 {
		t.Errorf("got tool calls %+v from a dropped stream, want none", calls)
	}
}

func TestOpenAIChatDroppedAfterFinish(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{
		Chunks: []openaitest.Chunk{
			{Content: "Done.", ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "clock", Arguments: `{}`}}},
		},
		DropAfter: 2,
	})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})

	// The finish reason arrived, so only the usage is lost.
	if err != nil {
		t.Fatalf("Chat: %v, want success for a drop after the finish reason", err)
	}
	final := chunks[len(chunks)-1]
	if !final.Done || len(final.ToolCalls) != 1 {
		t.Errorf("final chunk is %+v, want Done with the tool call", final)
	}
	if final.PromptTokens != 0 || final.ReplyTokens != 0 {
		t.Errorf("token counts are %d/%d, want 0 without the usage chunk", final.PromptTokens, final.ReplyTokens)
	}
	if got := contentOf(chunks); got != "Done." {
		t.Errorf("content is %q, want %q", got, "Done.")
	}
}

func TestOpenAIChatRetriesAfterRateLimit(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Status: http.StatusTooManyRequests, Error: "Rate limit reached.", RetryAfter: "1"})
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Hello")})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	if len(chunks) == 0 || chunks[0].RetryIn != time.Second {
		t.Fatalf("chunks are %+v, want a first chunk with RetryIn 1s", chunks)
	}
	if chunks[0].Content != "" || chunks[0].Done || len(chunks[0].ToolCalls) != 0 {
		t.Errorf("RetryIn chunk is %+v, want it to carry nothing else", chunks[0])
	}
	retries := 0
	for _, c := range chunks {
		if c.RetryIn != 0 {
			retries++
		}
	}
	if retries != 1 {
		t.Errorf("got %d RetryIn chunks, want 1", retries)
	}
	if got := contentOf(chunks); got != "Hello" {
		t.Errorf("content is %q, want %q", got, "Hello")
	}
	if got := chatRequestCount(s); got != 2 {
		t.Errorf("server got %d chat requests, want 2", got)
	}
}

func TestOpenAIChatRateLimitedAfterRetries(t *testing.T) {
	s := openaitest.NewServer(t)
	for range maxRateLimitRetries + 1 {
		s.Enqueue(openaitest.Reply{Status: http.StatusTooManyRequests, Error: "Rate limit reached.", RetryAfterMS: 10})
	}

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendRateLimited {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendRateLimited)
	}
	if be.RetryAfter != 10*time.Millisecond {
		t.Errorf("RetryAfter is %v, want 10ms", be.RetryAfter)
	}
	if !strings.Contains(be.Message, "Rate limit reached") {
		t.Errorf("message %q does not carry the server's message", be.Message)
	}
	if len(chunks) != maxRateLimitRetries {
		t.Errorf("got %d chunks %+v, want %d RetryIn chunks", len(chunks), chunks, maxRateLimitRetries)
	}
	if got := chatRequestCount(s); got != maxRateLimitRetries+1 {
		t.Errorf("server got %d chat requests, want %d", got, maxRateLimitRetries+1)
	}
}

func TestOpenAIChatNoRetryForLongWait(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "120"})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendRateLimited {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendRateLimited)
	}
	if be.RetryAfter != 120*time.Second {
		t.Errorf("RetryAfter is %v, want 2m0s as the server asked", be.RetryAfter)
	}
	if len(chunks) != 0 {
		t.Errorf("got chunks %+v, want none", chunks)
	}
	if got := chatRequestCount(s); got != 1 {
		t.Errorf("server got %d chat requests, want 1", got)
	}
}

func TestOpenAIChatCancelDuringRetryWait(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "60"})
	o := newTestOpenAI(t, s.URL(), "")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	waiting := make(chan time.Duration, 1)
	result := make(chan error, 1)
	go func() {
		result <- o.Chat(ctx, ChatRequest{Messages: []ChatMessage{{Role: "user", Content: "hi"}}}, func(c ChatChunk) error {
			if c.RetryIn > 0 {
				waiting <- c.RetryIn
			}
			return nil
		})
	}()

	if got := receiveWithin(t, waiting); got != 60*time.Second {
		t.Errorf("RetryIn is %v, want 1m0s", got)
	}
	cancel()
	err := receiveWithin(t, result)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("Chat returned %v, want context.Canceled", err)
	}
	if got := chatRequestCount(s); got != 1 {
		t.Errorf("server got %d chat requests, want 1, with no retry after the cancel", got)
	}
}

// receiveWithin returns the next value from ch. The 10 s limit only keeps
// a broken implementation from hanging the test, so it is generous.
func receiveWithin[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received within 10s")
		var zero T
		return zero
	}
}

func TestOpenAIChatCallbackErrorStops(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("one", "two", "three")})
	o := newTestOpenAI(t, s.URL(), "")
	stop := errors.New("stop here")

	var received []string
	err := o.Chat(t.Context(), ChatRequest{Messages: []ChatMessage{{Role: "user", Content: "hi"}}}, func(c ChatChunk) error {
		received = append(received, c.Content)
		return stop
	})

	if !errors.Is(err, stop) {
		t.Errorf("Chat returned %v, want the callback's error", err)
	}
	if len(received) != 1 {
		t.Errorf("callback got %q, want only the first chunk", received)
	}
}

func TestOpenAIChatCancelWhileStreaming(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("one", "two"), HoldAfter: 1})
	o := newTestOpenAI(t, s.URL(), "")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := o.Chat(ctx, ChatRequest{Messages: []ChatMessage{{Role: "user", Content: "hi"}}}, func(c ChatChunk) error {
		if c.Content == "one" {
			cancel()
		}
		return nil
	})

	if !errors.Is(err, context.Canceled) {
		t.Errorf("Chat returned %v, want context.Canceled", err)
	}
}

func TestOpenAIChatLargeDelta(t *testing.T) {
	s := openaitest.NewServer(t)
	large := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks(large)})

	chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}

	if len(chunks) != 2 {
		t.Fatalf("got %d chunks, want the content chunk and the final one", len(chunks))
	}
	if chunks[0].Content != large {
		t.Errorf("content has %d bytes, want the %d bytes sent, unchanged", len(chunks[0].Content), len(large))
	}
}

func TestOpenAIChatMultiByteText(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		split  bool
	}{
		// A delta is JSON text, so a server cannot cut inside a UTF-8
		// character, but it can cut between the code points of one
		// visible character.
		{name: "combining accent in the next delta", chunks: []string{"Cafe", "\u0301 au lait"}},
		{name: "emoji sequence across deltas", chunks: []string{"coder: 👩", "\u200d💻 done"}},
		// SplitWrites cuts the bytes of an event inside a character, so
		// the client reads the character in two pieces.
		{name: "character split across reads", chunks: []string{"Grüße, ", "世界 👋"}, split: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.NewServer(t)
			s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks(tt.chunks...), SplitWrites: tt.split})

			chunks, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{})
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}

			if got, want := contentOf(chunks), strings.Join(tt.chunks, ""); got != want {
				t.Errorf("content is %q, want %q", got, want)
			}
		})
	}
}

func TestOpenAIChatRequest(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetAPIKey(openaiTestKey)
	s.SetModels(openaitest.Model{ID: openaitest.DefaultModel}, openaitest.Model{ID: "other-model"})
	temperature := 0.25
	req := ChatRequest{
		Model: "other-model",
		Messages: []ChatMessage{
			{Role: "system", Content: "Be brief."},
			{Role: "user", Content: "What is the weather?"},
			{Role: "assistant", ToolCalls: []ToolCall{{ID: "call_a", Name: "weather", Arguments: `{"city": "Paris"`}}},
			{Role: "tool", Content: "sunny", ToolCallID: "call_a", ToolName: "weather"},
		},
		Tools: []Tool{{
			Name:        "weather",
			Description: "Look up the weather.",
			Parameters:  json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
		}},
		Temperature:   &temperature,
		ContextLength: 8192,
	}

	if _, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), openaiTestKey), req); err != nil {
		t.Fatalf("Chat: %v", err)
	}

	requests := s.Requests()
	if len(requests) != 1 {
		t.Fatalf("server got %d requests, want 1", len(requests))
	}
	if got := requests[0].Header.Get("Authorization"); got != "Bearer "+openaiTestKey {
		t.Errorf("Authorization header is %q, want the bearer key", got)
	}
	var raw map[string]any
	if err := json.Unmarshal(requests[0].Body, &raw); err != nil {
		t.Fatalf("decode request body: %v", err)
	}
	if raw["stream"] != true {
		t.Errorf("stream is %v, want true", raw["stream"])
	}
	if _, ok := raw["num_ctx"]; ok {
		t.Errorf("request has num_ctx, which the chat completions API does not know")
	}

	params := s.ChatRequests()[0]
	if params.Model != "other-model" {
		t.Errorf("model is %q, want the request's override other-model", params.Model)
	}
	if !params.Temperature.Valid() || params.Temperature.Value != 0.25 {
		t.Errorf("temperature is %+v, want 0.25", params.Temperature)
	}
	if !params.StreamOptions.IncludeUsage.Value {
		t.Errorf("stream_options.include_usage is false, want true")
	}

	if len(params.Tools) != 1 || params.Tools[0].OfFunction == nil {
		t.Fatalf("tools are %+v, want one function tool", params.Tools)
	}
	function := params.Tools[0].OfFunction.Function
	if function.Name != "weather" || function.Description.Value != "Look up the weather." {
		t.Errorf("tool is %q %q, want weather with its description", function.Name, function.Description.Value)
	}
	if function.Parameters["type"] != "object" || function.Parameters["required"] == nil {
		t.Errorf("tool parameters are %v, want the JSON schema", function.Parameters)
	}

	if len(params.Messages) != 4 {
		t.Fatalf("got %d messages, want 4", len(params.Messages))
	}
	if m := params.Messages[0].OfSystem; m == nil || m.Content.OfString.Value != "Be brief." {
		t.Errorf("message 0 is %+v, want the system message", params.Messages[0])
	}
	if m := params.Messages[1].OfUser; m == nil || m.Content.OfString.Value != "What is the weather?" {
		t.Errorf("message 1 is %+v, want the user message", params.Messages[1])
	}
	assistant := params.Messages[2].OfAssistant
	if assistant == nil || len(assistant.ToolCalls) != 1 || assistant.ToolCalls[0].OfFunction == nil {
		t.Fatalf("message 2 is %+v, want an assistant message with one function call", params.Messages[2])
	}
	call := assistant.ToolCalls[0].OfFunction
	if call.ID != "call_a" || call.Function.Name != "weather" || call.Function.Arguments != `{"city": "Paris"` {
		t.Errorf("assistant tool call is %+v, want call_a weather with the malformed arguments unchanged", call)
	}
	if assistant.Content.OfString.Valid() {
		t.Errorf("assistant content is %q, want it left out for a message with tool calls", assistant.Content.OfString.Value)
	}
	tool := params.Messages[3].OfTool
	if tool == nil || tool.ToolCallID != "call_a" || tool.Content.OfString.Value != "sunny" {
		t.Errorf("message 3 is %+v, want the tool result for call_a", params.Messages[3])
	}
}

func TestOpenAIChatRequestWithoutKeyOrTools(t *testing.T) {
	s := openaitest.NewServer(t)

	if _, err := chatOpenAI(t, newTestOpenAI(t, s.URL(), ""), ChatRequest{}); err != nil {
		t.Fatalf("Chat: %v", err)
	}

	request := s.Requests()[0]
	if got := request.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization header is %q, want none without a key", got)
	}
	var raw map[string]any
	if err := json.Unmarshal(request.Body, &raw); err != nil {
		t.Fatalf("decode request body: %v", err)
	}
	for _, field := range []string{"tools", "temperature"} {
		if _, ok := raw[field]; ok {
			t.Errorf("request has %q, want it left out when unset", field)
		}
	}
	if raw["model"] != openaitest.DefaultModel {
		t.Errorf("model is %v, want the default %s", raw["model"], openaitest.DefaultModel)
	}
}

func TestOpenAIChatInvalidRequest(t *testing.T) {
	s := openaitest.NewServer(t)
	o := newTestOpenAI(t, s.URL(), "")
	tests := []struct {
		name string
		req  ChatRequest
	}{
		{name: "unknown role", req: ChatRequest{Messages: []ChatMessage{{Role: "narrator", Content: "x"}}}},
		{name: "malformed schema", req: ChatRequest{Tools: []Tool{{Name: "t", Parameters: json.RawMessage(`{"type":`)}}}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := chatOpenAI(t, o, tt.req); err == nil {
				t.Errorf("Chat succeeded, want an error")
			}
		})
	}
	if got := chatRequestCount(s); got != 0 {
		t.Errorf("server got %d chat requests, want none for invalid requests", got)
	}
}

func TestOpenAIModels(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetModels(
		openaitest.Model{ID: "plain"},
		openaitest.Model{ID: "openrouter", Extra: map[string]any{"context_length": 131072}},
		openaitest.Model{ID: "vllm", Extra: map[string]any{"max_model_len": 32768}},
		openaitest.Model{ID: "groq", Extra: map[string]any{"context_window": 8192}},
		openaitest.Model{ID: "llamacpp", Extra: map[string]any{"meta": map[string]any{"n_ctx_train": 4096}}},
		openaitest.Model{ID: "text-length", Extra: map[string]any{"context_length": "lots", "max_model_len": 2048}},
	)

	models, err := newTestOpenAI(t, s.URL(), "").Models(t.Context())
	if err != nil {
		t.Fatalf("Models: %v", err)
	}

	want := []ModelInfo{
		{Name: "plain"},
		{Name: "openrouter", ContextLength: 131072},
		{Name: "vllm", ContextLength: 32768},
		{Name: "groq", ContextLength: 8192},
		{Name: "llamacpp", ContextLength: 4096},
		{Name: "text-length", ContextLength: 2048},
	}
	if len(models) != len(want) {
		t.Fatalf("got %d models %+v, want %d", len(models), models, len(want))
	}
	for i := range want {
		if models[i] != want[i] {
			t.Errorf("model %d is %+v, want %+v", i, models[i], want[i])
		}
	}
}

func TestOpenAIModelsErrors(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetAPIKey("sk-the-right-one")

	_, err := newTestOpenAI(t, s.URL(), openaiTestKey).Models(t.Context())

	be := backendErrorOf(t, err)
	if be.Code != CodeBackendAuth {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendAuth)
	}
	if strings.Contains(be.Message, openaiTestKey) || strings.Contains(err.Error(), openaiTestKey) {
		t.Errorf("error %q contains the API key", err)
	}
}

func TestOpenAIContextLength(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetModels(
		openaitest.Model{ID: openaitest.DefaultModel, Extra: map[string]any{"context_length": 128000}},
		openaitest.Model{ID: "silent"},
	)
	o := newTestOpenAI(t, s.URL(), "")

	tests := []struct {
		model string
		want  int
	}{
		{model: "", want: 128000},
		{model: openaitest.DefaultModel, want: 128000},
		{model: "silent", want: 0},
		{model: "unlisted", want: 0},
	}
	for _, tt := range tests {
		got, err := o.ContextLength(t.Context(), tt.model)
		if err != nil {
			t.Fatalf("ContextLength(%q): %v", tt.model, err)
		}
		if got != tt.want {
			t.Errorf("ContextLength(%q) is %d, want %d", tt.model, got, tt.want)
		}
	}

	// The first call lists the models, and only "unlisted", which the
	// list leaves out, makes a second request.
	lists := 0
	for _, r := range s.Requests() {
		if r.Path == "/v1/models" {
			lists++
		}
	}
	if lists != 2 {
		t.Errorf("server got %d model list requests, want 2", lists)
	}
	if got, _ := o.ContextLength(t.Context(), "unlisted"); got != 0 {
		t.Errorf("cached ContextLength(unlisted) is %d, want 0", got)
	}
	if got := len(s.Requests()); got != lists {
		t.Errorf("server got %d requests after a cached lookup, want still %d", got, lists)
	}
}

func TestOpenAIContextLengthWithoutModelList(t *testing.T) {
	s := openaitest.NewServer(t)
	// Without /v1 the fake returns 404 for the model list.
	root := strings.TrimSuffix(s.URL(), "/v1")

	got, err := newTestOpenAI(t, root, "").ContextLength(t.Context(), "")

	if err != nil {
		t.Errorf("ContextLength: %v, want no error for a server without a model list", err)
	}
	if got != 0 {
		t.Errorf("ContextLength is %d, want 0", got)
	}
}

func TestOpenAIContextLengthError(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetAPIKey("sk-the-right-one")

	_, err := newTestOpenAI(t, s.URL(), openaiTestKey).ContextLength(t.Context(), "")

	if be := backendErrorOf(t, err); be.Code != CodeBackendAuth {
		t.Errorf("code is %q, want %q", be.Code, CodeBackendAuth)
	}
}

func TestNewOpenAIErrors(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		model   string
		want    []string
	}{
		{name: "no scheme", baseURL: "api.openai.com/v1", model: "m", want: []string{"api.openai.com/v1", DefaultOpenAIURL}},
		{name: "unsupported scheme", baseURL: "ftp://example.com/v1", model: "m", want: []string{"ftp://example.com/v1", DefaultOpenAIURL}},
		{name: "no host", baseURL: "http:///v1", model: "m", want: []string{DefaultOpenAIURL}},
		{name: "no model", baseURL: DefaultOpenAIURL, model: "", want: []string{"model"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOpenAI(tt.baseURL, openaiTestKey, tt.model, nil)
			if err == nil {
				t.Fatal("NewOpenAI succeeded, want an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), openaiTestKey) {
				t.Errorf("error %q contains the API key", err)
			}
		})
	}
}

func TestOpenAIDescribe(t *testing.T) {
	o, err := NewOpenAI("https://user:secret@llm.example.com/v1/", openaiTestKey, "gpt-4o-mini", nil)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}

	got := o.Describe()

	want := BackendInfo{Kind: BackendOpenAI, URL: "https://llm.example.com/v1", Model: "gpt-4o-mini"}
	if got != want {
		t.Errorf("Describe is %+v, want %+v", got, want)
	}
}

func TestOpenAIRetryWait(t *testing.T) {
	now := time.Date(2025, time.March, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{name: "absent", header: http.Header{}, want: defaultRetryWait},
		{name: "seconds", header: http.Header{"Retry-After": {"7"}}, want: 7 * time.Second},
		{name: "fractional seconds", header: http.Header{"Retry-After": {"1.5"}}, want: 1500 * time.Millisecond},
		{name: "HTTP date", header: http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, want: 30 * time.Second},
		{name: "HTTP date in the past", header: http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, want: defaultRetryWait},
		{name: "milliseconds first", header: http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"1"}}, want: 250 * time.Millisecond},
		{name: "zero", header: http.Header{"Retry-After": {"0"}}, want: defaultRetryWait},
		{name: "garbage", header: http.Header{"Retry-After": {"soon"}}, want: defaultRetryWait},
		{name: "huge", header: http.Header{"Retry-After": {"1e300"}}, want: 24 * time.Hour},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryWait(tt.header, now); got != tt.want {
				t.Errorf("retryWait is %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpenAIParseErrorShapes(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name        string
		header      http.Header
		body        string
		wantMessage string
		wantCode    string
		wantType    string
	}{
		{
			name:        "OpenAI",
			header:      jsonHeader,
			body:        `{"error":{"message":"Bad things.","type":"invalid_request_error","param":null,"code":"context_length_exceeded"}}`,
			wantMessage: "Bad things.", wantCode: "context_length_exceeded", wantType: "invalid_request_error",
		},
		{
			name:        "numeric code",
			header:      jsonHeader,
			body:        `{"error":{"code":400,"message":"exceeds the available context size","type":"exceed_context_size_error"}}`,
			wantMessage: "exceeds the available context size", wantCode: "400", wantType: "exceed_context_size_error",
		},
		{
			name:        "error as a string",
			header:      jsonHeader,
			body:        `{"error":"model is loading"}`,
			wantMessage: "model is loading",
		},
		{
			name:        "fields at the top level",
			header:      jsonHeader,
			body:        `{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}`,
			wantMessage: "This model's maximum context length is 4096 tokens.", wantCode: "400", wantType: "BadRequestError",
		},
		{
			name:        "plain text",
			header:      http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
			body:        "404 page not found\n",
			wantMessage: "404 page not found",
		},
		{
			name:        "HTML page",
			header:      http.Header{"Content-Type": {"text/html"}},
			body:        "<html><body>Bad Gateway</body></html>",
			wantMessage: "Bad Request",
		},
		{
			name:        "key in the message",
			header:      jsonHeader,
			body:        `{"error":{"message":"Incorrect API key provided: ` + openaiTestKey + `."}}`,
			wantMessage: "Incorrect API key provided: [API key].",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseOpenAIError(http.StatusBadRequest, tt.header, []byte(tt.body), openaiTestKey)
			if e.message != tt.wantMessage {
				t.Errorf("message is %q, want %q", e.message, tt.wantMessage)
			}
			if e.code != tt.wantCode {
				t.Errorf("code is %q, want %q", e.code, tt.wantCode)
			}
			if e.typ != tt.wantType {
				t.Errorf("type is %q, want %q", e.typ, tt.wantType)
			}
		})
	}
}
