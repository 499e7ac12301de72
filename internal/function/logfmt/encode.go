package logfmt

import (
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/event"
)

// AppendPair appends key=value in logfmt to dst, without a separator
// before it. The output parses back, with this package's rules and
// go-logfmt's, to the same key (if it was valid) and, for strings, the same
// value (invalid UTF-8 replaced by U+FFFD); other values come back as their
// text.
func AppendPair(dst []byte, key string, v event.Value) []byte {
	dst = AppendKey(dst, key)
	dst = append(dst, '=')
	return AppendValue(dst, v)
}

// AppendKey appends key, with every byte that cannot be in a logfmt key
// (whitespace and control bytes, '=', '"') replaced by '_'. An empty key is
// written as "_".
func AppendKey(dst []byte, key string) []byte {
	if key == "" {
		return append(dst, '_')
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c <= ' ' || c == '=' || c == '"' {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendValue appends v as a logfmt value: a string bare when it is not
// empty and has no whitespace or control byte, '=', '"' or invalid UTF-8,
// else as a double-quoted JSON string; null as null; numbers and booleans
// as their text; times in RFC 3339 (UTC); arrays and objects as quoted
// JSON.
func AppendValue(dst []byte, v event.Value) []byte {
	if s, ok := v.Str(); ok {
		return appendString(dst, s)
	}
	switch x := v.Interface().(type) {
	case nil:
		return append(dst, "null"...)
	case int64, float64, bool:
		return v.AppendText(dst)
	case time.Time:
		return event.AppendTimestamp(dst, x)
	default:
		return event.AppendJSONString(dst, string(event.AppendValueJSON(nil, v)))
	}
}

func appendString(dst []byte, s string) []byte {
	if needsQuotes(s) {
		return event.AppendJSONString(dst, s)
	}
	return append(dst, s...)
}

func needsQuotes(s string) bool {
	if s == "" {
		return true
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ', c == '=', c == '"', c == 0x7f:
			return true
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return !ascii && !utf8.ValidString(s)
}
