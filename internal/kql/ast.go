package kql

import (
	"strings"
	"unicode/utf8"
)

// Node is a node of a parsed query. The set of node types is closed: And,
// Or, Not, MatchAll, Term, Exists, Range and Nested.
//
// Nodes are immutable once built and safe for concurrent use (Match,
// RequiredTokens and TimeBounds only read them). String returns the query in
// canonical KQL; for a node returned by Parse, parsing that text again gives
// an equal tree.
type Node interface {
	String() string
	isNode()
}

// And matches when every node matches; an empty And matches everything.
type And struct{ Nodes []Node }

// Or matches when any node matches; an empty Or matches nothing.
type Or struct{ Nodes []Node }

// Not matches when Node does not.
type Not struct{ Node Node }

// MatchAll matches every event: the empty query, "*" and "*:*".
type MatchAll struct{}

// Term is a value query: field:value, field:"phrase", field:pat*tern, or,
// with Field "", a free-text term or phrase searched in every field.
//
// Field is a field name, or a field-name pattern when it contains '*' (a '*'
// in a field name is always a wildcard). Value is the text to match. Phrase
// records that the value was quoted; a quoted value is never a wildcard and
// is matched as one token sequence, exactly like an unquoted single word.
// When Wildcard is set, Value is a pattern: '*' matches any run of
// characters and '\' makes the next character literal ("\*" is a star,
// "\\" a backslash). See the package documentation for how values match.
type Term struct {
	Field    string
	Value    string
	Phrase   bool
	Wildcard bool

	prep *termPrep // set by Parse and Prepare; nil in hand-built nodes
}

// Exists matches events that have a value in Field or below it: field:*.
// Field may be a pattern (kubernetes.labels.*:*).
type Exists struct {
	Field string

	sel *fieldSel
}

// Range compares a field with a value: field > v, >=, <, <=.
type Range struct {
	Field string
	Op    string // ">", ">=", "<" or "<="
	Value string

	prep *rangePrep
}

// Nested is path:{ query }: the query's field names are relative to path.
// When the field at path holds a list of objects, the query must match
// within one of them (as Elasticsearch's nested query); otherwise it applies
// to the fields below path.
type Nested struct {
	Path  string
	Query Node

	resolved Node // Query with full field names, prepared
}

func (*And) isNode()      {}
func (*Or) isNode()       {}
func (*Not) isNode()      {}
func (*MatchAll) isNode() {}
func (*Term) isNode()     {}
func (*Exists) isNode()   {}
func (*Range) isNode()    {}
func (*Nested) isNode()   {}

// Precedence levels for printing: an operand is parenthesized when its level
// is lower than its context's.
const (
	precOr = iota
	precAnd
	precNot
	precLeaf
)

func prec(n Node) int {
	switch n := n.(type) {
	case *Or:
		if len(n.Nodes) == 1 {
			return prec(n.Nodes[0])
		}
		if len(n.Nodes) == 0 {
			return precNot // printed as "not *"
		}
		return precOr
	case *And:
		if len(n.Nodes) == 1 {
			return prec(n.Nodes[0])
		}
		if len(n.Nodes) == 0 {
			return precLeaf
		}
		return precAnd
	case *Not:
		return precNot
	}
	return precLeaf
}

func writeNode(b *strings.Builder, n Node, ctx int) {
	if n == nil {
		b.WriteByte('*')
		return
	}
	if prec(n) < ctx {
		b.WriteByte('(')
		writeNode(b, n, precOr)
		b.WriteByte(')')
		return
	}
	switch n := n.(type) {
	case *Or:
		switch len(n.Nodes) {
		case 0:
			b.WriteString("not *")
		case 1:
			writeNode(b, n.Nodes[0], ctx)
		default:
			for i, c := range n.Nodes {
				if i > 0 {
					b.WriteString(" or ")
				}
				writeNode(b, c, precAnd)
			}
		}
	case *And:
		switch len(n.Nodes) {
		case 0:
			b.WriteByte('*')
		case 1:
			writeNode(b, n.Nodes[0], ctx)
		default:
			for i, c := range n.Nodes {
				if i > 0 {
					b.WriteString(" and ")
				}
				writeNode(b, c, precNot)
			}
		}
	case *Not:
		b.WriteString("not ")
		writeNode(b, n.Node, precNot)
	case *MatchAll:
		b.WriteByte('*')
	case *Term:
		if n.Field != "" {
			writeField(b, n.Field)
			b.WriteByte(':')
		}
		switch {
		case n.Phrase:
			writeQuoted(b, n.Value)
		case n.Wildcard:
			if !writePattern(b, n.Value) {
				writeQuoted(b, n.Value)
			}
		default:
			if !writeWord(b, n.Value) {
				writeQuoted(b, n.Value)
			}
		}
	case *Exists:
		writeField(b, n.Field)
		b.WriteString(":*")
	case *Range:
		writeField(b, n.Field)
		b.WriteByte(' ')
		b.WriteString(n.Op)
		b.WriteByte(' ')
		writeRangeValue(b, n.Value)
	case *Nested:
		writeField(b, n.Path)
		b.WriteString(":{")
		writeNode(b, n.Query, precOr)
		b.WriteByte('}')
	}
}

func nodeString(n Node) string {
	var b strings.Builder
	writeNode(&b, n, precOr)
	return b.String()
}

func (n *And) String() string      { return nodeString(n) }
func (n *Or) String() string       { return nodeString(n) }
func (n *Not) String() string      { return nodeString(n) }
func (n *MatchAll) String() string { return "*" }
func (n *Term) String() string     { return nodeString(n) }
func (n *Exists) String() string   { return nodeString(n) }
func (n *Range) String() string    { return nodeString(n) }
func (n *Nested) String() string   { return nodeString(n) }

// specialChar reports the characters that must be escaped in unquoted text.
func specialChar(c byte) bool {
	switch c {
	case '\\', '(', ')', ':', '<', '>', '"', '*', '{', '}':
		return true
	}
	return false
}

// isKeyword reports whether s is and, or or not in any case.
func isKeyword(s string) bool {
	switch len(s) {
	case 2:
		return strings.EqualFold(s, "or")
	case 3:
		return strings.EqualFold(s, "and") || strings.EqualFold(s, "not")
	}
	return false
}

// wsWidth returns the length of the KQL whitespace character at s[i] (space,
// tab, CR, LF or U+00A0 no-break space), or 0.
func wsWidth(s string, i int) int {
	switch s[i] {
	case ' ', '\t', '\r', '\n':
		return 1
	case 0xC2:
		if i+1 < len(s) && s[i+1] == 0xA0 {
			return 2
		}
	}
	return 0
}

// writeWord writes the literal s as one unquoted word, escaping what needs
// it, and reports false (writing nothing) when s is empty.
func writeWord(b *strings.Builder, s string) bool {
	if s == "" {
		return false
	}
	if isKeyword(s) {
		b.WriteByte('\\')
		b.WriteString(s)
		return true
	}
	var chars []string
	for i := 0; i < len(s); {
		_, w := utf8.DecodeRuneInString(s[i:])
		chars = append(chars, s[i:i+w])
		i += w
	}
	writeChars(b, chars, nil)
	return true
}

// writePattern writes a wildcard pattern as one unquoted word. A pattern
// never needs keyword escaping: its '*' keeps it from being a bare keyword.
func writePattern(b *strings.Builder, p string) bool {
	if p == "" {
		return false
	}
	chars, wild := patternElems(p)
	writeChars(b, chars, wild)
	return true
}

// writeChars writes characters of an unquoted word; wild marks wildcards.
func writeChars(b *strings.Builder, chars []string, wild []bool) {
	for i, c := range chars {
		if wild != nil && wild[i] {
			b.WriteByte('*')
			continue
		}
		switch c {
		case "\t":
			b.WriteString(`\t`)
		case "\r":
			b.WriteString(`\r`)
		case "\n":
			// A word that is "\n" and "ot" would read back as the
			// escaped keyword "\not".
			if i == 0 && len(chars) == 3 && (wild == nil || (!wild[i+1] && !wild[i+2])) &&
				strings.EqualFold(chars[i+1]+chars[i+2], "ot") {
				b.WriteString(`\u000a`)
			} else {
				b.WriteString(`\n`)
			}
		case " ":
			b.WriteString(`\u0020`)
		case "\u00a0":
			b.WriteString(`\u00a0`)
		default:
			if len(c) == 1 && specialChar(c[0]) {
				b.WriteByte('\\')
			}
			b.WriteString(c)
		}
	}
}

// writeRangeValue writes a range value, bare when it is a plain word and
// quoted otherwise (quoting does not change a range).
func writeRangeValue(b *strings.Builder, s string) {
	bare := s != "" && !isKeyword(s)
	for i := 0; bare && i < len(s); i++ {
		if wsWidth(s, i) > 0 || specialChar(s[i]) {
			bare = false
		}
	}
	if bare {
		b.WriteString(s)
		return
	}
	writeQuoted(b, s)
}

// writeField writes a field name, quoted when it cannot be written bare.
func writeField(b *strings.Builder, f string) {
	bare := f != "" && !isKeyword(f)
	for i := 0; bare && i < len(f); i++ {
		if wsWidth(f, i) > 0 || (specialChar(f[i]) && f[i] != '*') {
			bare = false
		}
	}
	if bare {
		b.WriteString(f)
		return
	}
	writeQuoted(b, f)
}

// writeQuoted writes s as a quoted string.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			if c < utf8.RuneSelf {
				b.WriteByte(c)
			} else {
				_, w := utf8.DecodeRuneInString(s[i:])
				b.WriteString(s[i : i+w])
				i += w
				continue
			}
		}
		i++
	}
	b.WriteByte('"')
}
