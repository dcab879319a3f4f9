package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// wantOneExchange checks that a thread holds exactly one user message and
// at most one reply, the reply with the given status and text, or none when
// wantStatus is empty.
func wantOneExchange(t *testing.T, msgs []memory.Message, wantStatus memory.Status, wantText string) memory.Message {
	t.Helper()
	users, replies := 0, []memory.Message{}
	for _, m := range msgs {
		switch m.Role {
		case memory.RoleUser:
			users++
		case memory.RoleAssistant:
			replies = append(replies, m)
		}
	}
	if users != 1 {
		t.Errorf("thread holds %d user messages, want 1", users)
	}
	if wantStatus == "" {
		if len(replies) != 0 {
			t.Errorf("thread holds %d replies, want none", len(replies))
		}
		return memory.Message{}
	}
	if len(replies) != 1 {
		t.Fatalf("thread holds %d replies, want 1", len(replies))
	}
	r := replies[0]
	if r.Status != wantStatus || r.Content != wantText || r.Streaming {
		t.Errorf("reply is %q (%s, streaming %v), want %q (%s, not streaming)", r.Content, r.Status, r.Streaming, wantText, wantStatus)
	}
	return r
}

// startHeldChat sends a chat whose reply the fake holds after its first
// two chunks, and returns the response once both arrived.
func (env *testEnv) startHeldChat(token, threadID string) (*http.Response, *bufio.Reader) {
	env.t.Helper()
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Once ", "upon ", "a time"}, HoldAfter: 2})
	resp := env.send("POST", "/api/chat", token, map[string]string{"threadId": threadID, "message": "Tell me a story"})
	if resp.StatusCode != http.StatusOK {
		env.t.Fatalf("chat: status %d", resp.StatusCode)
	}
	r := bufio.NewReader(resp.Body)
	seen := ""
	for !strings.Contains(seen, `"delta":"upon "`) {
		line, err := r.ReadString('\n')
		if err != nil {
			env.t.Fatalf("read stream: %v", err)
		}
		seen += line
	}
	return resp, r
}

// Stop ends the model request and stores the partial reply once, as
// incomplete and without an error.
func TestStopStoresIncompleteReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, r := env.startHeldChat(token, thread.ID)
	defer resp.Body.Close()

	stop, _ := env.do("POST", "/api/chat/"+thread.ID+"/stop", token, nil)
	if stop.StatusCode != http.StatusNoContent {
		t.Fatalf("stop: status %d", stop.StatusCode)
	}
	parts := readStream(t, r)
	if got := finishMetadata(t, parts)["status"]; got != "incomplete" {
		t.Errorf("finish status %v, want incomplete", got)
	}
	reply := wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusIncomplete, "Once upon ")
	if reply.Error != "" {
		t.Errorf("stopped reply has error %q, want none", reply.Error)
	}
}

// In the browser, a client that goes away stops its reply.
func TestDisconnectStopsReplyInBrowser(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, _ := env.startHeldChat(token, thread.ID)
	resp.Body.Close()

	waitFor(t, "the reply to be stored as stopped", func() bool {
		msgs := env.storedMessages(token, thread.ID)
		return len(msgs) == 2 && !msgs[1].Streaming
	})
	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusIncomplete, "Once upon ")
}

// In the desktop window, a page that stops reading, as when the user opens
// another thread, leaves the reply to finish in the background.
func TestDisconnectKeepsReplyInDesktop(t *testing.T) {
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t), desktop: true}
	env.start(env.fake.URL())
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, _ := env.startHeldChat(token, thread.ID)
	resp.Body.Close()
	// The write that finds the page gone must come before the rest.
	waitFor(t, "the stream to notice the page is gone", func() bool {
		env.app.generations.mu.Lock()
		defer env.app.generations.mu.Unlock()
		return len(env.app.generations.running) == 1
	})
	env.fake.Release()

	waitFor(t, "the reply to finish", func() bool {
		msgs := env.storedMessages(token, thread.ID)
		return len(msgs) == 2 && msgs[1].Status == memory.StatusComplete
	})
	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, "Once upon a time")
}

// A backend that drops the connection midway leaves the partial reply
// stored as incomplete, with the reason.
func TestBackendDropStoresIncompleteWithError(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Half ", "a ", "story"}, DropAfter: 2})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "Tell me a story"})

	if msg := streamError(parts); !strings.Contains(msg, "ended before the reply was finished") {
		t.Errorf("stream error %q, want the dropped-connection sentence", msg)
	}
	reply := wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusIncomplete, "Half a ")
	if !strings.Contains(reply.Error, "continue or regenerate") {
		t.Errorf("stored error %q, want what to do", reply.Error)
	}
}

// A backend that fails before any text leaves no reply, and the reason on
// the user's message.
func TestBackendFailureStoresNoEmptyReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"never"}, DropAfter: 0, Status: http.StatusInternalServerError, Error: "out of memory"})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "hello"})
	if msg := streamError(parts); !strings.Contains(msg, "out of memory") {
		t.Errorf("stream error %q, want Ollama's reason", msg)
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), "", "")
	if msgs := env.storedMessages(token, thread.ID); msgs[0].Error == "" {
		t.Error("the user's message does not say why no reply was written")
	}
}

// A reply left streaming by a process that died is marked interrupted
// with its text when Hearth starts again.
func TestInterruptedReplyMarkedOnStart(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	o := env.ownerOf(token)
	ctx := context.Background()
	if _, err := env.app.memory.AppendMessage(ctx, o, memory.Message{ThreadID: thread.ID, Role: memory.RoleUser, Content: "Tell me a story"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.app.memory.AppendMessage(ctx, o, memory.Message{ThreadID: thread.ID, Role: memory.RoleAssistant, Content: "Once upon", Status: memory.StatusIncomplete, Streaming: true}); err != nil {
		t.Fatal(err)
	}
	env.stop()
	env.start(env.fake.URL())
	token = env.login("Ada", "password-Ada")

	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusInterrupted, "Once upon")
}

// Each profile may have DefaultConcurrentReplies replies being written;
// one more is refused with 429 before its message is stored.
func TestConcurrentRepliesLimited(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	var threads []threadJSON
	for range DefaultConcurrentReplies + 1 {
		threads = append(threads, env.createThread(token))
	}
	for _, th := range threads[:DefaultConcurrentReplies] {
		resp, _ := env.startHeldChat(token, th.ID)
		defer resp.Body.Close()
	}

	resp, body := env.do("POST", "/api/chat", token, map[string]string{"threadId": threads[DefaultConcurrentReplies].ID, "message": "one more"})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "rate_limited") {
		t.Errorf("third reply: status %d, Retry-After %q, body %s; want 429 rate_limited with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if msgs := env.storedMessages(token, threads[DefaultConcurrentReplies].ID); len(msgs) != 0 {
		t.Errorf("refused request stored %d messages, want none", len(msgs))
	}
	resp, _ = env.do("POST", "/api/chat", token, map[string]string{"message": "a new thread"})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a new thread beyond the limit: status %d, want 429", resp.StatusCode)
	}

	// Another profile has its own limit.
	bob := env.signUp(token, "Bob")
	bobThread := env.createThread(bob)
	_, parts := env.chat(bob, map[string]string{"threadId": bobThread.ID, "message": "hello"})
	if streamError(parts) != "" {
		t.Errorf("Bob's reply failed: %s", streamError(parts))
	}
	env.fake.Release()
}

// Text whose characters are split across the backend's network writes
// arrives whole in the stream and the store.
func TestMultiByteTextSplitAcrossWrites(t *testing.T) {
	text := "Grüße, 世界! 👋🏽 café"
	mux := http.NewServeMux()
	fake := ollamatest.New()
	mux.Handle("/", fake.Handler())
	mux.HandleFunc("POST /api/chat", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		rc := http.NewResponseController(w)
		w.Header().Set("Content-Type", "application/x-ndjson")
		line := []byte(fmt.Sprintf(`{"model":%q,"created_at":"2026-12-05T00:00:00Z","message":{"role":"assistant","content":%q},"done":false}`+"\n", testModel, text))
		// One byte per write, each flushed, so every character is split.
		for i := range line {
			w.Write(line[i : i+1])
			rc.Flush()
		}
		fmt.Fprintf(w, `{"model":%q,"created_at":"2026-12-05T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}`+"\n", testModel)
	})
	server := httptest.NewServer(mux)
	defer server.Close()

	env := &testEnv{t: t, dataDir: t.TempDir(), fake: fake}
	env.start(server.URL)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "greet me"})
	if got := streamText(parts); got != text {
		t.Errorf("streamed %q, want %q", got, text)
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, text)
}

// A 1 MiB line from the backend reaches the client and the store whole.
func TestMebibyteReplyLine(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	big := strings.Repeat("é", memory.MaxContentBytes/2) // 1 MiB of two-byte characters
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{big}})
	_, parts := env.chat(token, map[string]string{"threadId": thread.ID, "message": "write a lot"})
	if got := streamText(parts); got != big {
		t.Errorf("streamed %d bytes, want the whole %d", len(got), len(big))
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, big)
}

// Signing out locks the profile, which stops its replies: they hold a copy
// of the data key.
func TestSignOutStopsReplies(t *testing.T) {
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t), desktop: true}
	env.start(env.fake.URL())
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	o := env.ownerOf(token)
	resp, r := env.startHeldChat(token, thread.ID)
	defer resp.Body.Close()

	if out, body := env.do("POST", "/api/auth/logout", token, nil); out.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: status %d (%s)", out.StatusCode, body)
	}
	parts := readStream(t, r)
	if got := finishMetadata(t, parts)["status"]; got != "incomplete" {
		t.Errorf("finish status %v, want incomplete", got)
	}
	msgs, err := env.app.memory.LastMessages(context.Background(), o, thread.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantOneExchange(t, msgs, memory.StatusIncomplete, "Once upon ")
}

// Signing in again, as from a second window, keeps the profile unlocked
// and its replies going.
func TestSecondSignInKeepsReplies(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, r := env.startHeldChat(token, thread.ID)
	defer resp.Body.Close()

	env.login("Ada", "password-Ada")
	// The lock hook runs in its own goroutine; give a wrong stop time to
	// happen before the release.
	time.Sleep(100 * time.Millisecond)
	env.fake.Release()
	parts := readStream(t, r)
	if got := finishMetadata(t, parts)["status"]; got != "complete" {
		t.Errorf("finish status %v, want complete", got)
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, "Once upon a time")
}
