package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argonParams are the argon2id cost settings. They are stored with every hash
// so that they can be raised later without invalidating existing passwords.
type argonParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32 // bytes
}

// defaultArgonParams are the argon2id cost of new password hashes and
// password keys: RFC 9106's second recommended setting, 64 MiB and 3
// passes, with one lane where the RFC has four. More lanes do not raise
// what a guess costs, and Hearth shares its cores with a local model.
// docs/SECURITY.md gives the measured times and the reasoning.
var defaultArgonParams = argonParams{Memory: 64 * 1024, Time: 3, Threads: 1, KeyLen: 32}

// insecureTestArgonParams make argon2id almost free, for the hasher and
// for anyone guessing. WithInsecureTestCost selects them for tests that
// create many profiles.
var insecureTestArgonParams = argonParams{Memory: 64, Time: 1, Threads: 1, KeyLen: 32}

const saltLength = 16

// Limits on the cost parameters that verifyPassword accepts from a stored
// hash. They admit the settings that RFC 9106 recommends (2 GiB with 1 pass,
// or 64 MiB with 3 passes) and leave room to raise the passes.
const (
	maxArgonMemory = 2 * 1024 * 1024 // KiB
	maxArgonTime   = 16              // passes
)

var errMalformedHash = errors.New("malformed password hash")

// hashPassword returns the password's argon2id hash in the PHC string format,
// for example "$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH".
func hashPassword(password string, p argonParams) string {
	salt := randomBytes(saltLength)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodeHash(p, salt, key)
}

// unmatchableHash returns a hash in the same format and with the same cost
// as hashPassword's, but of random bytes that no password produces. Building
// it runs no argon2id, while verifying a password against it costs a full
// run.
func unmatchableHash(p argonParams) string {
	return encodeHash(p, randomBytes(saltLength), randomBytes(int(p.KeyLen)))
}

func encodeHash(p argonParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword reports whether password matches the PHC-encoded hash. The
// final comparison takes constant time.
func verifyPassword(password, encoded string) (bool, error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseHash splits a PHC-encoded argon2id hash into its parameters, salt and
// key. KeyLen is the length of the key.
func parseHash(encoded string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return argonParams{}, nil, nil, errMalformedHash
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return argonParams{}, nil, nil, errMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return argonParams{}, nil, nil, errMalformedHash
	}
	// Sscanf ignores text after the last number, so only the canonical form
	// is accepted. The bounds stop a corrupted hash from making argon2.IDKey
	// panic (zero passes or lanes) or allocate without limit.
	if parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads) ||
		p.Time == 0 || p.Time > maxArgonTime || p.Threads == 0 || p.Memory > maxArgonMemory {
		return argonParams{}, nil, nil, errMalformedHash
	}
	b64 := base64.RawStdEncoding
	salt, err = b64.DecodeString(parts[4])
	if err != nil {
		return argonParams{}, nil, nil, errMalformedHash
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return argonParams{}, nil, nil, errMalformedHash
	}
	p.KeyLen = uint32(len(key))
	return p, salt, key, nil
}
