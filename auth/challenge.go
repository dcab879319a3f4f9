package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"hearth/seal"
)

// Limits on sign-in challenges, the second step of a sign-in with two-step
// sign-in.
const (
	// challengeTTL is how long after the password step the code is accepted.
	challengeTTL = 5 * time.Minute
	// maxChallengeFailures is how many wrong codes drop a challenge.
	maxChallengeFailures = 5
	// maxChallengesPerProfile bounds how many copies of one profile's data
	// key pending challenges hold. A new challenge beyond it drops the
	// profile's oldest.
	maxChallengesPerProfile = 4
)

// challenge is a sign-in whose password was right and that waits for a code.
type challenge struct {
	profileID string
	// hashedName is the name typed at the password step, as throttleName
	// returns it, so that wrong codes count toward the same throttle
	// counters as wrong passwords.
	hashedName string
	// key is the profile's data key, unwrapped by the password. It is
	// wiped when the challenge is used, dropped or expires.
	key      *seal.Key
	created  time.Time
	expires  time.Time
	failures int
	// expiry is the timer that removes the challenge challengeTTL after it
	// was made, in real time, so that the key of an abandoned challenge
	// does not wait in memory for the next call. It is stopped when the
	// challenge ends earlier.
	expiry timerStopper
}

// timerStopper is the part of *time.Timer that challenges uses.
type timerStopper interface {
	Stop() bool
}

// challenges holds the pending sign-in challenges, in memory only. The
// store's clock decides whether a challenge is still valid, so the methods
// that take now first drop the challenges expired at that time. A timer per
// challenge also drops it, and wipes its key, once its lifetime has passed
// in real time. It is safe for concurrent use.
type challenges struct {
	// afterFunc arms the expiry timer of a challenge. It is time.AfterFunc,
	// except in tests that fire the timers themselves.
	afterFunc func(d time.Duration, f func()) timerStopper

	mu   sync.Mutex
	byID map[string]*challenge // challenge id → challenge
}

func newChallenges() *challenges {
	return &challenges{
		afterFunc: func(d time.Duration, f func()) timerStopper { return time.AfterFunc(d, f) },
		byID:      make(map[string]*challenge),
	}
}

// add stores a challenge for profileID that takes ownership of key, and
// returns its id and expiry.
func (cs *challenges) add(profileID, hashedName string, key *seal.Key, now time.Time) (string, time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.sweepLocked(now)

	var oldestID string
	var oldest *challenge
	count := 0
	for id, c := range cs.byID {
		if c.profileID != profileID {
			continue
		}
		count++
		if oldest == nil || c.created.Before(oldest.created) {
			oldestID, oldest = id, c
		}
	}
	if count >= maxChallengesPerProfile {
		cs.removeLocked(oldestID, oldest)
	}

	id := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	c := &challenge{profileID: profileID, hashedName: hashedName, key: key, created: now, expires: now.Add(challengeTTL)}
	cs.byID[id] = c
	c.expiry = cs.afterFunc(challengeTTL, func() { cs.expire(id, c) })
	return id, c.expires
}

// expire removes challenge id and wipes its key, unless the challenge has
// ended already. The expiry timer of c calls it.
func (cs *challenges) expire(id string, c *challenge) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.byID[id] == c {
		cs.removeLocked(id, c)
	}
}

// peek returns the profile id and hashed name of challenge id, or false
// when there is no such challenge at now.
func (cs *challenges) peek(id string, now time.Time) (profileID, hashedName string, ok bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.sweepLocked(now)
	c, ok := cs.byID[id]
	if !ok {
		return "", "", false
	}
	return c.profileID, c.hashedName, true
}

// dataKey returns a copy of the data key of challenge id, which the caller
// owns and wipes, or false when there is no such challenge at now.
func (cs *challenges) dataKey(id string, now time.Time) (*seal.Key, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.sweepLocked(now)
	c, ok := cs.byID[id]
	if !ok {
		return nil, false
	}
	k, _ := seal.KeyFrom(c.key.Bytes())
	return k, true
}

// fail counts a wrong code for challenge id, and drops the challenge at
// the maxChallengeFailures-th.
func (cs *challenges) fail(id string, now time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.sweepLocked(now)
	c, ok := cs.byID[id]
	if !ok {
		return
	}
	c.failures++
	if c.failures >= maxChallengeFailures {
		cs.removeLocked(id, c)
	}
}

// consume removes challenge id and wipes its key, and reports whether it
// was still there at now. A challenge can be consumed once.
func (cs *challenges) consume(id string, now time.Time) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.sweepLocked(now)
	c, ok := cs.byID[id]
	if ok {
		cs.removeLocked(id, c)
	}
	return ok
}

// drop removes challenge id, if there is one, and wipes its key.
func (cs *challenges) drop(id string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.byID[id]; ok {
		cs.removeLocked(id, c)
	}
}

// dropProfile removes every challenge of profileID and wipes their keys.
func (cs *challenges) dropProfile(profileID string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.byID {
		if c.profileID == profileID {
			cs.removeLocked(id, c)
		}
	}
}

// dropAll removes every challenge and wipes their keys.
func (cs *challenges) dropAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.byID {
		cs.removeLocked(id, c)
	}
}

// sweepLocked removes the challenges that have expired at now. cs.mu must
// be held.
func (cs *challenges) sweepLocked(now time.Time) {
	for id, c := range cs.byID {
		if !now.Before(c.expires) {
			cs.removeLocked(id, c)
		}
	}
}

// removeLocked stops c's expiry timer, wipes c's key and deletes c from the
// table. cs.mu must be held.
func (cs *challenges) removeLocked(id string, c *challenge) {
	c.expiry.Stop()
	c.key.Wipe()
	delete(cs.byID, id)
}

// newChallenge turns a right password for a profile with two-step sign-in
// into a challenge that holds dataKey, and returns the *MFARequiredError
// that Login returns.
func (s *Store) newChallenge(rec *profileRecord, hashedName string, dataKey *seal.Key) error {
	id, expires := s.challenges.add(rec.ID, hashedName, dataKey, s.now())
	return &MFARequiredError{Challenge: id, ExpiresAt: expires}
}

// CompleteLogin finishes a sign-in for which Login returned
// *MFARequiredError. It checks code, a current TOTP code or an unused
// backup code, against the challenge's profile, then unlocks the profile
// and returns a token, as Login does for a profile without the factor.
//
// A missing code returns ErrCodeRequired, which is not counted as a failed
// attempt. An unknown, used or expired challenge returns
// ErrChallengeExpired. A wrong code returns ErrInvalidCode and counts toward the sign-in throttle
// of the name typed at the password step and of client, like a wrong
// password, and the maxChallengeFailures-th wrong code drops the challenge.
// While recent failures are too many, CompleteLogin returns
// *ThrottledError without checking the code.
func (s *Store) CompleteLogin(ctx context.Context, challengeID, code, client string) (Token, error) {
	if codeMissing(code) {
		return Token{}, ErrCodeRequired
	}
	profileID, hashedName, ok := s.challenges.peek(challengeID, s.now())
	if !ok {
		return Token{}, ErrChallengeExpired
	}
	keys := throttleKeys(hashedName, client)
	rec, done, err := s.beginCodeAttempt(keys, profileID)
	if errors.Is(err, ErrNotFound) {
		s.challenges.drop(challengeID)
		return Token{}, ErrChallengeExpired
	}
	if err != nil {
		return Token{}, fmt.Errorf("complete login: %w", err)
	}
	defer done()

	// Another attempt may have used or dropped the challenge while this one
	// waited for attemptMu, so it is looked up again.
	dataKey, ok := s.challenges.dataKey(challengeID, s.now())
	if !ok {
		return Token{}, ErrChallengeExpired
	}
	defer dataKey.Wipe()
	if !rec.totpEnabled() {
		// The factor was turned off since the password step.
		s.challenges.drop(challengeID)
		return Token{}, ErrChallengeExpired
	}
	match, err := s.useCode(rec, dataKey, code)
	if err != nil {
		return Token{}, fmt.Errorf("complete login %s: %w", rec.ID, err)
	}
	if !match {
		s.challenges.fail(challengeID, s.now())
		return Token{}, s.failCode(keys)
	}

	if !s.challenges.consume(challengeID, s.now()) {
		return Token{}, ErrChallengeExpired
	}
	if err := s.replaceProfile(rec, successKeys(keys)...); err != nil {
		return Token{}, fmt.Errorf("complete login %s: %w", rec.ID, err)
	}
	s.unlockCopy(rec, dataKey)
	return s.issueToken(rec)
}
