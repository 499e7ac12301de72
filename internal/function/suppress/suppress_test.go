package suppress

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

var base = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func mustBuild(t testing.TB, yaml string) *fn {
	t.Helper()
	return fntest.Build(t, Spec, yaml).Function.(*fn)
}

// step is one event of a table test: its key and time (seconds after
// base), whether it passes and the suppressed_count it must carry.
type step struct {
	key   string
	sec   float64
	pass  bool
	count int64
}

func run(t *testing.T, f component.Function, steps []step) {
	t.Helper()
	for i, s := range steps {
		ev := event.New(base.Add(time.Duration(s.sec*float64(time.Second))), "m")
		ev.SetString("k", s.key)
		pass := f.Apply(&ev, nil)
		var count int64
		if v, ok := ev.Lookup("suppressed_count"); ok {
			count = v.Interface().(int64)
		}
		if pass != s.pass || count != s.count {
			t.Errorf("step %d (%s at %+vs): pass=%v count=%d, want pass=%v count=%d", i, s.key, s.sec, pass, count, s.pass, s.count)
		}
	}
}

func TestWindows(t *testing.T) {
	cases := []struct {
		name, config string
		steps        []step
	}{
		{"default: one per 30s", "key: '%{k}'", []step{
			{"a", 0, true, 0}, {"a", 1, false, 0}, {"a", 29.999, false, 0},
			{"a", 30, true, 2}, // the window is [0s,30s)
			{"a", 45, false, 0}, {"a", 59.9, false, 0},
			{"a", 60, true, 2}, {"a", 200, true, 0},
		}},
		{"keys are independent", "key: '%{k}'\nallow: 1\nwindow: 10s", []step{
			{"a", 0, true, 0}, {"b", 1, true, 0}, {"a", 2, false, 0}, {"b", 3, false, 0}, {"c", 4, true, 0},
			{"a", 10, true, 1}, {"b", 10, false, 0}, {"b", 11, true, 2},
		}},
		{"allow 3", "key: '%{k}'\nallow: 3\nwindow: 1m", []step{
			{"a", 0, true, 0}, {"a", 1, true, 0}, {"a", 2, true, 0}, {"a", 3, false, 0}, {"a", 4, false, 0},
			{"a", 61, true, 2}, {"a", 62, true, 0}, {"a", 63, true, 0}, {"a", 64, false, 0}, {"a", 125, true, 1},
		}},
		{"late events", "key: '%{k}'\nwindow: 10s", []step{
			{"a", 100, true, 0},
			{"a", 95, false, 0},   // late, within a window of the start: counts in it
			{"a", 90.5, false, 0}, // still less than a window before the start
			{"a", 90, true, 2},    // a full window older: a replay, opens a new window
			{"a", 99, false, 0},
			{"a", 100, true, 1},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, mustBuild(t, c.config), c.steps) })
	}
}

func TestWallClock(t *testing.T) {
	f := mustBuild(t, "key: '%{k}'\nwindow: 10s\nclock: wall")
	now := base
	f.now = func() time.Time { return now }
	// The events' own timestamps are ignored: they are far apart.
	ev := func(sec int) event.Event {
		e := event.New(base.Add(time.Duration(sec)*time.Hour), "m")
		e.SetString("k", "a")
		return e
	}
	for i, s := range []struct {
		advance time.Duration
		pass    bool
	}{{0, true}, {time.Second, false}, {5 * time.Second, false}, {4 * time.Second, true}, {time.Second, false}} {
		now = now.Add(s.advance)
		e := ev(i * 10)
		if got := f.Apply(&e, nil); got != s.pass {
			t.Errorf("step %d at +%v: pass=%v, want %v", i, now.Sub(base), got, s.pass)
		}
	}
}

func TestZeroTimeUsesClock(t *testing.T) {
	f := mustBuild(t, "key: k")
	now := base
	f.now = func() time.Time { return now }
	e := event.Event{}
	if !f.Apply(&e, nil) || f.Apply(&e, nil) {
		t.Error("first must pass and second be dropped")
	}
	now = now.Add(30 * time.Second)
	if !f.Apply(&e, nil) {
		t.Error("next window dropped")
	}
}

func TestMaxKeysForgetsOldest(t *testing.T) {
	f := mustBuild(t, "key: '%{k}'\nmax_keys: 2\nwindow: 1h")
	run(t, f, []step{
		{"a", 0, true, 0}, {"b", 1, true, 0}, {"a", 2, false, 0}, {"b", 3, false, 0},
		{"c", 4, true, 0}, // forgets a (last seen at 2s)
		{"b", 5, false, 0},
		{"a", 6, true, 0}, // a starts over; its suppressed count is lost; forgets c (4s) before b (5s)
		{"b", 7, false, 0},
		{"c", 8, true, 0},
	})
	if n := f.cache.Len(); n != 2 {
		t.Errorf("%d keys, want 2", n)
	}
}

func TestManyKeysBounded(t *testing.T) {
	f := mustBuild(t, "key: 'id-%{id}'\nmax_keys: 10000")
	ev := event.New(base, "m")
	for i := 0; i < 200_000; i++ {
		ev.SetValue("id", event.Int(int64(i)))
		e := ev
		if !f.Apply(&e, nil) {
			t.Fatalf("new key %d dropped", i)
		}
	}
	if n := f.cache.Len(); int64(n) > f.cache.Capacity() || n < 8000 {
		t.Errorf("%d keys kept, capacity %d", n, f.cache.Capacity())
	}
}

func TestIgnoreEmptyKey(t *testing.T) {
	f := mustBuild(t, "key: '%{k}'\nignore_empty_key: true")
	run(t, f, []step{{"", 0, true, 0}, {"", 1, true, 0}, {"a", 2, true, 0}, {"a", 3, false, 0}})
	f = mustBuild(t, "key: '%{k}'")
	run(t, f, []step{{"", 0, true, 0}, {"", 1, false, 0}})
}

func TestTagAndCountField(t *testing.T) {
	f := mustBuild(t, "key: k\ndrop: false\ntag: ''\ncount_field: ''")
	for i := 0; i < 3; i++ {
		e := event.New(base.Add(time.Duration(i)*20*time.Second), "m")
		if !f.Apply(&e, nil) {
			t.Fatal("dropped with drop: false")
		}
		if e.Len() != 1 {
			t.Errorf("event %d changed: %s", i, fntest.JSON(&e))
		}
	}
}

// TestConcurrent: with all events in one window, exactly allow pass across
// goroutines, and the next window's first event reports all the others.
func TestConcurrent(t *testing.T) {
	f := mustBuild(t, "key: '%{k}'\nallow: 100\nwindow: 1h")
	const workers, per = 8, 2000
	keys := []string{"a", "b"}
	for _, k := range keys { // open the windows at base
		e := event.New(base, "m")
		e.SetString("k", k)
		f.Apply(&e, nil)
	}
	var passed [2]atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				k := (i + w) % 2
				e := event.New(base.Add(time.Duration(i)*time.Second), "m")
				e.SetString("k", keys[k])
				if f.Apply(&e, nil) {
					passed[k].Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	for k, key := range keys {
		if got := passed[k].Load(); got != 99 {
			t.Errorf("%s: %d passed after the first, want 99", key, got)
		}
		e := event.New(base.Add(2*time.Hour), "m")
		e.SetString("k", key)
		f.Apply(&e, nil)
		v, _ := e.Lookup("suppressed_count")
		if got, want := v.Interface(), int64(workers*per/2-99); got != want {
			t.Errorf("%s: suppressed_count %v, want %d", key, got, want)
		}
	}
}

func TestValidation(t *testing.T) {
	cases := []struct{ yaml, key string }{
		{"", "key"},
		{"key: ' '", "key"},
		{"key: '%{x'", "key"},
		{"key: k\nallow: 0", "allow"},
		{"key: k\nwindow: 0", "window"},
		{"key: k\nwindow: -5s", "window"},
		{"key: k\nclock: utc", "clock"},
		{"key: k\nmax_keys: 0", "max_keys"},
		{"key: k\ncount_field: '@timestamp'", "count_field"},
	}
	for _, c := range cases {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
	if _, err := fntest.TryBuild(Spec, "key: k\nallow: 10\nwindow: 5m\nclock: wall\nmax_keys: 5\ndrop: false"); err != nil {
		t.Error(err)
	}
}

func benchSuppress(b *testing.B, keys int, yaml string) {
	f := fntest.Build(b, Spec, yaml)
	evs := make([]event.Event, keys)
	for i := range evs {
		evs[i] = event.NewSized(base, 8)
		evs[i].AppendField("message", event.String("connection refused"))
		evs[i].AppendField("host.name", event.String(fmt.Sprintf("node-%05d", i)))
		evs[i].AppendField("log.level", event.String("error"))
	}
	ev := new(event.Event)
	kept := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		*ev = evs[i%keys]
		ev.Time = base.Add(time.Duration(i) * time.Millisecond)
		if f.Apply(ev, nil) {
			kept++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(kept)/float64(b.N), "kept/event")
}

func BenchmarkSuppress(b *testing.B) {
	b.Run("one_key", func(b *testing.B) { benchSuppress(b, 1, "key: '%{host.name}'\nallow: 10\nwindow: 1m") })
	b.Run("10k_keys", func(b *testing.B) { benchSuppress(b, 10000, "key: '%{host.name}'\nallow: 10\nwindow: 1m") })
	b.Run("wall_clock", func(b *testing.B) {
		benchSuppress(b, 10000, "key: '%{host.name}'\nallow: 10\nwindow: 1m\nclock: wall")
	})
}
