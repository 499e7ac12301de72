// Package componenttest has helpers for testing plugins: a Consumer that
// collects what a source produces, and an Env for building components.
package componenttest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// Collector is a Consumer that keeps clones of every event it receives and
// acknowledges each batch with Status (Delivered by default). Set Block to
// make Consume wait until ctx is done, to simulate a full queue.
type Collector struct {
	mu      sync.Mutex
	events  []event.Event
	sources []string
	batches int
	// Status is the acknowledgement given to every batch.
	Status event.Status
	// Block makes Consume block until ctx is done (backpressure).
	Block bool
	// Hold, when set, delays acknowledgements until Release is called.
	Hold    bool
	pending []*event.Batch
	notify  chan struct{}
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector { return &Collector{notify: make(chan struct{}, 1)} }

// Consume implements component.Consumer.
func (c *Collector) Consume(ctx context.Context, b *event.Batch) error {
	c.mu.Lock()
	block := c.Block
	c.mu.Unlock()
	if block {
		<-ctx.Done()
		b.Ack(event.Errored)
		b.Release()
		return ctx.Err()
	}
	c.mu.Lock()
	for i := range b.Events {
		c.events = append(c.events, b.Events[i].Clone())
		c.sources = append(c.sources, b.Source)
	}
	c.batches++
	if c.Hold {
		c.pending = append(c.pending, b)
		c.mu.Unlock()
	} else {
		st := c.Status
		c.mu.Unlock()
		b.Ack(st)
		b.Release()
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return nil
}

// SetBlock switches blocking on or off.
func (c *Collector) SetBlock(v bool) { c.mu.Lock(); c.Block = v; c.mu.Unlock() }

// Release acknowledges held batches with s.
func (c *Collector) Release(s event.Status) {
	c.mu.Lock()
	p := c.pending
	c.pending = nil
	c.Hold = false
	c.mu.Unlock()
	for _, b := range p {
		b.Ack(s)
		b.Release()
	}
}

// Events returns a copy of the events received so far.
func (c *Collector) Events() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event.Event(nil), c.events...)
}

// Batches returns how many batches were consumed.
func (c *Collector) Batches() int { c.mu.Lock(); defer c.mu.Unlock(); return c.batches }

// WaitFor waits until at least n events arrived or the timeout passes, and
// returns the events.
func (c *Collector) WaitFor(t testing.TB, n int, timeout time.Duration) []event.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		evs := c.Events()
		if len(evs) >= n {
			return evs
		}
		select {
		case <-c.notify:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("waited %v for %d events, got %d", timeout, n, len(evs))
			return nil
		}
	}
}

// Env returns an Env for building a component named name that sends to out.
func Env(t testing.TB, name string, out component.Consumer) component.Env {
	return component.Env{
		Name:    name,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: metrics.New(),
		DataDir: t.TempDir(),
		Out:     out,
		Net:     component.PlainListeners{},
	}
}

// MetricValue returns the value of the sample of family name whose labels
// include want (a counter's or a gauge's), or 0 when there is none.
func MetricValue(t testing.TB, m *metrics.Metrics, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			if c := s.GetCounter(); c != nil {
				return c.GetValue()
			}
			if g := s.GetGauge(); g != nil {
				return g.GetValue()
			}
		}
	}
	return 0
}
