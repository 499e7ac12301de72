package throttle

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/expr"
	"github.com/sluicehq/sluice/internal/function/drop"
	"github.com/sluicehq/sluice/internal/function/fntest"
	"github.com/sluicehq/sluice/internal/template"
)

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns an event for host at base+sec seconds.
func at(host string, sec float64) event.Event {
	ev := event.New(base.Add(time.Duration(sec*float64(time.Second))), "m")
	ev.SetString("host", host)
	return ev
}

// throttled applies f to ev and reports whether it was tagged "throttled".
func throttled(t testing.TB, f component.Function, ev event.Event) bool {
	t.Helper()
	if !f.Apply(&ev, nil) {
		t.Fatal("throttle dropped an event")
	}
	return ev.HasTag("throttled")
}

func mustBuild(t testing.TB, yaml string) *fn {
	t.Helper()
	return fntest.Build(t, Spec, yaml).Function.(*fn)
}

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

// TestLogstashDocExample replays the first example of the Logstash docs:
// before_count 3, after_count 5, period 600: events 1-2 throttled, 3-5 not,
// 6 and later throttled, and the same again in each new period.
func TestLogstashDocExample(t *testing.T) {
	f := mustBuild(t, "key: '%{host}'\nperiod: 600\nmax_age: 1200\nbefore_count: 3\nafter_count: 5\nadd_tag: throttled\n")
	for p := 0; p < 3; p++ {
		for i := 1; i <= 12; i++ {
			sec := float64(p*600 + (i-1)*45) // 12 events within 540s of the period start
			got := throttled(t, f, at("web", sec))
			want := i < 3 || i > 5
			if got != want {
				t.Errorf("period %d event %d (t+%vs): throttled=%v, want %v", p+1, i, sec, got, want)
			}
		}
	}
}

// TestLogstashDocExampleHourly is the docs' second example: one event per
// hour passes.
func TestLogstashDocExampleHourly(t *testing.T) {
	f := mustBuild(t, "key: '%{host}'\nperiod: 3600\nmax_age: 7200\nbefore_count: -1\nafter_count: 1\nadd_tag: throttled\n")
	for p := 0; p < 3; p++ {
		for i := 1; i <= 5; i++ {
			sec := float64(p*3600 + i*600)
			if got, want := throttled(t, f, at("db", sec)), i > 1; got != want {
				t.Errorf("hour %d event %d: throttled=%v, want %v", p, i, got, want)
			}
		}
	}
}

// TestLogstashSpec ports the cases of logstash-filter-throttle's
// spec/filters/throttle_spec.rb. The spec's events carry no timestamp, so
// they all fall in one timeslot.
func TestLogstashSpec(t *testing.T) {
	type in struct{ host, msg string }
	cases := []struct {
		name   string
		config string
		events []in
		want   []bool
	}{
		{"no before_count", "period: 60\nafter_count: 2\nkey: '%{host}'\nadd_tag: [throttled]",
			[]in{{"server1", ""}}, []bool{false}},
		{"before_count throttled", "period: 60\nbefore_count: 2\nafter_count: 3\nkey: '%{host}'\nadd_tag: [throttled]",
			[]in{{"server1", ""}}, []bool{true}},
		{"before_count exceeded", "period: 60\nbefore_count: 2\nafter_count: 3\nkey: '%{host}'\nadd_tag: [throttled]",
			[]in{{"server1", ""}, {"server1", ""}}, []bool{true, false}},
		{"after_count exceeded", "period: 60\nbefore_count: 2\nafter_count: 3\nkey: '%{host}'\nadd_tag: [throttled]",
			[]in{{"server1", ""}, {"server1", ""}, {"server1", ""}, {"server1", ""}}, []bool{true, false, false, true}},
		{"different keys", "period: 60\nafter_count: 2\nkey: '%{host}'\nadd_tag: [throttled]",
			[]in{{"server1", ""}, {"server2", ""}, {"server3", ""}, {"server4", ""}}, []bool{false, false, false, false}},
		{"composite key", "period: 60\nafter_count: 1\nkey: '%{host}%{message}'\nadd_tag: [throttled]",
			[]in{{"server1", "foo"}, {"server1", "bar"}, {"server2", "foo"}, {"server2", "bar"}}, []bool{false, false, false, false}},
		// The spec expects the 4th event ("foo" again) not to be throttled:
		// "foo" was purged to make room for "poo". Sluice's hard cap on keys
		// evicts the least recently seen key, so it agrees (Logstash 4.x
		// itself only shrinks max_age at its next flush).
		{"max_counter exceeded", "period: 60\nafter_count: 1\nmax_counters: 2\nkey: '%{message}'\nadd_tag: [throttled]",
			[]in{{"", "foo"}, {"", "bar"}, {"", "poo"}, {"", "foo"}}, []bool{false, false, false, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := mustBuild(t, c.config)
			for i, e := range c.events {
				ev := event.New(base, e.msg)
				if e.host != "" {
					ev.SetString("host", e.host)
				}
				f.Apply(&ev, nil)
				got := ev.HasTag("throttled")
				if got != c.want[i] {
					t.Errorf("event %d: throttled=%v, want %v (%s)", i, got, c.want[i], fntest.JSON(&ev))
				}
				if !got && ev.Has("tags") {
					t.Errorf("event %d: untouched event has tags: %s", i, fntest.JSON(&ev))
				}
			}
		})
	}
}

// TestPerPodPerMinute is the ELK use case: 1000 events per pod per minute
// pass, the rest are tagged and dropped, with events of several pods over
// several minutes arriving out of order (within max_age).
func TestPerPodPerMinute(t *testing.T) {
	f := mustBuild(t, "key: '%{kubernetes.pod.name}'\nafter_count: 1000\nperiod: 60s\nmax_age: 120s\nadd_tag: throttled\n")
	dropFn, err := drop.Spec.Build(drop.Spec.NewConfig(), component.Env{})
	if err != nil {
		t.Fatal(err)
	}
	cond, err := expr.Compile(`"throttled" in tags`)
	if err != nil {
		t.Fatal(err)
	}
	pods := []string{"web-1", "web-2", "api-7f9c", "worker-0", "worker-1"}
	perMinute := [][]int{ // events per pod per minute
		{1500, 1000, 999, 3000},
		{1001, 0, 2500, 10},
		{200, 1200, 1200, 1200},
		{1000, 1000, 1000, 1000},
		{5000, 1, 0, 1999},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var first, rest []podItem
	for p, pod := range pods {
		for m, n := range perMinute[p] {
			for i := 0; i < n; i++ {
				sec := m*60 + rng.IntN(60)
				if m == 0 && i == 0 {
					sec = 0 // the pod's first event opens its first timeslot at base
				}
				ev := event.New(base.Add(time.Duration(sec)*time.Second+time.Duration(rng.IntN(1e9))), "log line")
				ev.SetString("kubernetes.pod.name", pod)
				ev.SetString("kubernetes.namespace", "shop")
				it := podItem{pod: p, minute: m, ev: ev}
				if m == 0 && i == 0 {
					first = append(first, it)
				} else {
					rest = append(rest, it)
				}
			}
		}
	}
	// Out of order, but never more than 60s apart: shuffle within blocks of
	// two minutes after sorting by time.
	sortByTime(rest)
	for lo := 0; lo < len(rest); {
		hi := lo
		block := rest[lo].ev.Time.Sub(base) / (2 * time.Minute)
		for hi < len(rest) && rest[hi].ev.Time.Sub(base)/(2*time.Minute) == block {
			hi++
		}
		rng.Shuffle(hi-lo, func(i, j int) { rest[lo+i], rest[lo+j] = rest[lo+j], rest[lo+i] })
		lo = hi
	}
	passed := make([][]int, len(pods))
	for i := range passed {
		passed[i] = make([]int, 4)
	}
	for _, it := range append(first, rest...) {
		ev := it.ev
		keep := f.Apply(&ev, nil)
		if ok, _ := cond.Match(&ev, ""); ok {
			keep = dropFn.Apply(&ev, nil)
		}
		if keep {
			passed[it.pod][it.minute]++
		}
	}
	for p := range pods {
		for m, n := range perMinute[p] {
			if want := min(n, 1000); passed[p][m] != want {
				t.Errorf("%s minute %d: %d of %d events passed, want %d", pods[p], m, passed[p][m], n, want)
			}
		}
	}
}

type podItem struct {
	pod, minute int
	ev          event.Event
}

// sortByTime sorts items by time, to the second.
func sortByTime(items []podItem) {
	slices.SortStableFunc(items, func(a, b podItem) int { return cmp.Compare(a.ev.Time.Unix(), b.ev.Time.Unix()) })
}

// TestOutOfOrderBeforeFirst checks Ruby's floored modulo: events older than
// the key's first event fall into earlier timeslots aligned on it.
func TestOutOfOrderBeforeFirst(t *testing.T) {
	f := mustBuild(t, "key: '%{host}'\nafter_count: 1\nperiod: 60\nadd_tag: throttled")
	steps := []struct {
		sec  float64
		want bool
	}{
		{0, false},   // created; timeslot [0,60)
		{-30, false}, // timeslot [-60,0), first event there
		{-59, true},  // same timeslot
		{-61, false}, // timeslot [-120,-60)
		{59.9, true}, // epoch 59: timeslot [0,60)
		{60, false},  // timeslot [60,120)
	}
	for _, s := range steps {
		if got := throttled(t, f, at("h", s.sec)); got != s.want {
			t.Errorf("t%+v: throttled=%v, want %v", s.sec, got, s.want)
		}
	}
}

// TestLateEventBeyondMaxAge checks that a timeslot older than max_age behind
// the key's newest timeslot is deleted right after counting: such late
// events each count 1.
func TestLateEventBeyondMaxAge(t *testing.T) {
	f := mustBuild(t, "key: '%{host}'\nafter_count: 1\nperiod: 60\nmax_age: 120\nadd_tag: throttled")
	for i, s := range []struct {
		sec  float64
		want bool
	}{{0, false}, {1, true}, {600, false}, {601, true}, {10, false}, {20, false}, {480, false}, {490, true}} {
		if got := throttled(t, f, at("h", s.sec)); got != s.want {
			t.Errorf("step %d (t+%vs): throttled=%v, want %v", i, s.sec, got, s.want)
		}
	}
}

// TestFlushExpiresIdleKeys checks Logstash's flush: a key whose latest epoch
// is more than max_age behind the newest epoch of any key is forgotten, so
// it starts a new timeslot cache at its next event.
func TestFlushExpiresIdleKeys(t *testing.T) {
	f := mustBuild(t, "key: '%{host}'\nafter_count: 1\nperiod: 3600\nmax_age: 100\nadd_tag: throttled")
	if throttled(t, f, at("a", 0)) || throttled(t, f, at("b", 50)) || throttled(t, f, at("c", 101)) {
		t.Fatal("first events throttled")
	}
	f.Flush(base, false, nil)
	if got := f.cache.Len(); got != 2 {
		t.Fatalf("%d keys after flush, want 2 (a expired)", got)
	}
	if throttled(t, f, at("a", 1)) {
		t.Error("a was not forgotten")
	}
	if !throttled(t, f, at("b", 51)) {
		t.Error("b was forgotten")
	}
	f.Flush(base, true, nil) // the final flush changes nothing
	if got := f.cache.Len(); got != 3 {
		t.Errorf("%d keys after final flush, want 3", got)
	}
}

type countHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.msgs = append(h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

func (h *countHandler) count(sub string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// TestMemoryControl checks Logstash's max_age adjustment: lowered by 5% of
// the configured value per flush while the counters exceed max_counters (not
// below 5%), raised again below 80%, with warnings at most once a minute.
func TestMemoryControl(t *testing.T) {
	cfg := Spec.NewConfig().(*Config)
	cfg.Key, cfg.AfterCount, cfg.Period, cfg.MaxCounters = "%{host}", 1, "10", 10
	cfg.MaxAge = 1000 * 1e9
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := &countHandler{}
	fnc, err := Spec.Build(cfg, component.Env{Name: "p[0]", Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	f := fnc.(*fn)
	// 5 keys with 4 timeslots each: 20 counters > 10.
	for _, host := range []string{"a", "b", "c", "d", "e"} {
		for s := 0; s < 40; s += 10 {
			throttled(t, f, at(host, float64(s)))
		}
	}
	now := base
	wantAge := int64(1000)
	for i := 0; i < 30; i++ {
		f.Flush(now, false, nil)
		now = now.Add(5 * time.Second)
		if wantAge > 50 {
			wantAge -= 50
		}
		if got := f.maxAge.Load(); got != wantAge {
			t.Fatalf("flush %d: max_age %d, want %d", i, got, wantAge)
		}
	}
	// max_age fell for 19 flushes (0s to 90s), then stayed at 5%: warnings
	// at 0s and 60s only.
	if got := h.count("decreased timeslot max_age"); got != 2 {
		t.Errorf("%d decrease warnings, want 2 (at most one a minute): %q", got, h.msgs)
	}
	// Forget the keys (a newer key pushes them beyond max_age) and the
	// counters fall below 80%: max_age climbs back to 1000.
	throttled(t, f, at("z", 100000))
	for i := 0; i < 25; i++ {
		f.Flush(now, false, nil)
		now = now.Add(5 * time.Second)
	}
	if got := f.maxAge.Load(); got != 1000 {
		t.Errorf("max_age %d after recovery, want 1000", got)
	}
	if h.count("increased timeslot max_age") == 0 {
		t.Error("no increase warning")
	}
}

// TestMaxCountersBoundsKeys feeds a million distinct keys: the number of
// keys kept never exceeds max_counters (plus rounding per shard).
func TestMaxCountersBoundsKeys(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 200_000
	}
	f := mustBuild(t, "key: 'req-%{id}'\nafter_count: 1\nadd_tag: throttled")
	limit := int(f.cache.Capacity())
	if limit < 100000 || limit > 100000+64 {
		t.Fatalf("cap %d keys for max_counters 100000", limit)
	}
	ev := event.New(base, "m")
	for i := 0; i < n; i++ {
		ev.SetValue("id", event.Int(int64(i)))
		ev.Time = base.Add(time.Duration(i) * time.Millisecond)
		e := ev
		f.Apply(&e, nil)
		if i%100_000 == 0 {
			if got := f.cache.Len(); got > limit {
				t.Fatalf("after %d keys: %d kept, cap %d", i+1, got, limit)
			}
		}
	}
	if got := f.cache.Len(); got > limit || got < 80000 {
		t.Errorf("%d keys kept after %d distinct keys, want <= %d and close to it", got, n, limit)
	}
	// The most recent keys are the ones kept: the last key counts 2 now.
	ev.SetValue("id", event.Int(int64(n-1)))
	if e := ev; !throttled(t, f, e) {
		t.Error("the newest key was evicted")
	}
}

// TestPeriodTemplate checks a per-event period, with Logstash's fallback to
// 60s when the value is not a positive number.
func TestPeriodTemplate(t *testing.T) {
	f := mustBuild(t, "key: '%{host}'\nafter_count: 1\nperiod: '%{p}'\nadd_tag: throttled")
	with := func(sec float64, p string) event.Event {
		ev := at("h", sec)
		if p != "" {
			ev.SetString("p", p)
		}
		return ev
	}
	// Timeslots are keyed by their start only, as in Logstash, so those of
	// different periods that start at the same second share a counter.
	steps := []struct {
		sec  float64
		p    string
		want bool
	}{
		{0, "10", false},     // timeslot 0, n=1
		{5, "10", true},      // timeslot 0, n=2
		{10, "10s", false},   // timeslot 10, n=1
		{11, "", true},       // no period: 60s, timeslot 0, n=3
		{30, "bogus", true},  // 60s, timeslot 0, n=4
		{40, "0", true},      // 0 falls back to 60s, timeslot 0, n=5
		{41, "20abc", false}, // Ruby's to_i: 20s, timeslot 40, n=1
		{45, " 20 ", true},   // timeslot 40, n=2
		{45, "-5", true},     // not positive: 60s, timeslot 0, n=6
		{61, "", false},      // 60s, timeslot 60, n=1
	}
	for i, s := range steps {
		if got := throttled(t, f, with(s.sec, s.p)); got != s.want {
			t.Errorf("step %d (t+%v, period %q): throttled=%v, want %v", i, s.sec, s.p, got, s.want)
		}
	}
}

func TestBracketKey(t *testing.T) {
	f := mustBuild(t, "key: '%{[kubernetes][pod][name]}/%{host}'\nafter_count: 1\nadd_tag: throttled")
	a := at("h", 0)
	a.SetString("kubernetes.pod.name", "p1")
	b := at("h", 1)
	b.SetString("kubernetes.pod.name", "p2")
	c := at("h", 2)
	c.SetString("kubernetes.pod.name", "p1")
	if throttled(t, f, a) || throttled(t, f, b) || !throttled(t, f, c) {
		t.Error("bracket references do not key by the field")
	}
	for in, want := range map[string]string{
		"%{[a][b]}":          "%{a.b}",
		"x%{[a]}y%{[b][c]}z": "x%{a}y%{b.c}z",
		"%%{[a]}":            "%%{[a]}",
		"%{[a]b}":            "%{[a]b}",
		"%{[a][]}":           "%{[a][]}",
		"%{[a]":              "%{[a]",
		"%{a.b}":             "%{a.b}",
		"%{+yyyy}%{[x]}":     "%{+yyyy}%{x}",
	} {
		if got := logstashRefs(in); got != want {
			t.Errorf("logstashRefs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecorations(t *testing.T) {
	f := mustBuild(t, `key: '%{host}'
after_count: 0
add_tag: ['throttled', 'throttled_%{host}']
add_field: {throttle.key: '%{host}', note: 'over %{host}'}
remove_tag: [old, '%{host}']
remove_field: [debug, '%{drop_me}']
`)
	ev := fntest.Event(t, `{"host":"web","note":"first","debug":{"a":1},"drop_me":"x","x":1,"tags":["old","keep","web"]}`)
	f.Apply(&ev, nil)
	got := fntest.JSON(&ev)
	want := `{"@timestamp":"2026-01-02T03:04:05Z","drop_me":"x","host":"web","note":["first","over web"],"tags":["keep","throttled","throttled_web"],"throttle":{"key":"web"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// remove_tag removing every tag leaves an empty array, as Logstash does.
	f = mustBuild(t, "key: k\nafter_count: 0\nremove_tag: a")
	ev = fntest.Event(t, `{"tags":"a"}`)
	f.Apply(&ev, nil)
	if got := fntest.JSON(&ev); got != `{"@timestamp":"2026-01-02T03:04:05Z","tags":[]}` {
		t.Errorf("remove_tag: %s", got)
	}
}

func TestZeroTimeUsesClock(t *testing.T) {
	f := mustBuild(t, "key: k\nafter_count: 1\nadd_tag: throttled")
	now := base
	f.now = func() time.Time { return now }
	ev := event.Event{}
	if throttled(t, f, ev) {
		t.Error("first throttled")
	}
	if !throttled(t, f, ev) {
		t.Error("second not throttled")
	}
	now = now.Add(61 * time.Second)
	if throttled(t, f, ev) {
		t.Error("next period throttled")
	}
}

// TestConcurrent runs many goroutines over a few keys: exactly after_count
// events per key pass, whatever the interleaving. Flushes run alongside.
func TestConcurrent(t *testing.T) {
	f := mustBuild(t, "key: '%{host}'\nafter_count: 1000\nperiod: 3600\nadd_tag: throttled")
	const workers, perWorker = 8, 4000
	hosts := []string{"a", "b", "c", "d"}
	var passed [4]atomic.Int64
	// Each key's first event opens its timeslot at base, so the later
	// events (base to base+599s) all fall in it.
	for i, h := range hosts {
		if !throttled(t, f, at(h, 0)) {
			passed[i].Add(1)
		}
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				f.Flush(time.Now(), false, nil)
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				h := (i + w) % len(hosts)
				ev := at(hosts[h], float64(i%600))
				f.Apply(&ev, nil)
				if !ev.HasTag("throttled") {
					passed[h].Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	for i := range passed {
		if got := passed[i].Load(); got != 1000 {
			t.Errorf("key %s: %d passed, want 1000", hosts[i], got)
		}
	}
}

func TestValidation(t *testing.T) {
	cases := []struct{ yaml, key string }{
		{"after_count: 1", "key"},
		{"key: '  '\nafter_count: 1", "key"},
		{"key: '%{a'\nafter_count: 1", "key"},
		{"key: k", "after_count"},
		{"key: k\nafter_count: -2", "after_count"},
		{"key: k\nbefore_count: -5", "before_count"},
		{"key: k\nbefore_count: 5\nafter_count: 3", "before_count"},
		{"key: k\nafter_count: 1\nperiod: 0", "period"},
		{"key: k\nafter_count: 1\nperiod: 1500ms", "period"},
		{"key: k\nafter_count: 1\nperiod: soon", "period"},
		{"key: k\nafter_count: 1\nperiod: ''", "period"},
		{"key: k\nafter_count: 1\nmax_age: 1.5", "max_age"},
		{"key: k\nafter_count: 1\nmax_age: -1", "max_age"},
		{"key: k\nafter_count: 1\nmax_counters: 0", "max_counters"},
		{"key: k\nafter_count: 1\nmax_counters: -3", "max_counters"},
		{"key: k\nafter_count: 1\nadd_tag: ['']", "add_tag"},
		{"key: k\nafter_count: 1\nadd_tag: ['%{x']", "add_tag"},
		{"key: k\nafter_count: 1\nremove_tag: ['%{']", "remove_tag"},
		{"key: k\nafter_count: 1\nremove_field: ['']", "remove_field"},
		{"key: k\nafter_count: 1\nadd_field: {'': v}", "add_field"},
		{"key: k\nafter_count: 1\nadd_field: {a: '%{v'}", "add_field"},
	}
	for _, c := range cases {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, "")
	}
	for _, ok := range []string{
		"key: k\nbefore_count: 3\nafter_count: 2",
		"key: k\nbefore_count: 0",
		"key: k\nafter_count: 0\nmax_counters: -1\nmax_age: 0",
		"key: k\nafter_count: 5\nperiod: 2m\nmax_age: 1h",
		"key: k\nafter_count: 5\nadd_tag: throttled\nremove_field: x",
	} {
		if _, err := fntest.TryBuild(Spec, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if _, err := fntest.TryBuild(Spec, "key: k\nafter_count: 1\nadd_tag: {a: b}"); err == nil {
		t.Error("add_tag map accepted")
	}
}

func TestMaxAgeShorterThanPeriodWarns(t *testing.T) {
	cfg := Spec.NewConfig().(*Config)
	cfg.Key, cfg.AfterCount, cfg.Period, cfg.MaxAge = "k", 1, "60", 30*1e9
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := &countHandler{}
	if _, err := Spec.Build(cfg, component.Env{Logger: slog.New(h)}); err != nil {
		t.Fatal(err)
	}
	if h.count("max_age is shorter than period") != 1 {
		t.Errorf("no warning: %q", h.msgs)
	}
}

// FuzzThrottle feeds random in-order sequences: in every timeslot of every
// key, exactly min(count, after_count) events pass, and before_count holds
// the first ones back.
func FuzzThrottle(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(3), uint8(2), uint8(10))
	f.Add([]byte{255, 0, 255, 0, 17, 17, 17}, uint8(1), uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, after, before, period uint8) {
		a, b, p := int64(after%20), int64(before%20), int64(period%30)+1
		if b > a+1 {
			b = a + 1
		}
		fnc, err := fntest.TryBuild(Spec, fmt.Sprintf("key: '%%{host}'\nafter_count: %d\nbefore_count: %d\nperiod: %d\nmax_age: %d\nadd_tag: throttled", a, b, p, 2*p))
		if err != nil {
			t.Fatal(err)
		}
		type slotKey struct {
			host string
			slot int64
		}
		counts := map[slotKey]int64{}
		created := map[string]int64{}
		var sec int64
		for _, c := range data {
			sec += int64(c >> 4) // in order: time only moves forward
			host := string(rune('a' + c%4))
			if _, ok := created[host]; !ok {
				created[host] = sec
			}
			sk := slotKey{host, sec - (sec-created[host])%p}
			counts[sk]++
			n := counts[sk]
			want := n < b || n > a
			if got := throttled(t, fnc, at(host, float64(sec))); got != want {
				t.Fatalf("host %s t+%d count %d: throttled=%v, want %v", host, sec, n, got, want)
			}
		}
	})
}

// FuzzLogstashRefs checks the rewriting of %{[a][b]} references: it never
// panics, leaves templates without them alone, and never turns a valid
// template into an invalid one or back. It also feeds the text to periodOf,
// which must always return a positive period.
func FuzzLogstashRefs(f *testing.F) {
	for _, s := range []string{"%{[a][b]}", "x%{[a]}y%{b}", "%%{[a]}", "%{[", "%{[a]", "%{[ ]}", "%{[a][]}", "%{+yyyy}", "60", "2m", "-1", "12abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := logstashRefs(s)
		if !strings.Contains(s, "%{[") && out != s {
			t.Fatalf("%q rewritten to %q", s, out)
		}
		_, errIn := template.Parse(s)
		_, errOut := template.Parse(out)
		if (errIn == nil) != (errOut == nil) {
			t.Fatalf("%q (err %v) rewritten to %q (err %v)", s, errIn, out, errOut)
		}
		if p := periodOf([]byte(s)); p <= 0 {
			t.Fatalf("periodOf(%q) = %d", s, p)
		}
	})
}
