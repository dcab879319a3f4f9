//go:build amd64 && !purego

package vector

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the CPU and the operating system support the
// AVX2 and FMA instructions of dotAVX2.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// dot returns the dot product of a and b, which must have the same length.
// With AVX2 and FMA it multiplies and adds 32 elements per loop iteration,
// and its sums differ from dotGeneric's in the last bits, because fused
// multiply-adds round once and the elements are summed in another order.
func dot(a, b []float32) float32 {
	if hasAVX2FMA {
		return dotAVX2(a, b[:len(a)])
	}
	return dotGeneric(a, b)
}

// dotAVX2 is dot with AVX2 and FMA instructions, in dot_amd64.s. Like
// dotGeneric it is invisible to the race detector, which does not
// instrument assembly.
//
//go:noescape
func dotAVX2(a, b []float32) float32

// dotUsesSIMD reports whether dot uses dotAVX2.
func dotUsesSIMD() bool { return hasAVX2FMA }
