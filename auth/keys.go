package auth

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"hearth/seal"
)

// Recovery keys are 20 random bytes (160 bits) written in Crockford's base32
// as 8 groups of 4 characters, for example "7KQ2-M9XD-...". Crockford's
// alphabet has no I, L, O or U, so a key read aloud or retyped is hard to get
// wrong, and parsing maps the lookalikes back.
const (
	recoveryKeyBytes = 20
	recoveryGroup    = 4
)

// crockfordAlphabet is Crockford's base32 alphabet, of recovery keys and
// backup codes.
const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var crockford = base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)

// newRecoveryKey returns a new recovery key in its display form and its bytes.
func newRecoveryKey() (display string, raw []byte) {
	raw = randomBytes(recoveryKeyBytes)
	return formatRecoveryKey(raw), raw
}

// formatRecoveryKey writes raw recovery key bytes in their display form.
func formatRecoveryKey(raw []byte) string {
	encoded := crockford.EncodeToString(raw)
	groups := make([]string, 0, len(encoded)/recoveryGroup)
	for i := 0; i < len(encoded); i += recoveryGroup {
		groups = append(groups, encoded[i:i+recoveryGroup])
	}
	return strings.Join(groups, "-")
}

// parseRecoveryKey reads a recovery key as a person may type it: in any case,
// with or without dashes, spaces and line breaks, with O for 0 and I or L
// for 1.
func parseRecoveryKey(typed string) ([]byte, bool) {
	canonical := canonicalCrockford(typed)
	// Without padding, encoding/base32 ignores a trailing group of 1, 3 or
	// 6 characters, so the length is checked before decoding.
	if len(canonical) != crockford.EncodedLen(recoveryKeyBytes) {
		return nil, false
	}
	raw, err := crockford.DecodeString(canonical)
	if err != nil || len(raw) != recoveryKeyBytes {
		return nil, false
	}
	return raw, true
}

// canonicalCrockford returns typed, a recovery key or a backup code as a
// person may type it, in upper case without separators, with O read as 0
// and I or L as 1. It does not check the alphabet or the length.
func canonicalCrockford(typed string) string {
	var b strings.Builder
	// NFKC turns fullwidth letters and digits, which some input methods
	// type, into their ASCII forms.
	for _, r := range strings.ToUpper(norm.NFKC.String(typed)) {
		switch {
		case unicode.IsSpace(r) || unicode.Is(unicode.Pd, r):
			// Spaces of any kind, line breaks and dashes of any kind, as
			// pasting from a document may bring, separate groups.
			continue
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// kdfParams derive a key-encryption key from a password. They are stored per
// profile, apart from the password hash and with their own salt.
type kdfParams struct {
	Salt    []byte `json:"salt"`
	Memory  uint32 `json:"m"`
	Time    uint32 `json:"t"`
	Threads uint8  `json:"p"`
}

func newKDFParams(p argonParams) kdfParams {
	return kdfParams{Salt: randomBytes(saltLength), Memory: p.Memory, Time: p.Time, Threads: p.Threads}
}

// passwordKey derives the key that wraps a profile's data key from its
// password with argon2id. Parameters outside the bounds that verifyPassword
// also enforces are an error, so that a damaged record cannot make argon2id
// panic or allocate without limit.
func passwordKey(password string, p kdfParams) (*seal.Key, error) {
	if p.Time == 0 || p.Time > maxArgonTime || p.Threads == 0 || p.Memory > maxArgonMemory || len(p.Salt) == 0 {
		return nil, errMalformedKDF
	}
	b := argon2.IDKey([]byte(password), p.Salt, p.Time, p.Memory, p.Threads, seal.KeySize)
	defer clear(b)
	k, _ := seal.KeyFrom(b)
	return k, nil
}

var errMalformedKDF = errors.New("malformed key derivation parameters")

// recoveryWrapKey derives the key that wraps a profile's data key from its
// recovery key. The recovery key has 160 random bits, so HKDF suffices where
// a password needs argon2id.
func recoveryWrapKey(raw, salt []byte) *seal.Key {
	b, err := hkdf.Key(sha256.New, raw, salt, "hearth recovery key", seal.KeySize)
	if err != nil {
		// hkdf.Key fails only when asked for more than 255 hash lengths.
		panic("auth: " + err.Error())
	}
	defer clear(b)
	k, _ := seal.KeyFrom(b)
	return k
}

// Associated data binding each wrapped key and sealed TOTP secret to its
// profile and purpose, so a value copied into another record or field does
// not open.
func dataKeyByPasswordAD(profileID string) []byte {
	return []byte("hearth/profile/" + profileID + "/data-key/password")
}
func dataKeyByRecoveryAD(profileID string) []byte {
	return []byte("hearth/profile/" + profileID + "/data-key/recovery")
}
func signingKeyAD(profileID string) []byte {
	return []byte("hearth/profile/" + profileID + "/signing-key")
}
func totpSecretAD(profileID string) []byte {
	return []byte("hearth/profile/" + profileID + "/totp-secret")
}
func totpPendingAD(profileID string) []byte {
	return []byte("hearth/profile/" + profileID + "/totp-secret/pending")
}
