package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	testDate    = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	testMachine = Machine{CPU: "Test CPU", Cores: 2, MemoryGiB: 23.4, OS: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-test", Go: "go1.26.8"}
)

func stat(samples ...float64) *Stat {
	return newStat(samples)
}

// testResults returns results as a run of some suites leaves them. Store
// is measured, with one figure over budget. Auth was measured a day
// earlier on another kernel. Start has no results because a binary was
// missing, and the other suites never ran.
func testResults() *Results {
	earlier := testMachine
	earlier.Kernel = "6.18.0-test"
	return &Results{Format: resultsFormat, Suites: map[string]*SuiteResult{
		"store": {
			Date: testDate, Machine: testMachine, ElapsedSeconds: 192, LoadAverage: [2]float64{1.05, 1.87},
			Command: "go test -run '^$' -bench '^Benchmark(ThreadsList10k|Store1M|StoreScale)$' -benchtime=100x -count=3 -timeout=60m ./memory",
			Benchmarks: map[string]map[string]*Stat{
				"BenchmarkThreadsList10k":                          {"sec/op": stat(0.0142, 0.0139, 0.0145)},
				"BenchmarkAppendMessage8Writers":                   {"msgs/s": stat(4700, 4500, 4900), "sec/op": stat(212e-6, 222e-6, 204e-6)},
				"BenchmarkAppendFsyncEach8Writers":                 {"msgs/s": stat(2900, 3000, 3100)},
				"BenchmarkStore1M/LastMessages50":                  {"sec/op": stat(317e-6, 320e-6, 310e-6)},
				"BenchmarkStoreScale/messages=10000/ListThreads":   {"sec/op": stat(0.0015, 0.0016, 0.0014)},
				"BenchmarkStoreScale/messages=1000000/ListThreads": {"sec/op": stat(0.15, 0.16, 0.14)},
			},
		},
		"auth": {
			Date: testDate.AddDate(0, 0, -1), Machine: earlier, ElapsedSeconds: 35,
			Command: "go test -run '^$' -bench '^Benchmark(Login|Recover|Verify)$' -benchtime=1s -count=6 -timeout=20m ./auth",
			Benchmarks: map[string]map[string]*Stat{
				"BenchmarkLogin":  {"sec/op": stat(0.0418, 0.0417, 0.0420, 0.0419, 0.0416, 0.0421)},
				"BenchmarkVerify": {"sec/op": stat(18.4e-6, 18.2e-6, 18.9e-6, 18.5e-6, 18.3e-6, 18.6e-6)},
			},
		},
		"start": {
			Date: testDate, Machine: testMachine,
			Command:    "HEARTH_DESKTOP_BIN=$PWD/build/bin/hearth go test -run '^$' -bench '^Benchmark(DesktopStart|ServeStart)$' -tags benchproc -benchtime=1x -count=10 -timeout=30m .",
			Error:      "build/bin/bare-wails missing (`make build/bin/bare-wails` builds it)",
			Benchmarks: map[string]map[string]*Stat{},
		},
	}}
}

func TestResultsSaveAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.json")
	want := testResults()
	if err := want.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := loadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded results differ from the saved ones:\ngot  %+v\nwant %+v", got.Suites["store"], want.Suites["store"])
	}
}

func TestLoadResultsMissingFile(t *testing.T) {
	r, err := loadResults(filepath.Join(t.TempDir(), "benchmarks.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Suites) != 0 {
		t.Errorf("results from a missing file have %d suites, want none", len(r.Suites))
	}
}

func TestLoadResultsOtherFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.json")
	if err := os.WriteFile(path, []byte(`{"format": 99, "suites": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadResults(path)
	if err == nil || !strings.Contains(err.Error(), "format 99") {
		t.Errorf("loadResults of format 99 = %v, want an error naming the format", err)
	}
}

func TestMergeKeepsSuitesNotRun(t *testing.T) {
	r := testResults()
	earlierAuth := r.Suites["auth"]
	freshStore := &SuiteResult{Date: testDate.Add(time.Hour), Machine: testMachine, Benchmarks: map[string]map[string]*Stat{
		"BenchmarkThreadsList10k": {"sec/op": stat(0.0091, 0.0093, 0.0092)},
	}}
	r.Suites["retired"] = &SuiteResult{Date: testDate}

	keptEarlier, dropped := r.merge(map[string]*SuiteResult{"store": freshStore}, suites)

	if r.Suites["store"] != freshStore {
		t.Error("the store suite that ran was not replaced")
	}
	if r.Suites["auth"] != earlierAuth {
		t.Error("the auth suite, which did not run, lost its earlier results")
	}
	if r.Suites["auth"].Date != testDate.AddDate(0, 0, -1) {
		t.Errorf("auth's date = %v, want its own earlier date", r.Suites["auth"].Date)
	}
	if _, ok := r.Suites["retired"]; ok {
		t.Error("a suite that spec.go no longer has was kept")
	}
	if !slices.Equal(dropped, []string{"retired"}) {
		t.Errorf("dropped = %q, want [retired]", dropped)
	}
	if len(keptEarlier) != 0 {
		t.Errorf("keptEarlier = %q, want none: no suite failed", keptEarlier)
	}
}

// A suite that fails keeps its earlier full results, and replaces results
// that were already a failure, so that the doc gives the latest reason.
func TestMergeKeepsResultsOnFailure(t *testing.T) {
	r := testResults()
	earlierStore := r.Suites["store"]
	failedStore := &SuiteResult{Date: testDate.Add(time.Hour), Error: "go test exited with status 1", Benchmarks: map[string]map[string]*Stat{}}
	failedStart := &SuiteResult{Date: testDate.Add(time.Hour), Error: "build/bin/hearth missing", Benchmarks: map[string]map[string]*Stat{}}

	keptEarlier, _ := r.merge(map[string]*SuiteResult{"store": failedStore, "start": failedStart}, suites)

	if r.Suites["store"] != earlierStore {
		t.Error("the failed store suite replaced its earlier results")
	}
	if r.Suites["start"] != failedStart {
		t.Error("the failed start suite did not replace its earlier failure")
	}
	if !slices.Equal(keptEarlier, []string{"store"}) {
		t.Errorf("keptEarlier = %q, want [store]", keptEarlier)
	}
}

func TestLoadResultsDamaged(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"empty", "", "unexpected end of JSON input"},
		{"another format", `{"format": 2, "suites": {}}`, "format 2, want 1"},
		{"a null suite", `{"format": 1, "suites": {"auth": null}}`, "suite auth is null"},
		{"a null metric", `{"format": 1, "suites": {"auth": {"benchmarks": {"BenchmarkLogin": {"sec/op": null}}}}}`, "BenchmarkLogin sec/op of suite auth has no samples"},
		{"a metric without samples", `{"format": 1, "suites": {"auth": {"benchmarks": {"BenchmarkLogin": {"sec/op": {"median": 1}}}}}}`, "BenchmarkLogin sec/op of suite auth has no samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "benchmarks.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := loadResults(path)
			if err == nil {
				t.Fatal("loadResults gave no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if fix := "restore it with `git checkout " + path + "`"; !strings.Contains(err.Error(), fix) {
				t.Errorf("error %q does not say %q", err, fix)
			}
		})
	}
}

func TestLookupReasons(t *testing.T) {
	r := testResults()
	tests := []struct {
		suite, bench, metric string
		want                 string
	}{
		{"chat", "BenchmarkFirstToken/HTTP", "p50-ms", "suite chat has not been run; `make bench BENCH_ONLY=chat` runs it"},
		{"start", "BenchmarkDesktopStart/app", "sec/op", "build/bin/bare-wails missing (`make build/bin/bare-wails` builds it)"},
		{"store", "BenchmarkAppendSomething", "msgs/s", "BenchmarkAppendSomething was not in the output of suite store"},
		{"store", "BenchmarkThreadsList10k", "msgs/s", "BenchmarkThreadsList10k reported no msgs/s"},
	}
	for _, tt := range tests {
		st, reason := r.lookup(tt.suite, tt.bench, tt.metric)
		if st != nil || reason != tt.want {
			t.Errorf("lookup(%s, %s, %s) = %v, %q, want nil, %q", tt.suite, tt.bench, tt.metric, st, reason, tt.want)
		}
	}
}
