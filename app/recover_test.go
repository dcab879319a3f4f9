package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// panicApp returns an App with only a logger, whose output goes to the
// returned buffer, and a handler with the middleware of routes around
// handler.
func panicApp(handler http.HandlerFunc) (http.Handler, *bytes.Buffer) {
	var logs bytes.Buffer
	a := &App{log: slog.New(slog.NewJSONHandler(&logs, nil))}
	return a.logRequests(a.recoverPanics(handler)), &logs
}

func TestPanicBecomesInternalError(t *testing.T) {
	h, logs := panicApp(func(w http.ResponseWriter, r *http.Request) {
		panic("invalid page type: 0")
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/threads", nil))

	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == nil || body.Error.Code != CodeInternal {
		t.Errorf("body %s, want an error with code %q", rec.Body.String(), CodeInternal)
	}
	if !strings.Contains(logs.String(), `"msg":"request panicked"`) || !strings.Contains(logs.String(), "invalid page type") {
		t.Errorf("log %s, want a line about the panic with its value", logs.String())
	}
	if !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("log %s, want the request logged with status 500", logs.String())
	}
}

func TestPanicAfterResponseStarted(t *testing.T) {
	h, logs := panicApp(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("data: partial\n"))
		panic("invalid page type: 0")
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/chat", nil))

	if rec.Code != http.StatusOK || rec.Body.String() != "data: partial\n" {
		t.Errorf("status %d, body %q: want the started response left as it was", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logs.String(), `"msg":"request panicked"`) {
		t.Errorf("log %s, want a line about the panic", logs.String())
	}
}

func TestAbortHandlerPanicsAgain(t *testing.T) {
	h, _ := panicApp(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler raised again", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/threads", nil))
}
