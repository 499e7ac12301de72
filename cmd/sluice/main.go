// Command sluice is the one binary of Sluice: a log pipeline and log store
// for Kubernetes. See `sluice help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	cmd, rest := args[0], args[1:]
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "server":
		return runRole(ctx, "server", rest, stderr)
	case "worker":
		return runRole(ctx, "worker", rest, stderr)
	case "store":
		return runRole(ctx, "store", rest, stderr)
	case "validate":
		return runValidate(rest, stdout, stderr)
	case "query":
		return runQuery(rest, stdout, stderr)
	case "preview":
		return runPreview(rest, os.Stdin, stdout, stderr)
	case "gen":
		return runGen(ctx, rest, stdout, stderr)
	case "queue":
		return runQueue(rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "sluice", version)
		return 0
	case "help", "--help", "-h":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Sluice: a log pipeline and log store for Kubernetes, in one binary.

Usage:
  sluice server   [flags]    run everything in one process (works with no config)
  sluice worker   --config F run a config: sources → routes → pipelines → destinations
  sluice store    [flags]    run the log store: Elasticsearch-compatible API (9200),
                             search API (9000), HTTP ingest (10080) by default
  sluice validate --config F check a config; prints every error with file:line
  sluice preview  --config F [--pipeline P] [--input FILE|-]
                             run sample events through a pipeline and show
                             what each function changed
  sluice query    'KQL' [--since 1h] [--index P] [--server URL]
                             search a running server's store from the terminal
  sluice gen      --to URL   send realistic log load (see sluice gen --help)
  sluice queue inspect|verify DIR
                             report on a disk queue (depth, oldest age, health)
  sluice version             print the version
  sluice help                this text

Flags of server, worker and store (each also read from the environment variable shown):
  --config FILE        config file (SLUICE_CONFIG); server and store run a default
                       config without one
  --data DIR           data directory (SLUICE_DATA; default ./sluice-data)
  --api-address ADDR   HTTP API and metrics listener (SLUICE_API_ADDRESS; default :9000)
  --log-format F       json or text (SLUICE_LOG_FORMAT; default text)
  --log-level L        debug, info, warn or error (SLUICE_LOG_LEVEL; default info)
  --watch-config D     how often to check the config file for changes, 0 = never
                       (SLUICE_WATCH_CONFIG; default 2s)
  --es-address ADDR    server and store: the store's Elasticsearch-compatible API (_bulk,
                       _search, _cat…) (SLUICE_ES_ADDRESS; default :9200; "" = off)
  --api-tls-cert F     serve the API over HTTPS with this certificate (SLUICE_API_TLS_CERT)
  --api-tls-key F      its private key (SLUICE_API_TLS_KEY)
  --pprof              serve Go profiles at /debug/pprof/ on the API listener
                       (SLUICE_PPROF=true; off by default: profiles reveal internals)

The Go runtime's GOMEMLIMIT (e.g. GOMEMLIMIT=200MiB) caps the heap softly;
set it to about 90% of a container's memory limit.

The config is reloaded on SIGHUP and when the file changes; a config with
errors is rejected and the running one stays. SIGTERM stops the sources,
drains the queues (shutdown.drain_timeout) and exits.

Ports (defaults): 9000 API and /metrics, 5140 syslog TCP+UDP, 10080 HTTP ingest.
The server's default config takes SLUICE_SYSLOG_ADDRESS and SLUICE_HTTP_ADDRESS
to move those two.
`)
}
