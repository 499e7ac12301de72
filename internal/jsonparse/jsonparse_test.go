package jsonparse

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/event"
)

// fields returns ev's fields as key → plain Go value, for comparisons.
func fields(ev *event.Event) map[string]any {
	m := map[string]any{}
	for _, f := range ev.Fields() {
		m[f.Key] = f.Value.Interface()
	}
	return m
}

func TestParseObject(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.UTC)
	tests := []struct {
		name string
		in   string
		want map[string]any
		time time.Time
	}{
		{"empty", `{}`, map[string]any{}, time.Time{}},
		{"whitespace", " \t\r\n{ \"a\" : \"b\" }\n ", map[string]any{"a": "b"}, time.Time{}},
		{"kinds", `{"s":"x","i":42,"n":-7,"f":1.5,"e":1e3,"z":-0,"t":true,"fa":false,"nu":null}`,
			map[string]any{"s": "x", "i": int64(42), "n": int64(-7), "f": 1.5, "e": 1000.0, "z": int64(0), "t": true, "fa": false, "nu": nil}, time.Time{}},
		{"int64 edges", `{"max":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808}`,
			map[string]any{"max": int64(math.MaxInt64), "min": int64(math.MinInt64), "over": 9223372036854775808.0}, time.Time{}},
		{"nested", `{"kubernetes":{"pod":{"name":"x","uid":"u"},"namespace":"ns"},"msg":"m"}`,
			map[string]any{"kubernetes.pod.name": "x", "kubernetes.pod.uid": "u", "kubernetes.namespace": "ns", "msg": "m"}, time.Time{}},
		{"empty object", `{"a":{},"b":{"c":{}}}`,
			map[string]any{"a": map[string]any{}, "b.c": map[string]any{}}, time.Time{}},
		{"arrays", `{"tags":["a",1,2.5,true,null,{"k":"v","k":"w"},[]],"e":[]}`,
			map[string]any{"tags": []any{"a", int64(1), 2.5, true, nil, map[string]any{"k": "w"}, []any{}}, "e": []any{}}, time.Time{}},
		{"escapes", `{"a":"q\"b\\s\/n\nr\rt\tb\bf\f","u":"\u00e9\u20ac\ud83d\ude00","lone":"\ud800x","lone2":"\udc00\u0041","k\u0065y":1}`,
			map[string]any{"a": "q\"b\\s/n\nr\rt\tb\bf\f", "u": "é€😀", "lone": "\uFFFDx", "lone2": "\uFFFDA", "key": int64(1)}, time.Time{}},
		{"timestamp", `{"@timestamp":"2024-05-06T07:08:09.123Z","message":"hi"}`,
			map[string]any{"message": "hi"}, ts},
		{"timestamp not rfc3339", `{"@timestamp":"yesterday"}`,
			map[string]any{"@timestamp": "yesterday"}, time.Time{}},
		{"timestamp number", `{"@timestamp":1700000000}`,
			map[string]any{"@timestamp": int64(1700000000)}, time.Time{}},
		{"nested timestamp is a field", `{"a":{"@timestamp":"2024-05-06T07:08:09.123Z"}}`,
			map[string]any{"a.@timestamp": "2024-05-06T07:08:09.123Z"}, time.Time{}},
		{"duplicate scalar", `{"a":1,"b":2,"a":3}`, map[string]any{"a": int64(3), "b": int64(2)}, time.Time{}},
		{"duplicate object replaces", `{"a":{"b":1,"c":{"d":2}},"x":0,"a":{"e":3}}`,
			map[string]any{"a.e": int64(3), "x": int64(0)}, time.Time{}},
		{"duplicate object by scalar", `{"a":{"b":1},"a":2}`, map[string]any{"a": int64(2)}, time.Time{}},
		{"duplicate nested", `{"k":{"a":1,"a":{"b":2}}}`, map[string]any{"k.a.b": int64(2)}, time.Time{}},
		{"duplicate timestamp", `{"@timestamp":"2024-05-06T07:08:09.123Z","@timestamp":"later"}`,
			map[string]any{"@timestamp": "later"}, time.Time{}},
		{"dotted collision last wins", `{"a.b":1,"a":{"b":2}}`, map[string]any{"a.b": int64(2)}, time.Time{}},
		{"dotted no collision", `{"a.b":1,"a":2}`, map[string]any{"a.b": int64(1), "a": int64(2)}, time.Time{}},
		{"dotted with duplicate", `{"a.b":1,"a":{"c":2},"a":{"d":3}}`, map[string]any{"a.b": int64(1), "a.d": int64(3)}, time.Time{}},
		{"invalid utf8 value kept", "{\"a\":\"x\xffy\"}", map[string]any{"a": "x\xffy"}, time.Time{}},
		{"invalid utf8 key replaced", "{\"k\xff\":1}", map[string]any{"k\uFFFD": int64(1)}, time.Time{}},
		{"long string", `{"m":"` + strings.Repeat("abcdefgh", 20) + `\n"}`, map[string]any{"m": strings.Repeat("abcdefgh", 20) + "\n"}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event.Event
			if err := ParseObject(&ev, []byte(tt.in)); err != nil {
				t.Fatalf("ParseObject: %v", err)
			}
			if got := fields(&ev); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields:\n got %#v\nwant %#v", got, tt.want)
			}
			if !ev.Time.Equal(tt.time) {
				t.Errorf("time: got %v, want %v", ev.Time, tt.time)
			}
			if n := len(ev.Fields()); n != len(tt.want) {
				t.Errorf("got %d fields, want %d (duplicates?)", n, len(tt.want))
			}
		})
	}
}

func TestParseObjectKeepsTimeWithoutTimestamp(t *testing.T) {
	now := time.Unix(1700000000, 0)
	ev := event.Event{Time: now}
	if err := ParseObject(&ev, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if !ev.Time.Equal(now) {
		t.Errorf("time changed to %v", ev.Time)
	}
}

func TestParseObjectMergesIntoExistingFields(t *testing.T) {
	ev := event.New(time.Unix(1, 0), "raw line")
	ev.SetString("kubernetes.pod.name", "old")
	ev.SetString("kubernetes.node", "n1")
	ev.SetString("keep", "k")
	err := ParseObject(&ev, []byte(`{"message":"new","kubernetes":{"pod":{"uid":"u"}},"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"message": "new", "kubernetes.pod.uid": "u", "keep": "k", "x": int64(1)}
	if got := fields(&ev); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestParseObjectErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{``, 0, "unexpected end of input: expected '{' at start of JSON object"},
		{`[1]`, 0, "expected '{' at start of JSON object"},
		{`null`, 0, "expected '{' at start of JSON object"},
		{`{"a" 1}`, 5, "expected ':' after object key"},
		{`{"kubernetes":{"pod" "x"}}`, 21, "expected ':' after object key"},
		{`{"a":1,}`, 7, "expected '\"' at start of object key"},
		{`{"a":1 "b":2}`, 7, "expected ',' or '}' after object member"},
		{`{"a":1}x`, 7, "unexpected data after the JSON object"},
		{`{"a":1}{}`, 7, "unexpected data after the JSON object"},
		{`{"a":tru}`, 5, "invalid literal (expected true, false or null)"},
		{`{"a":01}`, 6, "expected ',' or '}' after object member"},
		{`{"a":-}`, 6, "invalid number: expected digit"},
		{`{"a":1.}`, 7, "invalid number: expected digit after '.'"},
		{`{"a":1e}`, 7, "invalid number: expected digit in exponent"},
		{`{"a":1e400}`, 5, "number 1e400 out of range"},
		{`{"a":"x`, 7, "unexpected end of input: unterminated string"},
		{"{\"a\":\"x\ty\"}", 7, "invalid control character in string"},
		{`{"a":"\x"}`, 6, "invalid escape sequence in string"},
		{`{"a":"\u12"}`, 6, "invalid \\u escape in string"},
		{`{"a":[1,2}`, 9, "expected ',' or ']' after array element"},
		{`{"a":{"b":1}`, 12, "unexpected end of input: expected ',' or '}' after object member"},
		{`{"a":+1}`, 5, "invalid character '+' at start of value"},
		{`{"a":` + strings.Repeat(`{"a":`, 64) + `1` + strings.Repeat(`}`, 65), 5 * 64, "nesting deeper than 64"},
		{`{"a":` + strings.Repeat(`[`, 64) + strings.Repeat(`]`, 64) + `}`, 5 + 63, "nesting deeper than 64"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ev := event.New(time.Unix(5, 0), "orig")
			err := ParseObject(&ev, []byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *SyntaxError", err)
			}
			want := fmt.Sprintf("cannot parse JSON at offset %d: %s", tt.offset, tt.msg)
			if err.Error() != want {
				t.Errorf("got  %q\nwant %q", err, want)
			}
			if ev.Len() != 1 || ev.Message() != "orig" || !ev.Time.Equal(time.Unix(5, 0)) {
				t.Errorf("event changed on error: %v", fields(&ev))
			}
		})
	}
}

func TestMaxDepthAccepted(t *testing.T) {
	in := strings.Repeat(`{"a":`, 63) + `{}` + strings.Repeat(`}`, 63)
	var ev event.Event
	if err := ParseObject(&ev, []byte(in)); err != nil {
		t.Fatalf("depth 64 should parse: %v", err)
	}
	if ev.Len() != 1 {
		t.Fatalf("got %d fields", ev.Len())
	}
}

// TestStringsPointIntoInput checks the zero-copy contract: strings without
// escapes share memory with data.
func TestStringsPointIntoInput(t *testing.T) {
	data := []byte(`{"key":"value"}`)
	var ev event.Event
	if err := ParseObject(&ev, data); err != nil {
		t.Fatal(err)
	}
	copy(data[2:5], "KEY")
	copy(data[8:13], "VALUE")
	f := ev.Fields()[0]
	if s, _ := f.Value.Str(); f.Key != "KEY" || s != "VALUE" {
		t.Errorf("got %q=%q: strings were copied", f.Key, s)
	}
}

// --- comparison with encoding/json, used by the fuzz test ---

// refFlatten flattens an encoding/json result the way ParseObject should.
// It reports ambiguous when two paths flatten to the same name (then the
// result depends on map order and is not compared).
func refFlatten(prefix string, m map[string]any, out map[string]any) (ambiguous bool) {
	for k, v := range m {
		key := prefix + k
		if child, ok := v.(map[string]any); ok && len(child) > 0 {
			if refFlatten(key+".", child, out) {
				ambiguous = true
			}
			continue
		}
		if _, dup := out[key]; dup {
			ambiguous = true
		}
		out[key] = v
	}
	return ambiguous
}

// normalize turns one of our values into what encoding/json produces:
// float64 numbers and strings with invalid UTF-8 replaced.
func normalize(x any) any {
	switch t := x.(type) {
	case int64:
		return float64(t)
	case string:
		if !utf8.ValidString(t) {
			return replaceInvalidUTF8(t)
		}
		return t
	case []any:
		n := make([]any, len(t))
		for i, e := range t {
			n[i] = normalize(e)
		}
		return n
	case map[string]any:
		n := make(map[string]any, len(t))
		for k, e := range t {
			n[k] = normalize(e)
		}
		return n
	}
	return x
}

func maxDepth(x any) int {
	switch t := x.(type) {
	case []any:
		d := 0
		for _, e := range t {
			d = max(d, maxDepth(e))
		}
		return d + 1
	case map[string]any:
		d := 0
		for _, e := range t {
			d = max(d, maxDepth(e))
		}
		return d + 1
	}
	return 0
}

// checkAgainstStdlib is the fuzz property: ParseObject and encoding/json
// agree on validity and, when unambiguous, on the flattened content.
func checkAgainstStdlib(t *testing.T, data []byte) {
	var ref map[string]any
	refErr := json.Unmarshal(data, &ref)
	var ev event.Event
	err := ParseObject(&ev, data)

	if refErr != nil {
		if err == nil {
			t.Fatalf("ParseObject accepted %q, encoding/json says %v", data, refErr)
		}
		return
	}
	if ref == nil {
		// Top-level null: encoding/json leaves the map alone; ParseObject
		// wants an object.
		return
	}
	if maxDepth(ref) > MaxDepth {
		// Deliberately stricter than encoding/json (10000).
		if err == nil {
			t.Fatalf("ParseObject accepted nesting deeper than %d", MaxDepth)
		}
		return
	}
	if err != nil {
		t.Fatalf("ParseObject(%q): %v; encoding/json accepts it", data, err)
	}

	want := map[string]any{}
	if refFlatten("", ref, want) {
		return
	}
	var wantTime time.Time
	if s, ok := want[event.TimestampField].(string); ok {
		if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
			wantTime = ts
			delete(want, event.TimestampField)
		}
	}
	got := map[string]any{}
	for _, f := range ev.Fields() {
		if _, dup := got[f.Key]; dup {
			t.Fatalf("%q: duplicate field %q", data, f.Key)
		}
		got[f.Key] = normalize(f.Value.Interface())
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
	}
	if !ev.Time.Equal(wantTime) {
		t.Fatalf("%q: time %v, want %v", data, ev.Time, wantTime)
	}
}

var fuzzSeeds = []string{
	`{}`, `{"a":1}`, sampleLine, `{"a":{"b":{"c":[1,{"d":null}]}}}`,
	`{"a":"\u00e9\ud83d\ude00\ud800"}`, `{"a.b":1,"a":{"c":2},"a":{"d":3}}`,
	`{"@timestamp":"2024-01-02T03:04:05+01:00"}`, `{"n":[1e308,-0.0,12345678901234567890]}`,
	`{"a":1}x`, `{"a":"\x"}`, "{\"a\":\"\xff\"}", `null`, ` {"k":true} `,
}

func TestAgainstStdlibSeeds(t *testing.T) {
	for _, s := range fuzzSeeds {
		checkAgainstStdlib(t, []byte(s))
	}
}

func FuzzParseObject(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstStdlib(t, data)
	})
}

// --- benchmarks ---

// sampleLine is a typical Kubernetes container log line shipped as JSON.
const sampleLine = `{"@timestamp":"2024-05-06T07:08:09.123456Z","log":{"level":"info"},"message":"GET /api/v1/users/42 200 12ms","stream":"stdout","kubernetes":{"namespace":"shop","pod":{"name":"webapp-7d9f8c6b5-x2k4p"},"container":{"name":"webapp"},"labels":{"app":"webapp","tier":"frontend"},"node":{"name":"node-3"}},"http":{"status":200,"duration_ms":12.5}}`

// sampleDotted is sampleLine as an ECS logger writes it: flat dotted keys.
const sampleDotted = `{"@timestamp":"2024-05-06T07:08:09.123456Z","log.level":"info","message":"GET /api/v1/users/42 200 12ms","stream":"stdout","kubernetes.namespace":"shop","kubernetes.pod.name":"webapp-7d9f8c6b5-x2k4p","kubernetes.container.name":"webapp","kubernetes.labels.app":"webapp","kubernetes.labels.tier":"frontend","kubernetes.node.name":"node-3","http.status":200,"http.duration_ms":12.5}`

func BenchmarkParseObject(b *testing.B) {
	data := []byte(sampleLine)
	b.Run("jsonparse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var ev event.Event
			if err := ParseObject(&ev, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonparse_dotted_keys", func(b *testing.B) {
		// ECS loggers write flat dotted keys, which take the dedup pass.
		data := []byte(sampleDotted)
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var ev event.Event
			if err := ParseObject(&ev, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json_map", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestSampleLine(t *testing.T) {
	var ev event.Event
	if err := ParseObject(&ev, []byte(sampleLine)); err != nil {
		t.Fatal(err)
	}
	keys := ev.SortedKeys()
	sort.Strings(keys)
	want := []string{"http.duration_ms", "http.status", "kubernetes.container.name", "kubernetes.labels.app", "kubernetes.labels.tier",
		"kubernetes.namespace", "kubernetes.node.name", "kubernetes.pod.name", "log.level", "message", "stream"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %v", keys)
	}
	checkAgainstStdlib(t, []byte(sampleLine))
}

// TestStringScanPositions puts each kind of special byte at every offset of
// strings around the 8-byte word size, for keys and values, and compares
// with encoding/json.
func TestStringScanPositions(t *testing.T) {
	specials := []string{`\"`, `\\`, `\n`, `\u00e9`, ".", "é", "\xff", "\x01", "\"", `\`}
	for n := 0; n < 20; n++ {
		for pos := 0; pos <= n; pos++ {
			for _, sp := range specials {
				s := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				checkAgainstStdlib(t, []byte(`{"`+s+`":"`+s+`","k":{"`+s+`":1}}`))
				checkAgainstStdlib(t, []byte(`{"k":"`+s+`"}`))
			}
		}
	}
}

// TestDottedKeyDetection checks that a dot anywhere in a key is noticed:
// {"aa.bb":1,"aa":{"bb":2}} must keep only the later value.
func TestDottedKeyDetection(t *testing.T) {
	for n := 0; n < 20; n++ {
		for pos := 0; pos <= n; pos++ {
			a, b := strings.Repeat("a", pos), strings.Repeat("b", n-pos)
			in := `{"` + a + "." + b + `":1,"` + a + `":{"` + b + `":2}}`
			var ev event.Event
			if err := ParseObject(&ev, []byte(in)); err != nil {
				t.Fatal(err)
			}
			if got := fields(&ev); len(ev.Fields()) != 1 || got[a+"."+b] != int64(2) {
				t.Fatalf("%s: got %v", in, got)
			}
		}
	}
}

func TestDottedKeysManyFields(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"a.x":0`)
	for i := range 40 {
		fmt.Fprintf(&b, `,"k.%d":%d`, i, i)
	}
	b.WriteString(`,"a":{"x":1},"k":{"3":"three"}}`)
	var ev event.Event
	if err := ParseObject(&ev, []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	got := fields(&ev)
	if len(ev.Fields()) != 41 || got["a.x"] != int64(1) || got["k.3"] != "three" || got["k.39"] != int64(39) {
		t.Fatalf("got %d fields: %v", len(ev.Fields()), got)
	}
	checkAgainstStdlib(t, []byte(b.String()))
}

// TestAllocations guards the hot path: a line of strings and nested objects
// costs one allocation (the event's field slice), once nested names are
// interned.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	data := []byte(`{"message":"hello","log":{"level":"info"},"kubernetes":{"pod":{"name":"web-1"}},"n":7,"ok":true}`)
	var ev event.Event
	if err := ParseObject(&ev, data); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		var ev event.Event
		if err := ParseObject(&ev, data); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("%v allocations per parse, want 1", allocs)
	}
}
