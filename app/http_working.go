package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"

	"hearth/memory"
)

// workingMemoryView is a working memory document as the API returns it,
// with the profile's scope and template.
type workingMemoryView struct {
	memory.WorkingMemory
	Scope    string `json:"scope"`
	Template string `json:"template"`
}

// workingMemoryUpdate is the body of PUT /api/memory/working.
type workingMemoryUpdate struct {
	Content *string `json:"content"`
	// Version is the version the new content is based on: 0 for a
	// document never written.
	Version  *int   `json:"version"`
	ThreadID string `json:"threadId"`
}

// workingMemoryRevert is the body of POST /api/memory/working/revert.
type workingMemoryRevert struct {
	// Version is the earlier version to make current again.
	Version *int `json:"version"`
	// Current is the current version the client saw.
	Current  *int   `json:"current"`
	ThreadID string `json:"threadId"`
}

// workingScope is the document a working memory request acts on.
type workingScope struct {
	scope    string // ScopeResource or ScopeThread
	template string
	// threadID is the thread of a thread-scoped document, or "".
	threadID string
}

// workingScopeFor returns the document that requestedThread selects under
// the profile's scope setting: the profile's own document, whatever
// requestedThread is, or, with the scope "thread", the document of
// requestedThread, which must be one of the profile's threads.
func (a *App) workingScopeFor(ctx context.Context, u user, requestedThread string) (workingScope, error) {
	s, err := a.settingsOf(ctx, u.owner())
	if err != nil {
		return workingScope{}, err
	}
	if err := checkThreadIDField("threadId", requestedThread); err != nil {
		return workingScope{}, err
	}
	ws := workingScope{
		scope:    cmp.Or(s.WorkingMemory.Scope, ScopeResource),
		template: cmp.Or(s.WorkingMemory.Template, DefaultWorkingMemoryTemplate),
	}
	if ws.scope != ScopeThread {
		return ws, nil
	}
	if requestedThread == "" {
		return workingScope{}, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "threadId",
			Message: "This profile keeps one working memory per thread; send the threadId of the thread whose working memory you mean."}
	}
	// Another profile's thread is not found, as on every route.
	if _, err := a.memory.Thread(ctx, u.owner(), requestedThread); err != nil {
		return workingScope{}, err
	}
	ws.threadID = requestedThread
	return ws, nil
}

func (ws workingScope) view(wm memory.WorkingMemory) workingMemoryView {
	return workingMemoryView{WorkingMemory: wm, Scope: ws.scope, Template: ws.template}
}

// handleGetWorkingMemory serves GET /api/memory/working?threadId=: the
// current working memory document. A document never written is empty with
// version 0.
func (a *App) handleGetWorkingMemory(w http.ResponseWriter, r *http.Request, u user) error {
	ws, err := a.workingScopeFor(r.Context(), u, r.URL.Query().Get("threadId"))
	if err != nil {
		return err
	}
	wm, err := a.memory.WorkingMemory(r.Context(), u.owner(), ws.threadID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws.view(wm))
	return nil
}

// handlePutWorkingMemory serves PUT /api/memory/working: it replaces the
// document if it is still at the version the client read, and returns 409
// conflict otherwise.
func (a *App) handlePutWorkingMemory(w http.ResponseWriter, r *http.Request, u user) error {
	var req workingMemoryUpdate
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Content == nil {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "content", Message: "The content is missing; send the whole new document."}
	}
	if req.Version == nil {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "version",
			Message: "The version is missing; send the version of the document the change is based on, 0 for a document never written."}
	}
	ws, err := a.workingScopeFor(r.Context(), u, req.ThreadID)
	if err != nil {
		return err
	}
	owner := u.owner()
	wm, err := a.memory.ReplaceWorkingMemory(r.Context(), owner, memory.WorkingMemoryUpdate{ThreadID: ws.threadID, Content: *req.Content, Version: *req.Version, AllowEmpty: true})
	if errors.Is(err, memory.ErrConflict) {
		return a.workingConflict(r.Context(), owner, ws, *req.Version)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws.view(wm))
	return nil
}

// handleWorkingMemoryHistory serves GET /api/memory/working/history: the
// kept versions of the document, newest first, the current one included.
func (a *App) handleWorkingMemoryHistory(w http.ResponseWriter, r *http.Request, u user) error {
	ws, err := a.workingScopeFor(r.Context(), u, r.URL.Query().Get("threadId"))
	if err != nil {
		return err
	}
	versions, err := a.memory.WorkingMemoryHistory(r.Context(), u.owner(), ws.threadID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": versions})
	return nil
}

// handleRevertWorkingMemory serves POST /api/memory/working/revert: it makes
// an earlier version current again, as a new version, if current is still
// the current version.
func (a *App) handleRevertWorkingMemory(w http.ResponseWriter, r *http.Request, u user) error {
	var req workingMemoryRevert
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Version == nil || *req.Version < 1 {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "version",
			Message: "The version to revert to is missing or below 1; send a version from the history."}
	}
	if req.Current == nil {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "current",
			Message: "The current version is missing; send the version of the document you are looking at."}
	}
	ws, err := a.workingScopeFor(r.Context(), u, req.ThreadID)
	if err != nil {
		return err
	}
	owner := u.owner()
	wm, err := a.memory.RevertWorkingMemory(r.Context(), owner, ws.threadID, *req.Version, *req.Current)
	switch {
	case errors.Is(err, memory.ErrConflict):
		return a.workingConflict(r.Context(), owner, ws, *req.Current)
	case errors.Is(err, memory.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Field: "version",
			Message: fmt.Sprintf("Version %d of the working memory is not in its history, which keeps the current version and the %d before it.", *req.Version, memory.WorkingMemoryHistory)}
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, ws.view(wm))
	return nil
}

// workingConflict is the error for a change based on version when the
// document has moved on.
func (a *App) workingConflict(ctx context.Context, owner memory.Owner, ws workingScope, version int) error {
	message := fmt.Sprintf("The working memory changed since version %d was read. Reload it and make the change again.", version)
	if wm, err := a.memory.WorkingMemory(ctx, owner, ws.threadID); err == nil {
		message = fmt.Sprintf("The working memory changed since version %d was read; it is now at version %d. Reload it and make the change again.", version, wm.Version)
	}
	return &apiError{Status: http.StatusConflict, Code: CodeConflict, Field: "version", Message: message}
}
