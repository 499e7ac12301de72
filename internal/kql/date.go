package kql

import (
	"time"
)

// ParseTime parses a date as Elasticsearch's default date format
// (strict_date_optional_time||epoch_millis) and its date math accept it, and
// returns the period the text denotes: start is its first instant and end its
// last (inclusive), so "2026-01-02" is the whole day and
// "2026-01-02T10:00:00Z" a single second.
//
// Accepted forms:
//
//	2026                       a year (exactly four digits)
//	2026-01                    a month
//	2026-01-02                 a day
//	2026-01-02T10              an hour; a space may replace the 'T'
//	2026-01-02T10:04           a minute
//	2026-01-02T10:04:05        a second
//	2026-01-02T10:04:05.123    a fraction (1 to 9 digits) sets the precision
//	... followed by Z, ±hh:mm, ±hhmm or ±hh; without a zone the time is UTC
//	1767312000000              epoch milliseconds (5 digits or more)
//	now, now-15m, now/d, now-1d/d, now+1h-5m
//
// Date math units are y, M (months), w, d, h or H, m (minutes) and s; "/unit"
// rounds to the unit, which makes the period that unit (now/d is today).
// "now" without rounding is an instant. now is the time "now" stands for.
func ParseTime(s string, now time.Time) (start, end time.Time, ok bool) {
	return parseTime(s, now, true, true)
}

// parseTime is ParseTime with date math and epoch milliseconds optional:
// event values are parsed without either ("now" in a log line is a word).
func parseTime(s string, now time.Time, math, epoch bool) (start, end time.Time, ok bool) {
	if len(s) == 0 {
		return
	}
	if len(s) >= 3 && s[:3] == "now" {
		if !math {
			return
		}
		return parseDateMath(s[3:], now)
	}
	if s[0] < '0' || s[0] > '9' {
		return
	}
	allDigits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			allDigits = false
			break
		}
	}
	if allDigits && len(s) > 4 {
		if !epoch || len(s) > 16 {
			return
		}
		var ms int64
		for i := 0; i < len(s); i++ {
			ms = ms*10 + int64(s[i]-'0')
		}
		t := time.UnixMilli(ms).UTC()
		return t, t.Add(time.Millisecond - 1), true
	}
	return parseISO(s)
}

// digits parses exactly n ASCII digits at s[i:].
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseISO parses the strict_date_optional_time forms listed on ParseTime.
func parseISO(s string) (start, end time.Time, ok bool) {
	year, ok1 := digits(s, 0, 4)
	if !ok1 {
		return
	}
	month, day, hour, minute, sec, nsec := 1, 1, 0, 0, 0, 0
	unit := func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	i := 4
	loc := time.UTC
	// parse fields in order; each step narrows the period.
	if i < len(s) && s[i] == '-' {
		if month, ok1 = digits(s, i+1, 2); !ok1 {
			return
		}
		i += 3
		unit = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
		if i < len(s) && s[i] == '-' {
			if day, ok1 = digits(s, i+1, 2); !ok1 {
				return
			}
			i += 3
			unit = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
			if i < len(s) && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') {
				if hour, ok1 = digits(s, i+1, 2); !ok1 {
					return
				}
				i += 3
				unit = func(t time.Time) time.Time { return t.Add(time.Hour) }
				if i < len(s) && s[i] == ':' {
					if minute, ok1 = digits(s, i+1, 2); !ok1 {
						return
					}
					i += 3
					unit = func(t time.Time) time.Time { return t.Add(time.Minute) }
					if i < len(s) && s[i] == ':' {
						if sec, ok1 = digits(s, i+1, 2); !ok1 {
							return
						}
						i += 3
						unit = func(t time.Time) time.Time { return t.Add(time.Second) }
						if i < len(s) && (s[i] == '.' || s[i] == ',') {
							j := i + 1
							for j < len(s) && j-i-1 < 9 && s[j] >= '0' && s[j] <= '9' {
								j++
							}
							n := j - i - 1
							if n == 0 || (j < len(s) && s[j] >= '0' && s[j] <= '9') {
								return
							}
							step := time.Duration(1)
							for k := n; k < 9; k++ {
								step *= 10
							}
							f, _ := digits(s, i+1, n)
							nsec = f * int(step)
							unit = func(t time.Time) time.Time { return t.Add(step) }
							i = j
						}
					}
				}
				// A zone only after a time.
				if i < len(s) {
					switch s[i] {
					case 'Z', 'z':
						i++
					case '+', '-':
						sign := 1
						if s[i] == '-' {
							sign = -1
						}
						hh, okh := digits(s, i+1, 2)
						if !okh || hh > 23 {
							return
						}
						i += 3
						mm := 0
						if i < len(s) && s[i] == ':' {
							if mm, ok1 = digits(s, i+1, 2); !ok1 {
								return
							}
							i += 3
						} else if i+2 <= len(s) {
							if v, okm := digits(s, i, 2); okm {
								mm = v
								i += 2
							}
						}
						if mm > 59 {
							return
						}
						loc = time.FixedZone("", sign*(hh*3600+mm*60))
					}
				}
			}
		}
	}
	if i != len(s) {
		return
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day { // Feb 30 and the like
		return
	}
	t = t.UTC()
	return t, unit(t).Add(-1), true
}

// parseDateMath parses what follows "now": operations (+1h, -15m) and
// roundings (/d), applied left to right.
func parseDateMath(s string, now time.Time) (start, end time.Time, ok bool) {
	t := now.UTC()
	rounded := byte(0)
	for i := 0; i < len(s); {
		op := s[i]
		i++
		switch op {
		case '+', '-':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < 6 {
				j++
			}
			if j == i || j >= len(s) {
				return
			}
			n, _ := digits(s, i, j-i)
			if op == '-' {
				n = -n
			}
			var good bool
			if t, good = addUnit(t, s[j], n); !good {
				return
			}
			i = j + 1
			rounded = 0
		case '/':
			if i >= len(s) {
				return
			}
			var good bool
			if t, good = roundDown(t, s[i]); !good {
				return
			}
			rounded = s[i]
			i++
		default:
			return
		}
	}
	if rounded == 0 {
		return t, t, true
	}
	next, _ := addUnit(t, rounded, 1)
	return t, next.Add(-1), true
}

func addUnit(t time.Time, unit byte, n int) (time.Time, bool) {
	switch unit {
	case 'y':
		return t.AddDate(n, 0, 0), true
	case 'M':
		return t.AddDate(0, n, 0), true
	case 'w':
		return t.AddDate(0, 0, 7*n), true
	case 'd':
		return t.AddDate(0, 0, n), true
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour), true
	case 'm':
		return t.Add(time.Duration(n) * time.Minute), true
	case 's':
		return t.Add(time.Duration(n) * time.Second), true
	}
	return t, false
}

func roundDown(t time.Time, unit byte) (time.Time, bool) {
	y, mo, d := t.Date()
	switch unit {
	case 'y':
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), true
	case 'M':
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC), true
	case 'w': // ISO weeks start on Monday
		wd := (int(t.Weekday()) + 6) % 7
		return time.Date(y, mo, d-wd, 0, 0, 0, 0, time.UTC), true
	case 'd':
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), true
	case 'h', 'H':
		return t.Truncate(time.Hour), true
	case 'm':
		return t.Truncate(time.Minute), true
	case 's':
		return t.Truncate(time.Second), true
	}
	return t, false
}

// dayPrecision reports whether s names a period of at most a day (or is date
// math): such values are dates, not numbers or words, when compared with
// strings that hold dates.
func dayPrecision(s string) bool {
	if len(s) >= 3 && s[:3] == "now" {
		return true
	}
	return len(s) >= 10 && s[4] == '-' && s[7] == '-'
}
