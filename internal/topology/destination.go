package topology

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/queue"
)

// destination is a running destination: its queue, its sink, and the driver
// goroutine that moves batches from one to the other.
type destination struct {
	cfg    *config.Destination
	q      queue.Queue
	sink   component.Sink
	m      *metrics.Destination
	log    *slog.Logger
	wg     sync.WaitGroup
	cancel context.CancelFunc
	ctx    context.Context
	// users counts routers that push to this destination.
	users int
}

func startDestination(cfg *config.Destination, reg *component.Registry, env component.Env) (*destination, error) {
	spec, ok := reg.Destination(cfg.Type)
	if !ok {
		return nil, errors.New("unknown destination type " + cfg.Type)
	}
	env.Name = cfg.Name
	env.Logger = env.Logger.With("destination", cfg.Name)
	sink, err := spec.Build(cfg.Config, env)
	if err != nil {
		return nil, err
	}
	m := env.Metrics.Destination(cfg.Name)
	d := &destination{
		cfg:  cfg,
		sink: sink,
		m:    m,
		log:  env.Logger,
		q: queue.NewMemory(queue.MemoryOptions{
			MaxEvents:  cfg.Queue.MaxEvents,
			MaxBytes:   int64(cfg.Queue.MaxBytes),
			DropNewest: cfg.Queue.WhenFull == "drop_newest",
			Metrics:    m,
		}),
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.wg.Add(1)
	go d.drive()
	return d, nil
}

// drive pops batches, merges small ones up to the batch size, and writes
// them, retrying retryable errors with exponential backoff and jitter.
func (d *destination) drive() {
	defer d.wg.Done()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		b, err := d.q.Pop(d.ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || d.ctx.Err() != nil {
				return
			}
			continue
		}
		b = d.fill(b)
		d.deliver(b)
		d.updateAge()
	}
}

func (d *destination) fill(b *event.Batch) *event.Batch {
	max := d.cfg.Batch.MaxEvents
	deadline := time.Time{}
	if d.cfg.Batch.Timeout > 0 {
		deadline = time.Now().Add(d.cfg.Batch.Timeout.D())
	}
	for len(b.Events) < max && b.Bytes < int(d.cfg.Batch.MaxBytes) {
		next := d.q.TryPop(max - len(b.Events))
		if next == nil {
			if deadline.IsZero() || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		b.Events = append(b.Events, next.Events...)
		b.Bytes += next.Bytes
		next.MoveAcks(b)
		next.Release()
	}
	return b
}

func (d *destination) updateAge() {
	st := d.q.Stats()
	if st.Oldest.IsZero() {
		d.m.QueueAge.Set(0)
	} else {
		d.m.QueueAge.Set(time.Since(st.Oldest).Seconds())
	}
}

func (d *destination) deliver(b *event.Batch) {
	backoff := d.cfg.Retry.InitialBackoff.D()
	for attempt := 0; ; attempt++ {
		err := d.sink.Write(d.ctx, b)
		if err == nil {
			d.m.EventsOut.Add(float64(len(b.Events)))
			b.Ack(event.Delivered)
			b.Release()
			return
		}
		if component.IsPermanent(err) {
			d.m.Permanent.Inc()
			d.m.Dropped("rejected", len(b.Events))
			d.log.Error("destination rejected a batch; its events are dropped", "events", len(b.Events), "error", err)
			b.Ack(event.Rejected)
			b.Release()
			return
		}
		d.m.Retryable.Inc()
		wait := backoff
		var ra interface{ RetryAfter() time.Duration }
		if errors.As(err, &ra) && ra.RetryAfter() > wait {
			wait = ra.RetryAfter()
		}
		wait = wait/2 + rand.N(wait/2+1)
		if attempt == 0 || attempt%10 == 0 {
			d.log.Warn("delivery failed; retrying", "attempt", attempt+1, "retry_in", wait, "error", err)
		}
		select {
		case <-time.After(wait):
		case <-d.ctx.Done():
			// Hard stop: the events were not delivered; tell the senders.
			b.Ack(event.Errored)
			b.Release()
			return
		}
		d.m.Retries.Inc()
		backoff = min(backoff*2, d.cfg.Retry.MaxBackoff.D())
	}
}

// stop closes the queue, lets the driver deliver what is queued until ctx is
// done, then abandons the rest (acknowledged as Errored) and closes the sink.
func (d *destination) stop(ctx context.Context) {
	d.q.Close()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		d.cancel()
		<-done
	}
	d.cancel()
	// Anything still queued (after a hard stop) is not delivered.
	n := 0
	for {
		b := d.q.TryPop(1 << 30)
		if b == nil {
			break
		}
		n += len(b.Events)
		b.Ack(event.Errored)
		b.Release()
	}
	if n > 0 {
		d.log.Warn("shutdown deadline passed with events still queued; they were not delivered", "events", n)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.sink.Close(cctx); err != nil {
		d.log.Error("close destination", "error", err)
	}
	d.m.QueueEvents.Set(0)
	d.m.QueueBytes.Set(0)
	d.m.QueueAge.Set(0)
}
