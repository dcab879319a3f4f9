package app

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// nextLinkPattern matches a Link header with one URL of rel="next".
var nextLinkPattern = regexp.MustCompile(`^<([^>]+)>;\s*rel="next"$`)

// nextLink returns the URL of the response's Link header with rel="next",
// or "" when the response has no Link header.
func nextLink(t *testing.T, resp *http.Response) string {
	t.Helper()
	link := resp.Header.Get("Link")
	if link == "" {
		return ""
	}
	m := nextLinkPattern.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("Link header %q is not one URL with rel=\"next\"", link)
	}
	return m[1]
}

// newLimitedEnv is newTestEnv with limits on each profile's requests.
func newLimitedEnv(t *testing.T, limits Limits) *testEnv {
	t.Helper()
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t), limits: limits}
	env.start(env.fake.URL())
	return env
}

// doRequest sends req and returns the response with its body read.
func (env *testEnv) doRequest(req *http.Request) (*http.Response, []byte) {
	env.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		env.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return resp, data
}

// doRaw sends body unchanged with the given Content-Type.
func (env *testEnv) doRaw(method, path, token, contentType string, body []byte) (*http.Response, []byte) {
	env.t.Helper()
	req := env.newRequest(method, path, token, nil)
	req.Body = io.NopCloser(strings.NewReader(string(body)))
	req.ContentLength = int64(len(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return env.doRequest(req)
}

// threadMetaJSON is a thread as the API returns it, with its metadata.
type threadMetaJSON struct {
	ID           string          `json:"id"`
	Title        string          `json:"title"`
	CreatedAt    time.Time       `json:"createdAt"`
	Metadata     json.RawMessage `json:"metadata"`
	MessageCount int             `json:"messageCount"`
}

type importResultJSON struct {
	ThreadIDs     []string `json:"threadIds"`
	Threads       int      `json:"threads"`
	Messages      int      `json:"messages"`
	WorkingMemory int      `json:"workingMemory"`
}

// listThreadIDs returns the ids of token's threads, newest first.
func (env *testEnv) listThreadIDs(token string) []string {
	env.t.Helper()
	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	ids := make([]string, len(threads))
	for i, th := range threads {
		ids[i] = th.ID
	}
	return ids
}

// roleAndContent lists messages as "role: content" lines, for comparing
// threads whose message ids differ.
func roleAndContent(msgs []messageJSON) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Role + ": " + m.Content
	}
	return out
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func TestThreadsPaging(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	const total = 7
	var newestFirst []string
	for range total {
		newestFirst = append([]string{env.createThread(token).ID}, newestFirst...)
	}

	// Without limit the response is the whole array, with no paging
	// headers.
	resp, data := env.do("GET", "/api/threads", token, nil)
	var all []threadJSON
	if err := json.Unmarshal(data, &all); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/threads: status %d, body %s, want 200 with an array", resp.StatusCode, data)
	}
	if len(all) != total {
		t.Errorf("without limit %d threads are listed, want %d", len(all), total)
	}
	if resp.Header.Get("Link") != "" || resp.Header.Get("X-Next-Cursor") != "" {
		t.Errorf("without limit Link is %q and X-Next-Cursor %q, want neither", resp.Header.Get("Link"), resp.Header.Get("X-Next-Cursor"))
	}

	// Following Link from ?limit=3 walks every thread once, newest first.
	var walked []string
	var pageSizes []int
	firstCursor := ""
	path := "/api/threads?limit=3"
	for path != "" {
		if len(pageSizes) > total {
			t.Fatalf("more than %d pages; the walk does not end", total)
		}
		resp, data := env.do("GET", path, token, nil)
		var page []threadJSON
		if err := json.Unmarshal(data, &page); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, body %s", path, resp.StatusCode, data)
		}
		pageSizes = append(pageSizes, len(page))
		for _, th := range page {
			walked = append(walked, th.ID)
		}
		next := nextLink(t, resp)
		cursor := resp.Header.Get("X-Next-Cursor")
		if firstCursor == "" {
			firstCursor = cursor
		}
		if (next == "") != (cursor == "") {
			t.Errorf("GET %s: Link %q and X-Next-Cursor %q, want both or neither", path, next, cursor)
		}
		if next != "" {
			u, err := url.Parse(next)
			if err != nil {
				t.Fatalf("Link URL %q: %v", next, err)
			}
			if u.Path != "/api/threads" || u.Query().Get("cursor") != cursor || u.Query().Get("limit") != "3" {
				t.Errorf("Link URL %q, want /api/threads with cursor %q and limit 3", next, cursor)
			}
		}
		path = next
	}
	if !slices.Equal(walked, newestFirst) {
		t.Errorf("the walk listed %v, want %v", walked, newestFirst)
	}
	if !slices.Equal(pageSizes, []int{3, 3, 1}) {
		t.Errorf("page sizes %v, want [3 3 1]", pageSizes)
	}

	// A limit equal to the number of threads gives one page and no Link.
	resp, data = env.do("GET", fmt.Sprintf("/api/threads?limit=%d", total), token, nil)
	var whole []threadJSON
	if err := json.Unmarshal(data, &whole); err != nil || len(whole) != total {
		t.Errorf("limit=%d: body %s, want all %d threads", total, data, total)
	}
	if link := resp.Header.Get("Link"); link != "" {
		t.Errorf("limit=%d: Link %q after the last thread, want none", total, link)
	}

	// A cursor alone continues with every thread after it.
	resp, data = env.do("GET", "/api/threads?cursor="+url.QueryEscape(firstCursor), token, nil)
	var rest []threadJSON
	if err := json.Unmarshal(data, &rest); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("cursor alone: status %d, body %s", resp.StatusCode, data)
	}
	var restIDs []string
	for _, th := range rest {
		restIDs = append(restIDs, th.ID)
	}
	if !slices.Equal(restIDs, newestFirst[3:]) {
		t.Errorf("cursor alone listed %v, want %v", restIDs, newestFirst[3:])
	}
	if link := resp.Header.Get("Link"); link != "" {
		t.Errorf("cursor alone: Link %q after the last thread, want none", link)
	}

	for _, cursor := range []string{"not a cursor!", "abc", "////", "%%%"} {
		env.wantAPIError("GET", "/api/threads?limit=2&cursor="+url.QueryEscape(cursor), token, nil, http.StatusBadRequest, CodeInvalidRequest, "cursor")
	}
	for _, limit := range []string{"0", "-1", "ten", "1001", "2.5"} {
		env.wantAPIError("GET", "/api/threads?limit="+url.QueryEscape(limit), token, nil, http.StatusBadRequest, CodeInvalidRequest, "limit")
	}
}

func TestThreadTitleAndMetadata(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")

	var created threadMetaJSON
	env.mustJSON("POST", "/api/threads", token, map[string]any{"title": "Trip plans", "metadata": map[string]any{"color": "blue", "pinned": true}}, http.StatusCreated, &created)
	if created.Title != "Trip plans" {
		t.Errorf("created title %q, want %q", created.Title, "Trip plans")
	}
	if !sameJSON(t, created.Metadata, []byte(`{"color":"blue","pinned":true}`)) {
		t.Errorf("created metadata %s, want the object sent", created.Metadata)
	}
	var got struct {
		Thread threadMetaJSON `json:"thread"`
	}
	env.mustJSON("GET", "/api/threads/"+created.ID, token, nil, http.StatusOK, &got)
	if got.Thread.Title != "Trip plans" || !sameJSON(t, got.Thread.Metadata, created.Metadata) {
		t.Errorf("GET returns title %q and metadata %s, want those of the creation", got.Thread.Title, got.Thread.Metadata)
	}

	// An object replaces the metadata whole.
	var patched threadMetaJSON
	env.mustJSON("PATCH", "/api/threads/"+created.ID, token, map[string]any{"metadata": map[string]any{"color": "red"}}, http.StatusOK, &patched)
	if !sameJSON(t, patched.Metadata, []byte(`{"color":"red"}`)) {
		t.Errorf("after PATCH the metadata is %s, want {\"color\":\"red\"}", patched.Metadata)
	}
	if patched.Title != "Trip plans" {
		t.Errorf("a metadata PATCH changed the title to %q", patched.Title)
	}

	// null leaves the metadata as it is.
	env.mustJSON("PATCH", "/api/threads/"+created.ID, token, map[string]any{"metadata": nil}, http.StatusOK, &patched)
	if !sameJSON(t, patched.Metadata, []byte(`{"color":"red"}`)) {
		t.Errorf("after a null metadata PATCH the metadata is %s, want it unchanged", patched.Metadata)
	}
	env.mustJSON("PATCH", "/api/threads/"+created.ID, token, map[string]any{"metadata": nil, "title": "Lisbon"}, http.StatusOK, &patched)
	if patched.Title != "Lisbon" || !sameJSON(t, patched.Metadata, []byte(`{"color":"red"}`)) {
		t.Errorf("after renaming with null metadata: title %q, metadata %s; want Lisbon and the metadata unchanged", patched.Title, patched.Metadata)
	}

	// Metadata that is not an object is rejected and changes nothing.
	for _, bad := range []string{`[1,2]`, `"blue"`, `42`, `true`} {
		resp, data := env.doRaw("PATCH", "/api/threads/"+created.ID, token, "application/json", []byte(`{"metadata":`+bad+`}`))
		checkAPIError(t, "PATCH metadata "+bad, resp, data, http.StatusBadRequest, CodeInvalidRequest, "metadata")
		resp, data = env.doRaw("POST", "/api/threads", token, "application/json", []byte(`{"title":"Bad","metadata":`+bad+`}`))
		checkAPIError(t, "POST metadata "+bad, resp, data, http.StatusBadRequest, CodeInvalidRequest, "metadata")
	}
	env.mustJSON("GET", "/api/threads/"+created.ID, token, nil, http.StatusOK, &got)
	if !sameJSON(t, got.Thread.Metadata, []byte(`{"color":"red"}`)) {
		t.Errorf("after rejected PATCHes the metadata is %s, want it unchanged", got.Thread.Metadata)
	}
	if ids := env.listThreadIDs(token); len(ids) != 1 {
		t.Errorf("rejected creations left %d threads, want 1", len(ids))
	}
}

func TestDeleteThread(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	catThread := env.createThread(ada)
	env.appendEmbedded(ada, catThread.ID, "The cat likes tuna for dinner.", "Tuna it is.")
	rentThread := env.createThread(ada)
	env.appendEmbedded(ada, rentThread.ID, "My landlord raised the rent by 200 euros.", "That is a steep rise.")
	env.putSettings(ada, map[string]any{"workingMemory": map[string]any{"scope": "thread"}})
	env.putWorkingDoc(ada, map[string]any{"content": "- rent: 200 euros more", "version": 0, "threadId": rentThread.ID})
	env.waitRecall(ada)

	search := func(q string) recallResultsJSON {
		t.Helper()
		var found recallResultsJSON
		env.mustJSON("GET", "/api/memory/search?topK=50&messageRange=0&q="+url.QueryEscape(q), ada, nil, http.StatusOK, &found)
		return found
	}
	threadsFound := func(found recallResultsJSON) []string {
		var ids []string
		for _, r := range found.Results {
			ids = append(ids, r.ThreadID)
		}
		return ids
	}
	if ids := threadsFound(search("landlord rent euros")); !slices.Contains(ids, rentThread.ID) {
		t.Fatalf("before the delete the search finds threads %v, want %s among them", ids, rentThread.ID)
	}

	env.wantAPIError("DELETE", "/api/threads/"+rentThread.ID, bob, nil, http.StatusNotFound, CodeNotFound, "")
	resp, data := env.do("DELETE", "/api/threads/"+rentThread.ID, ada, nil)
	if resp.StatusCode != http.StatusNoContent || len(data) != 0 {
		t.Fatalf("DELETE: status %d, body %q; want 204 without a body", resp.StatusCode, data)
	}
	env.wantAPIError("GET", "/api/threads/"+rentThread.ID, ada, nil, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("GET", "/api/threads/"+rentThread.ID+"/messages", ada, nil, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("DELETE", "/api/threads/"+rentThread.ID, ada, nil, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("GET", workingPath("/api/memory/working", rentThread.ID), ada, nil, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("GET", workingPath("/api/memory/working/history", rentThread.ID), ada, nil, http.StatusNotFound, CodeNotFound, "")
	if ids := env.listThreadIDs(ada); !slices.Equal(ids, []string{catThread.ID}) {
		t.Errorf("after the delete the threads are %v, want only %s", ids, catThread.ID)
	}

	// A thread deleted right after its chat, before or while its messages
	// are embedded, leaves no vectors either.
	env.fake.Enqueue(textReply("Noted about the landlord."))
	resp, _ = env.chat(ada, map[string]string{"message": "The landlord also wants a deposit of 900 euros."})
	quick := resp.Header.Get("X-Thread-Id")
	env.mustJSON("DELETE", "/api/threads/"+quick, ada, nil, http.StatusNoContent, nil)

	env.waitRecall(ada)
	for _, q := range []string{"landlord rent euros", "landlord deposit euros"} {
		for _, r := range search(q).Results {
			if r.ThreadID == rentThread.ID || r.ThreadID == quick {
				t.Errorf("search %q after the delete finds %q of deleted thread %s", q, r.Message.Content, r.ThreadID)
			}
		}
	}
	if ids := threadsFound(search("cat tuna dinner")); !slices.Contains(ids, catThread.ID) {
		t.Errorf("the catThread thread is no longer found: search returns threads %v", ids)
	}
	var status reindexJSON
	env.mustJSON("GET", "/api/memory/reindex", ada, nil, http.StatusOK, &status)
	if status.Vectors != 2 || status.Pending != 0 {
		t.Errorf("after the deletes recall holds %d vectors with %d pending, want the catThread thread's 2 and none pending", status.Vectors, status.Pending)
	}
}

func TestDeleteThreadDuringReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, stream := env.startHeldChat(token, thread.ID)
	defer resp.Body.Close()

	// Another profile's delete is refused and leaves the reply running.
	bob := env.signUp(token, "Bob")
	env.wantAPIError("DELETE", "/api/threads/"+thread.ID, bob, nil, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("POST", "/api/chat", token, map[string]string{"threadId": thread.ID, "message": "are you still writing?"}, http.StatusConflict, CodeConflict, "")

	start := time.Now()
	env.mustJSON("DELETE", "/api/threads/"+thread.ID, token, nil, http.StatusNoContent, nil)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("DELETE during a reply took %v, want it to stop the reply at once", elapsed)
	}

	rest := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(stream)
		rest <- err
	}()
	select {
	case err := <-rest:
		if err != nil {
			t.Errorf("read the rest of the stopped reply's stream: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reply's stream goes on after its thread was deleted")
	}

	env.wantAPIError("GET", "/api/threads/"+thread.ID, token, nil, http.StatusNotFound, CodeNotFound, "")
	if ids := env.listThreadIDs(token); len(ids) != 0 {
		t.Errorf("after the delete the threads are %v, want none", ids)
	}
	_, exported := env.do("GET", "/api/export", token, nil)
	var profile struct {
		Threads []json.RawMessage `json:"threads"`
	}
	if err := json.Unmarshal(exported, &profile); err != nil || len(profile.Threads) != 0 {
		t.Errorf("the profile export after the delete is %s, want no threads", exported)
	}
	env.waitRecall(token)
	var status reindexJSON
	env.mustJSON("GET", "/api/memory/reindex", token, nil, http.StatusOK, &status)
	if status.Vectors != 0 || status.Pending != 0 {
		t.Errorf("after the delete recall holds %d vectors with %d pending, want none", status.Vectors, status.Pending)
	}
	if n := len(env.fake.ChatRequests()); n != 1 {
		t.Errorf("the model received %d chat requests, want only the stopped one", n)
	}

	// The stopped reply no longer counts against the profile's replies.
	for range DefaultConcurrentReplies {
		_, parts := env.chat(token, map[string]string{"message": "still there?"})
		if got := streamError(parts); got != "" {
			t.Errorf("a chat after the delete failed: %s", got)
		}
	}
}

// A title being written in the background when its thread is deleted is
// stopped, and writes nothing into the deleted thread.
func TestDeleteThreadDuringTitle(t *testing.T) {
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t), titles: true}
	env.start(env.fake.URL())
	token := env.signUp("", "Ada")
	env.fake.Enqueue(textReply("Hello."))
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Greeting", " in English"}, HoldAfter: 1})
	resp, _ := env.chat(token, map[string]string{"message": "Hello there"})
	threadID := resp.Header.Get("X-Thread-Id")
	waitFor(t, "the title request", func() bool { return len(env.fake.ChatRequests()) == 2 })

	start := time.Now()
	env.mustJSON("DELETE", "/api/threads/"+threadID, token, nil, http.StatusNoContent, nil)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("DELETE during a title took %v, want it to stop the title at once", elapsed)
	}
	env.wantAPIError("GET", "/api/threads/"+threadID, token, nil, http.StatusNotFound, CodeNotFound, "")
	if ids := env.listThreadIDs(token); len(ids) != 0 {
		t.Errorf("after the delete the threads are %v, want none", ids)
	}
}

func TestForkThread(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	var source threadMetaJSON
	env.mustJSON("POST", "/api/threads", ada, map[string]any{"title": "Recipes", "metadata": map[string]any{"tag": "food"}}, http.StatusCreated, &source)
	env.appendMessages(ada, source.ID, "one", "two", "three", "four")
	sourceMsgs := env.getThread(ada, source.ID).Messages

	var fork threadMetaJSON
	env.mustJSON("POST", "/api/threads/"+source.ID+"/fork", ada, map[string]string{"messageId": sourceMsgs[1].ID}, http.StatusCreated, &fork)
	if fork.ID == "" || fork.ID == source.ID {
		t.Fatalf("fork id %q, want a new thread", fork.ID)
	}
	if fork.MessageCount != 2 || !strings.Contains(fork.Title, "Recipes") {
		t.Errorf("fork is %+v, want 2 messages and a title naming Recipes", fork)
	}
	forked := env.getThread(ada, fork.ID).Messages
	if got := roleAndContent(forked); !slices.Equal(got, []string{"user: one", "assistant: two"}) {
		t.Errorf("fork holds %v, want the first two messages", got)
	}
	for i, m := range forked {
		if m.ID == sourceMsgs[i].ID {
			t.Errorf("forked message %d keeps the id %s of the source", i, m.ID)
		}
	}
	if got := roleAndContent(env.getThread(ada, source.ID).Messages); len(got) != 4 {
		t.Errorf("after the fork the source holds %v, want its 4 messages", got)
	}

	// A fork at the last message copies them all.
	env.mustJSON("POST", "/api/threads/"+source.ID+"/fork", ada, map[string]string{"messageId": sourceMsgs[3].ID}, http.StatusCreated, &fork)
	if got := roleAndContent(env.getThread(ada, fork.ID).Messages); len(got) != 4 {
		t.Errorf("a fork at the last message holds %v, want all 4", got)
	}

	other := env.createThread(ada)
	env.appendMessages(ada, other.ID, "elsewhere")
	otherMsg := env.getThread(ada, other.ID).Messages[0]
	forkPath := "/api/threads/" + source.ID + "/fork"
	env.wantAPIError("POST", forkPath, ada, map[string]string{"messageId": memory.NewID()}, http.StatusNotFound, CodeNotFound, "messageId")
	env.wantAPIError("POST", forkPath, ada, map[string]string{"messageId": otherMsg.ID}, http.StatusNotFound, CodeNotFound, "messageId")
	env.wantAPIError("POST", forkPath, ada, map[string]string{"messageId": "not-an-id"}, http.StatusBadRequest, CodeInvalidRequest, "messageId")
	env.wantAPIError("POST", forkPath, ada, map[string]string{"messageId": ""}, http.StatusBadRequest, CodeInvalidRequest, "messageId")
	env.wantAPIError("POST", forkPath, ada, map[string]string{}, http.StatusBadRequest, CodeInvalidRequest, "messageId")
	env.wantAPIError("POST", "/api/threads/not-an-id/fork", ada, map[string]string{"messageId": sourceMsgs[1].ID}, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("POST", forkPath, bob, map[string]string{"messageId": sourceMsgs[1].ID}, http.StatusNotFound, CodeNotFound, "")

	if ids := env.listThreadIDs(ada); len(ids) != 4 {
		t.Errorf("Ada has %d threads, want 4: the source, two forks and the other", len(ids))
	}
	if ids := env.listThreadIDs(bob); len(ids) != 0 {
		t.Errorf("Bob has %d threads after forking Ada's, want 0", len(ids))
	}
}

func TestThreadMessagesPaging(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	thread := env.createThread(ada)
	texts := make([]string, 120)
	for i := range texts {
		texts[i] = fmt.Sprintf("message %03d", i)
	}
	env.appendMessages(ada, thread.ID, texts...)
	base := "/api/threads/" + thread.ID + "/messages"

	// walk follows the Link headers back from path and returns the
	// contents, oldest first, and the size of each page.
	walk := func(path, wantLimit string) ([]string, []int) {
		t.Helper()
		var contents []string
		var sizes []int
		for path != "" {
			if len(sizes) > len(texts) {
				t.Fatalf("more than %d pages; the walk does not end", len(texts))
			}
			var page struct {
				Messages []messageJSON `json:"messages"`
			}
			resp, data := env.do("GET", path, ada, nil)
			if err := json.Unmarshal(data, &page); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d, body %s", path, resp.StatusCode, data)
			}
			sizes = append(sizes, len(page.Messages))
			var pageContents []string
			for _, m := range page.Messages {
				pageContents = append(pageContents, m.Content)
			}
			contents = append(pageContents, contents...)
			next := nextLink(t, resp)
			if next != "" {
				u, err := url.Parse(next)
				if err != nil {
					t.Fatalf("Link URL %q: %v", next, err)
				}
				if u.Path != base || u.Query().Get("before") != page.Messages[0].ID || u.Query().Get("limit") != wantLimit {
					t.Errorf("Link URL %q, want %s with before the page's oldest id %s and limit %s", next, base, page.Messages[0].ID, wantLimit)
				}
			}
			path = next
		}
		return contents, sizes
	}

	contents, sizes := walk(base, "50")
	if !slices.Equal(contents, texts) {
		t.Errorf("the walk from the default page listed %d messages with gaps or repeats: %v", len(contents), contents)
	}
	if !slices.Equal(sizes, []int{50, 50, 20}) {
		t.Errorf("default page sizes %v, want [50 50 20]", sizes)
	}
	contents, sizes = walk(base+"?limit=40", "40")
	if !slices.Equal(contents, texts) {
		t.Errorf("the walk with limit=40 listed %d messages with gaps or repeats: %v", len(contents), contents)
	}
	if !slices.Equal(sizes, []int{40, 40, 40}) {
		t.Errorf("page sizes with limit=40 %v, want [40 40 40], the last without Link", sizes)
	}

	other := env.createThread(ada)
	env.appendMessages(ada, other.ID, "elsewhere")
	otherMsg := env.getThread(ada, other.ID).Messages[0]
	env.wantAPIError("GET", base+"?before=nope", ada, nil, http.StatusBadRequest, CodeInvalidRequest, "before")
	env.wantAPIError("GET", base+"?before="+memory.NewID(), ada, nil, http.StatusNotFound, CodeNotFound, "before")
	env.wantAPIError("GET", base+"?before="+otherMsg.ID, ada, nil, http.StatusNotFound, CodeNotFound, "before")
	for _, limit := range []string{"0", "-5", "many", strconv.Itoa(memory.MaxLastMessages)} {
		env.wantAPIError("GET", base+"?limit="+limit, ada, nil, http.StatusBadRequest, CodeInvalidRequest, "limit")
	}
	env.wantAPIError("GET", base, bob, nil, http.StatusNotFound, CodeNotFound, "")
}

// wantSafeFileName checks that a download's Content-Disposition is an
// attachment named want, with only letters, digits, '-' and '.'.
func wantSafeFileName(t *testing.T, label string, resp *http.Response, want string) {
	t.Helper()
	header := resp.Header.Get("Content-Disposition")
	disposition, params, err := mime.ParseMediaType(header)
	if err != nil {
		t.Errorf("%s: Content-Disposition %q: %v", label, header, err)
		return
	}
	if disposition != "attachment" {
		t.Errorf("%s: Content-Disposition %q, want an attachment", label, header)
	}
	name := params["filename"]
	if name != want {
		t.Errorf("%s: file name %q, want %q", label, name, want)
	}
	for _, c := range name {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '-' && c != '.' {
			t.Errorf("%s: file name %q contains %q", label, name, c)
		}
	}
}

func TestExportThreadFiles(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")

	for _, tc := range []struct{ title, namePart string }{
		{`Trip/plans \ "Lisbon" 🇵🇹 ✈️`, "Trip-plans-Lisbon"},
		{`../../etc/passwd`, "etc-passwd"},
		{`Reise nach München`, "Reise-nach-München"},
		{`🔥🔥🔥`, "thread"},
	} {
		var thread threadMetaJSON
		env.mustJSON("POST", "/api/threads", ada, map[string]string{"title": tc.title}, http.StatusCreated, &thread)
		env.appendMessages(ada, thread.ID, "Plan a weekend in Lisbon.", "Day 1: Alfama. Day 2: Belém.")
		day := thread.CreatedAt.Format("2006-01-02")

		for _, f := range []struct{ format, contentType, extension string }{
			{"", "text/markdown", ".md"},
			{"markdown", "text/markdown", ".md"},
			{"json", "application/json", ".json"},
		} {
			label := fmt.Sprintf("export of %q as %q", tc.title, f.format)
			resp, body := env.do("GET", "/api/threads/"+thread.ID+"/export?format="+f.format, ada, nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d, body %s", label, resp.StatusCode, body)
				continue
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, f.contentType) {
				t.Errorf("%s: Content-Type %q, want %s", label, ct, f.contentType)
			}
			wantSafeFileName(t, label, resp, tc.namePart+"-"+day+f.extension)
			if !strings.Contains(string(body), "Plan a weekend in Lisbon.") || !strings.Contains(string(body), "Day 1: Alfama. Day 2: Belém.") {
				t.Errorf("%s: body lacks the messages:\n%s", label, body)
			}
		}
	}

	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", ada, nil, http.StatusOK, &threads)
	path := "/api/threads/" + threads[0].ID + "/export"
	env.wantAPIError("GET", path+"?format=pdf", ada, nil, http.StatusBadRequest, CodeInvalidRequest, "format")
	env.wantAPIError("GET", path, bob, nil, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("GET", "/api/threads/"+memory.NewID()+"/export", ada, nil, http.StatusNotFound, CodeNotFound, "")
}

func TestExportThreadJSONReimport(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	title := `Trip/plans "Lisbon" 🇵🇹`
	var source threadMetaJSON
	env.mustJSON("POST", "/api/threads", token, map[string]any{"title": title, "metadata": map[string]any{"color": "blue"}}, http.StatusCreated, &source)
	env.appendMessages(token, source.ID, "Plan a weekend in Lisbon.", "Day 1: Alfama. Day 2: Belém.", "And food?", "Pastéis de nata.")

	resp, exported := env.do("GET", "/api/threads/"+source.ID+"/export?format=json", token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: status %d, body %s", resp.StatusCode, exported)
	}
	var result importResultJSON
	resp, data := env.doRaw("POST", "/api/import", token, "application/json", exported)
	if err := json.Unmarshal(data, &result); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("import: status %d, body %s", resp.StatusCode, data)
	}
	if result.Threads != 1 || result.Messages != 4 || len(result.ThreadIDs) != 1 {
		t.Fatalf("import result %+v, want 1 thread with 4 messages", result)
	}
	if result.ThreadIDs[0] == source.ID {
		t.Fatalf("the import reused the id %s of the exported thread", source.ID)
	}

	var imported, original struct {
		Thread   threadMetaJSON `json:"thread"`
		Messages []messageJSON  `json:"messages"`
	}
	env.mustJSON("GET", "/api/threads/"+result.ThreadIDs[0], token, nil, http.StatusOK, &imported)
	env.mustJSON("GET", "/api/threads/"+source.ID, token, nil, http.StatusOK, &original)
	if imported.Thread.Title != title {
		t.Errorf("imported title %q, want %q", imported.Thread.Title, title)
	}
	if !sameJSON(t, imported.Thread.Metadata, original.Thread.Metadata) {
		t.Errorf("imported metadata %s, want %s", imported.Thread.Metadata, original.Thread.Metadata)
	}
	if got, want := roleAndContent(imported.Messages), roleAndContent(original.Messages); !slices.Equal(got, want) {
		t.Errorf("imported messages %v, want %v", got, want)
	}
	if ids := env.listThreadIDs(token); len(ids) != 2 {
		t.Errorf("after the import Ada has %d threads, want 2", len(ids))
	}
}

func TestExportProfileImport(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	for i, title := range []string{"Garden", "Bicycle"} {
		var th threadMetaJSON
		env.mustJSON("POST", "/api/threads", ada, map[string]string{"title": title}, http.StatusCreated, &th)
		env.appendMessages(ada, th.ID, fmt.Sprintf("question %d about %s", i, title), fmt.Sprintf("answer %d", i))
	}
	env.putWorkingDoc(ada, map[string]any{"content": "- **Name**: Ada", "version": 0})

	resp, exported := env.do("GET", "/api/export", ada, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/export: status %d, body %s", resp.StatusCode, exported)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("profile export Content-Type %q, want application/json", ct)
	}
	wantSafeFileName(t, "profile export", resp, "hearth-Ada-"+time.Now().Format("2006-01-02")+".json")

	var result importResultJSON
	resp, data := env.doRaw("POST", "/api/import", bob, "application/json", exported)
	if err := json.Unmarshal(data, &result); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("import into Bob: status %d, body %s", resp.StatusCode, data)
	}
	if result.Threads != 2 || result.Messages != 4 || result.WorkingMemory != 1 {
		t.Errorf("import result %+v, want 2 threads, 4 messages and 1 working memory", result)
	}

	// threadsByTitle returns each thread's messages as role and content
	// lines, by title.
	threadsByTitle := func(token string) map[string][]string {
		t.Helper()
		var threads []threadJSON
		env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
		out := map[string][]string{}
		for _, th := range threads {
			out[th.Title] = roleAndContent(env.getThread(token, th.ID).Messages)
		}
		return out
	}
	if got, want := threadsByTitle(bob), threadsByTitle(ada); !reflect.DeepEqual(got, want) {
		t.Errorf("Bob's imported threads are %v, want Ada's %v", got, want)
	}
	if doc := env.getWorkingDoc(bob, ""); doc.Content != "- **Name**: Ada" {
		t.Errorf("Bob's working memory after the import is %q, want Ada's", doc.Content)
	}
}

func TestImportChatGPTConversations(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")

	// One conversation of a ChatGPT data export, with a root node without
	// a message, a question and its answer.
	conversations := `[{
		"title": "Sourdough starter",
		"create_time": 1714564799.5,
		"update_time": 1714564910.25,
		"current_node": "n2",
		"mapping": {
			"root": {"id": "root", "message": null, "parent": null, "children": ["n1"]},
			"n1": {"id": "n1", "parent": "root", "children": ["n2"], "message": {
				"id": "n1", "author": {"role": "user", "name": null, "metadata": {}}, "create_time": 1714564800.0,
				"content": {"content_type": "text", "parts": ["How do I feed a sourdough starter?"]},
				"status": "finished_successfully", "metadata": {}}},
			"n2": {"id": "n2", "parent": "n1", "children": [], "message": {
				"id": "n2", "author": {"role": "assistant", "name": null, "metadata": {}}, "create_time": 1714564805.0,
				"content": {"content_type": "text", "parts": ["Equal weights of flour and water, once a day."]},
				"status": "finished_successfully", "metadata": {"model_slug": "gpt-4o"}}}
		}
	}]`
	var result importResultJSON
	resp, data := env.doRaw("POST", "/api/import", token, "application/json", []byte(conversations))
	if err := json.Unmarshal(data, &result); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("import: status %d, body %s", resp.StatusCode, data)
	}
	if result.Threads != 1 || result.Messages != 2 || len(result.ThreadIDs) != 1 {
		t.Fatalf("import result %+v, want 1 thread with 2 messages", result)
	}
	got := env.getThread(token, result.ThreadIDs[0])
	if got.Thread.Title != "Sourdough starter" {
		t.Errorf("imported title %q, want Sourdough starter", got.Thread.Title)
	}
	want := []string{"user: How do I feed a sourdough starter?", "assistant: Equal weights of flour and water, once a day."}
	if msgs := roleAndContent(got.Messages); !slices.Equal(msgs, want) {
		t.Errorf("imported messages %v, want %v", msgs, want)
	}
}

func TestImportRejectsOtherBodies(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	for name, body := range map[string]string{
		"empty":          "",
		"white space":    " \n\t ",
		"string":         `"conversations"`,
		"number":         `42`,
		"text":           `hello`,
		"unknown format": `{"format":"other-app","version":1}`,
		"broken JSON":    `{"format":"hearth-thread",`,
	} {
		resp, data := env.doRaw("POST", "/api/import", token, "application/json", []byte(body))
		checkAPIError(t, "import of "+name, resp, data, http.StatusBadRequest, CodeInvalidRequest, "")
	}
	resp, data := env.doRaw("POST", "/api/import", token, "text/plain", []byte(`[]`))
	checkAPIError(t, "import as text/plain", resp, data, http.StatusUnsupportedMediaType, CodeUnsupportedType, "")
	if ids := env.listThreadIDs(token); len(ids) != 0 {
		t.Errorf("rejected imports left %d threads, want 0", len(ids))
	}
}

type reindexJSON struct {
	State    string `json:"state"`
	Embedder string `json:"embedder"`
	Vectors  int    `json:"vectors"`
	Pending  int    `json:"pending"`
	Percent  int    `json:"percent"`
}

func TestMemorySearchRoute(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	eggs := env.createThread(ada)
	env.appendEmbedded(ada, eggs.ID, "How long should I boil an egg?", "Six minutes for a soft yolk.")
	bikes := env.createThread(ada)
	env.appendEmbedded(ada, bikes.ID, "My bicycle has a flat tyre.", "Patch the inner tube.")
	bobThread := env.createThread(bob)
	env.waitRecall(ada)

	var found recallResultsJSON
	env.mustJSON("GET", "/api/memory/search?q=boil+egg&messageRange=0", ada, nil, http.StatusOK, &found)
	if len(found.Results) == 0 {
		t.Fatal("search for boil egg found nothing")
	}
	// Results are listed oldest first, each with its cosine similarity.
	best := found.Results[0]
	for _, r := range found.Results {
		if r.Similarity < -1.0001 || r.Similarity > 1.0001 {
			t.Errorf("result %q has similarity %v, want a cosine from -1 to 1", r.Message.Content, r.Similarity)
		}
		if r.Similarity > best.Similarity {
			best = r
		}
	}
	if best.ThreadID != eggs.ID || best.Message.Content != "How long should I boil an egg?" || best.Similarity <= 0 {
		t.Errorf("the best result is %q of thread %s with similarity %v, want the egg question with a positive score", best.Message.Content, best.ThreadID, best.Similarity)
	}

	env.mustJSON("GET", "/api/memory/search?q=boil+egg&scope=thread&threadId="+bikes.ID, ada, nil, http.StatusOK, &found)
	for _, r := range found.Results {
		if r.ThreadID != bikes.ID {
			t.Errorf("a search in thread %s returns %q of thread %s", bikes.ID, r.Message.Content, r.ThreadID)
		}
	}
	env.mustJSON("GET", "/api/memory/search?q=egg+tyre&topK=1&messageRange=0", ada, nil, http.StatusOK, &found)
	if len(found.Results) != 1 {
		t.Errorf("topK=1 returns %d results, want 1", len(found.Results))
	}

	for _, tc := range []struct{ query, field string }{
		{"", "q"},
		{"q=", "q"},
		{"q=%20%20", "q"},
		{"q=egg&topK=0", "topK"},
		{"q=egg&topK=51", "topK"},
		{"q=egg&topK=four", "topK"},
		{"q=egg&messageRange=11", "messageRange"},
		{"q=egg&messageRange=-1", "messageRange"},
		{"q=egg&scope=everywhere", "scope"},
	} {
		env.wantAPIError("GET", "/api/memory/search?"+tc.query, ada, nil, http.StatusBadRequest, CodeInvalidRequest, tc.field)
	}

	respOther, other := env.do("GET", "/api/memory/search?q=egg&scope=thread&threadId="+bobThread.ID, ada, nil)
	respMissing, missing := env.do("GET", "/api/memory/search?q=egg&scope=thread&threadId="+memory.NewID(), ada, nil)
	if respOther.StatusCode != http.StatusNotFound || respMissing.StatusCode != http.StatusNotFound || string(other) != string(missing) {
		t.Errorf("another profile's thread: %d %s; a missing thread: %d %s; want identical 404s", respOther.StatusCode, other, respMissing.StatusCode, missing)
	}
	env.mustJSON("GET", "/api/memory/search?q=boil+egg", bob, nil, http.StatusOK, &found)
	if len(found.Results) != 0 {
		t.Errorf("Bob's search returns %d of Ada's messages", len(found.Results))
	}
}

func TestReindexStatus(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.appendEmbedded(token, thread.ID, "The plumber comes on Monday.", "Noted.")
	env.waitRecall(token)

	var raw map[string]json.RawMessage
	env.mustJSON("GET", "/api/memory/reindex", token, nil, http.StatusOK, &raw)
	for _, key := range []string{"state", "vectors", "pending", "percent"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("the reindex status lacks %q: %v", key, raw)
		}
	}
	var status reindexJSON
	env.mustJSON("GET", "/api/memory/reindex", token, nil, http.StatusOK, &status)
	if status.State != "ready" || status.Vectors != 2 || status.Pending != 0 || status.Percent != 100 {
		t.Errorf("reindex status %+v, want ready with 2 vectors, none pending, 100 percent", status)
	}
	env.wantAPIError("GET", "/api/memory/reindex", "", nil, http.StatusUnauthorized, CodeUnauthorized, "")
}

type healthJSON struct {
	Status  string `json:"status"`
	Version string `json:"version"`
	Storage struct {
		Status    string `json:"status"`
		SizeBytes int64  `json:"sizeBytes"`
	} `json:"storage"`
	Backend struct {
		Kind      string    `json:"kind"`
		URL       string    `json:"url"`
		Model     string    `json:"model"`
		Status    string    `json:"status"`
		CheckedAt time.Time `json:"checkedAt"`
	} `json:"backend"`
}

func TestHealthReportsStorageAndBackend(t *testing.T) {
	env := newTestEnv(t)
	var h healthJSON
	env.mustJSON("GET", "/api/health", "", nil, http.StatusOK, &h)
	if h.Status != "ok" || h.Version != "test" {
		t.Errorf("health status %q version %q, want ok and test", h.Status, h.Version)
	}
	if h.Storage.Status != "ok" || h.Storage.SizeBytes <= 0 {
		t.Errorf("storage %+v, want ok with a size above 0", h.Storage)
	}
	if h.Backend.Status != "ok" || h.Backend.Kind != BackendOllama || h.Backend.URL != env.fake.URL() || h.Backend.Model != testModel || h.Backend.CheckedAt.IsZero() {
		t.Errorf("backend %+v, want ok, ollama at %s with %s, and the time of the check", h.Backend, env.fake.URL(), testModel)
	}
}

func TestHealthBackendUnreachable(t *testing.T) {
	env := newTestEnv(t)
	env.stop()
	closed := closedLoopbackURL(t)
	env.start(closed)

	var h healthJSON
	env.mustJSON("GET", "/api/health", "", nil, http.StatusOK, &h)
	if h.Backend.Status != CodeBackendUnreachable || h.Backend.URL != closed {
		t.Errorf("backend %+v, want %s at %s", h.Backend, CodeBackendUnreachable, closed)
	}
	if h.Status != "degraded" || h.Storage.Status != "ok" {
		t.Errorf("health status %q with storage %q, want degraded with storage ok", h.Status, h.Storage.Status)
	}
}

// TestOllamaCredentialsNotShown checks only that the health route hides
// the password. This test checks that the URL has no user name either.
func TestHealthBackendURLWithoutUserInfo(t *testing.T) {
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t)}
	env.start(strings.Replace(env.fake.URL(), "http://", "http://hearth-proxy-user:s3cretpw@", 1))

	var h healthJSON
	env.mustJSON("GET", "/api/health", "", nil, http.StatusOK, &h)
	u, err := url.Parse(h.Backend.URL)
	if err != nil {
		t.Fatalf("backend URL %q: %v", h.Backend.URL, err)
	}
	if u.User != nil || strings.Contains(h.Backend.URL, "hearth-proxy-user") {
		t.Errorf("backend URL %q carries user information", h.Backend.URL)
	}
	if h.Backend.URL != env.fake.URL() || h.Backend.Status != "ok" {
		t.Errorf("backend %+v, want ok at %s", h.Backend, env.fake.URL())
	}
}

// uiText returns an AI SDK UIMessage with one text part.
func uiText(id, role, text string) map[string]any {
	return map[string]any{"id": id, "role": role, "parts": []map[string]any{{"type": "text", "text": text}}}
}

func TestChatTransportBody(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	thread := env.createThread(ada)
	env.fake.Enqueue(textReply("Hello ", "Ada."))
	env.chat(ada, map[string]string{"threadId": thread.ID, "message": "My name is Ada."})
	stored := env.storedMessages(ada, thread.ID)

	// The client's copy of the chat contains a message the store never
	// had, and only the last message is read.
	body := map[string]any{
		"id": thread.ID,
		"messages": []map[string]any{
			uiText(stored[0].ID, "user", "My name is Ada."),
			uiText("forged-1", "user", "FORGED EARLIER MESSAGE"),
			uiText(stored[1].ID, "assistant", "Hello Ada."),
			uiText("ui-3", "user", "What is my name?"),
		},
		"trigger": "submit-message",
	}
	env.fake.Enqueue(textReply("Your name ", "is Ada."))
	resp, parts := env.stream("POST", "/api/chat", ada, body)
	if got := streamText(parts); got != "Your name is Ada." {
		t.Errorf("streamed reply %q, want %q", got, "Your name is Ada.")
	}
	if got := resp.Header.Get("X-Thread-Id"); got != thread.ID {
		t.Errorf("X-Thread-Id %q, want the chat id %s", got, thread.ID)
	}

	var prompt []string
	for _, m := range env.lastChatRequest().Messages {
		prompt = append(prompt, m.Content)
		if strings.Contains(m.Content, "FORGED") {
			t.Errorf("the prompt holds the client's forged message: %q", m.Content)
		}
	}
	if !slices.Contains(prompt, "My name is Ada.") || !slices.Contains(prompt, "Hello Ada.") || !slices.Contains(prompt, "What is my name?") {
		t.Errorf("the prompt %q lacks the stored history or the new message", prompt)
	}
	msgs := env.storedMessages(ada, thread.ID)
	var lines []string
	for _, m := range msgs {
		lines = append(lines, string(m.Role)+": "+m.Content)
	}
	want := []string{"user: My name is Ada.", "assistant: Hello Ada.", "user: What is my name?", "assistant: Your name is Ada."}
	if !slices.Equal(lines, want) {
		t.Fatalf("stored messages %v, want %v", lines, want)
	}
	if msgs[2].ClientRequestID != "ui-3" {
		t.Errorf("the new message's clientRequestId is %q, want the UI message id ui-3", msgs[2].ClientRequestID)
	}

	// The same UI message sent again is a duplicate and stores nothing.
	requests := len(env.fake.ChatRequests())
	var dup duplicateBody
	env.mustJSON("POST", "/api/chat", ada, body, http.StatusConflict, &dup)
	if dup.Error.Code != CodeDuplicateRequest || dup.Error.ThreadID != thread.ID || dup.Error.MessageID != msgs[2].ID {
		t.Errorf("second send of ui-3: error %+v, want %s naming thread %s message %s", dup.Error, CodeDuplicateRequest, thread.ID, msgs[2].ID)
	}
	if n := len(env.storedMessages(ada, thread.ID)); n != 4 {
		t.Errorf("after the duplicate the thread holds %d messages, want 4", n)
	}
	if n := len(env.fake.ChatRequests()); n != requests {
		t.Errorf("the duplicate reached the model: %d chat requests, want %d", n, requests)
	}
}

func TestChatTransportRegenerate(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(textReply("First answer."))
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "Name a colour."})
	stored := env.storedMessages(token, thread.ID)
	history := []map[string]any{uiText(stored[0].ID, "user", "Name a colour.")}

	// Without messageId the last reply is written anew.
	env.fake.Enqueue(textReply("Second answer."))
	_, parts := env.stream("POST", "/api/chat", token, map[string]any{"id": thread.ID, "messages": history, "trigger": "regenerate-message"})
	if got := streamText(parts); got != "Second answer." {
		t.Errorf("regenerated reply %q, want Second answer.", got)
	}
	msgs := env.storedMessages(token, thread.ID)
	if len(msgs) != 2 || msgs[1].ID != stored[1].ID || msgs[1].Content != "Second answer." || len(msgs[1].Versions) != 1 {
		t.Fatalf("after regenerating the thread holds %+v, want the reply %s rewritten with one earlier version", msgs, stored[1].ID)
	}

	// With messageId naming the last reply.
	env.fake.Enqueue(textReply("Third answer."))
	_, parts = env.stream("POST", "/api/chat", token, map[string]any{"id": thread.ID, "messages": history, "trigger": "regenerate-message", "messageId": stored[1].ID})
	if got := streamText(parts); got != "Third answer." {
		t.Errorf("regenerated reply with messageId %q, want Third answer.", got)
	}
	if msgs := env.storedMessages(token, thread.ID); len(msgs) != 2 || msgs[1].Content != "Third answer." || len(msgs[1].Versions) != 2 {
		t.Errorf("after regenerating by messageId the thread holds %+v, want the reply rewritten with two earlier versions", msgs)
	}

	// Only the last message can be regenerated.
	env.wantAPIError("POST", "/api/chat", token, map[string]any{"id": thread.ID, "messages": history, "trigger": "regenerate-message", "messageId": stored[0].ID},
		http.StatusConflict, CodeConflict, "messageId")
	empty := env.createThread(token)
	env.wantAPIError("POST", "/api/chat", token, map[string]any{"id": empty.ID, "messages": []any{}, "trigger": "regenerate-message"},
		http.StatusConflict, CodeConflict, "")
	env.wantAPIError("POST", "/api/chat", token, map[string]any{"messages": history, "trigger": "regenerate-message"},
		http.StatusBadRequest, CodeInvalidRequest, "id")
	if n := len(env.storedMessages(token, thread.ID)); n != 2 {
		t.Errorf("after the rejected regenerations the thread holds %d messages, want 2", n)
	}
}

func TestChatTransportRejected(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	thread := env.createThread(ada)
	bobThread := env.createThread(bob)
	question := uiText("ui-1", "user", "hello")

	imagePart := map[string]any{"id": "ui-2", "role": "user", "parts": []map[string]any{
		{"type": "text", "text": "what is this?"},
		{"type": "file", "mediaType": "image/png", "url": "data:image/png;base64,iVBORw0KGgo="},
	}}
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		field  string
	}{
		{"non-text part", map[string]any{"id": thread.ID, "messages": []any{imagePart}, "trigger": "submit-message"}, http.StatusBadRequest, CodeInvalidRequest, "messages"},
		{"last message from the assistant", map[string]any{"id": thread.ID, "messages": []any{question, uiText("ui-3", "assistant", "hi")}, "trigger": "submit-message"}, http.StatusBadRequest, CodeInvalidRequest, "messages"},
		{"no messages", map[string]any{"id": thread.ID, "messages": []any{}, "trigger": "submit-message"}, http.StatusBadRequest, CodeInvalidRequest, "messages"},
		{"id with a line break", map[string]any{"id": "chat\n123", "messages": []any{question}, "trigger": "submit-message"}, http.StatusBadRequest, CodeInvalidRequest, "id"},
		{"id over 128 bytes", map[string]any{"id": strings.Repeat("c", memory.MaxChatIDBytes+1), "messages": []any{question}, "trigger": "submit-message"}, http.StatusBadRequest, CodeInvalidRequest, "id"},
		{"unknown chat id, regenerate", map[string]any{"id": "chat-never-seen", "messages": []any{question}, "trigger": "regenerate-message"}, http.StatusNotFound, CodeNotFound, ""},
		{"unknown trigger", map[string]any{"id": thread.ID, "messages": []any{question}, "trigger": "resume-stream"}, http.StatusBadRequest, CodeInvalidRequest, "trigger"},
		{"message and messages", map[string]any{"message": "hello", "messages": []any{question}, "trigger": "submit-message"}, http.StatusBadRequest, CodeInvalidRequest, "messages"},
		{"threadId and id", map[string]any{"threadId": thread.ID, "id": thread.ID, "messages": []any{question}, "trigger": "submit-message"}, http.StatusBadRequest, CodeInvalidRequest, "messages"},
		{"another profile's thread", map[string]any{"id": bobThread.ID, "messages": []any{question}, "trigger": "submit-message"}, http.StatusNotFound, CodeNotFound, ""},
		{"another profile's thread, regenerate", map[string]any{"id": bobThread.ID, "messages": []any{question}, "trigger": "regenerate-message"}, http.StatusNotFound, CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, data := env.do("POST", "/api/chat", ada, tt.body)
			checkAPIError(t, tt.name, resp, data, tt.status, tt.code, tt.field)
		})
	}
	if n := len(env.fake.ChatRequests()); n != 0 {
		t.Errorf("the model received %d chat requests, want 0", n)
	}
	if n := len(env.storedMessages(ada, thread.ID)); n != 0 {
		t.Errorf("Ada's thread holds %d messages after the rejected requests, want 0", n)
	}
	if n := len(env.storedMessages(bob, bobThread.ID)); n != 0 {
		t.Errorf("Bob's thread holds %d messages after Ada's requests, want 0", n)
	}
	if ids := env.listThreadIDs(ada); len(ids) != 1 {
		t.Errorf("Ada has %d threads after the rejected requests, want 1", len(ids))
	}
}

// A chat id that useChat made up, not a thread id, binds to the thread its
// first message starts, separately for each profile.
func TestChatTransportClientChatID(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	const chatID = "x7Kq2mPz9TbLw4Hc"
	send := func(token string, messages ...map[string]any) string {
		t.Helper()
		resp, parts := env.stream("POST", "/api/chat", token, map[string]any{"id": chatID, "messages": messages, "trigger": "submit-message"})
		if got := streamError(parts); got != "" {
			t.Errorf("chat %s: stream error %s", chatID, got)
		}
		return resp.Header.Get("X-Thread-Id")
	}

	first := uiText("m1", "user", "first")
	threadID := send(ada, first)
	if !memory.ValidID(threadID) {
		t.Fatalf("X-Thread-Id %q is not a thread id", threadID)
	}
	if again := send(ada, first, uiText("m2", "assistant", "You said: first"), uiText("m3", "user", "second")); again != threadID {
		t.Errorf("the second message of chat %s went to thread %s, want %s", chatID, again, threadID)
	}
	lines := roleAndContent(env.getThread(ada, threadID).Messages)
	if want := []string{"user: first", "assistant: You said: first", "user: second", "assistant: You said: second"}; !slices.Equal(lines, want) {
		t.Errorf("the chat's thread holds %v, want %v", lines, want)
	}
	if ids := env.listThreadIDs(ada); !slices.Equal(ids, []string{threadID}) {
		t.Errorf("Ada's threads are %v, want only %s", ids, threadID)
	}

	// Bob's chat with the same id is his own thread.
	bobThread := send(bob, uiText("b1", "user", "hello from Bob"))
	if bobThread == threadID || !memory.ValidID(bobThread) {
		t.Errorf("Bob's chat %s went to thread %q, want a new thread of his", chatID, bobThread)
	}
	if n := len(env.getThread(ada, threadID).Messages); n != 4 {
		t.Errorf("after Bob's chat Ada's thread holds %d messages, want 4", n)
	}

	// A regenerate-message request finds the thread by the chat id.
	env.fake.Enqueue(textReply("Second thoughts."))
	_, parts := env.stream("POST", "/api/chat", ada, map[string]any{"id": chatID, "messages": []any{first}, "trigger": "regenerate-message"})
	if got := streamText(parts); got != "Second thoughts." {
		t.Errorf("regenerated reply %q, want Second thoughts.", got)
	}
	if msgs := env.getThread(ada, threadID).Messages; len(msgs) != 4 || msgs[3].Content != "Second thoughts." {
		t.Errorf("after regenerating the thread holds %v, want 4 messages ending with the new reply", roleAndContent(msgs))
	}

	// Once its thread is deleted, the chat id starts a new thread.
	env.mustJSON("DELETE", "/api/threads/"+threadID, ada, nil, http.StatusNoContent, nil)
	fresh := send(ada, uiText("m5", "user", "third"))
	if fresh == threadID || !memory.ValidID(fresh) {
		t.Fatalf("after the delete chat %s went to thread %q, want a new thread", chatID, fresh)
	}
	if lines := roleAndContent(env.getThread(ada, fresh).Messages); len(lines) != 2 || lines[0] != "user: third" {
		t.Errorf("the new thread holds %v, want the third message and its reply", lines)
	}
}

// wantRateLimited checks that a response is 429 rate_limited with a
// Retry-After of at least one second.
func wantRateLimited(t *testing.T, label string, resp *http.Response, data []byte) {
	t.Helper()
	checkAPIError(t, label, resp, data, http.StatusTooManyRequests, CodeRateLimited, "")
	seconds, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || seconds < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds of at least 1", label, resp.Header.Get("Retry-After"))
	}
}

func TestChatRateLimit(t *testing.T) {
	env := newLimitedEnv(t, Limits{ChatPerMinute: 3})
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	thread := env.createThread(ada)
	for i := range 3 {
		_, parts := env.chat(ada, map[string]string{"threadId": thread.ID, "message": fmt.Sprintf("message %d", i)})
		if got := streamError(parts); got != "" {
			t.Fatalf("chat %d within the limit failed: %s", i+1, got)
		}
	}

	resp, data := env.do("POST", "/api/chat", ada, map[string]string{"threadId": thread.ID, "message": "one too many"})
	wantRateLimited(t, "4th chat", resp, data)
	resp, data = env.do("POST", "/api/chat", ada, map[string]string{"message": "one too many, in a new thread"})
	wantRateLimited(t, "5th chat", resp, data)
	resp, data = env.do("POST", "/api/threads/"+thread.ID+"/messages/"+env.storedMessages(ada, thread.ID)[5].ID+"/regenerate", ada, nil)
	wantRateLimited(t, "regenerate beyond the limit", resp, data)

	if n := len(env.storedMessages(ada, thread.ID)); n != 6 {
		t.Errorf("the thread holds %d messages, want the 6 of the chats within the limit", n)
	}
	if ids := env.listThreadIDs(ada); len(ids) != 1 {
		t.Errorf("Ada has %d threads, want 1: the limited chat must not create one", len(ids))
	}
	if n := len(env.fake.ChatRequests()); n != 3 {
		t.Errorf("the model received %d chat requests, want 3", n)
	}

	// Bob's budget is his own.
	_, parts := env.chat(bob, map[string]string{"message": "hello"})
	if got := streamError(parts); got != "" {
		t.Errorf("Bob's chat failed after Ada reached her limit: %s", got)
	}
}

func TestThreadCreationRateLimit(t *testing.T) {
	env := newLimitedEnv(t, Limits{ThreadsPerMinute: 3})
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")

	source := env.createThread(ada)
	env.appendMessages(ada, source.ID, "hello", "hi")
	first := env.storedMessages(ada, source.ID)[0]
	env.mustJSON("POST", "/api/threads/"+source.ID+"/fork", ada, map[string]string{"messageId": first.ID}, http.StatusCreated, nil)
	_, exported := env.do("GET", "/api/threads/"+source.ID+"/export?format=json", ada, nil)
	resp, data := env.doRaw("POST", "/api/import", ada, "application/json", exported)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import within the limit: status %d, body %s", resp.StatusCode, data)
	}

	resp, data = env.do("POST", "/api/threads", ada, map[string]string{"title": "one too many"})
	wantRateLimited(t, "4th thread", resp, data)
	resp, data = env.do("POST", "/api/threads/"+source.ID+"/fork", ada, map[string]string{"messageId": first.ID})
	wantRateLimited(t, "fork beyond the limit", resp, data)
	resp, data = env.doRaw("POST", "/api/import", ada, "application/json", exported)
	wantRateLimited(t, "import beyond the limit", resp, data)
	if ids := env.listThreadIDs(ada); len(ids) != 3 {
		t.Errorf("Ada has %d threads, want 3: created, forked and imported", len(ids))
	}

	env.createThread(bob)
	if ids := env.listThreadIDs(bob); len(ids) != 1 {
		t.Errorf("Bob has %d threads, want 1", len(ids))
	}
}

func TestImportSpendsThreadBudget(t *testing.T) {
	env := newLimitedEnv(t, Limits{ThreadsPerMinute: 1})
	token := env.signUp("", "Ada")
	resp, data := env.doRaw("POST", "/api/import", token, "application/json", []byte(`[]`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("import of an empty conversations.json: status %d, body %s", resp.StatusCode, data)
	}
	resp, data = env.do("POST", "/api/threads", token, nil)
	wantRateLimited(t, "thread after an import", resp, data)
}

func TestMemoryWriteRateLimit(t *testing.T) {
	env := newLimitedEnv(t, Limits{MemoryWritesPerMinute: 2})
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	env.putWorkingDoc(ada, map[string]any{"content": "- first", "version": 0})
	env.putWorkingDoc(ada, map[string]any{"content": "- second", "version": 1})

	resp, data := env.do("PUT", "/api/memory/working", ada, map[string]any{"content": "- third", "version": 2})
	wantRateLimited(t, "3rd working memory write", resp, data)
	resp, data = env.do("POST", "/api/memory/working/revert", ada, map[string]any{"version": 1, "current": 2})
	wantRateLimited(t, "revert beyond the limit", resp, data)
	if doc := env.getWorkingDoc(ada, ""); doc.Version != 2 || doc.Content != "- second" {
		t.Errorf("after the limited writes the working memory is version %d %q, want version 2 \"- second\"", doc.Version, doc.Content)
	}

	if doc := env.putWorkingDoc(bob, map[string]any{"content": "- Bob", "version": 0}); doc.Version != 1 {
		t.Errorf("Bob's write returned version %d, want 1", doc.Version)
	}
}

func TestConcurrentRepliesFromLimits(t *testing.T) {
	env := newLimitedEnv(t, Limits{ConcurrentReplies: 1})
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	busy := env.createThread(ada)
	other := env.createThread(ada)
	resp, stream := env.startHeldChat(ada, busy.ID)
	defer resp.Body.Close()

	resp2, data := env.do("POST", "/api/chat", ada, map[string]string{"threadId": other.ID, "message": "a second reply"})
	wantRateLimited(t, "2nd reply at once", resp2, data)
	if !strings.Contains(string(data), "writing 1 repl") {
		t.Errorf("the refusal %s does not name the limit of 1 reply", data)
	}
	if n := len(env.storedMessages(ada, other.ID)); n != 0 {
		t.Errorf("the refused chat stored %d messages, want 0", n)
	}

	_, parts := env.chat(bob, map[string]string{"message": "hello"})
	if got := streamError(parts); got != "" {
		t.Errorf("Bob's reply failed while Ada's runs: %s", got)
	}

	env.fake.Release()
	readStream(t, stream)
	_, parts = env.chat(ada, map[string]string{"threadId": other.ID, "message": "now?"})
	if got := streamError(parts); got != "" {
		t.Errorf("Ada's reply after the first ended failed: %s", got)
	}
}

// wantNoCORS checks that a response grants no other origin anything and
// carries the API's security headers.
func wantNoCORS(t *testing.T, label string, resp *http.Response) {
	t.Helper()
	for name := range resp.Header {
		if strings.HasPrefix(strings.ToLower(name), "access-control-allow") {
			t.Errorf("%s: response carries %s: %q", label, name, resp.Header.Get(name))
		}
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", label, got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("%s: Referrer-Policy %q, want no-referrer", label, got)
	}
}

func TestCrossOriginRequestsRefused(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	const otherOrigin = "http://localhost:5173"

	for _, path := range []string{"/api/threads", "/api/chat", "/api/health"} {
		req := env.newRequest("OPTIONS", path, "", nil)
		req.Header.Set("Origin", otherOrigin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, data := env.doRequest(req)
		checkAPIError(t, "preflight of "+path, resp, data, http.StatusForbidden, CodeForbidden, "")
		wantNoCORS(t, "preflight of "+path, resp)
	}

	for _, site := range []string{"cross-site", "same-site"} {
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/threads", map[string]string{"title": "from " + site}},
			{"GET", "/api/threads", nil},
			{"POST", "/api/chat", map[string]string{"message": "from " + site}},
			{"GET", "/api/health", nil},
		} {
			label := fmt.Sprintf("%s %s with Sec-Fetch-Site %s", tc.method, tc.path, site)
			req := env.newRequest(tc.method, tc.path, token, tc.body)
			req.Header.Set("Sec-Fetch-Site", site)
			req.Header.Set("Origin", otherOrigin)
			resp, data := env.doRequest(req)
			checkAPIError(t, label, resp, data, http.StatusForbidden, CodeForbidden, "")
			wantNoCORS(t, label, resp)
		}
	}
	if ids := env.listThreadIDs(token); len(ids) != 0 {
		t.Errorf("refused requests created %d threads, want 0", len(ids))
	}
	if n := len(env.fake.ChatRequests()); n != 0 {
		t.Errorf("refused chats reached the model %d times, want 0", n)
	}

	for _, site := range []string{"same-origin", "none", ""} {
		label := "POST /api/threads with Sec-Fetch-Site " + strconv.Quote(site)
		req := env.newRequest("POST", "/api/threads", token, map[string]string{"title": "from " + site})
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, data := env.doRequest(req)
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: status %d, body %s; want 201", label, resp.StatusCode, data)
		}
		wantNoCORS(t, label, resp)
	}

	// Error responses carry the same headers.
	resp, _ := env.do("GET", "/api/threads", "", nil)
	wantNoCORS(t, "GET /api/threads without a token", resp)
	resp, _ = env.do("GET", "/api/nothing-here", token, nil)
	wantNoCORS(t, "GET of an unknown API route", resp)

	// A link from another site still opens the page.
	req := env.newRequest("GET", "/", "", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, data := env.doRequest(req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(data), "<title>Hearth</title>") {
		t.Errorf("GET / from another site: status %d, body %q; want the page", resp.StatusCode, data)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("GET / from another site has no Content-Security-Policy")
	}
	wantNoCORS(t, "GET /", resp)
}

func TestRequestLogLine(t *testing.T) {
	logs := &lockedBuffer{}
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t)}
	env.log = slog.New(slog.NewJSONHandler(logs, nil))
	env.start(env.fake.URL())
	token := env.signUp("", "Ada")
	profileID := env.profileID(token)
	const text = "my secret plan needs 47 pineapples"

	env.fake.Enqueue(textReply("Noted."))
	env.chat(token, map[string]string{"message": text})

	// chatLines returns the request log lines of POST /api/chat.
	chatLines := func() []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var entry map[string]any
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatalf("log line %q is not JSON: %v", line, err)
			}
			if entry["msg"] == "request" && entry["route"] == "POST /api/chat" {
				out = append(out, entry)
			}
		}
		return out
	}
	// The line is written when the handler returns, which may be just
	// after the client read the end of the stream.
	waitFor(t, "the chat's request log line", func() bool { return len(chatLines()) > 0 })
	lines := chatLines()
	if len(lines) != 1 {
		t.Fatalf("%d request log lines for one chat, want 1: %v", len(lines), lines)
	}
	line := lines[0]
	if line["method"] != "POST" || line["status"] != float64(http.StatusOK) || line["profile"] != profileID {
		t.Errorf("log line %v, want method POST, status 200 and profile %s", line, profileID)
	}
	if d, ok := line["duration"].(float64); !ok || d <= 0 {
		t.Errorf("log line duration %v, want a positive duration", line["duration"])
	}

	all := logs.String()
	for name, secret := range map[string]string{"token": token, "password": "password-Ada", "message text": text, "part of the message": "pineapples"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log contains the %s %q", name, secret)
		}
	}
}
