package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

func TestSettingsNeverSaved(t *testing.T) {
	s, _, _ := newStore(t)
	raw, err := s.Settings(context.Background(), newOwner(resourceA))
	if err != nil {
		t.Fatalf("Settings error: %v", err)
	}
	if raw != nil {
		t.Errorf("Settings before any save = %s, want nil", raw)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _, path := newStore(t)
	o := newOwner(resourceA)

	first := json.RawMessage(`{"version":1,"lastMessages":5}`)
	if err := s.PutSettings(ctx, o, first); err != nil {
		t.Fatalf("PutSettings error: %v", err)
	}
	second := json.RawMessage(`{"version":1,"lastMessages":7,"systemPrompt":"Be brief."}`)
	if err := s.PutSettings(ctx, o, second); err != nil {
		t.Fatalf("second PutSettings error: %v", err)
	}

	s = reopen(t, s, path)
	got, err := s.Settings(ctx, o)
	if err != nil {
		t.Fatalf("Settings after reopening error: %v", err)
	}
	if !bytes.Equal(got, second) {
		t.Errorf("Settings after reopening = %s, want %s", got, second)
	}
}

// TestSettingsSealed checks that the settings are not readable in the data
// file and do not open with another key or for another resource.
func TestSettingsSealed(t *testing.T) {
	ctx := context.Background()
	s, db, path := newStore(t)
	a := newOwner(resourceA)
	secret := "sk-settings-secret-1234"
	if err := s.PutSettings(ctx, a, json.RawMessage(`{"apiKey":"`+secret+`"}`)); err != nil {
		t.Fatalf("PutSettings error: %v", err)
	}

	for _, line := range dumpDB(t, db) {
		if strings.Contains(line, secret) {
			t.Errorf("the data file contains the settings in the clear: %s", line)
		}
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(secret)) {
		t.Error("the bytes of the data file contain the settings in the clear")
	}

	// Another resource has no settings, and a's settings do not open with
	// another key.
	if raw, err := s.Settings(ctx, newOwner(resourceB)); err != nil || raw != nil {
		t.Errorf("Settings of another resource = %s, %v, want nil, nil", raw, err)
	}
	if raw, err := s.Settings(ctx, Owner{ResourceID: resourceA, Key: newOwner(resourceA).Key}); err == nil {
		t.Errorf("Settings with another key = %s, want an error", raw)
	}

	// A sealed value copied to another resource does not open there.
	b := newOwner(resourceB)
	b.Key = a.Key
	if err := s.PutSettings(ctx, b, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		v := tx.Bucket(resourcesBucket).Bucket([]byte(resourceA)).Get(settingsKey)
		return tx.Bucket(resourcesBucket).Bucket([]byte(resourceB)).Put(settingsKey, bytes.Clone(v))
	})
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := s.Settings(ctx, b); err == nil {
		t.Errorf("Settings copied from another resource = %s, want an error", raw)
	}
}

func TestPutSettingsRejected(t *testing.T) {
	s, db, _ := newStore(t)
	o := newOwner(resourceA)
	before := dumpDB(t, db)

	tests := []struct {
		name string
		raw  json.RawMessage
	}{
		{"array", json.RawMessage(`[1,2]`)},
		{"null", json.RawMessage(`null`)},
		{"malformed", json.RawMessage(`{"a":`)},
		{"invalid UTF-8", json.RawMessage("{\"a\":\"\xff\"}")},
		{"too large", json.RawMessage(`{"a":"` + strings.Repeat("x", MaxSettingsBytes) + `"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.PutSettings(context.Background(), o, tt.raw)
			wantInputError(t, err, "settings")
		})
	}
	if err := s.PutSettings(context.Background(), Owner{ResourceID: resourceA}, json.RawMessage(`{}`)); err == nil {
		t.Error("PutSettings without a key succeeded, want an error")
	}
	if after := dumpDB(t, db); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Error("rejected settings changed the data file")
	}
}

// TestSettingsBeforeThreads checks that a resource whose first write is its
// settings can still list, create and delete threads.
func TestSettingsBeforeThreads(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	o := newOwner(resourceA)
	if err := s.PutSettings(ctx, o, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if threads := mustThreads(t, s, o); len(threads) != 0 {
		t.Errorf("Threads after saving settings = %d threads, want 0", len(threads))
	}
	th := mustCreateThread(t, s, o, "after settings")
	if got := threadIDs(mustThreads(t, s, o)); len(got) != 1 || got[0] != th.ID {
		t.Errorf("Threads = %v, want [%s]", got, th.ID)
	}
	if err := s.DeleteResource(ctx, resourceA); err != nil {
		t.Fatalf("DeleteResource error: %v", err)
	}
}

func TestDeleteResourceSettings(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newStore(t)
	a, b := newOwner(resourceA), newOwner(resourceB)
	if err := s.PutSettings(ctx, b, json.RawMessage(`{"kept":true}`)); err != nil {
		t.Fatal(err)
	}
	onlyB := dumpDB(t, db)
	if err := s.PutSettings(ctx, a, json.RawMessage(`{"lastMessages":3}`)); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteResource(ctx, resourceA); err != nil {
		t.Fatalf("DeleteResource error: %v", err)
	}
	if raw, err := s.Settings(ctx, a); err != nil || raw != nil {
		t.Errorf("Settings after DeleteResource = %s, %v, want nil, nil", raw, err)
	}
	if after := dumpDB(t, db); strings.Join(after, "\n") != strings.Join(onlyB, "\n") {
		t.Errorf("file after DeleteResource:\n%s\nwant:\n%s", strings.Join(after, "\n"), strings.Join(onlyB, "\n"))
	}
	if raw, err := s.Settings(ctx, b); err != nil || string(raw) != `{"kept":true}` {
		t.Errorf("Settings of the other resource = %s, %v, want {\"kept\":true}", raw, err)
	}
}

func TestSettingsOwnerRejected(t *testing.T) {
	s, _, _ := newStore(t)
	_, err := s.Settings(context.Background(), Owner{ResourceID: "", Key: newOwner(resourceA).Key})
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Settings with an empty resource id error = %v, want an owner error", err)
	}
}
