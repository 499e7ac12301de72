package lookup

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCIDRMatchesBruteForce checks the trie against a linear scan for the
// longest prefix, with prefixes clustered so that many overlap.
func TestCIDRMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randAddr := func(v6 bool) netip.Addr {
		if v6 {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			for i := 2; i < 16; i++ {
				b[i] = byte(r.IntN(4))
			}
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(4)), byte(r.IntN(256))})
	}
	var prefixes []netip.Prefix
	x := newCIDRIndex()
	for i := range 2000 {
		v6 := i%2 == 1
		a := randAddr(v6)
		p := netip.PrefixFrom(a, r.IntN(a.BitLen()+1)).Masked()
		prefixes = append(prefixes, p)
		x.insert(p, int32(i))
	}
	for range 5000 {
		a := randAddr(r.IntN(2) == 1)
		want, wantBits := int32(-1), -1
		for i, p := range prefixes {
			if p.Contains(a) && p.Bits() > wantBits {
				want, wantBits = int32(i), p.Bits()
			}
		}
		got, ok := x.lookup(a)
		if !ok {
			got = -1
		}
		if got != want {
			t.Fatalf("%s: row %d, want %d (%v)", a, got, want, prefixes[max(want, 0)])
		}
		// An IPv4-mapped address finds the same row.
		if a.Is4() {
			if got2, _ := x.lookup(netip.AddrFrom16(a.As16())); got2 != got && ok {
				t.Fatalf("%s mapped: row %d, want %d", a, got2, got)
			}
		}
	}
}

func TestParseCIDR(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3/8":               "10.0.0.0/8",
		"10.1.2.3":                 "10.1.2.3/32",
		" 10.1.2.3 ":               "10.1.2.3/32",
		"2001:db8::1":              "2001:db8::1/128",
		"2001:db8:ff::/32":         "2001:db8::/32",
		"::ffff:10.0.0.0/104":      "10.0.0.0/8",
		"::ffff:10.1.2.3":          "10.1.2.3/32",
		"::ffff:0.0.0.0/90":        "::ffc0:0:0/90",
		"0.0.0.0/0":                "0.0.0.0/0",
		"::/0":                     "::/0",
		"10.0.0.0/33":              "error",
		"fe80::1%eth0":             "error",
		"10.0.0.0/8/8":             "error",
		"":                         "error",
		"example.com":              "error",
		"2001:db8::/129":           "error",
		"10.0.0.0/-1":              "error",
		"10.0.0.0/08":              "error",
		"1.2.3.4.5":                "error",
		"[2001:db8::1]":            "error",
		"2001:db8::1/64%x":         "error",
		"2001:db8:0:0:0:0:0:1":     "2001:db8::1/128",
		"::ffff:10.0.0.0/96":       "0.0.0.0/0",
		"::ffff:1.2.3.4/128":       "1.2.3.4/32",
		"192.168.001.1":            "error",
		"2001:0db8::/32":           "2001:db8::/32",
		"10.0.0.0 /8":              "error",
		"255.255.255.255/32":       "255.255.255.255/32",
		"10.0.0.0/8 # comment":     "error",
		"ffff::/1":                 "8000::/1",
		"128.0.0.0/1":              "128.0.0.0/1",
		"129.0.0.0/1":              "128.0.0.0/1",
		"0:0:0:0:0:ffff:a00:0/104": "10.0.0.0/8",
	} {
		p, err := parseCIDR(in)
		got := p.String()
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("parseCIDR(%q) = %s (%v), want %s", in, got, err, want)
		}
	}
}

// rank is the wildcard ranking, written independently of the index: more
// literal characters, then fewer stars, then a longer literal prefix.
func rank(p string) (literals, stars, prefix int) {
	inPrefix := true
	for _, c := range p {
		switch c {
		case '*':
			stars++
			inPrefix = false
		case '?':
			inPrefix = false
		default:
			literals++
			if inPrefix {
				prefix++
			}
		}
	}
	return
}

// bruteWildcard returns the row of the best key matching s by the
// documented rules, scanning every key.
func bruteWildcard(keys []string, oracles []*regexp.Regexp, s string) int32 {
	best := int32(-1)
	for i, k := range keys {
		if !strings.ContainsAny(k, "*?") {
			if k == s {
				return int32(i)
			}
			continue
		}
	}
	for i, k := range keys {
		if !strings.ContainsAny(k, "*?") || !oracles[i].MatchString(s) {
			continue
		}
		if best < 0 {
			best = int32(i)
			continue
		}
		l1, s1, p1 := rank(k)
		l2, s2, p2 := rank(keys[best])
		if l1 > l2 || (l1 == l2 && (s1 < s2 || (s1 == s2 && p1 > p2))) {
			best = int32(i)
		}
	}
	return best
}

// globOracle translates a glob into a regular expression.
func globOracle(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, c := range p {
		switch c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func TestWildcardMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	word := func(alphabet string, n int) string {
		runes := []rune(alphabet)
		var b strings.Builder
		for range r.IntN(n + 1) {
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		return b.String()
	}
	for round := range 200 {
		keys := make([]string, 1+r.IntN(40))
		for i := range keys {
			keys[i] = word("abé.**??", 7)
		}
		oracles := make([]*regexp.Regexp, len(keys))
		for i, k := range keys {
			oracles[i] = globOracle(k)
		}
		w := newWildIndex(keys)
		for range 200 {
			s := word("abé.", 8)
			want := bruteWildcard(keys, oracles, s)
			got, ok := w.lookup(s)
			if !ok {
				got = -1
			}
			if got != want {
				t.Fatalf("round %d: keys %q, value %q: row %d, want %d", round, keys, s, got, want)
			}
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"?", "", false},
		{"?", "é", true},
		{"??", "é", false},
		{"*??", "€", false},
		{"*?", "€", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a*b", "ab", true},
		{"a*b", "abb", true},
		{"a*b", "aba", false},
		{"*.example.com", "www.example.com", true},
		{"*.example.com", "example.com", false},
		{"a**b", "ab", true},
		{"*a*a*a*a*a*a*b", strings.Repeat("a", 100), false},
		{"x?z", "xyz", true},
		{"x?z", "xz", false},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

// FuzzGlob checks the matcher against a regular expression translation of
// the pattern, and the index against a scan.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"*.example.com", "www.example.com"}, {"web-??", "web-01"}, {"a*b*c", "aXbYc"},
		{"*?", "€"}, {"*ü?", "grün"}, {"**", ""}, {"?*?", "é"}, {"a*", "a\xff"},
		{"web-*.example.com\n*.example.com\nweb-??.*\n*-01.*", "web-01.example.com"},
		{"ab*cd\na*bcd\n*", "abbcd"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		got := globMatch(p, s)
		if utf8.ValidString(p) && utf8.ValidString(s) {
			if want := globOracle(p).MatchString(s); got != want {
				t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", p, s, got, want)
			}
		}
		// The index finds the pattern when (and only when) it matches,
		// among decoys that cannot match.
		keys := []string{p + "\x00decoy*", "*\x00decoy", p}
		w := newWildIndex(keys)
		row, ok := w.lookup(s)
		want := got || p == s
		if ok != want && !strings.Contains(s, "\x00decoy") {
			t.Fatalf("index lookup(%q) with %q: %v, match says %v", s, p, ok, want)
		}
		if ok && !strings.Contains(s, "\x00decoy") && row != 2 {
			t.Fatalf("index lookup(%q) with %q: row %d, want 2", s, p, row)
		}
		// Several patterns (the lines of p): the index picks the one the
		// ranking rules pick.
		if !utf8.ValidString(p) || !utf8.ValidString(s) {
			return
		}
		keys = strings.SplitN(p, "\n", 8)
		oracles := make([]*regexp.Regexp, len(keys))
		for i, k := range keys {
			oracles[i] = globOracle(k)
		}
		got32, ok := newWildIndex(keys).lookup(s)
		if !ok {
			got32 = -1
		}
		if want := bruteWildcard(keys, oracles, s); got32 != want {
			t.Fatalf("keys %q, value %q: row %d, want %d", keys, s, got32, want)
		}
	})
}

func testSpec(format string) parseSpec {
	return parseSpec{format: format, delimiter: ',', maxBytes: 1 << 20}
}

// checkTable checks what every loaded table must satisfy: each row's key
// finds that row or an earlier one with the same key.
func checkTable(t *testing.T, raw *rawTable) {
	t.Helper()
	tbl, err := build("fuzz", raw, &outputSpec{match: matchExact})
	if err != nil {
		// Only the output checks can fail, and this spec has none.
		t.Fatalf("build: %v", err)
	}
	if len(tbl.rows) != len(raw.rows) {
		t.Fatalf("%d rows indexed, %d parsed", len(tbl.rows), len(raw.rows))
	}
	for i, r := range raw.rows {
		j, ok := tbl.find(r.key)
		if !ok || j > int32(i) || raw.rows[j].key != r.key {
			t.Fatalf("row %d (key %q): find gives %d, %v", i, r.key, j, ok)
		}
		for _, c := range r.cells {
			if c.col < 0 || c.col >= len(raw.columns) {
				t.Fatalf("row %d: cell of column %d, %d columns", i, c.col, len(raw.columns))
			}
		}
		if r.line < 1 {
			t.Fatalf("row %d: line %d", i, r.line)
		}
	}
	// The other indexes build (or fail cleanly) on the same keys.
	_, _ = build("fuzz", raw, &outputSpec{match: matchCIDR})
	if _, err := build("fuzz", raw, &outputSpec{match: matchWildcard, ignoreCase: true}); err != nil {
		t.Fatalf("wildcard build: %v", err)
	}
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"host,owner\nweb-01,alice\n",
		"a,b\n\"x,y\",\"z\"\"q\"\n",
		"a\n",
		"\xEF\xBB\xBFk,v\n1,2\n1,3\n",
		"a,b\n1\n",
		"k,v\n\"multi\nline\",x\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := parse("fuzz.csv", data, testSpec("csv"))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv:") {
				t.Fatalf("error %q does not name the file and line", err)
			}
			return
		}
		checkTable(t, raw)
		for _, r := range raw.rows {
			for _, c := range r.cells {
				if s, _ := c.val.Str(); s == "" {
					t.Fatalf("empty cell kept: %+v", r)
				}
			}
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"a": 1, "b": {"x": [1, 2.5, "s", null, {"k": 1}]}, "c": null}`,
		`[{"id": "a", "v": 1}, {"id": 2, "geo": {"city": "x"}}]`,
		`{"a": 1} x`,
		`[1]`,
		`[{"v": 1}]`,
		`{"a": {"b": {"c": {"d": true}}}}`,
		`{"dup": 1, "dup": 2}`,
		"\xEF\xBB\xBF{}",
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, keys := range [][]string{nil, {"id"}} {
			spec := testSpec("json")
			spec.keyColumns = keys
			raw, err := parse("fuzz.json", data, spec)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz.json") {
					t.Fatalf("error %q does not name the file", err)
				}
				continue
			}
			checkTable(t, raw)
		}
	})
}

func TestFlattenOrderIsStable(t *testing.T) {
	data := []byte(`{"k": {"z": 1, "a": 2, "m": {"q": 3, "b": 4}}}`)
	var first string
	for range 20 {
		raw, err := parse("t.json", data, testSpec("json"))
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(raw.columns, raw.rows[0].cells)
		if first == "" {
			first = got
		} else if got != first {
			t.Fatalf("column order changed: %s then %s", first, got)
		}
	}
}
