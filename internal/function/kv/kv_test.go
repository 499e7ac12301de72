package kv

import (
	"fmt"
	"reflect"
	"regexp"
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
		{"field: '@timestamp'", "field"},
		{"target: a..b", "target"},
		{"target: '@timestamp'", "target"},
		{"field_split: ''", "field_split"},
		{"value_split: ''", "value_split"},
		{"field_split: 'é'", "field_split"},
		{"value_split: ' ='", "value_split"},
		{"field_split: '&'\nvalue_split: '=&'", "value_split"},
		{"trim_key: '→'", "trim_key"},
		{`trim_value: "\xff"`, "trim_value"},
		{"whitespace: loose", "whitespace"},
		{"default_keys: {'': x}", "default_keys"},
		{"default_keys: {a.: x}", "default_keys"},
		{"tag_on_failure: [ok, '']", "tag_on_failure"},
	}
	for _, tt := range tests {
		fntest.ExpectConfigError(t, Spec, tt.yaml, tt.key, "")
	}
	if _, err := fntest.TryBuild(Spec, "field_split: '\\t,'\nvalue_split: ':='\nwhitespace: strict\ntrim_key: '\\[\\]'"); err != nil {
		t.Error(err)
	}
}

func TestParseSet(t *testing.T) {
	s, err := parseSet("k", `\t\[\]\\a-`)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for c := range s {
		if s[c] {
			got = append(got, byte(c))
		}
	}
	if want := "\t-[\\]a"; string(got) != want {
		t.Errorf("set %q, want %q", got, want)
	}
}

// TestAllocations keeps the common case allocation-free: string values
// share the input, keys too when there is no target or prefix, and
// prefixed keys come from the cache.
func TestAllocations(t *testing.T) {
	const line = `ts=2026-01-02T03:04:05Z level=info msg="request done" method=GET path=/api/v1/items status=200 bytes=5120 duration=0.012`
	for _, tt := range []struct{ cfg, key string }{{"", "msg"}, {"target: kv", "kv.msg"}, {"prefix: x_", "x_msg"}} {
		f := fntest.Build(t, Spec, tt.cfg)
		ev := event.NewSized(time.Unix(1, 0), 32)
		allocs := testing.AllocsPerRun(100, func() {
			ev.SetString(event.MessageField, line)
			f.Apply(&ev, nil)
		})
		if allocs > 0 && !fntest.RaceEnabled {
			t.Errorf("%q: %v allocations per event, want 0", tt.cfg, allocs)
		}
		if v, _ := ev.GetString(tt.key); v != "request done" {
			t.Errorf("%q: %s = %q: %v", tt.cfg, tt.key, v, ev.Fields())
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	f := fntest.Build(t, Spec, "prefix: p_\ntarget: kv")
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 300; i++ {
				ev := event.New(time.Unix(1, 0), fmt.Sprintf("a=%d b=x%d a=2", i, i))
				f.Apply(&ev, nil)
				if v, _ := ev.GetString("kv.p_b"); v != fmt.Sprintf("x%d", i) {
					t.Errorf("kv.p_b = %q", v)
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// oracle is Logstash's scan regexp (lib/logstash/filters/kv.rb) for input
// without backslashes and newlines, where Go's leftmost-first regexp
// matches as Ruby's does.
func oracle(fs, vs string, lenient, brackets bool) *regexp.Regexp {
	class := func(chars string) string {
		var b strings.Builder
		for _, c := range []byte(chars) {
			fmt.Fprintf(&b, `\x{%02x}`, c)
		}
		return b.String()
	}
	vsp := "[" + class(vs) + "]"
	if lenient {
		vsp = " *" + vsp + " *"
	}
	quoted := func(open, close string) string {
		return regexp.QuoteMeta(open) + "([^" + class(close) + "]+)?" + regexp.QuoteMeta(close)
	}
	alts := []string{quoted(`"`, `"`), quoted(`'`, `'`)}
	if brackets {
		alts = append(alts, quoted("(", ")"), quoted("[", "]"), quoted("<", ">"))
	}
	alts = append(alts, "([^"+class(fs)+"]+)")
	return regexp.MustCompile("([^" + class(vs+fs) + "]+)" + vsp + "(?:" + strings.Join(alts, "|") + ")?(?:[" + class(fs) + "]|$)")
}

type fuzzConfig struct {
	fs, vs            string
	lenient, brackets bool
}

var fuzzConfigs = []fuzzConfig{
	{" ", "=", true, true},
	{" ", "=", false, true},
	{" ", "=", true, false},
	{"&,", ":=", true, true},
}

// FuzzLogstashSyntax compares the hand-written scanner with Logstash's
// regexp on input without backslashes and newlines, and checks on any
// input that parsing never panics and keeps to the target.
func FuzzLogstashSyntax(f *testing.F) {
	for _, s := range []string{
		`hello=world foo=bar doublequoted="hello world" singlequoted='hello world' bracketsone=(hello world) bracketstwo=[hello world] bracketsthree=<hello world>`,
		`hello = world foo =bar baz= fizz doublequoted = "hello world" singlequoted= 'hello world'`,
		`Hey, from=<abc>, to=def foo=bar`, `a=b=c ==x =y=z`, `unclosed="abc def=1 after="x"y`, `k="" e= x=1 x=2 x=1`,
		`?pin=12345~0&d=123&e=foo@bar.com`, `a:=b c::d e, f`, `path=C:\dir\ name esc=a\ b`, "multi=\"line\none\" x=1",
	} {
		for m := range fuzzConfigs {
			f.Add(s, uint8(m))
		}
	}
	oracles := make([]*regexp.Regexp, len(fuzzConfigs))
	for i, c := range fuzzConfigs {
		oracles[i] = oracle(c.fs, c.vs, c.lenient, c.brackets)
	}
	f.Fuzz(func(t *testing.T, s string, mode uint8) {
		cfg := fuzzConfigs[int(mode)%len(fuzzConfigs)]
		p, err := NewParser(Options{FieldSplit: cfg.fs, ValueSplit: cfg.vs, Strict: !cfg.lenient, IncludeBrackets: cfg.brackets, AllowDuplicateValues: true})
		if err != nil {
			t.Fatal(err)
		}
		sc := &scratch{}
		p.scanLogstash(sc, s)
		got := map[string]any{}
		for _, pr := range sc.pairs {
			if pr.list != nil {
				got[pr.key] = pr.list
			} else {
				got[pr.key] = pr.val.Interface()
			}
		}
		if !strings.ContainsAny(s, "\\\n") {
			want := map[string]any{}
			for _, m := range oracles[int(mode)%len(fuzzConfigs)].FindAllStringSubmatch(s, -1) {
				key, value := m[1], ""
				for _, v := range m[2:] {
					if v != "" {
						value = v
						break
					}
				}
				if value == "" {
					continue
				}
				switch cur := want[key].(type) {
				case nil:
					want[key] = value
				case string:
					want[key] = []any{cur, value}
				case []any:
					want[key] = append(cur, value)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("config %+v, input %q:\n got  %v\nwant %v", cfg, s, got, want)
			}
		}

		// Through the function, with a target: nothing outside it changes.
		pt, err := NewParser(Options{Target: "kv", FieldSplit: cfg.fs, ValueSplit: cfg.vs, Strict: !cfg.lenient, IncludeBrackets: cfg.brackets, AllowDuplicateValues: true})
		if err != nil {
			t.Fatal(err)
		}
		ev := event.New(time.Unix(1, 0), s)
		ev.SetString("kvx", "keep")
		if err := pt.Parse(&ev, s); err != nil {
			t.Fatal(err)
		}
		if ev.Message() != s || ev.Len() != 2+len(got) {
			t.Fatalf("%q: fields %v, want message, kvx and %d pairs", s, ev.Fields(), len(got))
		}
		for k, v := range got {
			if g, _ := ev.Get("kv." + k); g != nil && !reflect.DeepEqual(g, v) {
				t.Fatalf("%q: kv.%s = %v, want %v", s, k, g, v)
			}
		}
	})
}

func BenchmarkKV(b *testing.B) {
	const line = `ts=2026-01-02T03:04:05Z level=info msg="request done" method=GET path=/api/v1/items status=200 bytes=5120 duration=0.012 user=alice`
	for _, bc := range []struct{ name, config string }{
		{"root", ""},
		{"target_prefix", "target: kv\nprefix: x_"},
		{"trim_filter", "trim_value: '\"'\nexclude_keys: [ts]"},
	} {
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

func TestUnquote(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"plain"`, "plain"},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{`"\u00e9\ud83d\ude00"`, "é😀"},
		{`"\ud800"`, "\uFFFD"},
		{`"\ud800\u0041"`, "\uFFFDA"},
		{`"\udc00x"`, "\uFFFDx"},
		{`""`, ""},
	}
	for _, tt := range tests {
		got, end, err := unquote(tt.in+" rest", 0)
		if err != nil || got != tt.want || end != len(tt.in) {
			t.Errorf("unquote(%s) = %q, %d, %v; want %q, %d", tt.in, got, end, err, tt.want, len(tt.in))
		}
	}
	for _, bad := range []string{`"abc`, `"a\`, `"\q"`, `"\u12"`, `"\u12g4"`} {
		if _, _, err := unquote(bad, 0); err == nil {
			t.Errorf("unquote(%s) accepted", bad)
		}
	}
}

// TestLargeInput covers the inputs that would make a naive scan or write
// quadratic: many distinct pairs at the root, and many unclosed quotes.
func TestLargeInput(t *testing.T) {
	f := fntest.Build(t, Spec, "")
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "k%d=v%d ", i, i)
	}
	ev := event.New(time.Unix(1, 0), b.String())
	ev.SetString("k7", "old")
	ev.SetString("k8.sub", "old")
	f.Apply(&ev, nil)
	if ev.Len() != 20001 {
		t.Fatalf("%d fields, want 20001", ev.Len())
	}
	if v, _ := ev.GetString("k8"); v != "v8" || ev.Has("k8.sub") {
		t.Errorf("k8 = %q, k8.sub kept: %v", v, ev.Has("k8.sub"))
	}

	ev = event.New(time.Unix(1, 0), strings.Repeat(`a="x `, 20000))
	f.Apply(&ev, nil)
	if v, _ := ev.Get("a"); len(v.([]any)) != 20000 || v.([]any)[0] != `"x` {
		t.Errorf("unclosed quotes: a has %d values", len(v.([]any)))
	}
}
