package aggregate

import (
	"math"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// FuzzApply feeds arbitrary group values, numbers and timestamps: Apply and
// Flush must never panic, every event is emitted in exactly one aggregate
// or counted late, groups are told apart exactly, and the sum is the sum of
// the values that parse as numbers.
func FuzzApply(f *testing.F) {
	for _, s := range []struct {
		a, b, n string
		off     int64
	}{
		{"web", "db", "12", 0}, {"", "", "-1.5", -1}, {"a\x00", "a", "1e400", 3600e9}, {"x", "x", " 7 ", math.MinInt64},
		{"\xff", "\x00\xff", "9223372036854775807", math.MaxInt64}, {"é", "e", "NaN", 59e9},
	} {
		f.Add(s.a, s.b, s.n, s.off)
	}
	f.Fuzz(func(t *testing.T, a, b, n string, off int64) {
		fn := build(t, "group_by: [g]\naggregations: [{op: count}, {op: sum, field: n}]\nwindow: 1m\nlateness: 0s")
		times := []time.Time{t0.Add(time.Duration(off)), t0, t0.Add(time.Duration(off))}
		groups := []string{a, b, a}
		for i := range times {
			ev := event.Event{Time: times[i]}
			ev.SetString("g", groups[i])
			ev.SetString("n", n)
			fn.Apply(&ev, nil)
		}
		out := fn.flushEvents(t0, false)
		// After that flush, an event is late when its window has closed.
		ev := event.Event{Time: times[0]}
		ev.SetString("g", a)
		fn.Apply(&ev, nil)
		if late := ev.HasTag("_aggregate_late"); late != (fn.windowOf(times[0]) < fn.windowOf(t0)) {
			t.Errorf("event at %v: late %v", times[0], late)
		}
		out = append(out, fn.flushEvents(t0, true)...)
		total := fn.failures.Value()
		seen := map[string]bool{}
		for _, ev := range out {
			c, _ := ev.Get("count")
			total += c.(int64)
			g, _ := ev.GetString("g")
			if g != a && g != b {
				t.Errorf("group %q is neither input", g)
			}
			k := ev.Time.String() + "\x00" + g
			if seen[k] {
				t.Errorf("group %q emitted twice for %v", g, ev.Time)
			}
			seen[k] = true
			v, _ := ev.Get("sum_n")
			switch i, x, isInt, ok := number(event.String(n)); {
			case !ok && v != int64(0):
				t.Errorf("sum of non-number %q = %v", n, v)
			case ok && isInt && c.(int64) == 1 && v != i:
				t.Errorf("sum of %q = %v", n, v)
			case ok && !isInt && c.(int64) == 1 && v != x:
				t.Errorf("sum of %q = %v", n, v)
			}
		}
		if total != 4 {
			t.Errorf("%d events accounted for, want 4", total)
		}
	})
}
