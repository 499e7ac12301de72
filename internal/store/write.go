package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Write stores evs in index name, creating the index on first use, and
// returns once they are durably on disk (or the flush that should have
// written them failed). Events without a timestamp get the current time.
//
// Events that break the limits (field name length, field count, event
// size, timestamp range, older than the index's retention) are rejected
// one by one: the others are stored and Write returns a *RejectedError
// listing the rejected ones. Other errors (invalid index name,
// *DiskFullError, I/O errors of the flush, ctx's error) concern the whole
// call; none means an event was lost, and writing again is safe
// (duplicates are possible, losses are not).
//
// If ctx ends first, Write returns ctx.Err() and the events may or may not
// be stored. Write does not keep evs or anything they point to.
//
// Write waits for a flush (up to FlushInterval): callers that need
// throughput write from many goroutines or use Append.
func (s *Store) Write(ctx context.Context, name string, evs []event.Event) error {
	done := make(chan error, 1)
	if err := s.Append(ctx, name, evs, func(err error) { done <- err }); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Append is Write without the wait: it buffers evs for the next flush and
// returns; done is called once, with what Write would have returned, when
// they are durable (or the flush failed). It is how a pipeline
// destination acknowledges batches asynchronously.
//
// Append returns an error only for problems with the whole call (invalid
// index name, *DiskFullError, ErrClosed, ctx's error); done is then not
// called. It blocks while more than Options.MaxBufferedBytes wait for a
// flush (backpressure). done runs on the flusher's goroutine (or on the
// caller's, before Append returns, when no event was accepted): it must be
// quick and must not call the Store. Append does not keep evs.
func (s *Store) Append(ctx context.Context, name string, evs []event.Event, done func(error)) error {
	if err := ValidateIndexName(name); err != nil {
		return err
	}
	if e := s.diskFull.Load(); e != nil {
		return e
	}
	if err := s.waitBufferRoom(ctx); err != nil {
		return err
	}
	w := s.encode(name, evs)
	if len(w.rows) == 0 {
		if s.isClosed() {
			return ErrClosed
		}
		done(w.rejected())
		return nil
	}
	return s.buffer(name, w, done)
}

// waitBufferRoom blocks while the write buffers hold more than
// MaxBufferedBytes.
func (s *Store) waitBufferRoom(ctx context.Context) error {
	for s.buffered.Load() > s.opts.MaxBufferedBytes {
		s.flushedMu.Lock()
		ch := s.flushed
		s.flushedMu.Unlock()
		select {
		case s.kick <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stop:
			return ErrClosed
		}
	}
	return nil
}

// flushDone wakes the writers waiting for buffer room.
func (s *Store) flushDone() {
	s.flushedMu.Lock()
	close(s.flushed)
	s.flushed = make(chan struct{})
	s.flushedMu.Unlock()
}

// encoded is one Write's events in binary form, checked against the
// limits.
type encoded struct {
	buf      []byte
	rows     []memRow
	days     []int64 // per row
	raw      []uint32
	rejects  []Rejection
	accepted int
}

func (w *encoded) rejected() error {
	if len(w.rejects) == 0 {
		return nil
	}
	return &RejectedError{Rejected: w.rejects, Stored: w.accepted}
}

// Times outside what Unix nanoseconds hold cannot be stored.
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

func (s *Store) encode(name string, evs []event.Event) *encoded {
	now := s.opts.Now()
	// Events of a day that retention would drop at once are rejected
	// instead: a day is dropped once it ended more than MaxAge ago.
	var firstDay int64 = math.MinInt64
	rule, hasRule := s.retentionFor(name)
	if hasRule && rule.MaxAge > 0 {
		firstDay = floorDiv(now.Add(-rule.MaxAge).UnixNano(), nsPerDay)
	}
	// One buffer for the call, sized from the fields (the binary encoding
	// adds a few bytes per field to the keys and strings).
	size := 0
	for i := range evs {
		size += 16
		for _, f := range evs[i].Fields() {
			size += len(f.Key) + 6
			if s, ok := f.Value.Str(); ok {
				size += len(s)
			} else {
				size += 10
			}
		}
	}
	w := &encoded{buf: make([]byte, 0, size), rows: make([]memRow, 0, len(evs)), days: make([]int64, 0, len(evs)), raw: make([]uint32, 0, len(evs))}
	var jsonBuf []byte
	for i := range evs {
		ev := evs[i]
		if ev.Time.IsZero() {
			ev.Time = now
		}
		if err := s.checkEvent(&ev); err != nil {
			w.rejects = append(w.rejects, Rejection{Event: i, Err: err})
			continue
		}
		if dupKeys(ev.Fields()) {
			ev = dedupe(&ev)
		}
		t := ev.Time.UnixNano()
		if dayOf(t) < firstDay {
			w.rejects = append(w.rejects, Rejection{Event: i, Err: fmt.Errorf("%w: %s falls on a day that the max_age %s of index pattern %q no longer keeps",
				ErrOlderThanRetained, ev.Time.UTC().Format(time.RFC3339), rule.MaxAge, rule.Indices)})
			continue
		}
		off := len(w.buf)
		w.buf = event.AppendBinary(w.buf, &ev)
		n := len(w.buf) - off
		if n > s.opts.MaxEventBytes {
			w.buf = w.buf[:off]
			w.rejects = append(w.rejects, Rejection{Event: i, Err: fmt.Errorf("%w: %d bytes, the limit is %d", ErrEventTooLarge, n, s.opts.MaxEventBytes)})
			continue
		}
		jsonBuf = event.AppendJSON(jsonBuf[:0], &ev, true)
		w.rows = append(w.rows, memRow{t: t, off: uint32(off), n: uint32(n)})
		w.days = append(w.days, dayOf(t))
		w.raw = append(w.raw, uint32(len(jsonBuf)))
	}
	w.accepted = len(w.rows)
	return w
}

// checkEvent checks ev against the limits.
func (s *Store) checkEvent(ev *event.Event) error {
	if ev.Time.Before(minTime) || ev.Time.After(maxTime) {
		return fmt.Errorf("%w: %s (the store keeps years 1678 to 2262)", ErrTimestampRange, ev.Time.UTC().Format(time.RFC3339))
	}
	fields := ev.Fields()
	if len(fields) > s.opts.MaxFields {
		return fmt.Errorf("%w: %d fields, the limit is %d", ErrTooManyFields, len(fields), s.opts.MaxFields)
	}
	for _, f := range fields {
		if f.Key == "" {
			return ErrEmptyFieldName
		}
		if len(f.Key) > s.opts.MaxFieldNameBytes {
			return fmt.Errorf("%w: %q... is %d bytes, the limit is %d", ErrFieldNameTooLong, f.Key[:32], len(f.Key), s.opts.MaxFieldNameBytes)
		}
	}
	return nil
}

// dupKeys reports whether two fields share a key.
func dupKeys(fields []event.Field) bool {
	if len(fields) <= 32 {
		for i := 1; i < len(fields); i++ {
			for j := 0; j < i; j++ {
				if len(fields[i].Key) == len(fields[j].Key) && fields[i].Key == fields[j].Key {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(fields))
	for _, f := range fields {
		if _, ok := seen[f.Key]; ok {
			return true
		}
		seen[f.Key] = struct{}{}
	}
	return false
}

// dedupe returns a copy of ev where only the last field of each key
// remains (as a JSON object with duplicate keys reads in most parsers).
func dedupe(ev *event.Event) event.Event {
	fields := ev.Fields()
	last := make(map[string]int, len(fields))
	for i, f := range fields {
		last[f.Key] = i
	}
	out := event.NewSized(ev.Time, len(last))
	for i, f := range fields {
		if last[f.Key] == i {
			out.AppendField(f.Key, f.Value)
		}
	}
	return out
}

// buffer adds w's rows to their partitions' buffers; done is called once
// every one of those buffers is flushed.
func (s *Store) buffer(name string, w *encoded, done func(error)) error {
	var idx *index
	for {
		var err error
		if idx, err = s.getIndex(name, true); err != nil {
			return err
		}
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return ErrClosed
		}
		if s.indices[name] == idx {
			break // and the index cannot be deleted while we hold s.mu
		}
		s.mu.RUnlock() // deleted meanwhile: recreate it
	}
	defer s.mu.RUnlock()
	wt := &waiter{done: done, rejected: w.rejected()}
	var waits []*memBuf
	kick := false
	for start := 0; start < len(w.rows); {
		day := w.days[start]
		end := start + 1
		for end < len(w.rows) && w.days[end] == day {
			end++
		}
		for {
			p := idx.partition(day)
			p.mu.Lock()
			if p.dropped {
				// Dropped since we looked it up (index deleted, retention):
				// the next lookup makes a new one.
				p.mu.Unlock()
				idx.forget(p)
				continue
			}
			mb := p.cur
			if mb == nil {
				mb = newMemBuf()
				p.cur = mb
			}
			if !slices.Contains(waits, mb) {
				waits = append(waits, mb)
				wt.n.Add(1)
				mb.waiters = append(mb.waiters, wt)
			}
			before := mb.bytes
			mb.add(w, start, end)
			s.buffered.Add(mb.bytes - before)
			if mb.bytes >= s.opts.FlushBytes {
				kick = true
			}
			p.mu.Unlock()
			break
		}
		start = end
	}
	if kick {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// waiter is one Append waiting for the buffers holding its events.
type waiter struct {
	n        atomic.Int32 // buffers not yet flushed
	mu       sync.Mutex
	err      error
	rejected error
	done     func(error)
}

// flushed records the outcome of one of its buffers; the last calls done.
func (w *waiter) flushed(err error) {
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	if w.n.Add(-1) > 0 {
		return
	}
	w.mu.Lock()
	err = w.err
	w.mu.Unlock()
	if err == nil {
		err = w.rejected
	}
	w.done(err)
}

// memBuf is a partition's write buffer: the events written since the last
// flush, in the binary encoding of the Write calls that brought them.
type memBuf struct {
	bufs    [][]byte
	rows    []memRow
	bytes   int64
	raw     uint64
	lastW   *encoded // the Write whose buffer was added last
	waiters []*waiter
}

type memRow struct {
	t   int64
	buf uint32 // index in memBuf.bufs
	off uint32
	n   uint32
}

func newMemBuf() *memBuf { return &memBuf{} }

func (mb *memBuf) add(w *encoded, start, end int) {
	if mb.lastW != w {
		mb.bufs = append(mb.bufs, w.buf)
		mb.lastW = w
	}
	bi := uint32(len(mb.bufs) - 1)
	for i := start; i < end; i++ {
		r := w.rows[i]
		r.buf = bi
		mb.rows = append(mb.rows, r)
		mb.bytes += int64(r.n)
		mb.raw += uint64(w.raw[i])
	}
}

// finish answers the buffer's writers and releases its memory from the
// buffered total.
func (mb *memBuf) finish(s *Store, err error) {
	s.buffered.Add(-mb.bytes)
	for _, w := range mb.waiters {
		w.flushed(err)
	}
	mb.waiters = nil
}
