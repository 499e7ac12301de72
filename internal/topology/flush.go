package topology

import (
	"context"
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
)

// flushTimeout bounds how long a flush waits for queue space.
const flushTimeout = 5 * time.Second

// flushLoop calls one Flusher function on its interval and hands what it
// emits to inject. Stopping it runs a final flush.
type flushLoop struct {
	fn     component.Flusher
	source string
	inject func(ctx context.Context, b *event.Batch) error
	log    *slog.Logger
	stop   chan struct{}
	done   chan struct{}
}

// startFlushers starts a loop for every function of p that flushes on a
// timer. Their events enter through inject (the router's consume) as a batch
// whose source is "pipeline:NAME".
func (p *pipeline) startFlushers(inject func(ctx context.Context, b *event.Batch) error, log *slog.Logger) {
	for _, s := range p.steps {
		f, ok := s.fn.(component.Flusher)
		if !ok {
			continue
		}
		l := &flushLoop{fn: f, source: "pipeline:" + p.name, inject: inject, log: log.With("pipeline", p.name),
			stop: make(chan struct{}), done: make(chan struct{})}
		p.flushers = append(p.flushers, l)
		go l.run()
	}
}

// stopFlushers stops every loop after its final flush. It is safe to call
// twice.
func (p *pipeline) stopFlushers() {
	for _, l := range p.flushers {
		select {
		case <-l.stop:
		default:
			close(l.stop)
		}
		<-l.done
	}
}

func (l *flushLoop) run() {
	defer close(l.done)
	every := l.fn.FlushInterval()
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.flush(time.Now(), true)
			return
		case now := <-t.C:
			l.flush(now, false)
		}
	}
}

func (l *flushLoop) flush(now time.Time, final bool) {
	b := event.NewBatch(l.source)
	l.fn.Flush(now, final, func(e event.Event) { b.Events = append(b.Events, e) })
	if len(b.Events) == 0 {
		b.Release()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	n := len(b.Events)
	if err := l.inject(ctx, b); err != nil {
		l.log.Warn("flushed events not queued", "events", n, "error", err)
	}
}
