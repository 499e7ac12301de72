package grok

import (
	"math"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/event"
)

// convert returns the captured text s as a value of type t. The conversions
// are Ruby's String#to_i and String#to_f, which Logstash applies: leading
// whitespace is skipped, the longest numeric prefix is used, and text with
// no numeric prefix is 0. A number beyond the range of int64 becomes a
// float; one beyond float64 stays text.
func convert(s string, t convType) event.Value {
	switch t {
	case convInt:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return event.Int(i)
		}
		digits := numericPrefix(s, false)
		i, err := strconv.ParseInt(digits, 10, 64)
		if err == nil {
			return event.Int(i)
		}
		if f, err := strconv.ParseFloat(digits, 64); err == nil {
			return event.Float(f)
		}
		return event.Int(0)
	case convFloat:
		if plainDecimal(s) {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return event.Float(f)
			}
		}
		f, err := strconv.ParseFloat(numericPrefix(s, true), 64)
		if err != nil || math.IsInf(f, 0) {
			return event.String(s)
		}
		return event.Float(f)
	}
	return event.String(s)
}

// plainDecimal reports whether s holds only digits, signs and dots, so that
// strconv.ParseFloat reads it as Ruby would when it succeeds (it also takes
// exponents, hex, "inf" and "nan", which Ruby's to_f reads differently).
func plainDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isDigit(c) && c != '.' && c != '-' && c != '+' {
			return false
		}
	}
	return true
}

// numericPrefix returns the longest prefix of s (after leading whitespace)
// that Ruby's to_i (or to_f, when float is set) reads, without the
// underscores Ruby allows between digits, or "0" when there is none.
func numericPrefix(s string, float bool) string {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	var b []byte
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		b = append(b, s[i])
		i++
	}
	n, i := digits(&b, s, i)
	if float {
		if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
			b = append(b, '.')
			var m int
			m, i = digits(&b, s, i+1)
			n += m
		}
		if n > 0 && i+1 < len(s) && (s[i] == 'e' || s[i] == 'E') {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				b = append(b, s[i:j]...)
				digits(&b, s, j)
			}
		}
	}
	if n == 0 {
		return "0"
	}
	return string(b)
}

// digits appends to b the digits of s from i on, skipping single
// underscores between digits, and returns how many it took and where it
// stopped.
func digits(b *[]byte, s string, i int) (n, end int) {
	for i < len(s) {
		switch {
		case isDigit(s[i]):
			*b = append(*b, s[i])
			n++
		case s[i] == '_' && n > 0 && i+1 < len(s) && isDigit(s[i+1]):
		default:
			return n, i
		}
		i++
	}
	return n, i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
