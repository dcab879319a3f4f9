package vector

import "github.com/viterin/vek/vek32"

// accelerated reports whether vek32 multiplies with AVX2 and FMA on this
// CPU. Where it does not, dot uses dotGeneric, which is faster than vek32's
// own portable loop.
var accelerated = vek32.Info().Acceleration

// dot returns the dot product of a and b. b may be longer than a; the
// elements past len(a) are ignored. With AVX2 its sums differ from
// dotGeneric's in the last bits, because fused multiply-adds round once and
// the elements are summed in another order.
func dot(a, b []float32) float32 {
	if accelerated && len(a) > 0 {
		return vek32.Dot(a, b[:len(a)])
	}
	return dotGeneric(a, b)
}
