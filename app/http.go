package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strings"
	"time"

	"hearth/auth"
)

// maxBodyBytes is the largest request body the API reads.
const maxBodyBytes = 2 << 20

// handlerFunc is an API handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// profileHandlerFunc is an API handler for a signed-in profile.
type profileHandlerFunc func(w http.ResponseWriter, r *http.Request, p auth.Profile) error

// routes builds the router: the API under /api/ and the user interface in ui
// everywhere else.
func (a *App) routes(ui fs.FS) http.Handler {
	mux := http.NewServeMux()

	mux.Handle("GET /api/health", a.public(a.handleHealth))
	mux.Handle("GET /api/auth/profiles", a.public(a.handleListProfiles))
	mux.Handle("POST /api/auth/profiles", a.public(a.handleCreateProfile))
	mux.Handle("POST /api/auth/login", a.public(a.handleLogin))
	mux.Handle("GET /api/auth/me", a.signedIn(a.handleMe))

	mux.Handle("GET /api/threads", a.signedIn(a.handleListThreads))
	mux.Handle("POST /api/threads", a.signedIn(a.handleCreateThread))
	mux.Handle("GET /api/threads/{threadId}", a.signedIn(a.handleGetThread))

	mux.Handle("POST /api/chat", a.signedIn(a.handleChat))
	mux.Handle("POST /api/chat/{threadId}/stop", a.signedIn(a.handleStopChat))

	mux.Handle("/api/", a.public(func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf("There is no API route %s %s.", r.Method, r.URL.Path)}
	}))
	mux.Handle("/", uiHandler(ui))

	return a.logRequests(securityHeaders(mux))
}

// public adapts a handler that needs no sign-in.
func (a *App) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// signedIn adapts a handler that needs a valid token. The profile it receives
// is read from the store on every request.
func (a *App) signedIn(h profileHandlerFunc) http.Handler {
	return a.public(func(w http.ResponseWriter, r *http.Request) error {
		p, err := a.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, p)
	})
}

// authenticate returns the profile whose token the request carries.
func (a *App) authenticate(r *http.Request) (auth.Profile, error) {
	header := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(header, "Bearer ")
	if header == "" || !ok {
		return auth.Profile{}, &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "Sign in first."}
	}
	p, err := a.profiles.Verify(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return auth.Profile{}, err
	}
	setRequestProfileID(r, p.ID)
	return p, nil
}

// decodeJSON reads the request body as one JSON value into dst. It accepts
// only application/json, at most maxBodyBytes, and no unknown fields. The
// body is read to its end because the desktop window's requests report no
// length.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType, Message: "Send the request body as JSON with the header Content-Type: application/json."}
	}

	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: "The request body must contain a single JSON object."}
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
