package auth

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound is returned when a profile does not exist.
	ErrNotFound = errors.New("profile not found")

	// ErrNameTaken is returned when a new profile's name matches an existing
	// one after normalisation: Unicode NFKC, case folding and the confusable
	// skeleton of Unicode TR #39, so that look-alikes such as "CaroI" for
	// "Carol" match too.
	ErrNameTaken = errors.New("profile name already taken")

	// ErrInvalidCredentials is returned when a name and password, or a name
	// and recovery key, do not match a profile. An unknown name and a wrong
	// secret are deliberately the same error.
	ErrInvalidCredentials = errors.New("invalid profile name or password")

	// ErrForbidden is returned when the acting profile's role does not allow
	// the operation, such as a user creating another profile.
	ErrForbidden = errors.New("operation not allowed for this profile")

	// ErrLastAdmin is returned when an operation would leave no admin.
	ErrLastAdmin = errors.New("the last admin cannot be removed or demoted")

	// ErrInvalidToken is returned by Verify for every token that does not
	// prove a current session. It carries no detail on purpose.
	ErrInvalidToken = errors.New("invalid token")

	// ErrTampered is returned when a profile record does not match its MAC:
	// it was changed outside Hearth, or the install key is not the one the
	// record was written with.
	ErrTampered = errors.New("profile record does not match this installation's key")

	// ErrLocked is returned by DataKey when the profile's data key is not in
	// memory: nobody signed in since the process started, or the profile was
	// locked by sign-out or by being idle.
	ErrLocked = errors.New("profile locked")

	// ErrInvalidCode is returned when a two-step sign-in code is neither a
	// current TOTP code of the profile nor one of its unused backup codes. A
	// TOTP code that was accepted once is invalid from then on.
	ErrInvalidCode = errors.New("invalid two-step sign-in code")

	// ErrCodeRequired is returned when an operation on a profile with
	// two-step sign-in is requested without a code.
	ErrCodeRequired = errors.New("two-step sign-in code required")

	// ErrChallengeExpired is returned by CompleteLogin for a challenge that
	// does not exist, was used, was dropped after too many wrong codes or
	// by a change to the profile, or has expired.
	ErrChallengeExpired = errors.New("sign-in challenge unknown or expired")

	// ErrTOTPEnabled is returned by SetUpTOTP and EnableTOTP when the
	// profile already has two-step sign-in.
	ErrTOTPEnabled = errors.New("two-step sign-in already enabled")

	// ErrTOTPNotEnabled is returned by DisableTOTP and NewBackupCodes when
	// the profile does not have two-step sign-in.
	ErrTOTPNotEnabled = errors.New("two-step sign-in not enabled")

	// ErrNoPendingTOTP is returned by EnableTOTP when no enrolment was
	// started with SetUpTOTP.
	ErrNoPendingTOTP = errors.New("no two-step sign-in enrolment started")
)

// MFARequiredError is returned by Login when the password is right and the
// profile has two-step sign-in. No token is issued and the profile stays
// locked: CompleteLogin finishes the sign-in with Challenge and a code.
// Its message contains neither the challenge nor the profile.
type MFARequiredError struct {
	// Challenge is the opaque id that CompleteLogin takes.
	Challenge string
	// ExpiresAt is when the challenge stops being accepted.
	ExpiresAt time.Time
}

func (e *MFARequiredError) Error() string {
	return "password accepted; two-step sign-in code required"
}

// ThrottledError is returned by the sign-in and recovery operations while
// too many recent failures make the next attempt wait.
type ThrottledError struct {
	// RetryAfter is how long to wait before the next attempt.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed attempts: retry after %v", e.RetryAfter)
}

// InputError is returned when a profile name or password breaks a rule. Its
// message is written for the person typing it.
type InputError struct {
	// Field is the name of the rejected input, such as "name" or "password".
	Field string
	// Reason is a sentence that says what is wrong and what is accepted.
	Reason string
}

func (e *InputError) Error() string {
	return e.Field + ": " + e.Reason
}
