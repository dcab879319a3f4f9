package embed_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"hearth/memory/embed"
)

const (
	testModel = openai.EmbeddingModelTextEmbedding3Small
	testKey   = "sk-test-4f9c2a7e81d3b605"

	// fakeDimension is the length of the vectors that fakeOpenAI returns
	// when a request sets no dimensions.
	fakeDimension = 8
)

// fakeOpenAI is an OpenAI embeddings endpoint at /v1/embeddings. It decodes
// each request into openai.EmbeddingNewParams, rejects what the OpenAI API
// rejects (a wrong API key, an unknown model, an empty text, more than 2,048
// texts) with OpenAI's error object, and responds with an
// openai.CreateEmbeddingResponse. Each text's vector is derived from the text
// alone, so a test can check which vector belongs to which text. Tests set
// the fields above mu before the server receives its first request.
type fakeOpenAI struct {
	apiKey           string   // required bearer token, or "" for none
	models           []string // models it serves, or nil for testModel only
	ignoreDimensions bool     // ignore the "dimensions" request field
	reverse          bool     // list the data items in reverse index order

	// editData, when set, replaces the data items of every response.
	editData func(texts []string, data []openai.Embedding) []openai.Embedding

	mu        sync.Mutex
	dimension int // 0 means fakeDimension
	requests  []openAIRequest
}

// openAIRequest is a request that fakeOpenAI received.
type openAIRequest struct {
	params        openai.EmbeddingNewParams
	texts         []string
	authorization string
}

// openAIError is the error object of the OpenAI API, sent as the "error"
// field of a response body.
type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// base64Embedding is an openai.Embedding whose vector is sent as base64 of
// little-endian float32 values, as OpenAI does for requests with
// "encoding_format": "base64".
type base64Embedding struct {
	openai.Embedding
	Base64 string `json:"embedding"`
}

// base64Response is an openai.CreateEmbeddingResponse with base64 vectors.
type base64Response struct {
	openai.CreateEmbeddingResponse
	Data []base64Embedding `json:"data"`
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		writeOpenAIError(w, http.StatusNotFound, nil, "", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var params openai.EmbeddingNewParams
	if err := json.Unmarshal(body, &params); err != nil {
		writeOpenAIError(w, http.StatusBadRequest, nil, "", "We could not parse the JSON body of your request.")
		return
	}
	texts := params.Input.OfArrayOfStrings
	if params.Input.OfString.Valid() {
		texts = []string{params.Input.OfString.Value}
	}
	authorization := r.Header.Get("Authorization")

	f.mu.Lock()
	f.requests = append(f.requests, openAIRequest{params: params, texts: texts, authorization: authorization})
	dimension := cmp.Or(f.dimension, fakeDimension)
	f.mu.Unlock()

	// Check the request as the OpenAI API does.
	models := f.models
	if models == nil {
		models = []string{testModel}
	}
	switch {
	case f.apiKey != "" && authorization == "":
		writeOpenAIError(w, http.StatusUnauthorized, nil, "", "You didn't provide an API key.")
		return
	case f.apiKey != "" && authorization != "Bearer "+f.apiKey:
		// OpenAI quotes part of the key. This quotes all of it, to check
		// that the embedder never passes it on.
		key := strings.TrimPrefix(authorization, "Bearer ")
		writeOpenAIError(w, http.StatusUnauthorized, nil, "invalid_api_key", "Incorrect API key provided: "+key+".")
		return
	case !slices.Contains(models, params.Model):
		writeOpenAIError(w, http.StatusNotFound, nil, "model_not_found",
			fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", params.Model))
		return
	case len(texts) == 0 || len(texts) > 2048 || slices.Contains(texts, ""):
		writeOpenAIError(w, http.StatusBadRequest, nil, "", "'$.input' is invalid. Please check the API reference.")
		return
	}
	if params.Dimensions.Valid() && !f.ignoreDimensions {
		dimension = int(params.Dimensions.Value)
	}

	// Send the vectors in the encoding that the request sets.
	data := make([]openai.Embedding, len(texts))
	for i, text := range texts {
		data[i] = openai.Embedding{Embedding: fakeVector(text, dimension), Index: int64(i)}
	}
	if f.reverse {
		slices.Reverse(data)
	}
	if f.editData != nil {
		data = f.editData(texts, data)
	}
	// The token counts are a rough estimate, because the embedder ignores
	// them.
	response := openai.CreateEmbeddingResponse{
		Data:  data,
		Model: params.Model,
		Usage: openai.CreateEmbeddingResponseUsage{PromptTokens: int64(len(body) / 4), TotalTokens: int64(len(body) / 4)},
	}
	switch params.EncodingFormat {
	case "", openai.EmbeddingNewParamsEncodingFormatFloat:
		writeJSON(w, http.StatusOK, response)
	case openai.EmbeddingNewParamsEncodingFormatBase64:
		encoded := base64Response{CreateEmbeddingResponse: response}
		for _, item := range data {
			encoded.Data = append(encoded.Data, base64Embedding{Embedding: item, Base64: base64Vector(item.Embedding...)})
		}
		writeJSON(w, http.StatusOK, encoded)
	default:
		writeOpenAIError(w, http.StatusBadRequest, nil, "", "'$.encoding_format' is invalid.")
	}
}

// setDimension sets the length of the vectors for requests without
// dimensions.
func (f *fakeOpenAI) setDimension(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dimension = n
}

// received returns the requests received so far.
func (f *fakeOpenAI) received() []openAIRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// fakeVector returns the fake vector of text, which depends only on text and
// dimension.
func fakeVector(text string, dimension int) []float64 {
	hash := fnv.New64a()
	hash.Write([]byte(text))
	random := rand.New(rand.NewPCG(hash.Sum64(), uint64(dimension)))

	vector := make([]float64, dimension)
	for i := range vector {
		vector[i] = random.Float64()*2 - 1
	}
	return vector
}

// wantVector returns the unit vector that the embedder should return for
// text when the fake sends vectors of the given dimension.
func wantVector(text string, dimension int) embed.Vector {
	values := fakeVector(text, dimension)
	var squares float64
	for _, x := range values {
		squares += x * x
	}
	unit := make(embed.Vector, dimension)
	for i, x := range values {
		unit[i] = float32(x / math.Sqrt(squares))
	}
	return unit
}

// base64Vector encodes values as OpenAI does for "encoding_format": "base64".
func base64Vector[F float32 | float64](values ...F) string {
	raw := make([]byte, 0, 4*len(values))
	for _, x := range values {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(x)))
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// writeOpenAIError sends status with header and an OpenAI error object. An
// empty code is sent as null.
func writeOpenAIError(w http.ResponseWriter, status int, header http.Header, code, message string) {
	for key, values := range header {
		w.Header()[key] = values
	}
	body := openAIError{Message: message, Type: "invalid_request_error"}
	if code != "" {
		body.Code = &code
	}
	if status >= 500 {
		body.Type = "server_error"
	}
	writeJSON(w, status, map[string]openAIError{"error": body})
}

// failWith returns a handler that sends status with header and an OpenAI
// error object.
func failWith(status int, header http.Header, code, message string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeOpenAIError(w, status, header, code, message)
	}
}

// stall blocks until the client cancels the request.
func stall(w http.ResponseWriter, r *http.Request) {
	// net/http notices that the client closed the connection only after
	// the handler has read the request body.
	io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

// serveOpenAI serves handler on a loopback server and returns its base URL,
// which ends in /v1.
func serveOpenAI(t *testing.T, handler http.Handler) string {
	t.Helper()
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	return server.URL + "/v1"
}

// failFirst returns a handler that sends the first failures requests to fail
// and the others to next, and a count of all requests.
func failFirst(failures int, fail, next http.Handler) (http.Handler, *atomic.Int32) {
	var requests atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(requests.Add(1)) <= failures {
			fail.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	}), &requests
}

// newOpenAI returns an OpenAI embedder for testModel at baseURL with testKey
// and quickRetry, after applying change to its config.
func newOpenAI(t *testing.T, baseURL string, change func(*embed.OpenAIConfig)) *embed.OpenAI {
	t.Helper()
	cfg := embed.OpenAIConfig{BaseURL: baseURL, APIKey: testKey, Model: testModel, Retry: quickRetry}
	if change != nil {
		change(&cfg)
	}
	o, err := embed.NewOpenAI(cfg)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return o
}

// checkOpenAIError is checkError that also fails the test when the message
// contains testKey.
func checkOpenAIError(t *testing.T, err, want error, parts ...string) {
	t.Helper()
	checkError(t, err, want, parts...)
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("error %q contains the API key", err)
	}
}

// checkVectors fails the test unless vectors are the fake's vectors of texts,
// in order.
func checkVectors(t *testing.T, vectors []embed.Vector, texts []string, dimension int) {
	t.Helper()
	if len(vectors) != len(texts) {
		t.Fatalf("got %d vectors for %d texts", len(vectors), len(texts))
	}
	for i, text := range texts {
		checkUnit(t, vectors[i])
		if sim := dot(t, vectors[i], wantVector(text, dimension)); sim < 0.99999 {
			t.Errorf("vector %d has similarity %.5f to the vector of %.20q, want 1", i, sim, text)
		}
	}
}

// requestSizes returns the number of texts in each request.
func requestSizes(requests []openAIRequest) []int {
	var sizes []int
	for _, r := range requests {
		sizes = append(sizes, len(r.texts))
	}
	return sizes
}

func TestOpenAIEmbedBatch(t *testing.T) {
	fake := &fakeOpenAI{apiKey: testKey}
	o := newOpenAI(t, serveOpenAI(t, fake), nil)
	texts := []string{"my landlord raised the rent", "大家さん", "🎂 party"}

	if o.Dim() != 0 {
		t.Errorf("Dim before the first call is %d, want 0", o.Dim())
	}
	if n := len(fake.received()); n != 0 {
		t.Errorf("fake received %d requests before the first call, want none", n)
	}
	vectors := embedAll(t, o, texts...)

	checkVectors(t, vectors, texts, fakeDimension)
	if o.Dim() != fakeDimension {
		t.Errorf("Dim is %d, want %d", o.Dim(), fakeDimension)
	}
	if sim := dot(t, vectors[0], vectors[1]); sim > 0.99 {
		t.Errorf("vectors of different texts have similarity %.3f, want them distinct", sim)
	}

	requests := fake.received()
	if len(requests) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(requests))
	}
	r := requests[0]
	if r.params.Model != testModel {
		t.Errorf("request model is %q, want %q", r.params.Model, testModel)
	}
	if !slices.Equal(r.params.Input.OfArrayOfStrings, texts) {
		t.Errorf("request input is %q, want the list %q", r.params.Input.OfArrayOfStrings, texts)
	}
	if r.params.Dimensions.Valid() {
		t.Errorf("request has dimensions %d, want the field omitted", r.params.Dimensions.Value)
	}
	if r.authorization != "Bearer "+testKey {
		t.Errorf("Authorization header is %q, want the API key as a bearer token", r.authorization)
	}
}

func TestOpenAIDataOutOfOrder(t *testing.T) {
	fake := &fakeOpenAI{reverse: true}
	o := newOpenAI(t, serveOpenAI(t, fake), nil)
	texts := []string{"rent", "landlord", "lease", "deposit"}

	vectors := embedAll(t, o, texts...)

	checkVectors(t, vectors, texts, fakeDimension)
}

func TestOpenAISplitsBatchesByCount(t *testing.T) {
	many := make([]string, 300)
	for i := range many {
		many[i] = "message " + strconv.Itoa(i)
	}
	tests := []struct {
		name      string
		batchSize int
		texts     []string
		want      []int
	}{
		{"batch size 2", 2, []string{"one", "two", "three", "four", "five"}, []int{2, 2, 1}},
		{"default batch size", 0, many, []int{256, 44}},
		{"exact multiple", 2, []string{"one", "two", "three", "four"}, []int{2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeOpenAI{}
			o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.BatchSize = tt.batchSize })

			vectors := embedAll(t, o, tt.texts...)

			if sizes := requestSizes(fake.received()); !slices.Equal(sizes, tt.want) {
				t.Errorf("requests had %v texts, want %v", sizes, tt.want)
			}
			checkVectors(t, vectors, tt.texts, fakeDimension)
		})
	}
}

func TestOpenAISplitsBatchesByBytes(t *testing.T) {
	// A request contains at most 300,000 bytes of text, unless a single
	// text is longer.
	text := func(n int, letter string) string { return strings.Repeat(letter, n) }
	tests := []struct {
		name  string
		texts []string
		want  []int
	}{
		{"at the limit", []string{text(100_000, "a"), text(100_000, "b"), text(100_000, "c"), text(100_000, "d")}, []int{3, 1}},
		{"over the limit", []string{text(100_001, "a"), text(100_001, "b"), text(100_001, "c"), text(100_001, "d")}, []int{2, 2}},
		{"one long text", []string{text(350_000, "a"), "rent", "landlord"}, []int{1, 2}},
		{"long text last", []string{"rent", text(350_000, "a")}, []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeOpenAI{}
			o := newOpenAI(t, serveOpenAI(t, fake), nil)

			vectors := embedAll(t, o, tt.texts...)

			if sizes := requestSizes(fake.received()); !slices.Equal(sizes, tt.want) {
				t.Errorf("requests had %v texts, want %v", sizes, tt.want)
			}
			checkVectors(t, vectors, tt.texts, fakeDimension)
		})
	}
}

func TestOpenAIID(t *testing.T) {
	tests := []struct {
		baseURL    string
		model      string
		dimensions int
		want       string
	}{
		{"https://api.openai.com/v1", "text-embedding-3-small", 0, "openai:api.openai.com/v1/text-embedding-3-small"},
		{"https://api.openai.com/v1/", "text-embedding-3-small", 0, "openai:api.openai.com/v1/text-embedding-3-small"},
		{"https://api.openai.com/v1", "text-embedding-3-large", 0, "openai:api.openai.com/v1/text-embedding-3-large"},
		{"https://api.openai.com/v1", "text-embedding-3-small", 256, "openai:api.openai.com/v1/text-embedding-3-small?dimensions=256"},
		{"http://127.0.0.1:8080/v1", "text-embedding-3-small", 0, "openai:127.0.0.1:8080/v1/text-embedding-3-small"},
		{"http://127.0.0.1:8081/v1", "text-embedding-3-small", 0, "openai:127.0.0.1:8081/v1/text-embedding-3-small"},
		{"http://127.0.0.1:8081/alt/v1", "text-embedding-3-small", 0, "openai:127.0.0.1:8081/alt/v1/text-embedding-3-small"},
	}
	for _, tt := range tests {
		o := newOpenAI(t, tt.baseURL, func(cfg *embed.OpenAIConfig) {
			cfg.Model = tt.model
			cfg.Dimensions = tt.dimensions
		})
		if o.ID() != tt.want {
			t.Errorf("ID for %s, model %s and dimensions %d is %q, want %q", tt.baseURL, tt.model, tt.dimensions, o.ID(), tt.want)
		}
	}
}

func TestOpenAIIDIgnoresKey(t *testing.T) {
	a := newOpenAI(t, "https://api.openai.com/v1", nil)
	b := newOpenAI(t, "https://api.openai.com/v1", func(cfg *embed.OpenAIConfig) { cfg.APIKey = "sk-another-key" })

	if a.ID() != b.ID() {
		t.Errorf("IDs for two API keys are %q and %q, want them equal", a.ID(), b.ID())
	}
	if strings.Contains(a.ID(), testKey) {
		t.Errorf("ID %q contains the API key", a.ID())
	}
}

func TestOpenAIPrintHidesKey(t *testing.T) {
	o := newOpenAI(t, "https://api.openai.com/v1", nil)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("configured", "embedder", o)

	for _, printed := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), logs.String()} {
		if strings.Contains(printed, testKey) {
			t.Errorf("printed embedder %q contains the API key", printed)
		}
		if !strings.Contains(printed, o.ID()) {
			t.Errorf("printed embedder %q does not contain its ID %q", printed, o.ID())
		}
	}
}

func TestOpenAISendsDimensions(t *testing.T) {
	fake := &fakeOpenAI{}
	o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.Dimensions = 4 })

	if o.Dim() != 4 {
		t.Errorf("Dim before the first call is %d, want the configured 4", o.Dim())
	}
	vectors := embedAll(t, o, "rent", "landlord")

	checkVectors(t, vectors, []string{"rent", "landlord"}, 4)
	requests := fake.received()
	if len(requests) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(requests))
	}
	if d := requests[0].params.Dimensions; !d.Valid() || d.Value != 4 {
		t.Errorf("request dimensions are %v (set: %t), want 4", d.Value, d.Valid())
	}
}

func TestOpenAIConfiguredDimensionMismatch(t *testing.T) {
	fake := &fakeOpenAI{ignoreDimensions: true}
	o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.Dimensions = 4 })

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrDimensionMismatch, "dimension 8", "configured 4", o.ID(), "remove it")
	if o.Dim() != 4 {
		t.Errorf("Dim is %d after the mismatch, want the configured 4", o.Dim())
	}
}

func TestOpenAILearnedDimensionMismatch(t *testing.T) {
	fake := &fakeOpenAI{}
	o := newOpenAI(t, serveOpenAI(t, fake), nil)
	embedAll(t, o, "rent")

	fake.setDimension(6)
	_, err := o.Embed(t.Context(), []string{"landlord"})

	checkOpenAIError(t, err, embed.ErrDimensionMismatch, "dimension 6", "want 8", o.ID(), "rebuild")
	if o.Dim() != fakeDimension {
		t.Errorf("Dim is %d after the mismatch, want %d", o.Dim(), fakeDimension)
	}
}

func TestOpenAIStatusesRetried(t *testing.T) {
	statuses := []int{
		http.StatusRequestTimeout,
		http.StatusTooManyRequests,
		http.StatusInternalServerError,
		http.StatusBadGateway,
		http.StatusServiceUnavailable,
		http.StatusGatewayTimeout,
	}
	for _, status := range statuses {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			handler, requests := failFirst(2, failWith(status, nil, "", "try again"), &fakeOpenAI{})
			o := newOpenAI(t, serveOpenAI(t, handler), nil)

			vectors := embedAll(t, o, "rent", "landlord")

			if requests.Load() != 3 {
				t.Errorf("server received %d requests, want 3: two failures and one success", requests.Load())
			}
			checkVectors(t, vectors, []string{"rent", "landlord"}, fakeDimension)
		})
	}
}

func TestOpenAIStatusesNotRetried(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   error
	}{
		{http.StatusBadRequest, "", embed.ErrRejected},
		{http.StatusUnauthorized, "invalid_api_key", embed.ErrUnauthorized},
		{http.StatusForbidden, "", embed.ErrUnauthorized},
		{http.StatusNotFound, "model_not_found", embed.ErrModelNotFound},
		{http.StatusNotFound, "", embed.ErrRejected},
		{http.StatusUnprocessableEntity, "", embed.ErrRejected},
		{http.StatusTooManyRequests, "insufficient_quota", embed.ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.code), func(t *testing.T) {
			handler, requests := failFirst(1, failWith(tt.status, nil, tt.code, "request failed"), &fakeOpenAI{})
			o := newOpenAI(t, serveOpenAI(t, handler), nil)

			_, err := o.Embed(t.Context(), []string{"rent"})

			checkOpenAIError(t, err, tt.want, strconv.Itoa(tt.status))
			if requests.Load() != 1 {
				t.Errorf("server received %d requests, want 1", requests.Load())
			}
		})
	}
}

func TestOpenAIWrongKey(t *testing.T) {
	fake := &fakeOpenAI{apiKey: "sk-the-right-key"}
	o := newOpenAI(t, serveOpenAI(t, fake), nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrUnauthorized, "rejected the API key", "401 Unauthorized", "check the key")
	if strings.Contains(err.Error(), "Incorrect API key provided") {
		t.Errorf("error %q contains the server's message, which may quote the key", err)
	}
	if n := len(fake.received()); n != 1 {
		t.Errorf("fake received %d requests, want 1", n)
	}
}

func TestOpenAIMissingKey(t *testing.T) {
	fake := &fakeOpenAI{apiKey: testKey}
	o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.APIKey = "" })

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrUnauthorized, "requires an API key", "401 Unauthorized", "set one")
	requests := fake.received()
	if len(requests) != 1 {
		t.Fatalf("fake received %d requests, want 1", len(requests))
	}
	if requests[0].authorization != "" {
		t.Errorf("Authorization header is %q, want none", requests[0].authorization)
	}
}

func TestOpenAIIgnoresEnvironment(t *testing.T) {
	elsewhere := &fakeOpenAI{}
	t.Setenv("OPENAI_BASE_URL", serveOpenAI(t, elsewhere))
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment")
	fake := &fakeOpenAI{}
	o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.APIKey = "" })

	embedAll(t, o, "rent")

	requests := fake.received()
	if len(requests) != 1 {
		t.Fatalf("configured server received %d requests, want 1", len(requests))
	}
	if requests[0].authorization != "" {
		t.Errorf("Authorization header is %q, want none", requests[0].authorization)
	}
	if n := len(elsewhere.received()); n != 0 {
		t.Errorf("server at OPENAI_BASE_URL received %d requests, want none", n)
	}
}

func TestOpenAIModelNotFound(t *testing.T) {
	fake := &fakeOpenAI{}
	o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.Model = "text-embedding-4-tiny" })

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrModelNotFound, "model text-embedding-4-tiny not found", "404 Not Found",
		"does not exist", "check the model name")
	if n := len(fake.received()); n != 1 {
		t.Errorf("fake received %d requests, want 1", n)
	}
}

func TestOpenAINoEmbeddingsEndpoint(t *testing.T) {
	baseURL := strings.TrimSuffix(serveOpenAI(t, &fakeOpenAI{}), "/v1")
	o := newOpenAI(t, baseURL, nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrRejected, "no embeddings endpoint", "404 Not Found", "/v1")
}

func TestOpenAIBadRequestNotRetried(t *testing.T) {
	message := "This model's maximum context length is 8192 tokens, however you requested 9000 tokens. Key " + testKey + "."
	handler, requests := failFirst(1, failWith(http.StatusBadRequest, nil, "", message), &fakeOpenAI{})
	o := newOpenAI(t, serveOpenAI(t, handler), nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrRejected, "400 Bad Request", testModel, "maximum context length is 8192 tokens", "Key [API key].")
	if requests.Load() != 1 {
		t.Errorf("server received %d requests, want 1", requests.Load())
	}
}

func TestOpenAIRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header string
		value  string
		wait   time.Duration
	}{
		{"429 Retry-After", http.StatusTooManyRequests, "Retry-After", "1", time.Second},
		{"429 retry-after-ms", http.StatusTooManyRequests, "Retry-After-Ms", "150", 150 * time.Millisecond},
		{"503 Retry-After", http.StatusServiceUnavailable, "Retry-After", "1", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := http.Header{tt.header: {tt.value}}
			handler, requests := failFirst(1, failWith(tt.status, header, "", "slow down"), &fakeOpenAI{})
			o := newOpenAI(t, serveOpenAI(t, handler), nil)

			start := time.Now()
			embedAll(t, o, "rent")
			elapsed := time.Since(start)

			if requests.Load() != 2 {
				t.Errorf("server received %d requests, want 2", requests.Load())
			}
			if elapsed < tt.wait {
				t.Errorf("Embed took %v, want at least the %v that %s requests", elapsed, tt.wait, tt.header)
			}
		})
	}
}

func TestOpenAIRetryAfterTooLong(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusTooManyRequests, embed.ErrRateLimited},
		{http.StatusServiceUnavailable, embed.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			header := http.Header{"Retry-After": {"120"}}
			handler, requests := failFirst(1, failWith(tt.status, header, "", "slow down"), &fakeOpenAI{})
			o := newOpenAI(t, serveOpenAI(t, handler), nil)

			_, err := o.Embed(t.Context(), []string{"rent"})

			checkOpenAIError(t, err, tt.want, "asks to wait 2m0s", "longer than the 1m0s allowed", "try again later")
			if requests.Load() != 1 {
				t.Errorf("server received %d requests, want 1", requests.Load())
			}
		})
	}
}

func TestOpenAIQuotaExhausted(t *testing.T) {
	message := "You exceeded your current quota, please check your plan and billing details."
	handler, requests := failFirst(1, failWith(http.StatusTooManyRequests, nil, "insufficient_quota", message), &fakeOpenAI{})
	o := newOpenAI(t, serveOpenAI(t, handler), nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrRateLimited, "quota is used up", "429 Too Many Requests", message, "check the plan and billing")
	if requests.Load() != 1 {
		t.Errorf("server received %d requests, want 1", requests.Load())
	}
}

func TestOpenAIGivesUpOnRateLimit(t *testing.T) {
	handler, requests := failFirst(100, failWith(http.StatusTooManyRequests, nil, "rate_limit_exceeded", "Rate limit reached"), &fakeOpenAI{})
	o := newOpenAI(t, serveOpenAI(t, handler), nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrRateLimited, "still rate limiting", "429 Too Many Requests", "after 3 attempts", "Rate limit reached")
	if requests.Load() != 3 {
		t.Errorf("server received %d requests, want 3", requests.Load())
	}
}

func TestOpenAIGivesUpOnServerErrors(t *testing.T) {
	tests := []struct {
		name        string
		maxAttempts int
		fail        http.HandlerFunc
		want        []string
	}{
		{
			name:        "OpenAI error object",
			maxAttempts: 3,
			fail:        failWith(http.StatusInternalServerError, nil, "", "The server had an error processing your request. Key "+testKey),
			want:        []string{"500 Internal Server Error", "after 3 attempts", "The server had an error", "Key [API key]"},
		},
		{
			name:        "plain text from a proxy",
			maxAttempts: 2,
			fail: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "upstream connect error\n\n  or disconnect", http.StatusBadGateway)
			},
			want: []string{"502 Bad Gateway", "after 2 attempts", "upstream connect error or disconnect"},
		},
		{
			name:        "empty body",
			maxAttempts: 1,
			fail:        func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
			want:        []string{"503 Service Unavailable", "after 1 attempt:", "no message"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler, requests := failFirst(100, tt.fail, &fakeOpenAI{})
			o := newOpenAI(t, serveOpenAI(t, handler), func(cfg *embed.OpenAIConfig) { cfg.Retry.MaxAttempts = tt.maxAttempts })

			_, err := o.Embed(t.Context(), []string{"rent"})

			checkOpenAIError(t, err, embed.ErrUnavailable, tt.want...)
			if int(requests.Load()) != tt.maxAttempts {
				t.Errorf("server received %d requests, want %d", requests.Load(), tt.maxAttempts)
			}
		})
	}
}

func TestOpenAIUnreachable(t *testing.T) {
	baseURL := closedURL(t) + "/v1"
	o := newOpenAI(t, baseURL, nil)

	_, err := o.Embed(t.Context(), []string{"rent"})

	host := strings.TrimSuffix(strings.TrimPrefix(baseURL, "http://"), "/v1")
	checkOpenAIError(t, err, embed.ErrUnavailable, host+" is not reachable", "after 3 attempts", "check the base URL")
}

func TestOpenAITimeoutRetried(t *testing.T) {
	handler, requests := failFirst(1, http.HandlerFunc(stall), &fakeOpenAI{})
	o := newOpenAI(t, serveOpenAI(t, handler), func(cfg *embed.OpenAIConfig) { cfg.Timeout = 100 * time.Millisecond })

	vectors := embedAll(t, o, "rent")

	if requests.Load() != 2 {
		t.Errorf("server received %d requests, want 2: one timed out and one succeeded", requests.Load())
	}
	checkVectors(t, vectors, []string{"rent"}, fakeDimension)
}

func TestOpenAITimeout(t *testing.T) {
	handler, requests := failFirst(100, http.HandlerFunc(stall), &fakeOpenAI{})
	o := newOpenAI(t, serveOpenAI(t, handler), func(cfg *embed.OpenAIConfig) {
		cfg.Timeout = 50 * time.Millisecond
		cfg.Retry.MaxAttempts = 2
	})

	_, err := o.Embed(t.Context(), []string{"rent"})

	checkOpenAIError(t, err, embed.ErrUnavailable, "timed out after 50ms", "after 2 attempts", "raise the timeout")
	if requests.Load() != 2 {
		t.Errorf("server received %d requests, want 2", requests.Load())
	}
}

func TestOpenAIInvalidResponse(t *testing.T) {
	item := func(index int64, values ...float64) openai.Embedding {
		return openai.Embedding{Index: index, Embedding: values}
	}
	list := func(items ...openai.Embedding) openai.CreateEmbeddingResponse {
		return openai.CreateEmbeddingResponse{Model: testModel, Data: items}
	}
	tests := []struct {
		name     string
		response any // a string is sent as it is, other values as JSON
		want     error
		message  string
	}{
		{"too few", list(item(0, 1, 0)), embed.ErrInvalidResponse, "returned 1 vectors for 2 texts"},
		{"too many", list(item(0, 1, 0), item(1, 0, 1), item(2, 1, 1)), embed.ErrInvalidResponse, "returned 3 vectors for 2 texts"},
		{"no data", `{"object": "list", "model": "text-embedding-3-small"}`, embed.ErrInvalidResponse, "returned 0 vectors for 2 texts"},
		{"null body", `null`, embed.ErrInvalidResponse, "returned 0 vectors for 2 texts"},
		{"duplicate index", list(item(0, 1, 0), item(0, 0, 1)), embed.ErrInvalidResponse, "two vectors with index 0"},
		{"index too large", list(item(0, 1, 0), item(2, 0, 1)), embed.ErrInvalidResponse, "index 2, outside 0 to 1"},
		{"negative index", list(item(-1, 1, 0), item(1, 0, 1)), embed.ErrInvalidResponse, "index -1, outside 0 to 1"},
		{"empty vector", list(item(0, 1, 0), item(1)), embed.ErrInvalidResponse, "empty vector for text 1"},
		{"zero vector", list(item(0, 1, 0), item(1, 0, 0)), embed.ErrInvalidResponse, "text 1 that is all zeros or not finite"},
		{
			// 1e999 is valid JSON but overflows float64, so openai-go
			// decodes it as +Inf.
			"infinite value",
			`{"object": "list", "model": "text-embedding-3-small", "data": [
				{"object": "embedding", "index": 0, "embedding": [1, 0]},
				{"object": "embedding", "index": 1, "embedding": [1e999, 0]}]}`,
			embed.ErrInvalidResponse, "text 1 that is all zeros or not finite",
		},
		{
			// JSON numbers cannot be NaN, but base64 vectors can, and
			// openai-go decodes a base64 vector whatever encoding the
			// request set.
			"NaN value",
			base64Response{
				CreateEmbeddingResponse: list(),
				Data: []base64Embedding{
					{Embedding: item(0), Base64: base64Vector(1.0, 0)},
					{Embedding: item(1), Base64: base64Vector(math.NaN(), 1)},
				},
			},
			embed.ErrInvalidResponse, "text 1 that is all zeros or not finite",
		},
		{"mixed dimensions", list(item(0, 1, 0, 0), item(1, 0, 1)), embed.ErrDimensionMismatch, "dimension 2"},
		{"not JSON", `{"object": "list", "data": [}`, embed.ErrInvalidResponse, "unreadable response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, isString := tt.response.(string)
			if !isString {
				encoded, err := json.Marshal(tt.response)
				if err != nil {
					t.Fatalf("encode response: %v", err)
				}
				body = string(encoded)
			}
			baseURL := serveOpenAI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, body)
			}))
			o := newOpenAI(t, baseURL, func(cfg *embed.OpenAIConfig) { cfg.Retry.MaxAttempts = 1 })

			_, err := o.Embed(t.Context(), []string{"rent", "landlord"})

			checkOpenAIError(t, err, tt.want, tt.message)
			if o.Dim() != 0 {
				t.Errorf("Dim is %d after an invalid first response, want 0", o.Dim())
			}
		})
	}
}

func TestOpenAIInvalidResponseNamesText(t *testing.T) {
	fake := &fakeOpenAI{editData: func(texts []string, data []openai.Embedding) []openai.Embedding {
		for i := range data {
			if texts[data[i].Index] == "landlord" {
				data[i].Embedding = make([]float64, len(data[i].Embedding))
			}
		}
		return data
	}}
	o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.BatchSize = 2 })

	_, err := o.Embed(t.Context(), []string{"rent", "lease", "deposit", "landlord"})

	checkOpenAIError(t, err, embed.ErrInvalidResponse, "text 3 that is all zeros")
}

func TestOpenAIEmptyTextSendsNothing(t *testing.T) {
	fake := &fakeOpenAI{}
	o := newOpenAI(t, serveOpenAI(t, fake), nil)

	for _, texts := range [][]string{{"rent", ""}, {"rent", " \n\t"}} {
		_, err := o.Embed(t.Context(), texts)

		checkOpenAIError(t, err, embed.ErrEmptyText, "text 1 of 2")
	}
	if n := len(fake.received()); n != 0 {
		t.Errorf("fake received %d requests, want none", n)
	}
}

func TestOpenAINoTextsSendsNothing(t *testing.T) {
	fake := &fakeOpenAI{}
	o := newOpenAI(t, serveOpenAI(t, fake), nil)

	vectors, err := o.Embed(t.Context(), nil)

	if err != nil || len(vectors) != 0 {
		t.Errorf("Embed of no texts returned %d vectors and error %v, want none and nil", len(vectors), err)
	}
	if n := len(fake.received()); n != 0 {
		t.Errorf("fake received %d requests, want none", n)
	}
}

func TestOpenAICanceled(t *testing.T) {
	handler, _ := failFirst(100, http.HandlerFunc(stall), &fakeOpenAI{})
	o := newOpenAI(t, serveOpenAI(t, handler), nil)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)

	_, err := o.Embed(ctx, []string{"rent"})

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error is %v, want context.Canceled", err)
	}
}

func TestOpenAILogsRetries(t *testing.T) {
	fail := failWith(http.StatusServiceUnavailable, nil, "", "Service overloaded for key "+testKey)
	handler, _ := failFirst(1, fail, &fakeOpenAI{})
	var logs bytes.Buffer
	o := newOpenAI(t, serveOpenAI(t, handler), func(cfg *embed.OpenAIConfig) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})

	embedAll(t, o, "my secret message")

	for _, part := range []string{"level=WARN", "retrying", "backend=" + o.ID(), "attempt=1", "503"} {
		if !strings.Contains(logs.String(), part) {
			t.Errorf("log %q does not contain %q", logs.String(), part)
		}
	}
	if strings.Contains(logs.String(), testKey) {
		t.Errorf("log %q contains the API key", logs.String())
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("log %q contains the text", logs.String())
	}
}

func TestOpenAIUsesHTTPClient(t *testing.T) {
	var roundTrips atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		roundTrips.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	o := newOpenAI(t, serveOpenAI(t, &fakeOpenAI{}), func(cfg *embed.OpenAIConfig) { cfg.HTTPClient = client })

	embedAll(t, o, "rent")

	if roundTrips.Load() != 1 {
		t.Errorf("configured HTTP client sent %d requests, want 1", roundTrips.Load())
	}
}

// roundTripFunc is a function used as an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) {
	return f(r)
}

func TestOpenAIConcurrent(t *testing.T) {
	fake := &fakeOpenAI{}
	o := newOpenAI(t, serveOpenAI(t, fake), func(cfg *embed.OpenAIConfig) { cfg.BatchSize = 2 })

	const calls = 8
	var texts [calls][]string
	var vectors [calls][]embed.Vector
	var errs [calls]error
	var wg sync.WaitGroup
	for i := range calls {
		texts[i] = []string{"rent " + strconv.Itoa(i), "landlord", "lease " + strconv.Itoa(i)}
		wg.Go(func() {
			vectors[i], errs[i] = o.Embed(t.Context(), texts[i])
		})
	}
	wg.Wait()

	for i := range calls {
		if errs[i] != nil {
			t.Fatalf("Embed %d: %v", i, errs[i])
		}
		checkVectors(t, vectors[i], texts[i], fakeDimension)
	}

	if n := len(fake.received()); n != 16 {
		t.Errorf("fake received %d requests, want 16", n)
	}
	if o.Dim() != fakeDimension {
		t.Errorf("Dim is %d, want %d", o.Dim(), fakeDimension)
	}
}

func TestNewOpenAIInvalid(t *testing.T) {
	valid := embed.OpenAIConfig{BaseURL: "http://127.0.0.1:8080/v1", Model: testModel}
	with := func(change func(*embed.OpenAIConfig)) embed.OpenAIConfig {
		cfg := valid
		change(&cfg)
		return cfg
	}
	tests := []struct {
		name string
		cfg  embed.OpenAIConfig
		want string
	}{
		{"no base URL", with(func(cfg *embed.OpenAIConfig) { cfg.BaseURL = "" }), "missing OpenAI base URL"},
		{"no scheme", with(func(cfg *embed.OpenAIConfig) { cfg.BaseURL = "127.0.0.1:8080/v1" }), "invalid OpenAI base URL"},
		{"other scheme", with(func(cfg *embed.OpenAIConfig) { cfg.BaseURL = "ftp://127.0.0.1/v1" }), "invalid OpenAI base URL"},
		{"no host", with(func(cfg *embed.OpenAIConfig) { cfg.BaseURL = "http:///v1" }), "invalid OpenAI base URL"},
		{"unparsable", with(func(cfg *embed.OpenAIConfig) { cfg.BaseURL = "http://127.0.0.1:80%zz/v1" }), "invalid OpenAI base URL"},
		{"credentials", with(func(cfg *embed.OpenAIConfig) { cfg.BaseURL = "https://user:" + testKey + "@api.openai.com/v1" }), "move them to the API key setting"},
		{"no model", with(func(cfg *embed.OpenAIConfig) { cfg.Model = "" }), "missing OpenAI embedding model"},
		{"negative dimensions", with(func(cfg *embed.OpenAIConfig) { cfg.Dimensions = -1 }), "dimensions -1"},
		{"negative timeout", with(func(cfg *embed.OpenAIConfig) { cfg.Timeout = -time.Second }), "timeout -1s"},
		{"negative batch size", with(func(cfg *embed.OpenAIConfig) { cfg.BatchSize = -1 }), "batch size -1"},
		{"batch size too large", with(func(cfg *embed.OpenAIConfig) { cfg.BatchSize = 2049 }), "at most 2048 texts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := embed.NewOpenAI(tt.cfg)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error is %v, want one containing %q", err, tt.want)
			}
			if o != nil {
				t.Errorf("NewOpenAI returned an embedder along with the error")
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}

	if _, err := embed.NewOpenAI(with(func(cfg *embed.OpenAIConfig) { cfg.BatchSize = 2048 })); err != nil {
		t.Errorf("NewOpenAI with batch size 2048: %v", err)
	}
}

// ExampleOpenAI embeds two texts with a local OpenAI-compatible server, here
// the test fake fakeOpenAI.
func ExampleOpenAI() {
	server := httptest.NewServer(&fakeOpenAI{})
	defer server.Close()

	embedder, err := embed.NewOpenAI(embed.OpenAIConfig{
		BaseURL: server.URL + "/v1",
		Model:   "text-embedding-3-small",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	vectors, err := embedder.Embed(context.Background(), []string{"my landlord raised the rent", "the lease ends in May"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d vectors of dimension %d\n", len(vectors), embedder.Dim())
	// Output: 2 vectors of dimension 8
}
