package file

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

// benchBatch returns a batch of n events of about 200 bytes of NDJSON each,
// spread over namespaces namespaces.
func benchBatch(n, namespaces int) *event.Batch {
	b := event.NewBatch("bench")
	now := time.Now()
	for i := range n {
		ev := event.New(now.Add(time.Duration(i)*time.Microsecond),
			fmt.Sprintf("GET /api/v1/orders/%06d HTTP/1.1 200 1532 \"-\" \"curl/8.5.0\" 0.012", i))
		ev.SetString("log.level", "info")
		ev.SetString("host.name", "node-7")
		ev.SetString("kubernetes.namespace", fmt.Sprintf("ns-%d", i%namespaces))
		ev.SetString("kubernetes.pod.name", "checkout-7d9f8b6c5d-x2k4q")
		ev.SetString("_source", "http")
		b.Events = append(b.Events, ev)
	}
	return b
}

func batchBytes(b *event.Batch) int64 {
	var n int64
	var buf []byte
	for i := range b.Events {
		buf = event.AppendJSON(buf[:0], &b.Events[i], false)
		n += int64(len(buf)) + 1
	}
	return n
}

// BenchmarkFileWrite writes 1000-event batches of ~200-byte events to a real
// file (rotated every 64MiB, one kept, to bound disk use).
func BenchmarkFileWrite(b *testing.B) {
	cases := []struct {
		name        string
		path        string
		format      string
		compression string
		namespaces  int
	}{
		{"json/static", "out.ndjson", "json", "none", 1},
		{"text/static", "out.log", "text", "none", 1},
		{"json/gzip", "out.ndjson.gz", "json", "gzip", 1},
		{"json/4-namespaces-daily", "%{kubernetes.namespace}/%{+yyyy-MM-dd}.ndjson", "json", "none", 4},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			c := NewConfig().(*Config)
			c.Path, c.Format, c.Compression = bc.path, bc.format, bc.compression
			c.Rotate.MaxBytes, c.Rotate.Keep = 64<<20, 1
			if err := c.Validate(); err != nil {
				b.Fatal(err)
			}
			s, err := newSink(c, componenttest.Env(b, "bench", nil))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(context.Background())
			batch := benchBatch(1000, bc.namespaces)
			defer batch.Release()
			b.SetBytes(batchBytes(batch))
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

// BenchmarkFileEncode measures the encode path alone (grouping by path and
// NDJSON encoding, no I/O), which bounds the sink's throughput.
func BenchmarkFileEncode(b *testing.B) {
	for _, bc := range []struct{ name, path string }{
		{"static", "out.ndjson"},
		{"template", "%{kubernetes.namespace}/%{+yyyy-MM-dd}.ndjson"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := NewConfig().(*Config)
			c.Path, c.IdleTimeout = bc.path, 0
			s, err := newSink(c, componenttest.Env(b, "bench", nil))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close(context.Background())
			batch := benchBatch(1000, 4)
			defer batch.Release()
			b.SetBytes(batchBytes(batch))
			b.ReportAllocs()
			for b.Loop() {
				if bad, err := s.groupEvents(batch); bad > 0 {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
		})
	}
}
