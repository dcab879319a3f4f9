package auth

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

const testPassword = "correct horse battery"

// newStore opens a Store on a fresh bbolt file in a temporary directory and
// closes the file when the test ends.
func newStore(tb testing.TB) (*Store, *bbolt.DB) {
	tb.Helper()
	db, err := bbolt.Open(filepath.Join(tb.TempDir(), "hearth.db"), 0o600, nil)
	if err != nil {
		tb.Fatalf("open bbolt: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close bbolt: %v", err)
		}
	})
	s, err := Open(db)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	return s, db
}

// mustCreate creates a profile and fails the test if that is rejected.
func mustCreate(tb testing.TB, s *Store, actorID, name, password string) Profile {
	tb.Helper()
	p, err := s.CreateProfile(context.Background(), actorID, name, password)
	if err != nil {
		tb.Fatalf("CreateProfile(%q, %q) error: %v", actorID, name, err)
	}
	return p
}

// mustLogin signs in and fails the test if that is rejected.
func mustLogin(tb testing.TB, s *Store, name, password string) Token {
	tb.Helper()
	tok, err := s.Login(context.Background(), name, password)
	if err != nil {
		tb.Fatalf("Login(%q) error: %v", name, err)
	}
	return tok
}

// readRecord returns the stored record of profile id, secrets included.
func readRecord(tb testing.TB, db *bbolt.DB, id string) profileRecord {
	tb.Helper()
	var rec profileRecord
	err := db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(profilesBucket).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		tb.Fatalf("read record %s: %v", id, err)
	}
	return rec
}

// writeRecord replaces the stored record of rec.ID.
func writeRecord(tb testing.TB, db *bbolt.DB, rec profileRecord) {
	tb.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		return putProfile(tx.Bucket(profilesBucket), &rec)
	})
	if err != nil {
		tb.Fatalf("write record %s: %v", rec.ID, err)
	}
}

func TestCreateProfileRoles(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	admin := mustCreate(t, s, "", "Ada", testPassword)
	if admin.Role != RoleAdmin {
		t.Errorf("first profile role = %q, want %q", admin.Role, RoleAdmin)
	}

	if _, err := s.CreateProfile(ctx, "", "Grace", testPassword); !errors.Is(err, ErrForbidden) {
		t.Errorf("second profile without actor: error = %v, want %v", err, ErrForbidden)
	}
	if _, err := s.CreateProfile(ctx, "no-such-profile", "Grace", testPassword); !errors.Is(err, ErrForbidden) {
		t.Errorf("second profile by unknown actor: error = %v, want %v", err, ErrForbidden)
	}

	user := mustCreate(t, s, admin.ID, "Grace", testPassword)
	if user.Role != RoleUser {
		t.Errorf("profile created by admin: role = %q, want %q", user.Role, RoleUser)
	}

	if _, err := s.CreateProfile(ctx, user.ID, "Linus", testPassword); !errors.Is(err, ErrForbidden) {
		t.Errorf("profile created by user: error = %v, want %v", err, ErrForbidden)
	}

	list, err := s.Profiles(ctx)
	if err != nil {
		t.Fatalf("Profiles error: %v", err)
	}
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, ","), "Ada,Grace"; got != want {
		t.Errorf("Profiles names = %s, want %s", got, want)
	}
}

func TestCreateProfileFields(t *testing.T) {
	s, db := newStore(t)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	p := mustCreate(t, s, "", "Ada", testPassword)

	if p.ID == "" {
		t.Error("ID is empty")
	}
	if !p.CreatedAt.Equal(now) || !p.UpdatedAt.Equal(now) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v, want %v", p.CreatedAt, p.UpdatedAt, now)
	}
	if got, want := p.ResourceID(), "user_"+p.ID; got != want {
		t.Errorf("ResourceID() = %q, want %q", got, want)
	}

	got, err := s.Profile(context.Background(), p.ID)
	if err != nil {
		t.Fatalf("Profile error: %v", err)
	}
	if got != p {
		t.Errorf("Profile(%s) = %+v, want %+v", p.ID, got, p)
	}

	rec := readRecord(t, db, p.ID)
	if len(rec.SigningKey) != 32 {
		t.Errorf("signing key has %d bytes, want 32", len(rec.SigningKey))
	}
	if rec.TokenVersion != 1 {
		t.Errorf("token version = %d, want 1", rec.TokenVersion)
	}
	if rec.Version != profileRecordVersion {
		t.Errorf("record version = %d, want %d", rec.Version, profileRecordVersion)
	}
	if strings.Contains(rec.PasswordHash, testPassword) {
		t.Error("stored password hash contains the password")
	}
}

func TestProfileNotFound(t *testing.T) {
	s, _ := newStore(t)
	if _, err := s.Profile(context.Background(), "no-such-profile"); !errors.Is(err, ErrNotFound) {
		t.Errorf("error = %v, want %v", err, ErrNotFound)
	}
}

func TestProfileSigningKeysDiffer(t *testing.T) {
	s, db := newStore(t)
	admin := mustCreate(t, s, "", "Ada", testPassword)
	user := mustCreate(t, s, admin.ID, "Grace", testPassword)

	a := readRecord(t, db, admin.ID).SigningKey
	b := readRecord(t, db, user.ID).SigningKey
	if string(a) == string(b) {
		t.Error("two profiles share one signing key")
	}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ada := mustCreate(t, s, "", "Ada Lovelace", testPassword)

	tok := mustLogin(t, s, "Ada Lovelace", testPassword)
	if tok.Token == "" {
		t.Fatal("token is empty")
	}
	if tok.Profile != ada {
		t.Errorf("token profile = %+v, want %+v", tok.Profile, ada)
	}
	if want := now.Add(DefaultTokenTTL); !tok.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, want)
	}

	got, err := s.Verify(ctx, tok.Token)
	if err != nil {
		t.Fatalf("Verify error: %v", err)
	}
	if got != ada {
		t.Errorf("Verify profile = %+v, want %+v", got, ada)
	}
}

func TestLoginNameFolding(t *testing.T) {
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada Lovelace", testPassword)

	for _, name := range []string{"ada lovelace", "ADA LOVELACE", "  Ada Lovelace\t"} {
		tok := mustLogin(t, s, name, testPassword)
		if tok.Profile.ID != ada.ID {
			t.Errorf("Login(%q) profile = %s, want %s", name, tok.Profile.ID, ada.ID)
		}
	}
}

func TestLoginRejected(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	mustCreate(t, s, "", "Ada Lovelace", testPassword)

	tests := []struct {
		name     string
		login    string
		password string
	}{
		{"wrong password", "Ada Lovelace", testPassword + "!"},
		{"empty password", "Ada Lovelace", ""},
		{"unknown name", "Grace Hopper", testPassword},
		{"invalid name", "Ada\nLovelace", testPassword},
		{"empty name", "", testPassword},
		{"password over limit", "Ada Lovelace", strings.Repeat("p", MaxPasswordBytes+1)},
		{"1 MB password", "Ada Lovelace", strings.Repeat("p", 1<<20)},
		{"correct password with suffix", "Ada Lovelace", testPassword + strings.Repeat(" ", MaxPasswordBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.Login(ctx, tt.login, tt.password)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("error = %v, want %v", err, ErrInvalidCredentials)
			}
			if got, want := err.Error(), ErrInvalidCredentials.Error(); got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			if tok != (Token{}) {
				t.Errorf("token = %+v, want zero", tok)
			}
		})
	}
}

func BenchmarkLogin(b *testing.B) {
	s, _ := newStore(b)
	mustCreate(b, s, "", "Ada Lovelace", testPassword)
	ctx := context.Background()

	for b.Loop() {
		if _, err := s.Login(ctx, "Ada Lovelace", testPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoginCorruptedHash(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	rec := readRecord(t, db, ada.ID)
	rec.PasswordHash = strings.Replace(rec.PasswordHash, "t=2", "t=0", 1)
	writeRecord(t, db, rec)

	tok, err := s.Login(context.Background(), "Ada", testPassword)
	if !errors.Is(err, errMalformedHash) {
		t.Errorf("error = %v, want %v", err, errMalformedHash)
	}
	if tok != (Token{}) {
		t.Errorf("token = %+v, want zero", tok)
	}
}

func TestCreateFirstProfileConcurrent(t *testing.T) {
	s, _ := newStore(t)
	names := []string{"Ada", "Grace", "Linus", "Barbara"}

	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			_, errs[i] = s.CreateProfile(context.Background(), "", name, testPassword)
		})
	}
	wg.Wait()

	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, ErrForbidden):
			t.Errorf("CreateProfile(%q) error = %v, want nil or %v", names[i], err, ErrForbidden)
		}
	}
	if created != 1 {
		t.Errorf("%d profiles created without an actor, want 1", created)
	}
	list, err := s.Profiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Role != RoleAdmin {
		t.Errorf("Profiles = %+v, want one admin", list)
	}
}

func TestLoginConcurrent(t *testing.T) {
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			ctx := context.Background()
			if i%2 == 1 {
				if _, err := s.Login(ctx, "Nobody", testPassword); !errors.Is(err, ErrInvalidCredentials) {
					t.Errorf("Login(unknown name) error = %v, want %v", err, ErrInvalidCredentials)
				}
				return
			}
			tok, err := s.Login(ctx, "Ada", testPassword)
			if err != nil {
				t.Errorf("Login error: %v", err)
				return
			}
			p, err := s.Verify(ctx, tok.Token)
			if err != nil || p.ID != ada.ID {
				t.Errorf("Verify = %s, %v, want %s, nil", p.ID, err, ada.ID)
			}
		})
	}
	wg.Wait()
}
