package esbulk

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/event"
)

var fuzzSeeds = []string{
	"{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"message\":\"x\"}\n",
	"{\"create\":{}}\n{\"@timestamp\":\"2026-01-02T10:00:00Z\",\"a\":{\"b\":[1,2,{\"c\":null}]}}\n",
	"{\"delete\":{\"_index\":\"a\",\"_id\":\"1\"}}\n",
	"{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{}}\n",
	"{\"index\":{\"_index\":\"a\"}}\n{\"x\": }\n",
	"{\"index\":{\"_index\":\"a\\u0041\",\"dynamic_templates\":{\"a\":\"b\"}}}\r\n{}\r\n",
	"\n\n{\"index\":{\"_index\":\"a\"}}\n[1]\n",
	"{\"index\":{\"_index\":\"a\",\"_id\":null,\"version\":-1.5e3,\"require_alias\":true}}\n{\"@timestamp\":12}\n",
	"{\"index\":\"x\"}\n{}\n",
	"{\"index\":{\"_index\":\"a\"}}\n{}",
	"{\"index\":{\"_index\":\"a\",}}\n{}\n",
	"nul\n",
	"{\"index\":{\"_index\":\"\\ud800\"}}\n{}\n",
}

// FuzzParse checks that Parse never panics, that every error it returns is
// a well-formed Elasticsearch error, that the response it leads to is valid
// JSON, and that the action line agrees with encoding/json on well-formed
// single-item requests.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		p := NewParser(Options{MaxEventBytes: 256, StrictTimestamp: len(body)%2 == 0})
		items, err := p.Parse(nil, body, "default")
		if !bytes.Equal(body, orig) {
			t.Fatal("Parse modified the body")
		}
		if err != nil {
			if err.Status != 400 || err.Type == "" || err.Reason == "" {
				t.Fatalf("bad request error %+v", err)
			}
			if !json.Valid(AppendErrorResponse(nil, err)) {
				t.Fatalf("invalid error JSON for %+v", err)
			}
		} else {
			line := 0
			for i := range items {
				it := &items[i]
				if it.Line <= line {
					t.Fatalf("item %d: line %d after %d", i, it.Line, line)
				}
				line = it.Line
				if it.Index == "" {
					t.Fatalf("item %d without index passed validation", i)
				}
				if it.Err == nil && (it.Action == Update || it.Action == Delete) {
					t.Fatalf("item %d: %v without error", i, it.Action)
				}
				if it.Err == nil {
					if !json.Valid(event.AppendJSON(nil, &it.Event, true)) {
						t.Fatalf("item %d: event does not encode", i)
					}
				} else if it.Err.Status == 0 || it.Err.Type == "" {
					t.Fatalf("item %d: bad error %+v", i, it.Err)
				}
			}
			resp := AppendResponse(nil, 0, items, make([]Result, len(items)), ResponseOptions{})
			if !json.Valid(resp) {
				t.Fatalf("invalid response JSON: %s", resp)
			}
		}
		checkActionAgainstStdlib(t, body)
	})
}

// checkActionAgainstStdlib: when the body is one well-formed action line
// naming index or create with string _index/_id only, followed by a source
// line, Parse must accept it with the same index and id.
func checkActionAgainstStdlib(t *testing.T, body []byte) {
	lines := bytes.Split(body, []byte("\n"))
	if len(lines) != 3 || len(lines[2]) != 0 || bytes.ContainsAny(lines[0], "\r") {
		return
	}
	var action map[string]map[string]any
	dec := json.NewDecoder(bytes.NewReader(lines[0]))
	if dec.Decode(&action) != nil || dec.More() || len(action) != 1 {
		return
	}
	if !json.Valid(lines[0]) || bytes.Count(lines[0], []byte(`"`)) < 2 {
		return
	}
	var name string
	var params map[string]any
	for k, v := range action {
		name, params = k, v
	}
	if name != "index" && name != "create" || params == nil {
		return
	}
	index, id := "default", ""
	for k, v := range params {
		s, ok := v.(string)
		if !ok {
			return
		}
		switch k {
		case "_index":
			index = s
		case "_id":
			id = s
		default:
			return
		}
	}
	// Duplicate keys: encoding/json keeps the last, as we do; skip them
	// anyway to keep the comparison simple.
	if strings.Count(string(lines[0]), `"_index"`) > 1 || strings.Count(string(lines[0]), `"_id"`) > 1 {
		return
	}
	if index == "" || len(id) > MaxIDBytes || (id == "" && strings.Contains(string(lines[0]), `"_id"`)) {
		return
	}
	items, err := NewParser(Options{}).Parse(nil, body, "default")
	if err != nil {
		t.Fatalf("stdlib accepts %q, Parse fails: %v", lines[0], err)
	}
	if len(items) != 1 || items[0].Index != index || items[0].ID != id {
		t.Fatalf("%q: got %+v, want index %q id %q", lines[0], items, index, id)
	}
}
