package app

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/openai/openai-go/v3"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// Tool calls whose arguments add up to more than the store takes for a
// message's parts still leave a stored, finished reply: the arguments
// beyond the limit are replaced by a note of their size.
func TestToolPartsOverLimitStoreReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	calls := make([]api.ToolCall, 12) // 840 KB of arguments, within one round's limit
	for i := range calls {
		calls[i] = memoryCall(t, map[string]any{"memory": strings.Repeat("y", 70_000)})
	}
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"first words "}, ToolCalls: map[int][]api.ToolCall{1: calls}})
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"after the tools"}})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})

	if id, _ := finishMetadata(t, parts)["assistantMessageId"].(string); id == "" {
		t.Errorf("finish has no assistantMessageId, stream error %q", streamError(parts))
	}
	reply := wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, "first words after the tools")
	notes := 0
	for _, p := range reply.Parts {
		if p.Type == "tool-call" && strings.Contains(string(p.Input), "bytes of arguments, not kept") {
			notes++
		}
	}
	if len(reply.Parts) != 2*len(calls) || notes == 0 {
		t.Errorf("stored %d parts with %d size notes, want %d parts and some notes", len(reply.Parts), notes, 2*len(calls))
	}
}

// Calls without ids, numbered from 1 by the backend in every round, get
// ids that are unique within the reply.
func TestToolCallIDsUniqueAcrossRounds(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"memory": strings.Repeat("x", 70_000)})}}})
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"memory": "# About the user\n- **Name**: Ada"})}}})
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Noted."}})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "I am Ada"})

	seen := map[string]bool{}
	for _, p := range partsOfType(parts, "tool-input-available") {
		if seen[p.ToolCallID] {
			t.Errorf("tool call id %q is used by two calls of one reply", p.ToolCallID)
		}
		seen[p.ToolCallID] = true
	}
}

// OLLAMA_HOST may carry a user name and password for a proxy in front of
// Ollama. Neither the public health route nor a profile's settings show
// them, and a profile can still choose another model on that server.
func TestOllamaCredentialsNotShown(t *testing.T) {
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t)}
	withCredentials := strings.Replace(env.fake.URL(), "http://", "http://hearth:s3cretpw@", 1)
	env.start(withCredentials)

	_, body := env.do("GET", "/api/health", "", nil)
	if strings.Contains(string(body), "s3cretpw") {
		t.Errorf("GET /api/health without a session shows the password: %s", body)
	}

	token := env.signUp("", "Ada")
	env.mustJSON("PUT", "/api/settings", token, map[string]any{"backend": map[string]string{"kind": "ollama", "model": "other"}}, http.StatusOK, nil)
}

// The tool refuses a working memory that would take more than half of the
// prompt, so later replies still fit the window.
func TestWorkingMemoryToolKeepsPromptFitting(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	doc := "# About the user\n" + strings.Repeat("- a fact about the user\n", 2600)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"memory": doc})}}})
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Noted."}})
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "Remember all of this"})

	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "Hello again"})
	if code, _ := finishMetadata(t, parts)["errorCode"].(string); code == CodeContextTooLong {
		t.Errorf("after a %d-byte working memory written by the tool, the next reply fails: %s", len(doc), streamError(parts))
	}
}

// The token estimate's correction is kept per server and model, so one
// profile's backend that reports huge prompt token counts cannot make
// another profile's prompts fail with context_too_long.
func TestTokenCalibrationPerProfile(t *testing.T) {
	env := newTestEnv(t)
	alice := env.signUp("", "Alice")
	bob := env.signUp(alice, "Bob")

	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"hi"}, PromptEvalCount: 10_000_000})
	env.chat(bob, map[string]string{"message": "hello"})

	words := make([]string, 3000)
	for i := range words {
		words[i] = "word"
	}
	_, parts := env.chat(alice, map[string]string{"message": strings.Join(words, " ")})
	if code, _ := finishMetadata(t, parts)["errorCode"].(string); code != "" {
		t.Errorf("Alice's 15,000-byte message fails after Bob's backend reported a huge count: %s", streamError(parts))
	}
}

// A model that returns no text gets an empty_reply error, and the user's
// message keeps the reason.
func TestEmptyReplyNotesReason(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	env.fake.Enqueue(ollamatest.Reply{})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "say nothing"})

	if code := finishMetadata(t, parts)["errorCode"]; code != CodeEmptyReply {
		t.Errorf("finish errorCode %v, want %s", code, CodeEmptyReply)
	}
	stored := env.storedMessages(token, thread.ID)
	if len(stored) != 1 {
		t.Fatalf("thread holds %d messages, want only the user's", len(stored))
	}
	if stored[0].Error != emptyReplyMessage {
		t.Errorf("user message error %q, want %q", stored[0].Error, emptyReplyMessage)
	}
}

// A very long base URL is refused, or its errors are stored shortened.
func TestLongBaseURLErrorStored(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	longURL := "http://127.0.0.1:1/" + strings.Repeat("a", 5000)
	resp, _ := env.do("PUT", "/api/settings", token, map[string]any{"backend": map[string]string{"kind": "ollama", "baseUrl": longURL}})
	if resp.StatusCode != http.StatusOK {
		return // Rejecting the URL also fixes the bug.
	}
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})

	stored := env.storedMessages(token, thread.ID)
	if len(stored) != 1 || stored[0].Error == "" {
		t.Errorf("the user's message has no reason for the failed reply: %+v", stored)
	}
}

// A reply cut off by a dropped connection on a server with a long base URL
// is finished and stored with its error, which names the URL.
func TestLongBaseURLDropFinishesReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	prefix := "/" + strings.Repeat("a", 2000)
	proxy := httptest.NewServer(http.StripPrefix(prefix, env.fake.Handler()))
	t.Cleanup(proxy.Close)
	env.mustJSON("PUT", "/api/settings", token, map[string]any{"backend": map[string]string{"kind": "ollama", "baseUrl": proxy.URL + prefix}}, http.StatusOK, nil)

	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Once ", "upon ", "a time"}, DropAfter: 2})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "Tell me a story"})

	if code, _ := finishMetadata(t, parts)["errorCode"].(string); code != CodeBackendDisconnected {
		t.Errorf("finish errorCode %q, want %q; stream error %q", code, CodeBackendDisconnected, streamError(parts))
	}
	for _, m := range env.storedMessages(token, thread.ID) {
		if m.Streaming {
			t.Errorf("reply %s is still marked streaming after the stream ended (status %s)", m.ID, m.Status)
		}
	}
}

// More tool calls in one round than Hearth takes end the reply without
// carrying any of them out.
func TestToolCallsBeyondLimit(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	var calls []api.ToolCall
	for range maxToolCallsPerRound + 1 {
		calls = append(calls, memoryCall(t, map[string]any{"memory": "- Name: Ada"}))
	}
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: calls}})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})

	if code := finishMetadata(t, parts)["errorCode"]; code != CodeReplyTooLong {
		t.Errorf("finish errorCode %v, want %s", code, CodeReplyTooLong)
	}
	if got := env.workingMemory(token).Version; got != 0 {
		t.Errorf("working memory is at version %d, want no call carried out", got)
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), "", "")
}

// An OpenAI-compatible stream whose tool call arguments outgrow the limit
// is stopped as they arrive, not after.
func TestToolArgumentsBeyondLimit(t *testing.T) {
	var acc toolCallAccumulator
	piece := strings.Repeat("x", 64<<10)
	var err error
	deltas := 0
	for err == nil && deltas < 100 {
		err = acc.add([]openai.ChatCompletionChunkChoiceDeltaToolCall{{Index: 0, Function: openai.ChatCompletionChunkChoiceDeltaToolCallFunction{Arguments: piece}}})
		deltas++
	}
	if !errors.Is(err, errToolCallsTooLarge) {
		t.Fatalf("after %d deltas of 64 KiB, error %v, want errToolCallsTooLarge", deltas, err)
	}
	if got, want := deltas, maxToolArgumentBytes/len(piece)+1; got != want {
		t.Errorf("stopped after %d deltas, want %d", got, want)
	}
}
