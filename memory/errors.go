package memory

import "errors"

var (
	// ErrNotFound is returned when a thread or message does not exist or
	// belongs to another resource. The two cases are the same error on
	// purpose.
	ErrNotFound = errors.New("not found")

	// ErrDuplicate is returned by AppendMessage, together with the message
	// already stored, when the thread has a message with the same
	// ClientRequestID: the request is a retry.
	ErrDuplicate = errors.New("message already stored for this client request")

	// ErrConflict is returned when a working memory update names a version
	// that is no longer the current one.
	ErrConflict = errors.New("stale version")

	// ErrNewerSchema is returned by Open when the data file was written by a
	// newer version of Hearth.
	ErrNewerSchema = errors.New("data file written by a newer version")

	// ErrOldSchema is returned by Open when the data file was written in a
	// format that this version cannot migrate.
	ErrOldSchema = errors.New("data file written in an unsupported older format")
)

// InputError is returned when a value supplied by the caller breaks a rule,
// such as a title that is too long. Its reason is written for the user.
type InputError struct {
	// Field is the name of the rejected input, such as "title".
	Field string
	// Reason is a sentence that says what is wrong and what is accepted.
	Reason string
}

func (e *InputError) Error() string {
	return e.Field + ": " + e.Reason
}
