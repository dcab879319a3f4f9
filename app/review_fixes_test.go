package app

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"hearth/app/ollamatest"
)

// An import holds its whole file in memory, so a second one waits for the
// first to finish instead of running beside it.
func TestImportsRunOneAtATime(t *testing.T) {
	env := newTestEnv(t)
	ada := env.signUp("", "Ada")
	bob := env.signUp(ada, "Bob")

	// The first import's body arrives slowly, so the import is still
	// reading it while the second request comes.
	body, feed := io.Pipe()
	req, err := http.NewRequest("POST", env.server.URL+"/api/import", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ada)
	first := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("first import: %v", err)
			first <- nil
			return
		}
		first <- resp
	}()
	if _, err := feed.Write([]byte(`{"format":"hearth-profile","version":1,`)); err != nil {
		t.Fatal(err)
	}

	// The first request takes the slot only when its handler runs. Until
	// then a second request may still get it, so it is sent again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, data := env.do("POST", "/api/import", bob, map[string]any{"format": "hearth-profile", "version": 1, "threads": []any{}})
		if resp.StatusCode == http.StatusTooManyRequests {
			checkAPIError(t, "second import", resp, data, http.StatusTooManyRequests, CodeRateLimited, "")
			if resp.Header.Get("Retry-After") == "" {
				t.Error("the refused import has no Retry-After header")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second import during the first got %d, want 429; body %s", resp.StatusCode, data)
		}
		time.Sleep(10 * time.Millisecond)
	}

	if _, err := feed.Write([]byte(`"threads":[]}`)); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	resp := <-first
	if resp == nil {
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first import: status %d, want 200", resp.StatusCode)
	}
	// With the first done, the next import runs.
	resp, data := env.do("POST", "/api/import", bob, map[string]any{"format": "hearth-profile", "version": 1, "threads": []any{}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("import after the first finished: status %d, want 200; body %s", resp.StatusCode, data)
	}
}

// A model server may quote the prompt in its error; the log keeps only the
// error's code.
func TestBackendErrorTextNotLogged(t *testing.T) {
	logs := &lockedBuffer{}
	env := &testEnv{t: t, dataDir: t.TempDir(), fake: ollamatest.NewServer(t)}
	env.log = slog.New(slog.NewJSONHandler(logs, nil))
	env.start(env.fake.URL())
	token := env.signUp("", "Ada")
	const secret = "the vault code is 7741"

	env.fake.Enqueue(ollamatest.Reply{Status: http.StatusBadRequest, Error: "prompt rejected: user wrote " + secret})
	_, parts := env.chat(token, map[string]string{"message": secret})
	if streamError(parts) == "" {
		t.Fatal("the failed reply sent no error part")
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the log holds text the backend quoted:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"reply failed"`) {
		t.Errorf("the failed reply was not logged:\n%s", logs.String())
	}
}
