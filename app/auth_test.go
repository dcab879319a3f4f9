package app

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.etcd.io/bbolt"

	"hearth/app/ollamatest"
	"hearth/seal"
)

// signingKey reads a profile's token signing key the way only someone with
// both the data file and the install key could: tests use it to forge tokens
// that differ from a real one in a single respect.
func (env *testEnv) signingKey(profileID string) []byte {
	env.t.Helper()
	raw, err := os.ReadFile(filepath.Join(env.dataDir, InstallKeyFileName))
	if err != nil {
		env.t.Fatal(err)
	}
	installKey, err := seal.KeyFrom(raw)
	if err != nil {
		env.t.Fatal(err)
	}
	var record struct {
		SigningKey []byte `json:"signingKey"`
	}
	err = env.app.db.View(func(tx *bbolt.Tx) error {
		return json.Unmarshal(tx.Bucket([]byte("profiles")).Get([]byte(profileID)), &record)
	})
	if err != nil {
		env.t.Fatal(err)
	}
	key, err := installKey.OpenKey(record.SigningKey, []byte("hearth/profile/"+profileID+"/signing-key"))
	if err != nil {
		env.t.Fatal(err)
	}
	return key.Bytes()
}

func (env *testEnv) profileID(token string) string {
	env.t.Helper()
	var me struct {
		ID string `json:"id"`
	}
	env.mustJSON("GET", "/api/auth/me", token, nil, http.StatusOK, &me)
	return me.ID
}

// validClaims returns the claims of a real token for profileID.
func validClaims(profileID string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "hearth", "aud": []string{"hearth-local"}, "sub": profileID, "role": "user", "ver": 1,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "forged-" + strconv.FormatInt(now.UnixNano(), 10),
	}
}

func signToken(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims, kid string, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHostileTokens(t *testing.T) {
	env := newTestEnv(t)
	adminToken := env.signUp("", "Ada")
	userToken := env.signUp(adminToken, "Bob")
	adminID, userID := env.profileID(adminToken), env.profileID(userToken)
	userKey := env.signingKey(userID)
	adminKey := env.signingKey(adminID)

	// A profile that is deleted afterwards, and a token of Bob's issued
	// before his password changes.
	goneToken := env.signUp(adminToken, "Cy")
	goneID := env.profileID(goneToken)
	goneKey := env.signingKey(goneID)
	env.mustJSON("DELETE", "/api/auth/profiles/"+goneID, adminToken, nil, http.StatusNoContent, nil)
	beforeChange := env.login("Bob", "password-Bob")
	var changed struct {
		Token string `json:"token"`
	}
	env.mustJSON("POST", "/api/auth/password", userToken, map[string]string{"current": "password-Bob", "new": "new-password-Bob"}, http.StatusOK, &changed)
	loggedOut := env.login("Bob", "new-password-Bob")
	env.mustJSON("POST", "/api/auth/logout", loggedOut, nil, http.StatusNoContent, nil)
	current := env.login("Bob", "new-password-Bob")

	with := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := validClaims(userID)
		c["ver"] = 2
		change(c)
		return c
	}
	noneToken := signToken(t, jwt.SigningMethodNone, validClaims(userID), userID, jwt.UnsafeAllowNoneSignatureType)
	rsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"` + userID + `"}`))
	hsToken := strings.SplitN(signToken(t, jwt.SigningMethodHS256, with(func(jwt.MapClaims) {}), userID, userKey), ".", 2)[1]

	hostile := map[string]string{
		"alg none":                 noneToken,
		"HS512 with the right key": signToken(t, jwt.SigningMethodHS512, with(func(jwt.MapClaims) {}), userID, userKey),
		"RS256 header":             rsHeader + "." + hsToken,
		"no exp":                   signToken(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { delete(c, "exp") }), userID, userKey),
		"expired beyond leeway":    signToken(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), userID, userKey),
		"nbf in the future":        signToken(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), userID, userKey),
		"wrong iss":                signToken(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["iss"] = "evil" }), userID, userKey),
		"wrong aud":                signToken(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["aud"] = []string{"elsewhere"} }), userID, userKey),
		"other profile's key":      signToken(t, jwt.SigningMethodHS256, with(func(jwt.MapClaims) {}), userID, adminKey),
		"deleted profile's key":    signToken(t, jwt.SigningMethodHS256, validClaims(goneID), goneID, goneKey),
		"before password change":   beforeChange,
		"after logout":             loggedOut,
		"unknown kid":              signToken(t, jwt.SigningMethodHS256, with(func(jwt.MapClaims) {}), "no-such-profile", userKey),
		"garbage":                  "garbage",
		"1 MB":                     strings.Repeat("x", 1<<20),
	}
	var want []byte
	for name, token := range hostile {
		t.Run(name, func(t *testing.T) {
			resp, body := env.do("GET", "/api/threads", token, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", resp.StatusCode, body)
			}
			if want == nil {
				want = body
			}
			if !bytes.Equal(body, want) {
				t.Fatalf("body %s differs from %s: it must not tell which check failed", body, want)
			}
		})
	}

	for _, header := range []string{"", "Bearer", "Bearer ", "Basic YWRhOnB3", strings.Repeat("B", 1<<20)} {
		req := env.newRequest("GET", "/api/threads", "", nil)
		req.Header.Set("Authorization", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("Authorization %.20q: status %d, want 401 or 431", header, resp.StatusCode)
		}
	}

	// A token of Bob's that claims the admin role is still Bob's, a user.
	claimsAdmin := signToken(t, jwt.SigningMethodHS256, with(func(c jwt.MapClaims) { c["role"] = "admin" }), userID, userKey)
	if _, body := env.do("GET", "/api/threads", claimsAdmin, nil); bytes.Contains(body, []byte("error")) {
		t.Fatalf("a well-formed forged token was refused (%s): the claims helper is wrong", body)
	}
	resp, body := env.do("POST", "/api/auth/profiles", claimsAdmin, map[string]string{"name": "Eve", "password": "password-Eve"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("user token claiming admin created a profile: status %d, body %s", resp.StatusCode, body)
	}
	if _, body := env.do("GET", "/api/threads", current, nil); bytes.Contains(body, []byte("error")) {
		t.Fatalf("current token refused: %s", body)
	}
	if changed.Token == "" {
		t.Fatal("password change returned no token")
	}
}

// browserLogin signs in with a cookie jar and returns the client, the session
// cookie and the channel secret from the answer.
func (env *testEnv) browserLogin(name, password string) (*http.Client, *http.Cookie, string) {
	env.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		env.t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	resp, err := browser.Do(env.newRequest("POST", "/api/auth/login", "", map[string]string{"name": name, "password": password}))
	if err != nil {
		env.t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		CSRFToken string `json:"csrfToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK {
		env.t.Fatalf("login: status %d, err %v", resp.StatusCode, err)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil {
		env.t.Fatal("login set no session cookie")
	}
	return browser, session, answer.CSRFToken
}

func TestCookieSessionNeedsChannelSecret(t *testing.T) {
	env := newTestEnv(t)
	env.signUp("", "Ada")
	browser, session, secret := env.browserLogin("Ada", "password-Ada")
	send := func(method, path, csrf string, body any) *http.Response {
		t.Helper()
		req := env.newRequest(method, path, "", body)
		if csrf != "" {
			req.Header.Set(csrfHeader, csrf)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/api" {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/api", session)
	}
	if secret == "" || strings.Contains(session.Value, secret) {
		t.Fatalf("channel secret %q missing or inside the cookie", secret)
	}

	// The cookie alone, as another server on the same host would receive
	// it, opens nothing: not even a GET.
	for _, tc := range []struct {
		method, path, csrf string
		body               any
	}{
		{"GET", "/api/threads", "", nil},
		{"GET", "/api/auth/me", "", nil},
		{"POST", "/api/threads", "", map[string]string{}},
		{"GET", "/api/threads", "wrong", nil},
		{"POST", "/api/threads", "wrong", map[string]string{}},
	} {
		if resp := send(tc.method, tc.path, tc.csrf, tc.body); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s with secret %q: status %d, want 401", tc.method, tc.path, tc.csrf, resp.StatusCode)
		}
	}
	if resp := send("GET", "/api/threads", secret, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET with the secret: status %d, want 200", resp.StatusCode)
	}
	if resp := send("POST", "/api/threads", secret, map[string]string{}); resp.StatusCode != http.StatusCreated {
		t.Errorf("POST with the secret: status %d, want 201", resp.StatusCode)
	}

	if resp := send("POST", "/api/auth/logout", secret, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: status %d, want 204", resp.StatusCode)
	}
	// The revoked token stays revoked even when sent again by hand.
	resp, body := env.do("GET", "/api/threads", session.Value, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token after logout: status %d, want 401; body %s", resp.StatusCode, body)
	}
}

func TestPlantedSessionCookieIgnored(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signUp("", "Uma")
	env.signUp(admin, "Vic")
	_, umaCookie, umaSecret := env.browserLogin("Uma", "password-Uma")
	_, vicCookie, _ := env.browserLogin("Vic", "password-Vic")

	// A page on another port of the same host plants Vic's cookie on a more
	// specific path, so the browser sends it first. Uma's page still sends
	// its own secret, which only Uma's cookie matches.
	req := env.newRequest("POST", "/api/chat", "", map[string]string{"message": "my bank PIN is 4321"})
	req.Header.Set("Cookie", sessionCookie+"="+vicCookie.Value+"; "+sessionCookie+"="+umaCookie.Value)
	req.Header.Set(csrfHeader, umaSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readStream(t, resp.Body)
	resp.Body.Close()
	threadID := resp.Header.Get("X-Thread-Id")

	vic := env.login("Vic", "password-Vic")
	var vicThreads []threadJSON
	env.mustJSON("GET", "/api/threads", vic, nil, http.StatusOK, &vicThreads)
	if len(vicThreads) != 0 {
		t.Fatalf("Vic has %d threads: the planted cookie chose the profile", len(vicThreads))
	}
	uma := env.login("Uma", "password-Uma")
	if got := env.getThread(uma, threadID); len(got.Messages) == 0 || got.Messages[0].Content != "my bank PIN is 4321" {
		t.Fatalf("Uma's thread = %+v, want her message", got.Messages)
	}
}

func TestLockedAfterRestart(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.stop()
	env.start(env.fake.URL())

	var out errorBody
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusUnauthorized, &out)
	if out.Error.Code != CodeLocked {
		t.Fatalf("code = %q, want %q", out.Error.Code, CodeLocked)
	}
	var me struct {
		Name   string `json:"name"`
		Locked bool   `json:"locked"`
	}
	env.mustJSON("GET", "/api/auth/me", token, nil, http.StatusOK, &me)
	if me.Name != "Ada" || !me.Locked {
		t.Fatalf("me = %+v, want Ada locked", me)
	}

	env.login("Ada", "password-Ada")
	env.mustJSON("GET", "/api/threads", token, nil, http.StatusOK, nil)
}

func TestSignInThrottled(t *testing.T) {
	env := newTestEnv(t)
	env.signUp("", "Ada")
	wrong := map[string]string{"name": "Ada", "password": "wrong password"}
	for i := range 5 {
		resp, body := env.do("POST", "/api/auth/login", "", wrong)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401; body %s", i+1, resp.StatusCode, body)
		}
	}

	check := func(when string) {
		t.Helper()
		resp, body := env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "password-Ada"})
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: right password got status %d, want 429; body %s", when, resp.StatusCode, body)
		}
		if seconds, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || seconds < 1 {
			t.Fatalf("%s: Retry-After = %q, want whole seconds >= 1", when, resp.Header.Get("Retry-After"))
		}
		var out errorBody
		if err := json.Unmarshal(body, &out); err != nil || out.Error.Code != CodeRateLimited {
			t.Fatalf("%s: body %s, want code %s", when, body, CodeRateLimited)
		}
	}
	check("6th attempt")

	// The counters are in the data file, so a restart does not reset them.
	env.stop()
	env.start(env.fake.URL())
	check("after restart")
}

func TestDeleteProfileErasesData(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signUp("", "Ada")
	bob := env.signUp(admin, "Bob")
	bobID := env.profileID(bob)
	env.chat(bob, map[string]string{"message": "Bob's secret"})

	// Bob must give his password to delete himself.
	resp, body := env.do("DELETE", "/api/auth/profiles/"+bobID, bob, map[string]string{"password": "wrong password"})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"field":"password"`) {
		t.Fatalf("self-delete with a wrong password: status %d, want 400 on field password; body %s", resp.StatusCode, body)
	}
	// An admin needs no password to delete someone else.
	env.mustJSON("DELETE", "/api/auth/profiles/"+bobID, admin, nil, http.StatusNoContent, nil)

	if resp, _ := env.do("GET", "/api/threads", bob, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("deleted profile's token: status %d, want 401", resp.StatusCode)
	}
	// Nothing of Bob's is left in the data file.
	left := 0
	err := env.app.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("resources")).Bucket([]byte("user_"+bobID)) != nil {
			left++
		}
		return tx.Bucket([]byte("threads")).ForEach(func(_, v []byte) error {
			if bytes.Contains(v, []byte(`"user_`+bobID+`"`)) {
				left++
			}
			return nil
		})
	})
	if err != nil || left != 0 {
		t.Fatalf("deleted profile still has %d records (err %v), want 0", left, err)
	}
	var profiles []profileView
	env.mustJSON("GET", "/api/auth/profiles", "", nil, http.StatusOK, &profiles)
	if len(profiles) != 1 || profiles[0].Name != "Ada" {
		t.Fatalf("profiles = %+v, want only Ada", profiles)
	}
}

func TestLastAdminRule(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signUp("", "Ada")
	adminID := env.profileID(admin)
	bob := env.signUp(admin, "Bob")
	bobID := env.profileID(bob)

	var out errorBody
	env.mustJSON("DELETE", "/api/auth/profiles/"+adminID, admin, map[string]string{"password": "password-Ada"}, http.StatusConflict, &out)
	env.mustJSON("PATCH", "/api/auth/profiles/"+adminID, admin, map[string]string{"role": "user"}, http.StatusConflict, &out)
	if out.Error.Code != CodeConflict {
		t.Fatalf("code = %q, want %q", out.Error.Code, CodeConflict)
	}

	// A user cannot change roles; once Bob is an admin, Ada can step down.
	env.mustJSON("PATCH", "/api/auth/profiles/"+bobID, bob, map[string]string{"role": "admin"}, http.StatusForbidden, nil)
	var promoted profileView
	env.mustJSON("PATCH", "/api/auth/profiles/"+bobID, admin, map[string]string{"role": "admin"}, http.StatusOK, &promoted)
	if promoted.Role != "admin" {
		t.Fatalf("role = %q, want admin", promoted.Role)
	}
	env.mustJSON("PATCH", "/api/auth/profiles/"+adminID, admin, map[string]string{"role": "user"}, http.StatusOK, nil)
	env.mustJSON("PATCH", "/api/auth/profiles/"+adminID, admin, map[string]string{"role": "admin"}, http.StatusForbidden, nil)
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	other := env.login("Ada", "password-Ada")
	_, parts := env.chat(token, map[string]string{"message": "kept across the change"})
	threadID := startMetadata(t, parts)["threadId"]

	var out errorBody
	env.mustJSON("POST", "/api/auth/password", token, map[string]string{"current": "not it", "new": "a new password"}, http.StatusBadRequest, &out)
	if out.Error.Field != "current" {
		t.Fatalf("wrong current password: field %q, want current", out.Error.Field)
	}

	var changed struct {
		Token string `json:"token"`
	}
	env.mustJSON("POST", "/api/auth/password", token, map[string]string{"current": "password-Ada", "new": "a new password"}, http.StatusOK, &changed)
	for name, old := range map[string]string{"the caller's old token": token, "another session": other} {
		if resp, _ := env.do("GET", "/api/threads", old, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s after the change: status %d, want 401", name, resp.StatusCode)
		}
	}
	if got := env.getThread(changed.Token, threadID); len(got.Messages) == 0 || got.Messages[0].Content != "kept across the change" {
		t.Fatalf("messages after the change = %+v", got.Messages)
	}
	resp, _ := env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "password-Ada"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old password: status %d, want 401", resp.StatusCode)
	}
	env.login("Ada", "a new password")
}

func TestRecoverWithRecoveryKey(t *testing.T) {
	env := newTestEnv(t)
	var created struct {
		RecoveryKey string `json:"recoveryKey"`
	}
	env.mustJSON("POST", "/api/auth/profiles", "", map[string]string{"name": "Ada", "password": "forgotten password"}, http.StatusCreated, &created)
	if len(created.RecoveryKey) < 20 {
		t.Fatalf("recovery key %q looks too short", created.RecoveryKey)
	}
	token := env.login("Ada", "forgotten password")
	_, parts := env.chat(token, map[string]string{"message": "still readable after recovery"})
	threadID := startMetadata(t, parts)["threadId"]

	var out errorBody
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Ada", "recoveryKey": "0000-0000-0000-0000-0000-0000-0000-0000", "newPassword": "brand new password"}, http.StatusUnauthorized, &out)
	var unknown errorBody
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Nobody", "recoveryKey": created.RecoveryKey, "newPassword": "brand new password"}, http.StatusUnauthorized, &unknown)
	if out.Error.Message != unknown.Error.Message {
		t.Fatalf("wrong key said %q, unknown name %q; want the same", out.Error.Message, unknown.Error.Message)
	}

	var recovered struct {
		RecoveryKey string `json:"recoveryKey"`
		Token       string `json:"token"`
	}
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Ada", "recoveryKey": strings.ToLower(created.RecoveryKey), "newPassword": "brand new password"}, http.StatusOK, &recovered)
	if recovered.RecoveryKey == "" || recovered.RecoveryKey == created.RecoveryKey {
		t.Fatalf("new recovery key %q, want a different one", recovered.RecoveryKey)
	}
	if got := env.getThread(recovered.Token, threadID); len(got.Messages) == 0 || got.Messages[0].Content != "still readable after recovery" {
		t.Fatalf("messages after recovery = %+v", got.Messages)
	}
	if resp, _ := env.do("GET", "/api/threads", token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token from before recovery: status %d, want 401", resp.StatusCode)
	}
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Ada", "recoveryKey": created.RecoveryKey, "newPassword": "another password"}, http.StatusUnauthorized, nil)
	env.login("Ada", "brand new password")
}

func TestIdleLockSetting(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")

	var me struct {
		IdleLockMinutes int `json:"idleLockMinutes"`
	}
	env.mustJSON("GET", "/api/auth/me", token, nil, http.StatusOK, &me)
	if me.IdleLockMinutes != 15 {
		t.Fatalf("default idle lock = %d minutes, want 15", me.IdleLockMinutes)
	}
	env.mustJSON("PATCH", "/api/auth/me", token, map[string]int{"idleLockMinutes": 0}, http.StatusOK, &me)
	if me.IdleLockMinutes != 0 {
		t.Fatalf("idle lock after setting never = %d, want 0", me.IdleLockMinutes)
	}
	env.mustJSON("PATCH", "/api/auth/me", token, map[string]int{"idleLockMinutes": 30}, http.StatusOK, &me)
	env.mustJSON("GET", "/api/auth/me", token, nil, http.StatusOK, &me)
	if me.IdleLockMinutes != 30 {
		t.Fatalf("idle lock = %d minutes, want 30", me.IdleLockMinutes)
	}

	for _, body := range []any{map[string]int{"idleLockMinutes": -1}, map[string]int{"idleLockMinutes": maxIdleLockMinutes + 1}, map[string]string{}} {
		var out errorBody
		env.mustJSON("PATCH", "/api/auth/me", token, body, http.StatusBadRequest, &out)
		if out.Error.Field != "idleLockMinutes" {
			t.Errorf("body %v: field %q, want idleLockMinutes", body, out.Error.Field)
		}
	}
}

func TestInstallKeyMissing(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.chat(token, map[string]string{"message": "kept"})
	env.stop()
	keyPath := filepath.Join(env.dataDir, InstallKeyFileName)
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}

	model, err := NewOllama(env.fake.URL(), testModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: env.dataDir, Model: model, Logger: slog.New(slog.DiscardHandler)}
	if _, err := Open(cfg); !errors.Is(err, ErrInstallKeyMissing) || !strings.Contains(err.Error(), "--adopt-install-key") {
		t.Fatalf("Open without install.key = %v, want ErrInstallKeyMissing naming the way out", err)
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused Open left an install key behind: %v", err)
	}

	cfg.AdoptInstallKey = true
	a, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open with AdoptInstallKey: %v", err)
	}
	env.app = a
	env.server = httptest.NewServer(a.Handler())
	if resp, _ := env.do("GET", "/api/threads", token, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old token after adopting: status %d, want 401", resp.StatusCode)
	}
	var threads []threadJSON
	env.mustJSON("GET", "/api/threads", env.login("Ada", "password-Ada"), nil, http.StatusOK, &threads)
	if len(threads) != 1 {
		t.Fatalf("threads after adopting = %d, want 1", len(threads))
	}
}

func TestNewRecoveryKey(t *testing.T) {
	env := newTestEnv(t)
	var created struct {
		RecoveryKey string `json:"recoveryKey"`
	}
	env.mustJSON("POST", "/api/auth/profiles", "", map[string]string{"name": "Ada", "password": "password-Ada"}, http.StatusCreated, &created)
	token := env.login("Ada", "password-Ada")

	var out errorBody
	env.mustJSON("POST", "/api/auth/recovery-key", token, map[string]string{"password": "wrong"}, http.StatusBadRequest, &out)
	if out.Error.Field != "password" {
		t.Fatalf("wrong password: field %q, want password", out.Error.Field)
	}
	var renewed struct {
		RecoveryKey string `json:"recoveryKey"`
	}
	env.mustJSON("POST", "/api/auth/recovery-key", token, map[string]string{"password": "password-Ada"}, http.StatusOK, &renewed)
	if renewed.RecoveryKey == "" || renewed.RecoveryKey == created.RecoveryKey {
		t.Fatalf("new recovery key %q, want a different one", renewed.RecoveryKey)
	}
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Ada", "recoveryKey": created.RecoveryKey, "newPassword": "another password"}, http.StatusUnauthorized, nil)
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Ada", "recoveryKey": renewed.RecoveryKey, "newPassword": "another password"}, http.StatusOK, nil)
}

func TestPasswordFieldNames(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	var out errorBody
	env.mustJSON("POST", "/api/auth/password", token, map[string]string{"current": "password-Ada", "new": "short"}, http.StatusBadRequest, &out)
	if out.Error.Field != "new" {
		t.Errorf("short new password: field %q, want new", out.Error.Field)
	}
	env.mustJSON("POST", "/api/auth/password", token, map[string]string{"current": "password-Ada", "new": "password-Ada"}, http.StatusBadRequest, &out)
	if out.Error.Field != "new" {
		t.Errorf("same password: field %q, want new", out.Error.Field)
	}
	env.mustJSON("POST", "/api/auth/recover", "", map[string]string{"name": "Ada", "recoveryKey": "x", "newPassword": "short"}, http.StatusBadRequest, &out)
	if out.Error.Field != "newPassword" {
		t.Errorf("short recovered password: field %q, want newPassword", out.Error.Field)
	}
}

func TestAttemptsLimited(t *testing.T) {
	env := newTestEnv(t)
	env.signUp("", "Ada")
	for range maxWaitingAttempts {
		env.app.attemptSlots <- struct{}{}
	}
	resp, body := env.do("POST", "/api/auth/login", "", map[string]string{"name": "Ada", "password": "password-Ada"})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("login with every slot taken: status %d, Retry-After %q; body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	<-env.app.attemptSlots
	env.login("Ada", "password-Ada")
}

func TestRefusedRequestsNotActivity(t *testing.T) {
	env := newTestEnv(t)
	env.signUp("", "Ada")
	browser, session, secret := env.browserLogin("Ada", "password-Ada")
	// The API takes whole minutes, the store any duration, so the test
	// need not wait a minute.
	const idleLock = 300 * time.Millisecond
	if err := env.app.profiles.SetIdleLock(t.Context(), env.profileID(session.Value), idleLock); err != nil {
		t.Fatal(err)
	}

	// Cookie requests without the channel secret, or with a wrong one, sent
	// far more often than the idle lock time, for three times that time.
	deadline := time.Now().Add(3 * idleLock)
	for time.Now().Before(deadline) {
		for _, csrf := range []string{"", "wrong", secret + "x"} {
			req := env.newRequest("GET", "/api/auth/me", "", nil)
			if csrf != "" {
				req.Header.Set(csrfHeader, csrf)
			}
			resp, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("cookie with secret %q: status %d, want 401", csrf, resp.StatusCode)
			}
		}
		time.Sleep(idleLock / 10)
	}

	// They were refused, so the profile has been idle since sign-in.
	var out errorBody
	env.mustJSON("GET", "/api/threads", session.Value, nil, http.StatusUnauthorized, &out)
	if out.Error.Code != CodeLocked {
		t.Fatalf("code after %v of refused requests = %q, want %q", 3*idleLock, out.Error.Code, CodeLocked)
	}
}

func TestIdleLockNeedsUnlocked(t *testing.T) {
	env := newTestEnv(t)
	token := env.signUp("", "Ada")
	env.stop()
	env.start(env.fake.URL())
	var out errorBody
	env.mustJSON("PATCH", "/api/auth/me", token, map[string]int{"idleLockMinutes": 0}, http.StatusUnauthorized, &out)
	if out.Error.Code != CodeLocked {
		t.Fatalf("code = %q, want %q", out.Error.Code, CodeLocked)
	}
}

func TestClientID(t *testing.T) {
	for remote, want := range map[string]string{
		"":                 "window",
		"127.0.0.1:5000":   "loopback",
		"127.1.2.3:5000":   "loopback",
		"[::1]:5000":       "loopback",
		"192.0.2.7:5000":   "192.0.2.7",
		"[2001:db8::]:443": "2001:db8::",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		if got := clientID(r); got != want {
			t.Errorf("clientID(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	now := time.Now()
	logged := 0
	for range attemptLogMax + 10 {
		if ok, _ := l.allow(now); ok {
			logged++
		}
	}
	if logged != attemptLogMax {
		t.Fatalf("logged %d lines in one window, want %d", logged, attemptLogMax)
	}
	ok, dropped := l.allow(now.Add(attemptLogWindow))
	if !ok || dropped != 10 {
		t.Fatalf("next window: ok %v, dropped %d; want true, 10", ok, dropped)
	}
}

func TestDeleteProfileStopsItsReplies(t *testing.T) {
	env := newTestEnv(t)
	admin := env.signUp("", "Ada")
	bob := env.signUp(admin, "Bob")
	bobID := env.profileID(bob)
	env.fake.Enqueue(ollamatest.Reply{Chunks: []string{"partial", " never sent"}, HoldAfter: 1})

	resp := env.send("POST", "/api/chat", bob, map[string]string{"message": "long story"})
	defer resp.Body.Close()
	events := make(chan streamPart, 64)
	go readParts(resp.Body, events)
	waitForDelta(t, events)

	env.mustJSON("DELETE", "/api/auth/profiles/"+bobID, admin, nil, http.StatusNoContent, nil)
	for p := range events {
		if p.Type == "error" {
			t.Errorf("stream error after deletion: %q, want the reply stopped quietly", p.ErrorText)
		}
	}
	left := 0
	err := env.app.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("threads")).ForEach(func(_, v []byte) error {
			if bytes.Contains(v, []byte(`"user_`+bobID+`"`)) {
				left++
			}
			return nil
		})
	})
	if err != nil || left != 0 {
		t.Fatalf("deleted profile has %d threads left (err %v), want 0", left, err)
	}
}
