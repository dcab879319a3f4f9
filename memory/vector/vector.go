package vector

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// MaxDim is the largest dimension an index accepts.
const MaxDim = 1 << 16

// Result is one match returned by Search.
type Result struct {
	// Key is the key the vector was added under.
	Key string
	// Score is the cosine similarity between the query and the stored
	// vector, from -1 to 1.
	Score float32
}

// Interface is the set of methods that Exact, HNSW and Index share. All of
// them are safe for concurrent use.
type Interface interface {
	// Add stores vec under key, replacing any vector already stored there.
	Add(key string, vec []float32) error
	// Delete removes key and reports whether it was present.
	Delete(key string) bool
	// Search returns up to k stored vectors most similar to query, best
	// first, among the keys that filter accepts (all keys when it is nil).
	Search(query []float32, k int, filter func(key string) bool) ([]Result, error)
	// Len returns the number of stored vectors.
	Len() int
	// Dim returns the dimension every vector must have.
	Dim() int
}

var (
	_ Interface = (*Exact)(nil)
	_ Interface = (*HNSW)(nil)
	_ Interface = (*Index)(nil)
)

// checkDim returns an error unless dim is a usable index dimension.
func checkDim(dim int) error {
	if dim < 1 || dim > MaxDim {
		return fmt.Errorf("dimension %d is outside 1..%d: %w", dim, MaxDim, ErrDimension)
	}
	return nil
}

// normalize writes vec scaled to unit length into dst, which must have the
// same length. It returns an error when vec does not have dim elements, is
// all zeros, or contains NaN or ±Inf.
func normalize(dst, vec []float32, dim int) error {
	scale, err := unitScale(vec, dim)
	if err != nil {
		return err
	}
	for i, x := range vec {
		dst[i] = float32(float64(x) * scale)
	}
	return nil
}

// unitScale returns the factor that scales vec to unit length, or an error
// when vec does not have dim elements, is all zeros, or contains NaN or
// ±Inf.
func unitScale(vec []float32, dim int) (float64, error) {
	if len(vec) != dim {
		return 0, fmt.Errorf("vector has %d elements, index has dimension %d: %w", len(vec), dim, ErrDimension)
	}

	// The sum of squares is taken in float64 so that large float32
	// components cannot overflow it and tiny ones do not vanish.
	var sum float64
	for i, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return 0, fmt.Errorf("element %d is %v: %w", i, x, ErrInvalidVector)
		}
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return 0, fmt.Errorf("vector is all zeros, so it has no direction: %w", ErrInvalidVector)
	}
	return 1 / math.Sqrt(sum), nil
}

// dotGeneric returns the dot product of a and b, which must have the same
// length, in portable Go. dot uses it where vek32 has no SIMD code for the
// CPU.
// Four independent sums let the CPU overlap the multiply-adds.
// BenchmarkDot measured 226 ns for 768 elements on an AMD EPYC core (Go
// 1.26, no SIMD), and a plain loop took three times as long.
//
// The race detector ignores this function (go:norace) because it only reads
// vectors that change under the index's write lock, and instrumenting its
// loads would make the race-enabled tests of 768-element vectors ten times
// slower.
//
//go:norace
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// sortResults orders results best first, breaking ties by key so that the
// order does not depend on where vectors are stored.
func sortResults(results []Result) {
	slices.SortFunc(results, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}
