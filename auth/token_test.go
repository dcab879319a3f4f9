package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.etcd.io/bbolt"

	"hearth/seal"
)

// testNow is the fixed clock of the token tests.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// forge signs a token with method and key. The header gets kid, and edit may
// change the header and the claims before signing. The claims start as those
// of a valid token for the profile rec.
func forge(tb testing.TB, method jwt.SigningMethod, key any, rec profileRecord, edit func(header map[string]any, c jwt.MapClaims)) string {
	tb.Helper()
	c := jwt.MapClaims{
		"iss":  tokenIssuer,
		"sub":  rec.ID,
		"aud":  []string{tokenAudience},
		"exp":  testNow.Add(time.Hour).Unix(),
		"nbf":  testNow.Unix(),
		"iat":  testNow.Unix(),
		"jti":  "test-token",
		"role": string(rec.Role),
		"ver":  rec.TokenVersion,
	}
	t := jwt.NewWithClaims(method, c)
	t.Header["kid"] = rec.ID
	if edit != nil {
		edit(t.Header, c)
	}
	signed, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("sign token: %v", err)
	}
	return signed
}

// wantInvalidToken fails the test unless Verify rejects token with
// ErrInvalidToken and an empty session.
func wantInvalidToken(t *testing.T, s *Store, token string) {
	t.Helper()
	sess, err := s.Verify(context.Background(), token)
	if !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify error = %v, want %v", err, ErrInvalidToken)
	}
	if sess != (Session{}) {
		t.Errorf("Verify session = %+v, want zero", sess)
	}
}

func TestVerifyForged(t *testing.T) {
	s, db := newStore(t)
	s.now = func() time.Time { return testNow }
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	adaRec := readRecord(t, db, ada.ID)
	key := signingKey(t, s, db, ada.ID)

	tests := []struct {
		name   string
		method jwt.SigningMethod
		key    any
		edit   func(h map[string]any, c jwt.MapClaims)
		valid  bool
	}{
		// The control case shows that forge builds tokens Verify accepts,
		// so each rejection below comes from its one edit.
		{name: "control", valid: true},
		{name: "expired within leeway", valid: true, edit: func(h map[string]any, c jwt.MapClaims) {
			c["exp"] = testNow.Add(-tokenLeeway + time.Second).Unix()
		}},

		{name: "alg none", method: jwt.SigningMethodNone, key: jwt.UnsafeAllowNoneSignatureType},
		{name: "HS512 with right key", method: jwt.SigningMethodHS512},
		{name: "HS384 with right key", method: jwt.SigningMethodHS384},
		{name: "RS256 header", edit: func(h map[string]any, c jwt.MapClaims) { h["alg"] = "RS256" }},
		{name: "no alg", edit: func(h map[string]any, c jwt.MapClaims) { delete(h, "alg") }},
		{name: "no exp", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "exp") }},
		{name: "no iat", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "iat") }},
		{name: "no nbf", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "nbf") }},
		{name: "lifetime of 100 years", edit: func(h map[string]any, c jwt.MapClaims) { c["exp"] = testNow.AddDate(100, 0, 0).Unix() }},
		{name: "lifetime just over the TTL", edit: func(h map[string]any, c jwt.MapClaims) { c["exp"] = testNow.Add(DefaultTokenTTL + time.Second).Unix() }},
		{name: "expired beyond leeway", edit: func(h map[string]any, c jwt.MapClaims) {
			c["exp"] = testNow.Add(-tokenLeeway - time.Second).Unix()
		}},
		{name: "nbf in future", edit: func(h map[string]any, c jwt.MapClaims) {
			c["nbf"] = testNow.Add(tokenLeeway + time.Second).Unix()
		}},
		{name: "iat in future", edit: func(h map[string]any, c jwt.MapClaims) {
			c["iat"] = testNow.Add(tokenLeeway + time.Second).Unix()
		}},
		{name: "wrong iss", edit: func(h map[string]any, c jwt.MapClaims) { c["iss"] = "not-hearth" }},
		{name: "no iss", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "iss") }},
		{name: "wrong aud", edit: func(h map[string]any, c jwt.MapClaims) { c["aud"] = "hearth-remote" }},
		{name: "no aud", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "aud") }},
		{name: "other profile's key", key: signingKey(t, s, db, grace.ID)},
		{name: "sealed signing key", key: adaRec.SigningKey},
		{name: "empty key", key: []byte{}},
		{name: "unknown kid", edit: func(h map[string]any, c jwt.MapClaims) {
			h["kid"], c["sub"] = "no-such-profile", "no-such-profile"
		}},
		{name: "missing kid", edit: func(h map[string]any, c jwt.MapClaims) { delete(h, "kid") }},
		{name: "empty kid", edit: func(h map[string]any, c jwt.MapClaims) { h["kid"] = "" }},
		{name: "kid not a string", edit: func(h map[string]any, c jwt.MapClaims) { h["kid"] = 1 }},
		{name: "sub differs from kid", edit: func(h map[string]any, c jwt.MapClaims) { c["sub"] = grace.ID }},
		{name: "no sub", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "sub") }},
		{name: "version lower", edit: func(h map[string]any, c jwt.MapClaims) { c["ver"] = adaRec.TokenVersion - 1 }},
		{name: "version higher", edit: func(h map[string]any, c jwt.MapClaims) { c["ver"] = adaRec.TokenVersion + 1 }},
		{name: "no version", edit: func(h map[string]any, c jwt.MapClaims) { delete(c, "ver") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, signKey := tt.method, tt.key
			if method == nil {
				method = jwt.SigningMethodHS256
			}
			if signKey == nil {
				signKey = key
			}
			token := forge(t, method, signKey, adaRec, tt.edit)

			if !tt.valid {
				wantInvalidToken(t, s, token)
				return
			}
			sess, err := s.Verify(context.Background(), token)
			if err != nil {
				t.Fatalf("Verify error = %v, want nil", err)
			}
			if sess.Profile.ID != ada.ID {
				t.Errorf("Verify profile = %s, want %s", sess.Profile.ID, ada.ID)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	s, _ := newStore(t)
	mustCreate(t, s, "", "Ada", testPassword)
	valid := mustLogin(t, s, "Ada", testPassword).Token
	parts := strings.Split(valid, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	header, payload, signature := parts[0], parts[1], parts[2]

	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not a token"},
		{"dots only", ".."},
		{"three empty segments", "a.b.c"},
		{"1 MB string", strings.Repeat("a", 1<<20)},
		{"1 MB token-shaped", header + "." + strings.Repeat("A", 1<<20) + "." + signature},
		{"no signature", header + "." + payload},
		{"empty signature", header + "." + payload + "."},
		{"extra segment", valid + "." + signature},
		{"trailing space", valid + " "},
		{"Bearer prefix", "Bearer " + valid},
		{"padded signature", valid + "="},
		{"signature bit flipped", header + "." + payload + "." + flipFirst(signature)},
		{"signature unused bits altered", header + "." + payload + "." + alterUnusedBits(signature)},
		{"payload changed", header + "." + flipFirst(payload) + "." + signature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalidToken(t, s, tt.token)
		})
	}

	if _, err := s.Verify(context.Background(), valid); err != nil {
		t.Errorf("Verify(valid token) error = %v, want nil", err)
	}
}

// base64URLAlphabet is the base64url alphabet, indexed by the 6-bit value
// each character encodes.
const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// alterUnusedBits returns the unpadded base64url encoding of a 32-byte
// signature with one of the two unused bits of its last character set
// differently. A lenient decoder maps both strings to the same bytes.
func alterUnusedBits(signature string) string {
	last := strings.IndexByte(base64URLAlphabet, signature[len(signature)-1])
	return signature[:len(signature)-1] + string(base64URLAlphabet[last^1])
}

// flipFirst returns s with its first character replaced by another
// character of the base64url alphabet.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestVerifyExpiry(t *testing.T) {
	s, _ := newStore(t)
	now := testNow
	s.now = func() time.Time { return now }
	mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token

	tests := []struct {
		name  string
		after time.Duration
		valid bool
	}{
		{"at issue", 0, true},
		{"one hour later", time.Hour, true},
		{"at expiry", DefaultTokenTTL, true},
		{"within leeway", DefaultTokenTTL + tokenLeeway - time.Second, true},
		{"beyond leeway", DefaultTokenTTL + tokenLeeway + time.Second, false},
		{"before issue beyond leeway", -tokenLeeway - time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = testNow.Add(tt.after)
			_, err := s.Verify(context.Background(), token)
			if tt.valid && err != nil {
				t.Errorf("Verify error = %v, want nil", err)
			}
			if !tt.valid && !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify error = %v, want %v", err, ErrInvalidToken)
			}
		})
	}
}

func TestVerifyRevoked(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token
	if _, err := s.Verify(context.Background(), token); err != nil {
		t.Fatalf("Verify before revocation: error = %v", err)
	}

	rec := readRecord(t, db, ada.ID)
	rec.TokenVersion++
	writeRecord(t, s, db, rec)

	wantInvalidToken(t, s, token)

	fresh := mustLogin(t, s, "Ada", testPassword).Token
	if _, err := s.Verify(context.Background(), fresh); err != nil {
		t.Errorf("Verify token issued after revocation: error = %v, want nil", err)
	}
}

// TestVerifyReturnsCurrentProfile checks that Verify reads a record changed
// after an earlier Verify, which has cached the older one.
func TestVerifyReturnsCurrentProfile(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token
	mustVerify(t, s, token)

	rec := readRecord(t, db, ada.ID)
	rec.Name = "Ada Lovelace"
	rec.Role = RoleUser
	writeRecord(t, s, db, rec)

	p := mustVerify(t, s, token).Profile
	if p.Name != "Ada Lovelace" || p.Role != RoleUser {
		t.Errorf("Verify profile name, role = %q, %q, want %q, %q", p.Name, p.Role, "Ada Lovelace", RoleUser)
	}
}

func TestVerifyDeletedProfile(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token
	mustVerify(t, s, token)

	err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(profilesBucket).Delete([]byte(ada.ID))
	})
	if err != nil {
		t.Fatal(err)
	}

	wantInvalidToken(t, s, token)
}

// FuzzVerify checks that no input makes Verify panic and that the only
// string it accepts is the one valid token. The token is built from a fixed
// signing key, id and clock, so every fuzzing worker process has the same
// one, although each seals the signing key under its own install key.
func FuzzVerify(f *testing.F) {
	s, db := newStore(f)
	s.now = func() time.Time { return testNow }
	key := []byte("0123456789abcdef0123456789abcdef")
	sealKey, err := seal.KeyFrom(key)
	if err != nil {
		f.Fatal(err)
	}
	rec := profileRecord{
		Version: profileRecordVersion, ID: "fuzz-profile", Name: "Fuzz", Role: RoleAdmin,
		CreatedAt: testNow, UpdatedAt: testNow, PasswordHash: "unused",
		SigningKey: s.installKey.SealKey(sealKey, signingKeyAD("fuzz-profile")), TokenVersion: 1,
	}
	writeRecord(f, s, db, rec)
	valid := forge(f, jwt.SigningMethodHS256, key, rec, nil)
	if _, err := s.Verify(context.Background(), valid); err != nil {
		f.Fatalf("Verify(valid token) error = %v", err)
	}

	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add("")
	f.Add("..")
	f.Add(valid[:len(valid)-1])
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + "." + parts[1] + "." + alterUnusedBits(parts[2]))
	f.Add(parts[1] + "." + parts[0] + "." + parts[2])
	f.Add(forge(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, rec, nil))
	f.Add(forge(f, jwt.SigningMethodHS512, key, rec, nil))
	f.Add(forge(f, jwt.SigningMethodHS256, rec.SigningKey, rec, nil))
	f.Add(forge(f, jwt.SigningMethodHS256, key, rec, func(h map[string]any, c jwt.MapClaims) {
		c["exp"] = testNow.Add(-time.Hour).Unix()
	}))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"fuzz-profile"}`)) + "." + parts[1] + "." + parts[2])

	f.Fuzz(func(t *testing.T, token string) {
		sess, err := s.Verify(context.Background(), token)
		if token == valid {
			if err != nil {
				t.Fatalf("Verify(valid token) error = %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("Verify(%q) accepted a token other than the valid one, session %+v", token, sess)
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify(%q) error = %v, want %v", token, err, ErrInvalidToken)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	s, _ := newStore(b)
	mustCreate(b, s, "", "Ada", testPassword)
	token := mustLogin(b, s, "Ada", testPassword).Token
	ctx := context.Background()

	for b.Loop() {
		if _, err := s.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifyDeletedProfileKey(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	s.now = func() time.Time { return testNow }
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	token := mustLogin(t, s, "Grace", testPassword).Token
	oldRec := readRecord(t, db, grace.ID)
	oldKey := signingKey(t, s, db, grace.ID)

	if _, err := s.DeleteProfile(ctx, ada.ID, grace.ID, "", "", testClient); err != nil {
		t.Fatal(err)
	}
	again := mustCreate(t, s, ada.ID, "Grace", testPassword)
	newRec := readRecord(t, db, again.ID)

	tests := []struct {
		name  string
		token string
	}{
		{"token issued before deletion", token},
		{"old key, old id", forge(t, jwt.SigningMethodHS256, oldKey, oldRec, nil)},
		{"old key, new profile's id", forge(t, jwt.SigningMethodHS256, oldKey, newRec, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalidToken(t, s, tt.token)
		})
	}

	// The control shows that the new profile's own key still works.
	mustVerify(t, s, forge(t, jwt.SigningMethodHS256, signingKey(t, s, db, again.ID), newRec, nil))
}

func TestVerifyAfterLogout(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	mustCreate(t, s, "", "Ada", testPassword)
	first := mustLogin(t, s, "Ada", testPassword).Token
	second := mustLogin(t, s, "Ada", testPassword).Token

	if err := s.Logout(ctx, mustVerify(t, s, first)); err != nil {
		t.Fatalf("Logout error: %v", err)
	}
	wantInvalidToken(t, s, first)

	// Other sessions of the profile stay signed in, but locked.
	if sess := mustVerify(t, s, second); !sess.Locked {
		t.Error("other session after Logout: Locked = false, want true")
	}
}

func TestVerifyAfterPasswordChange(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	old := mustLogin(t, s, "Ada", testPassword).Token

	tok, err := s.ChangePassword(ctx, ada.ID, testPassword, testNewPassword, "", testClient)
	if err != nil {
		t.Fatalf("ChangePassword error: %v", err)
	}
	wantInvalidToken(t, s, old)
	mustVerify(t, s, tok.Token)
}

func TestVerifyAfterRecover(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	_, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)
	old := mustLogin(t, s, "Ada", testPassword).Token

	recovery, err := s.Recover(ctx, "Ada", recoveryKey, testNewPassword, testClient)
	if err != nil {
		t.Fatalf("Recover error: %v", err)
	}
	tok := recovery.Token
	wantInvalidToken(t, s, old)
	mustVerify(t, s, tok.Token)
}

func TestVerifyIgnoresRoleClaim(t *testing.T) {
	s, db := newStore(t)
	s.now = func() time.Time { return testNow }
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	graceRec := readRecord(t, db, grace.ID)

	// A token signed with Grace's own key that claims the admin role proves
	// who she is, not what she may do.
	claimsAdmin := forge(t, jwt.SigningMethodHS256, signingKey(t, s, db, grace.ID), graceRec, func(h map[string]any, c jwt.MapClaims) {
		c["role"] = string(RoleAdmin)
	})
	if sess := mustVerify(t, s, claimsAdmin); sess.Profile.Role != RoleUser {
		t.Errorf("Verify role = %q, want the stored %q", sess.Profile.Role, RoleUser)
	}

	// The same claim edited into a real token without signing it again
	// breaks the signature.
	parts := strings.Split(mustLogin(t, s, "Grace", testPassword).Token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(payload), `"role":"user"`, `"role":"admin"`, 1)
	if edited == string(payload) {
		t.Fatalf("payload %s has no user role claim to edit", payload)
	}
	wantInvalidToken(t, s, parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(edited))+"."+parts[2])
}

func TestVerifyOtherInstallKey(t *testing.T) {
	s, db := newStore(t)
	mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token

	// The same data file opened with another install key cannot unseal the
	// signing key, so it accepts no token signed with it.
	other := openStore(t, db, seal.NewKey())
	wantInvalidToken(t, other, token)

	// Nor does it trust the profile records, whose MACs were made with the
	// first install key: signing in fails until the records are adopted.
	if _, err := other.Login(context.Background(), "Ada", testPassword, testClient); !errors.Is(err, ErrTampered) {
		t.Fatalf("Login under another install key: error = %v, want %v", err, ErrTampered)
	}
	if err := other.AdoptInstallKey(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Adopting gives Ada a new signing key sealed under the other install
	// key, which the first install key cannot unseal in turn.
	otherToken := mustLogin(t, other, "Ada", testPassword).Token
	mustVerify(t, other, otherToken)
	wantInvalidToken(t, s, otherToken)
	wantInvalidToken(t, s, token)
	wantInvalidToken(t, other, token)
}

func TestTamperedRecordRejected(t *testing.T) {
	s, db := newStore(t)
	admin := mustCreate(t, s, "", "Ada", testPassword)
	user := mustCreate(t, s, admin.ID, "Grace", testPassword)
	token := mustLogin(t, s, "Grace", testPassword).Token
	mustVerify(t, s, token)

	// Someone with write access to the data file, but not the install key,
	// makes Grace an admin by editing her record.
	err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(profilesBucket)
		v := strings.Replace(string(b.Get([]byte(user.ID))), `"role":"user"`, `"role":"admin"`, 1)
		return b.Put([]byte(user.ID), []byte(v))
	})
	if err != nil {
		t.Fatal(err)
	}
	wantInvalidToken(t, s, token)
	// Again, so that a rejected record left in the cache of verified
	// records would show.
	wantInvalidToken(t, s, token)
	if _, err := s.Login(context.Background(), "Grace", testPassword, testClient); !errors.Is(err, ErrTampered) {
		t.Fatalf("Login after tampering: error = %v, want %v", err, ErrTampered)
	}
	if _, _, err := s.CreateProfile(context.Background(), user.ID, "Mallory", testPassword); !errors.Is(err, ErrForbidden) {
		t.Fatalf("CreateProfile by the tampered admin: error = %v, want %v", err, ErrForbidden)
	}
}
