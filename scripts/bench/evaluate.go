package main

// figureResult is a figure with its measured values and its status
// against the budget the check applies.
type figureResult struct {
	Figure
	Stat *Stat
	// Reference is the reference's stat, nil when the figure has no
	// reference or it was not measured.
	Reference *Stat
	Status    Status
	// Reason explains a NotMeasured status.
	Reason string
}

// evaluate looks up f's values in r and checks them against f's budget.
// A figure with a budget that was not measured counts as a miss in the
// check, so that nothing looks met without a measurement.
func (r *Results) evaluate(f Figure) figureResult {
	fr := figureResult{Figure: f}
	fr.Stat, fr.Reason = r.lookup(f.Suite, f.Bench, f.Metric)
	if f.Reference != nil {
		fr.Reference, _ = r.lookup(f.Suite, f.Reference.Bench, f.Reference.Metric)
	}
	if f.effectiveBudget().Kind == ReportOnly {
		fr.Status, fr.Reason = Reported, ""
		return fr
	}
	if fr.Stat == nil {
		fr.Status = NotMeasured
		return fr
	}

	var reference *float64
	if fr.Reference != nil {
		reference = &fr.Reference.Median
	}
	fr.Status, fr.Reason = f.effectiveBudget().evaluate(fr.Stat.Median, reference)
	return fr
}

// budgetText returns the budget the check applies, as text.
func (f Figure) budgetText() string {
	return f.effectiveBudget().text(f.Metric, f.referenceLabel())
}

// originalBudgetText returns the budget first set, as text.
func (f Figure) originalBudgetText() string {
	return f.Budget.text(f.Metric, f.referenceLabel())
}

func (f Figure) referenceLabel() string {
	if f.Reference == nil {
		return "reference"
	}
	return f.Reference.Label
}

// limitText returns the bound that a figure with an AtMostReferencePlus
// budget was checked against, such as " (limit 538 ms)", or "" for other
// budgets.
func (fr figureResult) limitText() string {
	b := fr.effectiveBudget()
	if b.Kind != AtMostReferencePlus || fr.Reference == nil {
		return ""
	}
	return " (limit " + formatValue(fr.Reference.Median+b.High, fr.Metric) + ")"
}

// spreadCrossesBudget reports whether the figure's spread, its
// confidence interval or else the range of its runs, has values on both
// sides of a bound of the budget, so that the status could flip with the
// machine's load.
func (fr figureResult) spreadCrossesBudget() bool {
	if fr.Stat == nil {
		return false
	}
	lo, hi := fr.Stat.Min, fr.Stat.Max
	if fr.Stat.CILow != nil && fr.Stat.CIHigh != nil {
		lo, hi = *fr.Stat.CILow, *fr.Stat.CIHigh
	}
	crosses := func(bound float64) bool { return lo < bound && bound < hi }

	b := fr.effectiveBudget()
	switch b.Kind {
	case AtMost:
		return crosses(b.High)
	case AtLeast:
		return crosses(b.Low)
	case Between:
		return crosses(b.Low) || crosses(b.High)
	case AtMostReferencePlus:
		return fr.Reference != nil && crosses(fr.Reference.Median+b.High)
	}
	return false
}

// ratio returns the figure's median divided by its reference's, and
// false when either is missing or the reference is zero.
func (fr figureResult) ratio() (float64, bool) {
	if fr.Stat == nil || fr.Reference == nil || fr.Reference.Median == 0 {
		return 0, false
	}
	return fr.Stat.Median / fr.Reference.Median, true
}
