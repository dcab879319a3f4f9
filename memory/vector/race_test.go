//go:build race

package vector

// raceEnabled reports whether the tests run with the race detector, which
// makes graph building about twice as slow.
const raceEnabled = true
