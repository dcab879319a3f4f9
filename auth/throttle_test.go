package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// wantThrottled fails the test unless err is a *ThrottledError asking to
// wait retryAfter.
func wantThrottled(t *testing.T, err error, retryAfter time.Duration) {
	t.Helper()
	var throttled *ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("error = %v, want *ThrottledError", err)
	}
	if throttled.RetryAfter != retryAfter {
		t.Errorf("RetryAfter = %v, want %v", throttled.RetryAfter, retryAfter)
	}
}

// failLogins signs in n times as name from client with a wrong password and
// fails the test unless each attempt returns ErrInvalidCredentials.
func failLogins(t *testing.T, s *Store, n int, name, client string) {
	t.Helper()
	for i := range n {
		if _, err := s.Login(context.Background(), name, testPassword+"!", client); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password %d of %d for %q from %q: error = %v, want %v", i+1, n, name, client, err, ErrInvalidCredentials)
		}
	}
}

// countedFailures returns how many failures the counter key holds within the
// window at now.
func countedFailures(t *testing.T, s *Store, key []byte) int {
	t.Helper()
	var n int
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec, err := readFailures(tx, key, s.now())
		n = rec.Count
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestThrottleAfterFiveFailures(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)

	failLogins(t, s, throttleFreeFailures, "Ada", testClient)

	// The next attempt waits, even with the right password, which is not
	// checked.
	_, err := s.Login(ctx, "Ada", testPassword, testClient)
	wantThrottled(t, err, time.Second)
	clock.Advance(400 * time.Millisecond)
	_, err = s.Login(ctx, "Ada", testPassword, testClient)
	wantThrottled(t, err, 600*time.Millisecond)

	// Throttled attempts are not counted, so the wait is unchanged.
	clock.Advance(600 * time.Millisecond)
	mustLogin(t, s, "Ada", testPassword)

	// Success clears the name's failures but not the client's, so that
	// signing in to one profile does not buy more guesses at another.
	if n := countedFailures(t, s, throttleKeys(s.throttleName("Ada"), testClient)[0]); n != 0 {
		t.Errorf("name counter after success = %d, want 0", n)
	}
	if n := countedFailures(t, s, throttleKeys(s.throttleName("Ada"), testClient)[1]); n != throttleFreeFailures {
		t.Errorf("client counter after success = %d, want %d", n, throttleFreeFailures)
	}
	failLogins(t, s, 1, "Ada", testClient)
	_, err = s.Login(ctx, "Ada", testPassword, testClient)
	wantThrottled(t, err, 2*time.Second)
}

func TestThrottleDoubling(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)
	failLogins(t, s, throttleFreeFailures, "Ada", testClient)

	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		_, err := s.Login(ctx, "Ada", testPassword, testClient)
		wantThrottled(t, err, wait)

		clock.Advance(wait - time.Millisecond)
		_, err = s.Login(ctx, "Ada", testPassword, testClient)
		wantThrottled(t, err, time.Millisecond)

		clock.Advance(time.Millisecond)
		if _, err := s.Login(ctx, "Ada", testPassword+"!", testClient); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: error = %v, want %v", throttleFreeFailures+i+1, err, ErrInvalidCredentials)
		}
	}
}

func TestThrottleWait(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{throttleFreeFailures - 1, 0},
		{throttleFreeFailures, time.Second},
		{throttleFreeFailures + 1, 2 * time.Second},
		{throttleFreeFailures + 2, 4 * time.Second},
		{throttleFreeFailures + 9, 512 * time.Second},
		// 1024 s would pass the cap.
		{throttleFreeFailures + 10, throttleMaxWait},
		{throttleFreeFailures + 100, throttleMaxWait},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d failures", tt.failures), func(t *testing.T) {
			s, _ := newStore(t)
			useClock(s, testNow)
			keys := throttleKeys(s.throttleName("Ada"), testClient)

			// All failures at one instant, which Login alone could not
			// reach, because it waits between them.
			err := s.db.Update(func(tx *bbolt.Tx) error {
				for range tt.failures {
					if err := recordFailure(tx, keys[:1], testNow); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}

			// The store has no profiles, so an attempt that may go ahead
			// fails as an unknown name.
			_, err = s.Login(context.Background(), "Ada", testPassword, testClient)
			if tt.want == 0 {
				if !errors.Is(err, ErrInvalidCredentials) {
					t.Errorf("error = %v, want %v", err, ErrInvalidCredentials)
				}
				return
			}
			wantThrottled(t, err, tt.want)
		})
	}
}

func TestThrottleWindow(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)

	failLogins(t, s, throttleFreeFailures, "Ada", testClient)
	// The fifth failure started a wait of 1 s; the window runs from its end.
	clock.Advance(time.Second + throttleWindow - time.Millisecond)
	if n := countedFailures(t, s, throttleKeys(s.throttleName("Ada"), testClient)[0]); n != throttleFreeFailures {
		t.Errorf("failures counted just inside the window = %d, want %d", n, throttleFreeFailures)
	}

	// Once the window has passed, the old failures are forgotten, so five
	// more are free. Were they remembered, the second would wait 2 s.
	clock.Advance(time.Millisecond)
	failLogins(t, s, throttleFreeFailures, "Ada", testClient)
	_, err := s.Login(ctx, "Ada", testPassword, testClient)
	wantThrottled(t, err, time.Second)
}

func TestThrottleSurvivesRestart(t *testing.T) {
	s, db := newStore(t)
	useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)
	failLogins(t, s, throttleFreeFailures, "Ada", testClient)

	installKey := s.installKey
	s.Close()
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	restarted := openStore(t, openDB(t, path), installKey)
	useClock(restarted, testNow)

	_, err := restarted.Login(context.Background(), "Ada", testPassword, testClient)
	wantThrottled(t, err, time.Second)
}

func TestThrottlePerClient(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)

	// One client guessing a different name each time is throttled by its
	// client counter, for every name.
	for i := range throttleFreeFailures {
		failLogins(t, s, 1, fmt.Sprintf("Nobody %d", i), "10.0.0.1")
	}
	_, err := s.Login(ctx, "Ada", testPassword, "10.0.0.1")
	wantThrottled(t, err, time.Second)
	_, err = s.Login(ctx, "Nobody 9", testPassword, "10.0.0.1")
	wantThrottled(t, err, time.Second)

	// Another client is not affected.
	if _, err := s.Login(ctx, "Ada", testPassword, "10.0.0.2"); err != nil {
		t.Errorf("Login from another client: error = %v, want nil", err)
	}

	// One client guessing one name is throttled for that name, and a person
	// at another client can still sign in with it.
	failLogins(t, s, throttleFreeFailures, "Ada", "10.0.2.1")
	_, err = s.Login(ctx, "Ada", testPassword, "10.0.2.1")
	wantThrottled(t, err, time.Second)
	if _, err := s.Login(ctx, "Ada", testPassword, "10.0.2.2"); err != nil {
		t.Errorf("Login from a client that did not guess: error = %v, want nil", err)
	}

	// Many clients guessing one name are throttled by its name counter,
	// which allows more failures because it is shared by everyone.
	for i := range throttleFreeNameFailures {
		failLogins(t, s, 1, "Ada", fmt.Sprintf("10.0.1.%d", i))
	}
	_, err = s.Login(ctx, "Ada", testPassword, "10.0.1.99")
	wantThrottled(t, err, time.Second)
	_, err = s.Login(ctx, "ADA", testPassword, "10.0.1.100")
	wantThrottled(t, err, time.Second)
}

// TestThrottleLookAlikeSpellingsShared checks that the spellings sign-in
// accepts for one profile count as that profile's name: alternating
// "Carol" and "CaroI" (capital i) from many clients reaches the name's
// limit as fast as "Carol" alone does.
func TestThrottleLookAlikeSpellingsShared(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	useClock(s, testNow)
	mustCreate(t, s, "", "Carol", testPassword)
	if _, err := s.Login(ctx, "CaroI", testPassword, "10.0.3.254"); err != nil {
		t.Fatalf("Login as CaroI with Carol's password: error = %v, want nil, since the spellings reach the same profile", err)
	}

	for i := range throttleFreeNameFailures {
		name := "Carol"
		if i%2 == 1 {
			name = "CaroI"
		}
		failLogins(t, s, 1, name, fmt.Sprintf("10.0.3.%d", i))
	}
	_, err := s.Login(ctx, "Carol", testPassword, "10.0.3.200")
	wantThrottled(t, err, time.Second)
	_, err = s.Login(ctx, "CaroI", testPassword, "10.0.3.201")
	wantThrottled(t, err, time.Second)
}

func TestThrottleUnknownNameLikeKnown(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)

	// The same sequence against a known and an unknown name, each from its
	// own client, must give the same errors and waits.
	want := []string{"invalid", "invalid", "invalid", "invalid", "invalid", "wait 500ms", "invalid", "wait 1.5s"}
	for _, name := range []string{"Ada", "Nobody"} {
		clock.Advance(throttleWindow)
		var got []string
		for range want {
			_, err := s.Login(ctx, name, testPassword+"!", "client of "+name)
			got = append(got, describeAttempt(err))
			clock.Advance(500 * time.Millisecond)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Login(%q) results every 500 ms = %q, want %q", name, got, want)
		}
	}
}

// describeAttempt returns "invalid" for ErrInvalidCredentials, "wait" and
// the duration for a *ThrottledError, and the message of any other error.
func describeAttempt(err error) string {
	var throttled *ThrottledError
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		return "invalid"
	case errors.As(err, &throttled):
		return "wait " + throttled.RetryAfter.String()
	case err == nil:
		return "success"
	}
	return err.Error()
}

func TestThrottleSharedAcrossOperations(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	ada, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)
	grace := mustCreate(t, s, ada.ID, "Grace", testPassword)

	ops := map[string]func(name string, profileID string) error{
		"Login": func(name, _ string) error {
			_, err := s.Login(ctx, name, testPassword+"!", testClient)
			return err
		},
		"Recover": func(name, _ string) error {
			_, err := s.Recover(ctx, name, flipRecoveryKey(recoveryKey), testNewPassword, testClient)
			return err
		},
		"ChangePassword": func(_, profileID string) error {
			_, err := s.ChangePassword(ctx, profileID, testPassword+"!", testNewPassword, "", testClient)
			return err
		},
		"DeleteProfile": func(_, profileID string) error {
			_, err := s.DeleteProfile(ctx, profileID, profileID, testPassword+"!", "", testClient)
			return err
		},
	}
	order := []string{"Login", "Recover", "ChangePassword", "DeleteProfile"}

	// Five failures spread over the four operations throttle each of them.
	for _, last := range order {
		t.Run(last, func(t *testing.T) {
			clock.Advance(throttleWindow + throttleMaxWait)
			for i := range throttleFreeFailures {
				op := order[i%len(order)]
				if err := ops[op]("Grace", grace.ID); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("failure %d by %s: error = %v, want %v", i+1, op, err, ErrInvalidCredentials)
				}
			}
			wantThrottled(t, ops[last]("Grace", grace.ID), time.Second)
		})
	}

	// The right secrets are refused too while the wait lasts.
	_, err := s.Recover(ctx, "Ada", recoveryKey, testNewPassword, testClient)
	wantThrottled(t, err, time.Second)
	_, err = s.ChangePassword(ctx, ada.ID, testPassword, testNewPassword, "", testClient)
	wantThrottled(t, err, time.Second)
}

// TestThrottlePatientGuesserReachesCap checks that waiting out every delay
// does not reset the count: the wait keeps doubling until it reaches its cap.
func TestThrottlePatientGuesserReachesCap(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)

	var lastWait time.Duration
	for i := range throttleFreeFailures + 12 {
		_, err := s.Login(ctx, "Ada", testPassword+"!", testClient)
		var throttled *ThrottledError
		if errors.As(err, &throttled) {
			lastWait = throttled.RetryAfter
			clock.Advance(throttled.RetryAfter)
			_, err = s.Login(ctx, "Ada", testPassword+"!", testClient)
		}
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("guess %d: error = %v, want %v", i+1, err, ErrInvalidCredentials)
		}
	}
	if lastWait != throttleMaxWait {
		t.Fatalf("last wait = %v, want the cap %v", lastWait, throttleMaxWait)
	}
}

func TestThrottlePrunesExpiredCounters(t *testing.T) {
	s, _ := newStore(t)
	clock := useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)
	for _, name := range []string{"Nobody", "Someone", "Anyone"} {
		failLogins(t, s, 1, name, "client-"+name)
	}
	clock.Advance(throttleWindow)
	failLogins(t, s, 1, "Ada", testClient)

	var keys []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(failuresBucket).ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("counters after pruning = %q, want only the three of Ada's attempt", keys)
	}
}

// TestThrottleConcurrent checks that attempts made at the same time cannot
// all pass the throttle before any of their failures is counted.
func TestThrottleConcurrent(t *testing.T) {
	s, _ := newStore(t)
	useClock(s, testNow)
	mustCreate(t, s, "", "Ada", testPassword)

	const attempts = 12
	errs := make([]error, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			_, errs[i] = s.Login(context.Background(), "Ada", testPassword+"!", testClient)
		})
	}
	wg.Wait()

	checked := 0
	for _, err := range errs {
		var throttled *ThrottledError
		switch {
		case errors.Is(err, ErrInvalidCredentials):
			checked++
		case !errors.As(err, &throttled):
			t.Errorf("error = %v, want %v or *ThrottledError", err, ErrInvalidCredentials)
		}
	}
	if checked != throttleFreeFailures {
		t.Errorf("%d of %d concurrent wrong passwords were checked, want %d", checked, attempts, throttleFreeFailures)
	}
}

func TestThrottleNamesHashed(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	mustCreate(t, s, "", "Ada", testPassword)

	// Names that no profile has, so nothing else puts them in the file.
	unlisted := []string{
		"Quokka Zephyrine",               // a valid name
		"hunter2\tPa55word!",             // a password typed into the name field, not a valid name
		strings.Repeat("Longwinded ", 8), // longer than a name may be
	}
	for _, name := range append(unlisted, "Ada") {
		failLogins(t, s, 1, name, testClient)
	}
	if _, err := s.Recover(ctx, "Recovering Quoll", strings.Repeat("A", 32), testNewPassword, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Recover with an unknown name: error = %v, want %v", err, ErrInvalidCredentials)
	}
	unlisted = append(unlisted, "Recovering Quoll")

	file, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range unlisted {
		trimmed := strings.TrimSpace(name)
		sum := sha256.Sum256([]byte(name))
		for _, form := range []string{trimmed, strings.ToLower(trimmed), hex.EncodeToString(sum[:])} {
			if bytes.Contains(file, []byte(form)) {
				t.Errorf("the data file contains %q, typed as a name", form)
			}
		}
	}

	// The hash is of the folded name, so the name's counter is the same
	// whatever case it is typed in.
	if n := countedFailures(t, s, throttleKeys(s.throttleName("QUOKKA ZEPHYRINE"), testClient)[0]); n != 1 {
		t.Errorf("failures counted for the name in upper case = %d, want 1", n)
	}
}

func TestThrottleLegacyCountersHashed(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	mustCreate(t, s, "", "Zoe", testPassword)

	// Five failures of "Zoe" from testClient, as versions before hashed
	// names counted them, and a key that no version wrote. The name has
	// letters that are not hexadecimal digits, so that the hex-encoded
	// hashes in the new keys cannot contain it by chance.
	v, err := json.Marshal(failureRecord{Count: throttleFreeFailures, Last: testNow})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		legacy, err := tx.CreateBucketIfNotExists(legacyFailuresBucket)
		if err != nil {
			return err
		}
		for _, key := range []string{"pair:" + testClient + "\x00zoe", "client:" + testClient, "name:zoe", "other:zoe"} {
			if err := legacy.Put([]byte(key), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	restarted := reopen(t, s, db)
	useClock(restarted, testNow)
	_, err = restarted.Login(ctx, "Zoe", testPassword, testClient)
	wantThrottled(t, err, time.Second)

	var keys []string
	err = db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(legacyFailuresBucket) != nil {
			t.Error("the bucket of counters with names in the clear is still there")
		}
		return tx.Bucket(failuresBucket).ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Errorf("counters after the move = %q, want the three of Zoe's failures", keys)
	}
	for _, k := range keys {
		if strings.Contains(k, "zoe") {
			t.Errorf("counter key %q contains the name in the clear", k)
		}
	}
}
