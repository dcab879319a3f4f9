package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"hearth/app/ollamatest"
)

const testModel = "llama3.2"

// testEnv is a Hearth app on a real bbolt file in a temp dir, served by a
// real HTTP server on loopback, with a fake Ollama as its model backend.
type testEnv struct {
	t       *testing.T
	dataDir string
	fake    *ollamatest.Server
	app     *App
	server  *httptest.Server
	// log receives the app's logs from the next start; nil discards them.
	log *slog.Logger
	// titles makes the next start write thread titles with the model,
	// which takes a scripted reply after each thread's first.
	titles bool
	// desktop makes the next start keep replies going when the client
	// stops reading, as the desktop window does.
	desktop bool
	// limits bounds each profile's requests from the next start; zero
	// fields take the defaults.
	limits Limits
	// clock, when set, is the profile store's clock from the next start.
	clock func() time.Time
	// idleRelease is Config.IdleRelease from the next start.
	idleRelease time.Duration
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvAt(t, nil)
}

// newTestEnvAt is newTestEnv with a profile store that reads the time from
// clock, or from time.Now when clock is nil.
func newTestEnvAt(t *testing.T, clock func() time.Time) *testEnv {
	t.Helper()
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t), clock: clock}
	env.start(env.fake.URL())
	return env
}

// start opens the app on env.dataDir with the Ollama backend at ollamaURL.
func (env *testEnv) start(ollamaURL string) {
	env.t.Helper()
	model, err := NewOllama(ollamaURL, testModel, nil)
	if err != nil {
		env.t.Fatal(err)
	}
	ui := fstest.MapFS{
		"index.html":        {Data: []byte("<!doctype html><title>Hearth</title>")},
		"assets/app.js":     {Data: []byte("console.log(1)")},
		"assets/.hidden.js": {Data: []byte("hidden")},
		".gitkeep":          {Data: nil},
	}
	logger := env.log
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a, err := Open(Config{DataDir: env.dataDir, Model: model, UI: ui, Version: "test", Logger: logger, OllamaURL: ollamaURL,
		SkipTitles: !env.titles, KeepRepliesOnDisconnect: env.desktop, Limits: env.limits, IdleRelease: env.idleRelease,
		insecureTestCost: true, clock: env.clock})
	if err != nil {
		env.t.Fatalf("open app: %v", err)
	}
	env.app = a
	env.server = httptest.NewServer(a.Handler())
	env.t.Cleanup(env.stop)
}

// stop closes the server and the app, so that start can reopen the data file.
func (env *testEnv) stop() {
	if env.server != nil {
		env.server.Close()
		env.server = nil
	}
	if env.app != nil {
		if err := env.app.Close(); err != nil {
			env.t.Errorf("close app: %v", err)
		}
		env.app = nil
	}
}

// do sends a request with an optional JSON body and bearer token, and returns
// the response with its body read.
func (env *testEnv) do(method, path, token string, body any) (*http.Response, []byte) {
	env.t.Helper()
	resp := env.send(method, path, token, body)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		env.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, data
}

// send sends a request and returns the response with its body unread.
func (env *testEnv) send(method, path, token string, body any) *http.Response {
	env.t.Helper()
	req := env.newRequest(method, path, token, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		env.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func (env *testEnv) newRequest(method, path, token string, body any) *http.Request {
	env.t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			env.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, env.server.URL+path, r)
	if err != nil {
		env.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// mustJSON sends a request, checks its status and decodes its JSON body.
func (env *testEnv) mustJSON(method, path, token string, body any, wantStatus int, dst any) {
	env.t.Helper()
	resp, data := env.do(method, path, token, body)
	if resp.StatusCode != wantStatus {
		env.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantStatus, data)
	}
	if dst != nil {
		if err := json.Unmarshal(data, dst); err != nil {
			env.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// signUp creates a profile (as admin when adminToken is set) and signs in.
func (env *testEnv) signUp(adminToken, name string) string {
	env.t.Helper()
	env.mustJSON("POST", "/api/auth/profiles", adminToken, map[string]string{"name": name, "password": "password-" + name}, http.StatusCreated, nil)
	return env.login(name, "password-"+name)
}

func (env *testEnv) login(name, password string) string {
	env.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	env.mustJSON("POST", "/api/auth/login", "", map[string]string{"name": name, "password": password}, http.StatusOK, &out)
	if out.Token == "" {
		env.t.Fatal("login returned no token")
	}
	return out.Token
}

type threadJSON struct {
	ID           string `json:"id"`
	ResourceID   string `json:"resourceId"`
	Title        string `json:"title"`
	MessageCount int    `json:"messageCount"`
}

type messageJSON struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Content string `json:"content"`
	Status  string `json:"status"`
	Error   string `json:"error"`
}

type threadWithMessages struct {
	Thread   threadJSON    `json:"thread"`
	Messages []messageJSON `json:"messages"`
}

func (env *testEnv) createThread(token string) threadJSON {
	env.t.Helper()
	var th threadJSON
	env.mustJSON("POST", "/api/threads", token, map[string]string{}, http.StatusCreated, &th)
	return th
}

func (env *testEnv) getThread(token, id string) threadWithMessages {
	env.t.Helper()
	var out threadWithMessages
	env.mustJSON("GET", "/api/threads/"+id, token, nil, http.StatusOK, &out)
	return out
}

// chat sends a chat request and reads the whole stream.
func (env *testEnv) chat(token string, body map[string]string) (*http.Response, []streamPart) {
	env.t.Helper()
	return env.stream("POST", "/api/chat", token, body)
}

// stream sends a request whose response is a UI message stream and reads
// the whole stream.
func (env *testEnv) stream(method, path, token string, body any) (*http.Response, []streamPart) {
	env.t.Helper()
	resp := env.send(method, path, token, body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		env.t.Fatalf("%s %s: status %d, body %s", method, path, resp.StatusCode, data)
	}
	return resp, readStream(env.t, resp.Body)
}

// readStream reads a UI message stream to its end and checks its framing.
func readStream(t *testing.T, body io.Reader) []streamPart {
	t.Helper()
	var parts []streamPart
	sawDone := false
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 4<<20) // a delta can be as large as a whole message
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("stream line %q does not start with \"data: \"", line)
		}
		if sawDone {
			t.Fatalf("stream continues after [DONE] with %q", line)
		}
		if data == "[DONE]" {
			sawDone = true
			continue
		}
		var p streamPart
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			t.Fatalf("stream part %q: %v", data, err)
		}
		parts = append(parts, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	if !sawDone {
		t.Fatal("stream ended without [DONE]")
	}
	return parts
}

// streamText joins the text deltas of a stream.
func streamText(parts []streamPart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text-delta" {
			b.WriteString(p.Delta)
		}
	}
	return b.String()
}

// streamError returns the errorText of the stream's error part, if any.
func streamError(parts []streamPart) string {
	for _, p := range parts {
		if p.Type == "error" {
			return p.ErrorText
		}
	}
	return ""
}

func partTypes(parts []streamPart) []string {
	types := make([]string, len(parts))
	for i, p := range parts {
		types[i] = p.Type
	}
	return types
}
