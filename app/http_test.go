package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hearth/memory"
)

func TestFirstProfileIsAdmin(t *testing.T) {
	env := newTestEnv(t)

	var profiles []profileView
	env.mustJSON("GET", "/api/auth/profiles", "", nil, http.StatusOK, &profiles)
	if len(profiles) != 0 {
		t.Fatalf("fresh install lists %d profiles, want 0", len(profiles))
	}

	var created struct {
		Profile profileView `json:"profile"`
	}
	env.mustJSON("POST", "/api/auth/profiles", "", map[string]string{"name": "Ada", "password": "correct horse"}, http.StatusCreated, &created)
	if created.Profile.Role != "admin" || created.Profile.Name != "Ada" || created.Profile.ID == "" {
		t.Fatalf("first profile = %+v, want admin named Ada with an id", created.Profile)
	}

	env.mustJSON("GET", "/api/auth/profiles", "", nil, http.StatusOK, &profiles)
	if len(profiles) != 1 || profiles[0] != created.Profile {
		t.Fatalf("profiles = %+v, want [%+v]", profiles, created.Profile)
	}
}

func TestLaterProfilesNeedAdmin(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signUp("", "Ada")

	resp, body := env.do("POST", "/api/auth/profiles", "", map[string]string{"name": "Bob", "password": "password-bob"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second profile without token: status %d, want 403; body %s", resp.StatusCode, body)
	}

	var created struct {
		Profile profileView `json:"profile"`
	}
	env.mustJSON("POST", "/api/auth/profiles", admin, map[string]string{"name": "Bob", "password": "password-bob"}, http.StatusCreated, &created)
	if created.Profile.Role != "user" {
		t.Fatalf("profile created by admin has role %q, want user", created.Profile.Role)
	}

	user := env.login("Bob", "password-bob")
	resp, body = env.do("POST", "/api/auth/profiles", user, map[string]string{"name": "Cy", "password": "password-cy"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("profile created by a user: status %d, want 403; body %s", resp.StatusCode, body)
	}

	resp, body = env.do("POST", "/api/auth/profiles", admin, map[string]string{"name": "BOB", "password": "password-bob"})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate name: status %d, want 409; body %s", resp.StatusCode, body)
	}
}

func TestProfileInputErrors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name      string
		body      map[string]string
		wantField string
	}{
		{"short password", map[string]string{"name": "Ada", "password": "1234567"}, "password"},
		{"empty name", map[string]string{"name": "  ", "password": "password-ada"}, "name"},
		{"control character", map[string]string{"name": "A\nda", "password": "password-ada"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out errorBody
			env.mustJSON("POST", "/api/auth/profiles", "", tt.body, http.StatusBadRequest, &out)
			if out.Error.Code != CodeInvalidRequest || out.Error.Field != tt.wantField || out.Error.Message == "" {
				t.Fatalf("error = %+v, want invalid_request on %s with a message", out.Error, tt.wantField)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	env := newTestEnv(t)
	env.signUp("", "Ada")

	var ok struct {
		Token     string      `json:"token"`
		ExpiresAt time.Time   `json:"expiresAt"`
		Profile   profileView `json:"profile"`
	}
	env.mustJSON("POST", "/api/auth/login", "", map[string]string{"name": "ada", "password": "password-Ada"}, http.StatusOK, &ok)
	if ok.Token == "" || ok.Profile.Name != "Ada" || time.Until(ok.ExpiresAt) < time.Hour {
		t.Fatalf("login = %+v, want a token for Ada valid for hours", ok)
	}

	var me profileView
	env.mustJSON("GET", "/api/auth/me", ok.Token, nil, http.StatusOK, &me)
	if me.Name != "Ada" {
		t.Fatalf("me = %+v, want Ada", me)
	}

	// A wrong password and an unknown name get the same answer.
	_, wrongPassword := env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "wrong password"})
	_, unknownName := env.do("POST", "/api/auth/login", "", map[string]string{"name": "Nobody", "password": "password-Ada"})
	if !bytes.Equal(wrongPassword, unknownName) {
		t.Fatalf("wrong password answered %s, unknown name %s; want the same", wrongPassword, unknownName)
	}
	var failed errorBody
	if err := json.Unmarshal(wrongPassword, &failed); err != nil {
		t.Fatal(err)
	}
	if failed.Error.Code != CodeUnauthorized {
		t.Fatalf("wrong password code = %q, want %q", failed.Error.Code, CodeUnauthorized)
	}
}

// protectedRoutes lists every API route that needs a token. threadID is
// replaced with a real thread id.
var protectedRoutes = []struct{ method, path string }{
	{"GET", "/api/auth/me"},
	{"GET", "/api/threads"},
	{"POST", "/api/threads"},
	{"GET", "/api/threads/threadID"},
	{"POST", "/api/chat"},
	{"POST", "/api/chat/threadID/stop"},
}

func TestTokenRequired(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	badTokens := map[string]string{
		"none":    "",
		"garbage": "not-a-token",
		"huge":    strings.Repeat("a", 1<<20),
		"altered": token[:len(token)-2] + "xx",
	}
	for _, route := range protectedRoutes {
		path := strings.ReplaceAll(route.path, "threadID", thread.ID)
		for name, bad := range badTokens {
			t.Run(route.method+" "+route.path+" "+name, func(t *testing.T) {
				resp, body := env.do(route.method, path, bad, map[string]string{"message": "hello", "threadId": thread.ID})
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401; body %s", resp.StatusCode, body)
				}
				var out errorBody
				if err := json.Unmarshal(body, &out); err != nil || out.Error == nil {
					t.Fatalf("body %s is not an error object", body)
				}
			})
		}
	}
	if n := len(env.fake.ChatRequests()); n != 0 {
		t.Fatalf("model received %d chat requests, want 0", n)
	}
	if got := env.getThread(token, thread.ID); len(got.Messages) != 0 {
		t.Fatalf("thread has %d messages after unauthenticated chats, want 0", len(got.Messages))
	}
}

func TestThreadOwnership(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")

	env.fake.Enqueue(textReply("Hello", " Ada"))
	_, parts := env.chat(ada, map[string]string{"message": "hi"})
	threadID := startMetadata(t, parts)["threadId"]

	missing := memory.NewID()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/threads/%s"},
		{"POST", "/api/chat/%s/stop"},
	} {
		respOther, other := env.do(tc.method, strings.ReplaceAll(tc.path, "%s", threadID), bob, nil)
		respMissing, nonexistent := env.do(tc.method, strings.ReplaceAll(tc.path, "%s", missing), bob, nil)
		if respOther.StatusCode != http.StatusNotFound || !bytes.Equal(other, nonexistent) || respMissing.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: other's thread %d %s, missing thread %d %s; want identical 404s",
				tc.method, tc.path, respOther.StatusCode, other, respMissing.StatusCode, nonexistent)
		}
	}

	requestsBefore := len(env.fake.ChatRequests())
	resp, body := env.do("POST", "/api/chat", bob, map[string]string{"message": "let me in", "threadId": threadID})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("chat in another profile's thread: status %d, want 404; body %s", resp.StatusCode, body)
	}
	var out errorBody
	if err := json.Unmarshal(body, &out); err != nil || out.Error.Message != msgThreadNotFound {
		t.Fatalf("body %s, want the thread-not-found message", body)
	}
	if got := len(env.fake.ChatRequests()); got != requestsBefore {
		t.Fatalf("model received %d chat requests after the refused chat, want %d", got, requestsBefore)
	}
	if got := env.getThread(ada, threadID); len(got.Messages) != 2 {
		t.Fatalf("Ada's thread has %d messages, want 2 (nothing written by Bob)", len(got.Messages))
	}

	var bobsThreads []threadJSON
	env.mustJSON("GET", "/api/threads", bob, nil, http.StatusOK, &bobsThreads)
	if len(bobsThreads) != 0 {
		t.Fatalf("Bob lists %d threads, want 0", len(bobsThreads))
	}
}

func TestThreadsNewestFirst(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	first := env.createThread(token)
	second := env.createThread(token)
	if first.Title != memory.DefaultThreadTitle {
		t.Fatalf("title = %q, want %q", first.Title, memory.DefaultThreadTitle)
	}

	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	if len(threads) != 2 || threads[0].ID != second.ID {
		t.Fatalf("threads = %+v, want the second thread first", threads)
	}

	env.chat(token, map[string]string{"message": "bump", "threadId": first.ID})
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	if threads[0].ID != first.ID || threads[0].MessageCount != 2 {
		t.Fatalf("after a chat threads[0] = %+v, want the first thread with 2 messages", threads[0])
	}
}

func TestRequestBodyErrors(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")

	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantField   string
	}{
		{"not JSON content type", "text/plain", `{"message":"hi"}`, http.StatusUnsupportedMediaType, ""},
		{"charset other than UTF-8", "application/json; charset=latin1", `{"message":"hi"}`, http.StatusUnsupportedMediaType, ""},
		{"charset UTF-16", `application/json; charset="utf-16"`, `{"message":"hi"}`, http.StatusUnsupportedMediaType, ""},
		{"broken JSON", "application/json", `{"message":`, http.StatusBadRequest, ""},
		{"unknown field", "application/json", `{"message":"hi","admin":true}`, http.StatusBadRequest, "admin"},
		{"wrong type", "application/json", `{"message":42}`, http.StatusBadRequest, "message"},
		{"two objects", "application/json", `{"message":"a"}{"message":"b"}`, http.StatusBadRequest, ""},
		{"empty message", "application/json", `{"message":"   "}`, http.StatusBadRequest, "message"},
		{"too large", "application/json", `{"message":"` + strings.Repeat("a", maxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, ""},
		{"array body", "application/json", `[{"message":"hi"}]`, http.StatusBadRequest, ""},
		{"invalid UTF-8", "application/json", "{\"message\":\"caf\xe9\"}", http.StatusBadRequest, ""},
		{"message over 1 MiB", "application/json", `{"message":"` + strings.Repeat("a", memory.MaxContentBytes+1) + `"}`, http.StatusRequestEntityTooLarge, "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := env.newRequest("POST", "/api/chat", token, nil)
			req.Body = io.NopCloser(strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out errorBody
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatalf("decode error body: %v", err)
			}
			if resp.StatusCode != tt.wantStatus || out.Error.Field != tt.wantField || out.Error.Message == "" {
				t.Fatalf("status %d, error %+v; want %d on field %q with a message", resp.StatusCode, out.Error, tt.wantStatus, tt.wantField)
			}
		})
	}
	if n := len(env.fake.ChatRequests()); n != 0 {
		t.Fatalf("model received %d chat requests, want 0", n)
	}
	// A rejected chat creates no thread.
	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	if len(threads) != 0 {
		t.Fatalf("rejected chats left %d threads, want 0", len(threads))
	}
}

func TestContentTypeCharset(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	for _, tt := range []struct {
		contentType string
		wantStatus  int
	}{
		{"application/json", http.StatusCreated},
		{"application/json; charset=utf-8", http.StatusCreated},
		{"application/json; charset=UTF-8", http.StatusCreated},
		{`application/json; charset="utf-8"`, http.StatusCreated},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"application/json; charset=iso-8859-1", http.StatusUnsupportedMediaType},
	} {
		req := env.newRequest("POST", "/api/threads", token, nil)
		req.Body = io.NopCloser(strings.NewReader(`{"title":"Plans"}`))
		req.Header.Set("Content-Type", tt.contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("Content-Type %q: status %d, want %d; body %s", tt.contentType, resp.StatusCode, tt.wantStatus, body)
		}
		if tt.wantStatus == http.StatusUnsupportedMediaType && !strings.Contains(string(body), "UTF-8") {
			t.Errorf("Content-Type %q: message %s does not say to send UTF-8", tt.contentType, body)
		}
	}
}

func TestBearerSchemeAnyCase(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req := env.newRequest("GET", "/api/threads", "", nil)
		req.Header.Set("Authorization", scheme+" "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("scheme %q: status %d, want 200", scheme, resp.StatusCode)
		}
	}
}

func TestCreateThreadWithoutBody(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	req := env.newRequest("POST", "/api/threads", token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d, want 201", resp.StatusCode)
	}
}

func TestWrongMethod(t *testing.T) {
	env := newTestEnv(t)
	resp, body := env.do("DELETE", "/api/threads", "", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405; body %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Allow"); got != "GET, POST" {
		t.Fatalf("Allow = %q, want %q", got, "GET, POST")
	}
}

func TestUnknownAPIRoute(t *testing.T) {
	env := newTestEnv(t)
	var out errorBody
	env.mustJSON("GET", "/api/nothing-here", "", nil, http.StatusNotFound, &out)
	if out.Error.Code != CodeNotFound {
		t.Fatalf("code = %q, want %q", out.Error.Code, CodeNotFound)
	}
}

func TestUIServedWithFallback(t *testing.T) {
	env := newTestEnv(t)
	for _, path := range []string{"/", "/threads/some-thread"} {
		resp, body := env.do("GET", path, "", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<title>Hearth</title>") {
			t.Errorf("GET %s: status %d, body %q; want the index page", path, resp.StatusCode, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q, want script-src 'self'", path, csp)
		}
	}
	for _, path := range []string{"/missing.js", "/assets/", "/.gitkeep", "/assets/.hidden.js"} {
		resp, _ := env.do("GET", path, "", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
	resp, body := env.do("GET", "/assets/app.js", "", nil)
	if resp.StatusCode != http.StatusOK || string(body) != "console.log(1)" {
		t.Errorf("GET /assets/app.js: status %d, body %q", resp.StatusCode, body)
	}
}

func TestUINotBuiltPage(t *testing.T) {
	h := uiHandler(nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "was not built") {
		t.Fatalf("body %q, want the not-built page", rec.Body.String())
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	env := newTestEnv(t)
	model, err := NewOllama(env.fake.URL(), testModel, nil)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, err = Open(Config{DataDir: env.dataDir, Model: model})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Open error = %v, want ErrAlreadyRunning", err)
	}
	if !strings.Contains(err.Error(), "Hearth is already running with data directory "+env.dataDir) {
		t.Fatalf("error %q does not name the data directory", err)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("second Open took %v, want at most 2s", elapsed)
	}
}

func TestRestrictHosts(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	h := RestrictHosts(ok, "127.0.0.1:8787", false)
	remote := RestrictHosts(ok, "[::]:8787", true)
	for _, tt := range []struct {
		host string
		want int
	}{
		{"192.0.2.2:8787", http.StatusNoContent},
		{"[2001:db8::1]:8787", http.StatusNoContent},
		{"localhost:8787", http.StatusNoContent},
		{"evil.example:8787", http.StatusMisdirectedRequest},
		{"192.0.2.2:9999", http.StatusMisdirectedRequest},
	} {
		req := httptest.NewRequest("GET", "/api/health", nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		remote.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("allow-remote, Host %q: status %d, want %d", tt.host, rec.Code, tt.want)
		}
	}
	tests := []struct {
		host string
		want int
	}{
		{"127.0.0.1:8787", http.StatusNoContent},
		{"localhost:8787", http.StatusNoContent},
		{"LOCALHOST:8787", http.StatusNoContent},
		{"[::1]:8787", http.StatusNoContent},
		{"evil.example:8787", http.StatusMisdirectedRequest},
		{"127.0.0.1:9999", http.StatusMisdirectedRequest},
		{"192.0.2.2:8787", http.StatusMisdirectedRequest},
		{"", http.StatusMisdirectedRequest},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", "/api/health", nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("Host %q: status %d, want %d", tt.host, rec.Code, tt.want)
		}
	}
}
