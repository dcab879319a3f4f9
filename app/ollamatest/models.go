package ollamatest

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/ollama/ollama/api"
)

// installedModel is a model the fake lists in /api/tags and accepts in chat,
// embed and show requests.
type installedModel struct {
	name       string // with a tag, such as "llama3.2:latest"
	modifiedAt time.Time
}

// family describes the made-up file behind a model. The numbers are
// invented to look like llama3.2 (3B, Q4_K_M) and nomic-embed-text (137M,
// F16), not copied from a real server.
type family struct {
	architecture      string
	parameterSize     string
	parameterCount    int64
	quantizationLevel string
	sizeBytes         int64
	embeddingLength   int // 0 means the configured embed dimension
	embeddingModel    bool
	noTools           bool // a chat model that cannot call tools
}

var (
	chatFamily = family{
		architecture:      "llama",
		parameterSize:     "3.2B",
		parameterCount:    3212749888,
		quantizationLevel: "Q4_K_M",
		sizeBytes:         2019393189,
		embeddingLength:   3072,
	}
	// noToolsFamily stands for the small chat models, such as gemma:2b,
	// that Ollama serves without tool calling.
	noToolsFamily = family{
		architecture:      "gemma",
		parameterSize:     "2.5B",
		parameterCount:    2506172416,
		quantizationLevel: "Q4_0",
		sizeBytes:         1678456656,
		embeddingLength:   2048,
		noTools:           true,
	}
	embedFamily = family{
		architecture:      "nomic-bert",
		parameterSize:     "137M",
		parameterCount:    136727040,
		quantizationLevel: "F16",
		sizeBytes:         274302450,
		embeddingModel:    true,
	}
)

// familyOf guesses the kind of model from its name: names containing
// "gemma" are chat models without tool calling.
//
// NOTE: Only names containing "embed" count as embedding models, so
// embedding models such as "all-minilm" or "bge-m3" are described as chat
// models. The routes accept both kinds either way.
func familyOf(name string) family {
	switch {
	case strings.Contains(name, "embed"):
		return embedFamily
	case strings.Contains(name, "gemma"):
		return noToolsFamily
	}
	return chatFamily
}

// withTag returns name with the tag "latest" added when it has none, which
// is how Ollama names models in /api/tags.
func withTag(name string) string {
	base := name[strings.LastIndex(name, "/")+1:]
	if strings.Contains(base, ":") {
		return name
	}
	return name + ":latest"
}

// validModelName rejects names Ollama could never parse: empty ones and ones
// with white space. Ollama's own check is stricter and also limits the
// characters of each part of a name.
func validModelName(name string) bool {
	return name != "" && !strings.ContainsFunc(name, unicode.IsSpace)
}

// sha256Digest returns a made-up but stable digest for text in Ollama's
// "sha256:<hex>" form.
func sha256Digest(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// installLocked adds name to the installed models unless it is there.
func (s *Server) installLocked(name string) {
	tagged := withTag(name)
	for _, m := range s.models {
		if m.name == tagged {
			return
		}
	}
	s.models = append(s.models, installedModel{name: tagged, modifiedAt: time.Now().UTC()})
}

// isInstalled reports whether name, with or without the "latest" tag, is
// installed.
func (s *Server) isInstalled(name string) bool {
	tagged := withTag(name)

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.models {
		if m.name == tagged {
			return true
		}
	}
	return false
}

// writeModelNotFound writes the 404 response Ollama's scheduler sends for a
// model that is not installed (handleScheduleError in server/routes.go of
// Ollama 0.17.4).
//
// NOTE: Ollama 0.17.4 responds to some of these requests with
// "model 'NAME' not found" instead, such as /api/show or a chat whose model
// has no manifest. The fake always sends the message below.
func writeModelNotFound(w http.ResponseWriter, name string) {
	writeError(w, http.StatusNotFound, fmt.Sprintf("model %q not found, try pulling it first", name))
}

// handleTags lists the installed models in the order they were installed.
// Ollama itself sorts them by modification time, newest first.
func (s *Server) handleTags(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	models := make([]api.ListModelResponse, 0, len(s.models))
	for _, m := range s.models {
		f := familyOf(m.name)
		models = append(models, api.ListModelResponse{
			Name:       m.name,
			Model:      m.name,
			ModifiedAt: m.modifiedAt,
			Size:       f.sizeBytes,
			Digest:     strings.TrimPrefix(sha256Digest(m.name), "sha256:"),
			Details:    f.details(),
		})
	}
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, api.ListResponse{Models: models})
}

func (s *Server) handleShow(w http.ResponseWriter, r *http.Request) {
	var req api.ShowRequest
	if !decodeBody(w, r, &req) {
		return
	}

	name := cmp.Or(req.Model, req.Name)
	if name == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	if !s.isInstalled(name) {
		writeModelNotFound(w, name)
		return
	}

	s.mu.Lock()
	contextLength := s.contextLength
	embedDimension := s.embedDimension
	s.mu.Unlock()

	f := familyOf(name)
	embeddingLength := cmp.Or(f.embeddingLength, embedDimension)
	resp := api.ShowResponse{
		Details: f.details(),
		ModelInfo: map[string]any{
			"general.architecture":               f.architecture,
			"general.parameter_count":            f.parameterCount,
			f.architecture + ".context_length":   contextLength,
			f.architecture + ".embedding_length": embeddingLength,
		},
		ModifiedAt: time.Now().UTC(),
	}
	// The capabilities are untyped constants because their type lives in
	// an Ollama package outside api.
	switch {
	case f.embeddingModel:
		resp.Capabilities = append(resp.Capabilities, "embedding")
	case f.noTools:
		resp.Capabilities = append(resp.Capabilities, "completion")
	default:
		resp.Capabilities = append(resp.Capabilities, "completion", "tools")
	}
	writeJSON(w, http.StatusOK, resp)
}

func (f family) details() api.ModelDetails {
	return api.ModelDetails{
		Format:            "gguf",
		Family:            f.architecture,
		Families:          []string{f.architecture},
		ParameterSize:     f.parameterSize,
		QuantizationLevel: f.quantizationLevel,
	}
}

// handlePull streams the progress lines Ollama sends while pulling a model,
// without delays, and installs the model before the final "success" line.
// With "stream": false it sends only the final line.
func (s *Server) handlePull(w http.ResponseWriter, r *http.Request) {
	var req api.PullRequest
	if !decodeBody(w, r, &req) {
		return
	}

	name := cmp.Or(req.Model, req.Name)
	if !validModelName(name) {
		writeError(w, http.StatusBadRequest, "invalid model name")
		return
	}

	progress := pullProgress(name)
	if req.Stream != nil && !*req.Stream {
		s.mu.Lock()
		s.installLocked(name)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, progress[len(progress)-1])
		return
	}

	w.Header().Set("Content-Type", "application/x-ndjson")
	controller := http.NewResponseController(w)
	for i, line := range progress {
		// The model counts as installed once the manifest is written, as
		// in Ollama, so a client that sees "success" can use it at once.
		if i == len(progress)-1 {
			s.mu.Lock()
			s.installLocked(name)
			s.mu.Unlock()
		}
		if err := writeLine(w, controller, line); err != nil {
			return
		}
	}
}

// pullProgress returns the progress lines of a pull of name: the manifest,
// three lines for each of two layers, the digest check, the manifest write
// and "success".
func pullProgress(name string) []api.ProgressResponse {
	layers := []struct {
		digest string
		size   int64
	}{
		{sha256Digest(name + "/model"), familyOf(name).sizeBytes},
		{sha256Digest(name + "/template"), 1429},
	}

	progress := []api.ProgressResponse{{Status: "pulling manifest"}}
	for _, layer := range layers {
		// Ollama names a layer by the first 12 hex digits of its digest.
		status := "pulling " + strings.TrimPrefix(layer.digest, "sha256:")[:12]
		for _, completed := range []int64{0, layer.size / 2, layer.size} {
			progress = append(progress, api.ProgressResponse{
				Status:    status,
				Digest:    layer.digest,
				Total:     layer.size,
				Completed: completed,
			})
		}
	}
	return append(progress,
		api.ProgressResponse{Status: "verifying sha256 digest"},
		api.ProgressResponse{Status: "writing manifest"},
		api.ProgressResponse{Status: "success"},
	)
}
