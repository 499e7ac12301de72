package store

import (
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// Tokenize returns the tokens of s: the maximal runs of Unicode letters,
// Unicode digits and '_', lowercased (rune by rune, with unicode.ToLower).
// It is the rule the Bloom filters are built with; the query side must
// produce Filter.Clauses with the same rule (kql.Tokenize implements it
// too). Everything else in this package goes through forEachToken, which
// implements the same rule without allocating.
func Tokenize(s string) []string {
	var out []string
	forEachToken(s, nil, func(tok []byte) { out = append(out, string(tok)) })
	return out
}

// asciiClass classifies ASCII bytes for the tokenizer: 0 separator, 1 part
// of a token as it is, 2 an uppercase letter (part of a token, lowercased).
var asciiClass = func() (c [utf8.RuneSelf]uint8) {
	for b := 0; b < utf8.RuneSelf; b++ {
		switch {
		case b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '_':
			c[b] = 1
		case b >= 'A' && b <= 'Z':
			c[b] = 2
		}
	}
	return c
}()

func isTokenRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// forEachToken calls fn with every token of s, lowercased. tok is only
// valid during the call (it points into s or into buf). It returns buf
// (possibly grown) for reuse.
func forEachToken(s string, buf []byte, fn func(tok []byte)) []byte {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiClass[c] == 0 {
				i++
				continue
			}
		} else if r, n := utf8.DecodeRuneInString(s[i:]); !isTokenRune(r) {
			i += n
			continue
		}
		// A token starts at i. Stay on the copy-free path while it is plain
		// lowercase ASCII.
		start := i
		for i < len(s) && s[i] < utf8.RuneSelf && asciiClass[s[i]] == 1 {
			i++
		}
		if i == len(s) || (s[i] < utf8.RuneSelf && asciiClass[s[i]] == 0) {
			fn(unsafeBytes(s[start:i]))
			continue
		}
		// Uppercase or non-ASCII: lowercase into buf.
		buf = append(buf[:0], s[start:i]...)
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				switch asciiClass[c] {
				case 0:
					goto done
				case 2:
					c += 'a' - 'A'
				}
				buf = append(buf, c)
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isTokenRune(r) {
				break
			}
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
			i += n
		}
	done:
		fn(buf)
	}
	return buf
}

// tokenHash is the hash of a token in the Bloom filters: xxhash64 of its
// (lowercased) UTF-8 bytes.
func tokenHash(tok []byte) uint64 { return xxhash.Sum64(tok) }

// tokenHashString is tokenHash for a token held in a string.
func tokenHashString(tok string) uint64 { return xxhash.Sum64String(tok) }
