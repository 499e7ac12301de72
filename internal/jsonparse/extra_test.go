package jsonparse

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

func TestParseValueAt(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want map[string]any
	}{
		{"object", `{"a":"x","b":{"c":1,"d":[true,null]}}`,
			map[string]any{"keep": "k", "p.a": "x", "p.b.c": int64(1), "p.b.d": []any{true, nil}}},
		{"replaces the path", `{"new":1}`, map[string]any{"keep": "k", "p.new": int64(1)}},
		{"empty object", ` {} `, map[string]any{"keep": "k", "p": map[string]any{}}},
		{"nested empty object", `{"e":{}}`, map[string]any{"keep": "k", "p.e": map[string]any{}}},
		{"array", `[1,"two",{"k":"v"}]`, map[string]any{"keep": "k", "p": []any{int64(1), "two", map[string]any{"k": "v"}}}},
		{"string", `"a\tb"`, map[string]any{"keep": "k", "p": "a\tb"}},
		{"float", `-1.5e2`, map[string]any{"keep": "k", "p": -150.0}},
		{"null", `null`, map[string]any{"keep": "k", "p": nil}},
		{"timestamp is a plain member", `{"@timestamp":"2024-05-06T07:08:09Z"}`,
			map[string]any{"keep": "k", "p.@timestamp": "2024-05-06T07:08:09Z"}},
		{"duplicates", `{"a":{"b":1},"a":2,"c.d":1,"c":{"d":3}}`, map[string]any{"keep": "k", "p.a": int64(2), "p.c.d": int64(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event.New(ts, "m")
			ev.Delete("message")
			ev.SetString("keep", "k")
			ev.SetString("p", "old")
			ev.SetString("p.old", "old")
			if err := ParseValueAt(&ev, []byte(tt.in), "p"); err != nil {
				t.Fatal(err)
			}
			if got := fields(&ev); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			if len(ev.Fields()) != len(tt.want) {
				t.Errorf("%d fields, want %d", len(ev.Fields()), len(tt.want))
			}
			if !ev.Time.Equal(ts) {
				t.Errorf("time changed to %v", ev.Time)
			}
		})
	}
}

func TestParseValueAtErrors(t *testing.T) {
	for _, in := range []string{``, ` `, `{`, `{"a":1}x`, `[1,]`, `"abc`, `tru`, `1 2`, `{"a":1,}`, `1e999`} {
		ev := event.New(time.Unix(1, 0), "m")
		err := ParseValueAt(&ev, []byte(in), "p")
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, want a *SyntaxError", in, err)
		}
		if got := fields(&ev); !reflect.DeepEqual(got, map[string]any{"message": "m"}) {
			t.Errorf("%q: event changed on error: %v", in, got)
		}
	}
	for _, path := range []string{"", "@timestamp"} {
		ev := event.New(time.Unix(1, 0), "m")
		if err := ParseValueAt(&ev, []byte(`{}`), path); err == nil {
			t.Errorf("path %q accepted", path)
		}
	}
}

func TestParseValueAtDepth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1) }
	ev := event.New(time.Unix(1, 0), "m")
	if err := ParseValueAt(&ev, []byte(nest(MaxDepth-1)), "p"); err != nil {
		t.Errorf("depth %d: %v", MaxDepth-1, err)
	}
	if err := ParseValueAt(&ev, []byte(nest(MaxDepth)), "p"); err == nil {
		t.Errorf("depth %d accepted", MaxDepth)
	}
	arr := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if err := ParseValueAt(&ev, []byte(arr[1:len(arr)-1]), "p"); err != nil {
		t.Errorf("array depth %d: %v", MaxDepth-1, err)
	}
	if err := ParseValueAt(&ev, []byte(arr), "p"); err == nil {
		t.Errorf("array depth %d accepted", MaxDepth)
	}
}

func TestParseValueAtAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	data := []byte(`{"message":"hello","log":{"level":"info"},"kubernetes":{"pod":{"name":"web-1"}},"n":7,"ok":true}`)
	ev := event.NewSized(time.Unix(1, 0), 16)
	allocs := testing.AllocsPerRun(200, func() {
		ev.Delete("p")
		if err := ParseValueAt(&ev, data, "p"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per parse into an event with room, want 0", allocs)
	}
}

// checkValueAt compares ParseValueAt(data, "p") with ParseObject of the
// object {"p":data}, which must give the same fields.
func checkValueAt(t *testing.T, data []byte) {
	t.Helper()
	ts := time.Unix(1700000000, 0)
	got := event.Event{Time: ts}
	errAt := ParseValueAt(&got, data, "p")
	want := event.Event{Time: ts}
	wrapped := append(append([]byte(`{"p":`), data...), '}')
	errObj := ParseObject(&want, wrapped)
	switch {
	case errAt == nil && errObj != nil:
		t.Fatalf("%q: ParseValueAt accepted what ParseObject of the wrapped value rejects: %v", data, errObj)
	case errAt != nil && errObj == nil:
		// The wrapped form also accepts injected members (`1,"q":2`).
		if json.Valid(data) {
			t.Fatalf("%q: valid JSON rejected: %v", data, errAt)
		}
	case errAt == nil:
		if !reflect.DeepEqual(fields(&got), fields(&want)) {
			t.Fatalf("%q:\n got  %#v\nwant %#v", data, fields(&got), fields(&want))
		}
		if len(got.Fields()) != len(want.Fields()) || !got.Time.Equal(ts) {
			t.Fatalf("%q: %d fields (want %d), time %v", data, len(got.Fields()), len(want.Fields()), got.Time)
		}
		for _, f := range got.Fields() {
			if f.Key != "p" && !strings.HasPrefix(f.Key, "p.") {
				t.Fatalf("%q: field %q outside the path", data, f.Key)
			}
		}
	}
}

func FuzzParseValueAt(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `"x"`, `1`, `-0.5`, `null`, `true`, `{"a":{"b":[1,{"c":2}]},"a.b":3}`,
		`{"@timestamp":"2024-05-06T07:08:09Z","x":"\u00e9"}`, sampleLine, sampleDotted, `1,"q":2`, ` {"a" : 1 } `, `{"a":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkValueAt(t, data)
	})
}
