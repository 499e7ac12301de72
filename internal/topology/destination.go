package topology

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/queue"
	"github.com/sluicehq/sluice/internal/queue/disk"
)

// destination is a running destination: its queue, its sink, and the driver
// goroutine that moves batches from one to the other.
type destination struct {
	cfg  *config.Destination
	q    queue.Queue
	sink component.Sink
	m    *metrics.Destination
	log  *slog.Logger
	wg   sync.WaitGroup
	// popCtx ends the driver's wait for the next batch (a graceful stop);
	// ctx ends deliveries in progress too (a hard stop).
	popCtx    context.Context
	popCancel context.CancelFunc
	ctx       context.Context
	cancel    context.CancelFunc
	// inflight holds a token per batch submitted to an AsyncSink and not
	// yet done; the driver makes it on first use.
	inflight chan struct{}
	// dlq is where permanently rejected batches go (nil: they are dropped).
	// The runtime sets it on every Apply, while the driver runs.
	dlq atomic.Pointer[destination]
}

// newQueue makes the queue a destination's config asks for. Disk queues live
// in DATA/queues/NAME.
func newQueue(cfg *config.Destination, env component.Env, m *metrics.Destination) (queue.Queue, error) {
	q := cfg.Queue
	if q.Type == "disk" {
		return disk.Open(queueDir(env.DataDir, cfg.Name), disk.Options{
			MaxBytes:      int64(q.MaxBytes),
			MaxEvents:     q.MaxEvents,
			DropNewest:    q.WhenFull == "drop_newest",
			FsyncInterval: q.Fsync.Interval.D(),
			FsyncEvery:    q.Fsync.Every,
			GroupCommit:   true,
			Compression:   q.Compression,
			SegmentBytes:  int64(q.SegmentBytes),
			Metrics:       m,
			Logger:        env.Logger.With("destination", cfg.Name, "queue", "disk"),
		})
	}
	return queue.NewMemory(queue.MemoryOptions{
		MaxEvents:  q.MaxEvents,
		MaxBytes:   int64(q.MaxBytes),
		DropNewest: q.WhenFull == "drop_newest",
		Metrics:    m,
	}), nil
}

func queueDir(dataDir, name string) string { return filepath.Join(dataDir, "queues", name) }

// newDestination builds the sink of a destination; start runs it. q, when
// not nil, is an existing queue to take over (a destination whose sink
// settings changed but whose queue settings did not).
func newDestination(cfg *config.Destination, reg *component.Registry, env component.Env, q queue.Queue) (*destination, error) {
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
	if q == nil {
		if q, err = newQueue(cfg, env, m); err != nil {
			_ = sink.Close(context.Background())
			return nil, fmt.Errorf("open queue: %w", err)
		}
	}
	return &destination{cfg: cfg, sink: sink, m: m, log: env.Logger, q: q}, nil
}

// start starts the driver goroutine.
func (d *destination) start() {
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.popCtx, d.popCancel = context.WithCancel(d.ctx)
	d.wg.Add(1)
	go d.drive()
}

// discard releases a destination that was built but never started.
func (d *destination) discard() { d.closeSink() }

// drive pops batches, merges small ones up to the batch size, and writes
// them, retrying retryable errors with exponential backoff and jitter.
func (d *destination) drive() {
	defer d.wg.Done()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for d.popCtx.Err() == nil {
		b, err := d.q.Pop(d.popCtx)
		if err != nil {
			if errors.Is(err, io.EOF) || d.popCtx.Err() != nil {
				return
			}
			continue
		}
		b = d.fill(b)
		if as, ok := d.sink.(component.AsyncSink); ok {
			d.submit(as, b)
		} else {
			d.deliver(b)
		}
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

// submit hands b to an asynchronous sink, waiting while MaxInFlight
// batches are outstanding. A batch that fails is retried with Write on a
// goroutine of its own (owned by d.wg), so the others keep flowing.
func (d *destination) submit(as component.AsyncSink, b *event.Batch) {
	if d.inflight == nil {
		d.inflight = make(chan struct{}, max(as.MaxInFlight(), 1))
	}
	select {
	case d.inflight <- struct{}{}:
	case <-d.ctx.Done():
		b.Ack(event.Errored)
		b.Release()
		return
	}
	d.wg.Add(1)
	done := func(err error) {
		if err == nil {
			d.m.EventsOut.Add(float64(len(b.Events)))
			b.Ack(event.Delivered)
			b.Release()
			<-d.inflight
			d.wg.Done()
			return
		}
		go func() {
			defer d.wg.Done()
			defer func() { <-d.inflight }()
			d.retry(b, err)
		}()
	}
	if err := as.WriteAsync(d.ctx, b, done); err != nil {
		done(err)
	}
}

// deliver writes b until it is delivered, rejected or the destination is
// stopped hard.
func (d *destination) deliver(b *event.Batch) { d.retry(b, d.sink.Write(d.ctx, b)) }

// retry handles the outcome err of a write of b, writing again with
// backoff while the error is retryable.
func (d *destination) retry(b *event.Batch, err error) {
	backoff := d.cfg.Retry.InitialBackoff.D()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			err = d.sink.Write(d.ctx, b)
		}
		if err == nil {
			d.m.EventsOut.Add(float64(len(b.Events)))
			b.Ack(event.Delivered)
			b.Release()
			return
		}
		var partial *component.PartialError
		if errors.As(err, &partial) {
			d.m.Permanent.Inc()
			d.rejectSome(b, partial)
			return
		}
		if component.IsPermanent(err) {
			d.m.Permanent.Inc()
			if d.deadLetter(b, err) {
				return
			}
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

// rejectSome acknowledges the events of b that were delivered and hands
// the rejected ones, each with its reason, to the dead letter destination
// (or drops and counts them).
func (d *destination) rejectSome(b *event.Batch, p *component.PartialError) {
	rej := event.NewBatch(b.Source)
	b.ShareAcks(rej)
	reasons := make([]string, 0, len(p.Rejected))
	for _, r := range p.Rejected {
		if r.Index < 0 || r.Index >= len(b.Events) {
			continue
		}
		rej.Events = append(rej.Events, b.Events[r.Index])
		reasons = append(reasons, r.Reason)
	}
	n := len(rej.Events)
	rej.Bytes = b.Bytes * n / max(len(b.Events), 1)
	d.m.EventsOut.Add(float64(len(b.Events) - n))
	b.Ack(event.Delivered)
	b.Release()
	if n == 0 {
		rej.Ack(event.Delivered)
		rej.Release()
		return
	}
	if d.deadLetterEach(rej, reasons) {
		return
	}
	d.m.Dropped("rejected", n)
	d.log.Error("destination rejected events; they are dropped", "events", n, "first_reason", reasons[0])
	rej.Ack(event.Rejected)
	rej.Release()
}

// deadLetter hands a rejected batch to the dead letter destination, with
// the reason in dead_letter.* fields; its acknowledgements go along, so the
// sender hears how the dead letter destination fared. It reports false when
// there is no dead letter destination or it refuses the batch.
func (d *destination) deadLetter(b *event.Batch, cause error) bool {
	dl := d.dlq.Load()
	if dl == nil {
		return false
	}
	reasons := make([]string, len(b.Events))
	for i := range reasons {
		reasons[i] = cause.Error()
	}
	return d.deadLetterEach(b, reasons)
}

// deadLetterEach is deadLetter with a reason per event.
func (d *destination) deadLetterEach(b *event.Batch, reasons []string) bool {
	dl := d.dlq.Load()
	if dl == nil {
		return false
	}
	now := event.Time(time.Now())
	for i := range b.Events {
		ev := &b.Events[i]
		ev.SetString("dead_letter.reason", reasons[i])
		ev.SetString("dead_letter.destination", d.cfg.Name)
		ev.SetValue("dead_letter.time", now)
	}
	n := len(b.Events)
	if err := dl.q.Push(d.ctx, b); err != nil {
		d.log.Error("dead letter destination refused rejected events", "dead_letter", dl.cfg.Name, "error", err)
		return false
	}
	d.m.DeadLetter.Add(float64(n))
	d.log.Warn("destination rejected events; sent to the dead letter destination", "events", n, "dead_letter", dl.cfg.Name, "first_reason", reasons[0])
	return true
}

// detach stops the driver without closing the queue, so a new destination
// can take the queue over: the driver finishes the batch it is delivering
// (until ctx is done; then that batch is acknowledged as Errored) and the
// sink is closed.
func (d *destination) detach(ctx context.Context) {
	d.popCancel()
	d.waitDriver(ctx)
	d.closeSink()
}

// waitDriver waits for the driver to exit; when ctx is done first, it
// cancels the delivery in progress (acknowledged Errored) and waits for that.
func (d *destination) waitDriver(ctx context.Context) {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		d.cancel()
		<-done
	}
	d.cancel()
}

func (d *destination) closeSink() {
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.sink.Close(cctx); err != nil {
		d.log.Error("close destination", "error", err)
	}
}

// stop stops the destination. A memory queue is closed and delivered until
// ctx is done; what is left then is abandoned (acknowledged as Errored). A
// disk queue is delivered the same way when drainDisk is set; otherwise the
// driver stops at once and the queue is closed with its data on disk, for
// the next start to resume.
func (d *destination) stop(ctx context.Context, drainDisk bool) {
	if d.cfg.Queue.Type == "disk" && !drainDisk {
		// The batch being written is durable already: stop at once, it
		// stays unacknowledged and is delivered after the next start.
		d.cancel()
		d.wg.Wait()
		d.closeSink()
		d.q.Close()
		if st := d.q.Stats(); st.Events > 0 {
			d.log.Info("events stay in the disk queue for the next start", "events", st.Events, "bytes", st.Bytes)
		}
		return
	}
	d.q.Close()
	d.waitDriver(ctx)
	if d.cfg.Queue.Type == "disk" {
		// Undelivered records stay on disk for the next start.
		d.closeSink()
		return
	}
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
	d.closeSink()
	d.m.QueueEvents.Set(0)
	d.m.QueueBytes.Set(0)
	d.m.QueueAge.Set(0)
}
