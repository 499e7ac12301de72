package store

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sluicehq/sluice/internal/event"
)

// partition is one day of one index.
type partition struct {
	idx *index
	day int64
	dir string

	// flushMu serializes flushes of the partition (and dropping it).
	flushMu sync.Mutex
	// listMu serializes changes to the parts list; it guards next and
	// dirReady.
	listMu   sync.Mutex
	next     uint64
	dirReady bool

	// mu guards the fields below. It is never held across I/O.
	mu      sync.Mutex
	parts   []*part // published; replaced, never modified in place
	cur     *memBuf
	dropped bool
	merging map[*part]bool
	noMerge map[*part]bool // parts a merge failed to read

	mergeQueued atomic.Bool
	lastWrite   atomic.Int64 // Unix nanoseconds of the last flush
}

// snapshot returns the published parts with a reference taken on each;
// the caller releases them.
func (p *partition) snapshot() []*part {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pt := range p.parts {
		pt.acquire()
	}
	return slices.Clone(p.parts)
}

func (s *Store) flushLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.flushAll(false)
		case <-s.kick:
			s.flushAll(true)
		}
	}
}

// flushAll flushes every partition's buffer (only those past FlushBytes
// when onlyFull, unless writers wait for buffer room), several partitions
// at once.
func (s *Store) flushAll(onlyFull bool) {
	if s.buffered.Load() > s.opts.MaxBufferedBytes {
		// Writers wait for room: flush every buffer, full or not.
		onlyFull = false
	}
	var ps []*partition
	s.mu.RLock()
	for _, idx := range s.indices {
		idx.mu.Lock()
		for _, p := range idx.parts {
			p.mu.Lock()
			if p.cur != nil && len(p.cur.rows) > 0 && (!onlyFull || p.cur.bytes >= s.opts.FlushBytes) {
				ps = append(ps, p)
			}
			p.mu.Unlock()
		}
		idx.mu.Unlock()
	}
	s.mu.RUnlock()
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, p := range ps {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.flushPartition(p)
		}()
	}
	wg.Wait()
	s.flushDone()
}

// flushPartition writes p's buffer as a new part and answers its writers.
func (s *Store) flushPartition(p *partition) {
	p.flushMu.Lock()
	defer p.flushMu.Unlock()
	p.mu.Lock()
	mb, dropped := p.cur, p.dropped
	p.cur = nil
	p.mu.Unlock()
	if mb == nil || len(mb.rows) == 0 {
		return
	}
	if dropped {
		// The index was deleted (or the day dropped) after these events
		// were accepted: they were stored, then deleted with it.
		mb.finish(s, nil)
		return
	}
	rows, err := s.writeFlush(p, mb)
	if errors.Is(err, errDropped) {
		mb.finish(s, nil)
		return
	}
	if err != nil {
		s.c.flushErrors.Add(1)
		s.log.Error("store: cannot flush events; the writers were told to retry", "index", p.idx.name,
			"day", dayName(p.day), "events", len(mb.rows), "err", err)
	}
	mb.finish(s, err)
	if err == nil {
		s.c.flushes.Add(1)
		p.lastWrite.Store(s.opts.Now().UnixNano())
		s.publish(p.idx.name, rows)
		s.scheduleMerge(p)
	}
}

// writeFlush turns a write buffer into a published part and returns its
// rows (time-sorted) for the subscribers.
func (s *Store) writeFlush(p *partition, mb *memBuf) ([]row, error) {
	rs := mb.rows
	slices.SortStableFunc(rs, func(a, b memRow) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	})
	// The events are decoded block by block by the builders (decoding
	// them all at once would double the buffer's memory).
	rows := make([]row, len(rs))
	for i, r := range rs {
		rows[i] = row{t: r.t, raw: mb.bufs[r.buf][r.off : r.off+r.n], n: int(r.n)}
	}
	blocks := s.buildBlocks(rows, s.zencFlush)
	_, err := s.writePart(p, func(w *partWriter) error {
		for _, b := range blocks {
			if err := w.add(b); err != nil {
				return err
			}
		}
		return nil
	}, mb.raw, s.zencFlush, nil)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// buildBlocks encodes time-sorted rows into blocks, in parallel.
func (s *Store) buildBlocks(rows []row, zenc *zstd.Encoder) []*builtBlock {
	ends := cutBlocks(rows)
	out := make([][]*builtBlock, len(ends))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ends)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := s.getBuilder()
			defer s.builders.Put(b)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ends) {
					return
				}
				start := 0
				if i > 0 {
					start = ends[i-1]
				}
				chunk := rows[start:ends[i]]
				decoded := decodeRows(chunk, &b.evs)
				for len(chunk) > 0 {
					bb, n := b.build(chunk, zenc)
					out[i] = append(out[i], bb)
					chunk = chunk[n:]
				}
				if decoded {
					for j := start; j < ends[i]; j++ {
						rows[j].ev.Reset() // keep no pointer into the write buffer
						rows[j].ev = nil
					}
				}
			}
		}()
	}
	wg.Wait()
	var flat []*builtBlock
	for _, bs := range out {
		flat = append(flat, bs...)
	}
	return flat
}

// decodeRows decodes the rows that carry only their binary encoding (from
// a write buffer) into evs (reused), and reports whether it did.
func decodeRows(rows []row, evs *[]event.Event) bool {
	if len(rows) == 0 || rows[0].ev != nil {
		return false
	}
	*evs = resize(*evs, len(rows))
	for i := range rows {
		ev := &(*evs)[i]
		if !decodeInto(ev, rows[i].raw) {
			// Encoded by Append a moment ago: a broken invariant.
			panic("store: cannot decode a buffered event")
		}
		rows[i].ev = ev
	}
	return true
}

func (s *Store) getBuilder() *blockBuilder {
	if b, ok := s.builders.Get().(*blockBuilder); ok {
		return b
	}
	return newBlockBuilder()
}

// writePart writes a new part into p with fill, makes it durable, and
// publishes it in place of replaced (none for a flush): the parts list is
// rewritten, then the in-memory list swapped. It returns the new part.
func (s *Store) writePart(p *partition, fill func(*partWriter) error, rawBytes uint64, zenc *zstd.Encoder, replaced []*part) (*part, error) {
	if err := p.ensureDir(); err != nil {
		return nil, err
	}
	p.listMu.Lock()
	num := p.next
	p.next++
	p.listMu.Unlock()
	tmp := filepath.Join(p.dir, tmpPrefix+partName(num))
	final := filepath.Join(p.dir, partName(num))
	w, err := createPartWriter(tmp)
	if err != nil {
		return nil, err
	}
	if err := fill(w); err != nil {
		w.abort()
		return nil, err
	}
	if err := w.finish(rawBytes, zenc); err != nil {
		w.abort()
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := syncDir(p.dir); err != nil {
		os.RemoveAll(final)
		return nil, err
	}
	pt, err := openPart(final, num, s.zdec)
	if err != nil {
		os.RemoveAll(final)
		return nil, err
	}

	p.listMu.Lock()
	defer p.listMu.Unlock()
	p.mu.Lock()
	cur, dropped := p.parts, p.dropped
	p.mu.Unlock()
	if dropped {
		pt.removeDir.Store(true)
		pt.release()
		return nil, errDropped
	}
	next := make([]*part, 0, len(cur)+1)
	for _, c := range cur {
		if !slices.Contains(replaced, c) {
			next = append(next, c)
		}
	}
	next = append(next, pt)
	slices.SortFunc(next, func(a, b *part) int { return cmpU64(a.num, b.num) })
	l := partList{next: p.next}
	for _, c := range next {
		l.nums = append(l.nums, c.num)
	}
	renamed, err := writePartList(p.dir, &l)
	if !renamed {
		pt.removeDir.Store(true)
		pt.release()
		return nil, err
	}
	p.mu.Lock()
	p.parts = next
	p.mu.Unlock()
	for _, old := range replaced {
		old.removeDir.Store(true)
		old.release()
	}
	// A failed directory fsync after the rename: the part is published,
	// but its writers hear the error and write again (duplicates, no loss).
	return pt, err
}

var errDropped = errors.New("store: partition dropped")

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ensureDir creates the partition directory (and its index's) durably.
func (p *partition) ensureDir() error {
	p.listMu.Lock()
	defer p.listMu.Unlock()
	if p.dirReady {
		return nil
	}
	if err := p.idx.ensureDir(); err != nil {
		return err
	}
	if err := os.Mkdir(p.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := syncDir(p.idx.dir); err != nil {
		return err
	}
	p.dirReady = true
	return nil
}
