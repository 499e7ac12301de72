package kv

import (
	"strconv"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

// scanLogstash finds the pairs of s with the rules of Logstash's kv filter
// (its scan regexp, written out by hand):
//
//   - a key is a run of characters outside field_split and value_split, in
//     which a backslash escapes the next character (kept as is); it may
//     start anywhere, so "Hey, from=me" gives from=me;
//   - then value_split (in lenient mode, with optional spaces around it);
//   - then a value: "…" or '…' (and (…), […], <…> with include_brackets)
//     when the closing character is followed by field_split or the end,
//     taken without the quotes and with backslash escapes kept as they are;
//     otherwise everything up to the next field_split (backslash escapes
//     it). Empty values are skipped, as in Logstash.
//
// Text between pairs that is not a pair is ignored.
func (p *Parser) scanLogstash(sc *scratch, s string) {
	sc.noCloser = charSet{}
	n := len(s)
	for i := 0; i < n; {
		if p.fs[s[i]] {
			i++
			continue
		}
		start := i
		for i < n {
			c := s[i]
			if c == '\\' && i+1 < n && s[i+1] != '\n' {
				i += 2
				continue
			}
			if p.keyStop[c] {
				break
			}
			i++
		}
		if i == start {
			i++ // a value_split with no key before it
			continue
		}
		key := s[start:i]
		j := i
		if p.lenient {
			for j < n && s[j] == ' ' {
				j++
			}
		}
		if j >= n || !p.vs[s[j]] {
			continue // not a pair: go on from the end of the would-be key
		}
		j++
		if p.lenient {
			for j < n && s[j] == ' ' {
				j++
			}
		}
		var v string
		v, i = p.value(sc, s, j)
		if v == "" {
			continue
		}
		if p.hasTrimV {
			v = p.trimVal.trim(v)
		}
		p.add(sc, key, event.String(v))
	}
}

// value reads the value starting at s[j] and returns it with the offset
// after it and the field_split that ends it.
func (p *Parser) value(sc *scratch, s string, j int) (string, int) {
	n := len(s)
	if j >= n {
		return "", n
	}
	if p.fs[s[j]] {
		return "", j + 1
	}
	if closer := p.closer(s[j]); closer != 0 && !sc.noCloser[closer] {
		k := j + 1
		for k < n && s[k] != closer {
			if s[k] == '\\' && k+1 < n && s[k+1] != '\n' {
				k++
			}
			k++
		}
		if k >= n {
			sc.noCloser[closer] = true
		} else if k+1 == n || p.fs[s[k+1]] {
			return s[j+1 : k], min(k+2, n)
		}
		// No closing quote where one can end a value: the quote is just
		// the first character of an unquoted value.
	}
	k := j
	for k < n && !p.fs[s[k]] {
		if s[k] == '\\' && k+1 < n && s[k+1] != '\n' {
			k++
		}
		k++
	}
	return s[j:k], min(k+1, n)
}

// closer returns the character that closes a value opened by c, or 0.
func (p *Parser) closer(c byte) byte {
	switch c {
	case '"', '\'':
		return c
	case '(':
		if p.brackets {
			return ')'
		}
	case '[':
		if p.brackets {
			return ']'
		}
	case '<':
		if p.brackets {
			return '>'
		}
	}
	return 0
}

// SyntaxError describes malformed logfmt input.
type SyntaxError struct {
	Offset int
	Msg    string
}

// Error returns "cannot parse logfmt at offset N: what was wrong".
func (e *SyntaxError) Error() string {
	return "cannot parse logfmt at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// scanLogfmt reads s as logfmt: pairs separated by whitespace (bytes up to
// ' '); a key is a run of bytes above ' ' other than '=' and '"'; "key"
// alone is true, "key=" is the empty string, "key=value" runs to the next
// whitespace and "key=\"…\"" is a double-quoted string with JSON escapes.
// An unquoted value may contain '=' and '"' (go-logfmt rejects them; real
// logs put URLs with query strings in unquoted values). Errors: a missing
// key before '=', a quote in a key, an unterminated quoted value, an
// invalid escape, and anything but whitespace right after a closing quote.
func (p *Parser) scanLogfmt(sc *scratch, s string) error {
	n := len(s)
	i := 0
	for {
		for i < n && s[i] <= ' ' {
			i++
		}
		if i >= n {
			return nil
		}
		start := i
		for i < n && s[i] > ' ' && s[i] != '=' && s[i] != '"' {
			i++
		}
		if i < n && s[i] == '"' {
			return &SyntaxError{Offset: i, Msg: "unexpected '\"' in a key"}
		}
		if i == start {
			return &SyntaxError{Offset: i, Msg: "missing key before '='"}
		}
		key := s[start:i]
		if i >= n || s[i] != '=' {
			p.add(sc, key, event.Bool(true))
			continue
		}
		i++
		switch {
		case i >= n || s[i] <= ' ':
			p.add(sc, key, event.String(""))
		case s[i] == '"':
			v, end, err := unquote(s, i)
			if err != nil {
				return err
			}
			if end < n && s[end] > ' ' {
				return &SyntaxError{Offset: end, Msg: "expected a space after the closing quote"}
			}
			i = end
			p.add(sc, key, event.String(v))
		default:
			vs := i
			for i < n && s[i] > ' ' {
				i++
			}
			p.add(sc, key, event.String(s[vs:i]))
		}
	}
}

// unquote reads the double-quoted string at s[i] == '"' and returns its
// value and the offset after the closing quote. Without escapes the value
// is a substring of s.
func unquote(s string, i int) (string, int, error) {
	n := len(s)
	j := i + 1
	for j < n && s[j] != '"' && s[j] != '\\' {
		j++
	}
	if j < n && s[j] == '"' {
		return s[i+1 : j], j + 1, nil
	}
	buf := make([]byte, 0, n-i)
	buf = append(buf, s[i+1:j]...)
	for j < n {
		c := s[j]
		switch c {
		case '"':
			return string(buf), j + 1, nil
		case '\\':
		default:
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 >= n {
			break
		}
		j++
		var ok bool
		if buf, j, ok = jsonparse.AppendEscape(buf, s, j); !ok {
			if s[j] == 'u' {
				return "", j, &SyntaxError{Offset: j - 1, Msg: "invalid \\u escape"}
			}
			return "", j, &SyntaxError{Offset: j - 1, Msg: "invalid escape \\" + string(rune(s[j]))}
		}
		j++
	}
	return "", n, &SyntaxError{Offset: i, Msg: "unterminated quoted value"}
}
