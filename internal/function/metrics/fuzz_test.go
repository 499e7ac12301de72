package metrics

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// FuzzApply feeds arbitrary meter names and timer values: Apply must never
// panic or drop, every event counts in the static meter, and the timer
// counts exactly the values that are finite non-negative numbers.
func FuzzApply(f *testing.F) {
	for _, s := range [][2]string{{"web", "12"}, {"", "-1"}, {"a.b", "1e400"}, {"%{x}", "NaN"}, {"\x00", " 3.5 "}, {"x", "0x10"}, {"é", ""}} {
		f.Add(s[0], s[1], int64(len(s[1])))
	}
	f.Fuzz(func(t *testing.T, key, value string, n int64) {
		fn := build(t, "meter: [all, 'm_%{k}']\ntimer: {t: v, u: '%{n}'}\npercentiles: [0, 50, 99.9, 100]", t0)
		ev := event.Event{Time: t0}
		ev.SetString("k", key)
		ev.SetString("v", value)
		ev.SetValue("n", event.Int(n))
		if !fn.Apply(&ev, nil) {
			t.Fatal("dropped")
		}
		ev2 := event.Event{Time: t0}
		ev2.SetString("k", key)
		ev2.SetValue("v", event.Float(float64(n)))
		fn.Apply(&ev2, nil)
		out := fn.flush(t0.Add(time.Minute), true)
		if len(out) != 1 {
			t.Fatalf("%d events", len(out))
		}
		m := out[0]
		if num(t, m, "all.count") != 2 {
			t.Errorf("all.count %v", num(t, m, "all.count"))
		}
		want, fails := 0.0, int64(0)
		if n >= 0 {
			want++ // ev2's float value
		}
		if x, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
			if x >= 0 {
				want++
			}
		} else if strings.TrimSpace(value) != "" {
			fails++
		}
		got := 0.0
		if _, ok := m.Lookup("t.count"); ok {
			got = num(t, m, "t.count")
		}
		if got != want || fn.failures.Value() != fails {
			t.Errorf("value %q, %d: t.count %v want %v, failures %d want %d", value, n, got, want, fn.failures.Value(), fails)
		}
		if n >= 0 && num(t, m, "u.count") != 1 {
			t.Errorf("u.count for %d", n)
		}
		js := fntest.JSON(&m)
		if strings.Contains(js, "null") {
			t.Errorf("non-finite value in %s", js)
		}
	})
}
