package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"hearth/auth"
	"hearth/memory"
	"hearth/seal"
)

// Limits on request bodies.
const (
	// maxBodyBytes is the largest request body the API reads.
	maxBodyBytes = 2 << 20
	// maxAuthBodyBytes is the largest body of the sign-in and profile
	// routes, whose fields are a name, a password and a recovery key. Many
	// sign-ins can wait at once, so their bodies must stay small.
	maxAuthBodyBytes = 16 << 10
)

// handlerFunc is an API handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// sessionHandlerFunc is an API handler for a signed-in profile, locked or
// not.
type sessionHandlerFunc func(w http.ResponseWriter, r *http.Request, sess auth.Session) error

// userHandlerFunc is an API handler for a signed-in profile whose data key is
// unlocked.
type userHandlerFunc func(w http.ResponseWriter, r *http.Request, u user) error

// user is the signed-in, unlocked profile making a request.
type user struct {
	auth.Profile
	// key is a copy of the profile's data key, wiped when the request ends.
	key *seal.Key
}

// owner returns the memory owner the user acts as.
func (u user) owner() memory.Owner {
	return memory.Owner{ResourceID: u.ResourceID(), Key: u.key}
}

// The session cookie a browser on hearth serve gets at sign-in, and the
// header that must carry the session's channel secret with it. The
// frontend's copy is in frontend/src/api.ts.
const (
	sessionCookie = "hearth_session"
	csrfHeader    = "X-CSRF-Token"

	// maxSessionCookies bounds how many session cookies of one request are
	// checked.
	maxSessionCookies = 4
)

// routes builds the router: the API under /api/ and the user interface in ui
// everywhere else.
func (a *App) routes(ui fs.FS) http.Handler {
	mux := http.NewServeMux()

	mux.Handle("GET /api/health", a.public(a.handleHealth))
	mux.Handle("GET /api/auth/profiles", a.public(a.handleListProfiles))
	mux.Handle("POST /api/auth/profiles", a.public(a.handleCreateProfile))
	mux.Handle("PATCH /api/auth/profiles/{profileId}", a.signedIn(a.handleSetRole))
	mux.Handle("DELETE /api/auth/profiles/{profileId}", a.limitAttempts(a.signedIn(a.handleDeleteProfile)))
	mux.Handle("POST /api/auth/login", a.limitAttempts(a.public(a.handleLogin)))
	mux.Handle("POST /api/auth/login/mfa", a.limitAttempts(a.public(a.handleCompleteLogin)))
	mux.Handle("POST /api/auth/logout", a.signedIn(a.handleLogout))
	mux.Handle("GET /api/auth/me", a.signedIn(a.handleMe))
	mux.Handle("PATCH /api/auth/me", a.unlocked(a.handleUpdateMe))
	mux.Handle("POST /api/auth/password", a.limitAttempts(a.signedIn(a.handleChangePassword)))
	mux.Handle("POST /api/auth/recover", a.limitAttempts(a.public(a.handleRecover)))
	mux.Handle("POST /api/auth/recovery-key", a.limitAttempts(a.signedIn(a.handleNewRecoveryKey)))
	mux.Handle("GET /api/auth/totp", a.unlocked(a.handleTOTPStatus))
	mux.Handle("POST /api/auth/totp/setup", a.unlocked(a.handleSetUpTOTP))
	mux.Handle("POST /api/auth/totp/enable", a.limitAttempts(a.unlocked(a.handleEnableTOTP)))
	mux.Handle("POST /api/auth/totp/disable", a.limitAttempts(a.unlocked(a.handleDisableTOTP)))
	mux.Handle("POST /api/auth/totp/backup-codes", a.limitAttempts(a.unlocked(a.handleNewBackupCodes)))

	mux.Handle("GET /api/threads", a.unlocked(a.handleListThreads))
	mux.Handle("POST /api/threads", a.unlocked(a.limited(rateThreads, a.handleCreateThread)))
	mux.Handle("GET /api/threads/{threadId}", a.unlocked(a.handleGetThread))
	mux.Handle("PATCH /api/threads/{threadId}", a.unlocked(a.handleUpdateThread))
	mux.Handle("DELETE /api/threads/{threadId}", a.unlocked(a.handleDeleteThread))
	mux.Handle("POST /api/threads/{threadId}/fork", a.unlocked(a.limited(rateThreads, a.handleForkThread)))
	mux.Handle("GET /api/threads/{threadId}/messages", a.unlocked(a.handleListMessages))
	mux.Handle("GET /api/threads/{threadId}/export", a.unlocked(a.handleExportThread))
	mux.Handle("GET /api/export", a.unlocked(a.handleExportProfile))
	mux.Handle("POST /api/import", a.unlocked(a.limited(rateThreads, a.handleImport)))

	mux.Handle("GET /api/settings", a.unlocked(a.handleGetSettings))
	mux.Handle("PUT /api/settings", a.unlocked(a.handlePutSettings))
	mux.Handle("GET /api/models", a.unlocked(a.handleListModels))
	mux.Handle("POST /api/models/pull", a.unlocked(a.handlePullModel))

	mux.Handle("GET /api/memory/working", a.unlocked(a.handleGetWorkingMemory))
	mux.Handle("PUT /api/memory/working", a.unlocked(a.limited(rateMemoryWrites, a.handlePutWorkingMemory)))
	mux.Handle("GET /api/memory/working/history", a.unlocked(a.handleWorkingMemoryHistory))
	mux.Handle("POST /api/memory/working/revert", a.unlocked(a.limited(rateMemoryWrites, a.handleRevertWorkingMemory)))
	mux.Handle("GET /api/memory/search", a.unlocked(a.handleMemorySearch))
	mux.Handle("GET /api/memory/reindex", a.unlocked(a.handleReindexStatus))

	mux.Handle("GET /api/memory/recall", a.unlocked(a.handleRecallSettings))
	mux.Handle("PUT /api/memory/recall/embedder", a.unlocked(a.limited(rateMemoryWrites, a.handleChooseEmbedder)))
	mux.Handle("POST /api/memory/recall/search", a.unlocked(a.handleRecallSearch))

	mux.Handle("POST /api/chat", a.unlocked(a.limited(rateChat, a.handleChat)))
	mux.Handle("POST /api/chat/{threadId}/stop", a.unlocked(a.handleStopChat))
	mux.Handle("POST /api/threads/{threadId}/messages/{messageId}/regenerate", a.unlocked(a.limited(rateChat, a.handleRegenerate)))
	mux.Handle("POST /api/threads/{threadId}/messages/{messageId}/continue", a.unlocked(a.limited(rateChat, a.handleContinue)))
	mux.Handle("PUT /api/threads/{threadId}/messages/{messageId}", a.unlocked(a.limited(rateChat, a.handleEditMessage)))

	mux.Handle("/api/", a.public(func(w http.ResponseWriter, r *http.Request) error {
		return routeNotFound(mux, w, r)
	}))
	mux.Handle("/", uiHandler(ui))

	return a.logRequests(a.recoverPanics(securityHeaders(a.refuseCrossOrigin(mux))))
}

// routeNotFound answers a request that matched no API route: 405 with an
// Allow header when the path exists for other methods, 404 otherwise.
func routeNotFound(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) error {
	var allowed []string
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = method
		if _, pattern := mux.Handler(probe); pattern != "/api/" && pattern != "" {
			allowed = append(allowed, method)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return &apiError{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
			Message: fmt.Sprintf("%s %s is not supported; use %s.", r.Method, r.URL.Path, strings.Join(allowed, " or "))}
	}
	return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf("There is no API route %s %s.", r.Method, r.URL.Path)}
}

// maxWaitingAttempts bounds the requests that check a password or recovery
// key at the same time. The checks run one at a time, each taking about
// 20 MiB and 40 ms, so more waiting requests would only hold memory.
const maxWaitingAttempts = 8

// limitAttempts answers 429 at once, before reading the body, when
// maxWaitingAttempts requests that check a secret are already in progress.
func (a *App) limitAttempts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case a.attemptSlots <- struct{}{}:
			defer func() { <-a.attemptSlots }()
			next.ServeHTTP(w, r)
		default:
			a.writeError(w, r, &apiError{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: time.Second,
				Message: "Hearth is checking other sign-ins right now. Try again in a second."})
		}
	})
}

// public adapts a handler that needs no sign-in.
func (a *App) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// signedIn adapts a handler that needs a valid session. The profile it
// receives is read from the store on every request.
func (a *App) signedIn(h sessionHandlerFunc) http.Handler {
	return a.public(func(w http.ResponseWriter, r *http.Request) error {
		sess, err := a.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, sess)
	})
}

// unlocked adapts a handler that reads or writes the profile's data, which
// needs the profile's data key in memory.
func (a *App) unlocked(h userHandlerFunc) http.Handler {
	return a.signedIn(func(w http.ResponseWriter, r *http.Request, sess auth.Session) error {
		if err := checkPathIDs(r); err != nil {
			return err
		}
		key, err := a.profiles.DataKey(sess.Profile.ID)
		if err != nil {
			return err
		}
		defer key.Wipe()
		u := user{Profile: sess.Profile, key: key}
		// Recall loads the profile's index in the background on its first
		// request after an unlock; later calls return at once.
		if err := a.recall.Unlock(u.owner()); err != nil {
			a.log.Warn("recall could not start", "profile", u.ID, "err", err)
		}
		return h(w, r, u)
	})
}

// checkPathIDs returns a 404 error for a thread or message id in the path
// that is not in Hearth's id format, before anything is looked up, because
// no thread or message could have it.
func checkPathIDs(r *http.Request) error {
	if id := r.PathValue("threadId"); id != "" && !memory.ValidID(id) {
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: msgThreadNotFound}
	}
	if id := r.PathValue("messageId"); id != "" && !memory.ValidID(id) {
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: msgMessageNotFound}
	}
	return nil
}

// authenticate returns the session the request proves, by its bearer token
// or by its session cookie. Browsers send a host's cookies to every port of
// it, so another server on the same computer may see the cookie, and a page
// it serves may plant a cookie of its own: a cookie therefore counts only
// with the channel secret of its token in the X-CSRF-Token header, which
// Hearth's page keeps where no other origin can read it.
func (a *App) authenticate(r *http.Request) (auth.Session, error) {
	if header := r.Header.Get("Authorization"); header != "" {
		// The scheme name is case-insensitive (RFC 9110, section 11.1).
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return auth.Session{}, &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "The Authorization header must be Bearer followed by a token. Sign in to get one."}
		}
		sess, err := a.profiles.Verify(r.Context(), strings.TrimSpace(token))
		if err != nil {
			return auth.Session{}, err
		}
		return a.acceptSession(r, sess), nil
	}

	secret := r.Header.Get(csrfHeader)
	tried := 0
	for _, c := range r.Cookies() {
		if c.Name != sessionCookie || c.Value == "" {
			continue
		}
		// A planted cookie may come first; a few candidates are enough to
		// find the page's own.
		if tried++; tried > maxSessionCookies {
			break
		}
		sess, err := a.profiles.Verify(r.Context(), c.Value)
		if err == nil && sess.CheckChannel(secret) {
			return a.acceptSession(r, sess), nil
		}
	}
	if tried > 0 {
		return auth.Session{}, &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "This page's session is not valid here. Sign in again in this tab."}
	}
	return auth.Session{}, &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "Sign in first."}
}

// acceptSession records the profile of a request that passed every check
// of authenticate for the log, and counts the request as activity for the
// idle lock. A request refused on the way, such as a cookie without its
// channel secret, never gets here, so it cannot keep a profile unlocked.
func (a *App) acceptSession(r *http.Request, sess auth.Session) auth.Session {
	setRequestProfileID(r, sess.Profile.ID)
	sess.Locked = !a.profiles.Touch(sess.Profile.ID)
	return sess
}

// hasCredentials reports whether the request carries a bearer header or a
// session cookie, whether or not they are valid.
func hasCredentials(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && c.Value != ""
}

// decodeJSON reads the request body as one JSON object into dst. It accepts
// only application/json in UTF-8, at most maxBodyBytes, and no unknown
// fields. The body is read to its end because the desktop window's requests
// report no length.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return decodeJSONLimit(w, r, dst, maxBodyBytes)
}

// decodeJSONLimit is decodeJSON with a smaller body limit, for routes whose
// bodies are small by nature.
func decodeJSONLimit(w http.ResponseWriter, r *http.Request, dst any, limit int64) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return jsonError(err)
	}
	return decodeBody(body, dst)
}

// decodeBody decodes one JSON object from body into dst.
func decodeBody(body []byte, dst any) error {
	// encoding/json would silently replace invalid UTF-8 with U+FFFD, which
	// would store something other than what was sent.
	if !utf8.Valid(body) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body is not valid UTF-8."}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] != '{' {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body must be a JSON object."}
	}
	if err := checkJSONText(body, dst); err != nil {
		return err
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body must contain a single JSON object."}
	}
	return nil
}

// decodeOptionalJSON is decodeJSON for a body that may be left out: an
// empty body, with or without a Content-Type, leaves dst as it is.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	return decodeOptionalJSONLimit(w, r, dst, maxBodyBytes)
}

// decodeOptionalJSONLimit is decodeOptionalJSON with a smaller body limit.
func decodeOptionalJSONLimit(w http.ResponseWriter, r *http.Request, dst any, limit int64) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkContentType(r); err != nil {
		return err
	}
	return decodeBody(body, dst)
}

// checkContentType accepts a request body declared as application/json in
// UTF-8, the only encoding JSON allows between systems (RFC 8259, section
// 8.1). A charset parameter is optional, but one that names another
// encoding is rejected, because the body would be read as something other
// than what the client meant.
func checkContentType(r *http.Request) error {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType, Message: "Send the request body as JSON with the header Content-Type: application/json."}
	}
	if charset, ok := params["charset"]; ok && !strings.EqualFold(charset, "utf-8") {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType,
			Message: fmt.Sprintf("The Content-Type names the character set %q, but a JSON body must be UTF-8. Send it as UTF-8 with Content-Type: application/json.", charset)}
	}
	return nil
}

// jsonError describes a decoding error in terms of the request's fields.
func jsonError(err error) error {
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", tooLarge.Limit)}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body is not valid JSON."}
	case errors.Is(err, io.EOF):
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body is empty; send a JSON object."}
	case errors.As(err, &wrongType):
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: wrongType.Field, Message: fmt.Sprintf("The field %q must be a JSON %s.", wrongType.Field, wrongType.Type.Kind())}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: field, Message: fmt.Sprintf("The field %q is not accepted here; remove it.", field)}
	}
	return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body could not be read as JSON."}
}

// writeJSON sends v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	// An encoding error here means the client went away; there is no one
	// left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// refuseCrossOrigin rejects with 403 every API preflight, which only a
// cross-origin request sends, and every API request that a browser marks as
// sent by another site's page. Hearth's own page is same-origin, and
// scripts send neither header. A page on another port of localhost is
// "same-site" to the browser, not same-origin, so it is rejected too. No
// response carries CORS headers, so another origin could not read the
// response anyway. This check keeps its requests from having effects.
func (a *App) refuseCrossOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodOptions {
			a.writeError(w, r, &apiError{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: "Hearth's API does not answer requests from other origins."})
			return
		}
		switch r.Header.Get("Sec-Fetch-Site") {
		case "cross-site", "same-site":
			a.writeError(w, r, &apiError{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: "Hearth's API answers only its own page and scripts, not pages of other sites."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestInfo collects what the request log needs from inner handlers.
type requestInfo struct {
	profileID string
}

type requestInfoKey struct{}

// setRequestProfileID records the profile making the request for the log.
func setRequestProfileID(r *http.Request, id string) {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.profileID = id
	}
}

func requestProfileID(r *http.Request) string {
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		return info.profileID
	}
	return ""
}

// logRequests logs one line per API request with its method, route pattern,
// status, duration and profile. It never logs bodies, tokens or queries.
func (a *App) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)

		if !strings.HasPrefix(r.URL.Path, "/api/") {
			return
		}
		a.log.Info("request", "method", r.Method, "route", r.Pattern, "status", sw.statusCode(),
			"duration", time.Since(start).Round(time.Microsecond), "profile", info.profileID)
	})
}

// recoverPanics turns a panic in a request into a 500 response and one log
// line, so that it fails that request and not the program. In the desktop
// window the handler runs without an http.Server around it, so a panic
// would end the app. bbolt panics in the request that reads a damaged
// page, and a clean start no longer reads every page first. Memory faults,
// such as reading a data file that another program cut short, become panics
// too. http.ErrAbortHandler is raised again, as net/http expects. w must be
// the statusWriter of logRequests, which tells whether the response has
// started.
func (a *App) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.log.Error("request panicked", "method", r.Method, "route", r.Pattern, "profile", requestProfileID(r),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				// The response has begun, so it can only be cut short.
				return
			}
			writeJSON(w, http.StatusInternalServerError, errorBody{Error: &apiError{Status: http.StatusInternalServerError, Code: CodeInternal, Message: msgInternal}})
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer's Flush.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
