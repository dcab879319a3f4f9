package app

import (
	"net/http"

	"hearth/memory"
)

// threadMessagesLimit is how many of a thread's newest messages
// GET /api/threads/{threadId} returns.
const threadMessagesLimit = 50

func (a *App) handleListThreads(w http.ResponseWriter, r *http.Request, u user) error {
	threads, _, err := a.memory.Threads(r.Context(), u.owner(), memory.ThreadPage{})
	if err != nil {
		return err
	}
	a.reportDamaged(u, threads)
	writeJSON(w, http.StatusOK, threads)
	return nil
}

func (a *App) handleCreateThread(w http.ResponseWriter, r *http.Request, u user) error {
	var req struct {
		Title string `json:"title"`
	}
	if err := decodeOptionalJSON(w, r, &req); err != nil {
		return err
	}
	t, err := a.memory.CreateThread(r.Context(), u.owner(), req.Title, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (a *App) handleGetThread(w http.ResponseWriter, r *http.Request, u user) error {
	threadID := r.PathValue("threadId")
	t, err := a.memory.Thread(r.Context(), u.owner(), threadID)
	if err != nil {
		return err
	}
	messages, err := a.memory.LastMessages(r.Context(), u.owner(), threadID, threadMessagesLimit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"thread": t, "messages": messages})
	return nil
}

// errThreadNotFound is the answer for a thread id that is malformed, missing
// or another profile's.
var errThreadNotFound = memory.ErrNotFound

// reportDamaged logs the threads whose records do not open with their
// owner's key, by id, so that damage is noticed without hiding the rest.
func (a *App) reportDamaged(u user, threads []memory.Thread) {
	var damaged []string
	for _, t := range threads {
		if t.Damaged {
			damaged = append(damaged, t.ID)
		}
	}
	if len(damaged) > 0 {
		a.log.Warn("damaged threads listed", "profile", u.ID, "threads", damaged)
	}
}
