package embed

import (
	"fmt"
	"math"
	"strings"
)

// Vector is the embedding of one text. Every embedder in this package returns
// vectors of length 1 (L2-normalised), so the dot product of two vectors
// from the same embedder is their cosine similarity.
type Vector []float32

// checkTexts returns an ErrEmptyText error naming the first text that is
// empty or contains only white space.
func checkTexts(texts []string) error {
	for i, text := range texts {
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf("embed text %d of %d: %w", i, len(texts), ErrEmptyText)
		}
	}
	return nil
}

// nextBatch returns the end of the batch that starts at texts[start]: at most
// maxCount texts and, when maxBytes is positive, at most maxBytes bytes of
// text. A single text longer than maxBytes is a batch of its own.
func nextBatch(texts []string, start, maxCount, maxBytes int) int {
	end := start
	size := 0
	for end < len(texts) && end-start < maxCount {
		size += len(texts[end])
		if maxBytes > 0 && size > maxBytes && end > start {
			break
		}
		end++
	}
	return end
}

// unitVector returns values scaled to length 1. It returns false when a
// value is NaN or infinite or when all values are zero, because such a
// vector has no direction.
func unitVector[F float32 | float64](values []F) (Vector, bool) {
	// Dividing by the largest magnitude first keeps the sum of squares
	// finite for any finite input.
	var largest float64
	for _, x := range values {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		largest = max(largest, math.Abs(f))
	}
	if largest == 0 {
		return nil, false
	}

	var squares float64
	for _, x := range values {
		f := float64(x) / largest
		squares += float64(f * f)
	}
	norm := math.Sqrt(squares) * largest

	unit := make(Vector, len(values))
	for i, x := range values {
		unit[i] = float32(float64(x) / norm)
	}
	return unit, true
}
