package grok

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxRequired is how many literals a prefilter checks.
const maxRequired = 4

// required returns literal strings that every match of re contains, longest
// first: the literals of its top-level concatenation, looking through
// captures and through repetitions that happen at least once. A text that
// lacks one of them cannot match, which strings.Contains finds far faster
// than a regexp search for lines that match none of several patterns.
func required(re *syntax.Regexp) []string {
	var lits []string
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpLiteral:
			// Case-folded literals match other strings; a literal with
			// U+FFFD matches invalid UTF-8, which Contains would miss.
			if re.Flags&syntax.FoldCase == 0 && !slices.Contains(re.Rune, utf8.RuneError) {
				lits = append(lits, string(re.Rune))
			}
		case syntax.OpCapture, syntax.OpPlus:
			walk(re.Sub[0])
		case syntax.OpRepeat:
			if re.Min >= 1 {
				walk(re.Sub[0])
			}
		case syntax.OpConcat:
			for _, sub := range re.Sub {
				walk(sub)
			}
		}
	}
	walk(re)
	slices.SortStableFunc(lits, func(a, b string) int { return len(b) - len(a) })
	var out []string
	for _, l := range lits {
		if len(out) == maxRequired {
			break
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.Contains(o, l) }) {
			out = append(out, l)
		}
	}
	return out
}

// mayMatch reports whether s holds every required literal.
func mayMatch(lits []string, s string) bool {
	for _, l := range lits {
		if !strings.Contains(s, l) {
			return false
		}
	}
	return true
}
