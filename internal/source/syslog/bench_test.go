package syslog

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

// BenchmarkParse5424 measures parsing one RFC 5424 message with structured
// data and building its event (what the source does per message).
func BenchmarkParse5424(b *testing.B) {
	benchBuild(b, string(bench5424))
}

// BenchmarkParse3164 is BenchmarkParse5424 for an RFC 3164 message.
func BenchmarkParse3164(b *testing.B) {
	benchBuild(b, string(bench3164))
}

func benchBuild(b *testing.B, msg string) {
	bl := newBuilder(time.UTC, false)
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, ok := bl.build(msg, now, "192.0.2.1:514", 0); !ok {
			b.Fatal("parse failed")
		}
	}
}

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

// BenchmarkTCPSyslog measures the source end to end: messages over loopback
// TCP, framed, parsed and made into events, into a counting consumer.
func BenchmarkTCPSyslog(b *testing.B) {
	for _, bc := range []struct {
		name   string
		msg    []byte
		octets bool
	}{
		{"5424/octets", bench5424, true},
		{"5424/lines", bench5424, false},
		{"3164/lines", bench3164, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var frame []byte
			if bc.octets {
				frame = strconv.AppendInt(frame, int64(len(bc.msg)), 10)
				frame = append(frame, ' ')
				frame = append(frame, bc.msg...)
			} else {
				frame = append(append(frame, bc.msg...), '\n')
			}
			const perWrite = 500
			var payload []byte
			for range perWrite {
				payload = append(payload, frame...)
			}
			out := &countingConsumer{done: make(chan struct{}, 1)}
			out.target.Store(1 << 62)
			c := NewConfig()
			c.Address = "127.0.0.1:0"
			c.Protocols = []string{ProtocolTCP}
			s, err := Spec.Build(c, componenttest.Env(b, "bench", out))
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer s.Stop(context.Background())
			conn, err := net.Dial("tcp", s.(*source).tcp.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()

			out.target.Store(int64(b.N))
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			b.ResetTimer()
			start := time.Now()
			go func() {
				for sent := 0; sent < b.N; sent += perWrite {
					p := payload
					if rest := b.N - sent; rest < perWrite {
						p = payload[:rest*len(frame)]
					}
					if _, err := conn.Write(p); err != nil {
						return
					}
				}
			}()
			<-out.done
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}
