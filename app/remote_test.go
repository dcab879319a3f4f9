package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"hearth/app/openaitest"
	"hearth/memory"
)

// useOpenAI points token's profile at a fake OpenAI-compatible server that
// wants the key "sk-test", and returns the fake.
func (env *testEnv) useOpenAI(token string) *openaitest.Server {
	env.t.Helper()
	fake := openaitest.NewServer(env.t)
	fake.SetAPIKey("sk-test")
	env.putSettings(token, map[string]any{
		"backend": map[string]any{"kind": "openai", "baseUrl": fake.URL(), "model": openaitest.DefaultModel, "apiKey": "sk-test"},
	})
	return fake
}

// Tool call arguments that an OpenAI-compatible server splits across four
// deltas are joined into one call.
func TestRemoteToolCallSplitAcrossDeltas(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	fake := env.useOpenAI(token)
	doc := "# About the user\n- **Name**: Ada"
	args, _ := json.Marshal(map[string]string{"memory": doc})
	quarter := len(args) / 4
	fake.Enqueue(openaitest.Reply{Chunks: []openaitest.Chunk{
		{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_1", Name: workingMemoryToolName, Arguments: string(args[:quarter])}}},
		{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: string(args[quarter : 2*quarter])}}},
		{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: string(args[2*quarter : 3*quarter])}}},
		{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, Arguments: string(args[3*quarter:])}}},
	}})
	fake.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Nice ", "to meet you, Ada.")})
	thread := env.createThread(token)
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "I am Ada"})

	if got := env.workingMemory(token).Content; got != doc {
		t.Errorf("working memory %q, want %q", got, doc)
	}
	if got := streamText(parts); got != "Nice to meet you, Ada." {
		t.Errorf("streamed %q", got)
	}
	reqs := fake.ChatRequests()
	if len(reqs) != 2 {
		t.Fatalf("server got %d requests, want 2", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	if last.OfTool == nil || last.OfTool.ToolCallID != "call_1" {
		t.Errorf("second request ends with %+v, want the tool result for call_1", last)
	}
}

// Malformed arguments get an error result the model can read, and the turn
// goes on.
func TestRemoteMalformedToolArguments(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	fake := env.useOpenAI(token)
	fake.Enqueue(openaitest.Reply{Chunks: []openaitest.Chunk{
		{ToolCalls: []openaitest.ToolCallDelta{{Index: 0, ID: "call_1", Name: workingMemoryToolName, Arguments: `{"memory": "unterminated`}}},
	}})
	fake.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Sorry, let me answer instead.")})
	thread := env.createThread(token)
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "I am Ada"})

	errs := partsOfType(parts, "tool-output-error")
	if len(errs) != 1 || !strings.Contains(errs[0].ErrorText, "not valid JSON") {
		t.Errorf("tool errors %+v, want one about the JSON", errs)
	}
	if got := env.workingMemory(token); got.Version != 0 {
		t.Errorf("working memory changed to version %d by malformed arguments", got.Version)
	}
	reply := wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, "Sorry, let me answer instead.")
	if len(reply.Parts) != 2 || string(reply.Parts[0].Input) != `"{\"memory\": \"unterminated"` || !reply.Parts[1].IsError {
		t.Errorf("stored parts %+v, want the raw arguments as a string and an error result", reply.Parts)
	}
}

// The backends' failures reach the user as sentences that explain what to do,
// the message is kept, and no empty reply is stored.
func TestRemoteBackendErrors(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(fake *openaitest.Server)
		wantCode  string
		wantText  string
		wantRetry bool
	}{
		{"wrong key", func(fake *openaitest.Server) { fake.SetAPIKey("sk-other") }, CodeBackendAuth, "API key", false},
		{"rate limited, then served", func(fake *openaitest.Server) {
			fake.Enqueue(openaitest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "1"})
			fake.Enqueue(openaitest.Reply{Chunks: openaitest.TextChunks("Hello.")})
		}, "", "", true},
		{"context too long", func(fake *openaitest.Server) {
			fake.Enqueue(openaitest.Reply{Status: http.StatusBadRequest, ErrorCode: "context_length_exceeded", Error: "maximum context length is 8192 tokens"})
		}, CodeContextTooLong, "context", false},
		{"model not found", func(fake *openaitest.Server) {
			fake.Enqueue(openaitest.Reply{Status: http.StatusNotFound, ErrorCode: "model_not_found", Error: "The model gpt-4o-mini does not exist"})
		}, CodeModelNotFound, "gpt-4o-mini", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newTestEnv(t)
			token := env.signUp("", "Ada")
			fake := env.useOpenAI(token)
			c.setup(fake)
			thread := env.createThread(token)
			_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})

			md := finishMetadata(t, parts)
			if c.wantCode == "" {
				wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, "Hello.")
			} else {
				if md["errorCode"] != c.wantCode || !strings.Contains(streamError(parts), c.wantText) {
					t.Errorf("error %v %q, want %s mentioning %q", md["errorCode"], streamError(parts), c.wantCode, c.wantText)
				}
				if strings.Contains(streamError(parts), "sk-") {
					t.Errorf("error text %q shows an API key", streamError(parts))
				}
				wantOneExchange(t, env.storedMessages(token, thread.ID), "", "")
			}
			retries := partsOfType(parts, retryPartType)
			if c.wantRetry != (len(retries) == 1) {
				t.Errorf("stream has %d retry notices, want retry %v", len(retries), c.wantRetry)
			}
			if c.wantRetry && decodeData[map[string]int](t, retries[0].Data)["retryInSeconds"] != 1 {
				t.Errorf("retry notice %v, want 1 s", retries[0].Data)
			}
		})
	}
}

// Ollama's failures before the reply: a server that is down and a model
// that is not installed, which names the model for the UI's download offer.
func TestOllamaBackendErrors(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.fake.SetModels("nomic-embed-text")
	thread := env.createThread(token)
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})
	md := finishMetadata(t, parts)
	if md["errorCode"] != CodeModelNotFound || md["missingModel"] != testModel || !strings.Contains(streamError(parts), "Download it from Settings") {
		t.Errorf("finish %v, error %q; want model_not_found naming %s", md, streamError(parts), testModel)
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), "", "")

	// Once pulled, a retry of the same message through regenerate works.
	env.fake.SetModels("nomic-embed-text", testModel)
	user := env.storedMessages(token, thread.ID)[0]
	_, parts = env.stream("POST", "/api/threads/"+thread.ID+"/messages/"+user.ID+"/regenerate", token, nil)
	if streamError(parts) != "" {
		t.Fatalf("retry failed: %s", streamError(parts))
	}
	msgs := env.storedMessages(token, thread.ID)
	if len(msgs) != 2 || msgs[0].Error != "" || msgs[1].Status != memory.StatusComplete {
		t.Errorf("after the retry the thread holds %+v, want the message without its error and a reply", msgs)
	}

	down := &testEnv{t: t, dataDir: t.TempDir(), fake: env.fake}
	down.start(closedLoopbackURL(t))
	token = down.signUp("", "Ada")
	thread = down.createThread(token)
	_, parts = down.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})
	if md := finishMetadata(t, parts); md["errorCode"] != CodeBackendUnreachable || !strings.Contains(streamError(parts), "Start Ollama") {
		t.Errorf("finish %v, error %q; want backend_unreachable saying to start Ollama", md, streamError(parts))
	}
	wantOneExchange(t, down.storedMessages(token, thread.ID), "", "")
}
