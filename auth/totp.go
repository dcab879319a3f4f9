package auth

import (
	"context"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"go.etcd.io/bbolt"

	"hearth/seal"
)

// Two-step sign-in uses TOTP (RFC 6238) with HMAC-SHA-1, 6 digits and
// 30-second steps, the parameters that every authenticator app accepts.
// The codes are computed by github.com/pquerna/otp.
const (
	totpIssuer = "Hearth"
	// totpPeriod is the length of a time step, in seconds.
	totpPeriod = 30
	// totpSkew is how many steps before and after the current one are
	// accepted, for clocks that differ and for codes typed near the end of
	// their step.
	totpSkew = 1
	// totpSecretBytes is the secret's length: 160 bits, as RFC 4226
	// recommends for HMAC-SHA-1.
	totpSecretBytes = 20
)

// totpValidateOpts check a code against one time step: Skew is 0 because
// matchTOTP tries each accepted step itself, to learn which one matched.
var totpValidateOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// base32NoPadding encodes TOTP secrets in the form that otpauth:// URIs and
// authenticator apps use.
var base32NoPadding = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpRecord is a profile's second factor as stored in its profileRecord.
// Nothing in it is readable without the profile's data key, except how many
// backup codes are left and the last step used.
type totpRecord struct {
	// Secret is the TOTP secret sealed under the data key with
	// totpSecretAD. It is nil until an enrolment is confirmed.
	Secret []byte `json:"secret,omitempty"`
	// Pending is the secret of an enrolment that no code has confirmed
	// yet, sealed under the data key with totpPendingAD.
	Pending []byte `json:"pending,omitempty"`
	// LastStep is the time step of the last TOTP code accepted. Codes of
	// that step and earlier ones are rejected, so that no code works twice.
	LastStep int64 `json:"lastStep,omitempty"`
	// Backup holds the hashes of the unused backup codes.
	Backup *backupCodeSet `json:"backup,omitempty"`
}

// totpEnabled reports whether rec's profile has two-step sign-in.
func (r *profileRecord) totpEnabled() bool {
	return r.TOTP != nil && r.TOTP.Secret != nil
}

// TOTPStatus describes a profile's two-step sign-in.
type TOTPStatus struct {
	Enabled         bool
	BackupCodesLeft int
}

// TOTPSetup is an enrolment in progress: the new secret, for an
// authenticator app, as base32 text and as an otpauth:// URI.
type TOTPSetup struct {
	Secret string
	URI    string
}

// TOTPEnrolment is the result of EnableTOTP.
type TOTPEnrolment struct {
	// Token is the caller's new session. Every older token of the profile
	// is revoked.
	Token Token
	// BackupCodes are the new backup codes in their display form. They are
	// stored only as hashes, so this is the only time they can be shown.
	BackupCodes []string
}

// TOTPStatus returns whether profileID has two-step sign-in and how many
// of its backup codes are unused.
func (s *Store) TOTPStatus(ctx context.Context, profileID string) (TOTPStatus, error) {
	var status TOTPStatus
	err := s.db.View(func(tx *bbolt.Tx) error {
		rec, err := s.getProfile(tx.Bucket(profilesBucket), profileID)
		if err != nil {
			return err
		}
		if rec.totpEnabled() {
			status.Enabled = true
			status.BackupCodesLeft = rec.TOTP.Backup.left()
		}
		return nil
	})
	if err != nil {
		return TOTPStatus{}, fmt.Errorf("get two-step sign-in of %s: %w", profileID, err)
	}
	return status, nil
}

// SetUpTOTP starts, or starts again, the enrolment of an unlocked profile in
// two-step sign-in. It makes a new TOTP secret, stores it as pending, sealed
// under the profile's data key, and returns it for the authenticator app.
// EnableTOTP turns the factor on, given the password and a code that the
// app shows. It returns ErrTOTPEnabled when the profile already has the
// factor, and ErrLocked when the profile is locked.
func (s *Store) SetUpTOTP(ctx context.Context, profileID string) (TOTPSetup, error) {
	dataKey, err := s.DataKey(profileID)
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("set up two-step sign-in for %s: %w", profileID, err)
	}
	defer dataKey.Wipe()

	// The factor's fields are written only under attemptMu. Every code check
	// reads the record after taking it and writes the record before
	// releasing it, so no check can overwrite a newer secret.
	s.attemptMu.Lock()
	defer s.attemptMu.Unlock()
	var setup TOTPSetup
	err = s.db.Update(func(tx *bbolt.Tx) error {
		profiles := tx.Bucket(profilesBucket)
		rec, err := s.getProfile(profiles, profileID)
		if err != nil {
			return err
		}
		if rec.totpEnabled() {
			return ErrTOTPEnabled
		}
		secret := randomBytes(totpSecretBytes)
		defer clear(secret)
		key, err := totp.Generate(totp.GenerateOpts{
			Issuer: totpIssuer, AccountName: rec.Name, Period: totpPeriod, Secret: secret,
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return fmt.Errorf("make TOTP key: %w", err)
		}
		rec.TOTP = &totpRecord{Pending: dataKey.Seal(secret, totpPendingAD(rec.ID))}
		setup = TOTPSetup{Secret: key.Secret(), URI: key.String()}
		return s.putProfile(profiles, rec)
	})
	if err != nil {
		return TOTPSetup{}, fmt.Errorf("set up two-step sign-in for %s: %w", profileID, err)
	}
	return setup, nil
}

// EnableTOTP turns on two-step sign-in for profileID once password is the
// profile's password and code matches the secret of the enrolment that
// SetUpTOTP started. It revokes every token of the profile and drops its
// pending sign-in challenges, as a password change does, because someone
// who watched the password may hold one. It returns the caller's new
// session and the backup codes.
//
// The password is asked for, so that a session left open is not enough to
// lock the owner out with someone else's authenticator app. A missing
// password returns an *InputError and a missing code ErrCodeRequired, both
// before any key derivation and without counting a failed attempt. The
// password is checked before the code: a wrong password returns
// ErrInvalidCredentials and a wrong code ErrInvalidCode, each counted
// toward the sign-in throttle of the profile's name and client.
func (s *Store) EnableTOTP(ctx context.Context, profileID, password, code, client string) (TOTPEnrolment, error) {
	if password == "" {
		return TOTPEnrolment{}, &InputError{Field: "password", Reason: "The password is missing. Enter your current password to turn on two-step sign-in."}
	}
	if codeMissing(code) {
		return TOTPEnrolment{}, ErrCodeRequired
	}
	p, err := s.Profile(ctx, profileID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	keys := throttleKeys(s.throttleName(p.Name), client)
	rec, done, err := s.beginCodeAttempt(keys, profileID)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("enable two-step sign-in for %s: %w", profileID, err)
	}
	defer done()
	if rec.totpEnabled() {
		return TOTPEnrolment{}, ErrTOTPEnabled
	}
	if rec.TOTP == nil || rec.TOTP.Pending == nil {
		return TOTPEnrolment{}, ErrNoPendingTOTP
	}

	dataKey, ok, err := s.openWithPassword(rec, password)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("enable two-step sign-in for %s: %w", profileID, err)
	}
	if !ok {
		return TOTPEnrolment{}, s.failAttempt(keys)
	}
	defer dataKey.Wipe()
	secret, err := dataKey.Open(rec.TOTP.Pending, totpPendingAD(rec.ID))
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("enable two-step sign-in for %s: open the pending secret: %w", profileID, err)
	}
	defer clear(secret)

	typed, isBackup := readCode(code)
	step, ok := int64(0), false
	if typed != "" && !isBackup {
		step, ok = matchTOTP(secret, typed, s.now(), 0)
	}
	if !ok {
		return TOTPEnrolment{}, s.failCode(keys)
	}

	codes, backup, err := newBackupCodes(s.backupCodeParams())
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("enable two-step sign-in for %s: %w", profileID, err)
	}
	rec.TOTP = &totpRecord{Secret: dataKey.Seal(secret, totpSecretAD(rec.ID)), LastStep: step, Backup: backup}
	rec.UpdatedAt = s.now().UTC()
	rec.TokenVersion++
	if err := s.replaceProfile(rec, successKeys(keys)...); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("enable two-step sign-in for %s: %w", profileID, err)
	}
	s.challenges.dropProfile(rec.ID)
	s.unlockCopy(rec, dataKey)
	token, err := s.issueToken(rec)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("enable two-step sign-in for %s: %w", profileID, err)
	}
	return TOTPEnrolment{Token: token, BackupCodes: codes}, nil
}

// DisableTOTP turns off two-step sign-in after checking the profile's
// password and a current code, and drops the profile's pending sign-in
// challenges. Wrong passwords and codes are throttled like sign-ins.
func (s *Store) DisableTOTP(ctx context.Context, profileID, password, code, client string) error {
	rec, done, keys, err := s.beginFactorChange(ctx, profileID, client)
	if err != nil {
		return fmt.Errorf("disable two-step sign-in for %s: %w", profileID, err)
	}
	defer done()
	dataKey, err := s.checkPasswordAndCode(rec, password, code, keys)
	if err != nil {
		return fmt.Errorf("disable two-step sign-in for %s: %w", profileID, err)
	}
	dataKey.Wipe()

	rec.TOTP = nil
	rec.UpdatedAt = s.now().UTC()
	if err := s.replaceProfile(rec, successKeys(keys)...); err != nil {
		return fmt.Errorf("disable two-step sign-in for %s: %w", profileID, err)
	}
	s.challenges.dropProfile(profileID)
	return nil
}

// NewBackupCodes replaces a profile's backup codes after checking its
// password and a current code, and returns the new codes in their display
// form. The old codes stop working. Wrong passwords and codes are throttled
// like sign-ins.
func (s *Store) NewBackupCodes(ctx context.Context, profileID, password, code, client string) ([]string, error) {
	rec, done, keys, err := s.beginFactorChange(ctx, profileID, client)
	if err != nil {
		return nil, fmt.Errorf("new backup codes for %s: %w", profileID, err)
	}
	defer done()
	dataKey, err := s.checkPasswordAndCode(rec, password, code, keys)
	if err != nil {
		return nil, fmt.Errorf("new backup codes for %s: %w", profileID, err)
	}
	dataKey.Wipe()

	codes, backup, err := newBackupCodes(s.backupCodeParams())
	if err != nil {
		return nil, fmt.Errorf("new backup codes for %s: %w", profileID, err)
	}
	rec.TOTP.Backup = backup
	rec.UpdatedAt = s.now().UTC()
	if err := s.replaceProfile(rec, successKeys(keys)...); err != nil {
		return nil, fmt.Errorf("new backup codes for %s: %w", profileID, err)
	}
	return codes, nil
}

// backupCodeParams returns the argon2id cost of new backup code hashes:
// backupCodeArgonParams, or the Store's password cost when that is lower, as
// WithInsecureTestCost makes it.
func (s *Store) backupCodeParams() argonParams {
	if s.params.Memory < backupCodeArgonParams.Memory {
		return s.params
	}
	return backupCodeArgonParams
}

// beginFactorChange starts an attempt to change the factor of profileID,
// which must have one. It returns the record, the function that ends the
// attempt and the throttle keys, as beginAttempt does.
func (s *Store) beginFactorChange(ctx context.Context, profileID, client string) (*profileRecord, func(), [][]byte, error) {
	p, err := s.Profile(ctx, profileID)
	if err != nil {
		return nil, nil, nil, err
	}
	keys := throttleKeys(s.throttleName(p.Name), client)
	rec, done, err := s.beginCodeAttempt(keys, profileID)
	if err != nil {
		return nil, nil, nil, err
	}
	if !rec.totpEnabled() {
		done()
		return nil, nil, nil, ErrTOTPNotEnabled
	}
	return rec, done, keys, nil
}

// checkPasswordAndCode checks password against rec and, when rec's profile
// has two-step sign-in, code too, and returns rec's data key, which the
// caller wipes. A missing code returns ErrCodeRequired before any password
// work. A wrong password returns ErrInvalidCredentials and a wrong code
// ErrInvalidCode, each counted under keys. A right code is used up in rec,
// which the caller stores. The caller holds the attempt that beginAttempt
// or beginCodeAttempt started.
func (s *Store) checkPasswordAndCode(rec *profileRecord, password, code string, keys [][]byte) (*seal.Key, error) {
	if rec.totpEnabled() && codeMissing(code) {
		return nil, ErrCodeRequired
	}
	dataKey, ok, err := s.openWithPassword(rec, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.failAttempt(keys)
	}
	if !rec.totpEnabled() {
		return dataKey, nil
	}
	match, err := s.useCode(rec, dataKey, code)
	if err != nil {
		dataKey.Wipe()
		return nil, err
	}
	if !match {
		dataKey.Wipe()
		return nil, s.failCode(keys)
	}
	return dataKey, nil
}

// useCode reports whether code is a current TOTP code of rec's factor or one
// of its unused backup codes, and uses it up in rec: a TOTP code's step
// becomes the last step, and a backup code's hash is removed. The caller
// stores rec. dataKey opens the secret.
func (s *Store) useCode(rec *profileRecord, dataKey *seal.Key, code string) (bool, error) {
	factor := rec.TOTP
	typed, isBackup := readCode(code)
	switch {
	case typed == "":
		return false, nil
	case isBackup:
		return factor.Backup.use(typed)
	}

	secret, err := dataKey.Open(factor.Secret, totpSecretAD(rec.ID))
	if err != nil {
		return false, fmt.Errorf("open the TOTP secret: %w", err)
	}
	defer clear(secret)
	step, ok := matchTOTP(secret, typed, s.now(), factor.LastStep)
	if ok {
		factor.LastStep = step
	}
	return ok, nil
}

// matchTOTP returns the time step whose TOTP code for secret is code, among
// the steps within totpSkew of now that come after lastStep, or false.
func matchTOTP(secret []byte, code string, now time.Time, lastStep int64) (int64, bool) {
	// NOTE: pquerna/otp takes the secret as a string, which cannot be
	// wiped, so a copy of the base32 text stays in memory until the garbage
	// collector reuses it.
	encoded := base32NoPadding.EncodeToString(secret)
	current := now.Unix() / totpPeriod
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		if step <= lastStep {
			continue
		}
		ok, err := totp.ValidateCustom(code, encoded, time.Unix(step*totpPeriod, 0), totpValidateOpts)
		if err == nil && ok {
			return step, true
		}
	}
	return 0, false
}

// codeMissing reports whether code is empty or only white space. Such a
// request is rejected with ErrCodeRequired before the throttle or any key
// derivation, and is not counted as a failed attempt.
func codeMissing(code string) bool {
	return strings.TrimSpace(code) == ""
}

// maxCodeLength bounds the typed codes that readCode looks at. A backup
// code with a space or a dash between every character is 19 characters.
const maxCodeLength = 64

// readCode reads a code as a person may type it, ignoring case, spaces and
// dashes. It returns the 6 digits of a TOTP code with isBackup false, the
// 10 characters of a backup code in canonical form with isBackup true, or ""
// when the text can be neither.
func readCode(typed string) (code string, isBackup bool) {
	if len(typed) > maxCodeLength {
		return "", false
	}
	canonical := canonicalCrockford(typed)
	if len(canonical) == int(otp.DigitsSix) && strings.Trim(canonical, "0123456789") == "" {
		return canonical, false
	}
	if isBackupCode(canonical) {
		return canonical, true
	}
	return "", false
}
