package mask

import (
	"regexp/syntax"
	"strings"
)

// A prefilter tells cheaply that a regex cannot match a string, so that the
// common line with nothing to mask never runs a regex. It may say "maybe"
// when the answer is no, never "no" when a match exists; FuzzPrefilter
// checks that.

// literal is a string every match contains (one of a set, see required).
type literal struct {
	s    string
	fold bool // ASCII case-insensitive; s is lower case
}

// literals is a prefilter: a match contains at least one of them.
type literals []literal

func (ls literals) match(s string) bool {
	for _, l := range ls {
		if l.fold {
			if containsFold(s, l.s) {
				return true
			}
		} else if strings.Contains(s, l.s) {
			return true
		}
	}
	return false
}

// maxLiterals bounds a prefilter's set: past it, checking each costs more
// than the regex would.
const maxLiterals = 16

// requiredLiterals returns a set of literals one of which every match of
// expr contains, or nil when it finds none worth checking.
func requiredLiterals(expr string) literals {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	ls := required(re)
	if score(ls) == 0 {
		return nil
	}
	return ls
}

// required walks the parse tree. Only nodes that must match at least once
// contribute: literals, groups, + and {n,} with n >= 1, concatenations (the
// best of their parts) and alternations (the union of their branches, when
// every branch has a set).
func required(re *syntax.Regexp) literals {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if re.Flags&syntax.FoldCase == 0 {
			return literals{{s: s}}
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return nil
			}
		}
		return literals{{s: strings.ToLower(s), fold: true}}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var best literals
		for _, sub := range re.Sub {
			if ls := required(sub); score(ls) > score(best) {
				best = ls
			}
		}
		return best
	case syntax.OpAlternate:
		var all literals
		for _, sub := range re.Sub {
			ls := required(sub)
			if score(ls) == 0 {
				return nil
			}
			all = append(all, ls...)
		}
		if len(all) > maxLiterals {
			return nil
		}
		return all
	}
	return nil
}

// score rates a set by its shortest literal: longer literals are rarer.
func score(ls literals) int {
	if len(ls) == 0 {
		return 0
	}
	m := len(ls[0].s)
	for _, l := range ls[1:] {
		m = min(m, len(l.s))
	}
	return m
}

// Go's (?i) folds a letter with every rune of its case orbit. For ASCII
// letters those are the two cases, plus the Kelvin sign (U+212A) for k and
// the long s (U+017F) for s.
const (
	kelvin = "\u212a"
	longS  = "\u017f"
)

// containsFold reports whether s contains lower (ASCII lower case) under
// Go's case folding, as (?i)lower would match it.
func containsFold(s, lower string) bool {
	if lower == "" {
		return true
	}
	// Candidate starts are the bytes that can begin the first letter; each
	// next position is searched again only once passed, so the scan is
	// linear.
	var first [3]byte
	n := 1
	first[0] = lower[0]
	if c := lower[0]; 'a' <= c && c <= 'z' {
		first[n] = c - 'a' + 'A'
		n++
	}
	switch lower[0] {
	case 'k':
		first[n] = kelvin[0]
		n++
	case 's':
		first[n] = longS[0]
		n++
	}
	var next [3]int
	for i := range next {
		next[i] = -1
	}
	for pos := 0; pos < len(s); {
		at := len(s)
		for i := 0; i < n; i++ {
			if next[i] < pos {
				next[i] = indexFrom(s, pos, first[i])
			}
			at = min(at, next[i])
		}
		if at == len(s) {
			return false
		}
		if hasPrefixFold(s[at:], lower) {
			return true
		}
		pos = at + 1
	}
	return false
}

// hasPrefixFold reports whether s starts with lower under Go's case folding.
func hasPrefixFold(s, lower string) bool {
	j := 0
	for i := 0; i < len(lower); i++ {
		if j >= len(s) {
			return false
		}
		c, l := s[j], lower[i]
		switch {
		case c == l || ('a' <= l && l <= 'z' && c|0x20 == l):
			j++
		case l == 'k' && strings.HasPrefix(s[j:], kelvin):
			j += len(kelvin)
		case l == 's' && strings.HasPrefix(s[j:], longS):
			j += len(longS)
		default:
			return false
		}
	}
	return true
}

// indexFrom returns the index of c in s at or after from, or len(s).
func indexFrom(s string, from int, c byte) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return len(s)
}
