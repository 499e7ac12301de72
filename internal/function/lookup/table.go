package lookup

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Match modes.
const (
	matchExact    = "exact"
	matchCIDR     = "cidr"
	matchWildcard = "wildcard"
	matchRegex    = "regex"
)

// cell is one output field of a row, its name final (renamed, under the
// target) and its value ready to set, so a hit costs no allocation.
type cell struct {
	name string
	val  event.Value
}

// table is a loaded lookup table, indexed for one match mode. It is
// immutable once built: Apply reads it from many goroutines while a reload
// builds the next one.
type table struct {
	rows     [][]cell
	defaults []cell
	// One of these is set, by match mode.
	exact   map[string]int32
	cidr    *cidrIndex
	wild    *wildIndex
	regexes []regexEntry
}

type regexEntry struct {
	re  *regexp.Regexp
	row int32
}

// outputSpec says which columns become fields, and under which names.
type outputSpec struct {
	match      string
	ignoreCase bool
	fields     []string // output_fields; empty means every column but the keys
	rename     renames  // column (or dotted column prefix) -> field name
	target     string
	defaults   map[string]string
}

// build indexes raw for o.match and computes each row's output cells.
func build(path string, raw *rawTable, o *outputSpec) (*table, error) {
	names, err := o.outputNames(raw)
	if err != nil {
		return nil, err
	}
	t := &table{rows: make([][]cell, len(raw.rows))}
	for i := range raw.rows {
		cells := make([]cell, 0, len(raw.rows[i].cells))
		for _, c := range raw.rows[i].cells {
			if names[c.col] != "" {
				cells = append(cells, cell{name: names[c.col], val: c.val})
			}
		}
		t.rows[i] = cells
	}
	dk := make([]string, 0, len(o.defaults))
	for k := range o.defaults {
		dk = append(dk, k)
	}
	sort.Strings(dk)
	for _, k := range dk {
		t.defaults = append(t.defaults, cell{name: fnutil.Join(o.target, o.rename.apply(k)), val: event.String(o.defaults[k])})
	}
	switch o.match {
	case matchExact:
		t.exact = make(map[string]int32, len(raw.rows))
		for i := range raw.rows {
			k := o.fold(raw.rows[i].key)
			if _, dup := t.exact[k]; !dup {
				t.exact[k] = int32(i)
			}
		}
	case matchCIDR:
		t.cidr = newCIDRIndex()
		for i := range raw.rows {
			p, err := parseCIDR(raw.rows[i].key)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, raw.rows[i].line, err)
			}
			t.cidr.insert(p, int32(i))
		}
	case matchWildcard:
		keys := make([]string, len(raw.rows))
		for i := range raw.rows {
			keys[i] = o.fold(raw.rows[i].key)
		}
		t.wild = newWildIndex(keys)
	case matchRegex:
		prefix := ""
		if o.ignoreCase {
			prefix = "(?i)"
		}
		for i := range raw.rows {
			re, err := regexp.Compile(prefix + raw.rows[i].key)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: invalid regular expression %q: %v", path, raw.rows[i].line, raw.rows[i].key, err)
			}
			t.regexes = append(t.regexes, regexEntry{re: re, row: int32(i)})
		}
	}
	return t, nil
}

// fold lowercases a key when matching ignores case. Regular expressions
// ignore case with (?i) instead, and IP addresses have no case.
func (o *outputSpec) fold(s string) string {
	if o.ignoreCase && (o.match == matchExact || o.match == matchWildcard) {
		return strings.ToLower(s)
	}
	return s
}

// outputNames returns the output field name of every column of raw, or ""
// for the columns that are not output.
func (o *outputSpec) outputNames(raw *rawTable) ([]string, error) {
	selected := make([]bool, len(raw.columns))
	if len(o.fields) == 0 {
		for i := range selected {
			selected[i] = true
		}
		for _, k := range raw.keyCols {
			selected[k] = false
		}
	}
	for _, f := range o.fields {
		found := false
		for i, c := range raw.columns {
			if fnutil.Under(c, f) {
				selected[i], found = true, true
			}
		}
		// A JSON table with no rows has no columns to check against.
		if !found && len(raw.columns) > 0 {
			return nil, &keyError{key: "output_fields", err: fmt.Errorf("the lookup table has no column %q (columns: %s)", f, strings.Join(raw.columns, ", "))}
		}
	}
	for from := range o.rename {
		found := false
		for _, c := range raw.columns {
			found = found || fnutil.Under(c, from)
		}
		if !found && len(raw.columns) > 0 {
			return nil, &keyError{key: "rename", err: fmt.Errorf("the lookup table has no column %q to rename (columns: %s)", from, strings.Join(raw.columns, ", "))}
		}
	}
	names := make([]string, len(raw.columns))
	for i, c := range raw.columns {
		if selected[i] {
			names[i] = fnutil.Join(o.target, o.rename.apply(c))
		}
	}
	return names, nil
}

type renames map[string]string

// apply returns the field name of column c: its rename, or the rename of
// the longest renamed object it is in, or c itself.
func (r renames) apply(c string) string {
	if to, ok := r[c]; ok {
		return to
	}
	for i := len(c) - 1; i > 0; i-- {
		if c[i] == '.' {
			if to, ok := r[c[:i]]; ok {
				return to + c[i:]
			}
		}
	}
	return c
}

// parseCIDR parses a key of a cidr table: a prefix (10.0.0.0/8, 2001:db8::/32)
// or a single address, which is a /32 or /128. Host bits are cleared, so
// 10.1.2.3/8 is 10.0.0.0/8. IPv4-mapped IPv6 prefixes (::ffff:10.0.0.0/104)
// become IPv4 prefixes, as IPv4-mapped event addresses are looked up as
// IPv4.
func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	if strings.IndexByte(s, '/') >= 0 {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("invalid CIDR %q: want an address/prefix-length like 10.0.0.0/8 or 2001:db8::/32", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("invalid CIDR %q: want an address/prefix-length like 10.0.0.0/8 or 2001:db8::/32, or a single address", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// find returns the row whose key matches key, by the table's match mode.
func (t *table) find(key string) (int32, bool) {
	switch {
	case t.exact != nil:
		i, ok := t.exact[key]
		return i, ok
	case t.cidr != nil:
		a, err := netip.ParseAddr(key)
		if err != nil {
			return 0, false
		}
		return t.cidr.lookup(a)
	case t.wild != nil:
		return t.wild.lookup(key)
	default:
		for _, r := range t.regexes {
			if r.re.MatchString(key) {
				return r.row, true
			}
		}
		return 0, false
	}
}
