package event

import (
	"sync"
	"sync/atomic"
)

// Status is the outcome of delivering a batch. Worse outcomes have higher
// values; when copies of one source batch end differently, the worst wins.
type Status int32

const (
	// Delivered means delivered, durably queued, or dropped on purpose.
	Delivered Status = iota
	// Errored means a retryable failure: the sender should send again.
	Errored
	// Rejected means a permanent failure: sending again will not help.
	Rejected
)

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Errored:
		return "errored"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Acker collects the outcomes of every copy of one source batch and reports
// the worst of them once, when the last copy is done.
//
// A new Acker holds one reference, the source's. Whoever splits or copies a
// batch calls Add for each new holder; every holder calls Done exactly once.
// Done may be called from any goroutine.
type Acker struct {
	pending atomic.Int32
	worst   atomic.Int32
	done    func(Status)
}

// NewAcker returns an Acker holding one reference that calls done with the
// worst status once every reference is done. done must not block for long.
func NewAcker(done func(Status)) *Acker {
	a := &Acker{done: done}
	a.pending.Store(1)
	return a
}

// Add adds n references.
func (a *Acker) Add(n int) { a.pending.Add(int32(n)) }

// Done releases one reference with status s.
func (a *Acker) Done(s Status) {
	for {
		w := a.worst.Load()
		if int32(s) <= w || a.worst.CompareAndSwap(w, int32(s)) {
			break
		}
	}
	switch n := a.pending.Add(-1); {
	case n == 0:
		if a.done != nil {
			a.done(Status(a.worst.Load()))
		}
	case n < 0:
		panic("event: Acker.Done called more times than references were held")
	}
}

// Batch is the unit that flows between stages: events from one source read,
// with the acknowledgements they owe.
//
// A batch has one owner at a time. Passing it on (to a Consumer, a Queue)
// hands over ownership; the final owner calls Ack exactly once and may then
// Release it to the pool.
type Batch struct {
	Events []Event
	// Source is the name of the source the events came from.
	Source string
	// Bytes is the approximate size of the events as received, for queue
	// accounting and metrics.
	Bytes int
	acks  []*Acker
}

var batchPool = sync.Pool{New: func() any { return &Batch{Events: make([]Event, 0, 64)} }}

// NewBatch returns an empty batch from the pool.
func NewBatch(source string) *Batch {
	b := batchPool.Get().(*Batch)
	b.Source = source
	return b
}

// Release returns b to the pool. The caller must not use b, or any event in
// it, afterwards.
func (b *Batch) Release() {
	if cap(b.Events) > 4096 {
		b.Events = nil
	} else {
		clear(b.Events)
		b.Events = b.Events[:0]
	}
	clear(b.acks)
	b.acks = b.acks[:0]
	b.Source = ""
	b.Bytes = 0
	batchPool.Put(b)
}

// Len returns the number of events.
func (b *Batch) Len() int { return len(b.Events) }

// AddAcker attaches a reference to a. The batch now owes a one Done.
func (b *Batch) AddAcker(a *Acker) { b.acks = append(b.acks, a) }

// ShareAcks makes dst owe the same acknowledgements as b, taking a new
// reference on each.
func (b *Batch) ShareAcks(dst *Batch) {
	for _, a := range b.acks {
		a.Add(1)
		dst.acks = append(dst.acks, a)
	}
}

// MoveAcks moves b's acknowledgements to dst (for merging batches).
func (b *Batch) MoveAcks(dst *Batch) {
	dst.acks = append(dst.acks, b.acks...)
	clear(b.acks)
	b.acks = b.acks[:0]
}

// HasAcks reports whether anyone waits for b's acknowledgement.
func (b *Batch) HasAcks() bool { return len(b.acks) > 0 }

// Ack reports status for every acknowledgement b owes, and forgets them.
func (b *Batch) Ack(s Status) {
	for _, a := range b.acks {
		a.Done(s)
	}
	clear(b.acks)
	b.acks = b.acks[:0]
}
