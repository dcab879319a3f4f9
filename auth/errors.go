package auth

import "errors"

var (
	// ErrNotFound is returned when a profile does not exist.
	ErrNotFound = errors.New("profile not found")

	// ErrNameTaken is returned when a new profile's name matches an existing
	// one after normalisation (Unicode NFC and case folding).
	ErrNameTaken = errors.New("profile name already taken")

	// ErrInvalidCredentials is returned by Login when the name is unknown or
	// the password is wrong. The two cases are deliberately the same error.
	ErrInvalidCredentials = errors.New("invalid profile name or password")

	// ErrForbidden is returned when the acting profile's role does not allow
	// the operation, such as a user creating another profile.
	ErrForbidden = errors.New("operation not allowed for this profile")

	// ErrInvalidToken is returned by Verify for every token that does not
	// prove a current session. It carries no detail on purpose.
	ErrInvalidToken = errors.New("invalid token")
)

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
