package esapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFilterPath(t *testing.T) {
	body := `{"took":3,"errors":true,"items":[{"index":{"_index":"a","status":201}},{"create":{"_index":"a","status":400,"error":{"type":"x","reason":"y"}}}],"hits":{"total":{"value":2},"hits":[{"_id":"1","_source":{"a":{"b":1,"c":2}}}]}}`
	for _, tc := range []struct{ spec, want string }{
		{"errors,items.*.error,items.*.status", `{"errors":true,"items":[{"index":{"status":201}},{"create":{"status":400,"error":{"type":"x","reason":"y"}}}]}`},
		{"items.*.error", `{"items":[{"create":{"error":{"type":"x","reason":"y"}}}]}`},
		{"hits.hits._id", `{"hits":{"hits":[{"_id":"1"}]}}`},
		{"hits.**.b", `{"hits":{"hits":[{"_source":{"a":{"b":1}}}]}}`},
		{"-items,-hits.hits", `{"took":3,"errors":true,"hits":{"total":{"value":2}}}`},
		{"hits.total,-hits.total.value", `{}`},
		{"nothing", `{}`},
		{"t*", `{"took":3}`},
	} {
		got := string(filterPath([]byte(body), tc.spec))
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.spec, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: invalid JSON", tc.spec)
		}
	}
}

func TestResolveDate(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	for _, tc := range []struct {
		v       any
		format  string
		loc     *time.Location
		roundUp bool
		want    string
	}{
		{"2026-01-02", "", nil, false, "2026-01-02T00:00:00Z"},
		{"2026-01-02", "", nil, true, "2026-01-02T23:59:59.999999999Z"},
		{"2026-01-02", "", berlin, false, "2026-01-01T23:00:00Z"},
		{"2026-01-02T10:00:00Z", "", berlin, false, "2026-01-02T10:00:00Z"},
		{"now-1h", "", nil, false, "2026-01-02T11:00:00Z"},
		{"now/d", "", nil, true, "2026-01-02T23:59:59.999999999Z"},
		{"now/d", "", berlin, false, "2026-01-01T23:00:00Z"},
		{"2026-01-31||+1M/M", "", nil, false, "2026-02-01T00:00:00Z"},
		{"2026-01-02||-1d", "", nil, false, "2026-01-01T00:00:00Z"},
		{json.Number("1767348000000"), "epoch_millis", nil, false, "2026-01-02T10:00:00Z"},
		{json.Number("1767348000000"), "", nil, false, "2026-01-02T10:00:00Z"},
		{"1767348000", "epoch_second", nil, false, "2026-01-02T10:00:00Z"},
		{"2026/01/02 10:00:00", "yyyy/MM/dd HH:mm:ss", nil, false, "2026-01-02T10:00:00Z"},
		{"2026/01/02", "yyyy/MM/dd", nil, true, "2026-01-02T23:59:59.999999999Z"},
	} {
		got, e := resolveDate(tc.v, tc.format, tc.loc, tc.roundUp, testNow)
		if e != nil {
			t.Errorf("%v: %v", tc.v, e)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != tc.want {
			t.Errorf("%v (%s, up=%v): got %s, want %s", tc.v, tc.format, tc.roundUp, s, tc.want)
		}
	}
	for _, bad := range []any{"yesterday", "now+", "now-1x", "2026-13-01"} {
		if _, e := resolveDate(bad, "", nil, false, testNow); e == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestTranslate(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{`{"match_all":{}}`, `*`},
		{`{"match":{"message":"quick brown"}}`, `message:quick or message:brown`},
		{`{"match":{"message":{"query":"quick brown","operator":"AND"}}}`, `message:quick and message:brown`},
		{`{"match":{"message.keyword":"x"}}`, `message:x`},
		{`{"term":{"status":{"value":500}}}`, `status:"500"`},
		{`{"terms":{"host":["a","b"]}}`, `host:"a" or host:"b"`},
		{`{"range":{"@timestamp":{"gte":"now-15m","lt":"now"}}}`, `@timestamp >= "2026-01-02T11:45:00.000000000Z" and @timestamp < "2026-01-02T12:00:00.000000000Z"`},
		{`{"range":{"@timestamp":{"gte":1767348000000,"lte":1767351600000,"format":"epoch_millis"}}}`, `@timestamp >= "2026-01-02T10:00:00.000000000Z" and @timestamp <= "2026-01-02T11:00:00.000999999Z"`},
		{`{"range":{"bytes":{"gt":10,"lte":"20"}}}`, `bytes > 10 and bytes <= 20`},
		{`{"bool":{"must":{"match":{"a":"x"}},"should":[{"match":{"b":"y"}}]}}`, `a:x`},
		{`{"bool":{"should":[{"match":{"b":"y"}},{"match":{"c":"z"}}]}}`, `b:y or c:z`},
		{`{"bool":{"must_not":[{"exists":{"field":"x"}}]}}`, `not x:*`},
		{`{"bool":{}}`, `*`},
		{`{"constant_score":{"filter":{"term":{"a":"b"}}}}`, `a:"b"`},
		{`{"wildcard":{"host":{"wildcard":"web-*"}}}`, `host:web-*`},
		{`{"prefix":{"path":"/var/*"}}`, `path:/var/\**`},
		{`{"multi_match":{"query":"x","fields":["a^2","b"]}}`, `a:x or b:x`},
		{`{"nested":{"path":"items","query":{"term":{"items.name":"x"}}}}`, `items:{name:"x"}`},
		{`{"match_none":{}}`, `not *`},
		{`{"ids":{"values":["1"]}}`, `_id:"1"`},
	} {
		var v any
		dec := json.NewDecoder(stringsReader(tc.q))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		tr := &translator{now: testNow}
		n, e := tr.query(v)
		if e != nil {
			t.Errorf("%s: %v", tc.q, e)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.q, got, tc.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0b", 260: "260b", 1024: "1kb", 1536: "1.5kb", 90214: "88kb", 90317: "88.2kb", 5 << 30: "5gb"} {
		if got := formatBytes(n, ""); got != want {
			t.Errorf("%d: %s, want %s", n, got, want)
		}
	}
	if got := formatBytes(90317, "kb"); got != "88" {
		t.Error(got)
	}
}

func TestValidateIndexName(t *testing.T) {
	for _, ok := range []string{"logs", "logs-2026.01.02", "filebeat-8.17.0", "a_b"} {
		if e := ValidateIndexName(ok); e != nil {
			t.Errorf("%s: %v", ok, e)
		}
	}
	for _, bad := range []string{"", "Logs", "_x", "-x", "a b", "a*", "a:b", "a#b", ".", ".."} {
		if e := ValidateIndexName(bad); e == nil || e.Type != "invalid_index_name_exception" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
