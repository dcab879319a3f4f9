package vector

// chunkSlots is the number of slots in each full chunk.
const chunkSlots = 1024

// chunked is an array of fixed-size records, one per slot, kept in chunks of
// chunkSlots records. Growing it never copies more than one chunk, so a
// large index does not need twice its memory while it grows, and a small
// one does not reserve a whole chunk.
type chunked[T any] struct {
	stride int // elements per record
	slots  int // records addressable with at
	chunks [][]T
}

func newChunked[T any](stride int) chunked[T] {
	return chunked[T]{stride: stride}
}

// at returns the record of slot, which must be below c.slots. Writes to the
// returned slice change the record.
func (c *chunked[T]) at(slot uint32) []T {
	chunk := c.chunks[slot/chunkSlots]
	start := int(slot%chunkSlots) * c.stride
	return chunk[start : start+c.stride : start+c.stride]
}

// grow makes slots [0, n) addressable. New records are zero.
func (c *chunked[T]) grow(n int) {
	for c.slots < n {
		if len(c.chunks) == 0 || len(c.chunks[len(c.chunks)-1]) == chunkSlots*c.stride {
			c.chunks = append(c.chunks, nil)
		}
		last := &c.chunks[len(c.chunks)-1]
		room := chunkSlots - len(*last)/c.stride
		add := min(n-c.slots, room)

		// A growing chunk doubles its capacity, up to a full chunk, so the
		// copies made while it fills add up to less than one chunk.
		need := len(*last) + add*c.stride
		if need > cap(*last) {
			grown := make([]T, len(*last), min(max(need, 2*cap(*last)), chunkSlots*c.stride))
			copy(grown, *last)
			*last = grown
		}
		*last = (*last)[:need]
		c.slots += add
	}
}
