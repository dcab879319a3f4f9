package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// docTemplate is the source of docs/BENCHMARKS.md. The prose lives there,
// and every measured number in it comes from the results through the
// functions of renderer.funcs.
//
//go:embed BENCHMARKS.md.tmpl
var docTemplate string

// renderer renders the doc from one set of results.
type renderer struct {
	results *Results
	// page is the suite result whose machine the page names at its top:
	// the newest. Sections name their own machine only when it differs.
	page *SuiteResult
	// commands shows how each suite that has not run would be run.
	commands *runner
}

func newRenderer(results *Results) *renderer {
	rd := &renderer{results: results, commands: &runner{outDir: "tmp/bench"}}
	// In name order, so that of two suites run in the same second the
	// same one is chosen each time.
	for _, name := range slices.Sorted(maps.Keys(results.Suites)) {
		if s := results.Suites[name]; rd.page == nil || s.Date.After(rd.page.Date) {
			rd.page = s
		}
	}
	return rd
}

// renderDoc executes the template text with results.
func renderDoc(results *Results, text string) ([]byte, error) {
	rd := newRenderer(results)
	t, err := template.New("BENCHMARKS.md.tmpl").Funcs(rd.funcs()).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, nil); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (rd *renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"header":   rd.header,
		"suite":    rd.suite,
		"summary":  rd.summary,
		"figures":  rd.figures,
		"fig":      rd.fig,
		"median":   rd.median,
		"ratio":    rd.ratio,
		"scaled":   rd.scaled,
		"measured": rd.measured,
		"status":   rd.status,
		"curve":    rd.curve,
		"col":      func(header, suffix, metric string) column { return column{header, suffix, metric} },
		"profile":  rd.profile,
	}
}

// checkBench returns an error when no suite's -bench pattern selects the
// top-level benchmark of name, which catches a misspelt name in the
// template that would otherwise always read "not measured".
func checkBench(name string) error {
	top, _, _ := strings.Cut(name, "/")
	for _, s := range suites {
		if regexp.MustCompile(s.Bench).MatchString(top) {
			return nil
		}
	}
	return fmt.Errorf("no suite runs %s: add it to a suite's Bench pattern in spec.go, or fix its name", top)
}

// header describes the machine of the newest results.
func (rd *renderer) header() string {
	if rd.page == nil {
		return "No suite has been run yet."
	}
	var first, last time.Time
	for _, s := range rd.results.Suites {
		if first.IsZero() || s.Date.Before(first) {
			first = s.Date
		}
		if s.Date.After(last) {
			last = s.Date
		}
	}
	dates := "on " + day(last)
	if day(first) != day(last) {
		dates = "between " + day(first) + " and " + day(last)
	}
	return fmt.Sprintf("Machine: %s. The suites ran %s; each section gives its suite's date, and its machine when that is another.", rd.page.Machine, dates)
}

// suite describes how and when a suite ran, and why it has no results
// when it has none.
func (rd *renderer) suite(name string) (string, error) {
	i := slices.IndexFunc(suites, func(s Suite) bool { return s.Name == name })
	if i < 0 {
		return "", fmt.Errorf("unknown suite %q", name)
	}
	res, ok := rd.results.Suites[name]
	if !ok {
		return fmt.Sprintf("Suite `%s` has not been run yet. `make bench BENCH_ONLY=%s` runs\n`%s`.", name, name, rd.commands.command(suites[i])), nil
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Suite `%s`: `%s`, run on %s in %s, with a load average of %.2f at the start and %.2f at the end.",
		name, res.Command, day(res.Date), formatElapsed(res.ElapsedSeconds), res.LoadAverage[0], res.LoadAverage[1])
	if rd.page != nil && res.Machine != rd.page.Machine {
		fmt.Fprintf(&b, " Machine: %s.", res.Machine)
	}
	switch {
	case res.Error != "" && len(res.Benchmarks) == 0:
		fmt.Fprintf(&b, "\n\nNot measured: %s.", res.Error)
	case res.Error != "":
		fmt.Fprintf(&b, "\n\nSome results are missing: %s.", res.Error)
	}
	if len(res.Failures) > 0 {
		lines := res.Failures[:min(len(res.Failures), 10)]
		fmt.Fprintf(&b, "\n\n```\n%s\n```", strings.Join(lines, "\n"))
	}
	return b.String(), nil
}

// summary returns the table of every figure with a budget, followed by
// the budgets that were revised and why.
func (rd *renderer) summary() string {
	var b strings.Builder
	b.WriteString("| Area | Figure | Budget | Median | Reference | Ratio | Status |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, f := range figures {
		fr := rd.results.evaluate(f)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
			areaTitles[f.Area], f.Label, budgetCell(fr), medianCell(fr), referenceCell(fr), ratioCell(fr), statusCell(fr))
	}

	var revised []string
	for _, f := range figures {
		if f.Revised != nil {
			revised = append(revised, fmt.Sprintf("- %s: the budget %s is revised to %s. %s",
				f.Label, f.originalBudgetText(), f.budgetText(), f.Revised.Reason))
		}
	}
	if len(revised) > 0 {
		b.WriteString("\nRevised budgets:\n\n")
		b.WriteString(strings.Join(revised, "\n"))
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// figures returns the table of an area's figures, with the benchmark and
// metric of each.
func (rd *renderer) figures(area string) (string, error) {
	if _, ok := areaTitles[area]; !ok {
		return "", fmt.Errorf("unknown area %q", area)
	}
	var b strings.Builder
	b.WriteString("| Figure | Benchmark | Budget | Median | Reference | Ratio | Status |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, f := range figures {
		if f.Area != area {
			continue
		}
		fr := rd.results.evaluate(f)
		fmt.Fprintf(&b, "| %s | `%s` %s | %s | %s | %s | %s | %s |\n",
			f.Label, f.Bench, f.Metric, budgetCell(fr), medianCell(fr), referenceCell(fr), ratioCell(fr), statusCell(fr))
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func budgetCell(fr figureResult) string {
	if fr.Revised == nil {
		return fr.budgetText()
	}
	return fr.budgetText() + " (revised from " + fr.originalBudgetText() + ")"
}

func medianCell(fr figureResult) string {
	if fr.Stat == nil {
		return string(NotMeasured)
	}
	return formatStat(fr.Stat, fr.Metric)
}

func referenceCell(fr figureResult) string {
	switch {
	case fr.Figure.Reference == nil:
		return ""
	case fr.Reference == nil:
		return fr.Figure.Reference.Label + ": " + string(NotMeasured)
	}
	return fr.Figure.Reference.Label + ": " + formatStat(fr.Reference, fr.Figure.Reference.Metric)
}

func ratioCell(fr figureResult) string {
	if r, ok := fr.ratio(); ok {
		return formatRatio(r)
	}
	return ""
}

func statusCell(fr figureResult) string {
	status := string(fr.Status)
	if fr.Status == Missed {
		status = "**missed**"
	}
	if fr.spreadCrossesBudget() {
		status += ", but the spread crosses the budget"
	}
	return status
}

// fig returns a benchmark's median with its spread, or "not measured".
func (rd *renderer) fig(bench, metric string) (string, error) {
	st, err := rd.stat(bench, metric)
	if err != nil {
		return "", err
	}
	if st == nil {
		return string(NotMeasured), nil
	}
	return formatStat(st, metric), nil
}

// median returns a benchmark's median alone, for prose.
func (rd *renderer) median(bench, metric string) (string, error) {
	st, err := rd.stat(bench, metric)
	if err != nil {
		return "", err
	}
	if st == nil {
		return string(NotMeasured), nil
	}
	return formatValue(st.Median, metric), nil
}

// ratio returns the median of one benchmark divided by another's, such as
// "8.10×", or "not measured".
func (rd *renderer) ratio(bench, metric, otherBench, otherMetric string) (string, error) {
	a, err := rd.stat(bench, metric)
	if err != nil {
		return "", err
	}
	b, err := rd.stat(otherBench, otherMetric)
	if err != nil {
		return "", err
	}
	if a == nil || b == nil || b.Median == 0 {
		return string(NotMeasured), nil
	}
	return formatRatio(a.Median / b.Median), nil
}

// scaled returns a benchmark's median multiplied by factor, for prose
// that derives a figure from it, such as a cost per message.
func (rd *renderer) scaled(bench, metric string, factor float64) (string, error) {
	st, err := rd.stat(bench, metric)
	if err != nil {
		return "", err
	}
	if st == nil {
		return string(NotMeasured), nil
	}
	return formatValue(st.Median*factor, metric), nil
}

// measured reports whether a benchmark's metric has results, for prose
// that only makes sense with them.
func (rd *renderer) measured(bench, metric string) (bool, error) {
	st, err := rd.stat(bench, metric)
	return st != nil, err
}

// stat returns the stat of a benchmark's metric, or nil when it has not
// been measured. It is an error when no suite runs the benchmark, or when
// a suite that ran without error measured it but not that metric: the
// template then names the benchmark or the metric wrongly.
func (rd *renderer) stat(bench, metric string) (*Stat, error) {
	if err := checkBench(bench); err != nil {
		return nil, err
	}
	if st, _ := rd.results.find(bench, metric); st != nil {
		return st, nil
	}
	return nil, rd.checkMetric(bench, metric)
}

// checkMetric returns an error when a suite that ran without error
// measured bench but not metric.
func (rd *renderer) checkMetric(bench, metric string) error {
	for _, name := range slices.Sorted(maps.Keys(rd.results.Suites)) {
		s := rd.results.Suites[name]
		metrics, ok := s.Benchmarks[bench]
		if !ok || s.Error != "" {
			continue
		}
		return fmt.Errorf("%s in suite %s reports %s, not %s: fix the metric's name in the template", bench, name, strings.Join(slices.Sorted(maps.Keys(metrics)), ", "), metric)
	}
	return nil
}

// status returns the status of the figure with id.
func (rd *renderer) status(id string) (string, error) {
	i := slices.IndexFunc(figures, func(f Figure) bool { return f.ID == id })
	if i < 0 {
		return "", fmt.Errorf("unknown figure %q", id)
	}
	return string(rd.results.evaluate(figures[i]).Status), nil
}

// column is one column of a curve: a metric of the benchmark whose name
// is the row's name followed by Suffix.
type column struct {
	Header string
	Suffix string
	Metric string
}

// curve returns a table with one row per name that pattern expands to
// and one column per col. A pattern such as
// "BenchmarkStoreScale/messages={10000,100000}" expands to a name for each
// value in braces, and the row is labelled with the values, numbers with
// thousands separators. When a row's benchmark was measured under a
// longer name, such as ".../n=1000000/dim=256" for ".../n=1000000", the
// row uses it and its label adds the extra part.
func (rd *renderer) curve(rowHeader, pattern string, cols ...column) (string, error) {
	rows := expandBraces(pattern)
	for _, row := range rows {
		if err := checkBench(row.name); err != nil {
			return "", err
		}
	}

	var b strings.Builder
	b.WriteString("| " + rowHeader)
	for _, c := range cols {
		b.WriteString(" | " + c.Header)
	}
	b.WriteString(" |\n|---")
	b.WriteString(strings.Repeat("|---", len(cols)))
	b.WriteString("|\n")

	// A column may not apply to every row, such as a build time to the
	// exact scan, but a column with no figure in any measured row names
	// its metric wrongly.
	columnFilled := make([]bool, len(cols))
	columnError := make([]error, len(cols))
	for _, row := range rows {
		var cells []string
		extra := ""
		for i, c := range cols {
			st, more := rd.findPrefixed(row.name, c.Suffix, c.Metric)
			if more != "" {
				extra = more
			}
			if st == nil {
				if columnError[i] == nil {
					columnError[i] = rd.checkMetric(row.name+c.Suffix, c.Metric)
				}
				cells = append(cells, string(NotMeasured))
			} else {
				columnFilled[i] = true
				cells = append(cells, formatStat(st, c.Metric))
			}
		}
		label := row.label()
		if extra != "" {
			label += " (" + groupNumbers(extra) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", label, strings.Join(cells, " | "))
	}
	for i := range cols {
		if !columnFilled[i] && columnError[i] != nil {
			return "", columnError[i]
		}
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// findPrefixed returns the stat of name+suffix, or else of the one
// measured benchmark named name + "/" + extra + suffix, with extra.
func (rd *renderer) findPrefixed(name, suffix, metric string) (*Stat, string) {
	if st, _ := rd.results.find(name+suffix, metric); st != nil {
		return st, ""
	}
	var found *Stat
	extra := ""
	for _, s := range rd.results.Suites {
		for _, bench := range slices.Sorted(maps.Keys(s.Benchmarks)) {
			rest, ok := strings.CutPrefix(bench, name+"/")
			if !ok || !strings.HasSuffix(rest, suffix) {
				continue
			}
			st := s.Benchmarks[bench][metric]
			if st == nil {
				continue
			}
			if found != nil {
				// Two candidates: the row is ambiguous, so it shows
				// neither.
				return nil, ""
			}
			found, extra = st, strings.TrimSuffix(rest, suffix)
		}
	}
	return found, extra
}

// expansion is one name that a brace pattern expands to, with the values
// chosen from its braces.
type expansion struct {
	name   string
	values []string
}

// label joins the values, with thousands separators in numbers.
func (e expansion) label() string {
	parts := make([]string, len(e.values))
	for i, v := range e.values {
		parts[i] = groupNumbers(v)
	}
	return strings.Join(parts, ", ")
}

var longNumber = regexp.MustCompile(`\d{4,18}`)

// groupNumbers adds thousands separators to the numbers in s, as in
// "n=1,000,000/dim=256".
func groupNumbers(s string) string {
	return longNumber.ReplaceAllStringFunc(s, func(digits string) string {
		n, _ := strconv.ParseInt(digits, 10, 64)
		return groupThousands(n)
	})
}

// expandBraces expands each {a,b,c} in pattern, left to right.
func expandBraces(pattern string) []expansion {
	open := strings.IndexByte(pattern, '{')
	if open < 0 {
		return []expansion{{name: pattern}}
	}
	end := strings.IndexByte(pattern[open:], '}')
	if end < 0 {
		return []expansion{{name: pattern}}
	}
	end += open
	var out []expansion
	for _, alt := range strings.Split(pattern[open+1:end], ",") {
		for _, rest := range expandBraces(pattern[end+1:]) {
			out = append(out, expansion{
				name:   pattern[:open] + alt + rest.name,
				values: append([]string{alt}, rest.values...),
			})
		}
	}
	return out
}

// profile returns the table of a suite's CPU profile, or a sentence saying
// there is none.
func (rd *renderer) profile(name string) (string, error) {
	i := slices.IndexFunc(suites, func(s Suite) bool { return s.Name == name })
	if i < 0 || suites[i].Profile == nil {
		return "", fmt.Errorf("suite %q records no profile", name)
	}
	res, ok := rd.results.Suites[name]
	if !ok || res.Profile == nil {
		return "No profile of this suite has been recorded yet.", nil
	}
	p := res.Profile
	var b strings.Builder
	scope := "all the CPU time of the run"
	if p.Focus != "" {
		scope = fmt.Sprintf("the CPU time of the samples under a function matching `%s`", p.Focus)
	}
	skipped := ""
	if skip := suites[i].Profile.Skip; skip != "" {
		skipped = fmt.Sprintf(", leaving out those that match `%s`", skip)
	}
	fmt.Fprintf(&b, "From `%s`: the functions of %s with the most cumulative CPU time%s. Share is their cumulative time as a percentage of %s, %s.\n\n",
		p.Command, joinCode(suites[i].Profile.Keep), skipped, scope, formatValue(p.TotalSeconds, "sec"))
	b.WriteString("| Function | Flat | Cumulative | Share |\n|---|---|---|---|\n")
	for _, f := range p.Functions {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %.1f %% |\n", f.Name, formatValue(f.FlatSeconds, "sec"), formatValue(f.CumSeconds, "sec"), f.CumPercent)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// joinCode prints names as code, joined with commas and "and".
func joinCode(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "`" + n + "`"
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
}

// day prints the date of t in UTC.
func day(t time.Time) string {
	return t.UTC().Format(time.DateOnly)
}

// formatElapsed prints a duration in seconds as "45 s", "3 min 12 s" or
// "1 h 5 min".
func formatElapsed(seconds float64) string {
	d := time.Duration(seconds) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
}
