package ollamatest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ollama/ollama/api"
)

// Reply is a scripted response to one chat request. The JSON names are those
// the control route POST /_fake/replies accepts.
//
// A streamed reply is one NDJSON line per chunk, each with "done": false,
// followed by a final line with "done": true, the done reason, empty content
// and the eval counts. A reply to a request with "stream": false is one JSON
// object that joins the content and tool calls of all lines.
//
// The lines are numbered from 0, and line len(Chunks) is the final line.
// Before each line i the server checks, in this order, whether i equals
// HoldAfter, whether it equals DropAfter, and then waits DelayMS.
type Reply struct {
	// Chunks is the message content, one chunk per line.
	Chunks []string `json:"chunks,omitempty"`

	// ToolCalls maps a line number to the tool calls sent on that line,
	// alongside the line's chunk. Line len(Chunks) is the final line.
	ToolCalls map[int][]api.ToolCall `json:"toolCalls,omitempty"`

	// DelayMS is the pause in milliseconds before each line, the final line
	// included.
	DelayMS int `json:"delayMs,omitempty"`

	// HoldAfter, when positive, is the number of lines sent before the
	// server waits for Release or for the request to end. A request that
	// ends while held gets no further lines.
	HoldAfter int `json:"holdAfter,omitempty"`

	// DropAfter, when positive, is the number of lines sent before the
	// server aborts the connection, so the client reads an unexpected EOF
	// in place of the final line.
	//
	// NOTE: api.Client.Chat of Ollama 0.17.4 ignores that read error and
	// returns nil, so a caller sees the drop only as a stream that ended
	// without a line whose Done is true.
	DropAfter int `json:"dropAfter,omitempty"`

	// Status, when non-zero, is the HTTP status of an error response sent in
	// place of the reply: {"error": Error}, with no stream. It must be
	// between 400 and 599.
	Status int `json:"status,omitempty"`

	// Error is the message of the error response. When empty, the standard
	// text of Status is sent.
	Error string `json:"error,omitempty"`

	// DoneReason is the "done_reason" of the final line, "stop" when empty.
	DoneReason string `json:"doneReason,omitempty"`

	// PromptEvalCount is the "prompt_eval_count" of the final line. When 0,
	// the server sends the number of words in the request messages.
	PromptEvalCount int `json:"promptEvalCount,omitempty"`

	// EvalCount is the "eval_count" of the final line. When 0, the server
	// sends the number of chunks.
	EvalCount int `json:"evalCount,omitempty"`
}

// validate reports the first field of r that the server cannot carry out.
func (r Reply) validate() error {
	switch {
	case r.DelayMS < 0:
		return fmt.Errorf("invalid reply: delayMs is %d, want 0 or more", r.DelayMS)
	case r.HoldAfter < 0 || r.HoldAfter > len(r.Chunks):
		return fmt.Errorf("invalid reply: holdAfter is %d, want 0 to %d, the number of chunks", r.HoldAfter, len(r.Chunks))
	case r.DropAfter < 0 || r.DropAfter > len(r.Chunks):
		return fmt.Errorf("invalid reply: dropAfter is %d, want 0 to %d, the number of chunks", r.DropAfter, len(r.Chunks))
	case r.Status != 0 && (r.Status < 400 || r.Status > 599):
		return fmt.Errorf("invalid reply: status is %d, want 0 or an error status from 400 to 599", r.Status)
	case r.Status == 0 && r.Error != "":
		return errors.New("invalid reply: error is set but status is 0, so set status to an error status from 400 to 599")
	case r.PromptEvalCount < 0 || r.EvalCount < 0:
		return fmt.Errorf("invalid reply: promptEvalCount %d and evalCount %d must be 0 or more", r.PromptEvalCount, r.EvalCount)
	}

	for line := range r.ToolCalls {
		if line < 0 || line > len(r.Chunks) {
			return fmt.Errorf("invalid reply: toolCalls has line %d, want 0 to %d, the number of chunks", line, len(r.Chunks))
		}
	}
	return nil
}

// echoReply returns the reply sent when no reply is queued: "You said: "
// and the last user message of req, one word per chunk, with runs of white
// space reduced to one space.
func echoReply(req api.ChatRequest) Reply {
	var last string
	for _, m := range req.Messages {
		if m.Role == "user" {
			last = m.Content
		}
	}

	words := strings.Fields("You said: " + last)
	chunks := make([]string, len(words))
	for i, word := range words {
		if i < len(words)-1 {
			word += " "
		}
		chunks[i] = word
	}
	return Reply{Chunks: chunks}
}

// countPromptWords counts the words in the messages of req, the stand-in
// for the prompt token count.
func countPromptWords(req api.ChatRequest) int {
	count := 0
	for _, m := range req.Messages {
		count += len(strings.Fields(m.Content))
	}
	return count
}
