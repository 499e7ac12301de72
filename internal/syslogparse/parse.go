// Package syslogparse parses syslog messages, RFC 5424 and RFC 3164 (BSD,
// including the Cisco IOS and ASA variants), and builds events from them
// with ECS fields (log.syslog.*, log.level, host.hostname). The syslog
// source and the syslog function share it, so that a message gives the same
// fields whether it arrives over the network or in a field of an event.
//
// The format is detected per message: "<PRI>1 " is RFC 5424, anything else
// RFC 3164. RFC 5424 is parsed strictly (a header or structured data that
// does not follow the RFC is an error); RFC 3164 best effort, and never
// fails once the PRI is valid.
//
// The parser is written here rather than taken from go-syslog: it builds
// events straight from the input without intermediate pointers, maps or
// copies (see BenchmarkParse5424 against BenchmarkGoSyslog5424).
package syslogparse

import (
	"strings"
	"time"
)

// Message is one parsed syslog message. Its strings point into the input.
type Message struct {
	// Priority is the PRI value, 0 to 191, or -1 when the input has no
	// valid PRI.
	Priority int
	// Version is 1 for RFC 5424 and 0 for RFC 3164.
	Version int
	// Timestamp is the time in the header; zero when it has none.
	Timestamp time.Time
	// Hostname, AppName, ProcID and MsgID are the header fields; "" when
	// absent (or the RFC 5424 nil value "-").
	Hostname string
	AppName  string
	ProcID   string
	MsgID    string
	// Msg is the free-form message text.
	Msg string
	// SD is the RFC 5424 structured data, one entry per parameter. It is
	// owned by the Parser and valid until its next Parse.
	SD []SDParam
}

// SDParam is one PARAM-NAME="PARAM-VALUE" of an RFC 5424 SD-ELEMENT.
type SDParam struct {
	ID, Name, Value string
}

// Parser parses syslog messages. It keeps scratch state and caches, so each
// goroutine (connection or UDP loop) uses its own.
type Parser struct {
	// loc is the time zone of RFC 3164 timestamps, which carry none.
	loc *time.Location
	sd  []SDParam

	// Year inference for RFC 3164 depends on the receive time only
	// through its year and month in loc; cache them per receive time.
	recv      time.Time
	recvLoc   *time.Location
	recvYear  int
	recvMonth time.Month
}

// NewParser returns a parser that reads RFC 3164 timestamps, which carry no
// time zone, in loc (nil means UTC).
func NewParser(loc *time.Location) *Parser {
	if loc == nil {
		loc = time.UTC
	}
	return &Parser{loc: loc}
}

// Parse parses raw, an RFC 5424 or RFC 3164 message detected by the header:
// "<PRI>1 " is RFC 5424. recv is the receive time, used to complete RFC 3164
// timestamps (see InferYear). ok is false for malformed input: a missing or
// invalid PRI, or an RFC 5424 header that does not follow the RFC. RFC 3164
// is parsed best effort and never fails once the PRI is valid.
func (p *Parser) Parse(raw string, recv time.Time) (m Message, ok bool) {
	m.Priority = -1
	pri, rest, ok := parsePRI(raw)
	if !ok {
		return m, false
	}
	m.Priority = pri
	if len(rest) >= 2 && rest[0] == '1' && rest[1] == ' ' {
		m.Version = 1
		return m, p.parse5424(&m, rest[2:])
	}
	p.parse3164(&m, rest, recv)
	return m, true
}

// parsePRI parses "<PRI>" with PRI in 0..191 written in 1 to 3 digits.
func parsePRI(s string) (pri int, rest string, ok bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, s, false
	}
	i := 1
	for ; i < len(s) && i <= 3 && isDigit(s[i]); i++ {
		pri = pri*10 + int(s[i]-'0')
	}
	if i == 1 || i >= len(s) || s[i] != '>' || pri > 191 {
		return 0, s, false
	}
	return pri, s[i+1:], true
}

// parse5424 parses what follows "<PRI>1 ":
// TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG].
func (p *Parser) parse5424(m *Message, s string) bool {
	var tok string
	var ok bool
	if tok, s, ok = headerField(s); !ok {
		return false
	}
	if tok != "-" {
		if m.Timestamp, ok = parseRFC3339(tok, time.UTC); !ok {
			return false
		}
	}
	if m.Hostname, s, ok = headerField(s); !ok {
		return false
	}
	if m.AppName, s, ok = headerField(s); !ok {
		return false
	}
	if m.ProcID, s, ok = headerField(s); !ok {
		return false
	}
	m.MsgID, s, ok = headerField(s)
	if !ok {
		// Tolerate a header that ends after MSGID (no SD, no MSG).
		if m.MsgID == "" {
			return false
		}
		s = ""
	}
	m.Hostname, m.AppName, m.ProcID, m.MsgID = nilValue(m.Hostname), nilValue(m.AppName), nilValue(m.ProcID), nilValue(m.MsgID)
	if s == "" {
		return true
	}
	if s, ok = p.parseSD(s); !ok {
		return false
	}
	m.SD = p.sd
	switch {
	case s == "":
	case s[0] == ' ':
		m.Msg = strings.TrimPrefix(s[1:], "\ufeff")
	default:
		return false
	}
	return true
}

// headerField returns the text up to the next space and what follows the
// space. ok is false when there is no space or the field is empty.
func headerField(s string) (field, rest string, ok bool) {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, "", false
	}
	if i == 0 {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

func nilValue(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parseSD parses STRUCTURED-DATA into p.sd and returns what follows it.
func (p *Parser) parseSD(s string) (string, bool) {
	clear(p.sd)
	p.sd = p.sd[:0]
	if s[0] == '-' {
		return s[1:], true
	}
	if s[0] != '[' {
		return s, false
	}
	for len(s) > 0 && s[0] == '[' {
		s = s[1:]
		i := 0
		for i < len(s) && s[i] != ' ' && s[i] != ']' && s[i] != '=' && s[i] != '"' {
			i++
		}
		if i == 0 || i == len(s) || s[i] == '=' || s[i] == '"' {
			return s, false
		}
		id := s[:i]
		s = s[i:]
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
			j := 0
			for j < len(s) && s[j] != '=' && s[j] != ' ' && s[j] != ']' && s[j] != '"' {
				j++
			}
			if j == 0 && len(s) > 0 && s[0] == ']' {
				break // a space before ']': tolerate it
			}
			if j == 0 || j+1 >= len(s) || s[j] != '=' || s[j+1] != '"' {
				return s, false
			}
			name := s[:j]
			s = s[j+2:]
			k, escaped := 0, false
			for k < len(s) && s[k] != '"' {
				if s[k] == '\\' {
					escaped = true
					k++
				}
				k++
			}
			if k >= len(s) {
				return s, false
			}
			value := s[:k]
			if escaped {
				value = unescapeSD(value)
			}
			s = s[k+1:]
			if len(p.sd) >= maxSDParams {
				return s, false
			}
			p.addSD(id, name, value)
		}
		if len(s) == 0 || s[0] != ']' {
			return s, false
		}
		s = s[1:]
	}
	return s, true
}

// maxSDParams bounds the structured data of one message (and the quadratic
// duplicate check); a message with more is treated as malformed.
const maxSDParams = 256

// addSD records a parameter; a repeated id and name keeps the last value so
// that the event never has two fields with one key.
func (p *Parser) addSD(id, name, value string) {
	for i := range p.sd {
		if p.sd[i].ID == id && p.sd[i].Name == name {
			p.sd[i].Value = value
			return
		}
	}
	p.sd = append(p.sd, SDParam{ID: id, Name: name, Value: value})
}

// unescapeSD undoes the escaping of '"', '\' and ']' in a PARAM-VALUE; a
// backslash before any other character stays, as RFC 5424 says.
func unescapeSD(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == ']') {
			i++
			c = s[i]
		}
		b.WriteByte(c)
	}
	return b.String()
}

// parse3164 parses what follows "<PRI>" in the BSD format, best effort:
//
//	[Cisco counters ": "] [TIMESTAMP [":"] SP] [HOSTNAME SP] [TAG["["PID"]"]":" SP] MSG
//
// TIMESTAMP is "Mmm dd hh:mm:ss" with optional fraction, year and Cisco time
// zone, or RFC 3339. HOSTNAME is only looked for after a timestamp.
func (p *Parser) parse3164(m *Message, s string, recv time.Time) {
	s = trimSpaces(s)
	ts, rest, ok := p.parse3164Time(s, recv)
	if !ok {
		// Cisco IOS prefixes a message counter and a sequence number.
		if r := skipCiscoCounters(s); len(r) != len(s) {
			ts, rest, ok = p.parse3164Time(r, recv)
		}
	}
	if ok {
		m.Timestamp = ts
		s = trimSpaces(rest)
		tok, after, found := strings.Cut(s, " ")
		if found && !looksLikeTag(tok) && tok[0] != '%' {
			m.Hostname = tok
			s = trimSpaces(after)
			// Cisco ASA with a device id: "host : %ASA-...".
			if strings.HasPrefix(s, ": ") {
				s = s[2:]
			}
		}
	}
	m.AppName, m.ProcID, m.Msg = parseTag(s)
}

// skipCiscoCounters drops up to two "digits: " prefixes (the message
// counter and the service sequence number) and an empty ": " one.
func skipCiscoCounters(s string) string {
	for range 2 {
		i := 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i+1 >= len(s) || s[i] != ':' || s[i+1] != ' ' {
			break
		}
		s = trimSpaces(s[i+2:])
	}
	return s
}

// looksLikeTag reports whether a token is a TAG rather than a HOSTNAME.
func looksLikeTag(tok string) bool {
	return strings.HasSuffix(tok, ":") || strings.IndexByte(tok, '[') >= 0
}

// maxTagLen bounds the TAG search; RFC 3164 says 32, real programs go beyond.
const maxTagLen = 128

// parseTag splits "app[pid]: msg" or "app: msg". Without a recognizable TAG
// the whole text is the message.
func parseTag(s string) (app, pid, msg string) {
	if s == "" || s[0] == '%' {
		return "", "", s
	}
	for i := 0; i < len(s) && i <= maxTagLen; i++ {
		switch c := s[i]; c {
		case ':':
			if i > 0 && (i+1 == len(s) || s[i+1] == ' ') {
				return s[:i], "", trimOneSpace(s[i+1:])
			}
			return "", "", s
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if i == 0 || end < 2 {
				return "", "", s
			}
			j := i + end + 1
			switch {
			case j == len(s):
				return s[:i], s[i+1 : i+end], ""
			case s[j] == ':':
				return s[:i], s[i+1 : i+end], trimOneSpace(s[j+1:])
			case s[j] == ' ':
				return s[:i], s[i+1 : i+end], s[j+1:]
			}
			return "", "", s
		case ' ', '"', '<', '>', '=', ']', '\t':
			return "", "", s
		}
	}
	return "", "", s
}

func trimOneSpace(s string) string {
	if s != "" && s[0] == ' ' {
		return s[1:]
	}
	return s
}

func trimSpaces(s string) string {
	for s != "" && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// parseMonth parses a three-letter English month abbreviation, any case.
func parseMonth(s string) (time.Month, bool) {
	if len(s) < 3 {
		return 0, false
	}
	a, b, c := s[0]|0x20, s[1]|0x20, s[2]|0x20
	for i, m := range months {
		if a == m[0] && b == m[1] && c == m[2] {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// parse3164Time parses a BSD timestamp at the start of s and returns what
// follows it. Accepted forms (Cisco may prefix '*' or '.', and end the
// timestamp with ':'):
//
//	Mmm dd hh:mm:ss / Mmm  d hh:mm:ss / Mmm d hh:mm:ss
//	Mmm dd hh:mm:ss.fff
//	Mmm dd yyyy hh:mm:ss
//	Mmm dd hh:mm:ss[.fff] ZONE:   (Cisco; UTC and GMT are honored)
//	2006-01-02T15:04:05[.fff](Z|±hh:mm)
func (p *Parser) parse3164Time(s string, recv time.Time) (time.Time, string, bool) {
	if len(s) > 0 && (s[0] == '*' || s[0] == '.') {
		s = s[1:]
	}
	if len(s) >= 19 && isDigit(s[0]) && s[4] == '-' {
		tok, rest, _ := strings.Cut(s, " ")
		tok = strings.TrimSuffix(tok, ":")
		t, ok := parseRFC3339(tok, p.loc)
		return t, rest, ok
	}
	month, ok := parseMonth(s)
	if !ok || len(s) < 4 || s[3] != ' ' {
		return time.Time{}, s, false
	}
	s = s[4:]
	if s != "" && s[0] == ' ' {
		s = s[1:]
	}
	day, s, ok := number(s, 1, 2)
	if !ok || s == "" || s[0] != ' ' {
		return time.Time{}, s, false
	}
	s = s[1:]
	year := 0
	if len(s) > 4 && s[4] == ' ' && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) {
		year, _, _ = number(s[:4], 4, 4)
		s = s[5:]
	}
	hour, s, ok := number(s, 2, 2)
	if !ok || s == "" || s[0] != ':' {
		return time.Time{}, s, false
	}
	minute, s, ok := number(s[1:], 2, 2)
	if !ok || s == "" || s[0] != ':' {
		return time.Time{}, s, false
	}
	sec, s, ok := number(s[1:], 2, 2)
	if !ok || hour > 23 || minute > 59 || sec > 60 || day < 1 || day > 31 {
		return time.Time{}, s, false
	}
	nsec := 0
	if len(s) > 1 && s[0] == '.' && isDigit(s[1]) {
		nsec, s = fraction(s[1:])
	}
	loc := p.loc
	// A Cisco time zone: "... 18:48:50.483 UTC: %SYS-5-...".
	if len(s) > 4 && s[0] == ' ' {
		if z, after, found := strings.Cut(s[1:], ":"); found && isZoneName(z) && (after == "" || strings.HasPrefix(after, " %")) {
			if z == "UTC" || z == "GMT" {
				loc = time.UTC
			}
			s = after
		}
	}
	s = strings.TrimPrefix(s, ":")
	if s != "" && s[0] != ' ' {
		return time.Time{}, s, false
	}
	if year == 0 {
		t, ok := p.yearFor(month, day, hour, minute, sec, nsec, loc, recv)
		return t, s, ok
	}
	if day > daysIn(month, year) {
		return time.Time{}, s, false
	}
	return time.Date(year, month, day, hour, minute, sec, nsec, loc), s, true
}

// isZoneName reports whether z looks like a time zone abbreviation.
func isZoneName(z string) bool {
	if len(z) < 3 || len(z) > 5 {
		return false
	}
	for i := 0; i < len(z); i++ {
		if z[i] < 'A' || z[i] > 'Z' {
			return false
		}
	}
	return true
}

// FutureSlack is how far in the future a timestamp without a year may be
// (a sender's clock running ahead) before it is taken to be from the year
// before; see InferYear.
const FutureSlack = 7 * 24 * time.Hour

// yearFor is InferYear with the receive time's year and month cached, since
// a batch of messages shares one receive time.
func (p *Parser) yearFor(month time.Month, day, hour, minute, sec, nsec int, loc *time.Location, recv time.Time) (time.Time, bool) {
	if !recv.Equal(p.recv) || loc != p.recvLoc || p.recvYear == 0 {
		p.recv, p.recvLoc = recv, loc
		y, m, _ := recv.In(loc).Date()
		p.recvYear, p.recvMonth = y, m
	}
	limit := recv.Add(FutureSlack)
	year := p.recvYear
	if month == time.January && p.recvMonth == time.December {
		year++
	}
	for range 2 {
		if day <= daysIn(month, year) {
			t := time.Date(year, month, day, hour, minute, sec, nsec, loc)
			if !t.After(limit) {
				return t, true
			}
		}
		year--
	}
	if day > daysIn(month, year) {
		return time.Time{}, false
	}
	return time.Date(year, month, day, hour, minute, sec, nsec, loc), true
}

// InferYear completes a date that has no year (RFC 3164, "MMM dd HH:mm:ss"),
// read in loc, with one, relative to now (normally the receive time): the
// year of now, or the previous one when that would put the date more than
// FutureSlack after now (a December message received in January, or one
// read late from a buffer), or the next one for a January date seen at the
// end of December (a sender whose clock runs ahead). ok is false when the
// day does not exist in the chosen year (February 29 with no leap year in
// reach), or the month or day is out of range. loc must not be nil.
func InferYear(month time.Month, day, hour, minute, sec, nsec int, loc *time.Location, now time.Time) (time.Time, bool) {
	if month < time.January || month > time.December || day < 1 {
		return time.Time{}, false
	}
	var p Parser
	return p.yearFor(month, day, hour, minute, sec, nsec, loc, now)
}

// parseRFC3339 parses YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) into a UTC time.
// Without a zone the time is taken in loc (RFC 3164 senders sometimes omit
// it; RFC 5424 callers pass UTC).
func parseRFC3339(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, _, ok1 := number(s[0:4], 4, 4)
	month, _, ok2 := number(s[5:7], 2, 2)
	day, _, ok3 := number(s[8:10], 2, 2)
	hour, _, ok4 := number(s[11:13], 2, 2)
	minute, _, ok5 := number(s[14:16], 2, 2)
	sec, _, ok6 := number(s[17:19], 2, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	s = s[19:]
	nsec := 0
	if len(s) > 1 && s[0] == '.' && isDigit(s[1]) {
		nsec, s = fraction(s[1:])
	}
	offset := 0
	switch {
	case s == "":
	case s == "Z" || s == "z":
		loc = time.UTC
	case len(s) == 6 && (s[0] == '+' || s[0] == '-') && s[3] == ':':
		oh, _, ok1 := number(s[1:3], 2, 2)
		om, _, ok2 := number(s[4:6], 2, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if s[0] == '-' {
			offset = -offset
		}
		loc = time.UTC
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

// number parses minDigits to maxDigits decimal digits at the start of s.
func number(s string, minDigits, maxDigits int) (int, string, bool) {
	n, i := 0, 0
	for i < len(s) && i < maxDigits && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:], i >= minDigits
}

// fraction parses the digits of a fraction of a second (s starts after the
// '.'); digits past nanoseconds are dropped.
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

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
