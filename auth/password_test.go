package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"hearth/seal"
)

// phcPattern matches the PHC string that hashPassword writes and captures
// the parameters, the salt and the key.
var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$(m=[0-9]+,t=[0-9]+,p=[0-9]+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

// splitPHC returns the parameters as written, and the decoded salt and key,
// of a hash matching phcPattern.
func splitPHC(t *testing.T, hash string) (params string, salt, key []byte) {
	t.Helper()
	m := phcPattern.FindStringSubmatch(hash)
	if m == nil {
		t.Fatalf("hash %q does not match %s", hash, phcPattern)
	}
	salt, err := base64.RawStdEncoding.DecodeString(m[2])
	if err != nil {
		t.Fatalf("decode salt %q: %v", m[2], err)
	}
	key, err = base64.RawStdEncoding.DecodeString(m[3])
	if err != nil {
		t.Fatalf("decode key %q: %v", m[3], err)
	}
	return m[1], salt, key
}

// TestStoredHashFormat checks the hash and the key parameters that a Store
// opened without options writes: 64 MiB, 3 passes and 1 lane.
func TestStoredHashFormat(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "hearth.db"))
	s, err := Open(db, seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	p := mustCreate(t, s, "", "Ada", testPassword)

	rec := readRecord(t, db, p.ID)
	params, salt, key := splitPHC(t, rec.PasswordHash)
	if want := "m=65536,t=3,p=1"; params != want {
		t.Errorf("hash parameters = %s, want %s", params, want)
	}
	if len(salt) != 16 {
		t.Errorf("salt has %d bytes, want 16", len(salt))
	}
	if len(key) != 32 {
		t.Errorf("key has %d bytes, want 32", len(key))
	}
	if rec.KDF.Memory != 65536 || rec.KDF.Time != 3 || rec.KDF.Threads != 1 {
		t.Errorf("key derivation m=%d, t=%d, p=%d, want m=65536, t=3, p=1", rec.KDF.Memory, rec.KDF.Time, rec.KDF.Threads)
	}
	if len(rec.KDF.Salt) != 16 {
		t.Errorf("key derivation salt has %d bytes, want 16", len(rec.KDF.Salt))
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	a := hashPassword(testPassword, insecureTestArgonParams)
	b := hashPassword(testPassword, insecureTestArgonParams)

	_, saltA, keyA := splitPHC(t, a)
	_, saltB, keyB := splitPHC(t, b)
	if string(saltA) == string(saltB) {
		t.Errorf("two hashes of one password share the salt %x", saltA)
	}
	if string(keyA) == string(keyB) {
		t.Error("two hashes of one password share the key")
	}

	for _, hash := range []string{a, b} {
		ok, err := verifyPassword(testPassword, hash)
		if err != nil || !ok {
			t.Errorf("verifyPassword(right password, %q) = %v, %v, want true, nil", hash, ok, err)
		}
	}
}

func TestVerifyPassword(t *testing.T) {
	hash := hashPassword(testPassword, insecureTestArgonParams)

	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right", testPassword, true},
		{"wrong", testPassword + "!", false},
		{"case differs", strings.ToUpper(testPassword), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verifyPassword(tt.password, hash)
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if got != tt.want {
				t.Errorf("verifyPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString([]byte("saltsaltsaltsalt"))
	key := base64.RawStdEncoding.EncodeToString([]byte("keykeykeykeykeykeykeykeykeykeyke"))
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"plain text", testPassword},
		{"too few fields", "$argon2id$v=19$m=19456,t=2,p=1$" + salt},
		{"too many fields", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$x"},
		{"text before first $", "x$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"bcrypt", "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"old version", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"text after version", "$argon2id$v=19x$m=19456,t=2,p=1$" + salt + "$" + key},
		{"missing parameter", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key},
		{"text after parameters", "$argon2id$v=19$m=19456,t=2,p=1x$" + salt + "$" + key},
		{"negative memory", "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key},
		{"zero passes", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"zero lanes", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key},
		{"256 lanes", "$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key},
		{"4 TiB memory", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key},
		{"4 billion passes", "$argon2id$v=19$m=19456,t=4294967295,p=1$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=19456,t=2,p=1$!!!!$" + key},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"key not base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$!!!!"},
		{"empty key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("verifyPassword(%q) panicked: %v", tt.hash, r)
				}
			}()
			ok, err := verifyPassword(testPassword, tt.hash)
			if !errors.Is(err, errMalformedHash) {
				t.Errorf("error = %v, want %v", err, errMalformedHash)
			}
			if ok {
				t.Error("verifyPassword = true, want false")
			}
		})
	}
}

// BenchmarkArgon2id measures one argon2id derivation at the candidate
// settings that defaultArgonParams was chosen from, and at the insecure test
// cost. A sign-in runs two: the password hash and the key that unwraps the
// data key. The names give the memory, the passes and the lanes.
func BenchmarkArgon2id(b *testing.B) {
	candidates := []argonParams{
		{Memory: 19 * 1024, Time: 2, Threads: 1}, // Hearth's first setting
		{Memory: 46 * 1024, Time: 1, Threads: 1},
		{Memory: 64 * 1024, Time: 2, Threads: 1},
		{Memory: 64 * 1024, Time: 3, Threads: 1}, // defaultArgonParams
		{Memory: 64 * 1024, Time: 3, Threads: 4}, // RFC 9106's second recommended setting
		{Memory: 128 * 1024, Time: 2, Threads: 1},
		{Memory: 256 * 1024, Time: 1, Threads: 1},
		insecureTestArgonParams,
	}
	for _, p := range candidates {
		memory := fmt.Sprintf("%dKiB", p.Memory)
		if p.Memory%1024 == 0 {
			memory = fmt.Sprintf("%dMiB", p.Memory/1024)
		}
		b.Run(fmt.Sprintf("m=%s/t=%d/p=%d", memory, p.Time, p.Threads), func(b *testing.B) {
			for b.Loop() {
				hashPassword(testPassword, argonParams{Memory: p.Memory, Time: p.Time, Threads: p.Threads, KeyLen: 32})
			}
		})
	}
}
