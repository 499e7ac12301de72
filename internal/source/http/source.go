package http

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/metrics"
)

// source is a running http source. The handler (handler.go) runs on
// net/http's goroutines, one per connection; everything it shares is either
// immutable after build or safe for concurrent use (pools, metrics).
type source struct {
	cfg     Config
	name    string
	log     *slog.Logger
	out     component.Consumer
	listen  component.Listeners
	metrics *metrics.Source
	tls     *tls.Config
	// tokens are SHA-256 sums of the auth tokens, so that comparing them
	// takes the same time whatever the token's length.
	tokens [][sha256.Size]byte

	gzipReaders sync.Pool // *gzip.Reader
	zstdReaders sync.Pool // *zstd.Decoder, synchronous (no goroutines)
	readBufs    sync.Pool // *bytes.Buffer, for bodies of unknown length

	mu     sync.Mutex
	srv    *nethttp.Server
	ln     net.Listener
	addr   net.Addr
	ctx    context.Context // base of every request's context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// stopOnce makes Stop idempotent; stopErr is its result.
	stopOnce sync.Once
	stopErr  error
}

func build(cfg any, env component.Env) (component.Source, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("http source %s: config is %T, want *http.Config", env.Name, cfg)
	}
	if env.Out == nil {
		return nil, fmt.Errorf("http source %s: no consumer to send to", env.Name)
	}
	m := env.Metrics
	if m == nil {
		m = metrics.New()
	}
	s := &source{
		cfg:     *c,
		name:    env.Name,
		log:     env.Logger,
		out:     env.Out,
		listen:  env.Net,
		metrics: m.Source(env.Name),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.listen == nil {
		s.listen = component.PlainListeners{}
	}
	for _, t := range c.AuthTokens {
		s.tokens = append(s.tokens, sha256.Sum256([]byte(t)))
	}
	tc, err := c.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("http source %s: %w", env.Name, err)
	}
	s.tls = tc
	return s, nil
}

// Start opens the listening socket and serves in a goroutine.
func (s *source) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return fmt.Errorf("http source %s: already started", s.name)
	}
	ln, err := s.listen.Listen("tcp", s.cfg.Address)
	if err != nil {
		return fmt.Errorf("http source %s: listen on %s: %w", s.name, s.cfg.Address, err)
	}
	s.addr = ln.Addr()
	s.ln = newLimitListener(ln, s.cfg.MaxConnections, s.metrics.Connections, func() {
		s.metrics.Error("too_many_connections", 1)
	})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = &nethttp.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout.D(),
		ReadTimeout:       s.cfg.ReadTimeout.D(),
		IdleTimeout:       s.cfg.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         s.tls,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	srv, l := s.srv, s.ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		if s.tls != nil {
			err = srv.ServeTLS(l, "", "")
		} else {
			err = srv.Serve(l)
		}
		if err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			s.log.Error("http source stopped serving", "address", s.cfg.Address, "error", err)
		}
	}()
	s.log.Info("http source listening", "address", s.addr.String(), "tls", s.tls != nil)
	return nil
}

// Addr returns the address the source listens on, once started (useful
// with port 0 in tests).
func (s *source) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop stops accepting connections and waits for in-flight requests to be
// answered (they wait for their acknowledgements) or ctx to be done; then it
// closes the remaining connections and cancels the requests still waiting,
// which answer 503. It is safe to call twice.
func (s *source) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		srv := s.srv
		s.mu.Unlock()
		if srv == nil {
			return
		}
		if err := srv.Shutdown(ctx); err != nil {
			s.cancel()
			_ = srv.Close()
			s.stopErr = fmt.Errorf("http source %s: stop: %w", s.name, err)
		}
		s.cancel()
	})
	s.wg.Wait()
	return s.stopErr
}

// limitListener caps the number of open connections: Accept waits for a
// free slot. Closing it makes a waiting Accept return net.ErrClosed.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	conns     prometheus.Gauge
	onFull    func()
}

func newLimitListener(ln net.Listener, n int, conns prometheus.Gauge, onFull func()) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{}), conns: conns, onFull: onFull}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.onFull()
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.conns.Inc()
	return &limitConn{Conn: c, l: l}, nil
}

// Close closes the underlying listener: with the runtime's Listeners that
// unregisters this source and leaves the port open for its successor.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		<-c.l.slots
		c.l.conns.Dec()
	})
	return err
}

// CloseWrite lets net/http half-close the connection as it does for a
// plain *net.TCPConn.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
