package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureSuite runs the benchmarks of fixture_bench_test.go.
func fixtureSuite(bench string) Suite {
	return Suite{
		Name: "fixture", Package: "./scripts/bench", Tags: "benchfixture", Bench: bench,
		Benchtime: "20x", Count: 2, Timeout: 5 * time.Minute,
	}
}

func testRunner(t *testing.T) *runner {
	t.Helper()
	root, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &runner{root: root, outDir: t.TempDir(), machine: testMachine, progress: io.Discard}
}

func TestRunnerCommand(t *testing.T) {
	r := &runner{root: "/src/hearth", outDir: "tmp/bench"}
	tests := []struct {
		suite Suite
		want  string
	}{
		{
			Suite{Name: "auth", Package: "./auth", Bench: "^Benchmark(Login|Verify)$", Benchtime: "1s", Count: 6, Timeout: 20 * time.Minute},
			`go test -run '^$' -bench '^Benchmark(Login|Verify)$' -benchtime=1s -count=6 -timeout=20m ./auth`,
		},
		{
			Suite{Name: "search", Package: "./memory", Bench: "^BenchmarkSearchThreads10k$", Benchtime: "20x", Count: 6, Timeout: 90 * time.Second, Benchmem: true},
			`go test -run '^$' -bench '^BenchmarkSearchThreads10k$' -benchtime=20x -count=6 -timeout=1m30s -benchmem ./memory`,
		},
		{
			Suite{Name: "chat", Package: "./app", Bench: "FirstToken", Benchtime: "100x", Count: 3, Timeout: time.Hour, Profile: &ProfileSpec{}},
			`go test -run '^$' -bench FirstToken -benchtime=100x -count=3 -timeout=1h -cpuprofile tmp/bench/chat.pprof -o tmp/bench/chat.test ./app`,
		},
		{
			Suite{Name: "start", Package: ".", Tags: "benchproc", Bench: "^BenchmarkServeStart$", Benchtime: "1x", Count: 10, Timeout: 30 * time.Minute,
				Binaries: []Binary{{Env: "HEARTH_DESKTOP_BIN", Path: "build/bin/hearth"}}, Env: map[string]string{"HEARTH_NOTE": "two words"}},
			`HEARTH_DESKTOP_BIN=$PWD/build/bin/hearth HEARTH_NOTE='two words' go test -run '^$' -bench '^BenchmarkServeStart$' -tags benchproc -benchtime=1x -count=10 -timeout=30m .`,
		},
	}
	for _, tt := range tests {
		if got := r.command(tt.suite); got != tt.want {
			t.Errorf("command of %s =\n%s\nwant\n%s", tt.suite.Name, got, tt.want)
		}
	}
}

func TestRunSuiteEndToEnd(t *testing.T) {
	r := testRunner(t)
	s := fixtureSuite("^BenchmarkFixture$")
	s.Profile = &ProfileSpec{Keep: []string{"hearth/", "runtime."}, Top: 5}

	res, err := r.runSuite(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != "" || len(res.Failures) > 0 {
		t.Fatalf("suite error %q, failures %q; output in %s", res.Error, res.Failures, r.outputPath(s, ".txt"))
	}

	for _, name := range []string{"BenchmarkFixture/n=10", "BenchmarkFixture/n=1000"} {
		metrics := res.Benchmarks[name]
		if st := metrics["p50-ms"]; st == nil || !slices.Equal(st.Samples, []float64{1.5, 1.5}) {
			t.Errorf("%s p50-ms = %+v, want the samples [1.5 1.5] of -count=2", name, st)
		}
		if st := metrics["sec/op"]; st == nil || len(st.Samples) != 2 || st.Median <= 0 {
			t.Errorf("%s sec/op = %+v, want 2 positive samples", name, st)
		}
	}
	if len(res.Benchmarks) != 2 {
		t.Errorf("got benchmarks %v, want the 2 of BenchmarkFixture", keysOf(res.Benchmarks))
	}

	wantCommand := "go test -run '^$' -bench '^BenchmarkFixture$' -tags benchfixture -benchtime=20x -count=2 -timeout=5m -cpuprofile " +
		filepath.Join(r.outDir, "fixture.pprof") + " -o " + filepath.Join(r.outDir, "fixture.test") + " ./scripts/bench"
	if res.Command != wantCommand {
		t.Errorf("command =\n%s\nwant\n%s", res.Command, wantCommand)
	}
	if res.Machine != testMachine || res.Date.IsZero() || res.ElapsedSeconds < 0 {
		t.Errorf("machine %+v, date %v, elapsed %v s, want the runner's machine, a date and a duration", res.Machine, res.Date, res.ElapsedSeconds)
	}

	output, err := os.ReadFile(r.outputPath(s, ".txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(output), "BenchmarkFixture/n=1000-") {
		t.Errorf("the output file lacks the benchmark lines:\n%s", output)
	}

	if res.Profile == nil {
		t.Fatal("no profile")
	}
	if res.Profile.TotalSeconds <= 0 {
		t.Errorf("profile total = %v s, want more than 0", res.Profile.TotalSeconds)
	}
	if !slices.ContainsFunc(res.Profile.Functions, func(f ProfileFunction) bool { return f.Name == "hearth/scripts/bench.fixtureHash" }) {
		t.Errorf("profile functions = %+v, want hearth/scripts/bench.fixtureHash among them", res.Profile.Functions)
	}
	if !strings.HasPrefix(res.Profile.Command, "go tool pprof -top -cum") {
		t.Errorf("profile command = %q, want a pprof -top -cum command", res.Profile.Command)
	}
}

func TestRunSuiteFailingBenchmark(t *testing.T) {
	r := testRunner(t)
	s := fixtureSuite("^BenchmarkFixture(Fail)?$")
	s.Env = map[string]string{"BENCH_FIXTURE_FAIL": "1"}

	res, err := r.runSuite(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Error, "go test failed (exit status 1)") {
		t.Errorf("error = %q, want one saying go test failed", res.Error)
	}
	for _, want := range []string{"--- FAIL: BenchmarkFixtureFail", "the fixture failed on purpose"} {
		if !slices.ContainsFunc(res.Failures, func(line string) bool { return strings.Contains(line, want) }) {
			t.Errorf("failures %q lack %q", res.Failures, want)
		}
	}
	// The benchmarks that passed keep their results.
	if st := res.Benchmarks["BenchmarkFixture/n=10"]["sec/op"]; st == nil || len(st.Samples) != 2 {
		t.Errorf("BenchmarkFixture/n=10 = %+v, want its 2 samples despite the failure", st)
	}
	if !strings.HasPrefix(res.Command, "BENCH_FIXTURE_FAIL=1 go test ") {
		t.Errorf("command = %q, want it to start with the environment variable", res.Command)
	}
}

func TestRunSuiteMissingBinary(t *testing.T) {
	r := testRunner(t)
	s := fixtureSuite("^BenchmarkFixture$")
	s.Binaries = []Binary{{Env: "FIXTURE_BIN", Path: "build/bin/no-such-binary", Target: "make build/bin/no-such-binary"}}

	res, err := r.runSuite(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	want := "build/bin/no-such-binary missing (`make build/bin/no-such-binary` builds it)"
	if res.Error != want {
		t.Errorf("error = %q, want %q", res.Error, want)
	}
	if len(res.Benchmarks) != 0 {
		t.Errorf("benchmarks = %v, want none", keysOf(res.Benchmarks))
	}
	if _, err := os.Stat(r.outputPath(s, ".txt")); err == nil {
		t.Error("go test ran although a binary was missing")
	}
}

func TestSelectSuites(t *testing.T) {
	all, err := selectSuites("")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.OptIn {
			t.Errorf("the default selection has the opt-in suite %s", s.Name)
		}
	}
	if len(all) != len(suites)-1 {
		t.Errorf("the default selection has %d suites, want every one but recall-1m", len(all))
	}

	// The order is the run order, whatever the order of -only.
	some, err := selectSuites("seal, auth,recall-1m")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range some {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"auth", "seal", "recall-1m"}) {
		t.Errorf("-only seal,auth,recall-1m selected %q, want [auth seal recall-1m]", names)
	}

	if _, err := selectSuites("auth,nosuch"); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
		t.Errorf("selectSuites with an unknown suite = %v, want an error naming it", err)
	}
}

func TestRunCommandUnknownSuite(t *testing.T) {
	var stderr strings.Builder
	if got := run(context.Background(), []string{"run", "-only", "nosuch"}, io.Discard, &stderr); got != 2 {
		t.Errorf("bench run -only nosuch exited with %d, want 2", got)
	}
	if !strings.Contains(stderr.String(), "the suites are auth, seal") {
		t.Errorf("stderr = %q, want the list of suites", stderr.String())
	}
}

// runFixtureSuite runs the run command on a spec of one fixture suite,
// with results, if not nil, as the earlier results file. It returns the
// paths of the results file and the doc, what the command wrote to stderr,
// and its error.
func runFixtureSuite(t *testing.T, results []byte) (out, doc, stderr string, err error) {
	t.Helper()
	savedSuites := suites
	t.Cleanup(func() { suites = savedSuites })
	suites = []Suite{fixtureSuite("^BenchmarkFixture$")}

	dir := t.TempDir()
	out, doc = filepath.Join(dir, "benchmarks.json"), filepath.Join(dir, "BENCHMARKS.md")
	if results != nil {
		if err := os.WriteFile(out, results, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var output strings.Builder
	err = cmdRun(context.Background(), root, []string{"-out", out, "-doc", doc, "-dir", dir}, &output)
	return out, doc, output.String(), err
}

// A template that does not render stops the run before any suite, and
// leaves the results file as it was.
func TestRunCommandChecksTheTemplateFirst(t *testing.T) {
	savedTemplate := docTemplate
	t.Cleanup(func() { docTemplate = savedTemplate })
	docTemplate = "{{suite \"fixture\"}}\n{{fig \"BenchmarkFixture/n=10\"}}\n"

	out, doc, stderr, err := runFixtureSuite(t, nil)
	if err == nil || !strings.Contains(err.Error(), "fix scripts/bench/BENCHMARKS.md.tmpl") {
		t.Fatalf("cmdRun with a broken template = %v, want an error that names the template", err)
	}
	if strings.Contains(stderr, "suite fixture") {
		t.Errorf("a suite ran before the template was checked:\n%s", stderr)
	}
	for _, path := range []string{out, doc} {
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was written: %v", path, err)
		}
	}
}

// A damaged results file stops the run before any suite, and stays as it
// was.
func TestRunCommandStopsOnDamagedResults(t *testing.T) {
	damaged := []byte(`{"format": 1, "suites": {"fixture": null}}`)

	out, doc, stderr, err := runFixtureSuite(t, damaged)
	if err == nil || !strings.Contains(err.Error(), "suite fixture is null") {
		t.Fatalf("cmdRun with a damaged results file = %v, want an error that says what is damaged", err)
	}
	if strings.Contains(stderr, "suite fixture") {
		t.Errorf("a suite ran with a damaged results file:\n%s", stderr)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, damaged) {
		t.Errorf("the results file changed to %q (%v)", got, err)
	}
	if _, err := os.Stat(doc); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s was written: %v", doc, err)
	}
}

// TestRunCommandMergesOnly runs the run command with -only on a spec of
// two fixture suites, and checks that the suite not named keeps its
// earlier results and that the doc is written from the merged results.
func TestRunCommandMergesOnly(t *testing.T) {
	savedSuites, savedTemplate := suites, docTemplate
	t.Cleanup(func() { suites, docTemplate = savedSuites, savedTemplate })
	suites = []Suite{fixtureSuite("^BenchmarkFixture$"), fixtureSuite("^BenchmarkFixtureFail$")}
	suites[1].Name = "earlier"
	docTemplate = "{{suite \"fixture\"}}\n{{fig \"BenchmarkFixture/n=10\" \"p50-ms\"}}\n{{suite \"earlier\"}}\n"

	dir := t.TempDir()
	out, doc := filepath.Join(dir, "benchmarks.json"), filepath.Join(dir, "BENCHMARKS.md")
	earlier := &SuiteResult{Date: testDate, Machine: testMachine, Command: "go test earlier", Benchmarks: map[string]map[string]*Stat{
		"BenchmarkFixtureFail": {"sec/op": stat(0.001, 0.002)},
	}}
	previous := &Results{Format: resultsFormat, Suites: map[string]*SuiteResult{"earlier": earlier}}
	if err := previous.save(out); err != nil {
		t.Fatal(err)
	}

	root, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-only", "fixture", "-out", out, "-doc", doc, "-dir", dir}
	if err := cmdRun(context.Background(), root, args, io.Discard); err != nil {
		t.Fatal(err)
	}

	results, err := loadResults(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := results.Suites["earlier"]; got == nil || got.Command != "go test earlier" || !got.Date.Equal(testDate) {
		t.Errorf("the suite not run = %+v, want its earlier results with their date", got)
	}
	if st, _ := results.lookup("fixture", "BenchmarkFixture/n=10", "p50-ms"); st == nil {
		t.Errorf("the suite that ran has no results: %+v", results.Suites["fixture"])
	}

	text, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Suite `fixture`: `go test -run '^$' -bench '^BenchmarkFixture$'", "\n1.50 ms\n", "Suite `earlier`: `go test earlier`, run on 2026-12-05"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the doc lacks %q:\n%s", want, text)
		}
	}
}
