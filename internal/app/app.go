// Package app runs a Sluice process: the API listener, the topology with its
// config, and config reloads on SIGHUP or when the file changes. The roles
// (server, worker) are this with different defaults.
package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sluicehq/sluice/internal/api"
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/esapi"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/preview"
	"github.com/sluicehq/sluice/internal/search"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/topology"
)

// Options configures a process.
type Options struct {
	// ConfigPath is the config file; when empty, DefaultConfig is used.
	ConfigPath    string
	DefaultConfig []byte
	DataDir       string
	APIAddress    string
	Registry      *component.Registry
	Logger        *slog.Logger
	Version       string
	// Reload receives a value for each SIGHUP.
	Reload <-chan struct{}
	// WatchInterval is how often the config file is checked for changes
	// (0 turns watching off).
	WatchInterval time.Duration
	// Pprof serves Go profiles at /debug/pprof/ on the API listener.
	Pprof bool
	// APITLSCert and APITLSKey, when set, make the API listener HTTPS.
	APITLSCert, APITLSKey string
	// RunStore runs the embedded log store under DataDir/store: the store
	// destination writes to it and the API serves the search endpoints.
	RunStore bool
	// ESAddress, with RunStore, serves the Elasticsearch-compatible API
	// over the store there ("" = off).
	ESAddress string
}

// Run starts everything and blocks until ctx is done, then shuts down
// gracefully: sources stop, queues drain for up to the config's
// shutdown.drain_timeout.
func Run(ctx context.Context, opts Options) error {
	log := opts.Logger
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	m := metrics.New()
	reserved := []component.Address{{Network: "tcp", Address: opts.APIAddress}}
	load := func() (*config.Config, []byte, error) {
		data, name := opts.DefaultConfig, "default config"
		if opts.ConfigPath != "" {
			var err error
			data, err = os.ReadFile(opts.ConfigPath)
			if err != nil {
				return nil, nil, fmt.Errorf("read config: %w", err)
			}
			name = opts.ConfigPath
		}
		cfg, err := config.Parse(data, name, opts.Registry, config.Options{Reserved: reserved})
		return cfg, data, err
	}
	cfg, data, err := load()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	topts := topology.Options{Registry: opts.Registry, Metrics: m, Logger: log, DataDir: opts.DataDir}
	if opts.RunStore {
		st, err := store.Open(filepath.Join(opts.DataDir, "store"), storeOptions(cfg.Store, log.With("component", "store")))
		if err != nil {
			return fmt.Errorf("open the store: %w", err)
		}
		defer func() {
			if err := st.Close(); err != nil {
				log.Error("close the store", "error", err)
			}
		}()
		topts.Store = st
		(&search.API{Store: st}).Register(mux)
		if opts.ESAddress != "" {
			stopES, err := serveES(opts.ESAddress, st, log)
			if err != nil {
				return err
			}
			// Runs before the store closes (deferred later, so earlier).
			defer stopES()
		}
	}
	rt := topology.New(topts)
	mux.Handle("POST /api/v1/preview", preview.Handler(opts.Registry, rt.Config, log))
	apiSrv, err := api.Start(api.Options{Address: opts.APIAddress, Metrics: m, Logger: log, Ready: rt.Running, Version: opts.Version, Pprof: opts.Pprof, Mux: mux,
		TLSCertFile: opts.APITLSCert, TLSKeyFile: opts.APITLSKey})
	if err != nil {
		return fmt.Errorf("start api listener on %s: %w", opts.APIAddress, err)
	}
	if err := rt.Apply(ctx, cfg); err != nil {
		apiSrv.Stop(context.Background())
		return fmt.Errorf("start config: %w", err)
	}
	for _, w := range cfg.Warnings {
		log.Warn("config: " + w)
	}
	log.Info("sluice running", "config", cfg.File, "api", apiSrv.Addr().String(), "data", opts.DataDir,
		"sources", len(cfg.Sources), "routes", len(cfg.Routes), "destinations", len(cfg.Destinations))

	lastHash := sha256.Sum256(data)
	reload := func(why string) {
		cfg, data, err := load()
		if err != nil {
			m.Reload("failure")
			log.Error("config reload rejected; the running config stays in place", "trigger", why, "errors", err.Error())
			return
		}
		h := sha256.Sum256(data)
		if why == "file change" && bytes.Equal(h[:], lastHash[:]) {
			return
		}
		if err := rt.Apply(ctx, cfg); err != nil {
			m.Reload("failure")
			log.Error("config reload failed; the running config stays in place", "trigger", why, "error", err)
			return
		}
		lastHash = h
		if topts.Store != nil {
			reloadStore(topts.Store.(*store.Store), cfg.Store, log)
		}
		m.Reload("success")
		for _, w := range cfg.Warnings {
			log.Warn("config: " + w)
		}
		log.Info("config reloaded", "trigger", why, "sources", len(cfg.Sources), "routes", len(cfg.Routes), "destinations", len(cfg.Destinations))
	}

	var tick <-chan time.Time
	if opts.ConfigPath != "" && opts.WatchInterval > 0 {
		t := time.NewTicker(opts.WatchInterval)
		defer t.Stop()
		tick = t.C
	}
	var lastStat os.FileInfo
	if opts.ConfigPath != "" {
		lastStat, _ = os.Stat(opts.ConfigPath)
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-opts.Reload:
			reload("SIGHUP")
		case <-tick:
			st, err := os.Stat(opts.ConfigPath)
			if err != nil {
				continue
			}
			if lastStat == nil || !st.ModTime().Equal(lastStat.ModTime()) || st.Size() != lastStat.Size() {
				lastStat = st
				reload("file change")
			}
		}
	}

	drain := rt.Config().Shutdown.DrainTimeout.D()
	log.Info("shutting down: sources stop, queues drain", "drain_timeout", drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	rt.Stop(sctx)
	apiSrv.Stop(sctx)
	log.Info("stopped")
	return nil
}

// storeOptions turns the config's store section into the store's options.
func storeOptions(c config.Store, log *slog.Logger) store.Options {
	return store.Options{
		Logger:            log,
		Retention:         retentionRules(c),
		HighWatermark:     float64(c.Disk.HighWatermark),
		LowWatermark:      float64(c.Disk.LowWatermark),
		MaxFields:         c.Limits.MaxFields,
		MaxFieldNameBytes: c.Limits.MaxFieldNameBytes,
		MaxEventBytes:     int(c.Limits.MaxEventBytes),
		FlushInterval:     c.FlushInterval.D(),
	}
}

func retentionRules(c config.Store) []store.RetentionRule {
	var rules []store.RetentionRule
	for _, r := range c.Retention {
		rules = append(rules, store.RetentionRule{Indices: r.Indices, MaxAge: r.MaxAge.D(), MaxSize: int64(r.MaxSize)})
	}
	return rules
}

// reloadStore applies a reloaded store section: retention rules take
// effect at once; the other settings are read at start only.
func reloadStore(st *store.Store, c config.Store, log *slog.Logger) {
	if err := st.SetRetention(retentionRules(c)); err != nil {
		log.Error("store retention rules not applied", "error", err)
	}
	if o := st.Options(); o.HighWatermark != float64(c.Disk.HighWatermark) || o.LowWatermark != float64(c.Disk.LowWatermark) ||
		o.MaxFields != c.Limits.MaxFields || o.MaxFieldNameBytes != c.Limits.MaxFieldNameBytes ||
		o.MaxEventBytes != int(c.Limits.MaxEventBytes) || o.FlushInterval != c.FlushInterval.D() {
		log.Warn("config: store disk, limits and flush_interval changes take effect at the next start; retention rules are applied now")
	}
}

// ValidateFile loads the config at path and returns its errors.
func ValidateFile(path string, reg *component.Registry, apiAddress string) (*config.Config, error) {
	var reserved []component.Address
	if apiAddress != "" {
		reserved = []component.Address{{Network: "tcp", Address: apiAddress}}
	}
	return config.Load(path, reg, config.Options{Reserved: reserved})
}

// serveES serves the Elasticsearch-compatible API over st at address and
// returns the function that stops it.
func serveES(address string, st *store.Store, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("start the Elasticsearch-compatible listener on %s: %w", address, err)
	}
	srv := &http.Server{
		Handler:           esapi.New(&search.ESBackend{Store: st}, esapi.Options{}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("Elasticsearch-compatible listener stopped", "error", err)
		}
	}()
	log.Info("Elasticsearch-compatible API listening", "address", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
