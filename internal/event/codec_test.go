package event

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

// codecEvent has every value kind the codec knows, internal fields and the
// edge cases of each (empty strings, extreme integers, NaN, times outside
// the range of Unix nanoseconds, nested arrays and objects).
func codecEvent() Event {
	e := NewSized(time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), 24)
	e.AppendField(MessageField, String("GET /index.html 200 1234 \"curl/8.0\" ünïcödé \x00\xff"))
	e.AppendField("", String(""))
	e.AppendField("_source", String("syslog"))
	e.AppendField("__route", String("webapp"))
	e.AppendField("status", Int(200))
	e.AppendField("neg", Int(-1))
	e.AppendField("min", Int(math.MinInt64))
	e.AppendField("max", Int(math.MaxInt64))
	e.AppendField("ratio", Float(0.25))
	e.AppendField("negzero", Float(math.Copysign(0, -1)))
	e.AppendField("inf", Float(math.Inf(-1)))
	e.AppendField("ok", Bool(true))
	e.AppendField("bad", Bool(false))
	e.AppendField("nothing", Null)
	e.AppendField("seen", Time(time.Date(2023, 1, 2, 3, 4, 5, 6, time.UTC)))
	e.AppendField("zero_time", Time(time.Time{}))
	e.AppendField("far_future", Time(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)))
	e.AppendField("far_past", Time(time.Date(1200, 1, 1, 0, 0, 0, 1, time.UTC)))
	e.AppendField(TagsField, Value{v: []any{"a", "b"}})
	e.AppendField("empty_array", Value{v: []any{}})
	e.AppendField("mixed", Value{v: []any{
		"s", int64(-7), 1.5, true, false, nil,
		time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC),
		[]any{[]any{int64(1)}, map[string]any{}},
		map[string]any{"z": int64(1), "a": "x", "m": []any{nil}},
	}})
	e.AppendField("obj", Value{v: map[string]any{"k": "v"}})
	return e
}

func TestCodecRoundTrip(t *testing.T) {
	for name, ev := range map[string]Event{
		"all kinds": codecEvent(),
		"empty":     {},
		"epoch":     New(time.Unix(0, 0), ""),
		"message":   New(time.Now(), "hello"),
	} {
		t.Run(name, func(t *testing.T) {
			enc := AppendBinary([]byte("prefix"), &ev)
			if !bytes.HasPrefix(enc, []byte("prefix")) {
				t.Fatal("AppendBinary dropped dst")
			}
			enc = enc[len("prefix"):]
			// Decode from a copy with a trailing event: n must stop at the end.
			buf := append(append([]byte(nil), enc...), enc...)
			got, n, err := DecodeBinary(buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(enc) {
				t.Fatalf("consumed %d bytes, want %d", n, len(enc))
			}
			assertEventsEqual(t, &ev, &got)
			if again := AppendBinary(nil, &got); !bytes.Equal(again, enc) {
				t.Fatalf("re-encoding differs:\n%x\n%x", again, enc)
			}
			got2, n2, err := DecodeBinary(buf[n:])
			if err != nil || n2 != len(enc) {
				t.Fatalf("second event: n=%d err=%v", n2, err)
			}
			assertEventsEqual(t, &ev, &got2)
		})
	}
}

func assertEventsEqual(t *testing.T, want, got *Event) {
	t.Helper()
	if !want.Time.Equal(got.Time) || got.Time.Location() != time.UTC {
		t.Errorf("time %v, want %v (UTC)", got.Time, want.Time)
	}
	if want.Len() != got.Len() {
		t.Fatalf("%d fields, want %d", got.Len(), want.Len())
	}
	for i, wf := range want.Fields() {
		gf := got.Fields()[i]
		if gf.Key != wf.Key {
			t.Errorf("field %d: key %q, want %q", i, gf.Key, wf.Key)
		}
		if !sameValue(wf.Value.Interface(), gf.Value.Interface()) {
			t.Errorf("field %q: %#v, want %#v", wf.Key, gf.Value.Interface(), wf.Value.Interface())
		}
		if wf.Value.IsString() != gf.Value.IsString() || wf.Value.IsNull() != gf.Value.IsNull() {
			t.Errorf("field %q: kind changed", wf.Key)
		}
	}
}

// sameValue compares decoded values: times as instants, floats by bits.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !sameValue(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestCodecNaN(t *testing.T) {
	ev := Event{}
	nan := math.Float64frombits(0x7ff8_0000_dead_beef)
	ev.AppendField("nan", Float(nan))
	got, _, err := DecodeBinary(AppendBinary(nil, &ev))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := got.Lookup("nan")
	if f := v.Interface().(float64); math.Float64bits(f) != math.Float64bits(nan) {
		t.Fatalf("NaN payload lost: %x", math.Float64bits(f))
	}
}

// Values of Go types outside the codec's kinds (which Any keeps as they are)
// are normalized: integers to int64, []string to []any, structs through JSON.
func TestCodecNormalizesForeignTypes(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	ev := Event{}
	ev.AppendField("arr", Value{v: []any{int(3), uint8(4), float32(0.5), []string{"a"}, []byte("b"), point{X: 1}, Value{s: "v"}}})
	ev.AppendField("struct", Value{v: point{X: 2}})
	ev.AppendField("func", Value{v: func() {}})
	got, _, err := DecodeBinary(AppendBinary(nil, &ev))
	if err != nil {
		t.Fatal(err)
	}
	arr, _ := got.Get("arr")
	want := []any{int64(3), int64(4), 0.5, []any{"a"}, "b", map[string]any{"x": int64(1)}, "v"}
	if !reflect.DeepEqual(arr, want) {
		t.Errorf("arr = %#v, want %#v", arr, want)
	}
	if s, _ := got.Get("struct"); !reflect.DeepEqual(s, map[string]any{"x": int64(2)}) {
		t.Errorf("struct = %#v", s)
	}
	if f, _ := got.Get("func"); f == nil {
		t.Errorf("func value lost")
	}
}

func TestCodecDepthLimit(t *testing.T) {
	var deep any = "leaf"
	for range maxCodecDepth + 5 {
		deep = []any{deep}
	}
	ev := Event{}
	ev.AppendField("deep", Value{v: deep})
	enc := AppendBinary(nil, &ev)
	got, _, err := DecodeBinary(enc)
	if err != nil {
		t.Fatalf("encoder output must decode: %v", err)
	}
	v, _ := got.Get("deep")
	depth := 0
	for {
		a, ok := v.([]any)
		if !ok {
			break
		}
		depth++
		v = a[0]
	}
	if depth != maxCodecDepth || v != nil {
		t.Fatalf("depth %d ending in %#v, want %d ending in null", depth, v, maxCodecDepth)
	}
}

func TestDecodeBinaryRejects(t *testing.T) {
	ev := codecEvent()
	enc := AppendBinary(nil, &ev)
	for i := range len(enc) {
		if _, _, err := DecodeBinary(enc[:i]); !errors.Is(err, ErrBadEncoding) {
			t.Fatalf("prefix of %d/%d bytes: err %v", i, len(enc), err)
		}
	}
	for name, in := range map[string][]byte{
		"non-minimal varint": {0x80, 0x00, 0, 0},
		"nanos out of range": {0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0},
		"unknown kind":       {0, 0, 1, 1, 'k', 42},
		"huge field count":   {0, 0, 0xff, 0xff, 0xff, 0x0f},
		"huge string":        {0, 0, 1, 1, 'k', kindString, 0xff, 0x7f},
		"unsorted object":    {0, 0, 1, 1, 'k', kindObject, 2, 1, 'b', kindNull, 1, 'a', kindNull},
		"duplicate key":      {0, 0, 1, 1, 'k', kindObject, 2, 1, 'a', kindNull, 1, 'a', kindNull},
	} {
		if _, _, err := DecodeBinary(in); !errors.Is(err, ErrBadEncoding) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// FuzzDecodeBinary checks that no input makes DecodeBinary panic and that
// whatever it accepts re-encodes to exactly the bytes it consumed (the
// encoding is canonical).
func FuzzDecodeBinary(f *testing.F) {
	for _, ev := range []Event{codecEvent(), {}, New(time.Unix(1, 2), "m")} {
		f.Add(AppendBinary(nil, &ev))
	}
	f.Add([]byte{0, 0, 1, 1, 'k', kindObject, 1, 1, 'a', kindArray, 1, kindTime, 3, 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, n, err := DecodeBinary(data)
		if err != nil {
			if !errors.Is(err, ErrBadEncoding) {
				t.Fatalf("error does not wrap ErrBadEncoding: %v", err)
			}
			return
		}
		if n <= 0 || n > len(data) {
			t.Fatalf("consumed %d of %d bytes", n, len(data))
		}
		if out := AppendBinary(nil, &ev); !bytes.Equal(out, data[:n]) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", data[:n], out)
		}
	})
}

// benchEvent is a typical ~200-byte log event.
func benchEvent() Event {
	e := NewSized(time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), 8)
	e.AppendField(MessageField, String(`10.0.0.12 - - "GET /api/v1/orders?page=3 HTTP/1.1" 200 5123 "-" "Mozilla/5.0 (X11; Linux x86_64)"`))
	e.AppendField("host.name", String("web-7f9c6d"))
	e.AppendField("log.level", String("info"))
	e.AppendField("kubernetes.namespace", String("shop"))
	e.AppendField("http.response.status_code", Int(200))
	e.AppendField("_source", String("http"))
	return e
}

func BenchmarkAppendBinary(b *testing.B) {
	ev := benchEvent()
	buf := AppendBinary(nil, &ev)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBinary(buf[:0], &ev)
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	ev := benchEvent()
	buf := AppendBinary(nil, &ev)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeBinary(buf); err != nil {
			b.Fatal(err)
		}
	}
}
