package auth

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hearth/seal"
)

// wantLocked fails the test unless DataKey returns ErrLocked for profileID
// and Verify still accepts token, reporting the profile locked.
func wantLocked(t *testing.T, s *Store, profileID, token string) {
	t.Helper()
	if k, err := s.DataKey(profileID); !errors.Is(err, ErrLocked) {
		t.Errorf("DataKey error = %v, want %v", err, ErrLocked)
		if k != nil {
			k.Wipe()
		}
	}
	if token == "" {
		return
	}
	sess, err := s.Verify(context.Background(), token)
	if err != nil {
		t.Errorf("Verify of a locked profile's token: error = %v, want nil", err)
		return
	}
	if !sess.Locked {
		t.Error("Verify Locked = false, want true")
	}
}

// wantUnlocked fails the test unless DataKey returns profileID's key and
// Verify reports the profile unlocked.
func wantUnlocked(t *testing.T, s *Store, profileID, token string) {
	t.Helper()
	k, err := s.DataKey(profileID)
	if err != nil {
		t.Errorf("DataKey error = %v, want nil", err)
	} else {
		k.Wipe()
	}
	sess, err := s.Verify(context.Background(), token)
	if err != nil {
		t.Errorf("Verify error = %v, want nil", err)
		return
	}
	if sess.Locked {
		t.Error("Verify Locked = true, want false")
	}
}

func TestDataKeyLocking(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	ada := mustCreate(t, s, "", "Ada", testPassword)

	t.Run("before login", func(t *testing.T) {
		wantLocked(t, s, ada.ID, "")
	})

	t.Run("after login", func(t *testing.T) {
		wantUnlocked(t, s, ada.ID, mustLogin(t, s, "Ada", testPassword).Token)
	})

	t.Run("after logout", func(t *testing.T) {
		token := mustLogin(t, s, "Ada", testPassword).Token
		other := mustLogin(t, s, "Ada", testPassword).Token
		if err := s.Logout(ctx, mustVerify(t, s, token)); err != nil {
			t.Fatal(err)
		}
		wantLocked(t, s, ada.ID, other)
	})

	t.Run("after idle time", func(t *testing.T) {
		token := mustLogin(t, s, "Ada", testPassword).Token
		clock.Advance(DefaultIdleLock - time.Second)
		wantUnlocked(t, s, ada.ID, token)
		clock.Advance(DefaultIdleLock)
		wantLocked(t, s, ada.ID, token)

		// Time alone does not unlock it again.
		clock.Advance(-DefaultIdleLock)
		wantLocked(t, s, ada.ID, token)
	})

	t.Run("after close", func(t *testing.T) {
		token := mustLogin(t, s, "Ada", testPassword).Token
		s.Close()
		wantLocked(t, s, ada.ID, token)
	})

	t.Run("unknown profile", func(t *testing.T) {
		wantLocked(t, s, "no-such-profile", "")
	})
}

func TestDataKeyIsCopy(t *testing.T) {
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)

	k, err := s.DataKey(ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := k.Bytes()
	k.Wipe()
	if got := mustDataKey(t, s, ada.ID); string(got) != string(want) {
		t.Error("wiping the key DataKey returned changed the stored key")
	}

	// Locking wipes the stored key, not the copies a request still holds.
	held, err := s.DataKey(ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Wipe()
	s.Close()
	if string(held.Bytes()) != string(want) {
		t.Error("locking the profile wiped a copy returned earlier")
	}
}

func TestIdleLockActivity(t *testing.T) {
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token

	// Each DataKey call restarts the idle time, so steps shorter than it
	// keep the profile unlocked well past it.
	for range 4 {
		clock.Advance(DefaultIdleLock - time.Minute)
		mustDataKey(t, s, ada.ID)
	}
	clock.Advance(DefaultIdleLock - time.Minute)
	wantUnlocked(t, s, ada.ID, token)

	clock.Advance(DefaultIdleLock)
	wantLocked(t, s, ada.ID, token)
}

func TestVerifyIsNotActivity(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	if err := s.SetIdleLock(ctx, ada.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	token := mustLogin(t, s, "Ada", testPassword).Token

	// A request that fails after Verify, such as a cookie without its
	// channel secret, calls Verify and nothing else. The profile still
	// locks a minute after sign-in, its last real activity.
	clock.Advance(40 * time.Second)
	if sess := mustVerify(t, s, token); sess.Locked {
		t.Fatal("Verify Locked = true 40 s after sign-in, want false")
	}
	clock.Advance(40 * time.Second)
	if sess := mustVerify(t, s, token); !sess.Locked {
		t.Error("Verify Locked = false 80 s after sign-in with only Verify since, want true")
	}
	if k, err := s.DataKey(ada.ID); !errors.Is(err, ErrLocked) {
		t.Errorf("DataKey 80 s after sign-in with only Verify since: error = %v, want %v", err, ErrLocked)
		if k != nil {
			k.Wipe()
		}
	}
}

func TestTouchIsActivity(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	if err := s.SetIdleLock(ctx, ada.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	mustLogin(t, s, "Ada", testPassword)

	for range 3 {
		clock.Advance(40 * time.Second)
		if !s.Touch(ada.ID) {
			t.Fatalf("Touch = false %v after the last activity, want true", 40*time.Second)
		}
	}
	mustDataKey(t, s, ada.ID)

	clock.Advance(time.Minute)
	if s.Touch(ada.ID) {
		t.Error("Touch = true a minute after the last activity, want false")
	}
	if s.Touch("no-such-profile") {
		t.Error("Touch of an unknown profile = true, want false")
	}
}

func TestSetIdleLock(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	ada := mustCreate(t, s, "", "Ada", testPassword)

	err := s.SetIdleLock(ctx, ada.ID, -time.Second)
	wantInputError(t, err, "idleLock")
	if err := s.SetIdleLock(ctx, "no-such-profile", time.Minute); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetIdleLock of unknown profile: error = %v, want %v", err, ErrNotFound)
	}

	// Zero set before signing in is read from the stored profile.
	if err := s.SetIdleLock(ctx, ada.ID, 0); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Profile(ctx, ada.ID); err != nil || p.IdleLock != 0 {
		t.Errorf("Profile IdleLock = %v, %v, want 0, nil", p.IdleLock, err)
	}
	// Each wait below is far past DefaultIdleLock but short of the token's
	// expiry.
	token := mustLogin(t, s, "Ada", testPassword).Token
	clock.Advance(DefaultTokenTTL - time.Hour)
	wantUnlocked(t, s, ada.ID, token)

	// A time set while signed in applies to the unlocked profile at once.
	if err := s.SetIdleLock(ctx, ada.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	wantLocked(t, s, ada.ID, token)

	// And zero set while signed in means never.
	token = mustLogin(t, s, "Ada", testPassword).Token
	if err := s.SetIdleLock(ctx, ada.ID, 0); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultTokenTTL - time.Hour)
	wantUnlocked(t, s, ada.ID, token)
}

func TestRestartLocksProfiles(t *testing.T) {
	s, db := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)
	adaToken := mustLogin(t, s, "Ada", testPassword).Token
	graceToken := mustLogin(t, s, "Grace", testPassword).Token

	// A new Store on the same db, without Close, as after a crash.
	fresh := openStore(t, db, s.installKey)
	wantLocked(t, fresh, ada.ID, adaToken)
	wantLocked(t, fresh, grace.ID, graceToken)

	// Close the file and open it again with the same install key, as the app
	// does when it starts.
	installKey := s.installKey
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	restarted := openStore(t, openDB(t, path), installKey)

	wantLocked(t, restarted, ada.ID, adaToken)
	wantLocked(t, restarted, grace.ID, graceToken)
	mustLogin(t, restarted, "Ada", testPassword)
	wantUnlocked(t, restarted, ada.ID, adaToken)
	wantLocked(t, restarted, grace.ID, graceToken)
}

func TestSessionConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ada := mustCreate(t, s, "", "Ada", testPassword)
	token := mustLogin(t, s, "Ada", testPassword).Token

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 20 {
				if k, err := s.DataKey(ada.ID); err == nil {
					k.Wipe()
				} else if !errors.Is(err, ErrLocked) {
					t.Errorf("DataKey error = %v, want nil or %v", err, ErrLocked)
				}
				if _, err := s.Verify(ctx, token); err != nil {
					t.Errorf("Verify error = %v", err)
				}
			}
			switch i {
			case 0:
				if _, err := s.Login(ctx, "Ada", testPassword, testClient); err != nil {
					t.Errorf("Login error = %v", err)
				}
			case 1:
				s.Close()
			case 2:
				if err := s.SetIdleLock(ctx, ada.ID, time.Hour); err != nil {
					t.Errorf("SetIdleLock error = %v", err)
				}
			}
		})
	}
	wg.Wait()
}

func TestIdleKeyWipedWithoutRequest(t *testing.T) {
	u := newUnlockedProfiles(time.Now)
	key := seal.NewKey()
	u.unlock("ada", key, 30*time.Millisecond, time.Now())

	// The timer wipes the key on its own; nothing asks for it meanwhile.
	deadline := time.Now().Add(5 * time.Second)
	for {
		u.mu.Lock()
		_, unlocked := u.keys["ada"]
		u.mu.Unlock()
		if !unlocked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle key still in memory 5 s after a 30 ms idle lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !bytes.Equal(key.Bytes(), make([]byte, seal.KeySize)) {
		t.Fatal("the idle key was forgotten but not wiped")
	}
}

func TestIdleTimerRearmsAfterUse(t *testing.T) {
	now := time.Now()
	u := newUnlockedProfiles(func() time.Time { return now })
	u.unlock("ada", seal.NewKey(), time.Hour, now)
	p := u.keys["ada"]

	// A timer that fires while the profile was used recently keeps it.
	now = now.Add(30 * time.Minute)
	if _, ok := u.use("ada", now); !ok {
		t.Fatal("profile locked after 30 minutes of a one-hour idle lock")
	}
	now = now.Add(45 * time.Minute)
	u.expire("ada", p)
	if _, ok := u.keys["ada"]; !ok {
		t.Fatal("expire locked a profile used 45 minutes ago with a one-hour idle lock")
	}
	now = now.Add(16 * time.Minute)
	u.expire("ada", p)
	if _, ok := u.keys["ada"]; ok {
		t.Fatal("expire kept a profile idle for 61 minutes with a one-hour idle lock")
	}
}
