package main

import (
	"runtime"
	"testing"
	"time"
)

func TestProcessAgeFromProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("/proc/self/stat is Linux's; on %s the start falls back to package initialisation", runtime.GOOS)
	}
	age, err := processAge()
	if err != nil {
		t.Fatalf("processAge: %v", err)
	}
	sinceInit := time.Since(packageInit)

	// The start time is rounded down to a clock tick (10 ms), and the
	// process started before package main was initialised, but not seconds
	// before.
	if lowest := sinceInit - 2*time.Second/clockTicksPerSecond; age < lowest {
		t.Errorf("processAge = %v, want at least %v: package main was initialised %v ago", age, lowest, sinceInit)
	}
	if highest := sinceInit + 5*time.Second; age > highest {
		t.Errorf("processAge = %v, want at most %v: package main was initialised %v ago", age, highest, sinceInit)
	}
}
