package vector

// candidate is a stored vector with its similarity to the current query.
type candidate struct {
	sim  float32
	slot uint32
}

// queue is a binary heap of candidates. With nearestFirst its top is the
// most similar candidate; without, the least similar one. Search keeps the
// candidates still to expand nearest first, and the best results found so
// far furthest first, so that the worst of them can be replaced.
type queue struct {
	nearestFirst bool
	items        []candidate
}

func (q *queue) len() int { return len(q.items) }

func (q *queue) top() candidate { return q.items[0] }

func (q *queue) reset() { q.items = q.items[:0] }

func (q *queue) before(a, b candidate) bool {
	if q.nearestFirst {
		return a.sim > b.sim
	}
	return a.sim < b.sim
}

func (q *queue) push(c candidate) {
	q.items = append(q.items, c)
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.before(q.items[i], q.items[parent]) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

func (q *queue) pop() candidate {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items = q.items[:last]
	q.down(0)
	return top
}

// replaceTop replaces the top candidate with c, which is cheaper than a pop
// followed by a push.
func (q *queue) replaceTop(c candidate) {
	q.items[0] = c
	q.down(0)
}

func (q *queue) down(i int) {
	n := len(q.items)
	for {
		best := i
		left, right := 2*i+1, 2*i+2
		if left < n && q.before(q.items[left], q.items[best]) {
			best = left
		}
		if right < n && q.before(q.items[right], q.items[best]) {
			best = right
		}
		if best == i {
			return
		}
		q.items[i], q.items[best] = q.items[best], q.items[i]
		i = best
	}
}

// visitedSet records which slots a search has reached. Marks from earlier
// searches are invalidated by raising epoch instead of clearing the array.
type visitedSet struct {
	marks []uint32
	epoch uint32
}

// reset clears all marks and makes room for slots [0, n).
func (v *visitedSet) reset(n int) {
	if len(v.marks) < n {
		v.marks = append(v.marks, make([]uint32, n-len(v.marks))...)
	}
	v.epoch++
	if v.epoch == 0 {
		clear(v.marks)
		v.epoch = 1
	}
}

// visit marks slot and reports whether it was unmarked before.
func (v *visitedSet) visit(slot uint32) bool {
	if v.marks[slot] == v.epoch {
		return false
	}
	v.marks[slot] = v.epoch
	return true
}
