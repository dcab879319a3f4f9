package app

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpStep is the length of a TOTP time step.
const totpStep = 30 * time.Second

// backupCodeFormat matches a backup code as the API shows it.
var backupCodeFormat = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{2}$`)

// fakeClock is the profile store's clock in these tests. It moves only when
// a test moves it, and is safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// totpWorld is a test env whose clock the test moves, with Ada signed in.
type totpWorld struct {
	env   *testEnv
	clock *fakeClock
	// token is Ada's session from her first sign-in.
	token string
}

// newTOTPWorld starts Hearth with a fake clock 10 seconds into a time step
// and creates Ada, the admin.
func newTOTPWorld(t *testing.T) *totpWorld {
	t.Helper()
	clock := &fakeClock{now: time.Now().Truncate(totpStep).Add(10 * time.Second)}
	env := newTestEnvAt(t, clock.Now)
	return &totpWorld{env: env, clock: clock, token: env.signUp("", "Ada")}
}

// code returns the TOTP code of secret at the clock's time plus offset,
// computed by pquerna/otp.
func (w *totpWorld) code(secret string, offset time.Duration) string {
	w.env.t.Helper()
	code, err := totp.GenerateCode(secret, w.clock.Now().Add(offset))
	if err != nil {
		w.env.t.Fatalf("generate TOTP code: %v", err)
	}
	return code
}

// enable turns on two-step sign-in for the profile of *token, whose
// password is password, and moves the clock to the next step, so that the
// test's next code is a new one. Enrolment revokes every older token of the
// profile, so enable replaces *token with the new session's. It returns the
// secret and the backup codes.
func (w *totpWorld) enable(token *string, password string) (string, []string) {
	w.env.t.Helper()
	var setup totpSetupView
	w.env.mustJSON("POST", "/api/auth/totp/setup", *token, map[string]string{}, http.StatusOK, &setup)
	var enabled totpEnabledView
	body := map[string]string{"password": password, "code": w.code(setup.Secret, 0)}
	w.env.mustJSON("POST", "/api/auth/totp/enable", *token, body, http.StatusOK, &enabled)
	if enabled.Token == "" {
		w.env.t.Fatal("enable returned no token")
	}
	*token = enabled.Token
	w.clock.Advance(totpStep)
	return setup.Secret, enabled.BackupCodes
}

// challenge signs in with a password that is right for a profile with
// two-step sign-in, checks that the response is a challenge without a
// session, and returns the challenge.
func (w *totpWorld) challenge(name, password string) string {
	t := w.env.t
	t.Helper()
	resp, body := w.env.do("POST", "/api/auth/login", "", map[string]string{"name": name, "password": password})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in as %s: status %d, want 200; body %s", name, resp.StatusCode, body)
	}
	if cookies := resp.Header.Values("Set-Cookie"); len(cookies) > 0 {
		t.Errorf("the password step set cookies %q, want none", cookies)
	}

	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	keys := make([]string, 0, len(members))
	for key := range members {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	if want := []string{"challenge", "expiresAt", "mfaRequired"}; !slices.Equal(keys, want) {
		t.Errorf("the password step returned the members %q, want exactly %q", keys, want)
	}

	var view challengeView
	if err := json.Unmarshal(body, &view); err != nil {
		t.Fatal(err)
	}
	if !view.MFARequired || view.Challenge == "" {
		t.Fatalf("the password step returned %s, want mfaRequired and a challenge", body)
	}
	if want := w.clock.Now().Add(5 * time.Minute); !view.ExpiresAt.Equal(want) {
		t.Errorf("challenge expires at %v, want %v", view.ExpiresAt, want)
	}
	return view.Challenge
}

// complete sends the second step of a sign-in and returns the response.
func (w *totpWorld) complete(challenge, code string) (*http.Response, []byte) {
	w.env.t.Helper()
	return w.env.do("POST", "/api/auth/login/mfa", "", map[string]string{"challenge": challenge, "code": code})
}

// mustComplete sends the second step of a sign-in, which must start a
// session, and returns its token.
func (w *totpWorld) mustComplete(challenge, code string) string {
	w.env.t.Helper()
	var session sessionView
	w.env.mustJSON("POST", "/api/auth/login/mfa", "", map[string]string{"challenge": challenge, "code": code}, http.StatusOK, &session)
	if session.Token == "" || session.CSRFToken == "" {
		w.env.t.Fatalf("the second step returned no token or channel secret: %+v", session)
	}
	return session.Token
}

// status returns token's GET /api/auth/totp.
func (w *totpWorld) status(token string) totpStatusView {
	w.env.t.Helper()
	var status totpStatusView
	w.env.mustJSON("GET", "/api/auth/totp", token, nil, http.StatusOK, &status)
	return status
}

func TestTOTPEnrolmentNeedsCode(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env

	resp, body := env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "password-Ada", "code": "123456"})
	wantAPIError(t, resp, body, http.StatusConflict, CodeNoPendingTOTP, "")
	if got := w.status(w.token); got != (totpStatusView{}) {
		t.Errorf("status before setup = %+v, want disabled with no codes", got)
	}

	var setup totpSetupView
	env.mustJSON("POST", "/api/auth/totp/setup", w.token, map[string]string{}, http.StatusOK, &setup)
	key, err := otp.NewKeyFromURL(setup.URI)
	if err != nil {
		t.Fatalf("parse the setup URI %q: %v", setup.URI, err)
	}
	if key.Type() != "totp" || key.Issuer() != "Hearth" || key.AccountName() != "Ada" || key.Secret() != setup.Secret {
		t.Errorf("setup URI %q: type %q, issuer %q, account %q, secret %q; want totp, Hearth, Ada and the returned secret",
			setup.URI, key.Type(), key.Issuer(), key.AccountName(), key.Secret())
	}
	if key.Algorithm() != otp.AlgorithmSHA1 || key.Digits() != otp.DigitsSix || key.Period() != 30 {
		t.Errorf("setup URI %q: algorithm %v, %d digits, period %d; want SHA1, 6, 30", setup.URI, key.Algorithm(), key.Digits(), key.Period())
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.Secret)
	if err != nil || len(raw) != 20 {
		t.Errorf("secret %q decodes to %d bytes, %v; want 20 bytes of base32", setup.Secret, len(raw), err)
	}
	qr, ok := strings.CutPrefix(setup.QR, "data:image/png;base64,")
	if !ok {
		t.Fatalf("qr %.40q… is not a PNG data URL", setup.QR)
	}
	data, err := base64.StdEncoding.DecodeString(qr)
	if err != nil {
		t.Fatalf("qr: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("qr is not a PNG: %v", err)
	}
	if size := img.Bounds().Size(); size.X != qrSize || size.Y != qrSize {
		t.Errorf("qr is %v pixels, want %dx%d", size, qrSize, qrSize)
	}

	for _, wrong := range []string{w.code(setup.Secret, 5*totpStep), "abcd-efgh-jk", "12345", "--"} {
		resp, body = env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "password-Ada", "code": wrong})
		wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidCode, "code")
	}
	if got := w.status(w.token); got.Enabled {
		t.Fatal("two-step sign-in is on after wrong codes only")
	}

	var enabled totpEnabledView
	env.mustJSON("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "password-Ada", "code": w.code(setup.Secret, 0)}, http.StatusOK, &enabled)
	w.token = enabled.Token
	if len(enabled.BackupCodes) != 10 {
		t.Errorf("enable returned %d backup codes, want 10", len(enabled.BackupCodes))
	}
	for _, code := range enabled.BackupCodes {
		if !backupCodeFormat.MatchString(code) {
			t.Errorf("backup code %q does not match %s", code, backupCodeFormat)
		}
	}
	if got, want := w.status(w.token), (totpStatusView{Enabled: true, BackupCodesLeft: 10}); got != want {
		t.Errorf("status after enable = %+v, want %+v", got, want)
	}
	var me map[string]any
	env.mustJSON("GET", "/api/auth/me", w.token, nil, http.StatusOK, &me)
	if me["totpEnabled"] != true {
		t.Errorf("GET /api/auth/me has totpEnabled %v, want true", me["totpEnabled"])
	}
	resp, body = env.do("POST", "/api/auth/totp/setup", w.token, map[string]string{})
	wantAPIError(t, resp, body, http.StatusConflict, CodeTOTPEnabled, "")
}

func TestTOTPEnrolmentNeedsPassword(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	var setup totpSetupView
	env.mustJSON("POST", "/api/auth/totp/setup", w.token, map[string]string{}, http.StatusOK, &setup)
	code := w.code(setup.Secret, 0)

	// A missing password is rejected before any password check, so five of
	// them do not make the next attempt wait.
	for range 5 {
		resp, body := env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"code": code})
		wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidRequest, "password")
		if got := w.errorMessage(body); !strings.Contains(got, "Enter your current password") {
			t.Errorf("message %q does not ask for the current password", got)
		}
	}
	resp, body := env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "", "code": code})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidRequest, "password")

	// The password is checked before the code, so a wrong code does not
	// hide a wrong password.
	resp, body = env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "wrong-password", "code": w.code(setup.Secret, 5*totpStep)})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidRequest, "password")
	resp, body = env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "wrong-password", "code": code})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidRequest, "password")
	if got := w.status(w.token); got.Enabled {
		t.Fatal("two-step sign-in is on after a wrong password")
	}

	// Wrong passwords count toward the sign-in throttle: with the two
	// above, five make the next attempt wait, even with the right password.
	for range 3 {
		resp, body = env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "wrong-password", "code": code})
		wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidRequest, "password")
	}
	resp, body = env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "password-Ada", "code": code})
	wantAPIError(t, resp, body, http.StatusTooManyRequests, CodeRateLimited, "")
	resp, body = env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "password-Ada"})
	wantAPIError(t, resp, body, http.StatusTooManyRequests, CodeRateLimited, "")

	w.clock.Advance(2 * time.Second)
	var enabled totpEnabledView
	env.mustJSON("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "password-Ada", "code": w.code(setup.Secret, 0)}, http.StatusOK, &enabled)
	if got := w.status(enabled.Token); !got.Enabled {
		t.Error("two-step sign-in is off after the right password and code")
	}
}

func TestTOTPEnrolmentEndsOtherSessions(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	// watcher is a session started with a watched password.
	watcher := env.login("Ada", "password-Ada")
	var setup totpSetupView
	env.mustJSON("POST", "/api/auth/totp/setup", w.token, map[string]string{}, http.StatusOK, &setup)

	resp, body := env.do("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "password-Ada", "code": w.code(setup.Secret, 0)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enable: status %d, want 200; body %s", resp.StatusCode, body)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	keys := slices.Sorted(maps.Keys(members))
	if want := []string{"backupCodes", "csrfToken", "expiresAt", "profile", "token"}; !slices.Equal(keys, want) {
		t.Errorf("enable returned the members %q, want exactly %q", keys, want)
	}
	var enabled totpEnabledView
	if err := json.Unmarshal(body, &enabled); err != nil {
		t.Fatal(err)
	}
	if len(enabled.BackupCodes) != 10 {
		t.Errorf("enable returned %d backup codes, want 10", len(enabled.BackupCodes))
	}
	if enabled.Token == "" || enabled.CSRFToken == "" || enabled.Profile.Name != "Ada" {
		t.Fatalf("enable returned token %q, csrfToken %q and profile %+v; want a session of Ada", enabled.Token, enabled.CSRFToken, enabled.Profile)
	}

	for name, old := range map[string]string{"the enrolling session": w.token, "another session": watcher} {
		oldResp, oldBody := env.do("GET", "/api/threads", old, nil)
		if oldResp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the token of %s from before enrolment: status %d, want 401; body %s", name, oldResp.StatusCode, oldBody)
			continue
		}
		if got := w.errorCode(oldBody); got != CodeInvalidToken {
			t.Errorf("the token of %s from before enrolment: error code %q, want %q", name, got, CodeInvalidToken)
		}
	}
	env.mustJSON("GET", "/api/threads", enabled.Token, nil, http.StatusOK, nil)
	if got := w.status(enabled.Token); !got.Enabled {
		t.Error("two-step sign-in is off after enable")
	}

	// The response sets the new session's cookie, which works with the
	// returned channel secret.
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("enable set no session cookie")
	}
	if cookie.Value != enabled.Token || !cookie.HttpOnly || cookie.Path != "/api" {
		t.Errorf("session cookie %+v, want the new token, HttpOnly, path /api", cookie)
	}
	req := env.newRequest("GET", "/api/threads", "", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie.Value})
	req.Header.Set(csrfHeader, enabled.CSRFToken)
	cookieResp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	cookieResp.Body.Close()
	if cookieResp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/threads with the new cookie: status %d, want 200", cookieResp.StatusCode)
	}
}

func TestTOTPSignInNeedsCode(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")
	other := w.mustComplete(w.challenge("Ada", "password-Ada"), w.code(secret, 0))
	w.clock.Advance(totpStep)

	// Signing out locks the profile. The other session stays valid and
	// locked.
	env.mustJSON("POST", "/api/auth/logout", w.token, nil, http.StatusNoContent, nil)
	resp, body := env.do("GET", "/api/threads", other, nil)
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeLocked, "")

	challenge := w.challenge("Ada", "password-Ada")
	resp, body = env.do("GET", "/api/threads", other, nil)
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeLocked, "")
	if env.app.profiles.IsUnlocked(env.profileID(other)) {
		t.Fatal("the profile is unlocked after the password step alone")
	}

	token := w.mustComplete(challenge, w.code(secret, 0))
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, nil)
	env.mustJSON("GET", "/api/threads", other, nil, http.StatusOK, nil)
}

func TestTOTPCodeWithinOneStep(t *testing.T) {
	w := newTOTPWorld(t)
	secret, _ := w.enable(&w.token, "password-Ada")
	w.clock.Advance(5 * totpStep)

	challenge := w.challenge("Ada", "password-Ada")
	for _, offset := range []time.Duration{-2 * totpStep, 2 * totpStep} {
		resp, body := w.complete(challenge, w.code(secret, offset))
		wantAPIError(t, resp, body, http.StatusUnauthorized, CodeInvalidCode, "code")
	}
	// The steps are used in order, because a step at or before the last
	// one used is rejected.
	w.mustComplete(challenge, w.code(secret, -totpStep))
	w.mustComplete(w.challenge("Ada", "password-Ada"), w.code(secret, 0))
	w.mustComplete(w.challenge("Ada", "password-Ada"), w.code(secret, totpStep))
}

func TestTOTPReplayRejected(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")
	enrolment := w.code(secret, -totpStep)

	code := w.code(secret, 0)
	token := w.mustComplete(w.challenge("Ada", "password-Ada"), code)

	challenge := w.challenge("Ada", "password-Ada")
	for _, replayed := range []string{code, enrolment} {
		resp, body := w.complete(challenge, replayed)
		wantAPIError(t, resp, body, http.StatusUnauthorized, CodeInvalidCode, "code")
	}
	resp, body := env.do("POST", "/api/auth/totp/disable", token, map[string]string{"password": "password-Ada", "code": code})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidCode, "code")

	w.clock.Advance(totpStep)
	w.mustComplete(challenge, w.code(secret, 0))
}

func TestTOTPChallengeExpires(t *testing.T) {
	w := newTOTPWorld(t)
	secret, _ := w.enable(&w.token, "password-Ada")

	challenge := w.challenge("Ada", "password-Ada")
	w.clock.Advance(5*time.Minute - time.Second)
	w.mustComplete(challenge, w.code(secret, 0))
	resp, body := w.complete(challenge, w.code(secret, totpStep))
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeChallengeExpired, "")

	challenge = w.challenge("Ada", "password-Ada")
	w.clock.Advance(5 * time.Minute)
	resp, body = w.complete(challenge, w.code(secret, 0))
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeChallengeExpired, "")
	if got := w.errorMessage(body); !strings.Contains(got, "Sign in again with your password") {
		t.Errorf("message %q does not tell the user to sign in again with the password", got)
	}

	resp, body = w.complete("no-such-challenge", w.code(secret, 0))
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeChallengeExpired, "")
}

func TestTOTPChallengeDroppedAfterWrongCodes(t *testing.T) {
	w := newTOTPWorld(t)
	secret, _ := w.enable(&w.token, "password-Ada")

	challenge := w.challenge("Ada", "password-Ada")
	for range 5 {
		resp, body := w.complete(challenge, w.code(secret, 5*totpStep))
		wantAPIError(t, resp, body, http.StatusUnauthorized, CodeInvalidCode, "code")
	}
	// Five failures also make the next attempt wait a second.
	w.clock.Advance(2 * time.Second)
	resp, body := w.complete(challenge, w.code(secret, 0))
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeChallengeExpired, "")
}

// blankCodeBodies returns five request bodies without a code: the member
// left out, empty, or only white space. Each has the members of base too.
func blankCodeBodies(base map[string]string) []map[string]string {
	var bodies []map[string]string
	for _, code := range []string{"", " ", "\t", "  \n "} {
		body := maps.Clone(base)
		body["code"] = code
		bodies = append(bodies, body)
	}
	return append(bodies, maps.Clone(base))
}

func TestTOTPBlankSignInCodesNotCounted(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")

	challenge := w.challenge("Ada", "password-Ada")
	for _, body := range blankCodeBodies(map[string]string{"challenge": challenge}) {
		resp, respBody := env.do("POST", "/api/auth/login/mfa", "", body)
		wantAPIError(t, resp, respBody, http.StatusBadRequest, CodeCodeRequired, "code")
	}
	// Five counted failures would make this attempt wait and would have
	// dropped the challenge.
	w.mustComplete(challenge, w.code(secret, 0))
}

func TestTOTPBlankEnrolmentCodesNotCounted(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	var setup totpSetupView
	env.mustJSON("POST", "/api/auth/totp/setup", w.token, map[string]string{}, http.StatusOK, &setup)

	for _, body := range blankCodeBodies(map[string]string{"password": "password-Ada"}) {
		resp, respBody := env.do("POST", "/api/auth/totp/enable", w.token, body)
		wantAPIError(t, resp, respBody, http.StatusBadRequest, CodeCodeRequired, "code")
	}
	env.mustJSON("POST", "/api/auth/totp/enable", w.token, map[string]string{"password": "password-Ada", "code": w.code(setup.Secret, 0)}, http.StatusOK, nil)
}

func TestTOTPSignInNeedsChallenge(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")
	w.challenge("Ada", "password-Ada")

	bodies := []map[string]string{
		{"code": w.code(secret, 0)},
		{"challenge": "", "code": w.code(secret, 0)},
		{"challenge": "  ", "code": w.code(secret, 0)},
	}
	for _, body := range bodies {
		resp, respBody := env.do("POST", "/api/auth/login/mfa", "", body)
		wantAPIError(t, resp, respBody, http.StatusBadRequest, CodeInvalidRequest, "challenge")
		if got := w.errorMessage(respBody); !strings.Contains(got, "POST /api/auth/login") {
			t.Errorf("message %q does not say to send the challenge of POST /api/auth/login", got)
		}
	}
}

func TestTOTPBackupCodesWorkOnce(t *testing.T) {
	w := newTOTPWorld(t)
	_, codes := w.enable(&w.token, "password-Ada")

	token := w.mustComplete(w.challenge("Ada", "password-Ada"), codes[0])
	if got := w.status(token).BackupCodesLeft; got != 9 {
		t.Errorf("%d backup codes left after using one, want 9", got)
	}
	resp, body := w.complete(w.challenge("Ada", "password-Ada"), codes[0])
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeInvalidCode, "code")

	typed := " " + strings.ToUpper(strings.ReplaceAll(codes[1], "-", " ")) + " "
	token = w.mustComplete(w.challenge("Ada", "password-Ada"), typed)
	if got := w.status(token).BackupCodesLeft; got != 8 {
		t.Errorf("%d backup codes left after using two, want 8", got)
	}
}

func TestTOTPWrongCodesThrottled(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")

	for range 3 {
		resp, body := env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "wrong-password"})
		wantAPIError(t, resp, body, http.StatusUnauthorized, CodeUnauthorized, "")
	}
	// The right password does not clear the count, so the wrong codes
	// after it add to the wrong passwords before it.
	challenge := w.challenge("Ada", "password-Ada")
	for range 2 {
		resp, body := w.complete(challenge, w.code(secret, 5*totpStep))
		wantAPIError(t, resp, body, http.StatusUnauthorized, CodeInvalidCode, "code")
	}

	resp, body := env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "password-Ada"})
	wantAPIError(t, resp, body, http.StatusTooManyRequests, CodeRateLimited, "")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("the throttled sign-in has no Retry-After header")
	}
	resp, body = w.complete(challenge, w.code(secret, 0))
	wantAPIError(t, resp, body, http.StatusTooManyRequests, CodeRateLimited, "")

	w.clock.Advance(2 * time.Second)
	w.mustComplete(challenge, w.code(secret, 0))
	resp, body = env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "wrong-password"})
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeUnauthorized, "")
}

func TestTOTPDataFileHasNoSecret(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env

	// The first setup's secret is replaced by the second, but bbolt may
	// keep the page it was on.
	var first totpSetupView
	env.mustJSON("POST", "/api/auth/totp/setup", w.token, map[string]string{}, http.StatusOK, &first)
	secret, codes := w.enable(&w.token, "password-Ada")
	env.stop()

	file, err := os.ReadFile(filepath.Join(env.dataDir, DataFileName))
	if err != nil {
		t.Fatal(err)
	}
	// The scan can find what is stored in the clear, such as the name.
	if !bytes.Contains(file, []byte(`"name":"Ada"`)) {
		t.Fatal("the data file does not contain the profile name, so the scan below proves nothing")
	}

	var forbidden []string
	for _, s := range []string{first.Secret, secret} {
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		// The record is JSON, which writes bytes as base64.
		forbidden = append(forbidden, s, strings.ToLower(s), string(raw), hex.EncodeToString(raw),
			base64.StdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(raw),
			base64.URLEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw))
	}
	for _, code := range codes {
		canonical := strings.ToUpper(strings.ReplaceAll(code, "-", ""))
		forbidden = append(forbidden, code, canonical, strings.ToLower(canonical))
	}
	for _, s := range forbidden {
		if bytes.Contains(file, []byte(s)) {
			t.Errorf("the data file contains the secret or backup code %q", s)
		}
	}
}

func TestTOTPDisableNeedsPasswordAndCode(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")

	cases := []struct {
		name, password, code string
		status               int
		errorCode, field     string
	}{
		{"wrong password", "wrong-password", w.code(secret, 0), http.StatusBadRequest, CodeInvalidRequest, "password"},
		{"no code", "password-Ada", "", http.StatusBadRequest, CodeCodeRequired, "code"},
		{"wrong code", "password-Ada", w.code(secret, 5*totpStep), http.StatusBadRequest, CodeInvalidCode, "code"},
	}
	for _, c := range cases {
		resp, body := env.do("POST", "/api/auth/totp/disable", w.token, map[string]string{"password": c.password, "code": c.code})
		wantAPIError(t, resp, body, c.status, c.errorCode, c.field)
		if !w.status(w.token).Enabled {
			t.Fatalf("%s: two-step sign-in is off", c.name)
		}
	}

	env.mustJSON("POST", "/api/auth/totp/disable", w.token, map[string]string{"password": "password-Ada", "code": w.code(secret, 0)}, http.StatusNoContent, nil)
	if got := w.status(w.token); got != (totpStatusView{}) {
		t.Errorf("status after disable = %+v, want disabled with no codes", got)
	}
	env.login("Ada", "password-Ada")

	resp, body := env.do("POST", "/api/auth/totp/disable", w.token, map[string]string{"password": "password-Ada", "code": "123456"})
	wantAPIError(t, resp, body, http.StatusConflict, CodeConflict, "")
}

func TestTOTPNewBackupCodes(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, old := w.enable(&w.token, "password-Ada")

	resp, body := env.do("POST", "/api/auth/totp/backup-codes", w.token, map[string]string{"password": "password-Ada"})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeCodeRequired, "code")
	resp, body = env.do("POST", "/api/auth/totp/backup-codes", w.token, map[string]string{"password": "wrong-password", "code": w.code(secret, 0)})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidRequest, "password")

	var renewed backupCodesView
	env.mustJSON("POST", "/api/auth/totp/backup-codes", w.token, map[string]string{"password": "password-Ada", "code": old[0]}, http.StatusOK, &renewed)
	if len(renewed.BackupCodes) != 10 {
		t.Fatalf("got %d new backup codes, want 10", len(renewed.BackupCodes))
	}
	for _, code := range renewed.BackupCodes {
		if slices.Contains(old, code) {
			t.Errorf("new backup code %q is an old one", code)
		}
	}

	resp, body = w.complete(w.challenge("Ada", "password-Ada"), old[1])
	wantAPIError(t, resp, body, http.StatusUnauthorized, CodeInvalidCode, "code")
	w.mustComplete(w.challenge("Ada", "password-Ada"), renewed.BackupCodes[0])
}

func TestRecoverDisablesTOTP(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	var created struct {
		RecoveryKey string `json:"recoveryKey"`
	}
	env.mustJSON("POST", "/api/auth/profiles", w.token, map[string]string{"name": "Bea", "password": "password-Bea"}, http.StatusCreated, &created)
	bea := env.login("Bea", "password-Bea")
	w.enable(&bea, "password-Bea")

	var recovered map[string]any
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Bea", "recoveryKey": created.RecoveryKey, "newPassword": "new-password-Bea"}, http.StatusOK, &recovered)
	if recovered["totpDisabled"] != true {
		t.Errorf("recovery returned totpDisabled %v, want true", recovered["totpDisabled"])
	}
	token, _ := recovered["token"].(string)
	if got := w.status(token); got.Enabled {
		t.Error("two-step sign-in is still on after recovery")
	}
	env.login("Bea", "new-password-Bea")

	var again map[string]any
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Bea", "recoveryKey": recovered["recoveryKey"].(string), "newPassword": "password-Bea"}, http.StatusOK, &again)
	if _, ok := again["totpDisabled"]; ok {
		t.Errorf("recovery of a profile without two-step sign-in returned totpDisabled %v, want no such member", again["totpDisabled"])
	}
}

func TestChangePasswordNeedsCodeWithTOTP(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")

	resp, body := env.do("POST", "/api/auth/password", w.token, map[string]string{"current": "password-Ada", "new": "new-password-Ada"})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeCodeRequired, "code")
	resp, body = env.do("POST", "/api/auth/password", w.token, map[string]string{"current": "password-Ada", "new": "new-password-Ada", "code": w.code(secret, 5*totpStep)})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidCode, "code")
	env.mustJSON("GET", "/api/threads", w.token, nil, http.StatusOK, nil)

	var session sessionView
	env.mustJSON("POST", "/api/auth/password", w.token, map[string]string{"current": "password-Ada", "new": "new-password-Ada", "code": w.code(secret, 0)}, http.StatusOK, &session)
	env.mustJSON("GET", "/api/threads", session.Token, nil, http.StatusOK, nil)

	w.clock.Advance(totpStep)
	w.mustComplete(w.challenge("Ada", "new-password-Ada"), w.code(secret, 0))
}

func TestNewRecoveryKeyNeedsCodeWithTOTP(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	secret, _ := w.enable(&w.token, "password-Ada")

	resp, body := env.do("POST", "/api/auth/recovery-key", w.token, map[string]string{"password": "password-Ada"})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeCodeRequired, "code")
	resp, body = env.do("POST", "/api/auth/recovery-key", w.token, map[string]string{"password": "password-Ada", "code": w.code(secret, 5*totpStep)})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidCode, "code")
	env.mustJSON("POST", "/api/auth/recovery-key", w.token, map[string]string{"password": "password-Ada", "code": w.code(secret, 0)}, http.StatusOK, nil)
}

func TestDeleteOwnProfileNeedsCodeWithTOTP(t *testing.T) {
	w := newTOTPWorld(t)
	env := w.env
	bob := env.signUp(w.token, "Bob")
	bobID := env.profileID(bob)
	secret, _ := w.enable(&bob, "password-Bob")
	path := "/api/auth/profiles/" + bobID

	resp, body := env.do("DELETE", path, bob, map[string]string{"password": "password-Bob"})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeCodeRequired, "code")
	resp, body = env.do("DELETE", path, bob, map[string]string{"password": "password-Bob", "code": w.code(secret, 5*totpStep)})
	wantAPIError(t, resp, body, http.StatusBadRequest, CodeInvalidCode, "code")
	env.mustJSON("GET", "/api/threads", bob, nil, http.StatusOK, nil)

	env.mustJSON("DELETE", path, bob, map[string]string{"password": "password-Bob", "code": w.code(secret, 0)}, http.StatusNoContent, nil)
	if resp, _ := env.do("GET", "/api/threads", bob, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the deleted profile's token: status %d, want 401", resp.StatusCode)
	}
}

// errorCode returns the code of an API error body.
func (w *totpWorld) errorCode(body []byte) string {
	w.env.t.Helper()
	got, err := parseErrorBody(body)
	if err != nil {
		w.env.t.Fatalf("body %s: %v", body, err)
	}
	return got.Code
}

// errorMessage returns the message of an API error body.
func (w *totpWorld) errorMessage(body []byte) string {
	w.env.t.Helper()
	got, err := parseErrorBody(body)
	if err != nil {
		w.env.t.Fatalf("body %s: %v", body, err)
	}
	return got.Message
}
