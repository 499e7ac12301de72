package syslogparse

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

var fuzzSeeds = []string{
	`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...`,
	`<13>1 2024-03-15T11:22:33Z host app - - [x@1 k="a \"quoted\" \] value \\ end"][y z=""] escaped`,
	"<34>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - \ufeff%% do-nuts",
	`<13>1 - - - - - -`,
	`<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
	`<13>Feb  5 17:32:18 myapp[1234]: hello`,
	`<189>237: *Mar  1 18:48:50.483 UTC: %SYS-5-CONFIG_I: Configured from console`,
	`<166>Mar 15 2024 11:00:00 fw01 : %ASA-6-302013: Built outbound`,
	`<13>2024-03-15T11:59:59.123+01:00 host app: rfc3339`,
	`<13>Feb 29 10:00:00 host app: leap`,
	`<0>`, `<191>x`, `<192>x`, `<13`, `hello`, ``,
}

// FuzzParse checks that any input becomes an event without a panic, that
// malformed input is kept whole, and that the event is well formed.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, int64(0))
	}
	f.Add(`<13>Dec 31 23:59:59 h a: x`, int64(1704067200)) // received at New Year
	f.Fuzz(func(t *testing.T, raw string, recvUnix int64) {
		recv := time.Unix(recvUnix%(1<<34), 0).UTC()
		b := NewBuilder(time.UTC, true)
		ev, ok := b.Build(raw, recv, "192.0.2.1:514", 1)
		checkFuzzEvent(t, raw, ev, ok)
	})
}

// checkFuzzEvent checks the invariants of an event built from raw by a
// Builder with keepOriginal set: the message is part of the input (all of
// it when ok is false, and then tagged), event.original is the input, the
// event has a timestamp, no duplicate keys, valid codes and valid JSON.
func checkFuzzEvent(t *testing.T, raw string, ev event.Event, ok bool) {
	t.Helper()
	msg, has := ev.GetString(event.MessageField)
	if !has {
		t.Fatalf("no message for %q", raw)
	}
	if !strings.Contains(raw, strings.TrimPrefix(msg, "\ufeff")) {
		t.Fatalf("message %q is not part of the input %q", msg, raw)
	}
	if !ok && (msg != raw || !ev.HasTag(TagParseFailure)) {
		t.Fatalf("malformed %q: message %q, tagged %v", raw, msg, ev.HasTag(TagParseFailure))
	}
	if ok && ev.HasTag(TagParseFailure) {
		t.Fatalf("parsed %q but tagged as a failure", raw)
	}
	if orig, _ := ev.GetString(FieldOriginal); orig != raw {
		t.Fatalf("event.original = %q, want %q", orig, raw)
	}
	if ev.Time.IsZero() {
		t.Fatalf("no @timestamp for %q", raw)
	}
	seen := map[string]bool{}
	for _, fl := range ev.Fields() {
		if seen[fl.Key] {
			t.Fatalf("duplicate field %s for %q", fl.Key, raw)
		}
		seen[fl.Key] = true
	}
	if v, has := ev.Get(FieldSeverityCode); has {
		if c := v.(int64); c < 0 || c > 7 {
			t.Fatalf("severity %d", c)
		}
		if p, _ := ev.Get(FieldPriority); p.(int64) > 191 {
			t.Fatalf("priority %d", p)
		}
	}
	if out := event.AppendJSON(nil, &ev, true); !json.Valid(out) {
		t.Fatalf("invalid JSON for %q: %s", raw, out)
	}
}
