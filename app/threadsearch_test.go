package app

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// threadMatchJSON is a thread as GET /api/threads?q= returns it.
type threadMatchJSON struct {
	threadJSON
	// Match is a pointer so that a missing field differs from an empty one.
	Match *string `json:"match"`
}

// searchThreads sends GET /api/threads?q=query plus extra, checks for 200,
// and returns the response with its matches.
func (env *testEnv) searchThreads(token, query, extra string) (*http.Response, []threadMatchJSON) {
	env.t.Helper()
	path := "/api/threads?q=" + url.QueryEscape(query) + extra
	resp, data := env.do("GET", path, token, nil)
	if resp.StatusCode != http.StatusOK {
		env.t.Fatalf("GET %s: status %d, body %s", path, resp.StatusCode, data)
	}
	var matches []threadMatchJSON
	if err := json.Unmarshal(data, &matches); err != nil {
		env.t.Fatalf("GET %s: decode %s: %v", path, data, err)
	}
	return resp, matches
}

// createTitledThread creates a thread with title through the API.
func (env *testEnv) createTitledThread(token, title string) threadJSON {
	env.t.Helper()
	var th threadJSON
	env.mustJSON("POST", "/api/threads", token, map[string]string{"title": title}, http.StatusCreated, &th)
	return th
}

func TestThreadSearchMatches(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	titled := env.createTitledThread(ada, "Quarterly TAX return")
	chatted := env.createTitledThread(ada, "Garden")
	env.chat(ada, map[string]string{"threadId": chatted.ID, "message": "Should I plant a Kumquat tree by the wall?"})
	env.createTitledThread(ada, "Unrelated")

	_, matches := env.searchThreads(ada, "tax", "")
	if len(matches) != 1 || matches[0].ID != titled.ID {
		t.Fatalf("search for a title word found %+v, want only thread %s", matches, titled.ID)
	}
	if matches[0].Match == nil || *matches[0].Match != "" {
		t.Errorf("match of a title hit = %v, want an empty string", matches[0].Match)
	}

	_, matches = env.searchThreads(ada, "KUMQUAT", "")
	if len(matches) != 1 || matches[0].ID != chatted.ID {
		t.Fatalf("search for a message word found %+v, want only thread %s", matches, chatted.ID)
	}
	if m := matches[0].Match; m == nil || !strings.Contains(*m, "Kumquat tree") {
		t.Errorf("match of a content hit = %v, want a snippet with the word", m)
	}
	if matches[0].Title != "Garden" || matches[0].MessageCount != 2 {
		t.Errorf("matched thread = %+v, want its title and its 2 messages", matches[0].threadJSON)
	}

	// An empty or blank q lists every thread, as no q does.
	for _, query := range []string{"", "   "} {
		var all []threadMatchJSON
		env.mustJSON("GET", "/api/threads?q="+url.QueryEscape(query), ada, nil, http.StatusOK, &all)
		if len(all) != 3 {
			t.Errorf("q=%q listed %d threads, want all 3", query, len(all))
		}
		for _, th := range all {
			if th.Match != nil {
				t.Errorf("q=%q: thread %s has a match field, want none outside a search", query, th.ID)
			}
		}
	}
}

func TestThreadSearchOtherProfile(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	grace := env.signUp(ada, "Grace")
	adaThread := env.createTitledThread(ada, "Ada's kumquat notes")
	env.chat(ada, map[string]string{"threadId": adaThread.ID, "message": "my secret marmalade recipe"})
	graceThread := env.createTitledThread(grace, "Grace's kumquat notes")

	_, matches := env.searchThreads(grace, "kumquat", "")
	if len(matches) != 1 || matches[0].ID != graceThread.ID {
		t.Errorf("Grace's search found %+v, want only her thread %s", matches, graceThread.ID)
	}
	for _, query := range []string{"marmalade", "Ada's"} {
		if _, matches := env.searchThreads(grace, query, ""); len(matches) != 0 {
			t.Errorf("Grace's search for %q found %+v in Ada's threads, want nothing", query, matches)
		}
	}
	if _, matches := env.searchThreads(ada, "marmalade", ""); len(matches) != 1 || matches[0].ID != adaThread.ID {
		t.Errorf("Ada's search for her own message found %+v, want thread %s", matches, adaThread.ID)
	}
}

func TestThreadSearchQueryTooLong(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.createTitledThread(ada, strings.Repeat("é", 200))

	env.wantAPIError("GET", "/api/threads?q="+url.QueryEscape(strings.Repeat("é", 201)), ada, nil, http.StatusBadRequest, CodeInvalidRequest, "q")
	env.wantAPIError("GET", "/api/threads?q=tea%FF", ada, nil, http.StatusBadRequest, CodeInvalidRequest, "q")
	if _, matches := env.searchThreads(ada, strings.Repeat("É", 200), ""); len(matches) != 1 {
		t.Errorf("a 200-character query found %d threads, want 1", len(matches))
	}
}

func TestThreadSearchPaging(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	var want []string
	for i := range 5 {
		title := "Plum jam"
		if i == 2 {
			title = "Apricot jam"
		}
		th := env.createTitledThread(ada, title)
		if title == "Plum jam" {
			want = append([]string{th.ID}, want...)
		}
	}

	var walked []string
	pages := 0
	resp, matches := env.searchThreads(ada, "plum", "&limit=3")
	for {
		pages++
		for _, m := range matches {
			walked = append(walked, m.ID)
		}
		next := nextLink(t, resp)
		if next == "" {
			break
		}
		u, err := url.Parse(next)
		if err != nil {
			t.Fatalf("Link URL %q: %v", next, err)
		}
		if u.Query().Get("q") != "plum" || u.Query().Get("limit") != "3" || u.Query().Get("cursor") != resp.Header.Get("X-Next-Cursor") {
			t.Errorf("Link URL %q, want q, limit and the X-Next-Cursor cursor", next)
		}
		if pages > len(want) {
			t.Fatal("the walk does not end")
		}
		resp, matches = env.searchThreads(ada, u.Query().Get("q"), "&limit=3&cursor="+url.QueryEscape(u.Query().Get("cursor")))
	}
	if !slices.Equal(walked, want) {
		t.Errorf("the walk found %v, want %v", walked, want)
	}
	if pages != 2 {
		t.Errorf("the walk took %d pages, want 2", pages)
	}

	env.wantAPIError("GET", "/api/threads?q=plum&limit=2&cursor="+url.QueryEscape("not a cursor!"), ada, nil, http.StatusBadRequest, CodeInvalidRequest, "cursor")
}
