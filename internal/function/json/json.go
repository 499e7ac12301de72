// Package json is the "json" function: parse a field that holds JSON text
// into event fields, like Logstash's json filter, with the zero-copy parser
// of internal/jsonparse.
//
// Semantics, decided once here:
//
//   - The input is the string field `field` (default "message"). A missing
//     field leaves the event alone and is not a failure (Logstash returns
//     early too); a field that holds something other than a string (a
//     number, or an object of dotted fields) is a failure.
//   - With no target the JSON must be an object, and its members are merged
//     into the event's root as jsonparse.ParseObject does: each top-level
//     member replaces the field of the same name and everything below it,
//     nested objects become dotted fields, other fields stay. A top-level
//     "@timestamp" string in RFC 3339 becomes the event's time. Any other
//     "@timestamp" value (epoch numbers, other layouts) stays a field named
//     "@timestamp": it is not the event's time, encoders leave it out while
//     the event has a time, and a date function reading field "@timestamp"
//     finds it (Logstash moves it to "_@timestamp" and tags
//     _timestampparsefailure instead). An array or scalar at the root is a
//     failure, as in Logstash.
//   - With a target, the target field and everything below it is replaced
//     by the parsed value: an object's members go below it, an empty object
//     becomes {}, an array or scalar is stored at the target itself (as
//     Logstash does). Nothing outside the target changes and "@timestamp"
//     is an ordinary member there.
//   - Failures (each adds tag_on_failure and counts one failure; the event
//     is otherwise unchanged): invalid JSON, input longer than max_bytes
//     (not parsed at all), nesting deeper than max_depth, a non-object at
//     the root, a non-string input. skip_on_invalid drops the tag and the
//     count for invalid JSON only (including an empty string), like
//     Logstash's skip_on_invalid_json, so that a field holding JSON on some
//     events and plain text on others can be parsed; the other failures are
//     still tagged.
//   - remove_field deletes the input field after a successful parse, unless
//     the parse wrote that field or a field below it (a JSON line whose
//     "message" member replaced the raw message keeps the new one).
//
// Parsed strings share memory with the input string (Go strings are
// immutable, so this is safe); no copy of the input is made.
package json

import (
	"bytes"
	"errors"
	"strings"
	"unsafe"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// MaxDepthLimit is the largest max_depth accepted. A target puts the value
// one level below the root, where jsonparse allows one level less.
const MaxDepthLimit = jsonparse.MaxDepth - 1

// Config is the json function's configuration.
type Config struct {
	Field         string          `yaml:"field" doc:"Field holding the JSON text."`
	Target        string          `yaml:"target" doc:"Where the parsed value goes: empty merges the object's members into the event's root; a name replaces that field with the parsed value (any JSON type)."`
	MaxBytes      config.ByteSize `yaml:"max_bytes" doc:"Longer input is not parsed and is a failure; 0 means no limit."`
	MaxDepth      int             `yaml:"max_depth" doc:"Deepest nesting of objects and arrays accepted (1 to 63); deeper input is a failure."`
	RemoveField   bool            `yaml:"remove_field" doc:"Delete the input field after a successful parse, unless the parsed output wrote that field."`
	SkipOnInvalid bool            `yaml:"skip_on_invalid" doc:"Leave input that is not valid JSON untagged and uncounted (like Logstash's skip_on_invalid_json)."`
	TagOnFailure  []string        `yaml:"tag_on_failure" doc:"Tags added to events that cannot be parsed."`
}

func newConfig() any {
	return &Config{
		Field:        event.MessageField,
		MaxBytes:     1 << 20,
		MaxDepth:     20,
		TagOnFailure: []string{"_jsonparsefailure"},
	}
}

// Validate checks the options.
func (c *Config) Validate() error {
	if err := checkPath(c.Field); err != nil {
		return component.Errorf("field", "%v", err)
	}
	if c.Field == event.TimestampField {
		return component.Errorf("field", "@timestamp is the event's time, not JSON text")
	}
	if c.Target != "" {
		if err := checkPath(c.Target); err != nil {
			return component.Errorf("target", "%v", err)
		}
		if c.Target == event.TimestampField {
			return component.Errorf("target", "@timestamp is the event's time and cannot hold JSON; use a field name, or no target to merge into the root")
		}
	}
	if c.MaxBytes < 0 {
		return component.Errorf("max_bytes", "must not be negative (0 means no limit), got %d", c.MaxBytes)
	}
	if c.MaxDepth < 1 || c.MaxDepth > MaxDepthLimit {
		return component.Errorf("max_depth", "must be between 1 and %d, got %d", MaxDepthLimit, c.MaxDepth)
	}
	return fnutil.CheckTags("tag_on_failure", c.TagOnFailure)
}

// checkPath rejects field names that cannot address a field: empty, or
// with an empty segment ("a..b", ".a", "a.").
func checkPath(p string) error {
	switch {
	case p == "":
		return errEmptyName
	case !fnutil.ValidField(p):
		return errBadName
	}
	return nil
}

var (
	errEmptyName = errors.New("must not be empty")
	errBadName   = errors.New("must be a dotted field name without empty segments (like a.b.c)")
)

type fn struct {
	field, target string
	maxBytes      int
	maxDepth      int
	removeField   bool
	skipInvalid   bool
	fail          *fnutil.Failure
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	s, ok := fnutil.Input(ev, f.field, f.fail)
	if !ok {
		return true
	}
	if f.maxBytes > 0 && len(s) > f.maxBytes {
		f.fail.Fail(ev)
		return true
	}
	// Strings are immutable, so parsed values may point into s.
	data := unsafe.Slice(unsafe.StringData(s), len(s))
	if deeperThan(data, f.maxDepth) {
		f.failOrSkip(ev, data)
		return true
	}
	var err error
	if f.target == "" {
		// Merging appends to ev's field slice, which would grow it two or
		// three times; grow it once. There are at most as many fields as
		// colons (fewer when strings hold colons, like times do).
		ev.Grow(min(bytes.Count(data, colon), maxGrow))
		err = jsonparse.ParseObject(ev, data)
	} else {
		err = jsonparse.ParseValueAt(ev, data, f.target)
	}
	if err != nil {
		f.failOrSkip(ev, data)
		return true
	}
	if f.removeField {
		f.remove(ev, s)
	}
	return true
}

// failOrSkip handles input that did not parse (or is too deep): with
// skip_on_invalid, input that is not JSON at all is left alone; valid JSON
// that is not an object at the root, or is too deep, is always a failure.
// (Input nested deeper than MaxDepthLimit counts as not JSON here, as
// jsonparse rejects it.)
func (f *fn) failOrSkip(ev *event.Event, data []byte) {
	if f.skipInvalid && !isJSON(data) {
		return
	}
	f.fail.Fail(ev)
}

// isJSON reports whether data holds one valid JSON value. It is only called
// on failure paths.
func isJSON(data []byte) bool {
	var scratch event.Event
	return jsonparse.ParseValueAt(&scratch, data, "v") == nil
}

// remove deletes the input field unless the parse wrote it or something
// below it. The raw input s cannot be equal to any value parsed out of it
// (a JSON string is shorter than the text that holds it), so a field at the
// input's name that still holds s is the original.
func (f *fn) remove(ev *event.Event, s string) {
	original := false
	for _, fl := range ev.Fields() {
		k := fl.Key
		if k == f.field {
			if cur, ok := fl.Value.Str(); ok && cur == s {
				original = true
				continue
			}
			return
		}
		if len(k) > len(f.field) && k[len(f.field)] == '.' && strings.HasPrefix(k, f.field) {
			return
		}
	}
	if original {
		ev.Delete(f.field)
	}
}

// deeperThan reports whether data nests objects and arrays more than max
// levels deep. Brackets inside strings do not count; on invalid input the
// answer does not matter, the parser rejects it anyway. Most lines have
// fewer brackets in all than max, which two vectorized counts show.
func deeperThan(data []byte, max int) bool {
	if bytes.Count(data, openBrace)+bytes.Count(data, openBracket) <= max {
		return false
	}
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > max {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// maxGrow bounds the room made for a root merge up front; larger objects
// grow the slice as they go.
const maxGrow = 64

var (
	colon       = []byte{':'}
	openBrace   = []byte{'{'}
	openBracket = []byte{'['}
)

// Spec registers the json function.
var Spec = component.FunctionSpec{
	Type: "json",
	Doc: "Parses a field holding JSON text (default message) into event fields, like Logstash's json filter: with no target an object's members " +
		"are merged into the root (an RFC 3339 top-level @timestamp becomes the event time), with a target the parsed value replaces that field. " +
		"Invalid, oversized or too deeply nested input and a non-object at the root are failures (tag_on_failure, default _jsonparsefailure); " +
		"a missing field is not.",
	Example: `- type: json
  field: message
  target: app
  remove_field: true
  skip_on_invalid: true`,
	NewConfig: newConfig,
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("json", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{
			field:       c.Field,
			target:      c.Target,
			maxBytes:    int(c.MaxBytes),
			maxDepth:    c.MaxDepth,
			removeField: c.RemoveField,
			skipInvalid: c.SkipOnInvalid,
			fail:        fnutil.NewFailure(env, c.TagOnFailure),
		}, nil
	},
}
