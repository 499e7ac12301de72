package dissect

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key, msg string }{
		{"", "pattern", "needs a pattern"},
		{"pattern: 'no fields'", "pattern", "no %{field}"},
		{"pattern: '%{a}%{b}'", "pattern", "no delimiter between them"},
		{"pattern: '%{a} %{?b}%{c}'", "pattern", "%{?b} and %{c} have no delimiter"},
		{"pattern: '%{+&a} %{b}'", "pattern", "both append (+) and indirect (&)"},
		{"pattern: '%{&+a} %{b}'", "pattern", "both append (+) and indirect (&)"},
		{"pattern: '%{+} %{b}'", "pattern", "no name"},
		{"pattern: '%{&} %{b}'", "pattern", "no name"},
		{"pattern: '%{+->} %{b}'", "pattern", "no name"},
		{"pattern: '%{+a/x} %{b}'", "pattern", "append order"},
		{"pattern: '%{+a/-1} %{b}'", "pattern", "append order"},
		{"pattern: '%{a} %{b'", "pattern", "unterminated"},
		{"pattern: '%{a %{b}'", "pattern", "unterminated"},
		{"pattern: '%{a..b} %{c}'", "pattern", "invalid field name"},
		{"pattern: '%{[]} %{c}'", "pattern", "invalid field name"},
		{"pattern: '%{@timestamp} %{c}'", "pattern", "@timestamp"},
		{"pattern: '%{a} %{b}'\nconvert_datatype: {a: integer}", "convert_datatype", `unknown type "integer"`},
		{"pattern: '%{a} %{b}'\nconvert_datatype: {c: int}", "convert_datatype", "not a key"},
		{"pattern: '%{a} %{?b}'\nconvert_datatype: {b: int}", "convert_datatype", "not a key"},
		{"pattern: '%{a}'\nfield: ''", "field", "must name"},
		{"pattern: '%{a}'\ntarget: '.x'", "target", "not a field name"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, c.msg)
	}
	for _, ok := range []string{
		"pattern: '%{a} %{b}'\nconvert_datatype: {a: int, b: float}",
		"pattern: '%{?k}=%{&k}'\nconvert_datatype: {anything: int}", // indirect keys are known only at run time
		"pattern: '%{} %{?} %{*x} %{+y/10} %{y->} %{[a][b]} %{c.d}'",
	} {
		if _, err := fntest.TryBuild(Spec, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// TestLogstashFixtures runs the dissect tests Logstash, Beats and
// Elasticsearch share (logstash-filter-dissect's spec/fixtures
// dissect_tests.json).
func TestLogstashFixtures(t *testing.T) {
	for _, c := range []struct {
		name, pattern, msg string
		want               map[string]string
	}{
		{"simple dissect", "%{key}", "foobar", map[string]string{"key": "foobar"}},
		{"dissect two replacement", "%{key1} %{key2}", "foo bar", map[string]string{"key1": "foo", "key2": "bar"}},
		{"one level dissect not end of string", "/var/%{key}/log", "/var/foobar/log", map[string]string{"key": "foobar"}},
		{"one level dissect", "/var/%{key}", "/var/foobar/log", map[string]string{"key": "foobar/log"}},
		{"multiple keys dissect end of string", "/var/%{key}/log/%{key1}", "/var/foobar/log/apache", map[string]string{"key": "foobar", "key1": "apache"}},
		{"multiple keys not end of string", "/var/%{key}/log/%{key1}.log", "/var/foobar/log/apache.log", map[string]string{"key": "foobar", "key1": "apache"}},
		{"simple ordered", "%{+key/3} %{+key/1} %{+key/2}", "1 2 3", map[string]string{"key": "2 3 1"}},
		{"simple append", "%{key}-%{+key}-%{+key}", "1-2-3", map[string]string{"key": "1-2-3"}},
		{"indirect field", "%{key} %{&key}", "hello world", map[string]string{"key": "hello", "hello": "world"}},
		{"skip field", "%{} %{key}", "hello world", map[string]string{"key": "world"}},
		{"named skiped field with indirect", "%{?key} %{&key}", "hello world", map[string]string{"hello": "world"}},
		{"missing fields", "%{name},%{addr1},%{addr2},%{addr3},%{city},%{zip}", "Jane Doe,4321 Fifth Avenue,,,New York,87432",
			map[string]string{"name": "Jane Doe", "addr1": "4321 Fifth Avenue", "addr2": "", "addr3": "", "city": "New York", "zip": "87432"}},
		{"ignore right padding", "%{id} %{function->} %{server}", "00000043 ViewReceive     machine-321", map[string]string{"id": "00000043", "function": "ViewReceive", "server": "machine-321"}},
		{"ignore left padding", "%{id->} %{function} %{server}", "00000043    ViewReceive machine-321", map[string]string{"id": "00000043", "function": "ViewReceive", "server": "machine-321"}},
		{"rt_flow", "%{} %{syslog_timestamp} %{hostname} %{rt}: %{reason} %{+reason} %{src_ip}/%{src_port}->%{dst_ip}/%{dst_port} %{polrt} %{+polrt} %{+polrt} %{from_zone} %{to_zone} %{rest}",
			"42 2016-05-25T14:47:23Z host.name.com RT_FLOW - RT_FLOW_SESSION_DENY: session denied 2.2.2.20/60000->1.1.1.10/8090 None 6(0) DEFAULT-DENY ZONE-UNTRUST ZONE-DMZ UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0",
			map[string]string{"syslog_timestamp": "2016-05-25T14:47:23Z", "hostname": "host.name.com", "rt": "RT_FLOW - RT_FLOW_SESSION_DENY", "reason": "session denied",
				"src_ip": "2.2.2.20", "src_port": "60000", "dst_ip": "1.1.1.10", "dst_port": "8090", "polrt": "None 6(0) DEFAULT-DENY", "from_zone": "ZONE-UNTRUST",
				"to_zone": "ZONE-DMZ", "rest": "UNKNOWN UNKNOWN N/A(N/A) ge-0/0/0.0"}},
		{"unicode delimiters", "%{a} » %{b}»%{c}€%{d}", "foo » bar»baz€quux", map[string]string{"a": "foo", "b": "bar", "c": "baz", "d": "quux"}},
	} {
		f := fntest.Build(t, Spec, fmt.Sprintf("pattern: %q", c.pattern))
		out := f.Run(event.New(time0, c.msg))
		got := map[string]string{}
		for _, fd := range out[0].Fields() {
			if fd.Key != event.MessageField {
				got[fd.Key] = fd.Value.Text()
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestZeroCopy checks that values are substrings of the input and that
// dissecting allocates nothing.
func TestZeroCopy(t *testing.T) {
	f := fntest.Build(t, Spec, "pattern: '%{a} %{b}'")
	ev := event.NewSized(time0, 4)
	msg := "first second"
	ev.AppendField(event.MessageField, event.String(msg))
	f.Apply(&ev, nil)
	b, _ := ev.GetString("b")
	if b != "second" || unsafe.StringData(b) != unsafe.StringData(msg[6:]) {
		t.Fatalf("b = %q is not a substring of the message", b)
	}
	if got := testing.AllocsPerRun(100, func() {
		ev.Reset()
		ev.AppendField(event.MessageField, event.String(msg))
		f.Apply(&ev, nil)
	}); got != 0 {
		t.Errorf("%v allocations per event", got)
	}
}

func TestConcurrentApply(t *testing.T) {
	f := fntest.Build(t, Spec, "pattern: '%{a} %{+a} %{?k}=%{&k}'")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				ev := event.New(time0, fmt.Sprintf("x%d y%d k%d=v", g, i, g))
				f.Apply(&ev, nil)
				if a, _ := ev.GetString("a"); a != fmt.Sprintf("x%d y%d", g, i) {
					t.Errorf("a = %q", a)
					return
				}
				if v, _ := ev.GetString(fmt.Sprintf("k%d", g)); v != "v" {
					t.Errorf("k%d = %q", g, v)
					return
				}
			}
		})
	}
	wg.Wait()
}

// reference returns a regexp that matches what p matches when dissection
// succeeds, with one group per field: each field is a lazy group, each
// delimiter a literal (repeated for -> fields). Unlike dissection the
// regexp backtracks (it may match where dissection fails), but where
// dissection succeeds the regexp's first choice at every step is
// dissection's, so the groups must be the same.
func reference(p *pattern) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A` + regexp.QuoteMeta(p.lead))
	last := len(p.fields) - 1
	for i, f := range p.fields {
		d := regexp.QuoteMeta(p.delims[i])
		switch {
		case i == last && d == "":
			b.WriteString(`(.*)\z`)
		case f.pad:
			b.WriteString(`(.*?)` + d + `(?:` + d + `)*`)
		default:
			b.WriteString(`(.*?)` + d)
		}
	}
	return regexp.MustCompile(b.String())
}

// checkMatch checks a dissection of s: the values and delimiters must
// rebuild the input, each value must end at the first occurrence of its
// delimiter, and the reference regexp must find the same values (when it
// can be built: Go regexps are UTF-8, and U+FFFD in one matches any invalid
// byte).
func checkMatch(t *testing.T, p *pattern, s string) {
	t.Helper()
	spans := make([]span, len(p.fields))
	if !p.match(s, spans) {
		return
	}
	pos := len(p.lead)
	if !strings.HasPrefix(s, p.lead) {
		t.Fatalf("%q does not start with %q", s, p.lead)
	}
	for i, sp := range spans {
		d := p.delims[i]
		v := s[sp.start:sp.end]
		if sp.start != pos || (d != "" && strings.Contains(v, d)) || !strings.HasPrefix(s[sp.end:], d) {
			t.Fatalf("field %d of %q: [%d,%d) after %d, delimiter %q", i, s, sp.start, sp.end, pos, d)
		}
		pos = sp.end + len(d)
		for p.fields[i].pad && d != "" && strings.HasPrefix(s[pos:], d) {
			pos += len(d)
		}
	}
	if last := len(spans) - 1; p.delims[last] == "" && spans[last].end != len(s) {
		t.Fatalf("the last field of %q ends at %d", s, spans[last].end)
	}
	all := p.lead + strings.Join(p.delims, "")
	if !utf8.ValidString(all) || strings.ContainsRune(all, utf8.RuneError) {
		return
	}
	loc := reference(p).FindStringSubmatchIndex(s)
	if loc == nil {
		t.Fatalf("dissection of %q succeeded where %s does not match", s, reference(p))
	}
	for i, sp := range spans {
		if sp.start != loc[2*i+2] || sp.end != loc[2*i+3] {
			t.Fatalf("field %d of %q: [%d,%d), the reference %s says [%d,%d)", i, s, sp.start, sp.end, reference(p), loc[2*i+2], loc[2*i+3])
		}
	}
}

func FuzzDissectPattern(f *testing.F) {
	for _, p := range []string{
		"%{ts} %{+ts} %{+ts} %{src} %{} %{prog}[%{pid}]: %{msg}", "%{+a/2} %{+a/1} %{+a/4} %{+a/3}", "%{?k}=%{&k}",
		"[%{a}] %{b->} %{c}.log", "%{a}%{b}", "%{+&x}", "%{", "x%{a}y", "%{*k}: %{&k} %{k->}", apachePattern,
	} {
		f.Add(p, "Mar 16 00:01:25 evita skip-this postfix/smtpd[1713]: connect")
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		c := Spec.NewConfig().(*Config)
		c.Pattern = pat
		if c.Validate() != nil {
			return
		}
		g, err := Spec.Build(c, component.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ev := event.New(time0, s)
		g.Apply(&ev, nil)
		checkMatch(t, c.pat, s)
	})
}

func FuzzDissectInput(f *testing.F) {
	for _, l := range []string{
		`83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 203023 "-" "curl/8"`,
		"1 2 3 go", "foo=bar, baz=quux", "", "x", "a  b   c", "\xff\x00 [] \"\"",
	} {
		f.Add(l)
	}
	patterns := []string{apachePattern, "%{+a/2} %{a} %{+a/1} %{?k}=%{&k}, %{rest}", "%{id->} %{function->} %{server}.", "[%{a}]%{b}"}
	funcs := make([]*fntest.Func, len(patterns))
	for i, p := range patterns {
		funcs[i] = fntest.Build(f, Spec, fmt.Sprintf("pattern: %q", p))
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, g := range funcs {
			p := g.Function.(*fn).pat
			out := g.Run(event.New(time0, s))
			if len(out) != 1 {
				t.Fatalf("%d events", len(out))
			}
			spans := make([]span, len(p.fields))
			ok := p.match(s, spans)
			if failed := out[0].HasTag("_dissectfailure"); failed == ok {
				t.Fatalf("matched %v, tagged %v", ok, failed)
			}
			if !ok {
				if out[0].Len() != 2 { // message and tags
					t.Fatalf("a failed event changed: %s", fntest.JSON(&out[0]))
				}
				continue
			}
			checkMatch(t, p, s)
			// Normal fields hold their text.
			for i, fd := range p.fields {
				if fd.kind == normal && fd.name != "a" && fd.name != "message" {
					if v, _ := out[0].GetString(fd.name); v != s[spans[i].start:spans[i].end] {
						t.Fatalf("%s = %q, want %q", fd.name, v, s[spans[i].start:spans[i].end])
					}
				}
			}
		}
	})
}
