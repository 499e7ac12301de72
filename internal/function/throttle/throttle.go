// Package throttle is the "throttle" function: Logstash's throttle filter
// (logstash-filter-throttle 4.0.4), counting events per key in timeslots of
// event time and marking those whose count is out of range.
//
// Each key (a %{field} template; Logstash's %{[a][b]} references are
// accepted too) has a timeslot cache created at the epoch second of its
// first event. An event at epoch second e falls in the timeslot that starts
// at e - ((e - created) mod period), the modulo taken as Ruby does (floored,
// so an event older than the key's first one lands in an earlier timeslot).
// The timeslot's counter is incremented, and the event is "throttled" when
// the new count is below before_count or above after_count (-1 disables
// either bound). A throttled event gets the decorations add_field,
// remove_field, add_tag and remove_tag (in that order, as Logstash's
// filter_matched applies them); throttle never drops events itself: follow
// it with `- type: drop` and `if: '"throttled" in tags'`. After each event
// the key's timeslots that start more than max_age before its newest
// timeslot are deleted, so an event later than that lands in a fresh
// timeslot that is deleted at once.
//
// Every 5 seconds (Logstash's periodic flush) the keys whose newest epoch is
// more than max_age older than the newest epoch of any key are deleted, the
// counters (timeslots) are totalled, and the memory control of Logstash
// runs: above max_counters, max_age is lowered by 5% of its configured
// value (not below 5%); below 80% of max_counters it is raised again by 5%
// up to the configured value. The steps use Logstash's integer arithmetic,
// so with max_age under 20s they are 0. A change is logged as a warning at
// most once a minute.
//
// Differences from Logstash, all deliberate: keys are held by a 64-bit
// hash of their text (a collision is about 1 in 4 billion at 100,000 keys);
// a missing field renders as "" in the key where Logstash leaves
// "%{field}"; an event without a timestamp counts at the current time;
// a templated period that is not a positive number falls back to 60s
// (Logstash only replaces 0); max_counters is also a
// hard cap on the number of keys (Logstash lets memory grow while max_age
// shrinks): when a new key would exceed it, the keys with the oldest latest
// epoch are evicted in batches of an eighth of a shard, so their next
// events start counting afresh. The cache is split into up to 64 shards by
// key hash, each with its own lock, and the cap is enforced per shard
// (ceil(max_counters/shards) keys each). Configs that Logstash accepts but
// that never or always throttle (both counts -1, or before_count above
// after_count + 1) are rejected, as are periods that are not whole seconds.
package throttle

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/fnutil/keycache"
	"github.com/sluicehq/sluice/internal/template"
)

// Memory control constants of Logstash's throttle filter (percentages of
// the configured max_age).
const (
	mcMinPct  = 5
	mcMaxPct  = 100
	mcIncrPct = 80
	mcStepPct = 5
)

// flushEvery is Logstash's periodic flush interval.
const flushEvery = 5 * time.Second

// warnEvery rate-limits the memory control warnings.
const warnEvery = time.Minute

// defaultPeriod is Logstash's fallback when a templated period is not a
// positive number of seconds.
const defaultPeriod = 60

// Config is the throttle function's configuration.
type Config struct {
	Key          string            `yaml:"key" doc:"Template naming the counter an event counts in, e.g. \"%{kubernetes.pod.name}\" (Logstash's %{[a][b]} form works too). Required."`
	BeforeCount  int64             `yaml:"before_count" doc:"Events whose count in their timeslot is below this are throttled; -1 disables the lower bound."`
	AfterCount   int64             `yaml:"after_count" doc:"Events whose count in their timeslot is above this are throttled; -1 disables the upper bound."`
	Period       string            `yaml:"period" doc:"Length of a timeslot: a duration (60s, 1m) or a bare number of seconds, whole seconds only; may be a template (\"%{ttl}\"), evaluated per event, falling back to 60s when not a positive number."`
	MaxAge       config.Duration   `yaml:"max_age" doc:"Timeslots older than this (relative to the newest one of the key) are deleted, and keys idle this long behind the newest event are forgotten; whole seconds. At least twice period is advised."`
	MaxCounters  int64             `yaml:"max_counters" doc:"Above this many counters max_age is lowered step by step (Logstash's memory control); also the most keys kept. -1: no limit."`
	AddTag       StringList        `yaml:"add_tag" doc:"Tags (templates) added to throttled events."`
	AddField     map[string]string `yaml:"add_field" doc:"Fields (names and values are templates) added to throttled events, in name order; an existing field becomes an array with the value appended."`
	RemoveTag    StringList        `yaml:"remove_tag" doc:"Tags (templates) removed from throttled events."`
	RemoveField  StringList        `yaml:"remove_field" doc:"Fields (templates) removed from throttled events."`
	key          *template.Template
	period       int64
	periodTmpl   *template.Template
	decorations  decorations
	maxAgeSecond int64
}

// Validate checks the options and compiles the templates.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Key) == "" {
		return component.Errorf("key", "throttle needs a key, e.g. \"%%{host.name}\" (use a constant string to count all events together)")
	}
	var err error
	if c.key, err = parseTemplate(c.Key); err != nil {
		return component.Errorf("key", "%v", err)
	}
	if c.BeforeCount < -1 {
		return component.Errorf("before_count", "must be -1 (off) or a count >= 0, not %d", c.BeforeCount)
	}
	if c.AfterCount < -1 {
		return component.Errorf("after_count", "must be -1 (off) or a count >= 0, not %d", c.AfterCount)
	}
	if c.BeforeCount == -1 && c.AfterCount == -1 {
		return component.Errorf("after_count", "set after_count and/or before_count: with both -1 no event is ever throttled")
	}
	if c.BeforeCount != -1 && c.AfterCount != -1 && c.BeforeCount > c.AfterCount+1 {
		return component.Errorf("before_count", "before_count %d > after_count %d + 1 throttles every event", c.BeforeCount, c.AfterCount)
	}
	if err := c.validatePeriod(); err != nil {
		return err
	}
	d := c.MaxAge.D()
	if d < 0 || d%time.Second != 0 {
		return component.Errorf("max_age", "must be a whole number of seconds >= 0, not %v", d)
	}
	c.maxAgeSecond = int64(d / time.Second)
	if c.MaxCounters < -1 || c.MaxCounters == 0 {
		return component.Errorf("max_counters", "must be -1 (no limit) or a count >= 1, not %d", c.MaxCounters)
	}
	return c.decorations.compile(c.AddTag, c.AddField, c.RemoveTag, c.RemoveField)
}

func (c *Config) validatePeriod() error {
	c.periodTmpl, c.period = nil, 0
	t, err := parseTemplate(c.Period)
	if err != nil {
		return component.Errorf("period", "%v", err)
	}
	if !t.IsStatic() {
		c.periodTmpl = t
		return nil
	}
	d, err := config.ParseDuration(t.Render(nil))
	if err != nil {
		return component.Errorf("period", "%v", err)
	}
	if d < time.Second || d%time.Second != 0 {
		return component.Errorf("period", "must be a whole number of seconds >= 1s (timeslots are counted in epoch seconds, as in Logstash), not %v", d)
	}
	c.period = int64(d / time.Second)
	return nil
}

// fn is a built throttle function.
type fn struct {
	cfg    *Config
	cache  *keycache.Cache[keyState]
	maxAge atomic.Int64 // seconds; lowered and raised by the memory control
	log    *slog.Logger
	now    func() time.Time

	// evictWarns rate-limits the eviction warning.
	evictWarns fnutil.Limiter

	mu       sync.Mutex // guards the memory control's warning state
	lastWarn time.Time
}

// build makes a throttle function from a validated config.
func build(c *Config, env component.Env) (component.Function, error) {
	f := &fn{cfg: c, cache: keycache.New[keyState](c.MaxCounters), now: time.Now,
		log: fnutil.Logger(env).With("function", env.Name)}
	f.maxAge.Store(c.maxAgeSecond)
	if c.periodTmpl == nil && c.maxAgeSecond < c.period {
		f.log.Warn("throttle: max_age is shorter than period; out-of-order events will be counted in fresh timeslots",
			"max_age", c.MaxAge.D(), "period", time.Duration(c.period)*time.Second)
	}
	return f, nil
}

// Apply implements component.Function. It never drops the event.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	var buf [128]byte
	key := f.cfg.key.Append(buf[:0], ev)
	h := f.cache.Hash(key)
	period := f.cfg.period
	if f.cfg.periodTmpl != nil {
		period = periodOf(f.cfg.periodTmpl.Append(buf[:0], ev))
	}
	t := ev.Time
	if t.IsZero() {
		t = f.now()
	}
	epoch := t.Unix()
	maxAge := f.maxAge.Load()

	s := f.cache.Lock(h)
	e, created, evicted := s.Get(h)
	k := &e.V
	if created {
		k.created, k.latest, k.slots = epoch, epoch, k.inline[:0]
	}
	count := k.hit(epoch, period, maxAge)
	e.Stamp = k.latest // evict the keys with the oldest latest epoch first
	s.Unlock()

	if evicted > 0 {
		f.warnEvicted(evicted)
	}
	c := f.cfg
	if (c.BeforeCount != -1 && count < c.BeforeCount) || (c.AfterCount != -1 && count > c.AfterCount) {
		c.decorations.apply(ev)
	}
	return true
}

// periodOf reads a rendered period template: a duration or number of
// seconds, else the leading integer (Ruby's to_i), and 60 when that is not
// positive.
func periodOf(b []byte) int64 {
	s := strings.TrimSpace(string(b))
	if d, err := config.ParseDuration(s); err == nil {
		if n := int64(d / time.Second); n > 0 {
			return n
		}
		return defaultPeriod
	}
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if n, err := strconv.ParseInt(s[:end], 10, 64); err == nil && n > 0 {
		return n
	}
	return defaultPeriod
}

func (f *fn) warnEvicted(n int) {
	if !f.evictWarns.Allow(f.now(), warnEvery) {
		return
	}
	f.log.Warn("throttle: max_counters reached, evicted the keys seen least recently; use a key with fewer distinct values",
		"evicted", n, "max_counters", f.cfg.MaxCounters)
}

// FlushInterval implements component.Flusher: Logstash flushes every 5s.
func (f *fn) FlushInterval() time.Duration { return flushEvery }

// Flush implements component.Flusher. It emits nothing: it forgets idle
// keys and runs Logstash's memory control.
func (f *fn) Flush(now time.Time, final bool, _ func(event.Event)) {
	if final {
		return
	}
	f.expire(now)
}

// expire is Logstash's flush: delete the keys whose latest epoch is more
// than max_age behind the newest one, then adjust max_age to the number of
// counters left.
func (f *fn) expire(now time.Time) {
	found := false
	var maxLatest int64
	f.cache.Range(func(e *keycache.Entry[keyState]) bool {
		if !found || e.V.latest > maxLatest {
			maxLatest, found = e.V.latest, true
		}
		return true
	})
	cut := satSub(maxLatest, f.maxAge.Load())
	var total int64
	f.cache.Range(func(e *keycache.Entry[keyState]) bool {
		if e.V.latest < cut {
			return false
		}
		total += int64(len(e.V.slots))
		return true
	})
	f.memoryControl(now, total)
}

func (f *fn) memoryControl(now time.Time, total int64) {
	limit := f.cfg.MaxCounters
	if limit == -1 {
		return
	}
	orig := f.cfg.maxAgeSecond
	maxAge := f.maxAge.Load()
	over := total - limit
	var msg string
	switch {
	case over > 0 && maxAge > orig*mcMinPct/100:
		maxAge -= orig * mcStepPct / 100
		msg = fmt.Sprintf("throttle: decreased timeslot max_age to %ds because max_counters is exceeded by %d; use a key with fewer distinct values", maxAge, over)
	case maxAge < orig*mcMaxPct/100 && total < limit*mcIncrPct/100:
		maxAge += orig * mcStepPct / 100
		msg = fmt.Sprintf("throttle: increased timeslot max_age to %ds because max_counters is no longer exceeded", maxAge)
	default:
		return
	}
	f.maxAge.Store(maxAge)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.lastWarn.IsZero() && now.Sub(f.lastWarn) < warnEvery {
		return
	}
	f.lastWarn = now
	f.log.Warn(msg, "counters", total, "max_counters", limit)
}

// Spec registers the throttle function.
var Spec = component.FunctionSpec{
	Type: "throttle",
	Doc: "Logstash's throttle filter: counts events per key in timeslots of `period` seconds of event time " +
		"(each key's timeslots start at its first event) and marks an event as throttled when its count is " +
		"below `before_count` or above `after_count`, applying `add_tag`, `add_field`, `remove_tag` and " +
		"`remove_field` to it. It never drops events: follow it with a drop whose `if` tests the tag. " +
		"`max_age` and `max_counters` bound the memory it uses.",
	Example: `- type: throttle
  key: "%{kubernetes.pod.name}"
  after_count: 1000
  period: 60s
  max_age: 120s
  add_tag: throttled
`,
	NewConfig: func() any {
		return &Config{BeforeCount: -1, AfterCount: -1, Period: "60s", MaxAge: config.Duration(3600 * time.Second), MaxCounters: 100000}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("throttle", cfg)
		if err != nil {
			return nil, err
		}
		return build(c, env)
	},
}
