package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	k := NewKey()
	for _, plaintext := range [][]byte{nil, []byte("a"), []byte("Bonjour, 世界 🔥"), bytes.Repeat([]byte{0}, 1<<20)} {
		sealed := k.Seal(plaintext, []byte("threads/1"))
		if len(sealed) != len(plaintext)+Overhead {
			t.Errorf("sealed length = %d, want %d", len(sealed), len(plaintext)+Overhead)
		}
		got, err := k.Open(sealed, []byte("threads/1"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Fatalf("Open = %q, want %q", got, plaintext)
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	k := NewKey()
	a := k.Seal([]byte("same"), nil)
	b := k.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal, want different nonces")
	}
}

func TestOpenRejects(t *testing.T) {
	k := NewKey()
	sealed := k.Seal([]byte("secret"), []byte("ad"))
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	wrongFormat := bytes.Clone(sealed)
	wrongFormat[0] = 2

	tests := []struct {
		name   string
		key    *Key
		sealed []byte
		ad     []byte
	}{
		{"other key", NewKey(), sealed, []byte("ad")},
		{"other associated data", k, sealed, []byte("elsewhere")},
		{"flipped bit", k, flipped, []byte("ad")},
		{"unknown format", k, wrongFormat, []byte("ad")},
		{"truncated", k, sealed[:Overhead-1], []byte("ad")},
		{"empty", k, nil, []byte("ad")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.key.Open(tt.sealed, tt.ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open error = %v, want ErrOpen", err)
			}
		})
	}
}

func TestKeyWrapAndWipe(t *testing.T) {
	outer, inner := NewKey(), NewKey()
	wrapped := outer.SealKey(inner, []byte("profile/1/data"))
	got, err := outer.OpenKey(wrapped, []byte("profile/1/data"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), inner.Bytes()) {
		t.Fatal("unwrapped key differs from the wrapped one")
	}

	got.Wipe()
	if !bytes.Equal(got.Bytes(), make([]byte, KeySize)) {
		t.Fatal("Wipe left key bytes behind")
	}
	if _, err := KeyFrom(make([]byte, 31)); err == nil {
		t.Fatal("KeyFrom accepted a 31-byte key")
	}
}

func BenchmarkSeal1KiB(b *testing.B) {
	k := NewKey()
	plaintext := make([]byte, 1024)
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		k.Seal(plaintext, []byte("ad"))
	}
}

func BenchmarkOpen1KiB(b *testing.B) {
	k := NewKey()
	sealed := k.Seal(make([]byte, 1024), []byte("ad"))
	b.SetBytes(1024)
	for b.Loop() {
		if _, err := k.Open(sealed, []byte("ad")); err != nil {
			b.Fatal(err)
		}
	}
}
