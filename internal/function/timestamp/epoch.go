package timestamp

import (
	"math"
	"time"
)

// unit is the unit of an epoch format: how many of it make a second.
type unit int64

const (
	seconds unit = 1
	millis  unit = 1e3
	micros  unit = 1e6
	nanos   unit = 1e9
)

// parseEpoch parses [-]digits[.digits], a number of u since the Unix epoch,
// exactly (no floating point): fraction digits below a nanosecond are
// dropped.
func parseEpoch(s string, u unit) (time.Time, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	var n int64
	for ; i < len(s) && isDigit(s[i]); i++ {
		d := int64(s[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return time.Time{}, false // beyond int64; far beyond year 9999 anyway
		}
		n = n*10 + d
	}
	if i == 0 {
		return time.Time{}, false
	}
	// nsPerUnit is 10^k; the fraction has k significant digits.
	nsPerUnit := int64(1e9) / int64(u)
	var frac int64
	if i < len(s) {
		if s[i] != '.' || i+1 == len(s) {
			return time.Time{}, false
		}
		scale := nsPerUnit
		for _, c := range []byte(s[i+1:]) {
			if !isDigit(c) {
				return time.Time{}, false
			}
			if scale >= 10 {
				scale /= 10
				frac += int64(c-'0') * scale
			}
		}
	}
	sec, rem := n/int64(u), n%int64(u)
	nsec := rem*nsPerUnit + frac
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec).UTC(), true
}

// epochInt converts an integer number of u since the epoch.
func epochInt(n int64, u unit) time.Time {
	nsPerUnit := int64(1e9) / int64(u)
	return time.Unix(n/int64(u), n%int64(u)*nsPerUnit).UTC()
}

// maxFloatMicros bounds floating-point epochs: beyond 2^53 microseconds
// (year 2255) a float64 cannot hold microseconds exactly, and the year check
// would reject most of that range anyway.
const maxFloatMicros = 1 << 53

// epochFloat converts a floating-point number of u since the epoch,
// rounded to the microsecond (to the nanosecond for nanoseconds, as far as
// a float64 holds them).
func epochFloat(f float64, u unit) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	if u == nanos {
		if math.Abs(f) >= math.MaxInt64 {
			return time.Time{}, false
		}
		return time.Unix(0, int64(math.Round(f))).UTC(), true
	}
	us := math.Round(f * float64(micros/u))
	if math.Abs(us) >= maxFloatMicros {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(us)).UTC(), true
}

// tai64Epoch is the TAI64 label of 1970-01-01 00:00:00 TAI; TAI was 10
// seconds ahead of UTC then, which Logstash (and djb's tai64nlocal)
// subtract.
const tai64Epoch = 1<<62 + 10

// parseTAI64N parses a TAI64N label, 24 hex digits (seconds, then
// nanoseconds) with an optional leading '@', as multilog writes them.
func parseTAI64N(s string) (time.Time, bool) {
	if s != "" && s[0] == '@' {
		s = s[1:]
	}
	if len(s) != 24 {
		return time.Time{}, false
	}
	label, ok1 := hex(s[:16])
	ns, ok2 := hex(s[16:])
	if !ok1 || !ok2 || ns >= 1e9 || label < 1<<62 || label >= 1<<63 {
		return time.Time{}, false
	}
	return time.Unix(int64(label)-tai64Epoch, int64(ns)).UTC(), true
}

func hex(s string) (uint64, bool) {
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(c)
	}
	return n, true
}
