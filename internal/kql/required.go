package kql

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/sluicehq/sluice/internal/event"
)

// TokenSet is a conjunction of tokens: all of Tokens (lowercase, as
// Tokenize makes them, sorted, without duplicates) appear in the event.
//
// Field narrows where: when it is not "", the tokens are all in the value of
// the field Field, or of a field whose key is a dotted prefix of Field (a
// list of objects: "items" for "items.name"). "" means anywhere in the event.
type TokenSet struct {
	Field  string
	Tokens []string
}

// Clause is a disjunction: at least one of its token sets is in the event.
type Clause []TokenSet

// CNF is what RequiredTokens returns: every clause holds for every matching
// event. An empty CNF requires nothing.
type CNF []Clause

// MayMatch reports whether an event (or a block of events) with the tokens
// that mayContain admits can satisfy c: false means that no event there can
// match and the block can be skipped.
//
// mayContain(field, token) answers whether token may be in field (field ""
// means any field); a Bloom filter answers it with false positives, never
// false negatives. A store that keeps filters per field should answer for
// field and for the fields whose keys are dotted prefixes of it, and answer
// true for fields it does not index.
func (c CNF) MayMatch(mayContain func(field, token string) bool) bool {
	for _, clause := range c {
		ok := false
		for _, set := range clause {
			all := true
			for _, tok := range set.Tokens {
				if !mayContain(set.Field, tok) {
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
			return false
		}
	}
	return true
}

// String returns c for debugging and tests:
// "[message:connection+refused] and [status:500 | status:5e2]".
func (c CNF) String() string {
	var b strings.Builder
	for i, clause := range c {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteByte('[')
		for j, set := range clause {
			if j > 0 {
				b.WriteString(" | ")
			}
			if set.Field != "" {
				b.WriteString(set.Field)
				b.WriteByte(':')
			}
			b.WriteString(strings.Join(set.Tokens, "+"))
		}
		b.WriteByte(']')
	}
	return b.String()
}

// Limits that keep RequiredTokens small; dropping a clause only weakens
// the requirement, so they never make it unsound.
const (
	maxClauses      = 16
	maxAlternatives = 32
)

// RequiredTokens returns the tokens an event must contain to match n, as a
// CNF. It is sound: every event that Match accepts contains, for each
// clause, every token of at least one of its token sets, where "contains"
// means EventTokens emits it (for a set with a Field, under that field or a
// dotted prefix of it). So a store may skip a block when MayMatch says no
// for its Bloom filters, without losing a hit.
//
// It is not complete: a query that needs no particular token (not, ranges,
// exists, leading wildcards, dates) adds nothing, and an 'or' with such a
// branch requires nothing.
func RequiredTokens(n Node) CNF {
	c := required(n, "")
	for _, clause := range c {
		slices.SortFunc(clause, func(a, b TokenSet) int {
			if a.Field != b.Field {
				return strings.Compare(a.Field, b.Field)
			}
			return slices.Compare(a.Tokens, b.Tokens)
		})
	}
	return c
}

func required(n Node, prefix string) CNF {
	switch n := n.(type) {
	case *And:
		var all CNF
		for _, c := range n.Nodes {
			all = append(all, required(c, prefix)...)
		}
		return mergeAnd(all)
	case *Or:
		if len(n.Nodes) == 0 {
			return nil
		}
		var result CNF
		for i, c := range n.Nodes {
			r := required(c, prefix)
			if len(r) == 0 {
				return nil
			}
			if i == 0 {
				result = r
				continue
			}
			result = distribute(result, r)
			if len(result) == 0 {
				return nil
			}
		}
		return result
	case *Term:
		return termRequired(n, prefix)
	case *Nested:
		return required(n.Query, prefix+n.Path+".")
	}
	return nil
}

func termRequired(t *Term, prefix string) CNF {
	p := t.prep
	if p == nil {
		p = prepareTerm(t, time.Now())
	}
	field := ""
	if p.sel.kind == selExact {
		field = prefix + t.Field
	}
	if p.sel.ts && p.tsOK {
		return nil // matched against Event.Time, which has no tokens
	}
	var tokens []string
	if p.wild != nil {
		tokens = p.wild.literalTokens()
	} else {
		if p.dayOK {
			return nil // dates match by period, not by text
		}
		tokens = p.tokens
	}
	if len(tokens) == 0 {
		return nil
	}
	clause := Clause{{Field: field, Tokens: sortedSet(tokens)}}
	if p.wild == nil && p.num.ok {
		for _, c := range p.num.canonical() {
			toks := Tokens(c)
			if len(toks) == 0 {
				return nil
			}
			clause = addAlternative(clause, TokenSet{Field: field, Tokens: sortedSet(toks)})
		}
	}
	return CNF{clause}
}

func sortedSet(tokens []string) []string {
	out := slices.Clone(tokens)
	slices.Sort(out)
	return slices.Compact(out)
}

func addAlternative(c Clause, s TokenSet) Clause {
	for _, have := range c {
		if have.Field == s.Field && slices.Equal(have.Tokens, s.Tokens) {
			return c
		}
	}
	return append(c, s)
}

// mergeAnd merges the single-set clauses of the same field into one set,
// and drops duplicate clauses.
func mergeAnd(all CNF) CNF {
	var out CNF
	single := map[string]int{} // field -> index in out of its single-set clause
	for _, c := range all {
		if len(c) == 1 {
			if i, ok := single[c[0].Field]; ok {
				merged := append(slices.Clone(out[i][0].Tokens), c[0].Tokens...)
				out[i] = Clause{{Field: c[0].Field, Tokens: sortedSet(merged)}}
				continue
			}
			single[c[0].Field] = len(out)
			out = append(out, c)
			continue
		}
		dup := false
		for _, have := range out {
			if clauseEqual(have, c) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

func clauseEqual(a, b Clause) bool {
	return slices.EqualFunc(a, b, func(x, y TokenSet) bool {
		return x.Field == y.Field && slices.Equal(x.Tokens, y.Tokens)
	})
}

// distribute returns a CNF for (a or b): (a1 and a2) or (b1 and b2) is
// (a1 or b1) and (a1 or b2) and (a2 or b1) and (a2 or b2). Beyond the
// limits it keeps the strongest clauses only.
func distribute(a, b CNF) CNF {
	if len(a)*len(b) > maxClauses {
		a, b = strongest(a, 4), strongest(b, 4)
	}
	var out CNF
	for _, x := range a {
		for _, y := range b {
			c := slices.Clone(x)
			for _, s := range y {
				c = addAlternative(c, s)
			}
			if len(c) <= maxAlternatives {
				out = append(out, c)
			}
		}
	}
	return out
}

// strongest returns the n clauses that prune best: fewest alternatives,
// then most tokens.
func strongest(c CNF, n int) CNF {
	if len(c) <= n {
		return c
	}
	c = slices.Clone(c)
	size := func(cl Clause) int {
		t := 0
		for _, s := range cl {
			t += len(s.Tokens)
		}
		return t
	}
	slices.SortStableFunc(c, func(x, y Clause) int {
		if len(x) != len(y) {
			return len(x) - len(y)
		}
		return size(y) - size(x)
	})
	return c[:n]
}

// EventTokens calls emit for every token of every field of ev (internal
// fields included; not @timestamp, which is Event.Time), with the field's
// key. See ValueTokens for what a value's tokens are. The token is only
// valid during the call, as with Tokenize.
func EventTokens(ev *event.Event, emit func(field, token string)) {
	fields := ev.Fields()
	for i := range fields {
		key := fields[i].Key
		ValueTokens(fields[i].Value, func(tok string) { emit(key, tok) })
	}
}

// ValueTokens calls emit for the tokens of a value: for a string, its
// Tokenize tokens; for a number, boolean or timestamp, the tokens of its
// text (event.Value.Text: 500, 1.5, true, RFC 3339 in UTC); for a list, of
// each element, and for an object inside a list, of each member value. These
// are the tokens that Match's text comparisons see, so a store that indexes
// them can use RequiredTokens. The token is only valid during the call.
func ValueTokens(v event.Value, emit func(token string)) {
	if s, ok := v.Str(); ok {
		Tokenize(s, emit)
		return
	}
	elemTokens(v.Interface(), emit)
}

var numBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64); return &b }}

func elemTokens(x any, emit func(string)) {
	var bp *[]byte
	var b []byte
	switch x := x.(type) {
	case string:
		Tokenize(x, emit)
		return
	case bool:
		if x {
			emit("true")
		} else {
			emit("false")
		}
		return
	case int64:
		bp = numBufPool.Get().(*[]byte)
		b = strconv.AppendInt((*bp)[:0], x, 10)
	case float64:
		bp = numBufPool.Get().(*[]byte)
		b = strconv.AppendFloat((*bp)[:0], x, 'f', -1, 64)
	case time.Time:
		bp = numBufPool.Get().(*[]byte)
		b = x.UTC().AppendFormat((*bp)[:0], time.RFC3339Nano)
	case json.Number:
		elemTokens(normalizeNumber(x), emit)
		return
	case []any:
		for _, e := range x {
			elemTokens(e, emit)
		}
		return
	case map[string]any:
		for _, e := range x {
			elemTokens(e, emit)
		}
		return
	default:
		return
	}
	Tokenize(unsafe.String(unsafe.SliceData(b), len(b)), emit)
	*bp = b
	numBufPool.Put(bp)
}

// TimeBounds returns the period of @timestamp that a matching event must
// fall in, from ranges and terms on @timestamp joined by 'and' at the top of
// n ('or' of bounded branches gives their hull). Both bounds are inclusive;
// a zero from or to means unbounded on that side. ok is false when n does
// not bound @timestamp. When from is after to, nothing can match.
func TimeBounds(n Node) (from, to time.Time, ok bool) {
	b := bounds(n)
	if !b.hasFrom && !b.hasTo {
		return time.Time{}, time.Time{}, false
	}
	if b.hasFrom {
		from = b.from
	}
	if b.hasTo {
		to = b.to
	}
	return from, to, true
}

type timeBounds struct {
	from, to       time.Time
	hasFrom, hasTo bool
}

func bounds(n Node) timeBounds {
	switch n := n.(type) {
	case *And:
		var b timeBounds
		for _, c := range n.Nodes {
			cb := bounds(c)
			if cb.hasFrom && (!b.hasFrom || cb.from.After(b.from)) {
				b.from, b.hasFrom = cb.from, true
			}
			if cb.hasTo && (!b.hasTo || cb.to.Before(b.to)) {
				b.to, b.hasTo = cb.to, true
			}
		}
		return b
	case *Or:
		if len(n.Nodes) == 0 {
			return timeBounds{}
		}
		b := bounds(n.Nodes[0])
		for _, c := range n.Nodes[1:] {
			cb := bounds(c)
			b.hasFrom = b.hasFrom && cb.hasFrom
			if b.hasFrom && cb.from.Before(b.from) {
				b.from = cb.from
			}
			b.hasTo = b.hasTo && cb.hasTo
			if b.hasTo && cb.to.After(b.to) {
				b.to = cb.to
			}
		}
		return b
	case *Range:
		if n.Field != TimestampField {
			return timeBounds{}
		}
		p := n.prep
		if p == nil {
			p = prepareRange(n, time.Now())
		}
		if !p.valid || !p.tOK {
			return timeBounds{}
		}
		switch p.op {
		case opGT:
			return timeBounds{from: p.t.Add(1), hasFrom: true}
		case opGE:
			return timeBounds{from: p.t, hasFrom: true}
		case opLT:
			return timeBounds{to: p.t.Add(-1), hasTo: true}
		default:
			return timeBounds{to: p.t, hasTo: true}
		}
	case *Term:
		if n.Field != TimestampField || n.Wildcard {
			return timeBounds{}
		}
		p := n.prep
		if p == nil {
			p = prepareTerm(n, time.Now())
		}
		if !p.tsOK {
			return timeBounds{}
		}
		return timeBounds{from: p.start, to: p.end, hasFrom: true, hasTo: true}
	}
	return timeBounds{}
}
