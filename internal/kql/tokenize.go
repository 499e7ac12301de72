package kql

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// asciiTok marks the ASCII bytes that belong to tokens: letters, digits, '_'.
var asciiTok = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
	}
	return t
}()

// isTokenRune reports whether r belongs to a token. Invalid UTF-8 decodes to
// utf8.RuneError, which is not a letter, so broken bytes separate tokens.
func isTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiTok[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// nextToken returns the bounds of the first token of s at or after byte i,
// in s's original case. When there is none, start == end == len(s).
func nextToken(s string, i int) (start, end int) {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiTok[c] {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isTokenRune(r) {
			break
		}
		i += n
	}
	start = i
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !asciiTok[c] {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isTokenRune(r) {
			break
		}
		i += n
	}
	return start, i
}

// lowerBufPool holds the scratch buffers Tokenize lowercases tokens into.
var lowerBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64); return &b }}

// Tokenize splits s into tokens and calls emit for each, in order.
//
// A token is a maximal run of Unicode letters, decimal digits and '_';
// everything else (spaces, punctuation, symbols, invalid UTF-8) separates
// tokens. Tokens are lowercased rune by rune with unicode.ToLower. This is the
// one definition of "token" in Sluice: the store builds its per-block Bloom
// filters with it, and Match compares query tokens with it, so the two must
// never diverge.
//
// Tokenize does not allocate: a token that is already lowercase is passed as
// a substring of s, and one that is not is lowercased into a pooled buffer.
// The string passed to emit is therefore only valid during the call; emit
// must copy it (strings.Clone) to keep it. Tokenize is safe for concurrent
// use.
func Tokenize(s string, emit func(token string)) {
	var buf *[]byte
	for i := 0; i < len(s); {
		start, end := nextToken(s, i)
		if start == end {
			break
		}
		tok := s[start:end]
		i = end
		if !needsLower(tok) {
			emit(tok)
			continue
		}
		if buf == nil {
			buf = lowerBufPool.Get().(*[]byte)
		}
		b := appendLower((*buf)[:0], tok)
		*buf = b
		emit(unsafe.String(unsafe.SliceData(b), len(b)))
	}
	if buf != nil {
		lowerBufPool.Put(buf)
	}
}

// Tokens returns the tokens of s (see Tokenize) as a new slice of strings
// that the caller may keep.
func Tokens(s string) []string {
	var out []string
	Tokenize(s, func(t string) { out = append(out, strings.Clone(t)) })
	return out
}

// needsLower reports whether lowercasing changes tok.
func needsLower(tok string) bool {
	for i := 0; i < len(tok); {
		c := tok[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(tok[i:])
		if unicode.ToLower(r) != r {
			return true
		}
		i += n
	}
	return false
}

// appendLower appends s lowercased rune by rune, as tokens are.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c) // keep invalid bytes as they are
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += n
	}
	return dst
}

// lowerString returns s lowercased as tokens are.
func lowerString(s string) string {
	if !needsLower(s) {
		return s
	}
	return string(appendLower(nil, s))
}

// foldPrefix reports whether s, lowercased rune by rune, starts with lower
// (which must already be lowercase), and how many bytes of s that took.
// It does not allocate.
func foldPrefix(s, lower string) (n int, ok bool) {
	i, j := 0, 0
	for j < len(lower) {
		if i >= len(s) {
			return 0, false
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				return 0, false
			}
			i++
			j++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		r2, w2 := utf8.DecodeRuneInString(lower[j:])
		if r == utf8.RuneError && w == 1 {
			// An invalid byte matches only the same byte.
			if w2 != 1 || lower[j] != c {
				return 0, false
			}
		} else if unicode.ToLower(r) != r2 {
			return 0, false
		}
		i += w
		j += w2
	}
	return i, true
}

// foldEqual reports whether s lowercased equals lower.
func foldEqual(s, lower string) bool {
	n, ok := foldPrefix(s, lower)
	return ok && n == len(s)
}

// containsTokens reports whether the tokens of s contain q (lowercase query
// tokens, at least one) as a contiguous sequence. It does not allocate.
func containsTokens(s string, q []string) bool {
	if c := q[0][0]; c < utf8.RuneSelf && c != 'i' && c != 'k' {
		return containsTokensFast(s, q)
	}
	return containsTokensSlow(s, q)
}

// containsTokensSlow classifies every character of s.
func containsTokensSlow(s string, q []string) bool {
	for i := 0; i < len(s); {
		start, end := nextToken(s, i)
		if start == end {
			return false
		}
		i = end
		if foldEqual(s[start:end], q[0]) && followedBy(s, end, q[1:]) {
			return true
		}
	}
	return false
}

// containsTokensFast looks for the first query token's first byte (in both
// cases) with strings.IndexByte and checks token boundaries only there.
// Only the non-ASCII runes İ and K lowercase to ASCII letters (i, k), so for
// a token starting with any other ASCII byte every occurrence starts with
// that byte in one of its cases.
func containsTokensFast(s string, q []string) bool {
	lo := q[0][0]
	up := lo
	if 'a' <= lo && lo <= 'z' {
		up = lo - ('a' - 'A')
	}
	// nextLo and nextUp are the next occurrences of each case at or after
	// i (len(s) when none), so each byte is searched once.
	next := func(c byte, from int) int {
		if j := strings.IndexByte(s[from:], c); j >= 0 {
			return from + j
		}
		return len(s)
	}
	nextLo, nextUp := next(lo, 0), len(s)
	if up != lo {
		nextUp = next(up, 0)
	}
	for {
		at := min(nextLo, nextUp)
		if at == len(s) {
			return false
		}
		if at == nextLo {
			nextLo = next(lo, at+1)
		} else {
			nextUp = next(up, at+1)
		}
		if at > 0 {
			if c := s[at-1]; c < utf8.RuneSelf {
				if asciiTok[c] {
					continue
				}
			} else if r, _ := utf8.DecodeLastRuneInString(s[:at]); isTokenRune(r) {
				continue
			}
		}
		n, ok := foldPrefix(s[at:], q[0])
		if !ok {
			continue
		}
		end := at + n
		if end < len(s) {
			if c := s[end]; c < utf8.RuneSelf {
				if asciiTok[c] {
					continue
				}
			} else if r, _ := utf8.DecodeRuneInString(s[end:]); isTokenRune(r) {
				continue
			}
		}
		if followedBy(s, end, q[1:]) {
			return true
		}
	}
}

// followedBy reports whether the tokens of s from byte i start with q.
func followedBy(s string, i int, q []string) bool {
	for _, qt := range q {
		a, b := nextToken(s, i)
		if a == b || !foldEqual(s[a:b], qt) {
			return false
		}
		i = b
	}
	return true
}
