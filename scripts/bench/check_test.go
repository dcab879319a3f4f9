package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPrintCheckLines(t *testing.T) {
	var out bytes.Buffer
	report := printCheck(&out, testResults(), "docs/benchmarks.json")
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")

	for _, want := range []string{
		"missed        store.list10k (List 10,000 threads of a profile): 14.2 ms (range 13.9–14.5), budget ≤ 10 ms; suite store, 2026-12-05",
		"missed        auth.signin (Sign-in): 41.9 ms (41.6–42.1), budget 100–500 ms; suite auth, 2026-12-04",
		"not measured  start.desktop (Desktop window, start to the sign-in screen): build/bin/bare-wails missing (`make build/bin/bare-wails` builds it)",
		"not measured  chat.first.p50 (Hearth's share of the first token, p50): suite chat has not been run; `make bench BENCH_ONLY=chat` runs it",
		"19 figures have a budget: 3 met, 2 missed, 14 not measured, in docs/benchmarks.json.",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("the check printed no line\n%s\nin\n%s", want, out.String())
		}
	}
	for _, met := range []string{"store.append8", "store.last50", "auth.verify"} {
		if strings.Contains(out.String(), met) {
			t.Errorf("the check printed %s, which met its budget", met)
		}
	}
	// footprint.rss is reported only, so even unmeasured it is no miss.
	if strings.Contains(out.String(), "footprint.rss") {
		t.Error("the check printed footprint.rss, whose budget is reported only")
	}
	if report.missed != 2 || report.notMeasured != 14 || report.met != 3 {
		t.Errorf("report = %+v, want 3 met, 2 missed, 14 not measured", report)
	}
}

func TestPrintCheckRevisedBudget(t *testing.T) {
	r := testResults()
	r.Suites["footprint"] = &SuiteResult{Date: testDate, Machine: testMachine, Benchmarks: map[string]map[string]*Stat{
		"BenchmarkFootprint/app":  {"pss-MiB": stat(400, 398, 402), "rss-MiB": stat(560, 558, 562)},
		"BenchmarkFootprint/bare": {"pss-MiB": stat(205, 204, 206), "rss-MiB": stat(373, 372, 374)},
		"BenchmarkBinarySize":     {"B": stat(37e6, 37e6, 37e6)},
	}}
	var out bytes.Buffer
	printCheck(&out, r, "docs/benchmarks.json")

	want := "missed        footprint.pss (Desktop window idle, PSS of the process tree): 400 MiB (range 398–402), budget ≤ bare Wails window + 148 MiB (limit 353 MiB), revised from ≤ bare Wails window + 40 MiB; suite footprint, 2026-12-05\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the check printed\n%s\nwant the line\n%s", out.String(), want)
	}
	if strings.Contains(out.String(), "footprint.binary") {
		t.Error("the check printed footprint.binary, which met its revised budget")
	}
}

func TestPrintCheckAllMet(t *testing.T) {
	r := &Results{Format: resultsFormat, Suites: map[string]*SuiteResult{}}
	var out bytes.Buffer
	for _, f := range figures {
		if r.Suites[f.Suite] == nil {
			r.Suites[f.Suite] = &SuiteResult{Date: testDate, Machine: testMachine, Benchmarks: map[string]map[string]*Stat{}}
		}
		b := r.Suites[f.Suite].Benchmarks
		put := func(bench, metric string, v float64) {
			if b[bench] == nil {
				b[bench] = map[string]*Stat{}
			}
			b[bench][metric] = stat(v)
		}
		budget := f.effectiveBudget()
		switch budget.Kind {
		case AtMost, AtMostReferencePlus:
			put(f.Bench, f.Metric, budget.High/2)
		case AtLeast:
			put(f.Bench, f.Metric, budget.Low*2)
		case Between:
			put(f.Bench, f.Metric, (budget.Low+budget.High)/2)
		}
		if f.Reference != nil && b[f.Reference.Bench][f.Reference.Metric] == nil {
			put(f.Reference.Bench, f.Reference.Metric, 0)
		}
	}

	report := printCheck(&out, r, "x.json")
	if report.misses() != 0 {
		t.Errorf("misses = %d, want 0; the check printed\n%s", report.misses(), out.String())
	}
	if got, want := out.String(), "All 19 figures with a budget met it, in x.json.\n"; got != want {
		t.Errorf("the check printed %q, want %q", got, want)
	}
}

func TestCheckCommandExitStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.json")
	if err := testResults().save(path); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"check", "-results", path}, 0},
		{[]string{"check", "-strict", "-results", path}, 1},
		{[]string{"check", "-no-such-flag"}, 2},
	}
	for _, tt := range tests {
		var stdout bytes.Buffer
		if got := run(context.Background(), tt.args, &stdout, io.Discard); got != tt.want {
			t.Errorf("bench %s exited with %d, want %d", strings.Join(tt.args, " "), got, tt.want)
		}
		if tt.want != 2 && !strings.Contains(stdout.String(), "missed        store.list10k") {
			t.Errorf("bench %s printed\n%s\nwant the miss of store.list10k", strings.Join(tt.args, " "), stdout.String())
		}
	}
}

// A figure not measured counts as a miss under -strict, even with no
// budget missed.
func TestCheckCommandStrictNotMeasured(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.json")
	empty := &Results{Format: resultsFormat, Suites: map[string]*SuiteResult{}}
	if err := empty.save(path); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if got := run(context.Background(), []string{"check", "-strict", "-results", path}, &stdout, io.Discard); got != 1 {
		t.Errorf("bench check -strict with nothing measured exited with %d, want 1", got)
	}
	if !strings.Contains(stdout.String(), "not measured  start.desktop") {
		t.Errorf("bench check printed\n%s\nwant start.desktop as not measured", stdout.String())
	}
	if got := run(context.Background(), []string{"check", "-results", path}, io.Discard, io.Discard); got != 0 {
		t.Errorf("bench check without -strict exited with %d, want 0", got)
	}
}
