package openaitest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"
)

// Reply is a scripted response to one chat completion request.
//
// A streamed reply is one server-sent event per chunk, then an event whose
// choice has an empty delta and the finish reason, then, when the request set
// stream_options.include_usage, an event with no choices and the usage, and
// finally "data: [DONE]". A reply to a request without "stream": true is one
// chat completion object that joins the content and tool calls of all
// chunks.
//
// The events are numbered from 0, and event len(Chunks) is the one with the
// finish reason. Before each event i the server checks, in this order,
// whether i equals HoldAfter, DropAfter or ErrorAfter, and then waits
// DelayMS.
type Reply struct {
	// Chunks is the streamed reply, one event per chunk.
	Chunks []Chunk

	// FinishReason is the finish_reason of the last choice event. When
	// empty, it is "tool_calls" if any chunk has a tool-call delta and
	// "stop" otherwise.
	FinishReason string

	// PromptTokens is the usage's prompt_tokens. When 0, the server sends
	// the number of words in the request messages.
	PromptTokens int

	// CompletionTokens is the usage's completion_tokens. When 0, the server
	// sends the number of chunks.
	CompletionTokens int

	// DelayMS is the pause in milliseconds before each event, the finish
	// event included.
	DelayMS int

	// HoldAfter, when positive, is the number of events sent before the
	// server waits for Release or for the request to end. A request that
	// ends while held gets no further events.
	HoldAfter int

	// DropAfter, when positive, is the number of events sent before the
	// server aborts the connection, so the client reads an unexpected EOF
	// in place of the next event. It may be len(Chunks)+1, which drops the
	// connection after the finish event, in place of the usage event and
	// "data: [DONE]".
	DropAfter int

	// SplitWrites, when set, writes each event in two parts with a flush
	// between them, cut inside the event's first multi-byte UTF-8
	// character, or in its middle when it has none. The client then reads
	// one character in two pieces.
	SplitWrites bool

	// ErrorAfter, when positive, is the number of events sent before the
	// server sends an error event, {"error": {...}} built from Error,
	// ErrorType and ErrorCode, and ends the stream with no finish reason,
	// as OpenAI-compatible servers do for failures after the 200 status.
	ErrorAfter int

	// Status, when non-zero, is the HTTP status of an error response sent in
	// place of the reply, with a body of OpenAI's shape:
	// {"error": {"message", "type", "param", "code"}}. It must be between
	// 400 and 599.
	Status int

	// Error is the message of the error response or event. When empty, the
	// standard text of Status is sent.
	Error string

	// ErrorType is the error's "type". When empty, it is
	// "invalid_request_error" for a 4xx status and "server_error"
	// otherwise.
	ErrorType string

	// ErrorCode is the error's "code", such as "context_length_exceeded".
	// When empty, the code is null.
	ErrorCode string

	// RetryAfter, when set, is sent as the Retry-After header of the error
	// response, as given: a number of seconds or an HTTP date.
	RetryAfter string

	// RetryAfterMS, when positive, is sent as the retry-after-ms header of
	// the error response, which OpenAI sends next to Retry-After.
	RetryAfterMS int
}

// Chunk is one streamed event of a Reply.
type Chunk struct {
	// Content is the delta's content. An empty Content is left out of the
	// event.
	Content string

	// ToolCalls are the delta's tool-call fragments.
	ToolCalls []ToolCallDelta
}

// ToolCallDelta is one fragment of a streamed tool call. OpenAI sends the
// ID and name in the first fragment of a call and splits the arguments
// across the following ones, all with the same Index.
type ToolCallDelta struct {
	// Index is the position of the call among the calls of the reply.
	Index int
	// ID and Name are left out of the event when empty.
	ID   string
	Name string
	// Arguments is the next piece of the arguments' JSON text, sent even
	// when empty.
	Arguments string
}

// TextChunks returns one Chunk with content for each of texts.
func TextChunks(texts ...string) []Chunk {
	chunks := make([]Chunk, len(texts))
	for i, text := range texts {
		chunks[i] = Chunk{Content: text}
	}
	return chunks
}

// validate reports the first field of r that the server cannot carry out.
func (r Reply) validate() error {
	switch {
	case r.DelayMS < 0:
		return fmt.Errorf("invalid reply: DelayMS is %d, want 0 or more", r.DelayMS)
	case r.HoldAfter < 0 || r.HoldAfter > len(r.Chunks):
		return fmt.Errorf("invalid reply: HoldAfter is %d, want 0 to %d, the number of chunks", r.HoldAfter, len(r.Chunks))
	case r.DropAfter < 0 || r.DropAfter > len(r.Chunks)+1:
		return fmt.Errorf("invalid reply: DropAfter is %d, want 0 to %d, the number of chunks plus the finish event", r.DropAfter, len(r.Chunks)+1)
	case r.ErrorAfter < 0 || r.ErrorAfter > len(r.Chunks):
		return fmt.Errorf("invalid reply: ErrorAfter is %d, want 0 to %d, the number of chunks", r.ErrorAfter, len(r.Chunks))
	case r.Status != 0 && (r.Status < 400 || r.Status > 599):
		return fmt.Errorf("invalid reply: Status is %d, want 0 or an error status from 400 to 599", r.Status)
	case r.Status != 0 && r.ErrorAfter != 0:
		return errors.New("invalid reply: both Status and ErrorAfter are set, so set one of them")
	case r.Status == 0 && r.ErrorAfter == 0 && (r.Error != "" || r.ErrorType != "" || r.ErrorCode != ""):
		return errors.New("invalid reply: an error is described but neither Status nor ErrorAfter is set")
	case r.Status == 0 && (r.RetryAfter != "" || r.RetryAfterMS != 0):
		return errors.New("invalid reply: a Retry-After header is set but Status is 0, so set Status, for example to 429")
	case r.RetryAfterMS < 0:
		return fmt.Errorf("invalid reply: RetryAfterMS is %d, want 0 or more", r.RetryAfterMS)
	case r.PromptTokens < 0 || r.CompletionTokens < 0:
		return fmt.Errorf("invalid reply: PromptTokens %d and CompletionTokens %d must be 0 or more", r.PromptTokens, r.CompletionTokens)
	}

	for i, chunk := range r.Chunks {
		for _, call := range chunk.ToolCalls {
			if call.Index < 0 {
				return fmt.Errorf("invalid reply: chunk %d has a tool call with index %d, want 0 or more", i, call.Index)
			}
		}
	}
	return nil
}

// hasToolCalls reports whether any chunk of r carries a tool-call delta.
func (r Reply) hasToolCalls() bool {
	for _, chunk := range r.Chunks {
		if len(chunk.ToolCalls) > 0 {
			return true
		}
	}
	return false
}

// echoReply returns the reply sent when no reply is queued: "You said: "
// and the last user message of req, one word per chunk, with runs of white
// space reduced to one space.
func echoReply(req openai.ChatCompletionNewParams) Reply {
	var last string
	for _, m := range req.Messages {
		if m.OfUser != nil {
			last = userText(m.OfUser)
		}
	}

	words := strings.Fields("You said: " + last)
	texts := make([]string, len(words))
	for i, word := range words {
		if i < len(words)-1 {
			word += " "
		}
		texts[i] = word
	}
	return Reply{Chunks: TextChunks(texts...)}
}

// countPromptWords counts the words in the text of the messages of req,
// the stand-in for the prompt token count.
func countPromptWords(req openai.ChatCompletionNewParams) int {
	count := 0
	for _, m := range req.Messages {
		switch {
		case m.OfSystem != nil:
			count += len(strings.Fields(m.OfSystem.Content.OfString.Value))
		case m.OfUser != nil:
			count += len(strings.Fields(userText(m.OfUser)))
		case m.OfAssistant != nil:
			count += len(strings.Fields(m.OfAssistant.Content.OfString.Value))
		case m.OfTool != nil:
			count += len(strings.Fields(m.OfTool.Content.OfString.Value))
		}
	}
	return count
}

// userText returns the text of a user message, joining the text parts of a
// message sent as an array of parts.
func userText(m *openai.ChatCompletionUserMessageParam) string {
	if m.Content.OfString.Valid() {
		return m.Content.OfString.Value
	}
	var parts []string
	for _, part := range m.Content.OfArrayOfContentParts {
		if part.OfText != nil {
			parts = append(parts, part.OfText.Text)
		}
	}
	return strings.Join(parts, " ")
}
