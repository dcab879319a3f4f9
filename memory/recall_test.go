package memory

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"hearth/memory/embed"
	"hearth/memory/vector"
)

// testSpec describes a lexical embedder of the given dimension, optionally
// wrapped by a test embedder named in Wrap.
type testSpec struct {
	Dim  int    `json:"dim"`
	Wrap string `json:"wrap,omitempty"`
}

func specOf(dim int, wrap string) json.RawMessage {
	b, _ := json.Marshal(testSpec{Dim: dim, Wrap: wrap})
	return b
}

// controlled wraps an embedder so that a test can make it fail or hold it.
type controlled struct {
	Embedder
	fail    atomic.Int32  // calls that fail before one succeeds
	calls   atomic.Int32  // calls made
	gate    chan struct{} // when set, each call waits for a receive
	entered chan struct{}
	// blockIf, when set, limits the gate to calls whose first text
	// contains it.
	blockIf string
}

func (c *controlled) Embed(ctx context.Context, texts []string) ([]embed.Vector, error) {
	c.calls.Add(1)
	if c.gate != nil && (c.blockIf == "" || strings.Contains(texts[0], c.blockIf)) {
		select {
		case c.entered <- struct{}{}:
		default:
		}
		select {
		case <-c.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.fail.Load() > 0 {
		c.fail.Add(-1)
		return nil, errors.New("embedding server unavailable")
	}
	return c.Embedder.Embed(ctx, texts)
}

// recallFixture is a store with recall, and the test embedders it built.
type recallFixture struct {
	store  *Store
	db     *bbolt.DB
	path   string
	recall *Recall
	logs   *syncBuffer
	mu     sync.Mutex
	wraps  map[string]*controlled
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newRecallFixture opens a store at path (a new file when empty) with recall
// whose default embedder is lexical of dimension 384.
func newRecallFixture(tb testing.TB, path string, cfg RecallConfig) *recallFixture {
	tb.Helper()
	if path == "" {
		path = tb.TempDir() + "/hearth.db"
	}
	s, db := openStore(tb, path)
	f := &recallFixture{store: s, db: db, path: path, logs: new(syncBuffer), wraps: make(map[string]*controlled)}
	cfg.Embedders = f.build
	if cfg.DefaultEmbedder == nil {
		cfg.DefaultEmbedder = specOf(384, "")
	}
	cfg.Logger = slog.New(slog.NewTextHandler(f.logs, nil))
	if cfg.RetryFirst == 0 {
		cfg.RetryFirst = 10 * time.Millisecond
	}
	r, err := NewRecall(s, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	f.recall = r
	tb.Cleanup(r.Close)
	return f
}

func (f *recallFixture) build(spec json.RawMessage) (Embedder, error) {
	var ts testSpec
	if err := json.Unmarshal(spec, &ts); err != nil {
		return nil, err
	}
	lex, err := embed.NewLexical(ts.Dim)
	if err != nil {
		return nil, err
	}
	if ts.Wrap == "" {
		return lex, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.wraps[ts.Wrap]
	if !ok {
		c = &controlled{}
		f.wraps[ts.Wrap] = c
	}
	if c.Embedder == nil {
		c.Embedder = lex
	}
	return c, nil
}

// gated registers a test embedder whose calls wait until the returned
// channel is closed, and signal entered as they start.
func (f *recallFixture) gated(name string) (release chan struct{}, entered chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &controlled{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	f.wraps[name] = c
	return c.gate, c.entered
}

func (f *recallFixture) unlock(tb testing.TB, o Owner) {
	tb.Helper()
	if err := f.recall.Unlock(o); err != nil {
		tb.Fatal(err)
	}
}

func (f *recallFixture) wait(tb testing.TB, o Owner) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.recall.Wait(ctx, o); err != nil {
		tb.Fatalf("wait for recall of %s: %v (status %+v)", o.ResourceID, err, f.recall.Status(o))
	}
}

func (f *recallFixture) search(tb testing.TB, o Owner, q RecallQuery) []Recalled {
	tb.Helper()
	got, err := f.recall.Search(context.Background(), o, q)
	if err != nil {
		tb.Fatalf("Search(%q) error: %v", q.Text, err)
	}
	return got
}

// say appends a user message and its reply to a thread and queues them
// for embedding.
func (f *recallFixture) say(tb testing.TB, o Owner, threadID string, texts ...string) []Message {
	tb.Helper()
	var out []Message
	for i, text := range texts {
		role := RoleUser
		if i%2 == 1 {
			role = RoleAssistant
		}
		out = append(out, mustAppend(tb, f.store, o, Message{ThreadID: threadID, Role: role, Content: text}))
	}
	f.recall.Enqueue(o, threadID)
	return out
}

func matches(got []Recalled) []string {
	var out []string
	for _, r := range got {
		if r.Match {
			out = append(out, r.Message.Content)
		}
	}
	return out
}

func TestRecallFindsEarlierMessages(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	stepClock(f.store)
	o := newOwner(resourceA)
	f.unlock(t, o)

	march := mustCreateThread(t, f.store, o, "Flat in March")
	f.say(t, o, march.ID,
		"My landlord raised the rent by 200 euros in March.",
		"That is a large increase; check your lease for the notice period.",
		"The boiler in the kitchen also broke again.",
		"Ask the landlord to repair the boiler in writing.")
	cooking := mustCreateThread(t, f.store, o, "Cooking")
	f.say(t, o, cooking.ID,
		"How long do I boil an egg for a soft yolk?",
		"About six minutes in boiling water.")
	current := mustCreateThread(t, f.store, o, "Today")
	now := f.say(t, o, current.ID, "What did I tell you about my landlord and the rent?")
	f.wait(t, o)

	got := f.search(t, o, RecallQuery{Text: now[0].Content, ThreadID: current.ID, Exclude: []string{now[0].ID}})

	if len(got) == 0 || !strings.Contains(matches(got)[0]+strings.Join(matches(got), " "), "landlord") {
		t.Fatalf("Search found %q, want the landlord messages first", matches(got))
	}
	for i, r := range got {
		if r.Message.ID == now[0].ID {
			t.Errorf("result %d is the excluded query message", i)
		}
		if i > 0 && r.Date.Before(got[i-1].Date) {
			t.Errorf("results are not in chronological order at %d: %v before %v", i, got[i-1].Date, r.Date)
		}
		if r.ThreadTitle == "" || r.ThreadID == "" || r.Date.IsZero() {
			t.Errorf("result %d lacks its thread title, thread id or date: %+v", i, r)
		}
		if r.Similarity <= 0 || r.Similarity > 1.0001 {
			t.Errorf("result %d has similarity %v, want in (0, 1]", i, r.Similarity)
		}
	}
	if got[0].ThreadTitle != "Flat in March" {
		t.Errorf("first result is from thread %q, want %q", got[0].ThreadTitle, "Flat in March")
	}
	if n := len(matches(got)); n != DefaultTopK {
		t.Errorf("Search returned %d matches, want topK %d", n, DefaultTopK)
	}
}

func TestRecallMessageRangeAndExclude(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	stepClock(f.store)
	o := newOwner(resourceA)
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Garden")
	msgs := f.say(t, o, th.ID,
		"I planted tomatoes along the south fence.",
		"Tomatoes need a lot of sun, so the south side is good.",
		"The neighbour's cat keeps digging in the vegetable bed.",
		"Try a layer of chicken wire under the soil.",
		"Which fertiliser suits tomatoes?",
		"A potassium-rich one once they flower.")
	f.wait(t, o)

	got := f.search(t, o, RecallQuery{Text: "cat digging vegetable bed", TopK: 1, MessageRange: 1})
	want := []string{msgs[1].ID, msgs[2].ID, msgs[3].ID}
	if ids := recalledIDs(got); !slices.Equal(ids, want) {
		t.Fatalf("TopK 1 with messageRange 1 returned %v, want the match with one message on each side %v", ids, want)
	}
	if !got[1].Match || got[0].Match || got[2].Match {
		t.Errorf("Match flags are %v %v %v, want only the middle one", got[0].Match, got[1].Match, got[2].Match)
	}

	// Two neighbouring matches: each keeps its own similarity, not the
	// higher one it has as the other's context.
	alone := f.search(t, o, RecallQuery{Text: "tomatoes south", TopK: 2, MessageRange: -1})
	together := f.search(t, o, RecallQuery{Text: "tomatoes south", TopK: 2, MessageRange: 1})
	for _, a := range alone {
		for _, b := range together {
			if a.Message.ID == b.Message.ID && (a.Similarity != b.Similarity || !b.Match) {
				t.Errorf("match %q has similarity %v with context, %v without", a.Message.Content, b.Similarity, a.Similarity)
			}
		}
	}

	got = f.search(t, o, RecallQuery{Text: "cat digging vegetable bed", TopK: 1, MessageRange: -1})
	if ids := recalledIDs(got); !slices.Equal(ids, []string{msgs[2].ID}) {
		t.Errorf("messageRange -1 returned %v, want the match alone", ids)
	}

	// Messages already in the prompt's history are neither matches nor
	// context.
	got = f.search(t, o, RecallQuery{Text: "cat digging vegetable bed", TopK: 1, Exclude: []string{msgs[2].ID, msgs[3].ID}})
	for _, r := range got {
		if r.Message.ID == msgs[2].ID || r.Message.ID == msgs[3].ID {
			t.Errorf("excluded message %s was returned", r.Message.ID)
		}
	}
	if len(got) == 0 {
		t.Errorf("excluding the best match returned nothing, want the next best")
	}
}

func recalledIDs(got []Recalled) []string {
	var ids []string
	for _, r := range got {
		ids = append(ids, r.Message.ID)
	}
	return ids
}

func TestRecallNeverCrossesProfiles(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	a, b := newOwner(resourceA), newOwner(resourceB)
	f.unlock(t, a)
	f.unlock(t, b)
	ta := mustCreateThread(t, f.store, a, "Bikes")
	tb := mustCreateThread(t, f.store, b, "Bikes")
	for i := range 20 {
		f.say(t, a, ta.ID, fmt.Sprintf("My road bike needs a new chain, note %d from A.", i))
		f.say(t, b, tb.ID, fmt.Sprintf("My road bike needs a new chain, note %d from B.", i))
	}
	f.wait(t, a)
	f.wait(t, b)

	for _, o := range []Owner{a, b} {
		got := f.search(t, o, RecallQuery{Text: "road bike chain", TopK: 10})
		if len(got) == 0 {
			t.Fatalf("%s found nothing", o.ResourceID)
		}
		for _, r := range got {
			mine := ta.ID
			if o.ResourceID == resourceB {
				mine = tb.ID
			}
			if r.ThreadID != mine {
				t.Errorf("%s got a message of thread %s, which is not its own", o.ResourceID, r.ThreadID)
			}
		}
	}

	// Another profile's key does not open A's recall.
	wrong := Owner{ResourceID: resourceA, Key: b.Key}
	if _, err := f.recall.Search(context.Background(), wrong, RecallQuery{Text: "road bike"}); !errors.Is(err, ErrRecallLocked) {
		t.Errorf("Search with B's key on A's resource: error %v, want ErrRecallLocked", err)
	}
}

func TestRecallThreadScopeAmongNearDuplicates(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{EmbedBatch: 128})
	o := newOwner(resourceA)
	f.unlock(t, o)
	target := mustCreateThread(t, f.store, o, "Target")
	other := mustCreateThread(t, f.store, o, "Other")
	for i := range 500 {
		mustAppend(t, f.store, o, Message{ThreadID: other.ID, Role: RoleUser, Content: fmt.Sprintf("The quarterly tax return for the bakery is due, copy %d.", i)})
	}
	var want []string
	for i := range 6 {
		m := mustAppend(t, f.store, o, Message{ThreadID: target.ID, Role: RoleUser, Content: fmt.Sprintf("Pay the gardener on Friday, item %d.", i)})
		want = append(want, m.ID)
	}
	f.recall.Rescan(o)
	f.wait(t, o)

	got := f.search(t, o, RecallQuery{Text: "quarterly tax return for the bakery", Scope: ScopeThread, ThreadID: target.ID, TopK: 4, MessageRange: -1})
	if len(got) != 4 {
		t.Fatalf("thread-scoped search returned %d results, want 4 from the thread although 500 closer ones are elsewhere", len(got))
	}
	for _, r := range got {
		if r.ThreadID != target.ID || !slices.Contains(want, r.Message.ID) {
			t.Errorf("thread-scoped search returned message %s of thread %s", r.Message.ID, r.ThreadID)
		}
	}
}

func TestRecallForgetsDeletedThreadAfterSnapshot(t *testing.T) {
	path := t.TempDir() + "/hearth.db"
	o := newOwner(resourceA)
	secret := "The safe combination is seven three nine."

	f := newRecallFixture(t, path, RecallConfig{})
	f.unlock(t, o)
	gone := mustCreateThread(t, f.store, o, "To delete")
	f.say(t, o, gone.ID, secret, "Noted, the safe combination.")
	kept := mustCreateThread(t, f.store, o, "To keep")
	f.say(t, o, kept.ID, "The safe in the cellar is heavy.")
	f.wait(t, o)
	if got := matches(f.search(t, o, RecallQuery{Text: "safe combination", TopK: 5})); !slices.Contains(got, secret) {
		t.Fatalf("before deletion the search found %q, want the secret", got)
	}

	// A snapshot that still holds the thread, then the deletion.
	f.recall.Lock(o.ResourceID)
	if !bucketExists(t, f.db, "vectors", resourceA) {
		t.Fatal("no vectors bucket after lock")
	}
	f.unlock(t, o)
	f.wait(t, o)
	if err := f.store.DeleteThread(context.Background(), o, gone.ID); err != nil {
		t.Fatal(err)
	}
	checkNotRecalled(t, f, o, secret)
	f.recall.Close()
	f.db.Close()

	// The next unlock loads the older snapshot; the deleted thread's
	// vectors must not come back with it.
	g := newRecallFixture(t, path, RecallConfig{})
	g.unlock(t, o)
	g.wait(t, o)
	checkNotRecalled(t, g, o, secret)
	if got := matches(g.search(t, o, RecallQuery{Text: "safe cellar heavy", TopK: 5})); !slices.Contains(got, "The safe in the cellar is heavy.") {
		t.Errorf("after unlock the kept thread is not found: %q", got)
	}
}

func checkNotRecalled(t *testing.T, f *recallFixture, o Owner, text string) {
	t.Helper()
	for _, r := range f.search(t, o, RecallQuery{Text: text, TopK: 10, MessageRange: 3}) {
		if strings.Contains(r.Message.Content, "combination") {
			t.Errorf("deleted message %q was recalled", r.Message.Content)
		}
	}
	if n := f.recall.Status(o).Vectors; n != 1 {
		t.Errorf("index holds %d vectors, want 1 (the kept message)", n)
	}
}

func TestRecallSnapshotCatchesUpWithLaterWrites(t *testing.T) {
	path := t.TempDir() + "/hearth.db"
	o := newOwner(resourceA)
	f := newRecallFixture(t, path, RecallConfig{})
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Notes")
	f.say(t, o, th.ID, "The spare key is under the blue flowerpot.")
	f.wait(t, o)
	f.recall.Lock(o.ResourceID) // saves a snapshot with one vector

	f.unlock(t, o)
	f.wait(t, o)
	f.say(t, o, th.ID, "The wifi password is on the fridge.")
	f.wait(t, o)
	// Close without saving, as after a crash: the snapshot is older than
	// the second vector.
	rr, _ := f.recall.unlocked(o)
	rr.cancel()
	<-rr.done
	f.recall.mu.Lock()
	delete(f.recall.resources, o.ResourceID)
	f.recall.mu.Unlock()
	f.db.Close()

	g := newRecallFixture(t, path, RecallConfig{})
	g.unlock(t, o)
	g.wait(t, o)
	if n := g.recall.Status(o).Vectors; n != 2 {
		t.Errorf("after unlock the index holds %d vectors, want 2", n)
	}
	if got := matches(g.search(t, o, RecallQuery{Text: "wifi password", TopK: 1})); !slices.Equal(got, []string{"The wifi password is on the fridge."}) {
		t.Errorf("the vector written after the snapshot is not found: %q", got)
	}
}

// TestRecallSnapshotTakesConfiguredThreshold checks that an index loaded
// from a snapshot searches exactly up to the threshold configured now, not
// the one it was saved with.
func TestRecallSnapshotTakesConfiguredThreshold(t *testing.T) {
	path := t.TempDir() + "/hearth.db"
	o := newOwner(resourceA)
	f := newRecallFixture(t, path, RecallConfig{IndexOptions: vector.Options{ExactThreshold: 1000}})
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Notes")
	f.say(t, o, th.ID, "The spare key is under the blue flowerpot.")
	f.wait(t, o)
	f.recall.Lock(o.ResourceID) // saves a snapshot with threshold 1000

	var saved vector.Index
	err := f.db.View(func(tx *bbolt.Tx) error {
		st, err := readRecallState(tx, o)
		if err != nil {
			return err
		}
		parts, _, err := readSnapshot(tx, o, st.Current)
		if err != nil {
			return err
		}
		return saved.UnmarshalParts(parts)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := saved.Options().ExactThreshold; got != 1000 {
		t.Fatalf("saved snapshot has ExactThreshold %d, want 1000", got)
	}
	f.db.Close()

	g := newRecallFixture(t, path, RecallConfig{IndexOptions: vector.Options{ExactThreshold: 5}})
	g.unlock(t, o)
	g.wait(t, o)
	rr, err := g.recall.unlocked(o)
	if err != nil {
		t.Fatal(err)
	}
	rr.write.Lock()
	got := rr.current.index.Options().ExactThreshold
	rr.write.Unlock()
	if got != 5 {
		t.Errorf("index loaded from the snapshot has ExactThreshold %d, want the configured 5", got)
	}
	if strings.Contains(g.logs.String(), "rebuilding") {
		t.Errorf("the snapshot did not load: %s", g.logs.String())
	}
}

func TestRecallDamagedSnapshotIsRebuilt(t *testing.T) {
	path := t.TempDir() + "/hearth.db"
	o := newOwner(resourceA)
	f := newRecallFixture(t, path, RecallConfig{})
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Notes")
	f.say(t, o, th.ID, "The dentist appointment is on Tuesday.")
	f.wait(t, o)
	f.recall.Lock(o.ResourceID)

	// Damage every snapshot part.
	err := f.db.Update(func(tx *bbolt.Tx) error {
		res := tx.Bucket(vectorsBucket).Bucket([]byte(resourceA))
		return res.ForEachBucket(func(space []byte) error {
			snap := res.Bucket(space).Bucket(snapBucket)
			if snap == nil {
				return errors.New("no snapshot")
			}
			v := slices.Clone(snap.Get([]byte{0, 0, 0, 0}))
			v[len(v)-1] ^= 1
			return snap.Put([]byte{0, 0, 0, 0}, v)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	f.unlock(t, o)
	f.wait(t, o)
	if got := matches(f.search(t, o, RecallQuery{Text: "dentist", TopK: 1})); len(got) != 1 {
		t.Errorf("after a damaged snapshot the search found %q, want the rebuilt index to find the message", got)
	}
	if !strings.Contains(f.logs.String(), "rebuilding") {
		t.Errorf("the damaged snapshot was not logged: %s", f.logs.String())
	}
}

func TestRecallEmbedderSwitch(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{EmbedBatch: 8})
	o := newOwner(resourceA)
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "History")
	for i := range 25 {
		f.say(t, o, th.ID, fmt.Sprintf("Filler message number %d about nothing much.", i), fmt.Sprintf("Reply %d.", i))
	}
	old := f.say(t, o, th.ID, "My grandmother's recipe uses cardamom and saffron.")
	f.wait(t, o)
	if st := f.recall.Status(o); st.Dimension != 384 || st.Vectors != 51 {
		t.Fatalf("before the switch: %+v, want 51 vectors of dimension 384", st)
	}

	// The new embedder is held, so the switch stays under way while the
	// test searches.
	release, entered := f.gated("slow")
	if err := f.recall.SetEmbedder(context.Background(), o, specOf(768, "slow")); err != nil {
		t.Fatal(err)
	}
	st := f.recall.Status(o)
	if st.Reembedding == nil || st.Reembedding.From != "lexical-v1-384" || st.Reembedding.To != "lexical-v1-768" {
		t.Fatalf("status during the switch: %+v, want re-embedding from 384 to 768", st)
	}
	<-entered
	// Searches still use the 384-d vectors meanwhile.
	if got := matches(f.search(t, o, RecallQuery{Text: "cardamom saffron recipe", TopK: 1})); !slices.Equal(got, []string{old[0].Content}) {
		t.Errorf("during the switch the search found %q", got)
	}
	if st := f.recall.Status(o); st.Reembedding == nil || st.Reembedding.Total != 51 || st.Reembedding.Done != 0 {
		t.Errorf("progress during the switch: %+v, want 0 of 51", st.Reembedding)
	}
	close(release)
	f.wait(t, o)

	st = f.recall.Status(o)
	if st.Reembedding != nil || st.Dimension != 768 || st.Vectors != 51 || st.Embedder != "lexical-v1-768" {
		t.Fatalf("after the switch: %+v, want 51 vectors of dimension 768 and no re-embedding", st)
	}
	if got := matches(f.search(t, o, RecallQuery{Text: "cardamom saffron recipe", TopK: 1})); !slices.Equal(got, []string{old[0].Content}) {
		t.Errorf("after the switch the search found %q, want the old message again", got)
	}
	// The 384-d space is gone from the file.
	var spaces int
	f.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(vectorsBucket).Bucket([]byte(resourceA)).ForEachBucket(func([]byte) error { spaces++; return nil })
	})
	if spaces != 1 {
		t.Errorf("the file holds %d vector spaces after the switch, want 1", spaces)
	}
}

func TestRecallRetriesFailedEmbedding(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{DefaultEmbedder: specOf(384, "flaky")})
	o := newOwner(resourceA)
	f.unlock(t, o)
	f.wait(t, o)
	flaky := f.wraps["flaky"]
	flaky.fail.Store(3)
	th := mustCreateThread(t, f.store, o, "Plans")
	msgs := f.say(t, o, th.ID, "Book the train to Lyon for the 14th.")
	f.wait(t, o)

	if got := matches(f.search(t, o, RecallQuery{Text: "train Lyon", TopK: 1})); !slices.Equal(got, []string{msgs[0].Content}) {
		t.Errorf("after the failures the message was not embedded: %q", got)
	}
	logs := f.logs.String()
	if strings.Count(logs, "retrying later") < 3 {
		t.Errorf("want three logged failures, got logs:\n%s", logs)
	}
	if strings.Contains(logs, "Lyon") {
		t.Errorf("the log holds message text:\n%s", logs)
	}
	if st := f.recall.Status(o); st.LastError != "" {
		t.Errorf("LastError is %q after a success", st.LastError)
	}
}

func TestRecallDeletedWhileEmbedding(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{DefaultEmbedder: specOf(384, "gated")})
	release, entered := f.gated("gated")
	o := newOwner(resourceA)
	f.unlock(t, o)
	f.wait(t, o)

	th := mustCreateThread(t, f.store, o, "Short-lived")
	f.say(t, o, th.ID, "The alarm code is four four two one.")
	<-entered // the worker is embedding the message
	if err := f.store.DeleteThread(context.Background(), o, th.ID); err != nil {
		t.Fatal(err)
	}
	close(release)
	f.wait(t, o)

	if n := f.recall.Status(o).Vectors; n != 0 {
		t.Errorf("the index holds %d vectors after the thread was deleted mid-embedding, want 0", n)
	}
	var records int
	f.db.View(func(tx *bbolt.Tx) error {
		res := tx.Bucket(vectorsBucket).Bucket([]byte(resourceA))
		return res.ForEachBucket(func(space []byte) error {
			records += res.Bucket(space).Bucket(vecBucket).Stats().KeyN
			return nil
		})
	})
	if records != 0 {
		t.Errorf("the file holds %d vector records of the deleted thread", records)
	}
}

func TestRecallDeleteMessageAndUpdate(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	o := newOwner(resourceA)
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Edits")
	msgs := f.say(t, o, th.ID, "Remember the plumber's number.", "I will remember the plumber.")
	f.wait(t, o)
	if err := f.store.DeleteMessage(context.Background(), o, th.ID, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := f.recall.Status(o).Vectors; n != 1 {
		t.Errorf("after deleting a message the index holds %d vectors, want 1", n)
	}

	msgs[1].Content = "I will remember the electrician."
	if _, err := f.store.UpdateMessage(context.Background(), o, msgs[1]); err != nil {
		t.Fatal(err)
	}
	if n := f.recall.Status(o).Vectors; n != 0 {
		t.Errorf("after an update the stale vector is still indexed (%d vectors)", n)
	}
	f.recall.Enqueue(o, th.ID)
	f.wait(t, o)
	if got := matches(f.search(t, o, RecallQuery{Text: "electrician", TopK: 1})); !slices.Equal(got, []string{msgs[1].Content}) {
		t.Errorf("the updated text is not found: %q", got)
	}
}

func TestRecallDeleteResource(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	o := newOwner(resourceA)
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Anything")
	f.say(t, o, th.ID, "Some words to embed.")
	f.wait(t, o)
	if err := f.store.DeleteResource(context.Background(), resourceA); err != nil {
		t.Fatal(err)
	}
	if bucketExists(t, f.db, "vectors", resourceA) {
		t.Error("the resource's vectors survived DeleteResource")
	}
	if st := f.recall.Status(o); st.State != "locked" {
		t.Errorf("after DeleteResource the recall state is %q, want locked", st.State)
	}
}

func TestRecallLockedAndBadQueries(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	o := newOwner(resourceA)
	if _, err := f.recall.Search(context.Background(), o, RecallQuery{Text: "x"}); !errors.Is(err, ErrRecallLocked) {
		t.Errorf("Search before Unlock: %v, want ErrRecallLocked", err)
	}
	f.unlock(t, o)
	f.wait(t, o)
	if got := f.search(t, o, RecallQuery{Text: "nothing stored yet"}); len(got) != 0 {
		t.Errorf("an empty index returned %d results", len(got))
	}
	for _, q := range []RecallQuery{
		{Text: "  "},
		{Text: "x", TopK: 51},
		{Text: "x", TopK: -1},
		{Text: "x", MessageRange: 11},
		{Text: "x", Scope: "everything"},
		{Text: "x", Scope: ScopeThread, ThreadID: "not-an-id"},
	} {
		_, err := f.recall.Search(context.Background(), o, q)
		var inputErr *InputError
		if !errors.As(err, &inputErr) {
			t.Errorf("Search(%+v) error %v, want an InputError", q, err)
		}
	}
	f.recall.Lock(resourceA)
	if _, err := f.recall.Search(context.Background(), o, RecallQuery{Text: "x"}); !errors.Is(err, ErrRecallLocked) {
		t.Errorf("Search after Lock: %v, want ErrRecallLocked", err)
	}
}

func TestRecallFileHoldsNoPlainVectors(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	o := newOwner(resourceA)
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Private")
	f.say(t, o, th.ID, "A private thought about a zeppelin.")
	f.wait(t, o)
	f.recall.Lock(resourceA) // writes the snapshot too
	f.db.Close()

	raw, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	lex, _ := embed.NewLexical(384)
	vecs, _ := lex.Embed(context.Background(), []string{"A private thought about a zeppelin."})
	for _, needle := range []string{"lexical-v1", "zeppelin", "HVIX"} {
		if bytes.Contains(raw, []byte(needle)) {
			t.Errorf("the data file contains %q in the clear", needle)
		}
	}
	if b := float32Bytes(vecs[0]); bytes.Contains(raw, b) {
		t.Error("the data file contains the message's vector in the clear")
	}
}

// float32Bytes returns v as stored in the clear would be: little-endian
// float32 elements.
func float32Bytes(v []float32) []byte {
	var out []byte
	for _, x := range v {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
	}
	return out
}

// A message whose newer record marks it as having nothing to embed, such
// as a reply that ended in an error, must not come back from an older
// snapshot that still holds its vector.
func TestRecallSnapshotDropsBlankedVector(t *testing.T) {
	path := t.TempDir() + "/hearth.db"
	o := newOwner(resourceA)
	f := newRecallFixture(t, path, RecallConfig{})
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Vault")
	msgs := f.say(t, o, th.ID, "Remind me of something.", "The vault code is 4417.")
	f.wait(t, o)
	f.recall.Lock(o.ResourceID) // the snapshot holds the reply's vector

	f.unlock(t, o)
	f.wait(t, o)
	msgs[1].Status, msgs[1].Error = StatusError, "The model stopped."
	if _, err := f.store.UpdateMessage(context.Background(), o, msgs[1]); err != nil {
		t.Fatal(err)
	}
	f.recall.Enqueue(o, th.ID)
	f.wait(t, o)
	// Stop as after a crash: no newer snapshot.
	rr, _ := f.recall.unlocked(o)
	rr.cancel()
	<-rr.done
	f.recall.mu.Lock()
	delete(f.recall.resources, o.ResourceID)
	f.recall.mu.Unlock()
	f.db.Close()

	g := newRecallFixture(t, path, RecallConfig{})
	g.unlock(t, o)
	g.wait(t, o)
	if n := g.recall.Status(o).Vectors; n != 1 {
		t.Errorf("after reopening the index holds %d vectors, want 1 (the user message)", n)
	}
	for _, r := range g.search(t, o, RecallQuery{Text: "vault code 4417", TopK: 5, MessageRange: -1}) {
		if r.Message.ID == msgs[1].ID {
			t.Errorf("the reply that ended in an error was recalled from the old snapshot")
		}
	}
}

// Deleting a resource right after it was unlocked must leave no recall
// data behind, however far the worker got.
func TestRecallDeleteRightAfterUnlock(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{})
	for i := range 30 {
		o := newOwner(fmt.Sprintf("user_%02d", i))
		f.unlock(t, o)
		if err := f.store.DeleteResource(context.Background(), o.ResourceID); err != nil {
			t.Fatal(err)
		}
		if err := f.recall.Unlock(o); !errors.Is(err, ErrRecallLocked) {
			t.Errorf("Unlock after DeleteResource: %v, want ErrRecallLocked", err)
		}
	}
	f.recall.Close()
	f.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(vectorsBucket).ForEachBucket(func(name []byte) error {
			t.Errorf("recall data of deleted resource %s is in the file", name)
			return nil
		})
	})
}

// A request may unlock recall just after its profile locked; the worker
// then finds the profile locked and loads nothing.
func TestRecallUnlockAfterProfileLocked(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{StillUnlocked: func(string) bool { return false }})
	o := newOwner(resourceA)
	f.unlock(t, o)
	deadline := time.Now().Add(5 * time.Second)
	for f.recall.Status(o).State != "locked" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := f.recall.Status(o).State; st != "locked" {
		t.Errorf("recall of a locked profile is %q, want locked", st)
	}
	if bucketExists(t, f.db, "vectors", resourceA) {
		t.Error("recall of a locked profile wrote to the file")
	}
}

// While the messages are embedded again, a search whose old embedder
// fails is served from the vectors already made by the new one.
func TestRecallSearchFallsBackDuringSwitch(t *testing.T) {
	f := newRecallFixture(t, "", RecallConfig{DefaultEmbedder: specOf(384, "old"), EmbedBatch: 1})
	o := newOwner(resourceA)
	f.unlock(t, o)
	th := mustCreateThread(t, f.store, o, "Trips")
	f.say(t, o, th.ID, "The ferry to the island leaves at nine.", "A slow reply about buses.")
	f.wait(t, o)

	// The new embedder embeds the first message, then holds the second,
	// so the switch stays under way.
	release, entered := f.gated("new")
	f.wraps["new"].blockIf = "slow"
	defer close(release)
	if err := f.recall.SetEmbedder(context.Background(), o, specOf(512, "new")); err != nil {
		t.Fatal(err)
	}
	<-entered
	f.wraps["old"].fail.Store(1000)

	if st := f.recall.Status(o); st.Reembedding == nil {
		t.Fatalf("the switch is not under way: %+v", st)
	}
	if got := matches(f.search(t, o, RecallQuery{Text: "ferry island", TopK: 1})); !slices.Equal(got, []string{"The ferry to the island leaves at nine."}) {
		t.Errorf("with the old embedder failing the search found %q, want the message the new one has embedded", got)
	}
}
