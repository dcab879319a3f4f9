package embed

import (
	"fmt"
	"net/http"
	"sync"
	"unicode"
	"unicode/utf8"
)

// maxServerMessage bounds how much of a server's own error text goes into an
// error message.
const maxServerMessage = 300

// dimension is the vector length that a remote embedder enforces. It is
// configured up front or learned from the first response.
type dimension struct {
	mu sync.Mutex
	n  int // 0 until known
}

func (d *dimension) get() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

// check records got as the dimension when none is known yet. Otherwise it
// returns the known dimension and whether got equals it.
func (d *dimension) check(got int) (want int, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()

	if d.n == 0 {
		d.n = got
	}
	return d.n, got == d.n
}

// dimensionError reports vectors of dimension got from the embedder with
// the given ID when it enforces dimension want, which was set in its config
// when configured is true and learned from its first response otherwise.
func dimensionError(op, id string, got, want int, configured bool) error {
	if configured {
		return &remoteError{
			message: fmt.Sprintf("%s: got vectors of dimension %d from %s, want the configured %d: "+
				"the server ignores the dimensions setting, so remove it or use a model that supports it", op, got, id, want),
			sentinel: ErrDimensionMismatch,
		}
	}
	return &remoteError{
		message: fmt.Sprintf("%s: got vectors of dimension %d from %s, want %d as in its earlier vectors: "+
			"the model behind this ID changed, so rebuild the vectors stored under it", op, got, id, want),
		sentinel: ErrDimensionMismatch,
	}
}

// transientStatus reports whether an HTTP status may go away on another
// attempt: 408 Request Timeout, 429 Too Many Requests and every 5xx status.
func transientStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// countAttempts returns "after 1 attempt" or "after N attempts".
func countAttempts(n int) string {
	if n == 1 {
		return "after 1 attempt"
	}
	return fmt.Sprintf("after %d attempts", n)
}

// shorten cuts s to at most n bytes at a character boundary, marking the cut
// with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isSpace(r rune) bool {
	return unicode.IsSpace(r)
}
