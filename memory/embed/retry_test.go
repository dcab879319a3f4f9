package embed

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"zero seconds", http.Header{"Retry-After": {"0"}}, 0},
		{"negative seconds", http.Header{"Retry-After": {"-5"}}, 0},
		{"huge seconds", http.Header{"Retry-After": {"99999999999999999"}}, maxRetryAfterHeader},
		{"date", http.Header{"Retry-After": {"Sat, 01 Mar 2025 12:00:30 GMT"}}, 30 * time.Second},
		{"past date", http.Header{"Retry-After": {"Sat, 01 Mar 2025 11:00:00 GMT"}}, 0},
		{"milliseconds first", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"1"}}, 250 * time.Millisecond},
		{"fractional milliseconds", http.Header{"Retry-After-Ms": {"1.5"}}, 1500 * time.Microsecond},
		{"huge milliseconds", http.Header{"Retry-After-Ms": {"1e300"}}, maxRetryAfterHeader},
		{"invalid milliseconds", http.Header{"Retry-After-Ms": {"soon"}, "Retry-After": {"2"}}, 2 * time.Second},
		{"invalid", http.Header{"Retry-After": {"soon"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryAfter(tt.header, now); got != tt.want {
				t.Errorf("retryAfter is %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	ceilings := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i, ceiling := range ceilings {
		attempt := i + 1
		for range 100 {
			if got := p.backoff(attempt); got < ceiling/2 || got > ceiling {
				t.Fatalf("backoff after attempt %d is %v, want %v to %v", attempt, got, ceiling/2, ceiling)
			}
		}
	}
	if got := p.backoff(1000); got > time.Second {
		t.Errorf("backoff after attempt 1000 is %v, want at most 1s", got)
	}
}

// fastPolicy retries at once, so tests of the loop take no time.
var fastPolicy = RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Microsecond, MaxBackoff: time.Microsecond}.withDefaults()

var errTransient = errors.New("transient")

func classifyTest(err error) verdict {
	return verdict{transient: errors.Is(err, errTransient)}
}

func TestRunRetriesTransient(t *testing.T) {
	calls := 0
	attempts, err := fastPolicy.run(t.Context(), time.Second, nil, "test", func(context.Context) error {
		calls++
		if calls < 3 {
			return errTransient
		}
		return nil
	}, classifyTest)

	if err != nil || attempts != 3 || calls != 3 {
		t.Errorf("run returned %d attempts and %v after %d calls, want 3, nil and 3", attempts, err, calls)
	}
}

func TestRunStopsAtMaxAttempts(t *testing.T) {
	calls := 0
	attempts, err := fastPolicy.run(t.Context(), time.Second, nil, "test", func(context.Context) error {
		calls++
		return errTransient
	}, classifyTest)

	if !errors.Is(err, errTransient) || attempts != 3 || calls != 3 {
		t.Errorf("run returned %d attempts and %v after %d calls, want 3, errTransient and 3", attempts, err, calls)
	}
}

func TestRunStopsOnPermanent(t *testing.T) {
	permanent := errors.New("permanent")
	calls := 0
	attempts, err := fastPolicy.run(t.Context(), time.Second, nil, "test", func(context.Context) error {
		calls++
		return permanent
	}, classifyTest)

	if !errors.Is(err, permanent) || attempts != 1 || calls != 1 {
		t.Errorf("run returned %d attempts and %v after %d calls, want 1, permanent and 1", attempts, err, calls)
	}
}

func TestRunStopsOnLongRetryAfter(t *testing.T) {
	p := fastPolicy
	p.MaxRetryAfter = time.Second
	calls := 0
	attempts, err := p.run(t.Context(), time.Second, nil, "test", func(context.Context) error {
		calls++
		return errTransient
	}, func(error) verdict { return verdict{transient: true, retryAfter: time.Minute} })

	if !errors.Is(err, errTransient) || attempts != 1 || calls != 1 {
		t.Errorf("run returned %d attempts and %v after %d calls, want 1, errTransient and 1", attempts, err, calls)
	}
}

func TestRunStopsBeforeDeadline(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Minute, MaxBackoff: time.Minute}.withDefaults()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()

	attempts, err := p.run(ctx, time.Second, nil, "test", func(context.Context) error {
		return errTransient
	}, classifyTest)

	if !errors.Is(err, errTransient) || attempts != 1 {
		t.Errorf("run returned %d attempts and %v, want 1 and errTransient", attempts, err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("run took %v, want it to return without waiting past the deadline", elapsed)
	}
}

func TestRunAttemptTimeout(t *testing.T) {
	var deadlines []bool
	_, err := fastPolicy.run(t.Context(), 20*time.Millisecond, nil, "test", func(ctx context.Context) error {
		<-ctx.Done()
		_, ok := ctx.Deadline()
		deadlines = append(deadlines, ok)
		return ctx.Err()
	}, func(err error) verdict { return verdict{transient: errors.Is(err, context.DeadlineExceeded)} })

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error is %v, want context.DeadlineExceeded", err)
	}
	if !slices.Equal(deadlines, []bool{true, true, true}) {
		t.Errorf("attempts had deadlines %v, want 3 attempts with a deadline", deadlines)
	}
}

func TestRunCanceledWhileWaiting(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Minute, MaxBackoff: time.Minute}.withDefaults()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)

	_, err := p.run(ctx, time.Second, nil, "test", func(context.Context) error {
		return errTransient
	}, classifyTest)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error is %v, want context.Canceled", err)
	}
}

func TestNextBatch(t *testing.T) {
	texts := []string{"aaaa", "bb", "cccccccc", "d", "e"}
	tests := []struct {
		name               string
		maxCount, maxBytes int
		want               []int
	}{
		{"count only", 2, 0, []int{2, 4, 5}},
		{"all in one", 10, 0, []int{5}},
		{"bytes", 10, 6, []int{2, 3, 5}},
		{"text longer than bytes", 10, 3, []int{1, 2, 3, 5}},
		{"count and bytes", 1, 100, []int{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ends []int
			for start := 0; start < len(texts); {
				start = nextBatch(texts, start, tt.maxCount, tt.maxBytes)
				ends = append(ends, start)
			}
			if !slices.Equal(ends, tt.want) {
				t.Errorf("batch ends are %v, want %v", ends, tt.want)
			}
		})
	}
}

func TestUnitVector(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   Vector
		ok     bool
	}{
		{"scales", []float64{3, 4}, Vector{0.6, 0.8}, true},
		{"huge values", []float64{3e300, 4e300}, Vector{0.6, 0.8}, true},
		{"tiny values", []float64{3e-300, -4e-300}, Vector{0.6, -0.8}, true},
		{"zeros", []float64{0, 0}, nil, false},
		{"NaN", []float64{1, math.NaN()}, nil, false},
		{"infinite", []float64{1, math.Inf(1)}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := unitVector(tt.values)
			if ok != tt.ok || !slices.Equal(got, tt.want) {
				t.Errorf("unitVector is %v, %v, want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
