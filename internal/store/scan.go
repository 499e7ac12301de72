package store

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// tokenReq is one token of a clause alternative.
type tokenReq struct {
	field string // "" for any column
	hash  uint64
}

// plan is a query prepared for scanning: its time range, filter, and the
// parts to read (with a reference held on each).
type plan struct {
	from, to int64 // from <= t < to
	match    func(*event.Event) bool
	clauses  [][][]tokenReq
	fields   []string
	targets  []target
}

type target struct {
	index string
	p     *part
}

func (pl *plan) release() {
	for _, t := range pl.targets {
		t.p.release()
	}
	pl.targets = nil
}

// prepare resolves q's indices and time range into parts.
func (s *Store) prepare(q *Query) (*plan, error) {
	pl := &plan{from: math.MinInt64, to: math.MaxInt64, match: q.Filter.Match, fields: q.Filter.Fields}
	if !q.From.IsZero() {
		pl.from = clampNano(q.From)
	}
	if !q.To.IsZero() {
		pl.to = clampNano(q.To)
	}
	if pl.match != nil {
		for _, cl := range q.Filter.Clauses {
			if len(cl) == 0 {
				continue
			}
			var alts [][]tokenReq
			for _, alt := range cl {
				reqs := make([]tokenReq, 0, len(alt))
				for _, tok := range alt {
					field := ""
					if i := strings.LastIndexByte(tok, 0); i >= 0 {
						field, tok = tok[:i], tok[i+1:]
					}
					reqs = append(reqs, tokenReq{field: field, hash: tokenHashString(tok)})
				}
				alts = append(alts, reqs)
			}
			pl.clauses = append(pl.clauses, alts)
		}
	}
	if pl.from >= pl.to {
		return pl, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	firstDay, lastDay := dayOf(pl.from), dayOf(pl.to-1)
	for name, idx := range s.indices {
		if !matchIndex(q.Indices, name) {
			continue
		}
		for _, p := range idx.partitionList() {
			if p.day < firstDay || p.day > lastDay {
				continue
			}
			for _, pt := range p.snapshot() {
				if pt.meta.maxT < pl.from || pt.meta.minT >= pl.to {
					pt.release()
					continue
				}
				pl.targets = append(pl.targets, target{index: name, p: pt})
			}
		}
	}
	return pl, nil
}

func clampNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// task is one block to scan.
type task struct {
	index string
	p     *part
	bh    *blockHeader
}

// tasks lists the blocks overlapping the time range, newest first when
// desc (so top-k searches fill up with the best rows early).
func (pl *plan) tasks(desc bool) []task {
	var ts []task
	for _, t := range pl.targets {
		for i := range t.p.blocks {
			bh := &t.p.blocks[i]
			if bh.maxT < pl.from || bh.minT >= pl.to {
				continue
			}
			ts = append(ts, task{index: t.index, p: t.p, bh: bh})
		}
	}
	if desc {
		slices.SortFunc(ts, func(a, b task) int { return cmpI64(b.bh.maxT, a.bh.maxT) })
	} else {
		slices.SortFunc(ts, func(a, b task) int { return cmpI64(a.bh.minT, b.bh.minT) })
	}
	return ts
}

func cmpI64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// blockMatch is what a visitor gets for one block: the rows in the time
// range [lo, hi) that matched, as a list (rows), or all of them (all).
type blockMatch struct {
	r      *blockReader
	t      *task
	lo, hi int
	all    bool
	rows   []int
}

// each calls fn for the matching rows, in ascending order, or descending
// when desc; fn returns false to stop.
func (m *blockMatch) each(desc bool, fn func(row int) bool) {
	if m.all {
		if desc {
			for i := m.hi - 1; i >= m.lo; i-- {
				if !fn(i) {
					return
				}
			}
			return
		}
		for i := m.lo; i < m.hi; i++ {
			if !fn(i) {
				return
			}
		}
		return
	}
	if desc {
		for i := len(m.rows) - 1; i >= 0; i-- {
			if !fn(m.rows[i]) {
				return
			}
		}
		return
	}
	for _, r := range m.rows {
		if !fn(r) {
			return
		}
	}
}

func (m *blockMatch) count() int {
	if m.all {
		return m.hi - m.lo
	}
	return len(m.rows)
}

// visitor accumulates the results of a scan; each scanning goroutine has
// its own.
type visitor interface {
	// fast may account for a whole block from its header alone, when every
	// row of the block matches (no Match, block inside the time range);
	// it reports whether it did.
	fast(t *task) bool
	// visit accounts for the matching rows of a block (at least one).
	visit(m *blockMatch) error
	// done reports that the visitor needs no more blocks.
	done() bool
}

// scan runs the visitors over the plan's blocks with workers goroutines
// (0: GOMAXPROCS). It returns the visitors, one per goroutine.
func (s *Store) scan(ctx context.Context, pl *plan, desc bool, workers int, newVisitor func() visitor) ([]visitor, error) {
	tasks := pl.tasks(desc)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(tasks)))
	vs := make([]visitor, workers)
	for i := range vs {
		vs[i] = newVisitor()
	}
	var next atomic.Int64
	var stop atomic.Bool
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := s.getScanner(pl)
			defer s.putScanner(sc)
			v := vs[w]
			for !stop.Load() {
				if err := ctx.Err(); err != nil {
					errOnce.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				i := int(next.Add(1) - 1)
				if i >= len(tasks) {
					return
				}
				if err := sc.block(&tasks[i], v); err != nil {
					var ce *CorruptError
					if errors.As(err, &ce) {
						s.c.corruptBlocks.Add(1)
						if p := tasks[i].p; p.reported.CompareAndSwap(false, true) {
							// Once per part: every search meets it again.
							s.log.Error("store: skipping a damaged block (searches skip the damaged blocks of this part from now on without logging)",
								"part", p.dir, "err", err)
						}
						continue
					}
					errOnce.Do(func() { firstErr = err })
					stop.Store(true)
					return
				}
				if v.done() {
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return vs, firstErr
}

func (s *Store) getScanner(pl *plan) *scanner {
	sc, ok := s.scanners.Get().(*scanner)
	if !ok {
		sc = &scanner{s: s, r: blockReader{zdec: s.zdec}}
	}
	sc.pl = pl
	return sc
}

// putScanner keeps a scanner's buffers for the next search (without
// references to parts or events).
func (s *Store) putScanner(sc *scanner) {
	sc.pl, sc.r.p, sc.r.bh = nil, nil, nil
	sc.ev.Reset()
	s.scanners.Put(sc)
}

// scanner is one scanning goroutine's state.
type scanner struct {
	s    *Store
	pl   *plan
	r    blockReader
	ev   event.Event
	rows []int
	// prefilter state (see prefilter)
	ok                 []bool
	checks             []tokCheck
	alts, cls, general [][2]int // ranges of checks, of alts
	scratch, tokbuf    []byte
	matchLoaded        bool
}

// loadMatchColumns decodes the columns Match needs.
func (sc *scanner) loadMatchColumns() error {
	if sc.pl.fields == nil {
		return sc.r.loadAll()
	}
	for i := range sc.r.bh.cols {
		if wantField(sc.pl.fields, sc.r.bh.cols[i].name) {
			if _, err := sc.r.column(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// wantField reports whether name is one of fields or below one.
func wantField(fields []string, name string) bool {
	for _, f := range fields {
		if name == f || (len(name) > len(f) && name[len(f)] == '.' && strings.HasPrefix(name, f)) {
			return true
		}
	}
	return false
}

// bloomPass checks the plan's clauses against the block's Bloom filters.
func (sc *scanner) bloomPass() (bool, error) {
	bits, err := sc.r.bloom()
	if err != nil {
		return false, err
	}
	bh := sc.r.bh
	colBits := func(i int) []byte {
		c := &bh.cols[i]
		return bits[8*c.bloomOff : 8*(c.bloomOff+c.bloomWords)]
	}
	has := func(tr tokenReq) bool {
		if tr.field != "" {
			i := bh.col(tr.field)
			return i >= 0 && bloomHas(colBits(i), tr.hash)
		}
		for i := range bh.cols {
			if bloomHas(colBits(i), tr.hash) {
				return true
			}
		}
		return false
	}
	for _, cl := range sc.pl.clauses {
		ok := false
		for _, alt := range cl {
			all := true
			for _, tr := range alt {
				if !has(tr) {
					all = false
					break
				}
			}
			if all {
				ok = true
				break
			}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}
