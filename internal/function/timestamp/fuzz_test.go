package timestamp

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

// strictRFC3339 is RFC 3339's grammar (time.Parse is more lenient: it
// takes one-digit hours, say).
var strictRFC3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$`)

// FuzzRFC3339 checks ParseRFC3339 and ParseISO8601 against time.Parse: a
// time written by Go in RFC 3339 (and its ISO 8601 variants) reads back
// exactly, and any string both accept gives the same instant.
func FuzzRFC3339(f *testing.F) {
	f.Add(int64(1700000000), int64(123456789), int32(3600), "2016-10-06T00:17:09.669794202Z")
	f.Add(int64(-62135596800), int64(0), int32(-37800), "2011-04-19 03:44:01,5+02")
	f.Add(int64(253402300799), int64(999999999), int32(0), "2016-12-31T23:59:60z")
	f.Fuzz(func(t *testing.T, sec, nsec int64, off int32, s string) {
		// Round trip of a generated time.
		sec = sec % 253402300800
		if sec < -62135596800 {
			sec = -sec % 62135596800
		}
		nsec %= 1e9
		if nsec < 0 {
			nsec = -nsec
		}
		off %= 24 * 3600
		off -= off % 60
		tm := time.Unix(sec, nsec).In(time.FixedZone("", int(off)))
		if tm.Year() < 1 || tm.Year() > 9999 {
			return
		}
		for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z07:00"} {
			s := tm.Format(layout)
			got, ok := ParseRFC3339(s)
			want, _ := time.Parse(layout, s)
			if !ok || !got.Equal(want) {
				t.Fatalf("ParseRFC3339(%q) = %v %v, want %v", s, got, ok, want)
			}
			if got, ok := ParseISO8601(s, time.UTC); !ok || !got.Equal(want) {
				t.Fatalf("ParseISO8601(%q) = %v %v, want %v", s, got, ok, want)
			}
		}
		for _, layout := range []string{"2006-01-02 15:04:05,999999999-0700", "2006-01-02T15:04:05.999999999-07", "2006-01-02 15:04:05.999999999"} {
			s := tm.Format(layout)
			want, err := time.ParseInLocation(strings.Replace(layout, ",", ".", 1), strings.Replace(s, ",", ".", 1), tm.Location())
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := ParseISO8601(s, tm.Location()); !ok || !got.Equal(want) {
				t.Fatalf("ParseISO8601(%q) = %v %v, want %v", s, got, ok, want)
			}
		}

		// Arbitrary strings: no panic, UTC results, agreement with Go.
		got, ok := ParseRFC3339(s)
		if ok {
			if got.Location() != time.UTC {
				t.Fatalf("ParseRFC3339(%q) not in UTC", s)
			}
			if want, err := time.Parse(time.RFC3339Nano, s); err == nil && !got.Equal(want) {
				t.Fatalf("ParseRFC3339(%q) = %v, time.Parse = %v", s, got, want)
			}
			if iso, ok := ParseISO8601(s, time.UTC); !ok || !iso.Equal(got) {
				t.Fatalf("ParseISO8601(%q) = %v %v, ParseRFC3339 = %v", s, iso, ok, got)
			}
		} else if want, err := time.Parse(time.RFC3339Nano, s); err == nil && strictRFC3339.MatchString(s) {
			t.Fatalf("ParseRFC3339(%q) failed, time.Parse = %v", s, want)
		}
		if got, ok := ParseISO8601(s, time.UTC); ok && got.Location() != time.UTC {
			t.Fatalf("ParseISO8601(%q) not in UTC", s)
		}
	})
}

// jodaLayouts pairs Joda patterns with Go layouts that write what they read.
var jodaLayouts = []struct{ joda, goLayout string }{
	{"dd/MMM/yyyy:HH:mm:ss Z", "02/Jan/2006:15:04:05 -0700"},
	{"yyyy-MM-dd HH:mm:ss,SSS", "2006-01-02 15:04:05,000"},
	{"yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSZZ", "2006-01-02T15:04:05.000000000-07:00"},
	{"EEE, d MMMM yyyy h:mm:ss a", "Mon, 2 January 2006 3:04:05 PM"},
	{"yyyyMMddHHmmss", "20060102150405"},
	{"yyyy-DDD HH:mm", "2006-002 15:04"},
	{"MMM d HH:mm:ss", "Jan _2 15:04:05"},
}

// FuzzJoda checks compiled Joda patterns: a time written by the matching Go
// layout reads back (to the pattern's precision; without a year, the year
// is inferred from a reference time just after it), and arbitrary input
// and patterns do not panic and give UTC results.
func FuzzJoda(f *testing.F) {
	f.Add(int64(1700000000), int64(123456789), int32(7200), uint8(0), "10/Oct/2000:13:55:36 -0700", "dd/MMM/yyyy:HH:mm:ss Z")
	f.Add(int64(0), int64(0), int32(-3600), uint8(3), "Fri, 15 March 2024 1:02:03 pm", "EEE, d MMMM yyyy h:mm:ss a")
	f.Add(int64(951782400), int64(5), int32(0), uint8(6), "Feb 29 00:00:00", "MMM dd HH:mm:ss z")
	f.Add(int64(-1), int64(999999999), int32(0), uint8(5), "2024-060 10:00", "'at' yy.M.d k:m:s.S ZZZ")
	zones := &zoneCache{}
	f.Fuzz(func(t *testing.T, sec, nsec int64, off int32, which uint8, in, pattern string) {
		sec %= 253402300800
		if sec < 0 {
			sec = -sec
		}
		nsec %= 1e9
		if nsec < 0 {
			nsec = -nsec
		}
		off %= 14 * 3600
		off -= off % 60
		l := jodaLayouts[int(which)%len(jodaLayouts)]
		p, err := compileJoda(l.joda, zones)
		if err != nil {
			t.Fatal(err)
		}
		loc := time.FixedZone("", int(off))
		tm := time.Unix(sec, nsec).In(loc)
		if y := tm.Year(); y >= 1000 && y <= 9999 {
			s := tm.Format(l.goLayout)
			r := tm.Add(time.Hour)
			got, ok := p.parse(s, loc, r)
			want := tm.Truncate(precision(l.goLayout))
			if !ok || !got.Equal(want) {
				t.Fatalf("%s: %q = %v %v, want %v", l.joda, s, got, ok, want.UTC())
			}
		}

		if len(pattern) > 64 {
			return
		}
		if p, err := compileJoda(pattern, zones); err == nil {
			if got, ok := p.parse(in, time.UTC, time.Unix(sec, 0)); ok && got.Location() != time.UTC {
				t.Fatalf("%q %q: result not in UTC", pattern, in)
			}
		}
		for _, l := range jodaLayouts {
			p, _ := compileJoda(l.joda, zones)
			if got, ok := p.parse(in, loc, time.Unix(sec, 0)); ok && got.Location() != time.UTC {
				t.Fatalf("%q %q: result not in UTC", l.joda, in)
			}
		}
	})
}

// precision is the smallest unit a Go layout writes.
func precision(layout string) time.Duration {
	switch {
	case strings.Contains(layout, ".000000000"):
		return time.Nanosecond
	case strings.Contains(layout, ",000"):
		return time.Millisecond
	case strings.Contains(layout, ":05") || strings.HasSuffix(layout, "05"):
		return time.Second
	}
	return time.Minute
}

// FuzzEpoch checks parseEpoch against exact rational arithmetic: the result
// is the number of units truncated to the nanosecond.
func FuzzEpoch(f *testing.F) {
	for _, s := range []string{"1326149001.132", "-1.5", "0", "+7", "1366125117000123456", "9223372036854775807", "1.", "1e9", "-0.0000000009"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
	}
	units := []unit{seconds, millis, micros, nanos}
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		u := units[int(which)%len(units)]
		got, ok := parseEpoch(s, u)
		if !ok {
			return
		}
		r, good := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
		if !good || strings.ContainsAny(s, "eE/ ") {
			t.Fatalf("parseEpoch(%q) accepted what is not a decimal", s)
		}
		r.Mul(r, new(big.Rat).SetInt64(int64(1e9)/int64(u)))
		want := new(big.Int).Quo(r.Num(), r.Denom()) // truncated toward zero
		have := new(big.Int).Mul(big.NewInt(got.Unix()), big.NewInt(1e9))
		have.Add(have, big.NewInt(int64(got.Nanosecond())))
		if have.Cmp(want) != 0 {
			t.Fatalf("parseEpoch(%q, %d) = %v (%s ns), want %s ns", s, u, got, have, want)
		}
	})
}

// FuzzTAI64N checks that labels written from a time read back.
func FuzzTAI64N(f *testing.F) {
	f.Add(int64(1392021145), uint32(612979500), "@4000000052f88ea32489532c")
	f.Fuzz(func(t *testing.T, sec int64, nsec uint32, s string) {
		sec %= 1 << 40
		nsec %= 1e9
		label := fmt.Sprintf("@%016x%08x", uint64(sec+tai64Epoch), nsec)
		got, ok := parseTAI64N(label)
		if !ok || !got.Equal(time.Unix(sec, int64(nsec))) {
			t.Fatalf("%s = %v %v, want %v", label, got, ok, time.Unix(sec, int64(nsec)).UTC())
		}
		if got, ok := parseTAI64N(s); ok && got.Nanosecond() >= 1e9 {
			t.Fatalf("%q: %v", s, got)
		}
	})
}

// FuzzTimestamp runs the function with every kind of format over arbitrary
// values: the event either gets a time in years 1 to 9999 or is tagged,
// never both, and nothing else changes.
func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"2011-04-19T03:44:01.103Z", "10/Oct/2000:13:55:36 -0700", "Apr 17 09:32:01", "1700000000", "@4000000052f88ea32489532c", "2024-07-15 11:22:33 Europe/Berlin", "Mar  5 2024 10:00:00", ""} {
		f.Add(s, int64(0), 0.0, uint8(0))
	}
	f.Add("", int64(1700000000123), 0.0, uint8(1))
	f.Add("", int64(0), 1.7e9, uint8(2))
	fn := fntest.Build(f, Spec, `formats: [ISO8601, "dd/MMM/yyyy:HH:mm:ss Z", "MMM d HH:mm:ss", "yyyy-MM-dd HH:mm:ss ZZZ", TAI64N, "go:Jan _2 2006 15:04:05", UNIX_MS, UNIX]
timezone: America/New_York`)
	refTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string, i int64, x float64, kind uint8) {
		ev := event.New(refTime, "m")
		switch kind % 3 {
		case 0:
			ev.SetString("timestamp", s)
		case 1:
			ev.SetValue("timestamp", event.Int(i))
		case 2:
			ev.SetValue("timestamp", event.Float(x))
		}
		before := fntest.JSON(&ev)
		out := fn.Run(ev)
		if len(out) != 1 {
			t.Fatalf("%d events", len(out))
		}
		e := out[0]
		if e.HasTag(TagFailure) {
			if !e.Time.Equal(refTime) || e.Len() != 3 {
				t.Fatalf("%s failed but changed: %s", before, fntest.JSON(&e))
			}
			return
		}
		if y := e.Time.Year(); y < 1 || y > 9999 || e.Time.Location() != time.UTC || e.Len() != 2 {
			t.Fatalf("%s: %s", before, fntest.JSON(&e))
		}
	})
}
