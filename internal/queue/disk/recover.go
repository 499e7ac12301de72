package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// recover rebuilds the queue's state from its directory; see the Queue type
// comment. It runs in Open, before any other goroutine sees q.
func (q *Queue) recover() error {
	began := time.Now()
	if err := os.Remove(filepath.Join(q.dir, checkpointTemp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale checkpoint: %w", err)
	}
	l, err := listDir(q.dir)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	ck, state, ckErr := readCheckpoint(q.dir)
	var floor Position
	acked := make(map[uint64]bool)
	switch state {
	case checkpointOK:
		floor = ck.floor
		for _, s := range ck.ackedAhead {
			if s > floor.Segment {
				acked[s] = true
			}
		}
	case checkpointMissing:
		if len(l.segs) > 0 {
			q.log.Warn("disk queue: no checkpoint; delivering every segment from the oldest (records may be delivered twice)", "segments", len(l.segs))
			floor = Position{Segment: l.segs[0]}
		}
	case checkpointCorrupt:
		q.counters.CheckpointResets++
		q.log.Warn("disk queue: checkpoint unreadable (torn or damaged); delivering every segment from the oldest: records already delivered will be delivered again, none is lost",
			"error", ckErr)
		if len(l.segs) > 0 {
			floor = Position{Segment: l.segs[0]}
		}
	}

	// Before the floor, or listed as acknowledged: done, deleted on the way.
	var live []uint64
	for _, seq := range l.segs {
		if seq < floor.Segment || acked[seq] {
			if err := os.Remove(segPath(q.dir, seq)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove acknowledged segment %d: %w", seq, err)
			}
			continue
		}
		live = append(live, seq)
	}
	q.findGaps(live, floor.Segment, acked, l.corrupt)

	buf := make([]byte, scanBufSize)
	var empty []*segment // no record left: removed after the checkpoint
	for _, seq := range live {
		start := int64(0)
		if seq == floor.Segment {
			start = floor.Offset
		}
		seg, err := q.recoverSegment(seq, start, state == checkpointOK, ck.synced, buf)
		if err != nil {
			return err
		}
		if seg.records == 0 {
			// Checkpointed as acknowledged before it goes, or the next
			// Open would take its absence for a loss.
			acked[seq] = true
			empty = append(empty, seg)
			continue
		}
		q.segs = append(q.segs, seg)
		q.events += seg.events
		q.bytes += seg.bytes
	}

	// Always write to a new segment: recovered ones stay as they are.
	next := max(ck.next, l.maxSeq()+1, floor.Segment+1)
	f, err := os.OpenFile(segPath(q.dir, next), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create segment %d: %w", next, err)
	}
	q.wseg = &segment{seq: next, wf: f}
	q.segs = append(q.segs, q.wseg)
	q.nextSeq = next + 1
	q.cur, q.curOff, q.curPush = q.segs[0], q.segs[0].start, q.segs[0].firstPush
	if err := syncDir(q.dir); err != nil {
		return err
	}
	// Every recovered segment was fsynced by recoverSegment.
	q.synced = Position{Segment: next}
	for s := range acked {
		q.ackedAhead = append(q.ackedAhead, s)
	}
	slices.Sort(q.ackedAhead)
	q.fmu.Lock()
	q.doomed = empty
	q.checkpointLocked()
	q.fmu.Unlock()

	if len(q.segs) > 1 || q.counters != (Counters{}) {
		q.log.Info("disk queue recovered", "events", q.events, "bytes", q.bytes, "segments", len(q.segs)-1,
			"took", time.Since(began).Round(time.Millisecond), "torn_bytes", q.counters.TornBytes,
			"corrupt_records", q.counters.CorruptRecords, "missing_segments", q.counters.MissingSegments)
	}
	return nil
}

// findGaps logs and counts the segments missing between the floor and the
// newest segment that the checkpoint does not know as acknowledged.
func (q *Queue) findGaps(live []uint64, floorSeg uint64, acked map[uint64]bool, corrupt []uint64) {
	prev := floorSeg
	for _, seq := range live {
		if seq <= prev {
			prev = seq
			continue
		}
		var from, n uint64
		for m := prev + 1; m < seq; m++ {
			if acked[m] || slices.Contains(corrupt, m) {
				continue
			}
			if n == 0 {
				from = m
			}
			n++
			if n > uint64(len(live))+1<<20 {
				break // a wild checkpoint; counting on is pointless
			}
		}
		if n > 0 {
			q.counters.MissingSegments += int(n)
			q.log.Warn("disk queue: segments missing from the sequence; their records are lost (deleted by hand, or lost by the file system)",
				"first", from, "count", n, "next_present", seq)
		}
		prev = seq
	}
}

// recoverSegment scans one segment from start, cuts a torn tail or marks
// the segment corrupt, and fsyncs it.
func (q *Queue) recoverSegment(seq uint64, start int64, ckOK bool, synced Position, buf []byte) (*segment, error) {
	f, err := os.OpenFile(segPath(q.dir, seq), os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment %d: %w", seq, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat segment %d: %w", seq, err)
	}
	size := fi.Size()
	if start > size {
		q.log.Warn("disk queue: checkpoint floor is past the end of its segment (data lost before it was synced?); starting at the end",
			"segment", seq, "floor", start, "size", size)
		start = size
	}
	res := scanSegment(f, start, size, buf, nil)
	seg := &segment{
		seq: seq, start: start, size: res.end, sealed: true,
		records: res.records, events: res.events, bytes: res.bytes, firstPush: res.firstPush,
	}
	if b := res.bad; b != nil {
		var torn bool
		if ckOK {
			// Past the synced position a crash may leave anything.
			torn = !(Position{seq, b.off}).Before(synced)
		} else {
			torn = b.toEOF || zeroFrom(f, b.off, size, buf)
		}
		if torn {
			if err := f.Truncate(b.off); err != nil {
				return nil, fmt.Errorf("truncate segment %d: %w", seq, err)
			}
			q.counters.TornBytes += size - b.off
			q.log.Warn("disk queue: cut a torn tail: a write interrupted by a crash, never acknowledged to its sender",
				"segment", seq, "offset", b.off, "bytes", size-b.off, "reason", b.reason)
		} else {
			seg.corrupt = true
			q.counters.CorruptRecords++
			q.counters.LostBytes += size - b.off
			q.log.Error("disk queue: corrupt record inside a segment; the records from it to the end of the segment are lost. "+
				"The records before it are delivered, then the file is renamed *.corrupt for inspection (`sluice queue inspect`). Check the disk (dmesg, SMART)",
				"segment", seq, "offset", b.off, "bytes_lost", size-b.off, "reason", b.reason)
		}
	}
	// What a killed process left in the page cache is not on disk yet.
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync segment %d: %w", seq, err)
	}
	return seg, nil
}
