package event

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// AppendJSON appends e to dst as one JSON object, with dotted keys rebuilt
// into nested objects and keys in a stable order (@timestamp first).
// Internal fields are left out unless internal is true. It does not append a
// newline.
func AppendJSON(dst []byte, e *Event, internal bool) []byte {
	var idxBuf [32]int
	idx := idxBuf[:0]
	for i := range e.fields {
		if !internal && IsInternal(e.fields[i].Key) {
			continue
		}
		idx = append(idx, i)
	}
	sortFieldIdx(e.fields, idx)

	dst = append(dst, '{')
	first := true
	if !e.Time.IsZero() {
		dst = append(dst, `"@timestamp":"`...)
		dst = AppendTimestamp(dst, e.Time)
		dst = append(dst, '"')
		first = false
	}
	// open holds the path of objects currently open, as a prefix ending in '.'.
	open := ""
	depth := 0
	lastLeaf := ""
	for _, i := range idx {
		f := &e.fields[i]
		key := f.Key
		if key == TimestampField && !e.Time.IsZero() {
			continue
		}
		// Close objects that are not a prefix of key.
		for depth > 0 && !strings.HasPrefix(key, open) {
			dst = append(dst, '}')
			depth--
			open = open[:strings.LastIndexByte(open[:len(open)-1], '.')+1]
		}
		rest := key[len(open):]
		// Open objects for the remaining segments, unless a leaf of the same
		// name was just written (then the rest stays one dotted key).
		for {
			dot := strings.IndexByte(rest, '.')
			if dot <= 0 || dot == len(rest)-1 {
				break
			}
			seg := rest[:dot]
			// open is a prefix of key here, so key[:n] is open+seg and
			// key[:n+1] is open+seg+"." without building either.
			n := len(open) + dot
			if lastLeaf == key[:n] {
				break
			}
			if !first {
				dst = append(dst, ',')
			}
			first = true
			dst = AppendJSONString(dst, seg)
			dst = append(dst, ':', '{')
			open = key[:n+1]
			depth++
			rest = rest[dot+1:]
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(dst, rest)
		dst = append(dst, ':')
		dst = AppendValueJSON(dst, f.Value)
		lastLeaf = key
	}
	for ; depth > 0; depth-- {
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// keyLess orders keys so that every key with prefix "a." follows "a"
// directly: '.' sorts before every other byte.
func keyLess(a, b string) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '.' {
			return true
		}
		if cb == '.' {
			return false
		}
		return ca < cb
	}
	return len(a) < len(b)
}

func sortFieldIdx(fields []Field, idx []int) {
	if len(idx) > 24 {
		slices.SortFunc(idx, func(a, b int) int {
			switch ka, kb := fields[a].Key, fields[b].Key; {
			case ka == kb:
				return 0
			case keyLess(ka, kb):
				return -1
			}
			return 1
		})
		return
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && keyLess(fields[idx[j]].Key, fields[idx[j-1]].Key); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
}

// AppendValueJSON appends v as JSON.
func AppendValueJSON(dst []byte, v Value) []byte {
	if v.v == nil {
		return AppendJSONString(dst, v.s)
	}
	return appendAnyJSON(dst, v.v)
}

func appendAnyJSON(dst []byte, x any) []byte {
	switch t := x.(type) {
	case nil, null:
		return append(dst, "null"...)
	case string:
		return AppendJSONString(dst, t)
	case int64:
		return strconv.AppendInt(dst, t, 10)
	case int:
		return strconv.AppendInt(dst, int64(t), 10)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, t, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(dst, t)
	case time.Time:
		dst = append(dst, '"')
		dst = AppendTimestamp(dst, t)
		return append(dst, '"')
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendAnyJSON(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, k)
			dst = append(dst, ':')
			dst = appendAnyJSON(dst, t[k])
		}
		return append(dst, '}')
	case Value:
		return AppendValueJSON(dst, t)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return AppendJSONString(dst, err.Error())
		}
		return append(dst, b...)
	}
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD so the output is always valid JSON.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain ASCII bytes at a time: most of a log line needs
		// no escaping.
		if i+8 <= len(s) {
			// One unaligned 64-bit load per word (s is read-only here).
			b := unsafe.Slice(unsafe.StringData(s), len(s))
			for i+8 <= len(b) && !needsEscape8(binary.LittleEndian.Uint64(b[i:])) {
				i += 8
			}
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const (
	lsb8 = 0x0101010101010101
	msb8 = 0x8080808080808080
)

// needsEscape8 reports whether any of the eight bytes in w is a control
// character, '"', '\\' or not ASCII (it may report true for a word that
// turns out clean, never false for one that is not).
func needsEscape8(w uint64) bool {
	q := w ^ ('"' * lsb8)
	b := w ^ ('\\' * lsb8)
	return (w|((w-0x20*lsb8)&^w)|((q-lsb8)&^q)|((b-lsb8)&^b))&msb8 != 0
}

// AppendTimestamp appends t in UTC as RFC 3339 with as many fractional
// digits as needed (time.RFC3339Nano's output), without the general
// formatter's cost. Years outside 0000-9999 fall back to AppendFormat.
func AppendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	hour, minute, sec := t.Clock()
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}
