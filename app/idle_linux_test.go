package app

import (
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// The pages of the data file that requests map are given back once the API
// has been idle for Config.IdleRelease, and not while a request is in
// progress.
func TestIdleReleasesDataFilePages(t *testing.T) {
	env := newTestEnv(t)
	env.stop()
	env.idleRelease = 50 * time.Millisecond
	env.start(env.fake.URL())
	path := filepath.Join(env.dataDir, DataFileName)

	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.appendEmbedded(token, thread.ID, "Where did we leave the spare key?", "Under the blue flowerpot.")
	// Recall's first scan releases the pages itself when it ends; waiting
	// for it keeps that release out of what follows.
	env.waitRecall(token)

	// A chat that the fake holds keeps a request in progress. What the
	// requests before it mapped must stay mapped meanwhile.
	resp, _ := env.startHeldChat(token, thread.ID)
	before := mappedResidentKiB(t, path)
	if before == 0 {
		t.Fatal("no page of the data file is mapped after the requests")
	}
	time.Sleep(20 * env.idleRelease)
	if kib := mappedResidentKiB(t, path); kib == 0 {
		t.Fatalf("the data file's pages were released while a chat was in progress (%d KiB before)", before)
	}
	env.fake.Release()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	env.waitRecall(token)

	// Recall embeds the chat's messages in the background and may map
	// pages after a release; a request starts a new idle period each time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		env.mustJSON("GET", "/api/threads/"+thread.ID+"/messages", token, nil, http.StatusOK, nil)
		time.Sleep(5 * env.idleRelease)
		kib := mappedResidentKiB(t, path)
		if kib == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d KiB of the data file stay mapped with the API idle, want 0", kib)
		}
	}
}
