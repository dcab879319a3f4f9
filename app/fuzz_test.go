package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"hearth/app/ollamatest"
)

// FuzzRoutes sends arbitrary bodies and query strings to every route of
// App.routes with a valid session. It fails on a 5xx status, except the 502
// and 504 that report a failing backend (see isBackendFailure). It also
// fails on a dropped connection, a request that takes over
// fuzzRequestTimeout, and a response that is not the JSON, stream or file
// its Content-Type declares.
//
// The input is the index of the route in the order App.routes registers
// them, the query string and the body. The placeholders of routeSamples in
// the query or body are replaced with the ids of the fuzz user's thread, so
// that mutations of the seeds reach past the id checks.
func FuzzRoutes(f *testing.F) {
	routes := parseRoutes(f)
	h := newFuzzHarness(f)

	for i, r := range routes {
		for _, seed := range fuzzSeeds(f, routeSamples[r.key()]) {
			f.Add(uint8(i), seed.query, []byte(seed.body))
		}
	}

	f.Fuzz(func(t *testing.T, index uint8, query string, body []byte) {
		h.send(t, routes[int(index)%len(routes)], query, body)
	})
}

// fuzzSeed is one seed input of FuzzRoutes for a route.
type fuzzSeed struct {
	query string
	body  string
}

// fuzzSeeds returns the seed inputs for a route: its valid sample, the bad
// queries and bodies of its sample, and a few near-valid bodies.
func fuzzSeeds(f *testing.F, sample routeSample) []fuzzSeed {
	seeds := []fuzzSeed{{sample.query, sample.body}}
	for _, bad := range sample.badQueries {
		seeds = append(seeds, fuzzSeed{bad.value, ""})
	}
	for _, bad := range sample.badBodies {
		seeds = append(seeds, fuzzSeed{sample.query, bad.value})
	}
	if sample.body == "" {
		return append(seeds, fuzzSeed{sample.query, `{}`})
	}
	seeds = append(seeds,
		fuzzSeed{sample.query, strings.TrimSuffix(sample.body, "}")},
		fuzzSeed{sample.query, `{"unexpectedField":true}`},
		fuzzSeed{sample.query, "null"},
	)
	// A body with the placeholder WM_VERSION is JSON only once filled, so
	// it gets no seeds with a changed field.
	if field := sample.textField; field != "" && !strings.Contains(sample.body, "WM_VERSION") {
		seeds = append(seeds,
			fuzzSeed{sample.query, string(withJSONField(f, sample.body, field, 12345))},
			fuzzSeed{sample.query, string(withJSONField(f, sample.body, field, "line\nbreak \u0000 \ud7ff \U0001F600"))},
		)
	}
	return seeds
}

// Settings of the fuzz harness.
const (
	// fuzzRequestTimeout bounds one request. Every reply comes from the
	// fake Ollama at once, so a request that takes this long has hung.
	fuzzRequestTimeout = 30 * time.Second
	// fuzzUserInputs is how many inputs one fuzz user serves before it is
	// replaced, so that its threads do not pile up and slow every list.
	fuzzUserInputs = 1000
	// fuzzAdminName and fuzzAdminPassword sign in the harness's admin.
	// No seed names it, so inputs do not reach it.
	fuzzAdminName     = "harness-admin"
	fuzzAdminPassword = "harness-admin-password"
)

// fuzzHarness is one Hearth app for a whole fuzz run, served on loopback,
// with a signed-in user that owns a thread of one exchange. Inputs may sign
// the user out, change its password, or delete it or its thread, so send
// repairs what they broke before the next input.
type fuzzHarness struct {
	app    *App
	server *httptest.Server
	fake   *ollamatest.Server
	// fakeHost is the host and port of the fake Ollama, the only server
	// an input may make Hearth contact.
	fakeHost string
	client   *http.Client

	adminToken string
	// token and ids are the fuzz user's session and thread.
	token string
	ids   routeIDs
	// users counts the fuzz users made, to name the next one.
	users int
	// inputs counts the inputs the current user has served.
	inputs int
	// stale is set when the last input may have changed the user, its
	// session or its thread.
	stale bool
}

func newFuzzHarness(f *testing.F) *fuzzHarness {
	f.Helper()
	fake := ollamatest.NewServer(f)
	model, err := NewOllama(fake.URL(), testModel, nil)
	if err != nil {
		f.Fatal(err)
	}
	fakeURL, err := url.Parse(fake.URL())
	if err != nil {
		f.Fatal(err)
	}
	// The budgets are far above what a fuzz run sends, so that inputs
	// reach the handlers rather than 429.
	limits := Limits{ChatPerMinute: 1 << 30, ThreadsPerMinute: 1 << 30, MemoryWritesPerMinute: 1 << 30}
	a, err := Open(Config{
		DataDir: f.TempDir(), Model: model, Version: "fuzz", Logger: slog.New(slog.DiscardHandler), OllamaURL: fake.URL(),
		UI: fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Hearth</title>")}}, SkipTitles: true, Limits: limits,
		insecureTestCost: true,
	})
	if err != nil {
		f.Fatalf("open app: %v", err)
	}
	h := &fuzzHarness{
		app: a, server: httptest.NewServer(a.Handler()), fake: fake, fakeHost: fakeURL.Host,
		client: &http.Client{Timeout: fuzzRequestTimeout},
	}
	f.Cleanup(func() {
		h.server.Close()
		if err := a.Close(); err != nil {
			f.Errorf("close app: %v", err)
		}
	})

	h.direct(f, "POST", "/api/auth/profiles", "", map[string]string{"name": fuzzAdminName, "password": fuzzAdminPassword}, http.StatusCreated, nil)
	h.signInAdmin(f)
	h.newUser(f)
	return h
}

// direct passes a request to the app's handler in process, without a remote
// address, as the desktop window does. Hearth counts failed sign-ins per
// client, so the harness's own sign-ins are not held up by the failures
// that inputs cause from the loopback address. It checks the status unless
// want is 0, decodes the JSON response body into dst when dst is not nil,
// and returns the recorder.
func (h *fuzzHarness) direct(tb testing.TB, method, path, token string, body any, want int, dst any) *httptest.ResponseRecorder {
	tb.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			tb.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, reader)
	req.RemoteAddr = ""
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.app.Handler().ServeHTTP(rec, req)
	if want != 0 && rec.Code != want {
		tb.Fatalf("harness request %s %s: status %d, want %d; body %.500s", method, path, rec.Code, want, rec.Body.Bytes())
	}
	if dst != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), dst); err != nil {
			tb.Fatalf("harness request %s %s: decode %.500s: %v", method, path, rec.Body.Bytes(), err)
		}
	}
	return rec
}

// signIn returns a token for the profile name.
func (h *fuzzHarness) signIn(tb testing.TB, name, password string) string {
	tb.Helper()
	var session sessionView
	h.direct(tb, "POST", "/api/auth/login", "", map[string]string{"name": name, "password": password}, http.StatusOK, &session)
	return session.Token
}

func (h *fuzzHarness) signInAdmin(tb testing.TB) {
	tb.Helper()
	h.adminToken = h.signIn(tb, fuzzAdminName, fuzzAdminPassword)
	h.direct(tb, "PATCH", "/api/auth/me", h.adminToken, map[string]int{"idleLockMinutes": 0}, http.StatusOK, nil)
}

// newUser deletes the current fuzz user, if any, and makes a new one with a
// thread of one exchange.
func (h *fuzzHarness) newUser(tb testing.TB) {
	tb.Helper()
	if rec := h.direct(tb, "GET", "/api/auth/me", h.adminToken, nil, 0, nil); rec.Code != http.StatusOK {
		h.signInAdmin(tb)
	}
	if h.ids.profileID != "" {
		// The user may have deleted itself already.
		h.direct(tb, "DELETE", "/api/auth/profiles/"+h.ids.profileID, h.adminToken, nil, 0, nil)
	}

	h.users++
	name := fmt.Sprintf("fuzzer%d", h.users)
	password := "fuzz-password-" + name
	var created struct {
		Profile     profileView `json:"profile"`
		RecoveryKey string      `json:"recoveryKey"`
	}
	h.direct(tb, "POST", "/api/auth/profiles", h.adminToken, map[string]string{"name": name, "password": password}, http.StatusCreated, &created)
	h.token = h.signIn(tb, name, password)
	h.ids = routeIDs{profileID: created.Profile.ID, profileName: name, password: password, recoveryKey: created.RecoveryKey}
	h.newThread(tb)
	h.inputs = 0
}

// newThread starts a thread of one exchange for the fuzz user.
func (h *fuzzHarness) newThread(tb testing.TB) {
	tb.Helper()
	rec := h.direct(tb, "POST", "/api/chat", h.token, map[string]string{"message": "Hello from the fuzzer"}, http.StatusOK, nil)
	h.ids.threadID = rec.Header().Get("X-Thread-Id")
	if h.ids.threadID == "" {
		tb.Fatalf("chat response has no X-Thread-Id header; body %.500s", rec.Body.Bytes())
	}
	h.readLastMessages(tb)
}

// readLastMessages sets the message ids to the thread's last message and
// its newest user message. It reports false when the thread is gone.
func (h *fuzzHarness) readLastMessages(tb testing.TB) bool {
	tb.Helper()
	var page struct {
		Messages []messageJSON `json:"messages"`
	}
	rec := h.direct(tb, "GET", "/api/threads/"+h.ids.threadID+"/messages?limit=4", h.token, nil, 0, nil)
	if rec.Code == http.StatusNotFound {
		return false
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil || len(page.Messages) == 0 {
		tb.Fatalf("harness could not read the fuzz thread's messages: status %d, body %.500s", rec.Code, rec.Body.Bytes())
	}
	h.ids.messageID = page.Messages[len(page.Messages)-1].ID
	for _, m := range page.Messages {
		if m.Role == "user" {
			h.ids.userMessageID = m.ID
		}
	}
	return true
}

// repair brings back a signed-in user with a thread after an input that may
// have ended the session, deleted the user or its thread, or changed the
// thread's last message.
func (h *fuzzHarness) repair(tb testing.TB) {
	tb.Helper()
	var me struct {
		Locked bool `json:"locked"`
	}
	if rec := h.direct(tb, "GET", "/api/auth/me", h.token, nil, 0, nil); rec.Code != http.StatusOK ||
		json.Unmarshal(rec.Body.Bytes(), &me) != nil || me.Locked {
		h.newUser(tb)
		return
	}
	if !h.readLastMessages(tb) {
		h.newThread(tb)
	}
}

// send sends one fuzz input to route and checks the response.
func (h *fuzzHarness) send(t *testing.T, route apiRoute, query string, body []byte) {
	if h.stale || h.inputs >= fuzzUserInputs {
		if h.inputs >= fuzzUserInputs {
			h.newUser(t)
		} else {
			h.repair(t)
		}
		h.stale = false
	}
	h.inputs++

	body = []byte(h.ids.fill(string(body)))
	query = escapeQuery(h.ids.fill(query))
	if !h.contactsOnlyFake(route, body) {
		t.Skip("the body names a server other than the fake Ollama")
	}

	req, err := http.NewRequest(route.method, h.server.URL+h.ids.path(route), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = query
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token)
	label := fmt.Sprintf("%s %s?%s with body %.2000q", route.method, route.pattern, query, body)

	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s: read the response body after status %d: %v", label, resp.StatusCode, err)
	}
	// Any request that is not a GET and was not rejected may have changed
	// the session, the user or the thread.
	h.stale = route.method != http.MethodGet && resp.StatusCode < 400

	if problem := checkFuzzResponse(resp, data); problem != "" {
		t.Fatalf("%s: %s; status %d, Content-Type %q, body %.2000q", label, problem, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	// The session is repaired after every input that could end it, so a
	// 401 here means that inputs stopped reaching the handlers.
	if route.needsSession() && resp.StatusCode == http.StatusUnauthorized {
		t.Fatalf("%s: the harness's session was rejected: %.500s", label, data)
	}
}

// contactsOnlyFake reports whether Hearth, serving body on route, can
// contact no server but the fake Ollama. Only the settings and the
// embedder choice name servers. An input that names another is not sent,
// because fuzzing must not reach hosts or ports the test did not start. The
// body is decoded by decodeBody, as the handler does, so both read the
// same URL.
//
// NOTE: a route or field added later that names a server must be added
// here, or fuzzing may send Hearth's requests to any host it names.
func (h *fuzzHarness) contactsOnlyFake(route apiRoute, body []byte) bool {
	var baseURL string
	switch route.key() {
	case "PUT /api/settings":
		var req settingsRequest
		if decodeBody(body, &req) != nil || req.Backend == nil {
			return true
		}
		baseURL = req.Backend.BaseURL
	case "PUT /api/memory/recall/embedder":
		var spec embedderSpec
		if decodeBody(body, &spec) != nil {
			return true
		}
		baseURL = spec.BaseURL
	default:
		return true
	}
	baseURL = strings.TrimSpace(baseURL)
	if baseURL == "" {
		// Hearth then uses the server it started with, the fake.
		return true
	}
	u, err := url.Parse(baseURL)
	return err == nil && u.User == nil && u.Host == h.fakeHost && (u.Scheme == "http" || u.Scheme == "https") &&
		!strings.ContainsAny(baseURL, "@\\")
}

// escapeQuery returns q with every byte that may not appear raw in a
// request's query percent-encoded, so that the request line stays valid
// and the input reaches Hearth rather than the HTTP server's parser. Valid
// escapes stay as they are.
func escapeQuery(q string) string {
	const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case strings.IndexByte(allowed, c) >= 0:
			b.WriteByte(c)
		case c == '%' && i+2 < len(q) && isHexDigit(q[i+1]) && isHexDigit(q[i+2]):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isHexDigit(c byte) bool {
	return strings.IndexByte("0123456789abcdefABCDEF", c) >= 0
}

// backendFailureCodes are the codes of a 502 or 504 that reports a model
// backend or embedder failing, such as a model that an input chose and the
// fake Ollama does not have. docs/api.md documents these responses.
var backendFailureCodes = map[string]bool{
	CodeBackendUnreachable: true, CodeModelNotFound: true, CodeBackendDisconnected: true, CodeBackendFailed: true,
	CodeBackendAuth: true, CodeBackendRateLimited: true, CodeContextTooLong: true, CodeReplyTooLong: true,
	CodeEmbedderUnavailable: true,
}

// isBackendFailure reports whether a 5xx response is a 502 or 504 that
// reports a failing backend rather than a failure of Hearth.
func isBackendFailure(status int, data []byte) bool {
	if status != http.StatusBadGateway && status != http.StatusGatewayTimeout {
		return false
	}
	e, err := parseErrorBody(data)
	return err == nil && backendFailureCodes[e.Code]
}

// checkFuzzResponse returns what is wrong with a response, or "".
func checkFuzzResponse(resp *http.Response, data []byte) string {
	status := resp.StatusCode
	if status >= 500 && !isBackendFailure(status, data) {
		return "server error"
	}
	mediaType := mediaTypeOf(resp.Header.Get("Content-Type"))
	if status >= 400 {
		if mediaType != "application/json" {
			return "an error that is not JSON"
		}
		if _, err := parseErrorBody(data); err != nil {
			return "an error of the wrong shape: " + err.Error()
		}
		return ""
	}
	if status == http.StatusNoContent {
		if len(data) > 0 {
			return "204 with a body"
		}
		return ""
	}

	switch mediaType {
	case "application/json":
		if !json.Valid(data) {
			return "invalid JSON"
		}
	case "text/event-stream":
		return checkEventStream(data)
	case "application/x-ndjson":
		for line := range strings.Lines(string(data)) {
			if line = strings.TrimSpace(line); line != "" && !json.Valid([]byte(line)) {
				return fmt.Sprintf("NDJSON line %q is not JSON", line)
			}
		}
	case "text/markdown":
		// A thread exported as Markdown.
	default:
		return "a response of an unexpected Content-Type"
	}
	return ""
}

// checkEventStream returns what is wrong with a UI message stream, or "":
// every data line must be a JSON part, and the stream must end with
// [DONE].
func checkEventStream(data []byte) string {
	done := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		payload, ok := strings.CutPrefix(line, "data: ")
		switch {
		case !ok:
			return fmt.Sprintf("stream line %q does not start with \"data: \"", line)
		case done:
			return fmt.Sprintf("stream line %q after [DONE]", line)
		case payload == "[DONE]":
			done = true
		case !json.Valid([]byte(payload)):
			return fmt.Sprintf("stream part %q is not JSON", payload)
		}
	}
	if err := sc.Err(); err != nil {
		return "unreadable stream: " + err.Error()
	}
	if !done {
		return "stream without [DONE]"
	}
	return ""
}
