package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"hearth/auth"
)

// profileView is the part of a profile that anyone may see on the sign-in
// screen.
type profileView struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
}

func viewProfile(p auth.Profile) profileView {
	return profileView{ID: p.ID, Name: p.Name, Role: p.Role}
}

// sessionView is the answer to every request that starts a session.
type sessionView struct {
	Token       string      `json:"token"`
	ExpiresAt   time.Time   `json:"expiresAt"`
	CSRFToken   string      `json:"csrfToken"`
	Profile     profileView `json:"profile"`
	RecoveryKey string      `json:"recoveryKey,omitempty"`
	// TOTPDisabled is set after a recovery that turned two-step sign-in
	// off.
	TOTPDisabled bool `json:"totpDisabled,omitempty"`
}

// challengeView is the response body for a right password of a profile
// with two-step sign-in. POST /api/auth/login/mfa completes the sign-in.
type challengeView struct {
	MFARequired bool      `json:"mfaRequired"`
	Challenge   string    `json:"challenge"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

func (a *App) handleListProfiles(w http.ResponseWriter, r *http.Request) error {
	profiles, err := a.profiles.Profiles(r.Context())
	if err != nil {
		return err
	}
	views := make([]profileView, len(profiles))
	for i, p := range profiles {
		views[i] = viewProfile(p)
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

// handleCreateProfile creates the first profile for anyone, and later
// profiles only for a signed-in admin. Whether the store is empty is decided
// inside the store's transaction, so two racing first-run requests cannot
// both become admin.
func (a *App) handleCreateProfile(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}

	actorID := ""
	if hasCredentials(r) {
		actor, err := a.authenticate(r)
		if err != nil {
			return err
		}
		actorID = actor.Profile.ID
	}
	p, recoveryKey, err := a.profiles.CreateProfile(r.Context(), actorID, req.Name, req.Password)
	if err != nil {
		return err
	}
	a.log.Info("profile created", "profile", p.ID, "role", p.Role, "by", actorID)
	writeJSON(w, http.StatusCreated, map[string]any{"profile": viewProfile(p), "recoveryKey": recoveryKey})
	return nil
}

func (a *App) handleSetRole(w http.ResponseWriter, r *http.Request, sess auth.Session) error {
	var req struct {
		Role auth.Role `json:"role"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	p, err := a.profiles.SetRole(r.Context(), sess.Profile.ID, r.PathValue("profileId"), req.Role)
	if err != nil {
		return err
	}
	a.log.Info("profile role changed", "profile", p.ID, "role", p.Role, "by", sess.Profile.ID)
	writeJSON(w, http.StatusOK, viewProfile(p))
	return nil
}

// handleDeleteProfile deletes a profile and erases its threads. The profile
// record goes first: from then on its data key is gone and the threads are
// unreadable, so a crash before they are erased leaves nothing readable.
func (a *App) handleDeleteProfile(w http.ResponseWriter, r *http.Request, sess auth.Session) error {
	var req struct {
		Password string `json:"password"`
		// Code is a TOTP or backup code, needed to delete one's own
		// profile when it has two-step sign-in.
		Code string `json:"code"`
	}
	if err := decodeOptionalJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	targetID := r.PathValue("profileId")
	deleted, err := a.profiles.DeleteProfile(r.Context(), sess.Profile.ID, targetID, req.Password, req.Code, clientID(r))
	if errors.Is(err, auth.ErrInvalidCredentials) {
		a.logFailedAttempt(r, "profile deletion", err)
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "password", Message: "The password is wrong. Enter your password to delete your own profile."}
	}
	if err != nil {
		a.logFailedAttempt(r, "profile deletion", err)
		return signedInCodeError(err)
	}
	a.log.Info("profile deleted", "profile", deleted.ID, "by", sess.Profile.ID)
	// Replies still being written for the profile are stopped first, so that
	// none of them writes into data that is being erased.
	stopCtx, cancel := context.WithTimeout(r.Context(), closeTimeout)
	a.generations.stopProfile(stopCtx, deleted.ID)
	cancel()
	a.rates.forget(deleted.ID)
	if err := a.memory.DeleteResource(r.Context(), deleted.ResourceID()); err != nil {
		return err
	}
	if deleted.ID == sess.Profile.ID {
		clearSessionCookies(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	token, err := a.profiles.Login(r.Context(), req.Name, req.Password, clientID(r))
	var mfa *auth.MFARequiredError
	if errors.As(err, &mfa) {
		// No token and no cookie: the profile stays locked until
		// POST /api/auth/login/mfa checks a code.
		writeJSON(w, http.StatusOK, challengeView{MFARequired: true, Challenge: mfa.Challenge, ExpiresAt: mfa.ExpiresAt})
		return nil
	}
	if err != nil {
		a.logFailedAttempt(r, "sign-in", err)
		return err
	}
	setRequestProfileID(r, token.Profile.ID)
	a.startSession(w, token, "")
	return nil
}

func (a *App) handleLogout(w http.ResponseWriter, r *http.Request, sess auth.Session) error {
	if err := a.profiles.Logout(r.Context(), sess); err != nil {
		return err
	}
	// The browser's cookie may belong to another tab's session, when this
	// request signed out by its bearer token; that cookie stays.
	if c, err := r.Cookie(sessionCookie); err == nil {
		if cookieSess, err := a.profiles.Verify(r.Context(), c.Value); err != nil || cookieSess.TokenID == sess.TokenID {
			clearSessionCookies(w)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxIdleLockMinutes bounds the idle lock a profile can choose: one week.
const maxIdleLockMinutes = 7 * 24 * 60

func (a *App) handleMe(w http.ResponseWriter, r *http.Request, sess auth.Session) error {
	writeJSON(w, http.StatusOK, meView(sess.Profile, sess.Locked))
	return nil
}

// handleUpdateMe changes the signed-in profile's own settings: for now, how
// many idle minutes lock it (0 for never). It needs the profile unlocked, so
// that a session left locked cannot turn the idle lock off.
func (a *App) handleUpdateMe(w http.ResponseWriter, r *http.Request, u user) error {
	var req struct {
		IdleLockMinutes *int `json:"idleLockMinutes"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	if req.IdleLockMinutes == nil {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "idleLockMinutes", Message: "Send idleLockMinutes: the minutes without a request after which the profile locks, or 0 for never."}
	}
	minutes := *req.IdleLockMinutes
	if minutes < 0 || minutes > maxIdleLockMinutes {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "idleLockMinutes",
			Message: fmt.Sprintf("The idle lock must be between 0 (never) and %d minutes.", maxIdleLockMinutes)}
	}
	if err := a.profiles.SetIdleLock(r.Context(), u.ID, time.Duration(minutes)*time.Minute); err != nil {
		return err
	}
	p, err := a.profiles.Profile(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meView(p, false))
	return nil
}

func meView(p auth.Profile, locked bool) map[string]any {
	return map[string]any{
		"id":              p.ID,
		"name":            p.Name,
		"role":            p.Role,
		"locked":          locked,
		"idleLockMinutes": int(p.IdleLock / time.Minute),
		"totpEnabled":     p.TOTPEnabled,
	}
}

func (a *App) handleChangePassword(w http.ResponseWriter, r *http.Request, sess auth.Session) error {
	var req struct {
		Current string `json:"current"`
		New     string `json:"new"`
		// Code is a TOTP or backup code, needed when the profile has
		// two-step sign-in.
		Code string `json:"code"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	token, err := a.profiles.ChangePassword(r.Context(), sess.Profile.ID, req.Current, req.New, req.Code, clientID(r))
	renameInputField(err, "password", "new")
	if errors.Is(err, auth.ErrInvalidCredentials) {
		a.logFailedAttempt(r, "password change", err)
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "current", Message: "The current password is wrong."}
	}
	if err != nil {
		a.logFailedAttempt(r, "password change", err)
		return signedInCodeError(err)
	}
	a.log.Info("password changed", "profile", sess.Profile.ID)
	a.startSession(w, token, "")
	return nil
}

func (a *App) handleRecover(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name        string `json:"name"`
		RecoveryKey string `json:"recoveryKey"`
		NewPassword string `json:"newPassword"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	recovery, err := a.profiles.Recover(r.Context(), req.Name, req.RecoveryKey, req.NewPassword, clientID(r))
	renameInputField(err, "password", "newPassword")
	if errors.Is(err, auth.ErrInvalidCredentials) {
		a.logFailedAttempt(r, "recovery", err)
		return &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "The profile name or recovery key is wrong."}
	}
	if err != nil {
		a.logFailedAttempt(r, "recovery", err)
		return err
	}
	token := recovery.Token
	setRequestProfileID(r, token.Profile.ID)
	a.log.Info("password reset with recovery key", "profile", token.Profile.ID, "totpDisabled", recovery.TOTPDisabled)
	setSessionCookie(w, token)
	view := newSessionView(token, recovery.RecoveryKey)
	view.TOTPDisabled = recovery.TOTPDisabled
	writeJSON(w, http.StatusOK, view)
	return nil
}

// handleNewRecoveryKey replaces the signed-in profile's recovery key after
// checking its password.
func (a *App) handleNewRecoveryKey(w http.ResponseWriter, r *http.Request, sess auth.Session) error {
	var req struct {
		Password string `json:"password"`
		// Code is a TOTP or backup code, needed when the profile has
		// two-step sign-in, because the recovery key turns it off.
		Code string `json:"code"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	recoveryKey, err := a.profiles.NewRecoveryKey(r.Context(), sess.Profile.ID, req.Password, req.Code, clientID(r))
	if errors.Is(err, auth.ErrInvalidCredentials) {
		a.logFailedAttempt(r, "recovery key renewal", err)
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "password", Message: "The password is wrong."}
	}
	if err != nil {
		a.logFailedAttempt(r, "recovery key renewal", err)
		return signedInCodeError(err)
	}
	a.log.Info("recovery key replaced", "profile", sess.Profile.ID)
	writeJSON(w, http.StatusOK, map[string]string{"recoveryKey": recoveryKey})
	return nil
}

// renameInputField gives an auth.InputError the name of the request field
// that carried the value, where the route calls it something else.
func renameInputField(err error, from, to string) {
	var input *auth.InputError
	if errors.As(err, &input) && input.Field == from {
		input.Field = to
	}
}

// startSession answers a successful sign-in: the token in the body for the
// desktop window and scripts, the session cookie for a browser, and the
// token's channel secret, which a browser must send with the cookie.
func (a *App) startSession(w http.ResponseWriter, token auth.Token, recoveryKey string) {
	setSessionCookie(w, token)
	writeJSON(w, http.StatusOK, newSessionView(token, recoveryKey))
}

// setSessionCookie sets the session cookie of token.
func setSessionCookie(w http.ResponseWriter, token auth.Token) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token.Token, Path: "/api", Expires: token.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// newSessionView returns the response body that starts the session of
// token.
func newSessionView(token auth.Token, recoveryKey string) sessionView {
	return sessionView{
		Token: token.Token, ExpiresAt: token.ExpiresAt, CSRFToken: token.ChannelSecret,
		Profile: viewProfile(token.Profile), RecoveryKey: recoveryKey,
	}
}

func clearSessionCookies(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/api", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// logFailedAttempt logs a failed or throttled sign-in, password change,
// recovery or two-step sign-in code, with the client but without the name
// or code typed.
func (a *App) logFailedAttempt(r *http.Request, what string, err error) {
	var throttled *auth.ThrottledError
	if !errors.As(err, &throttled) && !errors.Is(err, auth.ErrInvalidCredentials) && !errors.Is(err, auth.ErrInvalidCode) {
		return
	}
	logNow, dropped := a.attemptLog.allow(time.Now())
	if dropped > 0 {
		a.log.Warn("failed attempts not logged", "count", dropped, "per", attemptLogWindow)
	}
	if !logNow {
		return
	}
	switch {
	case errors.As(err, &throttled):
		a.log.Warn(what+" throttled", "client", clientID(r), "retryAfter", throttled.RetryAfter.Round(time.Second))
	case errors.Is(err, auth.ErrInvalidCredentials), errors.Is(err, auth.ErrInvalidCode):
		a.log.Info(what+" failed", "client", clientID(r))
	}
}

// clientID names where a request comes from, for sign-in throttling:
// "window" for the desktop window, whose requests have no remote address,
// "loopback" for every loopback address, since any program on the computer
// can pick among 127.0.0.0/8, and the remote IP address otherwise.
func clientID(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" {
		return "window"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return "loopback"
	}
	return host
}

// attemptLogWindow and attemptLogMax bound the failed attempts logged: a
// guessing program could otherwise fill the rotating log and push older
// lines out.
const (
	attemptLogWindow = time.Minute
	attemptLogMax    = 20
)

// logLimiter lets attemptLogMax lines through per attemptLogWindow and counts
// the rest. It is safe for concurrent use.
type logLimiter struct {
	mu      sync.Mutex
	start   time.Time
	logged  int
	dropped int
}

// allow reports whether a line may be logged at now and, when a new window
// begins, how many lines the previous one dropped.
func (l *logLimiter) allow(now time.Time) (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= attemptLogWindow {
		dropped = l.dropped
		l.start, l.logged, l.dropped = now, 0, 0
	}
	if l.logged >= attemptLogMax {
		l.dropped++
		return false, dropped
	}
	l.logged++
	return true, dropped
}
