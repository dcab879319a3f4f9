package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hearth/app"
	"hearth/app/ollamatest"
)

func TestParseConfigDataDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HEARTH_DATA_DIR", "")
	t.Setenv("OLLAMA_HOST", "")
	t.Setenv("HEARTH_MODEL", "")

	cfg, err := parseConfig("hearth", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".local", "share", "hearth"); cfg.dataDir != want {
		t.Errorf("default data dir = %q, want %q", cfg.dataDir, want)
	}
	if cfg.model != DefaultModel || cfg.ollamaURL != "http://127.0.0.1:11434" {
		t.Errorf("model %q at %q, want %q at the default URL", cfg.model, cfg.ollamaURL, DefaultModel)
	}

	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	if cfg, _ := parseConfig("hearth", nil, false); cfg.dataDir != filepath.Join(xdg, "hearth") {
		t.Errorf("data dir with XDG_DATA_HOME = %q, want %q", cfg.dataDir, filepath.Join(xdg, "hearth"))
	}

	env := t.TempDir()
	t.Setenv("HEARTH_DATA_DIR", env)
	if cfg, _ := parseConfig("hearth", nil, false); cfg.dataDir != env {
		t.Errorf("data dir with HEARTH_DATA_DIR = %q, want %q", cfg.dataDir, env)
	}
	flag := t.TempDir()
	if cfg, _ := parseConfig("hearth", []string{"--data", flag}, false); cfg.dataDir != flag {
		t.Errorf("data dir with --data = %q, want the flag to win: %q", cfg.dataDir, flag)
	}
}

func TestParseConfigRejects(t *testing.T) {
	t.Setenv("HEARTH_DATA_DIR", t.TempDir())
	tests := []struct {
		name  string
		args  []string
		serve bool
		want  string
	}{
		{"empty data flag", []string{"--data", ""}, false, "--data is empty"},
		{"empty data flag with equals", []string{"--data="}, true, "--data is empty"},
		{"stray argument", []string{"extra"}, false, `unexpected argument "extra"`},
		{"unknown flag", []string{"--port", "1"}, true, "flag provided but not defined"},
		{"addr on the desktop", []string{"--addr", "127.0.0.1:1"}, false, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("hearth", tt.args, tt.serve)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseConfigOllamaHost(t *testing.T) {
	t.Setenv("HEARTH_DATA_DIR", t.TempDir())
	for value, want := range map[string]string{
		"127.0.0.1:12345":         "http://127.0.0.1:12345",
		"example.internal":        "http://example.internal:11434",
		"https://ollama.lan:8443": "https://ollama.lan:8443",
	} {
		t.Setenv("OLLAMA_HOST", value)
		cfg, err := parseConfig("hearth serve", nil, true)
		if err != nil {
			t.Fatalf("OLLAMA_HOST=%q: %v", value, err)
		}
		if cfg.ollamaURL != want {
			t.Errorf("OLLAMA_HOST=%q gives %q, want %q", value, cfg.ollamaURL, want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "LOCALHOST": true, "127.1.2.3": true,
		"0.0.0.0": false, "": false, "192.0.2.1": false, "localhost.example": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestServeRemoteAddrNeedsFlag(t *testing.T) {
	dataDir := t.TempDir()
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:8787", ":8787"} {
		err := runServe(config{dataDir: dataDir, addr: addr})
		if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
			t.Errorf("serve --addr %s without --allow-remote: got %v, want an error naming --allow-remote", addr, err)
		}
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("a refused serve wrote %d entries into the data directory", len(entries))
	}
}

// servedURL waits until the log of hearth serve in dataDir names the URL it
// serves on, and returns it.
func servedURL(t *testing.T, dataDir string, serveErr <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-serveErr:
			t.Fatalf("hearth serve stopped before serving: %v", err)
		default:
		}
		if f, err := os.Open(filepath.Join(dataDir, "logs", "hearth.log")); err == nil {
			scanner := bufio.NewScanner(f)
			for scanner.Scan() {
				var line struct {
					Msg string `json:"msg"`
					URL string `json:"url"`
				}
				if json.Unmarshal(scanner.Bytes(), &line) == nil && line.Msg == "serving" {
					f.Close()
					return line.URL
				}
			}
			f.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("hearth serve did not log its URL within 30s")
	return ""
}

func TestServeRecordsCleanClose(t *testing.T) {
	dataDir := t.TempDir()
	fake := ollamatest.NewServer(t)
	serveErr := make(chan error, 1)
	go func() {
		serveErr <- runServe(config{dataDir: dataDir, addr: "127.0.0.1:0", ollamaURL: fake.URL(), model: DefaultModel})
	}()

	// runServe watches for SIGTERM before it starts serving, so the signal
	// below reaches it rather than ending the test process.
	url := servedURL(t, dataDir, serveErr)
	resp, err := http.Get(url + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/health: status %d, want 200", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dataDir, app.ClosedFileName)); err == nil {
		t.Fatal("a clean close is recorded while hearth serve is running")
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-serveErr:
		if err != nil {
			t.Fatalf("hearth serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hearth serve did not stop within 30s of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dataDir, app.ClosedFileName)); err != nil {
		t.Errorf("no clean close recorded after SIGTERM: %v", err)
	}
}
