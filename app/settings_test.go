package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"hearth/app/openaitest"
	"hearth/memory"
)

type settingsJSON struct {
	Backend struct {
		Kind      string `json:"kind"`
		BaseURL   string `json:"baseUrl"`
		Model     string `json:"model"`
		APIKeySet bool   `json:"apiKeySet"`
	} `json:"backend"`
	TitleModel    string   `json:"titleModel"`
	Temperature   *float64 `json:"temperature"`
	ContextLength int      `json:"contextLength"`
	SystemPrompt  string   `json:"systemPrompt"`
	LastMessages  int      `json:"lastMessages"`
	WorkingMemory struct {
		Template string `json:"template"`
		Scope    string `json:"scope"`
	} `json:"workingMemory"`
	Defaults struct {
		SystemPrompt          string `json:"systemPrompt"`
		WorkingMemoryTemplate string `json:"workingMemoryTemplate"`
		LastMessages          int    `json:"lastMessages"`
	} `json:"defaults"`
}

type apiErrorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// getSettings returns the settings of token's profile.
func (env *testEnv) getSettings(token string) settingsJSON {
	env.t.Helper()
	var s settingsJSON
	env.mustJSON("GET", "/api/settings", token, nil, http.StatusOK, &s)
	return s
}

// putSettings saves settings for token's profile and returns the response.
func (env *testEnv) putSettings(token string, body any) settingsJSON {
	env.t.Helper()
	var s settingsJSON
	env.mustJSON("PUT", "/api/settings", token, body, http.StatusOK, &s)
	return s
}

// wantAPIError sends a request and checks that it fails with status, code
// and, when field is not empty, the field.
func (env *testEnv) wantAPIError(method, path, token string, body any, status int, code, field string) {
	env.t.Helper()
	resp, data := env.do(method, path, token, body)
	checkAPIError(env.t, method+" "+path, resp, data, status, code, field)
}

// checkAPIError checks that a response named label is an API error with
// status, code, a message and, when field is not empty, the field.
func checkAPIError(t *testing.T, label string, resp *http.Response, data []byte, status int, code, field string) {
	t.Helper()
	var e apiErrorJSON
	if err := json.Unmarshal(data, &e); err != nil {
		t.Errorf("%s: decode error body %s: %v", label, data, err)
		return
	}
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d; body %s", label, resp.StatusCode, status, data)
	}
	if e.Error.Code != code {
		t.Errorf("%s: error code %q, want %q; body %s", label, e.Error.Code, code, data)
	}
	if field != "" && e.Error.Field != field {
		t.Errorf("%s: error field %q, want %q; body %s", label, e.Error.Field, field, data)
	}
	if e.Error.Message == "" {
		t.Errorf("%s: error without a message", label)
	}
}

// userOf returns the user a token signs in as, with its own copy of the
// data key.
func (env *testEnv) userOf(token string) user {
	env.t.Helper()
	sess, err := env.app.profiles.Verify(context.Background(), token)
	if err != nil {
		env.t.Fatal(err)
	}
	key, err := env.app.profiles.DataKey(sess.Profile.ID)
	if err != nil {
		env.t.Fatal(err)
	}
	env.t.Cleanup(key.Wipe)
	return user{Profile: sess.Profile, key: key}
}

// fakeOpenAI is the fake OpenAI-compatible server of openaitest, listing
// gpt-4o-mini and gpt-4o and accepting only apiKey.
type fakeOpenAI struct {
	server *openaitest.Server
}

func newFakeOpenAI(t *testing.T, apiKey string) *fakeOpenAI {
	t.Helper()
	server := openaitest.NewServer(t)
	server.SetAPIKey(apiKey)
	server.SetModels(openaitest.Model{ID: "gpt-4o-mini"}, openaitest.Model{ID: "gpt-4o"})
	return &fakeOpenAI{server: server}
}

func (f *fakeOpenAI) url() string { return f.server.URL() }

// authorizations returns the Authorization header of each request, in
// order.
func (f *fakeOpenAI) authorizations() []string {
	var auths []string
	for _, r := range f.server.Requests() {
		auths = append(auths, r.Header.Get("Authorization"))
	}
	return auths
}

func TestSettingsDefaults(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	s := env.getSettings(ada)
	if s.Backend.Kind != BackendOllama || s.Backend.BaseURL != env.fake.URL() || s.Backend.Model != testModel || s.Backend.APIKeySet {
		t.Errorf("default backend = %+v, want ollama at %s with %s and no key", s.Backend, env.fake.URL(), testModel)
	}
	if s.TitleModel != "" || s.Temperature != nil || s.ContextLength != 0 || s.SystemPrompt != "" {
		t.Errorf("default titleModel, temperature, contextLength, systemPrompt = %q, %v, %d, %q, want empty", s.TitleModel, s.Temperature, s.ContextLength, s.SystemPrompt)
	}
	if s.LastMessages != DefaultLastMessages {
		t.Errorf("default lastMessages = %d, want %d", s.LastMessages, DefaultLastMessages)
	}
	if s.WorkingMemory.Template != "" || s.WorkingMemory.Scope != ScopeResource {
		t.Errorf("default workingMemory = %+v, want no template and scope %q", s.WorkingMemory, ScopeResource)
	}
	if s.Defaults.SystemPrompt != DefaultSystemPrompt || s.Defaults.WorkingMemoryTemplate != DefaultWorkingMemoryTemplate || s.Defaults.LastMessages != DefaultLastMessages {
		t.Errorf("defaults = %+v, want Hearth's", s.Defaults)
	}

	// The raw body has "temperature": null, not a missing field.
	_, body := env.do("GET", "/api/settings", ada, nil)
	if !bytes.Contains(body, []byte(`"temperature":null`)) {
		t.Errorf("settings body %s has no \"temperature\":null", body)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	temperature := 0.7
	body := map[string]any{
		"backend":       map[string]any{"kind": "ollama", "baseUrl": env.fake.URL() + "/", "model": "qwen2.5:7b"},
		"titleModel":    "llama3.2:1b",
		"temperature":   temperature,
		"contextLength": 8192,
		"systemPrompt":  "Answer in French.",
		"lastMessages":  0,
		"workingMemory": map[string]any{"template": "# Notes\n", "scope": "thread"},
	}
	saved := env.putSettings(ada, body)

	check := func(when string, s settingsJSON) {
		t.Helper()
		if s.Backend.Kind != BackendOllama || s.Backend.BaseURL != env.fake.URL() || s.Backend.Model != "qwen2.5:7b" || s.Backend.APIKeySet {
			t.Errorf("%s: backend = %+v, want ollama at %s (without the trailing slash) with qwen2.5:7b", when, s.Backend, env.fake.URL())
		}
		if s.TitleModel != "llama3.2:1b" {
			t.Errorf("%s: titleModel = %q, want llama3.2:1b", when, s.TitleModel)
		}
		if s.Temperature == nil || *s.Temperature != temperature {
			t.Errorf("%s: temperature = %v, want %v", when, s.Temperature, temperature)
		}
		if s.ContextLength != 8192 || s.SystemPrompt != "Answer in French." || s.LastMessages != 0 {
			t.Errorf("%s: contextLength, systemPrompt, lastMessages = %d, %q, %d, want 8192, %q, 0", when, s.ContextLength, s.SystemPrompt, s.LastMessages, "Answer in French.")
		}
		if s.WorkingMemory.Template != "# Notes\n" || s.WorkingMemory.Scope != ScopeThread {
			t.Errorf("%s: workingMemory = %+v, want the template and scope thread", when, s.WorkingMemory)
		}
	}
	check("PUT response", saved)
	check("GET", env.getSettings(ada))

	env.stop()
	env.start(env.fake.URL())
	ada = env.login("Ada", "password-Ada")
	check("GET after a restart", env.getSettings(ada))

	// A PUT replaces everything: left-out fields take their defaults.
	reset := env.putSettings(ada, map[string]any{})
	if reset.Backend.Model != testModel || reset.Temperature != nil || reset.LastMessages != DefaultLastMessages || reset.WorkingMemory.Scope != ScopeResource || reset.TitleModel != "" {
		t.Errorf("settings after an empty PUT = %+v, want the defaults", reset)
	}
}

func TestSettingsTurnFor(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	u := env.userOf(ada)
	ctx := context.Background()
	th, err := env.app.memory.CreateThread(ctx, u.owner(), "", nil)
	if err != nil {
		t.Fatal(err)
	}

	// A profile that never saved settings uses the backend Hearth started
	// with.
	turn, err := env.app.turnFor(ctx, u, th)
	if err != nil {
		t.Fatalf("turnFor error: %v", err)
	}
	if turn.Model != env.app.model || turn.ModelName != testModel || turn.LastMessages != DefaultLastMessages {
		t.Errorf("default turn = model %v, name %q, lastMessages %d, want the app's model, %s, %d", turn.Model, turn.ModelName, turn.LastMessages, testModel, DefaultLastMessages)
	}
	if turn.WorkingMemoryTemplate != DefaultWorkingMemoryTemplate || turn.WorkingMemoryScope != ScopeResource || turn.SystemPrompt != "" {
		t.Errorf("default turn = template %q, scope %q, system prompt %q, want the defaults", turn.WorkingMemoryTemplate, turn.WorkingMemoryScope, turn.SystemPrompt)
	}

	// Saved settings go into the turn, and the same server reuses one Model.
	env.putSettings(ada, map[string]any{
		"backend":       map[string]any{"kind": "ollama", "baseUrl": env.fake.URL(), "model": "qwen2.5:7b"},
		"titleModel":    "llama3.2:1b",
		"temperature":   0.2,
		"contextLength": 4096,
		"systemPrompt":  "Be brief.",
		"lastMessages":  7,
		"workingMemory": map[string]any{"template": "# Facts\n", "scope": "thread"},
	})
	turn, err = env.app.turnFor(ctx, u, th)
	if err != nil {
		t.Fatalf("turnFor error: %v", err)
	}
	if turn.Model != env.app.model {
		t.Errorf("turn model = %v, want the app's model, which talks to the same server", turn.Model)
	}
	if turn.ModelName != "qwen2.5:7b" || turn.TitleModel != "llama3.2:1b" || turn.ContextLength != 4096 || turn.LastMessages != 7 || turn.SystemPrompt != "Be brief." {
		t.Errorf("turn = %+v, want the saved settings", turn)
	}
	if turn.Temperature == nil || *turn.Temperature != 0.2 {
		t.Errorf("turn temperature = %v, want 0.2", turn.Temperature)
	}
	if turn.WorkingMemoryTemplate != "# Facts\n" || turn.WorkingMemoryScope != ScopeThread {
		t.Errorf("turn working memory = %q, %q, want the saved template and scope thread", turn.WorkingMemoryTemplate, turn.WorkingMemoryScope)
	}

	// The thread's own model wins over the profile's.
	th.Model = "mistral:7b"
	turn, err = env.app.turnFor(ctx, u, th)
	if err != nil {
		t.Fatal(err)
	}
	if turn.ModelName != "mistral:7b" {
		t.Errorf("turn model name with a thread model = %q, want mistral:7b", turn.ModelName)
	}
	backend, name, err := env.app.titleModelFor(ctx, u, th)
	if err != nil || backend != turn.Model || name != "llama3.2:1b" {
		t.Errorf("titleModelFor = %v, %q, %v, want the turn's backend and llama3.2:1b", backend, name, err)
	}

	// Another server is another Model, made once.
	openai := newFakeOpenAI(t, "sk-turn")
	env.putSettings(ada, map[string]any{"backend": map[string]any{"kind": "openai", "baseUrl": openai.url(), "model": "gpt-4o-mini", "apiKey": "sk-turn"}})
	first, err := env.app.turnFor(ctx, u, memory.Thread{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := env.app.turnFor(ctx, u, memory.Thread{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Model.Describe().Kind != BackendOpenAI || first.ModelName != "gpt-4o-mini" {
		t.Errorf("openai turn = %+v, %q, want an openai backend with gpt-4o-mini", first.Model.Describe(), first.ModelName)
	}
	if first.Model != second.Model {
		t.Error("two turns on the same server got two Model instances, want one")
	}
	backend, name, err = env.app.titleModelFor(ctx, u, memory.Thread{})
	if err != nil || backend != first.Model || name != "gpt-4o-mini" {
		t.Errorf("titleModelFor without a title model = %v, %q, %v, want the chat model gpt-4o-mini", backend, name, err)
	}
}

func TestSettingsValidation(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	before := env.getSettings(ada)

	ollama := func(extra map[string]any) map[string]any {
		b := map[string]any{"kind": "ollama", "baseUrl": env.fake.URL(), "model": testModel}
		for k, v := range extra {
			b[k] = v
		}
		return map[string]any{"backend": b}
	}
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"unknown kind", map[string]any{"backend": map[string]any{"kind": "llamafile"}}, "backend.kind"},
		{"missing kind", map[string]any{"backend": map[string]any{"model": "x"}}, "backend.kind"},
		{"ftp base URL", ollama(map[string]any{"baseUrl": "ftp://127.0.0.1:11434"}), "backend.baseUrl"},
		{"base URL without host", ollama(map[string]any{"baseUrl": "http://"}), "backend.baseUrl"},
		{"base URL without scheme", ollama(map[string]any{"baseUrl": "127.0.0.1:11434"}), "backend.baseUrl"},
		{"base URL with password", ollama(map[string]any{"baseUrl": "http://user:pw@127.0.0.1:11434"}), "backend.baseUrl"},
		{"base URL with query", ollama(map[string]any{"baseUrl": "http://127.0.0.1:11434/?x=1"}), "backend.baseUrl"},
		{"model with a space", ollama(map[string]any{"model": "llama 3"}), "backend.model"},
		{"ollama with an API key", ollama(map[string]any{"apiKey": "sk-1"}), "backend.apiKey"},
		{"openai without base URL", map[string]any{"backend": map[string]any{"kind": "openai", "model": "gpt-4o"}}, "backend.baseUrl"},
		{"openai without model", map[string]any{"backend": map[string]any{"kind": "openai", "baseUrl": "https://api.openai.com/v1"}}, "backend.model"},
		{"API key with a line break", map[string]any{"backend": map[string]any{"kind": "openai", "baseUrl": "https://api.openai.com/v1", "model": "gpt-4o", "apiKey": "sk-1\nX-Evil: 1"}}, "backend.apiKey"},
		{"API key too long", map[string]any{"backend": map[string]any{"kind": "openai", "baseUrl": "https://api.openai.com/v1", "model": "gpt-4o", "apiKey": strings.Repeat("k", maxAPIKeyBytes+1)}}, "backend.apiKey"},
		{"title model with a tab", map[string]any{"titleModel": "llama\t3"}, "titleModel"},
		{"temperature below 0", map[string]any{"temperature": -0.1}, "temperature"},
		{"temperature above 2", map[string]any{"temperature": 2.01}, "temperature"},
		{"temperature as text", map[string]any{"temperature": "warm"}, "temperature"},
		{"context length too small", map[string]any{"contextLength": 511}, "contextLength"},
		{"context length too large", map[string]any{"contextLength": maxContextLength + 1}, "contextLength"},
		{"negative context length", map[string]any{"contextLength": -1}, "contextLength"},
		{"negative lastMessages", map[string]any{"lastMessages": -1}, "lastMessages"},
		{"too many lastMessages", map[string]any{"lastMessages": 201}, "lastMessages"},
		{"unknown scope", map[string]any{"workingMemory": map[string]any{"scope": "global"}}, "workingMemory.scope"},
		{"template too long", map[string]any{"workingMemory": map[string]any{"template": strings.Repeat("x", memory.MaxWorkingMemoryBytes+1)}}, "workingMemory.template"},
		{"system prompt too long", map[string]any{"systemPrompt": strings.Repeat("x", maxSystemPromptBytes+1)}, "systemPrompt"},
		{"unknown field", map[string]any{"colour": "blue"}, "colour"},
		{"unknown backend field", map[string]any{"backend": map[string]any{"kind": "ollama", "token": "x"}}, "token"},
		{"apiKeySet sent back", ollama(map[string]any{"apiKeySet": true}), "apiKeySet"},
		{"defaults sent back", map[string]any{"defaults": map[string]any{}}, "defaults"},
		{"unknown working memory field", map[string]any{"workingMemory": map[string]any{"scope": "thread", "size": 3}}, "size"},
	}
	for _, tt := range tests {
		resp, data := env.do("PUT", "/api/settings", ada, tt.body)
		checkAPIError(t, tt.name, resp, data, http.StatusBadRequest, CodeInvalidRequest, tt.field)
	}
	if after := env.getSettings(ada); !reflect.DeepEqual(after, before) {
		t.Errorf("settings after rejected requests = %+v, want them unchanged: %+v", after, before)
	}

	// The limits themselves are accepted.
	env.putSettings(ada, map[string]any{
		"temperature":   0,
		"contextLength": minContextLength,
		"lastMessages":  maxLastMessages,
		"systemPrompt":  strings.Repeat("x", maxSystemPromptBytes),
		"workingMemory": map[string]any{"template": strings.Repeat("x", memory.MaxWorkingMemoryBytes)},
	})
	s := env.putSettings(ada, map[string]any{"temperature": 2, "contextLength": maxContextLength, "lastMessages": 0})
	if s.Temperature == nil || *s.Temperature != 2 || s.ContextLength != maxContextLength || s.LastMessages != 0 {
		t.Errorf("settings at the upper limits = %+v", s)
	}
}

func TestSettingsAPIKeyHidden(t *testing.T) {
	env := newTestEnv(t)
	logs := &lockedBuffer{}
	env.stop()
	env.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env.start(env.fake.URL())
	ada := env.signUp("", "Ada")

	const key = "sk-hidden-Zq9v7Xw2"
	openai := newFakeOpenAI(t, key)
	backend := map[string]any{"kind": "openai", "baseUrl": openai.url(), "model": "gpt-4o-mini", "apiKey": key}

	var bodies [][]byte
	resp, body := env.do("PUT", "/api/settings", ada, map[string]any{"backend": backend})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT settings: status %d, body %s", resp.StatusCode, body)
	}
	bodies = append(bodies, body)
	_, body = env.do("GET", "/api/settings", ada, nil)
	bodies = append(bodies, body)
	_, body = env.do("GET", "/api/models", ada, nil)
	bodies = append(bodies, body)
	for _, b := range bodies {
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("a response contains the API key: %s", b)
		}
		if bytes.Contains(b, []byte(`"apiKey"`)) {
			t.Errorf("a response has an apiKey field: %s", b)
		}
	}
	if s := env.getSettings(ada); !s.Backend.APIKeySet {
		t.Error("apiKeySet = false after saving a key, want true")
	}

	// A request without apiKey keeps the key for the same server.
	delete(backend, "apiKey")
	if s := env.putSettings(ada, map[string]any{"backend": backend, "lastMessages": 3}); !s.Backend.APIKeySet {
		t.Error("apiKeySet = false after a PUT without apiKey, want the key kept")
	}
	env.mustJSON("GET", "/api/models", ada, nil, http.StatusOK, nil)

	// A wrong key is the backend's error.
	backend["apiKey"] = "sk-wrong"
	env.putSettings(ada, map[string]any{"backend": backend})
	env.wantAPIError("GET", "/api/models", ada, nil, http.StatusBadGateway, CodeBackendAuth, "")

	// Another server does not get the stored key.
	backend["apiKey"] = key
	env.putSettings(ada, map[string]any{"backend": backend})
	other := newFakeOpenAI(t, key)
	moved := map[string]any{"kind": "openai", "baseUrl": other.url(), "model": "gpt-4o"}
	if s := env.putSettings(ada, map[string]any{"backend": moved}); s.Backend.APIKeySet {
		t.Error("apiKeySet = true after moving to another server without a key, want the key dropped")
	}
	env.wantAPIError("GET", "/api/models", ada, nil, http.StatusBadGateway, CodeBackendAuth, "")
	for _, auth := range other.authorizations() {
		if strings.Contains(auth, key) {
			t.Errorf("the other server received the key: %q", auth)
		}
	}

	// An empty apiKey removes the key.
	backend["apiKey"] = key
	env.putSettings(ada, map[string]any{"backend": backend})
	backend["apiKey"] = ""
	if s := env.putSettings(ada, map[string]any{"backend": backend}); s.Backend.APIKeySet {
		t.Error("apiKeySet = true after sending an empty apiKey, want the key removed")
	}
	backend["apiKey"] = key
	env.putSettings(ada, map[string]any{"backend": backend})

	// Neither the data file nor the logs contain the key.
	env.stop()
	file, err := os.ReadFile(filepath.Join(env.dataDir, DataFileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(key)) {
		t.Error("the data file contains the API key in the clear")
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("the logs contain the API key:\n%s", logs.String())
	}
}

func TestSettingsOtherProfile(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")

	env.putSettings(ada, map[string]any{"systemPrompt": "Ada's prompt", "lastMessages": 4})
	bobs := env.getSettings(bob)
	if bobs.SystemPrompt != "" || bobs.LastMessages != DefaultLastMessages {
		t.Errorf("Bob's settings after Ada saved hers = %+v, want the defaults", bobs)
	}

	env.putSettings(bob, map[string]any{"systemPrompt": "Bob's prompt"})
	adas := env.getSettings(ada)
	if adas.SystemPrompt != "Ada's prompt" || adas.LastMessages != 4 {
		t.Errorf("Ada's settings after Bob saved his = %+v, want hers unchanged", adas)
	}

	env.wantAPIError("GET", "/api/settings", "", nil, http.StatusUnauthorized, CodeUnauthorized, "")
	env.wantAPIError("PUT", "/api/settings", "", map[string]any{}, http.StatusUnauthorized, CodeUnauthorized, "")
}

func TestSettingsDeletedWithProfile(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	env.putSettings(bob, map[string]any{"systemPrompt": "Bob's prompt"})
	bobUser := env.userOf(bob)

	env.mustJSON("DELETE", "/api/auth/profiles/"+bobUser.ID, ada, map[string]string{"password": "password-Ada"}, http.StatusNoContent, nil)
	raw, err := env.app.memory.Settings(context.Background(), bobUser.owner())
	if err != nil || raw != nil {
		t.Errorf("settings after deleting the profile = %s, %v, want none", raw, err)
	}
}

// TestSettingsReplaceDamaged checks that settings that no longer open fail
// the reads but can be replaced.
func TestSettingsReplaceDamaged(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.putSettings(ada, map[string]any{"systemPrompt": "Be brief."})
	resourceID := env.userOf(ada).ResourceID()

	env.stop()
	db, err := bbolt.Open(filepath.Join(env.dataDir, DataFileName), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		owned := tx.Bucket([]byte("resources")).Bucket([]byte(resourceID))
		sealed := bytes.Clone(owned.Get([]byte("settings")))
		sealed[len(sealed)-1] ^= 0xff
		return owned.Put([]byte("settings"), sealed)
	})
	if closeErr := db.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		t.Fatal(err)
	}
	env.start(env.fake.URL())
	ada = env.login("Ada", "password-Ada")

	env.wantAPIError("GET", "/api/settings", ada, nil, http.StatusInternalServerError, CodeInternal, "")
	saved := env.putSettings(ada, map[string]any{"systemPrompt": "Be kind."})
	if saved.SystemPrompt != "Be kind." {
		t.Errorf("settings saved over damaged ones = %+v, want the new system prompt", saved)
	}
	if got := env.getSettings(ada); got.SystemPrompt != "Be kind." {
		t.Errorf("settings after replacing damaged ones = %+v, want the new system prompt", got)
	}
}

type modelsJSON struct {
	Backend struct {
		Kind  string `json:"kind"`
		URL   string `json:"url"`
		Model string `json:"model"`
	} `json:"backend"`
	Models []struct {
		Name          string   `json:"name"`
		Size          int64    `json:"size"`
		ContextLength int      `json:"contextLength"`
		Capabilities  []string `json:"capabilities"`
	} `json:"models"`
}

func (m modelsJSON) names() []string {
	names := make([]string, len(m.Models))
	for i, model := range m.Models {
		names[i] = model.Name
	}
	return names
}

func TestModelsList(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	var list modelsJSON
	env.mustJSON("GET", "/api/models", ada, nil, http.StatusOK, &list)
	if list.Backend.Kind != BackendOllama || list.Backend.URL != env.fake.URL() || list.Backend.Model != testModel {
		t.Errorf("models backend = %+v, want ollama at %s with %s", list.Backend, env.fake.URL(), testModel)
	}
	if got, want := list.names(), []string{"llama3.2:latest", "nomic-embed-text:latest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("models = %v, want %v", got, want)
	}
	for _, m := range list.Models {
		if m.Size <= 0 {
			t.Errorf("model %s has size %d, want the size Ollama lists", m.Name, m.Size)
		}
	}

	env.fake.SetModels()
	env.mustJSON("GET", "/api/models", ada, nil, http.StatusOK, &list)
	if list.Models == nil || len(list.Models) != 0 {
		t.Errorf("models with none installed = %v, want an empty list", list.Models)
	}
}

func TestModelsListCapabilities(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	var list struct {
		Models []struct {
			Name         string   `json:"name"`
			Capabilities []string `json:"capabilities"`
		} `json:"models"`
	}
	env.mustJSON("GET", "/api/models", ada, nil, http.StatusOK, &list)
	got := map[string][]string{}
	for _, m := range list.Models {
		got[m.Name] = m.Capabilities
	}
	want := map[string][]string{
		"llama3.2:latest":         {"completion", "tools"},
		"nomic-embed-text:latest": {"embedding"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("capabilities by model = %v, want %v", got, want)
	}

	// A profile that names its own Ollama server gets them too.
	env.putSettings(ada, map[string]any{"backend": map[string]any{"kind": "ollama", "baseUrl": env.fake.URL(), "model": testModel}})
	env.mustJSON("GET", "/api/models", ada, nil, http.StatusOK, &list)
	for _, m := range list.Models {
		if !reflect.DeepEqual(m.Capabilities, want[m.Name]) {
			t.Errorf("capabilities of %s from the profile's server = %v, want %v", m.Name, m.Capabilities, want[m.Name])
		}
	}
}

func TestModelsBackendDown(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.putSettings(ada, map[string]any{"backend": map[string]any{"kind": "ollama", "baseUrl": closedLoopbackURL(t), "model": testModel}})
	env.wantAPIError("GET", "/api/models", ada, nil, http.StatusBadGateway, CodeBackendUnreachable, "")
}

func TestModelsOpenAIBackend(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	const key = "sk-openai-models"
	openai := newFakeOpenAI(t, key)
	env.putSettings(ada, map[string]any{"backend": map[string]any{"kind": "openai", "baseUrl": openai.url(), "model": "gpt-4o-mini", "apiKey": key}})

	var list modelsJSON
	env.mustJSON("GET", "/api/models", ada, nil, http.StatusOK, &list)
	if list.Backend.Kind != BackendOpenAI || list.Backend.URL != openai.url() || list.Backend.Model != "gpt-4o-mini" {
		t.Errorf("models backend = %+v, want openai at %s with gpt-4o-mini", list.Backend, openai.url())
	}
	if got, want := list.names(), []string{"gpt-4o-mini", "gpt-4o"}; !reflect.DeepEqual(got, want) {
		t.Errorf("models = %v, want %v", got, want)
	}
	for _, m := range list.Models {
		if m.Capabilities != nil {
			t.Errorf("model %s of an OpenAI-compatible server has capabilities %v, want none", m.Name, m.Capabilities)
		}
	}
	auths := openai.authorizations()
	if len(auths) == 0 || auths[len(auths)-1] != "Bearer "+key {
		t.Errorf("Authorization headers the server received = %q, want Bearer and the saved key", auths)
	}
	for _, r := range env.fake.Requests() {
		if r.Path == "/api/tags" {
			t.Error("the models of an openai profile were asked from Ollama")
		}
	}
}

// readPullLines reads an NDJSON pull stream to its end.
func readPullLines(t *testing.T, resp *http.Response) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("pull line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read pull stream: %v", err)
	}
	return lines
}

func TestPullModel(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	resp := env.send("POST", "/api/models/pull", ada, map[string]string{"name": "qwen2.5:0.5b"})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pull status = %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("pull Content-Type = %q, want application/x-ndjson", ct)
	}
	lines := readPullLines(t, resp)
	if len(lines) < 3 {
		t.Fatalf("pull sent %d lines, want the manifest, downloads and success: %v", len(lines), lines)
	}
	if lines[0]["status"] != "pulling manifest" {
		t.Errorf("first line = %v, want status pulling manifest", lines[0])
	}
	if last := lines[len(lines)-1]; last["status"] != "success" {
		t.Errorf("last line = %v, want status success", last)
	}
	downloads := 0
	for _, line := range lines {
		if line["status"] != "downloading" {
			if _, ok := line["digest"]; ok {
				t.Errorf("line %v has a digest but not the status downloading", line)
			}
			continue
		}
		downloads++
		digest, _ := line["digest"].(string)
		total, hasTotal := line["total"].(float64)
		completed, hasCompleted := line["completed"].(float64)
		if !strings.HasPrefix(digest, "sha256:") || !hasTotal || !hasCompleted || completed > total {
			t.Errorf("download line = %v, want a digest, total and completed no larger than total", line)
		}
	}
	if downloads == 0 {
		t.Error("pull sent no downloading lines")
	}

	var list modelsJSON
	env.mustJSON("GET", "/api/models", ada, nil, http.StatusOK, &list)
	found := false
	for _, name := range list.names() {
		found = found || name == "qwen2.5:0.5b"
	}
	if !found {
		t.Errorf("models after the pull = %v, want qwen2.5:0.5b among them", list.names())
	}
	if pulls := env.fake.PullRequests(); len(pulls) != 1 || pulls[0].Model != "qwen2.5:0.5b" {
		t.Errorf("pull requests Ollama received = %+v, want one for qwen2.5:0.5b", pulls)
	}
}

func TestPullModelRejected(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	for _, name := range []string{"", "   ", "llama 3", "llama3;rm", "mo\ndel", strings.Repeat("m", maxPullNameBytes+1)} {
		env.wantAPIError("POST", "/api/models/pull", ada, map[string]string{"name": name}, http.StatusBadRequest, CodeInvalidRequest, "name")
	}
	env.wantAPIError("POST", "/api/models/pull", ada, map[string]any{"name": "x", "force": true}, http.StatusBadRequest, CodeInvalidRequest, "force")
	env.wantAPIError("POST", "/api/models/pull", "", map[string]string{"name": "llama3.2"}, http.StatusUnauthorized, CodeUnauthorized, "")

	openai := newFakeOpenAI(t, "sk-pull")
	env.putSettings(ada, map[string]any{"backend": map[string]any{"kind": "openai", "baseUrl": openai.url(), "model": "gpt-4o-mini", "apiKey": "sk-pull"}})
	env.wantAPIError("POST", "/api/models/pull", ada, map[string]string{"name": "llama3.2"}, http.StatusBadRequest, CodeInvalidRequest, "backend.kind")
	if pulls := env.fake.PullRequests(); len(pulls) != 0 {
		t.Errorf("Ollama received %d pull requests, want none", len(pulls))
	}
}

func TestPullModelBackendDown(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.putSettings(ada, map[string]any{"backend": map[string]any{"kind": "ollama", "baseUrl": closedLoopbackURL(t), "model": testModel}})

	resp := env.send("POST", "/api/models/pull", ada, map[string]string{"name": "llama3.2"})
	defer resp.Body.Close()
	lines := readPullLines(t, resp)
	if resp.StatusCode != http.StatusOK || len(lines) != 1 {
		t.Fatalf("pull from a stopped Ollama = status %d, lines %v, want 200 and one error line", resp.StatusCode, lines)
	}
	e, _ := lines[0]["error"].(map[string]any)
	if e == nil || e["code"] != CodeBackendUnreachable || e["message"] == "" {
		t.Errorf("error line = %v, want code %s with a message", lines[0], CodeBackendUnreachable)
	}
}

// TestPullModelAbort checks that a client that aborts the pull request stops
// the download on the Ollama server.
func TestPullModelAbort(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	// This Ollama sends one progress line and then waits until its client
	// goes away.
	stopped := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/pull" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = w.Write([]byte(`{"status":"pulling manifest"}` + "\n"))
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		close(stopped)
	}))
	defer slow.Close()
	env.putSettings(ada, map[string]any{"backend": map[string]any{"kind": "ollama", "baseUrl": slow.URL, "model": testModel}})

	resp := env.send("POST", "/api/models/pull", ada, map[string]string{"name": "llama3.2"})
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.Contains(line, "pulling manifest") {
		t.Fatalf("first pull line = %q, %v, want pulling manifest", line, err)
	}
	resp.Body.Close()

	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the Ollama server's pull request was still open 5s after the client aborted")
	}
}

func TestThreadModelPatch(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	th := env.createThread(ada)

	type threadModelJSON struct {
		ID    string `json:"id"`
		Title string `json:"title"`
		Model string `json:"model"`
	}
	var got threadModelJSON
	env.mustJSON("PATCH", "/api/threads/"+th.ID, ada, map[string]string{"model": "qwen2.5:7b"}, http.StatusOK, &got)
	if got.ID != th.ID || got.Model != "qwen2.5:7b" || got.Title != th.Title {
		t.Errorf("patched thread = %+v, want %s with model qwen2.5:7b and title %q", got, th.ID, th.Title)
	}
	var withMessages struct {
		Thread threadModelJSON `json:"thread"`
	}
	env.mustJSON("GET", "/api/threads/"+th.ID, ada, nil, http.StatusOK, &withMessages)
	if withMessages.Thread.Model != "qwen2.5:7b" {
		t.Errorf("GET thread model = %q, want qwen2.5:7b", withMessages.Thread.Model)
	}
	var list []threadModelJSON
	env.mustJSON("GET", "/api/threads", ada, nil, http.StatusOK, &list)
	if len(list) != 1 || list[0].Model != "qwen2.5:7b" {
		t.Errorf("listed threads = %+v, want the thread with model qwen2.5:7b", list)
	}

	// A title change keeps the model; an empty model clears it.
	env.mustJSON("PATCH", "/api/threads/"+th.ID, ada, map[string]string{"title": "Lisbon trip"}, http.StatusOK, &got)
	if got.Title != "Lisbon trip" || got.Model != "qwen2.5:7b" {
		t.Errorf("renamed thread = %+v, want title Lisbon trip and the model kept", got)
	}
	var cleared threadModelJSON
	env.mustJSON("PATCH", "/api/threads/"+th.ID, ada, map[string]string{"model": ""}, http.StatusOK, &cleared)
	if cleared.Model != "" || cleared.Title != "Lisbon trip" {
		t.Errorf("thread after clearing the model = %+v, want no model and the title kept", cleared)
	}

	// Another profile's thread is not found, and stays unchanged.
	env.wantAPIError("PATCH", "/api/threads/"+th.ID, bob, map[string]string{"model": "mistral"}, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("PATCH", "/api/threads/"+th.ID, bob, map[string]string{"title": "mine"}, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("PATCH", "/api/threads/"+th.ID, bob, map[string]string{}, http.StatusNotFound, CodeNotFound, "")
	env.wantAPIError("PATCH", "/api/threads/not-an-id", ada, map[string]string{"model": "mistral"}, http.StatusNotFound, CodeNotFound, "")
	var unchanged struct {
		Thread threadModelJSON `json:"thread"`
	}
	env.mustJSON("GET", "/api/threads/"+th.ID, ada, nil, http.StatusOK, &unchanged)
	if unchanged.Thread.Model != "" || unchanged.Thread.Title != "Lisbon trip" {
		t.Errorf("thread after Bob's requests = %+v, want it unchanged", unchanged.Thread)
	}

	// Invalid requests.
	env.wantAPIError("PATCH", "/api/threads/"+th.ID, ada, map[string]string{"model": "llama 3"}, http.StatusBadRequest, CodeInvalidRequest, "model")
	env.wantAPIError("PATCH", "/api/threads/"+th.ID, ada, map[string]string{"title": strings.Repeat("t", memory.MaxTitleLength+1)}, http.StatusBadRequest, CodeInvalidRequest, "title")
	env.wantAPIError("PATCH", "/api/threads/"+th.ID, ada, map[string]string{"colour": "blue"}, http.StatusBadRequest, CodeInvalidRequest, "colour")
}

// TestThreadModelChat checks that a reply in a thread with its own model is
// asked from that model.
func TestThreadModelChat(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.fake.SetModels(testModel, "qwen2.5:7b")
	th := env.createThread(ada)
	env.mustJSON("PATCH", "/api/threads/"+th.ID, ada, map[string]string{"model": "qwen2.5:7b"}, http.StatusOK, nil)

	env.chat(ada, map[string]string{"message": "Hello", "threadId": th.ID})
	if got := env.lastChatRequest().Model; got != "qwen2.5:7b" {
		t.Errorf("chat model = %q, want the thread's qwen2.5:7b", got)
	}

	other := env.createThread(ada)
	env.chat(ada, map[string]string{"message": "Hello", "threadId": other.ID})
	if got := env.lastChatRequest().Model; got != testModel {
		t.Errorf("chat model of a thread without its own = %q, want the profile's %s", got, testModel)
	}
}
