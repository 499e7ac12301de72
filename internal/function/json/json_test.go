package json

import (
	stdjson "encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidation(t *testing.T) {
	tests := []struct{ yaml, key string }{
		{"field: ''", "field"},
		{"field: a..b", "field"},
		{"field: '@timestamp'", "field"},
		{"target: .x", "target"},
		{"target: x.", "target"},
		{"target: '@timestamp'", "target"},
		{"max_depth: 0", "max_depth"},
		{"max_depth: 64", "max_depth"},
		{"tag_on_failure: ['']", "tag_on_failure"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
	for _, ok := range []string{"", "target: a.b\nmax_depth: 63\nmax_bytes: 0", "max_bytes: 64KiB\ntag_on_failure: []"} {
		if _, err := fntest.TryBuild(Spec, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func TestEmptyTagOnFailureStillCounts(t *testing.T) {
	f := fntest.Build(t, Spec, "tag_on_failure: []")
	out := f.Run(fntest.Event(t, `{"message":"nope"}`))
	if len(out) != 1 || out[0].Has("tags") || f.Failures.Value() != 1 {
		t.Fatalf("got %v, %d failures", out, f.Failures.Value())
	}
}

func TestDeeperThan(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want bool
	}{
		{`{}`, 1, false},
		{`{"a":{}}`, 1, true},
		{`{"a":[1,[2]]}`, 2, true},
		{`{"a":[1,[2]]}`, 3, false},
		{`{"a":"{{{{{{"}`, 1, false},
		{`{"a":"\"{{{{"}`, 1, false},
		{`{"a":"\\"}`, 1, false},
		{`[{},{},{},{}]`, 2, false},
	}
	for _, tt := range tests {
		if got := deeperThan([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("deeperThan(%s, %d) = %v", tt.in, tt.max, got)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	f := fntest.Build(t, Spec, "target: app")
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 500; i++ {
				ev := event.New(time.Unix(1, 0), benchLine)
				f.Apply(&ev, nil)
				if v, _ := ev.GetString("app.order.id"); v != "A-99812" {
					t.Errorf("app.order.id = %q", v)
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// fieldsOf returns the event's fields as key → value, and its tags apart.
func fieldsOf(ev *event.Event) map[string]any {
	m := map[string]any{}
	for _, f := range ev.Fields() {
		if f.Key != event.TagsField {
			m[f.Key] = f.Value.Interface()
		}
	}
	return m
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{benchLine, `{}`, `[]`, `"s"`, `1`, `{"message":"x"}`, `{"app":{"x":1}}`, `{"@timestamp":"2024-01-01T00:00:00Z"}`,
		`{"a":[[[[[[1]]]]]]}`, `{"a.b":1,"a":{"b":2}}`, `not json`, `{"x":"\u00e9\ud800"}`, `{"message.x":1}`} {
		f.Add(s, "")
		f.Add(s, "app")
	}
	fns := map[string]*fntest.Func{
		"":    fntest.Build(f, Spec, "max_depth: 5\nremove_field: true"),
		"app": fntest.Build(f, Spec, "target: app\nmax_depth: 5\nremove_field: true"),
	}
	f.Fuzz(func(t *testing.T, in, target string) {
		fn, ok := fns[target]
		if !ok {
			return
		}
		ts := time.Unix(1700000000, 0)
		ev := event.New(ts, in)
		ev.SetString("host", "h")
		ev.SetValue("app.old", event.Int(1))
		before := fieldsOf(&ev)
		failures := fn.Failures.Value()
		out := fn.Run(ev)
		if len(out) != 1 {
			t.Fatalf("%d events out", len(out))
		}
		got := &out[0]
		failed := fn.Failures.Value() != failures
		if failed != got.HasTag("_jsonparsefailure") {
			t.Fatalf("failure counted %v but tagged %v", failed, got.HasTag("_jsonparsefailure"))
		}
		if failed {
			if !reflect.DeepEqual(fieldsOf(got), before) || !got.Time.Equal(ts) {
				t.Fatalf("failed parse changed the event: %v", fieldsOf(got))
			}
			return
		}
		var v any
		if err := stdjson.Unmarshal([]byte(in), &v); err != nil {
			t.Fatalf("parsed %q, which encoding/json rejects: %v", in, err)
		}
		if target == "" {
			obj, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("root parse accepted a %T", v)
			}
			for k := range obj {
				if k != event.TimestampField && !got.Has(k) {
					t.Fatalf("member %q missing: %v", k, fieldsOf(got))
				}
			}
			return
		}
		// A target parse touches nothing outside the target (remove_field
		// takes the message away) and never the time.
		if !got.Time.Equal(ts) {
			t.Fatalf("time changed to %v", got.Time)
		}
		if !got.Has(target) {
			t.Fatalf("target missing: %v", fieldsOf(got))
		}
		if got.Has(event.MessageField) {
			t.Fatal("remove_field kept the message")
		}
		for k, v := range before {
			if k == target || strings.HasPrefix(k, target+".") || k == event.MessageField {
				continue
			}
			if g, ok := got.Lookup(k); !ok || !reflect.DeepEqual(g.Interface(), v) {
				t.Fatalf("field %q outside the target changed: %v", k, fieldsOf(got))
			}
		}
		for _, fl := range got.Fields() {
			if _, was := before[fl.Key]; !was && fl.Key != target && !strings.HasPrefix(fl.Key, target+".") {
				t.Fatalf("new field %q outside the target", fl.Key)
			}
		}
	})
}

// benchLine is a realistic application log line: about 300 bytes, nested.
const benchLine = `{"@timestamp":"2026-01-02T03:04:05.123Z","level":"info","logger":"shop.checkout","message":"order placed",` +
	`"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"user":{"id":18342,"country":"DE"},` +
	`"order":{"id":"A-99812","items":3,"total":129.95},"http":{"method":"POST","path":"/api/v1/orders","status":201,"duration_ms":48}}`

func BenchmarkJSON(b *testing.B) {
	for _, bc := range []struct{ name, config string }{
		{"root", ""},
		{"root_remove_field", "remove_field: true"},
		{"target", "target: app"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := fntest.Build(b, Spec, bc.config)
			ts := time.Unix(1700000000, 0)
			b.ReportAllocs()
			b.SetBytes(int64(len(benchLine)))
			for b.Loop() {
				// What a line source hands the pipeline: the raw line and
				// a couple of fields.
				ev := event.NewSized(ts, 3)
				ev.AppendField(event.MessageField, event.String(benchLine))
				ev.AppendField("host.name", event.String("web-1"))
				ev.AppendField("log.file.path", event.String("/var/log/app.json"))
				if !f.Apply(&ev, nil) || ev.HasTag("_jsonparsefailure") {
					b.Fatal("parse failed")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	b.Run("root_parallel", func(b *testing.B) {
		f := fntest.Build(b, Spec, "")
		ts := time.Unix(1700000000, 0)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ev := event.NewSized(ts, 3)
				ev.AppendField(event.MessageField, event.String(benchLine))
				ev.AppendField("host.name", event.String("web-1"))
				ev.AppendField("log.file.path", event.String("/var/log/app.json"))
				f.Apply(&ev, nil)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// TestTimestampNotRFC3339 pins what happens to a top-level "@timestamp"
// that jsonparse cannot read as RFC 3339: the time stays, and the value is
// kept as a field that a date function can still read.
func TestTimestampNotRFC3339(t *testing.T) {
	f := fntest.Build(t, Spec, "")
	out := f.Run(fntest.Event(t, `{"message":"{\"@timestamp\":1700000000000,\"a\":1}"}`))
	ev := &out[0]
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time changed to %v", ev.Time)
	}
	if v, ok := ev.Lookup(event.TimestampField); !ok || v.Interface() != int64(1700000000000) {
		t.Errorf("@timestamp field = %v, %v", v, ok)
	}
	if f.Failures.Value() != 0 {
		t.Error("counted as a failure")
	}
}

// TestAllocations: with a target, parsing strings, small numbers and nested
// objects into an event that has room costs no allocation at all.
func TestAllocations(t *testing.T) {
	if fntest.RaceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	const line = `{"level":"info","msg":"done","http":{"method":"GET","status":200},"user":{"name":"alice"},"ok":true}`
	f := fntest.Build(t, Spec, "target: app")
	ev := event.NewSized(time.Unix(1, 0), 16)
	ev.SetString(event.MessageField, line)
	allocs := testing.AllocsPerRun(100, func() { f.Apply(&ev, nil) })
	if allocs > 0 {
		t.Errorf("%v allocations per event, want 0", allocs)
	}
	if v, _ := ev.GetString("app.user.name"); v != "alice" || ev.HasTag("_jsonparsefailure") {
		t.Errorf("app.user.name = %q: %v", v, ev.Fields())
	}
}
