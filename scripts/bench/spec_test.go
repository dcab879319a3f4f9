package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/perf/benchunit"
)

func TestSuitesValid(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range suites {
		if seen[s.Name] {
			t.Errorf("suite %s appears twice", s.Name)
		}
		seen[s.Name] = true
		if _, err := regexp.Compile(s.Bench); err != nil {
			t.Errorf("suite %s: invalid -bench pattern: %v", s.Name, err)
		}
		if s.Count < 1 || s.Timeout <= 0 || s.Benchtime == "" || s.Package == "" || s.Estimate <= 0 {
			t.Errorf("suite %s: count %d, timeout %v, benchtime %q, package %q, estimate %v; want all set",
				s.Name, s.Count, s.Timeout, s.Benchtime, s.Package, s.Estimate)
		}
		if s.Profile != nil && (len(s.Profile.Keep) == 0 || s.Profile.Top < 1) {
			t.Errorf("suite %s: the profile keeps nothing: %+v", s.Name, s.Profile)
		}
	}
}

func TestFiguresValid(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range figures {
		if seen[f.ID] {
			t.Errorf("figure %s appears twice", f.ID)
		}
		seen[f.ID] = true

		i := slices.IndexFunc(suites, func(s Suite) bool { return s.Name == f.Suite })
		if i < 0 {
			t.Errorf("figure %s: unknown suite %q", f.ID, f.Suite)
			continue
		}
		if suites[i].OptIn {
			t.Errorf("figure %s: suite %s is opt-in, so make bench would never measure it", f.ID, f.Suite)
		}
		if _, ok := areaTitles[f.Area]; !ok {
			t.Errorf("figure %s: area %q has no title", f.ID, f.Area)
		}

		// The reference is looked up in the figure's suite.
		names := []string{f.Bench}
		metrics := []string{f.Metric}
		if f.Reference != nil {
			names = append(names, f.Reference.Bench)
			metrics = append(metrics, f.Reference.Metric)
		}
		pattern := regexp.MustCompile(suites[i].Bench)
		for _, name := range names {
			top, _, _ := strings.Cut(name, "/")
			if !pattern.MatchString(top) {
				t.Errorf("figure %s: suite %s does not run %s", f.ID, f.Suite, top)
			}
		}
		// Results hold metrics as benchfmt tidies them.
		for _, m := range metrics {
			if v, tidied := benchunit.Tidy(1, m); tidied != m || v != 1 {
				t.Errorf("figure %s: metric %q is stored as %q", f.ID, m, tidied)
			}
		}

		for _, b := range []Budget{f.Budget, f.effectiveBudget()} {
			switch {
			case b.Kind == Between && b.Low >= b.High:
				t.Errorf("figure %s: empty range %v–%v", f.ID, b.Low, b.High)
			case b.Kind == AtMostReferencePlus && f.Reference == nil:
				t.Errorf("figure %s: a budget relative to its reference, but no reference", f.ID)
			}
		}
		if f.Revised != nil && (f.Revised.Reason == "" || !strings.HasSuffix(f.Revised.Reason, ".")) {
			t.Errorf("figure %s: the reason %q is not a sentence, which the doc prints it as", f.ID, f.Revised.Reason)
		}
	}
}
