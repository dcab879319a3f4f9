package openaitest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
)

// The types below are the wire format of a chat completion and its stream
// chunks. The library's response types have no MarshalJSON of their own, so
// encoding/json would write every field of them: a zero "usage" object on
// each chunk and "" in place of a null finish_reason, which no server
// sends.

type completionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int     `json:"index"`
	Delta        delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

type delta struct {
	Role      string          `json:"role,omitempty"`
	Content   string          `json:"content,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
}

type toolCallDelta struct {
	Index    int           `json:"index"`
	ID       string        `json:"id,omitempty"`
	Type     string        `json:"type,omitempty"`
	Function functionDelta `json:"function"`
}

type functionDelta struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   usage              `json:"usage"`
}

type completionChoice struct {
	Index        int               `json:"index"`
	Message      completionMessage `json:"message"`
	FinishReason string            `json:"finish_reason"`
}

type completionMessage struct {
	Role      string     `json:"role"`
	Content   *string    `json:"content"`
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// errDropped is returned by playReply when the reply's DropAfter point is
// reached, so the handler aborts the connection.
var errDropped = errors.New("reply drops the connection here")

// errStreamError is returned by playReply when the reply's ErrorAfter point
// is reached, so the stream ends with an error event.
var errStreamError = errors.New("reply sends an error event here")

// chatRequest is a decoded chat completion request.
type chatRequest struct {
	params openai.ChatCompletionNewParams
	// stream is the "stream" flag, which the params type has no field for.
	stream bool
	// id and created are the "id" and "created" of every chunk of the
	// reply.
	id      string
	created int64
}

// handleChat responds to POST /v1/chat/completions with the next queued
// reply, or with the echo reply when the queue is empty.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeChatRequest(w, r)
	if !ok {
		return
	}
	if req.params.Model == "" {
		writeError(w, http.StatusBadRequest, apiError{Message: "you must provide a model parameter"})
		return
	}
	if !s.isListed(req.params.Model) {
		writeError(w, http.StatusNotFound, apiError{
			Message: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.params.Model),
			Code:    "model_not_found",
		})
		return
	}

	reply, release := s.nextReply(req.params)
	if reply.Status != 0 {
		writeReplyError(w, reply)
		return
	}

	if req.stream {
		streamChat(w, r, req, reply, release)
	} else {
		respondChat(w, r, req, reply, release)
	}
}

// decodeChatRequest decodes the body of a chat completion request. On
// failure it writes a 400 response and returns false.
func decodeChatRequest(w http.ResponseWriter, r *http.Request) (chatRequest, bool) {
	var (
		req   chatRequest
		flags struct {
			Stream bool `json:"stream"`
		}
	)
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &req.params)
	}
	if err == nil {
		err = json.Unmarshal(body, &flags)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, apiError{Message: fmt.Sprintf("We could not parse the JSON body of your request: %v", err)})
		return chatRequest{}, false
	}

	now := time.Now()
	req.stream = flags.Stream
	req.id = "chatcmpl-" + strconv.FormatInt(now.UnixNano(), 36)
	req.created = now.Unix()
	return req, true
}

// writeReplyError writes the HTTP error response that reply describes, with
// its Retry-After headers.
func writeReplyError(w http.ResponseWriter, reply Reply) {
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	if reply.RetryAfterMS > 0 {
		w.Header().Set("Retry-After-Ms", strconv.Itoa(reply.RetryAfterMS))
	}
	writeError(w, reply.Status, replyError(reply, reply.Status))
}

// streamChat writes each event of reply as a server-sent event and flushes
// it at once.
func streamChat(w http.ResponseWriter, r *http.Request, req chatRequest, reply Reply, release <-chan struct{}) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	controller := http.NewResponseController(w)

	err := playReply(r.Context(), req, reply, release, func(event completionChunk) error {
		return writeEvent(w, controller, event, reply.SplitWrites)
	})
	switch {
	case errors.Is(err, errDropped):
		// net/http closes the connection without ending the chunked
		// body, so the client reads an unexpected EOF.
		panic(http.ErrAbortHandler)
	case errors.Is(err, errStreamError):
		writeEvent(w, controller, map[string]apiError{"error": replyError(reply, 0)}, reply.SplitWrites)
		return
	case err != nil:
		// The client has gone, so there is no one to tell.
		return
	}

	if req.params.StreamOptions.IncludeUsage.Value {
		event := newChunk(req)
		event.Choices = []chunkChoice{}
		event.Usage = replyUsage(req, reply)
		if err := writeEvent(w, controller, event, reply.SplitWrites); err != nil {
			return
		}
	}
	io.WriteString(w, "data: [DONE]\n\n")
	controller.Flush()
}

// respondChat plays reply with the same timing as streamChat but writes only
// one chat completion at the end, joining the content and tool calls of all
// events, as OpenAI does without "stream": true.
func respondChat(w http.ResponseWriter, r *http.Request, req chatRequest, reply Reply, release <-chan struct{}) {
	var (
		content      strings.Builder
		calls        []toolCall
		callAt       = map[int]int{} // tool-call index → position in calls
		finishReason string
	)
	err := playReply(r.Context(), req, reply, release, func(event completionChunk) error {
		choice := event.Choices[0]
		content.WriteString(choice.Delta.Content)
		for _, d := range choice.Delta.ToolCalls {
			at, seen := callAt[d.Index]
			if !seen {
				at = len(calls)
				callAt[d.Index] = at
				calls = append(calls, toolCall{Type: "function"})
			}
			calls[at].ID = cmp.Or(calls[at].ID, d.ID)
			calls[at].Function.Name = cmp.Or(calls[at].Function.Name, d.Function.Name)
			calls[at].Function.Arguments += d.Function.Arguments
		}
		if choice.FinishReason != nil {
			finishReason = *choice.FinishReason
		}
		return nil
	})
	switch {
	case errors.Is(err, errDropped):
		panic(http.ErrAbortHandler)
	case errors.Is(err, errStreamError):
		writeError(w, http.StatusInternalServerError, replyError(reply, 0))
		return
	case err != nil:
		return
	}

	message := completionMessage{Role: "assistant", ToolCalls: calls}
	if content.Len() > 0 || len(calls) == 0 {
		text := content.String()
		message.Content = &text
	}
	writeJSON(w, http.StatusOK, completion{
		ID:      req.id,
		Object:  "chat.completion",
		Created: req.created,
		Model:   req.params.Model,
		Choices: []completionChoice{{Index: 0, Message: message, FinishReason: finishReason}},
		Usage:   *replyUsage(req, reply),
	})
}

// playReply passes each event of reply to send, holding, dropping, failing
// and pausing as reply specifies. It leaves out the usage event and
// "data: [DONE]". It returns errDropped or errStreamError at
// those points, ctx's error if the request ends first, or the first error
// from send.
func playReply(ctx context.Context, req chatRequest, reply Reply, release <-chan struct{}, send func(completionChunk) error) error {
	for i := 0; i <= len(reply.Chunks); i++ {
		if reply.HoldAfter > 0 && i == reply.HoldAfter {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}

		if reply.DropAfter > 0 && i == reply.DropAfter {
			return errDropped
		}
		if reply.ErrorAfter > 0 && i == reply.ErrorAfter {
			return errStreamError
		}

		if reply.DelayMS > 0 {
			if err := sleep(ctx, time.Duration(reply.DelayMS)*time.Millisecond); err != nil {
				return err
			}
		}

		if err := send(replyChunk(req, reply, i)); err != nil {
			return err
		}
	}

	if reply.DropAfter == len(reply.Chunks)+1 {
		return errDropped
	}
	return nil
}

// replyChunk builds event i of reply. Events before len(reply.Chunks) carry
// a chunk, and the last one has an empty delta and the finish reason.
func replyChunk(req chatRequest, reply Reply, i int) completionChunk {
	event := newChunk(req)
	choice := chunkChoice{Index: 0}
	if i == 0 {
		choice.Delta.Role = "assistant"
	}

	if i == len(reply.Chunks) {
		reason := reply.FinishReason
		if reason == "" && reply.hasToolCalls() {
			reason = "tool_calls"
		}
		reason = cmp.Or(reason, "stop")
		choice.FinishReason = &reason
		event.Choices = []chunkChoice{choice}
		return event
	}

	chunk := reply.Chunks[i]
	choice.Delta.Content = chunk.Content
	for _, call := range chunk.ToolCalls {
		d := toolCallDelta{
			Index:    call.Index,
			ID:       call.ID,
			Function: functionDelta{Name: call.Name, Arguments: call.Arguments},
		}
		if call.ID != "" {
			d.Type = "function"
		}
		choice.Delta.ToolCalls = append(choice.Delta.ToolCalls, d)
	}
	event.Choices = []chunkChoice{choice}
	return event
}

// newChunk returns a chunk with the fields every chunk of req's reply
// shares.
func newChunk(req chatRequest) completionChunk {
	return completionChunk{
		ID:      req.id,
		Object:  "chat.completion.chunk",
		Created: req.created,
		Model:   req.params.Model,
	}
}

// replyUsage returns the token counts of reply, filling in the stand-ins
// for counts the reply leaves at 0.
func replyUsage(req chatRequest, reply Reply) *usage {
	prompt := cmp.Or(reply.PromptTokens, countPromptWords(req.params))
	completion := cmp.Or(reply.CompletionTokens, len(reply.Chunks))
	return &usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// writeEvent writes v as one server-sent event, "data: JSON" and a blank
// line, and flushes it to the client. With split set, it writes the event
// in two parts as Reply.SplitWrites describes.
func writeEvent(w http.ResponseWriter, controller *http.ResponseController, v any, split bool) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	event := make([]byte, 0, len(data)+len("data: \n\n"))
	event = append(event, "data: "...)
	event = append(event, data...)
	event = append(event, "\n\n"...)

	parts := [][]byte{event}
	if split {
		cut := splitPoint(event)
		parts = [][]byte{event[:cut], event[cut:]}
	}
	for _, part := range parts {
		if _, err := w.Write(part); err != nil {
			return err
		}
		if err := controller.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// splitPoint returns the index just after the first byte of the first
// multi-byte UTF-8 character in b, or the middle of b when all of it is
// ASCII.
func splitPoint(b []byte) int {
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return i + 1
		}
	}
	return len(b) / 2
}

// sleep waits for d, or returns ctx's error if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
