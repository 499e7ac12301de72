package esbulk

import (
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/internal/jsonparse"
)

// Action is the operation of one bulk item.
type Action uint8

// The bulk actions. Only Index and Create store documents.
const (
	Index Action = iota
	Create
	Update
	Delete
)

var actionNames = [...]string{Index: "index", Create: "create", Update: "update", Delete: "delete"}

// String returns the action's name as it appears in requests and responses.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// actionLine is what an action/metadata line holds.
type actionLine struct {
	action Action
	index  string
	id     string
	hasID  bool
}

// actionParser parses one action/metadata line. Errors are request-level:
// Elasticsearch fails the whole request for a malformed action line.
type actionParser struct {
	b    []byte
	i    int
	line int
	p    *Parser
}

// token names as Elasticsearch's XContentParser.Token prints them.
const (
	tokStartObject = "START_OBJECT"
	tokEndObject   = "END_OBJECT"
	tokStartArray  = "START_ARRAY"
	tokEndArray    = "END_ARRAY"
	tokString      = "VALUE_STRING"
	tokNumber      = "VALUE_NUMBER"
	tokBoolean     = "VALUE_BOOLEAN"
	tokNull        = "VALUE_NULL"
)

func (a *actionParser) skipWS() {
	for a.i < len(a.b) {
		switch a.b[a.i] {
		case ' ', '\t', '\r', '\n':
			a.i++
		default:
			return
		}
	}
}

// malformed returns Elasticsearch's error for a well-formed JSON line that
// is not an action.
func (a *actionParser) malformed(what string) *Error {
	return IllegalArgument("Malformed action/metadata line [" + strconv.Itoa(a.line) + "], " + what)
}

// syntax returns the error for invalid JSON at a.i, shaped as Elasticsearch
// reports a JSON parser error: x_content_parse_exception, "[line:col] msg".
// Each action line is parsed on its own, so the line is always 1.
func (a *actionParser) syntax(msg string) *Error {
	return &Error{Status: 400, Type: "x_content_parse_exception",
		Reason: "[1:" + strconv.Itoa(a.i+1) + "] " + msg}
}

func (a *actionParser) unexpectedChar(expecting string) *Error {
	if a.i >= len(a.b) {
		return a.syntax("Unexpected end-of-input: " + expecting)
	}
	c := a.b[a.i]
	r, _ := utf8.DecodeRune(a.b[a.i:])
	if c < utf8.RuneSelf {
		r = rune(c)
	}
	return a.syntax("Unexpected character (" + quoteRune(r) + " (code " + strconv.Itoa(int(r)) + ")): " + expecting)
}

func quoteRune(r rune) string {
	if r < 0x20 || r == utf8.RuneError {
		return "CTRL-CHAR"
	}
	return "'" + string(r) + "'"
}

// valueKind returns the token name of the value starting at a.i, or an error
// for something that is not a JSON value.
func (a *actionParser) valueKind() (string, *Error) {
	if a.i >= len(a.b) {
		return "", a.syntax("Unexpected end-of-input: expected a value")
	}
	switch c := a.b[a.i]; {
	case c == '{':
		return tokStartObject, nil
	case c == '[':
		return tokStartArray, nil
	case c == '"':
		return tokString, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return tokNumber, nil
	case c == 't' || c == 'f' || c == 'n':
		lit := "null"
		kind := tokNull
		if c == 't' {
			lit, kind = "true", tokBoolean
		} else if c == 'f' {
			lit, kind = "false", tokBoolean
		}
		if len(a.b)-a.i >= len(lit) && string(a.b[a.i:a.i+len(lit)]) == lit &&
			(a.i+len(lit) == len(a.b) || !isWordByte(a.b[a.i+len(lit)])) {
			return kind, nil
		}
		return "", a.unrecognized()
	case c == '}' || c == ']':
		return "", a.syntax("Unexpected close marker '" + string(c) + "': expected a value")
	default:
		if isWordByte(c) {
			return "", a.unrecognized()
		}
		return "", a.unexpectedChar("expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

func (a *actionParser) unrecognized() *Error {
	j := a.i
	for j < len(a.b) && isWordByte(a.b[j]) && j-a.i < 256 {
		j++
	}
	return a.syntax("Unrecognized token '" + string(a.b[a.i:j]) +
		"': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
}

// parse parses the line. ok is false for a blank line, which Elasticsearch
// skips.
func (a *actionParser) parse() (al actionLine, ok bool, err *Error) {
	a.skipWS()
	if a.i == len(a.b) {
		return al, false, nil
	}
	kind, err := a.valueKind()
	if err != nil {
		return al, false, err
	}
	if kind != tokStartObject {
		return al, false, a.malformed("expected " + tokStartObject + " but found [" + kind + "]")
	}
	a.i++
	a.skipWS()
	if a.i < len(a.b) && a.b[a.i] == '}' {
		return al, false, a.malformed("expected FIELD_NAME but found [" + tokEndObject + "]")
	}
	if a.i >= len(a.b) || a.b[a.i] != '"' {
		return al, false, a.unexpectedChar("was expecting double-quote to start field name")
	}
	name, err := a.str()
	if err != nil {
		return al, false, err
	}
	switch name {
	case "index":
		al.action = Index
	case "create":
		al.action = Create
	case "update":
		al.action = Update
	case "delete":
		al.action = Delete
	default:
		return al, false, a.malformed("expected field [create], [delete], [index] or [update] but found [" + name + "]")
	}
	a.skipWS()
	if a.i >= len(a.b) || a.b[a.i] != ':' {
		return al, false, a.unexpectedChar("was expecting a colon to separate field name and value")
	}
	a.i++
	a.skipWS()
	kind, err = a.valueKind()
	if err != nil {
		return al, false, err
	}
	if kind != tokStartObject {
		return al, false, a.malformed("expected " + tokStartObject + " or " + tokEndObject + " but found [" + kind + "]")
	}
	if err := a.params(&al); err != nil {
		return al, false, err
	}
	// Anything after the parameters (more keys, a missing closing brace,
	// trailing data) is ignored, as Elasticsearch 8 does with a deprecation
	// warning.
	return al, true, nil
}

// params parses the parameter object at a.i.
func (a *actionParser) params(al *actionLine) *Error {
	a.i++ // '{'
	a.skipWS()
	if a.i < len(a.b) && a.b[a.i] == '}' {
		a.i++
		return nil
	}
	for {
		if a.i >= len(a.b) || a.b[a.i] != '"' {
			return a.unexpectedChar("was expecting double-quote to start field name")
		}
		key, err := a.str()
		if err != nil {
			return err
		}
		a.skipWS()
		if a.i >= len(a.b) || a.b[a.i] != ':' {
			return a.unexpectedChar("was expecting a colon to separate field name and value")
		}
		a.i++
		a.skipWS()
		kind, err := a.valueKind()
		if err != nil {
			return err
		}
		switch kind {
		case tokStartArray:
			return a.malformed("expected a simple value for field [" + key + "] but found [" + kind + "]")
		case tokStartObject:
			if key != "_source" && key != "dynamic_templates" {
				return a.malformed("expected a simple value for field [" + key + "] but found [" + kind + "]")
			}
			if err := a.skipValue(0); err != nil {
				return err
			}
		case tokNull:
			a.i += 4
		default:
			start := a.i
			var s string
			if kind == tokString {
				s, err = a.str()
				if err != nil {
					return err
				}
			} else if err := a.skipValue(0); err != nil {
				return err
			}
			if err := a.param(al, key, kind, s, a.b[start:a.i]); err != nil {
				return err
			}
		}
		a.skipWS()
		if a.i >= len(a.b) {
			return a.syntax("Unexpected end-of-input: expected close marker for Object")
		}
		switch a.b[a.i] {
		case ',':
			a.i++
			a.skipWS()
		case '}':
			a.i++
			return nil
		default:
			return a.unexpectedChar("was expecting comma to separate Object entries")
		}
	}
}

// param records one scalar parameter. s is the string value (for strings);
// raw the value's JSON text.
func (a *actionParser) param(al *actionLine, key, kind, s string, raw []byte) *Error {
	if kind != tokString {
		// Numbers and booleans count as their text, as parser.text() does.
		s = string(raw)
	}
	switch key {
	case "_index":
		al.index = a.p.intern(s)
	case "_id":
		al.id, al.hasID = s, true
	case "op_type":
		if al.action == Index && s == "create" {
			al.action = Create
		}
	case "_type", "routing", "version", "version_type", "if_seq_no", "if_primary_term",
		"retry_on_conflict", "pipeline", "_source", "require_alias", "require_data_stream",
		"list_executed_pipelines":
		// Accepted and ignored.
	default:
		return IllegalArgument("Action/metadata line [" + strconv.Itoa(a.line) + "] contains an unknown parameter [" + key + "]")
	}
	return nil
}

// str parses the string at a.i == '"'. Strings without escapes point into
// the line (the body), the others are unescaped into a new string.
func (a *actionParser) str() (string, *Error) {
	start := a.i + 1
	j := start
	escaped := false
	for {
		if j >= len(a.b) {
			a.i = j
			return "", a.syntax("Unexpected end-of-input: was expecting closing quote for a string value")
		}
		c := a.b[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			escaped = true
			j += 2
			continue
		}
		if c < 0x20 {
			a.i = j
			return "", a.syntax("Illegal unquoted character ((CTRL-CHAR, code " + strconv.Itoa(int(c)) +
				")): has to be escaped using backslash to be included in string value")
		}
		j++
	}
	raw := a.b[start:j]
	a.i = j + 1
	if !escaped {
		if len(raw) == 0 {
			return "", nil
		}
		if !utf8.Valid(raw) {
			return validUTF8(raw), nil
		}
		return unsafe.String(&raw[0], len(raw)), nil
	}
	s, ok := unescape(raw)
	if !ok {
		a.i = start
		return "", a.syntax("Unrecognized character escape in string value")
	}
	return s, nil
}

// unescape decodes the JSON escapes of a string's contents.
func unescape(raw []byte) (string, bool) {
	src := unsafe.String(unsafe.SliceData(raw), len(raw))
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 >= len(src) {
			return "", false
		}
		var ok bool
		if out, i, ok = jsonparse.AppendEscape(out, src, i+1); !ok {
			return "", false
		}
	}
	if !utf8.Valid(out) {
		return validUTF8(out), true
	}
	return string(out), true
}

// validUTF8 replaces each invalid byte by U+FFFD, as encoding/json does.
func validUTF8(b []byte) string {
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

// skipValue skips the JSON value at a.i, checking its syntax.
func (a *actionParser) skipValue(depth int) *Error {
	if depth > 32 {
		return a.syntax("nesting too deep")
	}
	kind, err := a.valueKind()
	if err != nil {
		return err
	}
	switch kind {
	case tokString:
		_, err := a.str()
		return err
	case tokNull:
		a.i += 4
	case tokBoolean:
		if a.b[a.i] == 't' {
			a.i += 4
		} else {
			a.i += 5
		}
	case tokNumber:
		j := a.i
		if a.b[j] == '-' {
			j++
		}
		digits := j
		for j < len(a.b) && (a.b[j] >= '0' && a.b[j] <= '9' || a.b[j] == '.' || a.b[j] == 'e' || a.b[j] == 'E' ||
			((a.b[j] == '+' || a.b[j] == '-') && (a.b[j-1] == 'e' || a.b[j-1] == 'E'))) {
			j++
		}
		if j == digits {
			return a.unexpectedChar("expected digit (0-9) to follow minus sign, for valid numeric value")
		}
		if _, err := strconv.ParseFloat(string(a.b[a.i:j]), 64); err != nil && !isRangeErr(err) {
			return a.syntax("Invalid numeric value: " + string(a.b[a.i:j]))
		}
		a.i = j
	case tokStartObject, tokStartArray:
		closer := byte('}')
		if kind == tokStartArray {
			closer = ']'
		}
		a.i++
		a.skipWS()
		if a.i < len(a.b) && a.b[a.i] == closer {
			a.i++
			return nil
		}
		for {
			if kind == tokStartObject {
				if a.i >= len(a.b) || a.b[a.i] != '"' {
					return a.unexpectedChar("was expecting double-quote to start field name")
				}
				if _, err := a.str(); err != nil {
					return err
				}
				a.skipWS()
				if a.i >= len(a.b) || a.b[a.i] != ':' {
					return a.unexpectedChar("was expecting a colon to separate field name and value")
				}
				a.i++
				a.skipWS()
			}
			if err := a.skipValue(depth + 1); err != nil {
				return err
			}
			a.skipWS()
			if a.i >= len(a.b) {
				return a.syntax("Unexpected end-of-input: expected close marker")
			}
			if a.b[a.i] == ',' {
				a.i++
				a.skipWS()
				continue
			}
			if a.b[a.i] == closer {
				a.i++
				return nil
			}
			return a.unexpectedChar("was expecting comma to separate entries")
		}
	}
	return nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
