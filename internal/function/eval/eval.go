// Package eval is the "eval" function: set fields to the results of
// expressions, and remove fields, as Cribl Stream's Eval does.
package eval

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/expr"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Field is one field to compute.
type Field struct {
	Name  string `yaml:"name" doc:"field to set"`
	Value string `yaml:"value" doc:"expression whose result is set"`
}

// Config is the eval function's configuration.
type Config struct {
	// Fields are evaluated in order; later ones see earlier results.
	Fields []Field `yaml:"fields" doc:"fields to set, in order, each {name, value} with value an expression; later ones see earlier results, and a failed evaluation leaves the field unset"`
	// Remove lists fields to delete after the evaluations.
	Remove []string `yaml:"remove" doc:"fields to delete (with everything below them) after the evaluations"`
	progs  []*expr.Program
}

// Validate compiles the expressions.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 && len(c.Remove) == 0 {
		return component.Errorf("fields", "eval needs fields to set or remove")
	}
	c.progs = c.progs[:0]
	for i, f := range c.Fields {
		if f.Name == "" {
			return component.Errorf("fields", "entry %d has no name", i)
		}
		p, err := expr.Compile(f.Value)
		if err != nil {
			return component.Errorf("fields", "%s: %v", f.Name, err)
		}
		c.progs = append(c.progs, p)
	}
	return nil
}

type fn struct {
	cfg *Config
}

// Apply implements component.Function. A value whose expression fails to
// evaluate (a missing field in arithmetic, say) leaves the field unset.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	for i, fl := range f.cfg.Fields {
		v, err := f.cfg.progs[i].Eval(ev, "")
		if err != nil {
			continue
		}
		ev.Set(fl.Name, v)
	}
	for _, r := range f.cfg.Remove {
		ev.Delete(r)
	}
	return true
}

// Spec registers the eval function.
var Spec = component.FunctionSpec{
	Type: "eval",
	Doc:  "Sets fields to the values of expressions (fields: [{name, value}]) and removes fields (remove: [...]).",
	Example: `- type: eval
  fields:
    - name: http.slow
      value: 'event.duration_ms > 500'
    - name: service
      value: 'kubernetes.labels.app ?? "unknown"'
  remove: [kubernetes.annotations]`,
	NewConfig: func() any {
		return &Config{}
	},
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("eval", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{cfg: c}, nil
	},
}
