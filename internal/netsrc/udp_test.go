package netsrc

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

// udpCollector records batch sizes as well as events.
type udpCollector struct {
	*componenttest.Collector
	mu      sync.Mutex
	batches []int
}

func udpHandler(env component.Env, col *udpCollector) UDPHandler {
	m := env.Metrics.Source(env.Name)
	return func(ctx context.Context, msgs []Datagram, n int) error {
		col.mu.Lock()
		col.batches = append(col.batches, len(msgs))
		col.mu.Unlock()
		b := event.NewBatch(env.Name)
		now := time.Now()
		for _, d := range msgs {
			ev := event.New(now, d.Text)
			ev.SetString("log.source.address", d.Addr)
			if d.Truncated {
				ev.AddTag("_truncated")
			}
			b.Events = append(b.Events, ev)
		}
		b.Bytes = n
		return Emit(ctx, env.Out, m, b)
	}
}

func startUDP(t *testing.T, cfg UDPConfig, listeners component.Listeners) (*UDPServer, *udpCollector) {
	t.Helper()
	col := &udpCollector{Collector: componenttest.NewCollector()}
	env := componenttest.Env(t, "test", col)
	if listeners != nil {
		env.Net = listeners
	}
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	srv := NewUDPServer(env, env.Metrics.Source("test"), cfg, udpHandler(env, col))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return srv, col
}

func TestUDPServer(t *testing.T) {
	tests := []struct {
		name     string
		cfg      UDPConfig
		send     []string
		want     []string
		truncate int
	}{
		{name: "newlines stripped", send: []string{"a\n", "b\r\n", "c", "multi\nline\n"}, want: []string{"a", "b", "c", "multi\nline"}},
		{name: "empty skipped", send: []string{"", "\n", "x"}, want: []string{"x"}},
		{name: "truncated", cfg: UDPConfig{MaxMessageBytes: 4}, send: []string{"abcdefgh", "abcd"}, want: []string{"abcd", "abcd"}, truncate: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, col := startUDP(t, tt.cfg, nil)
			c, err := net.Dial("udp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, s := range tt.send {
				if _, err := c.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			evs := col.WaitFor(t, len(tt.want), 5*time.Second)
			truncated := 0
			for i, ev := range evs {
				if ev.Message() != tt.want[i] {
					t.Errorf("event %d = %q, want %q", i, ev.Message(), tt.want[i])
				}
				if addr, _ := ev.GetString("log.source.address"); addr != c.LocalAddr().String() {
					t.Errorf("address = %q, want %q", addr, c.LocalAddr())
				}
				if ev.HasTag("_truncated") {
					truncated++
				}
			}
			if truncated != tt.truncate {
				t.Errorf("%d truncated, want %d", truncated, tt.truncate)
			}
		})
	}
}

// TestUDPServerBatching checks both flush triggers: size and time.
func TestUDPServerBatching(t *testing.T) {
	srv, col := startUDP(t, UDPConfig{BatchSize: 10, FlushInterval: 20 * time.Millisecond}, nil)
	c, err := net.Dial("udp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprint(c, "lonely")
	col.WaitFor(t, 1, 2*time.Second)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("a single datagram took %v to flush", d)
	}
	for i := range 35 {
		fmt.Fprintf(c, "msg %d", i)
		if i%10 == 0 {
			time.Sleep(time.Millisecond) // let the reader keep up; UDP may drop otherwise
		}
	}
	col.WaitFor(t, 36, 5*time.Second)
	col.mu.Lock()
	defer col.mu.Unlock()
	for _, n := range col.batches {
		if n > 10 {
			t.Errorf("batch of %d datagrams, BatchSize is 10", n)
		}
	}
	if len(col.batches) < 5 {
		t.Errorf("batches = %v, want at least 5", col.batches)
	}
}

// closeRecorder is a PacketConn that records whether Close came while a
// read was still in flight.
type closeRecorder struct {
	net.PacketConn
	mu            sync.Mutex
	reading       int
	closed        int
	closedReading bool
}

func (c *closeRecorder) ReadFrom(p []byte) (int, net.Addr, error) {
	c.mu.Lock()
	c.reading++
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.reading--; c.mu.Unlock() }()
	return c.PacketConn.ReadFrom(p)
}

func (c *closeRecorder) Close() error {
	c.mu.Lock()
	c.closed++
	c.closedReading = c.closedReading || c.reading > 0
	c.mu.Unlock()
	return c.PacketConn.Close()
}

type recorderListeners struct {
	component.PlainListeners
	rec *closeRecorder
}

func (l recorderListeners) ListenPacket(network, address string) (net.PacketConn, error) {
	pc, err := net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	l.rec.PacketConn = pc
	return l.rec, nil
}

// TestUDPServerReleasesConn checks that Stop ends the read loop by its
// deadline poll, not by closing the socket under a read, and releases the
// PacketConn exactly once afterwards.
func TestUDPServerReleasesConn(t *testing.T) {
	rec := &closeRecorder{}
	col := &udpCollector{Collector: componenttest.NewCollector()}
	env := componenttest.Env(t, "test", col)
	env.Net = recorderListeners{rec: rec}
	srv := NewUDPServer(env, env.Metrics.Source("test"), UDPConfig{Address: "127.0.0.1:0", PollInterval: 50 * time.Millisecond}, udpHandler(env, col))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "before stop")
	col.WaitFor(t, 1, 5*time.Second)
	start := time.Now()
	for range 2 {
		if err := srv.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed != 1 || rec.closedReading {
		t.Errorf("closed %d times, during a read: %v; want once, after the loop", rec.closed, rec.closedReading)
	}
}

func TestUDPServerStopTimeout(t *testing.T) {
	col := componenttest.NewCollector()
	col.SetBlock(true)
	env := componenttest.Env(t, "test", col)
	srv := NewUDPServer(env, env.Metrics.Source("test"), UDPConfig{Address: "127.0.0.1:0", FlushInterval: time.Millisecond},
		udpHandler(env, &udpCollector{Collector: col}))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "stuck")
	waitUntil(t, 5*time.Second, "batch to reach Consume", func() bool {
		return componenttest.MetricValue(t, env.Metrics, "sluice_source_events_in_total", map[string]string{"source": "test"}) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Stop(ctx); err == nil {
		t.Fatal("Stop succeeded with a Consume that never returns")
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}
