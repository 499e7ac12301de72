// Package coerce is the "coerce" function: convert field values to another
// type, with the semantics of Logstash's mutate convert.
//
//   - integer: numeric strings are parsed ("42", " -7 ", "+3"); a fraction is
//     truncated toward zero ("3.99" → 3, -2.7 → -2, "1e3" → 1000); the
//     booleans true and false become 1 and 0 (the strings "true" and "false"
//     are not numbers and fail). Thousands separators ("1,234"), hexadecimal
//     and NaN/Infinity are not accepted.
//   - float: numeric strings are parsed; integers widen; true and false
//     become 1.0 and 0.0. NaN and infinities are rejected.
//   - boolean: "true", "t", "yes", "y", "1", "1.0" and "false", "f", "no",
//     "n", "0", "0.0" (any case, surrounding spaces ignored), and the numbers
//     1 and 0.
//   - string: any value becomes its text (42 → "42", true → "true", an array
//     element-wise).
//
// Arrays convert element by element. A value that cannot be converted (a
// word to an integer, 2 to a boolean, a number too large for an integer, an
// object) leaves the field exactly as it was, and the event is tagged with
// tag_on_failure (default _coercefailure) and counted, once per event. A
// missing field or a null value is left alone and is not a failure, as in
// Logstash. Only exact field names are converted: a name that is an object
// (has fields below it) is a failure.
package coerce

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the coerce function's configuration.
type Config struct {
	Fields       map[string]string `yaml:"fields" doc:"field name → type: integer, float, boolean or string"`
	TagOnFailure []string          `yaml:"tag_on_failure" doc:"tags added when a value cannot be converted"`
	conv         []conversion
}

type kind int

const (
	kindInteger kind = iota
	kindFloat
	kindBoolean
	kindString
)

var kinds = map[string]kind{
	"integer": kindInteger, "int": kindInteger,
	"float": kindFloat, "double": kindFloat,
	"boolean": kindBoolean, "bool": kindBoolean,
	"string": kindString,
}

type conversion struct {
	field string
	to    kind
}

// Validate checks the field names and types.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "coerce needs at least one field (fields: {status: integer})")
	}
	c.conv = c.conv[:0]
	for name, typ := range c.Fields {
		if name == "" || name == event.TimestampField {
			return component.Errorf("fields", "cannot convert %q: give the name of a field (@timestamp is the event time)", name)
		}
		k, ok := kinds[strings.ToLower(typ)]
		if !ok {
			return component.Errorf("fields", "%s: unknown type %q (use integer, float, boolean or string)", name, typ)
		}
		c.conv = append(c.conv, conversion{field: name, to: k})
	}
	sort.Slice(c.conv, func(i, j int) bool { return c.conv[i].field < c.conv[j].field })
	return nil
}

type fn struct {
	conv []conversion
	fail *fnutil.Failure
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	failed := false
	for _, c := range f.conv {
		v, ok := ev.Lookup(c.field)
		if !ok {
			if ev.Has(c.field) {
				failed = true // an object
			}
			continue
		}
		if v.IsNull() || (c.to == kindString && v.IsString()) {
			continue
		}
		nv, ok := convert(v, c.to)
		if !ok {
			failed = true
			continue
		}
		ev.SetValue(c.field, nv)
	}
	if failed {
		f.fail.Fail(ev)
	}
	return true
}

// convert converts v to the kind k. On failure it returns v unchanged and
// false.
func convert(v event.Value, k kind) (event.Value, bool) {
	if s, ok := v.Str(); ok {
		return fromString(s, k)
	}
	x := v.Interface()
	if a, ok := x.([]any); ok {
		out := make([]any, len(a))
		for i, el := range a {
			if el == nil {
				continue
			}
			nv, ok := convert(event.Any(el), k)
			if !ok {
				return v, false
			}
			out[i] = nv.Interface()
		}
		return event.Any(out), true
	}
	switch t := x.(type) {
	case int64:
		switch k {
		case kindInteger:
			return v, true
		case kindFloat:
			return event.Float(float64(t)), true
		case kindBoolean:
			return intBool(t)
		}
	case float64:
		switch k {
		case kindInteger:
			return truncate(t)
		case kindFloat:
			return v, true
		case kindBoolean:
			if t == 1 || t == 0 {
				return event.Bool(t == 1), true
			}
			return v, false
		}
	case bool:
		switch k {
		case kindInteger:
			return event.Int(b2i(t)), true
		case kindFloat:
			return event.Float(float64(b2i(t))), true
		case kindBoolean:
			return v, true
		}
	case time.Time:
		if k != kindString {
			return v, false
		}
	case map[string]any:
		if k != kindString {
			return v, false
		}
	}
	return event.String(v.Text()), true
}

func fromString(s string, k kind) (event.Value, bool) {
	t := strings.TrimSpace(s)
	switch k {
	case kindInteger:
		if i, err := strconv.ParseInt(t, 10, 64); err == nil {
			return event.Int(i), true
		}
		if f, ok := parseFloat(t); ok {
			if v, ok := truncate(f); ok {
				return v, true
			}
		}
	case kindFloat:
		if f, ok := parseFloat(t); ok {
			return event.Float(f), true
		}
	case kindBoolean:
		if b, ok := parseBool(t); ok {
			return event.Bool(b), true
		}
	case kindString:
		return event.String(s), true
	}
	return event.String(s), false
}

// parseFloat parses a finite decimal number; strconv alone would also take
// "NaN", "Inf", hexadecimal floats and underscores.
func parseFloat(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "1", "1.0":
		return true, true
	case "false", "f", "no", "n", "0", "0.0":
		return false, true
	}
	return false, false
}

// truncate converts f to an integer, truncating toward zero, when it fits.
func truncate(f float64) (event.Value, bool) {
	t := math.Trunc(f)
	if math.IsNaN(t) || t < math.MinInt64 || t >= math.MaxInt64 {
		return event.Float(f), false
	}
	return event.Int(int64(t)), true
}

func intBool(i int64) (event.Value, bool) {
	if i == 0 || i == 1 {
		return event.Bool(i == 1), true
	}
	return event.Int(i), false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Spec registers the coerce function.
var Spec = component.FunctionSpec{
	Type: "coerce",
	Doc: "Converts field values to integer, float, boolean or string with Logstash mutate convert semantics (\"3.99\" → 3, \"yes\" → true, arrays element-wise); " +
		"a value that cannot be converted stays as it was and the event is tagged `_coercefailure`.",
	Example: `- type: coerce
  fields:
    http.response.status_code: integer
    http.response.bytes: integer
    event.duration_ms: float
    cache.hit: boolean`,
	NewConfig: func() any { return &Config{TagOnFailure: []string{"_coercefailure"}} },
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("coerce", cfg)
		if err != nil {
			return nil, err
		}
		return &fn{conv: c.conv, fail: fnutil.NewFailure(env, c.TagOnFailure)}, nil
	},
}
