package grok

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/elastic/go-grok"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key, msg string }{
		{"patterns: []", "patterns", "at least one pattern"},
		{"patterns: ['']", "patterns", "empty"},
		{"patterns: ['%{NOPE:x}']", "patterns", "unknown pattern NOPE"},
		{"patterns: ['%{WORD:x']", "patterns", "unterminated"},
		{"patterns: ['%{:x}']", "patterns", "invalid reference"},
		{"patterns: ['%{WORD:x:integer}']", "patterns", `unknown type "integer"`},
		{"patterns: ['%{WORD:a:int:b}']", "patterns", "invalid reference"},
		{"patterns: ['%{WORD:..}']", "patterns", "invalid field name"},
		{"patterns: ['%{WORD:@timestamp}']", "patterns", "@timestamp"},
		{"patterns: ['%{FOO=\\d+}']", "patterns", "inline definitions"},
		{"patterns: ['(%{WORD:x}']", "patterns", "missing closing )"},
		{"patterns: ['(?<=a)b']", "patterns", "invalid regexp"},
		{"patterns: ['(?<sluicegrok7>a)']", "patterns", "reserved"},
		{"patterns: ['%{A}']\npattern_definitions: {A: '%{B}', B: '%{A}'}", "patterns", "refers to itself (A → B → A)"},
		{"patterns: ['%{A}']\npattern_definitions: {A: '%{C}'}", "patterns", "unknown pattern C (in A)"},
		{"patterns: ['%{A}']\npattern_definitions: {A: '%{B}%{B}%{B}%{B}', B: '%{C}%{C}%{C}%{C}', C: '%{D}%{D}%{D}%{D}', D: '%{E}%{E}%{E}%{E}', E: '%{F}%{F}%{F}%{F}', F: '%{IPV6}%{IPV6}%{IPV6}%{IPV6}'}", "patterns", "larger than"},
		{"patterns: [x]\npattern_definitions: {'A:B': x}", "pattern_definitions", "letters, digits and _"},
		{"patterns: [x]\npattern_definitions: {A: ''}", "pattern_definitions", "empty"},
		{"patterns: [x]\nfield: ''", "field", "must name"},
		{"patterns: [x]\ntarget: .x", "target", "not a field name"},
		{"patterns: [x]\noverwrite: ['']", "overwrite", "empty"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, c.msg)
	}
	for _, ok := range []string{
		"patterns: ['%{WORD:x:int}', '%{NUMBER:[a][b]:float}', '%{WORD:x:long} %{WORD:y:double} %{WORD:z:string}']",
		"patterns: ['plain regexp (?P<a>x) (?<b>y)']",
		// Logstash ignores what follows the name and type (go-grok's
		// firewall patterns rely on it).
		"patterns: ['%{DATA:source.user.name?}']",
		"patterns: ['%{MYWORD:w}']\npattern_definitions: {MYWORD: '%{WORD}', WORD: '[a-z]+'}",
	} {
		if _, err := fntest.TryBuild(Spec, ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// libraryPrograms compiles every pattern of the library, once, with
// named_captures_only false (so that every reference captures).
var libraryPrograms = sync.OnceValues(func() (map[string]*program, error) {
	progs := map[string]*program{}
	for name := range library() {
		p, err := compile("%{"+name+"}", options{namedOnly: false})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		progs[name] = p
	}
	return progs, nil
})

// TestLibraryCompiles compiles every pattern of the library, with and
// without named_captures_only.
func TestLibraryCompiles(t *testing.T) {
	lib := library()
	if len(lib) < 200 {
		t.Fatalf("library has %d patterns", len(lib))
	}
	if _, err := libraryPrograms(); err != nil {
		t.Errorf("named_captures_only false: %v", err)
	}
	for _, name := range slices.Sorted(maps.Keys(lib)) {
		if _, err := compile("%{"+name+"}", options{namedOnly: true}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDefinitionReplacesLibrary checks that pattern_definitions win over
// library patterns of the same name, also inside library patterns.
func TestDefinitionReplacesLibrary(t *testing.T) {
	f := fntest.Build(t, Spec, "patterns: ['%{IPORHOST:h}']\npattern_definitions: {HOSTNAME: 'only-this'}")
	for msg, want := range map[string]string{"10.0.0.1": "10.0.0.1", "only-this": "only-this", "example.com": ""} {
		out := f.Run(fntest.Event(t, fmt.Sprintf(`{"message":%q}`, msg)))
		got, _ := out[0].GetString("h")
		if got != want {
			t.Errorf("%q: h = %q, want %q", msg, got, want)
		}
	}
}

// goGrokCompare are the library patterns compared with go-grok itself.
var goGrokCompare = []string{
	"COMBINEDAPACHELOG", "COMMONAPACHELOG", "HTTPD_ERRORLOG", "SYSLOGLINE", "SYSLOGBASE", "SYSLOG5424LINE",
	"IP", "IPV6", "HOSTNAME", "IPORHOST", "HOSTPORT", "URI", "URIPATHPARAM", "TIMESTAMP_ISO8601", "HTTPDATE",
	"DATESTAMP", "LOGLEVEL", "NUMBER", "BASE16FLOAT", "QS", "UUID", "MAC", "EMAILADDRESS", "PATH",
	"SYSLOGTIMESTAMP", "CATALINALOG", "TOMCATLOG", "JAVASTACKTRACEPART", "HAPROXYHTTP",
	"CISCOTIMESTAMP", "ELB_ACCESS_LOG", "S3_ACCESS_LOG", "RUBY_LOGGER", "MONGO3_LOG", "POSTGRESQL", "REDISLOG",
	"SQUID3", "BRO_HTTP", "EXIM_MESSAGE_ARRIVAL", "BIND9", "MCOLLECTIVE", "MAVEN_VERSION", "RAILS3",
}

// goGrokSamples are lines of the kinds the compared patterns parse.
var goGrokSamples = []string{
	`83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"`,
	`[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6`,
	`[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:4242] File does not exist: /usr/local/apache2/htdocs/favicon.ico`,
	`Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!`,
	`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event log entry`,
	`2024-01-02T03:04:05.678+01:00 fe80::1ff:fe23:4567:890a user@example.com http://user:pw@example.com:8080/a/b?c=d#e`,
	`2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster`,
	`Nov 3, 2016 2:46:39 PM org.apache.catalina.startup.Catalina start INFO: Server startup in 1234 ms`,
	`	at org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:233)`,
	`Feb  8 21:51:10 myhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"`,
	`2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2`,
	`I, [2014-01-02T03:04:05.123456 #1234]  INFO -- main: hello`,
	`1386182398.123 1234 10.1.1.1 TCP_MISS/200 1234 GET http://www.example.com/ - DIRECT/93.184.216.34 text/html`,
	`2014-12-12 13:45:01 UTC [123] user@db LOG:  duration: 1.2 ms`,
	`00:0a:95:9d:68:16 f81d4fae-7dec-11d0-a765-00a0c91e6bf6 "quoted \"string\"" 3.14e-2 0x1F`,
	`[1234] 12 Feb 13:45:01.123 * Background saving started`,
	"", "-", "a b c", `C:\Windows\System32\x.dll /usr/local/bin/x`,
}

// TestMatchesGoGrok checks that captures are those go-grok finds: the same
// pattern library, expanded the same way, matched by a different engine.
// go-grok keeps the last non-empty value of a name; so does the comparison.
func TestMatchesGoGrok(t *testing.T) {
	compared := 0
	for _, name := range goGrokCompare {
		g, err := grok.NewComplete()
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Compile("%{"+name+"}", true); err != nil {
			t.Fatalf("go-grok: %s: %v", name, err)
		}
		p, err := compile("%{"+name+"}", options{namedOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(goGrokSamples, apacheLines(t)[:30]...) {
			want, err := g.ParseString(s)
			if err != nil {
				t.Fatal(err)
			}
			got := captureMap(p, s)
			if !maps.Equal(got, want) {
				t.Errorf("%s on %q:\n got %v\nwant %v", name, s, got, want)
			}
			if len(want) > 0 {
				compared++
			}
		}
	}
	if compared < 80 {
		t.Errorf("only %d matches compared", compared)
	}
}

// captureMap returns the non-empty captures of p in s, later groups
// replacing earlier ones of the same name, as go-grok reports them.
func captureMap(p *program, s string) map[string]string {
	m := map[string]string{}
	loc := p.find(s, nil)
	if loc == nil {
		return m
	}
	for _, c := range p.captures {
		if a, b := loc[2*c.group], loc[2*c.group+1]; a >= 0 && b > a {
			m[c.name] = s[a:b]
		}
	}
	return m
}

func TestConvert(t *testing.T) {
	for _, c := range []struct {
		in   string
		typ  convType
		want any
	}{
		{"42", convInt, int64(42)}, {"-42", convInt, int64(-42)}, {"+7", convInt, int64(7)},
		{"  12 ", convInt, int64(12)}, {"3.99", convInt, int64(3)}, {"1e5", convInt, int64(1)},
		{"", convInt, int64(0)}, {"abc", convInt, int64(0)}, {"1_234_5", convInt, int64(12345)},
		{"1__2", convInt, int64(1)}, {"_1", convInt, int64(0)}, {"-", convInt, int64(0)},
		{"9223372036854775807", convInt, int64(9223372036854775807)}, {"9223372036854775808", convInt, 9223372036854775808.0},
		{"1.5", convFloat, 1.5}, {"-.5", convFloat, -0.5}, {"1.", convFloat, 1.0}, {"1.e5", convFloat, 1.0},
		{"1e5", convFloat, 100000.0}, {"1E-2x", convFloat, 0.01}, {"1e", convFloat, 1.0}, {"e5", convFloat, 0.0},
		{"Infinity", convFloat, 0.0}, {"1e999", convFloat, "1e999"}, {"12.5.6", convFloat, 12.5}, {"", convFloat, 0.0},
		{"x", convString, "x"},
	} {
		got := convert(c.in, c.typ).Interface()
		if got != c.want {
			t.Errorf("convert(%q, %d) = %#v, want %#v", c.in, c.typ, got, c.want)
		}
	}
}

// TestConcurrentApply runs one function from many goroutines (run with
// -race): programs share their compiled regexps and pooled match state.
func TestConcurrentApply(t *testing.T) {
	f := fntest.Build(t, Spec, "patterns: ['%{COMBINEDAPACHELOG}', '%{SYSLOGLINE}']")
	lines := apacheLines(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				l := lines[(g*31+i)%len(lines)]
				ev := event.New(time0, l)
				f.Apply(&ev, nil)
				want := captureMap(f.Function.(*fn).progs[0], l)
				for k, v := range want {
					got, _ := ev.GetString(k)
					if got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if n := f.Failures.Value(); n != 0 {
		t.Errorf("%d failures", n)
	}
}

// TestNoMatchLeavesEvent checks that a failed event is unchanged but for
// the tags.
func TestNoMatchLeavesEvent(t *testing.T) {
	f := fntest.Build(t, Spec, "patterns: ['^%{INT:a} %{INT:b}$']\ntag_on_failure: [t1, t2]")
	out := f.Run(fntest.Event(t, `{"message":"1 x","a":"keep"}`))
	if got, want := fntest.JSON(&out[0]), `{"@timestamp":"2026-01-02T03:04:05Z","a":"keep","message":"1 x","tags":["t1","t2"]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func FuzzGrokInput(f *testing.F) {
	for _, l := range goGrokSamples {
		f.Add(l)
	}
	f.Add("1.2.3.4 - - [x] \"GET / HTTP/1.1\" 200 - \"-\" \"-\"\n\xff")
	g := fntest.Build(f, Spec, "patterns: ['%{COMBINEDAPACHELOG}', '%{SYSLOGLINE}', '^%{NUMBER:n:float} %{INT:i:int} (?<rest>.*)$']\nbreak_on_match: false")
	progs := g.Function.(*fn).progs
	f.Fuzz(func(t *testing.T, s string) {
		ev := event.New(time0, s)
		out := g.Run(ev)
		if len(out) != 1 {
			t.Fatalf("%d events", len(out))
		}
		matched := false
		for _, p := range progs {
			// The backtracker must agree with Go's regexp.
			got := p.find(s, nil)
			if want := p.full.FindStringSubmatchIndex(s); !slices.Equal(got, want) {
				t.Fatalf("backtracker %v, regexp %v", got, want)
			}
			if got == nil {
				continue
			}
			matched = true
			// Every string capture is a substring of the input at its place.
			for _, c := range p.captures {
				if a, b := got[2*c.group], got[2*c.group+1]; a >= 0 && (a > b || b > len(s)) {
					t.Fatalf("capture %s at [%d,%d) of %d bytes", c.name, a, b, len(s))
				}
			}
		}
		if failed := out[0].HasTag("_grokparsefailure"); failed == matched {
			t.Fatalf("matched %v but tagged %v: %s", matched, failed, fntest.JSON(&out[0]))
		}
	})
}

func FuzzGrokPattern(f *testing.F) {
	f.Add(`%{WORD:a} %{INT:b:int}`, "hello 42")
	f.Add(`%{COMBINEDAPACHELOG}`, goGrokSamples[0])
	f.Add(`(?<x___y>\d+)%{NUMBER:[a][b]:float}?`, "12 3.5")
	f.Add(`%{A}`, "x")
	f.Add(`%{WORD:x:foo}`, "x")
	f.Add(`%{DATA:m}|(?i)^%{LOGLEVEL:l}$`, "warning")
	f.Fuzz(func(t *testing.T, pat, s string) {
		if len(pat) > 300 || len(s) > 1000 {
			return
		}
		c := Spec.NewConfig().(*Config)
		c.Patterns = []string{pat}
		c.KeepEmptyCaptures = len(s)%2 == 0
		c.PatternDefinitions = map[string]string{"A": `%{WORD:a}|x`}
		if c.Validate() != nil {
			return
		}
		g, err := Spec.Build(c, component.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ev := event.New(time0, s)
		g.Apply(&ev, nil)
		p := c.progs[0]
		if got, want := p.find(s, nil), p.full.FindStringSubmatchIndex(s); !slices.Equal(got, want) {
			t.Fatalf("backtracker %v, regexp %v", got, want)
		}
	})
}
