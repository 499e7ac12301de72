// Package fnutil holds what pipeline functions share: counting and tagging
// the events they fail to process, reading their input and their config,
// checking and naming fields (output fields under a target), the time of
// events, and rate-limited warnings.
//
// Conventions every function follows (see docs/functions.md):
//   - `field` names the input field (default "message");
//   - `target` names where output goes: "" is the event's root, anything
//     else is a prefix ("parsed" puts key k at "parsed.k");
//   - `tag_on_failure` lists the tags added when the input cannot be
//     processed; the event goes on unchanged apart from the tags, and the
//     failure is counted in sluice_function_failures_total.
package fnutil

import (
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

// Failure tags and counts events a function could not process.
type Failure struct {
	tags    []string
	counter component.Counter
}

// NewFailure returns a Failure adding tags and counting into env.Failures.
func NewFailure(env component.Env, tags []string) *Failure {
	c := env.Failures
	if c == nil {
		c = component.NopCounter
	}
	return &Failure{tags: tags, counter: c}
}

// Fail marks ev as failed: it adds the failure tags and counts one failure.
func (f *Failure) Fail(ev *event.Event) {
	for _, t := range f.tags {
		ev.AddTag(t)
	}
	f.counter.Inc()
}

// Input returns the text in field, the input of a parsing function. ok is
// false when there is none: an event without the field is left alone; one
// whose field holds an object, or a value that is not a string, is a
// failure (fail tags and counts it).
func Input(ev *event.Event, field string, fail *Failure) (string, bool) {
	v, ok := ev.Lookup(field)
	if !ok {
		if ev.Has(field) {
			fail.Fail(ev) // an object, not text
		}
		return "", false
	}
	s, isStr := v.Str()
	if !isStr {
		fail.Fail(ev)
		return "", false
	}
	return s, true
}

// CheckTextField checks an option (key) naming a field that holds text:
// a valid field name other than @timestamp.
func CheckTextField(key, name string) error {
	if !ValidField(name) || name == event.TimestampField {
		return component.Errorf(key, "%q is not a field name that can hold text", name)
	}
	return nil
}

// Config returns cfg as *T, or an error naming the function type.
func Config[T any](typ string, cfg any) (*T, error) {
	c, ok := cfg.(*T)
	if !ok {
		return nil, fmt.Errorf("%s: unexpected config %T", typ, cfg)
	}
	return c, nil
}

// Logger returns env.Logger, or a logger that discards everything when env
// has none (in tests).
func Logger(env component.Env) *slog.Logger {
	if env.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return env.Logger
}

// CheckTags checks an option that lists tags (tag_on_failure, say): no tag
// may be empty. The error names key.
func CheckTags(key string, tags []string) error {
	for _, t := range tags {
		if t == "" {
			return component.Errorf(key, "tags must not be empty")
		}
	}
	return nil
}

// ValidField reports whether p can name a field: not empty and without
// empty segments ("a..b", ".a", "a.").
func ValidField(p string) bool {
	return p != "" && p[0] != '.' && p[len(p)-1] != '.' && !strings.Contains(p, "..")
}

// FieldName turns a field reference into an event key: Logstash's bracket
// notation [a][b] becomes a.b; dotted names stay as they are. ok is false
// when the key cannot name a field (see ValidField).
func FieldName(ref string) (key string, ok bool) {
	if strings.ContainsAny(ref, "[]") {
		ref = strings.Join(strings.FieldsFunc(ref, func(r rune) bool { return r == '[' || r == ']' }), ".")
	}
	return ref, ValidField(ref)
}

// Under reports whether the field key is name or below it (name.x,
// name.x.y).
func Under(key, name string) bool {
	n := len(name)
	return key == name || (len(key) > n && key[n] == '.' && key[:n] == name)
}

// HasAnyTag reports whether ev carries one of tags.
func HasAnyTag(ev *event.Event, tags []string) bool {
	for _, t := range tags {
		if ev.HasTag(t) {
			return true
		}
	}
	return false
}

// Join returns the name of key under target: key itself when target is
// empty, else "target.key".
func Join(target, key string) string {
	if target == "" {
		return key
	}
	return target + "." + key
}

// EventNanos returns the time ev counts at, in Unix nanoseconds (see
// Nanos), for the functions whose windows follow time: its @timestamp, or
// now() when wall is set (the clock is the time events are processed) or
// ev has no timestamp.
func EventNanos(ev *event.Event, wall bool, now func() time.Time) int64 {
	t := ev.Time
	if wall || t.IsZero() {
		t = now()
	}
	return Nanos(t)
}

// Nanos is t in Unix nanoseconds, saturated outside the years 1678-2262.
func Nanos(t time.Time) int64 {
	const maxSec = math.MaxInt64 / int64(time.Second)
	sec := t.Unix()
	switch {
	case sec >= maxSec:
		return math.MaxInt64
	case sec <= -maxSec:
		return math.MinInt64
	}
	return sec*int64(time.Second) + int64(t.Nanosecond())
}

// Limiter lets an action, a warning say, happen at most once per interval,
// from any goroutine.
type Limiter struct{ last atomic.Int64 }

// Allow reports whether the action may happen at now: the first time, and
// then once interval has passed since it last did. It takes the turn: of
// calls that race, one is allowed.
func (l *Limiter) Allow(now time.Time, interval time.Duration) bool {
	n := now.UnixNano()
	last := l.last.Load()
	return n-last >= int64(interval) && l.last.CompareAndSwap(last, n)
}
