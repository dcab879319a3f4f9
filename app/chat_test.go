package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"hearth/app/ollamatest"
	"hearth/memory"
)

func textReply(chunks ...string) ollamatest.Reply {
	return ollamatest.Reply{Chunks: chunks}
}

// startMetadata returns the metadata of the stream's start part.
func startMetadata(t *testing.T, parts []streamPart) map[string]string {
	t.Helper()
	if len(parts) == 0 || parts[0].Type != "start" {
		t.Fatalf("stream parts %v do not begin with start", partTypes(parts))
	}
	data, err := json.Marshal(parts[0].MessageMetadata)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestChatStreamsAndStoresReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)

	chunks := []string{"Bonjour", ", Ada", ". Ça va", " bien? 🔥", " 你好"}
	env.fake.Enqueue(ollamatest.Reply{Chunks: chunks, PromptEvalCount: 12, EvalCount: 5})
	resp, parts := env.chat(token, map[string]string{"message": "Say hello", "threadId": thread.ID})

	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/event-stream") {
		t.Errorf("Content-Type = %q, want text/event-stream", got)
	}
	if got := resp.Header.Get("x-vercel-ai-ui-message-stream"); got != "v1" {
		t.Errorf("x-vercel-ai-ui-message-stream = %q, want v1", got)
	}
	if got := resp.Header.Get("X-Thread-Id"); got != thread.ID {
		t.Errorf("X-Thread-Id = %q, want %q", got, thread.ID)
	}
	wantTypes := "start start-step text-start text-delta text-delta text-delta text-delta text-delta text-end finish-step finish"
	if got := strings.Join(partTypes(parts), " "); got != wantTypes {
		t.Errorf("part types = %s, want %s", got, wantTypes)
	}
	full := strings.Join(chunks, "")
	if got := streamText(parts); got != full {
		t.Errorf("streamed text = %q, want %q", got, full)
	}
	meta := startMetadata(t, parts)
	if meta["threadId"] != thread.ID {
		t.Errorf("start metadata threadId = %q, want %q", meta["threadId"], thread.ID)
	}

	got := env.getThread(token, thread.ID)
	if len(got.Messages) != 2 {
		t.Fatalf("thread has %d messages, want 2", len(got.Messages))
	}
	user, reply := got.Messages[0], got.Messages[1]
	if user.Role != "user" || user.Content != "Say hello" || user.ID != meta["userMessageId"] {
		t.Errorf("first message = %+v, want the user's message %s", user, meta["userMessageId"])
	}
	if reply.Role != "assistant" || reply.Content != full || reply.Status != "complete" || reply.ID != parts[0].MessageID {
		t.Errorf("second message = %+v, want the complete reply %s", reply, parts[0].MessageID)
	}

	// The model got the system prompt and the user's message.
	requests := env.fake.ChatRequests()
	if len(requests) != 1 {
		t.Fatalf("model received %d chat requests, want 1", len(requests))
	}
	msgs := requests[0].Messages
	if requests[0].Model != testModel || len(msgs) != 3 || msgs[0].Role != "system" || msgs[1].Role != "system" || msgs[2].Role != "user" || msgs[2].Content != "Say hello" {
		t.Errorf("model request = %+v, want model %s with the system prompt, the working memory and the user's message", requests[0], testModel)
	}
}

func TestChatSendsHistory(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")

	env.fake.Enqueue(textReply("First answer"))
	_, parts := env.chat(token, map[string]string{"message": "First question"})
	threadID := startMetadata(t, parts)["threadId"]
	env.fake.Enqueue(textReply("Second answer"))
	env.chat(token, map[string]string{"message": "Second question", "threadId": threadID})

	requests := env.fake.ChatRequests()
	if len(requests) != 2 {
		t.Fatalf("model received %d requests, want 2", len(requests))
	}
	var roles, contents []string
	for _, m := range requests[1].Messages[2:] { // after the system prompt and the working memory
		roles = append(roles, m.Role)
		contents = append(contents, m.Content)
	}
	if got, want := strings.Join(contents, "|"), "First question|First answer|Second question"; got != want {
		t.Errorf("history sent = %q, want %q", got, want)
	}
	if got, want := strings.Join(roles, " "), "user assistant user"; got != want {
		t.Errorf("roles sent = %q, want %q", got, want)
	}
}

func TestChatWithoutThreadCreatesOne(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	resp, parts := env.chat(token, map[string]string{"message": "hello"})

	threadID := resp.Header.Get("X-Thread-Id")
	if threadID == "" || startMetadata(t, parts)["threadId"] != threadID {
		t.Fatalf("X-Thread-Id %q and start metadata %v disagree", threadID, startMetadata(t, parts))
	}
	if got := env.getThread(token, threadID); len(got.Messages) != 2 {
		t.Fatalf("new thread has %d messages, want 2", len(got.Messages))
	}
}

func TestChatStreamsIncrementally(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"first", " second", " third"}, HoldAfter: 1})

	resp := env.send("POST", "/api/chat", token, map[string]string{"message": "go"})
	defer resp.Body.Close()
	events := make(chan streamPart, 64)
	go readParts(resp.Body, events)

	// The first delta must arrive while the fake still holds the rest.
	for p := range events {
		if p.Type == "text-delta" {
			if p.Delta != "first" {
				t.Fatalf("first delta = %q, want %q", p.Delta, "first")
			}
			break
		}
	}
	env.fake.Release()
	var rest strings.Builder
	for p := range events {
		if p.Type == "text-delta" {
			rest.WriteString(p.Delta)
		}
	}
	if rest.String() != " second third" {
		t.Fatalf("deltas after release = %q, want %q", rest.String(), " second third")
	}
}

func TestChatBackendErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(env *testEnv)
		wantError  string
		wantStored string // status of a stored reply, "" for none
	}{
		{
			name:      "model not installed",
			setup:     func(env *testEnv) { env.fake.SetModels("some-other-model") },
			wantError: "ollama pull llama3.2",
		},
		{
			name:      "server error",
			setup:     func(env *testEnv) { env.fake.Enqueue(ollamatest.Reply{Status: 500, Error: "out of memory"}) },
			wantError: "out of memory",
		},
		{
			name: "connection dropped",
			setup: func(env *testEnv) {
				env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"partial", " answer", " lost"}, DropAfter: 2})
			},
			wantError:  "ended before the reply was finished",
			wantStored: "incomplete",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			token := env.signUp("", "Ada")
			thread := env.createThread(token)
			tt.setup(env)

			_, parts := env.chat(token, map[string]string{"message": "are you there?", "threadId": thread.ID})
			if got := streamError(parts); !strings.Contains(got, tt.wantError) {
				t.Fatalf("stream error = %q, want it to contain %q", got, tt.wantError)
			}
			if last := parts[len(parts)-1]; last.Type != "finish" {
				t.Fatalf("last part = %s, want finish", last.Type)
			}

			got := env.getThread(token, thread.ID)
			if len(got.Messages) == 0 || got.Messages[0].Content != "are you there?" {
				t.Fatalf("messages = %+v, want the user's message kept", got.Messages)
			}
			if tt.wantStored == "" {
				if len(got.Messages) != 1 {
					t.Fatalf("messages = %+v, want only the user's message", got.Messages)
				}
				if !strings.Contains(got.Messages[0].Error, tt.wantError) {
					t.Fatalf("user message error = %q, want it to contain %q", got.Messages[0].Error, tt.wantError)
				}
				return
			}
			if len(got.Messages) != 2 || got.Messages[1].Status != tt.wantStored || got.Messages[1].Content != "partial answer" || got.Messages[1].Error == "" {
				t.Fatalf("reply = %+v, want the partial text stored with status %s and an error", got.Messages[len(got.Messages)-1], tt.wantStored)
			}
		})
	}
}

func TestChatReplyCutAtLimit(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	// Three chunks of 400,000 bytes, the last of them made of 2-byte
	// characters, so the cut falls inside the third chunk.
	chunk := strings.Repeat("a", 400_000)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{chunk, chunk, strings.Repeat("é", 200_000), "never sent"}})

	_, parts := env.chat(token, map[string]string{"message": "write a lot", "threadId": thread.ID})
	streamed := streamText(parts)
	if len(streamed) > memory.MaxContentBytes || !utf8.ValidString(streamed) {
		t.Fatalf("streamed %d bytes (valid UTF-8: %v), want at most %d valid bytes", len(streamed), utf8.ValidString(streamed), memory.MaxContentBytes)
	}
	if !strings.Contains(streamError(parts), "cut off") {
		t.Fatalf("stream error = %q, want it to say the reply was cut off", streamError(parts))
	}

	got := env.getThread(token, thread.ID)
	if len(got.Messages) != 2 {
		t.Fatalf("thread has %d messages, want 2", len(got.Messages))
	}
	reply := got.Messages[1]
	if reply.Content != streamed || reply.Status != "incomplete" || !strings.Contains(reply.Error, "cut off") {
		t.Fatalf("stored reply: %d bytes, status %q, error %q; want the streamed %d bytes, incomplete, cut off",
			len(reply.Content), reply.Status, reply.Error, len(streamed))
	}
	if got.Messages[0].Error != "" {
		t.Fatalf("user message error = %q, want none because a reply was stored", got.Messages[0].Error)
	}
}

func TestChatOllamaUnreachable(t *testing.T) {
	env := newTestEnv(t)
	env.stop()
	// A listener that was closed leaves a loopback port that refuses
	// connections.
	closed := closedLoopbackURL(t)
	env.start(closed)
	token := env.signUp("", "Ada")

	_, parts := env.chat(token, map[string]string{"message": "hello?"})
	if got := streamError(parts); !strings.Contains(got, "not reachable at "+closed) || !strings.Contains(got, "Start Ollama") {
		t.Fatalf("stream error = %q, want it to say Ollama is not reachable and how to start it", got)
	}
	threadID := startMetadata(t, parts)["threadId"]
	if got := env.getThread(token, threadID); len(got.Messages) != 1 || got.Messages[0].Content != "hello?" {
		t.Fatalf("messages = %+v, want the user's message kept", got.Messages)
	}
}

func TestChatStopStoresIncomplete(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"partial", " never sent"}, HoldAfter: 1})

	resp := env.send("POST", "/api/chat", token, map[string]string{"message": "tell me a story", "threadId": thread.ID})
	defer resp.Body.Close()
	events := make(chan streamPart, 64)
	go readParts(resp.Body, events)
	waitForDelta(t, events)

	stop, body := env.do("POST", "/api/chat/"+thread.ID+"/stop", token, nil)
	if stop.StatusCode != http.StatusNoContent {
		t.Fatalf("stop: status %d, want 204; body %s", stop.StatusCode, body)
	}
	var last streamPart
	for p := range events {
		last = p
	}
	if last.Type != "finish" {
		t.Fatalf("last part = %s, want finish", last.Type)
	}

	got := env.getThread(token, thread.ID)
	if len(got.Messages) != 2 || got.Messages[1].Status != "incomplete" || got.Messages[1].Content != "partial" {
		t.Fatalf("messages = %+v, want the partial reply stored as incomplete", got.Messages)
	}
}

func TestChatDisconnectStoresIncomplete(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"partial", " never sent"}, HoldAfter: 1})

	ctx, cancel := context.WithCancel(context.Background())
	req := env.newRequest("POST", "/api/chat", token, map[string]string{"message": "tell me a story", "threadId": thread.ID})
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan streamPart, 64)
	go readParts(resp.Body, events)
	waitForDelta(t, events)
	cancel()
	resp.Body.Close()

	// The reply is stored once the handler notices the client is gone.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := env.getThread(token, thread.ID)
		if len(got.Messages) == 2 && got.Messages[1].Status == "incomplete" {
			if got.Messages[1].Content != "partial" {
				t.Fatalf("stored reply = %q, want %q", got.Messages[1].Content, "partial")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages = %+v, want the partial reply stored as incomplete", got.Messages)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRestartKeepsThread(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.fake.Enqueue(textReply("Remembered", " reply"))
	_, parts := env.chat(token, map[string]string{"message": "remember this"})
	threadID := startMetadata(t, parts)["threadId"]

	env.stop()
	env.start(env.fake.URL())

	// After a restart the old token is still valid but the profile is locked
	// until its password is given again.
	var locked errorBody
	env.mustJSON("GET", "/api/threads/"+threadID, token, nil, http.StatusUnauthorized, &locked)
	if locked.Error.Code != CodeLocked {
		t.Fatalf("after restart code = %q, want %q", locked.Error.Code, CodeLocked)
	}
	for _, tok := range []string{env.login("Ada", "password-Ada"), token} {
		got := env.getThread(tok, threadID)
		if len(got.Messages) != 2 || got.Messages[0].Content != "remember this" || got.Messages[1].Content != "Remembered reply" {
			t.Fatalf("after restart messages = %+v, want both messages", got.Messages)
		}
	}
}

// readParts sends each part of a UI message stream to events and closes it at
// the end of the stream.
func readParts(body io.Reader, events chan<- streamPart) {
	defer close(events)
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 4<<20) // a delta can be as large as a whole message
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var p streamPart
		if json.Unmarshal([]byte(data), &p) == nil {
			events <- p
		}
	}
}

// waitForDelta reads events until the first text delta.
func waitForDelta(t *testing.T, events <-chan streamPart) {
	t.Helper()
	for p := range events {
		if p.Type == "text-delta" {
			return
		}
	}
	t.Fatal("stream ended before the first text delta")
}

// closedLoopbackURL returns the URL of a loopback port that nothing listens
// on any more.
func closedLoopbackURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	return url
}
