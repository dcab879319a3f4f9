//go:build load

package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ollama/ollama/api"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// The load test runs Hearth as `hearth serve` does and has loadProfiles ×
// loadClientsPerProfile clients chat back to back, each in its own thread,
// against the fake Ollama. Run it with
//
//	go test -tags load -run TestLoad -count=1 -timeout 10m ./app
//
// HEARTH_LOAD_DURATION sets how long the clients chat, as a Go duration
// such as 30s (default 60s). HEARTH_LOAD_REPORT names a file to write the
// figures to as JSON.
const (
	loadProfiles          = 4
	loadClientsPerProfile = 5
	defaultLoadDuration   = 60 * time.Second

	// loadChunkDelay is the fake model's pause before each line of its
	// reply, the first chunk included.
	loadChunkDelay = 10 * time.Millisecond

	// loadChatTimeout bounds one chat, so that a stuck stream fails the
	// test with its client's name instead of hitting the test timeout.
	loadChatTimeout = 30 * time.Second

	// loadReferenceHeader marks the requests the test sends to the fake
	// directly, to measure the fake's own first chunk.
	loadReferenceHeader = "X-Load-Reference"
)

// loadReplyChunks is the fake model's reply to every chat of the load test.
var loadReplyChunks = []string{"Noted. ", "The ", "boiler ", "was ", "fixed ", "on ", "Monday ", "morning."}

// loadReport is what HEARTH_LOAD_REPORT receives. Times are in
// milliseconds.
type loadReport struct {
	DurationSeconds  float64 `json:"durationSeconds"`
	Profiles         int     `json:"profiles"`
	Clients          int     `json:"clients"`
	ChunkDelayMS     int     `json:"chunkDelayMs"`
	ReplyChunks      int     `json:"replyChunks"`
	ChatsCompleted   int     `json:"chatsCompleted"`
	ChatsPerSecond   float64 `json:"chatsPerSecond"`
	AddedFirstP50MS  float64 `json:"addedFirstTokenP50Ms"`
	AddedFirstP99MS  float64 `json:"addedFirstTokenP99Ms"`
	HearthFirstP50MS float64 `json:"hearthFirstTokenP50Ms"`
	HearthFirstP99MS float64 `json:"hearthFirstTokenP99Ms"`
	FakeFirstP50MS   float64 `json:"fakeFirstChunkP50Ms"`
	FakeFirstP99MS   float64 `json:"fakeFirstChunkP99Ms"`
	FakeSamples      int     `json:"fakeFirstChunkSamples"`
	PairedAddedP50MS float64 `json:"pairedAddedFirstTokenP50Ms"`
	PairedAddedP99MS float64 `json:"pairedAddedFirstTokenP99Ms"`
	FakeConnections  int64   `json:"fakeConnections"`
	LogWarnings      int     `json:"logWarnings"`
	LogErrors        int     `json:"logErrors"`
	// Windows splits the run into loadWindow periods, by when each chat
	// ended, to show whether the figures drift as the data file grows.
	Windows []loadWindowReport `json:"windows"`
}

// loadWindow is the length of the periods of loadReport.Windows.
const loadWindow = 10 * time.Second

type loadWindowReport struct {
	FromSecond       int     `json:"fromSecond"`
	ToSecond         int     `json:"toSecond"`
	Chats            int     `json:"chats"`
	PairedAddedP50MS float64 `json:"pairedAddedFirstTokenP50Ms"`
	PairedAddedP99MS float64 `json:"pairedAddedFirstTokenP99Ms"`
}

// loadWindows groups the clients' chats into loadWindow periods from start.
func loadWindows(clients []*loadClient, start time.Time, elapsed time.Duration) []loadWindowReport {
	n := int((elapsed + loadWindow - 1) / loadWindow)
	added := make([][]time.Duration, n)
	for _, c := range clients {
		for i, at := range c.finishedAt {
			w := min(int(at.Sub(start)/loadWindow), n-1)
			added[w] = append(added[w], c.added[i])
		}
	}
	windows := make([]loadWindowReport, n)
	for w := range windows {
		windows[w] = loadWindowReport{
			FromSecond:       int(time.Duration(w) * loadWindow / time.Second),
			ToSecond:         int(time.Duration(w+1) * loadWindow / time.Second),
			Chats:            len(added[w]),
			PairedAddedP50MS: percentileMS(added[w], 50),
			PairedAddedP99MS: percentileMS(added[w], 99),
		}
	}
	return windows
}

// TestLoad has 20 clients in 4 profiles chat at once for
// HEARTH_LOAD_DURATION. It requires every chat to finish complete and be
// stored, and reports the time Hearth adds before the first token and the
// chats per second.
func TestLoad(t *testing.T) {
	duration := loadDuration(t)
	backend := newLoadBackend(t)
	logs := &loadLog{}
	env := startLoadHearth(t, backend.url, logs)

	clients := loadClients(env)
	httpClient := &http.Client{
		Timeout: loadChatTimeout,
		// Proxy is nil, so every request goes straight to loopback. Each
		// client keeps its connection between chats, as a browser does.
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2 * len(clients)},
	}

	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.run(httpClient, env.server.URL, backend, deadline) })
	}
	var reference []time.Duration
	var referenceErr error
	wg.Go(func() { reference, referenceErr = backend.measureFirstChunks(httpClient, deadline) })
	wg.Wait()
	elapsed := time.Since(start)

	var firstTokens, paired []time.Duration
	chats := 0
	for _, c := range clients {
		chats += len(c.sent)
		firstTokens = append(firstTokens, c.firstTokens...)
		paired = append(paired, c.added...)
		if c.failure != nil {
			t.Errorf("%s: chat %d failed after %d complete: %v", c.name, len(c.sent)+1, len(c.sent), c.failure)
		}
	}
	if referenceErr != nil {
		t.Errorf("direct request to the fake Ollama: %v", referenceErr)
	}
	if chats == 0 || len(reference) == 0 {
		t.Fatalf("%d chats and %d direct requests to the fake Ollama completed; nothing to report", chats, len(reference))
	}
	if got := backend.replyRequests.Load(); got != int64(chats) {
		t.Errorf("Hearth sent %d reply requests to the model for %d chats, want one each", got, chats)
	}

	for _, c := range clients {
		if c.failure == nil {
			wantAllStored(t, env, c)
		}
	}

	report := loadReport{
		DurationSeconds: elapsed.Seconds(),
		Profiles:        loadProfiles,
		Clients:         len(clients),
		ChunkDelayMS:    int(loadChunkDelay / time.Millisecond),
		ReplyChunks:     len(loadReplyChunks),
		ChatsCompleted:  chats,
		ChatsPerSecond:  float64(chats) / elapsed.Seconds(),
		FakeSamples:     len(reference),
	}
	report.HearthFirstP50MS, report.HearthFirstP99MS = percentileMS(firstTokens, 50), percentileMS(firstTokens, 99)
	report.FakeFirstP50MS, report.FakeFirstP99MS = percentileMS(reference, 50), percentileMS(reference, 99)
	// The direct requests run beside the chats, not paired with them, so
	// this added time is the difference of the percentiles.
	report.AddedFirstP50MS = report.HearthFirstP50MS - report.FakeFirstP50MS
	report.AddedFirstP99MS = report.HearthFirstP99MS - report.FakeFirstP99MS
	report.PairedAddedP50MS, report.PairedAddedP99MS = percentileMS(paired, 50), percentileMS(paired, 99)
	report.FakeConnections = backend.connections.Load()
	report.LogWarnings, report.LogErrors = logs.counts()

	t.Logf("%d chats in %.1f s by %d clients: %.1f chats/s", chats, elapsed.Seconds(), len(clients), report.ChatsPerSecond)
	t.Logf("first token through Hearth: p50 %.2f ms, p99 %.2f ms", report.HearthFirstP50MS, report.HearthFirstP99MS)
	t.Logf("first chunk straight from the fake Ollama (%d requests): p50 %.2f ms, p99 %.2f ms", len(reference), report.FakeFirstP50MS, report.FakeFirstP99MS)
	t.Logf("added by Hearth before the first token: p50 %.2f ms, p99 %.2f ms", report.AddedFirstP50MS, report.AddedFirstP99MS)
	t.Logf("added by Hearth per chat, less the fake's own time to the first line of that chat's request: p50 %.2f ms, p99 %.2f ms", report.PairedAddedP50MS, report.PairedAddedP99MS)
	t.Logf("the fake Ollama accepted %d connections for %d reply requests", report.FakeConnections, chats)
	report.Windows = loadWindows(clients, start, elapsed)
	for _, w := range report.Windows {
		t.Logf("from %3d s to %3d s: %5d chats, added per chat p50 %.2f ms, p99 %.2f ms", w.FromSecond, w.ToSecond, w.Chats, w.PairedAddedP50MS, w.PairedAddedP99MS)
	}
	logs.report(t)

	if path := os.Getenv("HEARTH_LOAD_REPORT"); path != "" {
		data, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			t.Errorf("write HEARTH_LOAD_REPORT: %v", err)
		}
	}
}

// loadDuration returns HEARTH_LOAD_DURATION, or defaultLoadDuration when
// it is unset.
func loadDuration(t *testing.T) time.Duration {
	t.Helper()
	raw := os.Getenv("HEARTH_LOAD_DURATION")
	if raw == "" {
		return defaultLoadDuration
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		t.Fatalf("invalid HEARTH_LOAD_DURATION %q: use a positive Go duration such as 60s or 2m", raw)
	}
	return d
}

// startLoadHearth opens Hearth on a fresh data directory with the fake
// Ollama at ollamaURL as its model, with the Config of `hearth serve` in
// the browser, and serves it as runServe in serve.go does.
func startLoadHearth(t *testing.T, ollamaURL string, logs *loadLog) *testEnv {
	t.Helper()
	model, err := NewOllama(ollamaURL, testModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	a, err := Open(Config{
		DataDir:   dataDir,
		Model:     model,
		UI:        fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Hearth</title>")}},
		Version:   "load",
		Logger:    slog.New(slog.NewJSONHandler(logs, nil)),
		OllamaURL: ollamaURL,
		// The defaults, 30 chats a minute and 2 replies at once per
		// profile, reject this load by design. Each client waits for its
		// reply before it sends again, so loadClientsPerProfile replies at
		// once is enough.
		Limits: Limits{ChatPerMinute: 1_000_000, ConcurrentReplies: loadClientsPerProfile},
	})
	if err != nil {
		t.Fatalf("open app: %v", err)
	}

	// The server is the one hearth serve runs.
	server := httptest.NewUnstartedServer(nil)
	server.Config = NewServer(a.Handler(), server.Listener.Addr().String(), false)
	server.Start()

	env := &testEnv{t: t, dataDir: dataDir, app: a, server: server}
	t.Cleanup(env.stop)
	return env
}

// loadBackend is the fake Ollama of the load test. It scripts every chat
// request to get loadReplyChunks with loadChunkDelay before each line.
type loadBackend struct {
	fake *ollamatest.Server
	url  string

	// lastPrompt is the body of the latest reply request Hearth sent, which
	// the direct requests send again.
	lastPrompt atomic.Pointer[[]byte]
	// replyRequests counts the reply requests from Hearth, leaving out
	// title requests and the test's direct requests.
	replyRequests atomic.Int64
	// connections counts the TCP connections the fake accepted.
	connections atomic.Int64
	// firstLines maps the last user message of each reply request to the
	// time from the request's arrival to the fake's first line.
	firstLines sync.Map
}

func newLoadBackend(t *testing.T) *loadBackend {
	t.Helper()
	b := &loadBackend{fake: ollamatest.New()}
	server := httptest.NewUnstartedServer(http.HandlerFunc(b.serveHTTP))
	server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			b.connections.Add(1)
		}
	}
	server.Start()
	t.Cleanup(func() {
		b.fake.Release()
		server.Close()
	})
	b.url = server.URL
	return b
}

// serveHTTP queues one scripted reply for each chat request, then passes
// the request to the fake. All replies are the same, so it does not matter which
// request takes which, and each request finds one queued, since it queued
// one before it takes one.
func (b *loadBackend) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/chat" {
		b.fake.Handler().ServeHTTP(w, r)
		return
	}
	arrival := time.Now()
	b.fake.Enqueue(ollamatest.Reply{Chunks: loadReplyChunks, DelayMS: int(loadChunkDelay / time.Millisecond)})
	if r.Header.Get(loadReferenceHeader) != "" {
		b.fake.Handler().ServeHTTP(w, r)
		return
	}

	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if bytes.Contains(body, []byte(titleInstruction)) {
		b.fake.Handler().ServeHTTP(w, r)
		return
	}
	b.lastPrompt.Store(&body)
	b.replyRequests.Add(1)
	var prompt api.ChatRequest
	if err := json.Unmarshal(body, &prompt); err != nil || len(prompt.Messages) == 0 {
		http.Error(w, fmt.Sprintf("decode chat request: %v", err), http.StatusBadRequest)
		return
	}
	last := prompt.Messages[len(prompt.Messages)-1].Content
	b.fake.Handler().ServeHTTP(&firstWriteRecorder{ResponseWriter: w, onFirst: func() {
		b.firstLines.Store(last, time.Since(arrival))
	}}, r)
}

// fakeFirstLine returns the time the fake took to its first line for the
// reply request whose last message was message, and deletes the entry.
func (b *loadBackend) fakeFirstLine(message string) (time.Duration, bool) {
	d, ok := b.firstLines.LoadAndDelete(message)
	if !ok {
		return 0, false
	}
	return d.(time.Duration), true
}

// firstWriteRecorder calls onFirst at the first write of a response body.
type firstWriteRecorder struct {
	http.ResponseWriter
	onFirst func()
}

func (w *firstWriteRecorder) Write(p []byte) (int, error) {
	if w.onFirst != nil {
		w.onFirst()
		w.onFirst = nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the Flush of the writer below.
func (w *firstWriteRecorder) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// measureFirstChunks sends Hearth's latest prompt to the fake directly,
// back to back until deadline, and returns the time from each request to
// its first line, the fake's own time to the first chunk.
func (b *loadBackend) measureFirstChunks(client *http.Client, deadline time.Time) ([]time.Duration, error) {
	var samples []time.Duration
	for time.Now().Before(deadline) {
		prompt := b.lastPrompt.Load()
		if prompt == nil {
			time.Sleep(loadChunkDelay)
			continue
		}
		first, err := b.firstChunk(client, *prompt)
		if err != nil {
			return samples, err
		}
		samples = append(samples, first)
	}
	return samples, nil
}

func (b *loadBackend) firstChunk(client *http.Client, prompt []byte) (time.Duration, error) {
	req, err := http.NewRequest(http.MethodPost, b.url+"/api/chat", bytes.NewReader(prompt))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(loadReferenceHeader, "1")

	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("status %d, body %s", resp.StatusCode, data)
	}
	line, err := bufio.NewReader(resp.Body).ReadBytes('\n')
	first := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("read the first line: %w", err)
	}
	if !bytes.Contains(line, []byte(loadReplyChunks[0])) {
		return 0, fmt.Errorf("first line %s lacks the first chunk %q", line, loadReplyChunks[0])
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("read the rest of the reply: %w", err)
	}
	return first, nil
}

// loadClient is one client of the load test, chatting in its own thread.
type loadClient struct {
	name     string
	index    int
	token    string
	threadID string

	// Written by run and read after it returns.
	sent        []string // messages whose chats completed, in order
	firstTokens []time.Duration
	// added holds, per chat, the first token's time less the fake's time
	// to the first line of the reply request for that chat.
	added []time.Duration
	// finishedAt holds, per chat, when its stream ended.
	finishedAt []time.Time
	failure    error // why the chat after sent failed, which ended the run
}

// loadClients signs up the profiles and creates one thread per client.
func loadClients(env *testEnv) []*loadClient {
	var clients []*loadClient
	admin := ""
	for p := range loadProfiles {
		token := env.signUp(admin, fmt.Sprintf("load-%d", p))
		if p == 0 {
			admin = token
		}
		for c := range loadClientsPerProfile {
			clients = append(clients, &loadClient{
				name:     fmt.Sprintf("profile %d client %d", p, c),
				index:    len(clients),
				token:    token,
				threadID: env.createThread(token).ID,
			})
		}
	}
	return clients
}

// run sends chats back to back until deadline, or until one fails.
func (c *loadClient) run(client *http.Client, baseURL string, backend *loadBackend, deadline time.Time) {
	for i := 0; time.Now().Before(deadline); i++ {
		message := fmt.Sprintf("%s (client %d, message %d)", chatQuestion(i), c.index, i)
		first, err := c.chat(client, baseURL, message)
		if err != nil {
			c.failure = err
			return
		}
		fakeFirst, ok := backend.fakeFirstLine(message)
		if !ok {
			c.failure = fmt.Errorf("the fake Ollama got no reply request ending with %q", message)
			return
		}
		c.sent = append(c.sent, message)
		c.firstTokens = append(c.firstTokens, first)
		c.added = append(c.added, first-fakeFirst)
		c.finishedAt = append(c.finishedAt, time.Now())
	}
}

// chat sends one message, reads the reply stream to its end and returns
// the time from the request to the first text-delta. It returns an error
// unless the stream carries the whole reply, no error part, and a finish
// part with status complete, and ends with [DONE].
func (c *loadClient) chat(client *http.Client, baseURL, message string) (time.Duration, error) {
	body, err := json.Marshal(map[string]string{"threadId": c.threadID, "message": message})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, baseURL+"/api/chat", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)

	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("status %d, body %s", resp.StatusCode, data)
	}

	var (
		first    time.Duration
		text     strings.Builder
		finished bool
		done     bool
	)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			return 0, fmt.Errorf("stream line %q does not start with \"data: \"", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var p streamPart
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return 0, fmt.Errorf("stream part %q: %w", data, err)
		}
		switch p.Type {
		case "text-delta":
			if first == 0 {
				first = time.Since(start)
			}
			text.WriteString(p.Delta)
		case "error":
			return 0, fmt.Errorf("stream has an error part: %s", p.ErrorText)
		case "finish":
			metadata, _ := p.MessageMetadata.(map[string]any)
			if status := metadata["status"]; status != string(memory.StatusComplete) {
				return 0, fmt.Errorf("finish part has status %v, want complete (metadata %v)", status, metadata)
			}
			finished = true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read stream: %w", err)
	}
	switch {
	case !finished:
		return 0, errors.New("stream has no finish part")
	case !done:
		return 0, errors.New("stream ended without [DONE]")
	case text.String() != strings.Join(loadReplyChunks, ""):
		return 0, fmt.Errorf("streamed text %q, want %q", text.String(), strings.Join(loadReplyChunks, ""))
	}
	return first, nil
}

// wantAllStored checks through the API that c's thread contains each
// message c sent, in order, each followed by its complete reply, and
// nothing else.
func wantAllStored(t *testing.T, env *testEnv, c *loadClient) {
	t.Helper()
	want := 2 * len(c.sent)
	if got := env.getThread(c.token, c.threadID).Thread.MessageCount; got != want {
		t.Errorf("%s: thread counts %d messages, want %d for %d chats", c.name, got, want, len(c.sent))
	}

	msgs := listAllMessages(t, env, c.token, c.threadID)
	if len(msgs) != want {
		t.Errorf("%s: thread lists %d messages, want %d for %d chats", c.name, len(msgs), want, len(c.sent))
		return
	}
	reply := strings.Join(loadReplyChunks, "")
	for i, message := range c.sent {
		user, assistant := msgs[2*i], msgs[2*i+1]
		if user.Role != memory.RoleUser || user.Content != message {
			t.Errorf("%s: message %d is %s %q, want the user's %q", c.name, 2*i, user.Role, user.Content, message)
			return
		}
		if assistant.Role != memory.RoleAssistant || assistant.Content != reply || assistant.Status != memory.StatusComplete || assistant.Streaming || assistant.Error != "" {
			t.Errorf("%s: reply %d is %s %q (status %s, streaming %v, error %q), want the complete reply %q",
				c.name, 2*i+1, assistant.Role, assistant.Content, assistant.Status, assistant.Streaming, assistant.Error, reply)
			return
		}
	}
}

// listAllMessages reads every message of a thread, oldest first, through
// GET /api/threads/{threadId}/messages, following its Link headers.
func listAllMessages(t *testing.T, env *testEnv, token, threadID string) []memory.Message {
	t.Helper()
	var all []memory.Message
	path := "/api/threads/" + threadID + "/messages?limit=" + fmt.Sprint(memory.MaxLastMessages-1)
	for path != "" {
		var page struct {
			Messages []memory.Message `json:"messages"`
		}
		resp, data := env.do("GET", path, token, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, body %s", path, resp.StatusCode, data)
		}
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatalf("GET %s: decode %s: %v", path, data, err)
		}
		all = append(page.Messages, all...)
		path = nextLink(t, resp)
	}
	return all
}

// percentileMS returns the p-th percentile of samples in milliseconds, by
// the nearest-rank method, as the chat benchmarks compute it.
func percentileMS(samples []time.Duration, p int) float64 {
	if len(samples) == 0 {
		return 0
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	i := (p*len(sorted)+99)/100 - 1
	return float64(sorted[max(i, 0)]) / float64(time.Millisecond)
}

// loadLog receives the app's log as JSON lines at Info level, the format
// and level of the log file of `hearth serve`, so that the run pays for
// formatting a line per request. It keeps the warnings and errors.
type loadLog struct {
	mu       sync.Mutex
	lines    int
	warnings []string
	errors   []string
}

func (l *loadLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines++
	switch {
	case bytes.Contains(p, []byte(`"level":"ERROR"`)):
		l.errors = append(l.errors, string(bytes.TrimSpace(p)))
	case bytes.Contains(p, []byte(`"level":"WARN"`)):
		l.warnings = append(l.warnings, string(bytes.TrimSpace(p)))
	}
	return len(p), nil
}

func (l *loadLog) counts() (warnings, errors int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.warnings), len(l.errors)
}

// report logs the first warnings and fails the test on the first errors,
// since no chat of the load test should make Hearth log an error.
func (l *loadLog) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	const shown = 10
	t.Logf("the app logged %d lines, %d warnings and %d errors", l.lines, len(l.warnings), len(l.errors))
	for _, w := range l.warnings[:min(shown, len(l.warnings))] {
		t.Logf("app warning: %s", w)
	}
	for _, e := range l.errors[:min(shown, len(l.errors))] {
		t.Errorf("app error: %s", e)
	}
}
