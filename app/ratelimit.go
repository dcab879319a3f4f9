package app

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bounds how much one profile may ask of Hearth. A zero field takes
// its default.
type Limits struct {
	// ChatPerMinute bounds the requests that start a reply: chat,
	// regenerate, continue and edit. Default 30.
	ChatPerMinute int
	// ThreadsPerMinute bounds the requests that create threads: new
	// threads, forks and imports, each import counting once however many
	// threads its file holds. Default 60.
	ThreadsPerMinute int
	// MemoryWritesPerMinute bounds edits and reverts of the working
	// memory and changes of the embedder. Default 60.
	MemoryWritesPerMinute int
	// ConcurrentReplies bounds the replies being written for the profile
	// at once. Default DefaultConcurrentReplies.
	ConcurrentReplies int
}

// Default limits per profile.
const (
	DefaultChatPerMinute         = 30
	DefaultThreadsPerMinute      = 60
	DefaultMemoryWritesPerMinute = 60
)

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	if l.ChatPerMinute <= 0 {
		l.ChatPerMinute = DefaultChatPerMinute
	}
	if l.ThreadsPerMinute <= 0 {
		l.ThreadsPerMinute = DefaultThreadsPerMinute
	}
	if l.MemoryWritesPerMinute <= 0 {
		l.MemoryWritesPerMinute = DefaultMemoryWritesPerMinute
	}
	if l.ConcurrentReplies <= 0 {
		l.ConcurrentReplies = DefaultConcurrentReplies
	}
	return l
}

// rateKind names one budget of requests per profile.
type rateKind int

const (
	rateChat rateKind = iota
	rateThreads
	rateMemoryWrites
)

// what returns the name of a kind's requests, for the error sentence.
func (k rateKind) what() string {
	switch k {
	case rateChat:
		return "messages"
	case rateThreads:
		return "new threads"
	default:
		return "memory changes"
	}
}

// rateLimits keeps a token bucket per profile and kind. Each bucket has
// room for a minute's worth of requests and refills evenly over the minute
// (rate.Limiter's burst and rate), so a burst up to the limit passes at once.
type rateLimits struct {
	perMinute [3]int

	mu      sync.Mutex
	buckets map[rateBucketKey]*rate.Limiter
}

type rateBucketKey struct {
	profileID string
	kind      rateKind
}

func newRateLimits(l Limits) *rateLimits {
	return &rateLimits{
		perMinute: [3]int{rateChat: l.ChatPerMinute, rateThreads: l.ThreadsPerMinute, rateMemoryWrites: l.MemoryWritesPerMinute},
		buckets:   make(map[rateBucketKey]*rate.Limiter),
	}
}

// take spends one request of kind from profileID's bucket. When the bucket
// is empty it spends nothing and returns a rate_limited error whose
// Retry-After is the time until a request would pass.
func (rl *rateLimits) take(profileID string, kind rateKind) error {
	rl.mu.Lock()
	key := rateBucketKey{profileID, kind}
	b, ok := rl.buckets[key]
	if !ok {
		n := rl.perMinute[kind]
		b = rate.NewLimiter(rate.Limit(float64(n)/60), n)
		rl.buckets[key] = b
	}
	rl.mu.Unlock()

	now := time.Now()
	res := b.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	if wait == 0 {
		return nil
	}
	res.CancelAt(now)
	seconds := int(math.Ceil(wait.Seconds()))
	return &apiError{Status: http.StatusTooManyRequests, Code: CodeRateLimited, RetryAfter: time.Duration(seconds) * time.Second,
		Message: fmt.Sprintf("You have reached the limit of %d %s a minute. Try again in %d s.", rl.perMinute[kind], kind.what(), seconds)}
}

// forget drops a profile's buckets, when the profile is deleted.
func (rl *rateLimits) forget(profileID string) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	for k := range rl.buckets {
		if k.profileID == profileID {
			delete(rl.buckets, k)
		}
	}
}

// limited adapts a handler whose requests spend from one of the profile's
// rate buckets. The request is counted before its body is read, so a flood
// of bad requests is limited too.
func (a *App) limited(kind rateKind, h userHandlerFunc) userHandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, u user) error {
		if err := a.rates.take(u.ID, kind); err != nil {
			return err
		}
		return h(w, r, u)
	}
}
