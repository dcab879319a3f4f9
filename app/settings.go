package app

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode"

	"hearth/memory"
)

// settingsVersion is the version of the settings document stored for each
// profile. A document of a newer version is not read.
const settingsVersion = 1

// Limits on the settings a profile can save.
const (
	maxSystemPromptBytes = 32 << 10
	maxLastMessages      = 200
	minContextLength     = 512
	maxContextLength     = 1 << 20 // tokens
	maxTemperature       = 2.0
	// maxModelNameBytes matches the longest model name memory stores with a
	// message.
	maxModelNameBytes = 256
	maxAPIKeyBytes    = 4096
	maxBaseURLBytes   = 2048
)

// profileSettings is a profile's choices about its chats, stored sealed with
// its data key. The zero value of a field means its default, except for
// LastMessages, where 0 means no earlier messages.
type profileSettings struct {
	Version int `json:"version"`
	// Backend is the model server; nil means the one Hearth started with.
	Backend *backendSettings `json:"backend,omitempty"`
	// TitleModel writes thread titles; empty means the chat model.
	TitleModel string `json:"titleModel,omitempty"`
	// Temperature overrides the model's default when set, from 0 to 2.
	Temperature *float64 `json:"temperature,omitempty"`
	// ContextLength is the context window in tokens; 0 means the model's.
	ContextLength int `json:"contextLength,omitempty"`
	// SystemPrompt replaces DefaultSystemPrompt when not empty.
	SystemPrompt  string                `json:"systemPrompt,omitempty"`
	LastMessages  int                   `json:"lastMessages"`
	WorkingMemory workingMemorySettings `json:"workingMemory"`
	// Recall is nil in settings saved before it existed, which means
	// defaultReplyRecall. Settings saved since always carry every field.
	Recall *replyRecallSettings `json:"recall,omitempty"`
	// Theme is ThemeLight or ThemeDark; empty means ThemeSystem.
	Theme string `json:"theme,omitempty"`
}

// replyRecallSettings are the options of the semantic recall that finds
// earlier messages for each reply.
type replyRecallSettings struct {
	// TopK is the number of most similar messages to recall, 1 to
	// memory.MaxTopK.
	TopK int `json:"topK"`
	// MessageRange is how many messages before and after each match come
	// with it, 0 to memory.MaxMessageRange.
	MessageRange int `json:"messageRange"`
	// Scope is ScopeResource (every thread of the profile) or ScopeThread
	// (the reply's thread only).
	Scope string `json:"scope"`
	// Enabled is false to leave recalled messages out of every prompt.
	Enabled bool `json:"enabled"`
}

// defaultReplyRecall returns the recall of a profile that never chose
// one, as Mastra's semantic recall defaults.
func defaultReplyRecall() replyRecallSettings {
	return replyRecallSettings{TopK: memory.DefaultTopK, MessageRange: memory.DefaultMessageRange, Scope: ScopeResource, Enabled: true}
}

// recall returns the recall settings of s, or the defaults when s has none.
func (s profileSettings) recall() replyRecallSettings {
	if s.Recall == nil {
		return defaultReplyRecall()
	}
	return *s.Recall
}

// Themes of the user interface.
const (
	ThemeSystem = "system" // follows the operating system's light or dark mode
	ThemeLight  = "light"
	ThemeDark   = "dark"
)

// backendSettings is a model server a profile chose.
type backendSettings struct {
	Kind    string `json:"kind"`
	BaseURL string `json:"baseUrl"`
	Model   string `json:"model"`
	// APIKey is sent to an OpenAI-compatible server. The API never returns
	// it, and nothing logs it.
	APIKey string `json:"apiKey,omitempty"`
}

// workingMemorySettings is the template and scope of a profile's working
// memory.
type workingMemorySettings struct {
	// Template is the empty form of the document; empty means
	// DefaultWorkingMemoryTemplate.
	Template string `json:"template"`
	// Scope is ScopeResource or ScopeThread.
	Scope string `json:"scope"`
}

// defaultSettings returns the settings of a profile that never saved any.
func defaultSettings() profileSettings {
	return profileSettings{
		Version:       settingsVersion,
		LastMessages:  DefaultLastMessages,
		WorkingMemory: workingMemorySettings{Scope: ScopeResource},
	}
}

// settingsOf returns the stored settings of owner, or the defaults when it
// never saved any.
func (a *App) settingsOf(ctx context.Context, owner memory.Owner) (profileSettings, error) {
	raw, err := a.memory.Settings(ctx, owner)
	if err != nil {
		return profileSettings{}, err
	}
	if raw == nil {
		return defaultSettings(), nil
	}
	var s profileSettings
	if err := json.Unmarshal(raw, &s); err != nil {
		return profileSettings{}, fmt.Errorf("decode the settings of %s: %w", owner.ResourceID, err)
	}
	if s.Version > settingsVersion {
		return profileSettings{}, fmt.Errorf("the settings of %s have version %d; this Hearth reads up to %d", owner.ResourceID, s.Version, settingsVersion)
	}
	return s, nil
}

// putSettings stores s as owner's settings.
func (a *App) putSettings(ctx context.Context, owner memory.Owner, s profileSettings) error {
	s.Version = settingsVersion
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return a.memory.PutSettings(ctx, owner, raw)
}

// settingsRequest is the body of PUT /api/settings. It replaces every
// setting: a field left out takes its default, except backend.apiKey, which
// keeps the stored key when left out.
type settingsRequest struct {
	Backend       *backendRequest        `json:"backend"`
	TitleModel    string                 `json:"titleModel"`
	Temperature   *float64               `json:"temperature"`
	ContextLength int                    `json:"contextLength"`
	SystemPrompt  string                 `json:"systemPrompt"`
	LastMessages  *int                   `json:"lastMessages"`
	WorkingMemory *workingMemorySettings `json:"workingMemory"`
	Recall        *replyRecallRequest    `json:"recall"`
	Theme         string                 `json:"theme"`
}

// replyRecallRequest is the recall part of a settings request. A field left out
// or null takes its default.
type replyRecallRequest struct {
	TopK         *int   `json:"topK"`
	MessageRange *int   `json:"messageRange"`
	Scope        string `json:"scope"`
	Enabled      *bool  `json:"enabled"`
}

// backendRequest is the backend of a settings request.
type backendRequest struct {
	Kind    string `json:"kind"`
	BaseURL string `json:"baseUrl"`
	Model   string `json:"model"`
	// APIKey: nil keeps the stored key, "" removes it, any other value
	// replaces it.
	APIKey *string `json:"apiKey"`
}

// settingsFrom checks req and returns the settings it describes. current
// is the stored settings, whose API key a request without one keeps when it
// names the same server.
func (a *App) settingsFrom(req settingsRequest, current profileSettings) (profileSettings, error) {
	s := defaultSettings()

	if req.Backend != nil {
		backend, err := a.backendFrom(*req.Backend, current.Backend)
		if err != nil {
			return profileSettings{}, err
		}
		s.Backend = &backend
	}

	s.TitleModel = strings.TrimSpace(req.TitleModel)
	if err := checkModelName("titleModel", s.TitleModel); err != nil {
		return profileSettings{}, err
	}

	if t := req.Temperature; t != nil {
		if *t < 0 || *t > maxTemperature {
			return profileSettings{}, invalidSetting("temperature", fmt.Sprintf("The temperature %g is out of range; use a number from 0 to 2, or null for the model's default.", *t))
		}
		s.Temperature = t
	}

	if n := req.ContextLength; n != 0 && (n < minContextLength || n > maxContextLength) {
		return profileSettings{}, invalidSetting("contextLength", fmt.Sprintf("The context length %d is out of range; use %d to %d tokens, or 0 for the model's own.", n, minContextLength, maxContextLength))
	}
	s.ContextLength = req.ContextLength

	if len(req.SystemPrompt) > maxSystemPromptBytes {
		return profileSettings{}, invalidSetting("systemPrompt", fmt.Sprintf("The system prompt is %d bytes long; the limit is %d. Shorten it, or leave it empty for Hearth's default.", len(req.SystemPrompt), maxSystemPromptBytes))
	}
	if strings.TrimSpace(req.SystemPrompt) != "" {
		s.SystemPrompt = req.SystemPrompt
	}

	if n := req.LastMessages; n != nil {
		if *n < 0 || *n > maxLastMessages {
			return profileSettings{}, invalidSetting("lastMessages", fmt.Sprintf("lastMessages is %d; use 0 to %d.", *n, maxLastMessages))
		}
		s.LastMessages = *n
	}

	if wm := req.WorkingMemory; wm != nil {
		if len(wm.Template) > memory.MaxWorkingMemoryBytes {
			return profileSettings{}, invalidSetting("workingMemory.template", fmt.Sprintf("The working memory template is %d bytes long; the limit is %d. Shorten it, or leave it empty for Hearth's default.", len(wm.Template), memory.MaxWorkingMemoryBytes))
		}
		if strings.TrimSpace(wm.Template) != "" {
			s.WorkingMemory.Template = wm.Template
		}
		switch wm.Scope {
		case "", ScopeResource:
		case ScopeThread:
			s.WorkingMemory.Scope = ScopeThread
		default:
			return profileSettings{}, invalidSetting("workingMemory.scope", fmt.Sprintf("The working memory scope %q is unknown; use %q for one document per profile or %q for one per thread.", wm.Scope, ScopeResource, ScopeThread))
		}
	}

	recall, err := replyRecallFrom(req.Recall)
	if err != nil {
		return profileSettings{}, err
	}
	s.Recall = &recall

	switch req.Theme {
	case "", ThemeSystem:
	case ThemeLight, ThemeDark:
		s.Theme = req.Theme
	default:
		return profileSettings{}, invalidSetting("theme", fmt.Sprintf("The theme %q is unknown; use %q to follow the system, %q or %q.", req.Theme, ThemeSystem, ThemeLight, ThemeDark))
	}
	return s, nil
}

// replyRecallFrom checks the recall part of a settings request and returns the
// settings it describes, with defaults for the fields left out.
func replyRecallFrom(req *replyRecallRequest) (replyRecallSettings, error) {
	r := defaultReplyRecall()
	if req == nil {
		return r, nil
	}
	if n := req.TopK; n != nil {
		if *n < 1 || *n > memory.MaxTopK {
			return replyRecallSettings{}, invalidSetting("recall.topK", fmt.Sprintf("recall.topK is %d; use 1 to %d messages.", *n, memory.MaxTopK))
		}
		r.TopK = *n
	}
	if n := req.MessageRange; n != nil {
		if *n < 0 || *n > memory.MaxMessageRange {
			return replyRecallSettings{}, invalidSetting("recall.messageRange", fmt.Sprintf("recall.messageRange is %d; use 0 to %d messages around each match.", *n, memory.MaxMessageRange))
		}
		r.MessageRange = *n
	}
	switch req.Scope {
	case "", ScopeResource:
	case ScopeThread:
		r.Scope = ScopeThread
	default:
		return replyRecallSettings{}, invalidSetting("recall.scope", fmt.Sprintf("The recall scope %q is unknown; use %q to search every chat of the profile or %q to search only the chat being answered.", req.Scope, ScopeResource, ScopeThread))
	}
	if req.Enabled != nil {
		r.Enabled = *req.Enabled
	}
	return r, nil
}

// backendFrom checks the backend of a settings request. An Ollama backend
// without a base URL or model gets the server and model Hearth started
// with.
func (a *App) backendFrom(req backendRequest, current *backendSettings) (backendSettings, error) {
	b := backendSettings{Kind: strings.TrimSpace(req.Kind), Model: strings.TrimSpace(req.Model)}
	baseURL := strings.TrimSpace(req.BaseURL)

	switch b.Kind {
	case BackendOllama:
		if b.Model == "" {
			b.Model = a.defaultOllamaModel()
		}
		if b.Model == "" {
			return backendSettings{}, invalidSetting("backend.model", "An Ollama backend needs a model, such as llama3.2.")
		}
		if req.APIKey != nil && *req.APIKey != "" {
			return backendSettings{}, invalidSetting("backend.apiKey", "Ollama takes no API key; leave backend.apiKey out or empty.")
		}
	case BackendOpenAI:
		if baseURL == "" {
			return backendSettings{}, invalidSetting("backend.baseUrl", "An OpenAI-compatible backend needs a base URL, such as https://api.openai.com/v1.")
		}
		if b.Model == "" {
			return backendSettings{}, invalidSetting("backend.model", "An OpenAI-compatible backend needs a model, such as gpt-4o-mini.")
		}
	case "":
		return backendSettings{}, invalidSetting("backend.kind", fmt.Sprintf("The backend kind is missing; use %q or %q.", BackendOllama, BackendOpenAI))
	default:
		return backendSettings{}, invalidSetting("backend.kind", fmt.Sprintf("The backend kind %q is unknown; use %q or %q.", b.Kind, BackendOllama, BackendOpenAI))
	}

	// An Ollama backend without a base URL is the server Hearth started
	// with, which the settings do not copy: its URL may carry credentials
	// that are the operator's, not the profile's.
	if baseURL != "" {
		normalized, err := checkBaseURL(baseURL)
		if err != nil {
			return backendSettings{}, err
		}
		b.BaseURL = normalized
	}
	if err := checkModelName("backend.model", b.Model); err != nil {
		return backendSettings{}, err
	}

	switch {
	case b.Kind == BackendOllama:
	case req.APIKey != nil:
		if err := checkAPIKey(*req.APIKey); err != nil {
			return backendSettings{}, err
		}
		b.APIKey = *req.APIKey
	case current != nil && current.Kind == b.Kind && current.BaseURL == b.BaseURL:
		// A key is kept only for the server it was given for, so that
		// changing the URL never sends it somewhere else.
		b.APIKey = current.APIKey
	}
	return b, nil
}

// defaultOllamaModel returns the model of the backend Hearth started with,
// when that is an Ollama server.
func (a *App) defaultOllamaModel() string {
	if info := a.model.Describe(); info.Kind == BackendOllama {
		return info.Model
	}
	return ""
}

// checkBaseURL checks a backend's base URL and returns it without a
// trailing slash.
func checkBaseURL(raw string) (string, error) {
	if len(raw) > maxBaseURLBytes {
		return "", invalidSetting("backend.baseUrl", fmt.Sprintf("The base URL is %d bytes long; use at most %d.", len(raw), maxBaseURLBytes))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "", invalidSetting("backend.baseUrl", fmt.Sprintf("The base URL %q is not valid; use an http or https URL with a host, such as %s.", raw, DefaultOllamaURL))
	}
	if u.User != nil {
		return "", invalidSetting("backend.baseUrl", "The base URL contains a user name or password; remove them and put an API key in backend.apiKey instead.")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", invalidSetting("backend.baseUrl", fmt.Sprintf("The base URL %q has a query or fragment; use only the scheme, host and path.", raw))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// checkModelName rejects a model name that no backend could know. An empty
// name is accepted: it means a default.
func checkModelName(field, name string) error {
	if len(name) > maxModelNameBytes {
		return invalidSetting(field, fmt.Sprintf("The model name is %d bytes long; use at most %d.", len(name), maxModelNameBytes))
	}
	if strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar }) {
		return invalidSetting(field, fmt.Sprintf("The model name %q contains white space or control characters; use a name such as llama3.2 or gpt-4o-mini.", name))
	}
	return nil
}

// checkAPIKey rejects a key that cannot be sent in an HTTP header, without
// repeating the key in the message.
func checkAPIKey(key string) error {
	if len(key) > maxAPIKeyBytes {
		return invalidSetting("backend.apiKey", fmt.Sprintf("The API key is %d bytes long; the limit is %d.", len(key), maxAPIKeyBytes))
	}
	for _, r := range key {
		if r <= ' ' || r > '~' {
			return invalidSetting("backend.apiKey", "The API key contains a space, a control character or a character outside ASCII; paste the key exactly as the provider shows it.")
		}
	}
	return nil
}

// invalidSetting is the error for a setting that breaks a rule.
func invalidSetting(field, message string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: field, Message: message}
}

// settingsView is the body of GET and PUT /api/settings.
type settingsView struct {
	Backend       backendView           `json:"backend"`
	TitleModel    string                `json:"titleModel"`
	Temperature   *float64              `json:"temperature"`
	ContextLength int                   `json:"contextLength"`
	SystemPrompt  string                `json:"systemPrompt"`
	LastMessages  int                   `json:"lastMessages"`
	WorkingMemory workingMemorySettings `json:"workingMemory"`
	Recall        replyRecallSettings   `json:"recall"`
	Theme         string                `json:"theme"`
	Defaults      settingsDefaults      `json:"defaults"`
}

// backendView is a profile's backend as the API shows it, without its key.
type backendView struct {
	Kind      string `json:"kind"`
	BaseURL   string `json:"baseUrl"`
	Model     string `json:"model"`
	APIKeySet bool   `json:"apiKeySet"`
}

// settingsDefaults are the values that empty settings stand for.
type settingsDefaults struct {
	SystemPrompt          string              `json:"systemPrompt"`
	WorkingMemoryTemplate string              `json:"workingMemoryTemplate"`
	LastMessages          int                 `json:"lastMessages"`
	Recall                replyRecallSettings `json:"recall"`
	Theme                 string              `json:"theme"`
}

// viewSettings returns s as the API shows it.
func (a *App) viewSettings(s profileSettings) settingsView {
	backend := backendView{}
	if s.Backend != nil {
		backend = backendView{Kind: s.Backend.Kind, BaseURL: cmp.Or(s.Backend.BaseURL, a.model.Describe().URL), Model: s.Backend.Model, APIKeySet: s.Backend.APIKey != ""}
	} else {
		info := a.model.Describe()
		backend = backendView{Kind: info.Kind, BaseURL: redactURL(info.URL), Model: info.Model}
	}
	return settingsView{
		Backend:       backend,
		TitleModel:    s.TitleModel,
		Temperature:   s.Temperature,
		ContextLength: s.ContextLength,
		SystemPrompt:  s.SystemPrompt,
		LastMessages:  s.LastMessages,
		WorkingMemory: workingMemorySettings{Template: s.WorkingMemory.Template, Scope: cmp.Or(s.WorkingMemory.Scope, ScopeResource)},
		Recall:        s.recall(),
		Theme:         cmp.Or(s.Theme, ThemeSystem),
		Defaults: settingsDefaults{
			SystemPrompt:          DefaultSystemPrompt,
			WorkingMemoryTemplate: DefaultWorkingMemoryTemplate,
			LastMessages:          DefaultLastMessages,
			Recall:                defaultReplyRecall(),
			Theme:                 ThemeSystem,
		},
	}
}

// turnFor builds the turn for a reply in thread from u's settings: the
// backend and model (the thread's own model, if it has one), the prompt
// settings, the working memory's template and scope, and the recall. u's
// data key must still be valid, because the settings are read with it.
func (a *App) turnFor(ctx context.Context, u user, thread memory.Thread) (Turn, error) {
	s, err := a.settingsOf(ctx, u.owner())
	if err != nil {
		return Turn{}, err
	}
	model, info, err := a.backendOf(s)
	if err != nil {
		return Turn{}, err
	}
	return Turn{
		Model:                 model,
		ModelName:             cmp.Or(thread.Model, info.Model),
		TitleModel:            s.TitleModel,
		ContextLength:         s.ContextLength,
		Temperature:           s.Temperature,
		SystemPrompt:          s.SystemPrompt,
		LastMessages:          s.LastMessages,
		WorkingMemoryTemplate: cmp.Or(s.WorkingMemory.Template, DefaultWorkingMemoryTemplate),
		WorkingMemoryScope:    cmp.Or(s.WorkingMemory.Scope, ScopeResource),
		Recall:                turnRecall(s.recall()),
	}, nil
}

// turnRecall returns the recall of a turn for the recall settings r.
func turnRecall(r replyRecallSettings) TurnRecall {
	messageRange := r.MessageRange
	if messageRange == 0 {
		// memory.RecallQuery reads 0 as its default and a negative range
		// as none.
		messageRange = -1
	}
	return TurnRecall{Disabled: !r.Enabled, TopK: r.TopK, MessageRange: messageRange, Scope: memory.RecallScope(r.Scope)}
}

// titleModelFor returns the backend and model that write the titles of
// thread's profile: the settings' title model, or else the thread's chat
// model.
func (a *App) titleModelFor(ctx context.Context, u user, thread memory.Thread) (Model, string, error) {
	turn, err := a.turnFor(ctx, u, thread)
	if err != nil {
		return nil, "", err
	}
	return turn.Model, cmp.Or(turn.TitleModel, turn.ModelName), nil
}

// backendOf returns the Model for the backend of s and describes it with
// the settings' default model. Settings without a backend get the backend
// Hearth started with.
func (a *App) backendOf(s profileSettings) (Model, BackendInfo, error) {
	if s.Backend == nil {
		return a.model, a.model.Describe(), nil
	}
	b := *s.Backend
	if b.Kind == BackendOllama && b.BaseURL == "" {
		// The server Hearth started with; the model travels with each
		// request.
		return a.model, BackendInfo{Kind: b.Kind, URL: a.model.Describe().URL, Model: b.Model}, nil
	}
	model, err := a.backends().get(b)
	if err != nil {
		return nil, BackendInfo{}, err
	}
	return model, BackendInfo{Kind: b.Kind, URL: b.BaseURL, Model: b.Model}, nil
}

// maxCachedBackends bounds how many backends the cache keeps. A profile
// that tries many servers or keys empties it now and then, which only
// costs new connections and new context length requests.
const maxCachedBackends = 32

// backendCache keeps one Model per server and key, so that the context
// lengths an Ollama backend learned and the HTTP connections of a backend
// are reused by every reply. The key is held as its SHA-256 digest in the
// cache key, and in clear only inside the Model that sends it.
type backendCache struct {
	mu     sync.Mutex
	models map[backendKey]Model
}

type backendKey struct {
	kind, baseURL string
	apiKey        [sha256.Size]byte
}

// newBackendCache returns a cache that starts with fallback, the backend
// Hearth started with, so that a profile that names the same server shares
// it.
func newBackendCache(fallback Model) *backendCache {
	c := &backendCache{models: make(map[backendKey]Model)}
	if info := fallback.Describe(); info.Kind == BackendOllama {
		c.models[backendKey{kind: info.Kind, baseURL: strings.TrimRight(info.URL, "/"), apiKey: sha256.Sum256(nil)}] = fallback
	}
	return c
}

// dropKeyed removes the backends that hold an API key from the cache, so that the key
// leaves memory with the profile that unlocked it.
func (c *backendCache) dropKeyed() {
	noKey := sha256.Sum256(nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.models {
		if key.apiKey != noKey {
			delete(c.models, key)
		}
	}
}

// get returns the Model for b, made once per server and key.
func (c *backendCache) get(b backendSettings) (Model, error) {
	key := backendKey{kind: b.Kind, baseURL: b.BaseURL, apiKey: sha256.Sum256([]byte(b.APIKey))}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.models[key]; ok {
		return m, nil
	}

	var m Model
	var err error
	switch b.Kind {
	case BackendOllama:
		m, err = NewOllama(b.BaseURL, b.Model, nil)
	case BackendOpenAI:
		m, err = NewOpenAI(b.BaseURL, b.APIKey, b.Model, nil)
	default:
		err = fmt.Errorf("backend kind %q is unknown", b.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("backend %s at %s: %w", b.Kind, b.BaseURL, err)
	}
	if len(c.models) >= maxCachedBackends {
		clear(c.models)
	}
	c.models[key] = m
	return m, nil
}

// backends returns a's backend cache.
func (a *App) backends() *backendCache {
	return a.backendCache
}
