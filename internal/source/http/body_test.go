package http

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

func TestFormatOf(t *testing.T) {
	tests := map[string]format{
		"":                                    formatAuto,
		"application/octet-stream":            formatAuto,
		"application/x-www-form-urlencoded":   formatAuto,
		"*/*":                                 formatAuto,
		"application/x-ndjson":                formatNDJSON,
		"Application/X-NDJSON; charset=utf-8": formatNDJSON,
		"application/jsonlines":               formatNDJSON,
		"application/json":                    formatJSON,
		"application/json;charset=UTF-8":      formatJSON,
		"application/vnd.api+json":            formatJSON,
		"text/plain":                          formatText,
		"text/plain; charset=utf-8":           formatText,
		"application/xml":                     formatText,
		"garbage;;;===":                       formatAuto,
	}
	for ct, want := range tests {
		if got := formatOf(ct); got != want {
			t.Errorf("formatOf(%q) = %d, want %d", ct, got, want)
		}
	}
}

// parseAll runs parseBody and returns the events, flattened out of their
// batches, with the batches released afterwards by the test's cleanup.
func parseAll(t testing.TB, body, ct string, maxLine int) ([]event.Event, bodyStats, error) {
	out := batcher{source: "t", max: maxBatchEvents}
	st, err := parseBody([]byte(body), ct, time.Unix(100, 0), maxLine, &out)
	var evs []event.Event
	for _, b := range out.batches {
		for i := range b.Events {
			evs = append(evs, b.Events[i].Clone())
		}
	}
	out.release()
	return evs, st, err
}

func TestParseBody(t *testing.T) {
	tests := []struct {
		name    string
		ct      string
		body    string
		maxLine int
		want    string // messages joined by '|'
		stats   bodyStats
		err     string
	}{
		{name: "ndjson", ct: "application/x-ndjson", body: "{\"message\":\"a\"}\n{\"message\":\"b\"}", want: "a|b", stats: bodyStats{events: 2}},
		{name: "ndjson non-object line", ct: "application/x-ndjson", body: "\"str\"\n42", want: "\"str\"|42", stats: bodyStats{events: 2, parseErrors: 2}},
		{name: "json scalar", ct: "application/json", body: "42", want: "42", stats: bodyStats{events: 1, parseErrors: 1}},
		{name: "json array frame error", ct: "application/json", body: `[{"a":1}}]`, err: "invalid JSON array at offset 8: unexpected '}'"},
		{name: "json array missing comma", ct: "application/json", body: `[{"a":1} {"a":2}]`, want: `{"a":1} {"a":2}`, stats: bodyStats{events: 1, parseErrors: 1}},
		{name: "json array unterminated", ct: "application/json", body: `[{"a":1},`, err: "unexpected end"},
		{name: "json array trailing", ct: "application/json", body: `[{"message":"a"}] x`, err: "unexpected data after the array"},
		{name: "json array empty element", ct: "application/json", body: `[{"message":"a"},,]`, err: "expected an element"},
		{name: "json array escaped quote", ct: "application/json", body: `[{"message":"a\"],"}]`, want: `a"],`, stats: bodyStats{events: 1}},
		{name: "sniffed array frame error is text", body: "[1] x\n[2]", want: "[1] x|[2]", stats: bodyStats{events: 2}},
		{name: "single object", ct: "application/json", body: "{\n\"message\": \"multi\nline\"\n}", want: "{|\"message\": \"multi|line\"|}", stats: bodyStats{events: 4, parseErrors: 4}},
		{name: "single object ok", ct: "application/json", body: "{\n\"message\": \"multi line\"\n}", want: "multi line", stats: bodyStats{events: 1}},
		{name: "single object too long", ct: "application/json", body: "{\n\"message\": \"multi line\"\n}", maxLine: 5, want: "{\n\"me", stats: bodyStats{events: 1, truncated: 1}},
		{name: "truncate at rune boundary", ct: "text/plain", body: "aé€x", maxLine: 4, want: "aé", stats: bodyStats{events: 1, truncated: 1}},
		{name: "text keeps spaces", ct: "text/plain", body: "  a  \n\n \t\r\n\tat b\r\n", want: "  a  |\tat b", stats: bodyStats{events: 2}},
		{name: "blank", ct: "", body: " \n\t\r\n", want: "", stats: bodyStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.maxLine == 0 {
				tt.maxLine = 1 << 20
			}
			evs, st, err := parseAll(t, tt.body, tt.ct, tt.maxLine)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(messages(evs), "|"); got != tt.want {
				t.Errorf("messages %q, want %q", got, tt.want)
			}
			if st != tt.stats {
				t.Errorf("stats %+v, want %+v", st, tt.stats)
			}
		})
	}
}

func TestParseBodyBatches(t *testing.T) {
	body := strings.Repeat("{\"a\":1}\n", 2*maxBatchEvents+1)
	out := batcher{source: "src", max: maxBatchEvents}
	st, err := parseBody([]byte(body), "", time.Unix(1, 0), 1<<20, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer out.release()
	if len(out.batches) != 3 || out.batches[0].Len() != maxBatchEvents || out.batches[2].Len() != 1 || st.events != 2*maxBatchEvents+1 {
		t.Fatalf("%d batches, stats %+v", len(out.batches), st)
	}
	total := 0
	for _, b := range out.batches {
		total += b.Bytes
		if b.Source != "src" {
			t.Errorf("batch source %q", b.Source)
		}
	}
	if total != len(body)-(2*maxBatchEvents+1) { // newlines are not counted
		t.Errorf("batch bytes %d", total)
	}
}

var fuzzContentTypes = []string{"", "application/x-ndjson", "application/json", "text/plain", "application/octet-stream", "image/png"}

func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		"{\"message\":\"a\"}\n{\"b\":[1,2]}\n", `[{"a":1},{"b":"]"}]`, "[INFO] x\n[", "plain\r\ntext", `{"a":`,
		"[\"\\\"\",{]", "{\n \"a\": 1\n}", "\xff\xfe\n{\"\xff\":\"\xfe\"}",
	} {
		for i := range fuzzContentTypes {
			f.Add([]byte(s), uint8(i), uint16(0))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, ct uint8, maxLine uint16) {
		contentType := fuzzContentTypes[int(ct)%len(fuzzContentTypes)]
		ml := int(maxLine)%64 + 1
		if maxLine&0x8000 != 0 {
			ml = 1 << 20
		}
		orig := bytes.Clone(body)
		out := batcher{source: "f", max: 7} // small batches to exercise cutting
		st, err := parseBody(body, contentType, time.Unix(100, 0), ml, &out)
		defer out.release()
		if !bytes.Equal(body, orig) {
			t.Fatal("parseBody modified the body")
		}
		if err != nil {
			if formatOf(contentType) != formatJSON || len(out.batches) != 0 {
				t.Fatalf("error %v for %q with %q (batches %d)", err, body, contentType, len(out.batches))
			}
			return
		}
		if n := out.count(); n != st.events {
			t.Fatalf("%d events in batches, stats say %d", n, st.events)
		}
		if st.parseErrors+st.truncated > st.events {
			t.Fatalf("stats %+v", st)
		}
		bytesTotal := 0
		for _, b := range out.batches {
			if b.Len() == 0 || b.Len() > 7 {
				t.Fatalf("batch of %d events", b.Len())
			}
			bytesTotal += b.Bytes
			for i := range b.Events {
				ev := &b.Events[i]
				if ev.Time.IsZero() {
					t.Fatal("event without time")
				}
				if ev.HasTag(tagTruncated) && len(ev.Message()) > ml {
					t.Fatalf("truncated message of %d bytes > %d", len(ev.Message()), ml)
				}
			}
		}
		if bytesTotal > len(body) {
			t.Fatalf("batches count %d bytes of a %d-byte body", bytesTotal, len(body))
		}
		if formatOf(contentType) == formatText {
			want := 0
			for _, l := range bytes.Split(body, []byte{'\n'}) {
				if len(trimSpace(l)) > 0 {
					want++
				}
			}
			for _, b := range out.batches {
				for i := range b.Events {
					if m := b.Events[i].Message(); !b.Events[i].HasTag(tagTruncated) && !bytes.Contains(body, []byte(m)) {
						t.Fatalf("text message %q is not in the body", m)
					}
				}
			}
			if st.events != want {
				t.Fatalf("text: %d events for %d non-blank lines", st.events, want)
			}
		}
	})
}
