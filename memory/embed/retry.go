package embed

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy sets how a remote embedder retries a batch after a transient
// error: a refused or dropped connection, a timed-out attempt, or a 408, 429
// or 5xx status. Other errors end the call at once. Zero fields take the
// defaults named on each field.
type RetryPolicy struct {
	// MaxAttempts is the maximum number of requests per batch, the first
	// one included. 0 means 4, and 1 turns retries off.
	MaxAttempts int

	// InitialBackoff is the wait before the second attempt. Each later wait
	// doubles up to MaxBackoff, and every wait is shortened by a random
	// amount of up to half so that clients do not retry in step. 0 means
	// 500 ms.
	InitialBackoff time.Duration

	// MaxBackoff caps the exponential backoff. 0 means 8 s.
	MaxBackoff time.Duration

	// MaxRetryAfter is the longest wait that a server may request with a
	// Retry-After or retry-after-ms header. Such a wait replaces the
	// backoff. A server that requests longer ends the call at once. 0 means
	// 60 s.
	MaxRetryAfter time.Duration
}

const (
	defaultMaxAttempts    = 4
	defaultInitialBackoff = 500 * time.Millisecond
	defaultMaxBackoff     = 8 * time.Second
	defaultMaxRetryAfter  = 60 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = defaultInitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = defaultMaxBackoff
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = defaultMaxRetryAfter
	}
	return p
}

// verdict is how run handles a failed attempt.
type verdict struct {
	// transient is true when another attempt may succeed.
	transient bool

	// retryAfter is the wait that the server requested, or 0.
	retryAfter time.Duration
}

// run calls call until it succeeds, fails with an error that classify does
// not call transient, or p.MaxAttempts calls have been made. Each call gets a
// context that ends after timeout. run returns the number of calls made and
// the last error, or ctx's error if ctx ends first. It also stops early when
// the next wait would be longer than p.MaxRetryAfter or would pass ctx's
// deadline.
func (p RetryPolicy) run(ctx context.Context, timeout time.Duration, logger *slog.Logger, backend string,
	call func(context.Context) error, classify func(error) verdict) (int, error) {
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, timeout)
		err := call(attemptCtx)
		cancel()

		switch {
		case err == nil:
			return attempt, nil
		case ctx.Err() != nil:
			return attempt, ctx.Err()
		}

		v := classify(err)
		if !v.transient || attempt >= p.MaxAttempts {
			return attempt, err
		}
		wait := p.backoff(attempt)
		if v.retryAfter > 0 {
			if v.retryAfter > p.MaxRetryAfter {
				return attempt, err
			}
			wait = v.retryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return attempt, err
		}

		if logger != nil {
			logger.Warn("embedding request failed, retrying",
				"backend", backend, "attempt", attempt, "max_attempts", p.MaxAttempts,
				"wait", wait, "error", err)
		}
		if err := sleep(ctx, wait); err != nil {
			return attempt, err
		}
	}
}

// backoff returns the wait after the given failed attempt, counted from 1.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	wait := p.InitialBackoff
	for i := 1; i < attempt && wait < p.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, p.MaxBackoff)
	return wait - rand.N(wait/2+1)
}

// sleep waits for d, or returns ctx's error if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()

	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryAfter returns the wait that a response's headers request, or 0 when
// they request none. It reads retry-after-ms (milliseconds, which OpenAI
// sends) before Retry-After (seconds or an HTTP date, RFC 9110 section
// 10.2.3).
func retryAfter(header http.Header, now time.Time) time.Duration {
	if value := strings.TrimSpace(header.Get("Retry-After-Ms")); value != "" {
		if ms, err := strconv.ParseFloat(value, 64); err == nil && ms > 0 {
			if ms >= float64(maxRetryAfterHeader/time.Millisecond) {
				return maxRetryAfterHeader
			}
			return time.Duration(ms * float64(time.Millisecond))
		}
	}

	value := strings.TrimSpace(header.Get("Retry-After"))
	if value == "" {
		return 0
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds <= 0 {
			return 0
		}
		if seconds >= int64(maxRetryAfterHeader/time.Second) {
			return maxRetryAfterHeader
		}
		return time.Duration(seconds) * time.Second
	}
	if date, err := http.ParseTime(value); err == nil && date.After(now) {
		return min(date.Sub(now), maxRetryAfterHeader)
	}
	return 0
}

// maxRetryAfterHeader bounds the waits that retryAfter returns, so that huge
// header values cannot overflow a time.Duration.
const maxRetryAfterHeader = 24 * time.Hour

// transientTransport reports whether err, from sending a request or reading
// its response, may go away on another attempt. That covers a refused, reset
// or dropped connection and a timed-out attempt, but not a failed TLS
// certificate check.
func transientTransport(err error) bool {
	var certificate *tls.CertificateVerificationError
	var netErr net.Error
	switch {
	case errors.As(err, &certificate):
		return false
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF):
		return true
	case errors.As(err, &netErr):
		// net/http wraps every failure to send a request or receive its
		// headers in a *url.Error, which is a net.Error.
		return true
	}
	return false
}
