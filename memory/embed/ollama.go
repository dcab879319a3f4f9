package embed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
)

const (
	// DefaultOllamaURL is where a local Ollama server listens by default. It
	// has the same value as app.DefaultOllamaURL.
	DefaultOllamaURL = "http://127.0.0.1:11434"

	// DefaultOllamaModel is the embedding model that Ollama uses unless
	// OllamaConfig.Model names another.
	DefaultOllamaModel = "nomic-embed-text"

	defaultOllamaTimeout   = 60 * time.Second
	defaultOllamaBatchSize = 32
)

// OllamaConfig configures an Ollama embedder. Zero fields take the defaults
// named on each field.
type OllamaConfig struct {
	// URL is the base URL of the Ollama server. "" means DefaultOllamaURL.
	URL string

	// Model is the name of an embedding model that Ollama has pulled, with
	// or without a tag. "" means DefaultOllamaModel.
	Model string

	// Timeout limits each request. A batch can take up to
	// Retry.MaxAttempts times as long, plus the waits between attempts.
	// 0 means 60 s, which leaves room for Ollama to load the model into
	// memory on the first request.
	Timeout time.Duration

	// Retry sets how transient errors are retried.
	Retry RetryPolicy

	// BatchSize is the maximum number of texts per request. Embed splits
	// larger batches. 0 means 32.
	BatchSize int

	// HTTPClient sends the requests. nil means http.DefaultClient. Timeout
	// applies on top of the client's own timeout.
	HTTPClient *http.Client

	// Logger receives a warning for every attempt that is retried. It never
	// receives the texts. nil means no logging.
	Logger *slog.Logger
}

// Ollama embeds texts with an embedding model served by Ollama's
// POST /api/embed route, sending each batch as one request whose "input"
// field is the list of texts. Ollama truncates a text that is longer than
// the model's context, so long texts are embedded by their beginning.
//
// Errors wrap ErrModelNotFound for a model that was never pulled (the message
// names the `ollama pull` command), ErrUnavailable when Ollama is not running
// or keeps failing, ErrRejected for other 4xx statuses,
// ErrDimensionMismatch and ErrInvalidResponse.
//
// An Ollama is safe for concurrent use.
type Ollama struct {
	client    *api.Client
	url       string
	model     string
	id        string
	timeout   time.Duration
	retry     RetryPolicy
	batchSize int
	logger    *slog.Logger

	dimension dimension
}

// NewOllama returns an embedder that sends texts to the Ollama server and
// model that cfg names. It sends nothing until the first call to Embed.
func NewOllama(cfg OllamaConfig) (*Ollama, error) {
	rawURL := cmp.Or(cfg.URL, DefaultOllamaURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid Ollama URL %q: use a form such as %s", rawURL, DefaultOllamaURL)
	}
	model := cmp.Or(cfg.Model, DefaultOllamaModel)
	if strings.ContainsFunc(model, isSpace) {
		return nil, fmt.Errorf("invalid Ollama model name %q: use a name without spaces, such as %s", model, DefaultOllamaModel)
	}
	if cfg.Timeout < 0 || cfg.BatchSize < 0 {
		return nil, fmt.Errorf("invalid Ollama embedder config: timeout %v and batch size %d must not be negative", cfg.Timeout, cfg.BatchSize)
	}

	return &Ollama{
		client:    api.NewClient(u, cmp.Or(cfg.HTTPClient, http.DefaultClient)),
		url:       u.Redacted(),
		model:     model,
		id:        "ollama:" + strings.TrimSuffix(model, ":latest"),
		timeout:   cmp.Or(cfg.Timeout, defaultOllamaTimeout),
		retry:     cfg.Retry.withDefaults(),
		batchSize: cmp.Or(cfg.BatchSize, defaultOllamaBatchSize),
		logger:    cfg.Logger,
	}, nil
}

// ID returns "ollama:" followed by the model name, without a ":latest" tag,
// such as "ollama:nomic-embed-text".
//
// NOTE: The ID names the model but not its weights, so pulling a new
// version of the same tag does not change it. A changed vector length is
// caught as ErrDimensionMismatch, but a same-length retrained model is not.
func (o *Ollama) ID() string {
	return o.id
}

// Dim returns the length of the vectors, or 0 before the first successful
// response.
func (o *Ollama) Dim() int {
	return o.dimension.get()
}

// Embed returns one vector per text, in the order of texts. It returns an
// ErrEmptyText error, and sends nothing, if any text is empty or only white
// space. Batches larger than the configured batch size are sent as several
// requests, one after another, and the first failing request ends the call.
func (o *Ollama) Embed(ctx context.Context, texts []string) ([]Vector, error) {
	if err := checkTexts(texts); err != nil {
		return nil, err
	}

	vectors := make([]Vector, 0, len(texts))
	for start := 0; start < len(texts); {
		end := nextBatch(texts, start, o.batchSize, 0)
		batch, err := o.embedBatch(ctx, texts[start:end], start)
		if err != nil {
			return nil, err
		}
		vectors = append(vectors, batch...)
		start = end
	}
	return vectors, nil
}

// embedBatch sends one request, with retries, for texts, which start at
// index offset of the caller's batch.
func (o *Ollama) embedBatch(ctx context.Context, texts []string, offset int) ([]Vector, error) {
	var resp *api.EmbedResponse
	attempts, err := o.retry.run(ctx, o.timeout, o.logger, o.id, func(ctx context.Context) error {
		var err error
		resp, err = o.client.Embed(ctx, &api.EmbedRequest{Model: o.model, Input: texts})
		return err
	}, classifyOllama)
	if err != nil {
		return nil, o.translate(ctx, err, attempts)
	}
	return o.vectors(resp.Embeddings, len(texts), offset)
}

// vectors checks that a response holds want vectors of the expected
// dimension and normalises them.
func (o *Ollama) vectors(embeddings [][]float32, want, offset int) ([]Vector, error) {
	if len(embeddings) != want {
		return nil, &remoteError{
			message:  fmt.Sprintf("ollama embed: Ollama at %s returned %d vectors for %d texts", o.url, len(embeddings), want),
			sentinel: ErrInvalidResponse,
		}
	}

	// The dimension is learned only from a response whose vectors all
	// pass, so that a rejected response cannot fix a wrong one.
	known := o.dimension.get()
	vectors := make([]Vector, len(embeddings))
	for i, values := range embeddings {
		if len(values) == 0 {
			return nil, &remoteError{
				message:  fmt.Sprintf("ollama embed: Ollama at %s returned an empty vector for text %d", o.url, offset+i),
				sentinel: ErrInvalidResponse,
			}
		}
		if known == 0 {
			known = len(values)
		}
		if len(values) != known {
			return nil, dimensionError("ollama embed", o.id, len(values), known, false)
		}
		v, ok := unitVector(values)
		if !ok {
			return nil, &remoteError{
				message:  fmt.Sprintf("ollama embed: Ollama at %s returned a vector for text %d that is all zeros or not finite", o.url, offset+i),
				sentinel: ErrInvalidResponse,
			}
		}
		vectors[i] = v
	}
	if want, ok := o.dimension.check(known); !ok {
		return nil, dimensionError("ollama embed", o.id, known, want, false)
	}
	return vectors, nil
}

// classifyOllama marks connection failures, timeouts and 408, 429 and 5xx
// statuses as transient. Ollama sends no Retry-After header, and the api
// client would not expose one.
func classifyOllama(err error) verdict {
	var status api.StatusError
	if errors.As(err, &status) {
		return verdict{transient: transientStatus(status.StatusCode)}
	}
	var authorization api.AuthorizationError
	if errors.As(err, &authorization) {
		return verdict{}
	}
	return verdict{transient: transientTransport(err)}
}

// translate turns the last error of a batch into an error whose message says
// what failed and what to do.
func (o *Ollama) translate(ctx context.Context, err error, attempts int) error {
	if ctx.Err() != nil {
		return fmt.Errorf("ollama embed: %w", ctx.Err())
	}

	var status api.StatusError
	var authorization api.AuthorizationError
	switch {
	case errors.As(err, &status):
		return o.translateStatus(status, attempts)

	case errors.As(err, &authorization):
		return &remoteError{
			message:  fmt.Sprintf("ollama embed: Ollama at %s rejected the request as unauthorized (%d): check that the URL points to your own Ollama server", o.url, authorization.StatusCode),
			sentinel: ErrUnauthorized,
			cause:    err,
		}

	case errors.Is(err, context.DeadlineExceeded):
		return &remoteError{
			message:  fmt.Sprintf("ollama embed: request to Ollama at %s timed out after %v, %s: check that Ollama is not overloaded, or raise the timeout or lower the batch size", o.url, o.timeout, countAttempts(attempts)),
			sentinel: ErrUnavailable,
			cause:    err,
		}

	case transientTransport(err):
		return &remoteError{
			message:  fmt.Sprintf("ollama embed: Ollama is not reachable at %s, %s (%s): start Ollama with `ollama serve`, or check the URL", o.url, countAttempts(attempts), shorten(err.Error(), maxServerMessage)),
			sentinel: ErrUnavailable,
			cause:    err,
		}
	}
	return &remoteError{
		message:  fmt.Sprintf("ollama embed: unreadable response from Ollama at %s: %s", o.url, shorten(err.Error(), maxServerMessage)),
		sentinel: ErrInvalidResponse,
		cause:    err,
	}
}

func (o *Ollama) translateStatus(status api.StatusError, attempts int) error {
	code := fmt.Sprintf("%d %s", status.StatusCode, http.StatusText(status.StatusCode))
	message := shorten(status.ErrorMessage, maxServerMessage)

	switch {
	case status.StatusCode == http.StatusNotFound && strings.Contains(status.ErrorMessage, "not found"):
		return &remoteError{
			message:  fmt.Sprintf("ollama embed: model %s not found in Ollama at %s: install it with `ollama pull %s`", o.model, o.url, o.model),
			sentinel: ErrModelNotFound,
			cause:    status,
		}
	case strings.Contains(status.ErrorMessage, "does not support embeddings"):
		return &remoteError{
			message:  fmt.Sprintf("ollama embed: model %s in Ollama at %s does not produce embeddings: configure an embedding model such as %s", o.model, o.url, DefaultOllamaModel),
			sentinel: ErrRejected,
			cause:    status,
		}
	case status.StatusCode == http.StatusTooManyRequests:
		return &remoteError{
			message:  fmt.Sprintf("ollama embed: Ollama at %s is busy (%s) %s: %s: try again later", o.url, code, countAttempts(attempts), message),
			sentinel: ErrRateLimited,
			cause:    status,
		}
	case transientStatus(status.StatusCode):
		return &remoteError{
			message:  fmt.Sprintf("ollama embed: Ollama at %s failed with %s, %s: %s: check the Ollama server log", o.url, code, countAttempts(attempts), message),
			sentinel: ErrUnavailable,
			cause:    status,
		}
	}
	return &remoteError{
		message:  fmt.Sprintf("ollama embed: Ollama at %s rejected the request for model %s with %s: %s", o.url, o.model, code, message),
		sentinel: ErrRejected,
		cause:    status,
	}
}
