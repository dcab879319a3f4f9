package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/memory"
)

type workingDocJSON struct {
	ThreadID  string    `json:"threadId"`
	Content   string    `json:"content"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
	Scope     string    `json:"scope"`
	Template  string    `json:"template"`
}

type workingHistoryJSON struct {
	Versions []workingDocJSON `json:"versions"`
}

// workingPath returns path with the threadId query when threadID is set.
func workingPath(path, threadID string) string {
	if threadID == "" {
		return path
	}
	return path + "?threadId=" + url.QueryEscape(threadID)
}

// getWorkingDoc returns the working memory document that threadID selects.
func (env *testEnv) getWorkingDoc(token, threadID string) workingDocJSON {
	env.t.Helper()
	var doc workingDocJSON
	env.mustJSON("GET", workingPath("/api/memory/working", threadID), token, nil, http.StatusOK, &doc)
	return doc
}

// putWorkingDoc replaces the working memory document and returns the new
// version.
func (env *testEnv) putWorkingDoc(token string, body map[string]any) workingDocJSON {
	env.t.Helper()
	var doc workingDocJSON
	env.mustJSON("PUT", "/api/memory/working", token, body, http.StatusOK, &doc)
	return doc
}

func (env *testEnv) workingHistory(token, threadID string) []workingDocJSON {
	env.t.Helper()
	var h workingHistoryJSON
	env.mustJSON("GET", workingPath("/api/memory/working/history", threadID), token, nil, http.StatusOK, &h)
	return h.Versions
}

func docVersions(docs []workingDocJSON) []int {
	versions := make([]int, len(docs))
	for i, d := range docs {
		versions[i] = d.Version
	}
	return versions
}

func TestWorkingMemoryRoutes(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	empty := env.getWorkingDoc(ada, "")
	if empty.Version != 0 || empty.Content != "" || !empty.UpdatedAt.IsZero() || empty.ThreadID != "" {
		t.Errorf("working memory never written = %+v, want version 0 and empty", empty)
	}
	if empty.Scope != ScopeResource || empty.Template != DefaultWorkingMemoryTemplate {
		t.Errorf("working memory scope and template = %q, %q, want %q and the default template", empty.Scope, empty.Template, ScopeResource)
	}
	if h := env.workingHistory(ada, ""); len(h) != 0 {
		t.Errorf("history never written = %v, want none", docVersions(h))
	}

	first := env.putWorkingDoc(ada, map[string]any{"content": "- **Name**: Ada", "version": 0})
	if first.Version != 1 || first.Content != "- **Name**: Ada" || first.UpdatedAt.IsZero() || first.Scope != ScopeResource {
		t.Errorf("first version = %+v, want version 1 with the content", first)
	}
	second := env.putWorkingDoc(ada, map[string]any{"content": "- **Name**: Ada Lovelace", "version": 1})
	if second.Version != 2 {
		t.Errorf("second version = %d, want 2", second.Version)
	}
	if got := env.getWorkingDoc(ada, ""); got.Version != 2 || got.Content != "- **Name**: Ada Lovelace" {
		t.Errorf("GET after two versions = %+v, want version 2", got)
	}

	// A change based on an old version is a conflict and changes nothing.
	resp, data := env.do("PUT", "/api/memory/working", ada, map[string]any{"content": "- lost", "version": 1})
	checkAPIError(t, "stale PUT", resp, data, http.StatusConflict, CodeConflict, "version")
	if !strings.Contains(string(data), "version 2") {
		t.Errorf("conflict message %s does not name the current version 2", data)
	}
	if got := env.getWorkingDoc(ada, ""); got.Version != 2 || got.Content != "- **Name**: Ada Lovelace" {
		t.Errorf("GET after a conflict = %+v, want version 2 unchanged", got)
	}

	history := env.workingHistory(ada, "")
	if got := docVersions(history); len(got) != 2 || got[0] != 2 || got[1] != 1 {
		t.Fatalf("history versions = %v, want [2 1]", got)
	}
	if history[1].Content != "- **Name**: Ada" {
		t.Errorf("history version 1 = %q, want the first content", history[1].Content)
	}

	// Reverting makes an old version current again, as a new version.
	var reverted workingDocJSON
	env.mustJSON("POST", "/api/memory/working/revert", ada, map[string]any{"version": 1, "current": 2}, http.StatusOK, &reverted)
	if reverted.Version != 3 || reverted.Content != "- **Name**: Ada" || reverted.Scope != ScopeResource {
		t.Errorf("reverted document = %+v, want version 3 with version 1's content", reverted)
	}
	resp, data = env.do("POST", "/api/memory/working/revert", ada, map[string]any{"version": 2, "current": 2})
	checkAPIError(t, "stale revert", resp, data, http.StatusConflict, CodeConflict, "version")
	resp, data = env.do("POST", "/api/memory/working/revert", ada, map[string]any{"version": 99, "current": 3})
	checkAPIError(t, "revert to a version not kept", resp, data, http.StatusNotFound, CodeNotFound, "version")
	if got := docVersions(env.workingHistory(ada, "")); len(got) != 3 || got[0] != 3 {
		t.Errorf("history after the revert = %v, want [3 2 1]", got)
	}
}

func TestWorkingMemoryRejected(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.putWorkingDoc(ada, map[string]any{"content": "- likes tea", "version": 0})

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		field  string
	}{
		{"missing content", "PUT", "/api/memory/working", map[string]any{"version": 1}, http.StatusBadRequest, CodeInvalidRequest, "content"},
		{"missing version", "PUT", "/api/memory/working", map[string]any{"content": "x"}, http.StatusBadRequest, CodeInvalidRequest, "version"},
		{"too long", "PUT", "/api/memory/working", map[string]any{"content": strings.Repeat("x", memory.MaxWorkingMemoryBytes+1), "version": 1}, http.StatusBadRequest, CodeInvalidRequest, "content"},
		{"unknown field", "PUT", "/api/memory/working", map[string]any{"content": "x", "version": 1, "scope": "thread"}, http.StatusBadRequest, CodeInvalidRequest, "scope"},
		{"version as text", "PUT", "/api/memory/working", map[string]any{"content": "x", "version": "1"}, http.StatusBadRequest, CodeInvalidRequest, "version"},
		{"revert without version", "POST", "/api/memory/working/revert", map[string]any{"current": 1}, http.StatusBadRequest, CodeInvalidRequest, "version"},
		{"revert to version 0", "POST", "/api/memory/working/revert", map[string]any{"version": 0, "current": 1}, http.StatusBadRequest, CodeInvalidRequest, "version"},
		{"revert without current", "POST", "/api/memory/working/revert", map[string]any{"version": 1}, http.StatusBadRequest, CodeInvalidRequest, "current"},
		{"signed out", "GET", "/api/memory/working", nil, http.StatusUnauthorized, CodeUnauthorized, ""},
	}
	for _, tt := range tests {
		token := ada
		if tt.status == http.StatusUnauthorized {
			token = ""
		}
		resp, data := env.do(tt.method, tt.path, token, tt.body)
		checkAPIError(t, tt.name, resp, data, tt.status, tt.code, tt.field)
	}
	if got := env.getWorkingDoc(ada, ""); got.Version != 1 || got.Content != "- likes tea" {
		t.Errorf("working memory after rejected requests = %+v, want version 1 unchanged", got)
	}
}

// The person may empty the working memory, as the model may not: an undo
// of the model's first notes leaves the document empty again.
func TestWorkingMemoryEmptiedByPerson(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.putWorkingDoc(ada, map[string]any{"content": "- likes tea", "version": 0})
	env.putWorkingDoc(ada, map[string]any{"content": "", "version": 1})
	if got := env.getWorkingDoc(ada, ""); got.Version != 2 || got.Content != "" {
		t.Errorf("working memory after emptying = %+v, want version 2 and empty", got)
	}
}

func TestWorkingMemoryOtherProfile(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	env.putWorkingDoc(ada, map[string]any{"content": "- Ada's secret", "version": 0})

	if got := env.getWorkingDoc(bob, ""); got.Version != 0 || got.Content != "" {
		t.Errorf("Bob's working memory = %+v, want his own, empty", got)
	}
	bobs := env.putWorkingDoc(bob, map[string]any{"content": "- Bob's notes", "version": 0})
	if bobs.Version != 1 {
		t.Errorf("Bob's first version = %d, want 1", bobs.Version)
	}
	if got := env.getWorkingDoc(ada, ""); got.Version != 1 || got.Content != "- Ada's secret" {
		t.Errorf("Ada's working memory after Bob wrote his = %+v, want hers unchanged", got)
	}
}

func TestWorkingMemoryThreadScope(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	adaThread := env.createThread(ada)
	bobThread := env.createThread(bob)
	env.putWorkingDoc(ada, map[string]any{"content": "- profile notes", "version": 0})

	// With the resource scope, threadId is ignored.
	if got := env.getWorkingDoc(ada, adaThread.ID); got.ThreadID != "" || got.Content != "- profile notes" {
		t.Errorf("GET with threadId under the resource scope = %+v, want the profile's document", got)
	}

	env.putSettings(ada, map[string]any{"workingMemory": map[string]any{"scope": "thread", "template": "# Thread notes\n"}})

	resp, data := env.do("GET", "/api/memory/working", ada, nil)
	checkAPIError(t, "GET without threadId", resp, data, http.StatusBadRequest, CodeInvalidRequest, "threadId")
	resp, data = env.do("PUT", "/api/memory/working", ada, map[string]any{"content": "x", "version": 0})
	checkAPIError(t, "PUT without threadId", resp, data, http.StatusBadRequest, CodeInvalidRequest, "threadId")
	resp, data = env.do("GET", "/api/memory/working/history", ada, nil)
	checkAPIError(t, "history without threadId", resp, data, http.StatusBadRequest, CodeInvalidRequest, "threadId")
	resp, data = env.do("POST", "/api/memory/working/revert", ada, map[string]any{"version": 1, "current": 1})
	checkAPIError(t, "revert without threadId", resp, data, http.StatusBadRequest, CodeInvalidRequest, "threadId")

	doc := env.getWorkingDoc(ada, adaThread.ID)
	if doc.ThreadID != adaThread.ID || doc.Version != 0 || doc.Content != "" || doc.Scope != ScopeThread || doc.Template != "# Thread notes\n" {
		t.Errorf("thread document never written = %+v, want version 0 of the thread with the thread scope and template", doc)
	}
	first := env.putWorkingDoc(ada, map[string]any{"content": "- planning Lisbon", "version": 0, "threadId": adaThread.ID})
	if first.ThreadID != adaThread.ID || first.Version != 1 {
		t.Errorf("thread document after PUT = %+v, want version 1 of the thread", first)
	}
	env.putWorkingDoc(ada, map[string]any{"content": "- planning Porto", "version": 1, "threadId": adaThread.ID})
	var reverted workingDocJSON
	env.mustJSON("POST", "/api/memory/working/revert", ada, map[string]any{"version": 1, "current": 2, "threadId": adaThread.ID}, http.StatusOK, &reverted)
	if reverted.Version != 3 || reverted.Content != "- planning Lisbon" || reverted.ThreadID != adaThread.ID {
		t.Errorf("reverted thread document = %+v, want version 3 with version 1's content", reverted)
	}
	if got := docVersions(env.workingHistory(ada, adaThread.ID)); len(got) != 3 || got[0] != 3 {
		t.Errorf("thread history = %v, want [3 2 1]", got)
	}

	// Another profile's thread, or a missing one, is not found.
	for _, threadID := range []string{bobThread.ID, memory.NewID()} {
		resp, data = env.do("GET", workingPath("/api/memory/working", threadID), ada, nil)
		checkAPIError(t, "GET of thread "+threadID, resp, data, http.StatusNotFound, CodeNotFound, "")
		resp, data = env.do("PUT", "/api/memory/working", ada, map[string]any{"content": "- intrusion", "version": 0, "threadId": threadID})
		checkAPIError(t, "PUT to thread "+threadID, resp, data, http.StatusNotFound, CodeNotFound, "")
	}
	// An id that is not in Hearth's format is rejected before any lookup.
	resp, data = env.do("GET", workingPath("/api/memory/working", "not-an-id"), ada, nil)
	checkAPIError(t, "GET of thread not-an-id", resp, data, http.StatusBadRequest, CodeInvalidRequest, "threadId")
	resp, data = env.do("PUT", "/api/memory/working", ada, map[string]any{"content": "- intrusion", "version": 0, "threadId": "not-an-id"})
	checkAPIError(t, "PUT to thread not-an-id", resp, data, http.StatusBadRequest, CodeInvalidRequest, "threadId")
	env.putSettings(bob, map[string]any{"workingMemory": map[string]any{"scope": "thread"}})
	resp, data = env.do("GET", workingPath("/api/memory/working", adaThread.ID), bob, nil)
	checkAPIError(t, "Bob's GET of Ada's thread", resp, data, http.StatusNotFound, CodeNotFound, "")
	if got := env.getWorkingDoc(bob, bobThread.ID); got.Version != 0 {
		t.Errorf("Bob's thread document = %+v, want version 0", got)
	}

	// Back on the resource scope, the profile's document is as it was.
	env.putSettings(ada, map[string]any{})
	if got := env.getWorkingDoc(ada, ""); got.Version != 1 || got.Content != "- profile notes" {
		t.Errorf("profile document after thread-scoped writes = %+v, want version 1 unchanged", got)
	}
}
