package app

import (
	"context"
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
	t = a.reportDamagedMessages(r.Context(), u, t, messages)
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

// reportDamagedMessages marks thread t when messages, read from it, include
// damaged ones, so that the thread list shows it too, and logs the damage
// once, when the mark is new, by ids only. It returns t as marked.
func (a *App) reportDamagedMessages(ctx context.Context, u user, t memory.Thread, messages []memory.Message) memory.Thread {
	var damaged []string
	for _, m := range messages {
		if m.Damaged {
			damaged = append(damaged, m.ID)
		}
	}
	if len(damaged) == 0 || t.DamagedMessages {
		return t
	}
	marked, err := a.memory.MarkThreadDamaged(ctx, u.owner(), t.ID)
	if err != nil {
		a.log.Error("mark thread damaged", "profile", u.ID, "thread", t.ID, "err", err)
		return t
	}
	if marked {
		a.log.Warn("damaged messages found", "profile", u.ID, "thread", t.ID, "messages", damaged)
	}
	t.DamagedMessages = true
	return t
}
