// Package stdout implements the stdout destination: one line per event on
// the process's standard output, as NDJSON or as the message alone. It is
// meant for debugging pipelines and for running under a supervisor that
// collects standard output.
package stdout

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Spec registers the stdout destination.
var Spec = component.DestinationSpec{
	Type: "stdout",
	Doc: "Writes one line per event to standard output: NDJSON with internal fields left out " +
		"(format: json, the default) or the message field alone (format: text). Each batch is " +
		"written with one write call.",
	NewConfig: NewConfig,
	Build:     build,
}

// Config is the stdout destination's configuration.
type Config struct {
	// Format is "json" (one NDJSON object per event) or "text" (the message
	// field only).
	Format string `yaml:"format"`
}

// NewConfig returns a Config with every default set.
func NewConfig() any { return &Config{Format: "json"} }

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch c.Format {
	case "json", "text":
		return nil
	}
	return component.Errorf("format", "must be json or text, not %q", c.Format)
}

func build(cfg any, env component.Env) (component.Sink, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("stdout: config is %T, want *stdout.Config", cfg)
	}
	return newSink(c, env, os.Stdout), nil
}

// maxKeptBuffer is the largest buffer kept between batches.
const maxKeptBuffer = 4 << 20

// sink writes to out. The runtime calls Write from one goroutine unless a
// destination's concurrency is raised; mu keeps batches whole on out then.
type sink struct {
	out     io.Writer
	text    bool
	metrics *metrics.Destination

	mu  sync.Mutex
	buf []byte
}

func newSink(c *Config, env component.Env, out io.Writer) *sink {
	s := &sink{out: out, text: c.Format == "text"}
	if env.Metrics != nil {
		s.metrics = env.Metrics.Destination(env.Name)
	}
	return s
}

// Write encodes the whole batch and writes it with one call.
func (s *sink) Write(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := s.buf[:0]
	for i := range b.Events {
		ev := &b.Events[i]
		if s.text {
			if v, ok := ev.Lookup(event.MessageField); ok {
				buf = v.AppendText(buf)
			}
		} else {
			buf = event.AppendJSON(buf, ev, false)
		}
		buf = append(buf, '\n')
	}
	n, err := s.out.Write(buf)
	if s.metrics != nil && n > 0 {
		s.metrics.BytesOut.Add(float64(n))
	}
	if cap(buf) <= maxKeptBuffer {
		s.buf = buf
	} else {
		s.buf = nil
	}
	if err != nil {
		return fmt.Errorf("stdout: write: %w", err)
	}
	return nil
}

// Close does nothing: standard output belongs to the process.
func (s *sink) Close(context.Context) error { return nil }
