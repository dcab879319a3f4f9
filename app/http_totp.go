package app

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"

	"github.com/pquerna/otp"

	"hearth/auth"
)

// qrSize is the width and height of the enrolment QR code, in pixels. The
// URI of a short name such as "Ada" makes a code of 45 modules, drawn at 5
// pixels each. The longest URI, about 880 bytes for 64 emoji, makes 113
// modules at 2 pixels each.
const qrSize = 256

// totpStatusView is the response body of GET /api/auth/totp.
type totpStatusView struct {
	Enabled         bool `json:"enabled"`
	BackupCodesLeft int  `json:"backupCodesLeft"`
}

// totpSetupView is the response body of POST /api/auth/totp/setup.
type totpSetupView struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
	// QR is the URI's QR code as a PNG data URL.
	QR string `json:"qr"`
}

// backupCodesView is the response body of POST
// /api/auth/totp/backup-codes.
type backupCodesView struct {
	BackupCodes []string `json:"backupCodes"`
}

// totpEnabledView is the response body of POST /api/auth/totp/enable: the
// caller's new session, as a sign-in returns it, and the backup codes.
type totpEnabledView struct {
	sessionView
	BackupCodes []string `json:"backupCodes"`
}

// handleCompleteLogin checks the code of a sign-in for which POST
// /api/auth/login returned a challenge, and starts the session as a sign-in
// without two-step sign-in does.
func (a *App) handleCompleteLogin(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Challenge string `json:"challenge"`
		Code      string `json:"code"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	if strings.TrimSpace(req.Challenge) == "" {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "challenge",
			Message: "The challenge is missing. Send the challenge that POST /api/auth/login returned for the password."}
	}
	token, err := a.profiles.CompleteLogin(r.Context(), req.Challenge, req.Code, clientID(r))
	if err != nil {
		a.logFailedAttempt(r, "sign-in code", err)
		return err
	}
	setRequestProfileID(r, token.Profile.ID)
	a.startSession(w, token, "")
	return nil
}

func (a *App) handleTOTPStatus(w http.ResponseWriter, r *http.Request, u user) error {
	status, err := a.profiles.TOTPStatus(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, totpStatusView{Enabled: status.Enabled, BackupCodesLeft: status.BackupCodesLeft})
	return nil
}

// handleSetUpTOTP starts an enrolment in two-step sign-in and returns the
// new secret as text, as an otpauth:// URI and as its QR code. It reads no
// body, so an empty one and {} are both accepted.
func (a *App) handleSetUpTOTP(w http.ResponseWriter, r *http.Request, u user) error {
	setup, err := a.profiles.SetUpTOTP(r.Context(), u.ID)
	if err != nil {
		return err
	}
	qr, err := qrDataURL(setup.URI)
	if err != nil {
		return err
	}
	a.log.Info("two-step sign-in setup started", "profile", u.ID)
	writeJSON(w, http.StatusOK, totpSetupView{Secret: setup.Secret, URI: setup.URI, QR: qr})
	return nil
}

// handleEnableTOTP turns two-step sign-in on after checking the password
// and that the code matches the secret of the setup. Every older session of
// the profile ends, so it starts a new one for the caller, as a sign-in
// does, and returns it with the backup codes, which are shown only here.
func (a *App) handleEnableTOTP(w http.ResponseWriter, r *http.Request, u user) error {
	var req struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	enrolment, err := a.profiles.EnableTOTP(r.Context(), u.ID, req.Password, req.Code, clientID(r))
	if errors.Is(err, auth.ErrCodeRequired) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeCodeRequired, Field: "code",
			Message: "The code is missing. Enter the 6-digit code that your authenticator app shows for Hearth now."}
	}
	if errors.Is(err, auth.ErrInvalidCode) {
		a.logFailedAttempt(r, "two-step sign-in setup", err)
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidCode, Field: "code",
			Message: "The code does not match. Enter the 6-digit code that your authenticator app shows for Hearth now."}
	}
	if err != nil {
		a.logFailedAttempt(r, "two-step sign-in setup", err)
		return passwordAndCodeError(err)
	}
	a.log.Info("two-step sign-in turned on", "profile", u.ID)
	setSessionCookie(w, enrolment.Token)
	writeJSON(w, http.StatusOK, totpEnabledView{sessionView: newSessionView(enrolment.Token, ""), BackupCodes: enrolment.BackupCodes})
	return nil
}

// handleDisableTOTP turns two-step sign-in off after checking the password
// and a current code.
func (a *App) handleDisableTOTP(w http.ResponseWriter, r *http.Request, u user) error {
	var req struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	err := a.profiles.DisableTOTP(r.Context(), u.ID, req.Password, req.Code, clientID(r))
	if err != nil {
		a.logFailedAttempt(r, "two-step sign-in removal", err)
		return passwordAndCodeError(err)
	}
	a.log.Info("two-step sign-in turned off", "profile", u.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleNewBackupCodes replaces the backup codes after checking the
// password and a current code.
func (a *App) handleNewBackupCodes(w http.ResponseWriter, r *http.Request, u user) error {
	var req struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decodeJSONLimit(w, r, &req, maxAuthBodyBytes); err != nil {
		return err
	}
	codes, err := a.profiles.NewBackupCodes(r.Context(), u.ID, req.Password, req.Code, clientID(r))
	if err != nil {
		a.logFailedAttempt(r, "backup code renewal", err)
		return passwordAndCodeError(err)
	}
	a.log.Info("backup codes replaced", "profile", u.ID)
	writeJSON(w, http.StatusOK, backupCodesView{BackupCodes: codes})
	return nil
}

// passwordAndCodeError translates the errors of a route for a signed-in
// profile that checks its password and a code.
func passwordAndCodeError(err error) error {
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Field: "password", Message: "The password is wrong."}
	}
	return signedInCodeError(err)
}

// signedInCodeError turns auth.ErrInvalidCode into a 400 response, for the
// routes of a signed-in profile. There a 401 means that the session ended,
// and the interface signs out on it, which a mistyped code must not cause.
// Other errors are returned as they are.
func signedInCodeError(err error) error {
	if errors.Is(err, auth.ErrInvalidCode) {
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidCode, Field: "code", Message: msgInvalidCode}
	}
	return err
}

// qrDataURL returns the QR code of an otpauth:// URI as a PNG data URL,
// drawn by pquerna/otp's Key.Image.
func qrDataURL(uri string) (string, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return "", fmt.Errorf("parse the TOTP URI: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return "", fmt.Errorf("draw the TOTP QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encode the TOTP QR code: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
