package memory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"hearth/seal"
)

var updateTestdata = flag.Bool("update-testdata", false,
	"write the testdata/schema*.db files that do not exist; a committed data file is frozen and never rewritten")

// writeSchema writes version as the schema version of the file at path,
// creating the meta bucket if needed.
func writeSchema(tb testing.TB, db *bbolt.DB, version []byte) {
	tb.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		return meta.Put(schemaKey, version)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// readSchema returns the schema version bytes stored in db.
func readSchema(tb testing.TB, db *bbolt.DB) []byte {
	tb.Helper()
	var v []byte
	err := db.View(func(tx *bbolt.Tx) error {
		if meta := tx.Bucket(metaBucket); meta != nil {
			v = slices.Clone(meta.Get(schemaKey))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestOpenWritesSchema(t *testing.T) {
	_, db, _ := newStore(t)

	want := binary.BigEndian.AppendUint64(nil, schemaVersion)
	if got := readSchema(t, db); !bytes.Equal(got, want) {
		t.Errorf("schema version bytes = %x, want %x", got, want)
	}
	if schemaVersion != 3 {
		t.Errorf("schemaVersion = %d, want 3: a new schema needs a migration and a new frozen file in testdata", schemaVersion)
	}

	// A second Open on the same file keeps working.
	if _, err := Open(db); err != nil {
		t.Errorf("second Open error = %v", err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hearth.db")
	_, db := openStore(t, path)
	writeSchema(t, db, binary.BigEndian.AppendUint64(nil, schemaVersion+1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	if _, err := Open(db); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("Open error = %v, want %v", err, ErrNewerSchema)
	}
}

func TestOpenOldSchema(t *testing.T) {
	tests := []struct {
		name  string
		setup func(tx *bbolt.Tx) error
	}{
		{"threads without schema version", func(tx *bbolt.Tx) error {
			threads, err := tx.CreateBucket(threadsBucket)
			if err != nil {
				return err
			}
			return threads.Put([]byte(NewID()), []byte(`{"resourceId":"user_a","title":"Plans"}`))
		}},
		{"schema version 1", func(tx *bbolt.Tx) error {
			meta, err := tx.CreateBucket(metaBucket)
			if err != nil {
				return err
			}
			return meta.Put(schemaKey, binary.BigEndian.AppendUint64(nil, 1))
		}},
		{"schema version 0", func(tx *bbolt.Tx) error {
			meta, err := tx.CreateBucket(metaBucket)
			if err != nil {
				return err
			}
			return meta.Put(schemaKey, binary.BigEndian.AppendUint64(nil, 0))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, filepath.Join(t.TempDir(), "hearth.db"))
			if err := db.Update(tt.setup); err != nil {
				t.Fatal(err)
			}
			before := readSchema(t, db)

			if _, err := Open(db); !errors.Is(err, ErrOldSchema) {
				t.Errorf("Open error = %v, want %v", err, ErrOldSchema)
			}
			if got := readSchema(t, db); !bytes.Equal(got, before) {
				t.Errorf("schema version after a failed Open = %x, want it unchanged at %x", got, before)
			}
		})
	}
}

func TestOpenMalformedSchema(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "hearth.db"))
	writeSchema(t, db, []byte{1})

	if _, err := Open(db); err == nil {
		t.Error("Open error = nil, want an error for a 1-byte schema version")
	}
}

func TestOpenFileWithOtherBuckets(t *testing.T) {
	// The app keeps profiles in the same file, written before the memory
	// store is first opened.
	db := openDB(t, filepath.Join(t.TempDir(), "hearth.db"))
	err := db.Update(func(tx *bbolt.Tx) error {
		profiles, err := tx.CreateBucket([]byte("profiles"))
		if err != nil {
			return err
		}
		return profiles.Put([]byte("p1"), []byte(`{"name":"Ada"}`))
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := Open(db); err != nil {
		t.Fatalf("Open error = %v", err)
	}
	if got, want := readSchema(t, db), binary.BigEndian.AppendUint64(nil, schemaVersion); !bytes.Equal(got, want) {
		t.Errorf("schema version bytes = %x, want %x", got, want)
	}
}

func TestOpenRunsMigration(t *testing.T) {
	marker := []byte("migrated")
	fail := errors.New("migration stopped on purpose")
	original := migrations[schemaVersion-1]
	t.Cleanup(func() { migrations[schemaVersion-1] = original })

	tests := []struct {
		name       string
		step       func(tx *bbolt.Tx) error
		wantErr    error
		wantSchema uint64
		wantMarker bool
	}{
		{
			name: "success",
			step: func(tx *bbolt.Tx) error {
				return tx.Bucket(metaBucket).Put(marker, []byte("yes"))
			},
			wantSchema: schemaVersion,
			wantMarker: true,
		},
		{
			name: "failure rolls back",
			step: func(tx *bbolt.Tx) error {
				if err := tx.Bucket(metaBucket).Put(marker, []byte("yes")); err != nil {
					return err
				}
				return fail
			},
			wantErr:    fail,
			wantSchema: schemaVersion - 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			migrations[schemaVersion-1] = tt.step
			db := openDB(t, filepath.Join(t.TempDir(), "hearth.db"))
			writeSchema(t, db, binary.BigEndian.AppendUint64(nil, schemaVersion-1))

			_, err := Open(db)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Open error = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
			}
			if got := binary.BigEndian.Uint64(readSchema(t, db)); got != tt.wantSchema {
				t.Errorf("schema version after Open = %d, want %d", got, tt.wantSchema)
			}
			var found bool
			err = db.View(func(tx *bbolt.Tx) error {
				found = tx.Bucket(metaBucket).Get(marker) != nil
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.wantMarker {
				t.Errorf("migration's write present = %v, want %v", found, tt.wantMarker)
			}
		})
	}
}

// The frozen data file testdata/schema2.db was written by
// TestWriteSchema2Testdata with the values below. A failure of its checks
// means that this code no longer reads files that earlier versions wrote, so
// the checks must not be changed to fit new code.
const (
	// frozenKeyHex is the data key that sealed testdata/schema2.db. It is a
	// test value and protects nothing else.
	frozenKeyHex   = "eee970977c9ddcc94f6c6f5ec219dba3318345cade89bc36f1d3147582ac9c23"
	frozenResource = "user_frozen"
	frozenTitle    = "Trip to Kyoto 京都 🚄 שלום"
	frozenMetadata = `{"pinned":true,"tags":["travel","日本"]}`
	frozenFile     = "testdata/schema2.db"
	// frozenThreadID is the id that CreateThread gave the thread when the
	// file was written.
	frozenThreadID = "01a2430b-6e14-7ef7-ad04-f1cc3230f354"
)

// frozenMessages are the messages of the frozen thread as stored, oldest
// first. The generator appends the fourth as incomplete and then completes
// it with UpdateMessage. Their CreatedAt is testStart plus one second per
// clock reading.
var frozenMessages = []Message{
	{
		ID: "01959a4c-5a00-7000-8000-000000000001", Role: RoleUser, Status: StatusComplete,
		Content:         "Plan two days in Kyoto, please 🙏 e\u0301\u0301",
		ClientRequestID: "req-frozen-1",
	},
	{
		ID: "01959a4c-5a00-7000-8000-000000000002", Role: RoleAssistant, Status: StatusComplete,
		Model: "llama3.2", PromptTokens: 41, ReplyTokens: 9,
		Parts: []Part{{Type: "tool-call", ToolCallID: "call_1", ToolName: "weather", Input: json.RawMessage(`{"city":"京都","days":2}`)}},
	},
	{
		ID: "01959a4c-5a00-7000-8000-000000000003", Role: RoleTool, Status: StatusComplete,
		Parts: []Part{{Type: "tool-result", ToolCallID: "call_1", ToolName: "weather", Output: json.RawMessage(`{"forecast":"晴れ","high":21}`)}},
	},
	{
		ID: "01959a4c-5a00-7000-8000-000000000004", Role: RoleAssistant, Status: StatusComplete,
		Model: "llama3.2", PromptTokens: 77, ReplyTokens: 30,
		Content: "Day 1: 伏見稲荷大社 at dawn. Day 2: مرحبا, Arashiyama 🎋👩‍👩‍👧",
	},
	{
		ID: "01959a4c-5a00-7000-8000-000000000005", Role: RoleUser, Status: StatusError,
		Content: "And day 3?", Error: "The model backend did not answer in time.",
	},
}

// frozenWorkingMemory are the versions of the resource's working memory,
// oldest first, and frozenThreadMemory is the thread's own document.
var (
	frozenWorkingMemory = []string{
		"# About the person\n- Likes trains\n",
		"# About the person\n- Likes trains 🚄\n- Reads Hebrew: שלום\n",
	}
	frozenThreadMemory = "# This trip\n- Kyoto, two days\n"
)

func frozenOwner(tb testing.TB) Owner {
	tb.Helper()
	raw, err := hex.DecodeString(frozenKeyHex)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := seal.KeyFrom(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return Owner{ResourceID: frozenResource, Key: key}
}

// TestWriteSchema2Testdata writes testdata/schema2.db. It runs only with
// -update-testdata and never overwrites the file, because a file of a
// released schema stays as it is and a new schema gets a new file.
func TestWriteSchema2Testdata(t *testing.T) {
	if !*updateTestdata {
		t.Skip("writes testdata only with -update-testdata")
	}
	if _, err := os.Stat(frozenFile); err == nil {
		t.Fatalf("%s exists and is frozen. Delete it by hand only if no release has written schema 2.", frozenFile)
	}
	if schemaVersion != 2 {
		t.Fatalf("this code writes schema %d, so it cannot write %s", schemaVersion, frozenFile)
	}
	ctx := context.Background()
	o := frozenOwner(t)
	s, db := openStore(t, frozenFile)
	stepClock(s)

	// Clock readings: thread at +0s, messages at +1s to +5s, the reply's
	// completion at +6s, working memory at +7s to +9s.
	th, err := s.CreateThread(ctx, o, frozenTitle, json.RawMessage(frozenMetadata))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range frozenMessages {
		m.ThreadID = th.ID
		if m.ID == frozenMessages[3].ID {
			m.Status = StatusIncomplete
		}
		mustAppend(t, s, o, m)
	}
	reply := frozenMessages[3]
	reply.ThreadID = th.ID
	if _, err := s.UpdateMessage(ctx, o, reply); err != nil {
		t.Fatal(err)
	}
	for i, content := range frozenWorkingMemory {
		mustReplace(t, s, o, WorkingMemoryUpdate{Content: content, Version: i})
	}
	mustReplace(t, s, o, WorkingMemoryUpdate{ThreadID: th.ID, Content: frozenThreadMemory})

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s with thread %s: set frozenThreadID to it", frozenFile, th.ID)
}

func TestOpenSchema2Testdata(t *testing.T) {
	ctx := context.Background()
	frozen, err := os.ReadFile(frozenFile)
	if err != nil {
		t.Fatalf("read frozen data file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "schema2.db")
	if err := os.WriteFile(path, frozen, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		now, err := os.ReadFile(frozenFile)
		if err != nil || sha256.Sum256(now) != sha256.Sum256(frozen) {
			t.Errorf("%s changed during the test. Restore it from version control.", frozenFile)
		}
	})

	db := openDB(t, path)
	if got := binary.BigEndian.Uint64(readSchema(t, db)); got != 2 {
		t.Fatalf("frozen file schema version = %d, want 2", got)
	}
	s, err := Open(db)
	if err != nil {
		t.Fatalf("Open frozen file: %v", err)
	}
	o := frozenOwner(t)
	at := func(seconds int) time.Time { return testStart.Add(time.Duration(seconds) * time.Second) }

	// The thread.
	threads := mustThreads(t, s, o)
	if len(threads) != 1 {
		t.Fatalf("Threads = %d threads, want 1", len(threads))
	}
	th := threads[0]
	if th.ID != frozenThreadID {
		t.Errorf("thread ID = %s, want %s", th.ID, frozenThreadID)
	}
	if th.ResourceID != frozenResource || th.Title != frozenTitle || th.Damaged {
		t.Errorf("thread resource, title, damaged = %q, %q, %v, want %q, %q, false", th.ResourceID, th.Title, th.Damaged, frozenResource, frozenTitle)
	}
	if string(th.Metadata) != frozenMetadata {
		t.Errorf("thread metadata = %s, want %s", th.Metadata, frozenMetadata)
	}
	if !th.CreatedAt.Equal(at(0)) || !th.UpdatedAt.Equal(at(6)) {
		t.Errorf("thread CreatedAt, UpdatedAt = %v, %v, want %v, %v", th.CreatedAt, th.UpdatedAt, at(0), at(6))
	}
	if th.MessageCount != len(frozenMessages) {
		t.Errorf("thread MessageCount = %d, want %d", th.MessageCount, len(frozenMessages))
	}

	// The messages, every field.
	msgs := mustLast(t, s, o, th.ID, 100)
	if len(msgs) != len(frozenMessages) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(frozenMessages))
	}
	for i, got := range msgs {
		want := frozenMessages[i]
		want.ThreadID = th.ID
		want.CreatedAt = at(i + 1)
		if !slices.EqualFunc(got.Parts, want.Parts, func(a, b Part) bool { return partsEqual(t, a, b) }) {
			t.Errorf("message %d parts = %+v, want %+v", i, got.Parts, want.Parts)
		}
		got.Parts, want.Parts = nil, nil
		if !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("message %d CreatedAt = %v, want %v", i, got.CreatedAt, want.CreatedAt)
		}
		got.CreatedAt = want.CreatedAt
		if !reflect.DeepEqual(got, want) {
			t.Errorf("message %d = %+v, want %+v", i, got, want)
		}
	}

	// Working memory of the resource with its history, and of the thread.
	history, err := s.WorkingMemoryHistory(ctx, o, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != len(frozenWorkingMemory) {
		t.Fatalf("working memory history has %d versions, want %d", len(history), len(frozenWorkingMemory))
	}
	for i, wm := range history {
		version := len(frozenWorkingMemory) - i
		if wm.Version != version || wm.Content != frozenWorkingMemory[version-1] || !wm.UpdatedAt.Equal(at(6+version)) || wm.Damaged {
			t.Errorf("history entry %d = %+v, want version %d, %q at %v", i, wm, version, frozenWorkingMemory[version-1], at(6+version))
		}
	}
	if wm := mustWorkingMemory(t, s, o, ""); wm.Version != 2 || wm.Content != frozenWorkingMemory[1] {
		t.Errorf("resource working memory = version %d, %q, want version 2, %q", wm.Version, wm.Content, frozenWorkingMemory[1])
	}
	if wm := mustWorkingMemory(t, s, o, th.ID); wm.Version != 1 || wm.Content != frozenThreadMemory || !wm.UpdatedAt.Equal(at(9)) {
		t.Errorf("thread working memory = %+v, want version 1, %q at %v", wm, frozenThreadMemory, at(9))
	}

	// The indexes work. A retried client request finds its message, a
	// message is found by id, and the thread takes new messages.
	dup, err := s.AppendMessage(ctx, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "again", ClientRequestID: "req-frozen-1"})
	if !errors.Is(err, ErrDuplicate) || dup.ID != frozenMessages[0].ID {
		t.Errorf("AppendMessage with the stored client request id = %s, %v, want %s, %v", dup.ID, err, frozenMessages[0].ID, ErrDuplicate)
	}
	// The migration to schema 3 indexed the client request id for the
	// whole resource.
	if got := binary.BigEndian.Uint64(readSchema(t, db)); got != schemaVersion {
		t.Errorf("schema version after Open = %d, want %d", got, schemaVersion)
	}
	startedIn, dup, err := s.StartThread(ctx, o, "", Message{Role: RoleUser, Content: "again", ClientRequestID: "req-frozen-1"})
	if !errors.Is(err, ErrDuplicate) || startedIn.ID != frozenThreadID || dup.ID != frozenMessages[0].ID {
		t.Errorf("StartThread with the stored client request id = thread %s message %s, %v, want %s, %s, %v",
			startedIn.ID, dup.ID, err, frozenThreadID, frozenMessages[0].ID, ErrDuplicate)
	}
	around, err := s.MessageWithNeighbours(ctx, o, th.ID, frozenMessages[2].ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := messageIDs(around), []string{frozenMessages[1].ID, frozenMessages[2].ID, frozenMessages[3].ID}; !slices.Equal(got, want) {
		t.Errorf("MessageWithNeighbours = %v, want %v", got, want)
	}
	added := mustAppend(t, s, o, Message{ThreadID: th.ID, Role: RoleUser, Content: "Day 3, then."})
	if got := messageIDs(mustLast(t, s, o, th.ID, 1)); !slices.Equal(got, []string{added.ID}) {
		t.Errorf("last message after an append = %v, want %s", got, added.ID)
	}
}

// partsEqual reports whether two parts are equal, comparing their JSON
// values rather than their bytes.
func partsEqual(tb testing.TB, a, b Part) bool {
	tb.Helper()
	jsonEqual := func(x, y json.RawMessage) bool {
		if len(x) == 0 || len(y) == 0 {
			return len(x) == len(y)
		}
		return sameJSON(tb, x, y)
	}
	if !jsonEqual(a.Input, b.Input) || !jsonEqual(a.Output, b.Output) {
		return false
	}
	a.Input, a.Output, b.Input, b.Output = nil, nil, nil, nil
	return a.Type == b.Type && a.ToolCallID == b.ToolCallID && a.ToolName == b.ToolName && a.IsError == b.IsError
}
