package app

import (
	"net/http"
	"testing"
	"time"

	"hearth/app/ollamatest"
)

// A model that pauses mid-reply must not leave the text the user has seen
// unsaved: after progressInterval the reply so far is in the store, so a
// crash during the pause loses none of it.
func TestReplySavedWhileModelPauses(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"first ", "second ", "third"}, HoldAfter: 2})

	resp := env.send("POST", "/api/chat", token, map[string]string{"message": "Go slowly", "threadId": thread.ID})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chat: status %d", resp.StatusCode)
	}
	events := make(chan streamPart, 64)
	go readParts(resp.Body, events)

	deadline := time.Now().Add(3 * progressInterval)
	var stored string
	for time.Now().Before(deadline) {
		msgs := env.getThread(token, thread.ID).Messages
		if len(msgs) == 2 {
			stored = msgs[1].Content
			if stored == "first second " {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	env.fake.Release()
	if stored != "first second " {
		t.Fatalf("while the model paused the store held %q, want both pieces already sent", stored)
	}
	for p := range events {
		if p.Type == "finish" {
			break
		}
	}
	if got := env.getThread(token, thread.ID).Messages[1]; got.Content != "first second third" || got.Status != "complete" {
		t.Errorf("after the pause the reply is %q (%s), want the whole text complete", got.Content, got.Status)
	}
}
