package timestamp

import (
	"testing"
	"time"
)

// ref is the reference time (the event's @timestamp) of the tests.
var ref = time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func rfc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// check compares a parse result with want (RFC 3339, "" for a failure).
func check(t *testing.T, what string, got time.Time, ok bool, want string) {
	t.Helper()
	switch {
	case want == "" && ok:
		t.Errorf("%s: got %v, want failure", what, got.Format(time.RFC3339Nano))
	case want != "" && !ok:
		t.Errorf("%s: failed, want %s", what, want)
	case want != "" && !got.Equal(rfc(want)):
		t.Errorf("%s: got %s, want %s", what, got.Format(time.RFC3339Nano), want)
	case ok && got.Location() != time.UTC:
		t.Errorf("%s: result in %v, want UTC", what, got.Location())
	}
}

func TestISO8601(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		in, want string
		loc      *time.Location
	}{
		{in: "2011-04-19T03:44:01.103Z", want: "2011-04-19T03:44:01.103Z"},
		{in: "2011-04-19T03:44:01Z", want: "2011-04-19T03:44:01Z"},
		{in: "2011-04-19t03:44:01z", want: "2011-04-19T03:44:01Z"},
		{in: "2011-04-19T03:44:01.103+02:00", want: "2011-04-19T01:44:01.103Z"},
		{in: "2011-04-19T03:44:01-0530", want: "2011-04-19T09:14:01Z"},
		{in: "2011-04-19T03:44:01+02", want: "2011-04-19T01:44:01Z"},
		{in: "2011-04-19 03:44:01,123456789", want: "2011-04-19T03:44:01.123456789Z"},
		{in: "2011-04-19 03:44:01.1234567891234", want: "2011-04-19T03:44:01.123456789Z"},
		{in: "2011-04-19 03:44:01", want: "2011-04-19T01:44:01Z", loc: berlin},
		{in: "2011-01-19 03:44:01", want: "2011-01-19T02:44:01Z", loc: berlin},
		{in: "2011-04-19T03:44", want: "2011-04-19T03:44:00Z"},
		{in: "2011-04-19T03", want: "2011-04-19T03:00:00Z"},
		{in: "2011-04-19T03:44Z", want: "2011-04-19T03:44:00Z"},
		{in: "2011-04-19", want: "2011-04-18T22:00:00Z", loc: berlin},
		{in: "2016-12-31T23:59:60Z", want: "2017-01-01T00:00:00Z"},
		{in: "2024-02-29T00:00:00Z", want: "2024-02-29T00:00:00Z"},
		{in: "2023-02-29T00:00:00Z"},
		{in: "2011-13-19T03:44:01Z"},
		{in: "2011-04-00T03:44:01Z"},
		{in: "2011-04-19T24:00:00Z"},
		{in: "2011-04-19T03:60:00Z"},
		{in: "2011-04-19T03:44:61Z"},
		{in: "2011-04-19T03:44:01+24:00"},
		{in: "2011-04-19T03:44:01+02:60"},
		{in: "2011-04-19T03:44:01 +02:00"},
		{in: "2011-04-19T03:44:01+2"},
		{in: "2011-04-19T03:44:01."},
		{in: "2011-04-19T03:44:01Zjunk"},
		{in: "2011-04-19X03:44:01Z"},
		{in: "2011-4-19"},
		{in: "20110419"},
		{in: "2011-04-19T"},
		{in: "2011-04-19T3:44"},
		{in: ""},
		{in: "+2011-04-19"},
	}
	for _, tt := range tests {
		loc := tt.loc
		if loc == nil {
			loc = time.UTC
		}
		got, ok := ParseISO8601(tt.in, loc)
		check(t, tt.in, got, ok, tt.want)
	}
}

func TestRFC3339(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2016-10-06T00:17:09.669794202Z", "2016-10-06T00:17:09.669794202Z"},
		{"2016-10-06T00:17:09Z", "2016-10-06T00:17:09Z"},
		{"2016-10-06t00:17:09.5z", "2016-10-06T00:17:09.5Z"},
		{"2021-02-03T10:11:12.123456789+01:00", "2021-02-03T09:11:12.123456789Z"},
		{"2021-02-03T10:11:12-07:30", "2021-02-03T17:41:12Z"},
		{"2016-10-06 00:17:09Z", ""},
		{"2016-10-06T00:17:09", ""},
		{"2016-10-06T00:17:09+0100", ""},
		{"2016-10-06T00:17:09+01", ""},
		{"2016-10-06T00:17Z", ""},
		{"2016-10-06T00:17:09,5Z", ""},
		{"2016-10-06", ""},
	}
	for _, tt := range tests {
		got, ok := ParseRFC3339(tt.in)
		check(t, tt.in, got, ok, tt.want)
	}
}

func TestEpoch(t *testing.T) {
	tests := []struct {
		in   string
		u    unit
		want string
	}{
		{"1326149001", seconds, "2012-01-09T22:43:21Z"},
		{"1326149001.132", seconds, "2012-01-09T22:43:21.132Z"},
		{"1326149001.123456789999", seconds, "2012-01-09T22:43:21.123456789Z"},
		{"-1.5", seconds, "1969-12-31T23:59:58.5Z"},
		{"+1", seconds, "1970-01-01T00:00:01Z"},
		{"0", seconds, "1970-01-01T00:00:00Z"},
		{"1366125117000", millis, "2013-04-16T15:11:57Z"},
		{"1366125117000.5", millis, "2013-04-16T15:11:57.0005Z"},
		{"-1500", millis, "1969-12-31T23:59:58.5Z"},
		{"1366125117000123", micros, "2013-04-16T15:11:57.000123Z"},
		{"1366125117000123456", nanos, "2013-04-16T15:11:57.000123456Z"},
		{"1366125117000123456.9", nanos, "2013-04-16T15:11:57.000123456Z"},
		{"9223372036854775807", nanos, "2262-04-11T23:47:16.854775807Z"},
		{"9223372036854775808", nanos, ""}, // beyond int64
		{"1.", seconds, ""},
		{".5", seconds, ""},
		{"1e9", seconds, ""},
		{"12a", seconds, ""},
		{"", seconds, ""},
		{"-", seconds, ""},
		{" 1", seconds, ""},
	}
	for _, tt := range tests {
		got, ok := parseEpoch(tt.in, tt.u)
		check(t, tt.in, got, ok, tt.want)
	}
	for _, tt := range []struct {
		f    float64
		u    unit
		want string
	}{
		{1326149001.132, seconds, "2012-01-09T22:43:21.132Z"},
		{-0.5, seconds, "1969-12-31T23:59:59.5Z"},
		{1366125117000.5, millis, "2013-04-16T15:11:57.0005Z"},
		{1366125117000123, micros, "2013-04-16T15:11:57.000123Z"},
		{1.5e9, nanos, "1970-01-01T00:00:01.5Z"},
		{1e300, seconds, ""},
	} {
		got, ok := epochFloat(tt.f, tt.u)
		check(t, "float", got, ok, tt.want)
	}
}

func TestTAI64N(t *testing.T) {
	tests := []struct{ in, want string }{
		// The example of fluent-plugin-tai64n_parser: 17:32:25.6129795 JST.
		{"@4000000052f88ea32489532c", "2014-02-10T08:32:25.612979500Z"},
		{"4000000052F88EA32489532C", "2014-02-10T08:32:25.612979500Z"},
		{"@400000000000000a00000000", "1970-01-01T00:00:00Z"},
		{"@4000000052f88ea33b9aca00", ""}, // 10^9 nanoseconds
		{"@4000000052f88ea32489532", ""},
		{"@3fffffffffffffff00000000", ""},
		{"@4000000052f88eg32489532c", ""},
	}
	for _, tt := range tests {
		got, ok := parseTAI64N(tt.in)
		check(t, tt.in, got, ok, tt.want)
	}
}

func TestJoda(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		pattern, in, want string
		loc               *time.Location
		ref               time.Time
	}{
		// Apache / nginx access logs.
		{pattern: "dd/MMM/yyyy:HH:mm:ss Z", in: "10/Oct/2000:13:55:36 -0700", want: "2000-10-10T20:55:36Z"},
		{pattern: "dd/MMM/yyyy:HH:mm:ss Z", in: "10/oct/2000:13:55:36 +0000", want: "2000-10-10T13:55:36Z"},
		{pattern: "dd/MMM/yyyy:HH:mm:ss Z", in: "10/Oct/2000:13:55:36", want: ""},
		// Syslog: no year; the reference is 2026-01-02.
		{pattern: "MMM dd HH:mm:ss", in: "Apr 17 09:32:01", want: "2025-04-17T09:32:01Z"},
		{pattern: "MMM dd HH:mm:ss", in: "Jan  5 09:32:01", want: "2026-01-05T09:32:01Z"},
		{pattern: "MMM d HH:mm:ss", in: "Jan  5 09:32:01", want: "2026-01-05T09:32:01Z"},
		{pattern: "MMM  d HH:mm:ss", in: "Jan 15 09:32:01", want: ""},
		{pattern: "MMM dd HH:mm:ss", in: "Dec 31 23:59:59", want: "2025-12-31T23:59:59Z"},
		{pattern: "MMM dd HH:mm:ss", in: "Jan 20 00:00:00", ref: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), want: "2025-01-20T00:00:00Z"},
		{pattern: "MMM dd HH:mm:ss", in: "Jan 02 00:00:00", ref: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), want: "2026-01-02T00:00:00Z"},
		{pattern: "MMM dd HH:mm:ss", in: "Apr 17 09:32:01", loc: berlin, want: "2025-04-17T07:32:01Z"},
		{pattern: "MMM dd HH:mm:ss Z", in: "Apr 17 09:32:01 +0200", want: "2025-04-17T07:32:01Z"},
		{pattern: "MMMM d, yyyy", in: "September 3, 2024", want: "2024-09-03T00:00:00Z"},
		{pattern: "MMM d, yyyy", in: "Sept 3, 2024", want: ""},
		// Java / log4j.
		{pattern: "yyyy-MM-dd HH:mm:ss,SSS", in: "2024-03-15 11:22:33,444", want: "2024-03-15T11:22:33.444Z"},
		{pattern: "yyyy-MM-dd HH:mm:ss,SSS", in: "2024-03-15 11:22:33,4", want: "2024-03-15T11:22:33.4Z"},
		{pattern: "yyyy-MM-dd HH:mm:ss.SSSSSS", in: "2024-03-15 11:22:33.123456789123", want: "2024-03-15T11:22:33.123456789Z"},
		{pattern: "yyyy-MM-dd'T'HH:mm:ss.SSSZZ", in: "2024-03-15T11:22:33.444+01:00", want: "2024-03-15T10:22:33.444Z"},
		{pattern: "yyyy-MM-dd'T'HH:mm:ss.SSSZ", in: "2024-03-15T11:22:33.444Z", want: "2024-03-15T11:22:33.444Z"},
		{pattern: "yyyy-MM-dd'T'HH:mm:ss", in: "2024-03-15t11:22:33", want: "2024-03-15T11:22:33Z"},
		{pattern: "yyyy-MM-dd HH:mm:ss ZZZ", in: "2024-07-15 11:22:33 Europe/Berlin", want: "2024-07-15T09:22:33Z"},
		{pattern: "yyyy-MM-dd HH:mm:ss ZZZ", in: "2024-07-15 11:22:33 Mars/Base", want: ""},
		{pattern: "yyyy-MM-dd HH:mm:ss z", in: "2024-07-15 11:22:33 PDT", want: "2024-07-15T18:22:33Z"},
		{pattern: "yyyy-MM-dd HH:mm:ss z", in: "2024-07-15 11:22:33 utc", want: "2024-07-15T11:22:33Z"},
		// Compact numbers: a year followed by a number has 4 digits.
		{pattern: "yyyyMMddHHmmss", in: "20240315112233", want: "2024-03-15T11:22:33Z"},
		{pattern: "yyyyMMdd", in: "2024031", want: "2024-03-01T00:00:00Z"}, // d reads 1 or 2 digits, as in Joda
		{pattern: "yyyyMMdd", in: "202403", want: ""},
		{pattern: "yyMMdd", in: "240315", want: "2024-03-15T00:00:00Z"},
		// Two-digit years: within 80 years before and 19 after 2026.
		{pattern: "dd.MM.yy", in: "15.03.45", want: "2045-03-15T00:00:00Z"},
		{pattern: "dd.MM.yy", in: "15.03.46", want: "1946-03-15T00:00:00Z"},
		{pattern: "dd.MM.yy", in: "15.03.2024", want: "2024-03-15T00:00:00Z"}, // lenient
		// 12-hour clocks, day names, day of year, 24-hour clock k.
		{pattern: "EEE, dd MMM yyyy hh:mm:ss a", in: "Fri, 15 Mar 2024 01:02:03 PM", want: "2024-03-15T13:02:03Z"},
		{pattern: "EEEE, dd MMM yyyy hh:mm a", in: "friday, 15 Mar 2024 12:02 am", want: "2024-03-15T00:02:00Z"},
		{pattern: "yyyy-MM-dd KK:mm a", in: "2024-03-15 11:02 pm", want: "2024-03-15T23:02:00Z"},
		{pattern: "yyyy-MM-dd hh:mm", in: "2024-03-15 13:02", want: ""},
		{pattern: "yyyy-MM-dd kk:mm", in: "2024-03-15 24:02", want: "2024-03-15T00:02:00Z"},
		{pattern: "yyyy-MM-dd HH:mm", in: "2024-03-15 24:02", want: ""},
		{pattern: "yyyy-DDD", in: "2024-060", want: "2024-02-29T00:00:00Z"},
		{pattern: "yyyy-DDD", in: "2023-366", want: ""},
		{pattern: "yyyy-MM-dd e", in: "2024-03-15 5", want: "2024-03-15T00:00:00Z"},
		// Quotes and literals.
		{pattern: "'Date: 'yyyy-MM-dd' at 'HH'h'", in: "date: 2024-03-15 at 11h", want: "2024-03-15T11:00:00Z"},
		{pattern: "yyyy-MM-dd''HH", in: "2024-03-15'11", want: "2024-03-15T11:00:00Z"},
		// Defaults and range checks.
		{pattern: "yyyy", in: "2024", want: "2024-01-01T00:00:00Z"},
		{pattern: "yyyy-MM", in: "2024-02", want: "2024-02-01T00:00:00Z"},
		{pattern: "yyyy-MM-dd", in: "2023-02-29", want: ""},
		{pattern: "yyyy-MM-dd", in: "2024-13-01", want: ""},
		{pattern: "yyyy-MM-dd HH:mm:ss", in: "2024-03-15 11:60:00", want: ""},
		{pattern: "yyyy-MM-dd HH:mm:ss", in: "2024-03-15 11:22:33 ", want: ""},
		{pattern: "yyyy-MM-dd HH:mm:ss", in: "2024-03-15 11:22", want: ""},
		{pattern: "MMM dd", in: "Feb 29", ref: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), want: ""},
	}
	for _, tt := range tests {
		p, err := compileJoda(tt.pattern, &zoneCache{})
		if err != nil {
			t.Errorf("%s: %v", tt.pattern, err)
			continue
		}
		loc, r := tt.loc, tt.ref
		if loc == nil {
			loc = time.UTC
		}
		if r.IsZero() {
			r = ref
		}
		got, ok := p.parse(tt.in, loc, r)
		check(t, tt.pattern+" "+tt.in, got, ok, tt.want)
	}
}

func TestJodaErrors(t *testing.T) {
	for _, p := range []string{
		"yyyy-MM-ddTHH:mm:ss", // unquoted T
		"yyyy-MM-dd'T",        // unterminated quote
		"G yyyy", "xxxx", "ww", "CC",
		"yyyy-MM-dd HH:mm:ss HH",
		"yyyy-MM-dd HH:mm hh",
		"yyyy-MM-dd HH:mm Z z",
		"yy yyyy",
		"MM MMM",
		"yyyy-DDD-MM", "DDD",
		"",
	} {
		if _, err := compileJoda(p, &zoneCache{}); err == nil {
			t.Errorf("%q compiled", p)
		}
	}
}

func TestGoLayout(t *testing.T) {
	tests := []struct{ layout, in, want string }{
		{"02/Jan/2006:15:04:05 -0700", "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z"},
		{"Jan _2 15:04:05", "Apr  7 09:32:01", "2025-04-07T09:32:01Z"},
		{"2006-01-02", "2024-03-15", "2024-03-15T00:00:00Z"},
		{"2006-01-02", "2024-3-15", ""},
	}
	for _, tt := range tests {
		f, err := goFormat(tt.layout)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := f.parse(tt.in, time.UTC, ref)
		check(t, tt.layout+" "+tt.in, got, ok, tt.want)
	}
	if _, err := goFormat("hello"); err == nil {
		t.Error("layout without elements accepted")
	}
	if _, err := goFormat(""); err == nil {
		t.Error("empty layout accepted")
	}
}

func TestZoneCacheBounded(t *testing.T) {
	z := &zoneCache{}
	for i := range maxZones + 50 {
		z.id("No/Such_Zone" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
	}
	if n := z.n.Load(); n > maxZones {
		t.Errorf("%d zones cached", n)
	}
	if loc, rest, ok := z.id("Europe/Paris rest"); !ok || loc.String() != "Europe/Paris" || rest != " rest" {
		t.Errorf("Europe/Paris: %v %q %v", loc, rest, ok)
	}
}
