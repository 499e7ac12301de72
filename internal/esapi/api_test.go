package esapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/esapi/esapitest"
	"github.com/sluicehq/sluice/internal/event"
)

type harness struct {
	t   *testing.T
	mem *esapitest.Memory
	h   *esapi.Handler
	now time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	mem := esapitest.NewMemory()
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	return &harness{t: t, mem: mem, now: now,
		h: esapi.New(mem, esapi.Options{NodeName: "test", Now: func() time.Time { return now }})}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object (%v): %s", err, r.body)
	}
	return m
}

func (h *harness) do(method, target, body string, hdr ...string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	if res.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		h.t.Fatalf("%s %s: no X-Elastic-Product header", method, target)
	}
	return response{res.StatusCode, res.Header, b}
}

// get returns the value at a dotted path (numbers index arrays).
func get(t *testing.T, v any, path string) any {
	t.Helper()
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func expect(t *testing.T, m map[string]any, path string, want any) {
	t.Helper()
	got := get(t, m, path)
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("%s = %s, want %s", path, gj, wj)
	}
}

const sampleBulk = `{"index":{"_index":"logs","_id":"1"}}
{"@timestamp":"2026-01-02T10:00:00Z","message":"GET /api/orders 200","status":200,"service":"api","host":{"name":"web-01"}}
{"index":{"_index":"logs","_id":"2"}}
{"@timestamp":"2026-01-02T10:30:00Z","message":"POST /api/orders 500 connection refused","status":500,"service":"api","host":{"name":"web-02"}}
{"create":{"_index":"logs"}}
{"@timestamp":"2026-01-02T11:15:00Z","message":"GET /health 200","status":200,"service":"gateway","host":{"name":"web-01"},"tags":["probe","internal"]}
{"index":{"_index":"other"}}
{"@timestamp":"2026-01-01T23:00:00Z","message":"nightly job done","status":0,"service":"cron"}
`

func (h *harness) load() {
	h.t.Helper()
	r := h.do("POST", "/_bulk", sampleBulk, "Content-Type", "application/x-ndjson")
	if r.status != 200 {
		h.t.Fatalf("bulk: %d %s", r.status, r.body)
	}
	if m := r.json(h.t); m["errors"] != false {
		h.t.Fatalf("bulk errors: %s", r.body)
	}
}

func TestInfoAndPing(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/", "")
	m := r.json(t)
	expect(t, m, "tagline", "You Know, for Search")
	expect(t, m, "version.number", esapi.DefaultVersion)
	expect(t, m, "version.build_flavor", "default")
	if r := h.do("HEAD", "/", ""); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("HEAD /: %d %q", r.status, r.body)
	}
}

func TestCompatibleWith(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/", "", "Accept", "application/vnd.elasticsearch+json; compatible-with=8")
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.elasticsearch+json;compatible-with=8" {
		t.Fatalf("content type %q", ct)
	}
	r = h.do("GET", "/", "", "Accept", "application/vnd.elasticsearch+json; compatible-with=6")
	if r.status != 400 || r.json(t)["error"].(map[string]any)["type"] != "media_type_header_exception" {
		t.Fatalf("compatible-with=6: %d %s", r.status, r.body)
	}
	// Version 7 compatibility adds _type to document responses.
	r = h.do("PUT", "/logs/_doc/9", `{"a":1}`, "Content-Type", "application/vnd.elasticsearch+json;compatible-with=7",
		"Accept", "application/vnd.elasticsearch+json;compatible-with=7")
	if r.status != 201 || r.json(t)["_type"] != "_doc" {
		t.Fatalf("compat 7: %d %s", r.status, r.body)
	}
}

func TestBulkAndSearch(t *testing.T) {
	h := newHarness(t)
	h.load()
	r := h.do("GET", "/logs/_count", "")
	expect(t, r.json(t), "count", 3)
	r = h.do("GET", "/_count", "")
	expect(t, r.json(t), "count", 4)

	r = h.do("POST", "/logs/_search", `{"query":{"match":{"message":"refused"}}}`)
	m := r.json(t)
	expect(t, m, "hits.total", map[string]any{"value": 1, "relation": "eq"})
	expect(t, m, "hits.hits.0._id", "2")
	expect(t, m, "hits.hits.0._source.host.name", "web-02")
	expect(t, m, "hits.hits.0._source.@timestamp", "2026-01-02T10:30:00Z")

	r = h.do("GET", "/logs/_search?q=status:200&sort=@timestamp:asc", "")
	m = r.json(t)
	expect(t, m, "hits.total.value", 2)
	expect(t, m, "hits.hits.0._id", "1")
	expect(t, m, "hits.hits.0.sort", []any{1767348000000})
	expect(t, m, "hits.hits.0._score", nil)

	r = h.do("POST", "/_search", `{"size":1,"from":1,"sort":[{"@timestamp":{"order":"desc"}}],"_source":["message"],
		"query":{"bool":{"filter":[{"range":{"@timestamp":{"gte":"2026-01-02","lt":"2026-01-03"}}}],"must_not":[{"term":{"service":"gateway"}}]}}}`)
	m = r.json(t)
	expect(t, m, "hits.total.value", 2)
	expect(t, m, "hits.hits.0._id", "1")
	expect(t, m, "hits.hits.0._source", map[string]any{"message": "GET /api/orders 200"})

	r = h.do("POST", "/_search", `{"query":{"query_string":{"query":"service:api AND NOT status:500"}}}`)
	expect(t, r.json(t), "hits.total.value", 1)
	r = h.do("POST", "/_search", `{"query":{"terms":{"tags":["probe","x"]}}}`)
	expect(t, r.json(t), "hits.total.value", 1)
	r = h.do("POST", "/_search", `{"query":{"exists":{"field":"tags"}}}`)
	expect(t, r.json(t), "hits.total.value", 1)
	r = h.do("POST", "/_search", `{"query":{"range":{"status":{"gt":100}}}}`)
	expect(t, r.json(t), "hits.total.value", 3)
	r = h.do("POST", "/_search", `{"query":{"match_phrase":{"message":"connection refused"}}}`)
	expect(t, r.json(t), "hits.total.value", 1)
	r = h.do("POST", "/_search", `{"query":{"match":{"message":{"query":"GET refused","operator":"and"}}}}`)
	expect(t, r.json(t), "hits.total.value", 0)
	r = h.do("POST", "/_search", `{"query":{"match":{"message":"GET refused"}}}`)
	expect(t, r.json(t), "hits.total.value", 3)
	r = h.do("POST", "/_search", `{"query":{"bool":{"should":[{"term":{"service":"api"}},{"term":{"service":"cron"}},{"term":{"status":500}}],"minimum_should_match":2}}}`)
	expect(t, r.json(t), "hits.total.value", 1)
	r = h.do("POST", "/_search", `{"query":{"wildcard":{"host.name":{"value":"web-0?"}}}}`)
	expect(t, r.json(t), "hits.total.value", 3)
	r = h.do("POST", "/_search", `{"query":{"prefix":{"service":"gate"}}}`)
	expect(t, r.json(t), "hits.total.value", 1)
	r = h.do("POST", "/_search", `{"query":{"ids":{"values":["1","2"]}}}`)
	expect(t, r.json(t), "hits.total.value", 2)
	r = h.do("POST", "/_search", `{"query":{"simple_query_string":{"query":"\"connection refused\" | nightly","fields":["message"]}}}`)
	expect(t, r.json(t), "hits.total.value", 2)
	r = h.do("POST", "/_search", `{"track_total_hits":false,"size":0}`)
	if _, ok := get(t, r.json(t), "hits").(map[string]any)["total"]; ok {
		t.Error("total reported with track_total_hits false")
	}
	r = h.do("POST", "/_search?rest_total_hits_as_int=true", `{}`)
	expect(t, r.json(t), "hits.total", 4)
}

func TestSearchErrors(t *testing.T) {
	h := newHarness(t)
	h.load()
	for _, tc := range []struct {
		target, body string
		status       int
		typ          string
	}{
		{"/missing/_search", `{}`, 404, "index_not_found_exception"},
		{"/_search", `{"query":{"nope":{}}}`, 400, "parsing_exception"},
		{"/_search", `{"query":{"match_all":{}}`, 400, "x_content_parse_exception"},
		{"/_search", `{"from":9999,"size":10}`, 400, "search_phase_execution_exception"},
		{"/_search", `{"query":{"regexp":{"a":"b.*"}}}`, 400, "illegal_argument_exception"},
		{"/_search", `{"sort":["status"]}`, 400, "illegal_argument_exception"},
		{"/_search", `{"query":{"range":{"@timestamp":{"gte":"yesterday"}}}}`, 400, "parse_exception"},
		{"/_search", `{"bogus":1}`, 400, "parsing_exception"},
		{"/_search?q=a:(b", "", 400, "query_shard_exception"},
	} {
		r := h.do("POST", tc.target, tc.body)
		if r.status != tc.status {
			t.Errorf("%s %s: status %d, want %d: %s", tc.target, tc.body, r.status, tc.status, r.body)
			continue
		}
		m := r.json(t)
		expect(t, m, "error.type", tc.typ)
		expect(t, m, "status", tc.status)
		if rc := get(t, m, "error.root_cause.0.type"); rc == nil {
			t.Errorf("%s: no root_cause: %s", tc.body, r.body)
		}
	}
	// Missing index with ignore_unavailable is an empty result.
	r := h.do("GET", "/missing/_search?ignore_unavailable=true", "")
	expect(t, r.json(t), "hits.total.value", 0)
	// Wildcards that match nothing are fine.
	r = h.do("GET", "/nothing-*/_search", "")
	expect(t, r.json(t), "hits.total.value", 0)
	// Exclusions.
	r = h.do("GET", "/*,-other/_count", "")
	expect(t, r.json(t), "count", 3)
}

func TestUnknownEndpointAndMethod(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/_nope/x", "")
	if r.status != 400 || !strings.Contains(string(r.body), `"error":"no handler found for uri [/_nope/x] and method [GET]"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = h.do("GET", "/_bulk", "")
	if r.status != 405 || !strings.Contains(string(r.body), "Incorrect HTTP method for uri [/_bulk] and method [GET], allowed: [POST, PUT]") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestBulkErrors(t *testing.T) {
	h := newHarness(t)
	h.mem.MaxFields = 5
	r := h.do("POST", "/dflt/_bulk", `{"index":{}}
{"message":"ok"}
{"index":{"_index":"Bad"}}
{"message":"bad index"}
{"index":{}}
{"message": nope}
{"index":{}}
{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}
{"delete":{"_id":"1"}}
{"index":{"_id":"x"}}
{"_id":"inside"}
`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	expect(t, m, "errors", true)
	expect(t, m, "items.0.index.status", 201)
	expect(t, m, "items.0.index._index", "dflt")
	if id, _ := get(t, m, "items.0.index._id").(string); id == "" {
		t.Errorf("no id for item 0")
	}
	expect(t, m, "items.1.index.status", 400)
	expect(t, m, "items.1.index.error.type", "invalid_index_name_exception")
	expect(t, m, "items.1.index.error.reason", "Invalid index name [Bad], must be lowercase")
	expect(t, m, "items.2.index.error.type", "document_parsing_exception")
	expect(t, m, "items.3.index.status", 400)
	expect(t, m, "items.3.index.error.caused_by.reason", "too many fields: 7 fields, the limit is 5")
	expect(t, m, "items.4.delete.status", 400)
	expect(t, m, "items.5.index.error.reason", "[1:1] Field [_id] is a metadata field and cannot be added inside a document. Use the index API request parameters.")

	// A malformed action line fails the request.
	r = h.do("POST", "/_bulk", "{\"index\":{\"_index\":\"a\"}}\n{}\n{\"bogus\":{}}\n{}\n")
	if r.status != 400 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	expect(t, r.json(t), "error.reason", "Malformed action/metadata line [3], expected field [create], [delete], [index] or [update] but found [bogus]")

	// Whole-call failures are per item, 429 when retryable.
	h.mem.Fail = esapi.ErrUnavailable
	r = h.do("POST", "/_bulk", "{\"index\":{\"_index\":\"a\"}}\n{}\n")
	expect(t, r.json(t), "items.0.index.status", 429)
	expect(t, r.json(t), "items.0.index.error.type", "es_rejected_execution_exception")
	h.mem.Fail = nil

	// Size limits.
	small := esapi.New(h.mem, esapi.Options{MaxRequestBytes: 100, MaxEventBytes: 20})
	w := httptest.NewRecorder()
	small.ServeHTTP(w, httptest.NewRequest("POST", "/_bulk", strings.NewReader(strings.Repeat("x", 200))))
	if w.Code != 413 {
		t.Fatalf("request limit: %d", w.Code)
	}
	w = httptest.NewRecorder()
	small.ServeHTTP(w, httptest.NewRequest("POST", "/_bulk", strings.NewReader("{\"index\":{\"_index\":\"a\"}}\n{\"message\":\"0123456789abcdef\"}\n")))
	if !strings.Contains(w.Body.String(), `"status":413`) {
		t.Fatalf("event limit: %s", w.Body)
	}
}

func TestBulkGzipAndFilterPath(t *testing.T) {
	h := newHarness(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(sampleBulk))
	zw.Close()
	req := httptest.NewRequest("POST", "/_bulk?filter_path=errors,items.*.error,items.*.status", &buf)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/x-ndjson")
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	want := `{"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}},{"create":{"status":201}},{"index":{"status":201}}]}`
	if w.Body.String() != want {
		t.Fatalf("got %s", w.Body)
	}
	r := h.do("GET", "/_count?filter_path=-_shards", "")
	if string(r.body) != `{"count":4}` {
		t.Fatalf("exclusion: %s", r.body)
	}
	// Responses are gzipped for clients that accept it.
	h.do("POST", "/_bulk", strings.Repeat(sampleBulk, 5))
	req = httptest.NewRequest("GET", "/_search?size=100", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	w = httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatal("response not compressed")
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if !json.Valid(b) {
		t.Fatalf("%s", b)
	}
}

func TestDocumentAPIs(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/docs/_doc/1", `{"foo":"bar"}`)
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	expect(t, m, "result", "created")
	expect(t, m, "_version", 1)
	r = h.do("GET", "/docs/_doc/1", "")
	m = r.json(t)
	expect(t, m, "found", true)
	expect(t, m, "_source", map[string]any{"foo": "bar"}) // no @timestamp: the client sent none
	r = h.do("POST", "/docs/_doc", `{"@timestamp":"2026-01-02T00:00:00.5Z","x":1}`)
	id := r.json(t)["_id"].(string)
	r = h.do("GET", "/docs/_doc/"+id, "")
	expect(t, r.json(t), "_source", map[string]any{"@timestamp": "2026-01-02T00:00:00.5Z", "x": 1})
	r = h.do("GET", "/docs/_source/"+id+"?_source_includes=x", "")
	if string(r.body) != `{"x":1}` {
		t.Fatalf("_source: %s", r.body)
	}
	if r := h.do("HEAD", "/docs/_doc/nope", ""); r.status != 404 {
		t.Fatal(r.status)
	}
	r = h.do("GET", "/docs/_doc/nope", "")
	if r.status != 404 || string(r.body) != `{"_index":"docs","_id":"nope","found":false}` {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = h.do("GET", "/nodocs/_doc/1", "")
	if r.status != 404 || r.json(t)["error"].(map[string]any)["type"] != "index_not_found_exception" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = h.do("PUT", "/docs/_create/2", `{"a":"b"}`)
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = h.do("PUT", "/docs/_doc/3", ``)
	expect(t, r.json(t), "error.type", "parse_exception")
	r = h.do("PUT", "/docs/_doc/3", `{"a":`)
	expect(t, r.json(t), "error.type", "document_parsing_exception")
}

func TestIndexAPIs(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/idx", `{"settings":{"number_of_shards":1},"mappings":{"properties":{"a":{"type":"keyword"}}}}`)
	m := r.json(t)
	expect(t, m, "acknowledged", true)
	expect(t, m, "index", "idx")
	r = h.do("PUT", "/idx", "")
	if r.status != 400 || r.json(t)["error"].(map[string]any)["type"] != "resource_already_exists_exception" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = h.do("PUT", "/Idx", "")
	expect(t, r.json(t), "error.type", "invalid_index_name_exception")
	if r := h.do("HEAD", "/idx", ""); r.status != 200 {
		t.Fatal(r.status)
	}
	if r := h.do("HEAD", "/nope", ""); r.status != 404 {
		t.Fatal(r.status)
	}
	r = h.do("POST", "/idx/_refresh", "")
	expect(t, r.json(t), "_shards.successful", 1)
	r = h.do("GET", "/_cluster/health", "")
	expect(t, r.json(t), "status", "green")
	r = h.do("DELETE", "/idx", "")
	expect(t, r.json(t), "acknowledged", true)
	r = h.do("DELETE", "/idx", "")
	if r.status != 404 {
		t.Fatal(r.status)
	}
	r = h.do("DELETE", "/idx*", "")
	if r.status != 400 {
		t.Fatal(r.status)
	}
}

func TestCat(t *testing.T) {
	h := newHarness(t)
	h.load()
	r := h.do("GET", "/_cat/indices?format=json&s=index", "")
	var rows []map[string]any
	if err := json.Unmarshal(r.body, &rows); err != nil || len(rows) != 2 {
		t.Fatalf("%s", r.body)
	}
	if rows[0]["index"] != "logs" || rows[0]["docs.count"] != "3" || rows[0]["health"] != "green" {
		t.Fatalf("%v", rows[0])
	}
	r = h.do("GET", "/_cat/indices?v&h=index,docs.count&s=docs.count:desc", "")
	want := "index docs.count\nlogs           3\nother          1\n"
	if string(r.body) != want {
		t.Fatalf("got\n%q\nwant\n%q", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatal(ct)
	}
	r = h.do("GET", "/_cat/health?format=json", "")
	if !strings.Contains(string(r.body), `"status":"green"`) {
		t.Fatalf("%s", r.body)
	}
	r = h.do("GET", "/_cat/count/logs", "")
	if !strings.HasSuffix(string(r.body), " 3\n") {
		t.Fatalf("%q", r.body)
	}
}

func TestAggregations(t *testing.T) {
	h := newHarness(t)
	h.load()
	r := h.do("POST", "/_search", `{"size":0,"aggs":{
		"per_hour":{"date_histogram":{"field":"@timestamp","fixed_interval":"1h"},"aggs":{"svc":{"terms":{"field":"service.keyword"}}}},
		"services":{"terms":{"field":"service","size":2}},
		"per_day":{"date_histogram":{"field":"@timestamp","calendar_interval":"day","time_zone":"+02:00"}},
		"first":{"min":{"field":"@timestamp"}},
		"avg_status":{"avg":{"field":"status"}},
		"errors":{"filter":{"range":{"status":{"gte":500}}}}}}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	expect(t, m, "aggregations.per_hour.buckets.0.key_as_string", "2026-01-01T23:00:00.000Z")
	expect(t, m, "aggregations.per_hour.buckets.0.doc_count", 1)
	expect(t, m, "aggregations.per_hour.buckets.1.doc_count", 0) // empty buckets are filled
	expect(t, m, "aggregations.per_hour.buckets.11.key", 1767348000000)
	expect(t, m, "aggregations.per_hour.buckets.11.doc_count", 2)
	expect(t, m, "aggregations.per_hour.buckets.11.svc.buckets", []any{map[string]any{"key": "api", "doc_count": 2}})
	expect(t, m, "aggregations.per_hour.buckets.12.svc.buckets.0.key", "gateway")
	expect(t, m, "aggregations.services.buckets", []any{
		map[string]any{"key": "api", "doc_count": 2}, map[string]any{"key": "cron", "doc_count": 1}})
	expect(t, m, "aggregations.services.sum_other_doc_count", 1)
	expect(t, m, "aggregations.per_day.buckets.0.key_as_string", "2026-01-02T00:00:00.000+02:00")
	expect(t, m, "aggregations.per_day.buckets.0.doc_count", 4)
	expect(t, m, "aggregations.first.value_as_string", "2026-01-01T23:00:00.000Z")
	expect(t, m, "aggregations.avg_status.value", 225.0)
	expect(t, m, "aggregations.errors.doc_count", 1)

	r = h.do("POST", "/_search?typed_keys", `{"size":0,"aggs":{"m":{"calendar":{}}}}`)
	if r.status != 400 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

func TestMultiSearch(t *testing.T) {
	h := newHarness(t)
	h.load()
	r := h.do("POST", "/_msearch", `{"index":"logs"}
{"query":{"match":{"service":"api"}},"size":0}
{"index":"missing"}
{}
{}
{"aggs":{"s":{"terms":{"field":"service"}}},"size":0}
`, "Content-Type", "application/x-ndjson")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	expect(t, m, "responses.0.hits.total.value", 2)
	expect(t, m, "responses.0.status", 200)
	expect(t, m, "responses.1.status", 404)
	expect(t, m, "responses.1.error.type", "index_not_found_exception")
	expect(t, m, "responses.2.aggregations.s.buckets.0.key", "api")
}

// noIDs is a backend that does not return IDs from Write.
type noIDs struct{ *esapitest.Memory }

func (b noIDs) Write(ctx context.Context, index string, evs []event.Event, res []esapi.WriteResult) error {
	err := b.Memory.Write(ctx, index, evs, res)
	for i := range res {
		res[i].ID = ""
	}
	return err
}

func TestGeneratedIDs(t *testing.T) {
	h := esapi.New(noIDs{esapitest.NewMemory()}, esapi.Options{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/x/_bulk", strings.NewReader("{\"index\":{}}\n{\"a\":1}\n{\"index\":{}}\n{\"a\":2}\n")))
	var m map[string]any
	json.Unmarshal(w.Body.Bytes(), &m)
	id0, _ := get(t, m, "items.0.index._id").(string)
	id1, _ := get(t, m, "items.1.index._id").(string)
	if len(id0) != 20 || len(id1) != 20 || id0 == id1 {
		t.Fatalf("ids %q %q", id0, id1)
	}
	// The single-document API stores the id it makes, so GET finds it.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/x/_doc", strings.NewReader(`{"a":3}`)))
	json.Unmarshal(w.Body.Bytes(), &m)
	id := m["_id"].(string)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x/_doc/"+id, nil))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestHistogramCalendarAndZones(t *testing.T) {
	h := newHarness(t)
	var body strings.Builder
	for _, ts := range []string{"2025-12-31T23:30:00Z", "2026-01-15T12:00:00Z", "2026-01-31T23:30:00Z", "2026-03-01T00:00:00Z"} {
		body.WriteString(`{"index":{"_index":"cal"}}` + "\n" + `{"@timestamp":"` + ts + `"}` + "\n")
	}
	h.do("POST", "/_bulk", body.String())
	r := h.do("POST", "/cal/_search", `{"size":0,"aggs":{"m":{"date_histogram":{"field":"@timestamp","calendar_interval":"month","time_zone":"Europe/Berlin","format":"yyyy-MM"}}}}`)
	m := r.json(t)
	// In Berlin the first event is in January and the third in February.
	expect(t, m, "aggregations.m.buckets", []any{
		map[string]any{"key_as_string": "2026-01", "key": 1767222000000, "doc_count": 2},
		map[string]any{"key_as_string": "2026-02", "key": 1769900400000, "doc_count": 1},
		map[string]any{"key_as_string": "2026-03", "key": 1772319600000, "doc_count": 1},
	})
	r = h.do("POST", "/cal/_search", `{"size":0,"aggs":{"m":{"date_histogram":{"field":"@timestamp","calendar_interval":"1M","min_doc_count":1,"keyed":true}}}}`)
	m = r.json(t)
	keyed := get(t, m, "aggregations.m.buckets").(map[string]any)
	expect(t, keyed["2026-01-01T00:00:00.000Z"].(map[string]any), "doc_count", 2)
	expect(t, keyed["2025-12-01T00:00:00.000Z"].(map[string]any), "doc_count", 1)
	if len(keyed) != 3 {
		t.Errorf("min_doc_count 1 kept %d buckets", len(keyed))
	}
	r = h.do("POST", "/cal/_search", `{"size":0,"aggs":{"w":{"date_histogram":{"field":"@timestamp","calendar_interval":"week"}}}}`)
	m = r.json(t)
	expect(t, m, "aggregations.w.buckets.0.key_as_string", "2025-12-29T00:00:00.000Z") // a Monday
	r = h.do("POST", "/cal/_search", `{"size":0,"aggs":{"d":{"date_histogram":{"field":"@timestamp","fixed_interval":"1d",
		"extended_bounds":{"min":"2025-12-30","max":"2026-01-02"}}}}}`)
	m = r.json(t)
	expect(t, m, "aggregations.d.buckets.0.key_as_string", "2025-12-30T00:00:00.000Z")
	r = h.do("POST", "/cal/_search", `{"size":0,"aggs":{"d":{"date_histogram":{"field":"@timestamp","fixed_interval":"1M"}}}}`)
	if r.status != 400 {
		t.Errorf("fixed_interval 1M: %d", r.status)
	}
}

func TestTemplatesAndMappings(t *testing.T) {
	h := newHarness(t)
	h.load()
	if r := h.do("HEAD", "/_index_template/filebeat", ""); r.status != 404 {
		t.Fatal(r.status)
	}
	r := h.do("PUT", "/_index_template/filebeat", `{"index_patterns":["filebeat-*"],"template":{"settings":{}}}`)
	expect(t, r.json(t), "acknowledged", true)
	if r := h.do("HEAD", "/_index_template/filebeat", ""); r.status != 200 {
		t.Fatal(r.status)
	}
	r = h.do("GET", "/_index_template/filebeat", "")
	expect(t, r.json(t), "index_templates.0.index_template.index_patterns", []any{"filebeat-*"})
	r = h.do("PUT", "/_ilm/policy/logs", `{"policy":{"phases":{}}}`)
	expect(t, r.json(t), "acknowledged", true)
	r = h.do("GET", "/_ilm/policy/logs", "")
	expect(t, r.json(t), "logs.policy", map[string]any{"phases": map[string]any{}})
	r = h.do("GET", "/_license", "")
	expect(t, r.json(t), "license.status", "active")

	r = h.do("GET", "/logs/_mapping", "")
	m := r.json(t)
	expect(t, m, "logs.mappings.properties.@timestamp.type", "date")
	expect(t, m, "logs.mappings.properties.status.type", "long")
	expect(t, m, "logs.mappings.properties.host.properties.name.type", "text")
	expect(t, m, "logs.mappings.properties.host.properties.name.fields.keyword.type", "keyword")
	r = h.do("GET", "/logs/_field_caps?fields=host*", "")
	m = r.json(t)
	if f, _ := m["fields"].(map[string]any); f["host.name.keyword"] == nil || f["status"] != nil {
		t.Errorf("field caps: %s", r.body)
	}
}

func TestSearchOptions(t *testing.T) {
	h := newHarness(t)
	h.load()
	r := h.do("POST", "/logs/_search?_source=false&version=true", `{"size":1}`)
	m := r.json(t)
	if _, ok := get(t, m, "hits.hits.0").(map[string]any)["_source"]; ok {
		t.Error("_source returned with _source=false")
	}
	expect(t, m, "hits.hits.0._version", 1)
	r = h.do("POST", "/logs/_search", `{"size":1,"sort":"@timestamp"}`,
		"Accept", "application/vnd.elasticsearch+json;compatible-with=7")
	m = r.json(t)
	expect(t, m, "hits.hits.0._type", "_doc")
	expect(t, m, "hits.hits.0._id", "1")
	r = h.do("POST", "/logs/_search?pretty", `{"size":0}`)
	if !strings.Contains(string(r.body), "\n  \"took\"") {
		t.Errorf("not pretty: %s", r.body)
	}
	r = h.do("POST", "/logs/_search", `{"size":0,"query":{"query_string":{"query":"refused OR nightly","default_field":"message"}}}`)
	expect(t, r.json(t), "hits.total.value", 1) // nightly is in the other index
}

// FuzzSearch sends arbitrary bodies and query strings to _search: the
// handler must answer every one with valid JSON and never panic.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{`{"query":{"bool":{"must":[{"match":{"message":"a b"}}],"should":[{"term":{"x":1}}],"minimum_should_match":"50%"}}}`,
		`{"aggs":{"h":{"date_histogram":{"field":"@timestamp","calendar_interval":"day"},"aggs":{"t":{"terms":{"field":"service"}}}}}}`,
		`{"query":{"range":{"@timestamp":{"gte":"now-1d/d","lt":"2026-01-03||+1d","time_zone":"+01:00"}}},"sort":[{"@timestamp":"asc"}]}`,
		`{"query":{"query_string":{"query":"status:[200 TO 299] AND host.name:web*"}},"_source":{"includes":["a*"]}}`,
		`{"size":0,"aggs":{"f":{"filters":{"filters":{"a":{"match_all":{}}}}}}}`, `{"query":{"nested":{"path":"a","query":{"match_all":{}}}}}`} {
		f.Add(s, "")
	}
	f.Add("", "q=a:b&sort=@timestamp:desc&size=1")
	mem := esapitest.NewMemory()
	handler := esapi.New(mem, esapi.Options{MaxBuckets: 2000})
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("POST", "/_bulk", strings.NewReader(sampleBulk)))
	f.Fuzz(func(t *testing.T, body, query string) {
		req := httptest.NewRequest("POST", "/_search", strings.NewReader(body))
		if q, err := url.ParseQuery(query); err == nil {
			req.URL.RawQuery = q.Encode()
		}
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%d %q", w.Code, w.Body.String())
		}
		if w.Code >= 500 {
			t.Fatalf("%d %s", w.Code, w.Body.String())
		}
	})
}
