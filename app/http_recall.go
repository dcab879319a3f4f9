package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"hearth/memory"
	"hearth/memory/embed"
)

// recallPartType is the type of the chat stream's data part that lists the
// earlier messages recalled for a reply.
const recallPartType = "data-recall"

// recallSearchRequest is the body of POST /api/memory/recall/search.
type recallSearchRequest struct {
	Query    string `json:"query"`
	ThreadID string `json:"threadId"`
	Scope    string `json:"scope"`
	TopK     int    `json:"topK"`
	// MessageRange is a pointer so that 0 (no context) differs from
	// leaving it out (the default).
	MessageRange *int `json:"messageRange"`
}

// searchTimeout bounds a search request, whose embedder may be a slow
// remote server.
const searchTimeout = 30 * time.Second

// recalledView is one message found by a recall search.
type recalledView struct {
	ThreadID    string         `json:"threadId"`
	ThreadTitle string         `json:"threadTitle"`
	Date        time.Time      `json:"date"`
	Similarity  float32        `json:"similarity"`
	Match       bool           `json:"match"`
	Message     memory.Message `json:"message"`
}

func viewRecalled(found []memory.Recalled) []recalledView {
	out := make([]recalledView, 0, len(found))
	for _, r := range found {
		out = append(out, recalledView{ThreadID: r.ThreadID, ThreadTitle: r.ThreadTitle, Date: r.Date, Similarity: r.Similarity, Match: r.Match, Message: r.Message})
	}
	return out
}

// handleRecallSettings serves GET /api/memory/recall: the recall status
// and the chosen embedder.
func (a *App) handleRecallSettings(w http.ResponseWriter, r *http.Request, u user) error {
	settings, err := a.recallSettingsOf(r.Context(), u.owner())
	if err != nil {
		return recallError(err)
	}
	writeJSON(w, http.StatusOK, settings)
	return nil
}

// handleChooseEmbedder serves PUT /api/memory/recall/embedder: it tries the
// embedder, makes it the profile's, and starts embedding every message
// again when its vectors differ from the current ones.
func (a *App) handleChooseEmbedder(w http.ResponseWriter, r *http.Request, u user) error {
	var spec embedderSpec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	owner := u.owner()
	if err := a.chooseEmbedder(r.Context(), owner, spec); err != nil {
		return recallError(err)
	}
	settings, err := a.recallSettingsOf(r.Context(), owner)
	if err != nil {
		return recallError(err)
	}
	writeJSON(w, http.StatusOK, settings)
	return nil
}

// handleRecallSearch serves POST /api/memory/recall/search: the earlier
// messages most like the query, oldest first.
func (a *App) handleRecallSearch(w http.ResponseWriter, r *http.Request, u user) error {
	var req recallSearchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	return a.recallSearch(w, r, u, req, "query")
}

// handleMemorySearch serves GET /api/memory/search?q=&scope=&threadId=&topK=&messageRange=:
// what semantic recall would return for q, with scores, as the POST route
// does.
func (a *App) handleMemorySearch(w http.ResponseWriter, r *http.Request, u user) error {
	q := r.URL.Query()
	req := recallSearchRequest{Query: q.Get("q"), ThreadID: q.Get("threadId"), Scope: q.Get("scope")}
	var err error
	if req.TopK, err = queryInt(q, "topK", 0, 1, memory.MaxTopK); err != nil {
		return err
	}
	if q.Has("messageRange") {
		span, err := queryInt(q, "messageRange", 0, 0, memory.MaxMessageRange)
		if err != nil {
			return err
		}
		req.MessageRange = &span
	}
	return a.recallSearch(w, r, u, req, "q")
}

// recallSearch runs a recall search and writes its results. queryField
// names the field or parameter that carried the query text, for errors.
func (a *App) recallSearch(w http.ResponseWriter, r *http.Request, u user, req recallSearchRequest, queryField string) error {
	owner := u.owner()
	if err := checkThreadIDField("threadId", req.ThreadID); err != nil {
		return err
	}
	if req.ThreadID != "" {
		// Another profile's thread is not found, as on every route.
		if _, err := a.memory.Thread(r.Context(), owner, req.ThreadID); err != nil {
			return err
		}
	}
	span := 0 // memory's default
	if req.MessageRange != nil {
		if *req.MessageRange < 0 {
			return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messageRange",
				Message: fmt.Sprintf("messageRange is %d; use 0 to 10, or leave it out for 1.", *req.MessageRange)}
		}
		span = *req.MessageRange
		if span == 0 {
			span = -1 // memory's "none"
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), searchTimeout)
	defer cancel()
	found, err := a.recall.Search(ctx, owner, memory.RecallQuery{
		Text: req.Query, ThreadID: req.ThreadID, Scope: memory.RecallScope(req.Scope), TopK: req.TopK, MessageRange: span,
	})
	if err != nil {
		var input *memory.InputError
		if errors.As(err, &input) && input.Field == "text" {
			input.Field = queryField
		}
		return recallError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": viewRecalled(found)})
	return nil
}

// reindexView is the response of GET /api/memory/reindex.
type reindexView struct {
	memory.RecallStatus
	// Percent is how much of a running re-embedding is done, 0 to 100;
	// 100 when none runs.
	Percent int `json:"percent"`
}

// handleReindexStatus serves GET /api/memory/reindex: how far the
// profile's messages are embedded, during a change of embedder above all.
func (a *App) handleReindexStatus(w http.ResponseWriter, r *http.Request, u user) error {
	st := a.recall.Status(u.owner())
	view := reindexView{RecallStatus: st, Percent: 100}
	if re := st.Reembedding; re != nil && re.Total > 0 {
		view.Percent = min(100, re.Done*100/re.Total)
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// recallError maps the errors of memory.Recall that toAPIError does not
// know.
func recallError(err error) error {
	var input *memory.InputError
	switch {
	case errors.Is(err, memory.ErrRecallLocked):
		return &apiError{Status: http.StatusUnauthorized, Code: CodeLocked, Message: "Your profile is locked. Enter your password to unlock it."}
	case errors.As(err, &input):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusGatewayTimeout, Code: CodeEmbedderUnavailable,
			Message: fmt.Sprintf("The embedder did not answer within %v. Check that its server is running, or choose another embedder in the Memory settings.", searchTimeout)}
	case isEmbedderError(err):
		return &apiError{Status: http.StatusBadGateway, Code: CodeEmbedderUnavailable, Message: sentence(err.Error())}
	}
	return err
}

// embedderErrors are the kinds of failure an embedder reports.
var embedderErrors = []error{embed.ErrModelNotFound, embed.ErrUnauthorized, embed.ErrRateLimited, embed.ErrUnavailable,
	embed.ErrRejected, embed.ErrDimensionMismatch, embed.ErrInvalidResponse}

// isEmbedderError reports whether err comes from an embedder: a server
// that failed, a missing model, a rejected key or a wrong answer.
func isEmbedderError(err error) bool {
	for _, sentinel := range embedderErrors {
		if errors.Is(err, sentinel) {
			return true
		}
	}
	return false
}
