package event

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Value is one field value. The common case, a string, is held without
// boxing, so creating an event from a line of text allocates nothing per
// field. Other kinds are held in v: int64, float64, bool, null, time.Time,
// []any (arrays; elements are plain Go values as produced by Any) and
// map[string]any (objects inside arrays only: objects at field level are
// flattened into dotted names).
type Value struct {
	s string
	v any
}

type null struct{}

// Null is the JSON null value.
var Null = Value{v: null{}}

// String returns a string value.
func String(s string) Value { return Value{s: s} }

// Int returns an integer value.
func Int(i int64) Value { return Value{v: i} }

// Float returns a floating point value.
func Float(f float64) Value { return Value{v: f} }

// Bool returns a boolean value.
func Bool(b bool) Value { return Value{v: b} }

// Time returns a timestamp value.
func Time(t time.Time) Value { return Value{v: t} }

// Any converts a Go value to a Value, normalizing integer and float types to
// int64 and float64, json.Number to a number, and []string to []any. Objects
// (map[string]any) must be flattened by the caller (Event.Set does that); here
// they are kept as they are.
func Any(x any) Value {
	switch t := x.(type) {
	case nil:
		return Null
	case string:
		return Value{s: t}
	case []byte:
		return Value{s: string(t)}
	case Value:
		return t
	case int:
		return Value{v: int64(t)}
	case int8:
		return Value{v: int64(t)}
	case int16:
		return Value{v: int64(t)}
	case int32:
		return Value{v: int64(t)}
	case int64:
		return Value{v: t}
	case uint:
		return uintValue(uint64(t))
	case uint8:
		return Value{v: int64(t)}
	case uint16:
		return Value{v: int64(t)}
	case uint32:
		return Value{v: int64(t)}
	case uint64:
		return uintValue(t)
	case float32:
		return Value{v: float64(t)}
	case float64:
		return Value{v: t}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return Value{v: i}
		}
		if f, err := t.Float64(); err == nil {
			return Value{v: f}
		}
		return Value{s: string(t)}
	case []string:
		a := make([]any, len(t))
		for i, s := range t {
			a[i] = s
		}
		return Value{v: a}
	default:
		return Value{v: x}
	}
}

func uintValue(u uint64) Value {
	if u > math.MaxInt64 {
		return Value{v: float64(u)}
	}
	return Value{v: int64(u)}
}

// IsString reports whether v holds a string.
func (v Value) IsString() bool { return v.v == nil }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { _, ok := v.v.(null); return ok }

// Str returns the string held by v, and false when v is not a string.
func (v Value) Str() (string, bool) { return v.s, v.v == nil }

// Interface returns v as a plain Go value (string, int64, float64, bool, nil,
// time.Time, []any or map[string]any). Strings are boxed here, so callers on
// hot paths should prefer Str.
func (v Value) Interface() any {
	switch t := v.v.(type) {
	case nil:
		return v.s
	case null:
		return nil
	default:
		return t
	}
}

// Text returns a textual form of v as used in templates and keys: strings as
// they are, numbers in their shortest form, timestamps in RFC 3339 with
// nanoseconds, null as "", and arrays and objects as JSON.
func (v Value) Text() string {
	switch t := v.v.(type) {
	case nil:
		return v.s
	case null:
		return ""
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Sprint(t)
		}
		return string(b)
	}
}

// AppendText appends the Text form of v to dst.
func (v Value) AppendText(dst []byte) []byte {
	switch t := v.v.(type) {
	case nil:
		return append(dst, v.s...)
	case int64:
		return strconv.AppendInt(dst, t, 10)
	case float64:
		return strconv.AppendFloat(dst, t, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(dst, t)
	default:
		return append(dst, v.Text()...)
	}
}
