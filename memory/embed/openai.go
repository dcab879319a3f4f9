package embed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const (
	defaultOpenAITimeout   = 30 * time.Second
	defaultOpenAIBatchSize = 256

	// maxOpenAIBatchSize is the largest number of inputs that OpenAI
	// accepts in one embeddings request, and maxOpenAIBatchBytes the token
	// limit summed over a request's inputs, both from the documentation of
	// EmbeddingNewParams.Input in openai-go v3.102.0. A BPE token covers at
	// least one byte, so a batch of at most that many bytes stays within
	// the token limit.
	maxOpenAIBatchSize  = 2048
	maxOpenAIBatchBytes = 300_000
)

// OpenAIConfig configures an embedder for an OpenAI-compatible API. BaseURL
// and Model are required. Other zero fields take the defaults named on each
// field.
type OpenAIConfig struct {
	// BaseURL is the API's base URL including the version path, such as
	// "https://api.openai.com/v1" or "http://127.0.0.1:8080/v1". Requests go
	// to BaseURL + "/embeddings".
	BaseURL string

	// APIKey is sent as a bearer token. "" sends no Authorization header,
	// for local servers that need no key. The key never appears in errors
	// or log records.
	APIKey string

	// Model is the embedding model, such as "text-embedding-3-small".
	Model string

	// Dimensions, when positive, asks the server for vectors of that length
	// with the "dimensions" request field. OpenAI supports it for
	// text-embedding-3 models and later. 0 omits the field.
	Dimensions int

	// Timeout limits each request. A batch can take up to
	// Retry.MaxAttempts times as long, plus the waits between attempts.
	// 0 means 30 s.
	Timeout time.Duration

	// Retry sets how transient errors are retried. The openai-go client's
	// own retries are turned off, so these are the only ones.
	Retry RetryPolicy

	// BatchSize is the maximum number of texts per request, at most 2,048.
	// Embed splits larger batches, and also starts a new request before a
	// batch passes 300,000 bytes of text. 0 means 256.
	BatchSize int

	// HTTPClient sends the requests. nil means http.DefaultClient. Timeout
	// applies on top of the client's own timeout.
	HTTPClient *http.Client

	// Logger receives a warning for every attempt that is retried. It never
	// receives the texts or the API key. nil means no logging.
	Logger *slog.Logger
}

// OpenAI embeds texts with an OpenAI-compatible POST /embeddings endpoint
// through the official openai-go client, sending each batch as one request
// whose "input" field is the list of texts. The server rejects a text longer
// than the model's input limit (8,192 tokens for OpenAI's models) with
// ErrRejected, so split long texts first.
//
// Errors wrap ErrUnauthorized for a rejected API key, ErrModelNotFound,
// ErrRateLimited, ErrUnavailable when the server is unreachable or keeps
// failing, ErrRejected for other 4xx statuses, ErrDimensionMismatch and
// ErrInvalidResponse. A 429 or 503 response's Retry-After header sets the
// wait before the next attempt.
//
// An OpenAI is safe for concurrent use.
type OpenAI struct {
	service    openai.EmbeddingService
	host       string
	model      string
	apiKey     string // only to remove it from server messages
	id         string
	dimensions int
	timeout    time.Duration
	retry      RetryPolicy
	batchSize  int
	logger     *slog.Logger

	dimension dimension
}

// NewOpenAI returns an embedder for the OpenAI-compatible API that cfg
// names. It ignores the OPENAI_* environment variables that openai-go reads
// by default, and sends nothing until the first call to Embed.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		return nil, errors.New("missing OpenAI base URL: set one such as https://api.openai.com/v1")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("invalid OpenAI base URL %q: use a form such as https://api.openai.com/v1", cfg.BaseURL)
	case u.User != nil:
		return nil, errors.New("invalid OpenAI base URL: it contains credentials, so move them to the API key setting")
	case cfg.Model == "":
		return nil, errors.New("missing OpenAI embedding model: set one such as text-embedding-3-small")
	case cfg.Dimensions < 0 || cfg.Timeout < 0 || cfg.BatchSize < 0:
		return nil, fmt.Errorf("invalid OpenAI embedder config: dimensions %d, timeout %v and batch size %d must not be negative",
			cfg.Dimensions, cfg.Timeout, cfg.BatchSize)
	case cfg.BatchSize > maxOpenAIBatchSize:
		return nil, fmt.Errorf("invalid OpenAI batch size %d: the API accepts at most %d texts per request", cfg.BatchSize, maxOpenAIBatchSize)
	}

	// The path is part of the id, because one host may serve several
	// APIs under different paths, each with its own models.
	id := "openai:" + u.Host + strings.TrimRight(u.EscapedPath(), "/") + "/" + cfg.Model
	if cfg.Dimensions > 0 {
		id += "?dimensions=" + strconv.Itoa(cfg.Dimensions)
	}

	// NewEmbeddingService, unlike openai.NewClient, reads no environment
	// variables, so only these options apply.
	service := openai.NewEmbeddingService(
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(cfg.APIKey),
		option.WithHTTPClient(cmp.Or(cfg.HTTPClient, http.DefaultClient)),
		option.WithMaxRetries(0),
	)

	o := &OpenAI{
		service:    service,
		host:       u.Host,
		model:      cfg.Model,
		apiKey:     cfg.APIKey,
		id:         id,
		dimensions: cfg.Dimensions,
		timeout:    cmp.Or(cfg.Timeout, defaultOpenAITimeout),
		retry:      cfg.Retry.withDefaults(),
		batchSize:  cmp.Or(cfg.BatchSize, defaultOpenAIBatchSize),
		logger:     cfg.Logger,
	}
	o.dimension.n = cfg.Dimensions
	return o, nil
}

// ID returns "openai:" followed by the base URL's host and path and the
// model, such as "openai:api.openai.com/v1/text-embedding-3-small", with
// "?dimensions=N" appended when Dimensions is set.
func (o *OpenAI) ID() string {
	return o.id
}

// Dim returns the configured Dimensions if set. Otherwise it returns the
// length of the vectors, or 0 before the first successful response.
func (o *OpenAI) Dim() int {
	return o.dimension.get()
}

// String returns the embedder's ID, so that printing an OpenAI with the fmt
// or log/slog packages never shows the API key.
func (o *OpenAI) String() string {
	return "embed.OpenAI(" + o.id + ")"
}

// GoString is String for the %#v verb.
func (o *OpenAI) GoString() string {
	return o.String()
}

// Embed returns one vector per text, in the order of texts. It returns an
// ErrEmptyText error, and sends nothing, if any text is empty or only white
// space, because the API rejects empty inputs. Batches larger than the
// configured batch size or 300,000 bytes are sent as several requests, one
// after another, and the first failing request ends the call.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([]Vector, error) {
	if err := checkTexts(texts); err != nil {
		return nil, err
	}

	vectors := make([]Vector, 0, len(texts))
	for start := 0; start < len(texts); {
		end := nextBatch(texts, start, o.batchSize, maxOpenAIBatchBytes)
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
func (o *OpenAI) embedBatch(ctx context.Context, texts []string, offset int) ([]Vector, error) {
	params := openai.EmbeddingNewParams{
		Model: o.model,
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts},
	}
	if o.dimensions > 0 {
		params.Dimensions = openai.Int(int64(o.dimensions))
	}

	var resp *openai.CreateEmbeddingResponse
	attempts, err := o.retry.run(ctx, o.timeout, o.logger, o.id, func(ctx context.Context) error {
		var err error
		resp, err = o.service.New(ctx, params)
		return err
	}, classifyOpenAI)
	if err != nil {
		return nil, o.translate(ctx, err, attempts)
	}
	if resp == nil {
		// openai-go decodes a response body of JSON null into a nil response.
		return o.vectors(nil, len(texts), offset)
	}
	return o.vectors(resp.Data, len(texts), offset)
}

// vectors puts the items of a response in the order of their index, checks
// that there is exactly one per text and that each has the expected
// dimension, and normalises them.
func (o *OpenAI) vectors(data []openai.Embedding, want, offset int) ([]Vector, error) {
	invalid := func(format string, args ...any) error {
		return &remoteError{
			message:  "openai embed: " + o.host + " " + fmt.Sprintf(format, args...),
			sentinel: ErrInvalidResponse,
		}
	}
	if len(data) != want {
		return nil, invalid("returned %d vectors for %d texts", len(data), want)
	}

	vectors := make([]Vector, want)
	dim := o.dimension.get()
	for _, item := range data {
		if item.Index < 0 || item.Index >= int64(want) {
			return nil, invalid("returned a vector with index %d, outside 0 to %d", item.Index, want-1)
		}
		i := int(item.Index)
		if vectors[i] != nil {
			return nil, invalid("returned two vectors with index %d", i)
		}
		if len(item.Embedding) == 0 {
			return nil, invalid("returned an empty vector for text %d", offset+i)
		}
		if dim == 0 {
			dim = len(item.Embedding)
		}
		if len(item.Embedding) != dim {
			return nil, dimensionError("openai embed", o.id, len(item.Embedding), dim, o.dimensions > 0)
		}
		v, ok := unitVector(item.Embedding)
		if !ok {
			return nil, invalid("returned a vector for text %d that is all zeros or not finite", offset+i)
		}
		vectors[i] = v
	}

	// The dimension is recorded only after every vector passed its checks,
	// so that a failed response leaves Dim at 0. A concurrent call may have
	// recorded another one meanwhile.
	if known, ok := o.dimension.check(dim); !ok {
		return nil, dimensionError("openai embed", o.id, dim, known, o.dimensions > 0)
	}
	return vectors, nil
}

// classifyOpenAI marks connection failures, timeouts and 408, 429 and 5xx
// statuses as transient, except a 429 that reports an exhausted quota, and
// reads the wait that the server requests.
func classifyOpenAI(err error) verdict {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return verdict{transient: transientTransport(err)}
	}
	if !transientStatus(apiErr.StatusCode) || apiErr.Code == "insufficient_quota" {
		return verdict{}
	}

	v := verdict{transient: true}
	if apiErr.Response != nil {
		v.retryAfter = retryAfter(apiErr.Response.Header, time.Now())
	}
	return v
}

// translate turns the last error of a batch into an error whose message says
// what failed and what to do. No message contains the API key.
func (o *OpenAI) translate(ctx context.Context, err error, attempts int) error {
	if ctx.Err() != nil {
		return fmt.Errorf("openai embed: %w", ctx.Err())
	}

	var apiErr *openai.Error
	switch {
	case errors.As(err, &apiErr):
		return o.translateStatus(apiErr, attempts)

	case errors.Is(err, context.DeadlineExceeded):
		return &remoteError{
			message:  fmt.Sprintf("openai embed: request to %s timed out after %v, %s: raise the timeout or lower the batch size", o.host, o.timeout, countAttempts(attempts)),
			sentinel: ErrUnavailable,
			cause:    err,
		}

	case transientTransport(err):
		return &remoteError{
			message:  fmt.Sprintf("openai embed: %s is not reachable, %s (%s): check the base URL and the network", o.host, countAttempts(attempts), o.redact(err.Error())),
			sentinel: ErrUnavailable,
			cause:    err,
		}
	}
	return &remoteError{
		message:  fmt.Sprintf("openai embed: unreadable response from %s: %s", o.host, o.redact(err.Error())),
		sentinel: ErrInvalidResponse,
		cause:    err,
	}
}

func (o *OpenAI) translateStatus(apiErr *openai.Error, attempts int) error {
	code := fmt.Sprintf("%d %s", apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
	message := o.serverMessage(apiErr)
	fail := func(sentinel error, format string, args ...any) error {
		return &remoteError{
			message:  "openai embed: " + fmt.Sprintf(format, args...),
			sentinel: sentinel,
			cause:    apiErr,
		}
	}

	// wait is the server's requested wait when run stopped because it was
	// longer than the policy allows.
	var wait time.Duration
	if v := classifyOpenAI(apiErr); v.retryAfter > o.retry.MaxRetryAfter {
		wait = v.retryAfter
	}

	switch status := apiErr.StatusCode; {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The server's message is left out because some servers quote
		// part of the key in it.
		if o.apiKey == "" {
			return fail(ErrUnauthorized, "%s requires an API key (%s): set one", o.host, code)
		}
		return fail(ErrUnauthorized, "%s rejected the API key (%s): check the key", o.host, code)

	case status == http.StatusNotFound && (apiErr.Code == "model_not_found" || strings.Contains(strings.ToLower(message), "model")):
		return fail(ErrModelNotFound, "model %s not found at %s (%s): %s: check the model name", o.model, o.host, code, message)

	case status == http.StatusNotFound:
		return fail(ErrRejected, "%s has no embeddings endpoint at this base URL (%s): check that the base URL includes the API version, such as /v1", o.host, code)

	case status == http.StatusTooManyRequests && apiErr.Code == "insufficient_quota":
		return fail(ErrRateLimited, "%s reports that the account's quota is used up (%s): %s: check the plan and billing", o.host, code, message)

	case status == http.StatusTooManyRequests && wait > 0:
		return fail(ErrRateLimited, "%s is rate limiting requests (%s) and asks to wait %v, longer than the %v allowed: try again later", o.host, code, wait, o.retry.MaxRetryAfter)

	case status == http.StatusTooManyRequests:
		return fail(ErrRateLimited, "%s is still rate limiting requests (%s) %s: %s: try again later or check the account's rate limits", o.host, code, countAttempts(attempts), message)

	case transientStatus(status) && wait > 0:
		return fail(ErrUnavailable, "%s failed with %s and asks to wait %v, longer than the %v allowed: %s: try again later", o.host, code, wait, o.retry.MaxRetryAfter, message)

	case transientStatus(status):
		return fail(ErrUnavailable, "%s failed with %s, %s: %s: try again later", o.host, code, countAttempts(attempts), message)
	}
	return fail(ErrRejected, "%s rejected the request for model %s with %s: %s", o.host, o.model, code, message)
}

// serverMessage returns the message of an API error: the "message" field
// of an OpenAI error object, or else the start of the response body. It is
// shortened and has the API key removed.
func (o *OpenAI) serverMessage(apiErr *openai.Error) string {
	message := apiErr.Message
	if message == "" && apiErr.Response != nil && apiErr.Response.Body != nil {
		// The client has buffered the body and put it back.
		body, _ := io.ReadAll(io.LimitReader(apiErr.Response.Body, 4*maxServerMessage))
		message = strings.Join(strings.Fields(string(body)), " ")
	}
	if message == "" {
		return "no message"
	}
	return shorten(o.redact(message), maxServerMessage)
}

// redact replaces the API key in s.
func (o *OpenAI) redact(s string) string {
	if o.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, o.apiKey, "[API key]")
}
