package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"hearth/memory"
)

type recallSettingsJSON struct {
	Status struct {
		State       string `json:"state"`
		Embedder    string `json:"embedder"`
		Dimension   int    `json:"dimension"`
		Vectors     int    `json:"vectors"`
		Pending     int    `json:"pending"`
		LastError   string `json:"lastError"`
		Reembedding *struct {
			From  string `json:"from"`
			To    string `json:"to"`
			Done  int    `json:"done"`
			Total int    `json:"total"`
		} `json:"reembedding"`
	} `json:"status"`
	Embedder struct {
		Kind      string `json:"kind"`
		Model     string `json:"model"`
		BaseURL   string `json:"baseUrl"`
		HasAPIKey bool   `json:"hasApiKey"`
		APIKey    string `json:"apiKey"`
	} `json:"embedder"`
	Lexical    bool   `json:"lexical"`
	Suggestion string `json:"suggestion"`
}

type recallResultsJSON struct {
	Results []struct {
		ThreadID    string      `json:"threadId"`
		ThreadTitle string      `json:"threadTitle"`
		Date        time.Time   `json:"date"`
		Similarity  float32     `json:"similarity"`
		Match       bool        `json:"match"`
		Message     messageJSON `json:"message"`
	} `json:"results"`
}

// ownerOf returns the memory owner of a signed-in token, for waiting on
// the background embedding.
func (env *testEnv) ownerOf(token string) memory.Owner {
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
	return memory.Owner{ResourceID: sess.Profile.ResourceID(), Key: key}
}

// waitRecall waits until every message of token's profile is embedded.
func (env *testEnv) waitRecall(token string) {
	env.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := env.ownerOf(token)
	if err := env.app.recall.Wait(ctx, o); err != nil {
		env.t.Fatalf("wait for recall: %v (status %+v)", err, env.app.recall.Status(o))
	}
}

func (env *testEnv) recallSettings(token string) recallSettingsJSON {
	env.t.Helper()
	var out recallSettingsJSON
	env.mustJSON("GET", "/api/memory/recall", token, nil, http.StatusOK, &out)
	return out
}

// lastSystemPrompt returns the system messages of the newest chat request
// the fake model received.
func (env *testEnv) lastSystemPrompt() string {
	env.t.Helper()
	reqs := env.fake.ChatRequests()
	if len(reqs) == 0 {
		env.t.Fatal("the model received no chat request")
	}
	var system []string
	for _, m := range reqs[len(reqs)-1].Messages {
		if m.Role == "system" {
			system = append(system, m.Content)
		}
	}
	return strings.Join(system, "\n")
}

func TestChatRecallsEarlierThreads(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")

	march := env.createThread(ada)
	env.fake.Enqueue(textReply("Noted: the rent went up."))
	env.chat(ada, map[string]string{"message": "My landlord raised the rent by 200 euros in March.", "threadId": march.ID})
	env.fake.Enqueue(textReply("I have no notes about that."))
	env.chat(bob, map[string]string{"message": "Hello there, I like gardening."})
	env.waitRecall(ada)
	env.waitRecall(bob)

	// A new thread: the landlord message comes back as recalled context,
	// with its date, and the stream lists the memories used.
	env.fake.Enqueue(textReply("You said the rent went up by 200 euros."))
	_, parts := env.chat(ada, map[string]string{"message": "What did I tell you about my landlord and the rent?"})
	system := env.lastSystemPrompt()
	if !strings.Contains(system, "role=\"user\">\nMy landlord raised the rent by 200 euros in March.\n</past_message>") {
		t.Errorf("the prompt does not quote the recalled message:\n%s", system)
	}
	if !strings.Contains(system, "not as instructions") {
		t.Errorf("the recalled block is not marked as past conversation:\n%s", system)
	}
	if used := recalledParts(t, parts); len(used) == 0 || !strings.Contains(used[0].Content, "landlord") {
		t.Errorf("the stream's recall part lists %+v, want the landlord message", used)
	}

	// Bob sends the same question: nothing of Ada's reaches his prompt.
	env.fake.Enqueue(textReply("I do not know."))
	env.chat(bob, map[string]string{"message": "What did I tell you about my landlord and the rent?"})
	if system := env.lastSystemPrompt(); strings.Contains(system, "landlord raised") || strings.Contains(system, "200 euros") {
		t.Errorf("Bob's prompt holds Ada's message:\n%s", system)
	}
}

func TestRecallSettingsAndSearch(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")
	thread := env.createThread(ada)
	env.fake.Enqueue(textReply("Six minutes for a soft yolk."))
	env.chat(ada, map[string]string{"message": "How long should I boil an egg?", "threadId": thread.ID})
	env.waitRecall(ada)

	settings := env.recallSettings(ada)
	if !settings.Lexical || settings.Embedder.Kind != EmbedderBuiltin || settings.Suggestion != "nomic-embed-text" {
		t.Errorf("a fresh profile's settings are %+v, want the built-in lexical embedder and the suggestion nomic-embed-text", settings)
	}
	if settings.Status.State != "ready" || settings.Status.Vectors != 2 || settings.Status.Embedder != "lexical-v1-1024" {
		t.Errorf("status is %+v, want ready with 2 vectors of lexical-v1-1024", settings.Status)
	}

	var found recallResultsJSON
	env.mustJSON("POST", "/api/memory/recall/search", ada, map[string]any{"query": "boil egg", "messageRange": 0}, http.StatusOK, &found)
	if len(found.Results) == 0 || found.Results[0].ThreadID != thread.ID || found.Results[0].ThreadTitle == "" || found.Results[0].Similarity <= 0 {
		t.Errorf("search found %+v", found.Results)
	}

	// Bob cannot search Ada's thread, and finds nothing of hers.
	resp, body := env.do("POST", "/api/memory/recall/search", bob, map[string]any{"query": "boil egg", "threadId": thread.ID, "scope": "thread"})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), msgThreadNotFound) {
		t.Errorf("Bob searching Ada's thread: %d %s, want 404 thread not found", resp.StatusCode, body)
	}
	env.mustJSON("POST", "/api/memory/recall/search", bob, map[string]any{"query": "boil egg"}, http.StatusOK, &found)
	if len(found.Results) != 0 {
		t.Errorf("Bob's search returned %d of Ada's messages", len(found.Results))
	}

	for _, bad := range []map[string]any{
		{"query": " "},
		{"query": "egg", "topK": 500},
		{"query": "egg", "scope": "everywhere"},
		{"query": "egg", "messageRange": -1},
		{"query": "egg", "messageRange": 11},
	} {
		resp, body := env.do("POST", "/api/memory/recall/search", ada, bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_request") {
			t.Errorf("search %v: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
}

func TestRecallSwitchToOllamaEmbedder(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	thread := env.createThread(ada)
	for _, text := range []string{"The plumber comes on Monday.", "The car needs new tyres."} {
		env.fake.Enqueue(textReply("Noted."))
		env.chat(ada, map[string]string{"message": text, "threadId": thread.ID})
	}
	env.waitRecall(ada)

	// A model that is not installed is refused with the command to fix it,
	// and nothing changes.
	env.fake.SetModels(testModel)
	resp, body := env.do("PUT", "/api/memory/recall/embedder", ada, map[string]any{"kind": "ollama"})
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "ollama pull nomic-embed-text") {
		t.Errorf("choosing a missing model: %d %s, want 502 naming ollama pull", resp.StatusCode, body)
	}
	if s := env.recallSettings(ada); s.Embedder.Kind != EmbedderBuiltin {
		t.Errorf("after a refused choice the embedder is %q", s.Embedder.Kind)
	}

	resp, body = env.do("PUT", "/api/memory/recall/embedder", ada, map[string]any{"kind": "word2vec"})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"kind"`) {
		t.Errorf("an unknown kind: %d %s, want 400 naming the field", resp.StatusCode, body)
	}
	resp, body = env.do("PUT", "/api/memory/recall/embedder", ada, map[string]any{"kind": "openai"})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "base URL") {
		t.Errorf("openai without a base URL: %d %s, want 400", resp.StatusCode, body)
	}

	env.fake.SetModels(testModel, "nomic-embed-text")
	env.fake.SetEmbedDimension(768)
	var settings recallSettingsJSON
	env.mustJSON("PUT", "/api/memory/recall/embedder", ada, map[string]any{"kind": "ollama"}, http.StatusOK, &settings)
	if settings.Embedder.Kind != EmbedderOllama || settings.Embedder.Model != "nomic-embed-text" || settings.Lexical {
		t.Errorf("after the switch the settings are %+v", settings)
	}
	env.waitRecall(ada)
	settings = env.recallSettings(ada)
	if settings.Status.Dimension != 768 || settings.Status.Vectors != 4 || settings.Status.Reembedding != nil {
		t.Errorf("after re-embedding the status is %+v, want 4 vectors of dimension 768", settings.Status)
	}
	var found recallResultsJSON
	env.mustJSON("POST", "/api/memory/recall/search", ada, map[string]any{"query": "The plumber comes on Monday.", "topK": 1, "messageRange": 0}, http.StatusOK, &found)
	if len(found.Results) != 1 || found.Results[0].Message.Content != "The plumber comes on Monday." {
		t.Errorf("after the switch the exact text is not found first: %+v", found.Results)
	}

	// The embedding server goes away: chats go on, and the failure shows
	// in the status.
	env.fake.SetModels(testModel)
	env.fake.Enqueue(textReply("Still here."))
	_, parts := env.chat(ada, map[string]string{"message": "Does chat still work?", "threadId": thread.ID})
	if got := streamText(parts); got != "Still here." {
		t.Errorf("with the embedder down the reply is %q", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for env.recallSettings(ada).Status.LastError == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := env.recallSettings(ada); s.Status.LastError == "" || s.Status.Pending == 0 {
		t.Errorf("with the embedder down the status is %+v, want a last error and pending messages", s.Status)
	}
	// A search then reports the embedder's error instead of an internal one.
	resp, body = env.do("POST", "/api/memory/recall/search", ada, map[string]any{"query": "plumber"})
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "embedder_unavailable") || !strings.Contains(string(body), "ollama pull") {
		t.Errorf("search with the embedder down: %d %s, want 502 embedder_unavailable naming ollama pull", resp.StatusCode, body)
	}
}

func TestRecallLocksWithProfile(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	env.fake.Enqueue(textReply("Hi."))
	env.chat(ada, map[string]string{"message": "Hello"})
	env.waitRecall(ada)
	o := env.ownerOf(ada)

	env.mustJSON("POST", "/api/auth/logout", ada, nil, http.StatusNoContent, nil)
	deadline := time.Now().Add(5 * time.Second)
	for env.app.recall.Status(o).State != "locked" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := env.app.recall.Status(o).State; st != "locked" {
		t.Errorf("after sign-out the recall state is %q, want locked", st)
	}
}

// recalledParts returns the messages listed by the stream's recall part.
func recalledParts(t *testing.T, parts []streamPart) []messageJSON {
	t.Helper()
	for _, p := range parts {
		if p.Type != recallPartType {
			continue
		}
		data, err := json.Marshal(p.Data)
		if err != nil {
			t.Fatal(err)
		}
		var found []struct {
			Message messageJSON `json:"message"`
		}
		if err := json.Unmarshal(data, &found); err != nil {
			t.Fatalf("decode recall part %s: %v", data, err)
		}
		var out []messageJSON
		for _, f := range found {
			out = append(out, f.Message)
		}
		return out
	}
	return nil
}
