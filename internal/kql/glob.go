package kql

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// glob is a compiled '*' pattern: [*] parts[0] * parts[1] * ... * parts[n-1] [*].
// Empty parts (from "**") are dropped. With fold set, parts are lowercase
// and the subject is lowercased rune by rune while matching (case-insensitive
// values); without it the comparison is exact (field names).
type glob struct {
	parts       []string
	lead, trail bool
	fold        bool
}

// compileGlob compiles the pattern elements: literal text pieces separated by
// wildcards. pieces[0] is the text before the first '*', and so on, so a
// pattern with n wildcards has n+1 pieces.
func compileGlob(pieces []string, fold bool) *glob {
	g := &glob{fold: fold}
	g.lead = len(pieces) > 1 && pieces[0] == ""
	g.trail = len(pieces) > 1 && pieces[len(pieces)-1] == ""
	for _, p := range pieces {
		if p == "" {
			continue
		}
		if fold {
			p = lowerString(p)
		}
		g.parts = append(g.parts, p)
	}
	if len(pieces) > 1 && len(g.parts) == 0 {
		g.lead = true // only wildcards: matches anything
	}
	return g
}

// fieldGlob compiles a field-name pattern, where every '*' is a wildcard.
func fieldGlob(pattern string) *glob {
	return compileGlob(strings.Split(pattern, "*"), false)
}

func (g *glob) prefix(s, p string) (int, bool) {
	if g.fold {
		return foldPrefix(s, p)
	}
	if strings.HasPrefix(s, p) {
		return len(p), true
	}
	return 0, false
}

// index finds the leftmost occurrence of p in s: its start and length in s.
func (g *glob) index(s, p string) (int, int) {
	if !g.fold {
		i := strings.Index(s, p)
		return i, len(p)
	}
	for i := 0; i < len(s); {
		if n, ok := foldPrefix(s[i:], p); ok {
			return i, n
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return -1, 0
}

func (g *glob) hasSuffix(s, p string) bool {
	if !g.fold {
		return strings.HasSuffix(s, p)
	}
	for i := 0; i < len(s); {
		if n, ok := foldPrefix(s[i:], p); ok && i+n == len(s) {
			return true
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return false
}

// match reports whether the whole of s matches the pattern. It does not
// allocate.
func (g *glob) match(s string) bool {
	parts := g.parts
	if len(parts) == 0 {
		return g.lead || g.trail || s == ""
	}
	i := 0
	if !g.lead {
		n, ok := g.prefix(s, parts[0])
		if !ok {
			return false
		}
		i, parts = n, parts[1:]
		if len(parts) == 0 {
			return g.trail || i == len(s)
		}
	}
	var last string
	if !g.trail {
		last, parts = parts[len(parts)-1], parts[:len(parts)-1]
	}
	for _, p := range parts {
		at, n := g.index(s[i:], p)
		if at < 0 {
			return false
		}
		i += at + n
	}
	if !g.trail {
		return g.hasSuffix(s[i:], last)
	}
	return true
}

// tokenPattern is one token-sized piece of a wildcard value: a run of token
// characters and wildcards. lit is set (lowercase) when it has no wildcard.
type tokenPattern struct {
	lit string
	g   *glob
}

func (p *tokenPattern) match(tok string) bool {
	if p.g == nil {
		return foldEqual(tok, p.lit)
	}
	return p.g.match(tok)
}

// wildcard is a compiled wildcard Term value. A value matches when the whole
// value matches the pattern case-insensitively (keyword semantics), or when
// its tokens contain a contiguous run matching the pattern's token pieces
// (text semantics: "err*" matches the token "errors" in a message).
type wildcard struct {
	whole *glob
	toks  []tokenPattern
	// tokMode is false when every token piece is a bare wildcard ("-*"),
	// which would otherwise match any value with a token.
	tokMode bool
}

// patternElems splits an escaped wildcard pattern (Term.Value with Wildcard
// set: '*' is a wildcard, '\' makes the next character literal) into its
// characters; wild marks the wildcards.
func patternElems(pattern string) (chars []string, wild []bool) {
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '*' {
			chars, wild = append(chars, "*"), append(wild, true)
			i++
			continue
		}
		if c == '\\' && i+1 < len(pattern) {
			i++
		}
		_, w := utf8.DecodeRuneInString(pattern[i:])
		chars, wild = append(chars, pattern[i:i+w]), append(wild, false)
		i += w
	}
	return chars, wild
}

func compileWildcard(pattern string) *wildcard {
	chars, wild := patternElems(pattern)
	w := &wildcard{}

	var pieces []string
	var cur strings.Builder
	for i, c := range chars {
		if wild[i] {
			pieces = append(pieces, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(c)
	}
	pieces = append(pieces, cur.String())
	w.whole = compileGlob(pieces, true)

	// Token pieces: runs of token characters and wildcards.
	var run []string // pieces of the current run
	inRun, runWild, runLit := false, false, false
	var sb strings.Builder
	flush := func() {
		if !inRun {
			return
		}
		run = append(run, sb.String())
		sb.Reset()
		if runWild {
			w.toks = append(w.toks, tokenPattern{g: compileGlob(run, true)})
		} else {
			w.toks = append(w.toks, tokenPattern{lit: lowerString(run[0])})
		}
		if runLit {
			w.tokMode = true
		}
		run, inRun, runWild, runLit = nil, false, false, false
	}
	for i, c := range chars {
		if wild[i] {
			inRun, runWild = true, true
			run = append(run, sb.String())
			sb.Reset()
			continue
		}
		r, _ := utf8.DecodeRuneInString(c)
		if !isTokenRune(r) {
			flush()
			continue
		}
		inRun, runLit = true, true
		sb.WriteString(c)
	}
	flush()
	return w
}

func (w *wildcard) match(s string) bool {
	return w.whole.match(s) || w.matchTokens(s)
}

// matchBytes is match on a scratch buffer (number text), which it does not
// keep.
func (w *wildcard) matchBytes(b []byte) bool {
	return w.match(unsafe.String(unsafe.SliceData(b), len(b)))
}

func (w *wildcard) matchTokens(s string) bool {
	if !w.tokMode {
		return false
	}
	first := &w.toks[0]
	for i := 0; i < len(s); {
		start, end := nextToken(s, i)
		if start == end {
			return false
		}
		i = end
		if !first.match(s[start:end]) {
			continue
		}
		j, ok := end, true
		for k := 1; k < len(w.toks); k++ {
			a, b := nextToken(s, j)
			if a == b || !w.toks[k].match(s[a:b]) {
				ok = false
				break
			}
			j = b
		}
		if ok {
			return true
		}
	}
	return false
}

// literalTokens returns the lowercase token pieces without wildcards: every
// value the pattern matches contains them as tokens.
func (w *wildcard) literalTokens() []string {
	var out []string
	for _, t := range w.toks {
		if t.g == nil {
			out = append(out, t.lit)
		}
	}
	return out
}
