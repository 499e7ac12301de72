package dynamicsample

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func mustBuild(t testing.TB, yaml string) *fn {
	t.Helper()
	return fntest.Build(t, Spec, yaml).Function.(*fn)
}

// feed sends n events of key k spread over window w (10s windows) and
// returns how many were kept and the sample_rate they carried.
func feed(t *testing.T, f *fn, k string, w, n int) (kept int, rate int64) {
	t.Helper()
	for i := 0; i < n; i++ {
		ev := event.New(base.Add(time.Duration(w)*10*time.Second+time.Duration(i)*time.Millisecond), "m")
		ev.SetString("host.name", k)
		if f.Apply(&ev, nil) {
			kept++
			v, _ := ev.Lookup("sample_rate")
			r := v.Interface().(int64)
			if rate != 0 && r != rate {
				t.Fatalf("key %s window %d: rates %d and %d in one window", k, w, rate, r)
			}
			rate = r
		}
	}
	return kept, rate
}

func TestRates(t *testing.T) {
	cases := []struct {
		mode   string
		extra  string
		counts []int   // events per 10s window
		rates  []int64 // expected rate per window (0: no event kept)
	}{
		// sqrt: 100 → 10, 50 → ceil(7.07)=8; after an empty window → 1.
		{"sqrt", "", []int{100, 50, 8, 0, 40}, []int64{1, 10, 8, 0, 1}},
		// log: ln(1000)=6.9 → 7; ln(31)=3.4 → 4; ln(30)=3.4 → 4.
		{"log", "", []int{1000, 31, 30, 29}, []int64{1, 7, 4, 4}},
		// log10: exact at powers of ten: 1000 → 3, 1001 → 4, 100 → 2.
		{"log10", "", []int{1000, 1001, 100, 5}, []int64{1, 3, 4, 2}},
		// max_rate caps, min_events 0 samples small counts too.
		{"sqrt", "max_rate: 5\nmin_events: 0", []int{1000, 4, 1, 2}, []int64{1, 5, 2, 1}},
	}
	for _, c := range cases {
		t.Run(c.mode+"_"+fmt.Sprint(c.counts), func(t *testing.T) {
			f := mustBuild(t, "window: 10s\nmode: "+c.mode+"\n"+c.extra)
			for w, n := range c.counts {
				kept, rate := feed(t, f, "web", w, n)
				if n == 0 {
					continue
				}
				if rate != c.rates[w] {
					t.Errorf("window %d (%d events): rate %d, want %d", w, n, rate, c.rates[w])
				}
				if want := (n + int(c.rates[w]) - 1) / int(c.rates[w]); kept != want {
					t.Errorf("window %d: kept %d of %d at rate %d, want %d", w, kept, n, c.rates[w], want)
				}
			}
		})
	}
}

func TestSkippedWindowResets(t *testing.T) {
	f := mustBuild(t, "window: 10s\nmode: sqrt\nmin_events: 1")
	feed(t, f, "a", 0, 400)
	if _, rate := feed(t, f, "a", 1, 10); rate != 20 {
		t.Errorf("rate %d after 400 events, want 20", rate)
	}
	// Window 2 has no event: window 3 follows a count of 0.
	if _, rate := feed(t, f, "a", 3, 10); rate != 1 {
		t.Errorf("rate %d after an empty window, want 1", rate)
	}
	// Keys are independent.
	if _, rate := feed(t, f, "b", 3, 10); rate != 1 {
		t.Errorf("new key rate %d", rate)
	}
}

func TestHelpers(t *testing.T) {
	for n := int64(1); n < 200000; n++ {
		if got, want := ceilSqrt(n), int64(math.Ceil(math.Sqrt(float64(n)))); got != want {
			t.Fatalf("ceilSqrt(%d) = %d, want %d", n, got, want)
		}
	}
	for n, want := range map[int64]int64{1: 0, 2: 1, 10: 1, 11: 2, 100: 2, 101: 3, 1e18: 18, math.MaxInt64: 19} {
		if got := ceilLog10(n); got != want {
			t.Errorf("ceilLog10(%d) = %d, want %d", n, got, want)
		}
	}
	if floorDiv(-1, 10) != -1 || floorDiv(-10, 10) != -1 || floorDiv(9, 10) != 0 {
		t.Error("floorDiv")
	}
}

func TestWallClock(t *testing.T) {
	f := mustBuild(t, "window: 10s\nmode: sqrt\nmin_events: 1\nclock: wall")
	now := base
	f.now = func() time.Time { return now }
	ev := func() bool {
		e := event.New(time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), "m") // ignored
		e.SetString("host.name", "a")
		return f.Apply(&e, nil)
	}
	for i := 0; i < 9; i++ {
		ev()
	}
	now = now.Add(10 * time.Second)
	kept := 0
	for i := 0; i < 9; i++ {
		if ev() {
			kept++
		}
	}
	if kept != 3 {
		t.Errorf("kept %d of 9 at rate 3, want 3", kept)
	}
}

func TestMaxKeys(t *testing.T) {
	f := mustBuild(t, "window: 10s\nmode: sqrt\nmin_events: 1\nmax_keys: 2")
	feed(t, f, "a", 0, 100)
	feed(t, f, "b", 0, 100)
	feed(t, f, "c", 1, 1) // forgets a (seen in window 0, least recently)
	if _, rate := feed(t, f, "b", 1, 10); rate != 10 {
		t.Errorf("b rate %d, want 10", rate)
	}
	if _, rate := feed(t, f, "a", 1, 10); rate != 1 {
		t.Errorf("forgotten a rate %d, want 1", rate)
	}
	if n := f.cache.Len(); n != 2 {
		t.Errorf("%d keys", n)
	}
}

// TestConcurrent: with one key at a known rate, exactly ceil(n/rate) events
// of a window are kept whatever the interleaving.
func TestConcurrent(t *testing.T) {
	f := mustBuild(t, "window: 1h\nmode: sqrt\nmin_events: 1")
	evAt := func(w int) event.Event {
		e := event.New(base.Add(time.Duration(w)*time.Hour), "m")
		e.SetString("host.name", "a")
		return e
	}
	for i := 0; i < 100; i++ {
		e := evAt(0)
		f.Apply(&e, nil)
	}
	const workers, per = 8, 1000
	var kept atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				e := evAt(1)
				if f.Apply(&e, nil) {
					kept.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := kept.Load(); got != workers*per/10 {
		t.Errorf("kept %d, want %d", got, workers*per/10)
	}
}

func TestValidation(t *testing.T) {
	cases := []struct{ yaml, key string }{
		{"key: '%{a'", "key"},
		{"mode: ln", "mode"},
		{"window: 0", "window"},
		{"clock: now", "clock"},
		{"min_events: -1", "min_events"},
		{"max_rate: -1", "max_rate"},
		{"max_keys: 0", "max_keys"},
		{"rate_field: '@timestamp'", "rate_field"},
	}
	for _, c := range cases {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
}

func BenchmarkDynamicSample(b *testing.B) {
	for _, keys := range []int{1, 10000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			f := fntest.Build(b, Spec, "")
			evs := make([]event.Event, keys)
			for i := range evs {
				evs[i] = event.NewSized(base, 6)
				evs[i].AppendField("message", event.String("GET / 200"))
				evs[i].AppendField("host.name", event.String(fmt.Sprintf("node-%05d", i)))
			}
			ev := new(event.Event)
			kept := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				*ev = evs[i%keys]
				ev.Time = base.Add(time.Duration(i) * 100 * time.Microsecond) // 300,000 events a window: 1 key at rate 13, 10,000 keys at rate 4
				if f.Apply(ev, nil) {
					kept++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(kept)/float64(b.N), "kept/event")
		})
	}
}
