package memory

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"hearth/seal"
)

// encodings returns the forms in which text could appear in a file without
// being sealed. These are plain, hex, and base64 at each of the three
// alignments the text can have inside a longer encoded value.
func encodings(text string) map[string][]byte {
	forms := map[string][]byte{
		"plain":     []byte(text),
		"hex":       []byte(hex.EncodeToString([]byte(text))),
		"hex upper": []byte(strings.ToUpper(hex.EncodeToString([]byte(text)))),
	}
	for skip := range 3 {
		// Encoding text[skip:] on its own matches the encoded file from the
		// first whole 3-byte group on. The last group is left out because
		// padding may change it.
		tail := []byte(text[skip:])
		tail = tail[:len(tail)/3*3-3]
		forms["base64 from byte "+string(rune('0'+skip))] = []byte(base64.StdEncoding.EncodeToString(tail))
		forms["base64url from byte "+string(rune('0'+skip))] = []byte(base64.RawURLEncoding.EncodeToString(tail))
	}
	return forms
}

func TestFileHoldsNoPlaintext(t *testing.T) {
	ctx := context.Background()
	s, db, path := newStore(t)
	o := newOwner(resourceA)

	// Each sentence is written once through the API and must not appear in
	// the file in any encoding.
	const (
		title        = "Planning the surprise party for Mariana in Lisbon"
		newTitle     = "Renamed: the surprise party moved to the Algarve coast"
		metadataText = "Orchid greenhouse budget for the spring season"
		userText     = "My bank PIN hint is the name of my first cat, Biscuit"
		replyText    = "Biscuit sounds like a lovely cat; keep that hint private"
		errorText    = "The backend refused the prompt about the tax return"
		userError    = "No reply was written because the model was not loaded"
		toolInput    = "weather forecast for Reykjavik harbour tomorrow"
		toolOutput   = "Light rain over Reykjavik harbour, eight degrees"
		resourceWM   = "Prefers window seats on long-haul flights to Osaka"
		threadWM     = "This trip is a secret from the rest of the family"
		unicodeText  = "京都への秘密の旅行計画について話しましょう"
	)

	th, err := s.CreateThread(ctx, o, title, json.RawMessage(`{"project":"`+metadataText+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	user := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: userText})
	user.Error = userError
	if _, err := s.UpdateMessage(ctx, o, user); err != nil {
		t.Fatal(err)
	}
	reply := mustAppend(t, s, o, Message{
		ThreadID: th.ID, Role: RoleAssistant, Status: StatusIncomplete,
		Parts: []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "weather", Input: json.RawMessage(`{"query":"` + toolInput + `"}`)}},
	})
	mustAppend(t, s, o, Message{
		ThreadID: th.ID, Role: RoleTool,
		Parts: []Part{{Type: "tool-result", ToolCallID: "call_1", Output: json.RawMessage(`{"text":"` + toolOutput + `"}`)}},
	})
	reply.Content, reply.Status, reply.Error = replyText, StatusError, errorText
	if _, err := s.UpdateMessage(ctx, o, reply); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: unicodeText})
	if _, err := s.ForkThread(ctx, o, th.ID, reply.ID); err != nil {
		t.Fatal(err)
	}
	renamed := newTitle
	if _, err := s.UpdateThread(ctx, o, th.ID, ThreadUpdate{Title: &renamed}); err != nil {
		t.Fatal(err)
	}
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: resourceWM})
	mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: th.ID, Content: threadWM})

	// The sentences read back, so they were stored.
	if got := mustThread(t, s, o, th.ID).Title; got != newTitle {
		t.Fatalf("title = %q, want %q", got, newTitle)
	}
	msgs := mustLast(t, s, o, th.ID, 10)
	if got := contents(msgs); !slices.Equal(got, []string{userText, replyText, "", unicodeText}) {
		t.Fatalf("contents = %q, want the four written", got)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sentences := []string{title, newTitle, metadataText, userText, replyText, errorText, userError, toolInput, toolOutput, resourceWM, threadWM, unicodeText}
	for _, sentence := range sentences {
		for form, encoded := range encodings(sentence) {
			if bytes.Contains(file, encoded) {
				t.Errorf("data file contains %q (%s)", sentence, form)
			}
		}
	}
}

// copySealed copies the sealed field of one record into another and leaves
// every other field of the target as it was. Each record is named by its
// bucket path and key. Thread records are binary; the others are JSON.
func copySealed(tb testing.TB, db *bbolt.DB, from, to recordPath) {
	tb.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		if v := from.bucket(tx).Get(from.key); len(v) > 0 && v[0] == threadRecordBinary {
			source, err := decodeThreadRecord(v, from.key)
			if err != nil {
				return err
			}
			b := to.bucket(tx)
			target, err := decodeThreadRecord(b.Get(to.key), to.key)
			if err != nil {
				return err
			}
			if bytes.Equal(source.Sealed, target.Sealed) {
				return errors.New("source and target have the same sealed value")
			}
			target.Sealed = source.Sealed
			out, err := encodeThreadRecord(target)
			if err != nil {
				return err
			}
			return b.Put(to.key, out)
		}
		var source, target map[string]json.RawMessage
		if err := json.Unmarshal(from.bucket(tx).Get(from.key), &source); err != nil {
			return err
		}
		b := to.bucket(tx)
		if err := json.Unmarshal(b.Get(to.key), &target); err != nil {
			return err
		}
		if bytes.Equal(source["sealed"], target["sealed"]) || len(source["sealed"]) == 0 {
			return errors.New("source and target have the same or no sealed value")
		}
		target["sealed"] = source["sealed"]
		v, err := json.Marshal(target)
		if err != nil {
			return err
		}
		return b.Put(to.key, v)
	})
	if err != nil {
		tb.Fatalf("copy sealed value: %v", err)
	}
}

// copyRecord copies a whole record, clear fields and sealed value, to
// another place.
func copyRecord(tb testing.TB, db *bbolt.DB, from, to recordPath) {
	tb.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		v := from.bucket(tx).Get(from.key)
		if v == nil {
			return errors.New("no record to copy")
		}
		return to.bucket(tx).Put(to.key, slices.Clone(v))
	})
	if err != nil {
		tb.Fatalf("copy record: %v", err)
	}
}

// recordPath is the place of a record in bbolt, as nested bucket names and a key.
type recordPath struct {
	buckets []string
	key     []byte
}

func (p recordPath) bucket(tx *bbolt.Tx) *bbolt.Bucket {
	b := tx.Bucket([]byte(p.buckets[0]))
	for _, name := range p.buckets[1:] {
		b = b.Bucket([]byte(name))
	}
	return b
}

func TestSealedValueMoved(t *testing.T) {
	ctx := context.Background()

	// setup writes two threads of one owner, the first with two messages and
	// the second with one. It also writes two versions of the resource's
	// working memory and one of the first thread's.
	type fixture struct {
		s          *Store
		db         *bbolt.DB
		o          Owner
		first      Thread
		second     Thread
		firstMsgs  []Message
		secondMsgs []Message
	}
	setup := func(t *testing.T) fixture {
		s, db, _ := newStore(t)
		f := fixture{s: s, db: db, o: newOwner(resourceA)}
		f.first = mustCreateThread(t, s, f.o, "first title")
		f.second = mustCreateThread(t, s, f.o, "second title")
		f.firstMsgs = append(f.firstMsgs,
			mustAppend(t, s, f.o, Message{ThreadID: f.first.ID, Role: RoleUser, Content: "first secret"}),
			mustAppend(t, s, f.o, Message{ThreadID: f.first.ID, Role: RoleUser, Content: "second secret"}))
		f.secondMsgs = append(f.secondMsgs, mustAppend(t, s, f.o, Message{ThreadID: f.second.ID, Role: RoleUser, Content: "third secret"}))
		mustReplace(t, s, f.o, WorkingMemoryUpdate{Content: "alpha notes"})
		mustReplace(t, s, f.o, WorkingMemoryUpdate{Content: "beta notes", Version: 1})
		mustReplace(t, s, f.o, WorkingMemoryUpdate{ThreadID: f.first.ID, Content: "thread notes"})
		return f
	}
	messages := func(threadID string, seq uint64) recordPath {
		return recordPath{[]string{string(messagesBucket), threadID}, sequenceKey(seq)}
	}
	resourceWM := func(key []byte) recordPath {
		return recordPath{[]string{string(workingBucket), string(resourceScopeKey(resourceA))}, key}
	}

	t.Run("message to a message of the same thread", func(t *testing.T) {
		f := setup(t)
		copySealed(t, f.db, messages(f.first.ID, 1), messages(f.first.ID, 2))

		msgs := mustLast(t, f.s, f.o, f.first.ID, 10)
		if len(msgs) != 2 {
			t.Fatalf("got %d messages, want 2", len(msgs))
		}
		if msgs[0].Damaged || msgs[0].Content != "first secret" {
			t.Errorf("source message = %q, damaged %v, want %q intact", msgs[0].Content, msgs[0].Damaged, "first secret")
		}
		if !msgs[1].Damaged || msgs[1].Content != "" {
			t.Errorf("target message = %q, damaged %v, want damaged and empty", msgs[1].Content, msgs[1].Damaged)
		}
		if msgs[1].ID != f.firstMsgs[1].ID || msgs[1].Role != RoleUser {
			t.Errorf("target message id, role = %s, %s, want %s, %s kept", msgs[1].ID, msgs[1].Role, f.firstMsgs[1].ID, RoleUser)
		}
	})

	t.Run("message to a message of another thread", func(t *testing.T) {
		f := setup(t)
		copySealed(t, f.db, messages(f.first.ID, 1), messages(f.second.ID, 1))

		msgs := mustLast(t, f.s, f.o, f.second.ID, 10)
		if len(msgs) != 1 || !msgs[0].Damaged || msgs[0].Content != "" {
			t.Errorf("target messages = %+v, want one damaged and empty message", msgs)
		}
	})

	t.Run("whole message record to another thread", func(t *testing.T) {
		f := setup(t)
		copyRecord(t, f.db, messages(f.first.ID, 1), messages(f.second.ID, 99))

		msgs := mustLast(t, f.s, f.o, f.second.ID, 10)
		if len(msgs) != 2 {
			t.Fatalf("got %d messages, want the thread's own and the copied one", len(msgs))
		}
		if msgs[0].Damaged || msgs[0].Content != "third secret" {
			t.Errorf("thread's own message = %q, damaged %v, want %q intact", msgs[0].Content, msgs[0].Damaged, "third secret")
		}
		if !msgs[1].Damaged || msgs[1].Content != "" {
			t.Errorf("copied message = %q, damaged %v, want damaged and empty", msgs[1].Content, msgs[1].Damaged)
		}
	})

	t.Run("thread to another thread", func(t *testing.T) {
		f := setup(t)
		threads := recordPath{buckets: []string{string(threadsBucket)}}
		from, to := threads, threads
		from.key, to.key = []byte(f.first.ID), []byte(f.second.ID)
		copySealed(t, f.db, from, to)

		got := mustThread(t, f.s, f.o, f.second.ID)
		if !got.Damaged || got.Title != "" {
			t.Errorf("target thread title = %q, damaged %v, want damaged and empty", got.Title, got.Damaged)
		}
		listed := mustThreads(t, f.s, f.o)
		for _, th := range listed {
			wantDamaged := th.ID == f.second.ID
			if th.Damaged != wantDamaged {
				t.Errorf("listed thread %q damaged = %v, want %v", th.Title, th.Damaged, wantDamaged)
			}
		}
		if len(listed) != 2 {
			t.Errorf("Threads = %d threads, want 2", len(listed))
		}
	})

	t.Run("working memory to a later version", func(t *testing.T) {
		f := setup(t)
		copySealed(t, f.db, resourceWM(sequenceKey(1)), resourceWM(currentKey))

		wm := mustWorkingMemory(t, f.s, f.o, "")
		if !wm.Damaged || wm.Content != "" || wm.Version != 2 {
			t.Errorf("current working memory = %+v, want version 2 damaged and empty", wm)
		}
	})

	t.Run("working memory to a thread's document", func(t *testing.T) {
		f := setup(t)
		threadWM := recordPath{[]string{string(workingBucket), string(threadScopeKey(f.first.ID))}, currentKey}
		copySealed(t, f.db, resourceWM(currentKey), threadWM)

		wm := mustWorkingMemory(t, f.s, f.o, f.first.ID)
		if !wm.Damaged || wm.Content != "" {
			t.Errorf("thread working memory = %+v, want damaged and empty", wm)
		}
		if wm := mustWorkingMemory(t, f.s, f.o, ""); wm.Damaged || wm.Content != "beta notes" {
			t.Errorf("resource working memory = %+v, want %q intact", wm, "beta notes")
		}
	})

	t.Run("whole working memory record to a thread's document", func(t *testing.T) {
		f := setup(t)
		// Version 1 of the resource's document replaces version 1 of the
		// thread's, so only the scope differs.
		threadWM := recordPath{[]string{string(workingBucket), string(threadScopeKey(f.first.ID))}, currentKey}
		copyRecord(t, f.db, resourceWM(sequenceKey(1)), threadWM)

		wm := mustWorkingMemory(t, f.s, f.o, f.first.ID)
		if !wm.Damaged || wm.Content != "" || wm.Version != 1 {
			t.Errorf("thread working memory = %+v, want version 1 damaged and empty", wm)
		}
	})

	t.Run("damaged message is not copied by a fork", func(t *testing.T) {
		f := setup(t)
		copySealed(t, f.db, messages(f.first.ID, 1), messages(f.first.ID, 2))
		before := mustThreads(t, f.s, f.o)

		if _, err := f.s.ForkThread(ctx, f.o, f.first.ID, f.firstMsgs[1].ID); err == nil {
			t.Error("ForkThread over a damaged message error = nil, want an error")
		}
		if after := mustThreads(t, f.s, f.o); len(after) != len(before) {
			t.Errorf("Threads after a rejected fork = %d threads, want %d", len(after), len(before))
		}
	})
}

func TestWrongKeyDamaged(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	wrong := Owner{ResourceID: resourceA, Key: seal.NewKey()}

	var threads []Thread
	var msgs []Message
	for i := range 3 {
		th, err := s.CreateThread(ctx, o, "thread "+string(rune('A'+i)), json.RawMessage(`{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		threads = append(threads, th)
		for j := range 3 {
			msgs = append(msgs, mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "secret " + string(rune('a'+j))}))
		}
	}
	mustReplace(t, s, o, WorkingMemoryUpdate{Content: "resource notes"})
	mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: threads[0].ID, Content: "thread notes"})
	before := dumpDB(t, db)

	// Reads with the wrong key list everything, marked damaged.
	listed := mustThreads(t, s, wrong)
	if got, want := threadIDs(listed), threadIDs(mustThreads(t, s, o)); !slices.Equal(got, want) {
		t.Fatalf("Threads with the wrong key = %v, want every thread %v", got, want)
	}
	for _, th := range listed {
		if !th.Damaged || th.Title != "" || th.MessageCount != 3 || th.ResourceID != resourceA {
			t.Errorf("listed thread = %+v, want damaged, no title, 3 messages", th)
		}
	}
	page, next, err := s.Threads(ctx, wrong, ThreadPage{Limit: 2})
	if err != nil || len(page) != 2 || next == "" {
		t.Errorf("first page with the wrong key = %d threads, cursor %q, error %v, want 2 threads and a cursor", len(page), next, err)
	}

	th, err := s.Thread(ctx, wrong, threads[0].ID)
	if err != nil {
		t.Fatalf("Thread with the wrong key error = %v, want nil", err)
	}
	if !th.Damaged || th.Title != "" || string(th.Metadata) != "{}" {
		t.Errorf("Thread with the wrong key = %+v, want damaged with no title and metadata {}", th)
	}

	got := mustLast(t, s, wrong, threads[0].ID, 10)
	if !slices.Equal(messageIDs(got), messageIDs(msgs[:3])) {
		t.Errorf("LastMessages with the wrong key ids = %v, want %v", messageIDs(got), messageIDs(msgs[:3]))
	}
	for _, m := range got {
		if !m.Damaged || m.Content != "" || m.Role != RoleUser || m.Status != StatusComplete {
			t.Errorf("message with the wrong key = %+v, want damaged, no content, role and status kept", m)
		}
	}
	before2, err := s.MessagesBefore(ctx, wrong, threads[0].ID, msgs[2].ID, 10)
	if err != nil || len(before2) != 2 || !before2[0].Damaged || !before2[1].Damaged {
		t.Errorf("MessagesBefore with the wrong key = %+v, %v, want 2 damaged messages", before2, err)
	}
	around, err := s.MessageWithNeighbours(ctx, wrong, threads[0].ID, msgs[1].ID, 1)
	if err != nil || len(around) != 3 || !around[1].Damaged {
		t.Errorf("MessageWithNeighbours with the wrong key = %+v, %v, want 3 damaged messages", around, err)
	}

	for _, threadID := range []string{"", threads[0].ID} {
		wm := mustWorkingMemory(t, s, wrong, threadID)
		if !wm.Damaged || wm.Content != "" || wm.Version != 1 {
			t.Errorf("working memory (thread %q) with the wrong key = %+v, want version 1 damaged and empty", threadID, wm)
		}
		history, err := s.WorkingMemoryHistory(ctx, wrong, threadID)
		if err != nil || len(history) != 1 || !history[0].Damaged {
			t.Errorf("working memory history (thread %q) with the wrong key = %+v, %v, want one damaged version", threadID, history, err)
		}
	}

	// Changes that need the sealed fields are rejected with an error, and
	// write nothing.
	title := "taken over"
	if _, err := s.UpdateThread(ctx, wrong, threads[0].ID, ThreadUpdate{Title: &title}); err == nil {
		t.Error("UpdateThread with the wrong key error = nil, want an error")
	}
	if _, err := s.ForkThread(ctx, wrong, threads[0].ID, msgs[2].ID); err == nil {
		t.Error("ForkThread with the wrong key error = nil, want an error")
	}
	if _, err := s.RevertWorkingMemory(ctx, wrong, "", 1, 1); err == nil {
		t.Error("RevertWorkingMemory with the wrong key error = nil, want an error")
	}
	if after := dumpDB(t, db); !slices.Equal(after, before) {
		t.Error("calls with the wrong key changed the data file")
	}

	// The right key still reads everything.
	for i, th := range threads {
		if got := mustThread(t, s, o, th.ID); got.Damaged || got.Title != th.Title {
			t.Errorf("thread %d with the right key = %+v, want %q intact", i, got, th.Title)
		}
	}
	wantContents(t, mustLast(t, s, o, threads[2].ID, 10), []string{"secret a", "secret b", "secret c"})
}
