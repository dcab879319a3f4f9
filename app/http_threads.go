package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hearth/memory"
)

// threadMessagesLimit is how many of a thread's newest messages
// GET /api/threads/{threadId} returns.
const threadMessagesLimit = 50

// maxThreadPage is the largest page of threads one request may ask for.
const maxThreadPage = 1000

// handleListThreads serves GET /api/threads: every thread, newest first,
// in the array shape of Mastra's authenticated-memory example, or one page
// of them with ?limit=.
// The next page's cursor is sent in a Link header with rel="next" and in
// X-Next-Cursor, and neither is sent after the last page. With ?q= it
// returns only the threads that contain the text, paged the same way.
func (a *App) handleListThreads(w http.ResponseWriter, r *http.Request, u user) error {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 0, 1, maxThreadPage)
	if err != nil {
		return err
	}
	cursor := q.Get("cursor")
	if cursor != "" && limit == 0 {
		limit = maxThreadPage
	}
	if text := q.Get("q"); strings.TrimSpace(text) != "" {
		return a.searchThreads(w, r, u, text, limit, cursor)
	}
	threads, next, err := a.memory.Threads(r.Context(), u.owner(), memory.ThreadPage{Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	a.reportDamaged(u, threads)
	if next != "" {
		link := url.Values{"limit": {strconv.Itoa(limit)}, "cursor": {next}}
		w.Header().Set("Link", fmt.Sprintf(`</api/threads?%s>; rel="next"`, link.Encode()))
		w.Header().Set("X-Next-Cursor", next)
	}
	writeJSON(w, http.StatusOK, threads)
	return nil
}

// searchThreads serves GET /api/threads?q=text: the threads whose title or
// message content contains text, each with its match, paged like the list.
// The Link header of the next page repeats q.
func (a *App) searchThreads(w http.ResponseWriter, r *http.Request, u user, text string, limit int, cursor string) error {
	result, err := a.memory.SearchThreads(r.Context(), u.owner(), text, memory.ThreadPage{Limit: limit, Cursor: cursor})
	if err != nil && r.Context().Err() != nil {
		// The client went away and reads no response, so the stopped
		// search is not logged as a failure.
		return nil
	}
	if err != nil {
		return err
	}
	if len(result.DamagedThreads) > 0 {
		a.log.Warn("search skipped damaged messages", "profile", u.ID, "threads", result.DamagedThreads)
	}
	threads := make([]memory.Thread, len(result.Threads))
	for i, m := range result.Threads {
		threads[i] = m.Thread
	}
	a.reportDamaged(u, threads)
	if result.Next != "" {
		link := url.Values{"q": {text}, "limit": {strconv.Itoa(limit)}, "cursor": {result.Next}}
		w.Header().Set("Link", fmt.Sprintf(`</api/threads?%s>; rel="next"`, link.Encode()))
		w.Header().Set("X-Next-Cursor", result.Next)
	}
	writeJSON(w, http.StatusOK, result.Threads)
	return nil
}

// queryInt reads the whole-number query parameter name, which must lie
// between lo and hi; a missing one is def.
func queryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	raw := q.Get(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: name,
			Message: fmt.Sprintf("The query parameter %s is %q; use a whole number from %d to %d, or leave it out.", name, shorten(raw, 40), lo, hi)}
	}
	return n, nil
}

func (a *App) handleCreateThread(w http.ResponseWriter, r *http.Request, u user) error {
	var req struct {
		Title    string          `json:"title"`
		Metadata json.RawMessage `json:"metadata"`
	}
	if err := decodeOptionalJSON(w, r, &req); err != nil {
		return err
	}
	if isJSONNull(req.Metadata) {
		req.Metadata = nil
	}
	t, err := a.memory.CreateThread(r.Context(), u.owner(), req.Title, req.Metadata)
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

// checkThreadIDField rejects a thread id sent in field, of a body or a
// query, that is not in Hearth's id format. An empty id passes, for the
// caller to treat as left out.
func checkThreadIDField(field, id string) error {
	if id == "" || memory.ValidID(id) {
		return nil
	}
	return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: field,
		Message: fmt.Sprintf("%s is not a thread id; send the id of one of your threads, as GET /api/threads lists them.", field)}
}

// isJSONNull reports whether raw is the JSON null, which a client may send
// for a field it means to leave out.
func isJSONNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// handleDeleteThread serves DELETE /api/threads/{threadId}: it deletes the
// thread with its messages, its working memory and its recall vectors. A
// reply being written there is stopped and stored first, so that it is not
// written into a thread that is gone.
func (a *App) handleDeleteThread(w http.ResponseWriter, r *http.Request, u user) error {
	threadID := r.PathValue("threadId")
	owner := u.owner()
	if _, err := a.memory.Thread(r.Context(), owner, threadID); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), closeTimeout)
	defer cancel()
	a.generations.stopThread(ctx, threadID)
	if err := a.memory.DeleteThread(r.Context(), owner, threadID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleForkThread serves POST /api/threads/{threadId}/fork: a new thread
// with copies of the messages up to and including messageId.
func (a *App) handleForkThread(w http.ResponseWriter, r *http.Request, u user) error {
	var req struct {
		MessageID string `json:"messageId"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !memory.ValidID(req.MessageID) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "messageId",
			Message: "messageId must be the id of a message in this thread, as GET /api/threads/{threadId} lists them."}
	}
	owner := u.owner()
	threadID := r.PathValue("threadId")
	if _, err := a.memory.Thread(r.Context(), owner, threadID); err != nil {
		return err
	}
	t, err := a.memory.ForkThread(r.Context(), owner, threadID, req.MessageID)
	if errors.Is(err, memory.ErrNotFound) {
		// The thread is the user's, so the message is what is missing.
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Field: "messageId", Message: msgMessageNotFound}
	}
	if err != nil {
		return err
	}
	a.recall.Enqueue(owner, t.ID)
	writeJSON(w, http.StatusCreated, t)
	return nil
}

// handleListMessages serves GET /api/threads/{threadId}/messages: up to
// ?limit= messages (50 by default) written before the message ?before=, or
// the newest ones, oldest first. When older messages may remain, a Link
// header with rel="next" names the request for the page before.
func (a *App) handleListMessages(w http.ResponseWriter, r *http.Request, u user) error {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", threadMessagesLimit, 1, memory.MaxLastMessages-1)
	if err != nil {
		return err
	}
	before := q.Get("before")
	if before != "" && !memory.ValidID(before) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "before",
			Message: "before must be the id of a message in this thread, such as the oldest one of the page shown."}
	}

	owner := u.owner()
	threadID := r.PathValue("threadId")
	if _, err := a.memory.Thread(r.Context(), owner, threadID); err != nil {
		return err
	}

	// Reading one message more than the limit shows whether an older page
	// exists.
	messages, err := a.memory.MessagesBefore(r.Context(), owner, threadID, before, limit+1)
	if errors.Is(err, memory.ErrNotFound) {
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Field: "before", Message: msgMessageNotFound}
	}
	if err != nil {
		return err
	}

	if len(messages) > limit {
		messages = messages[1:]
		link := url.Values{"limit": {strconv.Itoa(limit)}, "before": {messages[0].ID}}
		w.Header().Set("Link", fmt.Sprintf(`</api/threads/%s/messages?%s>; rel="next"`, threadID, link.Encode()))
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": messages})
	return nil
}
