package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runner runs suites with go test from the module root.
type runner struct {
	root string
	// outDir receives each suite's output, profile and test binary. A
	// relative path is relative to root, and the commands keep it so.
	outDir   string
	machine  Machine
	progress io.Writer
}

// outputPath returns the path of one of a suite's files in outDir, as the
// commands name it.
func (r *runner) outputPath(s Suite, ext string) string {
	return filepath.Join(r.outDir, s.Name+ext)
}

// abs returns path, relative to the module root, as an absolute path.
func (r *runner) abs(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(r.root, path)
}

// testArgs returns the arguments of go test for s. Every suite runs with
// -run '^$', so that no test runs with the benchmarks.
func (r *runner) testArgs(s Suite) []string {
	args := []string{"test", "-run", "^$", "-bench", s.Bench}
	if s.Tags != "" {
		args = append(args, "-tags", s.Tags)
	}
	args = append(args, "-benchtime="+s.Benchtime, "-count="+strconv.Itoa(s.Count), "-timeout="+formatTimeout(s.Timeout))
	if s.Benchmem {
		args = append(args, "-benchmem")
	}
	if s.Profile != nil {
		args = append(args, "-cpuprofile", r.outputPath(s, ".pprof"), "-o", r.outputPath(s, ".test"))
	}
	return append(args, s.Package)
}

// command returns the shell command that runs s from the module root,
// as the results and the doc show it.
func (r *runner) command(s Suite) string {
	var parts []string
	for _, b := range s.Binaries {
		parts = append(parts, b.Env+"=$PWD/"+b.Path)
	}
	for _, k := range sortedKeys(s.Env) {
		parts = append(parts, k+"="+shellQuote(s.Env[k]))
	}
	parts = append(parts, "go", shellJoin(r.testArgs(s)))
	return strings.Join(parts, " ")
}

// runSuite runs s and returns its results. A suite that fails, or cannot
// start because a binary is missing, still returns results, with Error
// set. runSuite returns an error only when ctx ends, and then no results,
// since an interrupted suite's figures are incomplete.
func (r *runner) runSuite(ctx context.Context, s Suite) (*SuiteResult, error) {
	start := time.Now()
	res := &SuiteResult{
		Date:        start.UTC().Truncate(time.Second),
		Machine:     r.machine,
		Command:     r.command(s),
		LoadAverage: [2]float64{loadAverage(), 0},
		Benchmarks:  map[string]map[string]*Stat{},
	}
	finish := func() *SuiteResult {
		res.ElapsedSeconds = time.Since(start).Round(time.Second).Seconds()
		res.LoadAverage[1] = loadAverage()
		return res
	}

	env := os.Environ()
	for _, b := range s.Binaries {
		path := r.abs(b.Path)
		if _, err := os.Stat(path); err != nil {
			res.Error = fmt.Sprintf("%s missing (`%s` builds it)", b.Path, b.Target)
			return finish(), nil
		}
		env = append(env, b.Env+"="+path)
	}
	for _, k := range sortedKeys(s.Env) {
		env = append(env, k+"="+s.Env[k])
	}

	if err := os.MkdirAll(r.abs(r.outDir), 0o755); err != nil {
		return nil, err
	}
	outputName := r.outputPath(s, ".txt")
	file, err := os.Create(r.abs(outputName))
	if err != nil {
		return nil, err
	}
	defer file.Close()
	if s.Profile != nil {
		// A profile left by an earlier run must not pass for this one's.
		os.Remove(r.abs(r.outputPath(s, ".pprof")))
	}

	var output bytes.Buffer
	w := io.MultiWriter(file, &output, r.progress)
	cmd := exec.CommandContext(ctx, "go", r.testArgs(s)...)
	cmd.Dir = r.root
	cmd.Env = env
	// One writer for both, so that exec serialises their writes.
	cmd.Stdout, cmd.Stderr = w, w
	interruptGroupOnCancel(cmd)
	cmd.WaitDelay = 30 * time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	benchmarks, problems, err := parseBenchmarks(output.Bytes())
	if err != nil {
		return nil, fmt.Errorf("read the output of suite %s: %w", s.Name, err)
	}
	res.Benchmarks = benchmarks
	if runErr != nil {
		res.Error = fmt.Sprintf("go test failed (%v); its output is in %s", runErr, outputName)
		res.Failures = failureLines(output.Bytes())
	}
	for _, p := range problems {
		res.Failures = append(res.Failures, "malformed benchmark line: "+p)
	}

	if s.Profile != nil {
		profilePath := r.abs(r.outputPath(s, ".pprof"))
		if _, err := os.Stat(profilePath); err == nil {
			profile, err := summariseProfile(ctx, r.root, s.Profile, r.abs(r.outputPath(s, ".test")), profilePath)
			if err != nil {
				res.Failures = append(res.Failures, "profile: "+err.Error())
			} else {
				profile.Command = "go " + shellJoin(pprofArgs(s.Profile, r.outputPath(s, ".test"), r.outputPath(s, ".pprof")))
				res.Profile = profile
			}
		} else if runErr == nil {
			res.Failures = append(res.Failures, "profile: go test wrote no profile to "+r.outputPath(s, ".pprof"))
		}
	}
	return finish(), nil
}

// formatTimeout prints d as go test's -timeout takes it, in whole hours or
// minutes when it is one.
func formatTimeout(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.String()
}

// shellJoin quotes each argument for a POSIX shell where it needs it and
// joins them with spaces.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

// shellQuote returns s in single quotes unless it holds only characters
// that a shell takes literally.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
