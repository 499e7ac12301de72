package kql

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// The vocabulary of random events and queries is small so that queries
// often match: that is when soundness can fail.
var (
	propWords = []string{
		"error", "Error", "ERRORS", "timeout", "api", "web", "db", "get", "GET",
		"refused", "connection", "500", "200", "1", "1.5", "true", "false",
		"2026", "2026-01-02", "x_y", "ünïcode", "ÜNÏCODE", "straße", "İstanbul",
		"a", "now", "and", "not", "e",
	}
	propSeps   = []string{" ", "-", ".", "/", ", ", ":", "*", "\\", "\"", "_"}
	propFields = []string{"message", "service", "status", "tags", "host.name",
		"kubernetes.labels.app", "kubernetes.labels.tier", "_internal", "items", "n", "t"}
	propTimes = []time.Time{
		{}, // no @timestamp
		time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC),
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randText(r *rand.Rand) string {
	var b strings.Builder
	for i := range 1 + r.IntN(4) {
		if i > 0 {
			b.WriteString(pick(r, propSeps))
		}
		b.WriteString(pick(r, propWords))
	}
	return b.String()
}

func randScalar(r *rand.Rand) any {
	switch r.IntN(10) {
	case 0:
		return int64(pick(r, []int{0, 1, 200, 500, -5, 2026}))
	case 1:
		return pick(r, []float64{1.5, 500, 0.25, -0})
	case 2:
		return r.IntN(2) == 0
	case 3:
		return nil
	case 4:
		return pick(r, propTimes[1:])
	default:
		return randText(r)
	}
}

func randValue(r *rand.Rand, field string) event.Value {
	switch {
	case field == "items":
		var list []any
		for range r.IntN(3) {
			list = append(list, map[string]any{"name": randText(r), "n": randScalar(r), "@timestamp": randText(r)})
		}
		return event.Any(list)
	case r.IntN(6) == 0:
		list := []any{}
		for range r.IntN(3) {
			list = append(list, randScalar(r))
		}
		return event.Any(list)
	}
	return event.Any(randScalar(r))
}

func randEvent(r *rand.Rand) event.Event {
	ev := event.Event{Time: pick(r, propTimes)}
	for _, f := range propFields {
		if r.IntN(2) == 0 {
			ev.SetValue(f, randValue(r, f))
		}
	}
	return ev
}

// randQuery writes a random query in KQL, so that the parser is exercised
// as well.
func randQuery(r *rand.Rand, depth int) string {
	if depth > 0 && r.IntN(3) == 0 {
		a, b := randQuery(r, depth-1), randQuery(r, depth-1)
		switch r.IntN(4) {
		case 0:
			return "(" + a + " and " + b + ")"
		case 1:
			return "(" + a + " or " + b + ")"
		case 2:
			return "not (" + a + ")"
		default:
			return "items:{" + a + "}"
		}
	}
	field := pick(r, append([]string{"", "", "*", "kubernetes.*", "_*", "items.name", "items.n", "@timestamp", "@*"}, propFields...))
	kind := r.IntN(8)
	if field == "@timestamp" && kind != 2 && kind != 3 && kind != 4 {
		field = "" // only dates are valid values for @timestamp
	}
	prefix := ""
	if field != "" {
		prefix = quoteField(field) + ":"
	}
	switch kind {
	case 0: // phrase
		return prefix + `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(randText(r)) + `"`
	case 1: // wildcard
		// A star keeps a keyword from being one: no keyword escape.
		w := strings.TrimPrefix(escapeWord(pick(r, propWords)), `\`)
		i := r.IntN(len(w) + 1)
		for i > 0 && i < len(w) && w[i-1] == '\\' {
			i--
		}
		return prefix + w[:i] + "*" + w[i:]
	case 2:
		if field == "" {
			field = "n"
		}
		return quoteField(field) + ":*"
	case 3:
		if field == "" || field == "*" {
			field = "status"
		}
		v := pick(r, []string{"500", "1.5", "2026-01-02", "b", `"2026-01-02T00:00:00Z"`, "now-80d"})
		if field == "@timestamp" {
			v = pick(r, []string{"2026-01-02", "2026", `"2026-01-02T00:00:00Z"`, "now-80d", "1767312000000"})
		}
		return quoteField(field) + " " + pick(r, []string{"<", "<=", ">", ">="}) + " " + v
	case 4:
		if field == "@timestamp" {
			return prefix + pick(r, []string{"2026-01-02", "2026", "now/d", "1767312000000"})
		}
	}
	if field == "@timestamp" {
		field, prefix = "", ""
	}
	return prefix + escapeWord(randText(r))
}

func quoteField(f string) string {
	if f == "*" || !strings.ContainsAny(f, " \\\"") {
		return f
	}
	return `"` + f + `"`
}

// escapeWord makes text an unquoted value: specials escaped, spaces kept
// (they separate words), keywords escaped.
func escapeWord(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, " ") {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if isKeyword(w) {
			b.WriteByte('\\')
			b.WriteString(w)
			continue
		}
		for i := 0; i < len(w); i++ {
			if specialChar(w[i]) {
				b.WriteByte('\\')
			}
			b.WriteByte(w[i])
		}
	}
	return b.String()
}

// TestRequiredTokensSound checks, over random events and queries, that
// RequiredTokens and TimeBounds never exclude an event that Match accepts,
// and that hand-built trees match as parsed ones do.
func TestRequiredTokensSound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	events := make([]event.Event, 200)
	contains := make([]func(string, string) bool, len(events))
	for i := range events {
		events[i] = randEvent(r)
		contains[i] = eventContains(&events[i])
	}
	queries, matches, pruned := 3000, 0, 0
	if testing.Short() {
		queries = 300
	}
	for range queries {
		q := randQuery(r, 3)
		n, err := ParseAt(q, fixedNow)
		if err != nil {
			t.Fatalf("generated query %q does not parse: %v", q, err)
		}
		req := RequiredTokens(n)
		from, to, bounded := TimeBounds(n)
		bare := Prepare(stripPrep(n), fixedNow)
		for i := range events {
			ev := &events[i]
			m := Match(n, ev)
			if Match(bare, ev) != m {
				t.Fatalf("%q: prepared copy disagrees on %v", q, ev.Object(true))
			}
			may := req.MayMatch(contains[i])
			if !may {
				pruned++
			}
			if !m {
				continue
			}
			matches++
			if !may {
				t.Fatalf("%q (%s) matches %v, but RequiredTokens %s excludes it", q, n, ev.Object(true), req)
			}
			if bounded && ((!from.IsZero() && ev.Time.Before(from)) || (!to.IsZero() && ev.Time.After(to))) {
				t.Fatalf("%q matches an event at %v outside TimeBounds %v..%v", q, ev.Time, from, to)
			}
		}
	}
	t.Logf("%d queries × %d events: %d matches, %d pairs pruned by RequiredTokens", queries, len(events), matches, pruned)
	if matches == 0 || pruned == 0 {
		t.Fatalf("the generator is too weak: %d matches, %d pruned", matches, pruned)
	}
}

func TestRequiredTokensShape(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"error", "[error]"},
		{`"Connection Refused"`, "[connection+refused]"},
		{"service:api and status:500", "[service:api] and [status:500]"},
		{"message:a and message:b", "[message:a+b]"},
		{"a or b", "[a | b]"},
		{"a or b and c", "[a | b+c]"},
		{"(a or b) and (c or d)", "[a | b] and [c | d]"},
		{"(a and b) or (c and (d or e))", "[a+b | c] and [a+b | d | e]"},
		{"a or not b", ""},
		{"not a", ""},
		{"status >= 500", ""},
		{"f:*", ""},
		{"err*", ""},
		{"host.name:web-*", "[host.name:web]"},
		{"x:1.0", "[x:0+1 | x:1]"},
		{"x:007", "[x:007 | x:7]"},
		{"@timestamp:2026-01-02", ""},
		{"created:2026-01-02", ""},
		{"year:2026", "[year:2026]"},
		{"items:{name:x and y}", "[items.name:x] and [y]"},
		{"-", ""},
		{"kubernetes.labels.*:web", "[web]"},
	} {
		n, err := ParseAt(tc.q, fixedNow)
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		if got := RequiredTokens(n).String(); got != tc.want {
			t.Errorf("%q: RequiredTokens = %s, want %s", tc.q, got, tc.want)
		}
	}
}

func TestMayMatch(t *testing.T) {
	n, _ := ParseAt(`service:api and ("connection refused" or timeout)`, fixedNow)
	req := RequiredTokens(n)
	block := func(tokens ...string) func(string, string) bool {
		return func(field, tok string) bool {
			for _, t := range tokens {
				f, v, _ := strings.Cut(t, "=")
				if v == tok && (field == "" || field == f) {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		tokens []string
		want   bool
	}{
		{[]string{"service=api", "message=timeout"}, true},
		{[]string{"service=api", "message=connection", "message=refused"}, true},
		{[]string{"service=api", "message=connection"}, false},
		{[]string{"message=api", "message=timeout"}, false}, // api in the wrong field
		{[]string{"service=timeout"}, false},
		{nil, false},
	} {
		if got := req.MayMatch(block(tc.tokens...)); got != tc.want {
			t.Errorf("%s over %v: MayMatch = %v, want %v", req, tc.tokens, got, tc.want)
		}
	}
	if !CNF(nil).MayMatch(block()) {
		t.Error("an empty CNF must admit everything")
	}
}

func TestTimeBounds(t *testing.T) {
	ts := func(s string) time.Time {
		tt, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	var zero time.Time
	for _, tc := range []struct {
		q        string
		from, to time.Time
		ok       bool
	}{
		{"error", zero, zero, false},
		{"@timestamp >= 2026-01-02", ts("2026-01-02T00:00:00Z"), zero, true},
		{"@timestamp > 2026-01-02", ts("2026-01-03T00:00:00Z"), zero, true},
		{"@timestamp < 2026-01-02", zero, ts("2026-01-01T23:59:59.999999999Z"), true},
		{"@timestamp <= 2026-01-02", zero, ts("2026-01-02T23:59:59.999999999Z"), true},
		{"@timestamp:2026-01", ts("2026-01-01T00:00:00Z"), ts("2026-01-31T23:59:59.999999999Z"), true},
		{"error and @timestamp >= 2026-01-02 and @timestamp < 2026-01-05", ts("2026-01-02T00:00:00Z"), ts("2026-01-04T23:59:59.999999999Z"), true},
		{"@timestamp >= 2026-01-02 and @timestamp >= 2026-01-03", ts("2026-01-03T00:00:00Z"), zero, true},
		{"@timestamp:2026-01-02 or @timestamp:2026-01-04", ts("2026-01-02T00:00:00Z"), ts("2026-01-04T23:59:59.999999999Z"), true},
		{"@timestamp:2026-01-02 or error", zero, zero, false},
		{"not @timestamp < 2026-01-02", zero, zero, false},
		{"@timestamp > now-15m", ts("2026-03-15T12:15:00.000000001Z"), zero, true},
		{"@timestamp >= now/d", ts("2026-03-15T00:00:00Z"), zero, true},
		{"created >= 2026-01-02", zero, zero, false},
	} {
		n, err := ParseAt(tc.q, fixedNow)
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		from, to, ok := TimeBounds(n)
		if ok != tc.ok || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("%q: TimeBounds = %v, %v, %v; want %v, %v, %v", tc.q, from, to, ok, tc.from, tc.to, tc.ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct{ s, start, end string }{
		{"2026", "2026-01-01T00:00:00Z", "2026-12-31T23:59:59.999999999Z"},
		{"2026-02", "2026-02-01T00:00:00Z", "2026-02-28T23:59:59.999999999Z"},
		{"2026-01-02", "2026-01-02T00:00:00Z", "2026-01-02T23:59:59.999999999Z"},
		{"2026-01-02T10", "2026-01-02T10:00:00Z", "2026-01-02T10:59:59.999999999Z"},
		{"2026-01-02 10:04", "2026-01-02T10:04:00Z", "2026-01-02T10:04:59.999999999Z"},
		{"2026-01-02T10:04:05Z", "2026-01-02T10:04:05Z", "2026-01-02T10:04:05.999999999Z"},
		{"2026-01-02T10:04:05.5+01:00", "2026-01-02T09:04:05.5Z", "2026-01-02T09:04:05.599999999Z"},
		{"2026-01-02T10:04:05.123456789-0230", "2026-01-02T12:34:05.123456789Z", "2026-01-02T12:34:05.123456789Z"},
		{"1767312000000", "2026-01-02T00:00:00Z", "2026-01-02T00:00:00.000999999Z"},
		{"now", "2026-03-15T12:30:00Z", "2026-03-15T12:30:00Z"},
		{"now-15m", "2026-03-15T12:15:00Z", "2026-03-15T12:15:00Z"},
		{"now/d", "2026-03-15T00:00:00Z", "2026-03-15T23:59:59.999999999Z"},
		{"now-1d/d", "2026-03-14T00:00:00Z", "2026-03-14T23:59:59.999999999Z"},
		{"now/w", "2026-03-09T00:00:00Z", "2026-03-15T23:59:59.999999999Z"},
		{"now+1h-30m", "2026-03-15T13:00:00Z", "2026-03-15T13:00:00Z"},
		{"now-1M/M", "2026-02-01T00:00:00Z", "2026-02-28T23:59:59.999999999Z"},
	} {
		start, end, ok := ParseTime(tc.s, fixedNow)
		if !ok || start.Format(time.RFC3339Nano) != tc.start || end.Format(time.RFC3339Nano) != tc.end {
			t.Errorf("ParseTime(%q) = %v, %v, %v; want %s, %s", tc.s, start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), ok, tc.start, tc.end)
		}
	}
	for _, s := range []string{"", "abc", "202", "2026-13-01", "2026-02-30", "2026-01-02T25", "2026-01-02Z",
		"2026-1-2", "now-", "now-5", "now-5x", "now/", "now/q", "2026-01-02T10:04:05.", "1e5", "-2026",
		"2026-01-02T10:04:05.1234567891", "12345678901234567"} {
		if _, _, ok := ParseTime(s, fixedNow); ok {
			t.Errorf("ParseTime(%q) succeeded", s)
		}
	}
	if _, _, ok := parseTime("now", fixedNow, false, false); ok {
		t.Error("event values must not use date math")
	}
	if _, _, ok := parseTime(strconv.Itoa(1767312000000), fixedNow, false, false); ok {
		t.Error("event values must not be epoch milliseconds")
	}
}
