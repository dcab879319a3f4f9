package ollamatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ControlHandler returns a handler for the control routes, which let a
// test in another process script the fake over HTTP:
//
//	POST /_fake/replies   enqueue one Reply, sent as JSON
//	POST /_fake/release   call Release
//	POST /_fake/reset     call Reset
//	GET  /_fake/requests  the recorded chat requests as a JSON array
//	POST /_fake/models    call SetModels with {"models": ["name", ...]}
//
// The POST routes return 204 No Content on success and 400 with
// {"error": message} for an invalid body. Control requests are not
// recorded. Serve the handler under "/_fake/" next to Handler on the same
// port, as the fake-ollama command does.
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_fake/replies", s.handleControlReply)
	mux.HandleFunc("POST /_fake/release", func(w http.ResponseWriter, r *http.Request) {
		s.Release()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_fake/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_fake/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.ChatRequests())
	})
	mux.HandleFunc("POST /_fake/models", s.handleControlModels)
	return mux
}

func (s *Server) handleControlReply(w http.ResponseWriter, r *http.Request) {
	var reply Reply
	if err := decodeStrict(w, r, &reply); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("decode reply: %v", err))
		return
	}
	if err := reply.validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	s.Enqueue(reply)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleControlModels(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Models []string `json:"models"`
	}
	if err := decodeStrict(w, r, &body); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("decode models: %v", err))
		return
	}
	if body.Models == nil {
		writeError(w, http.StatusBadRequest, `decode models: missing "models" list, send {"models": []} to install none`)
		return
	}
	for _, name := range body.Models {
		if !validModelName(name) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid model name %q: want a non-empty name without spaces", name))
			return
		}
	}

	s.SetModels(body.Models...)
	w.WriteHeader(http.StatusNoContent)
}

// decodeStrict decodes the JSON request body into v and rejects unknown
// fields, so a misspelt field such as "delay_ms" is reported, not ignored.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("missing request body")
	}

	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	return decoder.Decode(v)
}
