package store

import (
	"fmt"
	"time"
)

// housekeepLoop measures disk usage and applies retention periodically.
func (s *Store) housekeepLoop() {
	defer s.wg.Done()
	disk := time.NewTicker(s.opts.DiskCheckInterval)
	defer disk.Stop()
	ret := time.NewTicker(s.opts.RetentionInterval)
	defer ret.Stop()
	s.applyRetention()
	for {
		select {
		case <-s.stop:
			return
		case <-disk.C:
			s.checkDisk()
		case <-ret.C:
			s.applyRetention()
			s.scheduleIdleMerges()
		}
	}
}

// checkDisk measures the disk and updates the watermark state: writes are
// refused from the moment usage reaches the high watermark until it falls
// below the low one.
func (s *Store) checkDisk() {
	if s.opts.HighWatermark > 1 {
		return
	}
	s.diskMu.Lock()
	defer s.diskMu.Unlock()
	used, total, err := s.opts.DiskUsage(s.dir)
	if err != nil || total == 0 {
		if err != nil {
			s.log.Warn("store: cannot measure disk usage; the disk watermarks are not enforced", "err", err)
		}
		return
	}
	frac := float64(used) / float64(total)
	full := s.diskFull.Load()
	switch {
	case full == nil && frac >= s.opts.HighWatermark:
		e := &DiskFullError{Path: s.dir, UsedPercent: frac * 100, HighWatermark: s.opts.HighWatermark, LowWatermark: s.opts.LowWatermark}
		s.diskFull.Store(e)
		s.log.Error("store: disk above the high watermark; refusing writes until it falls below the low watermark",
			"path", s.dir, "used_percent", fmt.Sprintf("%.1f", frac*100), "high", s.opts.HighWatermark, "low", s.opts.LowWatermark)
	case full != nil && frac < s.opts.LowWatermark:
		s.diskFull.Store(nil)
		s.log.Info("store: disk below the low watermark; accepting writes again", "path", s.dir, "used_percent", fmt.Sprintf("%.1f", frac*100))
	case full != nil:
		// Keep the message current.
		e := *full
		e.UsedPercent = frac * 100
		s.diskFull.Store(&e)
	}
}

// applyRetention drops the day partitions that the retention rules no
// longer keep.
func (s *Store) applyRetention() {
	if len(s.retentionRules()) == 0 {
		return
	}
	now := s.opts.Now().UnixNano()
	s.mu.RLock()
	idxs := make([]*index, 0, len(s.indices))
	for _, idx := range s.indices {
		idxs = append(idxs, idx)
	}
	s.mu.RUnlock()
	for _, idx := range idxs {
		rule, ok := s.retentionFor(idx.name)
		if !ok {
			continue
		}
		ps := idx.partitionList()
		var size int64
		sizes := make([]int64, len(ps))
		for i, p := range ps {
			sizes[i] = p.diskBytes()
			size += sizes[i]
		}
		for i, p := range ps {
			end := (p.day + 1) * nsPerDay
			switch {
			case rule.MaxAge > 0 && end <= now-int64(rule.MaxAge):
				s.dropPartition(p, fmt.Sprintf("older than max_age %s", rule.MaxAge))
			case rule.MaxSize > 0 && size > rule.MaxSize && i < len(ps)-1:
				s.dropPartition(p, fmt.Sprintf("index takes %d bytes, above max_size %d", size, rule.MaxSize))
			default:
				continue
			}
			size -= sizes[i]
		}
	}
}

func (p *partition) diskBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, pt := range p.parts {
		n += pt.diskBytes()
	}
	return n
}

// dropPartition removes a day partition: from the index at once (searches
// already running finish on the open files), from the disk through the
// trash.
func (s *Store) dropPartition(p *partition, why string) {
	parts := p.markDropped(s)
	p.idx.forget(p)
	trash, err := s.moveToTrash(p.dir)
	if err != nil {
		s.log.Error("store: cannot remove a dropped partition", "path", p.dir, "err", err)
	}
	s.removeTrash(trash)
	for _, pt := range parts {
		pt.release()
	}
	s.c.droppedPartitions.Add(1)
	s.log.Info("store: dropped a day partition", "index", p.idx.name, "day", dayName(p.day), "reason", why)
}

// markDropped marks p dropped (after its running flush, if any) and takes
// its parts. Writers waiting on its buffer are answered: their events
// were accepted, then dropped with the partition.
func (p *partition) markDropped(s *Store) []*part {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.listMu.Lock()
	defer p.listMu.Unlock()
	p.mu.Lock()
	p.dropped = true
	parts, mb := p.parts, p.cur
	p.parts, p.cur = nil, nil
	p.mu.Unlock()
	if mb != nil {
		mb.finish(s, nil)
	}
	return parts
}

// scheduleIdleMerges queues the partitions that stopped receiving writes,
// so they are merged down (pickMerge is more eager for idle ones).
func (s *Store) scheduleIdleMerges() {
	s.mu.RLock()
	var ps []*partition
	for _, idx := range s.indices {
		idx.mu.Lock()
		for _, p := range idx.parts {
			ps = append(ps, p)
		}
		idx.mu.Unlock()
	}
	s.mu.RUnlock()
	for _, p := range ps {
		if s.isIdle(p) {
			s.scheduleMerge(p)
		}
	}
}
