package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Profile is the part of a suite's CPU profile that the doc shows.
type Profile struct {
	// Command is the pprof command that printed the functions, from the
	// module root.
	Command string `json:"command"`
	// TotalSeconds is the CPU time of the samples the functions are a
	// share of: all samples, or those under Focus.
	TotalSeconds float64           `json:"total_seconds"`
	Focus        string            `json:"focus,omitempty"`
	Functions    []ProfileFunction `json:"functions"`
}

// ProfileFunction is one line of `go tool pprof -top -cum`.
type ProfileFunction struct {
	Name        string  `json:"name"`
	FlatSeconds float64 `json:"flat_seconds"`
	CumSeconds  float64 `json:"cum_seconds"`
	// CumPercent is CumSeconds as a percentage of the profile's
	// TotalSeconds.
	CumPercent float64 `json:"cum_percent"`
}

// pprofArgs returns the arguments of `go tool pprof` that print the top
// functions of profile, read with the test binary that wrote it.
func pprofArgs(spec *ProfileSpec, binary, profile string) []string {
	args := []string{"tool", "pprof", "-top", "-cum", "-nodecount=500"}
	if spec.Focus != "" {
		args = append(args, "-focus="+spec.Focus, "-relative_percentages")
	}
	return append(args, binary, profile)
}

// summariseProfile runs pprof on a suite's profile and keeps the
// functions that spec selects.
func summariseProfile(ctx context.Context, root string, spec *ProfileSpec, binary, profile string) (*Profile, error) {
	args := pprofArgs(spec, binary, profile)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	p, err := parsePprofTop(out, spec)
	if err != nil {
		return nil, err
	}
	p.Focus = spec.Focus
	return p, nil
}

// parsePprofTop reads the output of `go tool pprof -top -cum` and keeps,
// for each prefix of spec.Keep, the spec.Top functions with that prefix
// and the largest cumulative time, in pprof's order, leaving out those
// that match spec.Skip.
func parsePprofTop(out []byte, spec *ProfileSpec) (*Profile, error) {
	var skip *regexp.Regexp
	if spec.Skip != "" {
		var err error
		if skip, err = regexp.Compile(spec.Skip); err != nil {
			return nil, fmt.Errorf("the profile's Skip %q is not a regular expression: %w", spec.Skip, err)
		}
	}
	p := &Profile{}
	kept := make(map[string]int, len(spec.Keep))
	inTable := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if _, rest, ok := strings.Cut(line, "Showing nodes accounting for "); ok {
			// "Showing nodes accounting for 9.50s, 97% of 9.80s total"
			_, total, _ := strings.Cut(rest, " of ")
			seconds, err := pprofSeconds(strings.TrimSuffix(total, " total"))
			if err != nil {
				return nil, fmt.Errorf("read the total of the profile: %w", err)
			}
			p.TotalSeconds = seconds
			continue
		}
		fields := strings.Fields(line)
		if len(fields) >= 5 && fields[0] == "flat" && fields[3] == "cum" {
			inTable = true
			continue
		}
		if !inTable || len(fields) < 6 {
			continue
		}

		name := strings.TrimSuffix(strings.Join(fields[5:], " "), " (inline)")
		prefix := ""
		for _, k := range spec.Keep {
			if strings.HasPrefix(name, k) {
				prefix = k
				break
			}
		}
		if prefix == "" || kept[prefix] >= spec.Top || (skip != nil && skip.MatchString(name)) {
			continue
		}
		flat, err := pprofSeconds(fields[0])
		if err != nil {
			return nil, fmt.Errorf("read the profile line %q: %w", line, err)
		}
		cum, err := pprofSeconds(fields[3])
		if err != nil {
			return nil, fmt.Errorf("read the profile line %q: %w", line, err)
		}
		cumPercent, err := strconv.ParseFloat(strings.TrimSuffix(fields[4], "%"), 64)
		if err != nil {
			return nil, fmt.Errorf("read the profile line %q: %w", line, err)
		}
		p.Functions = append(p.Functions, ProfileFunction{Name: name, FlatSeconds: flat, CumSeconds: cum, CumPercent: cumPercent})
		kept[prefix]++
	}
	if !inTable {
		return nil, fmt.Errorf("the pprof output has no table of functions")
	}
	return p, nil
}

// pprofUnits are the units pprof prints CPU time in.
var pprofUnits = []struct {
	suffix  string
	seconds float64
}{{"hrs", 3600}, {"mins", 60}, {"ms", 1e-3}, {"us", 1e-6}, {"µs", 1e-6}, {"ns", 1e-9}, {"s", 1}}

// pprofSeconds converts a time as pprof prints it, such as "80ms", "1.50s"
// or "2.10mins", to seconds. pprof prints a zero time as "0".
func pprofSeconds(s string) (float64, error) {
	if s == "0" {
		return 0, nil
	}
	for _, u := range pprofUnits {
		if number, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(number, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid time %q", s)
			}
			return v * u.seconds, nil
		}
	}
	return 0, fmt.Errorf("invalid time %q: unknown unit", s)
}
