package netsrc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/metrics"
)

// ErrStopped is returned by Conn.Read once the server is stopping.
var ErrStopped = errors.New("server stopping")

// ErrIdleTimeout is returned by Conn.Read when the peer sent nothing for
// longer than TCPConfig.ReadTimeout.
var ErrIdleTimeout = errors.New("connection idle for longer than read_timeout")

// TCPConfig configures a TCPServer.
type TCPConfig struct {
	// Address is the host:port to listen on.
	Address string
	// TLS, when set, makes every connection a TLS server connection.
	TLS *tls.Config
	// MaxConnections caps the open connections; a connection over the cap
	// is closed at once and counted as a "too_many_connections" error.
	// 0 means no cap.
	MaxConnections int
	// ReadTimeout closes a connection that sends nothing for this long.
	// 0 means never.
	ReadTimeout time.Duration
}

// Handler serves one connection. It is called in the connection's own
// goroutine and should loop reading c until Read fails; the server closes c
// when Handler returns. ctx is done only when Stop gives up waiting for
// in-flight work: pass it to Consume. A returned error other than the end of
// the stream (see IsEndOfStream) is logged at debug level.
type Handler func(ctx context.Context, c *Conn) error

// TCPServer accepts TCP connections and serves each in its own goroutine.
// Start and Stop are safe to call from any goroutine; Stop may be called
// more than once.
type TCPServer struct {
	env    component.Env
	log    *slog.Logger
	m      *metrics.Source
	cfg    TCPConfig
	handle Handler

	ctx    context.Context // passed to handlers; canceled when Stop gives up
	cancel context.CancelFunc

	stopping atomic.Bool
	lastWarn atomic.Int64 // unix nanos of the last too-many-connections warning

	mu      sync.Mutex
	ln      net.Listener
	conns   map[*Conn]struct{}
	stopCh  chan struct{} // closed by the first Stop
	allDone chan struct{} // closed when every goroutine has exited
	wg      sync.WaitGroup
}

// NewTCPServer returns a server that will listen on cfg.Address through
// env.Net, count into m, and serve connections with handle. Nothing is
// opened before Start.
func NewTCPServer(env component.Env, m *metrics.Source, cfg TCPConfig, handle Handler) *TCPServer {
	ctx, cancel := context.WithCancel(context.Background())
	return &TCPServer{
		env:     env,
		log:     logger(env),
		m:       m,
		cfg:     cfg,
		handle:  handle,
		ctx:     ctx,
		cancel:  cancel,
		conns:   make(map[*Conn]struct{}),
		stopCh:  make(chan struct{}),
		allDone: make(chan struct{}),
	}
}

// Start opens the listening socket and starts accepting connections. It
// fails when the address cannot be opened, or when called twice.
func (s *TCPServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil || s.stopping.Load() {
		return errors.New("tcp server already started")
	}
	ln, err := s.env.Net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("listen on tcp %s: %w", s.cfg.Address, err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop(ln)
	return nil
}

// Addr returns the listening address, or nil before Start.
func (s *TCPServer) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Stop closes the listener, lets each connection finish consuming the batch
// it holds (no further reads happen), closes the connections and waits for
// every goroutine. When ctx is done first, it cancels the handlers' context
// so that blocked Consume calls return, waits for the goroutines to exit and
// returns ctx's error.
func (s *TCPServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopping.Load() {
		s.stopping.Store(true)
		close(s.stopCh)
		if s.ln != nil {
			_ = s.ln.Close()
		}
		go func() {
			s.wg.Wait()
			close(s.allDone)
		}()
	}
	// Interrupt blocked reads. Conn.Read checks stopping after setting its
	// own deadline, so no read can outlive this.
	now := time.Now()
	for c := range s.conns {
		_ = c.nc.SetReadDeadline(now)
	}
	s.mu.Unlock()

	select {
	case <-s.allDone:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	<-s.allDone
	return fmt.Errorf("stop tcp server on %s: in-flight batches abandoned: %w", s.cfg.Address, ctx.Err())
}

func (s *TCPServer) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("cannot accept connection; retrying", "address", s.cfg.Address, "error", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.stopCh:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		s.admit(nc)
	}
}

// admit registers a new connection and starts its goroutine, or refuses it.
func (s *TCPServer) admit(nc net.Conn) {
	s.mu.Lock()
	if s.stopping.Load() {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	if s.cfg.MaxConnections > 0 && len(s.conns) >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.m.Error("too_many_connections", 1)
		s.warnTooMany(nc.RemoteAddr())
		_ = nc.Close()
		return
	}
	if s.cfg.TLS != nil {
		// The handshake happens on the first Read, under the idle timeout,
		// in the connection's goroutine.
		nc = tls.Server(nc, s.cfg.TLS)
	}
	c := &Conn{nc: nc, srv: s}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.m.Connections.Inc()
	go s.serve(c)
}

func (s *TCPServer) warnTooMany(remote net.Addr) {
	now := time.Now().UnixNano()
	last := s.lastWarn.Load()
	if now-last < int64(10*time.Second) || !s.lastWarn.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("refusing connection: too many open connections; raise max_connections or spread clients over more workers",
		"address", s.cfg.Address, "remote", remote.String(), "max_connections", s.cfg.MaxConnections)
}

func (s *TCPServer) serve(c *Conn) {
	defer s.wg.Done()
	defer func() {
		_ = c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.m.Connections.Dec()
	}()
	defer func() {
		// A bug in a protocol handler must not take the process down.
		if r := recover(); r != nil {
			s.m.Error("internal", 1)
			s.log.Error("connection handler panicked; connection closed", "remote", c.RemoteAddrString(), "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if err := s.handle(s.ctx, c); err != nil && !IsEndOfStream(err) && !errors.Is(err, context.Canceled) {
		s.log.Debug("connection closed", "remote", c.RemoteAddrString(), "error", err)
	}
}

// Conn is one accepted connection. Its Read applies the server's idle
// timeout and returns ErrStopped once the server is stopping. A Conn is used
// by its handler's goroutine only.
type Conn struct {
	nc     net.Conn
	srv    *TCPServer
	remote string
}

// Read reads from the connection. It returns ErrIdleTimeout when the peer
// sent nothing for ReadTimeout and ErrStopped when the server is stopping.
func (c *Conn) Read(p []byte) (int, error) {
	if c.srv.stopping.Load() {
		return 0, ErrStopped
	}
	if t := c.srv.cfg.ReadTimeout; t > 0 {
		if err := c.nc.SetReadDeadline(time.Now().Add(t)); err != nil {
			return 0, err
		}
		// Stop sets a past deadline after setting stopping; checking again
		// after our own deadline means one of the two always wins.
		if c.srv.stopping.Load() {
			return 0, ErrStopped
		}
	}
	n, err := c.nc.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		if c.srv.stopping.Load() {
			err = ErrStopped
		} else {
			err = ErrIdleTimeout
		}
	}
	return n, err
}

// Write writes to the connection (for protocols that answer, like acks),
// bounded by ReadTimeout when one is set.
func (c *Conn) Write(p []byte) (int, error) {
	if t := c.srv.cfg.ReadTimeout; t > 0 {
		if err := c.nc.SetWriteDeadline(time.Now().Add(t)); err != nil {
			return 0, err
		}
	}
	return c.nc.Write(p)
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// RemoteAddrString returns the peer's address as "ip:port", computed once.
func (c *Conn) RemoteAddrString() string {
	if c.remote == "" {
		if a := c.nc.RemoteAddr(); a != nil {
			c.remote = a.String()
		}
	}
	return c.remote
}

// NetConn returns the underlying connection (a *tls.Conn with TLS). Reading
// it directly bypasses the idle timeout and Stop handling.
func (c *Conn) NetConn() net.Conn { return c.nc }

var _ io.ReadWriter = (*Conn)(nil)

func logger(env component.Env) *slog.Logger {
	if env.Logger != nil {
		return env.Logger
	}
	return slog.New(slog.DiscardHandler)
}
