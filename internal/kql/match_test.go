package kql

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

func mustParse(t testing.TB, q string) Node {
	t.Helper()
	n, err := ParseAt(q, fixedNow)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	return n
}

// TestMatchTypedValues covers values that JSON fixtures cannot express:
// time values in fields, json.Number, objects inside lists built in Go.
func TestMatchTypedValues(t *testing.T) {
	seen := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	ev := event.New(time.Date(2026, 1, 3, 5, 0, 0, 0, time.UTC), "Disk FULL on /dev/sda1")
	ev.SetValue("seen", event.Time(seen))
	ev.SetValue("count", event.Any(json.Number("12")))
	ev.SetValue("ratio", event.Float(0.5))
	ev.SetValue("list", event.Any([]any{json.Number("7"), seen, map[string]any{"k": "inner value", "deep": map[string]any{"x": int64(3)}}}))
	ev.SetValue("nul", event.Null)
	ev.SetValue("_meta", event.String("hidden"))
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"seen:2026-01-02", true},
		{"seen:2026-01", true},
		{"seen:2026", true},
		{"seen:2026-01-03", false},
		{`seen:"2026-01-02T10:00:00Z"`, true},
		{"seen >= 2026-01-02", true},
		{"seen > 2026-01-02", false},
		{"seen < 1767350400001", true}, // epoch milliseconds
		{"seen:10", false},
		{"seen:2026*", true},
		{"count:12", true},
		{"count >= 12", true},
		{"ratio:0.5", true},
		{"ratio:.5", false}, // not a number in KQL's sense: a token "5"
		{"list:7", true},
		{"list:2026-01-02", true},
		{"list:inner", false},  // a field term does not look into objects…
		{"list.k:inner", true}, // …a path into the list's objects does
		{"list.deep.x:3", true},
		{"list.deep:3", false},
		{"inner", true},
		{"3", true},
		{"nul:*", false},
		{"hidden", false},
		{"_meta:hidden", true},
		{"_*:hidden", true},
		{"*:hidden", false},
		{"full", true},
		{"sda1", true},
		{"/dev/sda1", true},
		{"@timestamp:2026-01-03", true},
		{"@timestamp:2026-01-02", false},
		{"@timestamp >= now-1y", true},
		{"@*:2026-01-03", true},
		{"message:full and not message:empty", true},
	} {
		n := mustParse(t, tc.q)
		if got := Match(n, &ev); got != tc.want {
			t.Errorf("%q: Match = %v, want %v", tc.q, got, tc.want)
		}
		if got := Match(stripPrep(n), &ev); got != tc.want && tc.q != "@timestamp >= now-1y" {
			t.Errorf("%q: unprepared Match = %v, want %v", tc.q, got, tc.want)
		}
		if Match(n, &ev) && !RequiredTokens(n).MayMatch(eventContains(&ev)) {
			t.Errorf("%q: RequiredTokens %s excludes a match", tc.q, RequiredTokens(n))
		}
	}
}

func TestMatchHandBuilt(t *testing.T) {
	ev := event.New(time.Date(2026, 1, 3, 5, 0, 0, 0, time.UTC), "connection refused")
	ev.SetValue("status", event.Int(503))
	for _, tc := range []struct {
		n    Node
		want bool
	}{
		{nil, true},
		{&And{}, true},
		{&Or{}, false},
		{&Term{Value: "REFUSED"}, true},
		{&Term{Field: "*", Value: "refused"}, true},
		{&Term{Field: "status", Value: "5*", Wildcard: true}, true},
		{&Range{Field: "status", Op: ">", Value: "500"}, true},
		{&Range{Field: "status", Op: "=", Value: "503"}, false}, // not an operator
		{&Exists{Field: "status"}, true},
		{&Not{Node: &Exists{Field: "nope"}}, true},
		{&Nested{Path: "status", Query: &Term{Value: "x"}}, false},
	} {
		if got := Match(tc.n, &ev); got != tc.want {
			t.Errorf("%v: Match = %v, want %v", tc.n, got, tc.want)
		}
		if tc.n != nil {
			if got := Match(Prepare(tc.n, fixedNow), &ev); got != tc.want {
				t.Errorf("%v: prepared Match = %v, want %v", tc.n, got, tc.want)
			}
		}
	}
	// String of hand-built trees that Parse would not make.
	for _, tc := range []struct {
		n    Node
		want string
	}{
		{&And{}, "*"},
		{&Or{}, "not *"},
		{&And{Nodes: []Node{&Or{}, &Term{Value: "a"}}}, "not * and a"},
		{&Or{Nodes: []Node{&Or{Nodes: []Node{&Term{Value: "a"}, &Term{Value: "b"}}}, &Term{Value: "c"}}}, "(a or b) or c"},
		{&Not{Node: &And{Nodes: []Node{&Term{Value: "a"}}}}, "not a"},
		{&Term{Field: "f", Value: "a b"}, `f:a\u0020b`},
		{&Term{Field: "f", Value: ""}, `f:""`},
		{&Range{Field: "f", Op: ">", Value: "or"}, `f > "or"`},
	} {
		if got := tc.n.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestMatchAllocations checks that the common queries over string fields
// do not allocate.
func TestMatchAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	ev := benchEvent()
	for _, q := range []string{
		"refused", `"connection refused"`, "service:api", "Service:API", "status:500",
		"status >= 500", "err*", "host.name:web-*", "kubernetes.labels.app:web",
		"service:api and status:500 and not refused", "ünïcode",
		"@timestamp >= 2026-01-01", "@timestamp:2026-03-15",
	} {
		n := mustParse(t, q)
		if allocs := testing.AllocsPerRun(100, func() { Match(n, &ev) }); allocs != 0 {
			t.Errorf("%q: %v allocations per Match", q, allocs)
		}
	}
}

func benchEvent() event.Event {
	ev := event.New(time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC),
		"10.1.2.3 - - [15/Mar/2026:10:00:00 +0000] \"GET /api/v1/users HTTP/1.1\" 502 0 upstream Connection refused while reading response header from ÜNÏCODE upstream")
	ev.SetValue("service", event.String("api-gateway"))
	ev.SetValue("status", event.Int(502))
	ev.SetValue("host.name", event.String("web-01.prod.example.com"))
	ev.SetValue("log.level", event.String("ERROR"))
	ev.SetValue("kubernetes.namespace", event.String("default"))
	ev.SetValue("kubernetes.pod.name", event.String("gateway-7f9c4d-x2x9z"))
	ev.SetValue("kubernetes.labels.app", event.String("gateway"))
	ev.SetValue("duration_ms", event.Float(12.5))
	ev.SetValue("_source_id", event.String("syslog"))
	return ev
}
