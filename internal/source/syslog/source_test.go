package syslog

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
	"github.com/sluicehq/sluice/internal/syslogparse"
)

type fixture struct {
	src *source
	env component.Env
	tcp string // TCP address, "" without tcp
	udp string // UDP address, "" without udp
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
	env := componenttest.Env(t, "syslog_in", out)
	s, err := Spec.Build(c, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	src := s.(*source)
	f := &fixture{src: src, env: env}
	if src.tcp != nil {
		f.tcp = src.tcp.Addr().String()
	}
	if src.udp != nil {
		f.udp = src.udp.Addr().String()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return f
}

func (f *fixture) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	want := map[string]string{"source": "syslog_in"}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	return componenttest.MetricValue(t, f.env.Metrics, name, want)
}

func dial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func messages(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].Message()
	}
	return out
}

// TestSourceTCPFraming sends each stream in pieces, with pauses so that the
// pieces arrive in separate reads, and checks the messages that come out.
func TestSourceTCPFraming(t *testing.T) {
	m5424 := `<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a@1 k="v"] hello 5424`
	m3164 := `<34>Oct 11 22:14:15 host su: hello 3164`
	multi := "<13>1 - host app - - - line one\nline two"
	octet := func(msgs ...string) string {
		var b strings.Builder
		for _, m := range msgs {
			fmt.Fprintf(&b, "%d %s", len(m), m)
		}
		return b.String()
	}
	tests := []struct {
		name    string
		pieces  []string
		want    []string
		framing float64
	}{
		{
			name:   "newline delimited",
			pieces: []string{m5424 + "\n" + m3164 + "\r\n"},
			want:   []string{"hello 5424", "hello 3164"},
		},
		{
			name:   "newline delimited split mid line",
			pieces: []string{m5424[:20], m5424[20:] + "\n" + m3164[:5], m3164[5:] + "\n"},
			want:   []string{"hello 5424", "hello 3164"},
		},
		{
			name:   "octet counted",
			pieces: []string{octet(m5424, m3164, multi)},
			want:   []string{"hello 5424", "hello 3164", "line one\nline two"},
		},
		{
			name: "octet counted split in header and body",
			pieces: func() []string {
				s := octet(m5424, m3164)
				return []string{s[:1], s[1:3], s[3:40], s[40 : len(m5424)+5], s[len(m5424)+5:]}
			}(),
			want: []string{"hello 5424", "hello 3164"},
		},
		{
			name:    "bad octet count falls back to lines",
			pieces:  []string{octet(m3164) + "12x not a frame\n" + m5424 + "\n"},
			want:    []string{"hello 3164", "12x not a frame", "hello 5424"},
			framing: 1,
		},
		{
			name:    "connection closed inside a frame",
			pieces:  []string{octet(m3164) + "500 <13>cut short"},
			want:    []string{"hello 3164", "cut short"},
			framing: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			col := componenttest.NewCollector()
			f := start(t, func(c *Config) { c.Protocols = []string{"tcp"} }, col)
			c := dial(t, "tcp", f.tcp)
			for i, p := range tt.pieces {
				if i > 0 {
					time.Sleep(30 * time.Millisecond)
				}
				if _, err := io.WriteString(c, p); err != nil {
					t.Fatal(err)
				}
			}
			_ = c.Close()
			evs := col.WaitFor(t, len(tt.want), 5*time.Second)
			time.Sleep(20 * time.Millisecond)
			if got := messages(col.Events()); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("messages = %q, want %q", got, tt.want)
			}
			for _, ev := range evs {
				if addr, _ := ev.GetString("log.source.address"); addr != c.LocalAddr().String() {
					t.Errorf("log.source.address = %q, want %q", addr, c.LocalAddr())
				}
			}
			if got := f.metric(t, "sluice_source_errors_total", "reason", "framing"); got != tt.framing {
				t.Errorf("framing errors = %v, want %v", got, tt.framing)
			}
		})
	}
}

func TestSourceUDP(t *testing.T) {
	col := componenttest.NewCollector()
	f := start(t, func(c *Config) { c.Protocols = []string{"udp"}; c.MaxMessageBytes = 100 }, col)
	c := dial(t, "udp", f.udp)
	sent := []string{
		`<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a@1 k="v"] over udp` + "\n",
		`<34>Oct 11 22:14:15 host su: bsd over udp`,
		`not syslog`,
		`<13>` + strings.Repeat("x", 200),
	}
	for _, s := range sent {
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatal(err)
		}
	}
	evs := col.WaitFor(t, 4, 5*time.Second)
	want := []string{"over udp", "bsd over udp", "not syslog", strings.Repeat("x", 96)}
	if got := messages(evs); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("messages = %q, want %q", got, want)
	}
	if v, _ := evs[0].Get("log.syslog.structured_data.a@1.k"); v != "v" {
		t.Errorf("structured data = %v", v)
	}
	if !evs[2].HasTag(syslogparse.TagParseFailure) || !evs[3].HasTag(tagTruncated) {
		t.Errorf("tags: %v, %v", evs[2].Fields(), evs[3].Fields())
	}
	for _, ev := range evs {
		if addr, _ := ev.GetString("log.source.address"); addr != c.LocalAddr().String() {
			t.Errorf("log.source.address = %q, want %q", addr, c.LocalAddr())
		}
	}
	if got := f.metric(t, "sluice_source_errors_total", "reason", "parse"); got != 1 {
		t.Errorf("parse errors = %v, want 1", got)
	}
	if got := f.metric(t, "sluice_source_errors_total", "reason", "oversized"); got != 1 {
		t.Errorf("oversized = %v, want 1", got)
	}
	if got := f.metric(t, "sluice_source_events_in_total"); got != 4 {
		t.Errorf("events_in = %v, want 4", got)
	}
}

// TestSourceBothProtocols checks that one source serves TCP and UDP at once.
func TestSourceBothProtocols(t *testing.T) {
	col := componenttest.NewCollector()
	f := start(t, nil, col)
	tc := dial(t, "tcp", f.tcp)
	fmt.Fprintf(tc, "<13>Mar 15 10:00:00 host app: via tcp\n")
	uc := dial(t, "udp", f.udp)
	fmt.Fprintf(uc, "<13>Mar 15 10:00:00 host app: via udp")
	evs := col.WaitFor(t, 2, 5*time.Second)
	got := strings.Join(messages(evs), ",")
	if !strings.Contains(got, "via tcp") || !strings.Contains(got, "via udp") {
		t.Errorf("messages = %s", got)
	}
}

func TestSourceTCPOversizedAndMalformed(t *testing.T) {
	col := componenttest.NewCollector()
	f := start(t, func(c *Config) {
		c.Protocols = []string{"tcp"}
		c.MaxMessageBytes = 32
		c.KeepOriginal = true
	}, col)
	c := dial(t, "tcp", f.tcp)
	long := "<13>Mar 15 10:00:00 host app: " + strings.Repeat("y", 100)
	fmt.Fprintf(c, "%s\n\x00\xff garbage\n<13>ok\n", long)
	_ = c.Close()
	evs := col.WaitFor(t, 3, 5*time.Second)
	if !evs[0].HasTag(tagTruncated) || evs[0].Message() != "yy" {
		// The kept prefix is 32 bytes: the 30-byte header and two y.
		t.Errorf("oversized event: message %q, tags %v", evs[0].Message(), evs[0].HasTag(tagTruncated))
	}
	if orig, _ := evs[0].GetString("event.original"); orig != long[:32] {
		t.Errorf("event.original = %q", orig)
	}
	if !evs[1].HasTag(syslogparse.TagParseFailure) || evs[1].Message() != "\x00\xff garbage" {
		t.Errorf("malformed event: %q", evs[1].Message())
	}
	if evs[2].Message() != "ok" {
		t.Errorf("message after malformed = %q", evs[2].Message())
	}
	if got := f.metric(t, "sluice_source_errors_total", "reason", "oversized"); got != 1 {
		t.Errorf("oversized = %v, want 1", got)
	}
	if got := f.metric(t, "sluice_source_errors_total", "reason", "parse"); got != 1 {
		t.Errorf("parse = %v, want 1", got)
	}
}

func TestSourceTLS(t *testing.T) {
	certFile, keyFile, clientCfg := writeCert(t)
	col := componenttest.NewCollector()
	f := start(t, func(c *Config) {
		c.Protocols = []string{"tcp"}
		c.TLS = config.TLSServer{Enabled: true, CertFile: certFile, KeyFile: keyFile}
	}, col)
	c, err := tls.Dial("tcp", f.tcp, clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	msg := `<13>1 - host app - - - over tls`
	fmt.Fprintf(c, "%d %s", len(msg), msg)
	_ = c.Close()
	if evs := col.WaitFor(t, 1, 5*time.Second); evs[0].Message() != "over tls" {
		t.Errorf("message = %q", evs[0].Message())
	}
}

func TestSourceSlowlorisAndConnectionCap(t *testing.T) {
	col := componenttest.NewCollector()
	f := start(t, func(c *Config) {
		c.Protocols = []string{"tcp"}
		c.MaxConnections = 3
		c.ReadTimeout = config.Duration(700 * time.Millisecond)
	}, col)
	idle1, idle2 := dial(t, "tcp", f.tcp), dial(t, "tcp", f.tcp)
	busy := dial(t, "tcp", f.tcp)
	began := time.Now()
	fmt.Fprintf(busy, "<13>served\n")
	col.WaitFor(t, 1, 5*time.Second)
	if d := time.Since(began); d >= 700*time.Millisecond {
		t.Errorf("busy client waited %v behind idle ones", d)
	}
	refused := dial(t, "tcp", f.tcp)
	_ = refused.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := refused.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("fourth connection not refused: %v", err)
	}
	if got := f.metric(t, "sluice_source_errors_total", "reason", "too_many_connections"); got != 1 {
		t.Errorf("too_many_connections = %v, want 1", got)
	}
	for _, c := range []net.Conn{idle1, idle2} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("idle connection not closed by read_timeout: %v", err)
		}
	}
}

// valve blocks Consume while closed, then passes batches on.
type valve struct {
	mu      sync.Mutex
	cond    *sync.Cond
	closed  bool
	blocked chan struct{}
	out     component.Consumer
}

func newValve(out component.Consumer) *valve {
	v := &valve{closed: true, out: out, blocked: make(chan struct{}, 1)}
	v.cond = sync.NewCond(&v.mu)
	return v
}

func (v *valve) Consume(ctx context.Context, b *event.Batch) error {
	v.mu.Lock()
	for v.closed {
		select {
		case v.blocked <- struct{}{}:
		default:
		}
		v.cond.Wait()
	}
	v.mu.Unlock()
	return v.out.Consume(ctx, b)
}

func (v *valve) open() { v.mu.Lock(); v.closed = false; v.mu.Unlock(); v.cond.Broadcast() }

// TestSourceBackpressure checks that a blocked consumer stops the reading of
// the TCP socket (the sender stalls) and that nothing is lost on resume.
func TestSourceBackpressure(t *testing.T) {
	col := componenttest.NewCollector()
	v := newValve(col)
	f := start(t, func(c *Config) { c.Protocols = []string{"tcp"} }, v)
	c := dial(t, "tcp", f.tcp)
	msg := `<13>1 - host app - - - ` + strings.Repeat("p", 70)
	frame := []byte(fmt.Sprintf("%d %s", len(msg), msg))
	written := 0
	for {
		_ = c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Write(frame)
		written += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if written > 512<<20 {
			t.Fatal("sender never stalled: the source kept reading")
		}
	}
	<-v.blocked
	if n := len(col.Events()); n != 0 {
		t.Fatalf("%d events passed a closed valve", n)
	}
	// Open the valve before completing a partly written frame: with the
	// socket buffers full, that write can only finish once the source reads.
	v.open()
	_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if rest := written % len(frame); rest != 0 {
		if _, err := c.Write(frame[rest:]); err != nil {
			t.Fatal(err)
		}
		written += len(frame) - rest
	}
	col.WaitFor(t, written/len(frame), 30*time.Second)
}

func TestSourceStartErrorReleasesTCP(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	c := NewConfig()
	c.Address = taken.LocalAddr().String()
	s, err := Spec.Build(c, componenttest.Env(t, "syslog_in", componenttest.NewCollector()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "udp") {
		t.Fatalf("Start = %v, want a udp listen error", err)
	}
	// The TCP listener opened first must be closed again.
	l, err := net.Listen("tcp", c.Address)
	if err != nil {
		t.Fatalf("tcp port still held after a failed Start: %v", err)
	}
	_ = l.Close()
	for range 2 {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	env := componenttest.Env(t, "syslog_in", componenttest.NewCollector())
	if _, err := Spec.Build(&struct{}{}, env); err == nil {
		t.Error("Build accepted a foreign config")
	}
	c := NewConfig()
	c.TLS = config.TLSServer{Enabled: true, CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}
	if _, err := Spec.Build(c, env); err == nil {
		t.Error("Build accepted missing certificate files")
	}
}

func writeCert(t *testing.T) (certFile, keyFile string, client *tls.Config) {
	c := componenttest.SelfSigned(t)
	return c.CertFile, c.KeyFile, c.Client
}
