package app

import (
	"context"
	"errors"
)

// Model is a chat model backend: a local Ollama server today, an
// OpenAI-compatible API later.
type Model interface {
	// Chat sends the prompt and calls fn with each piece of the reply as it
	// arrives. An error returned by fn stops the stream and is returned.
	// Backend failures are returned as *BackendError.
	Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error
	// Describe returns what the backend is, for health checks and logs.
	Describe() BackendInfo
}

// ChatRequest is a prompt for a Model.
type ChatRequest struct {
	Messages []ChatMessage
}

// ChatMessage is one message of a prompt.
type ChatMessage struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// ChatChunk is one piece of a streamed reply.
type ChatChunk struct {
	Content string
	// Done is set on the last chunk, which may also carry token counts.
	Done         bool
	PromptTokens int
	ReplyTokens  int
}

// BackendInfo names a model backend without secrets.
type BackendInfo struct {
	Kind  string `json:"kind"`
	URL   string `json:"url"`
	Model string `json:"model"`
}

// Backend error codes, sent to clients with the error's message.
const (
	CodeBackendUnreachable  = "backend_unreachable"
	CodeModelNotFound       = "model_not_found"
	CodeBackendDisconnected = "backend_disconnected"
	CodeBackendFailed       = "backend_error"
	CodeReplyTooLong        = "reply_too_long"
)

// BackendError is a model backend failure, described for the person using
// Hearth: Message says what happened and what to do about it.
type BackendError struct {
	Code    string
	Message string
	Err     error
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
