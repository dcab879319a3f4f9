package main

import (
	"math"
	"strconv"
	"strings"
)

// display is the scale and the unit of printed values of one metric:
// each is multiplied by factor and followed by suffix.
type display struct {
	factor   float64
	suffix   string
	decimals int // fixed decimals, or -1 for 3 significant figures
}

// durationUnits are the units a duration is printed in, largest first.
var durationUnits = []struct {
	name    string
	seconds float64
}{{"s", 1}, {"ms", 1e-3}, {"µs", 1e-6}, {"ns", 1e-9}}

// secondsPer returns how many seconds one unit of metric is, and false
// when metric is not a duration. The unit is the last dash-separated word
// before any "/": "sec/op" and "build-s" are in seconds, "p50-ms" in
// milliseconds.
func secondsPer(metric string) (float64, bool) {
	numerator, _, _ := strings.Cut(metric, "/")
	word := numerator[strings.LastIndex(numerator, "-")+1:]
	switch word {
	case "sec", "s":
		return 1, true
	case "ms":
		return 1e-3, true
	case "µs", "us":
		return 1e-6, true
	case "ns":
		return 1e-9, true
	}
	return 0, false
}

// displayFor returns how to print values of metric near v. Durations are
// printed in the unit that suits v (µs, ms or s), bytes in decimal
// multiples, recall with three decimals and everything else as it is,
// with 3 significant figures.
func displayFor(metric string, v float64) display {
	if perUnit, ok := secondsPer(metric); ok {
		seconds := math.Abs(v * perUnit)
		for _, u := range durationUnits {
			if seconds >= u.seconds || u.name == "ns" {
				return display{factor: perUnit / u.seconds, suffix: " " + u.name, decimals: -1}
			}
		}
	}

	numerator, denominator, hasDenominator := strings.Cut(metric, "/")
	per := ""
	if hasDenominator {
		per = "/" + denominator
	}
	switch {
	case strings.HasPrefix(metric, "recall@"):
		return display{factor: 1, decimals: 3}
	case numerator == "B" || strings.HasSuffix(numerator, "-B"):
		// benchfmt turns MB into B, so sizes arrive in bytes.
		for _, u := range []struct {
			name  string
			bytes float64
		}{{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}} {
			if math.Abs(v) >= u.bytes {
				return display{factor: 1 / u.bytes, suffix: " " + u.name + per, decimals: -1}
			}
		}
		return display{factor: 1, suffix: " B" + per, decimals: -1}
	case strings.HasSuffix(numerator, "MiB"):
		return display{factor: 1, suffix: " MiB", decimals: -1}
	case metric == "msgs/s":
		return display{factor: 1, suffix: " messages/s", decimals: -1}
	}
	return display{factor: 1, suffix: " " + metric, decimals: -1}
}

// number prints v in d's scale, without the suffix.
func (d display) number(v float64) string {
	if d.decimals >= 0 {
		return strconv.FormatFloat(v*d.factor, 'f', d.decimals, 64)
	}
	return sig3(v * d.factor)
}

// formatValue prints v of metric with its unit, such as "9.80 ms".
func formatValue(v float64, metric string) string {
	d := displayFor(metric, v)
	return d.number(v) + d.suffix
}

// formatBound prints a budget's bound, without trailing zeros: "10 ms".
func formatBound(v float64, metric string) string {
	d := displayFor(metric, v)
	return trimZeros(d.number(v)) + d.suffix
}

// formatRange prints a budget range in the unit of its upper bound, such
// as "100–500 ms".
func formatRange(lo, hi float64, metric string) string {
	d := displayFor(metric, hi)
	return trimZeros(d.number(lo)) + "–" + trimZeros(d.number(hi)) + d.suffix
}

// formatStat prints a median with its spread, such as "9.80 ms
// (9.52–10.3)". The spread is the 95 % confidence interval of the median
// when the runs allow one, and otherwise the range of the runs, marked
// "range". A median of runs that all gave the same value has no spread.
func formatStat(st *Stat, metric string) string {
	d := displayFor(metric, st.Median)
	s := d.number(st.Median) + d.suffix
	switch {
	case len(st.Samples) > 1 && st.Min == st.Max:
		return s
	case st.CILow != nil && st.CIHigh != nil:
		return s + " (" + d.number(*st.CILow) + "–" + d.number(*st.CIHigh) + ")"
	case len(st.Samples) > 1:
		return s + " (range " + d.number(st.Min) + "–" + d.number(st.Max) + ")"
	}
	return s + " (1 run)"
}

// formatRatio prints a ratio such as "0.870×".
func formatRatio(r float64) string {
	return sig3(r) + "×"
}

// sig3 prints x rounded to 3 significant figures, with thousands
// separators from 1,000 on, where it prints no decimals.
func sig3(x float64) string {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	exponent := int(math.Floor(math.Log10(math.Abs(x))))
	scale := math.Pow(10, float64(exponent-2))
	rounded := math.Round(x/scale) * scale
	// Rounding can carry into the next power of ten, as 9.996 does.
	exponent = int(math.Floor(math.Log10(math.Abs(rounded))))
	if exponent >= 3 {
		return groupThousands(int64(rounded))
	}
	return strconv.FormatFloat(rounded, 'f', max(2-exponent, 0), 64)
}

// groupThousands prints n with a comma between groups of three digits.
func groupThousands(n int64) string {
	digits := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// trimZeros removes trailing zeros after a decimal point, and the point
// when nothing follows it.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}
