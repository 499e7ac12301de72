package kql

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/jsonparse"
)

var fuzzFixtureLines = []string{
	`{"@timestamp":"2026-01-02T10:00:00Z","message":"Connection refused: GET /api","service":"api","status":500,"tags":["a","b*c"],"ok":true}`,
	`{"message":"ÜNÏCODE and not or","status":"404","items":[{"name":"x y","n":1.5},{"name":"z"}],"user":{"name":"A"},"_id":"internal"}`,
	`{"@timestamp":"2025-12-31T23:59:59Z","date":"2026-01-02","n":-0.0,"e":[],"nul":null,"path":"C:\\a\\*b"}`,
}

func fuzzFixtures(f *testing.F) []event.Event {
	out := make([]event.Event, len(fuzzFixtureLines))
	for i, line := range fuzzFixtureLines {
		if err := jsonparse.ParseObject(&out[i], []byte(line)); err != nil {
			f.Fatal(err)
		}
	}
	return out
}

// FuzzParse: Parse never panics; an error is a *SyntaxError inside the
// query; a parsed query prints as text that parses to the same tree and
// prints the same again; Match, RequiredTokens and TimeBounds agree on the
// fixtures.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "*", "error", `"connection refused"`, "a b c", "status:500", "status >= 500",
		"f:(a or b and not c)", "not (a or b) and c", "items:{ name:x and n > 1 }",
		`f\:g:h\*i*`, `\or \AND \not \nothing`, `"a\"b\\c\t\u0041"`, "@timestamp < now-15m/d",
		"kubernetes.labels.*:web", "*:*", "x:*", "a:b c:d", "(a or b", `"abc`, "a and", "status >=",
		"x:\u00a0y", "héllo:wörld", "a\\", "a\\u12", "((((((((a))))))))", "f:(a) or g:{h:(i or j)}",
		"e*r", "*ror", `path:*a\*b*`, "status:5*", "n:-0", "x <= \"\"", "date >= 2026-01-02",
	} {
		f.Add(s)
	}
	events := fuzzFixtures(f)
	f.Fuzz(func(t *testing.T, q string) {
		n, err := ParseAt(q, fixedNow)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: error is not a *SyntaxError: %v", q, err)
			}
			if se.Pos < 0 || se.Pos > len(q) || se.Msg == "" {
				t.Fatalf("%q: bad error position or message: %d %q", q, se.Pos, se.Msg)
			}
			_ = se.Error()
			return
		}
		s := n.String()
		back, err := ParseAt(s, fixedNow)
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", q, s, err)
		}
		if !reflect.DeepEqual(n, back) {
			t.Fatalf("%q prints as %q, which parses to %#v, not %#v", q, s, stripPrep(back), stripPrep(n))
		}
		if s2 := back.String(); s2 != s {
			t.Fatalf("%q: String is not stable: %q then %q", q, s, s2)
		}
		req := RequiredTokens(n)
		from, to, bounded := TimeBounds(n)
		for i := range events {
			ev := &events[i]
			if !Match(n, ev) {
				continue
			}
			if !req.MayMatch(eventContains(ev)) {
				t.Fatalf("%q matches fixture %d but RequiredTokens %s excludes it", q, i, req)
			}
			if bounded && ((!from.IsZero() && ev.Time.Before(from)) || (!to.IsZero() && ev.Time.After(to))) {
				t.Fatalf("%q matches fixture %d outside TimeBounds", q, i)
			}
		}
	})
}

// FuzzTokenize: Tokenize agrees with its slow definition, and every run of
// its tokens is found again by the matcher.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "ÜNÏCODE Straße İstanbul K", "a\xffb", "x²_y 日本語",
		"2026-01-02T10:00:00Z", "MiXeD 42 tokens_here"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got []string
		Tokenize(s, func(tok string) {
			if tok == "" || !utf8.ValidString(tok) {
				t.Fatalf("%q: bad token %q", s, tok)
			}
			got = append(got, strings.Clone(tok))
		})
		if want := referenceTokens(s); !slices.Equal(got, want) {
			t.Fatalf("Tokenize(%q) = %q, want %q", s, got, want)
		}
		if len(got) > 0 && !containsTokens(s, got) {
			t.Fatalf("%q: tokens %q not found again", s, got)
		}
		for i := range got {
			if !containsTokens(s, got[i:min(i+2, len(got))]) {
				t.Fatalf("%q: tokens %q not found again", s, got[i:min(i+2, len(got))])
			}
			if lowerString(got[i]) != got[i] {
				t.Fatalf("%q: token %q is not lowercase", s, got[i])
			}
		}
	})
}

// FuzzContainsTokens: the IndexByte fast path finds what the
// character-by-character scan finds.
func FuzzContainsTokens(f *testing.F) {
	f.Add("Connection refused by upstream", "refused by")
	f.Add("xrefused REFUSED", "refused")
	f.Add("éa a", "a")
	f.Add("İstanbul KELVIN", "istanbul kelvin")
	f.Add("a_b ab", "ab")
	f.Fuzz(func(t *testing.T, s, query string) {
		q := Tokens(query)
		if len(q) == 0 {
			return
		}
		if fast, slow := containsTokens(s, q), containsTokensSlow(s, q); fast != slow {
			t.Fatalf("containsTokens(%q, %q) = %v, slow path %v", s, q, fast, slow)
		}
		if c := q[0][0]; c < utf8.RuneSelf && c != 'i' && c != 'k' {
			if fast, slow := containsTokensFast(s, q), containsTokensSlow(s, q); fast != slow {
				t.Fatalf("fast(%q, %q) = %v, slow %v", s, q, fast, slow)
			}
		}
	})
}
