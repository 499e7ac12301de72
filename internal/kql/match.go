package kql

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Match reports whether ev matches the query n. It is the reference
// semantics of KQL in Sluice (see the package documentation), used by the
// store as its per-event check after skipping blocks. A nil node matches
// everything.
//
// Match is safe for concurrent use. For the common queries over string
// fields it does not allocate, provided n was built by Parse or Prepare.
func Match(n Node, ev *event.Event) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *And:
		for _, c := range n.Nodes {
			if !Match(c, ev) {
				return false
			}
		}
		return true
	case *Or:
		for _, c := range n.Nodes {
			if Match(c, ev) {
				return true
			}
		}
		return false
	case *Not:
		return !Match(n.Node, ev)
	case *MatchAll:
		return true
	case *Term:
		p := n.prep
		if p == nil {
			p = prepareTerm(n, time.Now())
		}
		return selectValues(&p.sel, ev, p)
	case *Range:
		p := n.prep
		if p == nil {
			p = prepareRange(n, time.Now())
		}
		return p.valid && selectValues(&p.sel, ev, p)
	case *Exists:
		if n.sel != nil {
			return exists(n.sel, ev)
		}
		sel := newFieldSel(n.Field)
		return exists(&sel, ev)
	case *Nested:
		return matchNested(n, ev)
	}
	return false
}

// valueTest is a test of one value: a Term's or a Range's.
type valueTest interface {
	// str tests a string value.
	str(s string) bool
	// elem tests any other value: int64, float64, bool, nil, time.Time,
	// []any (any element), map[string]any (an object: its values when deep
	// is set, for free text; nothing otherwise) or json.Number.
	elem(x any, deep bool) bool
	// timestamp tests the event's @timestamp.
	timestamp(t time.Time) bool
}

func testValue(t valueTest, v event.Value, deep bool) bool {
	if s, ok := v.Str(); ok {
		return t.str(s)
	}
	return t.elem(v.Interface(), deep)
}

// selectValues reports whether any value that sel selects in ev passes t.
func selectValues(sel *fieldSel, ev *event.Event, t valueTest) bool {
	fields := ev.Fields()
	switch sel.kind {
	case selAny:
		for i := range fields {
			f := &fields[i]
			if !event.IsInternal(f.Key) && testValue(t, f.Value, true) {
				return true
			}
		}
		return false
	case selExact:
		if sel.ts {
			return !ev.Time.IsZero() && t.timestamp(ev.Time)
		}
		name := sel.name
		for i := range fields {
			f := &fields[i]
			k := f.Key
			if k == name {
				if testValue(t, f.Value, false) {
					return true
				}
				continue
			}
			// A path into a list of objects: items.name in {"items":[{"name":…}]}.
			if len(k) < len(name) && name[len(k)] == '.' && strings.HasPrefix(name, k) && !f.Value.IsString() {
				if descend(f.Value.Interface(), name[len(k)+1:], t) {
					return true
				}
			}
		}
		return false
	}
	if sel.ts && !ev.Time.IsZero() && t.timestamp(ev.Time) {
		return true
	}
	for i := range fields {
		f := &fields[i]
		if event.IsInternal(f.Key) && !sel.internal {
			continue
		}
		if sel.glob.match(f.Key) && testValue(t, f.Value, false) {
			return true
		}
		if !f.Value.IsString() {
			hit := walkLeaves(f.Key, f.Value.Interface(), func(path string, x any) bool {
				return sel.glob.match(path) && t.elem(x, false)
			})
			if hit {
				return true
			}
		}
	}
	return false
}

// descend tests the values at the dotted path rest inside x, a list or an
// object kept as a Go value.
func descend(x any, rest string, t valueTest) bool {
	switch x := x.(type) {
	case []any:
		for _, e := range x {
			if descend(e, rest, t) {
				return true
			}
		}
	case map[string]any:
		if v, ok := x[rest]; ok && t.elem(v, false) {
			return true
		}
		for d := 0; d < len(rest); d++ {
			if rest[d] == '.' {
				if v, ok := x[rest[:d]]; ok && descend(v, rest[d+1:], t) {
					return true
				}
			}
		}
	}
	return false
}

// walkLeaves calls fn with the full dotted path of every member of the
// objects inside x (lists of objects, objects of lists…) until fn returns
// true.
func walkLeaves(prefix string, x any, fn func(path string, x any) bool) bool {
	switch x := x.(type) {
	case []any:
		for _, e := range x {
			if walkLeaves(prefix, e, fn) {
				return true
			}
		}
	case map[string]any:
		for k, v := range x {
			path := prefix + "." + k
			if fn(path, v) || walkLeaves(path, v, fn) {
				return true
			}
		}
	}
	return false
}

// normalizeNumber turns a json.Number into int64 or float64 as event.Any
// does; other values are returned as they are.
func normalizeNumber(x any) any {
	if n, ok := x.(json.Number); ok {
		return event.Any(n).Interface()
	}
	return x
}

func (p *termPrep) str(s string) bool {
	if p.wild != nil {
		return p.wild.match(s)
	}
	if len(p.tokens) == 0 {
		return s == p.value
	}
	if containsTokens(s, p.tokens) {
		return true
	}
	if p.dayOK && len(s) >= 10 && s[0] >= '0' && s[0] <= '9' {
		if t, _, ok := parseTime(s, time.Time{}, false, false); ok {
			return p.within(t)
		}
	}
	return false
}

func (p *termPrep) elem(x any, deep bool) bool {
	switch x := x.(type) {
	case string:
		return p.str(x)
	case int64:
		if p.wild != nil {
			var buf [24]byte
			return p.wild.matchBytes(strconv.AppendInt(buf[:0], x, 10))
		}
		return p.num.ok && p.num.eqInt(x)
	case float64:
		if p.wild != nil {
			var buf [32]byte
			return p.wild.matchBytes(strconv.AppendFloat(buf[:0], x, 'f', -1, 64))
		}
		return p.num.ok && p.num.eqFloat(x)
	case bool:
		if p.wild != nil {
			return p.wild.match(strconv.FormatBool(x))
		}
		return p.isBool && x == p.boolV
	case time.Time:
		if p.timeOK {
			return p.within(x)
		}
		return p.str(x.UTC().Format(time.RFC3339Nano))
	case []any:
		for _, e := range x {
			if p.elem(e, deep) {
				return true
			}
		}
	case map[string]any:
		if deep {
			for _, v := range x {
				if p.elem(v, deep) {
					return true
				}
			}
		}
	case json.Number:
		return p.elem(normalizeNumber(x), deep)
	}
	return false
}

func (p *termPrep) timestamp(t time.Time) bool {
	return p.tsOK && p.within(t)
}

func (p *rangePrep) str(s string) bool {
	if p.num.ok && isNumberSyntax(s) {
		if n := parseNumber(s); n.ok {
			if n.isInt {
				return p.holds(p.num.cmpInt(n.i))
			}
			return p.holds(p.num.cmpFloat(n.f))
		}
	}
	if p.tOK && len(s) >= 4 && s[0] >= '0' && s[0] <= '9' {
		if t, _, ok := parseTime(s, time.Time{}, false, false); ok {
			return p.holds(t.Compare(p.t))
		}
	}
	return p.holds(strings.Compare(s, p.value))
}

func (p *rangePrep) elem(x any, deep bool) bool {
	switch x := x.(type) {
	case string:
		return p.str(x)
	case int64:
		if p.num.ok {
			return p.holds(p.num.cmpInt(x))
		}
		return p.holds(strings.Compare(strconv.FormatInt(x, 10), p.value))
	case float64:
		if p.num.ok {
			return p.holds(p.num.cmpFloat(x))
		}
		return p.holds(strings.Compare(strconv.FormatFloat(x, 'f', -1, 64), p.value))
	case bool:
		return p.holds(strings.Compare(strconv.FormatBool(x), p.value))
	case time.Time:
		if p.tOK {
			return p.holds(x.Compare(p.t))
		}
		return p.holds(strings.Compare(x.UTC().Format(time.RFC3339Nano), p.value))
	case []any:
		for _, e := range x {
			if p.elem(e, deep) {
				return true
			}
		}
	case json.Number:
		return p.elem(normalizeNumber(x), deep)
	}
	return false
}

func (p *rangePrep) timestamp(t time.Time) bool {
	return p.tOK && p.holds(t.Compare(p.t))
}

// present reports whether a value counts for Exists: not null, and not an
// empty list or object (as Elasticsearch's exists query).
func present(x any) bool {
	switch x := x.(type) {
	case nil:
		return false
	case []any:
		for _, e := range x {
			if present(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, v := range x {
			if present(v) {
				return true
			}
		}
		return false
	}
	return true
}

func presentValue(v event.Value) bool {
	if v.IsString() {
		return true
	}
	return present(v.Interface())
}

// existsTest is the valueTest of Exists.
type existsTest struct{}

func (existsTest) str(string) bool          { return true }
func (existsTest) elem(x any, _ bool) bool  { return present(x) }
func (existsTest) timestamp(time.Time) bool { return true }

// exists reports whether ev has a value in or below the selected fields.
func exists(sel *fieldSel, ev *event.Event) bool {
	if selectValues(sel, ev, existsTest{}) {
		return true
	}
	// Below: name.x for an exact name, or any object a pattern selects.
	if sel.kind == selAny {
		return false
	}
	fields := ev.Fields()
	for i := range fields {
		f := &fields[i]
		k := f.Key
		if !presentValue(f.Value) {
			continue
		}
		if sel.kind == selExact {
			if len(k) > len(sel.name) && k[len(sel.name)] == '.' && strings.HasPrefix(k, sel.name) {
				return true
			}
			continue
		}
		if event.IsInternal(k) && !sel.internal {
			continue
		}
		for d := 0; d < len(k); d++ {
			if k[d] == '.' && sel.glob.match(k[:d]) {
				return true
			}
		}
	}
	return false
}

// matchNested applies a nested query: within one object of a list at Path,
// or to the fields below Path when there are any.
func matchNested(n *Nested, ev *event.Event) bool {
	resolved := n.resolved
	if resolved == nil {
		resolved = prepareNested(&Nested{Path: n.Path, Query: n.Query}, time.Now()).resolved
	}
	// Like Elasticsearch's nested query, it needs an object at path: a
	// "not" inside does not make events without one match.
	sel := fieldSel{kind: selExact, name: n.Path}
	v, ok := ev.Lookup(n.Path)
	if !ok || v.IsString() {
		return exists(&sel, ev) && Match(resolved, ev)
	}
	list, isList := v.Interface().([]any)
	if !isList {
		return exists(&sel, ev) && Match(resolved, ev)
	}
	for _, e := range list {
		obj, isObj := e.(map[string]any)
		if !isObj {
			continue
		}
		var sub event.Event
		sub.Merge(obj)
		if Match(n.Query, &sub) {
			return true
		}
	}
	return false
}
