// Package keep is the "keep" function: remove every field except the listed
// ones, as Cribl's Eval "keep fields" and Vector's only_fields do.
//
// A name keeps the field of that name and everything below it ("kubernetes"
// keeps "kubernetes.pod.name"). A name may hold "*" wildcards, which match
// any run of characters, dots included: "kubernetes.labels.*" keeps every
// label, "http.*" everything under http, "*_id" every field whose name ends
// in "_id". A field is also kept when one of its parents matches a pattern
// ("kube*" keeps "kubernetes.pod.name").
//
// The event time (@timestamp) always stays, and so do internal fields (names
// that start with "_", such as routing metadata): remove those with the
// remove function. Values that are objects held whole (objects inside arrays,
// empty objects) are matched by their own name only; keep does not prune
// inside them.
package keep

import (
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the keep function's configuration.
type Config struct {
	Fields   []string `yaml:"fields" doc:"names of the fields to keep, with everything below them; * matches any characters (kubernetes.labels.*, http.*)"`
	patterns []pattern
}

// Validate checks the names and prepares the patterns.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "keep needs at least one field to keep (fields: [message, kubernetes.labels.*])")
	}
	c.patterns = c.patterns[:0]
	for i, f := range c.Fields {
		if strings.TrimSpace(f) == "" {
			return component.Errorf("fields", "entry %d is empty; give a field name or a pattern like http.*", i)
		}
		c.patterns = append(c.patterns, newPattern(f))
	}
	return nil
}

// pattern is one compiled entry of fields.
type pattern struct {
	src   string
	parts []string // src split at "*"; one part means no wildcard
}

func newPattern(src string) pattern {
	return pattern{src: src, parts: strings.Split(src, "*")}
}

// matches reports whether key is kept by p: it or one of its parents
// matches.
func (p *pattern) matches(key string) bool {
	if len(p.parts) == 1 {
		return fnutil.Under(key, p.src)
	}
	if glob(p.parts, key) {
		return true
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] == '.' && glob(p.parts, key[:i]) {
			return true
		}
	}
	return false
}

// glob matches s against a pattern split at its "*"s (at least two parts).
// Taking the leftmost occurrence of each middle part is enough: any later
// occurrence only leaves less of s for the parts after it.
func glob(parts []string, s string) bool {
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

type fn struct{ patterns []pattern }

func (f *fn) keeps(key string) bool {
	if event.IsInternal(key) {
		return true
	}
	for i := range f.patterns {
		if f.patterns[i].matches(key) {
			return true
		}
	}
	return false
}

// Apply implements component.Function. When something is removed the event
// gets a new field slice (one allocation) holding the kept fields in their
// order; deleting one key at a time would also delete kept fields that sit
// below a removed one.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	fields := ev.Fields()
	kept := 0
	for i := range fields {
		if f.keeps(fields[i].Key) {
			kept++
		}
	}
	if kept == len(fields) {
		return true
	}
	out := event.NewSized(ev.Time, kept)
	for i := range fields {
		if f.keeps(fields[i].Key) {
			out.AppendField(fields[i].Key, fields[i].Value)
		}
	}
	*ev = out
	return true
}

// Spec registers the keep function.
var Spec = component.FunctionSpec{
	Type: "keep",
	Doc: "Removes every field except the listed ones and everything below them; `*` matches any characters (`kubernetes.labels.*`, `http.*`). " +
		"@timestamp and internal fields (names starting with `_`) always stay.",
	Example: `- type: keep
  fields: [message, log.level, kubernetes.namespace, kubernetes.pod.name, kubernetes.labels.*, http.*]`,
	NewConfig: func() any { return &Config{} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("keep", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{patterns: c.patterns}, nil
	},
}
