package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/component/componenttest"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
)

type fixture struct {
	src  *source
	env  component.Env
	addr string
}

func start(t *testing.T, edit func(c *Config), out component.Consumer) *fixture {
	t.Helper()
	c := NewConfig()
	c.Address = "127.0.0.1:0"
	if edit != nil {
		edit(c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	env := componenttest.Env(t, "tcp_in", out)
	s, err := Spec.Build(c, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	src := s.(*source)
	return &fixture{src: src, env: env, addr: src.srv.Addr().String()}
}

func (f *fixture) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	want := map[string]string{"source": "tcp_in"}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	return componenttest.MetricValue(t, f.env.Metrics, name, want)
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

func send(t *testing.T, addr, payload string) {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, payload); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
}

func TestSourceEvents(t *testing.T) {
	type want struct {
		fields map[string]any
		tags   []string
	}
	tests := []struct {
		name      string
		format    string
		maxLine   int
		payload   string
		want      []want
		parseErrs float64
		oversized float64
	}{
		{
			name:    "raw",
			payload: "hello\r\nworld\n\nlast without newline",
			want: []want{
				{fields: map[string]any{"message": "hello"}},
				{fields: map[string]any{"message": "world"}},
				{fields: map[string]any{"message": "last without newline"}},
			},
		},
		{
			name:    "raw oversized",
			maxLine: 8,
			payload: "short\n0123456789abcdef\nafter\n",
			want: []want{
				{fields: map[string]any{"message": "short"}},
				{fields: map[string]any{"message": "01234567"}, tags: []string{"_truncated"}},
				{fields: map[string]any{"message": "after"}},
			},
			oversized: 1,
		},
		{
			name:    "json",
			format:  FormatJSON,
			payload: `{"message":"hi","user":{"id":7},"ok":true}` + "\n" + `{"level":"warn"}` + "\n",
			want: []want{
				{fields: map[string]any{"message": "hi", "user.id": int64(7), "ok": true}},
				{fields: map[string]any{"level": "warn"}},
			},
		},
		{
			name:    "json invalid",
			format:  FormatJSON,
			payload: "not json\n{\"a\":1\n{\"b\":2}\n",
			want: []want{
				{fields: map[string]any{"message": "not json"}, tags: []string{"_jsonparsefailure"}},
				{fields: map[string]any{"message": `{"a":1`}, tags: []string{"_jsonparsefailure"}},
				{fields: map[string]any{"b": int64(2)}},
			},
			parseErrs: 2,
		},
		{
			name:    "json oversized",
			format:  FormatJSON,
			maxLine: 10,
			payload: `{"message":"far too long"}` + "\n",
			want: []want{
				{fields: map[string]any{"message": `{"message"`}, tags: []string{"_jsonparsefailure", "_truncated"}},
			},
			parseErrs: 1,
			oversized: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := componenttest.NewCollector()
			f := start(t, func(c *Config) {
				if tt.format != "" {
					c.Format = tt.format
				}
				if tt.maxLine > 0 {
					c.MaxLineBytes = config.ByteSize(tt.maxLine)
				}
			}, col)
			before := time.Now()
			send(t, f.addr, tt.payload)
			evs := col.WaitFor(t, len(tt.want), 5*time.Second)
			time.Sleep(20 * time.Millisecond)
			if evs = col.Events(); len(evs) != len(tt.want) {
				t.Fatalf("got %d events, want %d", len(evs), len(tt.want))
			}
			for i, w := range tt.want {
				ev := evs[i]
				for k, v := range w.fields {
					got, ok := ev.Get(k)
					if !ok || got != v {
						t.Errorf("event %d: %s = %#v, want %#v", i, k, got, v)
					}
				}
				for _, tag := range w.tags {
					if !ev.HasTag(tag) {
						t.Errorf("event %d: missing tag %s", i, tag)
					}
				}
				if w.tags == nil && ev.Has("tags") {
					t.Errorf("event %d: unexpected tags", i)
				}
				if ev.Time.Before(before) || ev.Time.After(time.Now()) {
					t.Errorf("event %d: time %v is not the receive time", i, ev.Time)
				}
			}
			if got := f.metric(t, "sluice_source_errors_total", "reason", "parse"); got != tt.parseErrs {
				t.Errorf("parse errors = %v, want %v", got, tt.parseErrs)
			}
			if got := f.metric(t, "sluice_source_errors_total", "reason", "oversized"); got != tt.oversized {
				t.Errorf("oversized = %v, want %v", got, tt.oversized)
			}
			if got := f.metric(t, "sluice_source_events_in_total"); got != float64(len(tt.want)) {
				t.Errorf("events_in = %v, want %d", got, len(tt.want))
			}
			if got := f.metric(t, "sluice_source_bytes_in_total"); got != float64(len(tt.payload)) {
				t.Errorf("bytes_in = %v, want %d", got, len(tt.payload))
			}
		})
	}
}

// TestSourceBatchPerRead checks that lines arriving in one write come out in
// few batches, not one per line.
func TestSourceBatchPerRead(t *testing.T) {
	col := componenttest.NewCollector()
	f := start(t, nil, col)
	send(t, f.addr, strings.Repeat("a line of text\n", 1000))
	col.WaitFor(t, 1000, 5*time.Second)
	if n := col.Batches(); n > 10 {
		t.Errorf("1000 lines in one write made %d batches", n)
	}
}

func TestSourceTLS(t *testing.T) {
	certFile, keyFile, clientCfg := writeCert(t)
	col := componenttest.NewCollector()
	f := start(t, func(c *Config) {
		c.TLS = config.TLSServer{Enabled: true, CertFile: certFile, KeyFile: keyFile}
	}, col)
	c, err := tls.Dial("tcp", f.addr, clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "over tls\n")
	_ = c.Close()
	if evs := col.WaitFor(t, 1, 5*time.Second); evs[0].Message() != "over tls" {
		t.Errorf("message = %q", evs[0].Message())
	}
	// A plain-text client is not served.
	plain := dial(t, f.addr)
	fmt.Fprintf(plain, "plain text\n")
	_ = plain.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, plain)
	if n := len(col.Events()); n != 1 {
		t.Errorf("plain-text line accepted on a TLS listener (%d events)", n)
	}
}

func TestSourceTooManyConnections(t *testing.T) {
	col := componenttest.NewCollector()
	f := start(t, func(c *Config) { c.MaxConnections = 1 }, col)
	held := dial(t, f.addr)
	fmt.Fprintf(held, "first\n")
	col.WaitFor(t, 1, 5*time.Second)
	refused := dial(t, f.addr)
	_ = refused.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := refused.Read(make([]byte, 1)); err == nil {
		t.Fatal("second connection was served")
	}
	if got := f.metric(t, "sluice_source_errors_total", "reason", "too_many_connections"); got != 1 {
		t.Errorf("too_many_connections = %v, want 1", got)
	}
	fmt.Fprintf(held, "still served\n")
	col.WaitFor(t, 2, 5*time.Second)
}

// TestSourceSlowloris checks that idle clients neither delay others nor stay
// connected past read_timeout.
func TestSourceSlowloris(t *testing.T) {
	const timeout = 700 * time.Millisecond
	col := componenttest.NewCollector()
	f := start(t, func(c *Config) { c.ReadTimeout = config.Duration(timeout) }, col)
	var idle []net.Conn
	for range 5 {
		idle = append(idle, dial(t, f.addr))
	}
	waitFor(t, func() bool { return f.metric(t, "sluice_source_connections") == 5 })
	start := time.Now()
	send(t, f.addr, "not delayed\n")
	col.WaitFor(t, 1, 5*time.Second)
	if d := time.Since(start); d >= timeout {
		t.Errorf("active client waited %v behind idle ones", d)
	}
	for _, c := range idle {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("idle client not closed by read_timeout: %v", err)
		}
	}
	waitFor(t, func() bool { return f.metric(t, "sluice_source_connections") == 0 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fillUntilStalled writes lines until a write does not complete within
// 300ms, which means nobody reads the socket, and returns the bytes written.
func fillUntilStalled(t *testing.T, c net.Conn, line []byte) int {
	t.Helper()
	written := 0
	for written < 512<<20 {
		_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Write(line)
		written += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			_ = c.SetWriteDeadline(time.Time{})
			return written
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("wrote %d bytes without stalling: the source kept reading", written)
	return 0
}

// TestSourceBackpressureBlocked uses Collector.SetBlock: while Consume
// blocks, the source stops reading, and Stop still returns once its context
// is done.
func TestSourceBackpressureBlocked(t *testing.T) {
	col := componenttest.NewCollector()
	col.SetBlock(true)
	c := NewConfig()
	c.Address = "127.0.0.1:0"
	env := componenttest.Env(t, "tcp_in", col)
	s, err := Spec.Build(c, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn := dial(t, s.(*source).srv.Addr().String())
	written := fillUntilStalled(t, conn, []byte(strings.Repeat("b", 99)+"\n"))
	in := componenttest.MetricValue(t, env.Metrics, "sluice_source_bytes_in_total", map[string]string{"source": "tcp_in"})
	if in >= float64(written) {
		t.Errorf("source read %v of %d bytes while blocked", in, written)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want deadline exceeded", err)
	}
}

// valve blocks Consume while closed, then passes batches to a Collector.
type valve struct {
	mu     sync.Mutex
	closed bool
	cond   *sync.Cond
	out    *componenttest.Collector
	wait   chan struct{}
}

func newValve(out *componenttest.Collector) *valve {
	v := &valve{closed: true, out: out, wait: make(chan struct{}, 1)}
	v.cond = sync.NewCond(&v.mu)
	return v
}

func (v *valve) Consume(ctx context.Context, b *event.Batch) error {
	v.mu.Lock()
	if v.closed {
		select {
		case v.wait <- struct{}{}:
		default:
		}
	}
	for v.closed {
		v.cond.Wait()
	}
	v.mu.Unlock()
	return v.out.Consume(ctx, b)
}

func (v *valve) open() { v.mu.Lock(); v.closed = false; v.mu.Unlock(); v.cond.Broadcast() }

// TestSourceBackpressureResumes checks that a source stops reading while its
// consumer blocks and resumes without loss when the consumer drains.
func TestSourceBackpressureResumes(t *testing.T) {
	col := componenttest.NewCollector()
	v := newValve(col)
	f := start(t, nil, v)
	conn := dial(t, f.addr)
	line := []byte(strings.Repeat("r", 99) + "\n")
	written := fillUntilStalled(t, conn, line)
	<-v.wait
	if n := len(col.Events()); n != 0 {
		t.Fatalf("%d events passed a closed valve", n)
	}
	v.open()
	if rest := written % len(line); rest != 0 {
		if _, err := conn.Write(line[rest:]); err != nil {
			t.Fatal(err)
		}
		written += len(line) - rest
	}
	want := written / len(line)
	evs := col.WaitFor(t, want, 30*time.Second)
	for _, ev := range evs {
		if ev.Message() != string(line[:99]) {
			t.Fatalf("corrupt line %q", ev.Message())
		}
	}
	t.Logf("source stalled the sender after %d bytes, then delivered all %d lines", written, want)
}

func TestSourceStopTwice(t *testing.T) {
	c := NewConfig()
	c.Address = "127.0.0.1:0"
	s, err := Spec.Build(c, componenttest.Env(t, "tcp_in", componenttest.NewCollector()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSourceStartError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	c := NewConfig()
	c.Address = taken.Addr().String()
	s, err := Spec.Build(c, componenttest.Env(t, "tcp_in", componenttest.NewCollector()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "tcp source tcp_in") {
		t.Fatalf("Start = %v, want a listen error naming the source", err)
	}
	_ = s.Stop(context.Background())
}

func TestBuildErrors(t *testing.T) {
	env := componenttest.Env(t, "tcp_in", componenttest.NewCollector())
	if _, err := Spec.Build(struct{}{}, env); err == nil {
		t.Error("Build accepted a foreign config")
	}
	c := NewConfig()
	c.Address = ":0"
	c.TLS = config.TLSServer{Enabled: true, CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}
	if _, err := Spec.Build(c, env); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Errorf("Build = %v, want a tls error", err)
	}
}

func writeCert(t *testing.T) (certFile, keyFile string, client *tls.Config) {
	c := componenttest.SelfSigned(t)
	return c.CertFile, c.KeyFile, c.Client
}
