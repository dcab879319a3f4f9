package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"hearth/app/ollamatest"
	"hearth/memory"
)

// The benchmarks in this file measure what Hearth adds on the chat path,
// without the model's own latency. Their profile has chatBenchThreads ×
// chatBenchMessages stored messages, all embedded for recall with the
// built-in lexical embedder, a working memory document and a thread of
// chatBenchHistory messages. Building it takes minutes, so it is built once
// per process and shared by every benchmark and every -count.
const (
	chatBenchThreads  = 1000
	chatBenchMessages = 100 // per thread
	chatBenchHistory  = 40  // messages of the thread the benchmarks chat in

	// relayTokens is the length of the streams of BenchmarkRelayPerToken,
	// in one-word chunks.
	relayTokens = 2000
)

// BenchmarkFirstToken measures the time from a new user message to its
// first token. Agent is Agent.ReplyStream with an in-process model that
// returns a one-token reply at once. HTTP is POST /api/chat against the
// fake Ollama until the client reads the first text-delta, minus the fake
// Ollama's own first chunk for the same prompt, requested directly through
// an Ollama client. HTTPAfterIdle is HTTP after the data file's pages were
// given back, as they are when the app has been idle.
func BenchmarkFirstToken(b *testing.B) {
	fx := cachedChatFixture(b)

	b.Run("Agent", func(b *testing.B) {
		model := &instantModel{chunks: []string{"Hello"}}
		turn := fx.turn(b, model)
		var firstToken, modelCalled []time.Duration

		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			fx.appendUserMessage(b, i)
			b.StartTimer()

			start := time.Now()
			first := time.Duration(0)
			_, err := fx.app.agent.ReplyStream(context.Background(), fx.owner(), turn, ReplyRequest{ThreadID: fx.threadID, ReplyID: memory.NewID()}, ReplyEvents{
				OnDelta: func(string) {
					if first == 0 {
						first = time.Since(start)
						b.StopTimer()
					}
				},
			})
			if err != nil {
				b.Fatalf("reply: %v", err)
			}
			if first == 0 {
				b.Fatal("the reply had no text")
			}
			firstToken = append(firstToken, first)
			modelCalled = append(modelCalled, model.called.Sub(start))
			fx.resetThread(b)
			b.StartTimer()
		}
		b.StopTimer()
		reportPercentiles(b, "", firstToken, time.Millisecond, "ms")
		reportPercentiles(b, "model-called-", modelCalled, time.Millisecond, "ms")
	})

	b.Run("HTTP", func(b *testing.B) {
		firstTokenHTTP(b, fx, nil)
	})

	// AfterIdle gives back the data file's pages before each request, as
	// the app does after 5 s without requests, so the request maps again
	// what it reads.
	b.Run("HTTPAfterIdle", func(b *testing.B) {
		firstTokenHTTP(b, fx, func() { memory.ReleasePages(fx.app.db) })
	})
}

// firstTokenHTTP is BenchmarkFirstToken over HTTP. before, when set, runs
// before each request, outside the timer.
func firstTokenHTTP(b *testing.B, fx *chatFixture, before func()) {
	var hearth, reference, added []time.Duration

	b.ResetTimer()
	for i := range b.N {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		fx.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Hello"}})
		start := time.Now()
		first := time.Duration(0)
		deltas := fx.chat(b, chatQuestion(i), func() {
			first = time.Since(start)
			b.StopTimer()
		})
		if deltas != 1 {
			b.Fatalf("the stream had %d text deltas, want 1", deltas)
		}

		fx.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Hello"}})
		ref, _ := fx.askDirectly(b, fx.model.lastPrompt())

		hearth = append(hearth, first)
		reference = append(reference, ref)
		added = append(added, first-ref)
		fx.resetThread(b)
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, "", added, time.Millisecond, "ms")
	reportPercentiles(b, "hearth-", hearth, time.Millisecond, "ms")
	reportPercentiles(b, "reference-", reference, time.Millisecond, "ms")
}

// BenchmarkRelayPerToken measures the cost of passing one token of a
// stream on to the client. HTTP sends relayTokens one-word chunks from the
// fake Ollama, with no delay, through POST /api/chat and reads the stream
// to its end. From its time per token it subtracts that of a direct Ollama
// client reading the same stream. Agent streams the same number of
// chunks from an in-process model through Agent.ReplyStream and times the
// first to the last delta, which leaves out the prompt and the final save.
func BenchmarkRelayPerToken(b *testing.B) {
	fx := cachedChatFixture(b)
	chunks := relayChunks(relayTokens)

	b.Run("HTTP", func(b *testing.B) {
		var added, hearth, reference []float64

		b.ResetTimer()
		for i := range b.N {
			fx.fake.Enqueue(ollamatest.Reply{Chunks: chunks})
			start := time.Now()
			deltas := fx.chat(b, chatQuestion(i), nil)
			whole := time.Since(start)
			b.StopTimer()
			if deltas != relayTokens {
				b.Fatalf("the stream had %d text deltas, want %d", deltas, relayTokens)
			}

			fx.fake.Enqueue(ollamatest.Reply{Chunks: chunks})
			_, ref := fx.askDirectly(b, fx.model.lastPrompt())

			perToken := float64(whole.Nanoseconds()) / relayTokens
			refPerToken := float64(ref.Nanoseconds()) / relayTokens
			hearth = append(hearth, perToken)
			reference = append(reference, refPerToken)
			added = append(added, perToken-refPerToken)
			fx.resetThread(b)
			b.StartTimer()
		}
		b.StopTimer()
		reportFloatPercentiles(b, "", added, "ns/token")
		reportFloatPercentiles(b, "hearth-", hearth, "ns/token")
		reportFloatPercentiles(b, "reference-", reference, "ns/token")
	})

	b.Run("Agent", func(b *testing.B) {
		model := &instantModel{chunks: chunks}
		turn := fx.turn(b, model)
		var perToken []float64

		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			fx.appendUserMessage(b, i)
			b.StartTimer()

			var first, last time.Time
			deltas := 0
			_, err := fx.app.agent.ReplyStream(context.Background(), fx.owner(), turn, ReplyRequest{ThreadID: fx.threadID, ReplyID: memory.NewID()}, ReplyEvents{
				OnDelta: func(string) {
					last = time.Now()
					if deltas == 0 {
						first = last
					}
					deltas++
				},
			})
			b.StopTimer()
			if err != nil {
				b.Fatalf("reply: %v", err)
			}
			if deltas != relayTokens {
				b.Fatalf("the reply had %d text deltas, want %d", deltas, relayTokens)
			}
			perToken = append(perToken, float64(last.Sub(first).Nanoseconds())/(relayTokens-1))
			fx.resetThread(b)
			b.StartTimer()
		}
		b.StopTimer()
		reportFloatPercentiles(b, "", perToken, "ns/token")
	})
}

// BenchmarkStopLatency measures the time from sending POST
// /api/chat/{threadId}/stop until the model request's context is
// cancelled. The model is in-process: it streams one token, blocks until
// its context ends and records the time.
func BenchmarkStopLatency(b *testing.B) {
	fx := cachedChatFixture(b)
	model := &stopModel{cancelled: make(chan time.Time, 1)}
	restore := fx.model.swap(model)
	defer fx.model.swap(restore)
	var latency []time.Duration

	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		resp := fx.post(b, "/api/chat", map[string]string{"message": chatQuestion(i), "threadId": fx.threadID})
		stream := newChatStreamReader(resp.Body)
		if !stream.nextDelta() {
			b.Fatalf("the stream ended before its first token: %v", stream.err())
		}
		b.StartTimer()

		start := time.Now()
		stop := fx.post(b, "/api/chat/"+fx.threadID+"/stop", nil)
		cancelled := <-model.cancelled
		b.StopTimer()

		stop.Body.Close()
		if stop.StatusCode != http.StatusNoContent {
			b.Fatalf("stop: status %d, want 204", stop.StatusCode)
		}
		stream.skipToEnd()
		resp.Body.Close()
		if err := stream.err(); err != nil {
			b.Fatalf("read the stopped stream: %v", err)
		}
		latency = append(latency, cancelled.Sub(start))
		fx.resetThread(b)
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, "", latency, time.Millisecond, "ms")
}

// chatFixture is a running Hearth with the benchmark profile, served on
// loopback, with the fake Ollama as its model backend.
type chatFixture struct {
	app    *App
	server *httptest.Server
	client *http.Client
	fake   *ollamatest.Server
	// model is the app's backend: the fake Ollama, except while
	// BenchmarkStopLatency swaps in its own.
	model *swappableModel
	// direct is a second client of the fake Ollama, for the reference
	// figures.
	direct *Ollama

	token    string
	user     user
	threadID string
	// history is the ids of the thread's messages before any benchmark
	// ran; resetThread deletes every other message.
	history map[string]bool
}

// chatFixtureCache holds the fixture of this process. Benchmarks run one
// at a time, so it needs no lock.
var chatFixtureCache *chatFixture

func cachedChatFixture(b *testing.B) *chatFixture {
	b.Helper()
	if chatFixtureCache == nil {
		chatFixtureCache = newChatFixture(b)
	}
	return chatFixtureCache
}

// newChatFixture builds the benchmark profile. It registers no cleanup,
// because the fixture outlives the benchmark that builds it: its servers
// end with the process, and its files are removed at once (see below).
func newChatFixture(b *testing.B) *chatFixture {
	b.Helper()
	ctx := context.Background()
	buildStart := time.Now()

	fake := ollamatest.New()
	fakeServer := httptest.NewServer(fake.Handler())
	ollama, err := NewOllama(fakeServer.URL, testModel, nil)
	if err != nil {
		b.Fatal(err)
	}
	direct, err := NewOllama(fakeServer.URL, testModel, nil)
	if err != nil {
		b.Fatal(err)
	}
	model := &swappableModel{current: ollama}

	dir, err := os.MkdirTemp("", "hearth-chat-bench-")
	if err != nil {
		b.Fatal(err)
	}
	a, err := Open(Config{
		DataDir: dir, Model: model, Version: "bench", OllamaURL: fakeServer.URL, SkipTitles: true,
		// The benchmarks send hundreds of messages a minute from one
		// profile, which the default limit of 30 a minute rejects.
		Limits: Limits{ChatPerMinute: 1_000_000},
		UI:     fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>Hearth</title>")}},
		Logger: slog.New(slog.DiscardHandler),
		Recall: memory.RecallConfig{
			// Larger batches only speed up the first embedding of the
			// whole profile; each reply's messages are fewer.
			EmbedBatch: 256,
			// NOTE: a snapshot save of this index takes seconds of CPU
			// (see "Recall for a whole profile" in docs/BENCHMARKS.md).
			// It is put off past the run, so no reply here overlaps one.
			SnapshotDelay: 24 * time.Hour,
		},
	})
	if err != nil {
		b.Fatalf("open app: %v", err)
	}
	// Open has read everything it needs from dir, and the open data file
	// stays usable after its name is gone on Linux and macOS, so removing
	// dir now leaves nothing behind however the run ends.
	if err := os.RemoveAll(dir); err != nil {
		b.Logf("remove the fixture's directory %s by hand after the run: %v", dir, err)
	}

	fx := &chatFixture{
		app: a, server: httptest.NewServer(a.Handler()), fake: fake, model: model, direct: direct,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}},
	}
	fx.signUp(b)

	// Writing the profile is setup, not a figure, so it skips fsync.
	a.db.NoSync = true
	fx.threadID = fx.importProfile(b)
	if _, err := a.memory.ReplaceWorkingMemory(ctx, fx.owner(), memory.WorkingMemoryUpdate{Content: chatBenchWorkingMemory}); err != nil {
		b.Fatalf("write working memory: %v", err)
	}
	imported := time.Since(buildStart)

	embedStart := time.Now()
	if err := a.recall.Unlock(fx.owner()); err != nil {
		b.Fatal(err)
	}
	fx.waitRecall(b, 30*time.Minute)
	embedded := time.Since(embedStart)
	a.db.NoSync = false
	if st := a.recall.Status(fx.owner()); st.Vectors < chatBenchThreads*chatBenchMessages+chatBenchHistory {
		b.Fatalf("recall holds %d vectors, want every one of the %d messages", st.Vectors, chatBenchThreads*chatBenchMessages+chatBenchHistory)
	}

	history, err := a.memory.LastMessages(ctx, fx.owner(), fx.threadID, chatBenchHistory+1)
	if err != nil {
		b.Fatal(err)
	}
	if len(history) != chatBenchHistory {
		b.Fatalf("the chat thread has %d messages, want %d", len(history), chatBenchHistory)
	}
	fx.history = make(map[string]bool, len(history))
	for _, m := range history {
		fx.history[m.ID] = true
	}

	// One chat warms the connections and the context length that the
	// Ollama client keeps.
	fx.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Hello"}})
	fx.chat(b, chatQuestion(0), nil)
	fx.fake.Enqueue(ollamatest.Reply{Chunks: []string{"Hello"}})
	fx.askDirectly(b, fx.model.lastPrompt())
	fx.resetThread(b)

	b.Logf("chat fixture: %d messages imported in %.1f s, embedded in %.1f s (%.0f messages/s)",
		chatBenchThreads*chatBenchMessages+chatBenchHistory, imported.Seconds(), embedded.Seconds(),
		float64(chatBenchThreads*chatBenchMessages+chatBenchHistory)/embedded.Seconds())
	return fx
}

// signUp creates the benchmark profile, signs in and keeps its data key.
func (fx *chatFixture) signUp(b *testing.B) {
	b.Helper()
	const name, password = "Ada", "password-Ada"
	resp := fx.post(b, "/api/auth/profiles", map[string]string{"name": name, "password": password})
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("create profile: status %d", resp.StatusCode)
	}
	resp = fx.post(b, "/api/auth/login", map[string]string{"name": name, "password": password})
	defer resp.Body.Close()
	var login struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil || login.Token == "" {
		b.Fatalf("login: status %d, token %q, %v", resp.StatusCode, login.Token, err)
	}
	fx.token = login.Token

	sess, err := fx.app.profiles.Verify(context.Background(), fx.token)
	if err != nil {
		b.Fatal(err)
	}
	key, err := fx.app.profiles.DataKey(sess.Profile.ID)
	if err != nil {
		b.Fatal(err)
	}
	fx.user = user{Profile: sess.Profile, key: key}
}

func (fx *chatFixture) owner() memory.Owner {
	return fx.user.owner()
}

// importProfile writes the chat thread and the chatBenchThreads other
// threads through the store's import, which commits a whole thread in one
// transaction, and returns the chat thread's id.
func (fx *chatFixture) importProfile(b *testing.B) string {
	b.Helper()
	type exportedThread struct {
		Thread   memory.Thread    `json:"thread"`
		Messages []memory.Message `json:"messages"`
	}
	doc := struct {
		Format  string           `json:"format"`
		Version int              `json:"version"`
		Threads []exportedThread `json:"threads"`
	}{Format: memory.ProfileFormat, Version: memory.ExportVersion}

	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	thread := func(title string, n int) exportedThread {
		t := exportedThread{Thread: memory.Thread{Title: title, CreatedAt: start}}
		for i := range n {
			role := memory.RoleUser
			if i%2 == 1 {
				role = memory.RoleAssistant
			}
			t.Messages = append(t.Messages, memory.Message{Role: role, Content: benchSentence(rng), Status: memory.StatusComplete, CreatedAt: start})
			start = start.Add(time.Minute)
		}
		t.Thread.UpdatedAt = start
		return t
	}
	for i := range chatBenchThreads {
		doc.Threads = append(doc.Threads, thread(fmt.Sprintf("Thread %d", i), chatBenchMessages))
	}
	// The chat thread is the newest.
	doc.Threads = append(doc.Threads, thread("Planning the garden", chatBenchHistory))

	data, err := json.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	result, err := fx.app.memory.ImportProfile(context.Background(), fx.owner(), bytes.NewReader(data))
	if err != nil {
		b.Fatalf("import the profile: %v", err)
	}
	if result.Messages != chatBenchThreads*chatBenchMessages+chatBenchHistory || result.MessagesSkipped > 0 {
		b.Fatalf("imported %d messages and skipped %d, want %d and none: %+v",
			result.Messages, result.MessagesSkipped, chatBenchThreads*chatBenchMessages+chatBenchHistory, result.Problems)
	}
	return result.ThreadIDs[len(result.ThreadIDs)-1]
}

// turn returns the profile's turn for the chat thread, with model as its
// backend.
func (fx *chatFixture) turn(b *testing.B, model Model) Turn {
	b.Helper()
	thread, err := fx.app.memory.Thread(context.Background(), fx.owner(), fx.threadID)
	if err != nil {
		b.Fatal(err)
	}
	turn, err := fx.app.turnFor(context.Background(), fx.user, thread)
	if err != nil {
		b.Fatal(err)
	}
	turn.Model = model
	return turn
}

// appendUserMessage stores the next question in the chat thread, as
// handleChat does before it calls the agent.
func (fx *chatFixture) appendUserMessage(b *testing.B, i int) {
	b.Helper()
	m := memory.Message{ThreadID: fx.threadID, Role: memory.RoleUser, Content: chatQuestion(i)}
	if _, err := fx.app.memory.AppendMessage(context.Background(), fx.owner(), m); err != nil {
		b.Fatal(err)
	}
}

// resetThread deletes the messages a benchmark iteration added to the chat
// thread, so that every iteration starts from the same chatBenchHistory
// messages, and waits until recall is idle again.
func (fx *chatFixture) resetThread(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	newest, err := fx.app.memory.LastMessages(ctx, fx.owner(), fx.threadID, 10)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range newest {
		if fx.history[m.ID] {
			continue
		}
		if err := fx.app.memory.DeleteMessage(ctx, fx.owner(), fx.threadID, m.ID); err != nil {
			b.Fatal(err)
		}
	}
	fx.waitRecall(b, time.Minute)
}

func (fx *chatFixture) waitRecall(b *testing.B, timeout time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := fx.app.recall.Wait(ctx, fx.owner()); err != nil {
		b.Fatalf("wait for recall: %v (status %+v)", err, fx.app.recall.Status(fx.owner()))
	}
}

// post sends a POST request with a JSON body, signed in when the fixture
// has a token, and returns the response with its body unread.
func (fx *chatFixture) post(b *testing.B, path string, body any) *http.Response {
	b.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(http.MethodPost, fx.server.URL+path, r)
	if err != nil {
		b.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if fx.token != "" {
		req.Header.Set("Authorization", "Bearer "+fx.token)
	}
	resp, err := fx.client.Do(req)
	if err != nil {
		b.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// chat sends message to the chat thread through POST /api/chat, calls
// onFirstDelta, if set, as soon as the first text-delta is read, and reads
// the stream to its end. It returns the number of text deltas.
func (fx *chatFixture) chat(b *testing.B, message string, onFirstDelta func()) int {
	b.Helper()
	resp := fx.post(b, "/api/chat", map[string]string{"message": message, "threadId": fx.threadID})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		b.Fatalf("chat: status %d, body %s", resp.StatusCode, data)
	}
	stream := newChatStreamReader(resp.Body)
	deltas := 0
	for stream.nextDelta() {
		if deltas == 0 && onFirstDelta != nil {
			onFirstDelta()
		}
		deltas++
	}
	if err := stream.err(); err != nil {
		b.Fatalf("chat stream: %v", err)
	}
	return deltas
}

// askDirectly sends prompt to the fake Ollama through the second Ollama
// client and returns the times until its first chunk with text and until
// the end of the stream.
func (fx *chatFixture) askDirectly(b *testing.B, prompt ChatRequest) (first, whole time.Duration) {
	b.Helper()
	start := time.Now()
	err := fx.direct.Chat(context.Background(), prompt, func(c ChatChunk) error {
		if first == 0 && c.Content != "" {
			first = time.Since(start)
		}
		return nil
	})
	whole = time.Since(start)
	if err != nil {
		b.Fatalf("ask the fake Ollama directly: %v", err)
	}
	if first == 0 {
		b.Fatal("the fake Ollama sent no text")
	}
	return first, whole
}

// chatStreamReader reads a UI message stream one text-delta at a time,
// checking that it ends with [DONE] and carries no error part. It does not
// decode the parts, so that the client adds little to the figures.
type chatStreamReader struct {
	scanner *bufio.Scanner
	done    bool
	failure error
}

func newChatStreamReader(body io.Reader) *chatStreamReader {
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 4<<20)
	return &chatStreamReader{scanner: sc}
}

// nextDelta reads up to the next text-delta part and reports whether there
// was one.
func (r *chatStreamReader) nextDelta() bool {
	for r.failure == nil && r.scanner.Scan() {
		line := r.scanner.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte(`data: {"type":"text-delta"`)):
			return true
		case bytes.HasPrefix(line, []byte(`data: {"type":"error"`)):
			r.failure = fmt.Errorf("the stream has an error part: %s", line)
		case bytes.Equal(line, []byte("data: [DONE]")):
			r.done = true
		}
	}
	return false
}

// skipToEnd reads the rest of the stream.
func (r *chatStreamReader) skipToEnd() {
	for r.nextDelta() {
		continue
	}
}

// err returns why the stream was not read whole, or nil.
func (r *chatStreamReader) err() error {
	switch {
	case r.failure != nil:
		return r.failure
	case r.scanner.Err() != nil:
		return r.scanner.Err()
	case !r.done:
		return errors.New("the stream ended without [DONE]")
	}
	return nil
}

// swappableModel is the app's backend in the benchmarks: it passes every
// call to the current Model and records the last prompt, so that the
// reference figures can send the same one.
type swappableModel struct {
	mu      sync.Mutex
	current Model
	last    ChatRequest
}

// swap makes m the current Model and returns the one before.
func (s *swappableModel) swap(m Model) Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	previous := s.current
	s.current = m
	return previous
}

func (s *swappableModel) model() Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

func (s *swappableModel) lastPrompt() ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *swappableModel) Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error {
	s.mu.Lock()
	s.last = req
	current := s.current
	s.mu.Unlock()
	return current.Chat(ctx, req, fn)
}

func (s *swappableModel) Models(ctx context.Context) ([]ModelInfo, error) {
	return s.model().Models(ctx)
}

func (s *swappableModel) ContextLength(ctx context.Context, model string) (int, error) {
	return s.model().ContextLength(ctx, model)
}

func (s *swappableModel) Describe() BackendInfo {
	return s.model().Describe()
}

// instantModel is an in-process Model that streams its chunks as fast as
// the caller takes them. It reports the context length the fake Ollama
// reports, and records when Chat was last called.
type instantModel struct {
	chunks []string
	called time.Time
}

func (m *instantModel) Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error {
	m.called = time.Now()
	for _, c := range m.chunks {
		if err := fn(ChatChunk{Content: c}); err != nil {
			return err
		}
	}
	return fn(ChatChunk{Done: true, ReplyTokens: len(m.chunks)})
}

func (m *instantModel) Models(ctx context.Context) ([]ModelInfo, error) {
	return []ModelInfo{{Name: testModel, ContextLength: ollamatest.DefaultContextLength}}, nil
}

func (m *instantModel) ContextLength(ctx context.Context, model string) (int, error) {
	return ollamatest.DefaultContextLength, nil
}

func (m *instantModel) Describe() BackendInfo {
	return BackendInfo{Kind: BackendOllama, URL: "in-process", Model: testModel}
}

// stopModel is an in-process Model that streams one chunk, then blocks
// until its context ends and sends the time of that on cancelled.
type stopModel struct {
	instantModel
	cancelled chan time.Time
}

func (m *stopModel) Chat(ctx context.Context, req ChatRequest, fn func(ChatChunk) error) error {
	if err := fn(ChatChunk{Content: "Let me think"}); err != nil {
		return err
	}
	<-ctx.Done()
	m.cancelled <- time.Now()
	return ctx.Err()
}

// reportPercentiles reports the p50 and p99 of samples, in unit, as
// metrics named prefix+"p50-"+unitName and so on.
func reportPercentiles(b *testing.B, prefix string, samples []time.Duration, unit time.Duration, unitName string) {
	values := make([]float64, len(samples))
	for i, d := range samples {
		values[i] = float64(d) / float64(unit)
	}
	reportFloatPercentiles(b, prefix, values, unitName)
}

// reportFloatPercentiles reports the p50 and p99 of values by the
// nearest-rank method. With fewer than 100 values the p99 is the maximum.
func reportFloatPercentiles(b *testing.B, prefix string, values []float64, unit string) {
	if len(values) == 0 {
		return
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	// The rank of percentile p is ceil(p × n / 100), computed in integers
	// so that no rounding moves it.
	rank := func(p int) float64 {
		i := (p*len(sorted)+99)/100 - 1
		return sorted[max(i, 0)]
	}
	b.ReportMetric(rank(50), prefix+"p50-"+unit)
	b.ReportMetric(rank(99), prefix+"p99-"+unit)
}

// chatBenchWords are the words of the stored messages and the questions,
// so that recall finds matches for every question.
var chatBenchWords = strings.Fields(`rent landlord boiler garden tomato bike chain tax bakery train
	holiday doctor recipe school meeting invoice flight paint insurance birthday
	sister brother mother father friend neighbour colleague manager teacher dentist
	Monday Tuesday Wednesday Thursday Friday Saturday Sunday morning evening night
	kitchen window roof garage balcony cellar stairs heating shower fridge
	coffee bread cheese apples soup pasta salad cake wine tea
	budget salary loan savings receipt contract deadline report project presentation
	running swimming hiking climbing cycling yoga football chess guitar piano
	Berlin Lisbon Vienna Oslo Kyoto Lima Cairo Dublin Quebec Hanoi
	broken late cheap expensive quiet noisy sunny rainy early weekly`)

// benchSentence returns a sentence of 12 to 24 words drawn from
// chatBenchWords, about the length of a short chat turn.
func benchSentence(rng *rand.Rand) string {
	n := 12 + rng.IntN(13)
	words := make([]string, n)
	for i := range words {
		words[i] = chatBenchWords[rng.IntN(len(chatBenchWords))]
	}
	return "I wrote about the " + strings.Join(words, " ") + "."
}

// chatQuestions are the user messages of the benchmarks, in turn.
var chatQuestions = []string{
	"What did I tell you about the landlord and the rent last winter?",
	"Which recipe with tomato and cheese did I like for the birthday?",
	"When is the flight to Lisbon, and did I pay the invoice?",
	"Remind me what the doctor said about running and swimming.",
	"What was the deadline for the project report at school?",
	"Did my sister fix the boiler in the kitchen or the heating?",
	"How much of my salary went to savings and the loan?",
	"What did the neighbour say about the noisy balcony on Sunday night?",
}

func chatQuestion(i int) string {
	return chatQuestions[i%len(chatQuestions)]
}

// relayChunks returns n one-word chunks.
func relayChunks(n int) []string {
	chunks := make([]string, n)
	for i := range chunks {
		chunks[i] = chatBenchWords[i%len(chatBenchWords)] + " "
	}
	return chunks
}

// chatBenchWorkingMemory is the profile's working memory document.
const chatBenchWorkingMemory = `# About the user

- **Name**: Ada
- **Preferences**: short answers, metric units, recipes without meat
- **Ongoing projects**: planting tomatoes on the balcony; a quarterly tax report due in March
- **Important facts**: lives in Vienna with her sister; allergic to nuts; works as a teacher
`
