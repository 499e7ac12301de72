package aggregate

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

type testFn struct {
	*fn
	failures *fntest.Counter
}

func build(t testing.TB, yamlCfg string) *testFn {
	t.Helper()
	f, err := tryBuild(yamlCfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tryBuild(yamlCfg string) (*testFn, error) {
	cfg, err := fntest.DecodeConfig(Spec, yamlCfg)
	if err != nil {
		return nil, err
	}
	c := &fntest.Counter{}
	return &testFn{fn: newFn(cfg.(*Config), component.Env{Name: "test[0]", Failures: c}), failures: c}, nil
}

func (f *testFn) flush(at time.Time, final bool) []string {
	var out []string
	for _, e := range f.flushEvents(at, final) {
		out = append(out, fntest.JSON(&e))
	}
	return out
}

func (f *testFn) flushEvents(at time.Time, final bool) []event.Event {
	var out []event.Event
	f.Flush(at, final, func(e event.Event) { out = append(out, e) })
	return out
}

// apply runs one event (JSON) and reports whether it continues.
func (f *testFn) apply(t testing.TB, js string) (event.Event, bool) {
	t.Helper()
	ev := fntest.Event(t, js)
	keep := f.Apply(&ev, nil)
	return ev, keep
}

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func ts(sec float64) string { return at(sec).Format(time.RFC3339Nano) }

func TestWindows(t *testing.T) {
	f := build(t, `
group_by: [host]
aggregations:
  - {op: count}
  - {op: count, field: bytes}
  - {op: sum, field: bytes}
  - {op: min, field: bytes}
  - {op: max, field: bytes}
  - {op: avg, field: bytes, as: mean}
window: 10s
lateness: 2s`)
	in := []string{
		`{"@timestamp":"` + ts(0) + `","host":"a","bytes":100}`,
		`{"@timestamp":"` + ts(9.999) + `","host":"a","bytes":300}`,
		`{"@timestamp":"` + ts(3) + `","host":"b","bytes":"50"}`,
		`{"@timestamp":"` + ts(4) + `","host":"b"}`,
		`{"@timestamp":"` + ts(10) + `","host":"a","bytes":7}`, // next window
	}
	for _, js := range in {
		if _, keep := f.apply(t, js); !keep {
			t.Fatal("passthrough dropped an event")
		}
	}
	// 11.9 s: the first window ended but its lateness has not passed.
	if out := f.flush(at(11.9), false); len(out) != 0 {
		t.Fatalf("emitted before end+lateness: %v", out)
	}
	// A straggler for the first window, still within lateness.
	f.apply(t, `{"@timestamp":"`+ts(5)+`","host":"b","bytes":150}`)
	out := f.flush(at(12), false)
	want := []string{
		`{"@timestamp":"2026-01-02T03:04:00Z","count":2,"count_bytes":2,"host":"a","max_bytes":300,"mean":200,"min_bytes":100,"sum_bytes":400,"tags":["aggregate"],"window_end":"2026-01-02T03:04:10Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","count":3,"count_bytes":2,"host":"b","max_bytes":150,"mean":100,"min_bytes":50,"sum_bytes":200,"tags":["aggregate"],"window_end":"2026-01-02T03:04:10Z"}`,
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("first window\n got %s\nwant %s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	// Too late now: tagged, counted, passed on, not aggregated.
	ev, keep := f.apply(t, `{"@timestamp":"`+ts(1)+`","host":"a","bytes":1}`)
	if !keep || !ev.HasTag("_aggregate_late") || f.failures.Value() != 1 {
		t.Errorf("late event: keep %v, %s, failures %d", keep, fntest.JSON(&ev), f.failures.Value())
	}
	// The final flush emits the open window, complete or not.
	out = f.flush(at(13), true)
	want = []string{`{"@timestamp":"2026-01-02T03:04:10Z","count":1,"count_bytes":1,"host":"a","max_bytes":7,"mean":7,"min_bytes":7,"sum_bytes":7,"tags":["aggregate"],"window_end":"2026-01-02T03:04:20Z"}`}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("final\n got %s\nwant %s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	if f.groups.Load() != 0 {
		t.Errorf("%d groups still counted", f.groups.Load())
	}
}

func TestNumbers(t *testing.T) {
	f := build(t, `
aggregations:
  - {op: sum, field: i}
  - {op: sum, field: x}
  - {op: min, field: x}
  - {op: max, field: i}
  - {op: sum, field: big}
  - {op: min, field: none}
  - {op: sum, field: none}
  - {op: avg, field: none}
window: 1m`)
	for _, js := range []string{
		`{"i":1,"x":1,"big":9223372036854775807}`,
		`{"i":"2","x":2.5,"big":1}`,         // string integer; overflowing sum
		`{"i":" 3 ","x":"-0.5"}`,            // spaces trimmed
		`{"i":"four","x":true,"none":null}`, // not numbers: skipped
		`{"i":9007199254740993}`,            // above 2^53: exact as an integer
	} {
		f.apply(t, js)
	}
	out := f.flushEvents(at(0), true)
	if len(out) != 1 {
		t.Fatalf("%d events", len(out))
	}
	ev := out[0]
	want := map[string]any{
		"sum_i": int64(9007199254740999), "max_i": int64(9007199254740993),
		"sum_x": 3.0, "min_x": -0.5, "sum_big": float64(math.MaxInt64) + 1, "sum_none": int64(0),
	}
	for k, w := range want {
		v, ok := ev.Get(k)
		if !ok || fmt.Sprint(v) != fmt.Sprint(w) || fmt.Sprintf("%T", v) != fmt.Sprintf("%T", w) {
			t.Errorf("%s = %v (%T), want %v (%T)", k, v, v, w, w)
		}
	}
	if ev.Has("min_none") || ev.Has("avg_none") {
		t.Errorf("min/avg of nothing present: %s", fntest.JSON(&ev))
	}
	if f.failures.Value() != 0 {
		t.Errorf("skipped values counted as failures: %d", f.failures.Value())
	}
}

func TestGroupKeys(t *testing.T) {
	f := build(t, "group_by: [a, b]\naggregations: [{op: count}]")
	for _, js := range []string{
		`{"a":"ab","b":"c"}`, `{"a":"a","b":"bc"}`, // same concatenation, distinct groups
		`{"a":"x"}`, `{"a":"x","b":""}`, // missing is not ""
		`{"a":200,"b":"y"}`, `{"a":"200","b":"y"}`, // same text: one group
		`{"a":["l",1],"b":"y"}`,                              // arrays group by their JSON text
		`{"a":"x\u0000","b":"y"}`, `{"a":"x","b":"\u0000y"}`, // 0 bytes are escaped
	} {
		f.apply(t, js)
	}
	got := f.flush(at(0), true)
	want := []string{
		// 200 and "200": one group, with the first value seen.
		`{"@timestamp":"2026-01-02T03:04:00Z","a":200,"b":"y","count":2,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","a":"[\"l\",1]","b":"y","count":1,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","a":"a","b":"bc","count":1,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","a":"ab","b":"c","count":1,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","a":"x","count":1,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","a":"x","b":"","count":1,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","a":"x","b":"\u0000y","count":1,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","a":"x\u0000","b":"y","count":1,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("groups\n got %s\nwant %s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPassthroughFalse(t *testing.T) {
	f := build(t, "aggregations: [{op: count}]\nwindow: 10s\nlateness: 0s\npassthrough: false")
	if _, keep := f.apply(t, `{"@timestamp":"`+ts(1)+`"}`); keep {
		t.Error("aggregated event kept with passthrough: false")
	}
	out := f.flush(at(10), false)
	if len(out) != 1 {
		t.Fatalf("%d events", len(out))
	}
	// A late event is a failure and is never dropped.
	if ev, keep := f.apply(t, `{"@timestamp":"`+ts(2)+`"}`); !keep || !ev.HasTag("_aggregate_late") {
		t.Error("late event dropped")
	}
	// Its own output passes untouched and is not aggregated.
	own := fntest.Event(t, out[0])
	before := fntest.JSON(&own)
	if !f.Apply(&own, nil) || fntest.JSON(&own) != before {
		t.Error("own output dropped or changed")
	}
	if out := f.flush(at(100), true); len(out) != 0 {
		t.Errorf("own output or late event aggregated: %v", out)
	}
}

func TestMaxGroups(t *testing.T) {
	f := build(t, "group_by: [k]\naggregations: [{op: count}, {op: sum, field: n}]\nmax_groups: 2\nwindow: 10s\nlateness: 0s")
	for _, k := range []string{"a", "b", "c", "a", "d"} {
		f.apply(t, `{"@timestamp":"`+ts(1)+`","k":"`+k+`","n":1}`)
	}
	out := f.flush(at(10), false)
	want := []string{
		`{"@timestamp":"2026-01-02T03:04:00Z","count":2,"k":"a","sum_n":2,"tags":["aggregate"],"window_end":"2026-01-02T03:04:10Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","count":1,"k":"b","sum_n":1,"tags":["aggregate"],"window_end":"2026-01-02T03:04:10Z"}`,
		`{"@timestamp":"2026-01-02T03:04:00Z","count":2,"overflow":true,"sum_n":2,"tags":["aggregate"],"window_end":"2026-01-02T03:04:10Z"}`,
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("overflow\n got %s\nwant %s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	// Overflow groups from every shard merge into one per window.
	g := build(t, "group_by: [k]\naggregations: [{op: count}, {op: sum, field: n}, {op: min, field: n}, {op: max, field: n}, {op: avg, field: n}]\nmax_groups: 1")
	for i := 0; i < 40; i++ {
		n := fmt.Sprint(i)
		if i == 7 {
			n = "7.5"
		}
		g.apply(t, `{"k":"`+fmt.Sprint(i)+`","n":`+n+`}`)
	}
	out = g.flush(at(0), true)
	if len(out) != 2 || !strings.Contains(out[0], `"k":"0"`) {
		t.Fatalf("groups: %v", out)
	}
	// 1..39 with 7.5 for 7: sum 780.5, avg 780.5/39.
	wantOverflow := `{"@timestamp":"2026-01-02T03:04:00Z","avg_n":20.012820512820515,"count":39,"max_n":39,"min_n":1,"overflow":true,"sum_n":780.5,"tags":["aggregate"],"window_end":"2026-01-02T03:05:00Z"}`
	if out[1] != wantOverflow {
		t.Errorf("merged overflow\n got %s\nwant %s", out[1], wantOverflow)
	}

	// Emitted groups no longer count against the limit.
	f.apply(t, `{"@timestamp":"`+ts(11)+`","k":"c"}`)
	f.apply(t, `{"@timestamp":"`+ts(11)+`","k":"d"}`)
	out = f.flush(at(20), false)
	if len(out) != 2 || strings.Contains(strings.Join(out, ""), "overflow") {
		t.Errorf("second window: %v", out)
	}
}

func TestWindowOf(t *testing.T) {
	f := build(t, "aggregations: [{op: count}]\nwindow: 10s")
	for _, c := range []struct{ in, want time.Time }{
		{t0.Add(9999 * time.Millisecond), t0},
		{t0.Add(10 * time.Second), t0.Add(10 * time.Second)},
		{time.Unix(-1, 0), time.Unix(-10, 0)},
		{time.Unix(-10, 0), time.Unix(-10, 0)},
		{time.Unix(-11, 0), time.Unix(-20, 0)},
	} {
		if got := f.start(f.windowOf(c.in)); !got.Equal(c.want) {
			t.Errorf("window of %v = %v, want %v", c.in, got, c.want)
		}
	}
	// Times out of int64 nanosecond range saturate without panicking.
	for _, tm := range []time.Time{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)} {
		ws := f.windowOf(tm)
		if ws%f.window != 0 && ws != math.MinInt64 {
			t.Errorf("window of %v = %d is not aligned", tm, ws)
		}
	}
	// An event with no timestamp goes to the wall clock's window.
	f.now = func() time.Time { return t0.Add(25 * time.Second) }
	ev := event.Event{}
	f.Apply(&ev, nil)
	out := f.flush(at(0), true)
	if len(out) != 1 || !strings.Contains(out[0], `"@timestamp":"2026-01-02T03:04:20Z"`) {
		t.Errorf("no timestamp: %v", out)
	}
}

// TestConcurrent races Apply on many goroutines against Flush: every event
// is either aggregated (and emitted exactly once) or late.
func TestConcurrent(t *testing.T) {
	f := build(t, "group_by: [k]\naggregations: [{op: count}]\nwindow: 1s\nlateness: 0s")
	var emitted atomic.Int64
	count := func(out []string) {
		for _, s := range out {
			ev := fntest.Event(t, s)
			v, _ := ev.Get("count")
			emitted.Add(v.(int64))
		}
	}
	const workers, per = 8, 3000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ev := event.Event{Time: at(float64(i) / 100)}
				ev.SetValue("k", event.Int(int64(i%50)))
				f.Apply(&ev, nil)
			}
		}()
	}
	for s := 0; s < 30; s++ {
		count(f.flush(at(float64(s)), false))
	}
	wg.Wait()
	count(f.flush(at(100), true))
	if got := emitted.Load() + f.failures.Value(); got != workers*per {
		t.Errorf("%d emitted + %d late = %d, want %d", emitted.Load(), f.failures.Value(), got, workers*per)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{`{}`, "aggregations"},
		{`aggregations: [{op: median, field: x}]`, "aggregations"},
		{`aggregations: [{op: sum}]`, "aggregations"},
		{`aggregations: [{op: count}, {op: count}]`, "aggregations"},
		{`aggregations: [{op: count, as: window_end}]`, "aggregations"},
		{`aggregations: [{op: count, as: tags}]`, "aggregations"},
		{"group_by: [host]\naggregations: [{op: count, as: host}]", "aggregations"},
		{"group_by: [a.b]\naggregations: [{op: count, as: a}]", "aggregations"},
		{"group_by: [a, a.b]\naggregations: [{op: count}]", "group_by"},
		{"group_by: [window_end.x]\naggregations: [{op: count}]", "group_by"},
		{"group_by: [host, host]\naggregations: [{op: count}]", "group_by"},
		{"group_by: ['@timestamp']\naggregations: [{op: count}]", "group_by"},
		{"group_by: ['']\naggregations: [{op: count}]", "group_by"},
		{"aggregations: [{op: count}]\nwindow: 500ms", "window"},
		{"aggregations: [{op: count}]\nlateness: -1s", "lateness"},
		{"aggregations: [{op: count}]\nmax_groups: 0", "max_groups"},
		{"aggregations: [{op: count}]\nadd_tag: ['']", "add_tag"},
		{"aggregations: [{op: count}]\ntag_on_failure: ['']", "tag_on_failure"},
	} {
		_, err := tryBuild(c.yaml)
		var fe *component.FieldError
		if !errors.As(err, &fe) || fe.Field != c.key {
			t.Errorf("%q: error %v, want one about %s", c.yaml, err, c.key)
		}
	}
	if _, err := fntest.TryBuild(Spec, "aggregations: [{op: count}]\nwindow: 5m"); err != nil {
		t.Errorf("build through fntest: %v", err)
	}
	f := build(t, "aggregations: [{op: count}]\nwindow: 5s")
	if f.FlushInterval() != time.Second {
		t.Errorf("flush interval %v", f.FlushInterval())
	}
}

// TestGolden runs testdata/*.yaml (see fntest.FlushGolden).
func TestGolden(t *testing.T) {
	fntest.RunFlushGolden(t, func(t *testing.T, config string, _ time.Time) fntest.Flushing {
		f := build(t, config)
		return fntest.Flushing{Function: f, Flusher: f, Failures: f.failures}
	})
}
