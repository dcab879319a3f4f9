package auth

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"go.etcd.io/bbolt"

	"hearth/seal"
)

// backupCodePattern matches a backup code in its display form.
var backupCodePattern = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{2}$`)

// step is the length of a TOTP time step.
const step = totpPeriod * time.Second

// totpCode returns the TOTP code of secret at t, computed by pquerna/otp.
func totpCode(tb testing.TB, secret string, t time.Time) string {
	tb.Helper()
	code, err := totp.GenerateCode(secret, t)
	if err != nil {
		tb.Fatalf("generate TOTP code: %v", err)
	}
	return code
}

// mustEnableTOTP turns on two-step sign-in for the unlocked profile id with a
// code of the current step, then moves the clock to the next step, so that
// the test's next code is not the one just used. It returns the secret and
// the backup codes.
func mustEnableTOTP(tb testing.TB, s *Store, clock *testClock, id string) (string, []string) {
	tb.Helper()
	ctx := context.Background()
	setup, err := s.SetUpTOTP(ctx, id)
	if err != nil {
		tb.Fatalf("SetUpTOTP error: %v", err)
	}
	enrolment, err := s.EnableTOTP(ctx, id, testPassword, totpCode(tb, setup.Secret, clock.Now()), testClient)
	if err != nil {
		tb.Fatalf("EnableTOTP error: %v", err)
	}
	clock.Advance(step)
	return setup.Secret, enrolment.BackupCodes
}

// mustChallenge signs in with the password of a profile that has two-step
// sign-in and returns the challenge.
func mustChallenge(tb testing.TB, s *Store, name, password string) *MFARequiredError {
	tb.Helper()
	_, err := s.Login(context.Background(), name, password, testClient)
	var mfa *MFARequiredError
	if !errors.As(err, &mfa) {
		tb.Fatalf("Login(%q) error = %v, want *MFARequiredError", name, err)
	}
	return mfa
}

func TestReadCode(t *testing.T) {
	tests := []struct {
		typed    string
		want     string
		isBackup bool
	}{
		{"123456", "123456", false},
		{" 123 456 ", "123456", false},
		{"123-456", "123456", false},
		{"１２３４５６", "123456", false},
		{"12345", "", false},
		{"1234567", "", false},
		{"abcd-efgh-jk", "ABCDEFGHJK", true},
		{"ABCDEFGHJK", "ABCDEFGHJK", true},
		{"abcd efgh jk", "ABCDEFGHJK", true},
		{"0o1i-l234-56", "0011123456", true},
		{"abcd-efgh-ju", "", false},
		{"abcd-efgh-j", "", false},
		{"", "", false},
		{strings.Repeat(" ", maxCodeLength) + "123456", "", false},
	}
	for _, tt := range tests {
		got, isBackup := readCode(tt.typed)
		if got != tt.want || isBackup != tt.isBackup {
			t.Errorf("readCode(%q) = %q, %v; want %q, %v", tt.typed, got, isBackup, tt.want, tt.isBackup)
		}
	}
}

func TestNewBackupCodes(t *testing.T) {
	codes, set, err := newBackupCodes(insecureTestArgonParams)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != backupCodeCount || set.left() != backupCodeCount {
		t.Fatalf("got %d codes and %d hashes, want %d of each", len(codes), set.left(), backupCodeCount)
	}
	seen := map[string]bool{}
	for _, code := range codes {
		if !backupCodePattern.MatchString(code) {
			t.Errorf("backup code %q does not match %s", code, backupCodePattern)
		}
		if seen[code] {
			t.Errorf("backup code %q returned twice", code)
		}
		seen[code] = true
	}

	for i, code := range codes {
		canonical, isBackup := readCode(code)
		if !isBackup {
			t.Fatalf("readCode(%q) does not read it as a backup code", code)
		}
		if ok, err := set.use(canonical); !ok || err != nil {
			t.Fatalf("first use of %q = %v, %v; want true, nil", code, ok, err)
		}
		if ok, err := set.use(canonical); ok || err != nil {
			t.Fatalf("second use of %q = %v, %v; want false, nil", code, ok, err)
		}
		if got, want := set.left(), backupCodeCount-i-1; got != want {
			t.Fatalf("after using %d codes, %d are left, want %d", i+1, got, want)
		}
	}
}

func TestTOTPEnrolment(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)

	if _, err := s.SetUpTOTP(ctx, ada.ID); !errors.Is(err, ErrLocked) {
		t.Fatalf("SetUpTOTP of a locked profile: error = %v, want %v", err, ErrLocked)
	}
	before := mustLogin(t, s, "Ada", testPassword)
	if _, err := s.EnableTOTP(ctx, ada.ID, testPassword, "123456", testClient); !errors.Is(err, ErrNoPendingTOTP) {
		t.Fatalf("EnableTOTP without a setup: error = %v, want %v", err, ErrNoPendingTOTP)
	}

	setup, err := s.SetUpTOTP(ctx, ada.ID)
	if err != nil {
		t.Fatalf("SetUpTOTP error: %v", err)
	}
	wrong := totpCode(t, setup.Secret, clock.Now().Add(5*step))
	if _, err := s.EnableTOTP(ctx, ada.ID, testPassword, wrong, testClient); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("EnableTOTP with a code 5 steps ahead: error = %v, want %v", err, ErrInvalidCode)
	}
	if status, err := s.TOTPStatus(ctx, ada.ID); err != nil || status.Enabled {
		t.Fatalf("TOTPStatus after a wrong code = %+v, %v; want disabled", status, err)
	}
	right := totpCode(t, setup.Secret, clock.Now())
	var input *InputError
	if _, err := s.EnableTOTP(ctx, ada.ID, "", right, testClient); !errors.As(err, &input) || input.Field != "password" {
		t.Fatalf("EnableTOTP without a password: error = %v, want an *InputError on field password", err)
	}
	if _, err := s.EnableTOTP(ctx, ada.ID, testPassword+"!", right, testClient); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("EnableTOTP with a wrong password: error = %v, want %v", err, ErrInvalidCredentials)
	}
	if status, err := s.TOTPStatus(ctx, ada.ID); err != nil || status.Enabled {
		t.Fatalf("TOTPStatus after a wrong password = %+v, %v; want disabled", status, err)
	}

	enrolment, err := s.EnableTOTP(ctx, ada.ID, testPassword, totpCode(t, setup.Secret, clock.Now()), testClient)
	if err != nil {
		t.Fatalf("EnableTOTP error: %v", err)
	}
	if len(enrolment.BackupCodes) != backupCodeCount {
		t.Errorf("EnableTOTP returned %d backup codes, want %d", len(enrolment.BackupCodes), backupCodeCount)
	}
	if sess := mustVerify(t, s, enrolment.Token.Token); sess.Profile.ID != ada.ID || sess.Locked {
		t.Errorf("session of EnableTOTP = %+v, want Ada's, unlocked", sess)
	}
	if _, err := s.Verify(ctx, before.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify of a token from before enrolment: error = %v, want %v", err, ErrInvalidToken)
	}
	status, err := s.TOTPStatus(ctx, ada.ID)
	if err != nil || status != (TOTPStatus{Enabled: true, BackupCodesLeft: backupCodeCount}) {
		t.Errorf("TOTPStatus = %+v, %v; want enabled with %d codes", status, err, backupCodeCount)
	}
	if p, _ := s.Profile(ctx, ada.ID); !p.TOTPEnabled {
		t.Error("Profile.TOTPEnabled is false after EnableTOTP")
	}
	if _, err := s.SetUpTOTP(ctx, ada.ID); !errors.Is(err, ErrTOTPEnabled) {
		t.Errorf("SetUpTOTP when enabled: error = %v, want %v", err, ErrTOTPEnabled)
	}
}

func TestEnableTOTPDropsChallenges(t *testing.T) {
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	// No sign-in makes a challenge for a profile without the factor, so
	// this one is added directly, as one left from before the factor was
	// last turned off would be.
	key := seal.NewKey()
	id, _ := s.challenges.add(ada.ID, "hashed", key, clock.Now())

	mustEnableTOTP(t, s, clock, ada.ID)
	if _, _, ok := s.challenges.peek(id, clock.Now()); ok {
		t.Error("a challenge of the profile is still there after EnableTOTP")
	}
	if !keyWiped(key) {
		t.Error("the dropped challenge's key is not wiped")
	}
}

func TestLoginWithTOTPLeavesProfileLocked(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)
	s.Close()

	tok, err := s.Login(ctx, "Ada", testPassword, testClient)
	var mfa *MFARequiredError
	if !errors.As(err, &mfa) {
		t.Fatalf("Login error = %v, want *MFARequiredError", err)
	}
	if tok != (Token{}) {
		t.Errorf("Login returned a token %+v with the challenge", tok)
	}
	if strings.Contains(err.Error(), mfa.Challenge) {
		t.Errorf("error message %q contains the challenge", err.Error())
	}
	if want := clock.Now().Add(challengeTTL); !mfa.ExpiresAt.Equal(want) {
		t.Errorf("challenge expires at %v, want %v", mfa.ExpiresAt, want)
	}
	if s.IsUnlocked(ada.ID) {
		t.Fatal("profile is unlocked after the password step alone")
	}

	tok, err = s.CompleteLogin(ctx, mfa.Challenge, totpCode(t, secret, clock.Now()), testClient)
	if err != nil {
		t.Fatalf("CompleteLogin error: %v", err)
	}
	if sess := mustVerify(t, s, tok.Token); sess.Profile.ID != ada.ID || sess.Locked {
		t.Errorf("session = %+v, want Ada's, unlocked", sess)
	}
}

func TestWrongPasswordWithTOTPLikeUnknownName(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	mustEnableTOTP(t, s, clock, ada.ID)

	_, known := s.Login(ctx, "Ada", testPassword+"!", testClient)
	_, unknown := s.Login(ctx, "Nobody", testPassword, testClient)
	for name, err := range map[string]error{"wrong password": known, "unknown name": unknown} {
		if !errors.Is(err, ErrInvalidCredentials) || err.Error() != ErrInvalidCredentials.Error() {
			t.Errorf("%s: error = %v, want exactly %v", name, err, ErrInvalidCredentials)
		}
	}
}

func TestCompleteLoginOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)
	mfa := mustChallenge(t, s, "Ada", testPassword)
	code := totpCode(t, secret, clock.Now())

	const attempts = 8
	var wg sync.WaitGroup
	errs := make([]error, attempts)
	for i := range attempts {
		wg.Go(func() {
			_, errs[i] = s.CompleteLogin(ctx, mfa.Challenge, code, testClient)
		})
	}
	wg.Wait()

	succeeded := 0
	for _, err := range errs {
		switch {
		case err == nil:
			succeeded++
		case !errors.Is(err, ErrChallengeExpired):
			t.Errorf("CompleteLogin error = %v, want nil or %v", err, ErrChallengeExpired)
		}
	}
	if succeeded != 1 {
		t.Errorf("%d of %d concurrent CompleteLogin calls succeeded, want 1", succeeded, attempts)
	}
}

// fakeTimer is a challenge's expiry timer that the test fires by hand.
type fakeTimer struct {
	after   time.Duration
	fire    func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	wasArmed := !t.stopped
	t.stopped = true
	return wasArmed
}

// useFakeTimers makes cs arm fake expiry timers, and returns the list that
// they are appended to, in the order of the challenges.
func useFakeTimers(cs *challenges) *[]*fakeTimer {
	var timers []*fakeTimer
	cs.afterFunc = func(d time.Duration, f func()) timerStopper {
		timer := &fakeTimer{after: d, fire: f}
		timers = append(timers, timer)
		return timer
	}
	return &timers
}

// keyWiped reports whether every byte of k is zero.
func keyWiped(k *seal.Key) bool {
	return strings.Trim(string(k.Bytes()), "\x00") == ""
}

func TestChallengeKeyWiped(t *testing.T) {
	now := testNow
	tests := []struct {
		name string
		end  func(cs *challenges, id string, timer *fakeTimer)
	}{
		{"consumed", func(cs *challenges, id string, _ *fakeTimer) { cs.consume(id, now) }},
		{"dropped", func(cs *challenges, id string, _ *fakeTimer) { cs.drop(id) }},
		{"profile dropped", func(cs *challenges, id string, _ *fakeTimer) { cs.dropProfile("ada") }},
		{"all dropped", func(cs *challenges, id string, _ *fakeTimer) { cs.dropAll() }},
		{"expired", func(cs *challenges, id string, _ *fakeTimer) { cs.peek(id, now.Add(challengeTTL)) }},
		{"expiry timer fired", func(cs *challenges, id string, timer *fakeTimer) { timer.fire() }},
		{"too many wrong codes", func(cs *challenges, id string, _ *fakeTimer) {
			for range maxChallengeFailures {
				cs.fail(id, now)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := newChallenges()
			timers := useFakeTimers(cs)
			key := seal.NewKey()
			original := key.Bytes()
			id, _ := cs.add("ada", "hashed", key, now)
			if len(*timers) != 1 {
				t.Fatalf("add armed %d expiry timers, want 1", len(*timers))
			}
			timer := (*timers)[0]

			copied, ok := cs.dataKey(id, now)
			if !ok || string(copied.Bytes()) != string(original) {
				t.Fatal("dataKey does not return a copy of the challenge's key")
			}
			tt.end(cs, id, timer)
			if !keyWiped(key) {
				t.Error("the challenge's key is not wiped")
			}
			if _, _, ok := cs.peek(id, now); ok {
				t.Error("the challenge is still there")
			}
			if !timer.stopped {
				t.Error("the challenge's expiry timer is still armed")
			}
			if string(copied.Bytes()) != string(original) {
				t.Error("the caller's copy of the key changed")
			}
		})
	}
}

func TestChallengeExpiryTimer(t *testing.T) {
	cs := newChallenges()
	timers := useFakeTimers(cs)
	abandoned := seal.NewKey()
	abandonedID, _ := cs.add("ada", "hashed", abandoned, testNow)
	other := seal.NewKey()
	otherID, _ := cs.add("bea", "hashed", other, testNow)
	if len(*timers) != 2 {
		t.Fatalf("two challenges armed %d expiry timers, want 2", len(*timers))
	}
	if got := (*timers)[0].after; got != challengeTTL {
		t.Errorf("expiry timer armed for %v, want %v", got, challengeTTL)
	}

	// The store's clock has not moved, so only the timer removes the
	// abandoned challenge.
	(*timers)[0].fire()
	if !keyWiped(abandoned) {
		t.Error("the abandoned challenge's key is not wiped when its timer fires")
	}
	if _, _, ok := cs.peek(abandonedID, testNow); ok {
		t.Error("the abandoned challenge is still there after its timer fired")
	}

	// A timer that fires again, or late, leaves the other challenges alone.
	(*timers)[0].fire()
	if _, _, ok := cs.peek(otherID, testNow); !ok {
		t.Error("another challenge was dropped by the first one's timer")
	}
	if keyWiped(other) {
		t.Error("another challenge's key was wiped by the first one's timer")
	}
}

func TestChallengeRealTimerStopped(t *testing.T) {
	cs := newChallenges()
	id, _ := cs.add("ada", "hashed", seal.NewKey(), testNow)
	timer, ok := cs.byID[id].expiry.(*time.Timer)
	if !ok {
		t.Fatalf("the expiry timer is a %T, want a *time.Timer", cs.byID[id].expiry)
	}
	cs.consume(id, testNow)
	if timer.Stop() {
		t.Error("the expiry timer was still armed after the challenge was consumed")
	}
}

func TestCompleteLoginBlankCodeNotCounted(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)
	mfa := mustChallenge(t, s, "Ada", testPassword)

	for _, blank := range []string{"", " ", "\t", "\n", "   "} {
		if _, err := s.CompleteLogin(ctx, mfa.Challenge, blank, testClient); !errors.Is(err, ErrCodeRequired) {
			t.Errorf("CompleteLogin with code %q: error = %v, want %v", blank, err, ErrCodeRequired)
		}
	}
	if _, err := s.CompleteLogin(ctx, mfa.Challenge, totpCode(t, secret, clock.Now()), testClient); err != nil {
		t.Errorf("CompleteLogin after five blank codes: error = %v, want nil", err)
	}
}

func TestChallengeFailuresBelowLimitKeep(t *testing.T) {
	cs := newChallenges()
	id, _ := cs.add("ada", "hashed", seal.NewKey(), testNow)
	for range maxChallengeFailures - 1 {
		cs.fail(id, testNow)
	}
	if _, _, ok := cs.peek(id, testNow); !ok {
		t.Fatalf("challenge dropped after %d wrong codes, want it kept until %d", maxChallengeFailures-1, maxChallengeFailures)
	}
	if _, _, ok := cs.peek(id, testNow.Add(challengeTTL-time.Nanosecond)); !ok {
		t.Error("challenge dropped before its expiry")
	}
}

func TestChallengesPerProfileBounded(t *testing.T) {
	cs := newChallenges()
	var ids []string
	for i := range maxChallengesPerProfile + 1 {
		id, _ := cs.add("ada", "hashed", seal.NewKey(), testNow.Add(time.Duration(i)*time.Second))
		ids = append(ids, id)
	}
	other, _ := cs.add("bea", "hashed", seal.NewKey(), testNow)
	if _, _, ok := cs.peek(ids[0], testNow); ok {
		t.Error("the oldest challenge is still there after one too many")
	}
	for _, id := range append(ids[1:], other) {
		if _, _, ok := cs.peek(id, testNow); !ok {
			t.Errorf("challenge %s was dropped, want kept", id)
		}
	}
}

func TestRecordWithoutTOTPUnchanged(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)

	// A record of a profile without the factor has no "totp" member, so it
	// is what earlier versions wrote, and its MAC is theirs.
	hasTOTPMember := func() bool {
		t.Helper()
		var members map[string]json.RawMessage
		err := db.View(func(tx *bbolt.Tx) error {
			return json.Unmarshal(tx.Bucket(profilesBucket).Get([]byte(ada.ID)), &members)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, ok := members["totp"]
		return ok
	}
	if hasTOTPMember() {
		t.Fatal("a new profile's record has a totp member")
	}
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)
	if !hasTOTPMember() {
		t.Fatal("the record has no totp member after EnableTOTP")
	}
	if err := s.DisableTOTP(ctx, ada.ID, testPassword, totpCode(t, secret, clock.Now()), testClient); err != nil {
		t.Fatalf("DisableTOTP error: %v", err)
	}
	if hasTOTPMember() {
		t.Error("the record still has a totp member after DisableTOTP")
	}
	mustLogin(t, s, "Ada", testPassword)
}

func TestRecoverTurnsTOTPOff(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada, recoveryKey := mustCreateWithKey(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)
	pending := mustChallenge(t, s, "Ada", testPassword)

	recovery, err := s.Recover(ctx, "Ada", recoveryKey, testNewPassword, testClient)
	if err != nil {
		t.Fatalf("Recover error: %v", err)
	}
	if !recovery.TOTPDisabled {
		t.Error("Recovery.TOTPDisabled is false for a profile that had two-step sign-in")
	}
	if status, _ := s.TOTPStatus(ctx, ada.ID); status.Enabled {
		t.Error("two-step sign-in is still on after Recover")
	}
	if _, err := s.CompleteLogin(ctx, pending.Challenge, totpCode(t, secret, clock.Now()), testClient); !errors.Is(err, ErrChallengeExpired) {
		t.Errorf("CompleteLogin of a challenge from before recovery: error = %v, want %v", err, ErrChallengeExpired)
	}
	mustLogin(t, s, "Ada", testNewPassword)

	recovery, err = s.Recover(ctx, "Ada", recovery.RecoveryKey, testPassword, testClient)
	if err != nil {
		t.Fatalf("second Recover error: %v", err)
	}
	if recovery.TOTPDisabled {
		t.Error("Recovery.TOTPDisabled is true for a profile without two-step sign-in")
	}
}

func TestPasswordChangeDropsChallenges(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)
	pending := mustChallenge(t, s, "Ada", testPassword)

	if _, err := s.ChangePassword(ctx, ada.ID, testPassword, testNewPassword, "", testClient); !errors.Is(err, ErrCodeRequired) {
		t.Fatalf("ChangePassword without a code: error = %v, want %v", err, ErrCodeRequired)
	}
	if _, err := s.ChangePassword(ctx, ada.ID, testPassword, testNewPassword, totpCode(t, secret, clock.Now()), testClient); err != nil {
		t.Fatalf("ChangePassword error: %v", err)
	}
	clock.Advance(step)
	if _, err := s.CompleteLogin(ctx, pending.Challenge, totpCode(t, secret, clock.Now()), testClient); !errors.Is(err, ErrChallengeExpired) {
		t.Errorf("CompleteLogin of a challenge from the old password: error = %v, want %v", err, ErrChallengeExpired)
	}
}

func TestNewRecoveryKeyNeedsCode(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)

	if _, err := s.NewRecoveryKey(ctx, ada.ID, testPassword, "", testClient); !errors.Is(err, ErrCodeRequired) {
		t.Errorf("NewRecoveryKey without a code: error = %v, want %v", err, ErrCodeRequired)
	}
	wrong := totpCode(t, secret, clock.Now().Add(5*step))
	if _, err := s.NewRecoveryKey(ctx, ada.ID, testPassword, wrong, testClient); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("NewRecoveryKey with a wrong code: error = %v, want %v", err, ErrInvalidCode)
	}
	key, err := s.NewRecoveryKey(ctx, ada.ID, testPassword, totpCode(t, secret, clock.Now()), testClient)
	if err != nil || !recoveryKeyPattern.MatchString(key) {
		t.Errorf("NewRecoveryKey with a right code = %q, %v; want a recovery key", key, err)
	}
}

func TestPasswordStepKeepsCodeFailures(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	secret, _ := mustEnableTOTP(t, s, clock, ada.ID)
	wrong := totpCode(t, secret, clock.Now().Add(5*step))

	// Each attempt comes from a client of its own, so only the counter of
	// the name from all clients grows. A right password must not reset it,
	// or guessing codes from many clients would never wait.
	for i := range throttleFreeNameFailures {
		client := "10.0.0." + strconv.Itoa(i)
		_, err := s.Login(ctx, "Ada", testPassword, client+"-password")
		var mfa *MFARequiredError
		if !errors.As(err, &mfa) {
			t.Fatalf("password step %d: error = %v, want *MFARequiredError", i, err)
		}
		if _, err := s.CompleteLogin(ctx, mfa.Challenge, wrong, client+"-code"); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("wrong code %d: error = %v, want %v", i, err, ErrInvalidCode)
		}
	}
	_, err := s.Login(ctx, "Ada", testPassword, "10.0.1.1")
	var throttled *ThrottledError
	if !errors.As(err, &throttled) {
		t.Fatalf("sign-in after %d wrong codes from other clients: error = %v, want *ThrottledError", throttleFreeNameFailures, err)
	}
}

func TestBackupCodeCost(t *testing.T) {
	if testing.Short() {
		t.Skip("runs argon2id at the default cost")
	}
	s, db := newStoreWithParams(t, defaultArgonParams)
	clock := useClock(s, testNow.Add(10*time.Second))
	ada := mustCreate(t, s, "", "Ada", testPassword)
	mustLogin(t, s, "Ada", testPassword)
	mustEnableTOTP(t, s, clock, ada.ID)

	got := readRecord(t, db, ada.ID).TOTP.Backup.KDF
	want := backupCodeArgonParams
	if got.Memory != want.Memory || got.Time != want.Time || got.Threads != want.Threads {
		t.Errorf("backup codes hashed with m=%d t=%d p=%d, want m=%d t=%d p=%d", got.Memory, got.Time, got.Threads, want.Memory, want.Time, want.Threads)
	}

	test, _ := newStore(t)
	if got := test.backupCodeParams(); got != insecureTestArgonParams {
		t.Errorf("backup code cost of a Store at the test cost = %+v, want %+v", got, insecureTestArgonParams)
	}
}

// BenchmarkBackupCodes measures the work of two-step sign-in codes at the
// cost of a Store without WithInsecureTestCost. It makes a set of backup
// codes, as EnableTOTP and NewBackupCodes do while other password checks
// wait, checks a typed backup code, and checks a TOTP code against its
// three accepted steps. The sets at the password cost show what the lower
// backup code cost saves.
func BenchmarkBackupCodes(b *testing.B) {
	costs := []struct {
		name   string
		params argonParams
	}{
		{"backup-cost", backupCodeArgonParams},
		{"password-cost", defaultArgonParams},
	}
	for _, cost := range costs {
		b.Run("new-set/"+cost.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := newBackupCodes(cost.params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("check-backup", func(b *testing.B) {
		_, set, err := newBackupCodes(backupCodeArgonParams)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if ok, err := set.use(randomBackupCode()); ok || err != nil {
				b.Fatalf("use of a random code = %v, %v; want false, nil", ok, err)
			}
		}
	})
	b.Run("check-totp", func(b *testing.B) {
		secret := randomBytes(totpSecretBytes)
		for b.Loop() {
			matchTOTP(secret, "000000", testNow, 0)
		}
	})
}
