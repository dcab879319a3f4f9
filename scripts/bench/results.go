package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"slices"
	"time"

	"golang.org/x/perf/benchmath"
)

// resultsFormat is the version of the results file's layout.
const resultsFormat = 1

// confidence is the level of the confidence interval kept for each median.
const confidence = 0.95

// Results is the content of docs/benchmarks.json: the latest results of
// each suite, each with its own date and machine.
type Results struct {
	Format int                     `json:"format"`
	Suites map[string]*SuiteResult `json:"suites"`
}

// SuiteResult is one run of a suite.
type SuiteResult struct {
	Date    time.Time `json:"date"`
	Machine Machine   `json:"machine"`
	// Command is the shell command that ran the suite, from the module
	// root.
	Command        string  `json:"command"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// LoadAverage is the 1-minute load average at the start and at the
	// end of the run, from /proc/loadavg.
	LoadAverage [2]float64 `json:"load_average"`
	// Error explains why the suite has no results, or only some: a
	// missing binary, or go test exiting with an error.
	Error string `json:"error,omitempty"`
	// Failures are the lines of the output that report which benchmark
	// failed and why.
	Failures []string `json:"failures,omitempty"`
	// Benchmarks maps a benchmark's full name, without the GOMAXPROCS
	// suffix, and a metric to its samples.
	Benchmarks map[string]map[string]*Stat `json:"benchmarks"`
	Profile    *Profile                    `json:"profile,omitempty"`
}

// Stat is the samples of one metric of one benchmark, one per -count run,
// and their summary.
type Stat struct {
	Samples []float64 `json:"samples"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	// CILow and CIHigh bound the confidence interval of the median, as
	// benchstat computes it. They are nil when the runs are too few for
	// one: at the 95 % level that takes at least 6.
	CILow      *float64 `json:"ci_low,omitempty"`
	CIHigh     *float64 `json:"ci_high,omitempty"`
	Confidence float64  `json:"ci_level,omitempty"`
}

// newStat summarises samples with benchmath's median and its confidence
// interval, which make no assumption about the distribution.
func newStat(samples []float64) *Stat {
	sorted := slices.Clone(samples)
	summary := benchmath.AssumeNothing.Summary(benchmath.NewSample(sorted, &benchmath.DefaultThresholds), confidence)
	st := &Stat{
		Samples: samples,
		Median:  summary.Center,
		Min:     sorted[0],
		Max:     sorted[len(sorted)-1],
	}
	if !math.IsInf(summary.Lo, 0) && !math.IsInf(summary.Hi, 0) {
		st.CILow, st.CIHigh = &summary.Lo, &summary.Hi
		st.Confidence = summary.Confidence
	}
	return st
}

// loadResults reads the results file at path. A missing file gives empty
// results, since nothing has been measured yet.
func loadResults(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Results{Format: resultsFormat, Suites: map[string]*SuiteResult{}}, nil
	}
	if err != nil {
		return nil, err
	}
	// make bench reads the same file, so the fix restores it or starts
	// afresh.
	fix := fmt.Sprintf("restore it with `git checkout %s`, or delete it and run make bench", path)
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w; %s", path, err, fix)
	}
	if r.Format != resultsFormat {
		return nil, fmt.Errorf("read %s: format %d, want %d; %s", path, r.Format, resultsFormat, fix)
	}
	if r.Suites == nil {
		r.Suites = map[string]*SuiteResult{}
	}
	for name, suite := range r.Suites {
		if suite == nil {
			return nil, fmt.Errorf("read %s: suite %s is null; %s", path, name, fix)
		}
		for bench, metrics := range suite.Benchmarks {
			for metric, st := range metrics {
				if st == nil || len(st.Samples) == 0 {
					return nil, fmt.Errorf("read %s: %s %s of suite %s has no samples; %s", path, bench, metric, name, fix)
				}
			}
		}
	}
	return &r, nil
}

// save writes r to path, indented so that a diff shows what changed.
func (r *Results) save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// merge replaces the suites in fresh and keeps the others, so that a run
// of some suites leaves the earlier results of the rest. A suite that
// failed does not replace earlier results without an error, and its name
// is returned in keptEarlier. Suites that the spec no longer has are
// dropped, and their names returned in dropped.
func (r *Results) merge(fresh map[string]*SuiteResult, known []Suite) (keptEarlier, dropped []string) {
	for name, s := range fresh {
		if earlier, ok := r.Suites[name]; ok && s.Error != "" && earlier.Error == "" {
			keptEarlier = append(keptEarlier, name)
			continue
		}
		r.Suites[name] = s
	}
	for name := range r.Suites {
		if !slices.ContainsFunc(known, func(s Suite) bool { return s.Name == name }) {
			delete(r.Suites, name)
			dropped = append(dropped, name)
		}
	}
	slices.Sort(keptEarlier)
	slices.Sort(dropped)
	return keptEarlier, dropped
}

// lookup returns the stat of bench's metric in suite, or why there is
// none.
func (r *Results) lookup(suite, bench, metric string) (*Stat, string) {
	s, ok := r.Suites[suite]
	if !ok {
		return nil, fmt.Sprintf("suite %s has not been run; `make bench BENCH_ONLY=%s` runs it", suite, suite)
	}
	metrics, ok := s.Benchmarks[bench]
	if !ok {
		if s.Error != "" {
			return nil, s.Error
		}
		return nil, fmt.Sprintf("%s was not in the output of suite %s", bench, suite)
	}
	st, ok := metrics[metric]
	if !ok {
		return nil, fmt.Sprintf("%s reported no %s", bench, metric)
	}
	return st, ""
}

// find returns the stat of bench's metric in whichever suite has it, and
// the suite's name. No two suites run the same benchmark.
func (r *Results) find(bench, metric string) (*Stat, string) {
	for _, name := range slices.Sorted(maps.Keys(r.Suites)) {
		if st, _ := r.lookup(name, bench, metric); st != nil {
			return st, name
		}
	}
	return nil, ""
}
