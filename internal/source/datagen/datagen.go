// Package datagen is the "datagen" source: it makes realistic events with
// the generators of package gen (the same formats as `sluice gen`), at a
// given rate, without any network. It is for demos, for trying a pipeline,
// and for benchmarking the engine without the cost of a protocol.
//
// json lines become events field by field (nested objects flattened into
// dotted names); k8s lines become a stream field plus, for JSON messages,
// the message's fields (msg and level renamed to message and log.level),
// else the message text; every other format becomes message = line with
// @timestamp = now. Every event carries a unique id RUN-SEQ, in the id field
// (json, JSON k8s messages) or as id=RUN-SEQ in the message.
package datagen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/gen"
	"github.com/sluicehq/sluice/internal/jsonparse"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Spec registers the datagen source.
var Spec = component.SourceSpec{
	Type: "datagen",
	Doc: "Generates realistic log events (" + strings.Join(gen.Formats(), ", ") + ") at a given rate, " +
		"each with a unique id, for demos and benchmarks. `format` (default json), `rate` events/s " +
		"(default 10, 0 = as fast as the pipeline takes them), `count` (0 = forever), `batch` (default 100).",
	NewConfig: func() any { return NewConfig() },
	Build: func(cfg any, env component.Env) (component.Source, error) {
		c, ok := cfg.(*Config)
		if !ok {
			return nil, fmt.Errorf("datagen: config is %T, not *datagen.Config", cfg)
		}
		return New(*c, env)
	},
}

// Config is the datagen source's config.
type Config struct {
	// Format is a gen format: syslog, syslog3164, json, apache, k8s, raw.
	Format string `yaml:"format"`
	// Rate is events per second; 0 makes events as fast as the pipeline
	// consumes them.
	Rate float64 `yaml:"rate"`
	// Count stops the source after this many events; 0 never stops.
	Count uint64 `yaml:"count"`
	// Batch is the most events per batch.
	Batch int `yaml:"batch"`
	// Size is the raw format's line length in bytes.
	Size int `yaml:"size"`
	// Seed selects the content.
	Seed uint64 `yaml:"seed"`
	// RunID prefixes the event ids (default: the source's name).
	RunID string `yaml:"run_id"`
}

// NewConfig returns a config with the defaults set.
func NewConfig() *Config {
	return &Config{Format: "json", Rate: 10, Batch: 100, Size: gen.DefaultSize, Seed: 1}
}

// Validate checks the config.
func (c *Config) Validate() error {
	if _, err := gen.NewGenerator(c.Format, gen.Options{}); err != nil {
		return component.Errorf("format", "%w", err)
	}
	if c.Rate < 0 {
		return component.Errorf("rate", "must not be negative, got %g", c.Rate)
	}
	if c.Batch < 1 || c.Batch > 100000 {
		return component.Errorf("batch", "must be between 1 and 100000, got %d", c.Batch)
	}
	if c.Size < 1 || c.Size > 1<<20 {
		return component.Errorf("size", "must be between 1 and 1048576, got %d", c.Size)
	}
	return nil
}

// Source generates events into env.Out from one goroutine it owns.
type Source struct {
	cfg     Config
	env     component.Env
	gen     gen.Generator
	metrics *metrics.Source

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// New builds a datagen source from a validated config.
func New(c Config, env component.Env) (*Source, error) {
	if c.RunID == "" {
		c.RunID = env.Name
	}
	g, err := gen.NewGenerator(c.Format, gen.Options{RunID: c.RunID, Seed: c.Seed, Size: c.Size})
	if err != nil {
		return nil, fmt.Errorf("datagen: %w", err)
	}
	if env.Out == nil {
		return nil, errors.New("datagen: no consumer to send to")
	}
	s := &Source{cfg: c, env: env, gen: g}
	if env.Metrics != nil {
		s.metrics = env.Metrics.Source(env.Name)
	}
	return s, nil
}

// Start starts the generating goroutine. ctx only bounds the start itself.
func (s *Source) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("datagen: started twice")
	}
	s.started = true
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go s.run(runCtx)
	return nil
}

// Stop stops generating and waits for the batch in flight to be consumed,
// or for ctx to end. It is safe to call twice, and before Start.
func (s *Source) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("datagen: stop: %w", ctx.Err())
	}
}

// run makes batches until the count is reached or ctx ends. With a rate it
// wakes every tick and makes what is due since the start, catching up at
// most one second's worth after the pipeline was slow.
func (s *Source) run(ctx context.Context) {
	defer close(s.done)
	var (
		seq      uint64
		produced uint64 // events due so far that were made (rate mode)
		buf      []byte
		start    = time.Now()
		tick     time.Duration
		catchUp  uint64
	)
	if s.cfg.Rate > 0 {
		tick = min(max(time.Duration(float64(time.Second)/s.cfg.Rate), 10*time.Millisecond), time.Second)
		catchUp = max(uint64(s.cfg.Batch), uint64(s.cfg.Rate))
	}
	for ctx.Err() == nil {
		if s.cfg.Count > 0 && seq >= s.cfg.Count {
			return
		}
		due := uint64(s.cfg.Batch)
		if s.cfg.Rate > 0 {
			expected := uint64(time.Since(start).Seconds() * s.cfg.Rate)
			if expected-produced > catchUp {
				produced = expected - catchUp
			}
			due = expected - produced
			if due == 0 {
				t := time.NewTimer(tick)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return
				}
				continue
			}
		}
		for due > 0 && ctx.Err() == nil {
			n := min(due, uint64(s.cfg.Batch))
			if s.cfg.Count > 0 {
				n = min(n, s.cfg.Count-seq)
			}
			if n == 0 {
				return
			}
			var b *event.Batch
			b, buf = s.makeBatch(buf, seq+1, int(n))
			seq += n
			due -= n
			produced += n
			if err := s.env.Out.Consume(ctx, b); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.env.Logger.Warn("datagen: batch not consumed", "error", err)
			}
		}
	}
}

// makeBatch generates n events from sequence number first. Lines are made
// in the reusable buf; the events point into one copy of it per batch, which
// is never touched again.
func (s *Source) makeBatch(buf []byte, first uint64, n int) (*event.Batch, []byte) {
	now := time.Now()
	ends := make([]int, n)
	buf = buf[:0]
	for i := range n {
		buf = s.gen.Append(buf, first+uint64(i), now)
		ends[i] = len(buf)
	}
	b := event.NewBatch(s.env.Name)
	b.Bytes = len(buf)
	var text string
	var data []byte
	if s.cfg.Format == "json" || s.cfg.Format == "k8s" {
		data = bytes.Clone(buf)
	} else {
		text = string(buf)
	}
	off := 0
	for _, end := range ends {
		var ev event.Event
		switch s.cfg.Format {
		case "json":
			ev = s.jsonEvent(data[off:end:end], now)
		case "k8s":
			ev = s.criEvent(data[off:end:end], now)
		default:
			ev = event.New(now, text[off:end])
		}
		b.Events = append(b.Events, ev)
		off = end
	}
	if s.metrics != nil {
		s.metrics.EventsIn.Add(float64(n))
		s.metrics.BytesIn.Add(float64(len(buf)))
	}
	return b, buf
}

func (s *Source) jsonEvent(line []byte, now time.Time) event.Event {
	var ev event.Event
	if err := jsonparse.ParseObject(&ev, line); err != nil {
		// Generated lines are valid JSON; this guards a generator bug.
		s.parseError()
		ev = event.New(now, string(line))
	}
	if ev.Time.IsZero() {
		ev.Time = now
	}
	return ev
}

// criEvent parses "TS STREAM TAG MSG" just enough for a useful event.
func (s *Source) criEvent(line []byte, now time.Time) event.Event {
	var ev event.Event
	_, rest, ok1 := bytes.Cut(line, []byte{' '})
	stream, rest, ok2 := bytes.Cut(rest, []byte{' '})
	_, msg, ok3 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || !ok3 {
		s.parseError()
		return event.New(now, string(line))
	}
	if len(msg) > 0 && msg[0] == '{' && jsonparse.ParseObject(&ev, msg) == nil {
		ev.Rename("msg", event.MessageField)
		ev.Rename("level", "log.level")
	} else {
		ev = event.New(now, string(msg))
	}
	ev.Time = now
	if string(stream) == "stderr" {
		ev.SetString("stream", "stderr")
	} else {
		ev.SetString("stream", "stdout")
	}
	return ev
}

func (s *Source) parseError() {
	if s.metrics != nil {
		s.metrics.Error("parse", 1)
	}
}
