package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/plugins"
	"github.com/sluicehq/sluice/internal/preview"
)

// runPreview is `sluice preview`: run sample events through a pipeline and
// show what each function did.
func runPreview(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", envOr("SLUICE_CONFIG", ""), "config file holding the pipeline")
	pipeline := fs.String("pipeline", "", "pipeline to run (may be left out when the config has one)")
	input := fs.String("input", "-", "sample file, or - for standard input")
	format := fs.String("format", "auto", "sample format: "+strings.Join(preview.Formats, ", "))
	source := fs.String("source", "", "source name the pipeline's if: conditions see as __source")
	output := fs.String("output", "text", "text, or json (the same document POST /api/v1/preview returns)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: sluice preview --config F [--pipeline NAME] [--input FILE|-] [--format auto|ndjson|lines|syslog] [--output text|json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "sluice preview: --config FILE is required")
		return 2
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "sluice preview: --output must be text or json, not %q\n", *output)
		return 2
	}
	reg := plugins.Registry()
	cfg, err := config.Load(*path, reg, config.Options{PipelinesOnly: true})
	if err != nil {
		fmt.Fprintln(stderr, err.Error())
		return 1
	}
	in := stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(stderr, "sluice preview: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	events, err := preview.Read(reg, in, *format, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "sluice preview: %s: %v\n", *input, err)
		return 1
	}
	res, err := preview.Run(preview.Options{Config: cfg, Registry: reg, Pipeline: *pipeline, Source: *source}, events)
	if err != nil {
		fmt.Fprintf(stderr, "sluice preview: %v\n", err)
		return 1
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = preview.Render(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice preview: %v\n", err)
		return 1
	}
	return 0
}
