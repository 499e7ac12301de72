package http

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
)

// BenchmarkHTTPSink sends 1000-event batches of ~200-byte events to a local
// server that reads and discards the body. Bytes/s counts the uncompressed
// NDJSON.
func BenchmarkHTTPSink(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()

	batch := event.NewBatch("bench")
	now := time.Now()
	for i := range 1000 {
		ev := event.New(now.Add(time.Duration(i)*time.Microsecond),
			fmt.Sprintf("GET /api/v1/orders/%06d HTTP/1.1 200 1532 \"-\" \"curl/8.5.0\" 0.012", i))
		ev.SetString("log.level", "info")
		ev.SetString("host.name", "node-7")
		ev.SetString("kubernetes.namespace", "payments")
		ev.SetString("kubernetes.pod.name", "checkout-7d9f8b6c5d-x2k4q")
		ev.SetString("_source", "http")
		batch.Events = append(batch.Events, ev)
	}
	defer batch.Release()
	var size int64
	var buf []byte
	for i := range batch.Events {
		buf = event.AppendJSON(buf[:0], &batch.Events[i], false)
		size += int64(len(buf)) + 1
	}

	for _, bc := range []struct {
		name        string
		compression string
		level       int
		maxBody     config.ByteSize
	}{
		{"none", "none", 6, 10 << 20},
		{"gzip-1", "gzip", 1, 10 << 20},
		{"gzip-6", "gzip", 6, 10 << 20},
		{"none/split-64KiB", "none", 6, 64 << 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newTestSink(b, srv.URL, func(c *Config) {
				c.Compression, c.CompressionLevel, c.MaxBodyBytes = bc.compression, bc.level, bc.maxBody
			})
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
		})
	}
}
