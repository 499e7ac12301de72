package queue

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/metrics"
)

// MemoryOptions configures a memory queue.
type MemoryOptions struct {
	MaxEvents int
	MaxBytes  int64
	// DropNewest sheds new batches when full instead of blocking.
	DropNewest bool
	// Metrics, when set, gets depth gauges and drop counts.
	Metrics *metrics.Destination
}

type item struct {
	b  *event.Batch
	at time.Time
}

// Memory is a bounded in-memory queue. A batch bigger than the whole queue is
// still accepted when the queue is empty, so nothing is stuck forever.
type Memory struct {
	opts   MemoryOptions
	mu     sync.Mutex
	items  []item
	head   int
	events int
	bytes  int64
	closed bool
	// space and data are closed and replaced to wake waiters.
	space chan struct{}
	data  chan struct{}
}

// NewMemory returns an empty memory queue.
func NewMemory(opts MemoryOptions) *Memory {
	return &Memory{opts: opts, space: make(chan struct{}), data: make(chan struct{})}
}

func (q *Memory) full(n int, size int64) bool {
	if q.events == 0 {
		return false
	}
	return q.events+n > q.opts.MaxEvents || q.bytes+size > q.opts.MaxBytes
}

// Push implements Queue.
func (q *Memory) Push(ctx context.Context, b *event.Batch) error {
	n, size := len(b.Events), int64(b.Bytes)
	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		if !q.full(n, size) {
			break
		}
		if q.opts.DropNewest {
			q.mu.Unlock()
			if q.opts.Metrics != nil {
				q.opts.Metrics.Dropped("queue_full", n)
			}
			b.Ack(event.Delivered)
			b.Release()
			return nil
		}
		wait := q.space
		q.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		q.mu.Lock()
	}
	q.items = append(q.items, item{b: b, at: time.Now()})
	q.events += n
	q.bytes += size
	q.wake(&q.data)
	q.gauges()
	q.mu.Unlock()
	return nil
}

func (q *Memory) wake(ch *chan struct{}) {
	close(*ch)
	*ch = make(chan struct{})
}

func (q *Memory) gauges() {
	if m := q.opts.Metrics; m != nil {
		m.QueueEvents.Set(float64(q.events))
		m.QueueBytes.Set(float64(q.bytes))
	}
}

func (q *Memory) take() *event.Batch {
	it := q.items[q.head]
	q.items[q.head] = item{}
	q.head++
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	q.events -= len(it.b.Events)
	q.bytes -= int64(it.b.Bytes)
	q.wake(&q.space)
	q.gauges()
	return it.b
}

// Pop implements Queue.
func (q *Memory) Pop(ctx context.Context) (*event.Batch, error) {
	q.mu.Lock()
	for q.head == len(q.items) {
		if q.closed {
			q.mu.Unlock()
			return nil, io.EOF
		}
		wait := q.data
		q.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		q.mu.Lock()
	}
	b := q.take()
	q.mu.Unlock()
	return b, nil
}

// TryPop implements Queue.
func (q *Memory) TryPop(maxEvents int) *event.Batch {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) || len(q.items[q.head].b.Events) > maxEvents {
		return nil
	}
	return q.take()
}

// Close implements Queue.
func (q *Memory) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.wake(&q.data)
		q.wake(&q.space)
	}
	q.mu.Unlock()
}

// Stats implements Queue.
func (q *Memory) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := Stats{Events: q.events, Bytes: q.bytes}
	if q.head < len(q.items) {
		s.Oldest = q.items[q.head].at
	}
	return s
}
