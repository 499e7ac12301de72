package netsrc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/event"
)

type tcpFixture struct {
	env  component.Env
	srv  *TCPServer
	out  *componenttest.Collector
	addr string
}

func startTCP(t *testing.T, cfg TCPConfig, out component.Consumer) *tcpFixture {
	t.Helper()
	col, _ := out.(*componenttest.Collector)
	if out == nil {
		col = componenttest.NewCollector()
		out = col
	}
	env := componenttest.Env(t, "test", out)
	m := env.Metrics.Source(env.Name)
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	srv := NewTCPServer(env, m, cfg, lineHandler(env, m, 1<<20))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return &tcpFixture{env: env, srv: srv, out: col, addr: srv.Addr().String()}
}

func (f *tcpFixture) gauge(t *testing.T, name string) float64 {
	return componenttest.MetricValue(t, f.env.Metrics, name, map[string]string{"source": "test"})
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestTCPServerLines(t *testing.T) {
	tests := []struct {
		name    string
		clients int
		lines   int
		tls     bool
	}{
		{name: "one client", clients: 1, lines: 1000},
		{name: "many clients", clients: 8, lines: 500},
		{name: "tls", clients: 2, lines: 200, tls: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := TCPConfig{}
			var clientTLS *tls.Config
			if tt.tls {
				cfg.TLS, clientTLS = selfSignedTLS(t)
			}
			f := startTCP(t, cfg, nil)
			var wg sync.WaitGroup
			sent := 0
			for i := range tt.clients {
				var c net.Conn = dial(t, f.addr)
				if clientTLS != nil {
					c = tls.Client(c, clientTLS)
				}
				var payload []byte
				for j := range tt.lines {
					payload = fmt.Appendf(payload, "client %d line %d\r\n", i, j)
				}
				sent += len(payload)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					if _, err := c.Write(payload); err != nil {
						t.Errorf("write: %v", err)
					}
				}()
			}
			wg.Wait()
			evs := f.out.WaitFor(t, tt.clients*tt.lines, 10*time.Second)
			seen := map[string]bool{}
			for _, ev := range evs {
				seen[ev.Message()] = true
			}
			for i := range tt.clients {
				for j := range tt.lines {
					if msg := fmt.Sprintf("client %d line %d", i, j); !seen[msg] {
						t.Fatalf("missing %q", msg)
					}
				}
			}
			waitUntil(t, 5*time.Second, "connections to close", func() bool {
				return f.gauge(t, "sluice_source_connections") == 0
			})
			if got := f.gauge(t, "sluice_source_events_in_total"); got != float64(tt.clients*tt.lines) {
				t.Errorf("events_in = %v, want %d", got, tt.clients*tt.lines)
			}
			if got := f.gauge(t, "sluice_source_bytes_in_total"); got != float64(sent) {
				t.Errorf("bytes_in = %v, want %d", got, sent)
			}
		})
	}
}

func TestTCPServerMaxConnections(t *testing.T) {
	f := startTCP(t, TCPConfig{MaxConnections: 2}, nil)
	for i := range 2 {
		c := dial(t, f.addr)
		fmt.Fprintf(c, "hello %d\n", i)
	}
	f.out.WaitFor(t, 2, 5*time.Second) // both are being served
	extra := dial(t, f.addr)
	_ = extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("read on refused connection: %v, want EOF", err)
	}
	got := componenttest.MetricValue(t, f.env.Metrics, "sluice_source_errors_total", map[string]string{"source": "test", "reason": "too_many_connections"})
	if got != 1 {
		t.Errorf("too_many_connections = %v, want 1", got)
	}
	if g := f.gauge(t, "sluice_source_connections"); g != 2 {
		t.Errorf("connections = %v, want 2", g)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// TestTCPServerSlowloris checks that a client that connects and sends nothing
// neither blocks others nor stays open past the idle timeout.
func TestTCPServerSlowloris(t *testing.T) {
	const idle = 700 * time.Millisecond
	f := startTCP(t, TCPConfig{ReadTimeout: idle, MaxConnections: 10}, nil)
	silent := make([]net.Conn, 5)
	for i := range silent {
		silent[i] = dial(t, f.addr)
	}
	waitUntil(t, 5*time.Second, "silent clients to be accepted", func() bool {
		return f.gauge(t, "sluice_source_connections") == 5
	})
	start := time.Now()
	busy := dial(t, f.addr)
	fmt.Fprintf(busy, "served while others idle\n")
	f.out.WaitFor(t, 1, 5*time.Second)
	// Served while the silent clients still hold their connections.
	if d := time.Since(start); d >= idle {
		t.Errorf("busy client served after %v, not before the idle timeout", d)
	}
	for _, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
			t.Fatalf("silent client: %v, want EOF from idle timeout", err)
		}
	}
	if d := time.Since(start); d < idle-100*time.Millisecond {
		t.Errorf("silent clients closed after %v, before the idle timeout", d)
	}
}

// gate is a Consumer that blocks until opened, like a full queue that
// drains later.
type gate struct {
	open    chan struct{}
	entered chan struct{}
	once    sync.Once
	next    component.Consumer
}

func newGate(next component.Consumer) *gate {
	return &gate{open: make(chan struct{}), entered: make(chan struct{}, 1), next: next}
}

func (g *gate) Consume(ctx context.Context, b *event.Batch) error {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	select {
	case <-g.open:
	case <-ctx.Done():
		b.Ack(event.Errored)
		b.Release()
		return ctx.Err()
	}
	return g.next.Consume(ctx, b)
}

func (g *gate) Open() { g.once.Do(func() { close(g.open) }) }

// TestTCPServerBackpressure checks that a blocked Consume stops the reading
// of the socket (the client's writes stall) and that reading resumes, with
// nothing lost, once Consume returns.
func TestTCPServerBackpressure(t *testing.T) {
	col := componenttest.NewCollector()
	g := newGate(col)
	f := startTCP(t, TCPConfig{}, g)
	c := dial(t, f.addr)
	line := []byte(fmt.Sprintf("%0100d\n", 7))
	written := 0
	stalled := false
	for written < 256<<20 {
		_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Write(line)
		written += n
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			stalled = true
			break
		}
	}
	if !stalled {
		t.Fatalf("wrote %d bytes without stalling: the source kept reading", written)
	}
	<-g.entered
	if n := len(col.Events()); n != 0 {
		t.Fatalf("%d events passed a closed gate", n)
	}
	g.Open()
	_ = c.SetWriteDeadline(time.Time{})
	// Finish the partial line, then everything must arrive.
	rest := (len(line) - written%len(line)) % len(line)
	if _, err := c.Write(line[len(line)-rest:]); err != nil {
		t.Fatal(err)
	}
	want := (written + rest) / len(line)
	col.WaitFor(t, want, 20*time.Second)
	t.Logf("stalled after %d bytes; %d lines delivered after resuming", written, want)
}

// TestTCPServerStopFinishesBatch checks that Stop waits for a batch being
// consumed and then returns without error.
func TestTCPServerStopFinishesBatch(t *testing.T) {
	col := componenttest.NewCollector()
	g := newGate(col)
	env := componenttest.Env(t, "test", g)
	m := env.Metrics.Source("test")
	srv := NewTCPServer(env, m, TCPConfig{Address: "127.0.0.1:0"}, lineHandler(env, m, 1024))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, srv.Addr().String())
	fmt.Fprintf(c, "in flight\n")
	<-g.entered
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v while a batch was being consumed", err)
	case <-time.After(100 * time.Millisecond):
	}
	g.Open()
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if evs := col.Events(); len(evs) != 1 || evs[0].Message() != "in flight" {
		t.Fatalf("events = %v", evs)
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		t.Errorf("listener still accepting after Stop")
	}
}

// TestTCPServerStopTimeout checks that Stop gives up on a Consume that never
// returns by itself, cancels it and still leaves no goroutine behind.
func TestTCPServerStopTimeout(t *testing.T) {
	col := componenttest.NewCollector()
	col.SetBlock(true)
	env := componenttest.Env(t, "test", col)
	m := env.Metrics.Source("test")
	srv := NewTCPServer(env, m, TCPConfig{Address: "127.0.0.1:0"}, lineHandler(env, m, 1024))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, srv.Addr().String())
	fmt.Fprintf(c, "stuck\n")
	waitUntil(t, 5*time.Second, "batch to reach Consume", func() bool {
		return componenttest.MetricValue(t, env.Metrics, "sluice_source_events_in_total", map[string]string{"source": "test"}) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want deadline exceeded", err)
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// TestTCPServerStopIdleConns checks that Stop does not wait for connected
// clients that send nothing.
func TestTCPServerStopIdleConns(t *testing.T) {
	env := componenttest.Env(t, "test", componenttest.NewCollector())
	m := env.Metrics.Source("test")
	srv := NewTCPServer(env, m, TCPConfig{Address: "127.0.0.1:0"}, lineHandler(env, m, 1024))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c := dial(t, srv.Addr().String())
		fmt.Fprintf(c, "partial line without newline")
	}
	waitUntil(t, 5*time.Second, "connections", func() bool {
		return componenttest.MetricValue(t, env.Metrics, "sluice_source_connections", map[string]string{"source": "test"}) == 3
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
}

func TestTCPServerStartErrors(t *testing.T) {
	env := componenttest.Env(t, "test", componenttest.NewCollector())
	m := env.Metrics.Source("test")
	first := NewTCPServer(env, m, TCPConfig{Address: "127.0.0.1:0"}, lineHandler(env, m, 1024))
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Stop(context.Background())
	if err := first.Start(); err == nil {
		t.Errorf("second Start succeeded")
	}
	clash := NewTCPServer(env, m, TCPConfig{Address: first.Addr().String()}, lineHandler(env, m, 1024))
	if err := clash.Start(); err == nil {
		t.Errorf("Start on a used port succeeded")
	}
	if err := clash.Stop(context.Background()); err != nil {
		t.Errorf("Stop of a server that never started: %v", err)
	}
}

// TestTCPServerHandlerPanic checks that a panicking handler closes its
// connection instead of the process.
func TestTCPServerHandlerPanic(t *testing.T) {
	env := componenttest.Env(t, "test", componenttest.NewCollector())
	m := env.Metrics.Source("test")
	srv := NewTCPServer(env, m, TCPConfig{Address: "127.0.0.1:0"}, func(ctx context.Context, c *Conn) error {
		panic("bug")
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	c := dial(t, srv.Addr().String())
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open")
	}
	waitUntil(t, 5*time.Second, "internal error count", func() bool {
		return componenttest.MetricValue(t, env.Metrics, "sluice_source_errors_total", map[string]string{"reason": "internal"}) == 1
	})
}
