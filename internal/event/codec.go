package event

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"
	"unsafe"
)

// Binary encoding of an Event, used by the disk queue (and anything else
// that must store events and read them back exactly). It is compact, has no
// schema, and decodes with one allocation per event plus one per boxed
// non-string value:
//
//	event  = time uvarint(nfields) field*
//	time   = varint(unix seconds) uvarint(nanoseconds, < 1e9)
//	field  = uvarint(len) key kind payload
//	value  = kind payload            (inside arrays and objects)
//
//	kind     payload
//	1 string uvarint(len) bytes
//	2 int    varint (zigzag) of the int64
//	3 float  8 bytes, IEEE 754 bits little endian (NaN payloads kept)
//	4 false  -
//	5 true   -
//	6 null   -
//	7 time   time (as above)
//	8 array  uvarint(n) value*n
//	9 object uvarint(n) (uvarint(len) key value)*n, keys strictly ascending
//
// Times are stored as seconds and nanoseconds rather than as Unix nanoseconds
// in one varint: that covers every time.Time (the zero time and years after
// 2262 included, which a parsed log line can hold) at the same size; the
// location is not kept (times decode as UTC, the same instant).
//
// Arrays and objects (the []any and map[string]any kept inside values) are
// stored with the same kinds, recursively, instead of as JSON text: integers
// stay int64, floats stay float64 and times stay time.Time through a round
// trip, and nothing is parsed on the way back. Values of other Go types
// (which Any keeps as they are) are first normalized by Any, then, if still
// unknown, through their JSON form; nesting deeper than maxCodecDepth is
// stored as null.
//
// The encoding is canonical: DecodeBinary accepts only what AppendBinary
// produces (minimal varints, sorted unique object keys, known kinds), so a
// successful decode re-encodes to the same bytes.
const (
	kindString byte = 1 + iota
	kindInt
	kindFloat
	kindFalse
	kindTrue
	kindNull
	kindTime
	kindArray
	kindObject
)

// maxCodecDepth bounds the nesting of arrays and objects, on encode (deeper
// values become null) and on decode (deeper input is an error), so hostile
// input cannot exhaust the stack.
const maxCodecDepth = 64

// ErrBadEncoding is wrapped by the errors DecodeBinary returns for input
// that is not a valid encoding.
var ErrBadEncoding = errors.New("bad binary event encoding")

// AppendBinary appends the binary encoding of e to dst and returns the
// extended slice. Every field is kept, internal ("_") ones included.
func AppendBinary(dst []byte, e *Event) []byte {
	dst = appendTime(dst, e.Time)
	dst = binary.AppendUvarint(dst, uint64(len(e.fields)))
	for i := range e.fields {
		f := &e.fields[i]
		dst = binary.AppendUvarint(dst, uint64(len(f.Key)))
		dst = append(dst, f.Key...)
		dst = appendValue(dst, f.Value, 0)
	}
	return dst
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func appendValue(dst []byte, v Value, depth int) []byte {
	if v.v == nil {
		dst = append(dst, kindString)
		dst = binary.AppendUvarint(dst, uint64(len(v.s)))
		return append(dst, v.s...)
	}
	return appendAny(dst, v.v, depth)
}

func appendAny(dst []byte, x any, depth int) []byte {
	switch t := x.(type) {
	case string:
		dst = append(dst, kindString)
		dst = binary.AppendUvarint(dst, uint64(len(t)))
		return append(dst, t...)
	case int64:
		return binary.AppendVarint(append(dst, kindInt), t)
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, kindFloat), math.Float64bits(t))
	case bool:
		if t {
			return append(dst, kindTrue)
		}
		return append(dst, kindFalse)
	case nil, null:
		return append(dst, kindNull)
	case time.Time:
		return appendTime(append(dst, kindTime), t)
	case Value:
		return appendValue(dst, t, depth)
	case []any:
		if depth >= maxCodecDepth {
			return append(dst, kindNull)
		}
		dst = append(dst, kindArray)
		dst = binary.AppendUvarint(dst, uint64(len(t)))
		for _, e := range t {
			dst = appendAny(dst, e, depth+1)
		}
		return dst
	case map[string]any:
		if depth >= maxCodecDepth {
			return append(dst, kindNull)
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, kindObject)
		dst = binary.AppendUvarint(dst, uint64(len(keys)))
		for _, k := range keys {
			dst = binary.AppendUvarint(dst, uint64(len(k)))
			dst = append(dst, k...)
			dst = appendAny(dst, t[k], depth+1)
		}
		return dst
	}
	// A Go type Any kept as it is: normalize the numeric kinds, then fall
	// back to the value's JSON form (a struct becomes an object, and so on).
	// (Any returning x's own type means it left x as it was: converting it
	// again would loop.)
	if v := Any(x); v.v == nil || reflect.TypeOf(v.v) != reflect.TypeOf(x) {
		return appendValue(dst, v, depth)
	}
	return appendAny(dst, jsonNormalize(x), depth)
}

// jsonNormalize turns a value of an arbitrary Go type into the plain values
// the codec knows, through its JSON form. Values that cannot be marshaled
// become their Text form.
func jsonNormalize(x any) any {
	b, err := json.Marshal(x)
	if err == nil {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var out any
		if d.Decode(&out) == nil {
			return jsonNumbers(out)
		}
	}
	return fmt.Sprint(x)
}

func jsonNumbers(x any) any {
	switch t := x.(type) {
	case json.Number:
		return Any(t).Interface()
	case []any:
		for i := range t {
			t[i] = jsonNumbers(t[i])
		}
	case map[string]any:
		for k, v := range t {
			t[k] = jsonNumbers(v)
		}
	}
	return x
}

// DecodeBinary decodes one event from the start of data and returns it with
// the number of bytes it used.
//
// Memory contract: the strings of the returned event (keys and string values,
// in arrays and objects too) point into data, without copying. The caller
// must not modify data afterwards, for as long as the event or any value
// taken from it lives; in practice, decode from a buffer allocated for the
// purpose and let the garbage collector free it with the events. Copy data
// first when that does not fit.
func DecodeBinary(data []byte) (Event, int, error) {
	d := decoder{data: data}
	var e Event
	var err error
	if e.Time, err = d.time(); err != nil {
		return Event{}, 0, err
	}
	n, err := d.uvarint()
	if err != nil {
		return Event{}, 0, err
	}
	// Every field takes at least 2 bytes (key length and kind): bound n by
	// what is left before allocating.
	if n > uint64(len(d.data)-d.off)/2 {
		return Event{}, 0, d.fail("field count %d exceeds input", n)
	}
	if n > 0 {
		e.fields = make([]Field, n)
	}
	for i := range e.fields {
		f := &e.fields[i]
		if f.Key, err = d.str(); err != nil {
			return Event{}, 0, err
		}
		if f.Value, err = d.value(0); err != nil {
			return Event{}, 0, err
		}
	}
	return e, d.off, nil
}

type decoder struct {
	data []byte
	off  int
}

func (d *decoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrBadEncoding, d.off, fmt.Sprintf(format, args...))
}

func (d *decoder) uvarint() (uint64, error) {
	u, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 {
		return 0, d.fail("bad varint")
	}
	// Only the shortest form is canonical: a last byte of 0 is padding.
	if n > 1 && d.data[d.off+n-1] == 0 {
		return 0, d.fail("non-minimal varint")
	}
	d.off += n
	return u, nil
}

func (d *decoder) varint() (int64, error) {
	u, err := d.uvarint()
	// Zigzag, as binary.AppendVarint writes it.
	return int64(u>>1) ^ -int64(u&1), err
}

func (d *decoder) time() (time.Time, error) {
	sec, err := d.varint()
	if err != nil {
		return time.Time{}, err
	}
	nsec, err := d.uvarint()
	if err != nil {
		return time.Time{}, err
	}
	if nsec >= 1e9 {
		return time.Time{}, d.fail("nanoseconds %d out of range", nsec)
	}
	return time.Unix(sec, int64(nsec)).UTC(), nil
}

func (d *decoder) str() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.data)-d.off) {
		return "", d.fail("string length %d exceeds input", n)
	}
	if n == 0 {
		return "", nil
	}
	s := unsafe.String(&d.data[d.off], int(n))
	d.off += int(n)
	return s, nil
}

func (d *decoder) value(depth int) (Value, error) {
	if d.off >= len(d.data) {
		return Value{}, d.fail("missing value")
	}
	if d.data[d.off] == kindString {
		d.off++
		s, err := d.str()
		return Value{s: s}, err
	}
	x, err := d.any(depth)
	if err != nil {
		return Value{}, err
	}
	if x == nil {
		return Null, nil
	}
	return Value{v: x}, nil
}

// any decodes a value as a plain Go value (nil for null), as arrays and
// objects hold them.
func (d *decoder) any(depth int) (any, error) {
	if d.off >= len(d.data) {
		return nil, d.fail("missing value")
	}
	kind := d.data[d.off]
	d.off++
	switch kind {
	case kindString:
		return d.str()
	case kindInt:
		return d.varint()
	case kindFloat:
		if len(d.data)-d.off < 8 {
			return nil, d.fail("short float")
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.data[d.off:]))
		d.off += 8
		return f, nil
	case kindFalse:
		return false, nil
	case kindTrue:
		return true, nil
	case kindNull:
		return nil, nil
	case kindTime:
		return d.time()
	case kindArray:
		if depth >= maxCodecDepth {
			return nil, d.fail("nesting deeper than %d", maxCodecDepth)
		}
		n, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.data)-d.off) {
			return nil, d.fail("array length %d exceeds input", n)
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = d.any(depth + 1); err != nil {
				return nil, err
			}
		}
		return a, nil
	case kindObject:
		if depth >= maxCodecDepth {
			return nil, d.fail("nesting deeper than %d", maxCodecDepth)
		}
		n, err := d.uvarint()
		if err != nil {
			return nil, err
		}
		if n > uint64(len(d.data)-d.off)/2 {
			return nil, d.fail("object size %d exceeds input", n)
		}
		m := make(map[string]any, n)
		prev := ""
		for i := range n {
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if i > 0 && k <= prev {
				return nil, d.fail("object keys not strictly ascending")
			}
			prev = k
			if m[k], err = d.any(depth + 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	return nil, d.fail("unknown kind %d", kind)
}
