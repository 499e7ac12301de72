// Package flatten is the "flatten" function, after Cribl Stream's Flatten:
// it turns nested values into fields with fully qualified names.
//
// Sluice events are already flat: {"kubernetes":{"labels":{"app":"web"}}}
// arrives as the field "kubernetes.labels.app". What is left nested are
// values held whole: arrays (and the objects inside them) and empty objects.
// With the default delimiter "." flatten expands those in place: an array
// "ports" of [80, 443] becomes "ports.0" and "ports.1", and an object inside
// an array becomes "items.0.name". Empty arrays and objects stay as they are,
// since they have no leaves to promote.
//
// With another delimiter (Cribl's default is "_"), every name below a chosen
// field is joined with it, dotted names included: "kubernetes.labels.app"
// becomes "kubernetes_labels_app" and "ports.0" becomes "ports_0". A chosen
// field is flattened in place, inside its parent: with fields
// [kubernetes.labels] and delimiter "_", "kubernetes.labels.app" becomes
// "kubernetes.labels_app" (an "app" key moved up into kubernetes as
// "labels_app"), as Cribl would do to a top-level field.
//
// fields lists the chosen fields; the default is every top-level field
// except internal ones (names starting with "_"), which are flattened only
// when listed. depth counts levels below a chosen field: with depth 1,
// "a.b.c" becomes "a_b.c" (only the first level is joined) and an array of
// arrays keeps its inner arrays whole. prefix is prepended to the full name of
// every field flatten renames or creates (a chosen field's own scalar value
// is not renamed).
//
// When a new name is already taken, the flattened value replaces the old
// field (and anything below that name).
package flatten

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the flatten function's configuration.
type Config struct {
	Fields    []string `yaml:"fields" doc:"fields to flatten, each with everything below it (default: every top-level field except internal _ fields)"`
	Prefix    string   `yaml:"prefix" doc:"string prepended to the name of every flattened field"`
	Depth     int      `yaml:"depth" doc:"how many levels below a chosen field to flatten; deeper values stay nested"`
	Delimiter string   `yaml:"delimiter" doc:"joins the names of nested levels; with anything but . dotted names below the chosen fields are joined too"`
}

// Validate checks the options.
func (c *Config) Validate() error {
	if c.Depth < 1 {
		return component.Errorf("depth", "must be at least 1, not %d", c.Depth)
	}
	if c.Delimiter == "" {
		return component.Errorf("delimiter", "must not be empty (use . or _)")
	}
	for i, f := range c.Fields {
		if f == "" || strings.HasPrefix(f, ".") || strings.HasSuffix(f, ".") || strings.Contains(f, "*") {
			return component.Errorf("fields", "entry %d (%q) must be a field name (wildcards are not supported)", i, f)
		}
		for _, g := range c.Fields[:i] {
			if fnutil.Under(f, g) || fnutil.Under(g, f) {
				return component.Errorf("fields", "%q and %q overlap; list only the outer one", g, f)
			}
		}
	}
	return nil
}

type fn struct {
	fields    []string
	prefix    string
	depth     int
	delim     string
	dotDelim  bool // delimiter is "." and there is no prefix: only containers change
	allFields bool
}

// chosen returns the chosen field key belongs to.
func (f *fn) chosen(key string) (string, bool) {
	if f.allFields {
		if event.IsInternal(key) {
			return "", false
		}
		if i := strings.IndexByte(key, '.'); i >= 0 {
			return key[:i], true
		}
		return key, true
	}
	for _, name := range f.fields {
		if fnutil.Under(key, name) {
			return name, true
		}
	}
	return "", false
}

// container reports whether v holds a non-empty array or object.
func container(v event.Value) bool {
	if v.IsString() {
		return false
	}
	switch x := v.Interface().(type) {
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return false
}

// changes reports whether flattening changes the field.
func (f *fn) changes(fl *event.Field) bool {
	name, ok := f.chosen(fl.Key)
	if !ok {
		return false
	}
	if container(fl.Value) {
		return true
	}
	return !f.dotDelim && len(fl.Key) > len(name)
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	fields := ev.Fields()
	n := 0
	for i := range fields {
		if f.changes(&fields[i]) {
			n++
		}
	}
	if n == 0 {
		return true
	}
	out := event.NewSized(ev.Time, len(fields)+2*n)
	moved := make([]event.Field, 0, 2*n)
	for i := range fields {
		if !f.changes(&fields[i]) {
			out.AppendField(fields[i].Key, fields[i].Value)
			continue
		}
		moved = f.flattenField(moved, &fields[i])
	}
	// New names go in with SetValue so that a name already taken is
	// replaced rather than duplicated.
	for _, m := range moved {
		out.SetValue(m.Key, m.Value)
	}
	*ev = out
	return true
}

// flattenField appends the fields that fl becomes to dst.
func (f *fn) flattenField(dst []event.Field, fl *event.Field) []event.Field {
	name, _ := f.chosen(fl.Key)
	rest := fl.Key[len(name):] // "" or ".a.b"
	if f.dotDelim || rest == "" {
		// Only the value is expanded; the key stays (with the prefix).
		return f.expand(dst, f.prefix+fl.Key, fl.Value.Interface(), strings.Count(rest, "."))
	}
	var b strings.Builder
	b.Grow(len(f.prefix) + len(fl.Key) + strings.Count(rest, ".")*len(f.delim))
	b.WriteString(f.prefix)
	b.WriteString(name)
	level := 0
	for rest != "" {
		// rest starts with the dot before its next segment.
		seg := rest[1:]
		if i := strings.IndexByte(seg, '.'); i >= 0 {
			seg = seg[:i]
		}
		level++
		if level <= f.depth {
			b.WriteString(f.delim)
		} else {
			b.WriteByte('.')
		}
		b.WriteString(seg)
		rest = rest[1+len(seg):]
	}
	return f.expand(dst, b.String(), fl.Value.Interface(), level)
}

// expand appends the leaves of x, named below key, to dst; level is how many
// levels below the chosen field key is.
func (f *fn) expand(dst []event.Field, key string, x any, level int) []event.Field {
	if level >= f.depth {
		return append(dst, event.Field{Key: key, Value: event.Any(x)})
	}
	switch t := x.(type) {
	case []any:
		if len(t) == 0 {
			break
		}
		for i, el := range t {
			dst = f.expand(dst, key+f.delim+strconv.Itoa(i), el, level+1)
		}
		return dst
	case map[string]any:
		if len(t) == 0 {
			break
		}
		// Sorted, so that the field order does not depend on map order.
		for _, k := range slices.Sorted(maps.Keys(t)) {
			dst = f.expand(dst, key+f.delim+k, t[k], level+1)
		}
		return dst
	}
	return append(dst, event.Field{Key: key, Value: event.Any(x)})
}

// Spec registers the flatten function.
var Spec = component.FunctionSpec{
	Type: "flatten",
	Doc: "Turns nested values into fields with fully qualified names, like Cribl's Flatten: arrays become `name.0`, `name.1`…, objects inside them `name.0.key`; " +
		"with a delimiter other than `.`, every name below the chosen fields is joined with it (`kubernetes.labels.app` → `kubernetes_labels_app`).",
	Example: `- type: flatten
  fields: [kubernetes, http]
  delimiter: _
  depth: 4`,
	NewConfig: func() any { return &Config{Depth: 16, Delimiter: "."} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("flatten", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{
			fields:    c.Fields,
			prefix:    c.Prefix,
			depth:     c.Depth,
			delim:     c.Delimiter,
			dotDelim:  c.Delimiter == "." && c.Prefix == "",
			allFields: len(c.Fields) == 0,
		}, nil
	},
}
