package app

import (
	"errors"
	"net/http"
	"time"

	"hearth/memory"
)

// recallPartType is the type of the chat stream's data part that lists the
// earlier messages recalled for a reply.
const recallPartType = "data-recall"

// recallSearchRequest is the body of POST /api/memory/recall/search.
type recallSearchRequest struct {
	Query        string `json:"query"`
	ThreadID     string `json:"threadId"`
	Scope        string `json:"scope"`
	TopK         int    `json:"topK"`
	MessageRange int    `json:"messageRange"`
}

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

// handleRecallSettings answers GET /api/memory/recall: the recall status
// and the chosen embedder.
func (a *App) handleRecallSettings(w http.ResponseWriter, r *http.Request, u user) error {
	settings, err := a.recallSettingsOf(r.Context(), u.owner())
	if err != nil {
		return recallError(err)
	}
	writeJSON(w, http.StatusOK, settings)
	return nil
}

// handleChooseEmbedder answers PUT /api/memory/recall/embedder: it tries the
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

// handleRecallSearch answers POST /api/memory/recall/search with the
// earlier messages most like the query, oldest first.
func (a *App) handleRecallSearch(w http.ResponseWriter, r *http.Request, u user) error {
	var req recallSearchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	owner := u.owner()
	if req.ThreadID != "" {
		// Another profile's thread is not found, as on every route.
		if _, err := a.memory.Thread(r.Context(), owner, req.ThreadID); err != nil {
			return err
		}
	}
	found, err := a.recall.Search(r.Context(), owner, memory.RecallQuery{
		Text: req.Query, ThreadID: req.ThreadID, Scope: memory.RecallScope(req.Scope), TopK: req.TopK, MessageRange: req.MessageRange,
	})
	if err != nil {
		var input *memory.InputError
		if errors.As(err, &input) && input.Field == "text" {
			input.Field = "query"
		}
		return recallError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": viewRecalled(found)})
	return nil
}

// recallError maps the errors of memory.Recall that toAPIError does not
// know.
func recallError(err error) error {
	if errors.Is(err, memory.ErrRecallLocked) {
		return &apiError{Status: http.StatusUnauthorized, Code: CodeLocked, Message: "Your profile is locked. Enter your password to unlock it."}
	}
	return err
}
