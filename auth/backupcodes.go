package auth

import (
	"crypto/subtle"
	"slices"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Backup codes stand in for a TOTP code when the authenticator app is not at
// hand. Each is 10 random characters (50 bits) of Crockford's base32
// alphabet, which has no I, L, O or U, shown in lower case as
// "xxxx-xxxx-xx". Reading a typed code maps O to 0 and I or L to 1, as for
// recovery keys.
const (
	backupCodeCount  = 10
	backupCodeLength = 10
	// backupCodeHashLength is the length of each argon2id hash, in bytes.
	backupCodeHashLength = 32
)

// backupCodeArgonParams are the argon2id cost of backup code hashes: 19 MiB
// and 2 passes, about a seventh of a password's cost. A password needs the
// full cost because people choose guessable ones. A backup code has 50
// random bits, so finding any code of a set from a copy of the data file
// takes an estimated 30,000 core-years even at this cost. The lower cost
// keeps enrolment, which hashes 10 codes while other password checks wait,
// near 0.2 s instead of 1.3 s (BenchmarkBackupCodes, docs/SECURITY.md).
var backupCodeArgonParams = argonParams{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: backupCodeHashLength}

// backupCodeSet is a profile's unused backup codes, stored only as argon2id
// hashes. The codes are random, so one salt for the whole set is enough: no
// two profiles share it, and checking a typed code costs one argon2id run,
// not one per code.
type backupCodeSet struct {
	KDF kdfParams `json:"kdf"`
	// Hashes holds one hash per unused code. A used code's hash is removed.
	Hashes [][]byte `json:"hashes"`
}

// newBackupCodes returns backupCodeCount new codes in their display form
// and the set of their hashes, made with p.
func newBackupCodes(p argonParams) ([]string, *backupCodeSet, error) {
	set := &backupCodeSet{KDF: newKDFParams(p)}
	codes := make([]string, 0, backupCodeCount)
	seen := make(map[string]bool, backupCodeCount)
	for len(codes) < backupCodeCount {
		code := randomBackupCode()
		if seen[code] {
			// Two equal codes in a set would make one of them work twice.
			continue
		}
		seen[code] = true
		hash, err := backupCodeHash(code, set.KDF)
		if err != nil {
			return nil, nil, err
		}
		set.Hashes = append(set.Hashes, hash)
		codes = append(codes, formatBackupCode(code))
	}
	return codes, set, nil
}

// left returns how many codes of the set are unused. A nil set has none.
func (b *backupCodeSet) left() int {
	if b == nil {
		return 0
	}
	return len(b.Hashes)
}

// use reports whether code, in canonical form, is one of the set's unused
// codes, and removes its hash if so. It compares the typed code's hash
// with every stored one, so the time taken does not depend on which code
// matched.
func (b *backupCodeSet) use(code string) (bool, error) {
	if b == nil || len(b.Hashes) == 0 {
		return false, nil
	}
	hash, err := backupCodeHash(code, b.KDF)
	if err != nil {
		return false, err
	}
	found := -1
	for i, stored := range b.Hashes {
		if subtle.ConstantTimeCompare(hash, stored) == 1 && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return false, nil
	}
	b.Hashes = slices.Delete(b.Hashes, found, found+1)
	return true, nil
}

// backupCodeHash returns the argon2id hash of a backup code in canonical
// form. Parameters outside the bounds that passwordKey enforces are an
// error, so that a damaged record cannot make argon2id panic or allocate
// without limit.
func backupCodeHash(code string, p kdfParams) ([]byte, error) {
	if p.Time == 0 || p.Time > maxArgonTime || p.Threads == 0 || p.Memory > maxArgonMemory || len(p.Salt) == 0 {
		return nil, errMalformedKDF
	}
	return argon2.IDKey([]byte(code), p.Salt, p.Time, p.Memory, p.Threads, backupCodeHashLength), nil
}

// randomBackupCode returns a new backup code in canonical form: upper case,
// without the dashes.
func randomBackupCode() string {
	raw := randomBytes(backupCodeLength)
	defer clear(raw)
	code := make([]byte, backupCodeLength)
	for i, v := range raw {
		// The alphabet has 32 characters, so the low 5 bits of a random
		// byte pick each one with the same chance.
		code[i] = crockfordAlphabet[v&31]
	}
	return string(code)
}

// formatBackupCode writes a canonical backup code in its display form.
func formatBackupCode(code string) string {
	lower := strings.ToLower(code)
	return lower[:4] + "-" + lower[4:8] + "-" + lower[8:]
}

// isBackupCode reports whether canonical, as canonicalCrockford returns it,
// has the length and alphabet of a backup code.
func isBackupCode(canonical string) bool {
	if len(canonical) != backupCodeLength {
		return false
	}
	for i := 0; i < len(canonical); i++ {
		if !strings.ContainsRune(crockfordAlphabet, rune(canonical[i])) {
			return false
		}
	}
	return true
}
