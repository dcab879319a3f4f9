package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// cancelBudget is how soon after a stop request or a dropped connection
// the model request must end and the partial reply must be stored.
const cancelBudget = 100 * time.Millisecond

// newCancelEnv starts Hearth in browser mode with a fake Ollama that sends
// on the returned channel the time at which the context of its first chat
// request ended.
func newCancelEnv(t *testing.T) (*testEnv, <-chan time.Time) {
	t.Helper()
	fake := ollamatest.New()
	ended := make(chan time.Time, 1)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/chat" {
			context.AfterFunc(r.Context(), func() {
				select {
				case ended <- time.Now():
				default: // a later chat request; only the first is timed
				}
			})
		}
		fake.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		fake.Release()
		server.Close()
	})

	env := &testEnv{t: t, dataDir: t.TempDir(), fake: fake}
	env.start(server.URL)
	return env, ended
}

// A stop request ends the model request and stores the partial reply
// within cancelBudget, as one incomplete message.
func TestStopEndsReplyWithinBudget(t *testing.T) {
	env, ended := newCancelEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, stream := env.startHeldChat(token, thread.ID)
	defer resp.Body.Close()
	// The client reads on, as the browser does after a stop.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(io.Discard, stream)
	}()

	// The clock starts before the stop request is sent, so the figures
	// include its round trip and bound the time from its response too.
	start := time.Now()
	stop, body := env.do("POST", "/api/chat/"+thread.ID+"/stop", token, nil)
	if stop.StatusCode != http.StatusNoContent {
		t.Fatalf("stop: status %d, body %s", stop.StatusCode, body)
	}

	wantModelRequestEndedWithin(t, "the stop request", ended, start)
	wantIncompleteStoredWithin(t, env, token, thread.ID, "the stop request", start)
	<-drained
	wantOneIncompleteReply(t, env, token, thread.ID)
}

// In the browser, a client that closes the stream ends the model request
// and has the partial reply stored within cancelBudget, as one incomplete
// message.
func TestDisconnectEndsReplyWithinBudget(t *testing.T) {
	env, ended := newCancelEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, _ := env.startHeldChat(token, thread.ID)

	start := time.Now()
	resp.Body.Close()

	wantModelRequestEndedWithin(t, "the close", ended, start)
	wantIncompleteStoredWithin(t, env, token, thread.ID, "the close", start)
	wantOneIncompleteReply(t, env, token, thread.ID)
}

// wantModelRequestEndedWithin checks that the fake Ollama saw its chat
// request end within cancelBudget of start, the time of event.
func wantModelRequestEndedWithin(t *testing.T, event string, ended <-chan time.Time, start time.Time) {
	t.Helper()
	select {
	case at := <-ended:
		took := at.Sub(start)
		t.Logf("the model request ended %v after %s", took, event)
		if took > cancelBudget {
			t.Errorf("the model request ended %v after %s, want at most %v", took, event, cancelBudget)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the model request was still running 10 s after %s", event)
	}
}

// wantIncompleteStoredWithin polls the store until the thread's reply is
// stored as incomplete and no longer streaming, and checks that this
// happened within cancelBudget of start, the time of event.
func wantIncompleteStoredWithin(t *testing.T, env *testEnv, token, threadID, event string, start time.Time) {
	t.Helper()
	for {
		msgs := env.storedMessages(token, threadID)
		if n := len(msgs); n > 0 && msgs[n-1].Role == memory.RoleAssistant && msgs[n-1].Status == memory.StatusIncomplete && !msgs[n-1].Streaming {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the reply was not stored as incomplete 10 s after %s; the thread holds %+v", event, msgs)
		}
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("the reply was stored as incomplete %v after %s", took, event)
	if took > cancelBudget {
		t.Errorf("the reply was stored as incomplete %v after %s, want at most %v", took, event, cancelBudget)
	}
}

// wantOneIncompleteReply waits until the stopped reply has released its
// thread, after which it writes nothing more. Then it checks through the
// API that the thread contains the user's message and a single reply,
// stored as incomplete with the text sent before the hold.
func wantOneIncompleteReply(t *testing.T, env *testEnv, token, threadID string) {
	t.Helper()
	waitFor(t, "the stopped reply to let go of its thread", func() bool {
		env.app.generations.mu.Lock()
		defer env.app.generations.mu.Unlock()
		return len(env.app.generations.running) == 0
	})

	got := env.getThread(token, threadID)
	if got.Thread.MessageCount != 2 {
		t.Errorf("thread counts %d messages, want 2: the user's and one reply", got.Thread.MessageCount)
	}
	incomplete := 0
	for _, m := range got.Messages {
		if m.Status == string(memory.StatusIncomplete) {
			incomplete++
		}
	}
	if incomplete != 1 {
		t.Errorf("thread lists %d incomplete messages, want 1: %+v", incomplete, got.Messages)
	}
	if len(got.Messages) != 2 {
		t.Fatalf("thread lists %d messages, want 2: %+v", len(got.Messages), got.Messages)
	}
	if reply := got.Messages[1]; reply.Role != string(memory.RoleAssistant) || reply.Status != string(memory.StatusIncomplete) || reply.Content != "Once upon " {
		t.Errorf("second message is %s %q (%s), want the incomplete reply %q", reply.Role, reply.Content, reply.Status, "Once upon ")
	}
}
