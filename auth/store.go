package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.etcd.io/bbolt"
)

var (
	profilesBucket = []byte("profiles")      // profile id → profileRecord JSON
	namesBucket    = []byte("profile_names") // folded name → profile id
)

// profileRecordVersion is the schema version of profileRecord.
const profileRecordVersion = 1

// profileRecord is a profile as stored in bbolt, secrets included.
type profileRecord struct {
	Version      int       `json:"v"`
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	PasswordHash string    `json:"passwordHash"`
	// SigningKey signs and verifies this profile's tokens.
	// TODO: store it wrapped by the install key instead of in the clear.
	SigningKey []byte `json:"signingKey"`
	// TokenVersion is copied into every token; raising it revokes them all.
	TokenVersion int `json:"tokenVersion"`
}

func (r *profileRecord) profile() Profile {
	return Profile{ID: r.ID, Name: r.Name, Role: r.Role, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// Store keeps profiles in a bbolt database, checks passwords and issues and
// verifies tokens. It is safe for concurrent use.
type Store struct {
	db       *bbolt.DB
	params   argonParams
	tokenTTL time.Duration
	now      func() time.Time
	parser   *jwt.Parser

	dummyOnce sync.Once
	dummyHash string // hash checked for unknown names, so they cost as much as known ones
}

// Open prepares the profile buckets in db and returns a Store that uses them.
// The caller keeps ownership of db and closes it after the Store is no longer
// used.
func Open(db *bbolt.DB) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{profilesBucket, namesBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, params: defaultArgonParams, tokenTTL: DefaultTokenTTL, now: time.Now}
	s.parser = newTokenParser(func() time.Time { return s.now() })
	return s, nil
}

// CreateProfile creates a profile with the given name and password. The first
// profile of a fresh store becomes an admin and needs no actor. Every later
// profile is a user and must be created by an admin: actor is the id of the
// signed-in profile making the request, and its role is read from the store,
// not from a token.
func (s *Store) CreateProfile(ctx context.Context, actorID, name, password string) (Profile, error) {
	display, folded, err := normalizeName(name)
	if err != nil {
		return Profile{}, err
	}
	if err := checkPassword(password); err != nil {
		return Profile{}, err
	}

	// Hash outside the write transaction: argon2id takes tens of milliseconds
	// and would block every other writer.
	hash := hashPassword(password, s.params)
	now := s.now().UTC()
	rec := profileRecord{
		Version: profileRecordVersion, ID: newProfileID(), Name: display, Role: RoleUser,
		CreatedAt: now, UpdatedAt: now, PasswordHash: hash, SigningKey: randomBytes(32), TokenVersion: 1,
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		names := tx.Bucket(namesBucket)

		if first := profiles.Stats().KeyN == 0; first {
			rec.Role = RoleAdmin
		} else if err := requireAdmin(profiles, actorID); err != nil {
			return err
		}
		if names.Get([]byte(folded)) != nil {
			return ErrNameTaken
		}

		if err := putProfile(profiles, &rec); err != nil {
			return err
		}
		return names.Put([]byte(folded), []byte(rec.ID))
	})
	if err != nil {
		return Profile{}, fmt.Errorf("create profile: %w", err)
	}
	return rec.profile(), nil
}

// Profiles returns every profile, sorted by name.
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
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}

// Profile returns the profile with the given id, or ErrNotFound.
func (s *Store) Profile(ctx context.Context, id string) (Profile, error) {
	var p Profile
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec, err := getProfile(tx.Bucket(profilesBucket), id)
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

// Login checks a name and password and returns a signed token for the
// profile. An unknown name and a wrong password both return
// ErrInvalidCredentials after the same amount of hashing work.
func (s *Store) Login(ctx context.Context, name, password string) (Token, error) {
	var rec *profileRecord
	_, folded, nameErr := normalizeName(name)
	if nameErr == nil {
		err := s.db.View(func(tx *bbolt.Tx) error {
			id := tx.Bucket(namesBucket).Get([]byte(folded))
			if id == nil {
				return nil
			}
			var err error
			rec, err = getProfile(tx.Bucket(profilesBucket), string(id))
			return err
		})
		if err != nil {
			return Token{}, fmt.Errorf("login: %w", err)
		}
	}

	if rec == nil || len(password) > MaxPasswordBytes {
		// Spend the same work as a real check so timing does not reveal
		// whether the name exists.
		_, _ = verifyPassword(password, s.dummyPasswordHash())
		return Token{}, ErrInvalidCredentials
	}
	ok, err := verifyPassword(password, rec.PasswordHash)
	if err != nil {
		return Token{}, fmt.Errorf("login %s: %w", rec.ID, err)
	}
	if !ok {
		return Token{}, ErrInvalidCredentials
	}
	return s.issueToken(rec)
}

func (s *Store) dummyPasswordHash() string {
	s.dummyOnce.Do(func() {
		s.dummyHash = hashPassword("hearth-dummy-password", s.params)
	})
	return s.dummyHash
}

// requireAdmin returns ErrForbidden unless actorID names an admin profile.
func requireAdmin(profiles *bbolt.Bucket, actorID string) error {
	if actorID == "" {
		return ErrForbidden
	}
	actor, err := getProfile(profiles, actorID)
	if err != nil || actor.Role != RoleAdmin {
		return ErrForbidden
	}
	return nil
}

// getProfile decodes the record stored under id. The result does not share
// memory with the transaction.
func getProfile(profiles *bbolt.Bucket, id string) (*profileRecord, error) {
	v := profiles.Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	var rec profileRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode profile %s: %w", id, err)
	}
	return &rec, nil
}

func putProfile(profiles *bbolt.Bucket, rec *profileRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode profile %s: %w", rec.ID, err)
	}
	return profiles.Put([]byte(rec.ID), v)
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
