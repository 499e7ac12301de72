package syslog

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/netsrc"
	"github.com/sluicehq/sluice/internal/syslogparse"
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

// checkFuzzEvent checks an event built from raw by a Builder with
// keepOriginal set (syslogparse's FuzzParse checks the same, and more).
func checkFuzzEvent(t *testing.T, raw string, ev event.Event, ok bool) {
	t.Helper()
	msg, has := ev.GetString(event.MessageField)
	if !has {
		t.Fatalf("no message for %q", raw)
	}
	if !strings.Contains(raw, strings.TrimPrefix(msg, "\ufeff")) {
		t.Fatalf("message %q is not part of the input %q", msg, raw)
	}
	if ok == ev.HasTag(syslogparse.TagParseFailure) || (!ok && msg != raw) {
		t.Fatalf("%q: ok %v, message %q, tagged %v", raw, ok, msg, ev.HasTag(syslogparse.TagParseFailure))
	}
	if orig, _ := ev.GetString(syslogparse.FieldOriginal); orig != raw {
		t.Fatalf("event.original = %q, want %q", orig, raw)
	}
	if out := event.AppendJSON(nil, &ev, true); !json.Valid(out) {
		t.Fatalf("invalid JSON for %q: %s", raw, out)
	}
}

type pieceReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = int(r.sizes[r.i%len(r.sizes)]) + 1
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// FuzzStream runs arbitrary bytes, split into arbitrary reads, through the
// source's TCP path (auto-detected framing, parser, event builder): no
// panic, no endless loop, every byte read accounted for, at most one event
// per frame and every event well formed.
func FuzzStream(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s+"\n"+s+"\n"), []byte{7})
		f.Add([]byte(itoa(len(s))+" "+s+itoa(len(s))+" "+s), []byte{3, 50})
	}
	f.Add([]byte("12x oops\n5 hello"), []byte{1})
	f.Add([]byte("999999999 <13>"), []byte{})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		fr := netsrc.NewFramer(&pieceReader{data: data, sizes: sizes}, netsrc.FramerOptions{MaxBytes: 256, OctetCounting: true, BufferSize: 64})
		b := syslogparse.NewBuilder(time.UTC, true)
		now := time.Unix(1710504000, 0)
		total, events := 0, 0
		for range len(data) + 2 {
			ch, err := fr.Next()
			total += ch.Bytes
			for _, fm := range ch.Frames {
				ev, ok := b.Build(fm.Text, now, "192.0.2.1:514", 1)
				checkFuzzEvent(t, fm.Text, ev, ok)
				events++
			}
			if err != nil {
				if err != io.EOF {
					t.Fatalf("Next: %v", err)
				}
				if total != len(data) {
					t.Fatalf("read %d bytes of %d", total, len(data))
				}
				if events > len(data)/2+1 {
					t.Fatalf("%d events from %d bytes", events, len(data))
				}
				return
			}
		}
		t.Fatalf("framer did not reach the end of %d bytes", len(data))
	})
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
