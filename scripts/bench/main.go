// Command bench runs Hearth's benchmarks, keeps their results in
// docs/benchmarks.json and writes docs/BENCHMARKS.md from them.
//
//	go run ./scripts/bench run [-only suite,suite] [-out docs/benchmarks.json] [-doc docs/BENCHMARKS.md]
//	go run ./scripts/bench check [-strict] [-results docs/benchmarks.json]
//	go run ./scripts/bench render [-results docs/benchmarks.json] [-doc docs/BENCHMARKS.md]
//
// run runs each suite of spec.go with go test -bench, merges the results
// into the results file and rewrites the doc. check prints every figure
// that missed its budget, from the results file alone. render rewrites
// the doc from the results file. A missed budget fails neither run nor
// check, unless check has -strict.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

const usage = `usage:
  go run ./scripts/bench run [-only suite,suite] [-out docs/benchmarks.json] [-doc docs/BENCHMARKS.md]
  go run ./scripts/bench check [-strict] [-results docs/benchmarks.json]
  go run ./scripts/bench render [-results docs/benchmarks.json] [-doc docs/BENCHMARKS.md]

Relative paths are relative to the module root. Run "go run ./scripts/bench run -h"
for the options of one command.
`

// errUsage is returned for invalid arguments, which exit with status 2.
var errUsage = errors.New("invalid arguments")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run carries out one command and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}

	code := 0
	switch args[0] {
	case "run":
		err = cmdRun(ctx, root, args[1:], stderr)
	case "check":
		code, err = cmdCheck(root, args[1:], stdout, stderr)
	case "render":
		err = cmdRender(root, args[1:], stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "bench: unknown command %q\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return code
}

// cmdRun runs the selected suites, merges their results into the results
// file and rewrites the doc. It returns an error when a suite failed or
// could not start, after writing both files.
func cmdRun(ctx context.Context, root string, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "comma-separated `suites` to run; the others keep their earlier results (default: every suite but the opt-in ones)")
	out := fs.String("out", "docs/benchmarks.json", "results `file` to merge into")
	doc := fs.String("doc", "docs/BENCHMARKS.md", "doc `file` to write")
	dir := fs.String("dir", "tmp/bench", "`directory` for each suite's output, profile and test binary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	selected, err := selectSuites(*only)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return errUsage
	}
	outPath, docPath := inRoot(root, *out), inRoot(root, *doc)
	// Read the earlier results first, so that a damaged file stops the run
	// before it spends an hour.
	results, err := loadResults(outPath)
	if err != nil {
		return err
	}
	// A broken template would otherwise show only after the suites ran.
	if _, err := renderDoc(results, docTemplate); err != nil {
		return fmt.Errorf("render %s: %w; fix scripts/bench/BENCHMARKS.md.tmpl and check it with `go run ./scripts/bench render`, which runs no benchmark", *doc, err)
	}

	r := &runner{root: root, outDir: *dir, machine: readMachine(ctx, root), progress: stderr}
	fresh := map[string]*SuiteResult{}
	var failed []string
	var interrupted error
	for i, s := range selected {
		fmt.Fprintf(stderr, "bench: [%d/%d] suite %s, about %s: %s\n", i+1, len(selected), s.Name, formatElapsed(s.Estimate.Seconds()), r.command(s))
		start := time.Now()
		res, err := r.runSuite(ctx, s)
		if err != nil {
			interrupted = fmt.Errorf("suite %s interrupted after %s: %w", s.Name, formatElapsed(time.Since(start).Seconds()), err)
			break
		}
		fresh[s.Name] = res
		if res.Error != "" {
			failed = append(failed, s.Name)
			fmt.Fprintf(stderr, "bench: suite %s: %s\n", s.Name, res.Error)
		}
		fmt.Fprintf(stderr, "bench: suite %s finished in %s\n", s.Name, formatElapsed(res.ElapsedSeconds))
	}

	keptEarlier, dropped := results.merge(fresh, suites)
	if len(keptEarlier) > 0 {
		fmt.Fprintf(stderr, "bench: kept the earlier results of the suites that failed: %s\n", strings.Join(keptEarlier, ", "))
	}
	if len(dropped) > 0 {
		fmt.Fprintf(stderr, "bench: dropped the results of suites that spec.go no longer has: %s\n", strings.Join(dropped, ", "))
	}
	if err := results.save(outPath); err != nil {
		return err
	}
	if err := writeDoc(results, docPath); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: wrote %s and %s\n", *out, *doc)
	printCheck(stderr, results, *out)

	switch {
	case interrupted != nil:
		return fmt.Errorf("%w; the results of the %d suites that finished are kept", interrupted, len(fresh))
	case len(failed) > 0:
		return fmt.Errorf("suites without full results: %s", strings.Join(failed, ", "))
	}
	return nil
}

// cmdCheck prints the figures that missed their budget. It returns exit
// status 1 when one did and strict is set, and 0 otherwise.
func cmdCheck(root string, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "exit with status 1 when a figure missed its budget or was not measured")
	resultsFile := fs.String("results", "docs/benchmarks.json", "results `file` to read")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	results, err := loadResults(inRoot(root, *resultsFile))
	if err != nil {
		return 0, err
	}
	report := printCheck(stdout, results, *resultsFile)
	if *strict && report.misses() > 0 {
		return 1, nil
	}
	return 0, nil
}

// cmdRender rewrites the doc from the results file.
func cmdRender(root string, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	resultsFile := fs.String("results", "docs/benchmarks.json", "results `file` to read")
	doc := fs.String("doc", "docs/BENCHMARKS.md", "doc `file` to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	results, err := loadResults(inRoot(root, *resultsFile))
	if err != nil {
		return err
	}
	return writeDoc(results, inRoot(root, *doc))
}

// writeDoc renders the doc from results and writes it to path.
func writeDoc(results *Results, path string) error {
	doc, err := renderDoc(results, docTemplate)
	if err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	return os.WriteFile(path, doc, 0o644)
}

// parseFlags parses args with fs, which has printed what is wrong with
// them, and returns errUsage if they are invalid.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "bench %s takes no arguments, got %q\n", fs.Name(), fs.Args())
		return errUsage
	}
	return nil
}

// selectSuites returns the suites named in only, a comma-separated list,
// in the order they run. An empty list selects every suite that is not
// opt-in.
func selectSuites(only string) ([]Suite, error) {
	if only == "" {
		return slices.DeleteFunc(slices.Clone(suites), func(s Suite) bool { return s.OptIn }), nil
	}
	names := map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		name = strings.TrimSpace(name)
		if !slices.ContainsFunc(suites, func(s Suite) bool { return s.Name == name }) {
			return nil, fmt.Errorf("unknown suite %q in -only; the suites are %s", name, suiteNames())
		}
		names[name] = true
	}
	return slices.DeleteFunc(slices.Clone(suites), func(s Suite) bool { return !names[s.Name] }), nil
}

func suiteNames() string {
	var names []string
	for _, s := range suites {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// moduleRoot returns the directory of the main module's go.mod, since the
// suites name their packages relative to it.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside Hearth's module: run this from the repository")
	}
	return filepath.Dir(gomod), nil
}

// inRoot returns path relative to the module root, unless it is absolute.
func inRoot(root, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(root, path)
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
