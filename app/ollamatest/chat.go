package ollamatest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

// errDropped is returned by playReply when the reply's DropAfter point is
// reached, so the handler aborts the connection.
var errDropped = errors.New("reply drops the connection here")

// handleChat responds to POST /api/chat with the next queued reply, or with the
// echo reply when the queue is empty.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()

	var req api.ChatRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	if !s.isInstalled(req.Model) {
		writeModelNotFound(w, req.Model)
		return
	}
	if len(req.Tools) > 0 && familyOf(req.Model).noTools {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("registry.ollama.ai/library/%s does not support tools", req.Model))
		return
	}

	reply, release := s.nextReply(req)
	if reply.Status != 0 {
		writeError(w, reply.Status, cmp.Or(reply.Error, http.StatusText(reply.Status)))
		return
	}

	if req.Stream == nil || *req.Stream {
		streamChat(w, r, req, reply, release, start)
	} else {
		respondChat(w, r, req, reply, release, start)
	}
}

// streamChat writes each line of reply as NDJSON and flushes it at once.
func streamChat(w http.ResponseWriter, r *http.Request, req api.ChatRequest, reply Reply, release <-chan struct{}, start time.Time) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	controller := http.NewResponseController(w)

	err := playReply(r.Context(), req, reply, release, start, func(line api.ChatResponse) error {
		return writeLine(w, controller, line)
	})
	if errors.Is(err, errDropped) {
		// net/http closes the connection without ending the chunked
		// body, so the client reads an unexpected EOF.
		panic(http.ErrAbortHandler)
	}
	// Any other error means the client has gone, so there is no one to
	// tell.
}

// respondChat plays reply with the same timing as streamChat but writes only
// one object at the end, joining the content and tool calls of all lines,
// as Ollama does for "stream": false. Unlike Ollama, it keeps the tool
// calls even when the request lists no tools.
func respondChat(w http.ResponseWriter, r *http.Request, req api.ChatRequest, reply Reply, release <-chan struct{}, start time.Time) {
	var (
		last      api.ChatResponse
		content   strings.Builder
		toolCalls []api.ToolCall
	)
	err := playReply(r.Context(), req, reply, release, start, func(line api.ChatResponse) error {
		content.WriteString(line.Message.Content)
		toolCalls = append(toolCalls, line.Message.ToolCalls...)
		last = line
		return nil
	})
	switch {
	case errors.Is(err, errDropped):
		panic(http.ErrAbortHandler)
	case err != nil:
		return
	}

	last.Message.Content = content.String()
	last.Message.ToolCalls = toolCalls
	writeJSON(w, http.StatusOK, last)
}

// playReply passes each line of reply to send, holding, dropping and
// pausing as reply specifies. It returns errDropped at the DropAfter point,
// ctx's error if the request ends first, or the first error from send.
func playReply(ctx context.Context, req api.ChatRequest, reply Reply, release <-chan struct{}, start time.Time, send func(api.ChatResponse) error) error {
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

		if reply.DelayMS > 0 {
			if err := sleep(ctx, time.Duration(reply.DelayMS)*time.Millisecond); err != nil {
				return err
			}
		}

		if err := send(chatLine(req, reply, i, start)); err != nil {
			return err
		}
	}
	return nil
}

// chatLine builds line i of reply. Lines before len(reply.Chunks) carry a
// chunk, and the last line is the final one with done set and the metrics.
func chatLine(req api.ChatRequest, reply Reply, i int, start time.Time) api.ChatResponse {
	line := api.ChatResponse{
		Model:     req.Model,
		CreatedAt: time.Now().UTC(),
		Message: api.Message{
			Role:      "assistant",
			ToolCalls: reply.ToolCalls[i],
		},
	}
	if i < len(reply.Chunks) {
		line.Message.Content = reply.Chunks[i]
		return line
	}

	elapsed := time.Since(start)
	line.Done = true
	line.DoneReason = cmp.Or(reply.DoneReason, "stop")
	line.Metrics = api.Metrics{
		TotalDuration:   elapsed,
		PromptEvalCount: cmp.Or(reply.PromptEvalCount, countPromptWords(req)),
		EvalCount:       cmp.Or(reply.EvalCount, len(reply.Chunks)),
		EvalDuration:    elapsed,
	}
	return line
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
