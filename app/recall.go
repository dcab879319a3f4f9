package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hearth/memory"
	"hearth/memory/embed"
	"hearth/memory/vector"
)

// Embedder kinds a profile can choose for semantic recall.
const (
	EmbedderBuiltin = "builtin"
	EmbedderOllama  = "ollama"
	EmbedderOpenAI  = "openai"
)

// CodeEmbedderUnavailable is the error code of an embedder that failed its
// test embedding.
const CodeEmbedderUnavailable = "embedder_unavailable"

// Recall settings in prompts.
const (
	// recallTimeout bounds the search before a reply, so that a slow
	// embedder delays the reply at most this long. The reply then goes on
	// without recalled messages.
	recallTimeout = 3 * time.Second
	// probeTimeout bounds the test embedding made before switching to an
	// embedder.
	probeTimeout = 20 * time.Second
)

// embedderSpec is a profile's choice of embedder, as stored (sealed) by
// memory.Recall and as the recall settings route takes it.
type embedderSpec struct {
	Kind string `json:"kind"`
	// Model is the embedding model for ollama and openai.
	Model string `json:"model,omitempty"`
	// BaseURL is the server for ollama (default: the Ollama server Hearth
	// chats with) and openai (required, such as https://api.openai.com/v1).
	BaseURL string `json:"baseUrl,omitempty"`
	// APIKey is sent to an openai server. It is never returned by the API.
	APIKey string `json:"apiKey,omitempty"`
	// Dimensions requests shorter vectors from an openai server. 0 leaves it
	// out.
	Dimensions int `json:"dimensions,omitempty"`
}

// builtinSpec is the embedder every profile starts with: the lexical one,
// which needs no model, so recall works offline from the first message.
var builtinSpec = json.RawMessage(`{"kind":"builtin"}`)

// recallEmbedders builds embedders from stored specs.
type recallEmbedders struct {
	ollamaURL string
	logger    *slog.Logger
}

// build returns the embedder a spec describes, or an error that names the
// invalid field and the values to use.
func (re recallEmbedders) build(raw json.RawMessage) (memory.Embedder, error) {
	var spec embedderSpec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("embedder settings: %w", err)
	}
	switch spec.Kind {
	case EmbedderBuiltin:
		return embed.NewLexical(embed.DefaultLexicalDimension)
	case EmbedderOllama:
		base := spec.BaseURL
		if base == "" {
			base = re.ollamaURL
		}
		return embed.NewOllama(embed.OllamaConfig{URL: base, Model: spec.Model, Logger: re.logger})
	case EmbedderOpenAI:
		return embed.NewOpenAI(embed.OpenAIConfig{BaseURL: spec.BaseURL, APIKey: spec.APIKey, Model: spec.Model, Dimensions: spec.Dimensions, Logger: re.logger})
	default:
		return nil, fmt.Errorf("embedder kind %q is unknown; use %q, %q or %q", spec.Kind, EmbedderBuiltin, EmbedderOllama, EmbedderOpenAI)
	}
}

// recallSettings is the body of the recall settings route: the status and
// the chosen embedder, without its API key.
type recallSettings struct {
	Status   memory.RecallStatus `json:"status"`
	Embedder embedderView        `json:"embedder"`
	// Lexical is set while the built-in embedder is in use, which matches
	// words rather than meaning.
	Lexical bool `json:"lexical"`
	// Suggestion is the Ollama model to try for recall by meaning.
	Suggestion string `json:"suggestion"`
}

// embedderView is an embedderSpec as the API returns it.
type embedderView struct {
	Kind       string `json:"kind"`
	Model      string `json:"model,omitempty"`
	BaseURL    string `json:"baseUrl,omitempty"`
	Dimensions int    `json:"dimensions,omitempty"`
	HasAPIKey  bool   `json:"hasApiKey"`
}

func viewOf(spec embedderSpec) embedderView {
	return embedderView{Kind: spec.Kind, Model: spec.Model, BaseURL: redactURL(spec.BaseURL), Dimensions: spec.Dimensions, HasAPIKey: spec.APIKey != ""}
}

// RedactURL returns raw without the user name and password it may carry,
// for logs and messages.
func RedactURL(raw string) string {
	return redactURL(raw)
}

// redactURL removes credentials from a URL before it is shown.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// recallSettingsOf returns the recall settings of owner.
func (a *App) recallSettingsOf(ctx context.Context, owner memory.Owner) (recallSettings, error) {
	raw, err := a.recall.EmbedderSpec(ctx, owner)
	if err != nil {
		return recallSettings{}, err
	}
	var spec embedderSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return recallSettings{}, fmt.Errorf("stored embedder settings: %w", err)
	}
	return recallSettings{
		Status:     a.recall.Status(owner),
		Embedder:   viewOf(spec),
		Lexical:    spec.Kind == EmbedderBuiltin,
		Suggestion: embed.DefaultOllamaModel,
	}, nil
}

// chooseEmbedder checks a new embedder choice, tries it on one text, and
// makes it owner's embedder. An openai choice without an API key keeps the
// key stored for the same server.
func (a *App) chooseEmbedder(ctx context.Context, owner memory.Owner, spec embedderSpec) error {
	spec.Kind = strings.TrimSpace(spec.Kind)
	spec.Model = strings.TrimSpace(spec.Model)
	spec.BaseURL = strings.TrimSpace(spec.BaseURL)
	switch spec.Kind {
	case EmbedderBuiltin:
		spec = embedderSpec{Kind: EmbedderBuiltin}
	case EmbedderOllama:
		if spec.Model == "" {
			spec.Model = embed.DefaultOllamaModel
		}
		spec.APIKey, spec.Dimensions = "", 0
	case EmbedderOpenAI:
		if spec.BaseURL == "" {
			return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "baseUrl",
				Message: "An OpenAI-compatible embedder needs a base URL, such as https://api.openai.com/v1."}
		}
		if spec.Model == "" {
			return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "model",
				Message: "An OpenAI-compatible embedder needs a model, such as text-embedding-3-small."}
		}
		if spec.APIKey == "" {
			if raw, err := a.recall.EmbedderSpec(ctx, owner); err == nil {
				var current embedderSpec
				if json.Unmarshal(raw, &current) == nil && current.Kind == EmbedderOpenAI && current.BaseURL == spec.BaseURL {
					spec.APIKey = current.APIKey
				}
			}
		}
	default:
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "kind",
			Message: fmt.Sprintf("The embedder kind %q is unknown; use %q, %q or %q.", spec.Kind, EmbedderBuiltin, EmbedderOllama, EmbedderOpenAI)}
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	e, err := a.embedders.build(raw)
	if err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "embedder", Message: sentence(err.Error())}
	}

	// A test embedding catches a server that is down, a model that is not
	// installed or a wrong key now, rather than in the background later.
	probeCtx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	vectors, err := e.Embed(probeCtx, []string{"Hearth checks that this embedder works."})
	if err != nil {
		return embedderProbeError(spec, err)
	}
	if len(vectors) != 1 {
		return &apiError{Status: http.StatusBadGateway, Code: CodeEmbedderUnavailable, Field: "embedder",
			Message: fmt.Sprintf("The embedder returned %d vectors for 1 text; check that the server is an embedding API.", len(vectors))}
	}
	if len(vectors[0]) > vector.MaxDim {
		return &apiError{Status: http.StatusBadGateway, Code: CodeEmbedderUnavailable, Field: "embedder",
			Message: fmt.Sprintf("The embedder returns vectors of %d dimensions; Hearth's index holds at most %d. Choose a smaller model or set dimensions.", len(vectors[0]), vector.MaxDim)}
	}
	return a.recall.SetEmbedder(ctx, owner, raw)
}

// embedderProbeError turns a failed test embedding into an error that
// names the fix.
func embedderProbeError(spec embedderSpec, err error) error {
	code := CodeEmbedderUnavailable
	message := sentence(err.Error())
	switch {
	case errors.Is(err, embed.ErrModelNotFound) && spec.Kind == EmbedderOllama:
		message = fmt.Sprintf("Ollama does not have the model %s. Install it with: ollama pull %s", spec.Model, spec.Model)
	case errors.Is(err, embed.ErrModelNotFound):
		message = fmt.Sprintf("The server does not know the model %s; check its name.", spec.Model)
	}
	return &apiError{Status: http.StatusBadGateway, Code: code, Field: "embedder", Message: message}
}

// sentence makes an error text start with a capital letter and end with a
// full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
