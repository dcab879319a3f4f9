package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.etcd.io/bbolt"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"hearth/seal"
)

var (
	profilesBucket = []byte("profiles")       // profile id → profileRecord JSON
	namesBucket    = []byte("profile_names")  // name key (see nameKeys) → profile id
	revokedBucket  = []byte("revoked_tokens") // token id → expiry (RFC 3339)
)

// profileRecordVersion is the schema version of profileRecord.
const profileRecordVersion = 2

// profileRecord is a profile as stored in bbolt. Its secrets are stored only
// as hashes or sealed: the data key under a key derived from the password and
// again under one derived from the recovery key, the signing key under the
// install key.
type profileRecord struct {
	Version      int       `json:"v"`
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	PasswordHash string    `json:"passwordHash"`

	KDF               kdfParams `json:"kdf"`
	DataKeyByPassword []byte    `json:"dataKeyByPassword"`
	RecoverySalt      []byte    `json:"recoverySalt"`
	DataKeyByRecovery []byte    `json:"dataKeyByRecovery"`
	SigningKey        []byte    `json:"signingKey"`

	// TokenVersion is copied into every token; raising it revokes them all.
	TokenVersion int `json:"tokenVersion"`
	// IdleLock is how long the profile stays unlocked without a request;
	// zero means it stays unlocked until sign-out or quit.
	IdleLock time.Duration `json:"idleLock"`
	// TOTP is the profile's two-step sign-in, nil when it has none. Records
	// written before two-step sign-in existed have none, and omitempty
	// keeps such a record's JSON, and so its MAC, as it was.
	TOTP *totpRecord `json:"totp,omitempty"`
	// MAC authenticates every other field; see recordMAC.
	MAC []byte `json:"mac"`
}

func (r *profileRecord) profile() Profile {
	return Profile{ID: r.ID, Name: r.Name, Role: r.Role, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, IdleLock: r.IdleLock, TOTPEnabled: r.totpEnabled()}
}

// Store keeps profiles in a bbolt database, checks passwords and recovery
// keys, issues and verifies tokens, and holds the data keys of unlocked
// profiles in memory. It is safe for concurrent use.
type Store struct {
	db         *bbolt.DB
	installKey *seal.Key
	macKey     []byte // authenticates profile records; derived from installKey
	params     argonParams
	tokenTTL   time.Duration
	now        func() time.Time
	parser     *jwt.Parser
	unlocked   *unlockedProfiles
	// challenges holds the sign-ins waiting for a two-step sign-in code.
	challenges *challenges
	// verified holds the profile records whose MAC Verify has checked.
	verified *recordCache

	// throttleKey hashes the names in throttle counter keys. It is derived
	// from installKey.
	throttleKey []byte

	// attemptMu is held by one password or recovery key check at a time,
	// from its throttle check until its failure is counted, so that
	// concurrent attempts cannot all pass the throttle before any failure is
	// counted. New profiles' keys are derived under it too, so at most one
	// request at a time holds argon2id's memory.
	attemptMu sync.Mutex

	dummyOnce sync.Once
	dummy     profileRecord // checked for unknown names, so they cost as much as known ones
}

// Option changes a setting of the Store that Open returns.
type Option func(*Store)

// WithInsecureTestCost makes the Store hash new passwords and derive new
// password keys with argon2id at 64 KiB of memory and one pass rather than
// the default cost, so that tests can create many profiles quickly.
// Passwords hashed that way can be guessed from a copy of the data file at
// a tiny fraction of the usual cost, so it is only for data that tests throw
// away. Hearth's own binary never passes it. Existing hashes are checked
// with the parameters stored with them either way, and a Store opened
// without this option rehashes such a password at its next sign-in.
func WithInsecureTestCost() Option {
	return withArgonParams(insecureTestArgonParams)
}

// WithClock makes the Store read the time from now instead of time.Now:
// for tokens, the sign-in throttle, the idle lock, sign-in challenges and
// TOTP codes. It is for tests that move the clock. The idle lock's timers
// still wait in real time, and check now when they fire. The timer that
// drops an abandoned sign-in challenge also waits in real time, and drops
// the challenge when it fires whatever now returns.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// withArgonParams makes the Store hash new passwords and derive new password
// keys with p.
func withArgonParams(p argonParams) Option {
	return func(s *Store) { s.params = p }
}

// Open prepares the profile buckets in db and returns a Store that uses them.
// installKey seals the token signing keys; it is kept outside the data file
// so that a copy of the file alone cannot forge tokens. The caller keeps
// ownership of db and calls Close before closing it.
func Open(db *bbolt.DB, installKey *seal.Key, opts ...Option) (*Store, error) {
	macKey, err := hkdf.Key(sha256.New, installKey.Bytes(), nil, "hearth profile record mac", sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive the profile record key: %w", err)
	}
	throttleKey, err := hkdf.Key(sha256.New, installKey.Bytes(), nil, "hearth sign-in throttle names", sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive the throttle name key: %w", err)
	}
	s := &Store{
		db:          db,
		installKey:  installKey,
		macKey:      macKey,
		throttleKey: throttleKey,
		params:      defaultArgonParams,
		tokenTTL:    DefaultTokenTTL,
		now:         time.Now,
		challenges:  newChallenges(),
		verified:    newRecordCache(),
	}
	for _, opt := range opts {
		opt(s)
	}

	// Data files written by earlier versions may lack the shapeKey entries
	// of the name index, and may keep throttle counters under names in the
	// clear. Both are brought up to date here. Once they are, this costs
	// one lookup per profile.
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{profilesBucket, namesBucket, revokedBucket, failuresBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if err := indexNames(tx); err != nil {
			return err
		}
		return s.hashLegacyFailures(tx)
	})
	if err != nil {
		return nil, err
	}
	s.unlocked = newUnlockedProfiles(func() time.Time { return s.now() })
	s.parser = newTokenParser(func() time.Time { return s.now() })
	return s, nil
}

// Close locks every profile and drops every sign-in challenge, wiping the
// data keys from memory.
func (s *Store) Close() {
	s.challenges.dropAll()
	s.unlocked.lockAll()
}

// CreateProfile creates a profile with the given name and password and
// returns it with its recovery key, which is shown to the user once and
// never stored in the clear. The first profile of a fresh store becomes an
// admin and needs no actor. Every later profile is a user and must be created
// by an admin: actorID is the id of the signed-in profile making the request,
// and its role is read from the store, not from a token.
func (s *Store) CreateProfile(ctx context.Context, actorID, name, password string) (Profile, string, error) {
	display, _, err := normalizeName(name)
	if err != nil {
		return Profile{}, "", err
	}
	if err := checkPassword(password); err != nil {
		return Profile{}, "", err
	}
	// Refuse a caller who may not create profiles before spending argon2id
	// work on them. The transaction below checks again, because a first
	// profile may appear in between.
	if err := s.db.View(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		if profiles.Stats().KeyN == 0 {
			return nil
		}
		return s.requireAdmin(profiles, actorID)
	}); err != nil {
		return Profile{}, "", fmt.Errorf("create profile: %w", err)
	}

	// Derive keys outside the write transaction: argon2id takes tens of
	// milliseconds and would block every other writer. The keys are derived
	// one profile at a time, like sign-in attempts, so parallel requests
	// cannot add up argon2id's memory.
	now := s.now().UTC()
	rec := profileRecord{
		Version: profileRecordVersion, ID: newProfileID(), Name: display, Role: RoleUser,
		CreatedAt: now, UpdatedAt: now, TokenVersion: 1, IdleLock: DefaultIdleLock,
	}
	dataKey := seal.NewKey()
	defer dataKey.Wipe()
	s.attemptMu.Lock()
	s.setPassword(&rec, dataKey, password)
	s.attemptMu.Unlock()
	recoveryKey := setRecoveryKey(&rec, dataKey)
	s.setSigningKey(&rec)

	err = s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		names := tx.Bucket(namesBucket)

		if first := profiles.Stats().KeyN == 0; first {
			rec.Role = RoleAdmin
		} else if err := s.requireAdmin(profiles, actorID); err != nil {
			return err
		}
		keys := nameKeys(display)
		for _, key := range keys {
			if names.Get([]byte(key)) != nil {
				return ErrNameTaken
			}
		}

		if err := s.putProfile(profiles, &rec); err != nil {
			return err
		}
		for _, key := range keys {
			if err := names.Put([]byte(key), []byte(rec.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Profile{}, "", fmt.Errorf("create profile: %w", err)
	}
	return rec.profile(), recoveryKey, nil
}

// Profiles returns every profile, sorted by name in the Unicode collation
// order.
func (s *Store) Profiles(ctx context.Context) ([]Profile, error) {
	var list []Profile
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(profilesBucket).ForEach(func(_, v []byte) error {
			var rec profileRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode profile: %w", err)
			}
			list = append(list, rec.profile())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	// The Unicode collation order puts "Álvaro" next to "Alice" rather than
	// after "Zoë", as byte order would.
	c := collate.New(language.Und)
	sort.SliceStable(list, func(i, j int) bool { return c.CompareString(list[i].Name, list[j].Name) < 0 })
	return list, nil
}

// Profile returns the profile with the given id, or ErrNotFound.
func (s *Store) Profile(ctx context.Context, id string) (Profile, error) {
	var p Profile
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec, err := s.getProfile(tx.Bucket(profilesBucket), id)
		if err != nil {
			return err
		}
		p = rec.profile()
		return nil
	})
	if err != nil {
		return Profile{}, fmt.Errorf("get profile %s: %w", id, err)
	}
	return p, nil
}

// Login checks a name and password, unlocks the profile and returns a signed
// token for it. client names where the attempt comes from, for throttling.
// An unknown name and a wrong password both return ErrInvalidCredentials
// after the same amount of key derivation. While recent failures for the
// name or the client are too many, Login returns *ThrottledError without
// checking the password.
//
// For a profile with two-step sign-in, a right password returns
// *MFARequiredError instead of a token, and the profile stays locked until
// CompleteLogin checks a code.
func (s *Store) Login(ctx context.Context, name, password, client string) (Token, error) {
	hashedName := s.throttleName(name)
	keys := throttleKeys(hashedName, client)
	rec, done, err := s.beginAttempt(keys, name)
	if err != nil {
		return Token{}, fmt.Errorf("login: %w", err)
	}
	defer done()

	dataKey, ok, err := s.openWithPassword(rec, password)
	if err != nil {
		return Token{}, fmt.Errorf("login %s: %w", rec.ID, err)
	}
	if !ok {
		return Token{}, s.failAttempt(keys)
	}

	// A right password alone does not clear the failures of a profile with
	// two-step sign-in. Otherwise someone who has the password could sign in
	// again after every few wrong codes and guess codes without waiting.
	cleared := successKeys(keys)
	if rec.totpEnabled() {
		cleared = nil
	}

	// Rehash a password whose hash or key was made with other argon2id
	// parameters. The new hash and key are derived before the transaction,
	// as for a new profile, and stored in the one that clears the failures.
	var rehashed *profileRecord
	if s.needsRehash(rec) {
		next := *rec
		s.setPassword(&next, dataKey, password)
		rehashed = &next
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if err := clearFailures(tx, cleared...); err != nil {
			return err
		}
		if rehashed == nil {
			return nil
		}
		stored, err := s.storeRehash(tx.Bucket(profilesBucket), rec, rehashed)
		if !stored {
			rehashed = nil
		}
		return err
	})
	if err != nil {
		dataKey.Wipe()
		return Token{}, fmt.Errorf("login %s: %w", rec.ID, err)
	}
	if rehashed != nil {
		rec.PasswordHash, rec.KDF, rec.DataKeyByPassword = rehashed.PasswordHash, rehashed.KDF, rehashed.DataKeyByPassword
	}
	if rec.totpEnabled() {
		return Token{}, s.newChallenge(rec, hashedName, dataKey)
	}
	s.unlocked.unlock(rec.ID, dataKey, rec.IdleLock, s.now())
	return s.issueToken(rec)
}

// Logout revokes the session's token and locks its profile, which ends every
// other session's access to the profile's data until someone signs in again.
func (s *Store) Logout(ctx context.Context, sess Session) error {
	s.unlocked.lock(sess.Profile.ID)
	now := s.now()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		revoked := tx.Bucket(revokedBucket)
		if err := revoked.Put([]byte(sess.TokenID), []byte(sess.ExpiresAt.UTC().Format(time.RFC3339))); err != nil {
			return err
		}
		return pruneRevoked(revoked, now)
	})
	if err != nil {
		return fmt.Errorf("logout %s: %w", sess.Profile.ID, err)
	}
	return nil
}

// OnLock makes Hearth call fn, in a goroutine of its own, with the id of
// every profile that locks: by sign-out, the idle lock, a password change,
// deletion or Close. It must be set before the store is used.
func (s *Store) OnLock(fn func(profileID string)) {
	s.unlocked.mu.Lock()
	defer s.unlocked.mu.Unlock()
	s.unlocked.onLock = fn
}

// IsUnlocked reports whether profileID is unlocked, without counting as
// activity for the idle lock.
func (s *Store) IsUnlocked(profileID string) bool {
	return s.unlocked.isUnlocked(profileID, s.now())
}

// Touch counts a request of profileID as activity for the idle lock and
// reports whether the profile is unlocked. Call it only for a request that
// has passed every check, so that refused requests cannot keep a profile
// unlocked.
func (s *Store) Touch(profileID string) bool {
	return s.unlocked.touch(profileID, s.now())
}

// DataKey returns a copy of the data key of an unlocked profile, or
// ErrLocked. The caller owns the copy and should wipe it when done. Each call
// counts as activity for the idle lock.
func (s *Store) DataKey(profileID string) (*seal.Key, error) {
	k, ok := s.unlocked.use(profileID, s.now())
	if !ok {
		return nil, ErrLocked
	}
	return k, nil
}

// ChangePassword replaces a profile's password after checking the current
// one and, when the profile has two-step sign-in, code, as DisableTOTP
// does. The data key is wrapped again under the new password, so no data is
// re-encrypted. Every token of the profile is revoked and its pending
// sign-in challenges are dropped. The returned token is the caller's new
// session.
func (s *Store) ChangePassword(ctx context.Context, profileID, current, newPassword, code, client string) (Token, error) {
	if err := checkPassword(newPassword); err != nil {
		return Token{}, err
	}
	if newPassword == current {
		return Token{}, &InputError{Field: "password", Reason: "The new password is the same as the current one; choose another."}
	}
	p, err := s.Profile(ctx, profileID)
	if err != nil {
		return Token{}, err
	}
	keys := throttleKeys(s.throttleName(p.Name), client)
	rec, done, err := s.beginAttempt(keys, p.Name)
	if err != nil {
		return Token{}, fmt.Errorf("change password of %s: %w", profileID, err)
	}
	defer done()
	dataKey, err := s.checkPasswordAndCode(rec, current, code, keys)
	if err != nil {
		return Token{}, fmt.Errorf("change password of %s: %w", profileID, err)
	}
	defer dataKey.Wipe()

	rec.UpdatedAt = s.now().UTC()
	rec.TokenVersion++
	s.setPassword(rec, dataKey, newPassword)
	if err := s.replaceProfile(rec, successKeys(keys)...); err != nil {
		return Token{}, fmt.Errorf("change password of %s: %w", profileID, err)
	}
	// Challenges opened with the old password are dropped, because someone
	// who saw that password may have started one.
	s.challenges.dropProfile(rec.ID)
	s.unlockCopy(rec, dataKey)
	return s.issueToken(rec)
}

// Recovery is the result of Recover.
type Recovery struct {
	// Token is the new session.
	Token Token
	// RecoveryKey is the display form of the new recovery key, which
	// replaces the one used.
	RecoveryKey string
	// TOTPDisabled is set when the profile had two-step sign-in, which
	// recovery turns off.
	TOTPDisabled bool
}

// Recover sets a new password with the recovery key when the old password is
// forgotten. The data key stays the same, so all data stays readable. The
// recovery key is replaced too, and the new one is returned with a token;
// every older token of the profile is revoked. Two-step sign-in is turned
// off, so that a lost authenticator app does not lock the data away, and
// pending sign-in challenges are dropped. Wrong keys are throttled like wrong
// passwords, and an unknown name gives the same error as a wrong key.
func (s *Store) Recover(ctx context.Context, name, recoveryKey, newPassword, client string) (Recovery, error) {
	if err := checkPassword(newPassword); err != nil {
		return Recovery{}, err
	}
	keys := throttleKeys(s.throttleName(name), client)
	rec, done, err := s.beginAttempt(keys, name)
	if err != nil {
		return Recovery{}, fmt.Errorf("recover: %w", err)
	}
	defer done()

	raw, valid := parseRecoveryKey(recoveryKey)
	if !valid {
		raw = make([]byte, recoveryKeyBytes)
	}
	dataKey, err := recoveryWrapKey(raw, rec.RecoverySalt).OpenKey(rec.DataKeyByRecovery, dataKeyByRecoveryAD(rec.ID))
	if err != nil || !valid || rec == &s.dummy {
		if dataKey != nil {
			dataKey.Wipe()
		}
		return Recovery{}, s.failAttempt(keys)
	}
	defer dataKey.Wipe()

	totpDisabled := rec.totpEnabled()
	rec.UpdatedAt = s.now().UTC()
	rec.TokenVersion++
	rec.TOTP = nil
	s.setPassword(rec, dataKey, newPassword)
	newRecoveryKey := setRecoveryKey(rec, dataKey)
	if err := s.replaceProfile(rec, successKeys(keys)...); err != nil {
		return Recovery{}, fmt.Errorf("recover %s: %w", rec.ID, err)
	}
	s.challenges.dropProfile(rec.ID)
	s.unlockCopy(rec, dataKey)
	tok, err := s.issueToken(rec)
	if err != nil {
		return Recovery{}, err
	}
	return Recovery{Token: tok, RecoveryKey: newRecoveryKey, TOTPDisabled: totpDisabled}, nil
}

// NewRecoveryKey replaces a profile's recovery key after checking its
// password and, when the profile has two-step sign-in, code, and returns
// the new key's display form. The code is needed because the recovery key
// turns two-step sign-in off. The old recovery key stops working; the data
// key, and so the data, stay as they are. Wrong passwords and codes are
// throttled like sign-ins.
func (s *Store) NewRecoveryKey(ctx context.Context, profileID, password, code, client string) (string, error) {
	p, err := s.Profile(ctx, profileID)
	if err != nil {
		return "", err
	}
	keys := throttleKeys(s.throttleName(p.Name), client)
	rec, done, err := s.beginAttempt(keys, p.Name)
	if err != nil {
		return "", fmt.Errorf("new recovery key for %s: %w", profileID, err)
	}
	defer done()
	dataKey, err := s.checkPasswordAndCode(rec, password, code, keys)
	if err != nil {
		return "", fmt.Errorf("new recovery key for %s: %w", profileID, err)
	}
	defer dataKey.Wipe()

	rec.UpdatedAt = s.now().UTC()
	recoveryKey := setRecoveryKey(rec, dataKey)
	if err := s.replaceProfile(rec, successKeys(keys)...); err != nil {
		return "", fmt.Errorf("new recovery key for %s: %w", profileID, err)
	}
	return recoveryKey, nil
}

// DeleteProfile deletes targetID and locks it. An admin may delete any
// profile; anyone may delete their own profile after giving its password
// again, and a current code when the profile has two-step sign-in, so that
// a watched password is not enough to destroy it. The last admin cannot be
// deleted. The caller erases the profile's data, which is unreadable from
// here on because its key is gone.
func (s *Store) DeleteProfile(ctx context.Context, actorID, targetID, password, code, client string) (Profile, error) {
	if actorID == targetID {
		p, err := s.Profile(ctx, actorID)
		if err != nil {
			return Profile{}, err
		}
		keys := throttleKeys(s.throttleName(p.Name), client)
		rec, done, err := s.beginAttempt(keys, p.Name)
		if err != nil {
			return Profile{}, fmt.Errorf("delete profile %s: %w", targetID, err)
		}
		defer done()
		dataKey, err := s.checkPasswordAndCode(rec, password, code, keys)
		if err != nil {
			return Profile{}, fmt.Errorf("delete profile %s: %w", targetID, err)
		}
		dataKey.Wipe()
	}

	var deleted Profile
	err := s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		if actorID != targetID {
			if err := s.requireAdmin(profiles, actorID); err != nil {
				return err
			}
		}
		rec, err := s.getProfile(profiles, targetID)
		if err != nil {
			return err
		}
		if rec.Role == RoleAdmin {
			if n, err := s.countAdmins(profiles); err != nil {
				return err
			} else if n <= 1 {
				return ErrLastAdmin
			}
		}

		// The stored name passed the rules of the version that created it,
		// which may differ from today's, so it is only keyed, not checked.
		if err := unindexName(tx, rec.Name, rec.ID); err != nil {
			return err
		}
		if err := clearFailures(tx, throttleKeys(s.hashName(nameKey(rec.Name)), "")[2]); err != nil {
			return err
		}
		deleted = rec.profile()
		return profiles.Delete([]byte(targetID))
	})
	if err != nil {
		return Profile{}, fmt.Errorf("delete profile %s: %w", targetID, err)
	}
	s.challenges.dropProfile(targetID)
	s.unlocked.lock(targetID)
	s.verified.forget(targetID)
	return deleted, nil
}

// SetRole changes a profile's role. Only an admin may, and the last admin
// cannot be demoted.
func (s *Store) SetRole(ctx context.Context, actorID, targetID string, role Role) (Profile, error) {
	if role != RoleAdmin && role != RoleUser {
		return Profile{}, &InputError{Field: "role", Reason: fmt.Sprintf("The role %q does not exist; use admin or user.", role)}
	}
	var p Profile
	err := s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		if err := s.requireAdmin(profiles, actorID); err != nil {
			return err
		}
		rec, err := s.getProfile(profiles, targetID)
		if err != nil {
			return err
		}
		if rec.Role == RoleAdmin && role != RoleAdmin {
			if n, err := s.countAdmins(profiles); err != nil {
				return err
			} else if n <= 1 {
				return ErrLastAdmin
			}
		}
		rec.Role = role
		rec.UpdatedAt = s.now().UTC()
		p = rec.profile()
		return s.putProfile(profiles, rec)
	})
	if err != nil {
		return Profile{}, fmt.Errorf("set role of %s: %w", targetID, err)
	}
	return p, nil
}

// SetIdleLock sets how long profileID stays unlocked without a request; zero
// means until sign-out or quit.
func (s *Store) SetIdleLock(ctx context.Context, profileID string, idleLock time.Duration) error {
	if idleLock < 0 {
		return &InputError{Field: "idleLock", Reason: "The idle lock time cannot be negative; use 0 for never."}
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		rec, err := s.getProfile(profiles, profileID)
		if err != nil {
			return err
		}
		rec.IdleLock = idleLock
		rec.UpdatedAt = s.now().UTC()
		return s.putProfile(profiles, rec)
	})
	if err != nil {
		return fmt.Errorf("set idle lock of %s: %w", profileID, err)
	}
	s.unlocked.setIdleLock(profileID, idleLock)
	return nil
}

// AdoptInstallKey makes every profile record valid under the Store's install
// key: each gets a new MAC and a new signing key, so every older token stops
// working. It is for a data file whose install key was lost, when the person
// running Hearth chooses to trust the records as they are; it cannot tell a
// record changed by an attacker from one written with the lost key.
func (s *Store) AdoptInstallKey(ctx context.Context) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		var recs []*profileRecord
		err := profiles.ForEach(func(k, v []byte) error {
			var rec profileRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode profile %s: %w", k, err)
			}
			recs = append(recs, &rec)
			return nil
		})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			rec.TokenVersion++
			s.setSigningKey(rec)
			if err := s.putProfile(profiles, rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// ProfilesExist reports whether db holds any profile. It needs no Store, so
// that the caller can decide how to open one.
func ProfilesExist(db *bbolt.DB) (bool, error) {
	exist := false
	err := db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(profilesBucket); b != nil {
			exist = b.Stats().KeyN > 0
		}
		return nil
	})
	return exist, err
}

// CountTampered returns how many profile records do not match their MAC
// under this Store's install key.
func (s *Store) CountTampered(ctx context.Context) (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		return profiles.ForEach(func(k, _ []byte) error {
			if _, err := s.getProfile(profiles, string(k)); errors.Is(err, ErrTampered) {
				n++
			}
			return nil
		})
	})
	return n, err
}

// beginAttempt waits for the attempt in progress, if any, and checks the
// throttle for keys. It returns the record of the profile named name, or the
// dummy record when there is none, so that the caller spends the same work
// either way. Unless it returns an error, the caller calls the returned
// function once the attempt's failure, if any, has been counted.
func (s *Store) beginAttempt(keys [][]byte, name string) (*profileRecord, func(), error) {
	rec, done, err := s.lockAttempt(keys, func(tx *bbolt.Tx) (*profileRecord, error) {
		display, _, nameErr := normalizeName(name)
		if nameErr != nil {
			return nil, nil
		}
		id := lookupName(tx, display)
		if id == "" {
			return nil, nil
		}
		return s.getProfile(tx.Bucket(profilesBucket), id)
	})
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		rec = s.dummyRecord()
	}
	return rec, done, nil
}

// beginCodeAttempt is beginAttempt for an attempt that checks a two-step
// sign-in code of profileID, whose name the caller has already read. It
// returns ErrNotFound, not the dummy record, when the profile is gone.
func (s *Store) beginCodeAttempt(keys [][]byte, profileID string) (*profileRecord, func(), error) {
	return s.lockAttempt(keys, func(tx *bbolt.Tx) (*profileRecord, error) {
		return s.getProfile(tx.Bucket(profilesBucket), profileID)
	})
}

// lockAttempt takes attemptMu, checks the throttle for keys and reads a
// record with find in the same transaction. Unless it returns an error, the
// caller calls the returned function to release attemptMu once the
// attempt's failure, if any, has been counted.
func (s *Store) lockAttempt(keys [][]byte, find func(tx *bbolt.Tx) (*profileRecord, error)) (*profileRecord, func(), error) {
	s.attemptMu.Lock()
	now := s.now()
	var rec *profileRecord
	var wait time.Duration
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if wait, err = retryAfter(tx, keys, now); err != nil || wait > 0 {
			return err
		}
		rec, err = find(tx)
		return err
	})
	if err != nil {
		s.attemptMu.Unlock()
		return nil, nil, err
	}
	if wait > 0 {
		s.attemptMu.Unlock()
		return nil, nil, &ThrottledError{RetryAfter: wait}
	}
	return rec, s.attemptMu.Unlock, nil
}

// failAttempt counts a failed attempt and returns ErrInvalidCredentials.
func (s *Store) failAttempt(keys [][]byte) error {
	if err := s.countFailure(keys); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

// failCode counts a wrong two-step sign-in code as a failed attempt and
// returns ErrInvalidCode.
func (s *Store) failCode(keys [][]byte) error {
	if err := s.countFailure(keys); err != nil {
		return err
	}
	return ErrInvalidCode
}

// countFailure adds a failed attempt to the counters under keys.
func (s *Store) countFailure(keys [][]byte) error {
	now := s.now()
	if err := s.db.Update(func(tx *bbolt.Tx) error { return recordFailure(tx, keys, now) }); err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	return nil
}

// openWithPassword checks password against rec and unwraps rec's data key.
// It reports false for a wrong password or the dummy record, after the same
// work as a right one.
func (s *Store) openWithPassword(rec *profileRecord, password string) (*seal.Key, bool, error) {
	// A longer password never matches, because none was accepted when set,
	// but it still costs the same work as one that might.
	tooLong := len(password) > MaxPasswordBytes
	if tooLong {
		password = password[:MaxPasswordBytes]
	}
	match, err := verifyPassword(password, rec.PasswordHash)
	if err != nil {
		return nil, false, err
	}
	wrapKey, err := passwordKey(password, rec.KDF)
	if err != nil {
		return nil, false, err
	}
	dataKey, openErr := wrapKey.OpenKey(rec.DataKeyByPassword, dataKeyByPasswordAD(rec.ID))
	if !match || tooLong || rec == &s.dummy {
		if dataKey != nil {
			dataKey.Wipe()
		}
		return nil, false, nil
	}
	if openErr != nil {
		return nil, false, fmt.Errorf("unwrap data key: %w", openErr)
	}
	return dataKey, true, nil
}

// setPassword stores a new password hash and wraps dataKey under a key
// derived from the password with a fresh salt.
func (s *Store) setPassword(rec *profileRecord, dataKey *seal.Key, password string) {
	rec.PasswordHash = hashPassword(password, s.params)
	rec.KDF = newKDFParams(s.params)
	wrapKey, err := passwordKey(password, rec.KDF)
	if err != nil {
		// newKDFParams copies s.params, which are within the bounds.
		panic("auth: " + err.Error())
	}
	rec.DataKeyByPassword = wrapKey.SealKey(dataKey, dataKeyByPasswordAD(rec.ID))
}

// needsRehash reports whether rec's password hash or password key was made
// with other argon2id parameters than the Store's.
func (s *Store) needsRehash(rec *profileRecord) bool {
	hashParams, _, _, err := parseHash(rec.PasswordHash)
	if err != nil {
		// openWithPassword has parsed this hash already, so this is not
		// reached. A hash that does not parse is left as it is.
		return false
	}
	kdfParams := argonParams{Memory: rec.KDF.Memory, Time: rec.KDF.Time, Threads: rec.KDF.Threads, KeyLen: seal.KeySize}
	return hashParams != s.params || kdfParams != s.params
}

// storeRehash writes the password hash, key parameters and wrapped data key
// of rehashed over those of the stored profile, and leaves its other fields
// as they are stored. It writes nothing, and returns false, when the stored
// hash is no longer old's because the password changed since old was read.
func (s *Store) storeRehash(profiles *bbolt.Bucket, old, rehashed *profileRecord) (bool, error) {
	stored, err := s.getProfile(profiles, old.ID)
	if err != nil {
		return false, err
	}
	if stored.PasswordHash != old.PasswordHash {
		return false, nil
	}
	stored.PasswordHash = rehashed.PasswordHash
	stored.KDF = rehashed.KDF
	stored.DataKeyByPassword = rehashed.DataKeyByPassword
	return true, s.putProfile(profiles, stored)
}

// setRecoveryKey makes a new recovery key, wraps dataKey under it and
// returns the key's display form.
func setRecoveryKey(rec *profileRecord, dataKey *seal.Key) string {
	display, raw := newRecoveryKey()
	defer clear(raw)
	rec.RecoverySalt = randomBytes(saltLength)
	rec.DataKeyByRecovery = recoveryWrapKey(raw, rec.RecoverySalt).SealKey(dataKey, dataKeyByRecoveryAD(rec.ID))
	return display
}

// setSigningKey gives rec a new token signing key sealed by the install key.
func (s *Store) setSigningKey(rec *profileRecord) {
	k := seal.NewKey()
	defer k.Wipe()
	rec.SigningKey = s.installKey.SealKey(k, signingKeyAD(rec.ID))
}

// replaceProfile writes rec over the stored profile but keeps the stored
// role and idle lock, which SetRole or SetIdleLock may have changed while the
// caller derived keys from its older copy. Unless throttleKey is nil, it also
// clears the failed attempts counted under that key.
func (s *Store) replaceProfile(rec *profileRecord, throttleKeys ...[]byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		stored, err := s.getProfile(profiles, rec.ID)
		if err != nil {
			return err
		}
		rec.Role, rec.IdleLock = stored.Role, stored.IdleLock
		if err := clearFailures(tx, throttleKeys...); err != nil {
			return err
		}
		return s.putProfile(profiles, rec)
	})
}

// unlockCopy unlocks rec's profile with a copy of dataKey, which the caller
// keeps and wipes.
func (s *Store) unlockCopy(rec *profileRecord, dataKey *seal.Key) {
	k, _ := seal.KeyFrom(dataKey.Bytes())
	s.unlocked.unlock(rec.ID, k, rec.IdleLock, s.now())
}

// dummyRecord returns the record that unknown names are checked against. It
// has a new profile's argon2id parameters, so checking a password against it
// costs what checking one against a real profile costs. Building it runs no
// argon2id: the hash is of random bytes and the data key is wrapped under a
// random key, since no password is ever meant to open either. That keeps two
// 64 MiB argon2id runs off the start of every process, where they competed
// with the window for the CPU.
func (s *Store) dummyRecord() *profileRecord {
	s.dummyOnce.Do(func() {
		s.dummy = profileRecord{ID: "dummy"}
		dataKey := seal.NewKey()
		defer dataKey.Wipe()
		wrapKey := seal.NewKey()
		defer wrapKey.Wipe()
		s.dummy.PasswordHash = unmatchableHash(s.params)
		s.dummy.KDF = newKDFParams(s.params)
		s.dummy.DataKeyByPassword = wrapKey.SealKey(dataKey, dataKeyByPasswordAD(s.dummy.ID))
		setRecoveryKey(&s.dummy, dataKey)
	})
	return &s.dummy
}

// requireAdmin returns ErrForbidden unless actorID names an admin profile.
func (s *Store) requireAdmin(profiles *bbolt.Bucket, actorID string) error {
	if actorID == "" {
		return ErrForbidden
	}
	actor, err := s.getProfile(profiles, actorID)
	if err != nil || actor.Role != RoleAdmin {
		return ErrForbidden
	}
	return nil
}

// countAdmins counts the admins whose records are intact.
func (s *Store) countAdmins(profiles *bbolt.Bucket) (int, error) {
	n := 0
	err := profiles.ForEach(func(k, _ []byte) error {
		rec, err := s.getProfile(profiles, string(k))
		if err == nil && rec.Role == RoleAdmin {
			n++
		}
		return nil
	})
	return n, err
}

// pruneRevoked deletes revocations of tokens that have expired anyway.
func pruneRevoked(revoked *bbolt.Bucket, now time.Time) error {
	var expired [][]byte
	err := revoked.ForEach(func(k, v []byte) error {
		exp, err := time.Parse(time.RFC3339, string(v))
		if err != nil || now.After(exp.Add(tokenLeeway)) {
			expired = append(expired, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range expired {
		if err := revoked.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// getProfile decodes the record stored under id and checks its MAC. The
// result does not share memory with the transaction.
func (s *Store) getProfile(profiles *bbolt.Bucket, id string) (*profileRecord, error) {
	v := profiles.Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	return s.decodeProfile(id, v)
}

// decodeProfile decodes the record v stored under id and checks its MAC.
// The result does not share memory with v.
func (s *Store) decodeProfile(id string, v []byte) (*profileRecord, error) {
	var rec profileRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode profile %s: %w", id, err)
	}
	if rec.Version != profileRecordVersion {
		return nil, fmt.Errorf("profile %s has schema version %d, want %d", id, rec.Version, profileRecordVersion)
	}
	if !hmac.Equal(rec.MAC, s.recordMAC(&rec)) {
		return nil, fmt.Errorf("%w: profile %s", ErrTampered, id)
	}
	return &rec, nil
}

// putProfile writes rec with a fresh MAC.
func (s *Store) putProfile(profiles *bbolt.Bucket, rec *profileRecord) error {
	rec.MAC = s.recordMAC(rec)
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode profile %s: %w", rec.ID, err)
	}
	return profiles.Put([]byte(rec.ID), v)
}

// recordMAC returns the HMAC-SHA256 of rec without its MAC, under a key
// derived from the install key. Someone who can write the data file but not
// read the install key cannot change a profile's role, password or keys
// without the MAC failing.
func (s *Store) recordMAC(rec *profileRecord) []byte {
	unsigned := *rec
	unsigned.MAC = nil
	data, err := json.Marshal(unsigned)
	if err != nil {
		// profileRecord holds only JSON-ready fields.
		panic("auth: encode profile record: " + err.Error())
	}
	mac := hmac.New(sha256.New, s.macKey)
	mac.Write(data)
	return mac.Sum(nil)
}

// newProfileID returns 16 random bytes as unpadded URL-safe base64.
func newProfileID() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(16))
}

// randomBytes returns n bytes from crypto/rand, whose Read never fails.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
