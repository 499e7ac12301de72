// Package sample is the "sample" function: keep one event in every `rate`,
// as Cribl Stream's Sampling does (systematic sampling), and drop the rest.
//
// Counting is deterministic: the 1st, (rate+1)th, (2·rate+1)th... event is
// kept (Cribl starts at a random offset; a fixed one makes the output
// reproducible). Without `key` one counter covers every event; with `key`
// (a %{field} template) each value of the key has its own counter, so each
// key keeps 1 in rate of its own events and rare keys are not drowned by
// frequent ones. At most `max_keys` counters are kept; when a new key needs
// room, the least recently seen keys are forgotten (an eighth of a cache
// shard at a time), and a forgotten key's next event is kept as a first
// one. Kept events get `rate_field` (default "sample_rate") set to the rate,
// so that counts can be scaled back up (Cribl adds sampled::rate); "" leaves
// them unchanged.
package sample

import (
	"sync/atomic"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/fnutil/keycache"
	"github.com/sluicehq/sluice/internal/template"
)

// Config is the sample function's configuration.
type Config struct {
	Rate      int64  `yaml:"rate" doc:"Keep one event in this many (1 keeps all)."`
	Key       string `yaml:"key" doc:"Template giving each of its values its own 1-in-rate counter (\"%{service.name}\"); empty: one counter for all events."`
	MaxKeys   int64  `yaml:"max_keys" doc:"Most key counters kept; the least recently seen keys are forgotten first."`
	RateField string `yaml:"rate_field" doc:"Field set to the rate on kept events, to scale counts back up (\"\": none)."`
	key       *template.Template
	rateValue event.Value
}

// Validate checks the options and parses the key.
func (c *Config) Validate() error {
	if c.Rate < 1 {
		return component.Errorf("rate", "must be at least 1 (keep one event in rate), not %d", c.Rate)
	}
	c.key = nil
	if c.Key != "" {
		t, err := template.Parse(c.Key)
		if err != nil {
			return component.Errorf("key", "%v", err)
		}
		c.key = t
	}
	if c.MaxKeys < 1 {
		return component.Errorf("max_keys", "must be at least 1, not %d", c.MaxKeys)
	}
	if c.RateField == event.TimestampField {
		return component.Errorf("rate_field", "cannot be %s", event.TimestampField)
	}
	c.rateValue = event.Int(c.Rate) // boxed once, shared by every kept event
	return nil
}

// fn is a built sample function.
type fn struct {
	cfg   *Config
	rate  uint64
	all   atomic.Uint64 // the counter when there is no key
	cache *keycache.Cache[uint64]
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	var n uint64
	if f.cache == nil {
		n = f.all.Add(1) - 1
	} else {
		var buf [128]byte
		h := f.cache.Hash(f.cfg.key.Append(buf[:0], ev))
		s := f.cache.Lock(h)
		e, _, _ := s.Get(h)
		n = e.V
		e.V++
		s.Unlock()
	}
	if n%f.rate != 0 {
		return false
	}
	if f.cfg.RateField != "" {
		ev.SetValue(f.cfg.RateField, f.cfg.rateValue)
	}
	return true
}

// Spec registers the sample function.
var Spec = component.FunctionSpec{
	Type: "sample",
	Doc: "Keeps one event in every `rate` (the first, then every rate-th) and drops the others, counting all " +
		"events together or, with `key`, each key's events apart; kept events carry `sample_rate` so that " +
		"counts can be scaled back up.",
	Example: `- type: sample
  rate: 20
  key: "%{kubernetes.labels.app}"
`,
	NewConfig: func() any { return &Config{Rate: 10, MaxKeys: 100000, RateField: "sample_rate"} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("sample", cfg)
		if err != nil {
			return nil, err
		}
		f := &fn{cfg: c, rate: uint64(c.Rate)}
		if c.key != nil {
			f.cache = keycache.New[uint64](c.MaxKeys)
		}
		return f, nil
	},
}
