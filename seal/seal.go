// Package seal encrypts small records with XChaCha20-Poly1305 under 256-bit
// keys. It is how Hearth wraps each profile's data key and, with that key,
// the profile's records at rest.
//
// A sealed value is a format byte, a random 24-byte nonce and the
// ciphertext with its 16-byte tag. Every Seal takes associated data, such as
// the record's key in the database, that Open must be given again: a sealed
// value copied to another place fails to open.
package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a Key in bytes.
const KeySize = chacha20poly1305.KeySize

// formatXChaCha20Poly1305 is the first byte of every sealed value, so that a
// later format can be told apart.
const formatXChaCha20Poly1305 byte = 1

// Overhead is how many bytes Seal adds to a plaintext.
const Overhead = 1 + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// ErrOpen is returned by Open and AppendOpen when a value was not sealed with this key and
// associated data, or was changed since.
var ErrOpen = errors.New("sealed value cannot be opened: wrong key, wrong place or damaged")

// Key is a 256-bit secret key. The zero Key is not a valid key; use NewKey
// or KeyFrom. Its methods may be called from several goroutines at once,
// except Wipe, which must not run while the key is in use.
type Key struct {
	bytes [KeySize]byte
	// aead is the XChaCha20-Poly1305 cipher under bytes, made once by
	// NewKey and KeyFrom rather than by every Seal and Open. It holds its
	// own copy of the key. It is nil in a zero Key and after Wipe.
	//
	// crypto/cipher.AEAD does not say whether one value may be used by
	// several goroutines. The x/crypto v0.59.0 implementation keeps only the
	// key and builds its per-message state on each call, so it can.
	aead cipher.AEAD
}

// NewKey returns a new random key.
func NewKey() *Key {
	k := &Key{}
	rand.Read(k.bytes[:])
	k.aead = newAEAD(k.bytes[:])
	return k
}

// KeyFrom returns a key with the given bytes, which must be KeySize long.
func KeyFrom(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, errors.New("seal: key must be 32 bytes")
	}
	k := &Key{}
	copy(k.bytes[:], b)
	k.aead = newAEAD(k.bytes[:])
	return k, nil
}

// Bytes returns a copy of the key's bytes, for wrapping it under another
// key.
func (k *Key) Bytes() []byte {
	b := make([]byte, KeySize)
	copy(b, k.bytes[:])
	return b
}

// Wipe overwrites the key with zeros and drops its cipher, so that values
// sealed under the key no longer open with k.
//
// NOTE: Go may have copied the key elsewhere, so Wipe lowers the time a key
// stays in memory but does not guarantee it is gone. The dropped cipher
// keeps its copy of the key until the garbage collector reuses its memory,
// and the per-message key that each call derives stays on the stack until
// that memory is reused.
func (k *Key) Wipe() {
	clear(k.bytes[:])
	k.aead = nil
}

// Seal encrypts plaintext and binds it to ad.
func (k *Key) Seal(plaintext, ad []byte) []byte {
	return k.AppendSeal(make([]byte, 0, Overhead+len(plaintext)), plaintext, ad)
}

// AppendSeal seals plaintext as Seal does and appends the sealed value to
// dst, returning the extended slice. The capacity of dst beyond its length
// must not overlap plaintext or ad.
func (k *Key) AppendSeal(dst, plaintext, ad []byte) []byte {
	aead := k.cipher()
	dst = slices.Grow(dst, Overhead+len(plaintext))
	start := len(dst)
	dst = append(dst, formatXChaCha20Poly1305)
	dst = dst[:len(dst)+aead.NonceSize()]
	nonce := dst[start+1:]
	rand.Read(nonce)
	return aead.Seal(dst, nonce, plaintext, ad)
}

// Open decrypts a value made by Seal with the same key and ad. It returns
// ErrOpen when the value does not authenticate.
func (k *Key) Open(sealed, ad []byte) ([]byte, error) {
	return k.AppendOpen(nil, sealed, ad)
}

// AppendOpen opens sealed as Open does and appends the plaintext to dst,
// returning the extended slice. When sealed does not authenticate, it
// returns dst unchanged and ErrOpen, though the capacity of dst beyond its
// length may have been written. That capacity must not overlap sealed or
// ad. Reusing one dst for many values saves an allocation per value.
func (k *Key) AppendOpen(dst, sealed, ad []byte) ([]byte, error) {
	aead := k.cipher()
	if len(sealed) < Overhead || sealed[0] != formatXChaCha20Poly1305 {
		return dst, ErrOpen
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	out, err := aead.Open(dst, nonce, sealed[1+aead.NonceSize():], ad)
	if err != nil {
		return dst, ErrOpen
	}
	return out, nil
}

// SealKey wraps another key under k.
func (k *Key) SealKey(inner *Key, ad []byte) []byte {
	return k.Seal(inner.bytes[:], ad)
}

// OpenKey unwraps a key sealed by SealKey.
func (k *Key) OpenKey(sealed, ad []byte) (*Key, error) {
	b, err := k.Open(sealed, ad)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	return KeyFrom(b)
}

// cipher returns the key's cipher. A zero Key and a wiped one have none, so
// each of their calls makes a cipher under their bytes, which are zeros.
func (k *Key) cipher() cipher.AEAD {
	if k.aead != nil {
		return k.aead
	}
	return newAEAD(k.bytes[:])
}

// newAEAD returns the XChaCha20-Poly1305 cipher under key.
func newAEAD(key []byte) cipher.AEAD {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		// NewX fails only for a key of the wrong length, which Key rules out.
		panic("seal: " + err.Error())
	}
	return aead
}
