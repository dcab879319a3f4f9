package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes the computer and the Go toolchain a suite ran on.
type Machine struct {
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	MemoryGiB float64 `json:"memory_gib"`
	OS        string  `json:"os"`
	Kernel    string  `json:"kernel"`
	Go        string  `json:"go"`
}

// String describes m in one line, such as "Intel(R) Xeon(R) Processor,
// 2 cores, 23.4 GiB of memory, Debian GNU/Linux 12 (bookworm), Linux
// 6.1.0, go1.26.8".
func (m Machine) String() string {
	return fmt.Sprintf("%s, %d cores, %.1f GiB of memory, %s, Linux %s, %s",
		m.CPU, m.Cores, m.MemoryGiB, m.OS, m.Kernel, m.Go)
}

// unknown is the value of a Machine field that cannot be read.
const unknown = "unknown"

// readMachine describes this computer from /proc and /etc/os-release, and
// the toolchain from `go env GOVERSION`, which is the Go that builds the
// benchmarks.
func readMachine(ctx context.Context, root string) Machine {
	m := Machine{CPU: unknown, Cores: runtime.NumCPU(), OS: unknown, Kernel: unknown, Go: unknown}

	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if v, ok := firstField(data, "model name", ':'); ok {
			m.CPU = v
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if v, ok := firstField(data, "MemTotal", ':'); ok {
			kib, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
			if err == nil {
				m.MemoryGiB = math.Round(kib/(1<<20)*10) / 10
			}
		}
	}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		if v, ok := firstField(data, "PRETTY_NAME", '='); ok {
			m.OS = strings.Trim(v, `"`)
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}

	cmd := exec.CommandContext(ctx, "go", "env", "GOVERSION")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	return m
}

// firstField returns the value of the first "key<sep>value" line of data.
func firstField(data []byte, key string, sep byte) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), string(sep))
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// loadAverage returns the 1-minute load average, or -1 when
// /proc/loadavg cannot be read.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	first, _, _ := strings.Cut(string(data), " ")
	v, err := strconv.ParseFloat(first, 64)
	if err != nil {
		return -1
	}
	return v
}
