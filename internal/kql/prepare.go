package kql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// TimestampField is the field that stands for an event's time (Event.Time).
const TimestampField = event.TimestampField

// Prepare returns a copy of n with everything Match needs precomputed (query
// tokens lowercased, numbers and dates parsed, patterns compiled), with
// "now" in date math standing for now. Parse and ParseAt return prepared
// trees; call Prepare on trees built by hand (for example from an
// Elasticsearch query), which Match otherwise prepares again on every call.
func Prepare(n Node, now time.Time) Node {
	switch n := n.(type) {
	case *And:
		out := &And{Nodes: make([]Node, len(n.Nodes))}
		for i, c := range n.Nodes {
			out.Nodes[i] = Prepare(c, now)
		}
		return out
	case *Or:
		out := &Or{Nodes: make([]Node, len(n.Nodes))}
		for i, c := range n.Nodes {
			out.Nodes[i] = Prepare(c, now)
		}
		return out
	case *Not:
		return &Not{Node: Prepare(n.Node, now)}
	case *Term:
		t := &Term{Field: n.Field, Value: n.Value, Phrase: n.Phrase, Wildcard: n.Wildcard}
		t.prep = prepareTerm(t, now)
		return t
	case *Range:
		r := &Range{Field: n.Field, Op: n.Op, Value: n.Value}
		r.prep = prepareRange(r, now)
		return r
	case *Nested:
		return prepareNested(&Nested{Path: n.Path, Query: Prepare(n.Query, now)}, now)
	case *Exists:
		return newExists(n.Field)
	case *MatchAll:
		return &MatchAll{}
	}
	return n
}

func newExists(field string) *Exists {
	sel := newFieldSel(field)
	return &Exists{Field: field, sel: &sel}
}

// fieldSel is a compiled field selector.
type fieldSel struct {
	kind uint8
	name string
	glob *glob
	// internal: a pattern that starts with '_' may select internal fields;
	// other patterns, like free text, skip them.
	internal bool
	// ts: the selector may select @timestamp (Event.Time).
	ts bool
}

const (
	selAny     = iota // free text: every non-internal field
	selExact          // one field
	selPattern        // fields matching a pattern
)

func newFieldSel(field string) fieldSel {
	switch {
	case field == "":
		return fieldSel{kind: selAny}
	case strings.Contains(field, "*"):
		g := fieldGlob(field)
		return fieldSel{kind: selPattern, name: field, glob: g, internal: field[0] == '_', ts: g.match(TimestampField)}
	}
	return fieldSel{kind: selExact, name: field, ts: field == TimestampField}
}

// number is a query value that is a number.
type number struct {
	ok    bool
	isInt bool
	i     int64
	f     float64
}

// isNumberSyntax reports whether s is a decimal number: an optional sign,
// digits, an optional fraction and an optional exponent (no hex, no
// underscores, no Inf or NaN).
func isNumberSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == d {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

func parseNumber(s string) number {
	if !isNumberSyntax(s) {
		return number{}
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return number{ok: true, isInt: true, i: i, f: float64(i)}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return number{}
	}
	return number{ok: true, f: f}
}

// intExact reports whether float64(i) is exactly i.
func intExact(i int64) bool {
	f := float64(i)
	return f >= -(1<<63) && f < 1<<63 && int64(f) == i
}

// floatInt returns f as an int64 when f is a whole number in int64's range.
func floatInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// eqInt and eqFloat are exact equality with an event's integer or float;
// a value that cannot be represented exactly on the other side is unequal,
// so that equal numbers always have equal text (which RequiredTokens relies
// on).
func (n number) eqInt(x int64) bool {
	if n.isInt {
		return x == n.i
	}
	i, ok := floatInt(n.f)
	return ok && i == x
}

func (n number) eqFloat(x float64) bool {
	if n.isInt {
		return intExact(n.i) && float64(n.i) == x
	}
	return x == n.f
}

// canonical returns the texts an equal event number can have.
func (n number) canonical() []string {
	if n.isInt {
		out := []string{strconv.FormatInt(n.i, 10)}
		if intExact(n.i) {
			out = append(out, strconv.FormatFloat(float64(n.i), 'f', -1, 64))
		}
		return out
	}
	out := []string{strconv.FormatFloat(n.f, 'f', -1, 64)}
	if i, ok := floatInt(n.f); ok {
		out = append(out, strconv.FormatInt(i, 10))
	}
	return out
}

// cmpInt and cmpFloat compare an event number with n.
func (n number) cmpInt(x int64) int {
	if n.isInt {
		return cmp3(x < n.i, x > n.i)
	}
	return cmpFloat(float64(x), n.f)
}

func (n number) cmpFloat(x float64) int { return cmpFloat(x, n.f) }

func cmpFloat(a, b float64) int { return cmp3(a < b, a > b) }

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// termPrep is what a Term's matching needs, computed once.
type termPrep struct {
	sel    fieldSel
	value  string
	tokens []string  // lowercase tokens of value (not for wildcards)
	wild   *wildcard // set for wildcard terms
	num    number
	isBool bool
	boolV  bool
	// Dates: start..end is the period value denotes. tsOK: value is a date
	// for @timestamp (any form ParseTime accepts); timeOK: for time-typed
	// values (not epoch milliseconds); dayOK: for strings that hold dates
	// (day precision or finer, or date math).
	tsOK, timeOK, dayOK bool
	start, end          time.Time
}

func prepareTerm(t *Term, now time.Time) *termPrep {
	p := &termPrep{sel: newFieldSel(t.Field), value: t.Value}
	if t.Wildcard {
		p.wild = compileWildcard(t.Value)
		return p
	}
	p.tokens = Tokens(t.Value)
	p.num = parseNumber(t.Value)
	p.isBool = t.Value == "true" || t.Value == "false"
	p.boolV = t.Value == "true"
	if start, end, ok := ParseTime(t.Value, now); ok {
		p.start, p.end, p.tsOK = start, end, true
		epoch := len(t.Value) > 4 && t.Value[0] >= '0' && t.Value[0] <= '9' && p.num.ok
		p.timeOK = !epoch
		p.dayOK = !epoch && dayPrecision(t.Value)
	}
	return p
}

func (p *termPrep) within(t time.Time) bool {
	return !t.Before(p.start) && !t.After(p.end)
}

// Range operators.
const (
	opGT = iota
	opGE
	opLT
	opLE
)

type rangePrep struct {
	sel   fieldSel
	op    int
	valid bool // Op is one of the four operators
	value string
	num   number
	tOK   bool
	t     time.Time // the bound: the period's end for > and <=, its start for >= and <
	start time.Time
	end   time.Time
}

func prepareRange(r *Range, now time.Time) *rangePrep {
	p := &rangePrep{sel: newFieldSel(r.Field), value: r.Value, num: parseNumber(r.Value), valid: true}
	switch r.Op {
	case ">":
		p.op = opGT
	case ">=":
		p.op = opGE
	case "<":
		p.op = opLT
	case "<=":
		p.op = opLE
	default:
		p.valid = false
	}
	if start, end, ok := ParseTime(r.Value, now); ok {
		p.tOK, p.start, p.end = true, start, end
		if p.op == opGT || p.op == opLE {
			p.t = end
		} else {
			p.t = start
		}
	}
	return p
}

// holds reports whether an event value that compares c to the query value
// satisfies the operator.
func (p *rangePrep) holds(c int) bool {
	switch p.op {
	case opGT:
		return c > 0
	case opGE:
		return c >= 0
	case opLT:
		return c < 0
	}
	return c <= 0
}

// prepareNested fills in n.resolved: the query with full field names.
func prepareNested(n *Nested, now time.Time) *Nested {
	n.resolved = Prepare(prefixFields(n.Query, n.Path+"."), now)
	return n
}

// prefixFields returns n with every field name under prefix; free text
// becomes the pattern prefix*.
func prefixFields(n Node, prefix string) Node {
	full := func(f string) string {
		if f == "" {
			return prefix + "*"
		}
		return prefix + f
	}
	switch n := n.(type) {
	case *And:
		out := &And{Nodes: make([]Node, len(n.Nodes))}
		for i, c := range n.Nodes {
			out.Nodes[i] = prefixFields(c, prefix)
		}
		return out
	case *Or:
		out := &Or{Nodes: make([]Node, len(n.Nodes))}
		for i, c := range n.Nodes {
			out.Nodes[i] = prefixFields(c, prefix)
		}
		return out
	case *Not:
		return &Not{Node: prefixFields(n.Node, prefix)}
	case *Term:
		return &Term{Field: full(n.Field), Value: n.Value, Phrase: n.Phrase, Wildcard: n.Wildcard}
	case *Exists:
		return &Exists{Field: full(n.Field)}
	case *Range:
		return &Range{Field: full(n.Field), Op: n.Op, Value: n.Value}
	case *Nested:
		return &Nested{Path: prefix + n.Path, Query: n.Query}
	case *MatchAll:
		return n
	}
	return n
}
