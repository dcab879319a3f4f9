package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"hearth/memory"
)

// modelsTimeout bounds the request for a backend's model list.
const modelsTimeout = 30 * time.Second

// handleGetSettings serves GET /api/settings: the profile's settings, with
// the defaults that empty values stand for, and without the API key.
func (a *App) handleGetSettings(w http.ResponseWriter, r *http.Request, u user) error {
	s, err := a.settingsOf(r.Context(), u.owner())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.viewSettings(s))
	return nil
}

// handlePutSettings serves PUT /api/settings: it checks and stores the
// profile's new settings and returns them as GET does.
func (a *App) handlePutSettings(w http.ResponseWriter, r *http.Request, u user) error {
	var req settingsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	owner := u.owner()
	current, err := a.settingsOf(r.Context(), owner)
	if err != nil {
		// Settings that no longer open or decode are replaced, so that the
		// profile can recover. Only a stored API key is lost with them.
		a.log.Warn("stored settings unreadable; replacing them", "profile", u.ID, "err", err)
		current = defaultSettings()
	}
	s, err := a.settingsFrom(req, current)
	if err != nil {
		return err
	}
	if err := a.putSettings(r.Context(), owner, s); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.viewSettings(s))
	return nil
}

// modelsResponse is the body of GET /api/models.
type modelsResponse struct {
	Backend BackendInfo `json:"backend"`
	Models  []modelView `json:"models"`
}

// modelView is one model of GET /api/models.
type modelView struct {
	ModelInfo
	// Capabilities is the model's list of abilities from Ollama's
	// /api/show, such as "completion", "tools" and "embedding". It is left
	// out for backends that do not report one, and for a model whose
	// description failed.
	Capabilities []string `json:"capabilities,omitempty"`
}

// handleListModels serves GET /api/models: the models the profile's
// backend offers. A backend failure is a 502 with the backend's error code.
func (a *App) handleListModels(w http.ResponseWriter, r *http.Request, u user) error {
	s, err := a.settingsOf(r.Context(), u.owner())
	if err != nil {
		return err
	}
	model, info, err := a.backendOf(s)
	if err != nil {
		return err
	}
	info.URL = redactURL(info.URL)

	ctx, cancel := context.WithTimeout(r.Context(), modelsTimeout)
	defer cancel()
	models, err := model.Models(ctx)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = &BackendError{
				Code:    CodeBackendUnreachable,
				Message: fmt.Sprintf("The model backend at %s did not list its models within %v. Check that it is running and reachable.", info.URL, modelsTimeout),
				Err:     err,
			}
		}
		return a.backendFailure(r, u, err)
	}
	views := make([]modelView, len(models))
	for i, m := range models {
		views[i] = modelView{ModelInfo: m}
	}
	a.addCapabilities(ctx, r, u, model, views)
	writeJSON(w, http.StatusOK, modelsResponse{Backend: info, Models: views})
	return nil
}

// capabilityLister is a Model that reports what each of its models can do,
// so that the page can leave embedding-only models out of its chat menus.
type capabilityLister interface {
	Capabilities(ctx context.Context, model string) ([]string, error)
}

// addCapabilities fills in the capabilities of models when the backend
// reports them. A model whose description fails stays in the list without
// them, and the failure is logged once per request.
func (a *App) addCapabilities(ctx context.Context, r *http.Request, u user, model Model, models []modelView) {
	lister, ok := model.(capabilityLister)
	if !ok {
		return
	}
	failures := 0
	var firstErr error
	for i := range models {
		capabilities, err := lister.Capabilities(ctx, models[i].Name)
		if err != nil {
			failures++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		models[i].Capabilities = capabilities
	}
	if failures > 0 {
		a.log.Warn("model capabilities unavailable", "route", r.Pattern, "profile", u.ID, "models", failures, "err", loggedError(firstErr))
	}
}

// backendFailure logs a failed request to a model backend and returns it as
// a 502 with the backend's error code and message.
func (a *App) backendFailure(r *http.Request, u user, err error) error {
	code, message := backendMessage(err)
	a.log.Warn("model backend request failed", "route", r.Pattern, "profile", u.ID, "code", code, "err", loggedError(err))
	return &apiError{Status: http.StatusBadGateway, Code: code, Message: message}
}

// pullRequest is the body of POST /api/models/pull.
type pullRequest struct {
	Name string `json:"name"`
}

// pullLine is one line of the pull progress stream. A line about a layer
// being downloaded has the status "downloading" and always carries the
// digest, total and completed bytes. Other lines carry Ollama's own status,
// such as "pulling manifest" or "success".
type pullLine struct {
	Status    string `json:"status"`
	Digest    string `json:"digest,omitempty"`
	Total     *int64 `json:"total,omitempty"`
	Completed *int64 `json:"completed,omitempty"`
}

// pullDownloading is the status of a progress line for one layer.
const pullDownloading = "downloading"

func pullLineOf(p PullProgress) pullLine {
	if p.Digest == "" {
		return pullLine{Status: p.Status}
	}
	return pullLine{Status: pullDownloading, Digest: p.Digest, Total: &p.Total, Completed: &p.Completed}
}

// handlePullModel serves POST /api/models/pull: it downloads a model into
// the profile's Ollama server and streams the progress as NDJSON, one line
// flushed per progress step. A failure after the stream started is its last
// line, {"error": {"code", "message"}}. The download stops when the client
// aborts the request.
func (a *App) handlePullModel(w http.ResponseWriter, r *http.Request, u user) error {
	var req pullRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if err := checkPullName(name); err != nil {
		return err
	}
	s, err := a.settingsOf(r.Context(), u.owner())
	if err != nil {
		return err
	}
	model, info, err := a.backendOf(s)
	if err != nil {
		return err
	}
	puller, ok := model.(Puller)
	if info.Kind != BackendOllama || !ok {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "backend.kind",
			Message: "Only an Ollama backend can download models. This profile uses an OpenAI-compatible server, whose models its provider manages; choose one of its models in Settings instead."}
	}

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	// send's error stops the download: a failed write is the only sign of
	// a client that went away inside the desktop window, where the request
	// context is never cancelled.
	send := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		return rc.Flush()
	}

	err = puller.Pull(r.Context(), name, func(p PullProgress) error {
		return send(pullLineOf(p))
	})
	var be *BackendError
	switch {
	case err == nil:
		a.log.Info("model pulled", "profile", u.ID, "model", name)
	case errors.As(err, &be):
		a.log.Warn("model pull failed", "profile", u.ID, "model", name, "code", be.Code, "err", loggedError(err))
		_ = send(errorBody{Error: &apiError{Code: be.Code, Message: be.Message}})
	default:
		// The client went away or stopped reading: there is no one to tell.
		a.log.Info("model pull stopped", "profile", u.ID, "model", name, "err", loggedError(err))
	}
	return nil
}

// maxPullNameBytes bounds the name of a model to download.
const maxPullNameBytes = 256

// checkPullName checks the name of a model to download, with the characters
// Ollama's model names are made of, such as "llama3.2:3b" or
// "hf.co/org/model:Q4_K_M".
func checkPullName(name string) error {
	if name == "" {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "name", Message: "The model name is missing; send one such as llama3.2."}
	}
	if len(name) > maxPullNameBytes {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "name",
			Message: fmt.Sprintf("The model name is %d bytes long; use at most %d.", len(name), maxPullNameBytes)}
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && !strings.ContainsRune("._-:/", r) {
			return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "name",
				Message: fmt.Sprintf("The model name %q contains %q; use letters, digits and . _ - : / only, as in llama3.2:3b.", name, r)}
		}
	}
	return nil
}

// threadUpdateRequest is the body of PATCH /api/threads/{threadId}. A field
// left out stays as it is.
type threadUpdateRequest struct {
	Title *string `json:"title"`
	// Model is the thread's own model; "" makes it use the profile's.
	Model *string `json:"model"`
	// Metadata replaces the thread's metadata, a JSON object.
	Metadata json.RawMessage `json:"metadata"`
}

// handleUpdateThread serves PATCH /api/threads/{threadId}: it renames a
// thread, replaces its metadata or chooses its model.
func (a *App) handleUpdateThread(w http.ResponseWriter, r *http.Request, u user) error {
	var req threadUpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	owner := u.owner()
	threadID := r.PathValue("threadId")
	if req.Model != nil {
		model := strings.TrimSpace(*req.Model)
		if err := checkModelName("model", model); err != nil {
			return err
		}
		req.Model = &model
	}
	if isJSONNull(req.Metadata) {
		req.Metadata = nil
	}
	if req.Title == nil && req.Model == nil && req.Metadata == nil {
		t, err := a.memory.Thread(r.Context(), owner, threadID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, t)
		return nil
	}
	t, err := a.memory.UpdateThread(r.Context(), owner, threadID, memory.ThreadUpdate{Title: req.Title, Model: req.Model, Metadata: req.Metadata})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
