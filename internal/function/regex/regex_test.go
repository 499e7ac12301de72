package regex

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key, msg string }{
		{"patterns: []", "patterns", "at least one pattern"},
		{"patterns: ['']", "patterns", "empty"},
		{"patterns: ['(a']", "patterns", "missing closing )"},
		{"patterns: ['(?<=a)b']", "patterns", "error parsing regexp"},
		{"patterns: ['a++']", "patterns", "invalid nested repetition"},
		{"patterns: ['(a)(b)']", "patterns", "no named groups"},
		{"patterns: ['(?P<a>x)', '(?P<b>y']", "patterns", "pattern 1"},
		{"patterns: ['(?P<a>x)']\nfield: ''", "field", "must name"},
		{"patterns: ['(?P<a>x)']\ntarget: 'x.'", "target", "not a field name"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, c.msg)
	}
}

var time0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestAnchoredSameAsSearch checks that trying the anchored pattern first
// finds what the plain search finds, matches at position 0 or later.
func TestAnchoredSameAsSearch(t *testing.T) {
	for _, pat := range []string{`(?P<a>\w+)`, `(?P<a>b+)|(?P<c>a)`, `(?P<a>x*)`, `(?i)(?P<a>B)`, `(?P<a>.*?)c`, `(?m)^(?P<a>\w+)$`} {
		p, err := compile(pat, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"", "abc", "  bbc", "x\nyz", "zzc", "B"} {
			if got, want := p.find(s), p.full.FindStringSubmatchIndex(s); !slices.Equal(got, want) {
				t.Errorf("%q on %q: %v, want %v", pat, s, got, want)
			}
		}
	}
}

// TestValuesShareInput checks that the values are substrings of the input,
// not copies.
func TestValuesShareInput(t *testing.T) {
	f := fntest.Build(t, Spec, `patterns: ['(?P<word>\w+)$']`)
	msg := strings.Repeat("x ", 100) + "last"
	ev := event.New(time0, msg)
	f.Apply(&ev, nil)
	got, _ := ev.GetString("word")
	if got != "last" || !sameMemory(got, msg[len(msg)-4:]) {
		t.Errorf("word = %q, not a substring of the message", got)
	}
}

// sameMemory reports whether a and b are the same bytes in memory.
func sameMemory(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

func TestConcurrentApply(t *testing.T) {
	f := fntest.Build(t, Spec, `patterns: ['(?P<n>\d+)']`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				ev := event.New(time0, strings.Repeat("a", i%7)+" "+string(rune('0'+g)))
				f.Apply(&ev, nil)
				if n, _ := ev.GetString("n"); n != string(rune('0'+g)) {
					t.Errorf("n = %q", n)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzRegexInput(f *testing.F) {
	f.Add(`10.0.0.1 - alice [17/May/2015:10:05:03 +0000] "GET /index.html HTTP/1.1" 200 512`)
	f.Add("login ok user=bob from 10.0.0.2")
	f.Add("=\n;\xff")
	g := fntest.Build(f, Spec, `patterns:
  - '^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)'
  - '(?P<key>\w*)=(?P<value>\d+)?(?:;(?P<key>\w+))?'
  - '(?s)(?P<all>.+)'`)
	progs := g.Function.(*fn).progs
	f.Fuzz(func(t *testing.T, s string) {
		out := g.Run(event.New(time0, s))
		if len(out) != 1 {
			t.Fatalf("%d events", len(out))
		}
		var first *program
		var loc []int
		for _, p := range progs {
			got, want := p.find(s), p.full.FindStringSubmatchIndex(s)
			if !slices.Equal(got, want) {
				t.Fatalf("anchored-first %v, search %v", got, want)
			}
			if got != nil && first == nil {
				first, loc = p, got
			}
		}
		if failed := out[0].HasTag("_regexparsefailure"); failed != (first == nil) {
			t.Fatalf("matched %v, tagged %v", first != nil, failed)
		}
		if first == nil {
			return
		}
		// Each field holds its group's text, taken from the input.
		for _, gr := range first.groups {
			a, b := loc[2*gr.index], loc[2*gr.index+1]
			v, ok := out[0].GetString(gr.key)
			if a < 0 {
				continue // a later group of the same name may have set it
			}
			if !ok || !strings.Contains(s, v) {
				t.Fatalf("%s = %q (%v), group at [%d,%d)", gr.key, v, ok, a, b)
			}
		}
	})
}

func BenchmarkRegex(b *testing.B) {
	f := fntest.Build(b, Spec, `patterns: ['^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/(?P<version>[\d.]+)" (?P<status>\d{3}) (?P<bytes>\d+|-) "(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"']`)
	line := `83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"`
	fntest.BenchLines(b, f, line)
	if f.Failures.Value() != 0 {
		b.Fatal("no match")
	}
}

// BenchmarkRegexUnanchored finds a key=value pair in the middle of a line.
func BenchmarkRegexUnanchored(b *testing.B) {
	f := fntest.Build(b, Spec, `patterns: ['\bduration=(?P<duration>\d+)ms status=(?P<status>\w+)']`)
	line := "2024-01-02T03:04:05Z INFO request handled path=/api/v1/users method=GET duration=123ms status=ok bytes=512"
	fntest.BenchLines(b, f, line)
}
