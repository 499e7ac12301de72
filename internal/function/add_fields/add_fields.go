// Package addfields is the "add_fields" function: set fields to values and
// %{field} templates, in the order they are written, like Logstash's
// add_field and Cribl's Eval with constant or templated values.
//
// fields is a YAML mapping of name to value, kept in the order written so
// that a later value may use an earlier one ("service: '%{app}'" then
// "index: 'logs-%{service}'"). A YAML map decodes unordered into Go maps, so
// Fields reads the mapping node itself; a list of {name, value} is accepted
// too, as eval writes it. A string value is a template (internal/template):
// "%{kubernetes.namespace}-%{app}" renders each field's text, and a field
// that is missing renders as nothing, so with app missing that gives "prod-"
// (Logstash would leave "%{app}" in place; the template package renders
// every sink key and index name the same way). A string without %{...} is
// set as it is. Other YAML values (numbers, booleans, null, lists, objects)
// are set as they are, with their types: "retries: 3" sets the integer 3,
// "retries: '3'" the string "3". Setting "@timestamp" sets the event time
// when the value parses as RFC 3339.
//
// With overwrite (default true) an existing field is replaced (with
// everything below it); with overwrite false only absent fields are set.
// Unlike Logstash's add_field, an existing value is never turned into an
// array.
package addfields

import (
	"fmt"
	"math"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/template"
)

// Field is one field to set.
type Field struct {
	Name string `yaml:"name" doc:"field to set"`
	// Value is the value's YAML source: a template when it is a string.
	Value string `yaml:"value" doc:"%{field} template, or a YAML value set with its type"`
	// isStr tells a YAML string from other scalars; data holds the decoded
	// value of anything that is not a string.
	isStr bool
	data  any
	tmpl  *template.Template
	// static is the value to set when it does not depend on the event.
	static event.Value
	// viaSet is true when the value needs Event.Set (objects to flatten,
	// @timestamp to parse) rather than SetValue.
	viaSet bool
}

// Fields is an ordered list of fields to set. It decodes from a YAML
// mapping, keeping its order, or from a list of {name, value}.
type Fields []Field

// UnmarshalYAML reads a mapping (name: value) or a sequence of {name,
// value}. Errors are *yaml.TypeError so the config loader reports their line.
func (fs *Fields) UnmarshalYAML(n *yaml.Node) error {
	var errs []string
	fail := func(at *yaml.Node, format string, args ...any) {
		errs = append(errs, fmt.Sprintf("line %d: ", at.Line)+fmt.Sprintf(format, args...))
	}
	var out Fields
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				fail(k, "a field name must be a string")
				continue
			}
			f, err := newField(k.Value, v)
			if err != nil {
				fail(v, "%s: %v", k.Value, err)
				continue
			}
			out = append(out, f)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if item.Kind != yaml.MappingNode {
				fail(item, "entry %d must be {name: ..., value: ...}", i)
				continue
			}
			var name string
			var value *yaml.Node
			known := true
			for j := 0; j+1 < len(item.Content); j += 2 {
				k, v := item.Content[j], item.Content[j+1]
				switch k.Value {
				case "name":
					name = v.Value
				case "value":
					value = v
				default:
					fail(k, "entry %d: unknown key %q (use name and value)", i, k.Value)
					known = false
				}
			}
			if !known {
				continue
			}
			if value == nil {
				fail(item, "entry %d (%s) has no value", i, name)
				continue
			}
			f, err := newField(name, value)
			if err != nil {
				fail(value, "%s: %v", name, err)
				continue
			}
			out = append(out, f)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*fs = nil
			return nil
		}
		fail(n, "must be a mapping of field names to values")
	default:
		fail(n, "must be a mapping of field names to values")
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*fs = out
	return nil
}

func newField(name string, v *yaml.Node) (Field, error) {
	f := Field{Name: name}
	// A date is kept as written: YAML would make it a time.
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!str" || v.Tag == "!!timestamp") {
		f.Value, f.isStr = v.Value, true
		return f, nil
	}
	if err := v.Decode(&f.data); err != nil {
		return f, err
	}
	if x, ok := f.data.(float64); ok && (math.IsInf(x, 0) || math.IsNaN(x)) {
		return f, fmt.Errorf("%s is not a number JSON can hold", v.Value)
	}
	f.Value = v.Value
	return f, nil
}

// Config is the add_fields function's configuration.
type Config struct {
	Fields    Fields `yaml:"fields" doc:"field name → value, set in the order written; strings are %{field} templates (a missing field renders empty), other YAML values are set with their types; a list of {name, value} works too"`
	Overwrite bool   `yaml:"overwrite" doc:"replace fields that already exist; false only fills absent ones"`
}

// Validate parses the templates.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "add_fields needs at least one field (fields: {env: prod})")
	}
	seen := map[string]bool{}
	for i := range c.Fields {
		f := &c.Fields[i]
		if f.Name == "" {
			return component.Errorf("fields", "entry %d has no name", i)
		}
		if seen[f.Name] {
			return component.Errorf("fields", "%s is set twice", f.Name)
		}
		seen[f.Name] = true
		f.tmpl = nil
		switch {
		case f.isStr:
			t, err := template.Parse(f.Value)
			if err != nil {
				return component.Errorf("fields", "%s: %v", f.Name, err)
			}
			if t.IsStatic() {
				f.static = event.String(t.Render(nil))
			} else {
				f.tmpl = t
			}
		default:
			f.static = event.Any(f.data)
		}
		_, isObj := f.data.(map[string]any)
		f.viaSet = isObj || f.Name == event.TimestampField
	}
	return nil
}

type fn struct {
	fields    Fields
	overwrite bool
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	for i := range f.fields {
		fl := &f.fields[i]
		if !f.overwrite && ev.Has(fl.Name) {
			continue
		}
		v := fl.static
		if fl.tmpl != nil {
			v = event.String(fl.tmpl.Render(ev))
		}
		if fl.viaSet {
			ev.Set(fl.Name, v.Interface())
		} else {
			ev.SetValue(fl.Name, v)
		}
	}
	return true
}

// Spec registers the add_fields function.
var Spec = component.FunctionSpec{
	Type: "add_fields",
	Doc: "Sets fields, in the order written, to values and `%{field}` templates (a missing field renders empty); " +
		"non-string YAML values keep their types; `overwrite: false` fills only absent fields.",
	Example: `- type: add_fields
  fields:
    service: "%{kubernetes.labels.app}"
    index_name: "logs-%{kubernetes.namespace}-%{service}"
    environment: production
    retention_days: 30`,
	NewConfig: func() any { return &Config{Overwrite: true} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("add_fields", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{fields: c.Fields, overwrite: c.Overwrite}, nil
	},
}
