package main

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// near reports whether a and b agree to 9 significant digits, since the
// tidied units are products of floats.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func nearAll(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestParseBenchmarksSamples(t *testing.T) {
	benchmarks, problems, err := parseBenchmarks(readFixture(t, "store.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("problems = %q, want none", problems)
	}

	tests := []struct {
		bench, metric string
		want          []float64
	}{
		// ns/op is tidied to seconds, in the order of the runs.
		{"BenchmarkThreadsList10k", "sec/op", []float64{0.0142, 0.0139, 0.0145}},
		{"BenchmarkAppendMessage8Writers", "msgs/s", []float64{4700, 4500, 4900}},
		// A sub-benchmark keeps its full name, without the -2.
		{"BenchmarkStore1M/LastMessages50", "sec/op", []float64{317e-6, 320e-6, 310e-6}},
		{"BenchmarkStore1M/Open", "file-MiB", []float64{634, 634, 634}},
		// go test writes spaces in sub-benchmark names as underscores.
		{"BenchmarkSearchThreads10k/every_thread", "allocs/op", []float64{18200}},
		{"BenchmarkSearchThreads10k/every_thread", "B/op", []float64{1.5e6}},
		// MB is tidied to bytes, also behind a prefix.
		{"BenchmarkBinarySize", "B", []float64{8.5e6}},
		{"BenchmarkBinarySize", "bare-B", []float64{7.2e6}},
	}
	for _, tt := range tests {
		st := benchmarks[tt.bench][tt.metric]
		if st == nil {
			t.Errorf("%s %s missing; got benchmarks %v", tt.bench, tt.metric, keysOf(benchmarks))
			continue
		}
		if !nearAll(st.Samples, tt.want) {
			t.Errorf("%s %s samples = %v, want %v", tt.bench, tt.metric, st.Samples, tt.want)
		}
	}
	if len(benchmarks) != 6 {
		t.Errorf("got %d benchmarks, want 6: %v", len(benchmarks), keysOf(benchmarks))
	}
}

func TestParseBenchmarksRoundsTidiedValues(t *testing.T) {
	benchmarks, _, err := parseBenchmarks([]byte("BenchmarkLogin-2 \t 12\t 86443156 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Without rounding, 86443156 × 1e-9 is 0.08644315600000001.
	if got := benchmarks["BenchmarkLogin"]["sec/op"].Samples[0]; got != 0.086443156 {
		t.Errorf("sample = %v, want exactly 0.086443156", got)
	}
}

func TestParseBenchmarksCustomMetrics(t *testing.T) {
	benchmarks, _, err := parseBenchmarks(readFixture(t, "failed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	http := benchmarks["BenchmarkFirstToken/HTTP"]
	for metric, want := range map[string]float64{
		"p50-ms": 7.61, "p99-ms": 13.1, "reference-p50-ms": 1.35, "reference-p99-ms": 5.37, "hearth-p50-ms": 9.14,
	} {
		if st := http[metric]; st == nil || !near(st.Median, want) {
			t.Errorf("BenchmarkFirstToken/HTTP %s = %+v, want a median of %v", metric, st, want)
		}
	}
	// The failed benchmark has no results, and the ones around it keep
	// theirs.
	if _, ok := benchmarks["BenchmarkRelayPerToken/HTTP"]; ok {
		t.Error("the failed BenchmarkRelayPerToken/HTTP has results")
	}
	if st := benchmarks["BenchmarkStopLatency"]["p99-ms"]; st == nil || !near(st.Median, 0.42) {
		t.Errorf("BenchmarkStopLatency p99-ms = %+v, want 0.42", st)
	}
}

func TestParseBenchmarksMalformedLine(t *testing.T) {
	output := "BenchmarkGood-2 \t 10\t 100 ns/op\nBenchmarkBad-2 \t 10\t 100\n"
	benchmarks, problems, err := parseBenchmarks([]byte(output))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := benchmarks["BenchmarkGood"]; !ok {
		t.Errorf("BenchmarkGood missing: %v", keysOf(benchmarks))
	}
	if len(problems) != 1 || !strings.Contains(problems[0], ":2:") {
		t.Errorf("problems = %q, want one on line 2", problems)
	}
}

func TestFailureLines(t *testing.T) {
	got := failureLines(readFixture(t, "failed.txt"))
	want := []string{
		"--- FAIL: BenchmarkRelayPerToken/HTTP",
		"    agent_bench_test.go:147: the stream had 1999 text deltas, want 2000",
		"--- FAIL: BenchmarkRelayPerToken",
		"FAIL\thearth/app\t612.345s",
	}
	if !slices.Equal(got, want) {
		t.Errorf("failureLines =\n%q\nwant\n%q", got, want)
	}
}

func TestFailureLinesCompileError(t *testing.T) {
	output := "# hearth/memory [hearth/memory.test]\nmemory/x_test.go:3:2: undefined: foo\nFAIL\thearth/memory [build failed]\n"
	got := failureLines([]byte(output))
	want := []string{"# hearth/memory [hearth/memory.test]", "memory/x_test.go:3:2: undefined: foo", "FAIL\thearth/memory [build failed]"}
	if !slices.Equal(got, want) {
		t.Errorf("failureLines = %q, want %q", got, want)
	}
}

func TestFailureLinesBounded(t *testing.T) {
	output := "--- FAIL: BenchmarkX\n" + strings.Repeat("    x_test.go:1: again\n", 100)
	got := failureLines([]byte(output))
	if len(got) != maxFailureLines+1 {
		t.Errorf("kept %d lines, want %d and a last line that says more are in the file", len(got), maxFailureLines+1)
	}
}

func keysOf[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
