package esapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/event"
)

// discard is a Backend that accepts every write and stores nothing: the
// benchmark measures the API's own cost.
type discard struct{}

func (discard) Write(context.Context, string, []event.Event, []esapi.WriteResult) error { return nil }
func (discard) Search(context.Context, *esapi.SearchRequest) (*esapi.SearchResult, error) {
	return &esapi.SearchResult{}, nil
}
func (discard) Histogram(context.Context, *esapi.SearchRequest, time.Duration) ([]esapi.Bucket, error) {
	return nil, nil
}
func (discard) Terms(context.Context, *esapi.SearchRequest, string, int) (*esapi.TermsResult, error) {
	return &esapi.TermsResult{}, nil
}
func (discard) Indices(context.Context) ([]esapi.IndexInfo, error) { return nil, nil }
func (discard) IndexExists(context.Context, string) (bool, error)  { return true, nil }
func (discard) CreateIndex(context.Context, string) error          { return nil }
func (discard) DeleteIndex(context.Context, string) error          { return nil }

// filebeatBulk is n items as Filebeat 8 sends them (~480-byte documents).
func filebeatBulk(n int) []byte {
	var b []byte
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		b = append(b, `{"create":{"_index":"filebeat-8.17.0"}}`+"\n"...)
		b = fmt.Appendf(b, `{"@timestamp":"%s","log":{"offset":%d,"file":{"path":"/var/log/containers/api-7d9f8c6b5-x2k4p_prod_api-0123456789abcdef.log"}},`+
			`"stream":"stdout","message":"GET /api/v1/orders/%d HTTP/1.1 200 %d \"-\" \"Mozilla/5.0\" rt=0.0%02d",`+
			`"kubernetes":{"namespace":"prod","pod":{"name":"api-7d9f8c6b5-x2k4p"},`+
			`"container":{"name":"api"},"node":{"name":"node-%d"}},"host":{"name":"node-%d"},`+
			`"agent":{"type":"filebeat","version":"8.17.0"},"ecs":{"version":"8.0.0"}}`+"\n",
			t0.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), i*211, 10000+i, 200+i%5000, i%100, i%7, i%7)
	}
	return b
}

// BenchmarkBulkHandler measures a whole _bulk request through the handler
// (read, parse, prepare, response with Filebeat's filter_path), without
// storage.
func BenchmarkBulkHandler(b *testing.B) {
	const n = 1000
	body := filebeatBulk(n)
	h := esapi.New(discard{}, esapi.Options{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/_bulk?filter_path=errors,items.*.error,items.*.status", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
