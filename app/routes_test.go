package app

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"hearth/memory"
)

// apiRoute is one route that App.routes registers, as read from its source.
type apiRoute struct {
	method string
	// pattern is the path pattern, such as /api/threads/{threadId}.
	pattern string
	// access is the adapter that checks the caller: "public", "signedIn"
	// or "unlocked".
	access string
	// handler is the name of the App method that serves the route.
	handler string
	// readsJSON is set when the handler reads a JSON body itself.
	readsJSON bool
	// position is the file and line of the mux.Handle call.
	position string
}

func (r apiRoute) key() string { return r.method + " " + r.pattern }

func (r apiRoute) needsSession() bool { return r.access != "public" }

// readsBody reports whether a call of the function name marks a handler
// that reads a JSON body: decodeJSON, decodeOptionalJSON, their variants
// with a limit, or checkContentType before a body read another way.
func readsBody(name string) bool {
	return strings.HasPrefix(name, "decodeJSON") || strings.HasPrefix(name, "decodeOptionalJSON") || name == "checkContentType"
}

// parseRoutes reads every "METHOD /path" route of App.routes from the
// package's source, so that a route added there is tested without being
// listed by hand. The catch-all patterns without a method ("/api/" and "/")
// are left out.
func parseRoutes(tb testing.TB) []apiRoute {
	tb.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		tb.Fatal(err)
	}
	methods := map[string]*ast.FuncDecl{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			tb.Fatalf("parse %s: %v", name, err)
		}
		for _, decl := range file.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && isAppMethod(fn) {
				methods[fn.Name.Name] = fn
			}
		}
	}
	routesFunc := methods["routes"]
	if routesFunc == nil {
		tb.Fatal("the package has no method App.routes")
	}

	var routes []apiRoute
	ast.Inspect(routesFunc.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
			return true
		}
		if recv, ok := sel.X.(*ast.Ident); !ok || recv.Name != "mux" || len(call.Args) != 2 {
			return true
		}
		position := fset.Position(call.Pos()).String()
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			tb.Fatalf("%s: the pattern of mux.%s is not a string literal, so the route tests cannot read it", position, sel.Sel.Name)
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err != nil {
			tb.Fatalf("%s: %v", position, err)
		}
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			if pattern != "/api/" && pattern != "/" {
				tb.Fatalf("%s: the pattern %q has no method; give it one, or teach parseRoutes about it", position, pattern)
			}
			return false
		}
		route := apiRoute{method: method, pattern: path, position: position}
		route.access, route.handler = routeAdapters(call.Args[1])
		if route.access == "" || route.handler == "" {
			tb.Fatalf("%s: %s is not wrapped in a.public, a.signedIn or a.unlocked around an a.handle… method", position, pattern)
		}
		fn := methods[route.handler]
		if fn == nil {
			tb.Fatalf("%s: the handler App.%s of %s is not in the package", position, route.handler, pattern)
		}
		route.readsJSON = callsAny(fn.Body, readsBody)
		routes = append(routes, route)
		return false
	})
	if len(routes) == 0 {
		tb.Fatal("found no routes in App.routes")
	}
	return routes
}

// isAppMethod reports whether fn is a method of *App.
func isAppMethod(fn *ast.FuncDecl) bool {
	if fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	ident, ok := star.X.(*ast.Ident)
	return ok && ident.Name == "App"
}

// routeAdapters returns the strictest adapter that the handler expression
// of a route uses and the name of the handler method inside it.
func routeAdapters(expr ast.Expr) (access, handler string) {
	used := map[string]bool{}
	ast.Inspect(expr, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if recv, ok := sel.X.(*ast.Ident); ok && recv.Name == "a" {
			used[sel.Sel.Name] = true
			if strings.HasPrefix(sel.Sel.Name, "handle") {
				handler = sel.Sel.Name
			}
		}
		return true
	})
	for _, adapter := range []string{"unlocked", "signedIn", "public"} {
		if used[adapter] {
			return adapter, handler
		}
	}
	return "", handler
}

// callsAny reports whether body calls a function whose name matches.
func callsAny(body *ast.BlockStmt, matches func(name string) bool) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if ident, ok := call.Fun.(*ast.Ident); ok && matches(ident.Name) {
				found = true
			}
		}
		return !found
	})
	return found
}

// routeCaller is who sends a route's requests in the body and query tests.
type routeCaller int

const (
	// callerUser is a user acting on their own thread.
	callerUser routeCaller = iota
	// callerAdmin is an admin acting on a spare profile named by
	// {profileId}.
	callerAdmin
	// callerSelf is a spare profile acting on itself, for routes that
	// could end its session or change its password.
	callerSelf
	// callerNone sends no session, and the body names a spare profile.
	callerNone
)

// badInput is a query string or body that a route must reject with 400
// invalid_request naming field.
type badInput struct {
	value string
	field string
}

// routeSample describes how to call one route. Query strings and bodies
// may hold placeholders that routeIDs.fill replaces: THREAD_ID,
// MESSAGE_ID, WM_VERSION, PROFILE_NAME, PASSWORD and RECOVERY_KEY.
type routeSample struct {
	// query is a valid query string, "" for none.
	query string
	// body is a valid JSON body, "" for a route that reads none.
	body string
	// optionalBody marks a route that also accepts no body at all.
	optionalBody bool
	// bodyLimit is the largest body the route reads, in bytes.
	bodyLimit int
	// textField is the dotted path of a string field of body, into which
	// the body tests put a NUL, invalid UTF-8 and a number. It is "" when
	// body has no string field.
	textField string
	// numberField is the dotted path of a number field, for the
	// wrong-type test of a body without a string field.
	numberField string
	// threadInBody marks a route that takes a thread id in its body or
	// query rather than in its path.
	threadInBody bool
	// caller sends the route's requests in the body and query tests.
	caller routeCaller
	// editsUserMessage makes {messageId} the thread's user message
	// rather than its last message.
	editsUserMessage bool
	// isFile marks POST /api/import, whose body is an export file. The
	// file format skips unknown members, so that a later version 1 can
	// add some, and a wrong type in the header rejects the whole file on
	// the field "file".
	isFile bool

	badQueries []badInput
	badBodies  []badInput
}

// Shared sample bodies.
const (
	sampleChatBody   = `{"message":"Hello there","threadId":"THREAD_ID"}`
	sampleImportBody = `{"format":"hearth-thread","version":1,"thread":{"title":"Imported notes"},` +
		`"messages":[{"role":"user","content":"Hello from the file"},{"role":"assistant","content":"Hello back"}]}`
	// notAnID is a thread or message id that is not a lowercase UUIDv7.
	notAnID = "not-an-id"
)

// routeSamples has an entry for every route of App.routes, keyed by
// "METHOD /path". TestRoutesAllHaveSamples fails for a route without one.
var routeSamples = map[string]routeSample{
	"GET /api/health":         {},
	"GET /api/auth/profiles":  {},
	"POST /api/auth/logout":   {},
	"GET /api/auth/me":        {},
	"GET /api/export":         {},
	"GET /api/settings":       {},
	"GET /api/models":         {},
	"GET /api/memory/reindex": {},
	"GET /api/memory/recall":  {},

	"POST /api/auth/profiles": {
		body: `{"name":"Dana","password":"password-Dana"}`, bodyLimit: maxAuthBodyBytes, textField: "name", caller: callerAdmin,
		badBodies: []badInput{{`{"name":"Dana","password":"short"}`, "password"}},
	},
	"PATCH /api/auth/profiles/{profileId}": {
		body: `{"role":"user"}`, bodyLimit: maxAuthBodyBytes, textField: "role", caller: callerAdmin,
		badBodies: []badInput{{`{"role":"emperor"}`, "role"}},
	},
	"DELETE /api/auth/profiles/{profileId}": {
		body: `{"password":"PASSWORD"}`, optionalBody: true, bodyLimit: maxAuthBodyBytes, textField: "password", caller: callerSelf,
	},
	"POST /api/auth/login": {
		body: `{"name":"PROFILE_NAME","password":"PASSWORD"}`, bodyLimit: maxAuthBodyBytes, textField: "name", caller: callerNone,
	},
	"PATCH /api/auth/me": {
		body: `{"idleLockMinutes":30}`, bodyLimit: maxAuthBodyBytes, numberField: "idleLockMinutes",
		badBodies: []badInput{{`{"idleLockMinutes":-1}`, "idleLockMinutes"}, {`{}`, "idleLockMinutes"}},
	},
	"POST /api/auth/password": {
		body: `{"current":"PASSWORD","new":"a-new-password"}`, bodyLimit: maxAuthBodyBytes, textField: "new", caller: callerSelf,
	},
	"POST /api/auth/recover": {
		body:      `{"name":"PROFILE_NAME","recoveryKey":"RECOVERY_KEY","newPassword":"a-new-password"}`,
		bodyLimit: maxAuthBodyBytes, textField: "newPassword", caller: callerNone,
	},
	"POST /api/auth/recovery-key": {
		body: `{"password":"PASSWORD"}`, bodyLimit: maxAuthBodyBytes, textField: "password", caller: callerSelf,
	},
	"POST /api/auth/login/mfa": {
		body: `{"challenge":"no-such-challenge","code":"123456"}`, bodyLimit: maxAuthBodyBytes, textField: "code", caller: callerNone,
	},
	"GET /api/auth/totp":        {},
	"POST /api/auth/totp/setup": {caller: callerSelf},
	"POST /api/auth/totp/enable": {
		body: `{"password":"PASSWORD","code":"123456"}`, bodyLimit: maxAuthBodyBytes, textField: "code", caller: callerSelf,
	},
	"POST /api/auth/totp/disable": {
		body: `{"password":"PASSWORD","code":"123456"}`, bodyLimit: maxAuthBodyBytes, textField: "code", caller: callerSelf,
	},
	"POST /api/auth/totp/backup-codes": {
		body: `{"password":"PASSWORD","code":"123456"}`, bodyLimit: maxAuthBodyBytes, textField: "code", caller: callerSelf,
	},

	"GET /api/threads": {
		query: "limit=20",
		badQueries: []badInput{
			{"limit=abc", "limit"}, {"limit=0", "limit"}, {"limit=-5", "limit"}, {"limit=1001", "limit"},
			{"cursor=garbage", "cursor"}, {"limit=10&cursor=garbage", "cursor"},
		},
	},
	"POST /api/threads": {
		body: `{"title":"Plans","metadata":{"color":"blue"}}`, optionalBody: true, bodyLimit: maxBodyBytes, textField: "title",
		badBodies: []badInput{{`{"metadata":[1,2]}`, "metadata"}},
	},
	"GET /api/threads/{threadId}": {},
	"PATCH /api/threads/{threadId}": {
		body: `{"title":"Renamed"}`, bodyLimit: maxBodyBytes, textField: "title",
		badBodies: []badInput{{`{"model":"has space"}`, "model"}, {`{"title":"` + strings.Repeat("t", memory.MaxTitleLength+1) + `"}`, "title"}},
	},
	"DELETE /api/threads/{threadId}": {},
	"POST /api/threads/{threadId}/fork": {
		body: `{"messageId":"MESSAGE_ID"}`, bodyLimit: maxBodyBytes, textField: "messageId",
		badBodies: []badInput{{`{"messageId":"not-an-id"}`, "messageId"}},
	},
	"GET /api/threads/{threadId}/messages": {
		query:      "limit=10",
		badQueries: []badInput{{"limit=abc", "limit"}, {"limit=0", "limit"}, {"limit=1000", "limit"}, {"before=not-an-id", "before"}},
	},
	"GET /api/threads/{threadId}/export": {
		query:      "format=json",
		badQueries: []badInput{{"format=pdf", "format"}},
	},
	"POST /api/import": {
		body: sampleImportBody, bodyLimit: memory.MaxImportBytes, textField: "messages.0.content", numberField: "version", isFile: true,
	},

	"PUT /api/settings": {
		body: `{"systemPrompt":"Answer briefly.","lastMessages":10,"workingMemory":{"scope":"thread"},"recall":{"topK":2,"messageRange":0,"scope":"thread","enabled":true},"theme":"dark"}`, bodyLimit: maxBodyBytes, textField: "systemPrompt",
		badBodies: []badInput{
			{`{"temperature":3}`, "temperature"}, {`{"workingMemory":{"scope":"galaxy"}}`, "workingMemory.scope"},
			{`{"recall":{"topK":0}}`, "recall.topK"}, {`{"theme":"sepia"}`, "theme"},
		},
	},
	"POST /api/models/pull": {
		body: `{"name":"llama3.2"}`, bodyLimit: maxBodyBytes, textField: "name",
		badBodies: []badInput{{`{"name":"bad name!"}`, "name"}, {`{"name":""}`, "name"}},
	},

	"GET /api/memory/working": {
		query: "threadId=THREAD_ID", threadInBody: true,
		badQueries: []badInput{{"threadId=not-an-id", "threadId"}, {"", "threadId"}},
	},
	"PUT /api/memory/working": {
		body: `{"content":"# Notes\n- likes tea","version":WM_VERSION,"threadId":"THREAD_ID"}`, bodyLimit: maxBodyBytes, textField: "content", threadInBody: true,
		badBodies: []badInput{
			{`{"content":"x","version":0,"threadId":"not-an-id"}`, "threadId"},
			{`{"version":0,"threadId":"THREAD_ID"}`, "content"},
			{`{"content":"x","threadId":"THREAD_ID"}`, "version"},
		},
	},
	"GET /api/memory/working/history": {
		query: "threadId=THREAD_ID", threadInBody: true,
		badQueries: []badInput{{"threadId=not-an-id", "threadId"}},
	},
	"POST /api/memory/working/revert": {
		body: `{"version":1,"current":WM_VERSION,"threadId":"THREAD_ID"}`, bodyLimit: maxBodyBytes, textField: "threadId", threadInBody: true,
		badBodies: []badInput{
			{`{"version":1,"current":1,"threadId":"not-an-id"}`, "threadId"},
			{`{"version":0,"current":1,"threadId":"THREAD_ID"}`, "version"},
			{`{"version":1,"threadId":"THREAD_ID"}`, "current"},
		},
	},
	"GET /api/memory/search": {
		query: "q=hello&scope=thread&threadId=THREAD_ID", threadInBody: true,
		badQueries: []badInput{
			{"q=hello&topK=-1", "topK"}, {"q=hello&topK=abc", "topK"}, {"q=hello&topK=51", "topK"},
			{"q=hello&messageRange=-1", "messageRange"}, {"q=hello&messageRange=x", "messageRange"},
			{"q=hello&scope=thread&threadId=not-an-id", "threadId"}, {"q=hello&scope=galaxy", "scope"},
		},
	},
	"PUT /api/memory/recall/embedder": {
		body: `{"kind":"ollama","model":"nomic-embed-text"}`, bodyLimit: maxBodyBytes, textField: "model",
		badBodies: []badInput{{`{"kind":"quantum"}`, "kind"}},
	},
	"POST /api/memory/recall/search": {
		body: `{"query":"hello","threadId":"THREAD_ID","scope":"thread"}`, bodyLimit: maxBodyBytes, textField: "query", threadInBody: true,
		badBodies: []badInput{
			{`{"query":"hello","scope":"thread","threadId":"not-an-id"}`, "threadId"},
			{`{"query":"hello","topK":-1}`, "topK"},
			{`{"query":"hello","messageRange":-1}`, "messageRange"},
		},
	},

	"POST /api/chat": {
		body: sampleChatBody, bodyLimit: maxBodyBytes, textField: "message", threadInBody: true,
		badBodies: []badInput{
			{`{"message":"hi","threadId":"not-an-id"}`, "threadId"},
			{`{"id":"` + strings.Repeat("i", memory.MaxChatIDBytes+1) + `","trigger":"submit-message","messages":[{"id":"m1","role":"user","parts":[{"type":"text","text":"hi"}]}]}`, "id"},
			{`{"message":"   "}`, "message"},
			{`{"message":"hi","clientRequestId":"` + strings.Repeat("c", maxClientRequestIDBytes+1) + `"}`, "clientRequestId"},
		},
	},
	"POST /api/chat/{threadId}/stop":                               {},
	"POST /api/threads/{threadId}/messages/{messageId}/regenerate": {},
	"POST /api/threads/{threadId}/messages/{messageId}/continue":   {},
	"PUT /api/threads/{threadId}/messages/{messageId}": {
		body: `{"content":"Edited question"}`, bodyLimit: maxBodyBytes, textField: "content", editsUserMessage: true,
		badBodies: []badInput{{`{"content":"   "}`, "content"}},
	},
}

// routeIDs are the values that fill a route's path, query and body.
type routeIDs struct {
	threadID      string
	messageID     string // the thread's last message
	userMessageID string // the thread's user message
	// workingVersion is the current version of the thread's working
	// memory; "" means 0.
	workingVersion string
	profileID      string
	profileName    string
	password       string
	recoveryKey    string
}

// path returns the route's path with its wildcards filled.
func (ids routeIDs) path(r apiRoute) string {
	messageID := ids.messageID
	if routeSamples[r.key()].editsUserMessage {
		messageID = ids.userMessageID
	}
	return strings.NewReplacer("{threadId}", ids.threadID, "{messageId}", messageID, "{profileId}", ids.profileID).Replace(r.pattern)
}

// fill replaces the placeholders of a sample query or body.
func (ids routeIDs) fill(text string) string {
	return strings.NewReplacer(
		"THREAD_ID", ids.threadID, "MESSAGE_ID", ids.messageID, "WM_VERSION", cmp.Or(ids.workingVersion, "0"), "PROFILE_NAME", ids.profileName,
		"PASSWORD", ids.password, "RECOVERY_KEY", ids.recoveryKey,
	).Replace(text)
}

// withQuery returns path with query appended, when there is one.
func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

// sendRaw sends body unchanged with contentType ("" for no Content-Type)
// and token ("" for no Authorization), and returns the response with its
// body read.
func sendRaw(tb testing.TB, baseURL, method, path, token, contentType string, body []byte) (*http.Response, []byte) {
	tb.Helper()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, baseURL+path, reader)
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, data
}

// parseErrorBody decodes an error response, which must be exactly
// {"error": {...}} with a code and a message and no other member.
func parseErrorBody(body []byte) (apiError, error) {
	var out errorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return apiError{}, fmt.Errorf("not an error object: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apiError{}, errors.New("more data after the error object")
	}
	if out.Error == nil || out.Error.Code == "" || out.Error.Message == "" {
		return apiError{}, errors.New(`the error has no "error" member with a code and a message`)
	}
	return *out.Error, nil
}

// wantAPIError checks that a response is a JSON error with status and code,
// and with field unless field is "-".
func wantAPIError(t testing.TB, resp *http.Response, body []byte, status int, code, field string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d; body %.300s", resp.StatusCode, status, body)
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q, want application/json; charset=utf-8", ct)
	}
	got, err := parseErrorBody(body)
	if err != nil {
		t.Errorf("body %.300s: %v", body, err)
		return
	}
	if got.Code != code {
		t.Errorf("error code %q, want %q; body %.300s", got.Code, code, body)
	}
	if field != "-" && got.Field != field {
		t.Errorf("error field %q, want %q; body %.300s", got.Field, field, body)
	}
}

// routeWorld is the setup of the route tests: Ada, an admin with a thread
// of one exchange, and Bob, a user with a thread of his own. Both keep one
// working memory document per thread.
type routeWorld struct {
	env      *testEnv
	ada, bob string
	adaIDs   routeIDs
	bobIDs   routeIDs
}

func newRouteWorld(t *testing.T) *routeWorld {
	t.Helper()
	env := newTestEnv(t)
	w := &routeWorld{env: env}
	w.ada = env.signUp("", "Ada")
	w.bob = env.signUp(w.ada, "Bob")
	w.adaIDs = w.startThread(w.ada, "Hello, I am Ada")
	w.adaIDs.profileName, w.adaIDs.password = "Ada", "password-Ada"
	w.adaIDs.workingVersion = "2"
	w.bobIDs = w.startThread(w.bob, "Hello, I am Bob")
	w.bobIDs.profileName, w.bobIDs.password = "Bob", "password-Bob"

	for _, token := range []string{w.ada, w.bob} {
		env.mustJSON("PUT", "/api/settings", token, map[string]any{"workingMemory": map[string]string{"scope": ScopeThread}}, http.StatusOK, nil)
	}
	// Two versions, so that a revert would have something to restore.
	for version, content := range []string{"# Ada\n- likes tea", "# Ada\n- likes tea\n- lives in Lisbon"} {
		env.mustJSON("PUT", "/api/memory/working", w.ada, map[string]any{"content": content, "version": version, "threadId": w.adaIDs.threadID}, http.StatusOK, nil)
	}
	return w
}

// startThread chats once as token and returns the ids of the new thread,
// its user message and its reply, and of the profile.
func (w *routeWorld) startThread(token, message string) routeIDs {
	env := w.env
	env.t.Helper()
	_, parts := env.chat(token, map[string]string{"message": message})
	threadID := startMetadata(env.t, parts)["threadId"]
	got := env.getThread(token, threadID)
	if len(got.Messages) != 2 || got.Messages[0].Role != "user" || got.Messages[1].Role != "assistant" {
		env.t.Fatalf("thread after one chat has messages %+v, want a user message and a reply", got.Messages)
	}
	var me profileView
	env.mustJSON("GET", "/api/auth/me", token, nil, http.StatusOK, &me)
	return routeIDs{threadID: threadID, userMessageID: got.Messages[0].ID, messageID: got.Messages[1].ID, profileID: me.ID}
}

// spareProfile is a profile made for one route's tests, which may end its
// sessions, change its password or delete it.
type spareProfile struct {
	token string
	ids   routeIDs
}

// newSpareProfile creates the profile name with Ada's session and signs in.
func (w *routeWorld) newSpareProfile(t *testing.T, name string) spareProfile {
	t.Helper()
	password := "password-" + name
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	resp, data := sendRaw(t, w.env.server.URL, "POST", "/api/auth/profiles", w.ada, "application/json", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create profile %s: status %d, body %s", name, resp.StatusCode, data)
	}
	var created struct {
		Profile     profileView `json:"profile"`
		RecoveryKey string      `json:"recoveryKey"`
	}
	if err := json.Unmarshal(data, &created); err != nil {
		t.Fatal(err)
	}
	resp, data = sendRaw(t, w.env.server.URL, "POST", "/api/auth/login", "", "application/json", body)
	var session sessionView
	if err := json.Unmarshal(data, &session); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("sign in as %s: status %d, body %s", name, resp.StatusCode, data)
	}
	return spareProfile{token: session.Token, ids: routeIDs{
		threadID: w.bobIDs.threadID, messageID: w.bobIDs.messageID, userMessageID: w.bobIDs.userMessageID,
		profileID: created.Profile.ID, profileName: name, password: password, recoveryKey: created.RecoveryKey,
	}}
}

// callerFor returns the token and ids that send route's requests in the
// body and query tests, making a spare profile when the route needs one.
func (w *routeWorld) callerFor(t *testing.T, r apiRoute, spareName string) (string, routeIDs) {
	t.Helper()
	switch routeSamples[r.key()].caller {
	case callerAdmin:
		spare := w.newSpareProfile(t, spareName)
		ids := w.bobIDs
		ids.profileID = spare.ids.profileID
		return w.ada, ids
	case callerSelf:
		spare := w.newSpareProfile(t, spareName)
		return spare.token, spare.ids
	case callerNone:
		spare := w.newSpareProfile(t, spareName)
		return "", spare.ids
	}
	return w.bob, w.bobIDs
}

// ownerState reads everything of Ada's that a request of Bob must not
// change: her thread list, her thread with its messages, and its working
// memory with the kept versions.
func (w *routeWorld) ownerState(t *testing.T) map[string]string {
	t.Helper()
	thread := w.adaIDs.threadID
	state := map[string]string{}
	for _, path := range []string{
		"/api/threads",
		"/api/threads/" + thread,
		"/api/threads/" + thread + "/messages?limit=999",
		"/api/memory/working?threadId=" + thread,
		"/api/memory/working/history?threadId=" + thread,
	} {
		resp, body := sendRaw(t, w.env.server.URL, "GET", path, w.ada, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s as Ada: status %d, body %s", path, resp.StatusCode, body)
		}
		state[path] = string(body)
	}
	return state
}

// threadList returns the raw thread list of token's profile.
func (w *routeWorld) threadList(t *testing.T, token string) string {
	t.Helper()
	resp, body := sendRaw(t, w.env.server.URL, "GET", "/api/threads", token, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/threads: status %d, body %s", resp.StatusCode, body)
	}
	return string(body)
}

func TestRoutesAllHaveSamples(t *testing.T) {
	routes := parseRoutes(t)
	registered := map[string]bool{}
	for _, r := range routes {
		registered[r.key()] = true
		sample, ok := routeSamples[r.key()]
		if !ok {
			t.Errorf("%s: route %s has no entry in routeSamples; add one so that the route tests cover it", r.position, r.key())
			continue
		}
		if r.readsJSON != (sample.body != "") {
			t.Errorf("%s: App.%s reads a JSON body: %v, but the sample body is %q", r.position, r.handler, r.readsJSON, sample.body)
		}
		if sample.body != "" && sample.bodyLimit == 0 {
			t.Errorf("%s: the sample of %s has a body but no bodyLimit", r.position, r.key())
		}
		if sample.body != "" && sample.textField == "" && sample.numberField == "" {
			t.Errorf("%s: the sample of %s names no field for the wrong-type test", r.position, r.key())
		}
	}
	for key := range routeSamples {
		if !registered[key] {
			t.Errorf("routeSamples has %s, which App.routes does not register", key)
		}
	}
	// A sanity check of the parser: these routes exist, with these
	// adapters, as http.go registers them.
	want := map[string]string{"GET /api/health": "public", "POST /api/auth/logout": "signedIn", "POST /api/chat": "unlocked"}
	for _, r := range routes {
		if access, ok := want[r.key()]; ok {
			if r.access != access {
				t.Errorf("%s: access %q, want %q", r.key(), r.access, access)
			}
			delete(want, r.key())
		}
	}
	if len(want) > 0 {
		t.Errorf("routes %v were not found in App.routes", want)
	}
}

func TestRoutesRequireSession(t *testing.T) {
	w := newRouteWorld(t)
	before := w.ownerState(t)
	chatsBefore := len(w.env.fake.ChatRequests())

	for _, r := range parseRoutes(t) {
		if !r.needsSession() {
			continue
		}
		sample := routeSamples[r.key()]
		path := withQuery(w.adaIDs.path(r), w.adaIDs.fill(sample.query))
		var body []byte
		contentType := ""
		if sample.body != "" {
			body, contentType = []byte(w.adaIDs.fill(sample.body)), "application/json"
		}
		t.Run(r.key(), func(t *testing.T) {
			resp, data := sendRaw(t, w.env.server.URL, r.method, path, "", contentType, body)
			wantAPIError(t, resp, data, http.StatusUnauthorized, CodeUnauthorized, "")

			resp, data = sendRaw(t, w.env.server.URL, r.method, path, "not-a-token", contentType, body)
			wantAPIError(t, resp, data, http.StatusUnauthorized, CodeInvalidToken, "")
		})
	}

	after := w.ownerState(t)
	for path, state := range before {
		if after[path] != state {
			t.Errorf("GET %s changed after requests without a session:\nbefore %s\nafter  %s", path, state, after[path])
		}
	}
	if got := len(w.env.fake.ChatRequests()); got != chatsBefore {
		t.Errorf("the model received %d chat requests without a session, want 0", got-chatsBefore)
	}
}

// notFoundThreadBody is the exact response body for a thread that does not
// exist or belongs to another profile.
const notFoundThreadBody = `{"error":{"code":"not_found","message":"Thread not found or access denied"}}`

func TestRoutesHideOtherProfilesThreads(t *testing.T) {
	w := newRouteWorld(t)
	bobsThreads := w.threadList(t, w.bob)

	type attempt struct {
		name, method, path, body string
	}
	var attempts []attempt
	for _, r := range parseRoutes(t) {
		sample := routeSamples[r.key()]
		if !strings.Contains(r.pattern, "{threadId}") && !sample.threadInBody {
			continue
		}
		attempts = append(attempts, attempt{r.key(), r.method, withQuery(w.adaIDs.path(r), w.adaIDs.fill(sample.query)), w.adaIDs.fill(sample.body)})
	}
	// The AI SDK's forms of a chat request name the thread as "id".
	attempts = append(attempts,
		attempt{"POST /api/chat submit-message", "POST", "/api/chat", w.adaIDs.fill(
			`{"id":"THREAD_ID","trigger":"submit-message","messages":[{"id":"m-bob","role":"user","parts":[{"type":"text","text":"let me in"}]}]}`)},
		attempt{"POST /api/chat regenerate-message", "POST", "/api/chat", w.adaIDs.fill(`{"id":"THREAD_ID","trigger":"regenerate-message"}`)},
		attempt{"POST /api/chat regenerate-message with messageId", "POST", "/api/chat", w.adaIDs.fill(
			`{"id":"THREAD_ID","trigger":"regenerate-message","messageId":"MESSAGE_ID"}`)},
	)

	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			before := w.ownerState(t)
			chatsBefore := len(w.env.fake.ChatRequests())
			var body []byte
			contentType := ""
			if a.body != "" {
				body, contentType = []byte(a.body), "application/json"
			}

			resp, data := sendRaw(t, w.env.server.URL, a.method, a.path, w.bob, contentType, body)
			if resp.StatusCode != http.StatusNotFound || string(bytes.TrimSpace(data)) != notFoundThreadBody {
				t.Errorf("Bob's request for Ada's thread: status %d, body %.300s; want 404 %s", resp.StatusCode, data, notFoundThreadBody)
			}

			after := w.ownerState(t)
			for path, state := range before {
				if after[path] != state {
					t.Errorf("GET %s changed:\nbefore %s\nafter  %s", path, state, after[path])
				}
			}
			if got := w.threadList(t, w.bob); got != bobsThreads {
				t.Errorf("Bob's thread list changed:\nbefore %s\nafter  %s", bobsThreads, got)
			}
			if got := len(w.env.fake.ChatRequests()); got != chatsBefore {
				t.Errorf("the model received %d chat requests, want 0", got-chatsBefore)
			}
		})
	}
}

func TestRoutesRejectMalformedPathIDs(t *testing.T) {
	w := newRouteWorld(t)
	bobsThreads := w.threadList(t, w.bob)
	chatsBefore := len(w.env.fake.ChatRequests())
	notFoundMessageBody := `{"error":{"code":"not_found","message":"` + msgMessageNotFound + `"}}`

	malformedThreads := []string{notAnID, strings.ToUpper(w.bobIDs.threadID), w.bobIDs.threadID + "0", "00000000-0000-0000-0000-000000000000"}
	for _, r := range parseRoutes(t) {
		if !strings.Contains(r.pattern, "{threadId}") {
			continue
		}
		sample := routeSamples[r.key()]
		contentType := ""
		if sample.body != "" {
			contentType = "application/json"
		}
		t.Run(r.key(), func(t *testing.T) {
			// The body is not JSON, so a 404 rather than a 400 shows that
			// the id was rejected before the handler read anything.
			for _, id := range malformedThreads {
				ids := w.bobIDs
				ids.threadID = id
				resp, data := sendRaw(t, w.env.server.URL, r.method, ids.path(r), w.bob, contentType, []byte("{"))
				if resp.StatusCode != http.StatusNotFound || string(bytes.TrimSpace(data)) != notFoundThreadBody {
					t.Errorf("thread id %q: status %d, body %.300s; want 404 %s", id, resp.StatusCode, data, notFoundThreadBody)
				}
			}
			if !strings.Contains(r.pattern, "{messageId}") {
				return
			}
			for _, id := range []string{notAnID, strings.ToUpper(w.bobIDs.messageID)} {
				ids := w.bobIDs
				ids.messageID, ids.userMessageID = id, id
				resp, data := sendRaw(t, w.env.server.URL, r.method, ids.path(r), w.bob, contentType, []byte("{"))
				if resp.StatusCode != http.StatusNotFound || string(bytes.TrimSpace(data)) != notFoundMessageBody {
					t.Errorf("message id %q: status %d, body %.300s; want 404 %s", id, resp.StatusCode, data, notFoundMessageBody)
				}
			}
		})
	}

	if got := w.threadList(t, w.bob); got != bobsThreads {
		t.Errorf("Bob's thread list changed:\nbefore %s\nafter  %s", bobsThreads, got)
	}
	if got := len(w.env.fake.ChatRequests()); got != chatsBefore {
		t.Errorf("the model received %d chat requests, want 0", got-chatsBefore)
	}
}

func TestRoutesRejectBadQueries(t *testing.T) {
	w := newRouteWorld(t)
	for _, r := range parseRoutes(t) {
		sample := routeSamples[r.key()]
		if len(sample.badQueries) == 0 {
			continue
		}
		t.Run(r.key(), func(t *testing.T) {
			resp, data := sendRaw(t, w.env.server.URL, r.method, withQuery(w.bobIDs.path(r), w.bobIDs.fill(sample.query)), w.bob, "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("sample query %q: status %d, want 200; body %.300s", sample.query, resp.StatusCode, data)
			}
			for _, bad := range sample.badQueries {
				t.Run(bad.value, func(t *testing.T) {
					resp, data := sendRaw(t, w.env.server.URL, r.method, withQuery(w.bobIDs.path(r), w.bobIDs.fill(bad.value)), w.bob, "", nil)
					wantAPIError(t, resp, data, http.StatusBadRequest, CodeInvalidRequest, bad.field)
				})
			}
		})
	}
}

// bodyCase is one malformed body of TestRoutesRejectBadBodies.
type bodyCase struct {
	name        string
	contentType string
	body        []byte
	// check fails the test when the response is not the expected one.
	check func(t *testing.T, resp *http.Response, data []byte)
}

// wantError returns a check for a JSON error with status and code, and with
// field unless field is "-".
func wantError(status int, code, field string) func(*testing.T, *http.Response, []byte) {
	return func(t *testing.T, resp *http.Response, data []byte) {
		t.Helper()
		wantAPIError(t, resp, data, status, code, field)
	}
}

// wantStatusOK is the check for a body that the route must accept.
func wantStatusOK(t *testing.T, resp *http.Response, data []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200; body %.300s", resp.StatusCode, data)
	}
}

// bodyCases returns the malformed bodies that a route must reject. Its
// valid sample body, with ids filled, is the base of most of them.
func bodyCases(t *testing.T, sample routeSample, ids routeIDs) []bodyCase {
	t.Helper()
	valid := ids.fill(sample.body)
	limit := sample.bodyLimit
	const jsonType = "application/json"
	invalid := wantError(http.StatusBadRequest, CodeInvalidRequest, "-")
	cases := []bodyCase{
		{"malformed JSON", jsonType, []byte(strings.TrimSuffix(valid, "}")), invalid},
		{"over the size limit", jsonType, paddedBody(`{"padding":"`, `"}`, 'a', limit+1), wantError(http.StatusRequestEntityTooLarge, CodeTooLarge, "")},
		{"wrong Content-Type", "text/plain", []byte(valid), wantError(http.StatusUnsupportedMediaType, CodeUnsupportedType, "")},
		{"charset other than UTF-8", "application/json; charset=latin1", []byte(valid), wantError(http.StatusUnsupportedMediaType, CodeUnsupportedType, "")},
		{"no Content-Type", "", []byte(valid), wantError(http.StatusUnsupportedMediaType, CodeUnsupportedType, "")},
		{"raw NUL byte in a string", jsonType, []byte(`{"x":"a` + "\x00" + `b"}`), invalid},
	}
	if limit < maxBodyBytes {
		cases = append(cases, bodyCase{"over 2 MiB", jsonType, paddedBody(`{"padding":"`, `"}`, 'a', maxBodyBytes+1), wantError(http.StatusRequestEntityTooLarge, CodeTooLarge, "")})
	}

	if sample.isFile {
		// A file at the limit: a valid document followed by white space.
		// Unknown members are skipped by the file format's design.
		cases = append(cases,
			bodyCase{"at the size limit", jsonType, paddedBody(valid, "", ' ', limit), wantStatusOK},
			bodyCase{"unknown member", jsonType, withJSONField(t, valid, "unexpectedField", true), wantStatusOK},
			bodyCase{"wrong type of " + sample.numberField, jsonType, withJSONField(t, valid, sample.numberField, "ten"), wantError(http.StatusBadRequest, CodeInvalidRequest, "file")},
		)
	} else {
		cases = append(cases,
			bodyCase{"at the size limit", jsonType, paddedBody(`{"unexpectedField":1}`, "", ' ', limit), wantError(http.StatusBadRequest, CodeInvalidRequest, "unexpectedField")},
			bodyCase{"unknown field", jsonType, withJSONField(t, valid, "unexpectedField", true), wantError(http.StatusBadRequest, CodeInvalidRequest, "unexpectedField")},
		)
		if sample.numberField != "" {
			cases = append(cases, bodyCase{"wrong type of " + sample.numberField, jsonType,
				withJSONField(t, valid, sample.numberField, "ten"), wantError(http.StatusBadRequest, CodeInvalidRequest, sample.numberField)})
		} else {
			cases = append(cases, bodyCase{"wrong type of " + sample.textField, jsonType,
				withJSONField(t, valid, sample.textField, 12345), wantError(http.StatusBadRequest, CodeInvalidRequest, sample.textField)})
		}
	}

	if field := sample.textField; field != "" {
		cases = append(cases,
			bodyCase{"invalid UTF-8 in " + field, jsonType, withRawString(t, valid, field, "caf\xe9"), invalid},
			bodyCase{"lone surrogate in " + field, jsonType, withRawString(t, valid, field, `half \ud800 pair`), invalid},
		)
	}
	for _, bad := range sample.badBodies {
		cases = append(cases, bodyCase{"invalid " + bad.field + " " + shorten(bad.value, 60), jsonType, []byte(ids.fill(bad.value)),
			wantError(http.StatusBadRequest, CodeInvalidRequest, bad.field)})
	}
	// Last, because a route that wrongly accepts it may change the
	// caller's password or end its session.
	if field := sample.textField; field != "" {
		cases = append(cases, bodyCase{"escaped NUL in " + field, jsonType, withJSONField(t, valid, field, "before\x00after"), invalid})
	}
	return cases
}

// paddedBody returns prefix, then pad repeated, then suffix, size bytes in
// all.
func paddedBody(prefix, suffix string, pad byte, size int) []byte {
	body := make([]byte, 0, size)
	body = append(body, prefix...)
	body = append(body, bytes.Repeat([]byte{pad}, size-len(prefix)-len(suffix))...)
	return append(body, suffix...)
}

// withJSONField returns the JSON object text with the field at the dotted
// path set to value. Numbers in a path index arrays.
func withJSONField(t testing.TB, text, path string, value any) []byte {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("sample body %s: %v", text, err)
	}
	steps := strings.Split(path, ".")
	node := root
	for i, step := range steps {
		last := i == len(steps)-1
		switch n := node.(type) {
		case map[string]any:
			if last {
				n[step] = value
			} else {
				node = n[step]
			}
		case []any:
			index, err := strconv.Atoi(step)
			if err != nil || index >= len(n) {
				t.Fatalf("sample body %s has no %s", text, path)
			}
			if last {
				n[index] = value
			} else {
				node = n[index]
			}
		default:
			t.Fatalf("sample body %s has no %s", text, path)
		}
	}
	out, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withRawString returns the JSON object text with the field at path set to
// a string whose JSON text is raw, unescaped, which json.Marshal could not
// write: invalid UTF-8 or a lone surrogate escape.
func withRawString(t testing.TB, text, path, raw string) []byte {
	t.Helper()
	const marker = "RAW-STRING-MARKER"
	return bytes.Replace(withJSONField(t, text, path, marker), []byte(marker), []byte(raw), 1)
}

func TestRoutesRejectBadBodies(t *testing.T) {
	w := newRouteWorld(t)
	for i, r := range parseRoutes(t) {
		sample := routeSamples[r.key()]
		if sample.body == "" {
			continue
		}
		t.Run(r.key(), func(t *testing.T) {
			token, ids := w.callerFor(t, r, fmt.Sprintf("Spare%d", i))
			path := withQuery(ids.path(r), ids.fill(sample.query))
			for _, c := range bodyCases(t, sample, ids) {
				t.Run(c.name, func(t *testing.T) {
					resp, data := sendRaw(t, w.env.server.URL, r.method, path, token, c.contentType, c.body)
					c.check(t, resp, data)
				})
			}
		})
	}
}

// mediaTypeOf returns the media type of a Content-Type header, "" when
// there is none or it does not parse.
func mediaTypeOf(header string) string {
	mediaType, _, err := mime.ParseMediaType(header)
	if err != nil {
		return ""
	}
	return mediaType
}
