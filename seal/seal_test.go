package seal

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
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

func TestAppendSealOpen(t *testing.T) {
	k := NewKey()
	prefix := []byte("prefix:")
	sealed := k.AppendSeal(bytes.Clone(prefix), []byte("title"), []byte("ad"))
	if !bytes.HasPrefix(sealed, prefix) {
		t.Fatalf("AppendSeal lost the prefix: %q", sealed[:len(prefix)])
	}
	if len(sealed) != len(prefix)+len("title")+Overhead {
		t.Errorf("AppendSeal length = %d, want %d", len(sealed), len(prefix)+len("title")+Overhead)
	}
	value := sealed[len(prefix):]

	buf := make([]byte, 0, 64)
	for range 3 {
		got, err := k.AppendOpen(buf[:0], value, []byte("ad"))
		if err != nil {
			t.Fatalf("AppendOpen: %v", err)
		}
		if string(got) != "title" {
			t.Fatalf("AppendOpen = %q, want %q", got, "title")
		}
		if &got[0] != &buf[:1][0] {
			t.Error("AppendOpen did not write into the buffer it was given")
		}
	}

	got, err := k.AppendOpen([]byte("kept"), value, []byte("elsewhere"))
	if !errors.Is(err, ErrOpen) {
		t.Fatalf("AppendOpen with other associated data: error = %v, want ErrOpen", err)
	}
	if string(got) != "kept" {
		t.Errorf("AppendOpen that failed returned %q, want dst unchanged", got)
	}
}

func TestKeyConcurrentUse(t *testing.T) {
	k := NewKey()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			ad := fmt.Appendf(nil, "goroutine/%d", g)
			var buf []byte
			for i := range 200 {
				plaintext := fmt.Appendf(nil, "message %d of goroutine %d", i, g)
				sealed := k.Seal(plaintext, ad)
				var err error
				buf, err = k.AppendOpen(buf[:0], sealed, ad)
				if err != nil || !bytes.Equal(buf, plaintext) {
					errs <- fmt.Errorf("goroutine %d, message %d: opened %q, %v", g, i, buf, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestWipeDropsCipher(t *testing.T) {
	k := NewKey()
	sealed := k.Seal([]byte("secret"), []byte("ad"))
	k.Wipe()
	if _, err := k.Open(sealed, []byte("ad")); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open after Wipe: error = %v, want ErrOpen", err)
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

// BenchmarkOpen64B opens a value of the size of a thread's title and
// metadata, where the fixed cost of each call outweighs the cipher's work.
func BenchmarkOpen64B(b *testing.B) {
	k := NewKey()
	ad := []byte("ad")
	sealed := k.Seal(make([]byte, 64), ad)
	b.SetBytes(64)
	for b.Loop() {
		if _, err := k.Open(sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendOpen64B opens the same value into one reused buffer.
func BenchmarkAppendOpen64B(b *testing.B) {
	k := NewKey()
	ad := []byte("ad")
	sealed := k.Seal(make([]byte, 64), ad)
	buf := make([]byte, 0, 64)
	b.SetBytes(64)
	for b.Loop() {
		var err error
		if buf, err = k.AppendOpen(buf[:0], sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}
