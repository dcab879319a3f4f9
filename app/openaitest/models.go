package openaitest

import (
	"maps"
	"net/http"
	"time"
)

// created is the "created" time of every listed model.
var created = time.Date(2024, time.July, 18, 0, 0, 0, 0, time.UTC).Unix()

// handleModels lists the models as OpenAI does, {"object": "list", "data":
// [...]}, with each model's extra fields added to its object.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	data := make([]map[string]any, 0, len(s.models))
	for _, m := range s.models {
		object := map[string]any{
			"id":       m.ID,
			"object":   "model",
			"created":  created,
			"owned_by": "openaitest",
		}
		maps.Copy(object, m.Extra)
		data = append(data, object)
	}
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}
