package grok

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

// compileBoth compiles a plain regexp for the backtracker and for Go's
// regexp package, as compile does.
func compileBoth(t testing.TB, expr string) (*backtracker, *regexp.Regexp, bool) {
	t.Helper()
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, nil, false
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		t.Fatalf("%q compiles with regexp but does not parse: %v", expr, err)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return newBacktracker(prog), re, true
}

// sameMatch checks that the backtracker finds what regexp finds in s.
func sameMatch(t testing.TB, bt *backtracker, re *regexp.Regexp, expr, s string) {
	t.Helper()
	if len(s) > bt.maxLen {
		return
	}
	want := re.FindStringSubmatchIndex(s)
	got := make([]int, bt.prog.NumCap)
	if !bt.match(s, got) {
		got = nil
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%q on %q: backtracker %v, regexp %v", expr, s, got, want)
	}
	if want != nil {
		tree, _ := syntax.Parse(expr, syntax.Perl)
		if lits := required(tree.Simplify()); !mayMatch(lits, s) {
			t.Fatalf("%q matches %q but the prefilter %q rejects it", expr, s, lits)
		}
	}
}

func TestBacktrackMatchesRegexp(t *testing.T) {
	exprs := []string{
		`a`, `a*`, `a*?`, `(a*)(a*)`, `(a*?)(a*)`, `(a|ab)(c|bcd)(d*)`, `(a+)(b+)?`, `^(\w+)\s*=\s*(.*?)$`,
		`(?m)^(\w+)$`, `(?s)a.b`, `a.b`, `\bfoo\b`, `(x)?y`, `((a)|b)+`, `(a|b)*?c`, `(?i)(hello) (WORLD)`,
		`[^a-z]+`, `(é+)(.)`, `\A(a)`, `(a)\z`, `(?U)(a+)(a*)`, `(|a)+`, `(a?)*?b`, `x*`, `$`, `^`,
		`(\d+)\.(\d+)?`, `(?:(a)|(b)|(c))+`, `Duration: (\d+)`, `(.*)(\d)`, `(.*?)(\d+)`,
	}
	inputs := []string{"", "a", "aa", "ab", "abcd", "aabbb", "key = value", "x\nfoo\ny", "a\nb", "axb",
		"foo bar", "y", "xy", "ababc", "hello world", "HELLO World", "123 abc", "éééx", "aaab", "Duration: 42 ms",
		"abc1234", "\xff\xfe", "b", "1.5", "ccc"}
	for _, expr := range exprs {
		bt, re, ok := compileBoth(t, expr)
		if !ok {
			t.Fatalf("%q does not compile", expr)
		}
		for _, s := range inputs {
			sameMatch(t, bt, re, expr, s)
		}
	}
}

// TestBacktrackLibrary runs every library pattern on lines of the kinds
// they parse, and on the other lines, against Go's regexp.
func TestBacktrackLibrary(t *testing.T) {
	lines := append(apacheLines(t)[:40],
		`Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]`,
		`2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200`,
		`[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties`,
		`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8`,
		`fe80::1%eth0 user@example.com`, "",
	)
	progs, err := libraryPrograms()
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range progs {
		for _, l := range lines {
			got := p.find(l, nil)
			want := p.full.FindStringSubmatchIndex(l)
			if !slices.Equal(got, want) {
				t.Errorf("%s on %q: backtracker %v, regexp %v", name, l, got, want)
			}
		}
	}
}

// TestBacktrackLongInput checks that inputs too long for the bit set go to
// regexp and still match.
func TestBacktrackLongInput(t *testing.T) {
	p, err := compile(`%{WORD:first} %{GREEDYDATA:rest}`, options{namedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	long := "hello " + strings.Repeat("x", p.bt.maxLen)
	loc := p.find(long, nil)
	if loc == nil || long[loc[2]:loc[3]] != "hello" || loc[5] != len(long) {
		t.Fatalf("long input: %v", loc)
	}
}

func FuzzBacktrack(f *testing.F) {
	f.Add(`(a|ab)(c|bcd)(d*)`, "abcd")
	f.Add(`^(\w+)\s*=\s*(.*?)$`, "key = value\nx = y")
	f.Add(`(?i)\b(hello)\b (.*)`, "HeLLo there")
	f.Add(`(a?)*?b`, "aaab")
	f.Add(`(?s)"(?:-|(.*?))" "(?:-|(.*?))"`, `"-" "Mozilla/5.0 (X11)"`)
	f.Add(`(\pL+)(\d*)`, "héllo123")
	f.Fuzz(func(t *testing.T, expr, s string) {
		if len(expr) > 200 || len(s) > 500 {
			return
		}
		bt, re, ok := compileBoth(t, expr)
		if !ok || len(bt.prog.Inst) > 5000 {
			return
		}
		sameMatch(t, bt, re, expr, s)
	})
}

func TestRequired(t *testing.T) {
	for expr, want := range map[string][]string{
		`a(b|c)d+e`:                 {"a", "d", "e"},
		`(?P<x>abc)x*(def)?(gh){2}`: {"abc", "gh"},
		`(?i)abc|def`:               nil,
		`(?i:ab)cd`:                 {"cd"},
		`"(?:-|.*?)" (\d+) "`:       {"\" ", " \""},
		"\ufffdx":                   nil, // the whole literal is skipped
	} {
		tree, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := required(tree.Simplify()); !slices.Equal(got, want) {
			t.Errorf("required(%q) = %q, want %q", expr, got, want)
		}
	}
	p, err := compile("%{COMBINEDAPACHELOG}", options{namedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.required) == 0 {
		t.Error("COMBINEDAPACHELOG has no required literals")
	}
	for _, l := range apacheLines(t) {
		if !mayMatch(p.required, l) {
			t.Fatalf("prefilter %q rejects %q", p.required, l)
		}
	}
}
