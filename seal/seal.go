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

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a Key in bytes.
const KeySize = chacha20poly1305.KeySize

// formatXChaCha20Poly1305 is the first byte of every sealed value, so that a
// later format can be told apart.
const formatXChaCha20Poly1305 byte = 1

// Overhead is how many bytes Seal adds to a plaintext.
const Overhead = 1 + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// ErrOpen is returned by Open when a value was not sealed with this key and
// associated data, or was changed since.
var ErrOpen = errors.New("sealed value cannot be opened: wrong key, wrong place or damaged")

// Key is a 256-bit secret key. The zero Key is not a valid key; use NewKey
// or KeyFrom.
type Key struct {
	bytes [KeySize]byte
}

// NewKey returns a new random key.
func NewKey() *Key {
	k := &Key{}
	rand.Read(k.bytes[:])
	return k
}

// KeyFrom returns a key with the given bytes, which must be KeySize long.
func KeyFrom(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, errors.New("seal: key must be 32 bytes")
	}
	k := &Key{}
	copy(k.bytes[:], b)
	return k, nil
}

// Bytes returns a copy of the key's bytes, for wrapping it under another
// key.
func (k *Key) Bytes() []byte {
	b := make([]byte, KeySize)
	copy(b, k.bytes[:])
	return b
}

// Wipe overwrites the key with zeros.
//
// NOTE: Go may have copied the key elsewhere (the cipher state of a past
// Seal or Open, or the heap during garbage collection), so Wipe lowers the
// time a key stays in memory but does not guarantee it is gone.
func (k *Key) Wipe() {
	clear(k.bytes[:])
}

// Seal encrypts plaintext and binds it to ad.
func (k *Key) Seal(plaintext, ad []byte) []byte {
	aead := k.aead()
	out := make([]byte, 1+aead.NonceSize(), Overhead+len(plaintext))
	out[0] = formatXChaCha20Poly1305
	rand.Read(out[1:])
	nonce := out[1:]
	return aead.Seal(out, nonce, plaintext, ad)
}

// Open decrypts a value made by Seal with the same key and ad. It returns
// ErrOpen when the value does not authenticate.
func (k *Key) Open(sealed, ad []byte) ([]byte, error) {
	aead := k.aead()
	if len(sealed) < Overhead || sealed[0] != formatXChaCha20Poly1305 {
		return nil, ErrOpen
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plaintext, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
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

func (k *Key) aead() cipher.AEAD {
	aead, err := chacha20poly1305.NewX(k.bytes[:])
	if err != nil {
		// NewX fails only for a key of the wrong length, which Key rules out.
		panic("seal: " + err.Error())
	}
	return aead
}
