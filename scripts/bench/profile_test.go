package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePprofTop(t *testing.T) {
	spec := &ProfileSpec{Keep: []string{"hearth/", "runtime."}, Top: 3}
	p, err := parsePprofTop(readFixture(t, "pprof-top.txt"), spec)
	if err != nil {
		t.Fatal(err)
	}
	if !near(p.TotalSeconds, 5.4) {
		t.Errorf("total = %v s, want 5.4, the time under the focus", p.TotalSeconds)
	}
	// Three of each prefix, in pprof's order, without "(inline)", and
	// without the testing package, which no prefix selects.
	want := []ProfileFunction{
		{Name: "hearth/app.(*Agent).ReplyStream", FlatSeconds: 0, CumSeconds: 5.4, CumPercent: 100},
		{Name: "hearth/memory.(*Recall).Search", FlatSeconds: 0.01, CumSeconds: 3.9, CumPercent: 72.22},
		{Name: "hearth/memory/vector.(*HNSW).searchLayerLocked", FlatSeconds: 0.2, CumSeconds: 2.6, CumPercent: 48.15},
		{Name: "runtime.mcall", FlatSeconds: 0, CumSeconds: 72, CumPercent: 1333},
		{Name: "runtime.mallocgc", FlatSeconds: 0.03, CumSeconds: 0.5, CumPercent: 9.26},
		{Name: "runtime.memclrNoHeapPointers", FlatSeconds: 500e-6, CumSeconds: 0.04, CumPercent: 0.74},
	}
	if len(p.Functions) != len(want) {
		t.Fatalf("functions = %+v, want %+v", p.Functions, want)
	}
	for i := range want {
		got := p.Functions[i]
		if got.Name != want[i].Name || !near(got.FlatSeconds, want[i].FlatSeconds) ||
			!near(got.CumSeconds, want[i].CumSeconds) || !near(got.CumPercent, want[i].CumPercent) {
			t.Errorf("function %d = %+v, want %+v", i, got, want[i])
		}
	}
}

func TestParsePprofTopSkip(t *testing.T) {
	spec := &ProfileSpec{Keep: []string{"hearth/"}, Top: 3, Skip: `^hearth/memory\.`}
	p, err := parsePprofTop(readFixture(t, "pprof-top.txt"), spec)
	if err != nil {
		t.Fatal(err)
	}
	// The skipped function leaves its place to the next one.
	var got []string
	for _, f := range p.Functions {
		got = append(got, f.Name)
	}
	want := []string{
		"hearth/app.(*Agent).ReplyStream",
		"hearth/memory/vector.(*HNSW).searchLayerLocked",
		"hearth/memory/vector.dot",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("functions = %q, want %q", got, want)
	}
}

func TestParsePprofTopBadSkip(t *testing.T) {
	_, err := parsePprofTop(readFixture(t, "pprof-top.txt"), &ProfileSpec{Keep: []string{"hearth/"}, Top: 3, Skip: "(unclosed"})
	if err == nil || !strings.Contains(err.Error(), "(unclosed") {
		t.Errorf("parsePprofTop with Skip %q = %v, want an error that names it", "(unclosed", err)
	}
}

func TestParsePprofTopWithoutTable(t *testing.T) {
	_, err := parsePprofTop([]byte("File: app.test\nType: cpu\n"), &ProfileSpec{Keep: []string{"hearth/"}, Top: 3})
	if err == nil {
		t.Error("parsePprofTop of output without a table succeeded, want an error")
	}
}

func TestPprofSeconds(t *testing.T) {
	tests := map[string]float64{"0": 0, "80ms": 0.08, "1.50s": 1.5, "2mins": 120, "1.5hrs": 5400, "500us": 500e-6}
	for in, want := range tests {
		got, err := pprofSeconds(in)
		if err != nil || !near(got, want) {
			t.Errorf("pprofSeconds(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	if _, err := pprofSeconds("12parsecs"); err == nil {
		t.Error(`pprofSeconds("12parsecs") succeeded, want an error`)
	}
}

func TestPprofArgs(t *testing.T) {
	got := pprofArgs(&ProfileSpec{Focus: `Agent\)\.ReplyStream`}, "tmp/bench/chat.test", "tmp/bench/chat.pprof")
	want := []string{"tool", "pprof", "-top", "-cum", "-nodecount=500", `-focus=Agent\)\.ReplyStream`, "-relative_percentages", "tmp/bench/chat.test", "tmp/bench/chat.pprof"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pprofArgs = %q, want %q", got, want)
	}
}
