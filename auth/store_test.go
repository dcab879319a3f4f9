package auth

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"hearth/seal"
)

const (
	testPassword    = "correct horse battery"
	testNewPassword = "staple tortoise lamp"
	testClient      = "127.0.0.1"
)

// recoveryKeyPattern matches a recovery key in its display form: 8 groups of
// 4 characters from Crockford's base32 alphabet, joined by dashes.
var recoveryKeyPattern = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}$`)

// newStore opens a Store with a new install key on a fresh bbolt file in a
// temporary directory. The file is closed when the test ends. The Store
// hashes passwords at the insecure test cost, because most tests create
// several profiles and none of them measures argon2id.
func newStore(tb testing.TB) (*Store, *bbolt.DB) {
	tb.Helper()
	return newStoreWithParams(tb, insecureTestArgonParams)
}

// newStoreWithParams is newStore for a Store that hashes new passwords with
// p, for the tests and benchmarks that need the real cost or an old one.
func newStoreWithParams(tb testing.TB, p argonParams) (*Store, *bbolt.DB) {
	tb.Helper()
	db := openDB(tb, filepath.Join(tb.TempDir(), "hearth.db"))
	return openStore(tb, db, seal.NewKey(), withArgonParams(p)), db
}

// openDB opens the bbolt file at path and closes it when the test ends,
// unless the test closed it first.
func openDB(tb testing.TB, path string) *bbolt.DB {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatalf("open bbolt: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close bbolt: %v", err)
		}
	})
	return db
}

// openStore opens a Store on db that seals signing keys with installKey. It
// hashes new passwords at the insecure test cost unless opts select another cost.
func openStore(tb testing.TB, db *bbolt.DB, installKey *seal.Key, opts ...Option) *Store {
	tb.Helper()
	opts = append([]Option{WithInsecureTestCost()}, opts...)
	s, err := Open(db, installKey, opts...)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// testClock is a clock for Store.now that moves only when a test moves it.
// It is safe for concurrent use.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// useClock makes s read the time from a new testClock set to start.
func useClock(s *Store, start time.Time) *testClock {
	c := &testClock{now: start}
	s.now = c.Now
	return c
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mustCreate creates a profile and fails the test if that is rejected.
func mustCreate(tb testing.TB, s *Store, actorID, name, password string) Profile {
	tb.Helper()
	p, _ := mustCreateWithKey(tb, s, actorID, name, password)
	return p
}

// mustCreateWithKey creates a profile and returns it with its recovery key.
func mustCreateWithKey(tb testing.TB, s *Store, actorID, name, password string) (Profile, string) {
	tb.Helper()
	p, recoveryKey, err := s.CreateProfile(context.Background(), actorID, name, password)
	if err != nil {
		tb.Fatalf("CreateProfile(%q, %q) error: %v", actorID, name, err)
	}
	return p, recoveryKey
}

// mustLogin signs in from testClient and fails the test if that is rejected.
func mustLogin(tb testing.TB, s *Store, name, password string) Token {
	tb.Helper()
	tok, err := s.Login(context.Background(), name, password, testClient)
	if err != nil {
		tb.Fatalf("Login(%q) error: %v", name, err)
	}
	return tok
}

// mustVerify verifies token and fails the test if that is rejected.
func mustVerify(tb testing.TB, s *Store, token string) Session {
	tb.Helper()
	sess, err := s.Verify(context.Background(), token)
	if err != nil {
		tb.Fatalf("Verify error: %v", err)
	}
	return sess
}

// mustDataKey returns the bytes of profileID's data key and fails the test
// if the profile is locked.
func mustDataKey(tb testing.TB, s *Store, profileID string) []byte {
	tb.Helper()
	k, err := s.DataKey(profileID)
	if err != nil {
		tb.Fatalf("DataKey(%s) error: %v", profileID, err)
	}
	defer k.Wipe()
	return k.Bytes()
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

// writeRecord replaces the stored record of rec.ID, with a valid MAC, as
// Hearth itself would write it.
func writeRecord(tb testing.TB, s *Store, db *bbolt.DB, rec profileRecord) {
	tb.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		return s.putProfile(tx.Bucket(profilesBucket), &rec)
	})
	if err != nil {
		tb.Fatalf("write record %s: %v", rec.ID, err)
	}
}

// signingKey returns the unsealed token signing key of profile id.
func signingKey(tb testing.TB, s *Store, db *bbolt.DB, id string) []byte {
	tb.Helper()
	k, err := s.installKey.OpenKey(readRecord(tb, db, id).SigningKey, signingKeyAD(id))
	if err != nil {
		tb.Fatalf("unseal signing key of %s: %v", id, err)
	}
	defer k.Wipe()
	return k.Bytes()
}

func TestCreateProfileRoles(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	admin := mustCreate(t, s, "", "Ada", testPassword)
	if admin.Role != RoleAdmin {
		t.Errorf("first profile role = %q, want %q", admin.Role, RoleAdmin)
	}

	if _, _, err := s.CreateProfile(ctx, "", "Grace", testPassword); !errors.Is(err, ErrForbidden) {
		t.Errorf("second profile without actor: error = %v, want %v", err, ErrForbidden)
	}
	if _, _, err := s.CreateProfile(ctx, "no-such-profile", "Grace", testPassword); !errors.Is(err, ErrForbidden) {
		t.Errorf("second profile by unknown actor: error = %v, want %v", err, ErrForbidden)
	}

	user := mustCreate(t, s, admin.ID, "Grace", testPassword)
	if user.Role != RoleUser {
		t.Errorf("profile created by admin: role = %q, want %q", user.Role, RoleUser)
	}

	if _, _, err := s.CreateProfile(ctx, user.ID, "Linus", testPassword); !errors.Is(err, ErrForbidden) {
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

	p, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)

	if p.ID == "" {
		t.Error("ID is empty")
	}
	if !p.CreatedAt.Equal(now) || !p.UpdatedAt.Equal(now) {
		t.Errorf("CreatedAt, UpdatedAt = %v, %v, want %v", p.CreatedAt, p.UpdatedAt, now)
	}
	if got, want := p.ResourceID(), "user_"+p.ID; got != want {
		t.Errorf("ResourceID() = %q, want %q", got, want)
	}
	if p.IdleLock != DefaultIdleLock {
		t.Errorf("IdleLock = %v, want %v", p.IdleLock, DefaultIdleLock)
	}
	if !recoveryKeyPattern.MatchString(recoveryKey) {
		t.Errorf("recovery key %q does not match %s", recoveryKey, recoveryKeyPattern)
	}

	got, err := s.Profile(context.Background(), p.ID)
	if err != nil {
		t.Fatalf("Profile error: %v", err)
	}
	if got != p {
		t.Errorf("Profile(%s) = %+v, want %+v", p.ID, got, p)
	}

	rec := readRecord(t, db, p.ID)
	if key := signingKey(t, s, db, p.ID); len(key) != 32 {
		t.Errorf("signing key has %d bytes, want 32", len(key))
	}
	if got, want := len(rec.DataKeyByPassword), seal.KeySize+seal.Overhead; got != want {
		t.Errorf("data key sealed by password has %d bytes, want %d", got, want)
	}
	if got, want := len(rec.DataKeyByRecovery), seal.KeySize+seal.Overhead; got != want {
		t.Errorf("data key sealed by recovery key has %d bytes, want %d", got, want)
	}
	if len(rec.KDF.Salt) != saltLength || len(rec.RecoverySalt) != saltLength {
		t.Errorf("KDF salt, recovery salt have %d, %d bytes, want %d", len(rec.KDF.Salt), len(rec.RecoverySalt), saltLength)
	}
	if _, hashSalt, _ := splitPHC(t, rec.PasswordHash); string(hashSalt) == string(rec.KDF.Salt) {
		t.Error("the password hash and the data key's KDF share one salt")
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

func TestProfileKeysDiffer(t *testing.T) {
	s, db := newStore(t)
	admin := mustCreate(t, s, "", "Ada", testPassword)
	user := mustCreate(t, s, admin.ID, "Grace", testPassword)

	if string(signingKey(t, s, db, admin.ID)) == string(signingKey(t, s, db, user.ID)) {
		t.Error("two profiles share one signing key")
	}
	mustLogin(t, s, "Ada", testPassword)
	mustLogin(t, s, "Grace", testPassword)
	if string(mustDataKey(t, s, admin.ID)) == string(mustDataKey(t, s, user.ID)) {
		t.Error("two profiles with one password share one data key")
	}
}

func TestLogin(t *testing.T) {
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

	sess := mustVerify(t, s, tok.Token)
	if sess.Profile != ada {
		t.Errorf("Verify profile = %+v, want %+v", sess.Profile, ada)
	}
	if sess.TokenID == "" {
		t.Error("Verify token id is empty")
	}
	if !sess.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Errorf("Verify ExpiresAt = %v, want %v", sess.ExpiresAt, tok.ExpiresAt)
	}
	if sess.Locked {
		t.Error("Verify after Login: Locked = true, want false")
	}

	second := mustVerify(t, s, mustLogin(t, s, "Ada Lovelace", testPassword).Token)
	if second.TokenID == sess.TokenID {
		t.Errorf("two sign-ins share the token id %q", sess.TokenID)
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
	clock := useClock(s, testNow)
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
		// bbolt rejects keys over 32 KiB, and the throttle counts failures
		// under the typed name.
		{"40 KB name", strings.Repeat("a", 40_000), testPassword},
		{"password over limit", "Ada Lovelace", strings.Repeat("p", MaxPasswordBytes+1)},
		{"1 MB password", "Ada Lovelace", strings.Repeat("p", 1<<20)},
		{"correct password with suffix", "Ada Lovelace", testPassword + strings.Repeat(" ", MaxPasswordBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case starts after the throttle has forgotten the others.
			clock.Advance(throttleWindow)

			tok, err := s.Login(ctx, tt.login, tt.password, testClient)
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

func TestLoginCorruptedHash(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	rec := readRecord(t, db, ada.ID)
	corrupted := regexp.MustCompile(`,t=[0-9]+,`).ReplaceAllString(rec.PasswordHash, ",t=0,")
	if corrupted == rec.PasswordHash {
		t.Fatalf("hash %q has no passes to set to 0", rec.PasswordHash)
	}
	rec.PasswordHash = corrupted
	writeRecord(t, s, db, rec)

	tok, err := s.Login(context.Background(), "Ada", testPassword, testClient)
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
			_, _, errs[i] = s.CreateProfile(context.Background(), "", name, testPassword)
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
				if _, err := s.Login(ctx, "Nobody", testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
					t.Errorf("Login(unknown name) error = %v, want %v", err, ErrInvalidCredentials)
				}
				return
			}
			tok, err := s.Login(ctx, "Ada", testPassword, testClient)
			if err != nil {
				t.Errorf("Login error: %v", err)
				return
			}
			sess, err := s.Verify(ctx, tok.Token)
			if err != nil || sess.Profile.ID != ada.ID {
				t.Errorf("Verify = %s, %v, want %s, nil", sess.Profile.ID, err, ada.ID)
			}
		})
	}
	wg.Wait()
}

// TestLoginUnknownNameTiming checks that an unknown name costs about as
// much as a wrong password, because both derive two argon2id keys. The bound
// is loose so that a busy machine does not fail it.
func TestLoginUnknownNameTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("measures argon2id timings")
	}
	ctx := context.Background()
	s, _ := newStoreWithParams(t, defaultArgonParams)
	clock := useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)

	// The first unknown name also prepares the dummy record.
	if _, err := s.Login(ctx, "Nobody", testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("warm-up Login error = %v, want %v", err, ErrInvalidCredentials)
	}

	const rounds = 7
	var known, unknown []time.Duration
	for range rounds {
		for _, name := range []string{"Ada", "Nobody"} {
			clock.Advance(throttleWindow)
			start := time.Now()
			_, err := s.Login(ctx, name, testPassword+"!", testClient)
			elapsed := time.Since(start)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("Login(%q, wrong password) error = %v, want %v", name, err, ErrInvalidCredentials)
			}
			if name == "Ada" {
				known = append(known, elapsed)
			} else {
				unknown = append(unknown, elapsed)
			}
		}
	}

	// Medians, because other work on the machine can slow one sample. An
	// unknown name that skipped argon2id would take well under a tenth of
	// a wrong password.
	slices.Sort(known)
	slices.Sort(unknown)
	t.Logf("wrong password: %v; unknown name: %v", known, unknown)
	if k, u := known[rounds/2], unknown[rounds/2]; u < k/2 {
		t.Errorf("unknown name took %v (median), want at least half of %v, the median for a wrong password", u, k)
	}
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	before := readRecord(t, db, ada.ID)

	if _, err := s.ChangePassword(ctx, ada.ID, testPassword+"!", testNewPassword, "", testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("ChangePassword with wrong current password: error = %v, want %v", err, ErrInvalidCredentials)
	}
	_, err := s.ChangePassword(ctx, ada.ID, testPassword, "short", "", testClient)
	wantInputError(t, err, "password")
	if _, err := s.ChangePassword(ctx, "no-such-profile", testPassword, testNewPassword, "", testClient); !errors.Is(err, ErrNotFound) {
		t.Errorf("ChangePassword of unknown profile: error = %v, want %v", err, ErrNotFound)
	}
	if after := readRecord(t, db, ada.ID); after.PasswordHash != before.PasswordHash {
		t.Fatal("a rejected ChangePassword replaced the password hash")
	}

	tok, err := s.ChangePassword(ctx, ada.ID, testPassword, testNewPassword, "", testClient)
	if err != nil {
		t.Fatalf("ChangePassword error: %v", err)
	}
	if tok.Profile.ID != ada.ID {
		t.Errorf("token profile = %s, want %s", tok.Profile.ID, ada.ID)
	}
	if sess := mustVerify(t, s, tok.Token); sess.Locked {
		t.Error("Verify after ChangePassword: Locked = true, want false")
	}

	if _, err := s.Login(ctx, "Ada", testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with old password: error = %v, want %v", err, ErrInvalidCredentials)
	}
	mustLogin(t, s, "Ada", testNewPassword)
}

func TestRecover(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)

	_, err := s.Recover(ctx, "Ada", recoveryKey, "short", testClient)
	wantInputError(t, err, "password")

	recovery, err := s.Recover(ctx, "Ada", recoveryKey, testNewPassword, testClient)
	if err != nil {
		t.Fatalf("Recover error: %v", err)
	}
	tok, newKey := recovery.Token, recovery.RecoveryKey
	if tok.Profile.ID != ada.ID {
		t.Errorf("token profile = %s, want %s", tok.Profile.ID, ada.ID)
	}
	if !recoveryKeyPattern.MatchString(newKey) {
		t.Errorf("new recovery key %q does not match %s", newKey, recoveryKeyPattern)
	}
	if newKey == recoveryKey {
		t.Error("Recover returned the recovery key it was given, want a new one")
	}
	if sess := mustVerify(t, s, tok.Token); sess.Locked {
		t.Error("Verify after Recover: Locked = true, want false")
	}

	if _, err := s.Login(ctx, "Ada", testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with old password: error = %v, want %v", err, ErrInvalidCredentials)
	}
	if _, err := s.Recover(ctx, "Ada", recoveryKey, testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Recover with old recovery key: error = %v, want %v", err, ErrInvalidCredentials)
	}
	mustLogin(t, s, "Ada", testNewPassword)
	if _, err := s.Recover(ctx, "Ada", newKey, testPassword, testClient); err != nil {
		t.Errorf("Recover with new recovery key: error = %v, want nil", err)
	}
}

func TestRecoverTypedForms(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	_, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)

	// Each form is applied to the key that the previous Recover returned.
	forms := []struct {
		name   string
		retype func(string) string
	}{
		{"display form", func(k string) string { return k }},
		{"lowercase", strings.ToLower},
		{"without dashes", func(k string) string { return strings.ReplaceAll(k, "-", "") }},
		{"spaces for dashes", func(k string) string { return strings.ReplaceAll(k, "-", " ") }},
		{"lookalike letters", func(k string) string {
			return strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(strings.ReplaceAll(k, "-", "")))
		}},
	}
	for _, f := range forms {
		typed := f.retype(recoveryKey)
		recovery, err := s.Recover(ctx, "Ada", typed, testNewPassword, testClient)
		if err != nil {
			t.Fatalf("Recover with %s %q: error = %v, want nil", f.name, typed, err)
		}
		recoveryKey = recovery.RecoveryKey
	}
}

func TestRecoverRejected(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	ada, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)
	_, otherKey := mustCreateWithKey(t, s, ada.ID, "Grace", testPassword)

	tests := []struct {
		name        string
		profileName string
		recoveryKey string
	}{
		{"another profile's key", "Ada", otherKey},
		{"unknown name", "Nobody", recoveryKey},
		{"one character changed", "Ada", flipRecoveryKey(recoveryKey)},
		{"empty key", "Ada", ""},
		{"31 characters", "Ada", strings.ReplaceAll(recoveryKey, "-", "")[1:]},
		{"letter U", "Ada", "U" + recoveryKey[1:]},
		{"invalid name", "Ada\nLovelace", recoveryKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(throttleWindow)
			recovery, err := s.Recover(ctx, tt.profileName, tt.recoveryKey, testNewPassword, testClient)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("error = %v, want %v", err, ErrInvalidCredentials)
			}
			if got, want := err.Error(), ErrInvalidCredentials.Error(); got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			if recovery != (Recovery{}) {
				t.Errorf("recovery = %+v, want zero", recovery)
			}
		})
	}
	mustLogin(t, s, "Ada", testPassword)
}

// flipRecoveryKey returns key with its first character replaced by another
// character of the Crockford alphabet.
func flipRecoveryKey(key string) string {
	if key[0] == 'A' {
		return "B" + key[1:]
	}
	return "A" + key[1:]
}

func TestDeleteOwnProfile(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	token := mustLogin(t, s, "Grace", testPassword).Token

	for _, password := range []string{"", testPassword + "!"} {
		if _, err := s.DeleteProfile(ctx, grace.ID, grace.ID, password, "", testClient); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("DeleteProfile(self, password %q) error = %v, want %v", password, err, ErrInvalidCredentials)
		}
	}
	if _, err := s.Profile(ctx, grace.ID); err != nil {
		t.Fatalf("profile after rejected deletion: error = %v, want nil", err)
	}

	deleted, err := s.DeleteProfile(ctx, grace.ID, grace.ID, testPassword, "", testClient)
	if err != nil {
		t.Fatalf("DeleteProfile(self, right password) error: %v", err)
	}
	if deleted.ID != grace.ID {
		t.Errorf("deleted profile = %s, want %s", deleted.ID, grace.ID)
	}
	if _, err := s.Profile(ctx, grace.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Profile after deletion: error = %v, want %v", err, ErrNotFound)
	}
	if _, err := s.DataKey(grace.ID); !errors.Is(err, ErrLocked) {
		t.Errorf("DataKey after deletion: error = %v, want %v", err, ErrLocked)
	}
	wantInvalidToken(t, s, token)
	if _, err := s.Login(ctx, "Grace", testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login after deletion: error = %v, want %v", err, ErrInvalidCredentials)
	}
}

func TestAdminDeletesUser(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	token := mustLogin(t, s, "Grace", testPassword).Token

	if _, err := s.DeleteProfile(ctx, ada.ID, grace.ID, "", "", testClient); err != nil {
		t.Fatalf("admin DeleteProfile(user) without password: error = %v, want nil", err)
	}
	wantInvalidToken(t, s, token)
	if _, err := s.DeleteProfile(ctx, ada.ID, grace.ID, "", "", testClient); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteProfile twice: error = %v, want %v", err, ErrNotFound)
	}

	// The name is free again, for a new profile with its own id and keys.
	again := mustCreate(t, s, ada.ID, "grace", testNewPassword)
	if again.ID == grace.ID {
		t.Errorf("new profile reuses the deleted id %s", grace.ID)
	}
	if tok := mustLogin(t, s, "Grace", testNewPassword); tok.Profile.ID != again.ID {
		t.Errorf("Login(Grace) profile = %s, want %s", tok.Profile.ID, again.ID)
	}
	wantInvalidToken(t, s, token)
}

func TestUserCannotManageOthers(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	linus := mustCreate(t, s, ada.ID, "Linus", testPassword)

	tests := []struct {
		name string
		op   func() error
	}{
		{"delete another user", func() error {
			_, err := s.DeleteProfile(ctx, grace.ID, linus.ID, testPassword, "", testClient)
			return err
		}},
		{"delete the admin", func() error {
			_, err := s.DeleteProfile(ctx, grace.ID, ada.ID, testPassword, "", testClient)
			return err
		}},
		{"promote self", func() error {
			_, err := s.SetRole(ctx, grace.ID, grace.ID, RoleAdmin)
			return err
		}},
		{"promote another user", func() error {
			_, err := s.SetRole(ctx, grace.ID, linus.ID, RoleAdmin)
			return err
		}},
		{"demote the admin", func() error {
			_, err := s.SetRole(ctx, grace.ID, ada.ID, RoleUser)
			return err
		}},
		{"unknown actor deletes", func() error {
			_, err := s.DeleteProfile(ctx, "no-such-profile", linus.ID, "", "", testClient)
			return err
		}},
		{"no actor sets role", func() error {
			_, err := s.SetRole(ctx, "", linus.ID, RoleAdmin)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, ErrForbidden) {
				t.Errorf("error = %v, want %v", err, ErrForbidden)
			}
		})
	}

	list, err := s.Profiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Errorf("%d profiles after rejected deletions, want 3", len(list))
	}
	wantRoles := map[string]Role{ada.ID: RoleAdmin, grace.ID: RoleUser, linus.ID: RoleUser}
	for _, p := range list {
		if p.Role != wantRoles[p.ID] {
			t.Errorf("role of %s after rejected changes = %q, want %q", p.Name, p.Role, wantRoles[p.ID])
		}
	}
}

func TestLastAdmin(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)

	// Ada is the only admin and can neither leave nor step down.
	if _, err := s.DeleteProfile(ctx, ada.ID, ada.ID, testPassword, "", testClient); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("last admin deletes self: error = %v, want %v", err, ErrLastAdmin)
	}
	if _, err := s.SetRole(ctx, ada.ID, ada.ID, RoleUser); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("last admin demotes self: error = %v, want %v", err, ErrLastAdmin)
	}

	// With a second admin, Ada may step down; then Grace is the last admin.
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	if p, err := s.SetRole(ctx, ada.ID, grace.ID, RoleAdmin); err != nil || p.Role != RoleAdmin {
		t.Fatalf("promote Grace = %q, %v, want %q, nil", p.Role, err, RoleAdmin)
	}
	if p, err := s.SetRole(ctx, ada.ID, ada.ID, RoleUser); err != nil || p.Role != RoleUser {
		t.Fatalf("Ada steps down = %q, %v, want %q, nil", p.Role, err, RoleUser)
	}
	if _, err := s.DeleteProfile(ctx, grace.ID, grace.ID, testPassword, "", testClient); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("last admin deletes self: error = %v, want %v", err, ErrLastAdmin)
	}
	if _, err := s.SetRole(ctx, grace.ID, grace.ID, RoleUser); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("last admin demotes self: error = %v, want %v", err, ErrLastAdmin)
	}
	if _, err := s.DeleteProfile(ctx, ada.ID, grace.ID, "", "", testClient); !errors.Is(err, ErrForbidden) {
		t.Errorf("demoted admin deletes last admin: error = %v, want %v", err, ErrForbidden)
	}

	// Two admins again: one admin deletes the other, and the one left is last.
	if _, err := s.SetRole(ctx, grace.ID, ada.ID, RoleAdmin); err != nil {
		t.Fatalf("promote Ada: %v", err)
	}
	if _, err := s.SetRole(ctx, grace.ID, ada.ID, RoleAdmin); err != nil {
		t.Errorf("promote an admin again: error = %v, want nil", err)
	}
	if _, err := s.DeleteProfile(ctx, grace.ID, ada.ID, "", "", testClient); err != nil {
		t.Fatalf("admin deletes the other admin: %v", err)
	}
	if _, err := s.DeleteProfile(ctx, grace.ID, grace.ID, testPassword, "", testClient); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("remaining admin deletes self: error = %v, want %v", err, ErrLastAdmin)
	}
	if p, err := s.Profile(ctx, grace.ID); err != nil || p.Role != RoleAdmin {
		t.Errorf("Grace = %q, %v, want %q, nil", p.Role, err, RoleAdmin)
	}
}

func TestSetRoleInvalid(t *testing.T) {
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	_, err := s.SetRole(context.Background(), ada.ID, ada.ID, "owner")
	wantInputError(t, err, "role")
}

// TestChangePasswordKeepsNewRole checks that a password change does not write
// back a role read before its key derivation. The clock hook demotes Ada
// while ChangePassword runs, after it has read her record.
func TestChangePasswordKeepsNewRole(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	if _, err := s.SetRole(ctx, ada.ID, grace.ID, RoleAdmin); err != nil {
		t.Fatal(err)
	}

	// ChangePassword reads the clock when it checks the throttle and again
	// after the password check, where the hook steps in.
	calls := 0
	s.now = func() time.Time {
		calls++
		if calls == 2 {
			s.now = time.Now
			if _, err := s.SetRole(ctx, ada.ID, grace.ID, RoleUser); err != nil {
				t.Errorf("demote Grace during ChangePassword: %v", err)
			}
			if err := s.SetIdleLock(ctx, grace.ID, time.Minute); err != nil {
				t.Errorf("set Grace's idle lock during ChangePassword: %v", err)
			}
		}
		return time.Now()
	}
	if _, err := s.ChangePassword(ctx, grace.ID, testPassword, testNewPassword, "", testClient); err != nil {
		t.Fatalf("ChangePassword error: %v", err)
	}
	if calls < 2 {
		t.Fatalf("clock read %d times during ChangePassword, want at least 2", calls)
	}

	p, err := s.Profile(ctx, grace.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != RoleUser {
		t.Errorf("role after ChangePassword = %q, want %q", p.Role, RoleUser)
	}
	if p.IdleLock != time.Minute {
		t.Errorf("idle lock after ChangePassword = %v, want %v", p.IdleLock, time.Minute)
	}
}

func BenchmarkLogin(b *testing.B) {
	s, _ := newStoreWithParams(b, defaultArgonParams)
	mustCreate(b, s, "", "Ada Lovelace", testPassword)
	ctx := context.Background()

	for b.Loop() {
		if _, err := s.Login(ctx, "Ada Lovelace", testPassword, testClient); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginRejected measures sign-ins that fail: a wrong password for
// a profile made with the current parameters, the same for a profile made
// with Hearth's first ones and not yet rehashed, and an unknown name. The
// first and the last should cost the same. The clock moves past the
// throttle before each attempt, so that none is turned away unchecked.
func BenchmarkLoginRejected(b *testing.B) {
	tests := []struct {
		name    string
		params  argonParams
		profile string
	}{
		{"wrong_password", defaultArgonParams, "Ada Lovelace"},
		{"wrong_password_first_params", firstArgonParams, "Ada Lovelace"},
		{"unknown_name", defaultArgonParams, "Nobody"},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			// Ada is made by a Store with tt.params and signed in to by
			// one with the default parameters, as after an upgrade.
			db := openDB(b, filepath.Join(b.TempDir(), "hearth.db"))
			installKey := seal.NewKey()
			creator := openStore(b, db, installKey, withArgonParams(tt.params))
			mustCreate(b, creator, "", "Ada Lovelace", testPassword)
			creator.Close()
			s := openStore(b, db, installKey, withArgonParams(defaultArgonParams))
			s.dummyRecord()
			clock := useClock(s, testNow)
			ctx := context.Background()

			for b.Loop() {
				clock.Advance(throttleWindow)
				if _, err := s.Login(ctx, tt.profile, testNewPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
					b.Fatalf("Login error = %v, want %v", err, ErrInvalidCredentials)
				}
			}
		})
	}
}

func BenchmarkRecover(b *testing.B) {
	s, _ := newStoreWithParams(b, defaultArgonParams)
	_, recoveryKey := mustCreateWithKey(b, s, "", "Ada Lovelace", testPassword)
	ctx := context.Background()

	for b.Loop() {
		recovery, err := s.Recover(ctx, "Ada Lovelace", recoveryKey, testNewPassword, testClient)
		if err != nil {
			b.Fatal(err)
		}
		recoveryKey = recovery.RecoveryKey
	}
}

func TestProfilesSortedByCollation(t *testing.T) {
	s, _ := newStore(t)
	admin := mustCreate(t, s, "", "zoë", testPassword)
	for _, name := range []string{"Álvaro", "bob", "Alice", "Zack"} {
		mustCreate(t, s, admin.ID, name, testPassword)
	}
	list, err := s.Profiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range list {
		got = append(got, p.Name)
	}
	if want := "Alice Álvaro bob Zack zoë"; strings.Join(got, " ") != want {
		t.Fatalf("Profiles order = %q, want %q", strings.Join(got, " "), want)
	}
}
