package app

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestDamagedDataFile(t *testing.T) {
	damage := map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/3] },
		"garbage":   func(b []byte) []byte { return bytes.Repeat([]byte("not a database "), len(b)/15) },
		"both meta pages overwritten": func(b []byte) []byte {
			b = bytes.Clone(b)
			b[20] ^= 0xff
			b[4096+20] ^= 0xff
			return b
		},
	}
	for name, corrupt := range damage {
		t.Run(name, func(t *testing.T) {
			env := newTestEnv(t)
			token := env.signUp("", "Ada")
			for range 20 {
				env.chat(token, map[string]string{"message": strings.Repeat("fill the file ", 100)})
			}
			env.stop()

			path := filepath.Join(env.dataDir, DataFileName)
			healthy, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			broken := corrupt(healthy)
			if err := os.WriteFile(path, broken, 0o600); err != nil {
				t.Fatal(err)
			}

			model, err := NewOllama(env.fake.URL(), testModel, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{DataDir: env.dataDir, Model: model, Logger: slog.New(slog.DiscardHandler)}
			_, err = Open(cfg)
			var damaged *DamagedFileError
			if !errors.As(err, &damaged) || damaged.Path != path {
				t.Fatalf("Open error = %v, want a DamagedFileError naming %s", err, path)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--start-fresh") {
				t.Errorf("error %q does not name the file and the way out", err)
			}
			if name == "truncated" && !strings.Contains(err.Error(), "cut short") {
				t.Errorf("error %q does not say the file was cut short", err)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, broken) {
				t.Fatal("the damaged file was changed by a failed open")
			}

			cfg.StartFresh = true
			a, err := Open(cfg)
			if err != nil {
				t.Fatalf("Open with StartFresh: %v", err)
			}
			defer a.Close()
			matches, err := filepath.Glob(path + ".damaged-*")
			if err != nil || len(matches) != 1 {
				t.Fatalf("moved-aside files = %v (err %v), want one", matches, err)
			}
			if got, _ := os.ReadFile(matches[0]); !bytes.Equal(got, broken) {
				t.Fatal("the file moved aside differs from the damaged one")
			}
			profiles, err := a.profiles.Profiles(t.Context())
			if err != nil || len(profiles) != 0 {
				t.Fatalf("fresh start has %d profiles (err %v), want 0", len(profiles), err)
			}
		})
	}
}

func TestStartFreshKeepsHealthyFile(t *testing.T) {
	env := newTestEnv(t)
	env.signUp("", "Ada")
	env.stop()

	model, err := NewOllama(env.fake.URL(), testModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(Config{DataDir: env.dataDir, Model: model, Logger: slog.New(slog.DiscardHandler), StartFresh: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	profiles, err := a.profiles.Profiles(t.Context())
	if err != nil || len(profiles) != 1 {
		t.Fatalf("profiles after StartFresh on a healthy file = %d (err %v), want 1", len(profiles), err)
	}
	if matches, _ := filepath.Glob(filepath.Join(env.dataDir, DataFileName) + ".damaged-*"); len(matches) != 0 {
		t.Fatalf("a healthy file was moved aside: %v", matches)
	}
	if _, err := MoveDamagedAside(t.TempDir()); err == nil {
		t.Fatal("MoveDamagedAside of a missing file succeeded")
	}
}

// lockedBuffer is a bytes.Buffer that loggers on several goroutines can
// write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// damageFirstMessage flips a byte of the sealed fields of the first message
// of threadID in the data file, which must be closed.
func damageFirstMessage(t *testing.T, dataDir, threadID string) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dataDir, DataFileName), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		msgs := tx.Bucket([]byte("messages")).Bucket([]byte(threadID))
		k, v := msgs.Cursor().First()
		var record map[string]any
		if err := json.Unmarshal(v, &record); err != nil {
			return err
		}
		sealed, err := base64.StdEncoding.DecodeString(record["sealed"].(string))
		if err != nil {
			return err
		}
		sealed[len(sealed)-1] ^= 0xff
		record["sealed"] = sealed
		damaged, err := json.Marshal(record)
		if err != nil {
			return err
		}
		return msgs.Put(bytes.Clone(k), damaged)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDamagedMessageMarksThread(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	hurt := env.createThread(token)
	whole := env.createThread(token)
	env.chat(token, map[string]string{"message": "the secret plan", "threadId": hurt.ID})
	env.chat(token, map[string]string{"message": "more secrets", "threadId": hurt.ID})
	env.chat(token, map[string]string{"message": "fine", "threadId": whole.ID})
	env.stop()
	damageFirstMessage(t, env.dataDir, hurt.ID)

	logs := &lockedBuffer{}
	env.log = slog.New(slog.NewJSONHandler(logs, nil))
	env.start(env.fake.URL())
	token = env.login("Ada", "password-Ada")

	type listed struct {
		ID              string `json:"id"`
		Title           string `json:"title"`
		Damaged         bool   `json:"damaged"`
		DamagedMessages bool   `json:"damagedMessages"`
	}
	var opened struct {
		Thread   listed `json:"thread"`
		Messages []struct {
			Content string `json:"content"`
			Damaged bool   `json:"damaged"`
		} `json:"messages"`
	}
	for range 3 {
		env.mustJSON("GET", "/api/threads/"+hurt.ID, token, nil, http.StatusOK, &opened)
	}
	if len(opened.Messages) != 4 || !opened.Messages[0].Damaged || opened.Messages[1].Damaged || opened.Messages[2].Content != "more secrets" {
		t.Fatalf("messages = %+v, want the first damaged and the rest readable", opened.Messages)
	}
	if !opened.Thread.DamagedMessages || opened.Thread.Damaged || opened.Thread.Title == "" {
		t.Errorf("opened thread = %+v, want its title and damagedMessages", opened.Thread)
	}

	var threads []listed
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, &threads)
	for _, th := range threads {
		if want := th.ID == hurt.ID; th.DamagedMessages != want || th.Damaged {
			t.Errorf("listed thread %s: damagedMessages %v, damaged %v, want %v, false", th.ID, th.DamagedMessages, th.Damaged, want)
		}
	}

	// Reported once, by ids, without the text.
	if n := strings.Count(logs.String(), `"msg":"damaged messages found"`); n != 1 {
		t.Errorf("damage logged %d times, want once; log:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), hurt.ID) {
		t.Errorf("log does not name thread %s:\n%s", hurt.ID, logs)
	}
	if strings.Contains(logs.String(), "the secret plan") || strings.Contains(logs.String(), "more secrets") {
		t.Errorf("log contains message text:\n%s", logs)
	}
}
