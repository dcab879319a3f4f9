package app

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
)

// DefaultOpenAIURL is the base URL of OpenAI's own API. Other
// OpenAI-compatible servers, such as LM Studio, llama.cpp's server or vLLM,
// serve the same routes under a base URL of their own.
const DefaultOpenAIURL = "https://api.openai.com/v1"

const (
	// maxRateLimitRetries is how many times Chat repeats a request that
	// got 429 Too Many Requests.
	maxRateLimitRetries = 3

	// maxRetryWait bounds one wait before a retry. When a 429 requests a
	// longer wait, Chat returns the rate limit error at once, because a
	// request sent before the server allows would fail again.
	maxRetryWait = 60 * time.Second

	// defaultRetryWait is the wait after a 429 without a usable
	// Retry-After header, or with a wait of 0.
	defaultRetryWait = 2 * time.Second

	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 64 << 10
)

// OpenAI is a Model served by an OpenAI-compatible chat completions API.
type OpenAI struct {
	chat   openai.ChatCompletionService
	models openai.ModelService
	url    string // the base URL without credentials
	model  string

	// apiKey is kept only to remove it from server messages before they
	// are shown or wrapped in errors.
	apiKey string

	// mu guards contextLengths.
	mu             sync.Mutex
	contextLengths map[string]int // model ID → context length from the model list, 0 when unknown
}

// NewOpenAI returns a Model that chats with model, by default, through the
// OpenAI-compatible API at baseURL, such as DefaultOpenAIURL. An empty
// apiKey sends no Authorization header, for local servers such as LM Studio
// or llama.cpp's server. A nil httpClient means http.DefaultClient.
func NewOpenAI(baseURL, apiKey, model string, httpClient *http.Client) (*OpenAI, error) {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid API base URL %q: use a form such as %s", redactURL(baseURL), DefaultOpenAIURL)
	}
	display := strings.TrimSuffix(redactURL(u.String()), "/")
	if model == "" {
		return nil, fmt.Errorf("no model set for the API at %s: choose a model in Settings, such as gpt-4o-mini", display)
	}

	// The services are built directly, not through openai.NewClient,
	// because NewClient adds OPENAI_API_KEY, OPENAI_ORG_ID and other
	// settings from the environment, which would send a key the user did
	// not give to a server the user chose. Hearth retries 429 itself, so
	// the library must not.
	opts := []option.RequestOption{
		option.WithBaseURL(u.String()),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0),
	}
	if apiKey != "" {
		opts = append(opts, option.WithAPIKey(apiKey))
	}
	return &OpenAI{
		chat:           openai.NewChatCompletionService(opts...),
		models:         openai.NewModelService(opts...),
		url:            display,
		model:          model,
		apiKey:         apiKey,
		contextLengths: make(map[string]int),
	}, nil
}

// Describe implements Model.
func (o *OpenAI) Describe() BackendInfo {
	return BackendInfo{Kind: BackendOpenAI, URL: o.url, Model: o.model}
}

// Chat implements Model with a streaming chat completion request. Tool
// calls arrive split into fragments, and Chat passes each one, complete,
// with the final chunk. A 429 Too Many Requests that comes before any of
// the reply is retried up to maxRateLimitRetries times, each after a
// RetryIn chunk and the wait the server asked for.
func (o *OpenAI) Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error {
	model := cmp.Or(req.Model, o.model)
	params, err := chatParams(model, req)
	if err != nil {
		return err
	}

	for retry := 0; ; retry++ {
		delivered, err := o.streamChat(ctx, model, params, fn)

		var backendErr *BackendError
		limited := errors.As(err, &backendErr) && backendErr.Code == CodeBackendRateLimited
		if !limited || delivered || retry == maxRateLimitRetries || backendErr.RetryAfter > maxRetryWait {
			return err
		}

		if err := fn(ChatChunk{RetryIn: backendErr.RetryAfter}); err != nil {
			return err
		}
		if err := sleepContext(ctx, backendErr.RetryAfter); err != nil {
			return err
		}
	}
}

// chatParams builds the request body for req. ChatRequest.ContextLength is
// not sent, because the chat completions API has no such parameter.
func chatParams(model string, req ChatRequest) (openai.ChatCompletionNewParams, error) {
	messages := make([]openai.ChatCompletionMessageParamUnion, 0, len(req.Messages))
	for i, m := range req.Messages {
		switch m.Role {
		case "system":
			messages = append(messages, openai.SystemMessage(m.Content))
		case "user":
			messages = append(messages, openai.UserMessage(m.Content))
		case "assistant":
			messages = append(messages, assistantMessage(m))
		case "tool":
			messages = append(messages, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			return openai.ChatCompletionNewParams{}, fmt.Errorf("message %d has the unknown role %q: use system, user, assistant or tool", i, m.Role)
		}
	}

	// tools stays nil without tools, because OpenAI rejects "tools": [].
	var tools []openai.ChatCompletionToolUnionParam
	for _, t := range req.Tools {
		function := shared.FunctionDefinitionParam{Name: t.Name}
		if t.Description != "" {
			function.Description = openai.String(t.Description)
		}
		if len(t.Parameters) > 0 {
			if err := json.Unmarshal(t.Parameters, &function.Parameters); err != nil {
				return openai.ChatCompletionNewParams{}, fmt.Errorf("tool %s: parameters schema: %w", t.Name, err)
			}
		}
		tools = append(tools, openai.ChatCompletionFunctionTool(function))
	}

	params := openai.ChatCompletionNewParams{
		Model:    openai.ChatModel(model),
		Messages: messages,
		Tools:    tools,
		// The usage arrives in an extra chunk with no choices, just
		// before the end of the stream.
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}
	return params, nil
}

// assistantMessage converts an assistant message with its tool calls. The
// arguments go back as the model wrote them, even when they are malformed
// JSON, since the API carries them as a string.
func assistantMessage(m ChatMessage) openai.ChatCompletionMessageParamUnion {
	var assistant openai.ChatCompletionAssistantMessageParam
	// The API requires content unless the message has tool calls.
	if m.Content != "" || len(m.ToolCalls) == 0 {
		assistant.Content.OfString = openai.String(m.Content)
	}
	for _, tc := range m.ToolCalls {
		assistant.ToolCalls = append(assistant.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
			OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
				ID:       tc.ID,
				Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments},
			},
		})
	}
	return openai.ChatCompletionMessageParamUnion{OfAssistant: &assistant}
}

// streamChat makes one streaming request and passes the reply to fn. It
// reports whether any of the reply reached fn, because a request is retried
// only before that.
func (o *OpenAI) streamChat(ctx context.Context, model string, params openai.ChatCompletionNewParams, fn func(ChatChunk) error) (delivered bool, err error) {
	x := openaiExchange{apiKey: o.apiKey}
	stream := o.chat.NewStreaming(ctx, params, option.WithMiddleware(x.observe))
	defer stream.Close()

	var (
		calls    toolCallAccumulator
		usage    openai.CompletionUsage
		finished bool
	)
	for stream.Next() {
		chunk := stream.Current()
		if chunk.JSON.Usage.Valid() {
			usage = chunk.Usage
		}
		for _, choice := range chunk.Choices {
			// Hearth requests one choice, which servers number 0.
			if choice.Index != 0 {
				continue
			}
			if err := calls.add(choice.Delta.ToolCalls); err != nil {
				return delivered, err
			}
			if choice.FinishReason != "" {
				finished = true
			}
			// A refusal is shown like content, so the user sees why the
			// model declined.
			text := choice.Delta.Content + choice.Delta.Refusal
			if text == "" {
				continue
			}
			delivered = true
			if err := fn(ChatChunk{Content: text}); err != nil {
				return delivered, err
			}
		}
	}

	if err := stream.Err(); err != nil {
		if err := o.streamError(ctx, err, &x, model, finished); err != nil {
			return delivered, err
		}
	} else if !finished {
		// A stream that ends cleanly but without a finish reason was cut
		// off, for example by a proxy.
		return delivered, o.disconnectedError(errors.New("stream ended without a finish reason"))
	}

	return true, fn(ChatChunk{
		ToolCalls:    calls.complete(),
		Done:         true,
		PromptTokens: int(usage.PromptTokens),
		ReplyTokens:  int(usage.CompletionTokens),
	})
}

// streamError translates err, the error that ended a chat stream. It
// returns nil when the reply had already finished and only the usage chunk
// was lost.
func (o *OpenAI) streamError(ctx context.Context, err error, x *openaiExchange, model string, finished bool) error {
	if reqErr := o.requestError(ctx, err, x, model); reqErr != nil {
		return reqErr
	}

	var event *ssestream.StreamError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &event):
		// The library reports an event of the form {"error": {...}} in
		// place of a chunk, which servers send for failures after the
		// 200 status.
		return o.translateOpenAIError(parseOpenAIError(0, nil, event.Event.Data, o.apiKey), model)
	case finished:
		return nil
	case errors.As(err, &syntaxErr) || errors.Is(err, bufio.ErrTooLong):
		return &BackendError{
			Code:    CodeBackendFailed,
			Message: fmt.Sprintf("The API at %s sent a reply that Hearth could not read: %s. Check that the base URL in Settings points to an OpenAI-compatible API.", o.url, shorten(o.redact(err.Error()), maxBackendMessage)),
			Err:     err,
		}
	}
	return o.disconnectedError(err)
}

// disconnectedError is the error for a reply stream that ended early.
func (o *OpenAI) disconnectedError(err error) *BackendError {
	return &BackendError{
		Code:    CodeBackendDisconnected,
		Message: fmt.Sprintf("The connection to the API at %s ended before the reply was finished. Check your network, then continue or regenerate the reply.", o.url),
		Err:     err,
	}
}

// Models implements Model with GET /models. Servers other than OpenAI
// often add the context length to each model, and Models reads it from the
// fields named in contextLengthOf.
func (o *OpenAI) Models(ctx context.Context) ([]ModelInfo, error) {
	x := openaiExchange{apiKey: o.apiKey}
	page, err := o.models.List(ctx, option.WithMiddleware(x.observe))
	if err != nil {
		if reqErr := o.requestError(ctx, err, &x, ""); reqErr != nil {
			return nil, reqErr
		}
		return nil, &BackendError{
			Code:    CodeBackendFailed,
			Message: fmt.Sprintf("The API at %s sent a model list that Hearth could not read: %s. Check that the base URL in Settings points to an OpenAI-compatible API.", o.url, shorten(o.redact(err.Error()), maxBackendMessage)),
			Err:     err,
		}
	}

	models := make([]ModelInfo, 0, len(page.Data))
	lengths := make(map[string]int, len(page.Data))
	for _, m := range page.Data {
		n := contextLengthOf(m.RawJSON())
		models = append(models, ModelInfo{Name: m.ID, ContextLength: n})
		lengths[m.ID] = n
	}

	o.mu.Lock()
	for id, n := range lengths {
		o.contextLengths[id] = n
	}
	o.mu.Unlock()
	return models, nil
}

// ContextLength implements Model with the context length that the model
// list gives for model. The list is fetched once for each model name not
// seen before. A model that the list leaves out or lists without a context
// length counts as 0, and so does every model of a server that returns
// 404 Not Found for the list.
func (o *OpenAI) ContextLength(ctx context.Context, model string) (int, error) {
	model = cmp.Or(model, o.model)
	o.mu.Lock()
	n, ok := o.contextLengths[model]
	o.mu.Unlock()
	if ok {
		return n, nil
	}

	if _, err := o.Models(ctx); err != nil {
		// A server without a model list gives no context lengths,
		// which is not an error.
		var e *openaiError
		if !errors.As(err, &e) || e.status != http.StatusNotFound {
			return 0, err
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n = o.contextLengths[model]
	o.contextLengths[model] = n
	return n, nil
}

// contextLengthOf reads a context length from the JSON of one model of the
// model list. OpenAI sends none. The fields are tried in this order:
// context_length (OpenRouter), max_model_len (vLLM), context_window (Groq)
// and meta.n_ctx_train (llama.cpp's server).
//
// NOTE: n_ctx_train is the context the model was trained with. A
// llama.cpp server started with a smaller --ctx-size rejects prompts that
// fit in n_ctx_train, and Hearth then reports CodeContextTooLong.
func contextLengthOf(raw string) int {
	var fields struct {
		ContextLength float64 `json:"context_length"`
		MaxModelLen   float64 `json:"max_model_len"`
		ContextWindow float64 `json:"context_window"`
		Meta          struct {
			NCtxTrain float64 `json:"n_ctx_train"`
		} `json:"meta"`
	}
	// A field of another type, such as a string, is left at 0 and the
	// others are still read, so the error does not matter.
	_ = json.Unmarshal([]byte(raw), &fields)

	for _, n := range []float64{fields.ContextLength, fields.MaxModelLen, fields.ContextWindow, fields.Meta.NCtxTrain} {
		if n >= 1 && n <= math.MaxInt32 {
			return int(n)
		}
	}
	return 0
}

// toolCallAccumulator joins the fragments of streamed tool calls. OpenAI
// sends the ID and name of a call in its first fragment and splits the
// arguments across the following ones, all with the call's index.
type toolCallAccumulator struct {
	calls   []*partialToolCall
	byIndex map[int64]*partialToolCall
	bytes   int // argument text received
}

type partialToolCall struct {
	id, name  string
	arguments strings.Builder
}

// add joins deltas to the calls received so far. It returns
// errToolCallsTooLarge once they pass the limits of one round.
func (a *toolCallAccumulator) add(deltas []openai.ChatCompletionChunkChoiceDeltaToolCall) error {
	for _, d := range deltas {
		call := a.byIndex[d.Index]
		// Some servers leave out the index, so every call has index 0.
		// A new ID at the same index therefore starts a new call.
		if call == nil || (d.ID != "" && call.id != "" && d.ID != call.id) {
			call = &partialToolCall{}
			a.calls = append(a.calls, call)
			if a.byIndex == nil {
				a.byIndex = make(map[int64]*partialToolCall)
			}
			a.byIndex[d.Index] = call
		}
		// Some servers repeat the ID and name in every fragment, so the
		// first value is kept.
		call.id = cmp.Or(call.id, d.ID)
		call.name = cmp.Or(call.name, d.Function.Name)
		call.arguments.WriteString(d.Function.Arguments)
		a.bytes += len(d.Function.Arguments)
		if len(a.calls) > maxToolCallsPerRound || a.bytes > maxToolArgumentBytes {
			return errToolCallsTooLarge
		}
	}
	return nil
}

// complete returns the calls in the order they began, with an ID generated
// for a call that came without one.
func (a *toolCallAccumulator) complete() []ToolCall {
	if len(a.calls) == 0 {
		return nil
	}
	calls := make([]ToolCall, len(a.calls))
	for i, c := range a.calls {
		calls[i] = ToolCall{
			ID:        cmp.Or(c.id, fmt.Sprintf("call_%d", i+1)),
			Name:      c.name,
			Arguments: c.arguments.String(),
		}
	}
	return calls
}

// openaiExchange records what the HTTP layer saw of one request. The
// library's errors keep neither the status of an error response whose
// "error" is a string nor the message of one in vLLM's older shape, and
// they do not tell a connection that failed from a stream that broke.
type openaiExchange struct {
	apiKey string
	// responded is set once response headers arrive.
	responded bool
	// failure is the error response, when the status is 400 or more.
	failure *openaiError
}

// observe is an option.Middleware that fills in x.
func (x *openaiExchange) observe(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	resp, err := next(req)
	if err != nil {
		return resp, err
	}
	x.responded = true
	if resp.StatusCode < http.StatusBadRequest {
		return resp, nil
	}

	// A body that fails to read leaves a shorter message, nothing worse.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	x.failure = parseOpenAIError(resp.StatusCode, resp.Header, body, x.apiKey)
	x.failure.path = req.URL.Path
	// The library reads the body again to build its own error.
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	return resp, nil
}

// openaiError is an error response of the API, or an error event in its
// stream.
type openaiError struct {
	status  int // 0 for an error event
	header  http.Header
	path    string // the URL path of the request
	code    string // such as "context_length_exceeded"
	typ     string // such as "invalid_request_error"
	message string // with the API key replaced
}

func (e *openaiError) Error() string {
	if e.status == 0 {
		return "error event: " + e.message
	}
	return fmt.Sprintf("%s: %d %s: %s", e.path, e.status, http.StatusText(e.status), e.message)
}

// statusText returns the status as "429 Too Many Requests".
func (e *openaiError) statusText() string {
	return fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
}

// openaiErrorFields are the fields of an error object.
type openaiErrorFields struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	// Code is a string at OpenAI and a number at llama.cpp and vLLM.
	Code json.RawMessage `json:"code"`
}

// parseOpenAIError reads an error body in any of the shapes servers send:
// {"error": {"message", "type", "code"}} as OpenAI, llama.cpp, Ollama and
// newer vLLM do, {"error": "text"}, {"message", "type", "code"} at the top
// level as older vLLM does, or plain text. Every copy of apiKey in the
// message is replaced.
func parseOpenAIError(status int, header http.Header, body []byte, apiKey string) *openaiError {
	e := &openaiError{status: status, header: header}

	var envelope struct {
		Error json.RawMessage `json:"error"`
		openaiErrorFields
	}
	var nested openaiErrorFields
	var text string
	switch {
	case json.Unmarshal(body, &envelope) != nil:
		mediaType, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
		if mediaType == "text/plain" {
			e.message = strings.TrimSpace(string(body))
		}
	case json.Unmarshal(envelope.Error, &nested) == nil && nested.Message != "":
		e.message, e.typ, e.code = nested.Message, nested.Type, codeString(nested.Code)
	case json.Unmarshal(envelope.Error, &text) == nil && text != "":
		e.message = text
	default:
		e.message, e.typ, e.code = envelope.Message, envelope.Type, codeString(envelope.Code)
	}

	if apiKey != "" {
		e.message = strings.ReplaceAll(e.message, apiKey, "[API key]")
	}
	e.message = cmp.Or(e.message, http.StatusText(status), "unknown error")
	return e
}

// codeString returns an error code sent as a JSON string or number as
// text, and "" for null or a missing code.
func codeString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if bytes.Equal(raw, []byte("null")) {
		return ""
	}
	return string(raw)
}

// requestError translates err when the request failed before a reply
// stream began: a canceled ctx, an error response or a failed connection.
// It returns nil when the error came later, from the response body.
func (o *OpenAI) requestError(ctx context.Context, err error, x *openaiExchange, model string) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case x.failure != nil:
		return o.translateOpenAIError(x.failure, model)
	case x.responded:
		return nil
	}

	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial") {
		return &BackendError{
			Code:    CodeBackendUnreachable,
			Message: fmt.Sprintf("The API at %s is not reachable. Check the base URL in Settings and your network.", o.url),
			Err:     err,
		}
	}
	return &BackendError{
		Code:    CodeBackendFailed,
		Message: fmt.Sprintf("The request to the API at %s failed: %s. Check the base URL in Settings and your network.", o.url, shorten(o.redact(err.Error()), maxBackendMessage)),
		Err:     err,
	}
}

// translateOpenAIError turns an error response or event into a
// BackendError whose message states what to do next. model names the
// requested model, or is empty for a request about no model.
func (o *OpenAI) translateOpenAIError(e *openaiError, model string) *BackendError {
	// The detail goes inside a sentence, so its own final period is cut.
	detail := strings.TrimSuffix(shorten(e.message, maxBackendMessage), ".")
	switch {
	case e.status == http.StatusUnauthorized || e.status == http.StatusForbidden:
		message := fmt.Sprintf("The API at %s rejected the API key (%s: %s). Check the key in Settings.", o.url, e.statusText(), detail)
		if o.apiKey == "" {
			message = fmt.Sprintf("The API at %s requires an API key (%s: %s). Enter the key in Settings.", o.url, e.statusText(), detail)
		}
		return &BackendError{Code: CodeBackendAuth, Message: message, Err: e}

	case e.status == http.StatusTooManyRequests && e.code == "insufficient_quota":
		// OpenAI sends 429 for a used-up quota too, which no retry mends.
		return &BackendError{
			Code:    CodeBackendFailed,
			Message: fmt.Sprintf("The API at %s reports that the account has no quota left (%s: %s). Check the account's plan and billing, then try again.", o.url, e.statusText(), detail),
			Err:     e,
		}

	case e.status == http.StatusTooManyRequests:
		wait := retryWait(e.header, time.Now())
		return &BackendError{
			Code:       CodeBackendRateLimited,
			Message:    fmt.Sprintf("The API at %s is limiting how many requests Hearth may send (%s: %s). Wait %s, then try again.", o.url, e.statusText(), detail, formatWait(wait)),
			RetryAfter: wait,
			Err:        e,
		}

	case e.status == http.StatusNotFound && model != "" && (e.code == "model_not_found" || strings.Contains(strings.ToLower(e.message), "model")):
		return &BackendError{
			Code:    CodeModelNotFound,
			Message: fmt.Sprintf("The model %s is not available at the API at %s (%s). Choose another model in Settings, or check the model name.", model, o.url, detail),
			Model:   model,
			Err:     e,
		}

	case e.status == http.StatusNotFound:
		return &BackendError{
			Code:    CodeBackendFailed,
			Message: fmt.Sprintf("The API at %s has no route %s (404 Not Found). Check the base URL in Settings: OpenAI-compatible servers usually serve the API under /v1.", o.url, e.path),
			Err:     e,
		}

	case isContextTooLong(e):
		return contextTooLongError(e)

	case e.status == 0:
		return &BackendError{
			Code:    CodeBackendFailed,
			Message: fmt.Sprintf("The API at %s reported an error during the reply: %s.", o.url, detail),
			Err:     e,
		}
	}
	return &BackendError{
		Code:    CodeBackendFailed,
		Message: fmt.Sprintf("The API at %s returned an error (%s): %s.", o.url, e.statusText(), detail),
		Err:     e,
	}
}

// isContextTooLong reports whether e means that the prompt does not fit in
// the model's context: OpenAI sends the code context_length_exceeded,
// llama.cpp's server the type exceed_context_size_error with "exceeds the
// available context size", and vLLM "This model's maximum context length
// is ...".
func isContextTooLong(e *openaiError) bool {
	if e.code == "context_length_exceeded" || e.typ == "exceed_context_size_error" {
		return true
	}
	message := strings.ToLower(e.message)
	for _, phrase := range []string{"context length", "maximum context", "context size", "context window"} {
		if strings.Contains(message, phrase) {
			return true
		}
	}
	return false
}

// retryWait returns how long a 429 response requests to wait before the
// next request: the retry-after-ms header that OpenAI sends, else
// Retry-After in seconds or as an HTTP date, else defaultRetryWait. A wait
// of 0 or in the past also means defaultRetryWait.
func retryWait(header http.Header, now time.Time) time.Duration {
	// Values beyond a day are cut to a day, which still means no retry,
	// so that the conversion to a Duration cannot overflow.
	const day = 24 * time.Hour

	if ms, err := strconv.ParseFloat(header.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(min(ms, float64(day/time.Millisecond)) * float64(time.Millisecond))
	}
	value := header.Get("Retry-After")
	if seconds, err := strconv.ParseFloat(value, 64); err == nil && seconds > 0 {
		return time.Duration(min(seconds, day.Seconds()) * float64(time.Second))
	}
	if at, err := http.ParseTime(value); err == nil && at.After(now) {
		return min(at.Sub(now), day)
	}
	return defaultRetryWait
}

// formatWait returns d in whole seconds, rounded up, such as "3 s".
func formatWait(d time.Duration) string {
	return fmt.Sprintf("%d s", max(1, int(math.Ceil(d.Seconds()))))
}

// redact replaces every copy of the API key in s.
func (o *OpenAI) redact(s string) string {
	if o.apiKey == "" {
		return s
	}
	return strings.ReplaceAll(s, o.apiKey, "[API key]")
}

// sleepContext waits for d, or returns ctx's error if ctx ends first.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
