package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/internal/event"
)

// Search finds the events matching q: the first Limit of them in time
// order (newest first unless Reverse), after q.Cursor, and the exact count
// of all that match.
func (s *Store) Search(ctx context.Context, q Query) (*Result, error) {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit < 0:
		limit = 0
	case limit > MaxLimit:
		return nil, fmt.Errorf("store: limit %d is above the maximum %d", limit, MaxLimit)
	}
	var cursor *eventKey
	if q.Cursor != "" {
		k, err := parseID(q.Cursor)
		if err != nil {
			return nil, err
		}
		cursor = &k
	}
	pl, err := s.prepare(&q)
	if err != nil {
		return nil, err
	}
	defer pl.release()
	desc := !q.Reverse
	vs, err := s.scan(ctx, pl, desc, 0, func() visitor {
		return &searchVisitor{limit: limit, desc: desc, cursor: cursor}
	})
	if err != nil {
		return nil, err
	}
	return mergeSearch(vs, limit, desc, cursor), nil
}

// Count returns the number of events matching q (Limit and Cursor
// aside).
func (s *Store) Count(ctx context.Context, q Query) (int64, error) {
	q.Limit, q.Cursor = -1, ""
	res, err := s.Search(ctx, q)
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

// candidate is a row that may be among the hits.
type candidate struct {
	key eventKey
	ev  event.Event
}

// searchVisitor keeps the best limit rows it saw (a heap whose root is the
// worst of them) and counts every matching row.
type searchVisitor struct {
	limit   int
	desc    bool
	cursor  *eventKey
	total   int64
	heap    []candidate
	eq      []candidate // rows identical to the cursor's event
	eqN     int
	scratch []byte
}

func (v *searchVisitor) done() bool { return false }

// better reports whether a comes before b in the result order.
func (v *searchVisitor) better(a, b *eventKey) bool {
	c := cmpKey(a, b)
	if v.desc {
		return c > 0
	}
	return c < 0
}

// timeCanQualify reports whether a row at time t may still make the hits.
func (v *searchVisitor) timeCanQualify(t int64) bool {
	if v.cursor != nil && ((v.desc && t > v.cursor.t) || (!v.desc && t < v.cursor.t)) {
		return false
	}
	if len(v.heap) == v.limit {
		if v.limit == 0 {
			return false
		}
		w := v.heap[0].key.t
		return (v.desc && t >= w) || (!v.desc && t <= w)
	}
	return true
}

// blockCanQualify reports whether a row between minT and maxT may still
// make the hits.
func (v *searchVisitor) blockCanQualify(minT, maxT int64) bool {
	if v.limit == 0 {
		return false
	}
	lo, hi := minT, maxT
	if v.cursor != nil {
		if v.desc {
			hi = min(hi, v.cursor.t)
		} else {
			lo = max(lo, v.cursor.t)
		}
	}
	if len(v.heap) == v.limit {
		if w := v.heap[0].key.t; v.desc {
			lo = max(lo, w)
		} else {
			hi = min(hi, w)
		}
	}
	return lo <= hi
}

func (v *searchVisitor) fast(t *task) bool {
	if v.blockCanQualify(t.bh.minT, t.bh.maxT) {
		return false
	}
	v.total += int64(t.bh.rows)
	return true
}

func (v *searchVisitor) visit(m *blockMatch) error {
	v.total += int64(m.count())
	if !v.blockCanQualify(m.t.bh.minT, m.t.bh.maxT) {
		return nil
	}
	ts, err := m.r.timestamps()
	if err != nil {
		return err
	}
	var loadErr error
	var ev event.Event
	m.each(v.desc, func(row int) bool {
		t := ts[row]
		if !v.timeCanQualify(t) {
			// Rows come in result order: the rest cannot qualify either,
			// unless the cursor excluded this one (then later ones may).
			return v.cursor != nil && ((v.desc && t > v.cursor.t) || (!v.desc && t < v.cursor.t))
		}
		if loadErr = m.r.loadAll(); loadErr != nil {
			return false
		}
		m.r.fillEvent(row, &ev)
		k := eventKey{t: t, index: m.t.index}
		k.h, v.scratch = eventHash(&ev, v.scratch)
		if v.cursor != nil {
			switch c := cmpKey(&k, v.cursor); {
			case c == 0:
				v.eqN++
				if len(v.eq) < v.limit+v.cursor.ord+1 {
					v.eq = append(v.eq, candidate{key: k, ev: cloneEvent(&ev)})
				}
				return true
			case v.desc && c > 0, !v.desc && c < 0:
				return true
			}
		}
		if len(v.heap) == v.limit {
			if !v.better(&k, &v.heap[0].key) {
				return true
			}
			v.heap[0] = candidate{key: k, ev: cloneEvent(&ev)}
			v.down(0)
			return true
		}
		v.heap = append(v.heap, candidate{key: k, ev: cloneEvent(&ev)})
		v.up(len(v.heap) - 1)
		return true
	})
	return loadErr
}

// The heap keeps the worst candidate at the root.
func (v *searchVisitor) worse(i, j int) bool { return v.better(&v.heap[j].key, &v.heap[i].key) }

func (v *searchVisitor) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !v.worse(i, p) {
			return
		}
		v.heap[i], v.heap[p] = v.heap[p], v.heap[i]
		i = p
	}
}

func (v *searchVisitor) down(i int) {
	n := len(v.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && v.worse(r, l) {
			m = r
		}
		if !v.worse(m, i) {
			return
		}
		v.heap[i], v.heap[m] = v.heap[m], v.heap[i]
		i = m
	}
}

// mergeSearch combines the visitors' candidates into the page.
func mergeSearch(vs []visitor, limit int, desc bool, cursor *eventKey) *Result {
	res := &Result{}
	var all, eq []candidate
	for _, x := range vs {
		v := x.(*searchVisitor)
		res.Total += v.total
		all = append(all, v.heap...)
		eq = append(eq, v.eq...)
	}
	order := func(a, b candidate) int {
		c := cmpKey(&a.key, &b.key)
		if desc {
			return -c
		}
		return c
	}
	slices.SortStableFunc(all, order)
	var hits []candidate
	if cursor != nil && len(eq) > cursor.ord+1 {
		// Identical copies of the cursor's event not yet shown come first.
		for i, c := range eq[cursor.ord+1:] {
			c.key.ord = cursor.ord + 1 + i
			hits = append(hits, c)
		}
	}
	for i := range all {
		if i > 0 && cmpKey(&all[i].key, &all[i-1].key) == 0 {
			all[i].key.ord = all[i-1].key.ord + 1
		}
		hits = append(hits, all[i])
	}
	if len(hits) > limit {
		hits = hits[:limit]
	}
	res.Hits = make([]Hit, len(hits))
	for i, c := range hits {
		res.Hits[i] = Hit{Index: c.key.index, ID: c.key.String(), Event: c.ev}
	}
	if limit > 0 && len(hits) == limit {
		res.Cursor = res.Hits[len(hits)-1].ID
	}
	return res
}
