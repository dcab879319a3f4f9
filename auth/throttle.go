package auth

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Sign-in throttling: after throttleFreeFailures failed attempts within
// throttleWindow, each further attempt waits, starting at throttleFirstWait
// and doubling with each failure up to throttleMaxWait.
const (
	throttleWindow       = 15 * time.Minute
	throttleFreeFailures = 5
	throttleFirstWait    = time.Second
	throttleMaxWait      = 15 * time.Minute
)

var failuresBucket = []byte("signin_failures") // counter key → failureRecord JSON

// failureRecord lists the times of recent failed attempts, newest last.
type failureRecord struct {
	Failures []time.Time `json:"failures"`
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
		n := len(rec.Failures)
		if n < throttleFreeFailures {
			continue
		}
		backoff := throttleFirstWait << min(n-throttleFreeFailures, 20)
		backoff = min(backoff, throttleMaxWait)
		if until := rec.Failures[n-1].Add(backoff); until.After(now) {
			wait = max(wait, until.Sub(now))
		}
	}
	return wait, nil
}

// recordFailure adds a failed attempt at now to every counter in keys.
func recordFailure(tx *bbolt.Tx, keys [][]byte, now time.Time) error {
	for _, key := range keys {
		rec, err := readFailures(tx, key, now)
		if err != nil {
			return err
		}
		rec.Failures = append(rec.Failures, now)
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

// readFailures returns the failures under key that are still inside the
// window at now.
func readFailures(tx *bbolt.Tx, key []byte, now time.Time) (failureRecord, error) {
	var rec failureRecord
	v := tx.Bucket(failuresBucket).Get(key)
	if v == nil {
		return rec, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("decode failures of %s: %w", key, err)
	}
	kept := rec.Failures[:0]
	for _, at := range rec.Failures {
		if now.Sub(at) < throttleWindow {
			kept = append(kept, at)
		}
	}
	rec.Failures = kept
	return rec, nil
}
