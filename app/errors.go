package app

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"hearth/auth"
	"hearth/memory"
	"hearth/memory/embed"
)

// Error codes of the API's error responses. The frontend's copy is in
// frontend/src/api.ts.
const (
	CodeUnauthorized     = "unauthorized"
	CodeInvalidToken     = "invalid_token"
	CodeLocked           = "locked"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeInvalidRequest   = "invalid_request"
	CodeConflict         = "conflict"
	CodeDuplicateRequest = "duplicate_request" // a chat request whose clientRequestId already stored a message
	CodeRateLimited      = "rate_limited"
	CodeTooLarge         = "too_large"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnsupportedType  = "unsupported_media_type"
	CodeInternal         = "internal"

	// Codes of two-step sign-in.
	CodeInvalidCode      = "invalid_code"      // a wrong TOTP or backup code
	CodeCodeRequired     = "code_required"     // the profile has two-step sign-in and no code was sent
	CodeChallengeExpired = "challenge_expired" // the sign-in challenge is unknown, used or expired
	CodeTOTPEnabled      = "totp_enabled"      // two-step sign-in is already on
	CodeNoPendingTOTP    = "no_pending_totp"   // enable without a setup first
)

// Sentences for errors that several routes share.
const (
	msgThreadNotFound  = "Thread not found or access denied"
	msgMessageNotFound = "Message not found in this thread"
	msgInternal        = "Something went wrong inside Hearth. The details are in its log; try again."
	msgInvalidCode     = "The code is wrong or was already used. Enter the current 6-digit code from your authenticator app, or an unused backup code."
)

// apiError is an error as the API sends it: a status, a stable code and a
// sentence for the user.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the rejected input, when one input is at fault.
	Field string `json:"field,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration `json:"-"`
	// ThreadID and MessageID name the thread and message that an earlier
	// request stored, on a duplicate_request error.
	ThreadID  string `json:"threadId,omitempty"`
	MessageID string `json:"messageId,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error *apiError `json:"error"`
}

// toAPIError translates an error from any layer into what the client sees.
// Errors it does not recognise become an internal error with a generic
// message, so that no internal detail reaches the client.
func toAPIError(err error) *apiError {
	var ae *apiError
	var authInput *auth.InputError
	var memoryInput *memory.InputError
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &authInput):
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: authInput.Reason, Field: authInput.Field}
	case errors.As(err, &memoryInput):
		return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: memoryInput.Reason, Field: memoryInput.Field}
	case errors.Is(err, auth.ErrInvalidCredentials):
		return &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "The profile name or password is wrong."}
	case errors.As(err, &throttled):
		return &apiError{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: throttled.RetryAfter,
			Message: "Too many failed attempts. Wait before trying again."}
	case errors.Is(err, auth.ErrInvalidCode):
		return &apiError{Status: http.StatusUnauthorized, Code: CodeInvalidCode, Field: "code", Message: msgInvalidCode}
	case errors.Is(err, auth.ErrCodeRequired):
		return &apiError{Status: http.StatusBadRequest, Code: CodeCodeRequired, Field: "code",
			Message: "This profile uses two-step sign-in. Enter the current 6-digit code from your authenticator app, or a backup code."}
	case errors.Is(err, auth.ErrChallengeExpired):
		return &apiError{Status: http.StatusUnauthorized, Code: CodeChallengeExpired,
			Message: "This sign-in has expired or was already used. Sign in again with your password."}
	case errors.Is(err, auth.ErrTOTPEnabled):
		return &apiError{Status: http.StatusConflict, Code: CodeTOTPEnabled,
			Message: "Two-step sign-in is already on. Turn it off first to set it up with another app."}
	case errors.Is(err, auth.ErrNoPendingTOTP):
		return &apiError{Status: http.StatusConflict, Code: CodeNoPendingTOTP,
			Message: "Two-step sign-in was not set up yet. Start the setup to get a QR code, then enter the code that your app shows."}
	case errors.Is(err, auth.ErrTOTPNotEnabled):
		return &apiError{Status: http.StatusConflict, Code: CodeConflict, Message: "Two-step sign-in is off for this profile. Turn it on first."}
	case errors.Is(err, auth.ErrLocked):
		return &apiError{Status: http.StatusUnauthorized, Code: CodeLocked, Message: "Your profile is locked. Enter your password to unlock it."}
	case errors.Is(err, auth.ErrLastAdmin):
		return &apiError{Status: http.StatusConflict, Code: CodeConflict, Message: "This is the last administrator. Make another profile an administrator first."}
	case errors.Is(err, auth.ErrTampered):
		return &apiError{Status: http.StatusInternalServerError, Code: CodeInternal,
			Message: "Hearth cannot trust this profile's record: the data file and install.key in the data directory do not belong together. Restore both from the same backup."}
	case errors.Is(err, auth.ErrInvalidToken):
		return &apiError{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Message: "Your session is not valid. Sign in again."}
	case errors.Is(err, auth.ErrForbidden):
		return &apiError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "Only an administrator can do this."}
	case errors.Is(err, auth.ErrNameTaken):
		return &apiError{Status: http.StatusConflict, Code: CodeConflict, Message: "A profile with this name already exists. Choose another name.", Field: "name"}
	case errors.Is(err, auth.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: "Profile not found."}
	case errors.Is(err, memory.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: msgThreadNotFound}
	case errors.Is(err, memory.ErrDuplicate):
		return &apiError{Status: http.StatusConflict, Code: CodeDuplicateRequest, Field: "clientRequestId",
			Message: "A request with this clientRequestId was already received and stored; send a new request with a new id."}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: CodeInternal, Message: msgInternal}
}

// writeError sends err as a JSON error response. Internal errors are logged
// once here, with the request's route and profile.
func (a *App) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(ae.RetryAfter)))
	}
	if ae.Status == http.StatusInternalServerError {
		a.log.Error("request failed", "method", r.Method, "route", r.Pattern, "profile", requestProfileID(r), "err", err)
	}
	writeJSON(w, ae.Status, errorBody{Error: ae})
}

// retryAfterSeconds rounds a wait up to whole seconds, the unit of the
// Retry-After header.
func retryAfterSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// loggedError returns err as the log records it. The words of a model
// backend or an embedder are left out, because a server may quote the
// prompt in its errors, and message text must never reach the log.
func loggedError(err error) string {
	var be *BackendError
	if errors.As(err, &be) {
		if be.Model != "" {
			return be.Code + " (model " + be.Model + ")"
		}
		return be.Code
	}
	return embed.LogText(err)
}
