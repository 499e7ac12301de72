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

// bench5424 and bench3164 are the messages of syslogparse's
// BenchmarkParse5424 and BenchmarkParse3164.
var (
	bench5424 = []byte(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1024 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry with some more words in it`)
	bench3164 = []byte(`<34>Oct 11 22:14:15 mymachine su[1234]: 'su root' failed for lonvick on /dev/pts/8 with some more words in it`)
)

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
