package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
)

// maxBackendMessage bounds how much of a backend's own error text is shown to
// the user and logged.
const maxBackendMessage = 300

// DefaultOllamaURL is where a local Ollama server listens unless OLLAMA_HOST
// says otherwise.
const DefaultOllamaURL = "http://127.0.0.1:11434"

// DefaultKeepAlive is how long Ollama keeps a model loaded after a reply,
// so that the next message of a conversation starts without a reload.
const DefaultKeepAlive = 30 * time.Minute

// Ollama is a Model served by an Ollama server.
type Ollama struct {
	client *api.Client
	url    string
	model  string

	// mu guards shown.
	mu    sync.Mutex
	shown map[string]modelShown // model name → Show's result
}

// modelShown is the part of Show's response about a model that Hearth keeps.
type modelShown struct {
	contextLength int
	tools         bool
	// capabilities are the ones /api/show lists, such as "completion",
	// "tools" and "embedding", or nil when it lists none.
	capabilities []string
}

// NewOllama returns a Model that chats with model, by default, on the Ollama
// server at baseURL. A nil httpClient means http.DefaultClient.
func NewOllama(baseURL, model string, httpClient *http.Client) (*Ollama, error) {
	if httpClient == nil {
		httpClient = newOllamaHTTPClient()
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid Ollama URL %q: use a form such as %s", baseURL, DefaultOllamaURL)
	}
	if model == "" {
		return nil, errors.New("no Ollama model set: set HEARTH_MODEL to a model name such as llama3.2")
	}
	// The URL shown in errors, logs and the health route leaves out any
	// credentials, which only the client keeps.
	return &Ollama{client: api.NewClient(u, httpClient), url: redactURL(u.String()), model: model, shown: make(map[string]modelShown)}, nil
}

// ollamaIdleConns is how many idle connections to the Ollama server are
// kept for reuse. Each reply streams over a connection of its own, and
// http.DefaultClient keeps 2, so a third reply at once and every title
// request after it would open a new connection.
const ollamaIdleConns = 16

// newOllamaHTTPClient returns the HTTP client of an Ollama backend: the
// default transport, keeping ollamaIdleConns idle connections. It has no
// timeout, because a reply may stream for many minutes; requests end with
// their context.
func newOllamaHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = ollamaIdleConns
	return &http.Client{Transport: transport}
}

// OllamaURLFromEnv turns the value of OLLAMA_HOST into a base URL, accepting
// the forms Ollama itself accepts: "host", "host:port" or a full URL. An
// empty value means DefaultOllamaURL.
func OllamaURLFromEnv(value string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return DefaultOllamaURL, nil
	}
	if !strings.Contains(value, "://") {
		value = "http://" + value
	}
	u, err := url.Parse(value)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("invalid OLLAMA_HOST %q: use a form such as 127.0.0.1:11434", value)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "11434")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// Describe implements Model.
func (o *Ollama) Describe() BackendInfo {
	return BackendInfo{Kind: BackendOllama, URL: o.url, Model: o.model}
}

// Chat implements Model with a streaming /api/chat request. Tool calls are
// passed on from whichever line carries them: Ollama often sends them on a
// line before the final one.
func (o *Ollama) Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error {
	model := cmp.Or(req.Model, o.model)
	chatReq, err := o.chatRequest(model, req)
	if err != nil {
		return err
	}

	var callbackErr error
	done, calls := false, 0
	err = o.client.Chat(ctx, chatReq, func(resp api.ChatResponse) error {
		chunk := ChatChunk{Content: resp.Message.Content, Done: resp.Done}
		for _, tc := range resp.Message.ToolCalls {
			calls++
			chunk.ToolCalls = append(chunk.ToolCalls, ToolCall{
				ID:        cmp.Or(tc.ID, fmt.Sprintf("call_%d", calls)),
				Name:      tc.Function.Name,
				Arguments: tc.Function.Arguments.String(),
			})
		}
		if resp.Done {
			done = true
			chunk.PromptTokens = resp.PromptEvalCount
			chunk.ReplyTokens = resp.EvalCount
		}
		if err := fn(chunk); err != nil {
			callbackErr = err
			return err
		}
		return nil
	})

	switch {
	case callbackErr != nil:
		return callbackErr
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return o.translate(err, model)
	case !done:
		// The api client stops quietly when the connection ends early, so a
		// stream without its final chunk is the only sign of a dropped reply.
		return &BackendError{
			Code:    CodeBackendDisconnected,
			Message: fmt.Sprintf("The connection to Ollama at %s ended before the reply was finished. Check that Ollama is still running, then continue or regenerate the reply.", o.url),
			Err:     errors.New("stream ended without a final chunk"),
		}
	}
	return nil
}

// chatRequest builds the api request for req. The context length is always
// sent as num_ctx: without it Ollama uses its own small default and cuts
// the prompt silently.
func (o *Ollama) chatRequest(model string, req ChatRequest) (*api.ChatRequest, error) {
	messages := make([]api.Message, len(req.Messages))
	for i, m := range req.Messages {
		messages[i] = api.Message{Role: m.Role, Content: m.Content, ToolName: m.ToolName, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			args := api.NewToolCallFunctionArguments()
			// Arguments the model wrote as malformed JSON go back empty;
			// the tool's error result explains the fault.
			_ = json.Unmarshal([]byte(tc.Arguments), &args)
			messages[i].ToolCalls = append(messages[i].ToolCalls, api.ToolCall{ID: tc.ID, Function: api.ToolCallFunction{Name: tc.Name, Arguments: args}})
		}
	}
	tools := make(api.Tools, 0, len(req.Tools))
	for _, t := range req.Tools {
		var params api.ToolFunctionParameters
		if err := json.Unmarshal(t.Parameters, &params); err != nil {
			return nil, fmt.Errorf("tool %s: parameters schema: %w", t.Name, err)
		}
		tools = append(tools, api.Tool{Type: "function", Function: api.ToolFunction{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	options := map[string]any{}
	if req.ContextLength > 0 {
		options["num_ctx"] = req.ContextLength
	}
	if req.Temperature != nil {
		options["temperature"] = *req.Temperature
	}
	stream := true
	return &api.ChatRequest{
		Model:     model,
		Messages:  messages,
		Stream:    &stream,
		Tools:     tools,
		Options:   options,
		KeepAlive: &api.Duration{Duration: DefaultKeepAlive},
	}, nil
}

// Models implements Model with /api/tags.
func (o *Ollama) Models(ctx context.Context) ([]ModelInfo, error) {
	list, err := o.client.List(ctx)
	if err != nil {
		return nil, o.translate(err, "")
	}
	models := make([]ModelInfo, 0, len(list.Models))
	for _, m := range list.Models {
		models = append(models, ModelInfo{Name: m.Name, Size: m.Size})
	}
	return models, nil
}

// ContextLength implements Model with /api/show, whose model_info holds
// "<architecture>.context_length".
func (o *Ollama) ContextLength(ctx context.Context, model string) (int, error) {
	shown, err := o.show(ctx, model)
	return shown.contextLength, err
}

// SupportsTools reports whether model can call tools, from the capabilities
// that /api/show lists. A model whose server lists none is assumed to.
func (o *Ollama) SupportsTools(ctx context.Context, model string) (bool, error) {
	shown, err := o.show(ctx, model)
	return shown.tools, err
}

// Capabilities returns what model can do, as /api/show lists it, such as
// "completion", "tools" and "embedding". It returns nil when the server's
// response has no capabilities field.
func (o *Ollama) Capabilities(ctx context.Context, model string) ([]string, error) {
	shown, err := o.show(ctx, model)
	return slices.Clone(shown.capabilities), err
}

// show requests /api/show for model, once per model name.
func (o *Ollama) show(ctx context.Context, model string) (modelShown, error) {
	model = cmp.Or(model, o.model)
	o.mu.Lock()
	shown, ok := o.shown[model]
	o.mu.Unlock()
	if ok {
		return shown, nil
	}

	resp, err := o.client.Show(ctx, &api.ShowRequest{Model: model})
	if err != nil {
		return modelShown{}, o.translate(err, model)
	}
	arch, _ := resp.ModelInfo["general.architecture"].(string)
	if f, ok := resp.ModelInfo[arch+".context_length"].(float64); ok && f > 0 {
		shown.contextLength = int(f)
	}
	shown.tools = len(resp.Capabilities) == 0 || slices.Contains(resp.Capabilities, "tools")
	for _, c := range resp.Capabilities {
		shown.capabilities = append(shown.capabilities, string(c))
	}
	o.mu.Lock()
	o.shown[model] = shown
	o.mu.Unlock()
	return shown, nil
}

// Pull implements Puller with /api/pull.
func (o *Ollama) Pull(ctx context.Context, model string, fn func(PullProgress) error) error {
	var callbackErr error
	err := o.client.Pull(ctx, &api.PullRequest{Model: model}, func(p api.ProgressResponse) error {
		if err := fn(PullProgress{Status: p.Status, Digest: p.Digest, Total: p.Total, Completed: p.Completed}); err != nil {
			callbackErr = err
			return err
		}
		return nil
	})
	switch {
	case callbackErr != nil:
		return callbackErr
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return o.translate(err, model)
	}
	o.mu.Lock()
	delete(o.shown, model)
	o.mu.Unlock()
	return nil
}

// translate turns an error from the api client into a BackendError whose
// message tells the user what to do.
func (o *Ollama) translate(err error, model string) error {
	var status api.StatusError
	if errors.As(err, &status) {
		if status.StatusCode == http.StatusNotFound && strings.Contains(status.ErrorMessage, "not found") {
			return &BackendError{
				Code:    CodeModelNotFound,
				Message: fmt.Sprintf("The model %s is not installed in Ollama. Download it from Settings, or run `ollama pull %s`, then try again.", model, model),
				Model:   model,
				Err:     err,
			}
		}
		if strings.Contains(strings.ToLower(status.ErrorMessage), "context length") {
			return contextTooLongError(err)
		}
		return &BackendError{
			Code:    CodeBackendFailed,
			Message: fmt.Sprintf("Ollama answered with an error: %s", shorten(status.ErrorMessage, maxBackendMessage)),
			Err:     err,
		}
	}

	var opErr *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &opErr) {
		return &BackendError{
			Code:    CodeBackendUnreachable,
			Message: fmt.Sprintf("Ollama is not reachable at %s. Start Ollama (for example with `ollama serve`) and try again.", o.url),
			Err:     err,
		}
	}
	return &BackendError{
		Code:    CodeBackendFailed,
		Message: fmt.Sprintf("Ollama failed: %s", shorten(err.Error(), maxBackendMessage)),
		Err:     err,
	}
}

// shorten cuts s to at most n bytes at a character boundary, marking the cut
// with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
