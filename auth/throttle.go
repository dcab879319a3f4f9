package auth

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Sign-in throttling: after throttleFreeFailures failed attempts, each
// further attempt waits, starting at throttleFirstWait and doubling with each
// failure up to throttleMaxWait. A counter is forgotten once throttleWindow
// has passed since its last wait ended, so someone who waits out every delay
// keeps the count growing until the wait reaches its cap.
const (
	throttleWindow       = 15 * time.Minute
	throttleFreeFailures = 5
	throttleFirstWait    = time.Second
	throttleMaxWait      = 15 * time.Minute
)

var failuresBucket = []byte("signin_failures") // counter key → failureRecord JSON

// failureRecord counts the failed attempts under one key.
type failureRecord struct {
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
}

// wait returns how long after the last failure the next attempt must wait.
func (r failureRecord) wait() time.Duration {
	if r.Count < throttleFreeFailures {
		return 0
	}
	return min(throttleFirstWait<<min(r.Count-throttleFreeFailures, 20), throttleMaxWait)
}

// expired reports whether the counter is old enough at now to be forgotten.
func (r failureRecord) expired(now time.Time) bool {
	return now.Sub(r.Last.Add(r.wait())) >= throttleWindow
}

// throttleKeys returns the counters a sign-in attempt is judged by: one for
// the profile name it names, known or not, and one for the client it comes
// from.
func throttleKeys(foldedName, client string) [][]byte {
	return [][]byte{[]byte("name:" + foldedName), []byte("client:" + client)}
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
		if until := rec.Last.Add(rec.wait()); rec.Count > 0 && until.After(now) {
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

// clearFailures forgets the failed attempts counted under key.
func clearFailures(tx *bbolt.Tx, key []byte) error {
	return tx.Bucket(failuresBucket).Delete(key)
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
	if rec.expired(now) {
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
		if json.Unmarshal(v, &rec) != nil || rec.expired(now) {
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
