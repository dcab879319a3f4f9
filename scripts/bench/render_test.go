package main

import (
	"slices"
	"strings"
	"testing"
)

func renderLines(t *testing.T, r *Results, text string) []string {
	t.Helper()
	doc, err := renderDoc(r, text)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(doc), "\n")
}

func TestRenderSummaryRows(t *testing.T) {
	lines := renderLines(t, testResults(), "{{summary}}")

	for _, want := range []string{
		"| Area | Figure | Budget | Median | Reference | Ratio | Status |",
		"| Store | List 10,000 threads of a profile | ≤ 10 ms | 14.2 ms (range 13.9–14.5) |  |  | **missed** |",
		"| Store | Last 50 messages of a thread, 1,000,000-message store | ≤ 2 ms | 317 µs (range 310–320) |  |  | met |",
		"| Store | Durable appends, 8 writers | ≥ 2,000 messages/s | 4,700 messages/s (range 4,500–4,900) | one fsync per message: 3,000 messages/s (range 2,900–3,100) | 1.57× | met |",
		"| Sign-in and tokens | Token check per request | ≤ 20 µs | 18.5 µs (18.2–18.9) |  |  | met |",
		// A suite that could not run, and one that never ran.
		"| Start | Desktop window, start to the sign-in screen | ≤ 400 ms | not measured | bare Wails window: not measured |  | not measured |",
		"| Footprint | Desktop window idle, PSS of the process tree | ≤ bare Wails window + 148 MiB (revised from ≤ bare Wails window + 40 MiB) | not measured | bare Wails window: not measured |  | not measured |",
		"| Chat | Hearth's share of the first token, p50 | ≤ 10 ms | not measured | fake Ollama alone: not measured |  | not measured |",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("the summary has no row\n%s\nin\n%s", want, strings.Join(lines, "\n"))
		}
	}

	rows := 0
	for _, line := range lines {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| Area") {
			rows++
		}
	}
	if rows != len(figures) {
		t.Errorf("the summary has %d rows, want one per figure, %d", rows, len(figures))
	}
	if !slices.ContainsFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "- Desktop window idle, PSS of the process tree: the budget ≤ bare Wails window + 40 MiB is revised to ≤ bare Wails window + 148 MiB. Recall keeps every vector")
	}) {
		t.Error("the summary does not say why the footprint budget was revised")
	}
}

func TestRenderSuiteProvenance(t *testing.T) {
	r := testResults()
	doc, err := renderDoc(r, `{{header}}
{{suite "store"}}
{{suite "auth"}}
{{suite "start"}}
{{suite "chat"}}`)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, want := range []string{
		// The page names the machine of the newest results.
		"Machine: Test CPU, 2 cores, 23.4 GiB of memory, Debian GNU/Linux 12 (bookworm), Linux 6.1.0-test, go1.26.8. The suites ran between 2026-12-04 and 2026-12-05",
		"Suite `store`: `go test -run '^$' -bench '^Benchmark(ThreadsList10k|Store1M|StoreScale)$' -benchtime=100x -count=3 -timeout=60m ./memory`, run on 2026-12-05 in 3 min 12 s, with a load average of 1.05 at the start and 1.87 at the end.\n",
		// auth ran on another kernel, so its section names its machine.
		"run on 2026-12-04 in 35 s, with a load average of 0.00 at the start and 0.00 at the end. Machine: Test CPU, 2 cores, 23.4 GiB of memory, Debian GNU/Linux 12 (bookworm), Linux 6.18.0-test, go1.26.8.",
		"Not measured: build/bin/bare-wails missing (`make build/bin/bare-wails` builds it).",
		"Suite `chat` has not been run yet. `make bench BENCH_ONLY=chat` runs\n`go test -run '^$' -bench '^Benchmark(FirstToken|RelayPerToken|StopLatency)$'",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the doc lacks\n%s\nin\n%s", want, text)
		}
	}
	if strings.Contains(text, "Suite `store`: `go test -run '^$' -bench '^Benchmark(ThreadsList10k|Store1M|StoreScale)$' -benchtime=100x -count=3 -timeout=60m ./memory`, run on 2026-12-05 in 3 min 12 s, with a load average of 1.05 at the start and 1.87 at the end. Machine:") {
		t.Error("the store section names its machine, which is the page's")
	}
}

func TestRenderFailedSuite(t *testing.T) {
	r := testResults()
	r.Suites["chat"] = &SuiteResult{
		Date: testDate, Machine: testMachine, Command: "go test ./app",
		Error:    "go test failed (exit status 1); its output is in tmp/bench/chat.txt",
		Failures: []string{"--- FAIL: BenchmarkRelayPerToken/HTTP", "    agent_bench_test.go:147: the stream had 1999 text deltas, want 2000"},
		Benchmarks: map[string]map[string]*Stat{
			"BenchmarkFirstToken/HTTP": {"p50-ms": stat(7.61, 7.58, 7.63), "reference-p50-ms": stat(1.35, 1.27, 1.36)},
		},
	}
	doc, err := renderDoc(r, "{{suite \"chat\"}}\n{{figures \"chat\"}}")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, want := range []string{
		"Some results are missing: go test failed (exit status 1); its output is in tmp/bench/chat.txt.",
		"```\n--- FAIL: BenchmarkRelayPerToken/HTTP\n    agent_bench_test.go:147: the stream had 1999 text deltas, want 2000\n```",
		"| Hearth's share of the first token, p50 | `BenchmarkFirstToken/HTTP` p50-ms | ≤ 10 ms | 7.61 ms (range 7.58–7.63) | fake Ollama alone: 1.35 ms (range 1.27–1.36) | 5.64× | met |",
		"| Hearth's share per streamed token, p99 | `BenchmarkRelayPerToken/HTTP` p99-sec/token | ≤ 1 ms | not measured | fake Ollama alone: not measured |  | not measured |",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the doc lacks\n%s\nin\n%s", want, text)
		}
	}
}

func TestRenderFigureFunctions(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{`{{fig "BenchmarkThreadsList10k" "sec/op"}}`, "14.2 ms (range 13.9–14.5)"},
		{`{{median "BenchmarkThreadsList10k" "sec/op"}}`, "14.2 ms"},
		{`{{fig "BenchmarkLastMessages" "sec/op"}}`, "not measured"},
		{`{{scaled "BenchmarkThreadsList10k" "sec/op" 0.0001}}`, "1.42 µs"},
		{`{{ratio "BenchmarkAppendMessage8Writers" "msgs/s" "BenchmarkAppendFsyncEach8Writers" "msgs/s"}}`, "1.57×"},
		{`{{ratio "BenchmarkAppendMessage8Writers" "msgs/s" "BenchmarkLastMessages" "sec/op"}}`, "not measured"},
		{`{{measured "BenchmarkThreadsList10k" "sec/op"}} {{measured "BenchmarkLastMessages" "sec/op"}}`, "true false"},
		{`{{status "store.list10k"}}, {{status "store.last50"}}, {{status "chat.first.p50"}}, {{status "footprint.rss"}}`, "missed, met, not measured, reported only"},
	}
	for _, tt := range tests {
		doc, err := renderDoc(testResults(), tt.text)
		if err != nil {
			t.Errorf("%s: %v", tt.text, err)
			continue
		}
		if string(doc) != tt.want {
			t.Errorf("%s = %q, want %q", tt.text, doc, tt.want)
		}
	}
}

func TestRenderRejectsUnknownNames(t *testing.T) {
	for _, text := range []string{
		`{{fig "BenchmarkThreadList10k" "sec/op"}}`,
		`{{curve "n" "BenchmarkNoSuch/n={1,2}" (col "p50" "" "p50-µs")}}`,
		`{{status "store.nosuch"}}`,
		`{{suite "nosuch"}}`,
		`{{figures "nosuch"}}`,
		`{{profile "auth"}}`,
		// Metrics that the measured benchmarks do not report.
		`{{fig "BenchmarkThreadsList10k" "ns/op"}}`,
		`{{median "BenchmarkThreadsList10k" "p50-ms"}}`,
		`{{scaled "BenchmarkThreadsList10k" "ns/op" 2}}`,
		`{{measured "BenchmarkThreadsList10k" "ns/op"}}`,
		`{{ratio "BenchmarkAppendMessage8Writers" "msgs/s" "BenchmarkAppendFsyncEach8Writers" "msg/s"}}`,
		`{{curve "Messages" "BenchmarkStoreScale/messages={10000,1000000}" (col "List" "/ListThreads" "ns/op")}}`,
	} {
		if _, err := renderDoc(testResults(), text); err == nil {
			t.Errorf("%s rendered, want an error", text)
		}
	}
}

// A curve's column may apply to only some rows, and a suite that failed
// leaves its figures not measured without an error.
func TestRenderColumnForSomeRows(t *testing.T) {
	r := testResults()
	r.Suites["recall-graph"] = &SuiteResult{Date: testDate, Machine: testMachine, Benchmarks: map[string]map[string]*Stat{
		"BenchmarkRecallCompare/n=100000/exact": {"p50-µs": stat(11900, 11800, 12000)},
		"BenchmarkRecallCompare/n=100000/hnsw":  {"p50-µs": stat(458, 454, 464), "build-s": stat(120, 118, 121)},
	}}
	r.Suites["start"].Benchmarks["BenchmarkDesktopStart/app"] = map[string]*Stat{"sec/op": stat(0.3, 0.31, 0.32)}

	lines := renderLines(t, r, `{{curve "Index" "BenchmarkRecallCompare/n=100000/{exact,hnsw}" (col "p50" "" "p50-µs") (col "Build" "" "build-s")}}
{{fig "BenchmarkDesktopStart/app" "rss-MiB"}}`)

	want := []string{
		"| Index | p50 | Build |",
		"|---|---|---|",
		"| exact | 11.9 ms (range 11.8–12.0) | not measured |",
		"| hnsw | 458 µs (range 454–464) | 120 s (range 118–121) |",
		"not measured",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("render =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestRenderCurve(t *testing.T) {
	r := testResults()
	r.Suites["recall-graph"] = &SuiteResult{Date: testDate, Machine: testMachine, Benchmarks: map[string]map[string]*Stat{
		"BenchmarkRecallScale/n=10000":           {"p50-µs": stat(460, 455, 470)},
		"BenchmarkRecallScale/n=1000000/dim=256": {"p50-µs": stat(1470, 1460, 1480)},
	}}

	lines := renderLines(t, r, `{{curve "Messages" "BenchmarkStoreScale/messages={10000,100000,1000000}" (col "Last 50" "/LastMessages50" "sec/op") (col "List" "/ListThreads" "sec/op")}}
{{curve "Vectors" "BenchmarkRecallScale/n={10000,100000,1000000}" (col "p50" "" "p50-µs")}}`)

	want := []string{
		"| Messages | Last 50 | List |",
		"|---|---|---|",
		"| 10,000 | not measured | 1.50 ms (range 1.40–1.60) |",
		"| 100,000 | not measured | not measured |",
		"| 1,000,000 | not measured | 150 ms (range 140–160) |",
		"| Vectors | p50 |",
		"|---|---|",
		"| 10,000 | 460 µs (range 455–470) |",
		"| 100,000 | not measured |",
		// Measured under a longer name, whose extra part the label shows.
		"| 1,000,000 (dim=256) | 1.47 ms (range 1.46–1.48) |",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("curves =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestExpandBraces(t *testing.T) {
	got := expandBraces("BenchmarkCoderHNSW/{clustered,random}/n=10000/{exact,hearth}")
	var names, labels []string
	for _, e := range got {
		names = append(names, e.name)
		labels = append(labels, e.label())
	}
	wantNames := []string{
		"BenchmarkCoderHNSW/clustered/n=10000/exact", "BenchmarkCoderHNSW/clustered/n=10000/hearth",
		"BenchmarkCoderHNSW/random/n=10000/exact", "BenchmarkCoderHNSW/random/n=10000/hearth",
	}
	wantLabels := []string{"clustered, exact", "clustered, hearth", "random, exact", "random, hearth"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("names = %q, want %q", names, wantNames)
	}
	if !slices.Equal(labels, wantLabels) {
		t.Errorf("labels = %q, want %q", labels, wantLabels)
	}
}

func TestRenderProfile(t *testing.T) {
	r := testResults()
	r.Suites["chat"] = &SuiteResult{Date: testDate, Machine: testMachine, Benchmarks: map[string]map[string]*Stat{},
		Profile: &Profile{
			Command: "go tool pprof -top -cum x.test x.pprof", TotalSeconds: 5.4, Focus: `Agent\)\.ReplyStream`,
			Functions: []ProfileFunction{{Name: "hearth/memory.(*Recall).Search", FlatSeconds: 0.01, CumSeconds: 3.9, CumPercent: 72.22}},
		}}
	doc, err := renderDoc(r, `{{profile "chat"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "| `hearth/memory.(*Recall).Search` | 10.0 ms | 3.90 s | 72.2 % |") {
		t.Errorf("the profile table lacks the Search row:\n%s", doc)
	}
	if !strings.Contains(string(doc), "5.40 s") {
		t.Errorf("the profile does not give its total CPU time:\n%s", doc)
	}
}

// TestRenderTemplate renders the doc's own template with no results and
// with the test results, which fails on a misspelt benchmark, figure or
// suite in it.
func TestRenderTemplate(t *testing.T) {
	empty := &Results{Format: resultsFormat, Suites: map[string]*SuiteResult{}}
	for name, r := range map[string]*Results{"no results": empty, "some results": testResults()} {
		doc, err := renderDoc(r, docTemplate)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(string(doc), "## Summary") {
			t.Errorf("%s: the doc has no summary", name)
		}
	}
}

func TestRenderStatusSpreadCrossesBudget(t *testing.T) {
	r := testResults()
	r.Suites["auth"].Benchmarks["BenchmarkLogin"]["sec/op"] = stat(0.121, 0.0642, 0.0806, 0.108, 0.110, 0.124)
	lines := renderLines(t, r, `{{figures "auth"}}`)
	want := "| Sign-in | `BenchmarkLogin` sec/op | 100–500 ms | 109 ms (64.2–124) |  |  | met, but the spread crosses the budget |"
	if !slices.Contains(lines, want) {
		t.Errorf("the auth table lacks the row\n%s\nin\n%s", want, strings.Join(lines, "\n"))
	}
}
