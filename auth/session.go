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
// table is locked. It is safe for concurrent use.
type unlockedProfiles struct {
	mu   sync.Mutex
	keys map[string]*unlockedProfile // profile id → key
}

type unlockedProfile struct {
	key      *seal.Key
	lastUsed time.Time
	idleLock time.Duration // 0 means never
}

func newUnlockedProfiles() *unlockedProfiles {
	return &unlockedProfiles{keys: make(map[string]*unlockedProfile)}
}

// unlock stores key for profileID, replacing and wiping any key already
// there.
func (u *unlockedProfiles) unlock(profileID string, key *seal.Key, idleLock time.Duration, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if old, ok := u.keys[profileID]; ok && old.key != key {
		old.key.Wipe()
	}
	u.keys[profileID] = &unlockedProfile{key: key, lastUsed: now, idleLock: idleLock}
}

// use returns a copy of profileID's data key and counts now as activity. It
// returns false if the profile is locked, locking it first if it has been
// idle too long. The copy belongs to the caller, so locking the profile
// never changes a key that a request is still using.
func (u *unlockedProfiles) use(profileID string, now time.Time) (*seal.Key, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.keys[profileID]
	if !ok {
		return nil, false
	}
	if p.idleLock > 0 && now.Sub(p.lastUsed) >= p.idleLock {
		p.key.Wipe()
		delete(u.keys, profileID)
		return nil, false
	}
	p.lastUsed = now
	k, _ := seal.KeyFrom(p.key.Bytes())
	return k, true
}

// setIdleLock changes the idle time of an unlocked profile.
func (u *unlockedProfiles) setIdleLock(profileID string, idleLock time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p, ok := u.keys[profileID]; ok {
		p.idleLock = idleLock
	}
}

// lock wipes profileID's key.
func (u *unlockedProfiles) lock(profileID string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p, ok := u.keys[profileID]; ok {
		p.key.Wipe()
		delete(u.keys, profileID)
	}
}

// lockAll wipes every key.
func (u *unlockedProfiles) lockAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, p := range u.keys {
		p.key.Wipe()
		delete(u.keys, id)
	}
}
