package jsonparse

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// parseKey parses the string at data[i] == '"' as an object key: unescaped,
// with invalid UTF-8 replaced, and noting dots.
func (p *parser) parseKey(i int) (string, int, error) {
	start := i + 1
	end, flags, err := p.scanString(i)
	if err != nil {
		return "", end, err
	}
	var s string
	if flags&strEscaped != 0 {
		if s, err = p.unescape(start, end); err != nil {
			return "", end, err
		}
		// The flags described the escaped form; look at the result.
		flags = 0
		for j := 0; j < len(s); j++ {
			if s[j] == '.' {
				flags |= strDot
			} else if s[j] >= utf8.RuneSelf {
				flags |= strNonASCII
			}
		}
	} else if end > start {
		s = unsafe.String(&p.data[start], end-start)
	}
	if flags&strDot != 0 {
		p.dotted = true
	}
	if flags&strNonASCII != 0 && !utf8.ValidString(s) {
		s = replaceInvalidUTF8(s)
	}
	return s, end + 1, nil
}

// parseString parses the string at data[i] == '"' and returns it unescaped.
// Without escapes the result points into data.
func (p *parser) parseString(i int) (string, int, error) {
	start := i + 1
	end, flags, err := p.scanString(i)
	if err != nil {
		return "", end, err
	}
	if flags&strEscaped != 0 {
		s, err := p.unescape(start, end)
		return s, end + 1, err
	}
	if end == start {
		return "", end + 1, nil
	}
	return unsafe.String(&p.data[start], end-start), end + 1, nil
}

// What scanString saw in a string.
const (
	strEscaped  = 1 << iota // a backslash escape
	strDot                  // a '.' outside escapes
	strNonASCII             // a byte >= 0x80
)

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanString finds the closing quote of the string at data[i] == '"'. It
// rejects control characters and reports escapes, dots and non-ASCII bytes.
//
// It looks at 8 bytes at a time: special has the high bit set in the bytes
// that are '"', '\' or below 0x20. The lowest set bit is always exact (the
// subtraction tricks can only misfire above a true match), so it points at
// the first special byte.
func (p *parser) scanString(i int) (end int, flags uint8, err error) {
	data := p.data
	j := i + 1
	// High bits of the bytes before j that are '.' (dots) or >= 0x80 (high).
	var dots, high uint64
	for {
		for len(data)-j >= 8 {
			x := binary.LittleEndian.Uint64(data[j:])
			quote := x ^ (lsb * '"')
			bslash := x ^ (lsb * '\\')
			dot := x ^ (lsb * '.')
			special := (((quote - lsb) &^ quote) | ((bslash - lsb) &^ bslash) | ((x - lsb*0x20) &^ x)) & msb
			if special == 0 {
				dots |= (dot - lsb) &^ dot
				high |= x
				j += 8
				continue
			}
			k := bits.TrailingZeros64(special) // 8n+7 for byte n
			below := uint64(1)<<k - 1
			dots |= (dot - lsb) &^ dot & below
			high |= x & below
			j += k >> 3
			break
		}
		if len(data)-j < 8 {
			for ; j < len(data); j++ {
				c := data[j]
				if c == '"' || c == '\\' || c < 0x20 {
					break
				}
				if c == '.' {
					dots |= msb
				}
				high |= uint64(c)
			}
			if j >= len(data) {
				return len(data), 0, p.errAt(len(data), "unterminated string")
			}
		}
		switch data[j] {
		case '"':
			if dots&msb != 0 {
				flags |= strDot
			}
			if high&msb != 0 {
				flags |= strNonASCII
			}
			return j, flags, nil
		case '\\':
			flags |= strEscaped
			j += 2
		default:
			return j, 0, p.errAt(j, "invalid control character in string")
		}
	}
}

// unescape decodes the escapes in data[start:end], which scanString has
// delimited, into the arena.
func (p *parser) unescape(start, end int) (string, error) {
	data := p.data
	// Escapes never expand, so the raw length is enough.
	buf := p.alloc(end - start)[:0]
	for i := start; i < end; {
		c := data[i]
		if c != '\\' {
			j := i + 1
			for j < end && data[j] != '\\' {
				j++
			}
			buf = append(buf, data[i:j]...)
			i = j
			continue
		}
		i++
		switch data[i] {
		case '"', '\\', '/':
			buf = append(buf, data[i])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(data, i+1, end)
			if !ok {
				return "", p.errAt(i-1, "invalid \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if i+2 < end && data[i+1] == '\\' && data[i+2] == 'u' {
					if r2, ok := hex4(data, i+3, end); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							i += 6
							break
						}
					}
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errAt(i-1, "invalid escape sequence in string")
		}
		i++
	}
	if len(buf) == 0 {
		return "", nil
	}
	return unsafe.String(&buf[0], len(buf)), nil
}

// replaceInvalidUTF8 replaces each byte of s that is not part of a valid
// UTF-8 sequence with U+FFFD, as encoding/json does.
func replaceInvalidUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
