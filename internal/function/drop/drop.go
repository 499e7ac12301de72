// Package drop is the "drop" function: drop events on purpose, all of those
// that reach it or a percentage of them. Use it with `if:` to pick which.
// Dropped events count as delivered for acknowledgements and are counted in
// sluice_events_dropped_total.
package drop

import (
	"math/rand/v2"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the drop function's configuration.
type Config struct {
	// Percentage of events to drop, 0 to 100 (default 100).
	Percentage float64 `yaml:"percentage" doc:"share of the matching events to drop, 0 to 100, picked at random"`
}

// Validate checks the percentage.
func (c *Config) Validate() error {
	if c.Percentage < 0 || c.Percentage > 100 {
		return component.Errorf("percentage", "must be between 0 and 100, not %v", c.Percentage)
	}
	return nil
}

type fn struct{ p float64 }

// Apply implements component.Function.
func (f *fn) Apply(*event.Event, func(event.Event)) bool {
	if f.p >= 100 {
		return false
	}
	return rand.Float64()*100 >= f.p
}

// Spec registers the drop function.
var Spec = component.FunctionSpec{
	Type: "drop",
	Doc:  "Drops the events that reach it (use if: to choose them); percentage: N drops N% at random.",
	Example: `- type: drop
  if: 'log.level == "debug" && kubernetes.namespace != "prod"'
  percentage: 90`,
	NewConfig: func() any { return &Config{Percentage: 100} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("drop", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{p: c.Percentage}, nil
	},
}
