// Package suppress is the "suppress" function, after Cribl Stream's
// Suppress: let `allow` events per key through in each `window`, and drop
// (or tag) the rest.
//
// A key's window opens at the first event of the key and lasts `window`:
// its first `allow` events pass, later ones are suppressed. The first event
// at or after the window's end opens the next window and passes; when
// events were suppressed in the window before, it carries their number in
// `count_field` (Cribl's suppressCount). Suppressed events are dropped, or,
// with `drop: false`, pass with the tag `tag` (Cribl sets suppress=1).
//
// Time is the event's @timestamp by default (`clock: event`), so replayed
// or delayed logs are suppressed as they were produced; an event without a
// timestamp uses the current time. `clock: wall` uses the time the event is
// processed, as Cribl does. With event time, an event more than one window
// older than its key's window start also opens a new window (a replay of
// older logs starts afresh rather than being suppressed by newer ones);
// other late events count in the current window.
//
// Events whose key renders empty (none of its fields present) share the
// key "", as in Cribl, unless `ignore_empty_key` lets them through
// untouched.
//
// At most `max_keys` keys are kept (Cribl's cache size, 50,000): when a new
// key needs room, the keys last seen longest ago are forgotten, an eighth
// of a cache shard at a time, with a warning at most once a minute; a
// forgotten key's next event opens a new window and the count of events it
// had suppressed is lost. Keys are held by a 64-bit hash of their text (see
// internal/function/fnutil/keycache).
package suppress

import (
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/fnutil/keycache"
	"github.com/sluicehq/sluice/internal/template"
)

// Clocks.
const (
	ClockEvent = "event"
	ClockWall  = "wall"
)

// warnEvery rate-limits the eviction warning.
const warnEvery = time.Minute

// Config is the configuration of suppress (and of dedupe, which is suppress
// with other defaults).
type Config struct {
	Key            string          `yaml:"key" doc:"Template whose value groups events (\"%{host.name}:%{error.code}\"); each value has its own window and count. Required (dedupe: %{message} by default)."`
	Allow          int64           `yaml:"allow" doc:"Events to let through per key in each window."`
	Window         config.Duration `yaml:"window" doc:"How long a key's window lasts from its first event."`
	Clock          string          `yaml:"clock" doc:"event: windows follow the events' @timestamp; wall: the time they are processed."`
	MaxKeys        int64           `yaml:"max_keys" doc:"Most keys remembered; the keys seen longest ago are forgotten first."`
	Drop           bool            `yaml:"drop" doc:"Drop suppressed events; false lets them through with tag."`
	Tag            string          `yaml:"tag" doc:"Tag added to suppressed events when drop is false (\"\": none)."`
	CountField     string          `yaml:"count_field" doc:"Field set, on the first event let through after some were suppressed, to how many were (\"\": none)."`
	IgnoreEmptyKey bool            `yaml:"ignore_empty_key" doc:"Let events whose key renders empty (none of its fields present) through untouched instead of treating \"\" as one more key."`
	key            *template.Template
}

// Validate checks the options and parses the key.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Key) == "" {
		return component.Errorf("key", "a key is required, e.g. \"%%{host.name}:%%{message}\"")
	}
	var err error
	if c.key, err = template.Parse(c.Key); err != nil {
		return component.Errorf("key", "%v", err)
	}
	if c.Allow < 1 {
		return component.Errorf("allow", "must be at least 1, not %d", c.Allow)
	}
	if c.Window.D() <= 0 {
		return component.Errorf("window", "must be positive, not %v", c.Window.D())
	}
	if c.Clock != ClockEvent && c.Clock != ClockWall {
		return component.Errorf("clock", "must be %q or %q, not %q", ClockEvent, ClockWall, c.Clock)
	}
	if c.MaxKeys < 1 {
		return component.Errorf("max_keys", "must be at least 1, not %d", c.MaxKeys)
	}
	if c.CountField == event.TimestampField {
		return component.Errorf("count_field", "cannot be %s", event.TimestampField)
	}
	return nil
}

// DefaultConfig returns suppress's defaults: one event per key every 30s,
// the rest dropped, on event time, 50,000 keys.
func DefaultConfig() *Config {
	return &Config{Allow: 1, Window: config.Duration(30 * time.Second), Clock: ClockEvent, MaxKeys: 50000,
		Drop: true, Tag: "suppressed", CountField: "suppressed_count"}
}

// state is one key's window: its start (Unix ns), the events let through
// and suppressed in it.
type state struct {
	start, allowed, suppressed int64
}

type fn struct {
	cfg    *Config
	window int64
	cache  *keycache.Cache[state]
	log    *slog.Logger
	now    func() time.Time
	wall   bool
	warns  fnutil.Limiter
}

// New builds a suppress function from a validated config. dedupe uses it
// too.
func New(c *Config, env component.Env) (component.Function, error) {
	return &fn{cfg: c, window: int64(c.Window.D()), cache: keycache.New[state](c.MaxKeys), now: time.Now,
		wall: c.Clock == ClockWall, log: fnutil.Logger(env).With("function", env.Name)}, nil
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	var buf [128]byte
	key := f.cfg.key.Append(buf[:0], ev)
	if len(key) == 0 && f.cfg.IgnoreEmptyKey {
		return true
	}
	h := f.cache.Hash(key)
	now := fnutil.EventNanos(ev, f.wall, f.now)

	pass := true
	var report int64
	s := f.cache.Lock(h)
	e, created, evicted := s.Get(h)
	st := &e.V
	switch {
	case created:
		*st = state{start: now, allowed: 1}
		e.Stamp = now
	case now >= satAdd(st.start, f.window) || now <= satAdd(st.start, -f.window):
		report = st.suppressed
		*st = state{start: now, allowed: 1}
	case st.allowed < f.cfg.Allow:
		st.allowed++
	default:
		st.suppressed++
		pass = false
	}
	if now > e.Stamp {
		e.Stamp = now // forget the keys seen longest ago first
	}
	s.Unlock()

	if evicted > 0 {
		f.warnEvicted(evicted)
	}
	if pass {
		if report > 0 && f.cfg.CountField != "" {
			ev.SetValue(f.cfg.CountField, event.Int(report))
		}
		return true
	}
	if f.cfg.Drop {
		return false
	}
	if f.cfg.Tag != "" {
		ev.AddTag(f.cfg.Tag)
	}
	return true
}

func (f *fn) warnEvicted(n int) {
	if !f.warns.Allow(f.now(), warnEvery) {
		return
	}
	f.log.Warn("max_keys reached, forgot the keys seen longest ago; their suppressed counts are lost",
		"forgotten", n, "max_keys", f.cfg.MaxKeys)
}

// satAdd is a+b clamped to the int64 range.
func satAdd(a, b int64) int64 {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return s
}

// Spec registers the suppress function.
var Spec = component.FunctionSpec{
	Type: "suppress",
	Doc: "Lets `allow` events per key through in each `window` (opened by the key's first event) and drops " +
		"the rest, or tags them with `drop: false`, as Cribl Stream's Suppress; the first event let through " +
		"after a suppression carries the number suppressed in `count_field`. Windows follow event time by " +
		"default (`clock: wall` for processing time); `max_keys` bounds the keys remembered.",
	Example: `- type: suppress
  key: "%{host.name}:%{error.code}"
  allow: 5
  window: 1m
`,
	NewConfig: func() any { return DefaultConfig() },
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("suppress", cfg)
		if err != nil {
			return nil, err
		}
		return New(c, env)
	},
}
