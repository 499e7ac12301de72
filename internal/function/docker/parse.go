package docker

import (
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/function/timestamp"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// Line is one parsed line of a Docker json-file log. Its strings point into
// the input when it has no JSON escapes other than the final newline.
type Line struct {
	// Time is when Docker read the line, in UTC.
	Time time.Time
	// Stream is "stdout" or "stderr".
	Stream string
	// Partial is set when log does not end with a newline: Docker cut the
	// line (at 16KiB) and it goes on in the next line of the same stream.
	Partial bool
	// Message is log without its final "\n" (or "\r\n").
	Message string
	// Attrs are the attributes Docker adds with --log-opt labels, env or
	// tag, in input order.
	Attrs []Attr
}

// Attr is one entry of a line's attrs object.
type Attr struct {
	Key, Value string
}

// maxDepth bounds the nesting of values the parser skips.
const maxDepth = 64

// Parse parses one line of a Docker json-file log:
//
//	{"log":"text\n","stream":"stdout","time":"2024-03-15T11:22:33.444555666Z"}
//
// log, stream (stdout or stderr) and time (RFC 3339) are required and must
// be strings; attrs, when present, must be an object of strings; other keys
// are skipped. A repeated key keeps its last value. A trailing newline
// after the object is allowed. ok is false for anything else, including
// invalid JSON, except that bytes JSON does not allow in strings (control
// characters, invalid UTF-8) are taken as they are.
func Parse(s string) (l Line, ok bool) {
	p := parser{s: s}
	p.ws()
	if !p.byte('{') {
		return l, false
	}
	var hasLog, hasStream, hasTime, complete bool
	var logText, timeText string
	p.ws()
	if !p.byte('}') {
		for {
			p.ws()
			key, ok := p.str()
			if !ok {
				return l, false
			}
			p.ws()
			if !p.byte(':') {
				return l, false
			}
			p.ws()
			switch key {
			case "log":
				if logText, complete, hasLog = p.logValue(); !hasLog {
					return l, false
				}
			case "stream":
				l.Stream, hasStream = p.str()
				if !hasStream {
					return l, false
				}
			case "time":
				timeText, hasTime = p.str()
				if !hasTime {
					return l, false
				}
			case "attrs":
				if l.Attrs, ok = p.attrs(); !ok {
					return l, false
				}
			default:
				if !p.skip(0) {
					return l, false
				}
			}
			p.ws()
			if p.byte('}') {
				break
			}
			if !p.byte(',') {
				return l, false
			}
		}
	}
	p.ws()
	if p.i != len(p.s) || !hasLog || !hasTime || l.Stream != "stdout" && l.Stream != "stderr" {
		return l, false
	}
	if l.Time, ok = timestamp.ParseRFC3339(timeText); !ok {
		return l, false
	}
	l.Stream = internStream(l.Stream)
	l.Message, l.Partial = logText, !complete
	return l, true
}

// internStream returns the constant for a stream name, so that events do
// not keep the input alive through it.
func internStream(s string) string {
	if s == "stdout" {
		return "stdout"
	}
	return "stderr"
}

type parser struct {
	s string
	i int
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) byte(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str parses a JSON string. Without escapes it returns a substring of the
// input.
func (p *parser) str() (string, bool) {
	raw, escapes, ok := p.scan()
	if !ok {
		return "", false
	}
	if escapes == 0 {
		return raw, true
	}
	return unescape(raw)
}

// logValue parses the log string: its text without a final newline, and
// whether it had one. The usual values, without escapes but a final \n or
// \r\n, are substrings of the input.
func (p *parser) logValue() (text string, complete, ok bool) {
	raw, escapes, ok := p.scan()
	if !ok {
		return "", false, false
	}
	switch {
	case escapes == 0:
		return raw, false, true
	case escapes == 1 && strings.HasSuffix(raw, `\n`) && !strings.HasSuffix(raw, `\\n`):
		return raw[:len(raw)-2], true, true
	case escapes == 2 && strings.HasSuffix(raw, `\r\n`) && !strings.HasSuffix(raw, `\\r\n`):
		return raw[:len(raw)-4], true, true
	}
	text, ok = unescape(raw)
	switch {
	case !ok:
		return "", false, false
	case strings.HasSuffix(text, "\r\n"):
		return text[:len(text)-2], true, true
	case strings.HasSuffix(text, "\n"):
		return text[:len(text)-1], true, true
	}
	return text, false, true
}

// scan reads a JSON string and returns its body, still escaped, and the
// number of escapes in it.
func (p *parser) scan() (raw string, escapes int, ok bool) {
	if !p.byte('"') {
		return "", 0, false
	}
	start := p.i
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			p.i++
			return p.s[start : p.i-1], escapes, true
		case '\\':
			escapes++
			p.i += 2
		default:
			p.i++
		}
	}
	return "", 0, false
}

// attrs parses an object of strings.
func (p *parser) attrs() ([]Attr, bool) {
	if !p.byte('{') {
		return nil, false
	}
	var out []Attr
	p.ws()
	if p.byte('}') {
		return out, true
	}
	for {
		p.ws()
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.ws()
		if !p.byte(':') {
			return nil, false
		}
		p.ws()
		v, ok := p.str()
		if !ok {
			return nil, false
		}
		out = setAttr(out, k, v)
		p.ws()
		if p.byte('}') {
			return out, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

// setAttr sets k to v, replacing an earlier k.
func setAttr(attrs []Attr, k, v string) []Attr {
	for i := range attrs {
		if attrs[i].Key == k {
			attrs[i].Value = v
			return attrs
		}
	}
	return append(attrs, Attr{Key: k, Value: v})
}

// skip skips any JSON value.
func (p *parser) skip(depth int) bool {
	if depth > maxDepth || p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.byte(end) {
			return true
		}
		for {
			p.ws()
			if c == '{' {
				if _, ok := p.str(); !ok {
					return false
				}
				p.ws()
				if !p.byte(':') {
					return false
				}
				p.ws()
			}
			if !p.skip(depth + 1) {
				return false
			}
			p.ws()
			if p.byte(end) {
				return true
			}
			if !p.byte(',') {
				return false
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(p.s[p.i:], lit) {
			p.i += len(lit)
			return true
		}
	}
	return false
}

// number skips a JSON number.
func (p *parser) number() bool {
	p.byte('-')
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	// A leading zero is the whole integer part.
	if !p.byte('0') && digits() == 0 {
		return false
	}
	if p.byte('.') && digits() == 0 {
		return false
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if !p.byte('+') {
			p.byte('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// unescape decodes the body of a JSON string with escapes. Invalid \u
// escapes (a lone surrogate) become U+FFFD, as encoding/json makes them;
// other bytes are kept as they are.
func unescape(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		var ok bool
		if b, i, ok = jsonparse.AppendEscape(b, s, i); !ok {
			return "", false
		}
	}
	return string(b), true
}
