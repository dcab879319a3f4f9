package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of the start time in
// /proc/PID/stat (proc(5)). Linux fixes it at 100 on x86 and Arm.
const clockTicksPerSecond = 100

// packageInit is the time package main was initialised.
var packageInit = time.Now()

// sinceProcessStart returns how long ago the kernel started this process.
// The dynamic loader and the constructors of the shared libraries that
// WebKitGTK brings, about 170, run before package main is initialised. The
// time since initialisation would leave them out, and they took 50 to 110 ms
// of the bare Wails window's start in the process benchmarks
// (bench_process_test.go). Where /proc is missing, it returns the time since
// initialisation all the same.
func sinceProcessStart() time.Duration {
	if age, err := processAge(); err == nil {
		return age
	}
	return time.Since(packageInit)
}

// processAge returns how long ago the kernel started this process: the time
// since boot in /proc/uptime less the start time since boot in
// /proc/self/stat. Both are in hundredths of a second, so the result is
// within about 10 ms.
func processAge() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may contain spaces,
	// so fields are counted from its closing parenthesis. starttime, field
	// 22, is the 20th after it.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc/self/stat has no command name: %q", stat)
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/self/stat has %d fields after the command name, want at least 20", len(fields))
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/self/stat start time: %w", err)
	}

	uptime, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	upFields := strings.Fields(string(uptime))
	if len(upFields) == 0 {
		return 0, fmt.Errorf("/proc/uptime is empty")
	}
	up, err := strconv.ParseFloat(upFields[0], 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/uptime: %w", err)
	}

	age := time.Duration(up*float64(time.Second)) - time.Duration(ticks)*(time.Second/clockTicksPerSecond)
	// Both values are rounded down, so a process younger than a tick can
	// come out slightly negative.
	return max(age, 0), nil
}
