// Package api serves the HTTP API every role exposes on port 9000:
// /api/v1/health (liveness), /api/v1/ready (has a running config),
// /api/v1/version and /metrics (Prometheus text).
package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/metrics"
)

// Options configures the API server.
type Options struct {
	Address string
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Ready reports whether the process has a running config.
	Ready   func() bool
	Version string
	// Mux, when set, gets the API's routes added, so roles can add theirs.
	Mux *http.ServeMux
	// Pprof serves the Go profiler at /debug/pprof/.
	Pprof bool
	// TLSCertFile and TLSKeyFile, when set, serve HTTPS.
	TLSCertFile, TLSKeyFile string
}

// Server is the running API listener.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	wg   sync.WaitGroup
	log  *slog.Logger
	once sync.Once
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Start listens on the address and serves in a goroutine it owns.
func Start(opts Options) (*Server, error) {
	mux := opts.Mux
	if mux == nil {
		mux = http.NewServeMux()
	}
	started := time.Now()
	mux.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "uptime_seconds": int(time.Since(started).Seconds())})
	})
	mux.HandleFunc("GET /api/v1/ready", func(w http.ResponseWriter, _ *http.Request) {
		if opts.Ready != nil && !opts.Ready() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": "no running config"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
	})
	mux.HandleFunc("GET /api/v1/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"version": opts.Version})
	})
	mux.Handle("GET /metrics", opts.Metrics.Handler())
	if opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	ln, err := net.Listen("tcp", opts.Address)
	if err != nil {
		return nil, err
	}
	s := &Server{
		ln:  ln,
		log: opts.Logger,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
		},
	}
	if opts.TLSCertFile != "" || opts.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("api tls: %w", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api server stopped", "error", err)
		}
	}()
	return s, nil
}

// Addr returns the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Stop shuts the server down gracefully; safe to call twice.
func (s *Server) Stop(ctx context.Context) {
	s.once.Do(func() {
		_ = s.srv.Shutdown(ctx)
		s.wg.Wait()
	})
}
