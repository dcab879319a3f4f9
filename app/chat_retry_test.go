package app

import (
	"net/http"
	"testing"

	"hearth/app/ollamatest"
)

// duplicateBody is the body of a duplicate_request error response.
type duplicateBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Field     string `json:"field"`
		ThreadID  string `json:"threadId"`
		MessageID string `json:"messageId"`
	} `json:"error"`
}

// wantDuplicate sends a chat request and fails the test unless the response
// is 409 duplicate_request naming threadID and messageID.
func (env *testEnv) wantDuplicate(token string, body map[string]string, threadID, messageID string) {
	env.t.Helper()
	var out duplicateBody
	env.mustJSON("POST", "/api/chat", token, body, http.StatusConflict, &out)
	if out.Error.Code != CodeDuplicateRequest || out.Error.Message == "" || out.Error.Field != "clientRequestId" {
		env.t.Errorf("retry error = %+v, want %s on field clientRequestId with a message", out.Error, CodeDuplicateRequest)
	}
	if out.Error.ThreadID != threadID || out.Error.MessageID != messageID {
		env.t.Errorf("retry names thread %s message %s, want %s %s", out.Error.ThreadID, out.Error.MessageID, threadID, messageID)
	}
}

func TestChatRetryWithoutThread(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	body := map[string]string{"message": "hello", "clientRequestId": "req-1"}
	resp, parts := env.chat(token, body)
	threadID := resp.Header.Get("X-Thread-Id")
	userMsgID := startMetadata(t, parts)["userMessageId"]

	for range 2 {
		env.wantDuplicate(token, body, threadID, userMsgID)
	}

	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	if len(threads) != 1 || threads[0].ID != threadID || threads[0].MessageCount != 2 {
		t.Fatalf("threads = %+v, want only %s with the message and its reply", threads, threadID)
	}
	if n := len(env.fake.ChatRequests()); n != 1 {
		t.Errorf("model received %d chat requests, want 1", n)
	}
}

func TestChatRetryWithThread(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	other := env.createThread(token)
	body := map[string]string{"message": "hello", "threadId": thread.ID, "clientRequestId": "req-1"}
	_, parts := env.chat(token, body)
	userMsgID := startMetadata(t, parts)["userMessageId"]

	env.wantDuplicate(token, body, thread.ID, userMsgID)
	// The id names one request of the profile, whichever thread it names.
	env.wantDuplicate(token, map[string]string{"message": "hello", "threadId": other.ID, "clientRequestId": "req-1"}, thread.ID, userMsgID)
	env.wantDuplicate(token, map[string]string{"message": "hello", "clientRequestId": "req-1"}, thread.ID, userMsgID)

	if got := env.getThread(token, thread.ID); len(got.Messages) != 2 {
		t.Errorf("thread has %d messages, want the message and its reply", len(got.Messages))
	}
	if got := env.getThread(token, other.ID); len(got.Messages) != 0 {
		t.Errorf("other thread has %d messages, want 0", len(got.Messages))
	}
	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	if len(threads) != 2 {
		t.Errorf("threads = %d, want 2", len(threads))
	}

	// Another profile's request with the same id is its own.
	grace := env.signUp(env.login("Ada", "password-Ada"), "Grace")
	env.chat(grace, map[string]string{"message": "hello", "clientRequestId": "req-1"})
}

func TestChatRetryWhileReplying(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"partial", " never sent"}, HoldAfter: 1})
	body := map[string]string{"message": "tell me a story", "threadId": thread.ID, "clientRequestId": "req-1"}

	resp := env.send("POST", "/api/chat", token, body)
	defer resp.Body.Close()
	events := make(chan streamPart, 64)
	go readParts(resp.Body, events)
	first := <-events
	waitForDelta(t, events)

	// The retry is recognised even while its reply is being written; a new
	// request gets the ordinary conflict.
	userMsgID := startMetadata(t, []streamPart{first})["userMessageId"]
	env.wantDuplicate(token, body, thread.ID, userMsgID)
	var out errorBody
	env.mustJSON("POST", "/api/chat", token, map[string]string{"message": "another", "threadId": thread.ID, "clientRequestId": "req-2"}, http.StatusConflict, &out)
	if out.Error.Code != CodeConflict {
		t.Errorf("second request while replying: code %q, want %q", out.Error.Code, CodeConflict)
	}

	env.do("POST", "/api/chat/"+thread.ID+"/stop", token, nil)
	for range events {
	}
	if got := env.getThread(token, thread.ID); len(got.Messages) != 2 {
		t.Errorf("thread has %d messages, want the message and its partial reply", len(got.Messages))
	}
}

func TestChatRejectedRequestCreatesNoThread(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	// The body passes the route's checks but not the store's.
	var out errorBody
	env.mustJSON("POST", "/api/chat", token, map[string]string{"message": "hello", "clientRequestId": "req\x00"}, http.StatusBadRequest, &out)
	if out.Error.Field != "clientRequestId" {
		t.Errorf("field = %q, want clientRequestId", out.Error.Field)
	}
	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	if len(threads) != 0 {
		t.Fatalf("a rejected chat left %d threads, want 0", len(threads))
	}
}
