// Package dynamicsample is the "dynamic_sample" function, after Cribl
// Stream's Dynamic Sampling: each key is sampled at a rate that grows with
// the key's volume in the previous window, so that noisy keys are thinned
// and quiet ones kept whole.
//
// Time is cut into windows of `window` aligned on the Unix epoch, on the
// events' @timestamp (`clock: event`, the default, so that replayed logs
// are sampled as they were produced; events without a timestamp use the
// current time) or on the time they are processed (`clock: wall`, as
// Cribl's sample period). When a key's first event of a window arrives, the
// key's rate for that window is computed from the number of its events in
// the window just before (0 when the key had none there):
//
//   - fewer than `min_events`: 1 (keep all);
//   - mode log: ceil(ln(count)), Cribl's Logarithmic (JavaScript's
//     Math.log is the natural logarithm);
//   - mode log10: ceil(log10(count));
//   - mode sqrt: ceil(sqrt(count)), Cribl's Square root;
//
// never below 1 and, when `max_rate` is set, not above it. A key's first
// window has rate 1. Within a window, a key keeps its 1st, (rate+1)th,
// (2·rate+1)th... event (deterministic, as the sample function); events of
// an older window than the key's current one count in the current one.
// Kept events get `rate_field` (default "sample_rate") set to the rate, so
// that sums of it estimate the original counts.
//
// Unlike Cribl, which keeps every key forever, at most `max_keys` keys are
// kept; when a new key needs room, those seen in the oldest windows go
// first (an eighth of a cache shard at a time) and start again at rate 1.
// Keys are held by a 64-bit hash of their text (see
// internal/function/fnutil/keycache).
package dynamicsample

import (
	"math"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/fnutil/keycache"
	"github.com/sluicehq/sluice/internal/template"
)

// Modes.
const (
	ModeLog   = "log"
	ModeLog10 = "log10"
	ModeSqrt  = "sqrt"
)

// Config is the dynamic_sample function's configuration.
type Config struct {
	Key       string          `yaml:"key" doc:"Template whose values are sampled apart (Cribl's sample group key)."`
	Mode      string          `yaml:"mode" doc:"How a key's rate follows its previous window's count: log (ceil(ln n)), log10 (ceil(log10 n)) or sqrt (ceil(sqrt n))."`
	Window    config.Duration `yaml:"window" doc:"Length of the windows whose counts set the next window's rates (Cribl's sample period)."`
	Clock     string          `yaml:"clock" doc:"event: windows follow the events' @timestamp; wall: the time they are processed."`
	MinEvents int64           `yaml:"min_events" doc:"Keys with fewer events than this in the previous window are not sampled."`
	MaxRate   int64           `yaml:"max_rate" doc:"Highest rate (keep 1 in max_rate); 0: no limit."`
	MaxKeys   int64           `yaml:"max_keys" doc:"Most keys tracked; those seen longest ago are forgotten first."`
	RateField string          `yaml:"rate_field" doc:"Field set to the rate on kept events, to scale counts back up (\"\": none)."`
	key       *template.Template
}

// Validate checks the options and parses the key.
func (c *Config) Validate() error {
	var err error
	if c.key, err = template.Parse(c.Key); err != nil {
		return component.Errorf("key", "%v", err)
	}
	if c.Mode != ModeLog && c.Mode != ModeLog10 && c.Mode != ModeSqrt {
		return component.Errorf("mode", "must be %s, %s or %s, not %q", ModeLog, ModeLog10, ModeSqrt, c.Mode)
	}
	if c.Window.D() <= 0 {
		return component.Errorf("window", "must be positive, not %v", c.Window.D())
	}
	if c.Clock != "event" && c.Clock != "wall" {
		return component.Errorf("clock", "must be event or wall, not %q", c.Clock)
	}
	if c.MinEvents < 0 {
		return component.Errorf("min_events", "must be >= 0, not %d", c.MinEvents)
	}
	if c.MaxRate < 0 {
		return component.Errorf("max_rate", "must be >= 0 (0: no limit), not %d", c.MaxRate)
	}
	if c.MaxKeys < 1 {
		return component.Errorf("max_keys", "must be at least 1, not %d", c.MaxKeys)
	}
	if c.RateField == event.TimestampField {
		return component.Errorf("rate_field", "cannot be %s", event.TimestampField)
	}
	return nil
}

// state is one key's current window (its index since the epoch), the
// events of the key counted in it and the window's rate.
type state struct {
	win, count, rate int64
	rateValue        event.Value
}

type fn struct {
	cfg    *Config
	window int64
	wall   bool
	cache  *keycache.Cache[state]
	now    func() time.Time
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	var buf [128]byte
	h := f.cache.Hash(f.cfg.key.Append(buf[:0], ev))
	w := floorDiv(fnutil.EventNanos(ev, f.wall, f.now), f.window)

	s := f.cache.Lock(h)
	e, created, _ := s.Get(h)
	st := &e.V
	switch {
	case created:
		*st = state{win: w, rate: 1, rateValue: event.Int(1)}
		e.Stamp = w
	case w > st.win:
		var prev int64
		if w == st.win+1 {
			prev = st.count
		}
		if r := f.rateFor(prev); r != st.rate {
			st.rate, st.rateValue = r, event.Int(r)
		}
		st.win, st.count = w, 0
		e.Stamp = w // forget the keys seen in the oldest windows first
	}
	keep := st.count%st.rate == 0
	st.count++
	rv := st.rateValue
	s.Unlock()

	if !keep {
		return false
	}
	if f.cfg.RateField != "" {
		ev.SetValue(f.cfg.RateField, rv)
	}
	return true
}

// rateFor is the rate of a window after one with n events of the key.
func (f *fn) rateFor(n int64) int64 {
	if n < f.cfg.MinEvents || n < 2 {
		return 1
	}
	var r int64
	switch f.cfg.Mode {
	case ModeLog:
		r = int64(math.Ceil(math.Log(float64(n))))
	case ModeLog10:
		r = ceilLog10(n)
	default:
		r = ceilSqrt(n)
	}
	r = max(r, 1)
	if f.cfg.MaxRate > 0 {
		r = min(r, f.cfg.MaxRate)
	}
	return r
}

// ceilLog10 is the smallest k with 10^k >= n, exactly (n >= 1).
func ceilLog10(n int64) int64 {
	var k int64
	for p := int64(1); p < n && k < 19; p *= 10 {
		k++
	}
	return k
}

// ceilSqrt is the smallest k with k*k >= n, exactly (n >= 1).
func ceilSqrt(n int64) int64 {
	k := int64(math.Sqrt(float64(n)))
	for k*k < n {
		k++
	}
	for k > 1 && (k-1)*(k-1) >= n {
		k--
	}
	return k
}

// floorDiv is a/b rounded down (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// Spec registers the dynamic_sample function.
var Spec = component.FunctionSpec{
	Type: "dynamic_sample",
	Doc: "Cribl Stream's Dynamic Sampling: samples each `key` at a rate computed from its event count in the " +
		"previous `window` (ceil of ln, log10 or sqrt of the count per `mode`; 1 below `min_events`; at most " +
		"`max_rate`), keeping a key's 1st, (rate+1)th... event of each window; kept events carry `sample_rate`. " +
		"Windows follow event time by default (`clock: wall` for processing time).",
	Example: `- type: dynamic_sample
  key: "%{kubernetes.labels.app}:%{http.response.status_code}"
  mode: log
  window: 30s
  min_events: 30
  max_rate: 100
`,
	NewConfig: func() any {
		return &Config{Key: "%{host.name}", Mode: ModeLog, Window: config.Duration(30 * time.Second), Clock: "event",
			MinEvents: 30, MaxKeys: 100000, RateField: "sample_rate"}
	},
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("dynamic_sample", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{cfg: c, window: int64(c.Window.D()), wall: c.Clock == "wall",
			cache: keycache.New[state](c.MaxKeys), now: time.Now}, nil
	},
}
