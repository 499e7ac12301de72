package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// run is the flusher, the one goroutine the queue owns. It stops when
// q.stop is closed.
func (q *Queue) run() {
	defer q.wg.Done()
	t := time.NewTicker(q.opts.FsyncInterval)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			return
		case <-t.C:
			q.flush(true)
		case <-q.kick:
			q.mu.Lock()
			ckpt := q.wantCkpt
			q.mu.Unlock()
			q.flush(ckpt)
		}
	}
}

// flush fsyncs what was written, fires the acknowledgements the fsync
// covered and, when ckpt is set, writes the checkpoint and deletes the
// segments that are done. It returns the fsync error, if any.
func (q *Queue) flush(ckpt bool) error {
	q.fmu.Lock()
	acks, err := q.syncLocked()
	q.fmu.Unlock()
	status := event.Delivered
	if err != nil {
		status = event.Errored
	}
	// Outside the locks: an Acker's callback may do anything.
	for _, a := range acks {
		a.Ack(status)
	}
	if ckpt {
		q.fmu.Lock()
		q.checkpointLocked()
		q.fmu.Unlock()
	}
	return err
}

// syncLocked fsyncs the segments written since the last sync (and the
// directory when segments were created) and returns the acknowledgements
// of the records this covered. fmu held.
func (q *Queue) syncLocked() ([]*event.Batch, error) {
	q.mu.Lock()
	segs := q.unsynced
	q.unsynced = nil
	for _, s := range segs {
		s.dirtyListed = false
	}
	dir := q.dirDirty
	q.dirDirty = false
	npend := len(q.pending)
	q.unsyncedRecords = 0
	head := Position{q.wseg.seq, q.wseg.size}
	q.mu.Unlock()

	var err error
	for _, s := range segs {
		// wf changes only under fmu (or, for a new segment, before it is
		// listed), so it is stable here.
		if s.wf == nil {
			continue
		}
		start := time.Now()
		e := s.wf.Sync()
		if m := q.opts.Metrics; m != nil && m.FsyncSeconds != nil {
			m.FsyncSeconds.Observe(time.Since(start).Seconds())
		}
		if e != nil && err == nil {
			err = fmt.Errorf("sync segment %d: %w", s.seq, e)
		}
	}
	if dir && err == nil {
		err = syncDir(q.dir)
	}

	q.mu.Lock()
	if err == nil {
		for _, s := range segs {
			if s.sealed && !s.dirtyListed && s.wf != nil {
				s.wf.Close()
				s.wf = nil
			}
		}
		q.synced = head
	} else {
		// After a failed fsync the kernel may have dropped the dirty pages
		// and a retry can succeed without them: the records covered are
		// acknowledged Errored (their senders send them again) and new
		// records go to a fresh segment.
		q.counters.SyncErrors++
		q.dirDirty = q.dirDirty || dir
		for _, s := range segs {
			if !s.dirtyListed {
				s.dirtyListed = true
				q.unsynced = append(q.unsynced, s)
			}
		}
		q.forceRotate.Store(true)
	}
	acks := slices.Clone(q.pending[:npend])
	n := copy(q.pending, q.pending[npend:])
	clear(q.pending[n:])
	q.pending = q.pending[:n]
	q.mu.Unlock()

	if err != nil && !q.syncFailing {
		q.log.Error("disk queue: fsync failed; the batches it covered were acknowledged Errored and will be sent again", "error", err)
	} else if err == nil && q.syncFailing {
		q.log.Info("disk queue: fsync works again")
	}
	q.syncFailing = err != nil
	return acks, err
}

// floorLocked returns the ack floor: the position of the oldest record not
// acknowledged (or the read cursor when every record read is).
func (q *Queue) floorLocked() Position {
	for _, s := range q.segs {
		if len(s.flights) > 0 {
			return Position{s.seq, s.flights[0].off}
		}
		if q.cur == s {
			return Position{s.seq, q.curOff}
		}
		// Read to its end and acknowledged, waiting to be sealed or for
		// the cursor to move on: nothing here pins the floor.
	}
	last := q.segs[len(q.segs)-1]
	return Position{last.seq, last.size}
}

// checkpointLocked writes the checkpoint if it changed, then deletes the
// segments that are done. A segment after the floor is deleted only once a
// checkpoint lists it as acknowledged, so that its absence at Open is not
// taken for a loss. fmu held.
func (q *Queue) checkpointLocked() {
	q.mu.Lock()
	c := checkpoint{floor: q.floorLocked(), synced: q.synced, next: q.nextSeq}
	doomed := q.doomed
	q.doomed = nil
	q.wantCkpt = false
	ahead := slices.Clone(q.ackedAhead)
	for _, s := range doomed {
		ahead = append(ahead, s.seq)
	}
	q.mu.Unlock()

	slices.Sort(ahead)
	ahead = slices.Compact(ahead)
	ahead = slices.DeleteFunc(ahead, func(seq uint64) bool { return seq <= c.floor.Segment })
	c.ackedAhead = ahead

	var err error
	if !c.equal(&q.lastCkpt) {
		if err = writeCheckpoint(q.dir, &c); err == nil {
			q.lastCkpt = c
		}
	}
	if err == nil {
		q.lastCkptAt = time.Now()
	}
	var keep []*segment
	for _, s := range doomed {
		if err != nil && s.seq > c.floor.Segment {
			keep = append(keep, s)
			continue
		}
		q.removeSegment(s)
	}

	q.mu.Lock()
	if err == nil {
		q.ackedAhead = ahead
	} else {
		q.counters.CheckpointErrors++
		q.doomed = append(q.doomed, keep...)
	}
	q.mu.Unlock()
	if err != nil && !q.ckptFailing {
		q.log.Warn("disk queue: cannot write the checkpoint; after a crash, records acknowledged since the last one will be delivered again", "error", err)
	} else if err == nil && q.ckptFailing {
		q.log.Info("disk queue: checkpoint written again")
	}
	q.ckptFailing = err != nil
}

// removeSegment deletes a done segment's file, or renames it aside when it
// held corruption. fmu held (or Open still running).
func (q *Queue) removeSegment(s *segment) {
	if s.wf != nil {
		s.wf.Close()
		s.wf = nil
	}
	path := segPath(q.dir, s.seq)
	var err error
	if s.corrupt {
		err = os.Rename(path, path+corruptSuffix)
	} else {
		err = os.Remove(path)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		q.log.Warn("disk queue: cannot remove a done segment", "segment", s.seq, "error", err)
	}
}
