package app

import (
	"net/http"
	"strings"
	"testing"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// Regenerate writes the last reply anew and keeps the old text as an
// earlier version.
func TestRegenerateKeepsEarlierVersion(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"First answer."}})
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "Question?"})
	first := env.storedMessages(token, thread.ID)[1]

	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Second ", "answer."}})
	_, parts := env.stream("POST", "/api/threads/"+thread.ID+"/messages/"+first.ID+"/regenerate", token, nil)
	if got := streamText(parts); got != "Second answer." {
		t.Errorf("regenerated text %q", got)
	}
	if parts[0].Type != "start" || parts[0].MessageID != first.ID {
		t.Errorf("stream starts with %s for message %q, want start for the regenerated reply %s", parts[0].Type, parts[0].MessageID, first.ID)
	}
	msgs := env.storedMessages(token, thread.ID)
	if len(msgs) != 2 {
		t.Fatalf("thread holds %d messages after regenerate, want 2", len(msgs))
	}
	reply := msgs[1]
	if reply.ID != first.ID || reply.Content != "Second answer." || reply.Status != memory.StatusComplete {
		t.Errorf("reply after regenerate: %+v", reply)
	}
	if len(reply.Versions) != 1 || reply.Versions[0].Content != "First answer." {
		t.Errorf("earlier versions %+v, want the first answer", reply.Versions)
	}
	// The prompt answered the question again, without the old answer.
	last := env.lastChatRequest().Messages
	if got := last[len(last)-1]; got.Role != "user" || got.Content != "Question?" {
		t.Errorf("regenerate prompt ends with %s %q, want the question", got.Role, got.Content)
	}

	// Only the last message can be regenerated.
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Third."}})
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "Another?"})
	resp, body := env.do("POST", "/api/threads/"+thread.ID+"/messages/"+first.ID+"/regenerate", token, nil)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("regenerating an older reply: status %d (%s), want 409", resp.StatusCode, body)
	}
}

// A failed regenerate leaves the old reply as it was.
func TestRegenerateFailureKeepsReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Keep me."}})
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "Question?"})
	reply := env.storedMessages(token, thread.ID)[1]

	env.fake.Enqueue(ollamatest.Reply{Status: http.StatusInternalServerError, Error: "boom"})
	_, parts := env.stream("POST", "/api/threads/"+thread.ID+"/messages/"+reply.ID+"/regenerate", token, nil)
	if streamError(parts) == "" {
		t.Error("failed regenerate streamed no error")
	}
	msgs := env.storedMessages(token, thread.ID)
	if len(msgs) != 2 || msgs[1].Content != "Keep me." || msgs[1].Status != memory.StatusComplete || len(msgs[1].Versions) != 0 {
		t.Errorf("after a failed regenerate the thread holds %+v, want the old reply untouched", msgs)
	}
}

// Continue takes up a stopped reply where it ended.
func TestContinueStoppedReply(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	resp, r := env.startHeldChat(token, thread.ID)
	env.do("POST", "/api/chat/"+thread.ID+"/stop", token, nil)
	readStream(t, r)
	resp.Body.Close()
	stopped := env.storedMessages(token, thread.ID)[1]

	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"a time ", "there was a fox."}})
	_, parts := env.stream("POST", "/api/threads/"+thread.ID+"/messages/"+stopped.ID+"/continue", token, nil)
	if got := streamText(parts); got != "a time there was a fox." {
		t.Errorf("continued text %q", got)
	}
	wantOneExchange(t, env.storedMessages(token, thread.ID), memory.StatusComplete, "Once upon a time there was a fox.")
	prompt := env.lastChatRequest().Messages
	if n := len(prompt); prompt[n-2].Role != "assistant" || prompt[n-2].Content != "Once upon " || prompt[n-1].Content != continueInstruction {
		t.Errorf("continue prompt ends with %+v, want the partial reply and the instruction", prompt[n-2:])
	}

	resp, body := env.do("POST", "/api/threads/"+thread.ID+"/messages/"+stopped.ID+"/continue", token, nil)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("continuing a finished reply: status %d (%s), want 409", resp.StatusCode, body)
	}
}

// Editing a user message branches: a new thread with the messages before it
// and the new text, and the old thread as it was.
func TestEditMessageForks(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "First question"})
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "Second question"})
	old := env.storedMessages(token, thread.ID)
	if len(old) != 4 {
		t.Fatalf("thread holds %d messages, want 4", len(old))
	}

	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Edited answer."}})
	resp, parts := env.stream("PUT", "/api/threads/"+thread.ID+"/messages/"+old[2].ID, token, map[string]string{"content": "Second question, better"})
	forkID := resp.Header.Get("X-Thread-Id")
	if forkID == "" || forkID == thread.ID {
		t.Fatalf("X-Thread-Id %q, want a new thread", forkID)
	}
	if got := streamText(parts); got != "Edited answer." {
		t.Errorf("edited reply %q", got)
	}
	fork := env.storedMessages(token, forkID)
	wantTexts := []string{"First question", old[1].Content, "Second question, better", "Edited answer."}
	if len(fork) != len(wantTexts) {
		t.Fatalf("fork holds %d messages, want %d", len(fork), len(wantTexts))
	}
	for i, want := range wantTexts {
		if fork[i].Content != want {
			t.Errorf("fork message %d is %q, want %q", i, fork[i].Content, want)
		}
	}
	if again := env.storedMessages(token, thread.ID); len(again) != 4 || again[2].Content != "Second question" {
		t.Errorf("old branch changed: %+v", again)
	}

	resp, body := env.do("PUT", "/api/threads/"+thread.ID+"/messages/"+old[1].ID, token, map[string]string{"content": "x"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("editing a reply: status %d (%s), want 400", resp.StatusCode, body)
	}
	bob := env.signUp(token, "Bob")
	resp, body = env.do("PUT", "/api/threads/"+thread.ID+"/messages/"+old[2].ID, bob, map[string]string{"content": "x"})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "not_found") {
		t.Errorf("editing another profile's message: status %d (%s), want 404", resp.StatusCode, body)
	}
	resp, _ = env.do("POST", "/api/threads/"+thread.ID+"/messages/"+old[3].ID+"/regenerate", bob, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("regenerating another profile's reply: status %d, want 404", resp.StatusCode)
	}
}

// After the first reply the model names the thread, or its first words do
// when the model fails.
func TestThreadTitles(t *testing.T) {
	cases := []struct {
		name  string
		title ollamatest.Reply
		want  string
	}{
		{"model writes it", ollamatest.Reply{Chunks: []string{"\"Planning a ", "garden.\"\nMore text"}}, "Planning a garden"},
		{"model fails", ollamatest.Reply{Status: http.StatusInternalServerError}, "How do I plan a vegetable…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t), titles: true}
			env.start(env.fake.URL())
			token := env.signUp("", "Ada")
			env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Start with the soil."}})
			env.fake.Enqueue(c.title)
			resp, _ := env.chat(token, map[string]string{"message": "How do I plan a vegetable garden for a small yard?"})
			threadID := resp.Header.Get("X-Thread-Id")

			waitFor(t, "the title", func() bool { return env.getThread(token, threadID).Thread.Title != memory.DefaultThreadTitle })
			if got := env.getThread(token, threadID).Thread.Title; got != c.want {
				t.Errorf("title %q, want %q", got, c.want)
			}
			if reqs := env.fake.ChatRequests(); len(reqs) != 2 || reqs[1].Messages[0].Content != titleInstruction || len(reqs[1].Tools) != 0 {
				t.Errorf("title request %+v, want the title instruction without tools", reqs[len(reqs)-1])
			}
		})
	}
}

func TestCleanTitle(t *testing.T) {
	cases := map[string]string{
		"  \"Hello world.\"  ":          "Hello world",
		"# Title: **Gardening tips**\n": "Gardening tips",
		"\n\n“Quoted”\nsecond line":     "Quoted",
		"":                              "",
		strings.Repeat("long ", 40):     strings.TrimSpace(strings.Repeat("long ", 16))[:maxTitleRunes-1] + "…",
	}
	for in, want := range cases {
		if got := cleanTitle(in); got != want {
			t.Errorf("cleanTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeepRecentVersions(t *testing.T) {
	var many []memory.MessageVersion
	for i := range maxKeptVersions + 5 {
		many = append(many, memory.MessageVersion{Content: strings.Repeat("x", i+1)})
	}
	kept := keepRecentVersions(many)
	if len(kept) != maxKeptVersions || kept[len(kept)-1].Content != many[len(many)-1].Content {
		t.Errorf("kept %d versions ending with %q, want the newest %d", len(kept), kept[len(kept)-1].Content, maxKeptVersions)
	}
	big := []memory.MessageVersion{{Content: strings.Repeat("a", memory.MaxContentBytes)}, {Content: strings.Repeat("b", memory.MaxContentBytes)},
		{Content: strings.Repeat("c", memory.MaxContentBytes)}, {Content: strings.Repeat("d", memory.MaxContentBytes)}, {Content: "e"}}
	if kept := keepRecentVersions(big); len(kept) != 4 || kept[0].Content[0] != 'b' {
		t.Errorf("kept %d versions, want the newest 4 that fit in %d bytes", len(kept), maxKeptVersionBytes)
	}
}

// Editing a thread's first message starts a branch with the thread's
// model.
func TestEditFirstMessageKeepsModel(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.mustJSON("PATCH", "/api/threads/"+thread.ID, token, map[string]string{"model": testModel + ":latest"}, http.StatusOK, nil)
	env.chat(token, map[string]string{"threadId": thread.ID, "message": "First question"})
	first := env.storedMessages(token, thread.ID)[0]

	resp, _ := env.stream("PUT", "/api/threads/"+thread.ID+"/messages/"+first.ID, token, map[string]string{"content": "Better question"})
	var branch struct {
		Thread struct {
			Model string `json:"model"`
		} `json:"thread"`
	}
	env.mustJSON("GET", "/api/threads/"+resp.Header.Get("X-Thread-Id"), token, nil, http.StatusOK, &branch)
	if branch.Thread.Model != testModel+":latest" {
		t.Errorf("branch model %q, want %q", branch.Thread.Model, testModel+":latest")
	}
}
