package main

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// maxFailureLines bounds the failure lines kept with a suite's results.
const maxFailureLines = 40

// parseBenchmarks reads the Go benchmark format in output and summarises
// each metric of each benchmark over its -count runs. Lines of another
// kind are skipped, and so is a malformed benchmark line, which the
// returned problems name.
func parseBenchmarks(output []byte) (benchmarks map[string]map[string]*Stat, problems []string, err error) {
	samples := map[string]map[string][]float64{}
	r := benchfmt.NewReader(bytes.NewReader(output), "go test output")
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			problems = append(problems, rec.Error())
		case *benchfmt.Result:
			name := nameWithoutProcs(rec.Name)
			if samples[name] == nil {
				samples[name] = map[string][]float64{}
			}
			for _, v := range rec.Values {
				samples[name][v.Unit] = append(samples[name][v.Unit], roundDigits(v.Value))
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, problems, err
	}

	benchmarks = make(map[string]map[string]*Stat, len(samples))
	for name, metrics := range samples {
		benchmarks[name] = make(map[string]*Stat, len(metrics))
		for unit, values := range metrics {
			benchmarks[name][unit] = newStat(values)
		}
	}
	return benchmarks, problems, nil
}

// roundDigits rounds v to 12 significant digits, far more than any
// benchmark's precision. Tidying "ns/op" into seconds multiplies by 1e-9,
// which leaves binary noise such as 0.08644315600000001 that the results
// file would otherwise keep.
func roundDigits(v float64) float64 {
	rounded, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	if err != nil {
		return v
	}
	return rounded
}

// nameWithoutProcs returns a benchmark's full name as go test prints it,
// without the -N suffix that go test adds when GOMAXPROCS is not 1.
// benchfmt stores names without their "Benchmark" prefix.
func nameWithoutProcs(n benchfmt.Name) string {
	base, parts := n.Parts()
	var b strings.Builder
	b.WriteString("Benchmark")
	b.Write(base)
	for _, p := range parts {
		if p[0] == '-' {
			continue
		}
		b.Write(p)
	}
	return b.String()
}

// compileError matches a compiler's "file.go:line:col: message" line.
var compileError = regexp.MustCompile(`^\S+\.go:\d+:\d+: `)

// failureLines returns the lines of go test's output that report what
// failed: each "--- FAIL" line with the indented log lines under it,
// panics, compile errors and the FAIL line of the package. It keeps at
// most maxFailureLines.
func failureLines(output []byte) []string {
	var lines []string
	inFailure := false
	sc := bufio.NewScanner(bytes.NewReader(output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "--- FAIL"):
			inFailure = true
		case inFailure && strings.HasPrefix(line, "    "):
		case strings.HasPrefix(line, "panic:"), strings.HasPrefix(line, "fatal error:"),
			strings.HasPrefix(line, "FAIL\t"), strings.HasPrefix(line, "# "),
			compileError.MatchString(line):
			inFailure = false
		default:
			inFailure = false
			continue
		}
		if len(lines) == maxFailureLines {
			lines = append(lines, "(further lines are in the suite's output file)")
			break
		}
		lines = append(lines, strings.TrimRight(line, " \t"))
	}
	return lines
}
