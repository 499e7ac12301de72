package timestamp

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/syslogparse"
)

// opKind is one step of a compiled Joda pattern.
type opKind uint8

const (
	opLiteral       opKind = iota // lit, letters in any case; a space matches one or more
	opYear                        // y, Y, yyyy: 1 to max digits
	opYear2                       // yy: two digits, century from the reference year
	opMonth                       // M, MM: 1 or 2 digits
	opMonthText                   // MMM, MMMM: English name, short or full
	opDay                         // d, dd
	opDayOfYear                   // D, DDD: 1 to 3 digits
	opHour                        // H, HH: 0-23
	opClockHour                   // k, kk: 1-24
	opHalfHour                    // K, KK: 0-11
	opClockHalfHour               // h, hh: 1-12
	opMinute                      // m, mm
	opSecond                      // s, ss
	opFraction                    // S...: fraction of a second
	opHalfday                     // a: AM or PM
	opWeekdayText                 // E...: English day name, short or full; ignored
	opWeekday                     // e: day of week 1-7; ignored
	opOffset                      // Z, ZZ: Z or ±hh[[:]mm]
	opZoneID                      // ZZZ: IANA zone name
	opZoneName                    // z...: UTC, GMT, UT, Z or a US zone abbreviation
)

// maxFractionDigits is how many digits S reads when no number follows it:
// all of them in practice (those past nanoseconds are dropped).
const maxFractionDigits = 1 << 20

type op struct {
	kind opKind
	max  int // most digits (numbers)
	// lenient is set for yy when no number follows: more or fewer than
	// two digits (up to max) are then read as a full year, as Joda does.
	lenient bool
	lit     string
}

// jodaPattern is a compiled Joda-Time (Logstash) date pattern.
type jodaPattern struct {
	ops      []op
	hasYear  bool
	hasMonth bool
	zones    *zoneCache
}

// isNumericToken reports whether n times letter is a number, for Joda's
// rule that a year followed by another number has at most as many digits as
// letters (and a two-digit year then exactly two).
func isNumericToken(letter byte, n int) bool {
	switch letter {
	case 'y', 'Y', 'D', 'd', 'H', 'k', 'K', 'h', 'm', 's', 'S', 'e':
		return true
	case 'M':
		return n <= 2
	}
	return false
}

// token is one piece of a pattern: a letter repeated n times, or a literal.
type token struct {
	letter byte
	n      int
	lit    string
}

// tokenize splits a Joda pattern into letter runs and literals: text in
// single quotes is literal (two single quotes make one), as is every
// character that is not an ASCII letter.
func tokenize(p string) ([]token, error) {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			j := i + 1
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("unterminated quote at offset %d", i)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(p[j])
				j++
			}
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			flush()
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			toks = append(toks, token{letter: c, n: j - i})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return toks, nil
}

// compileJoda compiles a Joda-Time pattern as Logstash's date filter takes
// it. See the package documentation for the letters supported.
func compileJoda(src string, zones *zoneCache) (*jodaPattern, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty pattern")
	}
	p := &jodaPattern{zones: zones}
	seen := map[opKind]bool{} // by field group
	for i, t := range toks {
		if t.letter == 0 {
			p.ops = append(p.ops, op{kind: opLiteral, lit: t.lit})
			continue
		}
		nextNumeric := i+1 < len(toks) && toks[i+1].letter != 0 && isNumericToken(toks[i+1].letter, toks[i+1].n)
		o := op{max: 2}
		switch t.letter {
		case 'y', 'Y':
			p.hasYear = true
			switch {
			case t.n == 2 && nextNumeric:
				o.kind = opYear2
			case t.n == 2:
				o.kind, o.lenient, o.max = opYear2, true, 9
			case nextNumeric:
				o.kind, o.max = opYear, t.n
			default:
				o.kind, o.max = opYear, 9
			}
		case 'M':
			p.hasMonth = true
			o.kind = opMonth
			if t.n >= 3 {
				o.kind = opMonthText
			}
		case 'd':
			p.hasMonth = true // a day of month needs a month, January by default
			o.kind = opDay
		case 'D':
			o.kind, o.max = opDayOfYear, 3
		case 'H':
			o.kind = opHour
		case 'k':
			o.kind = opClockHour
		case 'K':
			o.kind = opHalfHour
		case 'h':
			o.kind = opClockHalfHour
		case 'm':
			o.kind = opMinute
		case 's':
			o.kind = opSecond
		case 'S':
			o.kind, o.max = opFraction, 9
			if !nextNumeric {
				o.max = maxFractionDigits
			}
		case 'a':
			o.kind = opHalfday
		case 'E':
			o.kind = opWeekdayText
		case 'e':
			o.kind, o.max = opWeekday, 1
		case 'Z':
			o.kind = opOffset
			if t.n >= 3 {
				o.kind = opZoneID
			}
		case 'z':
			o.kind = opZoneName
		case 'G', 'C', 'x', 'w':
			return nil, fmt.Errorf("pattern letter %q (era, century, week-based year, week) is not supported", t.letter)
		default:
			return nil, fmt.Errorf("unknown pattern letter %q: quote literal text, as in yyyy-MM-dd'T'HH:mm:ss", t.letter)
		}
		g := group(o.kind)
		if seen[g] && g != opWeekdayText {
			return nil, fmt.Errorf("pattern letter %q sets a field set before", t.letter)
		}
		seen[g] = true
		p.ops = append(p.ops, o)
	}
	if seen[opDayOfYear] && p.hasMonth {
		return nil, fmt.Errorf("a day of year (D) cannot be combined with a month or day of month")
	}
	if !p.hasYear && seen[opDayOfYear] {
		return nil, fmt.Errorf("a day of year (D) needs a year (y)")
	}
	return p, nil
}

// group maps the kinds that set one field (year, month, hour, zone, day of
// week) to one of them, to find patterns that set a field twice.
func group(k opKind) opKind {
	switch k {
	case opYear2:
		return opYear
	case opMonthText:
		return opMonth
	case opClockHour, opHalfHour, opClockHalfHour:
		return opHour
	case opZoneID, opZoneName:
		return opOffset
	case opWeekday:
		return opWeekdayText
	}
	return k
}

// fields are what a pattern read.
type fields struct {
	year, month, day, yday int
	hour, minute, sec      int
	nsec                   int
	pm                     bool
	hourKind               opKind
	off                    int
	hasOff                 bool
	loc                    *time.Location
}

// parse reads s with the pattern. Missing fields default to January, the
// first, midnight; a missing year is inferred from ref (see
// syslogparse.InferYear); a missing zone is loc.
func (p *jodaPattern) parse(s string, loc *time.Location, ref time.Time) (time.Time, bool) {
	f := fields{month: 1, day: 1}
	for i := range p.ops {
		o := &p.ops[i]
		var ok bool
		if s, ok = p.step(o, s, &f, ref); !ok {
			return time.Time{}, false
		}
	}
	if s != "" {
		return time.Time{}, false
	}
	return p.resolve(&f, loc, ref)
}

// step reads one op at the start of s into f and returns the rest.
func (p *jodaPattern) step(o *op, s string, f *fields, ref time.Time) (string, bool) {
	var ok bool
	switch o.kind {
	case opLiteral:
		return matchLiteral(s, o.lit)
	case opYear:
		f.year, s, ok = number(s, o.max)
	case opYear2:
		n, rest, ok := number(s, o.max)
		if !ok {
			return s, false
		}
		if digitsRead := len(s) - len(rest); digitsRead != 2 {
			if !o.lenient {
				return s, false
			}
			f.year = n
			return rest, true
		}
		f.year = twoDigitYear(n, ref)
		return rest, true
	case opMonth:
		f.month, s, ok = number(s, 2)
		ok = ok && f.month >= 1 && f.month <= 12
	case opMonthText:
		var m time.Month
		m, s, ok = monthName(s)
		f.month = int(m)
	case opDay:
		f.day, s, ok = number(s, 2)
		ok = ok && f.day >= 1
	case opDayOfYear:
		f.yday, s, ok = number(s, 3)
		ok = ok && f.yday >= 1
	case opHour, opClockHour, opHalfHour, opClockHalfHour:
		f.hour, s, ok = number(s, 2)
		f.hourKind = o.kind
	case opMinute:
		f.minute, s, ok = number(s, 2)
		ok = ok && f.minute <= 59
	case opSecond:
		f.sec, s, ok = number(s, 2)
		ok = ok && f.sec <= 60
	case opFraction:
		n := 0
		for n < len(s) && n < o.max && isDigit(s[n]) {
			n++
		}
		if n == 0 {
			return s, false
		}
		f.nsec, _ = fraction(s[:n])
		return s[n:], true
	case opHalfday:
		if len(s) < 2 || s[1]|0x20 != 'm' {
			return s, false
		}
		switch s[0] | 0x20 {
		case 'a':
			f.pm = false
		case 'p':
			f.pm = true
		default:
			return s, false
		}
		return s[2:], true
	case opWeekdayText:
		return weekdayName(s)
	case opWeekday:
		var n int
		n, s, ok = number(s, 1)
		ok = ok && n >= 1 && n <= 7
	case opOffset:
		f.off, s, ok = offset(s)
		f.hasOff = true
	case opZoneID:
		f.loc, s, ok = p.zones.id(s)
	case opZoneName:
		f.off, s, ok = zoneName(s)
		f.hasOff = true
	}
	return s, ok
}

// resolve turns what was read into an instant.
func (p *jodaPattern) resolve(f *fields, loc *time.Location, ref time.Time) (time.Time, bool) {
	switch f.hourKind {
	case opHour:
		if f.hour > 23 {
			return time.Time{}, false
		}
	case opClockHour:
		if f.hour < 1 || f.hour > 24 {
			return time.Time{}, false
		}
		f.hour %= 24
	case opHalfHour:
		if f.hour > 11 {
			return time.Time{}, false
		}
	case opClockHalfHour:
		if f.hour < 1 || f.hour > 12 {
			return time.Time{}, false
		}
		f.hour %= 12
	}
	if f.pm && (f.hourKind == opHalfHour || f.hourKind == opClockHalfHour) {
		f.hour += 12
	}
	if f.yday > 0 {
		days := 365
		if isLeap(f.year) {
			days = 366
		}
		if f.yday > days {
			return time.Time{}, false
		}
		f.day = f.yday // time.Date normalizes January 32 and on
	}
	switch {
	case f.loc != nil:
		loc = f.loc
	case f.hasOff && f.off == 0:
		loc = time.UTC
	case f.hasOff:
		if p.hasYear {
			if f.day > daysIn(time.Month(f.month), f.year) && f.yday == 0 {
				return time.Time{}, false
			}
			return utc(f.year, f.month, f.day, f.hour, f.minute, f.sec, f.nsec, f.off), true
		}
		loc = time.FixedZone("", f.off)
	}
	if !p.hasYear {
		t, ok := syslogparse.InferYear(time.Month(f.month), f.day, f.hour, f.minute, f.sec, f.nsec, loc, ref)
		return t.UTC(), ok
	}
	if f.yday == 0 && f.day > daysIn(time.Month(f.month), f.year) {
		return time.Time{}, false
	}
	return inLoc(f.year, f.month, f.day, f.hour, f.minute, f.sec, f.nsec, loc), true
}

// twoDigitYear places yy in the century that puts it within 80 years before
// and 19 after the reference year, as Joda does (its pivot is 30 years
// before the current year).
func twoDigitYear(yy int, ref time.Time) int {
	low := ref.Year() - 80
	y := low - low%100 + yy
	if y < low {
		y += 100
	}
	return y
}

// number reads 1 to max decimal digits at the start of s.
func number(s string, max int) (int, string, bool) {
	n, i := 0, 0
	for i < len(s) && i < max && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:], i > 0
}

// matchLiteral matches lit at the start of s, letters in any case; a run of
// n spaces in lit matches n or more spaces.
func matchLiteral(s, lit string) (string, bool) {
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if c == ' ' {
			want := 1
			for i+1 < len(lit) && lit[i+1] == ' ' {
				want++
				i++
			}
			got := 0
			for got < len(s) && s[got] == ' ' {
				got++
			}
			if got < want {
				return s, false
			}
			s = s[got:]
			continue
		}
		if len(s) == 0 || s[0] != c && !(isLetter(c) && s[0]|0x20 == c|0x20) {
			return s, false
		}
		s = s[1:]
	}
	return s, true
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

var monthNames = [12]string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

// monthName reads an English month name, full or its first three letters,
// in any case.
func monthName(s string) (time.Month, string, bool) {
	if len(s) < 3 {
		return 0, s, false
	}
	for i, name := range monthNames {
		if s[0]|0x20 != name[0] || s[1]|0x20 != name[1] || s[2]|0x20 != name[2] {
			continue
		}
		if n := len(name); len(s) >= n && strings.EqualFold(s[:n], name) {
			return time.Month(i + 1), s[n:], true
		}
		return time.Month(i + 1), s[3:], true
	}
	return 0, s, false
}

var dayNames = [7]string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

// weekdayName reads an English day name, full or its first three letters,
// in any case.
func weekdayName(s string) (string, bool) {
	if len(s) < 3 {
		return s, false
	}
	for _, name := range dayNames {
		if s[0]|0x20 != name[0] || s[1]|0x20 != name[1] || s[2]|0x20 != name[2] {
			continue
		}
		if n := len(name); len(s) >= n && strings.EqualFold(s[:n], name) {
			return s[n:], true
		}
		return s[3:], true
	}
	return s, false
}

// offset reads Z, ±hh, ±hhmm or ±hh:mm (Joda reads Z and ZZ alike).
func offset(s string) (int, string, bool) {
	if s != "" && (s[0] == 'Z' || s[0] == 'z') {
		return 0, s[1:], true
	}
	if len(s) < 3 || s[0] != '+' && s[0] != '-' {
		return 0, s, false
	}
	h, ok := digits(s[1:3])
	if !ok || h > 23 {
		return 0, s, false
	}
	rest := s[3:]
	m := 0
	switch {
	case len(rest) >= 3 && rest[0] == ':' && isDigit(rest[1]) && isDigit(rest[2]):
		m, rest = int(rest[1]-'0')*10+int(rest[2]-'0'), rest[3:]
	case len(rest) >= 2 && isDigit(rest[0]) && isDigit(rest[1]):
		m, rest = int(rest[0]-'0')*10+int(rest[1]-'0'), rest[2:]
	}
	if m > 59 {
		return 0, s, false
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return off, rest, true
}

// zoneNames are the abbreviations z reads, at fixed offsets (Joda's default
// set of names).
var zoneNames = []struct {
	name string
	off  int
}{
	{"UTC", 0}, {"GMT", 0}, {"UT", 0}, {"Z", 0},
	{"EST", -5 * 3600}, {"EDT", -4 * 3600}, {"CST", -6 * 3600}, {"CDT", -5 * 3600},
	{"MST", -7 * 3600}, {"MDT", -6 * 3600}, {"PST", -8 * 3600}, {"PDT", -7 * 3600},
}

// zoneName reads one of zoneNames, in any case, longest first.
func zoneName(s string) (int, string, bool) {
	for _, z := range zoneNames {
		if len(s) >= len(z.name) && strings.EqualFold(s[:len(z.name)], z.name) {
			return z.off, s[len(z.name):], true
		}
	}
	return 0, s, false
}

// maxZones bounds a zoneCache.
const maxZones = 256

// zoneCache loads IANA zones named in the input (ZZZ) once each.
type zoneCache struct {
	m sync.Map // name → *time.Location, nil for unknown names
	n atomic.Int64
}

// id reads a zone name ([A-Za-z0-9/_+-]) at the start of s and loads it.
func (z *zoneCache) id(s string) (*time.Location, string, bool) {
	i := 0
	for i < len(s) {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '/' && c != '_' && c != '+' && c != '-' {
			break
		}
		i++
	}
	if i == 0 {
		return nil, s, false
	}
	name := s[:i]
	if v, ok := z.m.Load(name); ok {
		loc := v.(*time.Location)
		return loc, s[i:], loc != nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		loc = nil
	}
	if z.n.Load() < maxZones {
		if _, loaded := z.m.LoadOrStore(strings.Clone(name), loc); !loaded {
			z.n.Add(1)
		}
	}
	return loc, s[i:], loc != nil
}
