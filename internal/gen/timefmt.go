package gen

import (
	"strconv"
	"time"
)

// Timestamps are formatted by hand: time.AppendFormat parses its layout on
// every call, which would be a third of a line's cost. All times are UTC.

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10%10), byte('0'+v%10))
}

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendFrac appends the first digits digits of ns (nanoseconds).
func appendFrac(dst []byte, ns, digits int) []byte {
	var b [9]byte
	for i := 8; i >= 0; i-- {
		b[i] = byte('0' + ns%10)
		ns /= 10
	}
	return append(dst, b[:digits]...)
}

// appendRFC3339 appends t as 2006-01-02T15:04:05.000Z with digits fractional
// digits (0 for none).
func appendRFC3339(dst []byte, t time.Time, digits int) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, int(mo))
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = appendClock(dst, h, mi, s)
	if digits > 0 {
		dst = append(dst, '.')
		dst = appendFrac(dst, t.Nanosecond(), digits)
	}
	return append(dst, 'Z')
}

func appendClock(dst []byte, h, mi, s int) []byte {
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	return append2(dst, s)
}

// appendBSDTime appends t as RFC 3164's "Jan  2 15:04:05".
func appendBSDTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	_, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append(dst, monthNames[mo-1]...)
	dst = append(dst, ' ')
	if d < 10 {
		dst = append(dst, ' ', byte('0'+d))
	} else {
		dst = append2(dst, d)
	}
	dst = append(dst, ' ')
	return appendClock(dst, h, mi, s)
}

// appendCLFTime appends t as Apache's "02/Jan/2006:15:04:05 +0000".
func appendCLFTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append2(dst, d)
	dst = append(dst, '/')
	dst = append(dst, monthNames[mo-1]...)
	dst = append(dst, '/')
	dst = append4(dst, y)
	dst = append(dst, ':')
	dst = appendClock(dst, h, mi, s)
	return append(dst, " +0000"...)
}

// appendKlogTime appends klog's "0102 15:04:05.000000" (after the level
// letter).
func appendKlogTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	_, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append2(dst, int(mo))
	dst = append2(dst, d)
	dst = append(dst, ' ')
	dst = appendClock(dst, h, mi, s)
	dst = append(dst, '.')
	return appendFrac(dst, t.Nanosecond(), 6)
}

func appendUint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

func appendInt(dst []byte, v int) []byte { return strconv.AppendInt(dst, int64(v), 10) }

const hexDigits = "0123456789abcdef"

// appendHex appends n random lowercase hex digits.
func appendHex(dst []byte, r *rng, n int) []byte {
	for n > 0 {
		x := r.next()
		for i := 0; i < 16 && n > 0; i, n = i+1, n-1 {
			dst = append(dst, hexDigits[x&0xf])
			x >>= 4
		}
	}
	return dst
}
