// Package split is the "split" function: make one event per element of a
// list, or per part of a string, as Logstash's split filter and Cribl's
// Unroll do.
//
// field (default message) holds either an array, whose elements are taken as
// they are, or a string, which is cut at every occurrence of separator
// (default "\n"; a plain string, not a regex). Each element goes into target
// (default: field itself) of its own event, a clone of the original: the
// first element stays in the original event and the others follow it, in
// order. An element that is an object is flattened below target. With
// skip_empty (default true) empty strings and nulls are skipped, as Logstash
// does.
//
// At most max_events events come out of one (default 10000); the rest of the
// elements are dropped, every event that comes out is tagged
// tag_on_truncate (default _split_truncated), and one failure is counted.
//
// A field that is missing or is neither a string nor an array (a number, an
// object) is tagged tag_on_failure (default _split_type_failure) and counted,
// and the event goes on unchanged, as in Logstash. A field with no elements
// (an empty array, or with skip_empty a string with nothing between the
// separators) makes no event: the original is dropped, as Logstash and
// Cribl's Unroll do. A string without the separator is one element: the
// event goes on with target set to it.
package split

import (
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the split function's configuration.
type Config struct {
	Field         string    `yaml:"field" doc:"field holding the array or string to split"`
	Separator     Separator `yaml:"separator" doc:"where strings are cut (a plain string, not a regex)"`
	Target        string    `yaml:"target" doc:"field each element goes into (default: field itself)"`
	MaxEvents     int       `yaml:"max_events" doc:"most events made from one event, the original included; further elements are dropped"`
	SkipEmpty     bool      `yaml:"skip_empty" doc:"skip empty strings and nulls instead of making events of them"`
	TagOnFailure  []string  `yaml:"tag_on_failure" doc:"tags added when the field is missing or is neither a string nor an array"`
	TagOnTruncate []string  `yaml:"tag_on_truncate" doc:"tags added to every event made from one that had more than max_events elements"`
}

// Separator is where strings are cut. It prints quoted ("\n"), so that the
// generated reference shows the default as an escape rather than a line
// break.
type Separator string

// String returns s quoted as a Go string.
func (s Separator) String() string { return strconv.Quote(string(s)) }

// Validate checks the options.
func (c *Config) Validate() error {
	if c.Field == "" {
		return component.Errorf("field", "must name the field to split")
	}
	if c.Field == event.TimestampField || c.Target == event.TimestampField {
		return component.Errorf("field", "cannot split @timestamp, the event time")
	}
	if c.Separator == "" {
		return component.Errorf("separator", "must not be empty (default \"\\n\")")
	}
	if c.MaxEvents < 1 {
		return component.Errorf("max_events", "must be at least 1, not %d", c.MaxEvents)
	}
	return nil
}

type fn struct {
	field, sep, target string
	max                int
	skipEmpty          bool
	typeFail, truncate *fnutil.Failure
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, emit func(event.Event)) bool {
	v, ok := ev.Lookup(f.field)
	if !ok {
		f.typeFail.Fail(ev)
		return true
	}
	if s, ok := v.Str(); ok {
		return f.splitString(ev, s, emit)
	}
	if a, ok := v.Interface().([]any); ok {
		return f.splitArray(ev, a, emit)
	}
	f.typeFail.Fail(ev)
	return true
}

func (f *fn) splitString(ev *event.Event, s string, emit func(event.Event)) bool {
	if !strings.Contains(s, f.sep) && (s != "" || !f.skipEmpty) {
		if f.target != f.field {
			ev.SetString(f.target, s)
		}
		return true
	}
	n := 0
	for rest, more := s, true; more && n <= f.max; {
		var part string
		part, rest, more = strings.Cut(rest, f.sep)
		if part != "" || !f.skipEmpty {
			n++
		}
	}
	if n == 0 {
		return false
	}
	if n > f.max {
		f.truncate.Fail(ev)
	}
	i := 0
	for rest, more := s, true; more && i < f.max; {
		var part string
		part, rest, more = strings.Cut(rest, f.sep)
		if part == "" && f.skipEmpty {
			continue
		}
		if i == 0 {
			ev.SetString(f.target, part)
		} else {
			c := ev.Clone()
			c.SetString(f.target, part)
			emit(c)
		}
		i++
	}
	return true
}

func (f *fn) empty(x any) bool {
	if !f.skipEmpty {
		return false
	}
	s, isStr := x.(string)
	return x == nil || (isStr && s == "")
}

func (f *fn) splitArray(ev *event.Event, a []any, emit func(event.Event)) bool {
	n := 0
	for _, x := range a {
		if !f.empty(x) {
			n++
		}
	}
	if n == 0 {
		return false
	}
	if n > f.max {
		f.truncate.Fail(ev)
	}
	i := 0
	for _, x := range a {
		if i == f.max {
			break
		}
		if f.empty(x) {
			continue
		}
		if i == 0 {
			ev.Set(f.target, x)
		} else {
			c := ev.Clone()
			c.Set(f.target, x)
			emit(c)
		}
		i++
	}
	return true
}

// Spec registers the split function.
var Spec = component.FunctionSpec{
	Type: "split",
	Doc: "Makes one event per element of an array field, or per part of a string field cut at `separator` (default a newline), like Logstash's split and Cribl's Unroll; " +
		"the first element stays in the original event, the others follow in clones of it.",
	Example: `- type: split
  field: message
  separator: "\n"
  max_events: 1000`,
	NewConfig: func() any {
		return &Config{
			Field:         event.MessageField,
			Separator:     "\n",
			MaxEvents:     10000,
			SkipEmpty:     true,
			TagOnFailure:  []string{"_split_type_failure"},
			TagOnTruncate: []string{"_split_truncated"},
		}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("split", cfg)
		if err != nil {
			return nil, err
		}
		target := c.Target
		if target == "" {
			target = c.Field
		}
		return &fn{
			field:     c.Field,
			sep:       string(c.Separator),
			target:    target,
			max:       c.MaxEvents,
			skipEmpty: c.SkipEmpty,
			typeFail:  fnutil.NewFailure(env, c.TagOnFailure),
			truncate:  fnutil.NewFailure(env, c.TagOnTruncate),
		}, nil
	},
}
