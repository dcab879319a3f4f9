package app

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"hearth/auth"
	"hearth/memory"
	"hearth/seal"
)

// maxBodyBytes is the largest request body the API reads.
const maxBodyBytes = 2 << 20

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

// Names of the session cookies a browser on hearth serve gets at sign-in,
// and of the header that must repeat the CSRF cookie. The frontend's copy
// is in frontend/src/api.ts.
const (
	sessionCookie = "hearth_session"
	csrfCookie    = "hearth_csrf"
	csrfHeader    = "X-CSRF-Token"
)

// routes builds the router: the API under /api/ and the user interface in ui
// everywhere else.
func (a *App) routes(ui fs.FS) http.Handler {
	mux := http.NewServeMux()

	mux.Handle("GET /api/health", a.public(a.handleHealth))
	mux.Handle("GET /api/auth/profiles", a.public(a.handleListProfiles))
	mux.Handle("POST /api/auth/profiles", a.public(a.handleCreateProfile))
	mux.Handle("PATCH /api/auth/profiles/{profileId}", a.signedIn(a.handleSetRole))
	mux.Handle("DELETE /api/auth/profiles/{profileId}", a.signedIn(a.handleDeleteProfile))
	mux.Handle("POST /api/auth/login", a.public(a.handleLogin))
	mux.Handle("POST /api/auth/logout", a.signedIn(a.handleLogout))
	mux.Handle("GET /api/auth/me", a.signedIn(a.handleMe))
	mux.Handle("PATCH /api/auth/me", a.signedIn(a.handleUpdateMe))
	mux.Handle("POST /api/auth/password", a.signedIn(a.handleChangePassword))
	mux.Handle("POST /api/auth/recover", a.public(a.handleRecover))

	mux.Handle("GET /api/threads", a.unlocked(a.handleListThreads))
	mux.Handle("POST /api/threads", a.unlocked(a.handleCreateThread))
	mux.Handle("GET /api/threads/{threadId}", a.unlocked(a.handleGetThread))

	mux.Handle("POST /api/chat", a.unlocked(a.handleChat))
	mux.Handle("POST /api/chat/{threadId}/stop", a.unlocked(a.handleStopChat))

	mux.Handle("/api/", a.public(func(w http.ResponseWriter, r *http.Request) error {
		return routeNotFound(mux, w, r)
	}))
	mux.Handle("/", uiHandler(ui))

	return a.logRequests(securityHeaders(mux))
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
		key, err := a.profiles.DataKey(sess.Profile.ID)
		if err != nil {
			return err
		}
		defer key.Wipe()
		return h(w, r, user{Profile: sess.Profile, key: key})
	})
}

// authenticate returns the session the request proves, by its bearer token
// or by its session cookie. A request that relies on the cookie and changes
// state must also repeat the CSRF cookie in a header: a page on another site
// can make the browser send the cookie, but cannot read it.
func (a *App) authenticate(r *http.Request) (auth.Session, error) {
	token, err := requestToken(r)
	if err != nil {
		return auth.Session{}, err
	}
	sess, err := a.profiles.Verify(r.Context(), token)
	if err != nil {
		return auth.Session{}, err
	}
	setRequestProfileID(r, sess.Profile.ID)
	return sess, nil
}

// requestToken returns the token of the request's bearer header or, failing
// that, of its session cookie after checking the CSRF header.
func requestToken(r *http.Request) (string, error) {
	if header := r.Header.Get("Authorization"); header != "" {
		// The scheme name is case-insensitive (RFC 9110, section 11.1).
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "The Authorization header must be Bearer followed by a token. Sign in to get one."}
		}
		return strings.TrimSpace(token), nil
	}

	cookie, err := r.Cookie(sessionCookie)
	if err != nil || cookie.Value == "" {
		return "", &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "Sign in first."}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		csrf, err := r.Cookie(csrfCookie)
		sent := r.Header.Get(csrfHeader)
		if err != nil || csrf.Value == "" || subtle.ConstantTimeCompare([]byte(csrf.Value), []byte(sent)) != 1 {
			return "", &apiError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "The request did not repeat the CSRF token in the X-CSRF-Token header. Reload the page and try again."}
		}
	}
	return cookie.Value, nil
}

// decodeJSON reads the request body as one JSON object into dst. It accepts
// only application/json, at most maxBodyBytes, valid UTF-8, and no unknown
// fields. The body is read to its end because the desktop window's requests
// report no length.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType, Message: "Send the request body as JSON with the header Content-Type: application/json."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType, Message: "Send the request body as JSON with the header Content-Type: application/json."}
	}
	return decodeBody(body, dst)
}

// jsonError describes a decoding error in terms of the request's fields.
func jsonError(err error) error {
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", maxBodyBytes)}
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
