package lookup

import (
	"bytes"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// wildIndex matches a value against glob keys: `*` matches any run of
// characters (also none) and `?` exactly one character; every other
// character matches itself.
//
// When several keys match, the most specific wins:
//  1. a key without wildcards (an exact key) beats every pattern;
//  2. then the pattern with more literal (non-wildcard) characters;
//  3. then the one with fewer `*`;
//  4. then the one with the longer literal prefix (before its first
//     wildcard);
//  5. then the one earlier in the file.
//
// Patterns are sorted by that rank once, at load, so the best match is the
// matching pattern with the lowest index. To avoid trying every pattern,
// each is filed by one of its ends in a trie: by its head (what comes
// before its first `*`: "web-??." of "web-??.*") in a trie walked from the
// start of the value, or by its tail (what follows its last `*`) in a trie
// walked backwards from the end. The tries have an edge for `?` besides
// the byte edges, so "db-??-7.*" and "db-??-8.*" part at the 7 and 8. A
// pattern goes by the end fewer other patterns share (so the web-1-* and
// web-2-* of many "web-N-*.example.com" do not all queue under
// ".example.com"), or the longer one. A lookup walks both tries along the
// value, tries the patterns filed at the nodes it reaches (lowest index
// first, stopping at the first match, and skipping subtrees whose best
// pattern cannot beat the match in hand), then the few patterns with no
// head nor tail ("*x*").
type wildIndex struct {
	exact map[string]int32
	pats  []pattern
	head  globTrie
	tail  globTrie
	// loose are the patterns with neither head nor tail.
	loose []int32
}

type pattern struct {
	glob string
	row  int32
	// minLen is the shortest value in bytes that can match: the literal
	// bytes plus one per `?`.
	minLen int
	// rank, by the rules above: literal characters, `*` count, literal
	// prefix length.
	literals, stars, prefixLen int
}

// globTrie files patterns under strings of literal bytes and `?`.
type globTrie struct {
	nodes []globNode
}

type globNode struct {
	labels []byte  // the next byte of each byte edge
	kids   []int32 // child node of each byte edge, in the order of labels
	any    int32   // child node of the `?` edge; 0: none
	pats   []int32 // patterns filed here, ascending (best first)
	min    int32   // the lowest pattern filed here or below
}

func isGlob(s string) bool { return strings.ContainsAny(s, "*?") }

// head is what precedes the first `*` of a pattern (all of it when it has
// none), tail what follows the last `*` ("" when it has none).
func headTail(glob string) (head, tail string) {
	first := strings.IndexByte(glob, '*')
	if first < 0 {
		return glob, ""
	}
	return glob[:first], glob[strings.LastIndexByte(glob, '*')+1:]
}

func newWildIndex(keys []string) *wildIndex {
	w := &wildIndex{
		exact: map[string]int32{},
		head:  globTrie{nodes: []globNode{{min: math.MaxInt32}}},
		tail:  globTrie{nodes: []globNode{{min: math.MaxInt32}}},
	}
	for i, k := range keys {
		if !isGlob(k) {
			if _, dup := w.exact[k]; !dup {
				w.exact[k] = int32(i)
			}
			continue
		}
		w.pats = append(w.pats, compilePattern(k, int32(i)))
	}
	sort.SliceStable(w.pats, func(i, j int) bool {
		a, b := &w.pats[i], &w.pats[j]
		if a.literals != b.literals {
			return a.literals > b.literals
		}
		if a.stars != b.stars {
			return a.stars < b.stars
		}
		if a.prefixLen != b.prefixLen {
			return a.prefixLen > b.prefixLen
		}
		return a.row < b.row
	})
	heads, tails := map[string]int{}, map[string]int{}
	for _, p := range w.pats {
		h, t := headTail(p.glob)
		heads[h]++
		tails[t]++
	}
	for i, p := range w.pats {
		h, t := headTail(p.glob)
		switch {
		case h == "" && t == "":
			w.loose = append(w.loose, int32(i))
		case t == "" || (h != "" && (heads[h] < tails[t] || (heads[h] == tails[t] && len(h) >= len(t)))):
			w.head.add(h, false, int32(i))
		default:
			w.tail.add(t, true, int32(i))
		}
	}
	return w
}

func compilePattern(glob string, row int32) pattern {
	stars := strings.Count(glob, "*")
	return pattern{
		glob:      glob,
		row:       row,
		minLen:    len(glob) - stars,
		literals:  utf8.RuneCountInString(glob) - stars - strings.Count(glob, "?"),
		stars:     stars,
		prefixLen: utf8.RuneCountInString(glob[:strings.IndexAny(glob, "*?")]),
	}
}

// add files pattern i under s (read backwards when reverse is set). Since
// patterns are added in ascending order, the first to pass a node is the
// lowest below it.
func (t *globTrie) add(s string, reverse bool, i int32) {
	n := int32(0)
	t.nodes[0].min = min(t.nodes[0].min, i)
	for j := range len(s) {
		c := s[j]
		if reverse {
			c = s[len(s)-1-j]
		}
		var next int32
		if c == '?' {
			next = t.nodes[n].any
		} else if k := bytes.IndexByte(t.nodes[n].labels, c); k >= 0 {
			next = t.nodes[n].kids[k]
		}
		if next == 0 {
			next = int32(len(t.nodes))
			t.nodes = append(t.nodes, globNode{min: i})
			if c == '?' {
				t.nodes[n].any = next
			} else {
				t.nodes[n].labels = append(t.nodes[n].labels, c)
				t.nodes[n].kids = append(t.nodes[n].kids, next)
			}
		}
		n = next
	}
	t.nodes[n].pats = append(t.nodes[n].pats, i)
}

// lookup returns the row of the best key matching s.
func (w *wildIndex) lookup(s string) (int32, bool) {
	if r, ok := w.exact[s]; ok {
		return r, true
	}
	best := int32(len(w.pats)) // no match yet
	best = w.walkHead(0, s, 0, best)
	best = w.walkTail(0, s, len(s), best)
	best = w.try(w.loose, s, best)
	if best == int32(len(w.pats)) {
		return 0, false
	}
	return w.pats[best].row, true
}

// walkHead follows s[i:] down the head trie from node n and returns the
// best of best and the patterns that match on the way.
func (w *wildIndex) walkHead(n int32, s string, i int, best int32) int32 {
	nodes := w.head.nodes
	for nodes[n].min < best {
		best = w.try(nodes[n].pats, s, best)
		if i == len(s) {
			break
		}
		if a := nodes[n].any; a != 0 {
			_, size := utf8.DecodeRuneInString(s[i:])
			best = w.walkHead(a, s, i+size, best)
		}
		k := bytes.IndexByte(nodes[n].labels, s[i])
		if k < 0 {
			break
		}
		n = nodes[n].kids[k]
		i++
	}
	return best
}

// walkTail follows s[:i] backwards down the tail trie from node n.
func (w *wildIndex) walkTail(n int32, s string, i int, best int32) int32 {
	nodes := w.tail.nodes
	for nodes[n].min < best {
		best = w.try(nodes[n].pats, s, best)
		if i == 0 {
			break
		}
		if a := nodes[n].any; a != 0 {
			_, size := utf8.DecodeLastRuneInString(s[:i])
			best = w.walkTail(a, s, i-size, best)
		}
		k := bytes.IndexByte(nodes[n].labels, s[i-1])
		if k < 0 {
			break
		}
		n = nodes[n].kids[k]
		i--
	}
	return best
}

// try returns the first pattern of list (ascending) below best that
// matches s, or best.
func (w *wildIndex) try(list []int32, s string, best int32) int32 {
	for _, i := range list {
		if i >= best {
			break
		}
		if p := &w.pats[i]; len(s) >= p.minLen && globMatch(p.glob, s) {
			return i
		}
	}
	return best
}

// globMatch reports whether s matches the glob pattern p, in time linear
// in len(p)*len(s) at worst. It backtracks only to the last `*` seen: when
// the rest fails, that `*` swallows one more character and the match
// resumes after it, which is enough because an earlier `*` could only
// swallow less of what the later one can take (see
// research.swtch.com/glob). `?` and `*` step over whole UTF-8 characters;
// an invalid byte counts as one character.
func globMatch(p, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0 // the last `*`, and where s resumes after it
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSx:])
			starSx += n
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}
