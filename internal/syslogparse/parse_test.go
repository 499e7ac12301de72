package syslogparse

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// recvTime is the receive time of every test message.
var recvTime = time.Date(2024, time.March, 15, 12, 0, 0, 0, time.UTC)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// fields is the expected content of an event: every listed key must have
// this value, every key not listed must be absent.
type fields map[string]any

func checkEvent(t *testing.T, ev event.Event, wantTime time.Time, want fields) {
	t.Helper()
	if !ev.Time.Equal(wantTime) {
		t.Errorf("@timestamp = %v, want %v", ev.Time, wantTime)
	}
	for k, v := range want {
		got, ok := ev.Get(k)
		if !ok {
			t.Errorf("%s missing, want %#v", k, v)
			continue
		}
		if tags, isArr := got.([]any); isArr && k == "tags" {
			got = strings.Join(func() []string {
				var s []string
				for _, x := range tags {
					s = append(s, x.(string))
				}
				return s
			}(), ",")
		}
		if got != v {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	for _, f := range ev.Fields() {
		if _, ok := want[f.Key]; !ok {
			t.Errorf("unexpected field %s = %#v", f.Key, f.Value.Interface())
		}
	}
	seen := map[string]bool{}
	for _, f := range ev.Fields() {
		if seen[f.Key] {
			t.Errorf("duplicate field %s", f.Key)
		}
		seen[f.Key] = true
	}
}

// pri returns the fields derived from a PRI value.
func pri(p int, f fields) fields {
	out := fields{
		"log.syslog.priority":      int64(p),
		"log.syslog.facility.code": int64(p / 8),
		"log.syslog.facility.name": facilityNames[p/8],
		"log.syslog.severity.code": int64(p % 8),
		"log.syslog.severity.name": severityNames[p%8],
		"log.level":                levels[p%8],
		"log.source.address":       "192.0.2.1:514",
	}
	for k, v := range f {
		out[k] = v
	}
	return out
}

func host(h string, f fields) fields {
	f["log.syslog.hostname"] = h
	f["host.hostname"] = h
	return f
}

func TestParse(t *testing.T) {
	const addr = "192.0.2.1:514"
	tests := []struct {
		name   string
		in     string
		recv   time.Time // default recvTime
		loc    *time.Location
		ok     bool
		time   time.Time
		fields fields
	}{
		{
			name: "5424 rfc example with structured data",
			in:   `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...`,
			ok:   true, time: ts("2003-10-11T22:14:15.003Z"),
			fields: pri(165, host("mymachine.example.com", fields{
				"message":            "An application event log entry...",
				"log.syslog.version": int64(1),
				"log.syslog.appname": "evntslog",
				"log.syslog.msgid":   "ID47",
				"log.syslog.structured_data.exampleSDID@32473.iut":         "3",
				"log.syslog.structured_data.exampleSDID@32473.eventSource": "Application",
				"log.syslog.structured_data.exampleSDID@32473.eventID":     "1011",
			})),
		},
		{
			name: "5424 offset timestamp, bom, procid",
			in:   "<34>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - \ufeff%% It's time to make the do-nuts.",
			ok:   true, time: ts("2003-08-24T12:14:15.000003Z"),
			fields: pri(34, host("192.0.2.1", fields{
				"message":            "%% It's time to make the do-nuts.",
				"log.syslog.version": int64(1),
				"log.syslog.appname": "myproc",
				"log.syslog.procid":  "8710",
			})),
		},
		{
			name: "5424 several elements, escapes, no message",
			in:   `<13>1 2024-03-15T11:00:00Z h app 1 - [a@1 x="q\"uote\\ b\]" y=""][b@2 z="1"][a@1 x="dup wins"]`,
			ok:   true, time: ts("2024-03-15T11:00:00Z"),
			fields: pri(13, host("h", fields{
				"message":                          "",
				"log.syslog.version":               int64(1),
				"log.syslog.appname":               "app",
				"log.syslog.procid":                "1",
				"log.syslog.structured_data.a@1.x": "dup wins",
				"log.syslog.structured_data.a@1.y": "",
				"log.syslog.structured_data.b@2.z": "1",
			})),
		},
		{
			name: "5424 element without params, unknown escape kept",
			in:   `<13>1 - - - - - [timeQuality][e v="a\b"] text`,
			ok:   true, time: recvTime,
			fields: pri(13, fields{
				"message":                        "text",
				"log.syslog.version":             int64(1),
				"log.syslog.structured_data.e.v": `a\b`,
			}),
		},
		{
			name: "5424 all nil",
			in:   `<14>1 - - - - - -`,
			ok:   true, time: recvTime,
			fields: pri(14, fields{"message": "", "log.syslog.version": int64(1)}),
		},
		{
			name: "5424 header ends after msgid",
			in:   `<14>1 - host app - ID1`,
			ok:   true, time: recvTime,
			fields: pri(14, host("host", fields{"message": "", "log.syslog.version": int64(1), "log.syslog.appname": "app", "log.syslog.msgid": "ID1"})),
		},
		{
			name:   "5424 bad timestamp",
			in:     `<165>1 2003-13-11T22:14:15Z host app - - - msg`,
			time:   recvTime,
			fields: pri(165, fields{"message": `<165>1 2003-13-11T22:14:15Z host app - - - msg`, "tags": TagParseFailure}),
		},
		{
			name:   "5424 bad structured data",
			in:     `<165>1 - host app - - [id x=1] msg`,
			time:   recvTime,
			fields: pri(165, fields{"message": `<165>1 - host app - - [id x=1] msg`, "tags": TagParseFailure}),
		},
		{
			name:   "5424 unterminated structured data",
			in:     `<165>1 - host app - - [id x="1" msg`,
			time:   recvTime,
			fields: pri(165, fields{"message": `<165>1 - host app - - [id x="1" msg`, "tags": TagParseFailure}),
		},
		{
			name:   "5424 truncated header",
			in:     `<165>1 2003-10-11T22:14:15Z host`,
			time:   recvTime,
			fields: pri(165, fields{"message": `<165>1 2003-10-11T22:14:15Z host`, "tags": TagParseFailure}),
		},
		{
			name: "3164 rfc example",
			in:   `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			ok:   true, time: ts("2023-10-11T22:14:15Z"), // October is in the future in March: last year
			fields: pri(34, host("mymachine", fields{"message": "'su root' failed for lonvick on /dev/pts/8", "log.syslog.appname": "su"})),
		},
		{
			name: "3164 pid without hostname (glibc syslog)",
			in:   `<13>Mar  5 17:32:18 myapp[1234]: hello world`,
			ok:   true, time: ts("2024-03-05T17:32:18Z"),
			fields: pri(13, fields{"message": "hello world", "log.syslog.appname": "myapp", "log.syslog.procid": "1234"}),
		},
		{
			name: "3164 hostname and pid, zero-padded day",
			in:   `<38>Mar 05 17:32:18 web-01 sshd[99]: Accepted password for root`,
			ok:   true, time: ts("2024-03-05T17:32:18Z"),
			fields: pri(38, host("web-01", fields{"message": "Accepted password for root", "log.syslog.appname": "sshd", "log.syslog.procid": "99"})),
		},
		{
			name: "3164 ip hostname, tag without colon",
			in:   `<13>Mar 15 10:00:00 10.1.2.3 kernel[0] eth0 link up`,
			ok:   true, time: ts("2024-03-15T10:00:00Z"),
			fields: pri(13, host("10.1.2.3", fields{"message": "eth0 link up", "log.syslog.appname": "kernel", "log.syslog.procid": "0"})),
		},
		{
			name: "3164 without tag",
			in:   `<13>Mar 15 10:00:00 host just some text: with a colon`,
			ok:   true, time: ts("2024-03-15T10:00:00Z"),
			fields: pri(13, host("host", fields{"message": "just some text: with a colon"})),
		},
		{
			name: "3164 without timestamp",
			in:   `<13>myapp: no timestamp here`,
			ok:   true, time: recvTime,
			fields: pri(13, fields{"message": "no timestamp here", "log.syslog.appname": "myapp"}),
		},
		{
			name: "3164 without timestamp or tag",
			in:   `<13>free text http://x/y`,
			ok:   true, time: recvTime,
			fields: pri(13, fields{"message": "free text http://x/y"}),
		},
		{
			name: "3164 empty",
			in:   `<0>`,
			ok:   true, time: recvTime,
			fields: pri(0, fields{"message": ""}),
		},
		{
			name: "cisco ios counter, unsynced clock, utc",
			in:   `<189>237: *Mar  1 18:48:50.483 UTC: %SYS-5-CONFIG_I: Configured from console by vty2 (10.34.195.36)`,
			ok:   true, time: ts("2024-03-01T18:48:50.483Z"),
			fields: pri(189, fields{"message": "%SYS-5-CONFIG_I: Configured from console by vty2 (10.34.195.36)"}),
		},
		{
			name: "cisco ios counter and sequence number",
			in:   `<187>1234: 000123: Mar 15 11:59:00.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down`,
			ok:   true, time: ts("2024-03-15T11:59:00.123Z"),
			fields: pri(187, fields{"message": "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"}),
		},
		{
			name: "cisco asa with year",
			in:   `<166>Mar 15 2024 11:00:00: %ASA-6-302013: Built outbound TCP connection 1 for outside:10.0.0.1/443`,
			ok:   true, time: ts("2024-03-15T11:00:00Z"),
			fields: pri(166, fields{"message": "%ASA-6-302013: Built outbound TCP connection 1 for outside:10.0.0.1/443"}),
		},
		{
			name: "cisco asa with device id",
			in:   `<166>Mar 15 2024 11:00:00 fw01 : %ASA-6-302013: Built outbound`,
			ok:   true, time: ts("2024-03-15T11:00:00Z"),
			fields: pri(166, host("fw01", fields{"message": "%ASA-6-302013: Built outbound"})),
		},
		{
			name: "3164 with rfc 3339 timestamp (rsyslog forward format)",
			in:   `<13>2024-03-15T11:59:59.123456+01:00 host app[1]: msg`,
			ok:   true, time: ts("2024-03-15T10:59:59.123456Z"),
			fields: pri(13, host("host", fields{"message": "msg", "log.syslog.appname": "app", "log.syslog.procid": "1"})),
		},
		{
			name: "3164 december received in january",
			in:   `<13>Dec 31 23:59:00 host app: late`,
			recv: time.Date(2024, time.January, 1, 0, 10, 0, 0, time.UTC),
			ok:   true, time: ts("2023-12-31T23:59:00Z"),
			fields: pri(13, host("host", fields{"message": "late", "log.syslog.appname": "app"})),
		},
		{
			name: "3164 january received in december",
			in:   `<13>Jan  1 00:00:30 host app: early`,
			recv: time.Date(2024, time.December, 31, 23, 59, 0, 0, time.UTC),
			ok:   true, time: ts("2025-01-01T00:00:30Z"),
			fields: pri(13, host("host", fields{"message": "early", "log.syslog.appname": "app"})),
		},
		{
			name: "3164 february 29 of the last leap year",
			in:   `<13>Feb 29 10:00:00 host app: leap`,
			recv: time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC),
			ok:   true, time: ts("2024-02-29T10:00:00Z"),
			fields: pri(13, host("host", fields{"message": "leap", "log.syslog.appname": "app"})),
		},
		{
			name: "3164 timezone option",
			in:   `<13>Mar 15 10:00:00 host app: zoned`,
			loc:  time.FixedZone("+02:00", 2*3600),
			ok:   true, time: ts("2024-03-15T08:00:00Z"),
			fields: pri(13, host("host", fields{"message": "zoned", "log.syslog.appname": "app"})),
		},
		{
			name: "3164 invalid timestamp is message text",
			in:   `<13>Mar 35 10:00:00 host app: x`,
			ok:   true, time: recvTime,
			fields: pri(13, fields{"message": "Mar 35 10:00:00 host app: x"}),
		},
		{name: "no pri", in: "hello world", time: recvTime, fields: fields{"message": "hello world", "tags": TagParseFailure, "log.source.address": addr}},
		{name: "empty pri", in: "<>hello", time: recvTime, fields: fields{"message": "<>hello", "tags": TagParseFailure, "log.source.address": addr}},
		{name: "pri too big", in: "<192>hello", time: recvTime, fields: fields{"message": "<192>hello", "tags": TagParseFailure, "log.source.address": addr}},
		{name: "pri too long", in: "<0013>hello", time: recvTime, fields: fields{"message": "<0013>hello", "tags": TagParseFailure, "log.source.address": addr}},
		{name: "pri unterminated", in: "<13", time: recvTime, fields: fields{"message": "<13", "tags": TagParseFailure, "log.source.address": addr}},
		{name: "empty", in: "", time: recvTime, fields: fields{"message": "", "tags": TagParseFailure, "log.source.address": addr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := tt.loc
			if loc == nil {
				loc = time.UTC
			}
			recv := tt.recv
			if recv.IsZero() {
				recv = recvTime
			}
			b := NewBuilder(loc, false)
			ev, ok := b.Build(tt.in, recv, addr, 0)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			checkEvent(t, ev, tt.time, tt.fields)
		})
	}
}

func TestParseKeepOriginal(t *testing.T) {
	for _, in := range []string{`<13>Mar 15 10:00:00 host app: x`, "garbage"} {
		ev, _ := NewBuilder(time.UTC, true).Build(in, recvTime, "", 0)
		if got, _ := ev.GetString("event.original"); got != in {
			t.Errorf("event.original = %q, want %q", got, in)
		}
		if ev.Has("log.source.address") {
			t.Errorf("log.source.address set without an address")
		}
	}
}

// TestParseGolden runs every line of testdata/parse.txt through the builder
// and compares the events, as JSON, with testdata/parse.golden. Run with
// -update after an intended change and review the diff.
func TestParseGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "parse.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBuilder(time.UTC, false)
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(in))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ev, _ := b.Build(line, recvTime, "192.0.2.1:514", 0)
		out.WriteString(line)
		out.WriteString("\n=> ")
		out.Write(event.AppendJSON(nil, &ev, true))
		out.WriteString("\n\n")
	}
	golden := filepath.Join("testdata", "parse.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestParseGolden -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		gotLines, wantLines := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gotLines), len(wantLines)) {
			var g, w string
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if g != w {
				t.Fatalf("golden mismatch at line %d:\n got %s\nwant %s\n(run with -update if the change is intended)", i+1, g, w)
			}
		}
	}
}

func TestLoadLocation(t *testing.T) {
	tests := []struct {
		in      string
		offset  int
		wantErr bool
	}{
		{in: "", offset: 0},
		{in: "UTC", offset: 0},
		{in: "+02:00", offset: 7200},
		{in: "-0530", offset: -(5*3600 + 30*60)},
		{in: "+03", offset: 3 * 3600},
		{in: "+25:00", wantErr: true},
		{in: "+2:0", wantErr: true},
		{in: "Mars/Olympus_Mons", wantErr: true},
	}
	for _, tt := range tests {
		loc, err := LoadLocation(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("LoadLocation(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil {
			if _, off := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Zone(); off != tt.offset {
				t.Errorf("LoadLocation(%q) offset = %d, want %d", tt.in, off, tt.offset)
			}
		}
	}
}

// TestParseHostileInputs checks that pathological messages are parsed in
// linear time.
func TestParseHostileInputs(t *testing.T) {
	var many strings.Builder
	many.WriteString("<13>1 - - - - - [x")
	for i := range 100000 {
		fmt.Fprintf(&many, ` p%d="v"`, i)
	}
	many.WriteString("]")
	inputs := []string{
		many.String(),
		"<13>1 - - - - - " + strings.Repeat(`[a b="c"]`, 100000),
		"<13>1 - - - - - " + strings.Repeat(`[a b="\\`, 100000),
		"<13>" + strings.Repeat("Jan  1 00:00:00 ", 100000),
		"<13>" + strings.Repeat("1: ", 100000),
		"<13>Jan  1 00:00:00 " + strings.Repeat("ABC:", 100000),
		"<13>" + strings.Repeat("a[", 100000),
	}
	for _, in := range inputs {
		start := time.Now()
		NewBuilder(time.UTC, false).Build(in, recvTime, "", 0)
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("%.30q...: took %v", in, d)
		}
	}
}

func TestInferYear(t *testing.T) {
	berlin, err := LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		month     time.Month
		day, hour int
		loc       *time.Location
		now       time.Time
		want      string // RFC 3339, "" for !ok
	}{
		{"same year", time.March, 15, 10, time.UTC, recvTime, "2024-03-15T10:00:00Z"},
		{"a few days ahead stays", time.March, 20, 10, time.UTC, recvTime, "2024-03-20T10:00:00Z"},
		{"more than a week ahead is last year", time.March, 23, 10, time.UTC, recvTime, "2023-03-23T10:00:00Z"},
		{"december in january", time.December, 31, 23, time.UTC, time.Date(2024, 1, 1, 0, 5, 0, 0, time.UTC), "2023-12-31T23:00:00Z"},
		{"january in december", time.January, 1, 0, time.UTC, time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC), "2025-01-01T00:00:00Z"},
		{"january in december, far behind", time.January, 20, 0, time.UTC, time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC), "2024-01-20T00:00:00Z"},
		{"feb 29 from a leap year", time.February, 29, 1, time.UTC, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "2024-02-29T01:00:00Z"},
		{"feb 29 out of reach", time.February, 29, 1, time.UTC, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), ""},
		{"month out of range", 13, 1, 1, time.UTC, recvTime, ""},
		{"day zero", time.March, 0, 1, time.UTC, recvTime, ""},
		{"zone decides the year", time.January, 1, 0, berlin, time.Date(2023, 12, 31, 23, 30, 0, 0, time.UTC), "2023-12-31T23:00:00Z"},
	}
	for _, tt := range tests {
		got, ok := InferYear(tt.month, tt.day, tt.hour, 0, 0, 0, tt.loc, tt.now)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s: got %v, want failure", tt.name, got)
		case tt.want != "" && (!ok || !got.Equal(ts(tt.want))):
			t.Errorf("%s: got %v %v, want %s", tt.name, got, ok, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	if FacilityName(0) != "kernel" || FacilityName(23) != "local7" || FacilityName(24) != "" || FacilityName(-1) != "" {
		t.Error("FacilityName")
	}
	if SeverityName(0) != "Emergency" || SeverityName(7) != "Debug" || SeverityName(8) != "" {
		t.Error("SeverityName")
	}
	if Level(3) != "error" || Level(6) != "informational" || Level(-1) != "" {
		t.Error("Level")
	}
}

func TestKeyCache(t *testing.T) {
	c := NewKeyCache("x.sd.")
	if k := c.Key("a@1", "b"); k != "x.sd.a@1.b" {
		t.Errorf("Key = %q", k)
	}
	// "a" "b.c" and "a.b" "c" make the same field name but are cached
	// apart.
	if k1, k2 := c.Key("a", "b.c"), c.Key("a.b", "c"); k1 != "x.sd.a.b.c" || k2 != k1 {
		t.Errorf("keys %q %q", k1, k2)
	}
	if n := testing.AllocsPerRun(100, func() { c.Key("a@1", "b") }); n != 0 {
		t.Errorf("cached Key allocates %v times", n)
	}
	for i := range maxInternedKeys + 10 {
		c.Key("id", strconv.Itoa(i))
	}
	if len(c.keys) > maxInternedKeys {
		t.Errorf("cache grew to %d", len(c.keys))
	}
}
