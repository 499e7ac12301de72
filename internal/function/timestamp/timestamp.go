// Package timestamp is the "timestamp" function: Logstash's date filter.
// It parses a date in a field with the first of a list of formats that
// matches, and sets the event's @timestamp (or another field) to it.
//
// Formats, tried in order:
//
//   - ISO8601: YYYY-MM-DD, optionally followed by 'T' or a space and hh,
//     hh:mm or hh:mm:ss with an optional fraction after '.' or ',', and an
//     optional zone: Z, ±hh, ±hhmm or ±hh:mm.
//   - RFC3339: YYYY-MM-DDThh:mm:ss[.frac] and Z or ±hh:mm, strictly.
//   - UNIX, UNIX_MS, UNIX_US, UNIX_NS: seconds, milliseconds, microseconds or
//     nanoseconds since 1970-01-01T00:00:00Z, an integer or a decimal
//     fraction ("1700000000.25", exact to the nanosecond); also integer and
//     floating-point event values (floats are rounded to the microsecond,
//     to the nanosecond for UNIX_NS).
//   - TAI64N: 24 hex digits with an optional '@', as daemontools' multilog
//     writes; the 10 seconds TAI was ahead of UTC in 1970 are subtracted,
//     as Logstash does.
//   - a Joda-Time pattern, as Logstash takes it: y/yyyy year (yy: two
//     digits, placed within 80 years before and 19 after the reference
//     year), M/MM month, MMM/MMMM English month name (short or full, any
//     case), d/dd day, D day of year, H/HH hour 0-23, k 1-24, h 1-12 and K
//     0-11 with a (AM/PM), m/mm minute, s/ss second, S... fraction of a
//     second (any number of digits, kept to the nanosecond), E... English
//     day name (read and ignored), e day of week (ignored), Z/ZZ zone offset
//     (Z, ±hh, ±hhmm or ±hh:mm), ZZZ IANA zone name, z zone abbreviation
//     (UTC, GMT, UT, Z, EST, EDT, CST, CDT, MST, MDT, PST, PDT, at fixed
//     offsets). Text in single quotes is literal (two single quotes make
//     one), as is every character that is not a letter; literal letters
//     match in any case, and a run of n spaces matches n or more spaces (so
//     "MMM d" reads "Apr  7" too, which Logstash needs a second pattern
//     for). Numbers take 1 or 2 digits (3 for D, up to 9 for a year, or for
//     a year followed by another number as many as letters, as in
//     yyyyMMdd). The whole value must match. Other letters are errors (G,
//     C, x and w are not supported); unquoted letters such as the T of ISO
//     dates must be quoted ('T').
//   - "go:" followed by a Go layout (go:02/Jan/2006:15:04:05 -0700), read
//     with time.ParseInLocation; a layout without a year gets one as Joda
//     patterns without a year do.
//
// Without a zone in the text, the time is read in timezone. Without a year
// in the pattern (syslog's "MMM dd HH:mm:ss"), the year is that of the
// reference time, or the year before when that would put the date more than
// 7 days after the reference time (a December date seen in January), or the
// year after for a January date seen in late December (see
// syslogparse.InferYear; the syslog source and function use the same rule).
// The reference time is the event's current @timestamp (normally when it
// was received; the clock when it has none). Missing month and day default
// to January 1st, missing time of day to midnight.
//
// A string is tried with every format; an integer or float with the epoch
// formats as a number and with the others in its text form; a time value
// (a field an earlier function set) is taken as it is. The result must fall
// in the years 1 to 9999 (UTC). When no format matches, or the value is of
// another kind (bool, null, array), the event is tagged with tag_on_failure
// and counted as a failure; target is left alone. An event without the
// field is left alone and is not a failure, as in Logstash.
//
// Differences from Logstash: fractions are kept to the nanosecond (Joda
// keeps milliseconds); spaces match leniently; z reads the abbreviations
// above at fixed offsets; the year of dates without one and the century of
// two-digit years come from the event's time rather than the clock; no
// locale (English names only).
package timestamp

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/syslogparse"
)

// TagFailure is the default failure tag, Logstash's.
const TagFailure = "_dateparsefailure"

// Config is the timestamp function's configuration.
type Config struct {
	Field        string   `yaml:"field" doc:"Field holding the date: a string, an epoch number or a time."`
	Formats      []string `yaml:"formats" doc:"Formats tried in order: ISO8601, RFC3339, UNIX, UNIX_MS, UNIX_US, UNIX_NS, TAI64N, a Joda-Time pattern as in Logstash (dd/MMM/yyyy:HH:mm:ss Z) or go:<Go layout>."`
	Timezone     string   `yaml:"timezone" doc:"Time zone of dates without one: an IANA name (Europe/Berlin), Local, UTC or an offset (+02:00)."`
	Target       string   `yaml:"target" doc:"Where the time goes: @timestamp (the event's time) or another field, which gets a time value."`
	TagOnFailure []string `yaml:"tag_on_failure" doc:"Tags added when no format matches."`
	loc          *time.Location
	formats      []format
}

// NewConfig returns a Config with every default set.
func NewConfig() *Config {
	return &Config{
		Field:        "timestamp",
		Formats:      []string{"ISO8601"},
		Timezone:     "UTC",
		Target:       event.TimestampField,
		TagOnFailure: []string{TagFailure},
	}
}

// Validate checks the options and compiles the formats.
func (c *Config) Validate() error {
	if c.Field == "" {
		return component.Errorf("field", "must name the field that holds the date (default timestamp)")
	}
	if c.Target == "" {
		return component.Errorf("target", "must name a field: @timestamp (the default) or another one")
	}
	loc, err := syslogparse.LoadLocation(c.Timezone)
	if err != nil {
		return component.Errorf("timezone", "%v", err)
	}
	c.loc = loc
	if len(c.Formats) == 0 {
		return component.Errorf("formats", "list at least one format: ISO8601, RFC3339, UNIX, UNIX_MS, UNIX_US, UNIX_NS, TAI64N, a Joda-Time pattern or go:<layout>")
	}
	formats := make([]format, 0, len(c.Formats))
	zones := &zoneCache{}
	for i, s := range c.Formats {
		f, err := compileFormat(s, zones)
		if err != nil {
			return component.Errorf("formats", "format %d (%q): %v", i+1, s, err)
		}
		formats = append(formats, f)
	}
	c.formats = formats
	return nil
}

// format is one compiled format. parse reads a string; epoch is set for the
// epoch formats, which read numbers as numbers.
type format struct {
	parse func(s string, loc *time.Location, ref time.Time) (time.Time, bool)
	epoch unit
}

func compileFormat(s string, zones *zoneCache) (format, error) {
	switch s {
	case "ISO8601":
		return format{parse: func(s string, loc *time.Location, _ time.Time) (time.Time, bool) { return ParseISO8601(s, loc) }}, nil
	case "RFC3339":
		return format{parse: func(s string, _ *time.Location, _ time.Time) (time.Time, bool) { return ParseRFC3339(s) }}, nil
	case "UNIX":
		return epochFormat(seconds), nil
	case "UNIX_MS":
		return epochFormat(millis), nil
	case "UNIX_US":
		return epochFormat(micros), nil
	case "UNIX_NS":
		return epochFormat(nanos), nil
	case "TAI64N":
		return format{parse: func(s string, _ *time.Location, _ time.Time) (time.Time, bool) { return parseTAI64N(s) }}, nil
	}
	if layout, ok := strings.CutPrefix(s, "go:"); ok {
		return goFormat(layout)
	}
	if strings.TrimSpace(s) == "" {
		return format{}, fmt.Errorf("empty format")
	}
	p, err := compileJoda(s, zones)
	if err != nil {
		return format{}, err
	}
	return format{parse: p.parse}, nil
}

func epochFormat(u unit) format {
	return format{epoch: u, parse: func(s string, _ *time.Location, _ time.Time) (time.Time, bool) { return parseEpoch(s, u) }}
}

// goFormat compiles a Go layout. A layout without a year (time.Parse then
// gives year 0) gets one inferred as Joda patterns do.
func goFormat(layout string) (format, error) {
	if layout == "" {
		return format{}, fmt.Errorf("go: needs a Go layout after it, e.g. go:2006-01-02 15:04:05")
	}
	ref := time.Date(2031, time.November, 27, 13, 14, 15, 0, time.UTC)
	out := ref.Format(layout)
	if out == layout {
		return format{}, fmt.Errorf("Go layout %q has no date or time elements (see https://pkg.go.dev/time#Layout)", layout)
	}
	back, err := time.Parse(layout, out)
	if err != nil {
		return format{}, fmt.Errorf("Go layout %q cannot read its own output: %v", layout, err)
	}
	if back.Equal(ref) || back.Year() == ref.Year() {
		return format{parse: func(s string, loc *time.Location, _ time.Time) (time.Time, bool) {
			t, err := time.ParseInLocation(layout, s, loc)
			return t.UTC(), err == nil
		}}, nil
	}
	return format{parse: func(s string, loc *time.Location, ref time.Time) (time.Time, bool) {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			return time.Time{}, false
		}
		t, ok := syslogparse.InferYear(t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location(), ref)
		return t.UTC(), ok
	}}, nil
}

type fn struct {
	field    string
	target   string
	rootTime bool
	loc      *time.Location
	formats  []format
	fail     *fnutil.Failure
}

// minTime and maxTime bound results: years 1 to 9999, which RFC 3339 can
// write. The zero time.Time (0001-01-01T00:00:00Z) means "no timestamp" to
// an event, so it is out too.
var (
	minTime = time.Date(1, time.January, 1, 0, 0, 0, 1, time.UTC)
	maxTime = time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	v, ok := ev.Lookup(f.field)
	if !ok {
		return true
	}
	t, ok := f.parse(v, ev.Time)
	if !ok || t.Before(minTime) || !t.Before(maxTime) {
		f.fail.Fail(ev)
		return true
	}
	if f.rootTime {
		ev.Time = t
	} else {
		ev.SetValue(f.target, event.Time(t))
	}
	return true
}

// parse tries the formats on v. ref is the reference time for dates
// without a year; zero means now.
func (f *fn) parse(v event.Value, ref time.Time) (time.Time, bool) {
	if ref.IsZero() {
		ref = time.Now()
	}
	if s, ok := v.Str(); ok {
		return f.parseString(s, ref)
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x.UTC(), true
	case int64, float64:
		text := ""
		for _, fm := range f.formats {
			if fm.epoch != 0 {
				if t, ok := epochNumber(x, fm.epoch); ok {
					return t, true
				}
				continue
			}
			if text == "" {
				text = v.Text()
			}
			if t, ok := fm.parse(text, f.loc, ref); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// epochNumber converts an int64 or float64 number of u since the epoch.
func epochNumber(x any, u unit) (time.Time, bool) {
	if i, ok := x.(int64); ok {
		return epochInt(i, u), true
	}
	return epochFloat(x.(float64), u)
}

func (f *fn) parseString(s string, ref time.Time) (time.Time, bool) {
	for _, fm := range f.formats {
		if t, ok := fm.parse(s, f.loc, ref); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// Spec registers the timestamp function.
var Spec = component.FunctionSpec{
	Type: "timestamp",
	Doc: "Parses a date in a field, as Logstash's date filter does, and sets @timestamp (or target) to it. " +
		"formats are tried in order: ISO8601, RFC3339, UNIX, UNIX_MS, UNIX_US, UNIX_NS, TAI64N, Joda-Time patterns " +
		"(`dd/MMM/yyyy:HH:mm:ss Z`, `MMM dd HH:mm:ss`) or `go:` Go layouts. timezone applies to dates without one; " +
		"dates without a year get the year of the event's time (the year before if more than 7 days ahead). " +
		"Epoch numbers are read as numbers. No match: tagged `_dateparsefailure`.",
	Example:   "- type: timestamp\n  field: timestamp\n  formats: [\"dd/MMM/yyyy:HH:mm:ss Z\", ISO8601, UNIX_MS]\n  timezone: Europe/Berlin\n",
	NewConfig: func() any { return NewConfig() },
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("timestamp", cfg)
		if err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		return &fn{
			field:    c.Field,
			target:   c.Target,
			rootTime: c.Target == event.TimestampField,
			loc:      c.loc,
			formats:  c.formats,
			fail:     fnutil.NewFailure(env, c.TagOnFailure),
		}, nil
	},
}
