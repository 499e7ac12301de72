// Package casefn holds what the lowercase and uppercase functions share:
// their config and an Apply that maps the strings of the listed fields.
//
// A listed name converts that field and every field below it
// ("kubernetes.labels" converts every label). Strings are converted; arrays
// are converted element by element (their strings only); numbers, booleans
// and other values are left alone, and a missing field is not a failure.
package casefn

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the configuration of lowercase and uppercase.
type Config struct {
	Fields []string `yaml:"fields" doc:"fields to convert, each with everything below it; strings and arrays of strings are converted, other values left alone"`
}

// Validate checks the names.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "needs at least one field (fields: [log.level])")
	}
	for i, f := range c.Fields {
		if f == "" {
			return component.Errorf("fields", "entry %d is empty", i)
		}
	}
	return nil
}

// Func maps the strings of some fields with conv.
type Func struct {
	fields []string
	conv   func(string) string
}

// Apply implements component.Function. conv must return its argument itself
// when nothing changes (strings.ToLower and ToUpper do), so that an event
// already in the right case costs no allocation.
func (f *Func) Apply(ev *event.Event, _ func(event.Event)) bool {
	fields := ev.Fields()
	for i := range fields {
		key := fields[i].Key
		for _, name := range f.fields {
			if !fnutil.Under(key, name) {
				continue
			}
			if v, changed := f.convert(fields[i].Value); changed {
				// The key exists, so SetValue replaces the value in place
				// and fields stays valid.
				ev.SetValue(key, v)
			}
			break
		}
	}
	return true
}

func (f *Func) convert(v event.Value) (event.Value, bool) {
	if s, ok := v.Str(); ok {
		c := f.conv(s)
		return event.String(c), c != s
	}
	a, ok := v.Interface().([]any)
	if !ok {
		return v, false
	}
	var out []any
	for i, el := range a {
		s, ok := el.(string)
		if !ok {
			continue
		}
		c := f.conv(s)
		if c == s {
			continue
		}
		if out == nil {
			// Copy: the array may be shared with a clone of the event.
			out = make([]any, len(a))
			copy(out, a)
		}
		out[i] = c
	}
	if out == nil {
		return v, false
	}
	return event.Any(out), true
}

// NewSpec returns the spec of a function that maps strings with conv.
func NewSpec(typ, doc, example string, conv func(string) string) component.FunctionSpec {
	return component.FunctionSpec{
		Type:      typ,
		Doc:       doc,
		Example:   example,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, _ component.Env) (component.Function, error) {
			c, err := fnutil.Config[Config](typ, cfg)
			if err != nil {
				return nil, err
			}
			return &Func{fields: c.Fields, conv: conv}, nil
		},
	}
}
