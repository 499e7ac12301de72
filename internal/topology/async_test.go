package topology

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

// TestPartialRejection: a sink that refuses some events of a batch gets
// them dead-lettered one by one with their own reasons; the sender hears
// Delivered.
func TestPartialRejection(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	h.sk.fail["strict"] = &component.PartialError{Rejected: []component.RejectedEvent{
		{Index: 0, Reason: "document_parsing_exception: first"},
		{Index: 2, Reason: "illegal_argument_exception: third"},
	}}
	if err := h.apply(`
sources: {in: {type: test}}
routes: [{destination: strict}]
destinations:
  strict: {type: test, dead_letter: {destination: dlq}}
  dlq: {type: test}
`); err != nil {
		t.Fatal(err)
	}
	ack, _ := h.push("in", map[string]any{"id": 1}, map[string]any{"id": 2}, map[string]any{"id": 3})
	if st := waitAck(t, ack); st != event.Delivered {
		t.Fatalf("ack %v, want delivered", st)
	}
	evs := h.sk.events("dlq")
	if len(evs) != 2 {
		t.Fatalf("dead letter got %d events, want 2", len(evs))
	}
	for i, want := range []struct {
		id     int64
		reason string
	}{{1, "first"}, {3, "third"}} {
		id, _ := evs[i].Get("id")
		reason, _ := evs[i].GetString("dead_letter.reason")
		if id != want.id || !strings.Contains(reason, want.reason) {
			t.Errorf("dead letter %d: id %v reason %q, want %d and %q", i, id, reason, want.id, want.reason)
		}
	}
}

// TestPartialRejectionWithoutDeadLetter: without a dead letter destination
// the refused events are dropped and the sender hears Rejected.
func TestPartialRejectionWithoutDeadLetter(t *testing.T) {
	h := newHarness(t)
	defer h.stop()
	h.sk.fail["strict"] = &component.PartialError{Rejected: []component.RejectedEvent{{Index: 1, Reason: "bad"}}}
	if err := h.apply(`
sources: {in: {type: test}}
routes: [{destination: strict}]
destinations:
  strict: {type: test}
`); err != nil {
		t.Fatal(err)
	}
	ack, _ := h.push("in", map[string]any{"id": 1}, map[string]any{"id": 2})
	if st := waitAck(t, ack); st != event.Rejected {
		t.Fatalf("ack %v, want rejected", st)
	}
}

// asyncSink completes WriteAsync calls when the test releases them, and
// fails the first one so that it is retried with Write.
type asyncSink struct {
	testSink
	max      int
	inflight atomic.Int64
	peak     atomic.Int64
	release  chan struct{}
	failed   atomic.Bool
	wg       sync.WaitGroup
}

func (a *asyncSink) MaxInFlight() int { return a.max }

func (a *asyncSink) WriteAsync(ctx context.Context, b *event.Batch, done func(error)) error {
	n := a.inflight.Add(1)
	for p := a.peak.Load(); n > p && !a.peak.CompareAndSwap(p, n); p = a.peak.Load() {
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		<-a.release
		a.inflight.Add(-1)
		if a.failed.CompareAndSwap(false, true) {
			done(errors.New("transient"))
			return
		}
		done(a.testSink.Write(ctx, b))
	}()
	return nil
}

// TestAsyncSink: an AsyncSink gets up to MaxInFlight batches at once, a
// failed one is retried with Write, and every batch is acknowledged.
func TestAsyncSink(t *testing.T) {
	h := newHarness(t)
	as := &asyncSink{max: 4, release: make(chan struct{})}
	h.reg.AddDestination(component.DestinationSpec{Type: "async", NewConfig: func() any { return &sinkCfg{} },
		Build: func(_ any, env component.Env) (component.Sink, error) {
			as.testSink = testSink{s: h.sk, name: env.Name}
			return as, nil
		}})
	if err := h.apply(`
sources: {in: {type: test}}
routes: [{destination: out}]
destinations:
  out: {type: async, batch: {max_events: 1}, retry: {initial_backoff: 1ms}}
`); err != nil {
		t.Fatal(err)
	}
	const n = 10
	var acks []<-chan event.Status
	for i := range n {
		ack, err := h.push("in", map[string]any{"id": i})
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack)
	}
	waitCount(t, func() int { return int(as.peak.Load()) }, as.max)
	close(as.release)
	for i, ack := range acks {
		if st := waitAck(t, ack); st != event.Delivered {
			t.Errorf("batch %d: ack %v", i, st)
		}
	}
	if got := len(h.sk.events("out")); got != n {
		t.Errorf("delivered %d events, want %d", got, n)
	}
	if p := as.peak.Load(); p > int64(as.max) {
		t.Errorf("%d batches in flight, more than MaxInFlight %d", p, as.max)
	}
	h.stop()
	as.wg.Wait()
}
