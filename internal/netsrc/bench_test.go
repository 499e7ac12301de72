package netsrc

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

// loopReader serves data over and over, in reads as big as the caller asks.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

// benchLines returns n lines of about size bytes each (newline included).
func benchLines(n, size int) []byte {
	var out []byte
	for i := range n {
		line := fmt.Appendf(nil, "2024-03-15T12:00:00.000Z INFO request done id=%08d path=/api/v1/items status=200 ", i)
		for len(line) < size-1 {
			line = append(line, 'x')
		}
		out = append(out, line[:size-1]...)
		out = append(out, '\n')
	}
	return out
}

func BenchmarkFramerLines(b *testing.B) {
	for _, size := range []int{100, 500} {
		b.Run(strconv.Itoa(size)+"B", func(b *testing.B) {
			f := NewFramer(&loopReader{data: benchLines(1000, size)}, FramerOptions{MaxBytes: 1 << 20})
			b.ReportAllocs()
			b.SetBytes(int64(size))
			n := 0
			for n < b.N {
				ch, err := f.Next()
				if err != nil {
					b.Fatal(err)
				}
				n += len(ch.Frames)
			}
		})
	}
}

func BenchmarkFramerOctets(b *testing.B) {
	const msg = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1024 ID47 - An application event log entry"
	var data []byte
	for range 1000 {
		data = strconv.AppendInt(data, int64(len(msg)), 10)
		data = append(data, ' ')
		data = append(data, msg...)
	}
	f := NewFramer(&loopReader{data: data}, FramerOptions{MaxBytes: 1 << 16, OctetCounting: true})
	b.ReportAllocs()
	b.SetBytes(int64(len(data) / 1000))
	n := 0
	for n < b.N {
		ch, err := f.Next()
		if err != nil {
			b.Fatal(err)
		}
		n += len(ch.Frames)
	}
}

// countingConsumer counts events and signals when it has seen target.
type countingConsumer struct {
	n      atomic.Int64
	target int64
	done   chan struct{}
}

func (c *countingConsumer) Consume(_ context.Context, b *event.Batch) error {
	if c.n.Add(int64(len(b.Events))) >= c.target && c.target > 0 {
		select {
		case c.done <- struct{}{}:
		default:
		}
	}
	b.Ack(event.Delivered)
	b.Release()
	return nil
}

// BenchmarkTCPServerLines measures raw lines over loopback through a
// TCPServer, the Framer and one event per line into a counting consumer.
func BenchmarkTCPServerLines(b *testing.B) {
	const size = 100
	out := &countingConsumer{done: make(chan struct{}, 1)}
	env := componenttest.Env(b, "bench", out)
	m := env.Metrics.Source("bench")
	srv := NewTCPServer(env, m, TCPConfig{Address: "127.0.0.1:0", ReadTimeout: time.Minute}, lineHandler(env, m, 1<<20))
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	payload := benchLines(1000, size)

	out.target = int64(b.N)
	b.ReportAllocs()
	b.SetBytes(size)
	b.ResetTimer()
	start := time.Now()
	go func() {
		for sent := 0; sent < b.N; sent += 1000 {
			p := payload
			if rest := b.N - sent; rest < 1000 {
				p = payload[:rest*size]
			}
			if _, err := c.Write(p); err != nil {
				return
			}
		}
	}()
	<-out.done
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
