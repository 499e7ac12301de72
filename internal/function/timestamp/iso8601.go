package timestamp

import "time"

// ParseRFC3339 parses an RFC 3339 timestamp, YYYY-MM-DDThh:mm:ss[.frac]
// followed by Z or ±hh:mm ('T' and 'Z' in either case; fraction digits past
// nanoseconds are dropped; second 60, a leap second, is read as the first
// second of the next minute). It returns the time in UTC and allocates
// nothing. It is the parser of the CRI and Docker log formats too.
func ParseRFC3339(s string) (time.Time, bool) {
	if len(s) < 20 || s[10] != 'T' && s[10] != 't' {
		return time.Time{}, false
	}
	year, month, day, ok := parseDate(s)
	if !ok {
		return time.Time{}, false
	}
	hour, minute, sec, nsec, rest, ok := parseClock(s[11:], true)
	if !ok {
		return time.Time{}, false
	}
	off, ok := parseOffset(rest, true)
	if !ok {
		return time.Time{}, false
	}
	return utc(year, month, day, hour, minute, sec, nsec, off), true
}

// ParseISO8601 parses the ISO 8601 forms logs use, as Logstash's ISO8601
// format does:
//
//	YYYY-MM-DD
//	YYYY-MM-DD(T| )hh[:mm[:ss[(.|,)frac]]][zone]
//
// where zone is Z, ±hh, ±hhmm or ±hh:mm ('T' and 'Z' in either case).
// Without a zone the time is read in loc. It returns the time in UTC and
// allocates nothing.
func ParseISO8601(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	year, month, day, ok := parseDate(s)
	if !ok {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return inLoc(year, month, day, 0, 0, 0, 0, loc), true
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	hour, minute, sec, nsec, rest, ok := parseClock(s[11:], false)
	if !ok {
		return time.Time{}, false
	}
	if rest == "" {
		return inLoc(year, month, day, hour, minute, sec, nsec, loc), true
	}
	off, ok := parseOffset(rest, false)
	if !ok {
		return time.Time{}, false
	}
	return utc(year, month, day, hour, minute, sec, nsec, off), true
}

// parseDate parses YYYY-MM-DD at the start of s (len(s) >= 10).
func parseDate(s string) (year, month, day int, ok bool) {
	if s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) {
		return 0, 0, 0, false
	}
	return year, month, day, true
}

// parseClock parses hh:mm:ss[(.|,)frac] at the start of s, or with full
// false also hh and hh:mm, and returns what follows. RFC 3339 (full) takes
// only '.' before the fraction.
func parseClock(s string, full bool) (hour, minute, sec, nsec int, rest string, ok bool) {
	if len(s) < 2 {
		return 0, 0, 0, 0, s, false
	}
	hour, ok = digits(s[:2])
	if !ok || hour > 23 {
		return 0, 0, 0, 0, s, false
	}
	s = s[2:]
	if len(s) < 3 || s[0] != ':' {
		return hour, 0, 0, 0, s, !full
	}
	minute, ok = digits(s[1:3])
	if !ok || minute > 59 {
		return 0, 0, 0, 0, s, false
	}
	s = s[3:]
	if len(s) < 3 || s[0] != ':' {
		return hour, minute, 0, 0, s, !full
	}
	sec, ok = digits(s[1:3])
	if !ok || sec > 60 {
		return 0, 0, 0, 0, s, false
	}
	s = s[3:]
	if len(s) > 1 && (s[0] == '.' || s[0] == ',' && !full) && isDigit(s[1]) {
		nsec, s = fraction(s[1:])
	}
	return hour, minute, sec, nsec, s, true
}

// parseOffset parses a zone designator that must make up all of s: Z, or
// ±hh:mm, or (with rfc3339 false) also ±hh and ±hhmm. It returns the offset
// east of UTC in seconds.
func parseOffset(s string, rfc3339 bool) (int, bool) {
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) < 3 || s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	h, ok := digits(s[1:3])
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	switch {
	case len(s) == 6 && s[3] == ':':
		m, ok = digits(s[4:6])
	case rfc3339:
		return 0, false
	case len(s) == 5:
		m, ok = digits(s[3:5])
	case len(s) != 3:
		return 0, false
	}
	if !ok || m > 59 {
		return 0, false
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// utc returns the instant of a wall-clock time at offset off (seconds east
// of UTC), in UTC.
func utc(year, month, day, hour, minute, sec, nsec, off int) time.Time {
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if off != 0 {
		t = t.Add(-time.Duration(off) * time.Second)
	}
	return t
}

// inLoc returns the instant of a wall-clock time in loc, in UTC.
func inLoc(year, month, day, hour, minute, sec, nsec int, loc *time.Location) time.Time {
	if loc == time.UTC {
		return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc).UTC()
}

// digits parses s, which must be all decimal digits (at most 9).
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// fraction parses the digits of a fraction of a second (s starts after the
// separator) into nanoseconds; digits past nanoseconds are dropped.
func fraction(s string) (int, string) {
	n, i := 0, 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		if i < 9 {
			n = n*10 + int(s[i]-'0')
		}
	}
	for d := i; d < 9; d++ {
		n *= 10
	}
	return n, s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLeap(year int) bool { return year%4 == 0 && (year%100 != 0 || year%400 == 0) }

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if isLeap(year) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
