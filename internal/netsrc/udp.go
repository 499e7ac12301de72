package netsrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Defaults of UDPConfig.
const (
	DefaultUDPBatchSize     = 256
	DefaultUDPFlushInterval = 5 * time.Millisecond
	DefaultUDPPollInterval  = 200 * time.Millisecond
)

// maxDatagram is the largest UDP payload (IPv6 without jumbograms).
const maxDatagram = 65535

// slabSize is the size of the arenas datagrams are copied into.
const slabSize = 32 << 10

// UDPConfig configures a UDPServer.
type UDPConfig struct {
	// Address is the host:port to listen on.
	Address string
	// MaxMessageBytes cuts longer datagrams (marked Truncated); 0 keeps
	// every datagram whole.
	MaxMessageBytes int
	// BatchSize flushes a batch when it holds this many datagrams.
	BatchSize int
	// FlushInterval flushes a batch this long after its first datagram.
	FlushInterval time.Duration
	// PollInterval is how often an idle read loop wakes up to notice Stop.
	PollInterval time.Duration
}

// Datagram is one UDP message.
type Datagram struct {
	// Text is the payload without a trailing line break. It points into an
	// arena that is never written again, so it may be kept.
	Text string
	// Addr is the sender's "ip:port".
	Addr string
	// Truncated is set when the payload was cut at MaxMessageBytes.
	Truncated bool
}

// UDPHandler handles one batch of datagrams. It is called from the read
// loop's goroutine, so while it blocks (in Consume) nothing is read and the
// kernel drops what overflows the socket buffer. msgs is reused after it
// returns; the strings in it are not. bytes is the payload size received.
// ctx is done only when Stop gives up waiting.
type UDPHandler func(ctx context.Context, msgs []Datagram, bytes int) error

// UDPServer reads datagrams and hands them over in batches.
//
// During a reload the runtime gives the same socket to the newer source, so
// Stop never closes the socket to interrupt a read: the loop polls with
// read deadlines (PollInterval) and notices Stop by a flag. Only after the
// loop has exited does it Close the PacketConn it got from env.Net, which
// with the runtime's pool (internal/netpool) drops this server's reference
// to the shared socket — the socket itself closes when its last user has
// gone — and with component.PlainListeners closes the socket.
type UDPServer struct {
	env    component.Env
	log    *slog.Logger
	m      *metrics.Source
	cfg    UDPConfig
	handle UDPHandler

	ctx    context.Context
	cancel context.CancelFunc

	stopping atomic.Bool
	mu       sync.Mutex
	conn     net.PacketConn
	started  bool
	done     chan struct{}
}

// NewUDPServer returns a server that will listen on cfg.Address through
// env.Net, count into m and pass batches to handle.
func NewUDPServer(env component.Env, m *metrics.Source, cfg UDPConfig, handle UDPHandler) *UDPServer {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultUDPBatchSize
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultUDPFlushInterval
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultUDPPollInterval
	}
	if cfg.MaxMessageBytes <= 0 || cfg.MaxMessageBytes > maxDatagram {
		cfg.MaxMessageBytes = maxDatagram
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &UDPServer{
		env: env, log: logger(env), m: m, cfg: cfg, handle: handle,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
}

// Start opens the socket and starts the read loop.
func (s *UDPServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("udp server already started")
	}
	conn, err := s.env.Net.ListenPacket("udp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("listen on udp %s: %w", s.cfg.Address, err)
	}
	s.conn = conn
	s.started = true
	go s.loop(conn)
	return nil
}

// PacketConn returns the socket, or nil before Start.
func (s *UDPServer) PacketConn() net.PacketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// Addr returns the local address, or nil before Start.
func (s *UDPServer) Addr() net.Addr {
	if c := s.PacketConn(); c != nil {
		return c.LocalAddr()
	}
	return nil
}

// Stop makes the read loop hand over its pending batch and exit, and waits
// for it; the loop then releases its PacketConn (see UDPServer). When ctx is
// done first, Stop cancels the handler's context and still waits for the
// loop, then returns ctx's error. Stop is safe to call more than once.
func (s *UDPServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.stopping.Store(true)
	s.mu.Unlock()
	if !started {
		s.cancel()
		return nil
	}
	select {
	case <-s.done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	<-s.done
	return fmt.Errorf("stop udp server on %s: in-flight batch abandoned: %w", s.cfg.Address, ctx.Err())
}

type addrPortReader interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
}

// udpReader reads datagrams and keeps the last sender's address string so
// that a steady sender costs no allocation per datagram.
type udpReader struct {
	conn    net.PacketConn
	ap      addrPortReader
	lastAP  netip.AddrPort
	lastStr string
}

func (r *udpReader) read(buf []byte) (int, string, error) {
	if r.ap != nil {
		n, ap, err := r.ap.ReadFromUDPAddrPort(buf)
		if err != nil {
			return n, "", err
		}
		if ap != r.lastAP || r.lastStr == "" {
			r.lastAP = ap
			r.lastStr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
		}
		return n, r.lastStr, nil
	}
	// A wrapped socket (the runtime's pool) only offers ReadFrom, which
	// allocates the address; at least do not format it every time.
	n, addr, err := r.conn.ReadFrom(buf)
	if err != nil {
		return n, "", err
	}
	switch a := addr.(type) {
	case *net.UDPAddr:
		if ap := a.AddrPort(); ap != r.lastAP || r.lastStr == "" {
			r.lastAP = ap
			r.lastStr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
		}
	case nil:
		r.lastStr = ""
	default:
		r.lastStr = a.String()
	}
	return n, r.lastStr, nil
}

func (s *UDPServer) loop(conn net.PacketConn) {
	defer close(s.done)
	// Release only once no read of ours is in flight; see UDPServer.
	defer conn.Close()
	r := &udpReader{conn: conn}
	r.ap, _ = conn.(addrPortReader)
	buf := make([]byte, maxDatagram+1)
	msgs := make([]Datagram, 0, s.cfg.BatchSize)
	var (
		arena    []byte
		bytes    int
		first    time.Time // arrival of the batch's first datagram
		deadline time.Time // the read deadline currently set
		errDelay time.Duration
	)
	flush := func() {
		if len(msgs) == 0 {
			return
		}
		if err := s.handle(s.ctx, msgs, bytes); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Debug("udp batch not consumed", "address", s.cfg.Address, "error", err)
		}
		clear(msgs)
		msgs = msgs[:0]
		bytes = 0
	}
	for {
		if s.stopping.Load() {
			flush()
			return
		}
		// Wake up to flush the pending batch in time, or to notice Stop.
		var want time.Time
		if len(msgs) > 0 {
			want = first.Add(s.cfg.FlushInterval)
		} else if now := time.Now(); deadline.Sub(now) < s.cfg.PollInterval/2 {
			want = now.Add(s.cfg.PollInterval)
		} else {
			want = deadline
		}
		if !want.Equal(deadline) {
			_ = conn.SetReadDeadline(want)
			deadline = want
		}
		n, addr, err := r.read(buf)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				if len(msgs) > 0 && !time.Now().Before(first.Add(s.cfg.FlushInterval)) {
					flush()
				}
				// Set the deadline again: during a reload another loop
				// shares the socket and may have moved it.
				deadline = time.Time{}
			case errors.Is(err, net.ErrClosed):
				// The runtime closed the socket: nothing more will come.
				flush()
				return
			default:
				// Transient (e.g. ICMP errors surfacing on some systems).
				errDelay = min(max(2*errDelay, time.Millisecond), 100*time.Millisecond)
				s.log.Debug("udp read failed", "address", s.cfg.Address, "error", err)
				time.Sleep(errDelay)
			}
			continue
		}
		errDelay = 0
		bytes += n
		p := buf[:n]
		truncated := false
		if len(p) > s.cfg.MaxMessageBytes {
			p = p[:s.cfg.MaxMessageBytes]
			truncated = true
		} else {
			p = trimLineBreak(p)
		}
		if len(p) == 0 {
			continue
		}
		if cap(arena)-len(arena) < len(p) {
			arena = make([]byte, 0, max(slabSize, len(p)))
		}
		start := len(arena)
		arena = append(arena, p...)
		if len(msgs) == 0 {
			first = time.Now()
		}
		msgs = append(msgs, Datagram{Text: unsafe.String(&arena[start], len(p)), Addr: addr, Truncated: truncated})
		if len(msgs) >= s.cfg.BatchSize {
			flush()
		}
	}
}

// trimLineBreak drops one trailing "\n" or "\r\n".
func trimLineBreak(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
		if n := len(p); n > 0 && p[n-1] == '\r' {
			p = p[:n-1]
		}
	}
	return p
}
