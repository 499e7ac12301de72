package store

import (
	"sort"

	"github.com/sluicehq/sluice/internal/event"
)

// prefilter narrows the rows [lo, hi) that Match must see, with the
// clauses made only of field tokens whose columns in this block are
// dictionaries or constants: whether a row's value has a token is then
// known exactly from the dictionary entry (a clause is a necessary
// condition of Match). It sets sc.ok for the rows that may match and
// reports whether it pruned anything.
func (sc *scanner) prefilter(lo, hi int) (bool, error) {
	bh := sc.r.bh
	// Compile the checkable clauses into per-token checks.
	sc.checks = sc.checks[:0]
	sc.alts = sc.alts[:0]
	sc.cls = sc.cls[:0]
	for _, cl := range sc.pl.clauses {
		if !sc.checkable(cl) {
			continue
		}
		altStart := len(sc.alts)
		for _, alt := range cl {
			tokStart := len(sc.checks)
			for _, tr := range alt {
				k := len(sc.checks)
				if k < cap(sc.checks) {
					sc.checks = sc.checks[:k+1]
				} else {
					sc.checks = append(sc.checks, tokCheck{})
				}
				t := &sc.checks[k]
				*t = tokCheck{entryHas: t.entryHas[:0]}
				ci := bh.col(tr.field)
				if ci < 0 {
					t.never = true
					continue
				}
				c, err := sc.r.column(ci)
				if err != nil {
					return false, err
				}
				t.c = c
				if bh.cols[ci].enc&^encSparse == encConst {
					t.always = sc.valueHas(c.cnst, tr.hash)
					t.never = !t.always
					continue
				}
				for _, v := range c.dict {
					t.entryHas = append(t.entryHas, sc.valueHas(v, tr.hash))
				}
			}
			sc.alts = append(sc.alts, [2]int{tokStart, len(sc.checks)})
		}
		sc.cls = append(sc.cls, [2]int{altStart, len(sc.alts)})
	}
	if len(sc.cls) == 0 {
		return false, nil
	}
	sc.ok = resize(sc.ok, int(bh.rows))
	// Clauses of one token on a dense dictionary column (field:value, the
	// common case) first, in a tight loop; then the rest row by row.
	first := true
	general := sc.general[:0]
	for _, cl := range sc.cls {
		if cl[1]-cl[0] != 1 || sc.alts[cl[0]][1]-sc.alts[cl[0]][0] != 1 {
			general = append(general, cl)
			continue
		}
		t := &sc.checks[sc.alts[cl[0]][0]]
		if t.never || t.c.has != nil || t.c.enc != encDict {
			general = append(general, cl)
			continue
		}
		var table [256]bool
		copy(table[:], t.entryHas)
		idx := t.c.idx[lo:hi]
		ok := sc.ok[lo:hi]
		if first {
			for i, ix := range idx {
				ok[i] = table[ix]
			}
			first = false
		} else {
			for i, ix := range idx {
				ok[i] = ok[i] && table[ix]
			}
		}
	}
	if first {
		for i := lo; i < hi; i++ {
			sc.ok[i] = true
		}
	}
	sc.general = general
	for i := lo; i < hi; i++ {
		if len(general) == 0 {
			break
		}
		if !sc.ok[i] {
			continue
		}
		ok := true
		for _, cl := range general {
			clOK := false
			for _, alt := range sc.alts[cl[0]:cl[1]] {
				altOK := true
				for k := alt[0]; k < alt[1]; k++ {
					if !sc.checks[k].has(i) {
						altOK = false
						break
					}
				}
				if altOK {
					clOK = true
					break
				}
			}
			if !clOK {
				ok = false
				break
			}
		}
		sc.ok[i] = ok
	}
	return true, nil
}

// tokCheck tells whether a row's value in one column has one token.
type tokCheck struct {
	c             *colData
	always, never bool   // constant columns, absent columns
	entryHas      []bool // dictionary columns: per entry
}

func (t *tokCheck) has(row int) bool {
	switch {
	case t.never || !t.c.present(row):
		return false
	case t.always:
		return true
	}
	return t.entryHas[t.c.idx[row]]
}

// checkable reports whether every token of the clause is a field token
// whose column in the block is absent, a dictionary or a constant.
func (sc *scanner) checkable(cl [][]tokenReq) bool {
	bh := sc.r.bh
	for _, alt := range cl {
		for _, tr := range alt {
			if tr.field == "" {
				return false
			}
			if ci := bh.col(tr.field); ci >= 0 {
				if enc := bh.cols[ci].enc &^ encSparse; enc != encDict && enc != encConst {
					return false
				}
			}
		}
	}
	return len(cl) > 0
}

// valueHas reports whether the text of v has a token of hash h.
func (sc *scanner) valueHas(v event.Value, h uint64) bool {
	var s string
	if x, ok := v.Str(); ok {
		s = x
	} else {
		sc.scratch = appendValueText(sc.scratch[:0], v)
		s = bytesString(sc.scratch)
	}
	found := false
	sc.tokbuf = forEachToken(s, sc.tokbuf, func(tok []byte) {
		if !found && tokenHash(tok) == h {
			found = true
		}
	})
	return found
}

func (sc *scanner) block(t *task, v visitor) error {
	pl, r, bh := sc.pl, &sc.r, t.bh
	r.reset(t.p, bh)
	if pl.match != nil && len(pl.clauses) > 0 {
		ok, err := sc.bloomPass()
		if err != nil || !ok {
			return err
		}
	}
	inside := bh.minT >= pl.from && bh.maxT < pl.to
	if pl.match == nil && inside && v.fast(t) {
		return nil
	}
	m := blockMatch{r: r, t: t, hi: int(bh.rows), all: pl.match == nil}
	if !inside {
		ts, err := r.timestamps()
		if err != nil {
			return err
		}
		if !inside {
			m.lo = sort.Search(len(ts), func(i int) bool { return ts[i] >= pl.from })
			m.hi = sort.Search(len(ts), func(i int) bool { return ts[i] >= pl.to })
		}
	}
	if m.lo >= m.hi {
		return nil
	}
	if pl.match != nil {
		pruned, err := sc.prefilter(m.lo, m.hi)
		if err != nil {
			return err
		}
		sc.rows = sc.rows[:0]
		for i := m.lo; i < m.hi; i++ {
			if pruned && !sc.ok[i] {
				continue
			}
			if !sc.matchLoaded {
				if _, err := r.timestamps(); err != nil {
					return err
				}
				if err := sc.loadMatchColumns(); err != nil {
					return err
				}
				sc.matchLoaded = true
			}
			r.fillEvent(i, &sc.ev)
			if pl.match(&sc.ev) {
				sc.rows = append(sc.rows, i)
			}
		}
		sc.matchLoaded = false
		if len(sc.rows) == 0 {
			return nil
		}
		m.rows = sc.rows
	}
	return v.visit(&m)
}
