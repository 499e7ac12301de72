package mask

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fntest"
)

func TestGolden(t *testing.T) { fntest.RunGolden(t, Spec) }

func TestValidate(t *testing.T) {
	for _, c := range []struct{ yaml, key, msg string }{
		{"", "rules", "at least one rule"},
		{"rules: []", "rules", "at least one rule"},
		{"fields: []\nrules: [{preset: email}]", "fields", "at least one field"},
		{"fields: ['']\nrules: [{preset: email}]", "fields", "empty"},
		{"rules: [{}]", "rules", "needs a preset"},
		{"rules: [{preset: phone}]", "rules", "unknown preset"},
		{"rules: [{preset: email, regex: x}]", "rules", "not both"},
		{"rules: [{preset: email, group: 1}]", "rules", "group is for regex"},
		{"rules: [{regex: '('}]", "rules", "cannot compile"},
		{"rules: [{regex: 'a*'}]", "rules", "empty string"},
		{"rules: [{regex: '(a)', group: 2}]", "rules", "does not exist"},
		{"rules: [{regex: 'a', group: -1}]", "rules", "does not exist"},
		{"rules: [{preset: email, with: md5}]", "rules", "text or sha256"},
		{"rules: [{preset: email, with: sha256, replace: x}]", "rules", "replace is for"},
		{"rules: [{preset: email}]\nsalt: x", "salt", "only used"},
	} {
		fntest.ExpectConfigError(t, Spec, c.yaml, c.key, c.msg)
	}
}

// luhnRef is an independent Luhn check: double every second digit from the
// right by table.
func luhnRef(digits string) bool {
	doubled := [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d = doubled[d]
		}
		sum += d
	}
	return len(digits) > 0 && sum%10 == 0
}

func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"4111111111111111", true},
		{"4111 1111 1111 1111", true},
		{"378282246310005", true},
		{"6011111111111117", true},
		{"4111111111111112", false},
		{"1234567890123", false},
		{"0000000000000", true},
		{"", false},
	} {
		if got := luhn(c.s); got != c.want {
			t.Errorf("luhn(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestRequiredLiterals(t *testing.T) {
	for _, c := range []struct{ re, want string }{
		{`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`, "@"},
		{`(?i)\bbearer\s+(\S+)`, "bearer/i"},
		{`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}`, ".eyJ"},
		{`token=(\w+)`, "token="},
		{`(?:foo|barbaz)x?`, "foo,barbaz"},
		{`a?b*`, ""},
		{`\d+`, ""},
		{`(?:foo|\d)`, ""},
		{`(?i)stra\x{DF}e`, ""},
	} {
		var parts []string
		for _, l := range requiredLiterals(c.re) {
			s := l.s
			if l.fold {
				s += "/i"
			}
			parts = append(parts, s)
		}
		if got := strings.Join(parts, ","); got != c.want {
			t.Errorf("%s: %q, want %q", c.re, got, c.want)
		}
	}
	// The presets' sets, derived or hand-written, are what make the common
	// case fast: check none of them lost its prefilter.
	for name, p := range presets {
		if p.prefilter == nil && requiredLiterals(p.regex) == nil {
			t.Errorf("preset %s has no prefilter", name)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, c := range []struct {
		s, lit string
		want   bool
	}{
		{"an Authorization header", "authorization", true},
		{"AUTHORIZATION", "authorization", true},
		{"authorizatio", "authorization", false},
		{"xxBeArEr", "bearer", true},
		{"bearebearer", "bearer", true},
		{"", "a", false},
		{"a", "", true},
		{"TOKEN", "token", true},
		{"1-2", "-", true},
	} {
		if got := containsFold(c.s, c.lit); got != c.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", c.s, c.lit, got, c.want)
		}
	}
	// Go's (?i) folds k with the Kelvin sign and s with the long s.
	for _, c := range []struct {
		s, lit string
		want   bool
	}{
		{"to\u212Aen", "token", true},
		{"\u212Aey", "key", true},
		{"pa\u017F\u017Fword", "password", true},
		{"\u017Fecret", "secret", true},
		{"caf\u00e9 token", "token", true},
		{"caf\u00e9 tok", "token", false},
		{"to\u212A", "token", false},
	} {
		if got := containsFold(c.s, c.lit); got != c.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", c.s, c.lit, got, c.want)
		}
		if re := regexp.MustCompile("(?i)" + c.lit); re.MatchString(c.s) != c.want {
			t.Errorf("test case %q, %q disagrees with regexp", c.s, c.lit)
		}
	}
}

func TestHandPrefilters(t *testing.T) {
	for _, c := range []struct {
		f    func(string) bool
		s    string
		want bool
	}{
		{dottedQuad, "ip 10.0.0.1 x", true},
		{dottedQuad, "1.2.3.4", true},
		{dottedQuad, "v1.2.3", false},
		{dottedQuad, "Mozilla/5.0 AppleWebKit/537.36 2026-01-02T03:04:05.123Z", false},
		{dottedQuad, "1234.1.2.3", true},
		{dottedQuad, "1..2.3.4", false},
		{dottedQuad, "....", false},
		{digitRun13, "4111 1111 1111 1111", true},
		{digitRun13, "4111-1111-1111-1", true},
		{digitRun13, "2026-01-02T03:04:05.123", false},
		{digitRun13, "123456789012", false},
		{digitRun13, "1234567890123", true},
		{digitRun13, "123456  7890123", false},
	} {
		if got := c.f(c.s); got != c.want {
			t.Errorf("%q: %v, want %v", c.s, got, c.want)
		}
	}
}

// TestNoMatchNoAlloc checks that a line with nothing to mask costs no
// allocation.
func TestNoMatchNoAlloc(t *testing.T) {
	f := fntest.Build(t, Spec, allPresets)
	ev := event.New(time.Unix(0, 0), line300)
	if n := testing.AllocsPerRun(100, func() { f.Apply(&ev, nil) }); n != 0 {
		t.Errorf("%v allocations per event with nothing to mask", n)
	}
}

const allPresets = `rules:
  - preset: email
  - preset: credit_card
  - preset: ipv4
  - preset: bearer_token
  - preset: authorization
  - preset: aws_access_key
  - preset: kv_secret
  - preset: jwt
`

// line300 is a 300-byte access log line with nothing to mask.
var line300 = func() string {
	s := `2026-01-02T03:04:05.123Z INFO [http-nio-8080-exec-7] c.e.api.UserController - GET /api/v1/users/42/orders?page=2&size=50 status=200 duration_ms=37 bytes=5120 ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" trace_id=7f3a9c2e41b84d6f span_id=9e1c request_id=req-8842-ab`
	for len(s) < 300 {
		s += " ok"
	}
	return s[:300]
}()

func benchMask(b *testing.B, cfg, msg string) {
	f := fntest.Build(b, Spec, cfg)
	src := event.New(time.Unix(0, 0), msg)
	b.SetBytes(int64(len(msg)))
	var ev event.Event
	b.ReportAllocs()
	for b.Loop() {
		ev = src
		f.Apply(&ev, nil)
		// Masking sets the value in place: put the original back.
		src.SetString(event.MessageField, msg)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkMaskNoMatch(b *testing.B) { benchMask(b, allPresets, line300) }

func BenchmarkMaskOneEmail(b *testing.B) {
	benchMask(b, allPresets, strings.Replace(line300, "request_id=req-8842-ab", "user=jo.doe@example.com", 1))
}

func BenchmarkMaskNoMatchEmailOnly(b *testing.B) {
	benchMask(b, "rules: [{preset: email}]", line300)
}

// naive applies the rules of f without prefilters or windows.
func naive(f *fn, s string) string {
	for i := range f.rules {
		r := f.rules[i]
		r.prefilter, r.window = nil, nil
		if out, ok := f.apply(&r, s); ok {
			s = out
		}
	}
	return s
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{
		line300,
		"card 4111 1111 1111 1111 and 4111-1111-1111-1112 a@b.co",
		"Authorization: Bearer eyJabcdef.eyJabcdef.x password='a\\'b' AKIAIOSFODNN7EXAMPLE 10.0.0.1",
		"to\u212Aen=abc pa\u017F\u017Fword: x",
		"4111111111111111111111 1.2.3.4.5.6.7.8",
		"a@b.co_x@y.com x@ab.cd@ef.gh a@b_x@y.com @@ q@r.s.tu%v@w.xy",
	} {
		f.Add(s)
	}
	fn := fntest.Build(f, Spec, allPresets).Function.(*fn)
	card := regexp.MustCompile(presets["credit_card"].regex)
	f.Fuzz(func(t *testing.T, s string) {
		got, changed := fn.maskString(s)
		// The prefilters never hide a match.
		if want := naive(fn, s); got != want {
			t.Fatalf("prefiltered %q, naive %q", got, want)
		}
		if !changed && got != s {
			t.Fatalf("reported unchanged but %q became %q", s, got)
		}
		for i := range fn.rules {
			r := &fn.rules[i]
			if r.prefilter != nil && !r.prefilter(s) && r.re.MatchString(s) {
				t.Fatalf("rule %d: prefilter says no, regex matches %q", i, s)
			}
		}
		// No card that passes the Luhn check is left; every Luhn check agrees
		// with the reference.
		for _, m := range card.FindAllString(got, -1) {
			digits := strings.NewReplacer(" ", "", "-", "").Replace(m)
			if luhnRef(digits) {
				t.Fatalf("card %q left in %q", m, got)
			}
		}
		for _, m := range card.FindAllString(s, -1) {
			digits := strings.NewReplacer(" ", "", "-", "").Replace(m)
			if luhn(m) != luhnRef(digits) {
				t.Fatalf("luhn(%q) disagrees with the reference", m)
			}
		}
	})
}

// FuzzLuhn compares luhn with the reference on digit strings.
func FuzzLuhn(f *testing.F) {
	f.Add("4111111111111111")
	f.Add("79927398713")
	f.Fuzz(func(t *testing.T, s string) {
		var digits strings.Builder
		for i := 0; i < len(s); i++ {
			if isDigit(s[i]) {
				digits.WriteByte(s[i])
			}
		}
		if luhn(s) != luhnRef(digits.String()) {
			t.Fatalf("luhn(%q) = %v, reference says otherwise", s, luhn(s))
		}
	})
}

// FuzzPrefilter checks the derived literal prefilters of arbitrary regexes:
// whenever the regex matches, the prefilter must say maybe.
func FuzzPrefilter(f *testing.F) {
	f.Add(`(?i)to(k|x)en=\w+`, "TO\u212AEN=1")
	f.Add(`foo|ba[rz]+`, "xxbazz")
	f.Add(`(?:ab){2,}c`, "ababc")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		ls := requiredLiterals(expr)
		if ls != nil && re.MatchString(s) && !ls.match(s) {
			t.Fatalf("%s matches %q but the prefilter %v says no", expr, s, ls)
		}
	})
}

// TestConcurrent runs one function from many goroutines (under -race): the
// pooled HMACs must not leak state between strings.
func TestConcurrent(t *testing.T) {
	f := fntest.Build(t, Spec, "rules: [{preset: email, with: sha256}]\nsalt: s")
	want := f.Run(event.New(time.Unix(0, 0), "to a@b.io"))[0].Message()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				ev := event.New(time.Unix(0, 0), "to a@b.io")
				f.Apply(&ev, nil)
				if got := ev.Message(); got != want {
					t.Errorf("got %s, want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzEmailWindow checks the email window against a whole-string search on
// strings made of the characters that matter to it.
func FuzzEmailWindow(f *testing.F) {
	f.Add([]byte("a@b.co_x@y.com"))
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	const alphabet = "ab.@_-%+ Z9"
	r, err := compile(&Rule{Preset: "email"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		b := make([]byte, len(raw))
		for i, c := range raw {
			b[i] = alphabet[int(c)%len(alphabet)]
		}
		s := string(b)
		got, want := r.find(s), r.re.FindAllStringSubmatchIndex(s, -1)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: window %v, whole string %v", s, got, want)
		}
	})
}

// digitRun13Ref is the plain scan digitRun13 must agree with.
func digitRun13Ref(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			run++
			if run >= 13 {
				return true
			}
		case (s[i] == ' ' || s[i] == '-') && run > 0 && i+1 < len(s) && isDigit(s[i+1]):
		default:
			run = 0
		}
	}
	return false
}

// FuzzDigitRun compares the strided scan with the plain one, on strings made
// of digits, separators and a letter.
func FuzzDigitRun(f *testing.F) {
	f.Add([]byte("4111 1111 1111 1111"))
	f.Add([]byte("12345678901 2-3"))
	const alphabet = "0123456789 -x"
	f.Fuzz(func(t *testing.T, raw []byte) {
		b := make([]byte, len(raw))
		for i, c := range raw {
			b[i] = alphabet[int(c)%len(alphabet)]
		}
		if s := string(b); digitRun13(s) != digitRun13Ref(s) {
			t.Fatalf("%q: strided %v, plain %v", s, digitRun13(s), digitRun13Ref(s))
		}
	})
}
