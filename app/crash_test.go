package app

import (
	"bufio"
	"bytes"
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

// crashStreamingLine is what the child prints when the first text of a reply
// reaches it.
const crashStreamingLine = "streaming"

// crashStartTimeout bounds the wait for a child's first reply to stream. A
// child is a race-instrumented test binary that starts an app and signs in
// with argon2id, which takes seconds on a busy machine.
const crashStartTimeout = time.Minute

// TestKillDuringReply kills, with SIGKILL and at random moments, a process
// whose replies are streaming into the data file, 50 times. Each child is
// killed a random time after its first reply has started streaming. So
// however slowly it starts, it has committed a user message, and the kill
// lands during a reply, at its end or during the next request. After each
// kill the file must pass bbolt's consistency check, and after all of them
// every user message the child saw committed must be there exactly once,
// with no record half-written.
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
		ids := runAndKillChild(t, env.dataDir, time.Duration(rand.IntN(500))*time.Millisecond)
		if len(ids) == 0 {
			t.Fatalf("run %d: the child streamed a reply but reported no committed user message", i)
		}
		for _, id := range ids {
			if committed[id] {
				t.Fatalf("run %d: user message %s reported twice", i, id)
			}
			committed[id] = true
		}
		checkDataFile(t, filepath.Join(env.dataDir, DataFileName))
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
			case m.Status != "complete" && m.Status != "interrupted":
				// Nothing stopped these replies but the kill.
				t.Errorf("assistant message %s left by a killed process has status %s, want interrupted", m.ID, m.Status)
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

// runAndKillChild starts a child that chats in dataDir, kills it extra after
// its first reply has started streaming, and returns the ids of the user
// messages it reported as committed.
func runAndKillChild(t *testing.T, dataDir string, extra time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringReply$", "-test.v")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dataDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// The reader owns ids and output until done is closed.
	var ids, output []string
	streaming := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		signalled := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			output = append(output, line)
			if id, ok := strings.CutPrefix(line, "committed "); ok {
				ids = append(ids, id)
			}
			if line == crashStreamingLine && !signalled {
				close(streaming)
				signalled = true
			}
		}
	}()

	select {
	case <-streaming:
	case <-done:
		_ = cmd.Wait()
		t.Fatalf("the child ended before a reply streamed.\nstdout:\n%s\nstderr:\n%s", strings.Join(output, "\n"), stderr.String())
	case <-time.After(crashStartTimeout):
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
		t.Fatalf("no reply streamed within %v of starting the child.\nstdout:\n%s\nstderr:\n%s", crashStartTimeout, strings.Join(output, "\n"), stderr.String())
	}
	time.Sleep(extra)
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
// it (the chat stream's start part is sent only after that commit), and
// crashStreamingLine when the reply's first text arrives.
func runCrashChild(t *testing.T, dataDir string) {
	fake := ollamatest.NewServer(t)
	model, err := NewOllama(fake.URL(), testModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(Config{DataDir: dataDir, Model: model, Version: "test", Logger: slog.New(slog.DiscardHandler), SkipTitles: true})
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
		streamed := false
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok || data == "[DONE]" {
				continue
			}
			var p streamPart
			if json.Unmarshal([]byte(data), &p) != nil {
				continue
			}
			switch {
			case p.Type == "start":
				fmt.Printf("committed %s\n", startMetadata(t, []streamPart{p})["userMessageId"])
				streamed = false
			case p.Type == "text-delta" && !streamed:
				fmt.Println(crashStreamingLine)
				streamed = true
			}
		}
		resp.Body.Close()
	}
}
