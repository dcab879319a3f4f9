package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"hearth/seal"
)

// sampleRecoveryKey uses every character of Crockford's alphabet once, so
// the lookalike cases below have a 0 and a 1 to replace.
const sampleRecoveryKey = "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"

func TestNewRecoveryKey(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		display, raw := newRecoveryKey()
		if !recoveryKeyPattern.MatchString(display) {
			t.Fatalf("recovery key %q does not match %s", display, recoveryKeyPattern)
		}
		if len(raw) != recoveryKeyBytes {
			t.Fatalf("recovery key has %d bytes, want %d", len(raw), recoveryKeyBytes)
		}
		if seen[display] {
			t.Fatalf("recovery key %q returned twice", display)
		}
		seen[display] = true

		got, ok := parseRecoveryKey(display)
		if !ok || !bytes.Equal(got, raw) {
			t.Fatalf("parseRecoveryKey(%q) = %x, %v, want %x, true", display, got, ok, raw)
		}
	}
}

func TestParseRecoveryKeyAccepted(t *testing.T) {
	want, ok := parseRecoveryKey(sampleRecoveryKey)
	if !ok {
		t.Fatalf("parseRecoveryKey(%q) rejected the display form", sampleRecoveryKey)
	}
	tests := []struct {
		name  string
		typed string
	}{
		{"lowercase", "0123-4567-89ab-cdef-ghjk-mnpq-rstv-wxyz"},
		{"without dashes", "0123456789ABCDEFGHJKMNPQRSTVWXYZ"},
		{"spaces and tabs", " 0123 4567\t89AB CDEF GHJK MNPQ RSTV WXYZ "},
		{"line breaks", "0123-4567-89AB-CDEF\r\nGHJK-MNPQ-RSTV-WXYZ\n"},
		{"O for 0", "O123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"o for 0", "o123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"I for 1", "0I23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"i for 1", "0i23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"L for 1", "0L23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"l for 1", "0l23-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"all at once", "ol234567 89abcdef-ghjkmnpq rstvwxyz"},
		{"fullwidth digit", "\uff10123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"non-breaking spaces", "0123\u00a04567\u00a089AB CDEF GHJK MNPQ RSTV WXYZ"},
		{"en and em dashes", "0123\u20134567\u201489AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRecoveryKey(tt.typed)
			if !ok {
				t.Fatalf("parseRecoveryKey(%q) rejected it", tt.typed)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parseRecoveryKey(%q) = %x, want %x", tt.typed, got, want)
			}
		})
	}
}

func TestParseRecoveryKeyRejected(t *testing.T) {
	tests := []struct {
		name  string
		typed string
	}{
		{"empty", ""},
		{"dashes only", "----"},
		{"31 characters", "123456789ABCDEFGHJKMNPQRSTVWXYZ"},
		{"one extra character", "0123456789ABCDEFGHJKMNPQRSTVWXYZ0"},
		{"three extra characters", "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ-ABC"},
		{"six extra characters", "0123456789ABCDEFGHJKMNPQRSTVWXYZABCDEF"},
		{"extra group", "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ-ABCD"},
		{"letter U", "U123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
		{"padding", "0123456789ABCDEFGHJKMNPQRSTVWXY="},
		{"punctuation", "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXY!"},
		{"invalid UTF-8", "\xff123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := parseRecoveryKey(tt.typed); ok {
				t.Errorf("parseRecoveryKey(%q) = %x, true, want a rejection", tt.typed, got)
			}
		})
	}
}

// FuzzParseRecoveryKey checks that no input makes parseRecoveryKey panic and
// that the display form of any 20 bytes taken from the input reads back as
// those bytes. An accepted input must have exactly 32 characters besides
// separators, and its bytes must read back the same from their display form.
func FuzzParseRecoveryKey(f *testing.F) {
	f.Add(sampleRecoveryKey)
	f.Add(strings.ToLower(sampleRecoveryKey))
	f.Add("O1IL-oil0-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ")
	f.Add("")
	f.Add("U")
	f.Add(strings.Repeat("-", 64))
	f.Add("ı123-4567-89AB-CDEF-GHJK-MNPQ-RSTV-WXYZ")

	f.Fuzz(func(t *testing.T, typed string) {
		raw, ok := parseRecoveryKey(typed)
		if ok {
			keyChars := strings.Map(func(r rune) rune {
				if strings.ContainsRune("- \t\r\n", r) {
					return -1
				}
				return r
			}, typed)
			if n := len([]rune(keyChars)); n != crockford.EncodedLen(recoveryKeyBytes) {
				t.Fatalf("parseRecoveryKey(%q) accepted %d key characters, want %d", typed, n, crockford.EncodedLen(recoveryKeyBytes))
			}
			if len(raw) != recoveryKeyBytes {
				t.Fatalf("parseRecoveryKey(%q) = %d bytes, want %d", typed, len(raw), recoveryKeyBytes)
			}
			display := formatRecoveryKey(raw)
			again, ok := parseRecoveryKey(display)
			if !ok || !bytes.Equal(again, raw) {
				t.Fatalf("parseRecoveryKey(%q) = %x, %v after %q gave %x", display, again, ok, typed, raw)
			}
		}

		want := make([]byte, recoveryKeyBytes)
		copy(want, typed)
		display := formatRecoveryKey(want)
		got, ok := parseRecoveryKey(display)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("parseRecoveryKey(%q) = %x, %v, want %x, true", display, got, ok, want)
		}
	})
}

func TestDataKeyAfterPasswordChange(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	dataKey := mustDataKey(t, s, ada.ID)
	sealed := sealWith(t, dataKey, "a thread written before the change")
	before := readRecord(t, db, ada.ID)

	if _, err := s.ChangePassword(ctx, ada.ID, testPassword, testNewPassword, "", testClient); err != nil {
		t.Fatalf("ChangePassword error: %v", err)
	}
	if got := mustDataKey(t, s, ada.ID); !bytes.Equal(got, dataKey) {
		t.Error("data key after ChangePassword differs from the one before")
	}

	// The data key was wrapped again under the new password; the recovery
	// key's wrapping and the data sealed with the key were not touched.
	after := readRecord(t, db, ada.ID)
	if bytes.Equal(after.DataKeyByPassword, before.DataKeyByPassword) {
		t.Error("data key sealed by password is unchanged after ChangePassword")
	}
	if bytes.Equal(after.KDF.Salt, before.KDF.Salt) {
		t.Error("KDF salt is unchanged after ChangePassword")
	}
	if !bytes.Equal(after.DataKeyByRecovery, before.DataKeyByRecovery) {
		t.Error("data key sealed by recovery key changed with the password")
	}

	s.Close()
	mustLogin(t, s, "Ada", testNewPassword)
	if got := mustDataKey(t, s, ada.ID); !bytes.Equal(got, dataKey) {
		t.Error("data key after Login with the new password differs from the original")
	}
	wantOpens(t, s, ada.ID, sealed, "a thread written before the change")
	if _, err := s.Login(ctx, "Ada", testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with old password: error = %v, want %v", err, ErrInvalidCredentials)
	}
}

func TestDataKeyAfterRecover(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	ada, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	dataKey := mustDataKey(t, s, ada.ID)
	sealed := sealWith(t, dataKey, "a thread written before the recovery")
	before := readRecord(t, db, ada.ID)

	// Recovery starts from a locked profile, as after a restart.
	s.Close()
	recovery, err := s.Recover(ctx, "Ada", recoveryKey, testNewPassword, testClient)
	if err != nil {
		t.Fatalf("Recover error: %v", err)
	}
	newKey := recovery.RecoveryKey
	if got := mustDataKey(t, s, ada.ID); !bytes.Equal(got, dataKey) {
		t.Error("data key after Recover differs from the one before")
	}
	wantOpens(t, s, ada.ID, sealed, "a thread written before the recovery")

	after := readRecord(t, db, ada.ID)
	if bytes.Equal(after.DataKeyByPassword, before.DataKeyByPassword) {
		t.Error("data key sealed by password is unchanged after Recover")
	}
	if bytes.Equal(after.DataKeyByRecovery, before.DataKeyByRecovery) || bytes.Equal(after.RecoverySalt, before.RecoverySalt) {
		t.Error("data key sealed by recovery key is unchanged after Recover")
	}

	s.Close()
	mustLogin(t, s, "Ada", testNewPassword)
	if got := mustDataKey(t, s, ada.ID); !bytes.Equal(got, dataKey) {
		t.Error("data key after Login with the new password differs from the original")
	}
	if _, err := s.Login(ctx, "Ada", testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with old password: error = %v, want %v", err, ErrInvalidCredentials)
	}
	if _, err := s.Recover(ctx, "Ada", recoveryKey, testPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Recover with old recovery key: error = %v, want %v", err, ErrInvalidCredentials)
	}

	s.Close()
	if _, err := s.Recover(ctx, "Ada", newKey, testPassword, testClient); err != nil {
		t.Fatalf("Recover with new recovery key: %v", err)
	}
	if got := mustDataKey(t, s, ada.ID); !bytes.Equal(got, dataKey) {
		t.Error("data key after a second Recover differs from the original")
	}
}

// sealWith seals plaintext with the data key bytes key, bound to a record
// name as the memory store would.
func sealWith(tb testing.TB, key []byte, plaintext string) []byte {
	tb.Helper()
	k, err := seal.KeyFrom(key)
	if err != nil {
		tb.Fatal(err)
	}
	defer k.Wipe()
	return k.Seal([]byte(plaintext), []byte("threads/1"))
}

// wantOpens fails the test unless profileID's current data key opens sealed
// to want.
func wantOpens(tb testing.TB, s *Store, profileID string, sealed []byte, want string) {
	tb.Helper()
	k, err := s.DataKey(profileID)
	if err != nil {
		tb.Fatalf("DataKey(%s) error: %v", profileID, err)
	}
	defer k.Wipe()
	got, err := k.Open(sealed, []byte("threads/1"))
	if err != nil {
		tb.Fatalf("open a value sealed with the earlier data key: %v", err)
	}
	if string(got) != want {
		tb.Errorf("opened value = %q, want %q", got, want)
	}
}

func TestDataFileHoldsNoSecrets(t *testing.T) {
	s, db := newStore(t)
	ada, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)
	grace, graceKey := mustCreateWithKey(t, s, ada.ID, "Grace Hopper", testNewPassword)
	mustLogin(t, s, "Ada", testPassword)
	mustLogin(t, s, "Grace Hopper", testNewPassword)

	secrets := map[string][]byte{
		"password":            []byte(testPassword),
		"second password":     []byte(testNewPassword),
		"install key":         s.installKey.Bytes(),
		"data key":            mustDataKey(t, s, ada.ID),
		"second data key":     mustDataKey(t, s, grace.ID),
		"signing key":         signingKey(t, s, db, ada.ID),
		"second signing key":  signingKey(t, s, db, grace.ID),
		"recovery key":        []byte(recoveryKey),
		"second recovery key": []byte(graceKey),
	}
	for name, typed := range map[string]string{"recovery key bytes": recoveryKey, "second recovery key bytes": graceKey} {
		raw, ok := parseRecoveryKey(typed)
		if !ok {
			t.Fatalf("parseRecoveryKey(%q) rejected a key from CreateProfile", typed)
		}
		secrets[name] = raw
	}

	s.Close()
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	for name, secret := range secrets {
		for form, encoded := range secretForms(secret) {
			if bytes.Contains(file, []byte(encoded)) {
				t.Errorf("data file contains the %s as %s", name, form)
			}
		}
	}
}

// secretForms returns the strings that would show secret in a data file: the
// secret itself, lowercased or without dashes, and in each encoding a record
// could use. JSON
// writes []byte fields as base64. A secret inside a longer byte field is
// encoded from an offset that need not start an encoding group, so each
// encoding is also given from every offset within one group, whole groups
// only.
func secretForms(secret []byte) map[string]string {
	forms := map[string]string{
		"raw bytes": string(secret),
		"lowercase": strings.ToLower(string(secret)),
		"no dashes": strings.ReplaceAll(string(secret), "-", ""),
	}
	encodings := []struct {
		name   string
		group  int // bytes per group of output characters
		encode func([]byte) string
	}{
		{"base64", 3, base64.RawStdEncoding.EncodeToString},
		{"base64url", 3, base64.RawURLEncoding.EncodeToString},
		{"hex", 1, hex.EncodeToString},
		{"Crockford base32", 5, crockford.EncodeToString},
	}
	for _, e := range encodings {
		for offset := range e.group {
			whole := (len(secret) - offset) / e.group * e.group
			forms[fmt.Sprintf("%s from byte %d", e.name, offset)] = e.encode(secret[offset : offset+whole])
		}
	}
	return forms
}
