package metrics

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

// testFn builds the function from YAML with its clock starting at start;
// the wall clock for ignore_older_than is *now.
type testFn struct {
	*fn
	failures *fntest.Counter
	now      time.Time
}

func build(t testing.TB, yamlCfg string, start time.Time) *testFn {
	t.Helper()
	f, err := tryBuild(yamlCfg, start)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tryBuild(yamlCfg string, start time.Time) (*testFn, error) {
	cfg, err := fntest.DecodeConfig(Spec, yamlCfg)
	if err != nil {
		return nil, err
	}
	c := &fntest.Counter{}
	tf := &testFn{failures: c, now: start}
	tf.fn = newFn(cfg.(*Config), component.Env{Name: "test[0]", Failures: c}, start)
	tf.host = "test-host"
	tf.fn.now = func() time.Time { return tf.now }
	return tf, nil
}

func (f *testFn) flush(at time.Time, final bool) []event.Event {
	var out []event.Event
	f.Flush(at, final, func(e event.Event) { out = append(out, e) })
	return out
}

func (f *testFn) mark(t testing.TB, n int, js string) {
	t.Helper()
	for i := 0; i < n; i++ {
		ev := fntest.Event(t, js)
		if !f.Apply(&ev, nil) {
			t.Fatal("metrics dropped an event")
		}
	}
}

func num(t testing.TB, ev event.Event, key string) float64 {
	t.Helper()
	v, ok := ev.Lookup(key)
	if !ok {
		t.Fatalf("no field %s in %s", key, fntest.JSON(&ev))
	}
	switch x := v.Interface().(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	t.Fatalf("%s = %v is not a number", key, v.Interface())
	return 0
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// ewma is an independent model of one moving average: the rate after
// each tick, given the events counted in that tick.
type ewma struct {
	alpha float64
	rate  float64
	init  bool
}

func newEWMA(minutes float64) *ewma { return &ewma{alpha: 1 - math.Exp(-5/(60*minutes))} }

func (e *ewma) tick(events int) {
	instant := float64(events) / 5
	if !e.init {
		e.rate, e.init = instant, true
		return
	}
	e.rate += e.alpha * (instant - e.rate)
}

func TestRates(t *testing.T) {
	f := build(t, `meter: [events]`, t0)
	models := map[string]*ewma{"rate_1m": newEWMA(1), "rate_5m": newEWMA(5), "rate_15m": newEWMA(15)}
	check := func(step string, out []event.Event, count int) {
		t.Helper()
		if len(out) != 1 {
			t.Fatalf("%s: %d events emitted, want 1", step, len(out))
		}
		if got := num(t, out[0], "events.count"); got != float64(count) {
			t.Errorf("%s: count %v, want %d", step, got, count)
		}
		for k, m := range models {
			if got := num(t, out[0], "events."+k); !near(got, m.rate) {
				t.Errorf("%s: %s = %v, want %v", step, k, got, m.rate)
			}
		}
	}
	// 1000 events within the first 5 s: 200/s on every average.
	f.mark(t, 1000, `{"message":"x"}`)
	out := f.flush(t0.Add(5*time.Second), false)
	for _, m := range models {
		m.tick(1000)
	}
	check("first tick", out, 1000)
	if got := num(t, out[0], "events.rate_1m"); got != 200 {
		t.Errorf("rate_1m after 1000 events in 5s = %v, want exactly 200", got)
	}
	// A quiet tick decays by exp(-5/60) for the 1-minute rate.
	out = f.flush(t0.Add(10*time.Second), false)
	for _, m := range models {
		m.tick(0)
	}
	check("quiet tick", out, 1000)
	if got, want := num(t, out[0], "events.rate_1m"), 200*math.Exp(-1.0/12); !near(got, want) {
		t.Errorf("rate_1m after a quiet tick = %v, want 200·e^(-1/12) = %v", got, want)
	}
	// 500 more, then a flush 2 ms late (ticker jitter) still counts one tick.
	f.mark(t, 500, `{"message":"x"}`)
	out = f.flush(t0.Add(15*time.Second+2*time.Millisecond), false)
	for _, m := range models {
		m.tick(500)
	}
	check("busy tick", out, 1500)
	// A flush 400 ms early is within the tolerance: one tick.
	out = f.flush(t0.Add(19*time.Second+600*time.Millisecond), false)
	for _, m := range models {
		m.tick(0)
	}
	check("early tick", out, 1500)
	// 3 s later is not a tick: nothing is due.
	if out = f.flush(t0.Add(22*time.Second+600*time.Millisecond), false); len(out) != 0 {
		t.Errorf("flush before a tick emitted %d events", len(out))
	}
	// Three ticks at once (a late flush): the events count in the first.
	f.mark(t, 30, `{"message":"x"}`)
	out = f.flush(t0.Add(35*time.Second), false)
	for _, n := range []int{30, 0, 0} {
		for _, m := range models {
			m.tick(n)
		}
	}
	check("three ticks", out, 1530)
}

func TestFlushIntervalAndClear(t *testing.T) {
	// Ports of the Logstash spec: flush_interval 15 emits every third tick;
	// clear_interval 15 removes the meters after the third tick's emission.
	f := build(t, "meter: ['http_%{response}']\nflush_interval: 15", t0)
	f.mark(t, 1, `{"response":200}`)
	var got []int
	for i := 1; i <= 6; i++ {
		got = append(got, len(f.flush(t0.Add(time.Duration(i)*5*time.Second), false)))
	}
	if fmt.Sprint(got) != "[0 0 1 0 0 1]" {
		t.Errorf("emissions per tick %v, want [0 0 1 0 0 1]", got)
	}

	f = build(t, "meter: ['http_%{response}']\nclear_interval: 15", t0)
	f.mark(t, 1, `{"response":200}`)
	for i := 1; i <= 3; i++ {
		out := f.flush(t0.Add(time.Duration(i)*5*time.Second), false)
		if len(out) != 1 || num(t, out[0], "http_200.count") != 1 {
			t.Fatalf("tick %d: %d events", i, len(out))
		}
	}
	if out := f.flush(t0.Add(20*time.Second), false); len(out) != 0 {
		t.Errorf("after clear: %d events, want none", len(out))
	}
	f.mark(t, 2, `{"response":404}`)
	out := f.flush(t0.Add(25*time.Second), false)
	if len(out) != 1 || out[0].Has("http_200") || num(t, out[0], "http_404.count") != 2 {
		t.Errorf("after clear and new events: %v", out)
	}

	// No meter, no event; the final flush emits what exists at any time.
	f = build(t, "meter: [a]\nflush_interval: 60s", t0)
	if out := f.flush(t0.Add(5*time.Second), false); len(out) != 0 {
		t.Error("emitted without meters")
	}
	f.mark(t, 3, `{}`)
	if out := f.flush(t0.Add(10*time.Second), false); len(out) != 0 {
		t.Error("emitted before flush_interval")
	}
	out = f.flush(t0.Add(11*time.Second), true)
	if len(out) != 1 || num(t, out[0], "a.count") != 3 {
		t.Errorf("final flush: %v", out)
	}
}

func TestEventShape(t *testing.T) {
	f := build(t, `
meter: ["http_%{response}"]
rates: [1]
add_field: {"summary": "200s: %{http_200.count}"}
add_tag: [metric, stats]`, t0)
	f.mark(t, 2, `{"response":200}`)
	f.mark(t, 1, `{"response":404}`)
	now := t0.Add(5 * time.Second)
	out := f.flush(now, false)
	if len(out) != 1 {
		t.Fatalf("%d events", len(out))
	}
	got := fntest.JSON(&out[0])
	want := `{"@timestamp":"2026-01-02T03:04:05Z","http_200":{"count":2,"rate_1m":0.4},"http_404":{"count":1,"rate_1m":0.2},"message":"test-host","summary":"200s: 2","tags":["metric","stats"]}`
	if got != want {
		t.Errorf("event\n got %s\nwant %s", got, want)
	}
	if !out[0].Time.Equal(now) {
		t.Errorf("@timestamp %v, want the flush time", out[0].Time)
	}
}

func TestTimer(t *testing.T) {
	f := build(t, `
timer:
  http_request_time: "%{request_time}"
  "size_%{kind}": bytes
percentiles: [1, 50, 99, 99.9, 100]`, t0)
	for _, js := range []string{
		`{"request_time":10,"bytes":"100","kind":"a"}`,
		`{"request_time":20.0,"bytes":300,"kind":"a"}`,
		`{"request_time":"30","kind":"a"}`,
		`{"request_time":-5}`, // negative: ignored, as in metriks
		`{"other":1}`,         // missing: ignored
	} {
		f.mark(t, 1, js)
	}
	out := f.flush(t0.Add(5*time.Second), false)
	if len(out) != 1 {
		t.Fatalf("%d events", len(out))
	}
	ev := out[0]
	for k, want := range map[string]float64{
		"http_request_time.count": 3, "http_request_time.min": 10, "http_request_time.max": 30,
		"http_request_time.mean": 20, "http_request_time.stddev": 10, // sqrt(((10-20)²+0+(30-20)²)/2)
		"http_request_time.rate_1m": 0.6,
		// metriks' quantile: position q·(n+1) in the sorted sample.
		"http_request_time.p1": 10, "http_request_time.p50": 20, "http_request_time.p99": 30,
		"http_request_time.p99_9": 30, "http_request_time.p100": 30,
		"size_a.count": 2, "size_a.mean": 200, "size_a.p50": 200, "size_a.stddev": math.Sqrt(20000),
	} {
		if got := num(t, ev, k); !near(got, want) {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if f.failures.Value() != 0 {
		t.Errorf("%d failures", f.failures.Value())
	}
	// A value that is not a number is a failure: tagged, counted, kept.
	f = build(t, "timer: {t: ms}\ntag_on_failure: [_metricsfailure]", t0)
	ev = fntest.Event(t, `{"ms":"fast"}`)
	if !f.Apply(&ev, nil) || !ev.HasTag("_metricsfailure") || f.failures.Value() != 1 {
		t.Errorf("non-numeric value: tags %v, failures %d", ev.SortedKeys(), f.failures.Value())
	}
	if out := f.flush(t0.Add(5*time.Second), false); len(out) != 0 {
		t.Errorf("a timer with no value was emitted: %v", fntest.JSON(&out[0]))
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4}
	for q, want := range map[float64]float64{0: 1, 0.1: 1, 0.5: 2.5, 0.75: 3.75, 0.8: 4, 1: 4} {
		if got := quantile(s, q); !near(got, want) {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("empty sample")
	}
}

func TestReservoirKeepsHighestPriorities(t *testing.T) {
	var r reservoir
	n := 5000
	for i := 0; i < n; i++ {
		p := float64((i * 7919) % n) // a permutation of 0..n-1
		r.add(sample{prio: p, val: p})
	}
	if len(r) != reservoirSize {
		t.Fatalf("size %d", len(r))
	}
	seen := map[float64]bool{}
	for _, s := range r {
		seen[s.val] = true
	}
	for p := n - reservoirSize; p < n; p++ {
		if !seen[float64(p)] {
			t.Fatalf("priority %d was dropped", p)
		}
	}
}

func TestTimerPercentilesBeyondReservoir(t *testing.T) {
	f := build(t, "timer: {t: v}\npercentiles: [50]", t0)
	for i := 1; i <= 10000; i++ {
		ev := event.Event{Time: t0}
		ev.SetValue("v", event.Int(int64(i)))
		f.Apply(&ev, nil)
	}
	out := f.flush(t0.Add(5*time.Second), false)
	ev := out[0]
	if num(t, ev, "t.count") != 10000 || num(t, ev, "t.min") != 1 || num(t, ev, "t.max") != 10000 || num(t, ev, "t.mean") != 5000.5 {
		t.Errorf("exact stats wrong: %s", fntest.JSON(&ev))
	}
	// A uniform sample of 1028 out of 10000: the median is near 5000.
	if p := num(t, ev, "t.p50"); p < 4000 || p > 6000 {
		t.Errorf("p50 = %v, want about 5000", p)
	}
}

func TestReservoirRescale(t *testing.T) {
	f := build(t, "timer: {t: v}", t0)
	ev := event.Event{Time: t0}
	ev.SetValue("v", event.Int(5))
	f.Apply(&ev, nil)
	s := f.shardOf([]byte("t"))
	before := s.timers["t"].sample[0].prio
	f.flush(t0.Add(time.Hour+5*time.Second), false)
	after := s.timers["t"].sample[0].prio
	if want := before * math.Exp(-decayAlpha*3605); !near(after, want) || s.landmark != 3605 {
		t.Errorf("rescaled priority %v, want %v (landmark %v)", after, want, s.landmark)
	}
}

func TestOwnOutputNotCounted(t *testing.T) {
	f := build(t, `meter: [events]`, t0)
	f.mark(t, 2, `{}`)
	out := f.flush(t0.Add(5*time.Second), false)
	// The emitted event comes back through the routes to this function.
	for _, ev := range out {
		if !f.Apply(&ev, nil) {
			t.Fatal("dropped its own output")
		}
	}
	f.mark(t, 1, `{"tags":["other"]}`)
	out = f.flush(t0.Add(10*time.Second), false)
	if got := num(t, out[0], "events.count"); got != 3 {
		t.Errorf("count %v, want 3: the function counted its own output", got)
	}
	// Without add_tag there is no guard.
	f = build(t, "meter: [events]\nadd_tag: []", t0)
	f.mark(t, 1, `{"tags":["metric"]}`)
	if out := f.flush(t0.Add(5*time.Second), false); num(t, out[0], "events.count") != 1 || out[0].Has("tags") {
		t.Errorf("add_tag: [] %s", fntest.JSON(&out[0]))
	}
}

func TestIgnoreOlderThan(t *testing.T) {
	f := build(t, "meter: [events]\nignore_older_than: 10", t0)
	f.now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(10 * time.Second) // fntest events are at 03:04:05
	f.mark(t, 1, `{}`)                                                        // exactly 10 s old: counted
	f.mark(t, 1, `{"@timestamp":"2026-01-02T03:04:04Z"}`)                     // 11 s old: skipped
	f.mark(t, 1, `{"@timestamp":"2026-01-02T03:04:30Z"}`)                     // in the future: counted
	if out := f.flush(t0.Add(5*time.Second), false); num(t, out[0], "events.count") != 2 {
		t.Errorf("count %v, want 2", num(t, out[0], "events.count"))
	}
}

func TestMeterNames(t *testing.T) {
	f := build(t, `meter: ["%{app}", "all"]`, t0)
	f.mark(t, 1, `{"app":"web"}`)
	f.mark(t, 1, `{"other":"x"}`) // renders "": skipped for the first meter
	f.mark(t, 1, `{"app":7}`)
	out := f.flush(t0.Add(5*time.Second), false)
	ev := out[0]
	if num(t, ev, "web.count") != 1 || num(t, ev, "7.count") != 1 || num(t, ev, "all.count") != 3 || ev.Has(".count") {
		t.Errorf("meters: %s", fntest.JSON(&ev))
	}
	// A meter and a timer with the same name: the timer's count wins.
	f = build(t, "meter: [x]\ntimer: {x: v}", t0)
	f.mark(t, 1, `{"v":1}`)
	f.mark(t, 1, `{}`)
	ev = f.flush(t0.Add(5*time.Second), false)[0]
	n := 0
	for _, fl := range ev.Fields() {
		if fl.Key == "x.count" {
			n++
		}
	}
	if n != 1 || num(t, ev, "x.count") != 1 {
		t.Errorf("meter and timer x: %s", fntest.JSON(&ev))
	}
}

func TestConcurrentApply(t *testing.T) {
	f := build(t, "meter: ['m%{k}']\ntimer: {t: v}", t0)
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
				f.flush(t0.Add(time.Duration(i)*5*time.Second), false)
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ev := event.Event{Time: t0}
				ev.SetValue("k", event.Int(int64(i%10)))
				ev.SetValue("v", event.Int(int64(i)))
				f.Apply(&ev, nil)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-flushed
	out := f.flush(time.Now().Add(24*time.Hour), true)
	total := 0.0
	for i := 0; i < 10; i++ {
		total += num(t, out[0], fmt.Sprintf("m%d.count", i))
	}
	if total != workers*per || num(t, out[0], "t.count") != workers*per {
		t.Errorf("counted %v meters, %v timer values; want %d", total, num(t, out[0], "t.count"), workers*per)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{`{}`, "meter"},
		{`meter: [""]`, "meter"},
		{`meter: ["%{a"]`, "meter"},
		{`timer: {t: ""}`, "timer"},
		{`timer: {"": v}`, "timer"},
		{"meter: [a]\nflush_interval: 7s", "flush_interval"},
		{"meter: [a]\nflush_interval: 0", "flush_interval"},
		{"meter: [a]\nclear_interval: 12s", "clear_interval"},
		{"meter: [a]\nrates: [2]", "rates"},
		{"meter: [a]\nrates: []", "rates"},
		{"meter: [a]\npercentiles: [101]", "percentiles"},
		{"meter: [a]\npercentiles: [50, 50.0]", "percentiles"},
		{"meter: [a]\nignore_older_than: -1s", "ignore_older_than"},
		{"meter: [a]\nadd_tag: ['']", "add_tag"},
		{"meter: [a]\ntag_on_failure: ['']", "tag_on_failure"},
		{"meter: [a]\nadd_field: {x: '%{'}", "add_field"},
	} {
		_, err := tryBuild(c.yaml, t0)
		var fe *component.FieldError
		if !errors.As(err, &fe) || fe.Field != c.key {
			t.Errorf("%q: error %v, want one about %s", c.yaml, err, c.key)
		}
	}
	// Lists replace the defaults rather than add to them.
	f := build(t, "meter: [a]\nadd_tag: [x]\nrates: [15]\nclear_interval: -1", t0)
	if fmt.Sprint(f.cfg.AddTag, f.cfg.Rates) != "[x] [15]" {
		t.Errorf("lists: %v %v", f.cfg.AddTag, f.cfg.Rates)
	}
	if _, err := fntest.TryBuild(Spec, "meter: [a]"); err != nil {
		t.Errorf("build through fntest: %v", err)
	}
}

// TestGolden runs testdata/*.yaml (see fntest.FlushGolden): the function's
// clock starts at start and is at of each step during it.
func TestGolden(t *testing.T) {
	fntest.RunFlushGolden(t, func(t *testing.T, config string, start time.Time) fntest.Flushing {
		f := build(t, config, start)
		return fntest.Flushing{Function: f, Flusher: f, Failures: f.failures, SetClock: func(now time.Time) { f.now = now }}
	})
}
