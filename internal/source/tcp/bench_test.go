package tcp

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

// countingConsumer counts events and signals once it has seen target.
type countingConsumer struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func (c *countingConsumer) Consume(_ context.Context, b *event.Batch) error {
	if n := c.n.Add(int64(len(b.Events))); n >= c.target.Load() {
		select {
		case c.done <- struct{}{}:
		default:
		}
	}
	b.Ack(event.Delivered)
	b.Release()
	return nil
}

func benchPayload(lines, size int, json bool) []byte {
	var out []byte
	for i := range lines {
		var line []byte
		if json {
			line = fmt.Appendf(nil, `{"level":"info","id":%d,"path":"/api/v1/items","status":200,"message":"request done`, i)
			for len(line) < size-3 {
				line = append(line, 'x')
			}
			line = append(line, `"}`...)
		} else {
			line = fmt.Appendf(nil, "2024-03-15T12:00:00.000Z INFO request done id=%08d path=/api/v1/items status=200 ", i)
			for len(line) < size-1 {
				line = append(line, 'x')
			}
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

// BenchmarkTCPLines measures the tcp source end to end: 100-byte lines over
// loopback, framed, made into events and counted by a consumer.
func BenchmarkTCPLines(b *testing.B) {
	benchTCP(b, false)
}

// BenchmarkTCPLinesJSON is BenchmarkTCPLines with format: json.
func BenchmarkTCPLinesJSON(b *testing.B) {
	benchTCP(b, true)
}

func benchTCP(b *testing.B, json bool) {
	const size, perWrite = 100, 1000
	out := &countingConsumer{done: make(chan struct{}, 1)}
	out.target.Store(1 << 62)
	c := NewConfig()
	c.Address = "127.0.0.1:0"
	if json {
		c.Format = FormatJSON
	}
	s, err := Spec.Build(c, componenttest.Env(b, "bench", out))
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer s.Stop(context.Background())
	conn, err := net.Dial("tcp", s.(*source).srv.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	payload := benchPayload(perWrite, size, json)

	out.target.Store(int64(b.N))
	b.ReportAllocs()
	b.SetBytes(size)
	b.ResetTimer()
	start := time.Now()
	go func() {
		for sent := 0; sent < b.N; sent += perWrite {
			p := payload
			if rest := b.N - sent; rest < perWrite {
				p = payload[:rest*size]
			}
			if _, err := conn.Write(p); err != nil {
				return
			}
		}
	}()
	<-out.done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
