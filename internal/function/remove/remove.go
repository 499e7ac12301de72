// Package remove is the "remove" function: delete fields by name or by a
// trailing-* prefix pattern.
package remove

import (
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the remove function's configuration.
type Config struct {
	// Fields are names to delete (with everything below them); a name ending
	// in "*" deletes every field that starts with the rest.
	Fields   []string `yaml:"fields" doc:"fields to delete with everything below them; a name ending in * deletes every field whose name starts with the rest"`
	exact    []string
	prefixes []string
}

// Validate checks the names.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "remove needs at least one field")
	}
	c.exact, c.prefixes = nil, nil
	for _, f := range c.Fields {
		switch {
		case f == "" || f == "*":
			return component.Errorf("fields", "%q would remove everything; use the drop function to drop events", f)
		case strings.HasSuffix(f, "*"):
			c.prefixes = append(c.prefixes, strings.TrimSuffix(f, "*"))
		default:
			c.exact = append(c.exact, f)
		}
	}
	return nil
}

type fn struct{ cfg *Config }

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	for _, name := range f.cfg.exact {
		ev.Delete(name)
	}
	if len(f.cfg.prefixes) > 0 {
		var del []string
		for _, fl := range ev.Fields() {
			for _, p := range f.cfg.prefixes {
				if strings.HasPrefix(fl.Key, p) {
					del = append(del, fl.Key)
					break
				}
			}
		}
		for _, k := range del {
			ev.Delete(k)
		}
	}
	return true
}

// Spec registers the remove function.
var Spec = component.FunctionSpec{
	Type: "remove",
	Doc:  "Removes fields (fields: [a, b.c, prefix*]).",
	Example: `- type: remove
  fields: [kubernetes.annotations, agent.ephemeral_id, "temp_*"]`,
	NewConfig: func() any { return &Config{} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("remove", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{cfg: c}, nil
	},
}
