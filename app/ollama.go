package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
)

// maxBackendMessage bounds how much of a backend's own error text is shown to
// the user and logged.
const maxBackendMessage = 300

// DefaultOllamaURL is where a local Ollama server listens unless OLLAMA_HOST
// says otherwise.
const DefaultOllamaURL = "http://127.0.0.1:11434"

// Ollama is a Model served by an Ollama server.
type Ollama struct {
	client *api.Client
	url    string
	model  string
}

// NewOllama returns a Model that chats with model on the Ollama server at
// baseURL. A nil httpClient means http.DefaultClient.
func NewOllama(baseURL, model string, httpClient *http.Client) (*Ollama, error) {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid Ollama URL %q: use a form such as %s", baseURL, DefaultOllamaURL)
	}
	if model == "" {
		return nil, errors.New("no Ollama model set: set HEARTH_MODEL to a model name such as llama3.2")
	}
	return &Ollama{client: api.NewClient(u, httpClient), url: u.String(), model: model}, nil
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
	return BackendInfo{Kind: "ollama", URL: o.url, Model: o.model}
}

// Chat implements Model with a streaming /api/chat request.
func (o *Ollama) Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error {
	messages := make([]api.Message, len(req.Messages))
	for i, m := range req.Messages {
		messages[i] = api.Message{Role: m.Role, Content: m.Content}
	}
	stream := true
	chatReq := &api.ChatRequest{Model: o.model, Messages: messages, Stream: &stream}

	var callbackErr error
	done := false
	err := o.client.Chat(ctx, chatReq, func(resp api.ChatResponse) error {
		chunk := ChatChunk{Content: resp.Message.Content, Done: resp.Done}
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
		return o.translate(err)
	case !done:
		// The api client stops quietly when the connection ends early, so a
		// stream without its final chunk is the only sign of a dropped reply.
		return &BackendError{
			Code:    CodeBackendDisconnected,
			Message: fmt.Sprintf("The connection to Ollama at %s ended before the reply was finished. Check that Ollama is still running, then try again.", o.url),
			Err:     errors.New("stream ended without a final chunk"),
		}
	}
	return nil
}

// translate turns an error from the api client into a BackendError whose
// message tells the user what to do.
func (o *Ollama) translate(err error) error {
	var status api.StatusError
	if errors.As(err, &status) {
		if status.StatusCode == http.StatusNotFound && strings.Contains(status.ErrorMessage, "not found") {
			return &BackendError{
				Code:    CodeModelNotFound,
				Message: fmt.Sprintf("The model %s is not installed in Ollama. Install it with `ollama pull %s`, then try again.", o.model, o.model),
				Err:     err,
			}
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
