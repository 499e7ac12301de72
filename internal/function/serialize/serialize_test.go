package serialize

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/kv"
	"github.com/sluicehq/sluice/internal/function/logfmt"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidation(t *testing.T) {
	tests := []struct{ yaml, key string }{
		{"format: xml", "format"},
		{"target: ''", "target"},
		{"target: '@timestamp'", "target"},
		{"target: a..b", "target"},
		{"fields: [a, '']", "fields"},
		{"fields: [.a]", "fields"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
}

// comparable returns ev's fields (internal ones left out) and time as JSON
// text, numbers in their shortest form, for comparing events.
func comparable(t *testing.T, ev *event.Event) string {
	t.Helper()
	m := ev.Object(false)
	delete(m, event.TimestampField)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzJSONRoundTrip: serializing a whole event as JSON and parsing it back
// gives the same fields and time.
func FuzzJSONRoundTrip(f *testing.F) {
	for _, s := range []string{`{"message":"m","a":{"b":1,"c":[1,"x",{"d":null}]},"f":1.5,"t":true,"e":{}}`,
		`{"a":1,"a.b":2}`, `{"_internal":1,"x":"é\u2028"}`, `{"@timestamp":"2026-01-02T03:04:05.123456789+02:00"}`} {
		f.Add(s)
	}
	fn := fntest.Build(f, Spec, "target: out")
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) {
			return // the encoder replaces invalid UTF-8
		}
		ev := event.Event{Time: time.Unix(1700000000, 5)}
		if err := jsonparse.ParseObject(&ev, []byte(in)); err != nil || ev.Has("out") {
			return
		}
		want := comparable(t, &ev)
		out := fn.Run(ev.Clone())
		text, _ := out[0].GetString("out")
		back := event.Event{}
		if err := jsonparse.ParseObject(&back, []byte(text)); err != nil {
			t.Fatalf("%s serialized as %s, which does not parse: %v", in, text, err)
		}
		if got := comparable(t, &back); got != want || !back.Time.Equal(ev.Time) {
			t.Fatalf("%s serialized as %s:\n got  %s %v\nwant %s %v", in, text, got, back.Time, want, ev.Time)
		}
	})
}

// FuzzLogfmtRoundTrip: string fields written as logfmt parse back to the
// same fields with the logfmt parser.
func FuzzLogfmtRoundTrip(f *testing.F) {
	f.Add("msg", "hello world", "level", "info")
	f.Add("a.b", "", "c", `q"uote`)
	fn := fntest.Build(f, Spec, "format: logfmt\ntarget: out\nremove_fields: true")
	p, err := kv.NewParser(kv.Options{Syntax: kv.Logfmt, AllowDuplicateValues: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		for _, s := range []string{k1, v1, k2, v2} {
			if !utf8.ValidString(s) {
				return
			}
		}
		for _, k := range []string{k1, k2} {
			if !fnutil.ValidField(k) || k == "out" || event.IsInternal(k) || k == event.TimestampField || string(logfmt.AppendKey(nil, k)) != k {
				return // keys logfmt cannot carry as they are
			}
		}
		if covered(k1, k2) || covered(k2, k1) {
			return // one would replace the other in SetString
		}
		ev := event.Event{}
		ev.SetString(k1, v1)
		ev.SetString(k2, v2)
		want := comparable(t, &ev)
		out := fn.Run(ev)
		if out[0].Len() != 1 {
			t.Fatalf("remove_fields left %v", out[0].Fields())
		}
		text, _ := out[0].GetString("out")
		back := event.Event{}
		if err := p.Parse(&back, text); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if got := comparable(t, &back); got != want {
			t.Fatalf("%q:\n got  %s\nwant %s", text, got, want)
		}
	})
}

func BenchmarkSerialize(b *testing.B) {
	const in = `{"@timestamp":"2026-01-02T03:04:05.123Z","level":"info","logger":"shop.checkout","message":"order placed",` +
		`"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"user":{"id":18342,"country":"DE"},` +
		`"order":{"id":"A-99812","items":3,"total":129.95},"http":{"method":"POST","path":"/api/v1/orders","status":201,"duration_ms":48}}`
	src := event.Event{}
	if err := jsonparse.ParseObject(&src, []byte(in)); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, config string }{
		{"json_all", ""},
		{"json_fields", "fields: [level, message, http, user.id]"},
		{"logfmt_all", "format: logfmt"},
		{"logfmt_fields", "format: logfmt\nfields: [level, message, http, user.id]"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := fntest.Build(b, Spec, bc.config)
			b.ReportAllocs()
			for b.Loop() {
				ev := src.Clone()
				f.Apply(&ev, nil)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
