package esbulk

import (
	"fmt"
	"testing"
	"time"
)

// filebeatBody returns n bulk items shaped like Filebeat 8's output for a
// Kubernetes container log (~480 bytes per source line, 518 with the action line).
func filebeatBody(n int) []byte {
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

func BenchmarkParseFilebeat(b *testing.B) {
	const n = 1000
	body := filebeatBody(n)
	p := NewParser(Options{})
	items := make([]Item, 0, n)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var err *Error
		items, err = p.Parse(items[:0], body, "")
		if err != nil || len(items) != n {
			b.Fatal(err)
		}
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(n*b.N)/el, "events/s")
	b.ReportMetric(float64(len(body))/n, "bytes/event")
}

func BenchmarkResponse(b *testing.B) {
	const n = 1000
	body := filebeatBody(n)
	items, err := NewParser(Options{}).Parse(nil, body, "")
	if err != nil {
		b.Fatal(err)
	}
	results := make([]Result, n)
	for i := range results {
		results[i] = Result{ID: "Zr8tT5sBvGx3pQk1LmNo", SeqNo: int64(i)}
	}
	var dst []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = AppendResponse(dst[:0], time.Millisecond, items, results, ResponseOptions{})
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
}
