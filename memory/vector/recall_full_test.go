//go:build recall_full

package vector

import "testing"

// TestHNSWRecallClusteredFullSize checks recall@10 at 100,000 clustered
// 768-element vectors, before and after deleting every tenth one. Only the
// recall_full tag builds it, so `go test -race ./...` leaves it out, and
// `make test` runs it on its own without the race detector:
//
//	go test -tags recall_full -run TestHNSWRecallClusteredFullSize -count=1 -timeout 20m ./memory/vector
//
// It took 159 to 161 s on a 2-core AMD EPYC VM with Go 1.26.8: 2 minutes
// to build the graph and 30 s to delete 10,000 vectors.
func TestHNSWRecallClusteredFullSize(t *testing.T) {
	testRecallWithDeletes(t, 100_000, 768)
}
