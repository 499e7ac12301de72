package esbulk

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluicehq/sluice/internal/event"
)

func parse(t *testing.T, body, defIndex string, opts Options) ([]Item, *Error) {
	t.Helper()
	return NewParser(opts).Parse(nil, []byte(body), defIndex)
}

func TestParseBasic(t *testing.T) {
	body := `{"index":{"_index":"logs","_id":"1"}}
{"@timestamp":"2026-01-02T10:00:00Z","message":"hello","host":{"name":"web-01"}}
{"create":{}}
{"message":"second","status":500}

{ "index" : { "_index" : "other" } }` + "\r\n" + `{"message":"crlf"}` + "\r\n"
	items, err := parse(t, body, "dflt", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("got %d items", len(items))
	}
	a := items[0]
	if a.Action != Index || a.Index != "logs" || a.ID != "1" || a.Err != nil || a.Line != 1 {
		t.Fatalf("item 0: %+v", a)
	}
	if !a.Event.Time.Equal(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("time: %v", a.Event.Time)
	}
	if s, _ := a.Event.GetString("host.name"); s != "web-01" {
		t.Fatalf("host.name %q", s)
	}
	b := items[1]
	if b.Action != Create || b.Index != "dflt" || b.ID != "" || b.Line != 3 || !b.Event.Time.IsZero() {
		t.Fatalf("item 1: %+v", b)
	}
	if v, _ := b.Event.Lookup("status"); v.Interface() != int64(500) {
		t.Fatalf("status %v", v)
	}
	c := items[2]
	if c.Index != "other" || c.Line != 6 || c.Event.Message() != "crlf" {
		t.Fatalf("item 2: %+v %q", c, c.Event.Message())
	}
}

func TestParseItemErrors(t *testing.T) {
	body := `{"index":{"_index":"a"}}
{"message": }
{"delete":{"_index":"a","_id":"1"}}
{"update":{"_index":"a","_id":"1"}}
{"doc":{"x":1}}
{"index":{"_index":"a","op_type":"create"}}
[1,2]
{"index":{"_index":"a"}}

{"index":{"_index":"a"}}
{"message":"` + strings.Repeat("x", 100) + `"}
{"index":{"_index":"a","_id":"7"}}
{"@timestamp":"yesterday"}
{"index":{"_index":"a"}}
{"@timestamp":1767348000000,"message":"epoch"}
{"index":{"_index":"a"}}
{"@timestamp":"2026-01-02","message":"date"}
`
	items, err := parse(t, body, "", Options{MaxEventBytes: 64, StrictTimestamp: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		action Action
		typ    string
		status int
	}{
		{Index, "document_parsing_exception", 400},
		{Delete, "illegal_argument_exception", 400},
		{Update, "illegal_argument_exception", 400},
		{Create, "document_parsing_exception", 400},
		{Index, "document_parsing_exception", 400},
		{Index, "illegal_argument_exception", 413},
		{Index, "document_parsing_exception", 400},
		{Index, "", 0},
		{Index, "", 0},
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d", len(items), len(want))
	}
	for i, w := range want {
		it := items[i]
		if it.Action != w.action {
			t.Errorf("item %d: action %v, want %v", i, it.Action, w.action)
		}
		switch {
		case w.typ == "" && it.Err != nil:
			t.Errorf("item %d: unexpected error %v", i, it.Err)
		case w.typ != "" && (it.Err == nil || it.Err.Type != w.typ || it.Err.Status != w.status):
			t.Errorf("item %d: error %+v, want %s %d", i, it.Err, w.typ, w.status)
		}
	}
	if r := items[0].Err.Reason; !strings.HasPrefix(r, "[1:13] failed to parse: ") || items[0].Err.CausedBy.Type != "x_content_parse_exception" {
		t.Errorf("reason %q", r)
	}
	if r := items[3].Err.Reason; r != "[1:1] Malformed content, must start with an object" {
		t.Errorf("reason %q", r)
	}
	if r := items[6].Err.Reason; r != "failed to parse field [@timestamp] of type [date] in document with id '7'. Preview of field's value: 'yesterday'" {
		t.Errorf("reason %q", r)
	}
	if got := items[7].Event.Time; !got.Equal(time.UnixMilli(1767348000000)) {
		t.Errorf("epoch time %v", got)
	}
	for _, f := range items[7].Event.Fields() {
		if f.Key == "@timestamp" {
			t.Error("@timestamp field left after parsing it")
		}
	}
	if got := items[8].Event.Time; !got.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date time %v", got)
	}
}

func TestParseNonStrictTimestamp(t *testing.T) {
	items, err := parse(t, "{\"index\":{\"_index\":\"a\"}}\n{\"@timestamp\":\"yesterday\"}\n", "", Options{})
	if err != nil || items[0].Err != nil {
		t.Fatal(err, items[0].Err)
	}
	if s, _ := items[0].Event.GetString("@timestamp"); s != "yesterday" {
		t.Fatalf("@timestamp kept as %q", s)
	}
}

func TestParseRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		body, typ, reason string
	}{
		{"", "parse_exception", "request body is required"},
		{"\n\n", "action_request_validation_exception", "Validation Failed: 1: no requests added;"},
		{`{"index":{}}` + "\n{}", "illegal_argument_exception", `The bulk request must be terminated by a newline [\n]`},
		{`{"index":{}}`, "illegal_argument_exception", `The bulk request must be terminated by a newline [\n]`},
		{`"index"` + "\n{}\n", "illegal_argument_exception", "Malformed action/metadata line [1], expected START_OBJECT but found [VALUE_STRING]"},
		{"[]\n{}\n", "illegal_argument_exception", "Malformed action/metadata line [1], expected START_OBJECT but found [START_ARRAY]"},
		{"{}\n{}\n", "illegal_argument_exception", "Malformed action/metadata line [1], expected FIELD_NAME but found [END_OBJECT]"},
		{`{"index":{"_index":"a"}}` + "\n{}\n" + `{"invalidaction":{}}` + "\n{}\n", "illegal_argument_exception",
			"Malformed action/metadata line [3], expected field [create], [delete], [index] or [update] but found [invalidaction]"},
		{`{"index":"a"}` + "\n{}\n", "illegal_argument_exception", "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]"},
		{`{"index":{"_index":["a"]}}` + "\n{}\n", "illegal_argument_exception", "Malformed action/metadata line [1], expected a simple value for field [_index] but found [START_ARRAY]"},
		{`{"index":{"_index":"a","foo":1}}` + "\n{}\n", "illegal_argument_exception", "Action/metadata line [1] contains an unknown parameter [foo]"},
		{`{"index":{"_index":"a",}}` + "\n{}\n", "x_content_parse_exception", "[1:24] Unexpected character ('}' (code 125)): was expecting double-quote to start field name"},
		{"{index}\n{}\n", "x_content_parse_exception", "[1:2] Unexpected character ('i' (code 105)): was expecting double-quote to start field name"},
		{"index\n{}\n", "x_content_parse_exception", "[1:1] Unrecognized token 'index': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"},
		{`{"index":{}}` + "\n{}\n", "action_request_validation_exception", "Validation Failed: 1: index is missing;"},
		{`{"index":{"_index":"a","_id":""}}` + "\n{}\n", "action_request_validation_exception", "Validation Failed: 1: if _id is specified it must not be empty;"},
		{`{"index":{"_index":"a","_id":"` + strings.Repeat("x", 513) + `"}}` + "\n{}\n", "action_request_validation_exception",
			"Validation Failed: 1: id [" + strings.Repeat("x", 513) + "] is too long, must be no longer than 512 bytes but was: 513;"},
	} {
		_, err := parse(t, tc.body, "", Options{})
		if err == nil {
			t.Errorf("%q: no error", tc.body)
			continue
		}
		if err.Type != tc.typ || err.Reason != tc.reason || err.Status != 400 {
			t.Errorf("%q:\n got %s %d %q\nwant %s 400 %q", tc.body, err.Type, err.Status, err.Reason, tc.typ, tc.reason)
		}
	}
}

func TestParseLenientActionLine(t *testing.T) {
	// Elasticsearch 8 accepts, with a deprecation warning, an action line
	// with extra keys, a missing closing brace or trailing data; and
	// Sluice accepts _type, which shippers configured for 7.x still send.
	body := `{"index":{"_index":"a","_type":"_doc","routing":"r","pipeline":"p","version":3,"require_alias":false,"dynamic_templates":{"x":"y"},"_source":{"includes":["a"]},"_id":null}, "extra":{}}
{"a":1}
{"create":{"_index":"b"}
{"a":2}
{"index":{"_index":"c\u0041\"","_id":"\ud83d\ude00"}} trailing
{"a":3}
`
	items, err := parse(t, body, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].Index != "a" || items[0].ID != "" || items[1].Index != "b" || items[1].Action != Create {
		t.Fatalf("%+v", items)
	}
	if items[2].Index != `cA"` || items[2].ID != "😀" {
		t.Fatalf("escapes: %q %q", items[2].Index, items[2].ID)
	}
}

func TestParseActionWithoutSourceAtEnd(t *testing.T) {
	items, err := parse(t, "{\"index\":{\"_index\":\"a\"}}\n{}\n{\"index\":{\"_index\":\"a\"}}\n", "", Options{})
	if err != nil || len(items) != 1 {
		t.Fatal(err, len(items))
	}
}

func TestErrorResponseShape(t *testing.T) {
	e := &Error{Status: 400, Type: "document_parsing_exception", Reason: "outer",
		Meta:     []Meta{{"index", "x"}, {"line", 3}},
		CausedBy: &Error{Type: "x_content_parse_exception", Reason: "inner"}}
	got := string(AppendErrorResponse(nil, e))
	want := `{"error":{"root_cause":[{"type":"x_content_parse_exception","reason":"inner"}],"type":"document_parsing_exception","reason":"outer","index":"x","line":3,"caused_by":{"type":"x_content_parse_exception","reason":"inner"}},"status":400}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	simple := string(AppendErrorResponse(nil, IllegalArgument("bad")))
	if simple != `{"error":{"root_cause":[{"type":"illegal_argument_exception","reason":"bad"}],"type":"illegal_argument_exception","reason":"bad"},"status":400}` {
		t.Fatal(simple)
	}
}

func TestResponse(t *testing.T) {
	items, perr := parse(t, `{"index":{"_index":"a","_id":"1"}}
{"x":1}
{"create":{"_index":"b"}}
{"x":
{"delete":{"_index":"a","_id":"2"}}
{"index":{"_index":"a"}}
{"x":3}
`, "", Options{})
	if perr != nil {
		t.Fatal(perr)
	}
	results := []Result{{SeqNo: 0}, {ID: "gen1"}, {}, {ID: "gen3", Err: Rejected("disk full"), SeqNo: 2}}
	got := AppendResponse(nil, 5*time.Millisecond, items, results, ResponseOptions{})
	want := `{"errors":true,"took":5,"items":[` +
		`{"index":{"_index":"a","_id":"1","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},` +
		`{"create":{"_index":"b","_id":"gen1","status":400,"error":{"type":"document_parsing_exception","reason":"[1:6] failed to parse: unexpected end of input: expected value after ':'","caused_by":{"type":"x_content_parse_exception","reason":"[1:6] unexpected end of input: expected value after ':'"}}}},` +
		`{"delete":{"_index":"a","_id":"2","status":400,"error":{"type":"illegal_argument_exception","reason":"the bulk action [delete] is not supported: documents are append-only, only [index] and [create] are"}}},` +
		`{"index":{"_index":"a","_id":"gen3","status":429,"error":{"type":"es_rejected_execution_exception","reason":"disk full"}}}]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("invalid JSON")
	}
	ok := AppendResponse(nil, 0, items[:1], results[:1], ResponseOptions{Type7: true})
	if !bytes.Contains(ok, []byte(`"errors":false`)) || !bytes.Contains(ok, []byte(`"_type":"_doc"`)) {
		t.Fatalf("%s", ok)
	}
}

func TestReadBody(t *testing.T) {
	plain := []byte(strings.Repeat(`{"index":{}}`+"\n"+`{"message":"x"}`+"\n", 100))
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write(plain)
	zw.Close()

	got, err := ReadBody(bytes.NewReader(zbuf.Bytes()), "gzip", int64(zbuf.Len()), 1<<20)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("gzip: %v", err)
	}
	got, err = ReadBody(bytes.NewReader(plain), "", -1, 1<<20)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("plain: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(zbuf.Bytes()), "gzip", int64(zbuf.Len()), 100); err == nil || err.Status != 413 {
		t.Fatalf("gzip over limit: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(plain), "", int64(len(plain)), 100); err == nil || err.Status != 413 {
		t.Fatalf("plain over limit: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader([]byte("not gzip")), "gzip", 8, 100); err == nil || err.Status != 400 {
		t.Fatalf("corrupt gzip: %v", err)
	}
	if _, err := ReadBody(bytes.NewReader(plain), "br", -1, 1<<20); err == nil || err.Status != 415 {
		t.Fatalf("brotli: %v", err)
	}
}

func TestParseTimestamp(t *testing.T) {
	for _, tc := range []struct {
		v    event.Value
		want time.Time
		ok   bool
	}{
		{event.String("2026-01-02T10:00:00.5+01:00"), time.Date(2026, 1, 2, 9, 0, 0, 5e8, time.UTC), true},
		{event.String("2026-01-02T10:00:00"), time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC), true},
		{event.String("2026-01-02"), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), true},
		{event.String("1767348000000"), time.UnixMilli(1767348000000), true},
		{event.Int(1767348000000), time.UnixMilli(1767348000000), true},
		{event.Float(1767348000000.5), time.UnixMicro(1767348000000500), true},
		{event.String("now"), time.Time{}, false},
		{event.String("Jan 2"), time.Time{}, false},
		{event.Bool(true), time.Time{}, false},
	} {
		got, ok := ParseTimestamp(tc.v)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%v: got %v %v", tc.v.Text(), got, ok)
		}
	}
}

func TestParseAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	body := filebeatBody(100)
	p := NewParser(Options{})
	items := make([]Item, 0, 100)
	allocs := testing.AllocsPerRun(20, func() {
		var err *Error
		items, err = p.Parse(items[:0], body, "")
		if err != nil {
			t.Fatal(err)
		}
	})
	// jsonparse allocates the field slice and a small arena per event;
	// the bulk framing itself should add nothing per item.
	if per := allocs / 100; per > 3 {
		t.Fatalf("%.1f allocations per item", per)
	}
}
