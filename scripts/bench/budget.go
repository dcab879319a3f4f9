package main

import "fmt"

// BudgetKind is the kind of bound that a Budget puts on a figure.
type BudgetKind int

const (
	// ReportOnly figures are shown without a bound and never miss.
	ReportOnly BudgetKind = iota
	AtMost
	AtLeast
	// Between bounds the figure from both sides, inclusive.
	Between
	// AtMostReferencePlus bounds the figure by its reference's median plus
	// a margin, so it needs the reference measured in the same run.
	AtMostReferencePlus
)

// Budget bounds the median of a figure. Low and High are in the figure's
// metric: AtMost and AtMostReferencePlus use High, AtLeast uses Low.
type Budget struct {
	Kind      BudgetKind
	Low, High float64
}

func atMost(x float64) Budget              { return Budget{Kind: AtMost, High: x} }
func atLeast(x float64) Budget             { return Budget{Kind: AtLeast, Low: x} }
func between(lo, hi float64) Budget        { return Budget{Kind: Between, Low: lo, High: hi} }
func atMostReferencePlus(x float64) Budget { return Budget{Kind: AtMostReferencePlus, High: x} }
func reportOnly() Budget                   { return Budget{Kind: ReportOnly} }

// Status is the outcome of checking a figure against its budget.
type Status string

const (
	Met         Status = "met"
	Missed      Status = "missed"
	NotMeasured Status = "not measured"
	// Reported is the status of a figure whose budget is ReportOnly.
	Reported Status = "reported only"
)

// counts reports whether a status counts against the budgets in the check.
func (s Status) counts() bool {
	return s == Missed || s == NotMeasured
}

// evaluate checks median against b. reference is the median of the
// figure's reference, or nil when it was not measured. The reason is set
// when the status is NotMeasured.
func (b Budget) evaluate(median float64, reference *float64) (status Status, reason string) {
	switch b.Kind {
	case ReportOnly:
		return Reported, ""
	case AtMost:
		return metIf(median <= b.High), ""
	case AtLeast:
		return metIf(median >= b.Low), ""
	case Between:
		return metIf(b.Low <= median && median <= b.High), ""
	case AtMostReferencePlus:
		if reference == nil {
			return NotMeasured, "the reference that the budget adds to was not measured"
		}
		return metIf(median <= *reference+b.High), ""
	}
	panic(fmt.Sprintf("unknown budget kind %d", b.Kind))
}

func metIf(ok bool) Status {
	if ok {
		return Met
	}
	return Missed
}

// text returns the budget as the doc and the check print it, such as
// "≤ 10 ms" or "≤ bare Wails window + 100 ms". referenceLabel names the
// reference of AtMostReferencePlus.
func (b Budget) text(metric, referenceLabel string) string {
	switch b.Kind {
	case ReportOnly:
		return "reported only"
	case AtMost:
		return "≤ " + formatBound(b.High, metric)
	case AtLeast:
		return "≥ " + formatBound(b.Low, metric)
	case Between:
		return formatRange(b.Low, b.High, metric)
	case AtMostReferencePlus:
		return "≤ " + referenceLabel + " + " + formatBound(b.High, metric)
	}
	panic(fmt.Sprintf("unknown budget kind %d", b.Kind))
}
