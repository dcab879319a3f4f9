package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// memoryCall is an Ollama tool call of updateWorkingMemory with args.
func memoryCall(t *testing.T, args map[string]any) api.ToolCall {
	t.Helper()
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	tc := api.ToolCall{Function: api.ToolCallFunction{Name: workingMemoryToolName, Arguments: api.NewToolCallFunctionArguments()}}
	if err := json.Unmarshal(b, &tc.Function.Arguments); err != nil {
		t.Fatal(err)
	}
	return tc
}

// workingMemory returns the current working memory of token's profile.
func (env *testEnv) workingMemory(token string) memory.WorkingMemory {
	env.t.Helper()
	wm, err := env.app.memory.WorkingMemory(context.Background(), env.ownerOf(token), "")
	if err != nil {
		env.t.Fatal(err)
	}
	return wm
}

// partsOfType returns the stream parts of type typ.
func partsOfType(parts []streamPart, typ string) []streamPart {
	var out []streamPart
	for _, p := range parts {
		if p.Type == typ {
			out = append(out, p)
		}
	}
	return out
}

func TestWorkingMemoryToolCalls(t *testing.T) {
	doc1 := "# About the user\n- **Name**: Ada"
	doc2 := "# About the user\n- **Name**: Ada\n- **Preferences**: tea"
	cases := []struct {
		name string
		// replies returns the model's replies in order: the tool rounds,
		// then the reply after the tools.
		replies func(t *testing.T) []ollamatest.Reply
		// wantMemory is the working memory afterwards.
		wantMemory string
		wantCalls  int
		wantText   string
	}{
		{
			name: "call in chunk 3 of 6, empty final chunk",
			replies: func(t *testing.T) []ollamatest.Reply {
				return []ollamatest.Reply{
					{Chunks: []string{"I ", "will ", "", "", "", ""}, ToolCalls: map[int][]api.ToolCall{2: {memoryCall(t, map[string]any{"memory": doc1})}}},
					{Chunks: []string{"Noted, Ada."}},
				}
			},
			wantMemory: doc1, wantCalls: 1, wantText: "I will Noted, Ada.",
		},
		{
			name: "two calls in two chunks",
			replies: func(t *testing.T) []ollamatest.Reply {
				return []ollamatest.Reply{
					{Chunks: []string{"", ""}, ToolCalls: map[int][]api.ToolCall{
						0: {memoryCall(t, map[string]any{"memory": doc1})},
						1: {memoryCall(t, map[string]any{"memory": doc2})},
					}},
					{Chunks: []string{"Both noted."}},
				}
			},
			wantMemory: doc2, wantCalls: 2, wantText: "Both noted.",
		},
		{
			name: "text and call in one chunk",
			replies: func(t *testing.T) []ollamatest.Reply {
				return []ollamatest.Reply{
					{Chunks: []string{"Saving that. "}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"memory": doc1})}}},
					{Chunks: []string{"Done."}},
				}
			},
			wantMemory: doc1, wantCalls: 1, wantText: "Saving that. Done.",
		},
		{
			name: "call on the final line",
			replies: func(t *testing.T) []ollamatest.Reply {
				return []ollamatest.Reply{
					{Chunks: []string{"Hm. "}, ToolCalls: map[int][]api.ToolCall{1: {memoryCall(t, map[string]any{"memory": doc1})}}},
					{Chunks: []string{"Done."}},
				}
			},
			wantMemory: doc1, wantCalls: 1, wantText: "Hm. Done.",
		},
		{
			name: "arguments without memory get an error result",
			replies: func(t *testing.T) []ollamatest.Reply {
				return []ollamatest.Reply{
					{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"notes": doc1})}}},
					{Chunks: []string{"Sorry."}},
				}
			},
			wantMemory: "", wantCalls: 1, wantText: "Sorry.",
		},
		{
			name: "a model that calls the tool on every round stops at three",
			replies: func(t *testing.T) []ollamatest.Reply {
				var rs []ollamatest.Reply
				for i := range maxToolRounds + 1 {
					rs = append(rs, ollamatest.Reply{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"memory": doc1 + strings.Repeat("!", i+1)})}}})
				}
				rs[maxToolRounds].Chunks = []string{"Finally an answer."}
				return rs
			},
			wantMemory: doc1 + strings.Repeat("!", maxToolRounds), wantCalls: maxToolRounds, wantText: "Finally an answer.",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newTestEnv(t)
			token := env.signUp("", "Ada")
			thread := env.createThread(token)
			replies := c.replies(t)
			for _, r := range replies {
				env.fake.Enqueue(r)
			}
			_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "I am Ada and I like tea."})

			if got := streamText(parts); got != c.wantText {
				t.Errorf("streamed text %q, want %q", got, c.wantText)
			}
			if got := env.workingMemory(token).Content; got != c.wantMemory {
				t.Errorf("working memory %q, want %q", got, c.wantMemory)
			}
			calls := partsOfType(parts, "tool-input-available")
			results := len(partsOfType(parts, "tool-output-available")) + len(partsOfType(parts, "tool-output-error"))
			if len(calls) != c.wantCalls || results != c.wantCalls {
				t.Errorf("stream has %d tool calls and %d results, want %d of each", len(calls), results, c.wantCalls)
			}
			reqs := env.fake.ChatRequests()
			if len(reqs) != len(replies) {
				t.Fatalf("model got %d requests, want %d", len(reqs), len(replies))
			}
			if len(reqs[1].Messages) < 2 || reqs[1].Messages[len(reqs[1].Messages)-1].Role != "tool" {
				t.Errorf("second request does not end with the tool result: %+v", reqs[1].Messages)
			}
			if c.wantCalls == maxToolRounds && len(reqs[maxToolRounds].Tools) != 0 {
				t.Errorf("request after %d tool rounds still offers tools", maxToolRounds)
			}

			stored := env.storedMessages(token, thread.ID)
			if len(stored) != 2 {
				t.Fatalf("stored %d messages, want the user's and one reply", len(stored))
			}
			reply := stored[1]
			if reply.Content != c.wantText || reply.Status != memory.StatusComplete || len(reply.Parts) != 2*c.wantCalls {
				t.Errorf("stored reply %q (%s) with %d parts, want %q complete with %d", reply.Content, reply.Status, len(reply.Parts), c.wantText, 2*c.wantCalls)
			}
		})
	}
}

// A change made by another thread between the read and the tool call is
// reported to the model with the current text, which it merges.
func TestWorkingMemoryToolConflict(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.setWorkingMemory(token, "- Name: Ada")
	thread := env.createThread(token)

	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"", ""}, HoldAfter: 1,
		ToolCalls: map[int][]api.ToolCall{1: {memoryCall(t, map[string]any{"memory": "- Name: Ada\n- Likes: tea"})}}})
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"memory": "- Name: Ada\n- City: Paris\n- Likes: tea"})}}})
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Merged."}})

	resp := env.send("POST", "/api/chat", token, map[string]string{"threadId": thread.ID, "message": "I like tea"})
	defer resp.Body.Close()
	waitFor(t, "the model to start", func() bool { return len(env.fake.ChatRequests()) == 1 })
	// Another conversation writes while the model is thinking.
	env.setWorkingMemory(token, "- Name: Ada\n- City: Paris")
	env.fake.Release()
	parts := readStream(t, resp.Body)

	if got := len(partsOfType(parts, "tool-output-error")); got != 1 {
		t.Errorf("stream has %d tool errors, want the one conflict", got)
	}
	reqs := env.fake.ChatRequests()
	if len(reqs) != 3 {
		t.Fatalf("model got %d requests, want 3", len(reqs))
	}
	conflict := reqs[1].Messages[len(reqs[1].Messages)-1].Content
	if !strings.Contains(conflict, "City: Paris") || !strings.Contains(conflict, "Another conversation changed") {
		t.Errorf("conflict result %q does not give the current text", conflict)
	}
	if got := env.workingMemory(token).Content; got != "- Name: Ada\n- City: Paris\n- Likes: tea" {
		t.Errorf("working memory %q, want the merged document", got)
	}
	if got := len(partsOfType(parts, workingMemoryPartType)); got != 1 {
		t.Errorf("stream reports %d working memory changes, want 1", got)
	}
}

// The stream's memory change part carries what the UI needs for a diff and
// an undo.
func TestWorkingMemoryChangePart(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.setWorkingMemory(token, "- Name: Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{""}, ToolCalls: map[int][]api.ToolCall{0: {memoryCall(t, map[string]any{"memory": "- Name: Ada\n- Likes: tea"})}}})
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Noted."}})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "I like tea"})

	changes := partsOfType(parts, workingMemoryPartType)
	if len(changes) != 1 {
		t.Fatalf("stream has %d memory changes, want 1", len(changes))
	}
	got := decodeData[WorkingMemoryChange](t, changes[0].Data)
	want := WorkingMemoryChange{Version: 2, PreviousVersion: 1, Previous: "- Name: Ada", Content: "- Name: Ada\n- Likes: tea"}
	if got != want {
		t.Errorf("memory change %+v, want %+v", got, want)
	}
}

// Without a context length in the settings, Ollama is asked for the
// model's own window, capped so that a 128k model does not fill memory.
func TestOllamaContextLengthCapped(t *testing.T) {
	env := newTestEnv(t)
	env.fake.SetContextLength(131072)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})
	if numCtx, _ := env.lastChatRequest().Options["num_ctx"].(float64); int(numCtx) != maxDefaultOllamaContext {
		t.Errorf("num_ctx is %v, want %d", env.lastChatRequest().Options["num_ctx"], maxDefaultOllamaContext)
	}
	if ka := env.lastChatRequest().KeepAlive; ka == nil || ka.Duration != DefaultKeepAlive {
		t.Errorf("keep_alive is %v, want %v", ka, DefaultKeepAlive)
	}
}

// A model that cannot call tools is not offered them, gets its working
// memory without the instructions for the tool, and still replies.
func TestModelWithoutTools(t *testing.T) {
	env := newTestEnv(t)
	env.fake.SetModels("gemma:2b", "nomic-embed-text")
	token := env.signUp("", "Ada")
	env.putSettings(token, map[string]any{"backend": map[string]any{"kind": "ollama", "model": "gemma:2b"}})
	env.setWorkingMemory(token, "- Name: Ada")
	thread := env.createThread(token)
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})

	if msg := streamError(parts); msg != "" {
		t.Fatalf("reply failed: %s", msg)
	}
	req := env.lastChatRequest()
	if len(req.Tools) != 0 {
		t.Errorf("request offers %d tools to a model without tool calling", len(req.Tools))
	}
	if block := req.Messages[1].Content; !strings.Contains(block, "- Name: Ada") || strings.Contains(block, workingMemoryToolName) {
		t.Errorf("working memory block %q, want the document without the tool's instructions", block)
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, "You said: hello")
}
