package esapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/esapi/esapitest"
)

// TestOfficialClient drives the API with github.com/elastic/go-elasticsearch:
// Info (which checks the X-Elastic-Product header), esutil.BulkIndexer
// writing thousands of documents with several workers and gzip, then count
// and search through the client, in Elasticsearch 8 compatibility mode.
func TestOfficialClient(t *testing.T) {
	mem := esapitest.NewMemory()
	srv := httptest.NewServer(esapi.New(mem, esapi.Options{}))
	defer srv.Close()

	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:               []string{srv.URL},
		CompressRequestBody:     true,
		EnableCompatibilityMode: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := es.Info()
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	var ir struct {
		Version struct{ Number string } `json:"version"`
	}
	json.NewDecoder(info.Body).Decode(&ir)
	info.Body.Close()
	if info.IsError() || !strings.HasPrefix(ir.Version.Number, "8.") {
		t.Fatalf("Info: %s %+v", info.Status(), ir)
	}

	const n = 5000
	var failed atomic.Int64
	var firstFailure atomic.Value
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:     es,
		Index:      "client-logs",
		NumWorkers: 3,
		FlushBytes: 64 << 10,
		OnError:    func(_ context.Context, err error) { t.Errorf("bulk indexer: %v", err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		action := "index"
		if i%2 == 1 {
			action = "create"
		}
		level := "info"
		if i%10 == 0 {
			level = "error"
		}
		doc := fmt.Sprintf(`{"@timestamp":%q,"message":"request %d served","log":{"level":%q},"seq":%d}`,
			t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i, level, i)
		err := bi.Add(context.Background(), esutil.BulkIndexerItem{
			Action: action,
			Body:   strings.NewReader(doc),
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s %s %v", res.Status, res.Error.Type, res.Error.Reason, err))
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// One bad document: its item fails, the others do not.
	var badType atomic.Value
	bi.Add(context.Background(), esutil.BulkIndexerItem{
		Action: "index",
		Body:   strings.NewReader(`{"message": oops}`),
		OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, _ error) {
			badType.Store(res.Error.Type)
		},
	})
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := bi.Stats()
	if failed.Load() != 0 {
		t.Fatalf("%d items failed, the first: %v", failed.Load(), firstFailure.Load())
	}
	if st.NumAdded != n+1 || st.NumFlushed != n || st.NumFailed != 1 || st.NumIndexed+st.NumCreated != n || st.NumCreated != n/2 {
		t.Fatalf("stats %+v", st)
	}
	if badType.Load() != "document_parsing_exception" {
		t.Fatalf("bad document: %v", badType.Load())
	}
	if st.NumRequests < 2 {
		t.Fatalf("only %d bulk requests: the flush threshold was not exercised", st.NumRequests)
	}

	count, err := es.Count(es.Count.WithIndex("client-logs"))
	if err != nil {
		t.Fatal(err)
	}
	var cr struct{ Count int }
	json.NewDecoder(count.Body).Decode(&cr)
	count.Body.Close()
	if cr.Count != n {
		t.Fatalf("count %d, want %d", cr.Count, n)
	}

	res, err := es.Search(
		es.Search.WithIndex("client-logs"),
		es.Search.WithBody(strings.NewReader(`{
			"size": 3,
			"sort": [{"@timestamp": "desc"}],
			"query": {"bool": {"filter": [
				{"term": {"log.level": "error"}},
				{"range": {"@timestamp": {"gte": "2026-01-02T00:30:00Z"}}}
			]}},
			"aggs": {"per_10m": {"date_histogram": {"field": "@timestamp", "fixed_interval": "10m"}}}
		}`)),
		es.Search.WithTrackTotalHits(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("search: %s", res)
	}
	var sr struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
			Hits  []struct {
				ID     string         `json:"_id"`
				Source map[string]any `json:"_source"`
				Sort   []int64        `json:"sort"`
			} `json:"hits"`
		} `json:"hits"`
		Aggregations struct {
			Per10m struct {
				Buckets []struct {
					Key      int64 `json:"key"`
					DocCount int   `json:"doc_count"`
				} `json:"buckets"`
			} `json:"per_10m"`
		} `json:"aggregations"`
	}
	if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
		t.Fatal(err)
	}
	// Errors are every 10th second; from 00:30:00 to 01:23:19 that is
	// seconds 1800..4990.
	if sr.Hits.Total.Value != 320 {
		t.Fatalf("total %d, want 320", sr.Hits.Total.Value)
	}
	if len(sr.Hits.Hits) != 3 || sr.Hits.Hits[0].Source["seq"] != float64(4990) || sr.Hits.Hits[0].Sort[0] != t0.Add(4990*time.Second).UnixMilli() {
		t.Fatalf("hits %+v", sr.Hits.Hits)
	}
	if b := sr.Aggregations.Per10m.Buckets; len(b) != 6 || b[0].DocCount != 60 || b[5].DocCount != 20 {
		t.Fatalf("histogram %+v", b)
	}

	// A missing index is the client's error too.
	res2, err := es.Search(es.Search.WithIndex("nope"))
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != 404 {
		t.Fatalf("missing index: %d", res2.StatusCode)
	}
}

// TestClientRefusesWithoutProductHeader shows why the header matters: the
// official client refuses a server without it.
func TestClientRefusesWithoutProductHeader(t *testing.T) {
	h := esapi.New(esapitest.NewMemory(), esapi.Options{})
	srv := httptest.NewServer(stripHeader{h})
	defer srv.Close()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es.Info(); err == nil || !strings.Contains(err.Error(), "not Elasticsearch") {
		t.Fatalf("client accepted a server without X-Elastic-Product: %v", err)
	}
}

// stripHeader removes X-Elastic-Product from every response.
type stripHeader struct{ h http.Handler }

func (s stripHeader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.h.ServeHTTP(headerless{w}, r)
}

type headerless struct{ http.ResponseWriter }

func (h headerless) WriteHeader(code int) {
	h.Header().Del("X-Elastic-Product")
	h.ResponseWriter.WriteHeader(code)
}
