// Package rename is the "rename" function: move fields (and whole objects)
// to new names.
package rename

import (
	"sort"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the rename function's configuration.
type Config struct {
	// Fields maps an old name to a new one. Renames run in the order of the
	// old names, sorted.
	Fields map[string]string `yaml:"fields" doc:"old name → new name; objects move with everything below them; renames run in the order of the old names, sorted"`
	from   []string
}

// Validate checks the mapping.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "rename needs at least one field (fields: {old: new})")
	}
	c.from = c.from[:0]
	for k, v := range c.Fields {
		if k == "" || v == "" {
			return component.Errorf("fields", "names must not be empty")
		}
		c.from = append(c.from, k)
	}
	sort.Strings(c.from)
	return nil
}

type fn struct{ cfg *Config }

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	for _, from := range f.cfg.from {
		ev.Rename(from, f.cfg.Fields[from])
	}
	return true
}

// Spec registers the rename function.
var Spec = component.FunctionSpec{
	Type: "rename",
	Doc:  "Renames fields or whole objects (fields: {old.name: new.name}).",
	Example: `- type: rename
  fields:
    msg: message
    k8s: kubernetes
    level: log.level`,
	NewConfig: func() any { return &Config{} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("rename", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{cfg: c}, nil
	},
}
