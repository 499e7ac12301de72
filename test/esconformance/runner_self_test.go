package esconformance

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/esapi/esapitest"
)

// testSpecs are API specs in both layouts, enough for the self-test (the
// real ones are in ../shared, which may be absent).
var testSpecs = map[string]string{
	"index": `{"index":{"url":{"paths":[{"path":"/{index}/_doc/{id}","methods":["PUT","POST"],"parts":{"id":{},"index":{}}},
		{"path":"/{index}/_doc","methods":["POST"],"parts":{"index":{}}}]},"params":{"refresh":{}},"body":{"required":true}}}`,
	"get":            `{"get":{"url":{"paths":[{"path":"/{index}/_doc/{id}","methods":["GET"],"parts":{"id":{},"index":{}}}]},"params":{}}}`,
	"bulk":           `{"bulk":{"headers":{"content_type":["application/x-ndjson"]},"url":{"paths":[{"path":"/_bulk","methods":["POST","PUT"]},{"path":"/{index}/_bulk","methods":["POST","PUT"],"parts":{"index":{}}}]},"body":{}}}`,
	"count":          `{"count":{"methods":["POST","GET"],"url":{"path":"/_count","paths":["/_count","/{index}/_count"],"parts":{"index":{}},"params":{"q":{}}},"body":{}}}`,
	"indices.exists": `{"indices.exists":{"url":{"paths":[{"path":"/{index}","methods":["HEAD"],"parts":{"index":{}}}]}}}`,
	"indices.create": `{"indices.create":{"methods":["PUT","POST"],"url":{"path":"/{index}","paths":["/{index}"]},"body":{}}}`,
	"indices.delete": `{"indices.delete":{"url":{"paths":[{"path":"/{index}","methods":["DELETE"],"parts":{"index":{}}}]}}}`,
	"cat.indices":    `{"cat.indices":{"url":{"paths":[{"path":"/_cat/indices","methods":["GET"]},{"path":"/_cat/indices/{index}","methods":["GET"],"parts":{"index":{}}}]}}}`,
	"search":         `{"search":{"url":{"paths":[{"path":"/_search","methods":["GET","POST"]},{"path":"/{index}/_search","methods":["GET","POST"],"parts":{"index":{}}}]},"body":{}}}`,
	"info":           `{"info":{"url":{"paths":[{"path":"/","methods":["GET"]}]}}}`,
}

func selfTestSpecs(t *testing.T) map[string]*apiSpec {
	t.Helper()
	specs := map[string]*apiSpec{}
	for name, js := range testSpecs {
		s, err := parseSpec(name, []byte(strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(js), "}"), `{"`+name+`":`)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		specs[name] = s
	}
	return specs
}

// TestRunnerSemantics runs small suites through the runner and checks
// that each test passes, fails or is skipped as it should: the runner is
// only worth its results if it can fail.
func TestRunnerSemantics(t *testing.T) {
	srv := httptest.NewServer(esapi.New(esapitest.NewMemory(), esapi.Options{}))
	defer srv.Close()
	specs := selfTestSpecs(t)
	const yml = `---
requires:
  serverless: true
  stack: true
---
setup:
  - do:
      index: { index: self, id: "1", body: { name: "one", n: 5, tags: [a, b] } }
  - do:
      index: { index: self, body: { name: "two" } }
  - set: { _id: second }
---
teardown:
  - do:
      indices.delete: { index: self }
---
"pass: match, regex, length, comparisons, stash":
  - do:
      get: { index: self, id: "1" }
  - match: { _source: { name: one, n: 5, tags: [a, b] } }
  - match: { _source.name: "/^o n e$/" }
  - match: { _source.tags.1: b }
  - length: { _source.tags: 2 }
  - gt: { _source.n: 4 }
  - gte: { _source.n: 5 }
  - lt: { _source.n: 6 }
  - lte: { _source.n: 5 }
  - is_true: found
  - is_false: missing_field
  - set: { _source.name: name }
  - do:
      get: { index: self, id: $second }
  - match: { _id: $second }
  - match: { _source.name: two }
  - do:
      count: { index: self, q: "name:${name}" }
  - match: { count: 1 }
---
"pass: catches and HEAD":
  - do:
      catch: missing
      get: { index: nope, id: "1" }
  - match: { error.type: index_not_found_exception }
  - do:
      catch: /index_not_found_exception/
      get: { index: nope, id: "1" }
  - do:
      catch: bad_request
      indices.create: { index: Bad }
  - do:
      catch: param
      get: { index: self }
  - do:
      indices.exists: { index: self }
  - is_true: ''
  - do:
      indices.exists: { index: nope }
  - is_false: ''
---
"pass: body as text and NDJSON":
  - do:
      bulk:
        body: |
          {"index":{"_index":"self","_id":"3"}}
          {"name":"three"}
  - match: { errors: false }
  - do:
      cat.indices: { index: self }
  - match:
      $body: |
        /^ green \s+ open \s+ self \s+ \S+ \s+ 1 \s+ 0 \s+ 3 .* \n $/
---
"fail: wrong value":
  - do:
      get: { index: self, id: "1" }
  - match: { _source.name: uno }
---
"fail: unexpected error":
  - do:
      get: { index: nope, id: "1" }
---
"fail: wrong catch":
  - do:
      catch: conflict
      get: { index: nope, id: "1" }
---
"fail: expected warning missing":
  - do:
      warnings: [ "this is deprecated" ]
      get: { index: self, id: "1" }
---
"fail: length":
  - do:
      get: { index: self, id: "1" }
  - length: { _source.tags: 3 }
---
"fail: is_true on HEAD 404":
  - do:
      indices.exists: { index: nope }
  - is_true: ''
---
"skip: unsupported feature":
  - skip:
      features: [ arbitrary_key ]
  - match: { never: checked }
---
"skip: version":
  - skip:
      version: " - 99.0.0"
      reason: everything
  - match: { never: checked }
`
	s, err := parseSuite("self.yml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.tests) != 11 || len(s.setup) != 3 || len(s.teardown) != 1 || !s.stack {
		t.Fatalf("parsed %d tests, setup %d, teardown %d", len(s.tests), len(s.setup), len(s.teardown))
	}
	client := &http.Client{}
	version := serverVersion(client, srv.URL)
	for _, tc := range s.tests {
		r := &runner{base: srv.URL, client: client, specs: specs, version: version, stash: map[string]any{}}
		err := r.run(s.setup)
		if err == nil {
			err = r.run(tc.steps)
		}
		if terr := r.run(s.teardown); terr != nil {
			t.Errorf("%s: teardown: %v", tc.name, terr)
		}
		var skip *skipError
		got := "pass"
		switch {
		case errors.As(err, &skip):
			got = "skip"
		case err != nil:
			got = "fail"
		}
		want, _, _ := strings.Cut(tc.name, ":")
		if got != want {
			t.Errorf("%q: got %s (%v)", tc.name, got, err)
		} else if err != nil {
			t.Logf("%q: %v", tc.name, err)
		}
	}
}

func TestRequiresServerlessOnly(t *testing.T) {
	s, err := parseSuite("x.yml", []byte("---\nrequires:\n  serverless: true\n  stack: false\n---\n'info':\n  - do:\n      info: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.stack || !s.serverless || len(s.tests) != 1 {
		t.Fatalf("%+v", s)
	}
}

func TestYAMLRegex(t *testing.T) {
	re, err := compileYAMLRegex(`/ ^ a \s b  # comment
	   [x y] \# $ /`)
	if err != nil {
		t.Fatal(err)
	}
	if !re.MatchString("a bx#") || !re.MatchString("a b #") || re.MatchString("ab x#") {
		t.Fatal(re)
	}
}

func TestBuildRequest(t *testing.T) {
	specs := selfTestSpecs(t)
	r, err := specs["index"].build(map[string]any{"index": "i", "id": "a b", "refresh": true, "body": map[string]any{"x": 1}})
	if err != nil || r.method != "PUT" || r.path != "/i/_doc/a%20b?refresh=true" || string(r.body) != `{"x":1}` {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = specs["index"].build(map[string]any{"index": "i", "body": map[string]any{}})
	if err != nil || r.method != "POST" || r.path != "/i/_doc" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = specs["count"].build(map[string]any{"index": []any{"a", "b"}})
	if err != nil || r.method != "GET" || r.path != "/a,b/_count" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = specs["bulk"].build(map[string]any{"body": []any{map[string]any{"index": map[string]any{}}, map[string]any{"a": 1}}})
	if err != nil || string(r.body) != "{\"index\":{}}\n{\"a\":1}\n" || r.ctype != "application/x-ndjson" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := specs["get"].build(map[string]any{"index": "i"}); err == nil {
		t.Fatal("no error without id")
	}
}
