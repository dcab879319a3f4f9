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
// ErrInvalidToken and an empty profile.
func wantInvalidToken(t *testing.T, s *Store, token string) {
	t.Helper()
	p, err := s.Verify(context.Background(), token)
	if !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify error = %v, want %v", err, ErrInvalidToken)
	}
	if p != (Profile{}) {
		t.Errorf("Verify profile = %+v, want zero", p)
	}
}

func TestVerifyForged(t *testing.T) {
	s, db := newStore(t)
	s.now = func() time.Time { return testNow }
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	adaRec := readRecord(t, db, ada.ID)
	graceRec := readRecord(t, db, grace.ID)
	key := adaRec.SigningKey

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
		{name: "other profile's key", key: graceRec.SigningKey},
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
			p, err := s.Verify(context.Background(), token)
			if err != nil {
				t.Fatalf("Verify error = %v, want nil", err)
			}
			if p.ID != ada.ID {
				t.Errorf("Verify profile = %s, want %s", p.ID, ada.ID)
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
	writeRecord(t, db, rec)

	wantInvalidToken(t, s, token)

	fresh := mustLogin(t, s, "Ada", testPassword).Token
	if _, err := s.Verify(context.Background(), fresh); err != nil {
		t.Errorf("Verify token issued after revocation: error = %v, want nil", err)
	}
}

func TestVerifyReturnsCurrentProfile(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token

	rec := readRecord(t, db, ada.ID)
	rec.Name = "Ada Lovelace"
	rec.Role = RoleUser
	writeRecord(t, db, rec)

	p, err := s.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify error: %v", err)
	}
	if p.Name != "Ada Lovelace" || p.Role != RoleUser {
		t.Errorf("Verify profile name, role = %q, %q, want %q, %q", p.Name, p.Role, "Ada Lovelace", RoleUser)
	}
}

func TestVerifyDeletedProfile(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token

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
// key, id and clock, so every fuzzing worker process has the same one.
func FuzzVerify(f *testing.F) {
	s, db := newStore(f)
	s.now = func() time.Time { return testNow }
	rec := profileRecord{
		Version: profileRecordVersion, ID: "fuzz-profile", Name: "Fuzz", Role: RoleAdmin,
		CreatedAt: testNow, UpdatedAt: testNow, PasswordHash: "unused",
		SigningKey: []byte("0123456789abcdef0123456789abcdef"), TokenVersion: 1,
	}
	writeRecord(f, db, rec)
	valid := forge(f, jwt.SigningMethodHS256, rec.SigningKey, rec, nil)
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
	f.Add(forge(f, jwt.SigningMethodHS512, rec.SigningKey, rec, nil))
	f.Add(forge(f, jwt.SigningMethodHS256, rec.SigningKey, rec, func(h map[string]any, c jwt.MapClaims) {
		c["exp"] = testNow.Add(-time.Hour).Unix()
	}))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"fuzz-profile"}`)) + "." + parts[1] + "." + parts[2])

	f.Fuzz(func(t *testing.T, token string) {
		p, err := s.Verify(context.Background(), token)
		if token == valid {
			if err != nil {
				t.Fatalf("Verify(valid token) error = %v", err)
			}
			return
		}
		if err == nil {
			t.Fatalf("Verify(%q) accepted a token other than the valid one, profile %+v", token, p)
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
