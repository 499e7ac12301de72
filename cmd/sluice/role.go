package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/gen"
	"github.com/sluicehq/sluice/internal/plugins"
)

//go:embed default.yaml
var defaultConfig []byte

//go:embed store.yaml
var storeConfig []byte

type roleFlags struct {
	config, data, api, logFormat, logLevel string
	watch                                  time.Duration
	pprof                                  bool
	apiCert, apiKey                        string
	es                                     string
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func parseRoleFlags(name string, args []string, stderr io.Writer) (*roleFlags, error) {
	fs := flag.NewFlagSet("sluice "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &roleFlags{}
	fs.StringVar(&f.config, "config", envOr("SLUICE_CONFIG", ""), "config file")
	fs.StringVar(&f.data, "data", envOr("SLUICE_DATA", "./sluice-data"), "data directory")
	fs.StringVar(&f.api, "api-address", envOr("SLUICE_API_ADDRESS", ":9000"), "API listen address")
	fs.StringVar(&f.logFormat, "log-format", envOr("SLUICE_LOG_FORMAT", "text"), "log format: json or text")
	fs.StringVar(&f.logLevel, "log-level", envOr("SLUICE_LOG_LEVEL", "info"), "log level")
	watch, err := config.ParseDuration(envOr("SLUICE_WATCH_CONFIG", "2s"))
	if err != nil {
		return nil, fmt.Errorf("SLUICE_WATCH_CONFIG: %w", err)
	}
	fs.DurationVar(&f.watch, "watch-config", watch, "config file check interval (0 = off)")
	fs.StringVar(&f.apiCert, "api-tls-cert", envOr("SLUICE_API_TLS_CERT", ""), "serve the API over HTTPS with this certificate (PEM)")
	fs.StringVar(&f.apiKey, "api-tls-key", envOr("SLUICE_API_TLS_KEY", ""), "the API certificate's private key (PEM)")
	fs.StringVar(&f.es, "es-address", envOr("SLUICE_ES_ADDRESS", ":9200"), "Elasticsearch-compatible API listen address of the store (server and store; empty = off)")
	fs.BoolVar(&f.pprof, "pprof", envOr("SLUICE_PPROF", "") == "true", "serve Go profiles at /debug/pprof/ on the API listener")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return f, nil
}

func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("log format %q: use json or text", format)
}

func runRole(ctx context.Context, role string, args []string, stderr io.Writer) int {
	f, err := parseRoleFlags(role, args, stderr)
	if err != nil {
		if errors.Is(err, flagHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "sluice:", err)
		return 2
	}
	log, err := newLogger(f.logFormat, f.logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 2
	}
	if role == "worker" && f.config == "" {
		fmt.Fprintln(stderr, "sluice worker: --config (or SLUICE_CONFIG) is required")
		return 2
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	defer func() {
		signal.Stop(hup)
		close(hup) // no more sends after Stop: ends the relay
		<-relayDone
	}()
	def := defaultConfig
	if role == "store" {
		def = storeConfig
	}
	err = app.Run(ctx, app.Options{
		ConfigPath:    f.config,
		DefaultConfig: def,
		DataDir:       f.data,
		APIAddress:    f.api,
		Registry:      plugins.Registry(),
		Logger:        log.With("role", role),
		Version:       version,
		Reload:        reload,
		WatchInterval: f.watch,
		Pprof:         f.pprof,
		APITLSCert:    f.apiCert,
		APITLSKey:     f.apiKey,
		RunStore:      role == "server" || role == "store",
		ESAddress:     f.es,
	})
	if err != nil {
		var ce config.Errors
		if errors.As(err, &ce) {
			fmt.Fprintln(stderr, "sluice: the config has errors:")
			fmt.Fprintln(stderr, ce.Error())
			return 1
		}
		log.Error("sluice failed", "error", err)
		return 1
	}
	return 0
}

var flagHelp = flag.ErrHelp

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", envOr("SLUICE_CONFIG", ""), "config file to check")
	apiAddr := fs.String("api-address", envOr("SLUICE_API_ADDRESS", ":9000"), "API address the config must not clash with")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *path == "" && fs.NArg() == 1 {
		*path = fs.Arg(0)
	}
	if *path == "" {
		fmt.Fprintln(stderr, "sluice validate: --config FILE is required")
		return 2
	}
	cfg, err := app.ValidateFile(*path, plugins.Registry(), *apiAddr)
	if err != nil {
		fmt.Fprintln(stderr, err.Error())
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stdout, "%s: warning: %s\n", *path, w)
	}
	fmt.Fprintf(stdout, "%s: OK (%d sources, %d routes, %d pipelines, %d destinations)\n",
		*path, len(cfg.Sources), len(cfg.Routes), len(cfg.Pipelines), len(cfg.Destinations))
	return 0
}

func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return gen.Main(ctx, args, stdout, stderr)
}
