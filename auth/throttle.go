package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Sign-in throttling: after a counter's free failures, each further attempt
// waits, starting at throttleFirstWait and doubling with each failure up to
// throttleMaxWait. A counter is forgotten once throttleWindow has passed
// since its last wait ended, so someone who waits out every delay keeps the
// count growing until the wait reaches its cap.
const (
	throttleWindow    = 15 * time.Minute
	throttleFirstWait = time.Second
	throttleMaxWait   = 15 * time.Minute

	// throttleFreeFailures is the free failures of the counters of one name
	// from one client and of one client: one person at one keyboard.
	throttleFreeFailures = 5
	// throttleFreeNameFailures is the free failures of the counter of one
	// name from all clients. It is higher, so that guessing from one client
	// does not lock the name out for everyone else, but still caps guessing
	// spread over many clients.
	throttleFreeNameFailures = 20
)

var (
	// failuresBucket contains the counters. The names in its keys are
	// keyed hashes, made by Store.throttleName.
	failuresBucket = []byte("signin_failures_v2") // counter key → failureRecord JSON
	// legacyFailuresBucket contains the counters that earlier versions wrote
	// with names in the clear. Open moves them to failuresBucket.
	legacyFailuresBucket = []byte("signin_failures")
)

// failureRecord counts the failed attempts under one key.
type failureRecord struct {
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// wait returns how long after the last failure the next attempt must wait,
// for a counter with the given free failures.
func (r failureRecord) wait(free int) time.Duration {
	if r.Count < free {
		return 0
	}
	return min(throttleFirstWait<<min(r.Count-free, 20), throttleMaxWait)
}

// expired reports whether the counter is old enough at now to be forgotten.
func (r failureRecord) expired(now time.Time, free int) bool {
	return now.Sub(r.Last.Add(r.wait(free))) >= throttleWindow
}

// throttleKeys returns the counters a sign-in attempt is judged by, in this
// order: the profile name it names (known or not) from the client it comes
// from, the client, and the name from all clients. hashedName is the name
// as throttleName returns it.
func throttleKeys(hashedName, client string) [][]byte {
	return [][]byte{
		[]byte("pair:" + client + "\x00" + hashedName),
		[]byte("client:" + client),
		[]byte("name:" + hashedName),
	}
}

// throttleName returns the form of a typed name in the throttle counter
// keys. It is the HMAC-SHA256, under a key derived from the install key, of
// "profile:" and the id of the profile that the name reaches, so that every
// spelling that sign-in accepts for a profile, such as "CaroI" for "Carol",
// shares its counters. For a name that reaches no profile, it is the HMAC
// of the name's nameKey, or of "invalid:" and the SHA-256 of the typed text
// when it is not a valid name. So the data file alone does not show which
// names were tried, not even a password typed into the name field.
func (s *Store) throttleName(name string) string {
	if display, folded, err := normalizeName(name); err == nil {
		var id string
		// A read error leaves id empty, and the name's own form keys the
		// counters.
		_ = s.db.View(func(tx *bbolt.Tx) error {
			id = lookupName(tx, display)
			return nil
		})
		if id != "" {
			return s.hashName("profile:" + id)
		}
		return s.hashName(folded)
	}
	sum := sha256.Sum256([]byte(name))
	return s.hashName("invalid:" + hex.EncodeToString(sum[:]))
}

// hashName returns the keyed hash of a name's form in the throttle counters,
// in hex. The forms are what earlier versions stored in the clear, so that
// hashLegacyFailures can move their counters.
func (s *Store) hashName(form string) string {
	mac := hmac.New(sha256.New, s.throttleKey)
	mac.Write([]byte(form))
	return hex.EncodeToString(mac.Sum(nil))
}

// hashLegacyFailures moves the counters of legacyFailuresBucket, if there is
// one, to failuresBucket with their names hashed, and deletes it. bbolt does
// not overwrite the pages it frees, so the old names stay in the file's free
// space until bbolt reuses it.
func (s *Store) hashLegacyFailures(tx *bbolt.Tx) error {
	legacy := tx.Bucket(legacyFailuresBucket)
	if legacy == nil {
		return nil
	}
	failures := tx.Bucket(failuresBucket)
	err := legacy.ForEach(func(k, v []byte) error {
		key, ok := s.hashLegacyKey(string(k))
		if !ok || failures.Get(key) != nil {
			return nil
		}
		return failures.Put(key, v)
	})
	if err != nil {
		return fmt.Errorf("move sign-in failure counters: %w", err)
	}
	return tx.DeleteBucket(legacyFailuresBucket)
}

// hashLegacyKey returns the key of a legacy counter with its name hashed,
// or false for a key that no version wrote.
func (s *Store) hashLegacyKey(key string) ([]byte, bool) {
	if pair, ok := strings.CutPrefix(key, "pair:"); ok {
		client, name, ok := strings.Cut(pair, "\x00")
		if !ok {
			return nil, false
		}
		return throttleKeys(s.hashName(name), client)[0], true
	}
	if name, ok := strings.CutPrefix(key, "name:"); ok {
		return throttleKeys(s.hashName(name), "")[2], true
	}
	if strings.HasPrefix(key, "client:") {
		return []byte(key), true
	}
	return nil, false
}

// successKeys returns the counters a successful attempt clears: the name's,
// but not the client's, which other names' failures share.
func successKeys(keys [][]byte) [][]byte {
	return [][]byte{keys[0], keys[2]}
}

// freeFailures returns how many failures the counter under key allows before
// attempts wait.
func freeFailures(key []byte) int {
	if bytes.HasPrefix(key, []byte("name:")) {
		return throttleFreeNameFailures
	}
	return throttleFreeFailures
}

// retryAfter returns how long the attempt must wait, or 0 if it may go
// ahead now.
func retryAfter(tx *bbolt.Tx, keys [][]byte, now time.Time) (time.Duration, error) {
	var wait time.Duration
	for _, key := range keys {
		rec, err := readFailures(tx, key, now)
		if err != nil {
			return 0, err
		}
		if until := rec.Last.Add(rec.wait(freeFailures(key))); rec.Count > 0 && until.After(now) {
			wait = max(wait, until.Sub(now))
		}
	}
	return wait, nil
}

// recordFailure adds a failed attempt at now to every counter in keys, and
// deletes the counters of others that have expired.
func recordFailure(tx *bbolt.Tx, keys [][]byte, now time.Time) error {
	if err := pruneFailures(tx, now); err != nil {
		return err
	}
	for _, key := range keys {
		rec, err := readFailures(tx, key, now)
		if err != nil {
			return err
		}
		rec.Count++
		rec.Last = now
		v, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode failures of %s: %w", key, err)
		}
		if err := tx.Bucket(failuresBucket).Put(key, v); err != nil {
			return err
		}
	}
	return nil
}

// clearFailures forgets the failed attempts counted under keys.
func clearFailures(tx *bbolt.Tx, keys ...[]byte) error {
	for _, key := range keys {
		if err := tx.Bucket(failuresBucket).Delete(key); err != nil {
			return err
		}
	}
	return nil
}

// readFailures returns the counter under key, or an empty one if it has
// expired at now.
func readFailures(tx *bbolt.Tx, key []byte, now time.Time) (failureRecord, error) {
	var rec failureRecord
	v := tx.Bucket(failuresBucket).Get(key)
	if v == nil {
		return rec, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode failures of %s: %w", key, err)
	}
	if rec.expired(now, freeFailures(key)) {
		return failureRecord{}, nil
	}
	return rec, nil
}

// pruneFailures deletes every counter that has expired at now, so that the
// bucket does not keep one entry per name ever tried.
func pruneFailures(tx *bbolt.Tx, now time.Time) error {
	b := tx.Bucket(failuresBucket)
	var expired [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var rec failureRecord
		if json.Unmarshal(v, &rec) != nil || rec.expired(now, freeFailures(k)) {
			expired = append(expired, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range expired {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
