package csv

import (
	"strconv"
	"strings"
)

// ParseError describes malformed quoting.
type ParseError struct {
	Offset int
	Msg    string
}

// Error returns "cannot parse CSV at offset N: what was wrong".
func (e *ParseError) Error() string {
	return "cannot parse CSV at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// scanner splits one CSV record (RFC 4180, with any separator string and
// quote character), as Ruby's CSV.parse_line does in its default strict
// mode: a field that starts with the quote runs to the closing quote, a
// doubled quote inside stands for one, and the closing quote must be
// followed by the separator or the end; a quote anywhere in an unquoted
// field is an error, and so is an unterminated quoted field. Quoted fields
// may hold separators and line breaks. Fields are substrings of the line
// unless they contain doubled quotes.
type scanner struct {
	sep, quote string
}

// split appends the fields of line to dst. An empty line has no fields.
func (s *scanner) split(dst []string, line string) ([]string, error) {
	if line == "" {
		return dst, nil
	}
	sep, quote := s.sep, s.quote
	pos := 0
	for {
		if strings.HasPrefix(line[pos:], quote) {
			v, next, err := s.quoted(line, pos)
			if err != nil {
				return dst, err
			}
			dst = append(dst, v)
			if next == len(line) {
				return dst, nil
			}
			if !strings.HasPrefix(line[next:], sep) {
				return dst, &ParseError{Offset: next, Msg: "expected a separator after the closing quote"}
			}
			pos = next + len(sep)
			continue
		}
		field := line[pos:]
		k := strings.Index(field, sep)
		if k >= 0 {
			field = field[:k]
		}
		if q := strings.Index(field, quote); q >= 0 {
			return dst, &ParseError{Offset: pos + q, Msg: "quote inside an unquoted field"}
		}
		dst = append(dst, field)
		if k < 0 {
			return dst, nil
		}
		pos += k + len(sep)
	}
}

// quoted reads the quoted field at line[pos:] and returns its value and the
// offset after the closing quote.
func (s *scanner) quoted(line string, pos int) (string, int, error) {
	quote := s.quote
	start := pos + len(quote)
	var buf []byte // only for fields with doubled quotes
	for i := start; ; {
		k := strings.Index(line[i:], quote)
		if k < 0 {
			return "", len(line), &ParseError{Offset: pos, Msg: "unterminated quoted field"}
		}
		k += i
		after := k + len(quote)
		if strings.HasPrefix(line[after:], quote) {
			buf = append(buf, line[i:after]...) // the text and one quote
			i = after + len(quote)
			continue
		}
		if buf == nil {
			return line[start:k], after, nil
		}
		return string(append(buf, line[i:k]...)), after, nil
	}
}

// trimEOL removes one trailing line terminator ("\n", "\r\n" or "\r").
func trimEOL(s string) string {
	if strings.HasSuffix(s, "\n") {
		s = s[:len(s)-1]
	}
	return strings.TrimSuffix(s, "\r")
}
