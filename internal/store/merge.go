package store

import (
	"container/heap"
	"errors"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Merge policy. A partition's parts are merged smallest first, up to
// maxMergeParts at a time, when the smallest k of them (k >= 2) add up to
// at least mergeRatio times the biggest of the k: parts of similar size are
// combined, sizes grow geometrically, and every event is rewritten a
// logarithmic number of times. Past maxPartsPerPartition the smallest are
// merged regardless; a partition that has stopped receiving writes (idle
// for idleMergeAfter, or its day over) is merged down further.
const (
	maxMergeParts        = 16
	mergeRatio           = 4
	maxPartsPerPartition = 48
	idleMergeAfter       = 10 * time.Minute
)

func (s *Store) scheduleMerge(p *partition) {
	if s.opts.DisableMerges || !p.mergeQueued.CompareAndSwap(false, true) {
		return
	}
	select {
	case s.mergeQ <- p:
	default:
		p.mergeQueued.Store(false)
	}
}

func (s *Store) mergeLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.bgCtx.Done():
			return
		case p := <-s.mergeQ:
			p.mergeQueued.Store(false)
			s.mergePartition(p)
		}
	}
}

// mergePartition merges p's parts until the policy is satisfied.
func (s *Store) mergePartition(p *partition) {
	for s.bgCtx.Err() == nil {
		idle := s.isIdle(p)
		parts := p.pickMerge(idle)
		if parts == nil {
			return
		}
		err := s.mergeParts(p, parts)
		p.doneMerging(parts)
		if err != nil {
			if !errors.Is(err, errDropped) && s.bgCtx.Err() == nil {
				s.c.mergeErrors.Add(1)
				s.log.Error("store: merge failed", "index", p.idx.name, "day", dayName(p.day), "parts", len(parts), "err", err)
			}
			return
		}
		s.c.merges.Add(1)
	}
}

func (s *Store) isIdle(p *partition) bool {
	now := s.opts.Now().UnixNano()
	return now-p.lastWrite.Load() > int64(idleMergeAfter) || (p.day+1)*nsPerDay < now-int64(time.Hour)
}

// pickMerge chooses parts to merge and marks them (and takes a reference
// on each); nil when there is nothing to merge.
func (p *partition) pickMerge(idle bool) []*part {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropped {
		return nil
	}
	var c []*part
	for _, pt := range p.parts {
		if !p.merging[pt] && !p.noMerge[pt] {
			c = append(c, pt)
		}
	}
	if len(c) < 2 {
		return nil
	}
	slices.SortStableFunc(c, func(a, b *part) int { return int(a.diskBytes() - b.diskBytes()) })
	n := min(len(c), maxMergeParts)
	var pick []*part
	for k := n; k >= 2 && pick == nil; k-- {
		var sum int64
		for _, pt := range c[:k] {
			sum += pt.diskBytes()
		}
		if sum >= mergeRatio*c[k-1].diskBytes() {
			pick = c[:k]
		}
	}
	if pick == nil && (len(p.parts) > maxPartsPerPartition || idle) {
		pick = c[:n]
	}
	if pick == nil {
		return nil
	}
	if p.merging == nil {
		p.merging = make(map[*part]bool)
	}
	for _, pt := range pick {
		p.merging[pt] = true
		pt.acquire()
	}
	return slices.Clone(pick)
}

func (p *partition) doneMerging(parts []*part) {
	p.mu.Lock()
	for _, pt := range parts {
		delete(p.merging, pt)
	}
	p.mu.Unlock()
	for _, pt := range parts {
		pt.release()
	}
}

// mergeParts writes one part with the events of parts, in time order, and
// swaps it in for them.
func (s *Store) mergeParts(p *partition, parts []*part) error {
	var raw uint64
	its := make(iterHeap, 0, len(parts))
	for i, pt := range parts {
		raw += pt.meta.rawBytes
		it := &partIter{p: pt, order: i, r: blockReader{zdec: s.zdec}}
		ok, err := it.next()
		if err != nil {
			return s.mergeReadError(p, pt, err)
		}
		if ok {
			its = append(its, it)
		}
	}
	all := slices.Clone([]*partIter(its))
	heap.Init(&its)
	fill := func(w *partWriter) error {
		b := s.getBuilder()
		defer s.builders.Put(b)
		var pending []row
		size := 0
		emit := func() error {
			rows := pending
			for len(rows) > 0 {
				bb, n := b.build(rows, s.zencMerge)
				if err := w.add(bb); err != nil {
					return err
				}
				rows = rows[n:]
			}
			clear(pending)
			pending, size = pending[:0], 0
			for _, it := range all {
				it.recycle()
			}
			return s.bgCtx.Err()
		}
		for len(its) > 0 {
			it := its[0]
			r := it.cur()
			if len(pending) == maxBlockRows || (len(pending) > 0 && size+r.n > maxBlockBytes) {
				if err := emit(); err != nil {
					return err
				}
			}
			pending = append(pending, r)
			size += r.n
			ok, err := it.next()
			if err != nil {
				return s.mergeReadError(p, it.p, err)
			}
			if ok {
				heap.Fix(&its, 0)
			} else {
				heap.Pop(&its)
			}
		}
		return emit()
	}
	_, err := s.writePart(p, fill, raw, s.zencMerge, parts)
	return err
}

// mergeReadError reports a part that a merge could not read: it is left
// out of future merges (searches skip its bad blocks).
func (s *Store) mergeReadError(p *partition, pt *part, err error) error {
	var ce *CorruptError
	if errors.As(err, &ce) {
		s.c.corruptParts.Add(1)
		p.mu.Lock()
		if p.noMerge == nil {
			p.noMerge = make(map[*part]bool)
		}
		p.noMerge[pt] = true
		p.mu.Unlock()
	}
	return err
}

// partIter reads a part's events in order, one block at a time. A block's
// rows point into the buffers it was decoded into; those are recycled only
// once the merge has written every output block that used them (retire,
// then recycle after each emitted block).
type partIter struct {
	p       *part
	order   int
	r       blockReader
	bi      int
	blk     *blockBufs // the current block
	retired []*blockBufs
	free    []*blockBufs
	i       int
}

// blockBufs holds one decoded input block.
type blockBufs struct {
	cols  []colData
	tsRaw []byte
	evs   []event.Event
	rows  []row
}

func (it *partIter) cur() row { return it.blk.rows[it.i] }

// recycle makes the buffers of finished blocks reusable: the caller has
// written every row taken from them.
func (it *partIter) recycle() {
	it.free = append(it.free, it.retired...)
	clear(it.retired)
	it.retired = it.retired[:0]
}

// next advances to the next row, reporting false at the end.
func (it *partIter) next() (bool, error) {
	if it.blk != nil && it.i+1 < len(it.blk.rows) {
		it.i++
		return true, nil
	}
	if it.blk != nil {
		it.retired = append(it.retired, it.blk)
		it.blk = nil
	}
	if it.bi >= len(it.p.blocks) {
		return false, nil
	}
	bh := &it.p.blocks[it.bi]
	it.bi++
	var bb *blockBufs
	if k := len(it.free); k > 0 {
		bb, it.free = it.free[k-1], it.free[:k-1]
	} else {
		bb = &blockBufs{}
	}
	it.r.cols, it.r.tsRaw = bb.cols, bb.tsRaw
	it.r.reset(it.p, bh)
	ts, err := it.r.timestamps()
	if err == nil {
		err = it.r.loadAll()
	}
	bb.cols, bb.tsRaw = it.r.cols, it.r.tsRaw
	it.r.cols, it.r.tsRaw = nil, nil
	if err != nil {
		return false, err
	}
	n := int(bh.rows)
	bb.evs = resize(bb.evs, n)
	bb.rows = resize(bb.rows, n)
	for i := range n {
		ev := &bb.evs[i]
		ev.Reset()
		ev.Grow(len(bh.cols))
		ev.Time = timeOf(ts[i])
		size := 16
		for ci := range bb.cols {
			c := &bb.cols[ci]
			if c.present(i) {
				name := bh.cols[ci].name
				v := c.value(i)
				ev.AppendField(name, v)
				size += approxValueSize(v) + len(name) + 2
			}
		}
		bb.rows[i] = row{t: ts[i], ev: ev, n: size}
	}
	it.blk, it.i = bb, 0
	return true, nil
}

func approxValueSize(v event.Value) int {
	if s, ok := v.Str(); ok {
		return len(s) + 2
	}
	return 9
}

type iterHeap []*partIter

func (h iterHeap) Len() int { return len(h) }
func (h iterHeap) Less(i, j int) bool {
	a, b := h[i].cur().t, h[j].cur().t
	return a < b || (a == b && h[i].order < h[j].order)
}
func (h iterHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *iterHeap) Push(x any)   { *h = append(*h, x.(*partIter)) }
func (h *iterHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
