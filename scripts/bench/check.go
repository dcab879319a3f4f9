package main

import (
	"fmt"
	"io"
)

// checkReport is the number of figures of each status in a check.
type checkReport struct {
	met, missed, notMeasured int
}

// misses counts the figures that missed their budget or were not
// measured.
func (c checkReport) misses() int {
	return c.missed + c.notMeasured
}

// printCheck prints one line for every figure that missed its budget or
// was not measured, then a line with the counts. source names the results
// file for that line.
func printCheck(w io.Writer, r *Results, source string) checkReport {
	var report checkReport
	for _, f := range figures {
		fr := r.evaluate(f)
		switch fr.Status {
		case Met:
			report.met++
			continue
		case Reported:
			continue
		case Missed:
			report.missed++
			revised := ""
			if f.Revised != nil {
				revised = ", revised from " + f.originalBudgetText()
			}
			fmt.Fprintf(w, "missed        %s (%s): %s, budget %s%s%s; suite %s, %s\n",
				f.ID, f.Label, formatStat(fr.Stat, f.Metric), f.budgetText(), fr.limitText(), revised,
				f.Suite, day(r.Suites[f.Suite].Date))
		case NotMeasured:
			report.notMeasured++
			fmt.Fprintf(w, "not measured  %s (%s): %s\n", f.ID, f.Label, fr.Reason)
		}
	}

	budgeted := report.met + report.missed + report.notMeasured
	if report.misses() == 0 {
		fmt.Fprintf(w, "All %d figures with a budget met it, in %s.\n", budgeted, source)
	} else {
		fmt.Fprintf(w, "%d figures have a budget: %d met, %d missed, %d not measured, in %s.\n",
			budgeted, report.met, report.missed, report.notMeasured, source)
	}
	return report
}
