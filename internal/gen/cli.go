package gen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Main runs `sluice gen` with args (without the subcommand name) and returns
// the process exit code: 0 when the run finished (also when stopped by ctx,
// i.e. Ctrl-C), 1 when it could not start or nothing could be sent, 2 for a
// usage error. The report goes to stdout, diagnostics to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, report, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice gen: %v\n", err)
		return 2
	}
	rep, err := Run(ctx, c)
	var sendErrs *SendErrors
	fatal := err != nil && !errors.As(err, &sendErrs)
	if fatal && rep == (Report{}) {
		fmt.Fprintf(stderr, "sluice gen: %v\n", err)
		return 1
	}
	if report == "json" {
		err = errors.Join(err, rep.WriteJSON(stdout))
	} else {
		err = errors.Join(err, rep.WriteText(stdout))
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice gen: %v\n", err)
	}
	if fatal || rep.Events == 0 && rep.Errors > 0 {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (Config, string, error) {
	var c Config
	fs := flag.NewFlagSet("sluice gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Format, "format", "syslog", "line format: "+strings.Join(Formats(), ", "))
	fs.StringVar(&c.To, "to", "", "target: tcp://host:port, udp://host:port or http://host:port/path (required)")
	fs.Float64Var(&c.Rate, "rate", 0, "events per second over all connections (0: as fast as possible)")
	fs.Uint64Var(&c.Count, "count", 0, "stop after this many events (0: no limit)")
	fs.DurationVar(&c.Duration, "duration", 0, "stop after this long, e.g. 30s (0: no limit)")
	fs.IntVar(&c.Connections, "connections", 1, "parallel TCP connections, UDP sockets or HTTP clients")
	fs.IntVar(&c.Batch, "batch", 0, "lines per write step or HTTP request (default 100 tcp, 1 udp, 500 http)")
	fs.BoolVar(&c.OctetCounting, "octet-counting", false, "frame TCP lines as 'LEN SP LINE' (RFC 6587) instead of newline-terminated")
	fs.StringVar(&c.RunID, "run-id", "", "prefix of the line ids RUN-SEQ (default random)")
	fs.IntVar(&c.Size, "size", DefaultSize, "raw line size in bytes")
	fs.Uint64Var(&c.Seed, "seed", 1, "content seed: the same seed gives the same lines")
	report := fs.String("report", "text", "report format at the end: text or json")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice gen --to URL [--format F] [--rate N] (--count N | --duration D) [flags]\n\n")
		fmt.Fprintf(stderr, "Sends realistic log lines, each with a unique id RUN-SEQ, and reports what was sent.\n\nFormats:\n")
		for _, f := range Formats() {
			fmt.Fprintf(stderr, "  %-11s %s\n", f, FormatDoc(f))
		}
		fmt.Fprintf(stderr, "\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, "", err
	}
	if fs.NArg() > 0 {
		return c, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *report != "text" && *report != "json" {
		return c, "", fmt.Errorf("--report must be text or json, not %q", *report)
	}
	if _, err := NewGenerator(c.Format, Options{}); err != nil {
		return c, "", err
	}
	if _, err := parseTarget(c.To); err != nil {
		return c, "", err
	}
	if c.Count == 0 && c.Duration <= 0 {
		return c, "", errors.New("set --count or --duration (or both)")
	}
	if c.Rate < 0 || c.Connections < 1 || c.Batch < 0 || c.Size < 1 {
		return c, "", errors.New("--rate, --batch must not be negative; --connections and --size must be at least 1")
	}
	return c, *report, nil
}
