package app

import (
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// newIdleTestEnv returns a test environment that releases the data file's
// pages after 50 ms without a request, and the data file's path.
func newIdleTestEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	env := newTestEnv(t)
	env.stop()
	env.idleRelease = 50 * time.Millisecond
	env.start(env.fake.URL())
	return env, filepath.Join(env.dataDir, DataFileName)
}

// The pages of the data file that requests map are given back once the API
// has been idle for Config.IdleRelease, and not while a request is in
// progress.
func TestIdleReleasesDataFilePages(t *testing.T) {
	env, path := newIdleTestEnv(t)
	// Recall's first scan releases the pages too, in a goroutine that can
	// run at any time after it, so releases by the API are counted apart.
	var releases atomic.Int32
	release := env.app.idle.release
	env.app.idle.release = func() {
		releases.Add(1)
		release()
	}

	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.appendEmbedded(token, thread.ID, "Where did we leave the spare key?", "Under the blue flowerpot.")
	env.waitRecall(token)

	// A chat that the fake holds keeps a request in progress, so nothing
	// is released meanwhile.
	resp, _ := env.startHeldChat(token, thread.ID)
	releasesBefore := releases.Load()
	time.Sleep(20 * env.idleRelease)
	if n := releases.Load() - releasesBefore; n != 0 {
		t.Fatalf("%d releases while a chat was in progress, want 0", n)
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

// Work that recall does in the background, with no request in progress,
// schedules a release of what it mapped too.
func TestIdleReleaseAfterRecallWork(t *testing.T) {
	env, path := newIdleTestEnv(t)

	token := env.signUp("", "Ada")
	thread := env.createThread(token)
	env.waitRecall(token)
	time.Sleep(5 * env.idleRelease)

	// The messages are stored directly, not through a request, and recall
	// embeds them in the background.
	env.appendEmbedded(token, thread.ID, "The boiler was serviced in March.", "Noted, next service due in March.")
	env.waitRecall(token)
	deadline := time.Now().Add(10 * time.Second)
	for {
		kib := mappedResidentKiB(t, path)
		if kib == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d KiB of the data file stay mapped 10 s after recall's work, with no request in progress", kib)
		}
		time.Sleep(env.idleRelease)
	}
}
