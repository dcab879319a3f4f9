package app

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
