//go:build !amd64 || purego

package vector

// dot returns the dot product of a and b, which must have the same length.
func dot(a, b []float32) float32 {
	return dotGeneric(a, b)
}

// dotUsesSIMD reports whether dot uses SIMD instructions.
func dotUsesSIMD() bool { return false }
