package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Model is a chat model backend: a local Ollama server or an
// OpenAI-compatible API. One Model is one server with its credentials. The
// model name travels with each request, so a thread can use another model
// of the same server.
type Model interface {
	// Chat sends the prompt and calls fn with each piece of the reply as it
	// arrives. An error returned by fn stops the stream and is returned.
	// Backend failures are returned as *BackendError.
	Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error
	// Models lists the models the backend offers.
	Models(ctx context.Context) ([]ModelInfo, error)
	// ContextLength returns the context window of model in tokens, or 0
	// when the backend does not report it.
	ContextLength(ctx context.Context, model string) (int, error)
	// Describe returns what the backend is, for health checks and logs.
	Describe() BackendInfo
}

// Puller is a Model that can download models, as Ollama can.
type Puller interface {
	// Pull downloads model and calls fn with its progress. An error
	// returned by fn stops the download and is returned.
	Pull(ctx context.Context, model string, fn func(PullProgress) error) error
}

// ChatRequest is a prompt for a Model.
type ChatRequest struct {
	// Model names the model to use; empty means the backend's default.
	Model    string
	Messages []ChatMessage
	// Tools are the functions the model may call.
	Tools []Tool
	// ContextLength, when positive, is the context window to ask for. Ollama
	// sends it as num_ctx; OpenAI-compatible servers have no such option.
	ContextLength int
	// Temperature, when set, overrides the model's default.
	Temperature *float64
}

// ChatMessage is one message of a prompt.
type ChatMessage struct {
	Role    string // "system", "user", "assistant" or "tool"
	Content string
	// ToolCalls are the calls an assistant message made.
	ToolCalls []ToolCall
	// ToolCallID and ToolName name the call that a "tool" message is the
	// result of.
	ToolCallID string
	ToolName   string
}

// Tool is a function offered to the model.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments, an object schema.
	Parameters json.RawMessage
}

// ToolCall is a call the model made. Backends pass each call to Chat's
// callback once, complete, however the wire format splits it.
type ToolCall struct {
	// ID identifies the call; backends that send none get a generated one.
	ID   string
	Name string
	// Arguments is the arguments as the model wrote them. It may be
	// malformed JSON, which the caller reports back to the model.
	Arguments string
}

// ChatChunk is one piece of a streamed reply.
type ChatChunk struct {
	Content   string
	ToolCalls []ToolCall
	// RetryIn, when positive, reports that the server requested a wait, for
	// example by a 429 with Retry-After, and the backend retries after it.
	// Such a chunk carries nothing else.
	RetryIn time.Duration
	// Done is set on the last chunk, which may also carry token counts.
	Done         bool
	PromptTokens int
	ReplyTokens  int
}

// ModelInfo describes one model a backend offers.
type ModelInfo struct {
	Name string `json:"name"`
	// Size is the download size in bytes, when the backend reports it.
	Size int64 `json:"size,omitempty"`
	// ContextLength is the context window in tokens, when known without
	// asking about each model.
	ContextLength int `json:"contextLength,omitempty"`
}

// PullProgress is one step of a model download.
type PullProgress struct {
	Status    string `json:"status"`
	Digest    string `json:"digest,omitempty"`
	Total     int64  `json:"total,omitempty"`
	Completed int64  `json:"completed,omitempty"`
}

// BackendInfo names a model backend without secrets.
type BackendInfo struct {
	Kind  string `json:"kind"`
	URL   string `json:"url"`
	Model string `json:"model"`
}

// Backend kinds.
const (
	BackendOllama = "ollama"
	BackendOpenAI = "openai"
)

// Backend error codes, sent to clients with the error's message. The
// frontend's copy is in frontend/src/api.ts.
const (
	CodeBackendUnreachable  = "backend_unreachable"
	CodeModelNotFound       = "model_not_found"
	CodeBackendDisconnected = "backend_disconnected"
	CodeBackendFailed       = "backend_error"
	CodeBackendAuth         = "backend_unauthorized"
	CodeBackendRateLimited  = "backend_rate_limited"
	CodeContextTooLong      = "context_too_long"
	CodeReplyTooLong        = "reply_too_long"
)

// BackendError is a model backend failure, described for the person using
// Hearth: Message says what happened and what to do about it.
type BackendError struct {
	Code    string
	Message string
	// Model names the missing model of a CodeModelNotFound error, so the
	// UI can offer to pull it.
	Model string
	// RetryAfter is the wait the backend requested, when it sent one.
	RetryAfter time.Duration
	Err        error
}

func (e *BackendError) Error() string {
	if e.Err == nil {
		return e.Code
	}
	return e.Code + ": " + shorten(e.Err.Error(), 2*maxBackendMessage)
}

func (e *BackendError) Unwrap() error { return e.Err }

// backendMessage returns the sentence to show for err, and the error code.
func backendMessage(err error) (code, message string) {
	var be *BackendError
	if errors.As(err, &be) {
		return be.Code, be.Message
	}
	return CodeBackendFailed, "The model backend failed unexpectedly. Try again, and check Hearth's log if it keeps happening."
}

// Limits on the tool calls of one round, so that a backend cannot make
// Hearth hold more than a few MiB for them.
const (
	// maxToolCallsPerRound is the most calls one round may make.
	maxToolCallsPerRound = 16
	// maxToolArgumentBytes is the most argument text of one round's calls.
	maxToolArgumentBytes = 1 << 20
)

// errToolCallsTooLarge ends a round whose tool calls pass the limits.
var errToolCallsTooLarge = &BackendError{
	Code:    CodeReplyTooLong,
	Message: fmt.Sprintf("The model made more than %d tool calls, or more than %d bytes of them, in one step, so the reply was stopped. Regenerate it, or choose another model.", maxToolCallsPerRound, maxToolArgumentBytes),
	Err:     errors.New("tool calls exceed the limits of one round"),
}

// contextTooLongError is the error for a prompt the model cannot take.
func contextTooLongError(err error) *BackendError {
	return &BackendError{
		Code:    CodeContextTooLong,
		Message: "The conversation is too long for the model's context window. Start a new thread, shorten your message or the working memory, or choose a model with a longer context in Settings.",
		Err:     err,
	}
}
