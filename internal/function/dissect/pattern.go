package dissect

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// kind is what a field of a pattern does with its value.
type kind uint8

const (
	normal   kind = iota // %{key}: set key
	skip                 // %{}, %{?key}, %{*key}: keep for indirect fields only
	appended             // %{+key}, %{+key/N}: join onto key
	indirect             // %{&key}: set the field named by key's value
)

// field is one %{...} of a pattern.
type field struct {
	kind  kind
	name  string // the key, without prefix and suffixes ("" for %{})
	order int    // append order (/N)
	pad   bool   // "->": skip repeats of the delimiter after the field
	// prev is the delimiter before the field, which an appended value is
	// joined with ("" when there is none).
	prev string
}

// pattern is a parsed dissection: lead, then each field followed by its
// delimiter. The last field's delimiter is empty when it takes the rest of
// the text; when the pattern ends with text, that text ends the last field
// and whatever follows it in the input is ignored, as in Logstash.
type pattern struct {
	lead   string
	fields []field
	delims []string
}

// parsePattern parses a dissect pattern with Logstash's syntax.
func parsePattern(s string) (*pattern, error) {
	if s == "" {
		return nil, errors.New("the pattern is empty")
	}
	p := &pattern{}
	rest := s
	for {
		i := strings.Index(rest, "%{")
		if i < 0 {
			break
		}
		delim := rest[:i]
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unterminated %%{ at %q", rest[i:])
		}
		body := rest[i+2 : i+end]
		rest = rest[i+end+1:]
		if strings.Contains(body, "%{") {
			return nil, fmt.Errorf("unterminated %%{ before %q", "%{"+body+"}")
		}
		if len(p.fields) == 0 {
			p.lead = delim
		} else {
			if delim == "" {
				prev := p.fields[len(p.fields)-1]
				return nil, fmt.Errorf("%s and %%{%s} have no delimiter between them, so the first could never hold anything", show(prev), body)
			}
			p.delims = append(p.delims, delim)
		}
		f, err := parseField(body)
		if err != nil {
			return nil, err
		}
		f.prev = delim
		p.fields = append(p.fields, f)
	}
	if len(p.fields) == 0 {
		return nil, errors.New("the pattern has no %{field}")
	}
	p.delims = append(p.delims, rest)
	return p, nil
}

func show(f field) string {
	switch f.kind {
	case skip:
		return "%{?" + f.name + "}"
	case appended:
		return "%{+" + f.name + "}"
	case indirect:
		return "%{&" + f.name + "}"
	}
	return "%{" + f.name + "}"
}

// parseField parses the text between %{ and }.
func parseField(s string) (field, error) {
	var f field
	body := s
	if strings.HasSuffix(body, "->") {
		f.pad = true
		body = body[:len(body)-2]
	}
	switch {
	case body == "":
		f.kind = skip
		return f, nil
	case body[0] == '?' || body[0] == '*':
		// * is Elasticsearch's reference key (%{*k} %{&k}), a named skip.
		f.kind, f.name = skip, body[1:]
		return f, nil
	case strings.HasPrefix(body, "+&") || strings.HasPrefix(body, "&+"):
		return f, fmt.Errorf("%%{%s}: a field cannot be both append (+) and indirect (&)", s)
	case body[0] == '+':
		f.kind, body = appended, body[1:]
		if i := strings.LastIndexByte(body, '/'); i >= 0 {
			n, err := strconv.Atoi(body[i+1:])
			if err != nil || n < 0 || strings.ContainsAny(body[i+1:], "+-") {
				return f, fmt.Errorf("%%{%s}: the append order after / must be a number", s)
			}
			f.order, body = n, body[:i]
		}
	case body[0] == '&':
		f.kind, body = indirect, body[1:]
	}
	if body == "" {
		return f, fmt.Errorf("%%{%s}: the field has no name", s)
	}
	name, err := fieldName(body)
	if err != nil {
		return f, fmt.Errorf("%%{%s}: %w", s, err)
	}
	f.name = name
	return f, nil
}

// fieldName turns a key into an event key: Logstash's bracket notation
// [a][b] becomes a.b; dotted names stay as they are.
func fieldName(s string) (string, error) {
	s, ok := fnutil.FieldName(s)
	if !ok {
		return "", fmt.Errorf("invalid field name %q", s)
	}
	if s == "@timestamp" {
		return "", errors.New("cannot dissect into @timestamp: dissect into a field (timestamp) and parse it with the date function")
	}
	return s, nil
}

// has reports whether the pattern sets a field of that name (normal or
// appended).
func (p *pattern) has(name string) bool {
	return slices.ContainsFunc(p.fields, func(f field) bool {
		return (f.kind == normal || f.kind == appended) && f.name == name
	})
}

// span is where a field's value is in the input.
type span struct{ start, end int }

// match finds the value of each field in s and writes their positions to
// spans (one per field). It reports false when a delimiter is missing.
func (p *pattern) match(s string, spans []span) bool {
	if s == "" || !strings.HasPrefix(s, p.lead) {
		return false
	}
	pos := len(p.lead)
	last := len(p.fields) - 1
	for i := range p.fields {
		d := p.delims[i]
		if i == last && d == "" {
			spans[i] = span{pos, len(s)}
			return true
		}
		j := strings.Index(s[pos:], d)
		if j < 0 {
			return false
		}
		spans[i] = span{pos, pos + j}
		pos += j + len(d)
		if p.fields[i].pad {
			for strings.HasPrefix(s[pos:], d) {
				pos += len(d)
			}
		}
	}
	return true
}
