//go:build benchfixture

package main

import (
	"crypto/sha256"
	"os"
	"testing"
)

// The benchmarks in this file exist for TestRunSuiteEndToEnd, which runs
// them through the runner with the benchfixture tag. They are cheap and
// measure nothing of Hearth.

// BenchmarkFixture has sub-benchmarks and reports a custom metric.
func BenchmarkFixture(b *testing.B) {
	for _, size := range []string{"n=10", "n=1000"} {
		b.Run(size, func(b *testing.B) {
			for b.Loop() {
				fixtureHash()
			}
			b.ReportMetric(1.5, "p50-ms")
		})
	}
}

// BenchmarkFixtureFail fails when BENCH_FIXTURE_FAIL is 1, as a benchmark
// whose setup breaks does.
func BenchmarkFixtureFail(b *testing.B) {
	if os.Getenv("BENCH_FIXTURE_FAIL") == "1" {
		b.Fatal("the fixture failed on purpose")
	}
	for b.Loop() {
		fixtureHash()
	}
}

// fixtureHash spends a few milliseconds of CPU, so that the CPU profile
// has samples of it.
func fixtureHash() {
	var sum [32]byte
	for range 20000 {
		sum = sha256.Sum256(sum[:])
	}
	fixtureSink = sum[0]
}

var fixtureSink byte
