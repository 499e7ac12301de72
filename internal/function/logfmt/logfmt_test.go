package logfmt

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
	"github.com/sluicehq/sluice/internal/function/kv"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidation(t *testing.T) {
	tests := []struct{ yaml, key string }{
		{"field: ''", "field"},
		{"field: a.", "field"},
		{"field: '@timestamp'", "field"},
		{"target: '@timestamp'", "target"},
		{"target: ..", "target"},
		{"tag_on_failure: ['']", "tag_on_failure"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
}

func TestAppendValue(t *testing.T) {
	tests := []struct {
		v    event.Value
		want string
	}{
		{event.String("plain"), `plain`},
		{event.String(""), `""`},
		{event.String("two words"), `"two words"`},
		{event.String(`a=b`), `"a=b"`},
		{event.String(`q"`), `"q\""`},
		{event.String(`C:\dir`), `C:\dir`},
		{event.String("é"), `é`},
		{event.String("x\xff"), `"x\ufffd"`},
		{event.String("line\nbreak"), `"line\nbreak"`},
		{event.Int(-42), `-42`},
		{event.Float(0.25), `0.25`},
		{event.Bool(false), `false`},
		{event.Null, `null`},
		{event.Time(time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.FixedZone("x", 3600))), `2026-01-02T02:04:05.6Z`},
		{event.Any([]any{"a", int64(1)}), `"[\"a\",1]"`},
	}
	for _, tt := range tests {
		if got := string(AppendValue(nil, tt.v)); got != tt.want {
			t.Errorf("AppendValue(%v) = %s, want %s", tt.v.Interface(), got, tt.want)
		}
	}
	if got := string(AppendKey(nil, "a b=c\"d\x01")); got != "a_b_c_d_" {
		t.Errorf("AppendKey = %q", got)
	}
	if got := string(AppendKey(nil, "")); got != "_" {
		t.Errorf("AppendKey(\"\") = %q", got)
	}
}

// parse parses s below the target "p" and returns the pairs as key → value.
func parse(t *testing.T, p *kv.Parser, s string) (map[string]any, error) {
	t.Helper()
	ev := event.Event{Time: time.Unix(1, 0)}
	ev.SetString("outside", "x")
	if err := p.Parse(&ev, s); err != nil {
		if ev.Len() != 1 {
			t.Fatalf("%q: failed parse changed the event: %v", s, ev.Fields())
		}
		return nil, err
	}
	m := map[string]any{}
	for _, f := range ev.Fields() {
		switch {
		case f.Key == "outside":
			if v, _ := f.Value.Str(); v != "x" {
				t.Fatalf("%q: field outside the target changed", s)
			}
		case strings.HasPrefix(f.Key, "p."):
			m[f.Key[2:]] = f.Value.Interface()
		default:
			t.Fatalf("%q: field %q outside the target", s, f.Key)
		}
	}
	return m, nil
}

func encode(m map[string]any, order []string) string {
	var b []byte
	for i, k := range order {
		if i > 0 {
			b = append(b, ' ')
		}
		v := m[k]
		if v == true {
			b = AppendKey(b, k) // a bare key
			continue
		}
		if list, ok := v.([]any); ok {
			for j, x := range list {
				if j > 0 {
					b = append(b, ' ')
				}
				if x == true {
					b = AppendKey(b, k)
				} else {
					b = AppendPair(b, k, event.Any(x))
				}
			}
			continue
		}
		b = AppendPair(b, k, event.Any(v))
	}
	return string(b)
}

// FuzzLogfmt parses any input; what parses must encode and parse back to
// the same pairs, and nothing outside the target may change.
func FuzzLogfmt(f *testing.F) {
	for _, s := range []string{
		`time=2026-01-02T03:04:05Z level=INFO msg="request done" status=200`, `a= b="" c`, `tag=a tag=b tag=a`,
		`msg="say \"hi\"\n\u00e9\ud83d\ude00" x="\ud800"`, `url=/x?a=b q=a"b`, `a="unterminated`, `=v`, `"k"=v`, `a="b"c`,
		"k=v\tn=\x01", `a="\/\b\f\r"`,
	} {
		f.Add(s)
	}
	p, err := kv.NewParser(kv.Options{Syntax: kv.Logfmt, Target: "p", AllowDuplicateValues: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parse(t, p, s)
		if err != nil {
			var se *kv.SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("%q: bad error %v", s, err)
			}
			return
		}
		if !utf8.ValidString(s) {
			return // the encoder replaces invalid UTF-8
		}
		var order []string
		for k := range m {
			order = append(order, k)
		}
		again, err := parse(t, p, encode(m, order))
		if err != nil {
			t.Fatalf("%q: re-encoded as %q, which does not parse: %v", s, encode(m, order), err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("%q: round trip through %q:\n got  %v\nwant %v", s, encode(m, order), again, m)
		}
	})
}

// FuzzAppendPair checks that any key and string value, encoded, parse
// back as they were (keys with forbidden bytes come back with '_').
func FuzzAppendPair(f *testing.F) {
	f.Add("msg", "hello world")
	f.Add("k", "")
	f.Add("a=b", `"quoted" \ back`)
	f.Add("", "x\xffy\n")
	p, err := kv.NewParser(kv.Options{Syntax: kv.Logfmt, Target: "p", AllowDuplicateValues: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		line := string(AppendPair(nil, key, event.String(value)))
		m, err := parse(t, p, line)
		if err != nil {
			t.Fatalf("%q=%q encoded as %q: %v", key, value, line, err)
		}
		// The encoder replaces each invalid UTF-8 byte by U+FFFD.
		var wantValue []byte
		for i := 0; i < len(value); {
			r, n := utf8.DecodeRuneInString(value[i:])
			if r == utf8.RuneError && n == 1 {
				wantValue = utf8.AppendRune(wantValue, r)
			} else {
				wantValue = append(wantValue, value[i:i+n]...)
			}
			i += n
		}
		if wantKey := string(AppendKey(nil, key)); len(m) != 1 || m[wantKey] != string(wantValue) {
			t.Fatalf("%q=%q encoded as %q parsed as %v", key, value, line, m)
		}
	})
}

func BenchmarkLogfmt(b *testing.B) {
	const line = `time=2026-01-02T03:04:05.123Z level=INFO msg="request done" method=GET path=/api/v1/items status=200 bytes=5120 duration=12.5ms user=alice`
	for _, bc := range []struct{ name, config string }{{"root", ""}, {"target", "target: app"}} {
		b.Run(bc.name, func(b *testing.B) {
			f := fntest.Build(b, Spec, bc.config)
			ts := time.Unix(1700000000, 0)
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				ev := event.NewSized(ts, 12)
				ev.AppendField(event.MessageField, event.String(line))
				ev.AppendField("host.name", event.String("web-1"))
				f.Apply(&ev, nil)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
