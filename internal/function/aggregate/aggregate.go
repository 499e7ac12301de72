// Package aggregate is the "aggregate" function: count, sum, min, max and
// average by group over tumbling time windows, emitted as events, after
// Cribl Stream's Aggregations function.
//
// Semantics:
//
//   - Windows are tumbling, `window` long (default 60s), aligned to
//     multiples of the window since the Unix epoch (a 60s window runs from
//     second 0 to 59 of each minute, UTC). An event belongs to the window
//     of its own @timestamp (event time); an event with no timestamp
//     belongs to the window of the wall clock when it arrives.
//   - Within a window, events are grouped by the values of the `group_by`
//     fields (compared by their text, so 200 and "200" are one group; a
//     missing field is its own value, distinct from ""). Group-by fields are
//     leaf fields, not objects.
//   - `aggregations` lists {op, field, as}: count (every event, or with a
//     field the events that have it), sum, min, max and avg of a numeric
//     field. Integers, floats and strings that parse as numbers count;
//     other values and missing fields are skipped, as in Cribl. sum, min and
//     max are integers while every value was an integer (and the sum did not
//     overflow), floats otherwise; avg is always a float. With no numeric
//     value in a group, sum is 0 and min, max and avg are left out. The
//     output name defaults to "count", "count_FIELD" or "OP_FIELD"
//     ("sum_bytes", as older Cribl versions name it), with the field's dots
//     written as "_" ("avg_event_duration"). Output names must not clash
//     with one another, with a group_by field or with window_end and
//     overflow, nor sit inside one another.
//   - A window is emitted when the wall clock passes its end plus
//     `lateness` (default 5s): one event per group, with @timestamp = the
//     window start, `window_end`, the group-by fields, the aggregates and
//     the add_tag tags (default ["aggregate"]). Events are emitted in order
//     of window, then of group-by values (a missing field first, then by
//     text), the overflow group last. The runtime checks every second (or
//     every window, if shorter). The final flush (pipeline retired) emits
//     every window held, complete or not; after a config reload the new
//     pipeline starts empty, so a window open at the reload is emitted in
//     two parts.
//   - An event arriving after its window was emitted is late: it is not
//     aggregated (a second, partial row for the same window would be
//     misread as the whole), gets tag_on_failure (default
//     ["_aggregate_late"]), is counted as a failure of the function, and
//     goes on even when passthrough is false, since a failure never drops an
//     event. A warning with the number of late events is logged at the next
//     flush.
//   - `passthrough` (default true) lets the original events continue; with
//     false, aggregated events are dropped and the aggregates replace them.
//   - `max_groups` (default 100000) bounds the groups held across all open
//     windows: beyond it, an event that would open a new group is counted in
//     its window's overflow group, emitted with `overflow: true` and no
//     group-by fields, and a warning is logged when that window is emitted.
//   - Emitted events re-enter the routes from the top and may reach this
//     function again: events carrying any of its add_tag tags are not
//     aggregated and always pass unchanged, so the function neither counts
//     nor drops its own output. With add_tag: [] there is no such guard.
//
// Apply is safe for concurrent use: groups live in 64 shards, each a map of
// windows behind its own mutex, chosen by a hash of the window and group.
package aggregate

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

const numShards = 64

// Output field names besides the group-by fields and the aggregates.
const (
	WindowEndField = "window_end"
	OverflowField  = "overflow"
)

// overflowKey is the group key of a window's overflow group; no real key
// starts with 0xff (each field's encoding starts with 1 or 2), so it sorts
// last.
const overflowKey = "\xff"

// Aggregation is one aggregate to compute per group.
type Aggregation struct {
	Op    string `yaml:"op" doc:"count, sum, min, max or avg."`
	Field string `yaml:"field" doc:"The numeric field; for count, optional: count only events that have it."`
	As    string `yaml:"as" doc:"Output field; default count, count_FIELD or OP_FIELD (sum_bytes; dots in FIELD become _)."`
}

// Config is the aggregate function's configuration.
type Config struct {
	GroupBy      []string        `yaml:"group_by" doc:"Fields whose values form a group; none aggregates every event of a window together."`
	Aggregations []Aggregation   `yaml:"aggregations" doc:"Aggregates per group: a list of {op: count|sum|min|max|avg, field, as}."`
	Window       config.Duration `yaml:"window" doc:"Length of the tumbling windows, aligned to multiples of it since the epoch, on event time."`
	Lateness     config.Duration `yaml:"lateness" doc:"How long after a window's end (wall clock) it stays open for late events before it is emitted."`
	Passthrough  bool            `yaml:"passthrough" doc:"Let the original events continue; false drops them (the aggregates replace them)."`
	MaxGroups    int             `yaml:"max_groups" doc:"Groups held across open windows; beyond it new groups count in an overflow group (overflow: true)."`
	AddTag       []string        `yaml:"add_tag" doc:"Tags of the emitted events; events carrying one of them are not aggregated."`
	TagOnFailure []string        `yaml:"tag_on_failure" doc:"Tags added to events that arrive after their window was emitted (they are not aggregated)."`

	ops []op
}

type opKind uint8

const (
	opCount opKind = iota
	opSum
	opMin
	opMax
	opAvg
)

// op is a compiled Aggregation.
type op struct {
	kind  opKind
	field string
	as    string
}

// Validate checks the config and compiles the aggregations.
func (c *Config) Validate() error {
	// The output fields must not be one another, nor inside one another.
	outputs := [][2]string{{WindowEndField, "the window end"}, {OverflowField, "the overflow flag"}}
	clash := func(name string) string {
		for _, o := range outputs {
			if o[0] == name || strings.HasPrefix(name, o[0]+".") || strings.HasPrefix(o[0], name+".") {
				return fmt.Sprintf("%s (%s)", o[1], o[0])
			}
		}
		return ""
	}
	for i, g := range c.GroupBy {
		switch {
		case g == "":
			return component.Errorf("group_by", "entry %d is empty", i)
		case g == event.TimestampField:
			return component.Errorf("group_by", "cannot group by @timestamp: the window is the time grouping")
		case clash(g) != "":
			return component.Errorf("group_by", "%q clashes with %s in the output", g, clash(g))
		}
		outputs = append(outputs, [2]string{g, "a group_by field"})
	}
	if len(c.Aggregations) == 0 {
		return component.Errorf("aggregations", "aggregate needs at least one aggregation, like {op: count}")
	}
	c.ops = c.ops[:0]
	for i, a := range c.Aggregations {
		o := op{field: a.Field, as: a.As}
		switch a.Op {
		case "count":
			o.kind = opCount
		case "sum":
			o.kind = opSum
		case "min":
			o.kind = opMin
		case "max":
			o.kind = opMax
		case "avg":
			o.kind = opAvg
		default:
			return component.Errorf("aggregations", "entry %d: op must be count, sum, min, max or avg, not %q", i, a.Op)
		}
		if a.Field == "" && o.kind != opCount {
			return component.Errorf("aggregations", "entry %d: %s needs a field", i, a.Op)
		}
		if o.as == "" {
			o.as = a.Op
			if a.Field != "" {
				o.as += "_" + strings.ReplaceAll(a.Field, ".", "_")
			}
		}
		if o.as == event.TimestampField || o.as == event.TagsField {
			return component.Errorf("aggregations", "entry %d: cannot write the aggregate to %s", i, o.as)
		}
		if what := clash(o.as); what != "" {
			return component.Errorf("aggregations", "entry %d: output %q clashes with %s; set a different `as`", i, o.as, what)
		}
		outputs = append(outputs, [2]string{o.as, "another aggregation"})
		c.ops = append(c.ops, o)
	}
	if c.Window.D() < time.Second {
		return component.Errorf("window", "must be at least 1s, not %v", c.Window.D())
	}
	if c.Lateness < 0 {
		return component.Errorf("lateness", "must be 0 or more, not %v", c.Lateness.D())
	}
	if c.MaxGroups < 1 {
		return component.Errorf("max_groups", "must be at least 1, not %d", c.MaxGroups)
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
	return nil
}

// agg is the running state of one aggregation in one group.
type agg struct {
	n     int64   // values seen (events with the field, for count)
	float bool    // a value was a float, or the integer sum overflowed
	i     int64   // integer sum, min or max while every value is an integer
	f     float64 // float sum, min or max
}

func (a *agg) add(kind opKind, i int64, f float64, isInt bool) {
	a.n++
	if !isInt {
		a.float = true
	}
	switch kind {
	case opSum, opAvg:
		a.f += f
		if !a.float {
			s, overflow := addInt(a.i, i)
			if overflow {
				a.float = true
			}
			a.i = s
		}
	case opMin:
		if a.n == 1 || f < a.f {
			a.f = f
		}
		if isInt && (a.n == 1 || i < a.i) {
			a.i = i
		}
	case opMax:
		if a.n == 1 || f > a.f {
			a.f = f
		}
		if isInt && (a.n == 1 || i > a.i) {
			a.i = i
		}
	}
}

// merge adds the state b to a (the same aggregation in another group).
func (a *agg) merge(kind opKind, b *agg) {
	if b.n == 0 {
		return
	}
	if a.n == 0 {
		*a = *b
		return
	}
	a.n += b.n
	a.float = a.float || b.float
	switch kind {
	case opSum, opAvg:
		a.f += b.f
		s, overflow := addInt(a.i, b.i)
		a.i, a.float = s, a.float || overflow
	case opMin:
		a.f, a.i = min(a.f, b.f), min(a.i, b.i)
	case opMax:
		a.f, a.i = max(a.f, b.f), max(a.i, b.i)
	}
}

func addInt(a, b int64) (int64, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

// group is one group of one window.
type group struct {
	key      string
	values   []event.Value // group-by values, in group_by order
	present  []bool
	overflow bool
	count    int64
	aggs     []agg
}

type shard struct {
	mu      sync.Mutex
	windows map[int64]map[string]*group // window start (ns since epoch) → key → group
	_       [48]byte                    // keep shards on separate cache lines
}

var epoch = time.Unix(0, 0).UTC()

type fn struct {
	cfg    *Config
	window int64 // ns
	log    *slog.Logger
	fail   *fnutil.Failure
	seed   maphash.Seed
	shards [numShards]shard
	now    func() time.Time

	// closed: windows starting before it are emitted; read under a shard
	// lock by Apply, raised by Flush before it sweeps the shards.
	closed atomic.Int64
	groups atomic.Int64 // groups held, overflow groups aside
	late   atomic.Int64 // late events since the last flush
}

func newFn(c *Config, env component.Env) *fn {
	f := &fn{cfg: c, window: int64(c.Window), log: fnutil.Logger(env), fail: fnutil.NewFailure(env, c.TagOnFailure),
		seed: maphash.MakeSeed(), now: time.Now}
	f.closed.Store(math.MinInt64)
	for i := range f.shards {
		f.shards[i].windows = map[int64]map[string]*group{}
	}
	return f
}

// windowOf returns the start of t's window in ns since the epoch. Times
// more than 292 years from 1970 saturate into the first or last window.
func (f *fn) windowOf(t time.Time) int64 {
	d := int64(t.Sub(epoch))
	r := d % f.window
	if r < 0 {
		if d-r < math.MinInt64+f.window {
			return d - r // the first window: nothing below it
		}
		r += f.window
	}
	return d - r
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	if fnutil.HasAnyTag(ev, f.cfg.AddTag) { // its own output, back through the routes
		return true
	}
	t := ev.Time
	if t.IsZero() {
		t = f.now()
	}
	ws := f.windowOf(t)
	var buf [128]byte
	key := binary.LittleEndian.AppendUint64(buf[:0], uint64(ws))
	for _, name := range f.cfg.GroupBy {
		v, ok := ev.Lookup(name)
		key = appendKeyPart(key, v, ok)
	}
	// Read the values before taking the lock, to hold it briefly.
	var valBuf [8]value
	vals := valBuf[:0]
	if len(f.cfg.ops) > len(valBuf) {
		vals = make([]value, 0, len(f.cfg.ops))
	}
	for i := range f.cfg.ops {
		vals = append(vals, readValue(&f.cfg.ops[i], ev))
	}
	s := &f.shards[maphash.Bytes(f.seed, key)&(numShards-1)]
	gk := key[8:]
	s.mu.Lock()
	if ws < f.closed.Load() {
		s.mu.Unlock()
		f.late.Add(1)
		f.fail.Fail(ev)
		return true
	}
	w := s.windows[ws]
	if w == nil {
		w = map[string]*group{}
		s.windows[ws] = w
	}
	g := w[string(gk)]
	if g == nil {
		g = f.newGroup(w, gk, ev)
	}
	g.count++
	for i, v := range vals {
		if v.ok {
			g.aggs[i].add(f.cfg.ops[i].kind, v.i, v.f, v.isInt)
		}
	}
	s.mu.Unlock()
	return f.cfg.Passthrough
}

// appendKeyPart appends one group field to a group key: 1 when it is
// missing, else 2, its text with each 0 byte written as 0 0xff, and 0. The
// encoding is unambiguous, and keys sort as their fields do (missing first,
// then by text), which is the order groups are emitted in.
func appendKeyPart(key []byte, v event.Value, present bool) []byte {
	if !present {
		return append(key, 1)
	}
	key = append(key, 2)
	n := len(key)
	key = v.AppendText(key)
	if bytes.IndexByte(key[n:], 0) >= 0 {
		text := append([]byte(nil), key[n:]...)
		key = key[:n]
		for _, c := range text {
			key = append(key, c)
			if c == 0 {
				key = append(key, 0xff)
			}
		}
	}
	return append(key, 0)
}

// newGroup adds the group of ev with key gk to window w, or returns the
// window's overflow group when max_groups are held. The caller holds the
// shard lock.
func (f *fn) newGroup(w map[string]*group, gk []byte, ev *event.Event) *group {
	if f.groups.Add(1) > int64(f.cfg.MaxGroups) {
		f.groups.Add(-1)
		g := w[overflowKey]
		if g == nil {
			g = &group{key: overflowKey, overflow: true, aggs: make([]agg, len(f.cfg.ops))}
			w[overflowKey] = g
		}
		return g
	}
	g := &group{key: string(gk), aggs: make([]agg, len(f.cfg.ops)),
		values: make([]event.Value, len(f.cfg.GroupBy)), present: make([]bool, len(f.cfg.GroupBy))}
	for i, name := range f.cfg.GroupBy {
		if v, ok := ev.Lookup(name); ok {
			g.values[i], g.present[i] = keep(v), true
		}
	}
	w[g.key] = g
	return g
}

// keep returns a copy of v that does not share memory with the event (a
// parser's strings may point into a buffer that is reused). Arrays and
// objects are kept as their JSON text.
func keep(v event.Value) event.Value {
	switch x := v.Interface().(type) {
	case string:
		return event.String(strings.Clone(x))
	case int64, float64, bool, time.Time, nil:
		return v
	}
	return event.String(v.Text())
}

// value is what one aggregation reads from an event.
type value struct {
	i         int64
	f         float64
	isInt, ok bool
}

// readValue reads the value of o in ev: for count with a field, whether
// the field is there; for the others, its number.
func readValue(o *op, ev *event.Event) value {
	if o.field == "" {
		return value{}
	}
	v, found := ev.Lookup(o.field)
	if !found || v.IsNull() {
		return value{}
	}
	if o.kind == opCount {
		return value{ok: true, isInt: true}
	}
	i, f, isInt, ok := number(v)
	return value{i: i, f: f, isInt: isInt, ok: ok}
}

// number reads a numeric value: integers, finite floats and strings that
// parse as either.
func number(v event.Value) (i int64, f float64, isInt, ok bool) {
	if s, isStr := v.Str(); isStr {
		s = strings.TrimSpace(s)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, float64(n), true, true
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, 0, false, false
		}
		return 0, x, false, true
	}
	switch x := v.Interface().(type) {
	case int64:
		return x, float64(x), true, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, 0, false, false
		}
		return 0, x, false, true
	}
	return 0, 0, false, false
}

// FlushInterval implements component.Flusher: every second, or every
// window if shorter.
func (f *fn) FlushInterval() time.Duration { return min(f.cfg.Window.D(), time.Second) }

// emitted is a group taken out at flush time, with its window.
type emitted struct {
	ws int64
	g  *group
}

// Flush implements component.Flusher: it emits the windows whose end plus
// lateness has passed, or every window when final.
func (f *fn) Flush(now time.Time, final bool, emit func(event.Event)) {
	cut := int64(math.MaxInt64)
	if !final {
		cut = f.windowOf(now.Add(-f.cfg.Lateness.D()))
	}
	for {
		old := f.closed.Load()
		if cut <= old || f.closed.CompareAndSwap(old, cut) {
			break
		}
	}
	cut = f.closed.Load()
	var out []emitted
	for i := range f.shards {
		s := &f.shards[i]
		s.mu.Lock()
		for ws, w := range s.windows {
			if ws >= cut {
				continue
			}
			for _, g := range w {
				out = append(out, emitted{ws, g})
			}
			delete(s.windows, ws)
		}
		s.mu.Unlock()
	}
	if n := f.late.Swap(0); n > 0 {
		f.log.Warn("aggregate: events arrived after their window was emitted; they were not aggregated (raise lateness to wait longer)",
			"events", n)
	}
	if len(out) == 0 {
		return
	}
	slices.SortFunc(out, func(a, b emitted) int {
		if c := cmp.Compare(a.ws, b.ws); c != 0 {
			return c
		}
		return strings.Compare(a.g.key, b.g.key)
	})
	held := int64(0)
	for i, e := range out {
		if !e.g.overflow {
			held++
			continue
		}
		if i+1 < len(out) && out[i+1].ws == e.ws && out[i+1].g.overflow {
			// Each shard has its own overflow group: merge a window's.
			next := out[i+1].g
			next.count += e.g.count
			for j := range f.cfg.ops {
				next.aggs[j].merge(f.cfg.ops[j].kind, &e.g.aggs[j])
			}
			out[i].g = nil
		}
	}
	for _, e := range out {
		if e.g == nil {
			continue
		}
		if e.g.overflow {
			f.log.Warn("aggregate: max_groups reached; events of new groups were counted in the overflow group",
				"window", f.start(e.ws), "events", e.g.count, "max_groups", f.cfg.MaxGroups)
		}
		emit(f.event(e.ws, e.g))
	}
	f.groups.Add(-held)
}

func (f *fn) start(ws int64) time.Time { return epoch.Add(time.Duration(ws)) }

// event builds the output event of one group.
func (f *fn) event(ws int64, g *group) event.Event {
	start := f.start(ws)
	ev := event.NewSized(start, len(g.values)+len(g.aggs)+3)
	for i, v := range g.values { // none for the overflow group
		if g.present[i] {
			ev.SetValue(f.cfg.GroupBy[i], v)
		}
	}
	if g.overflow {
		ev.SetValue(OverflowField, event.Bool(true))
	}
	ev.SetValue(WindowEndField, event.Time(start.Add(f.cfg.Window.D())))
	for i := range f.cfg.ops {
		o := &f.cfg.ops[i]
		a := &g.aggs[i]
		switch {
		case o.kind == opCount && o.field == "":
			ev.SetValue(o.as, event.Int(g.count))
		case o.kind == opCount:
			ev.SetValue(o.as, event.Int(a.n))
		case o.kind == opAvg:
			if a.n > 0 {
				ev.SetValue(o.as, event.Float(a.f/float64(a.n)))
			}
		case a.n == 0 && o.kind != opSum:
			// min and max of nothing are left out.
		case a.float:
			ev.SetValue(o.as, event.Float(a.f))
		default:
			ev.SetValue(o.as, event.Int(a.i))
		}
	}
	for _, t := range f.cfg.AddTag {
		ev.AddTag(t)
	}
	return ev
}

// Spec registers the aggregate function.
var Spec = component.FunctionSpec{
	Type: "aggregate",
	Doc: "Counts, sums, minimums, maximums and averages by group_by fields over tumbling event-time windows " +
		"(after Cribl's Aggregations): each window is emitted lateness after its end as one event per group " +
		"(@timestamp = window start, window_end, the group fields, the aggregates, tagged add_tag, default aggregate), " +
		"which routes can send elsewhere with '\"aggregate\" in tags'. Late events are tagged, not aggregated; " +
		"passthrough: false drops the aggregated originals.",
	Example: `- type: aggregate
  group_by: [kubernetes.namespace, http.response.status_code]
  aggregations:
    - {op: count}
    - {op: sum, field: http.response.body.bytes, as: bytes}
    - {op: avg, field: event.duration}
  window: 60s
  lateness: 10s
  passthrough: false`,
	NewConfig: func() any {
		return &Config{
			Window:       config.Duration(60 * time.Second),
			Lateness:     config.Duration(5 * time.Second),
			Passthrough:  true,
			MaxGroups:    100000,
			AddTag:       []string{"aggregate"},
			TagOnFailure: []string{"_aggregate_late"},
		}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("aggregate", cfg)
		if err != nil {
			return nil, err
		}
		return newFn(c, env), nil
	},
}
