package disk

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/queue"
)

// Push implements queue.Queue. It encodes b into one record and appends it,
// then releases b; b's acknowledgements fire after the fsync that covers
// the record. On an error (queue.ErrClosed, ctx's error, a write error such
// as a full disk) the caller still owns b.
func (q *Queue) Push(ctx context.Context, b *event.Batch) error {
	if q.isClosed() {
		return queue.ErrClosed
	}
	n := len(b.Events)
	if n == 0 {
		b.Ack(event.Delivered)
		b.Release()
		return nil
	}
	push := q.opts.Now().UnixNano()
	bp := getBuf()
	defer putBuf(bp)
	*bp = encodeRecord(*bp, b.Events, push, q.zenc)
	rec := *bp
	size := int64(len(rec))
	if size > maxRecordBytes {
		return fmt.Errorf("disk queue %s: batch of %d events encodes to %d bytes, over the %d-byte record limit", q.dir, n, size, maxRecordBytes)
	}

	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			return queue.ErrClosed
		}
		if !q.fullLocked(n, size) {
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
	// Reserve the room before writing, so concurrent Pushes see it taken.
	q.events += n
	q.bytes += size
	q.mu.Unlock()

	q.wmu.Lock()
	seg, off, err := q.appendLocked(rec)
	if err != nil {
		q.wmu.Unlock()
		q.mu.Lock()
		q.events -= n
		q.bytes -= size
		if !errors.Is(err, queue.ErrClosed) {
			q.counters.WriteErrors++
		}
		wake(&q.space)
		q.mu.Unlock()
		if errors.Is(err, queue.ErrClosed) {
			return queue.ErrClosed
		}
		if !q.writeFailing.Swap(true) {
			q.log.Error("disk queue cannot write; pushes fail and senders are backpressured until it can. "+
				"If the disk is full, free space or enlarge the volume: the queue resumes by itself", "error", err)
		}
		return fmt.Errorf("disk queue %s: %w", q.dir, err)
	}
	var acks *event.Batch
	if b.HasAcks() {
		acks = new(event.Batch)
		b.MoveAcks(acks)
	}
	q.mu.Lock()
	seg.size = off + size
	seg.records++
	seg.events += n
	seg.bytes += size
	if seg.records == 1 {
		seg.firstPush = push
	}
	if !seg.dirtyListed {
		seg.dirtyListed = true
		q.unsynced = append(q.unsynced, seg)
	}
	q.unsyncedRecords++
	if acks != nil {
		q.pending = append(q.pending, acks)
	}
	if q.cur == seg && q.curOff == off {
		q.curPush = push
	}
	// A sender waiting for this batch's acknowledgement gets its fsync at
	// once (group commit: records written meanwhile share it); data nobody
	// waits on is synced by the interval or FsyncEvery.
	kick := acks != nil && q.opts.GroupCommit || q.opts.FsyncEvery > 0 && q.unsyncedRecords >= q.opts.FsyncEvery
	wake(&q.data)
	q.gaugesLocked()
	q.mu.Unlock()
	q.wmu.Unlock()

	if q.writeFailing.Load() && q.writeFailing.Swap(false) {
		q.log.Info("disk queue writes again")
	}
	b.Release()
	if kick {
		q.kickFlusher()
	}
	return nil
}

func (q *Queue) fullLocked(n int, size int64) bool {
	if q.events == 0 {
		return false
	}
	return (q.opts.MaxEvents > 0 && q.events+n > q.opts.MaxEvents) ||
		(q.opts.MaxBytes > 0 && q.bytes+size > q.opts.MaxBytes)
}

// appendLocked writes rec at the end of the current segment, starting a new
// one first when it is full. On a write error it truncates the partial
// record away, so the segment stays a sequence of whole records. wmu held.
func (q *Queue) appendLocked(rec []byte) (*segment, int64, error) {
	if q.wclosed {
		return nil, 0, queue.ErrClosed
	}
	seg := q.wseg
	if seg.broken || q.forceRotate.Load() || (seg.size > 0 && seg.size+int64(len(rec)) > q.opts.SegmentBytes) {
		if err := q.rotateLocked(); err != nil {
			return nil, 0, err
		}
		seg = q.wseg
	}
	off := seg.size
	if _, err := seg.wf.WriteAt(rec, off); err != nil {
		if terr := seg.wf.Truncate(off); terr != nil {
			// The partial record stays beyond the published end, where
			// readers never look and recovery cuts it as a torn tail;
			// write the next record to a new segment.
			seg.broken = true
			q.log.Warn("cannot truncate a failed write; switching to a new segment", "segment", seg.seq, "error", terr)
		}
		return nil, 0, fmt.Errorf("write segment %d: %w", seg.seq, pathCause(err))
	}
	return seg, off, nil
}

// rotateLocked seals the current segment and starts the next. wmu held.
func (q *Queue) rotateLocked() error {
	q.mu.Lock()
	seq := q.nextSeq
	q.mu.Unlock()
	f, err := os.OpenFile(segPath(q.dir, seq), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create segment %d: %w", seq, pathCause(err))
	}
	q.forceRotate.Store(false)
	ns := &segment{seq: seq, wf: f}
	q.mu.Lock()
	old := q.wseg
	old.sealed = true
	// Listed so that the flusher fsyncs what is left and closes its handle.
	if !old.dirtyListed {
		old.dirtyListed = true
		q.unsynced = append(q.unsynced, old)
	}
	q.segs = append(q.segs, ns)
	q.wseg = ns
	q.nextSeq = seq + 1
	q.dirDirty = true
	// A reader waiting at the end of old can move on.
	wake(&q.data)
	q.mu.Unlock()
	return nil
}
