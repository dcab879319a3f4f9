package ollamatest

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/ollama/ollama/api"
)

// textWeight is the weight of the whole-text component of a vector relative
// to one word. It keeps texts that differ only in word order apart while
// shared words still dominate the cosine similarity.
const textWeight = 0.1

// handleEmbed responds to POST /api/embed with one vector per input string.
func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	start := time.Now()

	var req api.EmbedRequest
	if !decodeBody(w, r, &req) {
		return
	}

	// Ollama accepts one string or a list of strings, and treats an empty
	// string as no input.
	var inputs []string
	switch input := req.Input.(type) {
	case nil:
	case string:
		if input != "" {
			inputs = append(inputs, input)
		}
	case []any:
		for _, item := range input {
			text, ok := item.(string)
			if !ok {
				writeError(w, http.StatusBadRequest, "invalid input type")
				return
			}
			inputs = append(inputs, text)
		}
	default:
		writeError(w, http.StatusBadRequest, "invalid input type")
		return
	}

	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "model is required")
		return
	}
	if !s.isInstalled(req.Model) {
		writeModelNotFound(w, req.Model)
		return
	}

	s.mu.Lock()
	dimension := s.embedDimension
	s.mu.Unlock()

	embeddings := make([][]float32, len(inputs))
	words := 0
	for i, text := range inputs {
		embeddings[i] = embedText(text, dimension, req.Dimensions)
		words += len(splitWords(text))
	}

	writeJSON(w, http.StatusOK, api.EmbedResponse{
		Model:           req.Model,
		Embeddings:      embeddings,
		TotalDuration:   time.Since(start),
		PromptEvalCount: words,
	})
}

// embedText returns a deterministic unit vector of length dimension for
// text. When truncate is between 1 and dimension-1, it returns the first
// truncate values normalised again, as Ollama does for the "dimensions"
// request field.
//
// Each word, lowercased, adds a pseudo-random Gaussian vector seeded by its
// FNV-1a hash, and the whole text adds one at textWeight. So equal texts get
// equal vectors, texts that share words get a higher cosine similarity than
// texts that share none, and retrieval tests can rank results.
func embedText(text string, dimension, truncate int) []float32 {
	sum := make([]float64, dimension)
	for _, word := range splitWords(text) {
		addSeeded(sum, hashString(word), 1, 1)
	}
	addSeeded(sum, hashString(text), 2, textWeight)

	if truncate > 0 && truncate < dimension {
		sum = sum[:truncate]
	}
	return normalize(sum)
}

// splitWords splits text, lowercased, at every rune that is not a letter or
// digit.
func splitWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// addSeeded adds weight times a Gaussian vector drawn from a PCG generator
// with the given seeds to sum. The stream selects between words and whole
// texts, so a one-word text does not get its word's vector twice.
func addSeeded(sum []float64, seed, stream uint64, weight float64) {
	rng := rand.New(rand.NewPCG(seed, stream))
	for i := range sum {
		sum[i] += weight * rng.NormFloat64()
	}
}

// normalize returns v scaled to length 1 as float32 values. A zero vector
// stays zero.
func normalize(v []float64) []float32 {
	var squares float64
	for _, x := range v {
		squares += x * x
	}
	norm := math.Sqrt(squares)

	unit := make([]float32, len(v))
	if norm == 0 {
		return unit
	}
	for i, x := range v {
		unit[i] = float32(x / norm)
	}
	return unit
}
