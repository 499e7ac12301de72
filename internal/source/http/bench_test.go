package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	nethttp "net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

// countingConsumer acknowledges every batch at once and counts its events:
// the cheapest possible pipeline, so the benchmark measures the source.
type countingConsumer struct{ events atomic.Int64 }

func (c *countingConsumer) Consume(_ context.Context, b *event.Batch) error {
	c.events.Add(int64(b.Len()))
	b.Ack(event.Delivered)
	b.Release()
	return nil
}

// ndjsonBody returns n Kubernetes-style log lines of about 300 bytes.
func ndjsonBody(n int) []byte {
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, `{"@timestamp":"2024-05-06T07:08:%02d.%06dZ","log":{"level":"info"},"message":"GET /api/v1/users/%d 200 12ms","stream":"stdout","kubernetes":{"namespace":"shop","pod":{"name":"webapp-7d9f8c6b5-x2k4p"},"container":{"name":"webapp"},"labels":{"app":"webapp","tier":"frontend"},"node":{"name":"node-3"}},"http":{"status":200,"duration_ms":%d.5}}`+"\n",
			i%60, i, i, i%100)
	}
	return buf.Bytes()
}

// BenchmarkParseBody is the per-event cost of splitting and parsing an
// NDJSON body, without the network.
func BenchmarkParseBody(b *testing.B) {
	body := ndjsonBody(1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	now := time.Now()
	start := time.Now()
	for b.Loop() {
		out := batcher{source: "bench", max: maxBatchEvents}
		if _, err := parseBody(body, "application/x-ndjson", now, 1<<20, &out); err != nil {
			b.Fatal(err)
		}
		out.release()
	}
	b.ReportMetric(float64(b.N)*1000/time.Since(start).Seconds(), "events/s")
}

// BenchmarkHTTPNDJSON posts 1000-line NDJSON bodies over loopback to a
// running source that feeds a counting consumer, end to end: HTTP, body
// read, parse, batch, acknowledgement, response.
func BenchmarkHTTPNDJSON(b *testing.B) {
	body := ndjsonBody(1000)
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", par*2), func(b *testing.B) {
			cons := &countingConsumer{}
			cfg := NewConfig()
			cfg.Address = "127.0.0.1:0"
			s, err := Spec.Build(cfg, componenttest.Env(b, "bench", cons))
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer s.Stop(context.Background())
			url := "http://" + s.(*source).Addr().String() + "/"
			tr := &nethttp.Transport{MaxIdleConnsPerHost: 64}
			defer tr.CloseIdleConnections()
			client := &nethttp.Client{Transport: tr}

			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.SetParallelism(par)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := nethttp.NewRequest("POST", url, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/x-ndjson")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			elapsed := time.Since(start)
			if got := cons.events.Load(); got != int64(b.N)*1000 {
				b.Fatalf("consumer saw %d events, want %d", got, b.N*1000)
			}
			b.ReportMetric(float64(cons.events.Load())/elapsed.Seconds(), "events/s")
		})
	}
}
