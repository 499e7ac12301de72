package esapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/kql"
)

// instantLayout formats a resolved date for a kql range: nanosecond
// precision, so that kql compares with exactly that instant.
const instantLayout = "2006-01-02T15:04:05.000000000Z07:00"

// parseZone reads a time_zone parameter: UTC, an offset (+01:00, -0530,
// +1) or an IANA name (Europe/Berlin).
func parseZone(s string) (*time.Location, *esbulk.Error) {
	switch s {
	case "", "UTC", "Z", "utc", "Etc/UTC", "GMT", "+00:00", "-00:00", "+0000":
		return time.UTC, nil
	}
	if s[0] == '+' || s[0] == '-' {
		sign := 1
		if s[0] == '-' {
			sign = -1
		}
		rest := strings.ReplaceAll(s[1:], ":", "")
		var h, m int
		var err error
		switch len(rest) {
		case 1, 2:
			h, err = strconv.Atoi(rest)
		case 3, 4:
			h, err = strconv.Atoi(rest[:len(rest)-2])
			if err == nil {
				m, err = strconv.Atoi(rest[len(rest)-2:])
			}
		default:
			err = strconv.ErrSyntax
		}
		if err == nil && h <= 18 && m < 60 {
			return time.FixedZone(s, sign*(h*3600+m*60)), nil
		}
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, badRequest("unknown time zone [" + s + "]")
	}
	return loc, nil
}

// resolveDate resolves a date value of a range query or of bounds (a
// date, epoch milliseconds, or date math: now-1h, now/d,
// 2026-01-01||+1M/d) as Elasticsearch does: a partial date or a rounding
// stands for its first instant, or its last when roundUp (gt and lte
// bounds). format is the query's format ("" for
// strict_date_optional_time||epoch_millis); dates without a zone are in
// loc.
func resolveDate(v any, format string, loc *time.Location, roundUp bool, now time.Time) (time.Time, *esbulk.Error) {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		s = strconv.FormatInt(x, 10)
	case int:
		s = strconv.Itoa(x)
	default:
		return time.Time{}, dateError(v, format)
	}
	if loc == nil {
		loc = time.UTC
	}
	anchor, math := s, ""
	var start, end time.Time
	if strings.HasPrefix(s, "now") {
		anchor, math = "", s[3:]
		start, end = now, now
	} else {
		if i := strings.Index(s, "||"); i >= 0 {
			anchor, math = s[:i], s[i+2:]
		}
		var ok bool
		start, end, ok = parseAnchor(anchor, format, loc)
		if !ok {
			return time.Time{}, dateError(v, format)
		}
	}
	t := start
	if roundUp {
		t = end
	}
	t = t.In(loc)
	for i := 0; i < len(math); {
		op := math[i]
		i++
		switch op {
		case '+', '-':
			j := i
			for j < len(math) && math[j] >= '0' && math[j] <= '9' {
				j++
			}
			if j == i || j >= len(math) {
				return time.Time{}, dateMathError(s)
			}
			n, err := strconv.Atoi(math[i:j])
			if err != nil || n > 1_000_000 {
				return time.Time{}, dateMathError(s)
			}
			if op == '-' {
				n = -n
			}
			var ok bool
			if t, ok = addCalendar(t, math[j], n); !ok {
				return time.Time{}, dateMathError(s)
			}
			i = j + 1
		case '/':
			if i >= len(math) {
				return time.Time{}, dateMathError(s)
			}
			down, ok := truncCalendar(t, math[i])
			if !ok {
				return time.Time{}, dateMathError(s)
			}
			t = down
			if roundUp {
				next, _ := addCalendar(down, math[i], 1)
				t = next.Add(-1)
			}
			i++
		default:
			return time.Time{}, dateMathError(s)
		}
	}
	return t.UTC(), nil
}

func dateError(v any, format string) *esbulk.Error {
	if format == "" {
		format = "strict_date_optional_time||epoch_millis"
	}
	text := ""
	switch x := v.(type) {
	case string:
		text = x
	case json.Number:
		text = x.String()
	default:
		b, _ := json.Marshal(v)
		text = string(b)
	}
	return &esbulk.Error{Status: 400, Type: "parse_exception",
		Reason: "failed to parse date field [" + text + "] with format [" + format + "]"}
}

func dateMathError(s string) *esbulk.Error {
	return &esbulk.Error{Status: 400, Type: "parse_exception", Reason: "operator not supported for date math [" + s + "]"}
}

// parseAnchor parses a date with one of the formats of format (separated
// by ||) and returns the period it denotes.
func parseAnchor(s, format string, loc *time.Location) (start, end time.Time, ok bool) {
	if format == "" {
		format = "strict_date_optional_time||epoch_millis"
	}
	for _, f := range strings.Split(format, "||") {
		switch f = strings.TrimSpace(f); f {
		case "epoch_millis", "epoch_second":
			n, err := strconv.ParseFloat(s, 64)
			if err != nil || s == "" || !isNumeric(s) {
				continue
			}
			unit := time.Millisecond
			if f == "epoch_second" {
				unit = time.Second
			}
			t := time.Unix(0, 0).Add(time.Duration(n * float64(unit))).UTC()
			return t, t.Add(unit - 1), true
		case "strict_date_optional_time", "date_optional_time", "strict_date_optional_time_nanos",
			"strict_date_time", "date_time", "strict_date", "date", "strict_date_hour_minute_second",
			"date_hour_minute_second", "strict_date_time_no_millis", "date_time_no_millis", "iso8601":
			if isNumeric(s) && len(s) > 4 {
				continue // epoch millis only when asked for
			}
			st, en, good := kql.ParseTime(s, time.Time{})
			if !good || strings.HasPrefix(s, "now") {
				continue
			}
			if loc != time.UTC && !hasZone(s) {
				st, en = reinterpret(st, loc), reinterpret(en, loc)
			}
			return st, en, true
		default:
			layout, unit := javaLayout(f)
			if layout == "" {
				continue
			}
			t, err := time.ParseInLocation(layout, s, loc)
			if err != nil {
				continue
			}
			next, _ := addCalendar(t, unit, 1)
			return t, next.Add(-1), true
		}
	}
	return
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '-' && i == 0:
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

// hasZone reports whether an ISO date names its zone.
func hasZone(s string) bool {
	t := strings.IndexAny(s, "Tt ")
	if t < 0 {
		return false
	}
	rest := s[t:]
	return strings.ContainsAny(rest, "Zz+") || strings.Contains(rest[1:], "-")
}

// reinterpret returns the instant in loc with t's UTC wall clock.
func reinterpret(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// addCalendar adds n units (y M w d h H m s) to t in t's location.
func addCalendar(t time.Time, unit byte, n int) (time.Time, bool) {
	switch unit {
	case 'y':
		return addMonths(t, 12*n), true
	case 'q':
		return addMonths(t, 3*n), true
	case 'M':
		return addMonths(t, n), true
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
	case 'S':
		return t.Add(time.Duration(n) * time.Millisecond), true
	}
	return t, false
}

// addMonths adds n months, clamping the day to the end of the target
// month as Java's plusMonths does (Jan 31 + 1M is Feb 28, not Mar 3).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// truncCalendar rounds t down to the start of its unit in t's location
// (weeks start on Monday).
func truncCalendar(t time.Time, unit byte) (time.Time, bool) {
	y, mo, d := t.Date()
	loc := t.Location()
	switch unit {
	case 'y':
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), true
	case 'q':
		return time.Date(y, (mo-1)/3*3+1, 1, 0, 0, 0, 0, loc), true
	case 'M':
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), true
	case 'w':
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return time.Date(y, mo, d-wd, 0, 0, 0, 0, loc), true
	case 'd':
		return time.Date(y, mo, d, 0, 0, 0, 0, loc), true
	case 'h', 'H':
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc), true
	case 'm':
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, loc), true
	case 's':
		return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, loc), true
	}
	return t, false
}

// javaLayout converts a Java DateTimeFormatter pattern (yyyy-MM-dd
// HH:mm:ss.SSS) to a Go layout, and returns the pattern's smallest unit.
// It returns "" for a pattern it cannot convert.
func javaLayout(p string) (string, byte) {
	var b strings.Builder
	unit := byte(0)
	finer := func(u byte) {
		order := "yMdHmsS"
		if unit == 0 || strings.IndexByte(order, u) > strings.IndexByte(order, unit) {
			unit = u
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		j := i
		for j < len(p) && p[j] == c {
			j++
		}
		n := j - i
		switch c {
		case 'y', 'u':
			if n == 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
			finer('y')
		case 'M':
			switch n {
			case 1:
				b.WriteString("1")
			case 2:
				b.WriteString("01")
			case 3:
				b.WriteString("Jan")
			default:
				b.WriteString("January")
			}
			finer('M')
		case 'd':
			if n == 1 {
				b.WriteString("2")
			} else {
				b.WriteString("02")
			}
			finer('d')
		case 'H':
			b.WriteString("15")
			finer('H')
		case 'h':
			if n == 1 {
				b.WriteString("3")
			} else {
				b.WriteString("03")
			}
			finer('H')
		case 'm':
			if n == 1 {
				b.WriteString("4")
			} else {
				b.WriteString("04")
			}
			finer('m')
		case 's':
			if n == 1 {
				b.WriteString("5")
			} else {
				b.WriteString("05")
			}
			finer('s')
		case 'S':
			b.WriteString(strings.Repeat("0", n))
			finer('S')
		case 'a':
			b.WriteString("PM")
		case 'E':
			if n >= 4 {
				b.WriteString("Monday")
			} else {
				b.WriteString("Mon")
			}
		case 'Z':
			b.WriteString("-0700")
		case 'X', 'x':
			if n == 1 {
				b.WriteString("Z07")
			} else if n == 2 {
				b.WriteString("Z0700")
			} else {
				b.WriteString("Z07:00")
			}
		case '\'':
			k := strings.IndexByte(p[i+1:], '\'')
			if k < 0 {
				return "", 0
			}
			b.WriteString(p[i+1 : i+1+k])
			j = i + k + 2
		default:
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return "", 0
			}
			b.WriteString(p[i:j])
		}
		i = j
	}
	if unit == 0 {
		return "", 0
	}
	return b.String(), unit
}

// formatDate formats t for key_as_string and value_as_string: Elasticsearch's
// default strict_date_optional_time output (2026-01-02T10:00:00.000Z), or
// the given format.
func formatDate(t time.Time, format string, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	switch format {
	case "", "strict_date_optional_time", "date_optional_time", "strict_date_time", "date_time", "iso8601":
		if loc == time.UTC {
			return t.Format("2006-01-02T15:04:05.000Z")
		}
		return t.Format("2006-01-02T15:04:05.000Z07:00")
	case "strict_date_optional_time_nanos":
		return t.Format("2006-01-02T15:04:05.000000000Z07:00")
	case "epoch_millis":
		return strconv.FormatInt(t.UnixMilli(), 10)
	case "epoch_second":
		return strconv.FormatInt(t.Unix(), 10)
	}
	if i := strings.Index(format, "||"); i >= 0 {
		return formatDate(t, format[:i], loc)
	}
	if layout, _ := javaLayout(format); layout != "" {
		return t.Format(layout)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}
