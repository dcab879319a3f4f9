package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"hearth/app/ollamatest"
)

// crashStory is the reply the child's fake model streams, one word per
// chunk.
const crashStory = "Once upon a time there was a profile that lived on a shared computer "

// crashChildEnv names the data directory of a child process that chats until
// it is killed; see TestKillDuringReply.
const crashChildEnv = "HEARTH_TEST_CRASH_CHILD_DATA"

// TestKillDuringReply kills, with SIGKILL and at random moments, a process
// whose replies are streaming into the data file, 50 times. After each kill
// the file must pass bbolt's consistency check, and after all of them every
// user message the child saw committed must be there exactly once, with no
// record half-written.
func TestKillDuringReply(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		runCrashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("starts 50 processes; run without -short")
	}

	env := newTestEnv(t)
	env.signUp("", "Ada")
	env.stop()

	committed := map[string]bool{}
	for i := range 50 {
		for _, id := range runAndKillChild(t, env.dataDir, time.Duration(50+rand.IntN(350))*time.Millisecond) {
			if committed[id] {
				t.Fatalf("run %d: user message %s reported twice", i, id)
			}
			committed[id] = true
		}
		checkDataFile(t, filepath.Join(env.dataDir, DataFileName))
	}
	if len(committed) == 0 {
		t.Fatal("no child committed a user message before being killed; the test proves nothing")
	}

	env.start(env.fake.URL())
	token := env.login("Ada", "password-Ada")
	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", token, nil, 200, &threads)
	found := map[string]int{}
	for _, th := range threads {
		got := env.getThread(token, th.ID)
		if th.MessageCount != len(got.Messages) {
			t.Errorf("thread %s counts %d messages, holds %d", th.ID, th.MessageCount, len(got.Messages))
		}
		for _, m := range got.Messages {
			switch {
			case m.Role == "user":
				found[m.ID]++
				if m.Content != "tell me a long story" {
					t.Errorf("user message %s = %q, want the text sent", m.ID, m.Content)
				}
			case m.Content == "" || !strings.HasPrefix(crashStory, m.Content):
				t.Errorf("assistant message %s = %q, want a non-empty prefix of the story", m.ID, m.Content)
			case m.Status == "complete" && m.Content != crashStory:
				t.Errorf("complete assistant message %s = %q, want the whole story", m.ID, m.Content)
			}
		}
	}
	for id := range committed {
		if found[id] != 1 {
			t.Errorf("committed user message %s found %d times, want once", id, found[id])
		}
	}
	t.Logf("%d committed user messages survived 50 kills", len(committed))
}

// runAndKillChild starts a child that chats in dataDir, kills it after
// lifetime, and returns the ids of the user messages it reported as
// committed.
func runAndKillChild(t *testing.T, dataDir string, lifetime time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringReply$", "-test.v")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dataDir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				ids = append(ids, id)
			}
		}
	}()
	time.Sleep(lifetime)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	_ = cmd.Wait()
	return ids
}

// checkDataFile opens the data file and runs bbolt's consistency check.
func checkDataFile(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s after a kill: %v", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bbolt check after a kill: %v", err)
	}
}

// runCrashChild chats in dataDir as Ada until the process is killed,
// printing "committed ID" for each user message once the server has stored
// it: the chat stream's start part is sent only after that commit.
func runCrashChild(t *testing.T, dataDir string) {
	fake := ollamatest.NewServer(t)
	model, err := NewOllama(fake.URL(), testModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(Config{DataDir: dataDir, Model: model, Version: "test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(a.Handler())
	env := &testEnv{t: t, dataDir: dataDir, fake: fake, app: a, server: server}
	token := env.login("Ada", "password-Ada")

	story := strings.Fields(crashStory)
	for {
		chunks := make([]string, len(story))
		for i, word := range story {
			chunks[i] = word + " "
		}
		fake.Enqueue(ollamatest.Reply{Chunks: chunks, DelayMS: 15})
		resp := env.send("POST", "/api/chat", token, map[string]string{"message": "tell me a long story"})
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok || data == "[DONE]" {
				continue
			}
			var p streamPart
			if json.Unmarshal([]byte(data), &p) == nil && p.Type == "start" {
				fmt.Printf("committed %s\n", startMetadata(t, []streamPart{p})["userMessageId"])
			}
		}
		resp.Body.Close()
	}
}
