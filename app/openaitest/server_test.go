package openaitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"hearth/app/openaitest"
)

// receiveTimeout bounds every wait for the server, so a broken hold or
// stream fails the test in place of hanging it.
const receiveTimeout = 5 * time.Second

// chatService returns the library's chat completions service for the fake,
// built without openai.NewClient so that no OPENAI_* variable of the
// environment reaches the requests.
func chatService(s *openaitest.Server, opts ...option.RequestOption) openai.ChatCompletionService {
	return openai.NewChatCompletionService(append([]option.RequestOption{
		option.WithBaseURL(s.URL()),
		option.WithMaxRetries(0),
	}, opts...)...)
}

func userParams(model, content string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:         model,
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage(content)},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
}

// streamChunks runs a streaming chat and returns every chunk the library
// decoded, and the stream's error.
func streamChunks(t *testing.T, service openai.ChatCompletionService, params openai.ChatCompletionNewParams) ([]openai.ChatCompletionChunk, error) {
	t.Helper()
	stream := service.NewStreaming(t.Context(), params)
	defer stream.Close()

	var chunks []openai.ChatCompletionChunk
	for stream.Next() {
		chunks = append(chunks, stream.Current())
	}
	return chunks, stream.Err()
}

// postRaw sends body to the chat route and returns the response, for checks
// of the bytes on the wire.
func postRaw(t *testing.T, s *openaitest.Server, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(s.URL()+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /v1/chat/completions: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
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

func TestChatStreamsChunksInOrder(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{
		Chunks:           openaitest.TextChunks("Hel", "lo, ", "world"),
		FinishReason:     "length",
		PromptTokens:     12,
		CompletionTokens: 3,
	})

	chunks, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))
	if err != nil {
		t.Fatalf("stream: %v", err)
	}

	if len(chunks) != 5 {
		t.Fatalf("got %d chunks, want 3 content chunks, the finish chunk and the usage chunk", len(chunks))
	}
	var assembled strings.Builder
	for i, chunk := range chunks[:3] {
		if len(chunk.Choices) != 1 {
			t.Fatalf("chunk %d has %d choices, want 1", i, len(chunk.Choices))
		}
		if chunk.Choices[0].FinishReason != "" {
			t.Errorf("chunk %d has finish reason %q, want none", i, chunk.Choices[0].FinishReason)
		}
		if chunk.JSON.Usage.Valid() {
			t.Errorf("chunk %d has usage, want it only on the last chunk", i)
		}
		if chunk.Object != "chat.completion.chunk" {
			t.Errorf("chunk %d object is %q, want chat.completion.chunk", i, chunk.Object)
		}
		if chunk.ID != chunks[0].ID {
			t.Errorf("chunk %d ID is %q, want the first chunk's %q", i, chunk.ID, chunks[0].ID)
		}
		assembled.WriteString(chunk.Choices[0].Delta.Content)
	}
	if got := assembled.String(); got != "Hello, world" {
		t.Errorf("assembled content is %q, want %q", got, "Hello, world")
	}
	if role := chunks[0].Choices[0].Delta.Role; role != "assistant" {
		t.Errorf("first chunk role is %q, want assistant", role)
	}

	finish := chunks[3]
	if len(finish.Choices) != 1 || finish.Choices[0].FinishReason != "length" {
		t.Errorf("finish chunk is %s, want one choice with finish reason length", finish.RawJSON())
	}

	usage := chunks[4]
	if len(usage.Choices) != 0 {
		t.Errorf("usage chunk has %d choices, want none", len(usage.Choices))
	}
	if !usage.JSON.Usage.Valid() || usage.Usage.PromptTokens != 12 || usage.Usage.CompletionTokens != 3 || usage.Usage.TotalTokens != 15 {
		t.Errorf("usage is %s, want 12 prompt, 3 completion and 15 total tokens", usage.Usage.RawJSON())
	}
}

func TestChatStreamWireFormat(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Hi")})

	resp := postRaw(t, s, `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)

	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/event-stream") {
		t.Errorf("Content-Type is %q, want text/event-stream", got)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	events := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	if len(events) != 3 {
		t.Fatalf("got %d events %q, want the chunk, the finish chunk and [DONE] without usage", len(events), events)
	}
	for i, event := range events {
		if !strings.HasPrefix(event, "data: ") {
			t.Errorf("event %d is %q, want a data line", i, event)
		}
	}
	if events[2] != "data: [DONE]" {
		t.Errorf("last event is %q, want data: [DONE]", events[2])
	}
	if !strings.Contains(events[0], `"finish_reason":null`) {
		t.Errorf("content event %q has no null finish_reason", events[0])
	}
	if strings.Contains(strings.Join(events[:2], "\n"), `"usage"`) {
		t.Errorf("events %q carry usage, want none without stream_options.include_usage", events[:2])
	}
}

func TestChatEchoesWhenQueueEmpty(t *testing.T) {
	s := openaitest.NewServer(t)
	params := openai.ChatCompletionNewParams{
		Model: openaitest.DefaultModel,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."),
			openai.UserMessage("first question"),
			openai.AssistantMessage("first answer"),
			openai.UserMessage("how  are\tyou"),
		},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}

	chunks, err := streamChunks(t, chatService(s), params)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}

	var assembled strings.Builder
	contentChunks := 0
	for _, chunk := range chunks {
		for _, choice := range chunk.Choices {
			if choice.Delta.Content != "" {
				contentChunks++
			}
			assembled.WriteString(choice.Delta.Content)
		}
	}
	if got, want := assembled.String(), "You said: how are you"; got != want {
		t.Errorf("assembled content is %q, want %q", got, want)
	}
	if contentChunks < 2 {
		t.Errorf("got %d content chunks, want the words in several chunks", contentChunks)
	}
	usage := chunks[len(chunks)-1].Usage
	if usage.PromptTokens != 9 {
		t.Errorf("prompt tokens are %d, want 9, the words in all messages", usage.PromptTokens)
	}
	if usage.CompletionTokens != int64(contentChunks) {
		t.Errorf("completion tokens are %d, want %d, the number of chunks", usage.CompletionTokens, contentChunks)
	}
}

func TestChatToolCallDeltas(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: []openaitest.Chunk{
		{Content: "Checking.", ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q":`}}},
		{ToolCalls: []openaitest.ToolCallDelta{{Index: 1, ID: "call_b", Name: "clock"}}},
		{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `"tea"}`}, {Index: 1, Arguments: `{}`}}},
	}})

	chunks, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))
	if err != nil {
		t.Fatalf("stream: %v", err)
	}

	// The library's own accumulator joins the deltas, which shows that
	// their wire format is the one OpenAI sends.
	var acc openai.ChatCompletionAccumulator
	for _, chunk := range chunks {
		if !acc.AddChunk(chunk) {
			t.Fatalf("accumulator rejected chunk %s", chunk.RawJSON())
		}
	}
	if len(acc.Choices) != 1 {
		t.Fatalf("accumulated %d choices, want 1", len(acc.Choices))
	}
	message := acc.Choices[0].Message
	if message.Content != "Checking." {
		t.Errorf("content is %q, want %q", message.Content, "Checking.")
	}
	if acc.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("finish reason is %q, want tool_calls", acc.Choices[0].FinishReason)
	}
	want := []struct{ id, name, arguments string }{
		{"call_a", "search", `{"q":"tea"}`},
		{"call_b", "clock", `{}`},
	}
	if len(message.ToolCalls) != len(want) {
		t.Fatalf("got %d tool calls, want %d", len(message.ToolCalls), len(want))
	}
	for i, w := range want {
		call := message.ToolCalls[i]
		if call.ID != w.id || call.Function.Name != w.name || call.Function.Arguments != w.arguments {
			t.Errorf("tool call %d is %s %s %s, want %s %s %s", i, call.ID, call.Function.Name, call.Function.Arguments, w.id, w.name, w.arguments)
		}
	}
}

func TestChatWithoutStream(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{
		Chunks: []openaitest.Chunk{
			{Content: "Looking "},
			{Content: "it up.", ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_a", Name: "search", Arguments: `{"q":`}}},
			{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: `"x"}`}}},
		},
		PromptTokens: 5,
	})
	service := chatService(s)

	completion, err := service.New(t.Context(), userParams(openaitest.DefaultModel, "weather?"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	if len(completion.Choices) != 1 {
		t.Fatalf("got %d choices, want 1", len(completion.Choices))
	}
	choice := completion.Choices[0]
	if choice.Message.Content != "Looking it up." {
		t.Errorf("content is %q, want the joined chunks", choice.Message.Content)
	}
	if choice.FinishReason != "tool_calls" {
		t.Errorf("finish reason is %q, want tool_calls", choice.FinishReason)
	}
	if len(choice.Message.ToolCalls) != 1 || choice.Message.ToolCalls[0].Function.Arguments != `{"q":"x"}` {
		t.Errorf("tool calls are %s, want one call with the joined arguments", choice.Message.RawJSON())
	}
	if completion.Usage.PromptTokens != 5 || completion.Usage.CompletionTokens != 3 {
		t.Errorf("usage is %s, want 5 prompt and 3 completion tokens", completion.Usage.RawJSON())
	}
}

func TestChatErrorResponse(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{
		Status:       http.StatusTooManyRequests,
		Error:        "Rate limit reached.",
		ErrorType:    "requests",
		ErrorCode:    "rate_limit_exceeded",
		RetryAfter:   "3",
		RetryAfterMS: 2500,
	})

	resp := postRaw(t, s, `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)

	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("status is %d, want 429", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "3" {
		t.Errorf("Retry-After is %q, want 3", got)
	}
	if got := resp.Header.Get("Retry-After-Ms"); got != "2500" {
		t.Errorf("retry-after-ms is %q, want 2500", got)
	}
	var body map[string]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode error body: %v", err)
	}
	want := map[string]any{"message": "Rate limit reached.", "type": "requests", "param": nil, "code": "rate_limit_exceeded"}
	for field, value := range want {
		if got, ok := body["error"][field]; !ok || got != value {
			t.Errorf("error.%s is %v, want %v", field, got, value)
		}
	}
}

func TestChatErrorThroughLibrary(t *testing.T) {
	tests := []struct {
		name        string
		reply       openaitest.Reply
		wantStatus  int
		wantType    string
		wantCode    string
		wantMessage string
	}{
		{
			name:        "defaults for 4xx",
			reply:       openaitest.Reply{Status: http.StatusBadRequest},
			wantStatus:  http.StatusBadRequest,
			wantType:    "invalid_request_error",
			wantMessage: "Bad Request",
		},
		{
			name:        "defaults for 5xx",
			reply:       openaitest.Reply{Status: http.StatusServiceUnavailable},
			wantStatus:  http.StatusServiceUnavailable,
			wantType:    "server_error",
			wantMessage: "Service Unavailable",
		},
		{
			name:        "context length",
			reply:       openaitest.Reply{Status: http.StatusBadRequest, Error: "Too long.", ErrorCode: "context_length_exceeded"},
			wantStatus:  http.StatusBadRequest,
			wantType:    "invalid_request_error",
			wantCode:    "context_length_exceeded",
			wantMessage: "Too long.",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.NewServer(t)
			s.Enqueue(tt.reply)

			_, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))

			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error is %T %v, want *openai.Error", err, err)
			}
			if apiErr.StatusCode != tt.wantStatus {
				t.Errorf("status is %d, want %d", apiErr.StatusCode, tt.wantStatus)
			}
			if apiErr.Type != tt.wantType {
				t.Errorf("type is %q, want %q", apiErr.Type, tt.wantType)
			}
			if apiErr.Code != tt.wantCode {
				t.Errorf("code is %q, want %q", apiErr.Code, tt.wantCode)
			}
			if apiErr.Message != tt.wantMessage {
				t.Errorf("message is %q, want %q", apiErr.Message, tt.wantMessage)
			}
		})
	}
}

func TestChatErrorEvent(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{
		Chunks:     openaitest.TextChunks("Half", " more"),
		ErrorAfter: 1,
		Error:      "Upstream provider failed.",
		ErrorCode:  "upstream_error",
	})

	chunks, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))

	if len(chunks) != 1 || chunks[0].Choices[0].Delta.Content != "Half" {
		t.Errorf("got chunks %v, want only the first", chunks)
	}
	var event *ssestream.StreamError
	if !errors.As(err, &event) {
		t.Fatalf("error is %T %v, want *ssestream.StreamError", err, err)
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(event.Event.Data, &body); err != nil {
		t.Fatalf("decode error event %q: %v", event.Event.Data, err)
	}
	if body.Error.Message != "Upstream provider failed." || body.Error.Code != "upstream_error" || body.Error.Type != "server_error" {
		t.Errorf("error event is %s, want the reply's message and code with type server_error", event.Event.Data)
	}
}

func TestChatDropAfter(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("one", "two"), DropAfter: 1})

	chunks, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))

	if len(chunks) != 1 {
		t.Errorf("got %d chunks, want 1 before the drop", len(chunks))
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stream error is %v, want an unexpected EOF", err)
	}
}

func TestChatDropAfterFinish(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("one"), DropAfter: 2})

	chunks, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))

	if len(chunks) != 2 || chunks[1].Choices[0].FinishReason != "stop" {
		t.Errorf("got chunks %v, want the content chunk and the finish chunk", chunks)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("stream error is %v, want an unexpected EOF in place of the usage chunk", err)
	}
}

func TestChatHoldAfterUntilRelease(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("one", "two"), HoldAfter: 1})
	service := chatService(s)

	received := make(chan string, 8)
	done := make(chan error, 1)
	go func() {
		stream := service.NewStreaming(context.Background(), userParams(openaitest.DefaultModel, "hi"))
		defer stream.Close()
		for stream.Next() {
			for _, choice := range stream.Current().Choices {
				received <- choice.Delta.Content
			}
		}
		done <- stream.Err()
	}()

	if got := receive(t, received); got != "one" {
		t.Fatalf("first chunk is %q, want one", got)
	}
	select {
	case got := <-received:
		t.Fatalf("received %q while the reply is held", got)
	case <-time.After(50 * time.Millisecond):
	}

	s.Release()
	if got := receive(t, received); got != "two" {
		t.Errorf("chunk after release is %q, want two", got)
	}
	if err := receive(t, done); err != nil {
		t.Errorf("stream: %v", err)
	}
}

func TestChatDelay(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("a", "b"), DelayMS: 20})

	start := time.Now()
	if _, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi")); err != nil {
		t.Fatalf("stream: %v", err)
	}

	// Three events, the finish event included, each wait 20 ms first.
	if elapsed := time.Since(start); elapsed < 60*time.Millisecond {
		t.Errorf("stream took %v, want at least 60ms", elapsed)
	}
}

func TestChatSplitWrites(t *testing.T) {
	s := openaitest.NewServer(t)
	s.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Grüße ", "世界"), SplitWrites: true})

	chunks, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))
	if err != nil {
		t.Fatalf("stream: %v", err)
	}

	var assembled strings.Builder
	for _, chunk := range chunks {
		for _, choice := range chunk.Choices {
			assembled.WriteString(choice.Delta.Content)
		}
	}
	if got := assembled.String(); got != "Grüße 世界" {
		t.Errorf("assembled content is %q, want %q", got, "Grüße 世界")
	}
}

func TestAPIKey(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetAPIKey("sk-right")
	tests := []struct {
		name          string
		authorization string
		wantStatus    int
		wantCode      any
	}{
		{name: "missing", wantStatus: http.StatusUnauthorized, wantCode: nil},
		{name: "wrong", authorization: "Bearer sk-wrong", wantStatus: http.StatusUnauthorized, wantCode: "invalid_api_key"},
		{name: "not bearer", authorization: "Basic c2stcmlnaHQ=", wantStatus: http.StatusUnauthorized, wantCode: nil},
		{name: "right", authorization: "Bearer sk-right", wantStatus: http.StatusOK},
	}

	for _, tt := range tests {
		for _, path := range []string{"/models", "/chat/completions"} {
			t.Run(tt.name+path, func(t *testing.T) {
				method, body := http.MethodGet, ""
				if path == "/chat/completions" {
					method, body = http.MethodPost, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
				}
				req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if tt.authorization != "" {
					req.Header.Set("Authorization", tt.authorization)
				}

				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				defer resp.Body.Close()

				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("status is %d, want %d", resp.StatusCode, tt.wantStatus)
				}
				if tt.wantStatus == http.StatusOK {
					return
				}
				var errBody map[string]map[string]any
				if err := json.NewDecoder(resp.Body).Decode(&errBody); err != nil {
					t.Fatalf("decode error body: %v", err)
				}
				if got := errBody["error"]["code"]; got != tt.wantCode {
					t.Errorf("error code is %v, want %v", got, tt.wantCode)
				}
			})
		}
	}
}

func TestAPIKeyThroughLibrary(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetAPIKey("sk-right")

	if _, err := streamChunks(t, chatService(s, option.WithAPIKey("sk-right")), userParams(openaitest.DefaultModel, "hi")); err != nil {
		t.Errorf("stream with the right key: %v", err)
	}
	_, err := streamChunks(t, chatService(s, option.WithAPIKey("sk-wrong")), userParams(openaitest.DefaultModel, "hi"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Errorf("error with a wrong key is %v, want a 401 *openai.Error", err)
	}

	requests := s.Requests()
	if got := requests[0].Header.Get("Authorization"); got != "Bearer sk-right" {
		t.Errorf("recorded Authorization header is %q, want Bearer sk-right", got)
	}
}

func TestModels(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetModels(
		openaitest.Model{ID: "local-model", Extra: map[string]any{"context_length": 32768, "owned_by": "me"}},
		openaitest.Model{ID: "other"},
	)
	models := openai.NewModelService(option.WithBaseURL(s.URL()), option.WithMaxRetries(0))

	page, err := models.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}

	if len(page.Data) != 2 {
		t.Fatalf("got %d models, want 2", len(page.Data))
	}
	first := page.Data[0]
	if first.ID != "local-model" || first.Object != "model" {
		t.Errorf("first model is %s, want local-model of object model", first.RawJSON())
	}
	if first.OwnedBy != "me" {
		t.Errorf("owned_by is %q, want the extra field's me", first.OwnedBy)
	}
	var extra struct {
		ContextLength int `json:"context_length"`
	}
	if err := json.Unmarshal([]byte(first.RawJSON()), &extra); err != nil || extra.ContextLength != 32768 {
		t.Errorf("raw model %s has context_length %d, want 32768", first.RawJSON(), extra.ContextLength)
	}
	if page.Data[1].ID != "other" {
		t.Errorf("second model is %q, want other", page.Data[1].ID)
	}
}

func TestChatUnlistedModel(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetModels(openaitest.Model{ID: "only-model"})

	_, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hi"))

	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error is %T %v, want *openai.Error", err, err)
	}
	if apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" {
		t.Errorf("error is %d %q, want 404 model_not_found", apiErr.StatusCode, apiErr.Code)
	}
	if !strings.Contains(apiErr.Message, openaitest.DefaultModel) {
		t.Errorf("message %q does not name the model", apiErr.Message)
	}
}

func TestChatRequestsDecoded(t *testing.T) {
	s := openaitest.NewServer(t)
	params := userParams(openaitest.DefaultModel, "hi")
	params.Temperature = openai.Float(0.5)
	params.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name:       "clock",
		Parameters: openai.FunctionParameters{"type": "object"},
	})}

	if _, err := streamChunks(t, chatService(s), params); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if _, err := http.Get(s.URL() + "/models"); err != nil {
		t.Fatalf("GET /v1/models: %v", err)
	}

	requests := s.ChatRequests()
	if len(requests) != 1 {
		t.Fatalf("got %d chat requests, want 1 with the model list left out", len(requests))
	}
	got := requests[0]
	if got.Model != openaitest.DefaultModel || got.Temperature.Value != 0.5 {
		t.Errorf("request model %q temperature %v, want %s and 0.5", got.Model, got.Temperature.Value, openaitest.DefaultModel)
	}
	if len(got.Tools) != 1 || got.Tools[0].OfFunction == nil || got.Tools[0].OfFunction.Function.Name != "clock" {
		t.Errorf("tools are %+v, want the clock function", got.Tools)
	}
	if len(got.Messages) != 1 || got.Messages[0].OfUser == nil || got.Messages[0].OfUser.Content.OfString.Value != "hi" {
		t.Errorf("messages are %+v, want the user message hi", got.Messages)
	}

	all := s.Requests()
	if len(all) != 2 || all[1].Method != http.MethodGet || all[1].Path != "/v1/models" {
		t.Errorf("recorded requests are %+v, want the chat and then GET /v1/models", all)
	}
}

func TestReset(t *testing.T) {
	s := openaitest.NewServer(t)
	s.SetModels(openaitest.Model{ID: "x"})
	s.SetAPIKey("sk-x")
	s.Enqueue(openaitest.Reply{Status: http.StatusInternalServerError})

	s.Reset()

	chunks, err := streamChunks(t, chatService(s), userParams(openaitest.DefaultModel, "hello"))
	if err != nil {
		t.Fatalf("stream after Reset: %v", err)
	}
	if len(chunks) == 0 {
		t.Errorf("got no chunks after Reset, want the echo reply")
	}
	if got := len(s.Requests()); got != 1 {
		t.Errorf("got %d recorded requests, want only the one after Reset", got)
	}
}

func TestEnqueueRejectsInvalidReply(t *testing.T) {
	tests := []struct {
		name  string
		reply openaitest.Reply
	}{
		{name: "negative delay", reply: openaitest.Reply{DelayMS: -1}},
		{name: "hold past the chunks", reply: openaitest.Reply{Chunks: openaitest.TextChunks("a"), HoldAfter: 2}},
		{name: "drop past the finish event", reply: openaitest.Reply{Chunks: openaitest.TextChunks("a"), DropAfter: 3}},
		{name: "error event past the chunks", reply: openaitest.Reply{Chunks: openaitest.TextChunks("a"), ErrorAfter: 2}},
		{name: "status not an error", reply: openaitest.Reply{Status: http.StatusOK}},
		{name: "status and error event", reply: openaitest.Reply{Chunks: openaitest.TextChunks("a"), Status: 500, ErrorAfter: 1}},
		{name: "error without status", reply: openaitest.Reply{Error: "x"}},
		{name: "retry header without status", reply: openaitest.Reply{RetryAfter: "1"}},
		{name: "negative tokens", reply: openaitest.Reply{PromptTokens: -1}},
		{name: "negative tool index", reply: openaitest.Reply{Chunks: []openaitest.Chunk{{ToolCalls: []openaitest.ToolCallDelta{{Index: -1}}}}}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Enqueue accepted %+v, want a panic", tt.reply)
				}
			}()
			openaitest.New().Enqueue(tt.reply)
		})
	}
}

// A test scripts the next chat reply and reads it back with the real
// library. Inside a test, openaitest.NewServer(t) replaces the first three
// lines.
func ExampleServer_Enqueue() {
	fake := openaitest.New()
	server := httptest.NewServer(fake.Handler())
	defer server.Close()

	fake.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Hello", ", ", "world")})

	service := openai.NewChatCompletionService(option.WithBaseURL(server.URL + "/v1"))
	stream := service.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:    openaitest.DefaultModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello.")},
	})
	defer stream.Close()
	for stream.Next() {
		for _, choice := range stream.Current().Choices {
			fmt.Printf("%q finish=%q\n", choice.Delta.Content, choice.FinishReason)
		}
	}
	if err := stream.Err(); err != nil {
		panic(err)
	}
	// Output:
	// "Hello" finish=""
	// ", " finish=""
	// "world" finish=""
	// "" finish="stop"
}
