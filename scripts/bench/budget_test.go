package main

import (
	"slices"
	"testing"
)

func TestNewStatMedianAndInterval(t *testing.T) {
	tests := []struct {
		name             string
		samples          []float64
		median, lo, hi   float64
		wantInterval     bool
		wantMin, wantMax float64
	}{
		// Below 6 runs the 95 % interval of a median is unbounded, so
		// there is none.
		{name: "three runs", samples: []float64{3, 1, 2}, median: 2, wantMin: 1, wantMax: 3},
		{name: "one run", samples: []float64{7}, median: 7, wantMin: 7, wantMax: 7},
		// With 6 runs the interval from the lowest to the highest run
		// covers the median with 96.9 % confidence, the narrowest
		// interval of at least 95 %.
		{name: "six runs", samples: []float64{6, 1, 5, 2, 4, 3}, median: 3.5, lo: 1, hi: 6, wantInterval: true, wantMin: 1, wantMax: 6},
		// With 10 runs the 2nd and 9th lowest runs bound it, at 97.9 %.
		{name: "ten runs", samples: []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, median: 5.5, lo: 2, hi: 9, wantInterval: true, wantMin: 1, wantMax: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			original := slices.Clone(tt.samples)
			st := newStat(tt.samples)
			if st.Median != tt.median {
				t.Errorf("median = %v, want %v", st.Median, tt.median)
			}
			if st.Min != tt.wantMin || st.Max != tt.wantMax {
				t.Errorf("min, max = %v, %v, want %v, %v", st.Min, st.Max, tt.wantMin, tt.wantMax)
			}
			if !slices.Equal(st.Samples, original) {
				t.Errorf("samples = %v, want them in the order of the runs, %v", st.Samples, original)
			}
			if !tt.wantInterval {
				if st.CILow != nil || st.CIHigh != nil {
					t.Errorf("interval = %v–%v, want none", *st.CILow, *st.CIHigh)
				}
				return
			}
			if st.CILow == nil || st.CIHigh == nil {
				t.Fatal("no interval, want one")
			}
			if *st.CILow != tt.lo || *st.CIHigh != tt.hi {
				t.Errorf("interval = %v–%v, want %v–%v", *st.CILow, *st.CIHigh, tt.lo, tt.hi)
			}
			if st.Confidence < confidence {
				t.Errorf("confidence = %v, want at least %v", st.Confidence, confidence)
			}
		})
	}
}

func TestBudgetEvaluate(t *testing.T) {
	ref := func(v float64) *float64 { return &v }
	tests := []struct {
		name      string
		budget    Budget
		median    float64
		reference *float64
		want      Status
	}{
		{"at most, below", atMost(0.010), 0.0098, nil, Met},
		{"at most, equal", atMost(0.010), 0.010, nil, Met},
		{"at most, above", atMost(0.010), 0.0142, nil, Missed},
		{"at least, above", atLeast(2000), 4700, nil, Met},
		{"at least, below", atLeast(2000), 1900, nil, Missed},
		{"between, inside", between(0.1, 0.5), 0.3, nil, Met},
		{"between, at the lower bound", between(0.1, 0.5), 0.1, nil, Met},
		{"between, at the upper bound", between(0.1, 0.5), 0.5, nil, Met},
		{"between, below", between(0.1, 0.5), 0.0418, nil, Missed},
		{"between, above", between(0.1, 0.5), 0.6, nil, Missed},
		{"reference plus, within", atMostReferencePlus(0.1), 0.5, ref(0.438), Met},
		{"reference plus, beyond", atMostReferencePlus(0.1), 0.6, ref(0.438), Missed},
		{"reference plus, no reference", atMostReferencePlus(0.1), 0.5, nil, NotMeasured},
		{"report only", reportOnly(), 1e9, nil, Reported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := tt.budget.evaluate(tt.median, tt.reference)
			if got != tt.want {
				t.Errorf("evaluate(%v) = %q, want %q", tt.median, got, tt.want)
			}
			if (got == NotMeasured) != (reason != "") {
				t.Errorf("reason = %q, want one exactly when the status is %q", reason, NotMeasured)
			}
		})
	}
}

func TestSpreadCrossesBudget(t *testing.T) {
	lo, hi := 0.0642, 0.124
	tests := []struct {
		name   string
		budget Budget
		st     *Stat
		want   bool
	}{
		{"interval across the lower bound", between(0.1, 0.5), &Stat{Samples: make([]float64, 6), Median: 0.109, Min: 0.06, Max: 0.13, CILow: &lo, CIHigh: &hi}, true},
		{"interval inside", between(0.05, 0.5), &Stat{Samples: make([]float64, 6), Median: 0.109, Min: 0.06, Max: 0.13, CILow: &lo, CIHigh: &hi}, false},
		{"range across the bound", atMost(0.010), &Stat{Samples: make([]float64, 3), Median: 0.0098, Min: 0.0094, Max: 0.0110}, true},
		{"range below the bound", atMost(0.010), &Stat{Samples: make([]float64, 3), Median: 0.0098, Min: 0.0094, Max: 0.0099}, false},
		{"range above a lower bound", atLeast(2000), &Stat{Samples: make([]float64, 3), Median: 4700, Min: 4500, Max: 4900}, false},
		{"one run", atMost(0.010), &Stat{Samples: make([]float64, 1), Median: 0.0098, Min: 0.0098, Max: 0.0098}, false},
		{"report only", reportOnly(), &Stat{Samples: make([]float64, 3), Median: 1, Min: 0, Max: 2}, false},
	}
	for _, tt := range tests {
		f := Figure{Metric: "sec/op", Budget: tt.budget}
		fr := figureResult{Figure: f, Stat: tt.st}
		if got := fr.spreadCrossesBudget(); got != tt.want {
			t.Errorf("%s: spreadCrossesBudget = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBudgetText(t *testing.T) {
	tests := []struct {
		budget Budget
		metric string
		want   string
	}{
		{atMost(0.010), "sec/op", "≤ 10 ms"},
		{atMost(20e-6), "sec/op", "≤ 20 µs"},
		{atMost(2000), "p50-µs", "≤ 2 ms"},
		{atMost(30), "p99-ms", "≤ 30 ms"},
		{atMost(0.001), "p99-sec/token", "≤ 1 ms"},
		{atLeast(2000), "msgs/s", "≥ 2,000 messages/s"},
		{atLeast(0.95), "recall@10", "≥ 0.95"},
		{between(0.1, 0.5), "sec/op", "100–500 ms"},
		{atMostReferencePlus(40), "pss-MiB", "≤ bare window + 40 MiB"},
		{atMost(25e6), "B", "≤ 25 MB"},
		{reportOnly(), "rss-MiB", "reported only"},
	}
	for _, tt := range tests {
		if got := tt.budget.text(tt.metric, "bare window"); got != tt.want {
			t.Errorf("text of %+v in %s = %q, want %q", tt.budget, tt.metric, got, tt.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v      float64
		metric string
		want   string
	}{
		{0.0098, "sec/op", "9.80 ms"},
		{0.0142, "sec/op", "14.2 ms"},
		{18.4e-6, "sec/op", "18.4 µs"},
		{1.16e-6, "sec/op", "1.16 µs"},
		{660e-9, "sec/op", "660 ns"},
		{1.08, "sec/op", "1.08 s"},
		{2373, "build-s", "2,370 s"},
		{7.61, "p50-ms", "7.61 ms"},
		{0.236, "p50-ms", "236 µs"},
		{819, "p50-µs", "819 µs"},
		{1560, "p99-µs", "1.56 ms"},
		{11.0e-6, "p50-sec/token", "11.0 µs"},
		{4712, "msgs/s", "4,710 messages/s"},
		{1084, "inserts/s", "1,080 inserts/s"},
		{0.99, "recall@10", "0.990"},
		{1, "recall@10", "1.000"},
		{8.5e6, "B", "8.50 MB"},
		{1.5e6, "B/op", "1.50 MB/op"},
		{880e6, "B/s", "880 MB/s"},
		{3399, "B/vector", "3.40 kB/vector"},
		{18200, "allocs/op", "18,200 allocs/op"},
		{634, "file-MiB", "634 MiB"},
		{9.996, "p50-ms", "10.0 ms"},
		{-0.5, "p50-ms", "-500 µs"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v, tt.metric); got != tt.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", tt.v, tt.metric, got, tt.want)
		}
	}
}

func TestFormatStat(t *testing.T) {
	lo, hi := 0.0095, 0.0103
	tests := []struct {
		st   *Stat
		want string
	}{
		{&Stat{Samples: make([]float64, 6), Median: 0.0098, Min: 0.0094, Max: 0.0110, CILow: &lo, CIHigh: &hi}, "9.80 ms (9.50–10.3)"},
		{&Stat{Samples: make([]float64, 3), Median: 0.0098, Min: 0.0094, Max: 0.0110}, "9.80 ms (range 9.40–11.0)"},
		{&Stat{Samples: make([]float64, 1), Median: 0.0098, Min: 0.0098, Max: 0.0098}, "9.80 ms (1 run)"},
		// Runs that all gave the same value have no spread to show.
		{&Stat{Samples: make([]float64, 3), Median: 0.0098, Min: 0.0098, Max: 0.0098}, "9.80 ms"},
	}
	for _, tt := range tests {
		if got := formatStat(tt.st, "sec/op"); got != tt.want {
			t.Errorf("formatStat(%d samples) = %q, want %q", len(tt.st.Samples), got, tt.want)
		}
	}
}
