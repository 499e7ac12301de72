// Package set is the "set" function: set fields to %{field} templates, like
// Logstash's mutate add_field / replace.
package set

import (
	"sort"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/template"
)

// Config is the set function's configuration.
type Config struct {
	// Fields maps a field name to a template (%{other.field} is expanded).
	Fields map[string]string `yaml:"fields" doc:"field name → %{field} template; set in the order of the names, sorted"`
	// Overwrite replaces existing values (default true); false only fills
	// fields that are absent.
	Overwrite bool `yaml:"overwrite" doc:"replace fields that already exist; false only fills absent ones"`
	names     []string
	tmpls     []*template.Template
}

// Validate parses the templates.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "set needs at least one field")
	}
	c.names, c.tmpls = nil, nil
	for k := range c.Fields {
		c.names = append(c.names, k)
	}
	sort.Strings(c.names)
	for _, k := range c.names {
		t, err := template.Parse(c.Fields[k])
		if err != nil {
			return component.Errorf("fields", "%s: %v", k, err)
		}
		c.tmpls = append(c.tmpls, t)
	}
	return nil
}

type fn struct{ cfg *Config }

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	for i, name := range f.cfg.names {
		if !f.cfg.Overwrite && ev.Has(name) {
			continue
		}
		ev.Set(name, f.cfg.tmpls[i].Render(ev))
	}
	return true
}

// Spec registers the set function.
var Spec = component.FunctionSpec{
	Type: "set",
	Doc:  "Sets fields to templates (fields: {name: \"%{other}\"}); overwrite: false fills only absent fields.",
	Example: `- type: set
  fields:
    event.dataset: "%{kubernetes.namespace}.%{kubernetes.labels.app}"
    environment: production
  overwrite: false`,
	NewConfig: func() any { return &Config{Overwrite: true} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("set", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{cfg: c}, nil
	},
}
