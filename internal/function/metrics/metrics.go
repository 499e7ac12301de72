// Package metrics is the "metrics" function: Logstash's metrics filter
// (logstash-filter-metrics). It counts events into named meters and records
// numeric values into named timers, and on a timer emits one event holding
// every meter and timer.
//
// Semantics, following the Logstash filter and the metriks library it uses:
//
//   - `meter` lists %{field} templates; each event marks the meter named by
//     rendering each template (created on first use). A meter reports
//     NAME.count (events since it was created or last cleared) and
//     NAME.rate_1m, NAME.rate_5m, NAME.rate_15m: per-second rates as
//     exponentially weighted moving averages ticked every 5 seconds with
//     metriks' (and Dropwizard's) constants, alpha = 1 - exp(-5s/60s/M) for
//     M = 1, 5, 15 minutes. A tick takes the events marked since the previous
//     tick, divides by 5 to get the instant rate, and sets the average to it
//     on the first tick, or moves it by alpha towards it afterwards. So 1000
//     events within 5 seconds give rate_1m = 200 at the first tick, then
//     200·exp(-1/12) after a tick with no events. Ticks follow the flush
//     clock for all meters together (metriks ticks each meter from its own
//     creation time); a tick is counted every 5 seconds of the clock passed
//     to Flush, with half a second of tolerance for timer jitter.
//   - `timer` maps a name template to a numeric value: a field name
//     ("duration") or a template ("%{duration}"). Each event with a
//     numeric value (an integer, a float or a string that parses as one)
//     updates the timer: NAME.count, the rates, NAME.min, NAME.max,
//     NAME.mean (sum/count), NAME.stddev (the sample standard deviation, n-1, over every
//     value since creation or clear) and NAME.pXX for each percentile. As in
//     metriks, negative values are ignored. A missing value is ignored (where
//     Logstash would record 0); a value that is not a number is a failure:
//     the event gets tag_on_failure and is counted, and goes on unchanged.
//     Percentiles come from metriks' exponentially decaying reservoir of 1028
//     values (alpha 0.015, rescaled every hour), so they are exact while a
//     timer has seen at most 1028 values and favour the last five minutes
//     after that; the quantile formula is metriks' (position q·(n+1) in the
//     sorted sample, interpolated linearly). A percentile with a fraction is
//     named with "_" for the dot (99.9 gives p99_9), since dots nest fields.
//   - Every 5 seconds the function ticks; when flush_interval has passed
//     since the last emission and at least one meter or timer exists, it
//     emits one event: @timestamp = now, message = the host name (as
//     Logstash does), the meters and timers, add_field, and add_tag (default
//     ["metric"], so routes can send it elsewhere with '"metric" in tags';
//     Logstash's add_tag has no default, its docs tell you to add one).
//     Nothing is emitted while no meter or timer exists. When clear_interval has
//     passed at an emission, every meter and timer is removed after that
//     emission. The final flush (pipeline retired) emits whatever exists.
//     Counting starts afresh when a config reload rebuilds the pipeline.
//   - The emitted event re-enters the routes from the top and may come back
//     to this very function; events carrying any of its add_tag tags are
//     therefore not counted, so that the function does not count (and
//     re-emit) its own output. With add_tag: [] there is no such guard.
//   - ignore_older_than skips events whose @timestamp is older than that
//     against the wall clock (events with no timestamp are counted).
//   - A template that renders to an empty name is skipped; a field missing
//     from a template renders as "" (Sluice's template rule; Logstash leaves
//     the %{...} text in the name).
//   - A timer statistic that overflows float64 (the stddev of values near
//     1e200, say) is left out of the event rather than written as null.
//
// Differences from Logstash, on purpose: NAME.stddev is the standard
// deviation (Logstash takes the square root of metriks' stddev once more, a
// leftover from older metriks versions that returned the variance); missing
// timer values are ignored instead of counted as 0; `split` is not
// supported; durations take units ("10s"; a bare number is seconds).
//
// Apply is safe for concurrent use: meters live in 64 shards, each a map
// behind its own mutex, chosen by a hash of the meter name.
package metrics

import (
	"hash/maphash"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/template"
)

// Tick is how often the moving averages advance, as in metriks.
const Tick = 5 * time.Second

// tickTolerance absorbs ticker jitter: a Flush up to this much early still
// counts the tick.
const tickTolerance = 500 * time.Millisecond

const (
	numShards     = 64
	reservoirSize = 1028
	decayAlpha    = 0.015
	rescaleEvery  = 3600.0 // seconds
)

// Config is the metrics function's configuration.
type Config struct {
	Meter           []string          `yaml:"meter" doc:"Meter names as %{field} templates; each event marks the meter its template renders to."`
	Timer           map[string]string `yaml:"timer" doc:"Timer name template → numeric value (a field name or a %{field} template); records count, rates, min, max, mean, stddev, percentiles."`
	FlushInterval   config.Duration   `yaml:"flush_interval" doc:"How often the metrics event is emitted; a multiple of 5s."`
	ClearInterval   config.Duration   `yaml:"clear_interval" doc:"Remove every meter and timer at the first emission after this much time; -1 (or any value ≤ 0) never clears; else a multiple of 5s."`
	Rates           []int             `yaml:"rates" doc:"Rates to report, in minutes: any of 1, 5, 15."`
	Percentiles     []float64         `yaml:"percentiles" doc:"Timer percentiles to report, 0 to 100 (p99, p99_9 for 99.9)."`
	IgnoreOlderThan config.Duration   `yaml:"ignore_older_than" doc:"Skip events whose @timestamp is older than this; 0 counts every event."`
	AddTag          []string          `yaml:"add_tag" doc:"Tags of the emitted event; events already carrying one of them are not counted."`
	AddField        map[string]string `yaml:"add_field" doc:"Fields added to the emitted event; values are %{field} templates rendered against it."`
	TagOnFailure    []string          `yaml:"tag_on_failure" doc:"Tags added to events whose timer value is not a number."`

	meters      []*template.Template
	timers      []timerSpec
	pctKeys     []string
	addFieldKey []string
	addFieldVal []*template.Template
}

// timerSpec is one compiled timer entry.
type timerSpec struct {
	name  *template.Template
	field string             // the value is this field, when set
	value *template.Template // else the value is this template's text
}

// Validate checks the config and compiles its templates.
func (c *Config) Validate() error {
	if len(c.Meter) == 0 && len(c.Timer) == 0 {
		return component.Errorf("meter", "metrics needs at least one meter or timer")
	}
	c.meters = c.meters[:0]
	for i, m := range c.Meter {
		if m == "" {
			return component.Errorf("meter", "entry %d is empty; give a meter name like events_%%{host.name}", i)
		}
		t, err := template.Parse(m)
		if err != nil {
			return component.Errorf("meter", "entry %d: %v", i, err)
		}
		c.meters = append(c.meters, t)
	}
	names := make([]string, 0, len(c.Timer))
	for k := range c.Timer {
		names = append(names, k)
	}
	sort.Strings(names)
	c.timers = c.timers[:0]
	for _, name := range names {
		if name == "" {
			return component.Errorf("timer", "a timer has an empty name")
		}
		nt, err := template.Parse(name)
		if err != nil {
			return component.Errorf("timer", "name %q: %v", name, err)
		}
		src := strings.TrimSpace(c.Timer[name])
		if src == "" {
			return component.Errorf("timer", "timer %q has no value; give a field name like duration or a template like %%{duration}", name)
		}
		vt, err := template.Parse(src)
		if err != nil {
			return component.Errorf("timer", "timer %q value: %v", name, err)
		}
		ts := timerSpec{name: nt}
		switch f := vt.Fields(); {
		case vt.IsStatic():
			ts.field = src
		case len(f) == 1 && src == "%{"+f[0]+"}":
			ts.field = f[0]
		default:
			ts.value = vt
		}
		c.timers = append(c.timers, ts)
	}
	if c.FlushInterval <= 0 || c.FlushInterval.D()%Tick != 0 {
		return component.Errorf("flush_interval", "must be a positive multiple of 5s (metrics tick every 5s), not %v", c.FlushInterval.D())
	}
	if c.ClearInterval > 0 && c.ClearInterval.D()%Tick != 0 {
		return component.Errorf("clear_interval", "must be -1 (never) or a positive multiple of 5s, not %v", c.ClearInterval.D())
	}
	if len(c.Rates) == 0 {
		return component.Errorf("rates", "needs at least one of 1, 5, 15")
	}
	for _, r := range c.Rates {
		if r != 1 && r != 5 && r != 15 {
			return component.Errorf("rates", "possible rates are 1, 5 and 15 (minutes), not %d", r)
		}
	}
	c.pctKeys = c.pctKeys[:0]
	seen := map[string]bool{}
	for _, p := range c.Percentiles {
		if !(p >= 0 && p <= 100) {
			return component.Errorf("percentiles", "a percentile is between 0 and 100, not %v", p)
		}
		k := "p" + strings.ReplaceAll(strconv.FormatFloat(p, 'f', -1, 64), ".", "_")
		if seen[k] {
			return component.Errorf("percentiles", "%v is listed twice", p)
		}
		seen[k] = true
		c.pctKeys = append(c.pctKeys, k)
	}
	if c.IgnoreOlderThan < 0 {
		return component.Errorf("ignore_older_than", "must be 0 (off) or positive, not %v", c.IgnoreOlderThan.D())
	}
	for _, t := range c.AddTag {
		if t == "" {
			return component.Errorf("add_tag", "tags cannot be empty")
		}
	}
	for _, t := range c.TagOnFailure {
		if t == "" {
			return component.Errorf("tag_on_failure", "tags cannot be empty")
		}
	}
	c.addFieldKey, c.addFieldVal = c.addFieldKey[:0], c.addFieldVal[:0]
	keys := make([]string, 0, len(c.AddField))
	for k := range c.AddField {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" {
			return component.Errorf("add_field", "a field name is empty")
		}
		t, err := template.Parse(c.AddField[k])
		if err != nil {
			return component.Errorf("add_field", "%s: %v", k, err)
		}
		c.addFieldKey = append(c.addFieldKey, k)
		c.addFieldVal = append(c.addFieldVal, t)
	}
	return nil
}

// Alphas of the 1, 5 and 15 minute moving averages ticked every 5 seconds.
var alphas = [3]float64{
	1 - math.Exp(-5.0/60.0/1),
	1 - math.Exp(-5.0/60.0/5),
	1 - math.Exp(-5.0/60.0/15),
}

// meter counts marks and keeps the three moving averages.
type meter struct {
	count     int64
	uncounted int64
	rates     [3]float64
	init      bool
}

func (m *meter) mark() { m.count++; m.uncounted++ }

// tick advances the averages by n ticks: the first takes the marks since
// the previous tick, the others see none.
func (m *meter) tick(n int64) {
	if n <= 0 {
		return
	}
	instant := float64(m.uncounted) / Tick.Seconds()
	m.uncounted = 0
	for i, a := range alphas {
		if m.init {
			m.rates[i] += a * (instant - m.rates[i])
		} else {
			m.rates[i] = instant
		}
		if n > 1 {
			m.rates[i] *= math.Pow(1-a, float64(n-1))
		}
	}
	m.init = true
}

// sample is one reservoir entry.
type sample struct{ prio, val float64 }

// reservoir is a min-heap by priority: metriks' (and Dropwizard's)
// exponentially decaying sample. Each value gets the priority
// exp(alpha·t)/u, u uniform in (0, 1], and the reservoir keeps the values of
// highest priority, so recent values are more likely to stay.
type reservoir []sample

// add offers a value with its priority.
func (r *reservoir) add(s sample) {
	h := *r
	if len(h) < reservoirSize {
		h = append(h, s)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if h[p].prio <= h[i].prio {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		*r = h
		return
	}
	if s.prio <= h[0].prio {
		return
	}
	h[0] = s
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(h) && h[l].prio < h[m].prio {
			m = l
		}
		if l+1 < len(h) && h[l+1].prio < h[m].prio {
			m = l + 1
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// timer is a meter plus a histogram of values.
type timer struct {
	meter
	min, max, sum float64
	mean, m2      float64 // Welford's running mean and sum of squared deviations
	sample        reservoir
}

func (t *timer) update(v, weight float64) {
	t.mark()
	n := float64(t.count)
	if t.count == 1 {
		t.min, t.max, t.mean, t.m2 = v, v, v, 0
	} else {
		t.min = min(t.min, v)
		t.max = max(t.max, v)
		old := t.mean
		t.mean += (v - old) / n
		t.m2 += (v - old) * (v - t.mean)
	}
	t.sum += v
	t.sample.add(sample{prio: weight / (1 - rand.Float64()), val: v})
}

// reportedMean is sum/count as in metriks, or the running mean when the sum
// overflowed.
func (t *timer) reportedMean() float64 {
	if m := t.sum / float64(t.count); !math.IsInf(m, 0) {
		return m
	}
	return t.mean
}

// stddev is the sample standard deviation; it is +Inf when the squares
// overflowed, and then left out of the event.
func (t *timer) stddev() float64 {
	if t.count <= 1 {
		return 0
	}
	return math.Sqrt(t.m2 / float64(t.count-1))
}

// quantile follows metriks' Snapshot#value on sorted values.
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	pos := q * float64(n+1)
	if pos < 1 {
		return sorted[0]
	}
	if pos >= float64(n) {
		return sorted[n-1]
	}
	i := int(pos)
	lower, upper := sorted[i-1], sorted[i]
	frac := pos - math.Floor(pos)
	if frac == 0 {
		return lower
	}
	if v := lower + frac*(upper-lower); !math.IsInf(v, 0) {
		return v
	}
	// upper-lower overflowed: the same point, computed without it.
	return lower*(1-frac) + upper*frac
}

type shard struct {
	mu     sync.Mutex
	meters map[string]*meter
	timers map[string]*timer
	// clock is the reservoir clock in seconds (it advances at each tick),
	// landmark the time the priorities are relative to, and weight
	// exp(alpha·(clock-landmark)), the weight of a value recorded now.
	clock, landmark, weight float64
	_                       [32]byte // keep shards on separate cache lines
}

type fn struct {
	cfg     *Config
	fail    *fnutil.Failure
	seed    maphash.Seed
	shards  [numShards]shard
	rateIdx []int // indexes into alphas, in the order of cfg.Rates
	host    string
	now     func() time.Time

	// Flush state; Flush runs on one goroutine but flushMu keeps it safe.
	flushMu    sync.Mutex
	start      time.Time
	lastTick   time.Time
	sinceFlush int64 // ticks since the last emission
	sinceClear int64 // ticks since the last clear
}

func newFn(c *Config, env component.Env, start time.Time) *fn {
	host, _ := os.Hostname()
	f := &fn{cfg: c, fail: fnutil.NewFailure(env, c.TagOnFailure), seed: maphash.MakeSeed(),
		host: host, now: time.Now, start: start, lastTick: start}
	for _, r := range c.Rates {
		switch r {
		case 1:
			f.rateIdx = append(f.rateIdx, 0)
		case 5:
			f.rateIdx = append(f.rateIdx, 1)
		case 15:
			f.rateIdx = append(f.rateIdx, 2)
		}
	}
	for i := range f.shards {
		f.shards[i].meters = map[string]*meter{}
		f.shards[i].timers = map[string]*timer{}
		f.shards[i].weight = 1
	}
	return f
}

func (f *fn) shardOf(name []byte) *shard {
	return &f.shards[maphash.Bytes(f.seed, name)&(numShards-1)]
}

// Apply implements component.Function. It never drops or changes the event,
// except for tag_on_failure when a timer value is not a number.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	if fnutil.HasAnyTag(ev, f.cfg.AddTag) { // its own output, back through the routes
		return true
	}
	if f.cfg.IgnoreOlderThan > 0 && !ev.Time.IsZero() && f.now().Sub(ev.Time) > f.cfg.IgnoreOlderThan.D() {
		return true
	}
	var buf [128]byte
	for _, t := range f.cfg.meters {
		name := t.Append(buf[:0], ev)
		if len(name) == 0 {
			continue
		}
		s := f.shardOf(name)
		s.mu.Lock()
		m := s.meters[string(name)]
		if m == nil {
			m = &meter{}
			s.meters[string(name)] = m
		}
		m.mark()
		s.mu.Unlock()
	}
	failed := false
	for i := range f.cfg.timers {
		ts := &f.cfg.timers[i]
		v, ok, bad := f.timerValue(ts, ev, buf[:0])
		if bad {
			failed = true
		}
		if !ok || v < 0 {
			continue
		}
		name := ts.name.Append(buf[:0], ev)
		if len(name) == 0 {
			continue
		}
		s := f.shardOf(name)
		s.mu.Lock()
		t := s.timers[string(name)]
		if t == nil {
			t = &timer{}
			s.timers[string(name)] = t
		}
		t.update(v, s.weight)
		s.mu.Unlock()
	}
	if failed {
		f.fail.Fail(ev)
	}
	return true
}

// timerValue reads a timer's value. ok is false when there is none; bad
// is true when there is one and it is not a number.
func (f *fn) timerValue(ts *timerSpec, ev *event.Event, buf []byte) (v float64, ok, bad bool) {
	if ts.field != "" {
		val, found := ev.Lookup(ts.field)
		if !found || val.IsNull() {
			return 0, false, false
		}
		if s, isStr := val.Str(); isStr {
			return parseNumber(s)
		}
		switch x := val.Interface().(type) {
		case int64:
			return float64(x), true, false
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return 0, false, true
			}
			return x, true, false
		}
		return 0, false, true
	}
	text := ts.value.Append(buf, ev)
	if len(text) == 0 {
		return 0, false, false
	}
	return parseNumber(string(text))
}

func parseNumber(s string) (v float64, ok, bad bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, false
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false, true
	}
	return x, true, false
}

// FlushInterval implements component.Flusher: the function ticks every 5
// seconds and emits every flush_interval, as Logstash's filter does.
func (f *fn) FlushInterval() time.Duration { return Tick }

// record is one meter or timer read at flush time: a copy, or the timer
// itself when it was removed from its map.
type record struct {
	name string
	m    meter
	t    *timer // nil for a meter
}

// Flush implements component.Flusher.
func (f *fn) Flush(now time.Time, final bool, emit func(event.Event)) {
	f.flushMu.Lock()
	defer f.flushMu.Unlock()
	var n int64
	if d := now.Sub(f.lastTick); d > 0 {
		n = int64((d + tickTolerance) / Tick)
	}
	f.lastTick = f.lastTick.Add(time.Duration(n) * Tick)
	f.sinceFlush += n
	f.sinceClear += n
	due := final || time.Duration(f.sinceFlush)*Tick >= f.cfg.FlushInterval.D()
	clearDue := !final && f.cfg.ClearInterval > 0 && time.Duration(f.sinceClear)*Tick >= f.cfg.ClearInterval.D()
	if n == 0 && !due {
		return
	}
	clock := f.lastTick.Sub(f.start).Seconds()

	var recs []record
	timersSeen := map[string]bool{}
	for i := range f.shards {
		s := &f.shards[i]
		s.mu.Lock()
		s.clock = clock
		if clock-s.landmark >= rescaleEvery {
			scale := math.Exp(-decayAlpha * (clock - s.landmark))
			for _, t := range s.timers {
				for j := range t.sample {
					t.sample[j].prio *= scale
				}
			}
			s.landmark = clock
		}
		s.weight = math.Exp(decayAlpha * (clock - s.landmark))
		for name, m := range s.meters {
			m.tick(n)
			if due {
				recs = append(recs, record{name: name, m: *m})
			}
		}
		for name, t := range s.timers {
			t.tick(n)
			if due {
				r := record{name: name, m: t.meter, t: t}
				if !clearDue {
					// Copy: the timer keeps changing once the lock is
					// released (a cleared timer leaves the map below).
					r.t = &timer{meter: t.meter, min: t.min, max: t.max, sum: t.sum, mean: t.mean, m2: t.m2,
						sample: append(reservoir(nil), t.sample...)}
				}
				recs = append(recs, r)
				timersSeen[name] = true
			}
		}
		if due && clearDue {
			// Cleared in the same pass, under the lock, so that no event
			// marked in between is lost.
			s.meters = map[string]*meter{}
			s.timers = map[string]*timer{}
		}
		s.mu.Unlock()
	}
	if !due || len(recs) == 0 {
		return
	}
	f.sinceFlush = 0
	if clearDue {
		f.sinceClear = 0
	}
	emit(f.event(now, recs, timersSeen))
}

// event builds the metrics event from recs.
func (f *fn) event(now time.Time, recs []record, timersSeen map[string]bool) event.Event {
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].name != recs[j].name {
			return recs[i].name < recs[j].name
		}
		return recs[i].t == nil
	})
	per := 1 + len(f.rateIdx)
	ev := event.NewSized(now, len(recs)*(per+4+len(f.cfg.pctKeys))+2+len(f.cfg.addFieldKey))
	ev.AppendField(event.MessageField, event.String(f.host))
	var kb []byte
	key := func(name, suffix string) string {
		kb = append(append(append(kb[:0], name...), '.'), suffix...)
		return string(kb)
	}
	rateNames := [3]string{"rate_1m", "rate_5m", "rate_15m"}
	for i := range recs {
		r := &recs[i]
		if r.t == nil && timersSeen[r.name] {
			// A timer of the same name reports count and rates (Logstash
			// writes timers after meters, so the timer's values win).
			continue
		}
		ev.AppendField(key(r.name, "count"), event.Int(r.m.count))
		for _, ri := range f.rateIdx {
			ev.AppendField(key(r.name, rateNames[ri]), event.Float(r.m.rates[ri]))
		}
		if r.t == nil {
			continue
		}
		addFloat := func(suffix string, v float64) {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ev.AppendField(key(r.name, suffix), event.Float(v))
			}
		}
		addFloat("min", r.t.min)
		addFloat("max", r.t.max)
		addFloat("stddev", r.t.stddev())
		addFloat("mean", r.t.reportedMean())
		sorted := make([]float64, len(r.t.sample))
		for j, smp := range r.t.sample {
			sorted[j] = smp.val
		}
		sort.Float64s(sorted)
		for j, p := range f.cfg.Percentiles {
			addFloat(f.cfg.pctKeys[j], quantile(sorted, p/100))
		}
	}
	vals := make([]string, len(f.cfg.addFieldVal))
	for i, t := range f.cfg.addFieldVal {
		vals[i] = t.Render(&ev)
	}
	for i, k := range f.cfg.addFieldKey {
		ev.SetString(k, vals[i])
	}
	for _, t := range f.cfg.AddTag {
		ev.AddTag(t)
	}
	return ev
}

// Spec registers the metrics function.
var Spec = component.FunctionSpec{
	Type: "metrics",
	Doc: "Logstash's metrics filter: counts events into meters named by %{field} templates (count and 1/5/15-minute rates as " +
		"exponentially weighted moving averages, ticked every 5s) and records numeric fields into timers (count, rates, min, max, " +
		"mean, stddev, percentiles); every flush_interval it emits one event holding them all, tagged add_tag (default metric), " +
		"which routes can send elsewhere with '\"metric\" in tags'. Events carrying its own add_tag are not counted. Events pass unchanged.",
	Example: `- type: metrics
  meter: ["events_%{kubernetes.namespace}"]
  timer:
    request_time: "%{http.response.time_ms}"
  flush_interval: 30s
  rates: [1, 5]
  percentiles: [50, 95, 99]
  add_tag: [metric]`,
	NewConfig: func() any {
		return &Config{
			FlushInterval: config.Duration(5 * time.Second),
			ClearInterval: config.Duration(-time.Second),
			Rates:         []int{1, 5, 15},
			Percentiles:   []float64{1, 5, 10, 90, 95, 99, 100},
			AddTag:        []string{"metric"},
		}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("metrics", cfg)
		if err != nil {
			return nil, err
		}
		return newFn(c, env, time.Now()), nil
	},
}
