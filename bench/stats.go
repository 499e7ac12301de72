package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// sample is one reading of the delivered-events counter.
type sample struct {
	t time.Time
	v float64
}

// window is the stretch over which Sluice delivered events.
type window struct {
	// Delivered counts every event delivered during the scenario.
	Delivered float64
	// Rate is events per second between the first and the last scrape at
	// which the counter had moved.
	Rate    float64
	Seconds float64
}

// deliveryWindow finds, in samples taken every interval from before the
// load, where delivery started (the first sample above base) and ended (the
// first sample at the final value), and the rate in between. When all
// delivery fits between two scrapes, the window reaches back to the last
// scrape at base instead.
func deliveryWindow(samples []sample, base float64) (window, error) {
	first := -1
	for i, s := range samples {
		if s.v > base {
			first = i
			break
		}
	}
	if first < 0 {
		return window{}, errors.New("the delivered-events counter never moved: nothing reached the destination")
	}
	final := samples[len(samples)-1].v
	last := first
	for i := first; i < len(samples); i++ {
		if samples[i].v >= final {
			last = i
			break
		}
	}
	w := window{Delivered: final - base}
	from, count := samples[first], final-samples[first].v
	if last == first {
		if first == 0 {
			return window{}, errors.New("events were delivered before the load started: no baseline")
		}
		from, count = samples[first-1], w.Delivered
	}
	w.Seconds = samples[last].t.Sub(from.t).Seconds()
	if w.Seconds <= 0 {
		return window{}, fmt.Errorf("empty delivery window")
	}
	w.Rate = count / w.Seconds
	return w, nil
}

// result is one scenario run. Not-applicable numbers are NaN.
type result struct {
	Scenario      string
	EventsPerSec  float64
	MBPerSec      float64
	CPUSeconds    float64
	CPUPerMEvents float64
	PeakRSSMB     float64
	IdleRSSMB     float64
}

func (r result) columns() []float64 {
	return []float64{r.EventsPerSec, r.MBPerSec, r.CPUSeconds, r.CPUPerMEvents, r.PeakRSSMB, r.IdleRSSMB}
}

// median returns the median of the numbers that are not NaN, or NaN.
func median(xs []float64) float64 {
	var s []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianResult folds the runs of one scenario, column by column.
func medianResult(runs []result) result {
	if len(runs) == 0 {
		return result{}
	}
	col := func(f func(result) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	return result{
		Scenario:      runs[0].Scenario,
		EventsPerSec:  col(func(r result) float64 { return r.EventsPerSec }),
		MBPerSec:      col(func(r result) float64 { return r.MBPerSec }),
		CPUSeconds:    col(func(r result) float64 { return r.CPUSeconds }),
		CPUPerMEvents: col(func(r result) float64 { return r.CPUPerMEvents }),
		PeakRSSMB:     col(func(r result) float64 { return r.PeakRSSMB }),
		IdleRSSMB:     col(func(r result) float64 { return r.IdleRSSMB }),
	}
}

var tableHeader = []string{"scenario", "events/s", "MB/s", "CPU s", "CPU s per M events", "peak RSS MB", "idle RSS MB"}

// columnDecimals is how each numeric column is rounded.
var columnDecimals = []int{0, 1, 2, 2, 1, 1}

// writeTable prints rows as a GitHub markdown table, then a row of
// "failed" for each scenario in failed (every run of it failed).
func writeTable(w io.Writer, rows []result, failed []string) error {
	var b strings.Builder
	b.WriteString("| " + strings.Join(tableHeader, " | ") + " |\n")
	b.WriteString("|---" + strings.Repeat("|---:", len(tableHeader)-1) + "|\n")
	for _, r := range rows {
		cells := []string{r.Scenario}
		for i, v := range r.columns() {
			cells = append(cells, formatNumber(v, columnDecimals[i]))
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	for _, name := range failed {
		b.WriteString("| " + name + strings.Repeat(" | failed", len(tableHeader)-1) + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatNumber(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", decimals, v)
}
