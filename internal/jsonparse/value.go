package jsonparse

import (
	"strconv"
	"unsafe"
)

// parseValue parses any value but a string or object at field level: an
// array, number or literal, as a plain Go value.
func (p *parser) parseValue(i, depth int) (any, int, error) {
	data := p.data
	switch c := data[i]; {
	case c == '"':
		s, j, err := p.parseString(i)
		return s, j, err
	case c == '{':
		if depth >= MaxDepth {
			return nil, i, p.errAt(i, "nesting deeper than "+strconv.Itoa(MaxDepth))
		}
		return p.parseMap(i, depth+1)
	case c == '[':
		if depth >= MaxDepth {
			return nil, i, p.errAt(i, "nesting deeper than "+strconv.Itoa(MaxDepth))
		}
		return p.parseArray(i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		n, f, isInt, j, err := p.parseNumber(i)
		if err != nil {
			return nil, j, err
		}
		if isInt {
			return n, j, nil
		}
		return f, j, nil
	case c == 't':
		if hasLiteral(data, i, "true") {
			return true, i + 4, nil
		}
	case c == 'f':
		if hasLiteral(data, i, "false") {
			return false, i + 5, nil
		}
	case c == 'n':
		if hasLiteral(data, i, "null") {
			return nil, i + 4, nil
		}
	default:
		return nil, i, p.errAt(i, "invalid character "+quoteByte(c)+" at start of value")
	}
	return nil, i, p.errAt(i, "invalid literal (expected true, false or null)")
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

// parseArray parses the array at data[i] == '['; depth counts the array.
func (p *parser) parseArray(i, depth int) (any, int, error) {
	data := p.data
	arr := []any{}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return arr, i + 1, nil
	}
	for {
		if i >= len(data) {
			return nil, i, p.errAt(i, "expected array element")
		}
		v, j, err := p.parseValue(i, depth)
		if err != nil {
			return nil, j, err
		}
		arr = append(arr, v)
		i = skipWS(data, j)
		if i >= len(data) {
			return nil, i, p.errAt(i, "expected ',' or ']' after array element")
		}
		if data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if data[i] == ']' {
			return arr, i + 1, nil
		}
		return nil, i, p.errAt(i, "expected ',' or ']' after array element")
	}
}

// parseMap parses an object inside an array into a map; depth counts the
// object. Duplicate keys: the last wins.
func (p *parser) parseMap(i, depth int) (any, int, error) {
	data := p.data
	m := map[string]any{}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return m, i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, i, p.errAt(i, "expected '\"' at start of object key")
		}
		key, j, err := p.parseKey(i)
		if err != nil {
			return nil, j, err
		}
		i = skipWS(data, j)
		if i >= len(data) || data[i] != ':' {
			return nil, i, p.errAt(i, "expected ':' after object key")
		}
		i = skipWS(data, i+1)
		if i >= len(data) {
			return nil, i, p.errAt(i, "expected value after ':'")
		}
		v, j, err := p.parseValue(i, depth)
		if err != nil {
			return nil, j, err
		}
		m[key] = v
		i = skipWS(data, j)
		if i >= len(data) {
			return nil, i, p.errAt(i, "expected ',' or '}' after object member")
		}
		if data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if data[i] == '}' {
			return m, i + 1, nil
		}
		return nil, i, p.errAt(i, "expected ',' or '}' after object member")
	}
}

// parseNumber parses the number at data[i]. Integers without fraction or
// exponent that fit in int64 are returned in n with isInt set, everything
// else in f.
func (p *parser) parseNumber(i int) (n int64, f float64, isInt bool, end int, err error) {
	data := p.data
	start := i
	neg := false
	if data[i] == '-' {
		neg = true
		i++
	}
	if i >= len(data) {
		return 0, 0, false, i, p.errAt(i, "invalid number: expected digit")
	}
	var u uint64
	digits := 0
	switch c := data[i]; {
	case c == '0':
		i++
		digits = 1
	case c >= '1' && c <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			u = u*10 + uint64(data[i]-'0')
			i++
			digits++
		}
	default:
		return 0, 0, false, i, p.errAt(i, "invalid number: expected digit")
	}
	isInt = true
	if i < len(data) && data[i] == '.' {
		isInt = false
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return 0, 0, false, i, p.errAt(i, "invalid number: expected digit after '.'")
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		isInt = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return 0, 0, false, i, p.errAt(i, "invalid number: expected digit in exponent")
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	lit := unsafe.String(&data[start], i-start)
	if isInt {
		if digits <= 18 {
			// At most 18 digits cannot overflow int64.
			n = int64(u)
			if neg {
				n = -n
			}
			return n, 0, true, i, nil
		}
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, 0, true, i, nil
		}
	}
	f, err = strconv.ParseFloat(lit, 64)
	if err != nil {
		return 0, 0, false, start, p.errAt(start, "number "+lit+" out of range")
	}
	return 0, f, false, i, nil
}
