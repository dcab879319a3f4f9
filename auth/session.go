package auth

import (
	"sync"
	"time"

	"hearth/seal"
)

// DefaultIdleLock is how long an unlocked profile stays unlocked without a
// request.
const DefaultIdleLock = 15 * time.Minute

// unlockedProfiles holds the data keys of the profiles signed in since the
// process started. Keys live only here, in memory; a profile missing from the
// table is locked. A timer per profile wipes its key once it has been idle
// too long, so a key does not wait for the next request to be wiped. It is
// safe for concurrent use.
type unlockedProfiles struct {
	now func() time.Time

	mu   sync.Mutex
	keys map[string]*unlockedProfile // profile id → key

	// onLock, when set, is called in its own goroutine with the id of each
	// profile that locks, so that what else holds its data can let go.
	onLock func(profileID string)
}

type unlockedProfile struct {
	key      *seal.Key
	lastUsed time.Time
	idleLock time.Duration // 0 means never
	timer    *time.Timer   // nil when idleLock is 0
}

// newUnlockedProfiles returns an empty table that reads the time from now.
func newUnlockedProfiles(now func() time.Time) *unlockedProfiles {
	return &unlockedProfiles{now: now, keys: make(map[string]*unlockedProfile)}
}

// unlock stores key for profileID, replacing and wiping any key already
// there.
func (u *unlockedProfiles) unlock(profileID string, key *seal.Key, idleLock time.Duration, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if old, ok := u.keys[profileID]; ok && old.key != key {
		u.removeLocked(profileID, old)
	}
	p := &unlockedProfile{key: key, lastUsed: now, idleLock: idleLock}
	u.keys[profileID] = p
	u.armLocked(profileID, p, idleLock)
}

// use returns a copy of profileID's data key and counts now as activity. It
// returns false if the profile is locked, locking it first if it has been
// idle too long. The copy belongs to the caller, so locking the profile
// never changes a key that a request is still using.
func (u *unlockedProfiles) use(profileID string, now time.Time) (*seal.Key, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.activeLocked(profileID, now)
	if !ok {
		return nil, false
	}
	p.lastUsed = now
	k, _ := seal.KeyFrom(p.key.Bytes())
	return k, true
}

// touch counts now as activity of profileID and reports whether the profile
// is unlocked, locking it first if it has been idle too long.
func (u *unlockedProfiles) touch(profileID string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.activeLocked(profileID, now)
	if ok {
		p.lastUsed = now
	}
	return ok
}

// isUnlocked reports whether profileID is unlocked at now, locking it first
// if it has been idle too long. Unlike use and touch, it does not count as
// activity.
func (u *unlockedProfiles) isUnlocked(profileID string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.activeLocked(profileID, now)
	return ok
}

// activeLocked returns the entry of profileID, or false if the profile is
// locked. A profile idle for its whole idle lock time at now is locked
// first. u.mu must be held.
func (u *unlockedProfiles) activeLocked(profileID string, now time.Time) (*unlockedProfile, bool) {
	p, ok := u.keys[profileID]
	if !ok {
		return nil, false
	}
	if p.idleLock > 0 && now.Sub(p.lastUsed) >= p.idleLock {
		u.removeLocked(profileID, p)
		return nil, false
	}
	return p, true
}

// setIdleLock changes the idle time of an unlocked profile.
func (u *unlockedProfiles) setIdleLock(profileID string, idleLock time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p, ok := u.keys[profileID]; ok {
		p.idleLock = idleLock
		u.armLocked(profileID, p, idleLock)
	}
}

// lock wipes profileID's key.
func (u *unlockedProfiles) lock(profileID string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p, ok := u.keys[profileID]; ok {
		u.removeLocked(profileID, p)
	}
}

// lockAll wipes every key.
func (u *unlockedProfiles) lockAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, p := range u.keys {
		u.removeLocked(id, p)
	}
}

// expire is run by a profile's timer. It locks the profile if it is still
// the same unlock and has been idle long enough, and otherwise sets the
// timer for the rest of the idle time.
func (u *unlockedProfiles) expire(profileID string, p *unlockedProfile) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.keys[profileID] != p || p.idleLock == 0 {
		return
	}
	idle := u.now().Sub(p.lastUsed)
	if idle >= p.idleLock {
		u.removeLocked(profileID, p)
		return
	}
	u.armLocked(profileID, p, p.idleLock-idle)
}

// armLocked sets p's timer to fire after d, or stops it when p never locks
// by itself. u.mu must be held.
func (u *unlockedProfiles) armLocked(profileID string, p *unlockedProfile, d time.Duration) {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if p.idleLock > 0 {
		p.timer = time.AfterFunc(d, func() { u.expire(profileID, p) })
	}
}

// removeLocked wipes p's key and forgets it. u.mu must be held.
func (u *unlockedProfiles) removeLocked(profileID string, p *unlockedProfile) {
	if p.timer != nil {
		p.timer.Stop()
	}
	p.key.Wipe()
	delete(u.keys, profileID)
	if u.onLock != nil {
		go u.onLock(profileID)
	}
}
