package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestStoreRole runs `sluice store` with a config whose store section sets
// an event limit, and checks the pieces a store serves: HTTP ingest into
// the store, the Elasticsearch-compatible API (a per-item rejection that
// comes from the configured limit), the search API and its indices list.
func TestStoreRole(t *testing.T) {
	hp := freePort(t)
	p := start(t, "store", fmt.Sprintf(`
sources:
  http: {type: http, address: "127.0.0.1:%d"}
routes: [{destination: store}]
destinations:
  store: {type: store, index: "app-%%{service}"}
store:
  limits: {max_fields: 5}
  retention:
    - {indices: "app-*", max_age: 30d}
  flush_interval: 200ms
`, hp))
	code, body := postNDJSON(t, fmt.Sprintf("http://127.0.0.1:%d/", hp),
		`{"message":"stored through http","service":"api"}`+"\n"+`{"message":"stored too","service":"web"}`+"\n")
	if code != 200 {
		t.Fatalf("http ingest: %d %s", code, body)
	}
	waitSearch(t, p, `message:"stored through http" or message:"stored too"`, 2, 10*time.Second)

	resp, err := http.Post(p.es+"/app-bulk/_bulk", "application/x-ndjson", strings.NewReader(
		`{"create":{}}`+"\n"+`{"message":"narrow"}`+"\n"+
			`{"create":{}}`+"\n"+`{"message":"wide","a":1,"b":2,"c":3,"d":4,"e":5}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var bulk struct {
		Errors bool
		Items  []map[string]struct {
			Status int
			Error  struct{ Type, Reason string }
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&bulk)
	resp.Body.Close()
	if err != nil || !bulk.Errors || len(bulk.Items) != 2 {
		t.Fatalf("bulk: %v %+v", err, bulk)
	}
	if st := bulk.Items[0]["create"].Status; st != 201 {
		t.Errorf("narrow event: status %d", st)
	}
	if it := bulk.Items[1]["create"]; it.Status != 400 || !strings.Contains(it.Error.Reason, "fields") {
		t.Errorf("wide event: %+v, want a 400 naming the field limit from store.limits", it)
	}

	resp, err = http.Get(p.api + "/api/v1/indices")
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Indices []struct {
			Name   string
			Events int64
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&idx)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, i := range idx.Indices {
		names[i.Name] = true
	}
	for _, want := range []string{"app-api", "app-web", "app-bulk"} {
		if !names[want] {
			t.Errorf("index %s missing from %+v", want, idx.Indices)
		}
	}
}
