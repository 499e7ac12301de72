package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
	"github.com/sluicehq/sluice/internal/store"
)

var base = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// fixture writes events of every value type over two days into a store.
func fixture(t *testing.T) (*store.Store, []event.Event) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{FlushInterval: 10 * time.Millisecond, HighWatermark: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"error", "timeout", "connection", "refused", "GET", "POST", "user", "login", "web-01", "api", "db", "cache", "Ünïcode", "payment_failed"}
	services := []string{"api", "web", "db", "auth-service"}
	var evs []event.Event
	for i := 0; i < 3000; i++ {
		var msg []string
		for j := 0; j < 2+r.IntN(6); j++ {
			msg = append(msg, words[r.IntN(len(words))])
		}
		ev := event.New(base.Add(time.Duration(i)*47*time.Second), strings.Join(msg, " "))
		ev.Set("id", fmt.Sprintf("e%d", i))
		ev.Set("service", services[r.IntN(len(services))])
		ev.Set("status", []int{200, 200, 200, 404, 500, 503}[r.IntN(6)])
		ev.Set("duration", float64(r.IntN(2000))/10)
		ev.Set("ok", r.IntN(2) == 0)
		if r.IntN(3) == 0 {
			ev.Set("kubernetes", map[string]any{"pod": map[string]any{"name": fmt.Sprintf("pod-%d", r.IntN(5))}, "labels": map[string]any{"app": services[r.IntN(4)]}})
		}
		if r.IntN(4) == 0 {
			ev.AddTag([]string{"throttled", "sampled"}[r.IntN(2)])
		}
		evs = append(evs, ev)
	}
	for i := 0; i < len(evs); i += 500 {
		if err := st.Write(context.Background(), []string{"logs-a", "logs-b"}[i/500%2], evs[i:i+500]); err != nil {
			t.Fatal(err)
		}
	}
	return st, evs
}

func ids(evs []event.Event) []string {
	var out []string
	for i := range evs {
		s, _ := evs[i].GetString("id")
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// TestStoreAgreesWithKQL runs queries through the store (with Bloom-filter
// pruning) and checks every answer against kql.Match over all events.
func TestStoreAgreesWithKQL(t *testing.T) {
	st, evs := fixture(t)
	queries := []string{
		"*", "error", "connection refused", `"connection refused"`, "err*", "*out", "Ünïcode", "ünïcode", "payment_failed",
		"status:500", "status >= 500", "status < 300 and not service:api", "service:auth-service", "service:auth",
		"duration > 150.5", "ok:true", "ok:false and status:404", "kubernetes.pod.name:pod-3", "kubernetes.labels.app:(web or db)",
		"kubernetes.pod.name:*", "not kubernetes:*", `tags:throttled`, `tags:sampled and error`, "web-01", "message:web-01",
		`@timestamp >= "2026-05-01T12:00:00Z" and @timestamp < "2026-05-01T13:00:00Z"`, "@timestamp:2026-05-02",
		"(error or timeout) and not (GET or POST)", "nosuchtoken", "status:999", "service:*", "id:e42",
	}
	for _, q := range queries {
		n, err := kql.Parse(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var want []event.Event
		for i := range evs {
			if kql.Match(n, &evs[i]) {
				want = append(want, evs[i])
			}
		}
		sq, err := Query(q, nil, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		sq.Limit = store.MaxLimit
		res, err := st.Search(context.Background(), sq)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var got []event.Event
		for _, h := range res.Hits {
			got = append(got, h.Event)
		}
		if g, w := ids(got), ids(want); strings.Join(g, ",") != strings.Join(w, ",") || res.Total != int64(len(want)) {
			t.Errorf("%q: store found %d (total %d), brute force %d", q, len(g), res.Total, len(w))
		}
	}
}

func TestAPI(t *testing.T) {
	st, _ := fixture(t)
	srv := httptest.NewServer(func() http.Handler {
		mux := http.NewServeMux()
		(&API{Store: st, Now: func() time.Time { return base.Add(48 * time.Hour) }}).Register(mux)
		return mux
	}())
	defer srv.Close()
	get := func(path string, v url.Values) (int, map[string]any) {
		resp, err := http.Get(srv.URL + path + "?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp.StatusCode, m
	}
	code, m := get("/api/v1/search", url.Values{"q": {"status:500"}, "limit": {"10"}, "from": {"now-2d"}})
	hits, _ := m["hits"].([]any)
	if code != 200 || len(hits) != 10 || m["total"].(float64) < 10 || m["cursor"] == "" {
		t.Fatalf("search: %d %v", code, m)
	}
	first := hits[0].(map[string]any)
	if first["_index"] == "" || first["_id"] == "" || first["status"] != float64(500) {
		t.Errorf("hit: %v", first)
	}
	// Newest first, and the cursor continues.
	t0, _ := time.Parse(time.RFC3339Nano, first["@timestamp"].(string))
	t9, _ := time.Parse(time.RFC3339Nano, hits[9].(map[string]any)["@timestamp"].(string))
	if !t0.After(t9) {
		t.Errorf("not newest first: %v then %v", t0, t9)
	}
	_, m2 := get("/api/v1/search", url.Values{"q": {"status:500"}, "limit": {"10"}, "from": {"now-2d"}, "cursor": {m["cursor"].(string)}})
	next := m2["hits"].([]any)[0].(map[string]any)
	if next["_id"] == hits[9].(map[string]any)["_id"] {
		t.Error("the cursor repeated the last hit")
	}
	code, m = get("/api/v1/search", url.Values{"q": {"status >= and"}})
	if code != 400 || m["column"] != float64(11) || !strings.Contains(m["error"].(string), "expected a value") {
		t.Errorf("bad query: %d %v", code, m)
	}
	code, m = get("/api/v1/histogram", url.Values{"q": {"error"}, "from": {"2026-05-01T10:00:00Z"}, "to": {"2026-05-01T11:00:00Z"}, "interval": {"10m"}})
	bs := m["buckets"].([]any)
	if code != 200 || len(bs) != 6 || m["interval"] != "10m0s" {
		t.Errorf("histogram: %d %v", code, m)
	}
	code, m = get("/api/v1/fields", url.Values{"field": {"service"}, "from": {"now-3d"}})
	if vals := m["values"].([]any); code != 200 || len(vals) != 4 {
		t.Errorf("top values: %d %v", code, m)
	}
	code, m = get("/api/v1/indices", nil)
	if idx := m["indices"].([]any); code != 200 || len(idx) != 2 || idx[0].(map[string]any)["events"] != float64(1500) {
		t.Errorf("indices: %d %v", code, m)
	}
	code, m = get("/api/v1/surrounding", url.Values{"id": {first["_id"].(string)}, "size": {"2"}})
	if s := m["hits"].([]any); code != 200 || len(s) < 3 {
		t.Errorf("surrounding: %d %v", code, m)
	}
	if code, _ := get("/api/v1/search", url.Values{"from": {"yesterday-ish"}}); code != 400 {
		t.Errorf("bad from: %d", code)
	}
}
