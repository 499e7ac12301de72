package jsonparse

import (
	"unicode/utf16"
	"unicode/utf8"
)

// AppendEscape appends to dst the text of the JSON escape at s[i:], s[i]
// being the byte after the backslash ('n' of `\n`, 'u' of `\u00e9`), and
// returns the index of the escape's last byte. A \u escape of a high
// surrogate followed by one of a low surrogate makes one rune; an unpaired
// surrogate becomes U+FFFD, as encoding/json makes it. ok is false when
// s[i] starts no escape or a \u lacks its four hex digits. It is for the
// functions that read JSON strings inside other formats (kv's quoted
// values, Docker's json-file lines).
func AppendEscape(dst []byte, s string, i int) (out []byte, last int, ok bool) {
	switch s[i] {
	case '"', '\\', '/':
		return append(dst, s[i]), i, true
	case 'b':
		return append(dst, '\b'), i, true
	case 'f':
		return append(dst, '\f'), i, true
	case 'n':
		return append(dst, '\n'), i, true
	case 'r':
		return append(dst, '\r'), i, true
	case 't':
		return append(dst, '\t'), i, true
	case 'u':
		r, ok := hex4(s, i+1, len(s))
		if !ok {
			return dst, i, false
		}
		i += 4
		if utf16.IsSurrogate(r) {
			r2, ok := rune(0), false
			if i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				r2, ok = hex4(s, i+3, len(s))
			}
			if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
				r = d
				i += 6
			} else {
				r = utf8.RuneError
			}
		}
		return utf8.AppendRune(dst, r), i, true
	}
	return dst, i, false
}

// hex4 reads four hex digits at data[i:end].
func hex4[T string | []byte](data T, i, end int) (rune, bool) {
	if end-i < 4 {
		return 0, false
	}
	var r rune
	for k := i; k < i+4; k++ {
		c := data[k]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
