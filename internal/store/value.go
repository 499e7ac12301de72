package store

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/sluicehq/sluice/internal/event"
)

// Value kinds, numbered as in the event package's binary codec, so that a
// value's canonical encoding (kind byte, payload) is exactly the bytes
// event.AppendBinary writes for it.
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

// canonPrefix is what event.AppendBinary writes before the first field's
// value for an event at Unix time 0 with one field named "": time (two
// zero varints), one field, a key of length 0.
var canonPrefix = []byte{0, 0, 1, 0}

// appendCanon appends the canonical encoding of v: a kind byte and the
// payload, as event.AppendBinary encodes a value. Scalars take a fast path;
// arrays, objects and other Go values go through the event codec, which
// normalizes them.
func appendCanon(dst []byte, v event.Value) []byte {
	if s, ok := v.Str(); ok {
		dst = append(dst, kindString)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		return append(dst, s...)
	}
	switch x := v.Interface().(type) {
	case int64:
		return binary.AppendVarint(append(dst, kindInt), x)
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, kindFloat), math.Float64bits(x))
	case bool:
		if x {
			return append(dst, kindTrue)
		}
		return append(dst, kindFalse)
	case nil:
		return append(dst, kindNull)
	case time.Time:
		return appendTime(append(dst, kindTime), x)
	}
	ev := event.NewSized(time.Unix(0, 0), 1)
	ev.AppendField("", v)
	b := event.AppendBinary(nil, &ev)
	return append(dst, b[len(canonPrefix):]...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// valueKind returns the kind of v (kindArray for arrays, objects and any
// other composite value).
func valueKind(v event.Value) byte {
	if v.IsString() {
		return kindString
	}
	switch x := v.Interface().(type) {
	case int64:
		return kindInt
	case float64:
		return kindFloat
	case bool:
		if x {
			return kindTrue
		}
		return kindFalse
	case nil:
		return kindNull
	case time.Time:
		return kindTime
	}
	return kindArray
}

// decodeCanon decodes one canonically encoded value that fills b exactly.
// Strings point into b; so do the strings inside arrays and objects.
func decodeCanon(b []byte) (event.Value, error) {
	if len(b) == 0 {
		return event.Value{}, fmt.Errorf("empty value")
	}
	p := b[1:]
	switch b[0] {
	case kindString:
		n, k := binary.Uvarint(p)
		if k <= 0 || n != uint64(len(p)-k) {
			return event.Value{}, fmt.Errorf("bad string value")
		}
		return event.String(bytesString(p[k:])), nil
	case kindInt:
		x, k := binary.Varint(p)
		if k <= 0 || k != len(p) {
			return event.Value{}, fmt.Errorf("bad int value")
		}
		return event.Int(x), nil
	case kindFloat:
		if len(p) != 8 {
			return event.Value{}, fmt.Errorf("bad float value")
		}
		return event.Float(math.Float64frombits(binary.LittleEndian.Uint64(p))), nil
	case kindFalse, kindTrue:
		if len(p) != 0 {
			return event.Value{}, fmt.Errorf("bad bool value")
		}
		return event.Bool(b[0] == kindTrue), nil
	case kindNull:
		if len(p) != 0 {
			return event.Value{}, fmt.Errorf("bad null value")
		}
		return event.Null, nil
	case kindTime:
		t, k, err := decodeTime(p)
		if err != nil || k != len(p) {
			return event.Value{}, fmt.Errorf("bad time value")
		}
		return event.Time(t), nil
	case kindArray, kindObject:
		buf := make([]byte, 0, len(canonPrefix)+len(b))
		buf = append(append(buf, canonPrefix...), b...)
		ev, n, err := event.DecodeBinary(buf)
		if err != nil {
			return event.Value{}, err
		}
		if n != len(buf) || ev.Len() != 1 {
			return event.Value{}, fmt.Errorf("bad composite value")
		}
		return ev.Fields()[0].Value, nil
	}
	return event.Value{}, fmt.Errorf("unknown value kind %d", b[0])
}

func decodeTime(p []byte) (time.Time, int, error) {
	sec, k1 := binary.Varint(p)
	if k1 <= 0 {
		return time.Time{}, 0, fmt.Errorf("bad time")
	}
	nsec, k2 := binary.Uvarint(p[k1:])
	if k2 <= 0 || nsec >= 1e9 {
		return time.Time{}, 0, fmt.Errorf("bad time")
	}
	return time.Unix(sec, int64(nsec)).UTC(), k1 + k2, nil
}

// eventHash identifies an event's content (not its time): the sum, over its
// fields, of xxhash64(key, 0, canonical value). A sum does not depend on
// the order of the fields, which columns do not keep. Events must not have
// duplicate keys (Write removes them).
func eventHash(ev *event.Event, scratch []byte) (uint64, []byte) {
	var sum uint64
	for _, f := range ev.Fields() {
		scratch = append(scratch[:0], f.Key...)
		scratch = append(scratch, 0)
		scratch = appendCanon(scratch, f.Value)
		sum += xxhash.Sum64(scratch)
	}
	return sum, scratch
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func unsafeBytes(s string) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// cloneEvent returns a copy of ev that shares no memory with buffers the
// store reuses: strings are copied (composite values are decoded into their
// own memory already).
func cloneEvent(ev *event.Event) event.Event {
	c := event.NewSized(ev.Time, ev.Len())
	var size int
	for _, f := range ev.Fields() {
		if s, ok := f.Value.Str(); ok {
			size += len(s)
		}
	}
	// One allocation for all the strings of the event.
	buf := make([]byte, 0, size)
	for _, f := range ev.Fields() {
		if s, ok := f.Value.Str(); ok {
			off := len(buf)
			buf = append(buf, s...)
			c.AppendField(f.Key, event.String(bytesString(buf[off:len(buf):len(buf)])))
			continue
		}
		c.AppendField(f.Key, f.Value)
	}
	return c
}
