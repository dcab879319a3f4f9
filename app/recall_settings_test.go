package app

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"hearth/memory"
)

// recallSettingsPart is the recall part of the settings document.
type recallSettingsPart struct {
	TopK         int    `json:"topK"`
	MessageRange int    `json:"messageRange"`
	Scope        string `json:"scope"`
	Enabled      bool   `json:"enabled"`
}

// themedSettingsJSON is the part of GET /api/settings that this file
// checks: the recall, the theme and their defaults.
type themedSettingsJSON struct {
	Recall   recallSettingsPart `json:"recall"`
	Theme    string             `json:"theme"`
	Defaults struct {
		Recall recallSettingsPart `json:"recall"`
		Theme  string             `json:"theme"`
	} `json:"defaults"`
}

// recallAndTheme returns the recall and theme of token's settings.
func (env *testEnv) recallAndTheme(token string) themedSettingsJSON {
	env.t.Helper()
	var s themedSettingsJSON
	env.mustJSON("GET", "/api/settings", token, nil, http.StatusOK, &s)
	return s
}

// putRecallAndTheme saves body and returns the recall and theme of the
// response.
func (env *testEnv) putRecallAndTheme(token string, body any) themedSettingsJSON {
	env.t.Helper()
	var s themedSettingsJSON
	env.mustJSON("PUT", "/api/settings", token, body, http.StatusOK, &s)
	return s
}

// recalledEntry is one item of a stream's data-recall part.
type recalledEntry struct {
	ThreadID string      `json:"threadId"`
	Match    bool        `json:"match"`
	Message  messageJSON `json:"message"`
}

// recallEntries returns the items of the stream's data-recall part, and
// whether the stream had one.
func recallEntries(t *testing.T, parts []streamPart) ([]recalledEntry, bool) {
	t.Helper()
	for _, p := range parts {
		if p.Type != recallPartType {
			continue
		}
		data, err := json.Marshal(p.Data)
		if err != nil {
			t.Fatal(err)
		}
		var entries []recalledEntry
		if err := json.Unmarshal(data, &entries); err != nil {
			t.Fatalf("decode recall part %s: %v", data, err)
		}
		return entries, true
	}
	return nil, false
}

// countMatches returns how many entries are matches rather than context.
func countMatches(entries []recalledEntry) int {
	n := 0
	for _, e := range entries {
		if e.Match {
			n++
		}
	}
	return n
}

var defaultRecallPart = recallSettingsPart{TopK: memory.DefaultTopK, MessageRange: memory.DefaultMessageRange, Scope: ScopeResource, Enabled: true}

func TestRecallSettingsDefaults(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	s := env.recallAndTheme(ada)
	if s.Recall != defaultRecallPart {
		t.Errorf("recall of a new profile = %+v, want %+v", s.Recall, defaultRecallPart)
	}
	if s.Theme != ThemeSystem {
		t.Errorf("theme of a new profile = %q, want %q", s.Theme, ThemeSystem)
	}
	if s.Defaults.Recall != defaultRecallPart {
		t.Errorf("defaults.recall = %+v, want %+v", s.Defaults.Recall, defaultRecallPart)
	}
	if s.Defaults.Theme != ThemeSystem {
		t.Errorf("defaults.theme = %q, want %q", s.Defaults.Theme, ThemeSystem)
	}

	// A PUT without recall or theme, or with an empty recall object, gives
	// the defaults.
	for _, body := range []map[string]any{{}, {"recall": map[string]any{}}, {"recall": nil, "theme": ""}} {
		got := env.putRecallAndTheme(ada, body)
		if got.Recall != defaultRecallPart || got.Theme != ThemeSystem {
			t.Errorf("PUT %v: recall %+v, theme %q, want the defaults", body, got.Recall, got.Theme)
		}
	}

	// A recall object with some fields keeps the defaults of the others.
	got := env.putRecallAndTheme(ada, map[string]any{"recall": map[string]any{"topK": 9}})
	want := defaultRecallPart
	want.TopK = 9
	if got.Recall != want {
		t.Errorf("recall after a PUT of topK only = %+v, want %+v", got.Recall, want)
	}
}

func TestRecallSettingsRoundTrip(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")

	want := recallSettingsPart{TopK: 12, MessageRange: 0, Scope: ScopeThread, Enabled: false}
	body := map[string]any{
		"recall": map[string]any{"topK": 12, "messageRange": 0, "scope": "thread", "enabled": false},
		"theme":  "dark",
	}
	saved := env.putRecallAndTheme(ada, body)
	if saved.Recall != want || saved.Theme != ThemeDark {
		t.Errorf("PUT response: recall %+v, theme %q, want %+v and dark", saved.Recall, saved.Theme, want)
	}

	env.stop()
	env.start(env.fake.URL())
	ada = env.login("Ada", "password-Ada")
	got := env.recallAndTheme(ada)
	if got.Recall != want || got.Theme != ThemeDark {
		t.Errorf("GET after a restart: recall %+v, theme %q, want %+v and dark", got.Recall, got.Theme, want)
	}
	if got.Defaults.Recall != defaultRecallPart || got.Defaults.Theme != ThemeSystem {
		t.Errorf("defaults after saving = %+v, %q, want Hearth's", got.Defaults.Recall, got.Defaults.Theme)
	}

	light := env.putRecallAndTheme(ada, map[string]any{"theme": "light"})
	if light.Theme != ThemeLight {
		t.Errorf("theme after choosing light = %q", light.Theme)
	}
	system := env.putRecallAndTheme(ada, map[string]any{"theme": "system"})
	if system.Theme != ThemeSystem {
		t.Errorf("theme after choosing system = %q", system.Theme)
	}
}

func TestRecallSettingsValidation(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.putRecallAndTheme(ada, map[string]any{"recall": map[string]any{"topK": 7}, "theme": "dark"})
	before := env.recallAndTheme(ada)

	tests := []struct {
		name  string
		body  any
		field string
		// message is a part of the error message that gives the allowed
		// values.
		message string
	}{
		{"topK 0", map[string]any{"recall": map[string]any{"topK": 0}}, "recall.topK", "use 1 to 50"},
		{"topK negative", map[string]any{"recall": map[string]any{"topK": -3}}, "recall.topK", "use 1 to 50"},
		{"topK 51", map[string]any{"recall": map[string]any{"topK": 51}}, "recall.topK", "use 1 to 50"},
		{"topK as text", map[string]any{"recall": map[string]any{"topK": "4"}}, "recall.topK", ""},
		{"topK fractional", map[string]any{"recall": map[string]any{"topK": 2.5}}, "recall.topK", ""},
		{"messageRange negative", map[string]any{"recall": map[string]any{"messageRange": -1}}, "recall.messageRange", "use 0 to 10"},
		{"messageRange 11", map[string]any{"recall": map[string]any{"messageRange": 11}}, "recall.messageRange", "use 0 to 10"},
		{"unknown scope", map[string]any{"recall": map[string]any{"scope": "galaxy"}}, "recall.scope", `"resource"`},
		{"enabled as text", map[string]any{"recall": map[string]any{"enabled": "yes"}}, "recall.enabled", ""},
		{"unknown recall field", map[string]any{"recall": map[string]any{"limit": 3}}, "limit", ""},
		{"recall as a number", map[string]any{"recall": 4}, "recall", ""},
		{"unknown theme", map[string]any{"theme": "sepia"}, "theme", `"dark"`},
		{"theme in capitals", map[string]any{"theme": "Dark"}, "theme", `"dark"`},
	}
	for _, tt := range tests {
		resp, data := env.do("PUT", "/api/settings", ada, tt.body)
		checkAPIError(t, tt.name, resp, data, http.StatusBadRequest, CodeInvalidRequest, tt.field)
		var e apiErrorJSON
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("%s: decode %s: %v", tt.name, data, err)
		}
		if !strings.Contains(e.Error.Message, tt.message) {
			t.Errorf("%s: error message %q does not say %s", tt.name, e.Error.Message, tt.message)
		}
	}
	if after := env.recallAndTheme(ada); !reflect.DeepEqual(after, before) {
		t.Errorf("settings after rejected requests = %+v, want them unchanged: %+v", after, before)
	}

	// The limits themselves are accepted.
	low := env.putRecallAndTheme(ada, map[string]any{"recall": map[string]any{"topK": 1, "messageRange": 0}})
	if low.Recall.TopK != 1 || low.Recall.MessageRange != 0 {
		t.Errorf("recall at the lower limits = %+v", low.Recall)
	}
	high := env.putRecallAndTheme(ada, map[string]any{"recall": map[string]any{"topK": memory.MaxTopK, "messageRange": memory.MaxMessageRange}})
	if high.Recall.TopK != memory.MaxTopK || high.Recall.MessageRange != memory.MaxMessageRange {
		t.Errorf("recall at the upper limits = %+v", high.Recall)
	}
}

// seedRecall stores two chats about a landlord for token's profile, waits
// until their messages are embedded and returns the two threads.
func (env *testEnv) seedRecall(token string) (threadJSON, threadJSON) {
	env.t.Helper()
	rent := env.createThread(token)
	env.fake.Enqueue(textReply("Noted: the landlord raised the rent."))
	env.chat(token, map[string]string{"message": "My landlord raised the rent by 200 euros in March.", "threadId": rent.ID})
	heating := env.createThread(token)
	env.fake.Enqueue(textReply("Noted: the landlord fixes the heating."))
	env.chat(token, map[string]string{"message": "My landlord promised to fix the heating in the flat.", "threadId": heating.ID})
	env.waitRecall(token)
	return rent, heating
}

const landlordQuestion = "What did I tell you about my landlord, the rent and the heating?"

func TestReplyRecallHonoursSettings(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	rent, heating := env.seedRecall(ada)

	// The defaults recall the messages of both chats, at most topK of them
	// as matches.
	env.fake.Enqueue(textReply("You told me about the rent and the heating."))
	_, parts := env.chat(ada, map[string]string{"message": landlordQuestion})
	entries, ok := recallEntries(t, parts)
	if !ok {
		t.Fatal("a reply with the default recall has no recall part")
	}
	if n := countMatches(entries); n < 2 || n > memory.DefaultTopK {
		t.Errorf("default recall found %d matches, want 2 to %d: %+v", n, memory.DefaultTopK, entries)
	}
	threads := map[string]bool{}
	for _, e := range entries {
		threads[e.ThreadID] = true
	}
	if !threads[rent.ID] || !threads[heating.ID] {
		t.Errorf("default recall returned messages of threads %v, want both chats", threads)
	}

	// topK 1 without context: one match, alone, and one quoted message in
	// the prompt.
	env.putSettings(ada, map[string]any{"recall": map[string]any{"topK": 1, "messageRange": 0}})
	env.fake.Enqueue(textReply("You told me about the rent."))
	_, parts = env.chat(ada, map[string]string{"message": landlordQuestion})
	entries, ok = recallEntries(t, parts)
	if !ok {
		t.Fatal("a reply with topK 1 has no recall part")
	}
	if len(entries) != 1 || !entries[0].Match {
		t.Errorf("recall with topK 1 and messageRange 0 = %+v, want one match", entries)
	}
	if n := strings.Count(env.lastSystemPrompt(), "<"+pastMessageTag+" "); n != 1 {
		t.Errorf("the prompt quotes %d recalled messages, want 1:\n%s", n, env.lastSystemPrompt())
	}

	// topK 1 with the default range: one match and its neighbours.
	env.putSettings(ada, map[string]any{"recall": map[string]any{"topK": 1}})
	env.fake.Enqueue(textReply("You told me about the rent."))
	_, parts = env.chat(ada, map[string]string{"message": landlordQuestion})
	entries, _ = recallEntries(t, parts)
	if n := countMatches(entries); n != 1 {
		t.Errorf("recall with topK 1 found %d matches, want 1: %+v", n, entries)
	}
	if len(entries) < 2 {
		t.Errorf("recall with messageRange 1 returned %d messages, want the match and its reply: %+v", len(entries), entries)
	}

	// Scope thread: the heating chat recalls only its own messages, and a
	// new chat recalls nothing.
	env.putSettings(ada, map[string]any{"lastMessages": 0, "recall": map[string]any{"scope": "thread"}})
	env.fake.Enqueue(textReply("You told me about the heating."))
	_, parts = env.chat(ada, map[string]string{"message": landlordQuestion, "threadId": heating.ID})
	entries, ok = recallEntries(t, parts)
	if !ok || countMatches(entries) == 0 {
		t.Fatalf("thread-scoped recall in the heating chat = %+v, want its earlier messages", entries)
	}
	for _, e := range entries {
		if e.ThreadID != heating.ID {
			t.Errorf("thread-scoped recall returned a message of thread %s (the rent chat is %s), want only %s", e.ThreadID, rent.ID, heating.ID)
		}
	}
	env.fake.Enqueue(textReply("I have no notes about that."))
	_, parts = env.chat(ada, map[string]string{"message": landlordQuestion})
	if entries, ok := recallEntries(t, parts); ok {
		t.Errorf("thread-scoped recall in a new chat = %+v, want no recall part", entries)
	}
	if strings.Contains(env.lastSystemPrompt(), recalledTag) {
		t.Errorf("the prompt of a new chat with thread-scoped recall has a recalled block:\n%s", env.lastSystemPrompt())
	}

	// Disabled: no recall part and no recalled block, though the messages
	// are still embedded for when it is enabled again.
	env.putSettings(ada, map[string]any{"recall": map[string]any{"enabled": false}})
	env.fake.Enqueue(textReply("I have no notes about that."))
	_, parts = env.chat(ada, map[string]string{"message": landlordQuestion})
	if entries, ok := recallEntries(t, parts); ok {
		t.Errorf("disabled recall sent a recall part: %+v", entries)
	}
	if system := env.lastSystemPrompt(); strings.Contains(system, recalledTag) || strings.Contains(system, "200 euros") {
		t.Errorf("the prompt with recall disabled quotes earlier messages:\n%s", system)
	}
	env.waitRecall(ada)
	if status := env.recallSettings(ada).Status; status.Pending != 0 || status.Vectors < 6 {
		t.Errorf("recall status with recall disabled = %+v, want every message embedded", status)
	}

	env.putSettings(ada, map[string]any{"recall": map[string]any{"enabled": true}})
	env.fake.Enqueue(textReply("You told me about the rent and the heating."))
	_, parts = env.chat(ada, map[string]string{"message": landlordQuestion})
	if _, ok := recallEntries(t, parts); !ok {
		t.Error("recall enabled again sent no recall part")
	}
}

func TestTurnRecallFromSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings replyRecallSettings
		want     TurnRecall
	}{
		{"defaults", defaultReplyRecall(), TurnRecall{TopK: memory.DefaultTopK, MessageRange: memory.DefaultMessageRange, Scope: memory.ScopeResource}},
		{"no context", replyRecallSettings{TopK: 1, MessageRange: 0, Scope: ScopeThread, Enabled: true}, TurnRecall{TopK: 1, MessageRange: -1, Scope: memory.ScopeThread}},
		{"disabled", replyRecallSettings{TopK: 4, MessageRange: 2, Scope: ScopeResource}, TurnRecall{Disabled: true, TopK: 4, MessageRange: 2, Scope: memory.ScopeResource}},
	}
	for _, tt := range tests {
		if got := turnRecall(tt.settings); got != tt.want {
			t.Errorf("%s: turnRecall(%+v) = %+v, want %+v", tt.name, tt.settings, got, tt.want)
		}
	}

	// Settings saved before recall existed read as the defaults.
	var old profileSettings
	if err := json.Unmarshal([]byte(`{"version":1,"lastMessages":20,"workingMemory":{"template":"","scope":"resource"}}`), &old); err != nil {
		t.Fatal(err)
	}
	if got := old.recall(); got != defaultReplyRecall() {
		t.Errorf("recall of settings without one = %+v, want the defaults", got)
	}
}
