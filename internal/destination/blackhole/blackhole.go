// Package blackhole implements the blackhole destination: it accepts every
// batch, counts its events and throws them away. It is for benchmarks,
// load tests, and routes whose events are only wanted in metrics.
package blackhole

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Spec registers the blackhole destination.
var Spec = component.DestinationSpec{
	Type: "blackhole",
	Doc: "Discards every event and counts it. With print_every set, logs the number of events " +
		"and the rate received at that interval.",
	NewConfig: NewConfig,
	Build:     build,
}

// Config is the blackhole destination's configuration.
type Config struct {
	// PrintEvery, when above zero, logs a line with the events received and
	// their rate at this interval.
	PrintEvery config.Duration `yaml:"print_every"`
}

// NewConfig returns a Config with every default set.
func NewConfig() any { return &Config{} }

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.PrintEvery < 0 {
		return component.Errorf("print_every", "must not be negative (0 disables the rate line)")
	}
	if c.PrintEvery > 0 && c.PrintEvery.D() < 100*time.Millisecond {
		return component.Errorf("print_every", "must be at least 100ms, not %v", c.PrintEvery.D())
	}
	return nil
}

func build(cfg any, env component.Env) (component.Sink, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("blackhole: config is %T, want *blackhole.Config", cfg)
	}
	return newSink(c, env), nil
}

// sink counts what it discards. The counters are atomic because the
// printer goroutine reads them while Write adds to them.
type sink struct {
	events  atomic.Int64
	bytes   atomic.Int64
	batches atomic.Int64
	metrics *metrics.Destination
	logger  *slog.Logger
	name    string

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func newSink(c *Config, env component.Env) *sink {
	s := &sink{logger: env.Logger, name: env.Name, stop: make(chan struct{})}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if env.Metrics != nil {
		s.metrics = env.Metrics.Destination(env.Name)
	}
	if every := c.PrintEvery.D(); every > 0 {
		s.wg.Add(1)
		go s.printer(every)
	}
	return s
}

// Write counts b's events and bytes (as received, b.Bytes) and drops them.
func (s *sink) Write(_ context.Context, b *event.Batch) error {
	s.events.Add(int64(len(b.Events)))
	s.batches.Add(1)
	if b.Bytes > 0 {
		s.bytes.Add(int64(b.Bytes))
		if s.metrics != nil {
			s.metrics.BytesOut.Add(float64(b.Bytes))
		}
	}
	return nil
}

// printer logs the totals and the rate since the previous line until Close.
func (s *sink) printer(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := s.events.Load(), time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			n := s.events.Load()
			rate := float64(n-last) / now.Sub(lastAt).Seconds()
			s.logger.Info("blackhole rate", "destination", s.name, "events", n,
				"events_per_second", int64(rate), "bytes", s.bytes.Load(), "batches", s.batches.Load())
			last, lastAt = n, now
		}
	}
}

// Close stops the rate printer. It is safe to call twice.
func (s *sink) Close(context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.wg.Wait()
	return nil
}
