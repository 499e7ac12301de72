package disk

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Pop implements queue.Queue. The batch it returns carries one
// acknowledgement, for the record it was read from; Source is empty and
// Bytes is the record's size on disk. After Close it returns what is left
// unread, then io.EOF.
func (q *Queue) Pop(ctx context.Context) (*event.Batch, error) {
	for {
		select {
		case q.rsem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		rr, ack, res, wait := q.read(-1)
		<-q.rsem
		switch res {
		case readOK:
			if b := q.decode(rr, ack); b != nil {
				q.afterCloseRead()
				return b, nil
			}
		case readEOF:
			q.afterCloseRead()
			return nil, io.EOF
		case readEmpty:
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
}

// TryPop implements queue.Queue: it returns the next record as Pop does,
// without waiting, and only if it holds at most maxEvents events (the event
// count is in the record header, so a record too big is not read).
func (q *Queue) TryPop(maxEvents int) *event.Batch {
	if maxEvents < 0 {
		return nil
	}
	for {
		q.rsem <- struct{}{}
		rr, ack, res, _ := q.read(maxEvents)
		<-q.rsem
		switch res {
		case readOK:
			if b := q.decode(rr, ack); b != nil {
				q.afterCloseRead()
				return b
			}
		case readRetry:
		default:
			return nil
		}
	}
}

// readStatus is what read found at the cursor.
type readStatus int

const (
	readOK     readStatus = iota
	readEmpty             // nothing to read yet: wait on the channel
	readEOF               // closed and nothing left to read
	readRetry             // something was skipped: call again
	readTooBig            // the next record has more than maxEvents events
)

// read takes the record at the read cursor. maxEvents < 0 means any size.
// rsem held.
func (q *Queue) read(maxEvents int) (readResult, *event.Acker, readStatus, <-chan struct{}) {
	q.mu.Lock()
	seg, off := q.cur, q.curOff
	for off >= seg.size && seg.sealed {
		next := q.segAfterLocked(seg)
		if next == nil {
			break
		}
		seg.readDone = true
		if seg.done() {
			q.retireLocked(seg)
		}
		seg, off = next, next.start
		q.cur, q.curOff, q.curPush = next, off, next.firstPush
	}
	if off >= seg.size {
		if q.closed && seg.sealed {
			q.mu.Unlock()
			q.rd.close()
			return readResult{}, nil, readEOF, nil
		}
		wait := q.data
		q.mu.Unlock()
		return readResult{}, nil, readEmpty, wait
	}
	limit := seg.size
	q.mu.Unlock()

	err := q.rd.open(seg.seq)
	var h recordHeader
	if err == nil {
		h, err = q.rd.peek(off, limit)
	}
	if err == nil && maxEvents >= 0 && int(h.events) > maxEvents {
		return readResult{}, nil, readTooBig, nil
	}
	var rr readResult
	if err == nil {
		rr, err = q.rd.read(off, limit, &h)
	}
	if err != nil {
		q.skipRest(seg, off, err)
		return readResult{}, nil, readRetry, nil
	}

	size := h.size()
	q.mu.Lock()
	id := seg.flBase + len(seg.flights)
	seg.flights = append(seg.flights, flight{off: off, size: size, push: h.push, events: int(h.events)})
	seg.readRecords++
	seg.readEvents += int(h.events)
	seg.readBytes += size
	q.inflight++
	q.curOff = off + size
	q.curPush = rr.nextPush
	q.lastRead = h.push
	q.mu.Unlock()
	ack := event.NewAcker(func(s event.Status) { q.resolve(seg, id, s) })
	return rr, ack, readOK, nil
}

// skipRest handles a record that cannot be read at off: the rest of the
// segment as published so far is skipped (without a trustworthy length
// there is no finding the next record), and the segment is renamed aside
// once done.
func (q *Queue) skipRest(seg *segment, off int64, cause error) {
	q.mu.Lock()
	lostRecords := seg.records - seg.readRecords
	lostEvents := seg.events - seg.readEvents
	lostBytes := seg.bytes - seg.readBytes
	seg.records, seg.events, seg.bytes = seg.readRecords, seg.readEvents, seg.readBytes
	q.events -= lostEvents
	q.bytes -= lostBytes
	q.counters.CorruptRecords++
	q.counters.LostBytes += lostBytes
	seg.corrupt = true
	if q.cur == seg {
		q.curOff, q.curPush = seg.size, 0
	}
	if seg == q.wseg {
		q.forceRotate.Store(true)
	}
	wake(&q.space)
	q.gaugesLocked()
	q.mu.Unlock()
	q.log.Error("disk queue: unreadable record; skipping the rest of its segment, which will be renamed *.corrupt once done. "+
		"Check the disk (dmesg, SMART); inspect the file with `sluice queue inspect`",
		"segment", seg.seq, "offset", off, "records_lost", lostRecords, "events_lost", lostEvents, "error", cause)
}

// segAfterLocked returns the live segment after s, or nil.
func (q *Queue) segAfterLocked(s *segment) *segment {
	for i, x := range q.segs {
		if x.seq > s.seq {
			return q.segs[i]
		}
	}
	return nil
}

// decode turns a record into a batch. A record whose CRC matched but that
// does not decode (a bug, or a record from a newer version) is counted,
// logged and acknowledged Rejected, so it does not pin its segment.
func (q *Queue) decode(rr readResult, ack *event.Acker) *event.Batch {
	b := event.NewBatch("")
	if err := decodeRecord(&rr.h, rr.payload, q.zdec, b); err != nil {
		b.Release()
		q.mu.Lock()
		q.counters.CorruptRecords++
		q.counters.LostBytes += rr.h.size()
		q.mu.Unlock()
		q.log.Error("disk queue: record does not decode; dropping it", "events", rr.h.events, "error", err)
		ack.Done(event.Rejected)
		return nil
	}
	b.Bytes = int(rr.h.size())
	b.AddAcker(ack)
	return b
}

// resolve records the answer for record id of seg.
func (q *Queue) resolve(seg *segment, id int, s event.Status) {
	q.mu.Lock()
	fl := &seg.flights[id-seg.flBase]
	q.inflight--
	if s == event.Errored {
		// Not done: it stays unacknowledged (pinning the floor and its
		// segment) and is delivered again after a restart.
		fl.state = flightErrored
	} else {
		fl.state = flightDone
		seg.acked++
		q.events -= fl.events
		q.bytes -= fl.size
		seg.popAcked()
		if seg.done() {
			q.retireLocked(seg)
		}
		wake(&q.space)
		q.gaugesLocked()
	}
	final := q.closed && q.inflight == 0 && !q.unreadLocked()
	q.mu.Unlock()
	if final {
		q.persistAfterClose()
	}
}

// unreadLocked reports whether records remain past the read cursor.
func (q *Queue) unreadLocked() bool {
	if q.curOff < q.cur.size {
		return true
	}
	for s := q.segAfterLocked(q.cur); s != nil; s = q.segAfterLocked(s) {
		if s.size > s.start {
			return true
		}
	}
	return false
}

// retireLocked takes a done segment out of the live list; the flusher
// deletes its file after the next checkpoint.
func (q *Queue) retireLocked(s *segment) {
	i := slices.Index(q.segs, s)
	if i < 0 {
		return
	}
	q.segs = slices.Delete(q.segs, i, i+1)
	q.doomed = append(q.doomed, s)
	q.wantCkpt = true
	q.kickFlusher()
}

// afterCloseRead checkpoints the progress of a queue being drained after
// Close, every FsyncInterval and once it is drained.
func (q *Queue) afterCloseRead() {
	q.mu.Lock()
	closed := q.closed
	drained := closed && q.inflight == 0 && !q.unreadLocked()
	q.mu.Unlock()
	if !closed {
		return
	}
	q.fmu.Lock()
	due := q.lock == nil && (drained || time.Since(q.lastCkptAt) >= q.opts.FsyncInterval)
	q.fmu.Unlock()
	if due {
		q.persistAfterClose()
	}
	if drained {
		q.rsem <- struct{}{}
		q.rd.release()
		<-q.rsem
	}
}

// persistAfterClose writes the checkpoint and deletes done segments for a
// closed queue, if the directory is not open by another Queue by now.
func (q *Queue) persistAfterClose() {
	q.fmu.Lock()
	defer q.fmu.Unlock()
	if q.lock != nil {
		// Close has not finished: its own final checkpoint follows.
		return
	}
	l, err := lockDir(q.dir, 0)
	if err != nil {
		return
	}
	defer unlockDir(l)
	// Another Queue may have opened and closed the directory since: then
	// the checkpoint is its, and newer than anything this one knows.
	if cur, state, _ := readCheckpoint(q.dir); state != checkpointOK || !cur.equal(&q.lastCkpt) {
		return
	}
	q.checkpointLocked()
}
