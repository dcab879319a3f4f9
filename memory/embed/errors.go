package embed

import "errors"

var (
	// ErrEmptyText is returned by every embedder, before any request is
	// sent, when a text in the batch is empty or contains only white space.
	// The error names the text's index in the batch.
	ErrEmptyText = errors.New("text is empty or only white space")

	// ErrModelNotFound is returned when the server does not have the
	// configured model: for Ollama, a model that was never pulled.
	ErrModelNotFound = errors.New("embedding model not found")

	// ErrUnauthorized is returned when an OpenAI-compatible server rejects
	// the API key with 401 Unauthorized or 403 Forbidden.
	ErrUnauthorized = errors.New("API key rejected")

	// ErrRateLimited is returned when the server still answers 429 Too Many
	// Requests after the last attempt, or asks for a wait longer than
	// RetryPolicy.MaxRetryAfter.
	ErrRateLimited = errors.New("rate limited")

	// ErrUnavailable is returned when every attempt failed with a transient
	// error: the server was unreachable, timed out or answered with a 5xx
	// status.
	ErrUnavailable = errors.New("embedding server unavailable")

	// ErrRejected is returned when the server rejects the request with a 4xx
	// status other than those above, such as a text longer than the model
	// accepts. Such requests are not retried.
	ErrRejected = errors.New("request rejected")

	// ErrDimensionMismatch is returned when a response contains vectors whose
	// dimension differs from the one the embedder expects, either configured
	// or learned from its first response.
	ErrDimensionMismatch = errors.New("vector dimension mismatch")

	// ErrInvalidResponse is returned when a response cannot be used: the
	// wrong number of vectors, a duplicate or missing index, or a vector that
	// is empty, all zeros or not finite.
	ErrInvalidResponse = errors.New("invalid embedding response")
)

// remoteError is an error from a remote embedder. Its message is a sentence
// for the user, and it unwraps to one of the sentinels above and, where there
// is one, the error from the client library.
type remoteError struct {
	message  string
	sentinel error
	cause    error
}

func (e *remoteError) Error() string {
	return e.message
}

func (e *remoteError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// LogText returns err as a log may record it. A remote embedder's error is
// reduced to its kind, because a server may quote the embedded text in its
// response, and the text of messages must not reach a log.
func LogText(err error) string {
	var remote *remoteError
	if errors.As(err, &remote) {
		return remote.sentinel.Error()
	}
	return err.Error()
}
