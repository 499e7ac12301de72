package kql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SyntaxError is a query that cannot be parsed. Pos is the byte offset in
// Query where the problem is; Msg says what was expected or found.
type SyntaxError struct {
	Query string
	Pos   int
	Msg   string
}

// Line returns the 1-based line of Pos.
func (e *SyntaxError) Line() int {
	return 1 + strings.Count(e.Query[:min(e.Pos, len(e.Query))], "\n")
}

// Column returns the 1-based column of Pos in its line, counted in
// characters (runes).
func (e *SyntaxError) Column() int {
	pre := e.Query[:min(e.Pos, len(e.Query))]
	if i := strings.LastIndexByte(pre, '\n'); i >= 0 {
		pre = pre[i+1:]
	}
	return 1 + utf8.RuneCountInString(pre)
}

// Error returns "line L, column C: message".
func (e *SyntaxError) Error() string {
	return "line " + strconv.Itoa(e.Line()) + ", column " + strconv.Itoa(e.Column()) + ": " + e.Msg
}

// maxDepth bounds the nesting of parentheses, braces and 'not's, so that a
// hostile query cannot exhaust the stack of the parser or of Match.
const maxDepth = 200

// Parse parses a KQL query. An empty or blank query matches everything
// (MatchAll). Errors are *SyntaxError. Relative dates ("now-15m") are
// resolved against the current time; see ParseAt.
func Parse(q string) (Node, error) { return ParseAt(q, time.Now()) }

// ParseAt is Parse with "now" in date math standing for now.
func ParseAt(q string, now time.Time) (Node, error) {
	p := &parser{q: q, now: now}
	p.skipWS()
	if p.i == len(q) {
		return &MatchAll{}, nil
	}
	n, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.i < len(q) {
		return nil, p.unexpected("")
	}
	return n, nil
}

type parser struct {
	q     string
	i     int
	now   time.Time
	depth int
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &SyntaxError{Query: p.q, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) column(pos int) int {
	return (&SyntaxError{Query: p.q, Pos: pos}).Column()
}

func (p *parser) skipWS() {
	for p.i < len(p.q) {
		w := wsWidth(p.q, p.i)
		if w == 0 {
			return
		}
		p.i += w
	}
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(pos, "query nested too deeply (more than %d levels)", maxDepth)
	}
	return nil
}

// keywordAt returns the keyword (and, or, not; any case) at q[i] and the
// offset after it. A keyword must be followed by the end, whitespace, a
// parenthesis or a quote; callers only ask at the start of a word.
func keywordAt(q string, i int) (string, int) {
	for _, kw := range [...]string{"and", "or", "not"} {
		j := i + len(kw)
		if j > len(q) || !strings.EqualFold(q[i:j], kw) {
			continue
		}
		if j == len(q) || wsWidth(q, j) > 0 || q[j] == '(' || q[j] == ')' || q[j] == '"' {
			return kw, j
		}
	}
	return "", i
}

// found describes what is at pos for an error message.
func (p *parser) found(pos int) string {
	if pos >= len(p.q) {
		return "the end of the query"
	}
	if kw, end := keywordAt(p.q, pos); kw != "" {
		return "'" + p.q[pos:end] + "'"
	}
	r, w := utf8.DecodeRuneInString(p.q[pos:])
	if isTokenRune(r) {
		end := pos + w
		for end < len(p.q) && end-pos < 20 {
			r, w := utf8.DecodeRuneInString(p.q[end:])
			if !isTokenRune(r) {
				break
			}
			end += w
		}
		return "'" + p.q[pos:end] + "'"
	}
	if r == utf8.RuneError && w == 1 {
		return fmt.Sprintf("byte %#02x", p.q[pos])
	}
	return "'" + string(r) + "'"
}

// unexpected reports what is at p.i where an operator, the end of the query
// or closer (")" or "}", "" for none) was expected.
func (p *parser) unexpected(closer string) error {
	pos := p.i
	switch p.q[pos] {
	case ')':
		return p.errAt(pos, "unexpected ')' without a matching '('")
	case '}':
		return p.errAt(pos, "unexpected '}' without a matching '{'")
	case ':':
		return p.errAt(pos, "unexpected ':': join field queries with 'and' or 'or', and escape a ':' in a value as '\\:'")
	}
	if kw, _ := keywordAt(p.q, pos); kw == "not" {
		return p.errAt(pos, "unexpected 'not': write 'and not' or 'or not'")
	}
	want := "'and', 'or' or the end of the query"
	if closer != "" {
		want = "'and', 'or' or '" + closer + "'"
	}
	return p.errAt(pos, "expected %s, found %s", want, p.found(pos))
}

// expectClose consumes closer (after optional whitespace) for the opener at
// open.
func (p *parser) expectClose(closer byte, open int) error {
	p.skipWS()
	if p.i >= len(p.q) {
		return p.errAt(p.i, "missing '%c' to close the '%c' at column %d", closer, p.q[open], p.column(open))
	}
	if p.q[p.i] != closer {
		return p.unexpected(string(closer))
	}
	p.i++
	p.depth--
	return nil
}

func after(ctx string) string {
	if ctx == "" {
		return ""
	}
	return " after " + ctx
}

func (p *parser) parseOr(ctx string) (Node, error) {
	nodes, err := p.chain("or", ctx, p.parseAnd)
	if err != nil {
		return nil, err
	}
	return makeOr(nodes), nil
}

func (p *parser) parseAnd(ctx string) (Node, error) {
	nodes, err := p.chain("and", ctx, p.parseNot)
	if err != nil {
		return nil, err
	}
	return makeAnd(nodes), nil
}

// chain parses operand (kw operand)*, each operand by next; an operand
// after an operator gets that operator as its context for errors.
func (p *parser) chain(kw, ctx string, next func(ctx string) (Node, error)) ([]Node, error) {
	n, err := next(ctx)
	if err != nil {
		return nil, err
	}
	nodes := []Node{n}
	for {
		save := p.i
		p.skipWS()
		word, end := keywordAt(p.q, p.i)
		if word != kw || !p.operatorBoundary(save) {
			p.i = save
			break
		}
		op := p.q[p.i:end]
		p.i = end
		p.skipWS()
		n, err := next("'" + op + "'")
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// operatorBoundary reports whether an operator may start at p.i after an
// operand that ended at end: separated by whitespace, or the operand ended
// with a closing parenthesis, brace or quote.
func (p *parser) operatorBoundary(end int) bool {
	if p.i > end {
		return true
	}
	if end == 0 {
		return false
	}
	c := p.q[end-1]
	return c == ')' || c == '}' || c == '"'
}

func (p *parser) parseNot(ctx string) (Node, error) {
	if kw, end := keywordAt(p.q, p.i); kw == "not" {
		op := p.q[p.i:end]
		if err := p.enter(p.i); err != nil {
			return nil, err
		}
		p.i = end
		p.skipWS()
		n, err := p.parseNot("'" + op + "'")
		if err != nil {
			return nil, err
		}
		p.depth--
		return &Not{Node: n}, nil
	}
	return p.parseSub(ctx)
}

func (p *parser) parseSub(ctx string) (Node, error) {
	if p.i >= len(p.q) {
		return nil, p.errAt(p.i, "expected a query%s", after(ctx))
	}
	if p.q[p.i] != '(' {
		return p.parseExpr(ctx)
	}
	open := p.i
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.i++
	p.skipWS()
	n, err := p.parseOr("'('")
	if err != nil {
		return nil, err
	}
	if err := p.expectClose(')', open); err != nil {
		return nil, err
	}
	return n, nil
}

func rangeOpAt(q string, i int) string {
	if i >= len(q) || (q[i] != '<' && q[i] != '>') {
		return ""
	}
	if i+1 < len(q) && q[i+1] == '=' {
		return q[i : i+2]
	}
	return q[i : i+1]
}

// parseExpr parses field:values, field:{query}, field op value, or a
// free-text value.
func (p *parser) parseExpr(ctx string) (Node, error) {
	pos := p.i
	if kw, _ := keywordAt(p.q, pos); kw != "" {
		return nil, p.errAt(pos, "expected a query%s, found %s", after(ctx), p.found(pos))
	}
	switch c := p.q[pos]; c {
	case ':':
		return nil, p.errAt(pos, "expected a field name before ':'")
	case '<', '>':
		return nil, p.errAt(pos, "expected a field name before '%s'", rangeOpAt(p.q, pos))
	case ')', '{', '}':
		if c == ')' && ctx == "" {
			return nil, p.unexpected("")
		}
		return nil, p.errAt(pos, "expected a query%s, found '%c'", after(ctx), c)
	}
	lit, err := p.readLiteral()
	if err != nil {
		return nil, err
	}
	save := p.i
	p.skipWS()
	if p.i < len(p.q) {
		if p.q[p.i] == ':' {
			field, err := p.fieldName(lit, ":")
			if err != nil {
				return nil, err
			}
			return p.parseFieldValue(field)
		}
		if op := rangeOpAt(p.q, p.i); op != "" {
			field, err := p.fieldName(lit, op)
			if err != nil {
				return nil, err
			}
			return p.parseRange(field, op)
		}
	}
	p.i = save
	return p.valueNode("", lit)
}

// Literal characters of unquoted text, after unescaping.
const (
	chPlain   = iota
	chEscaped // escaped: never special, never a wildcard
	chWild    // an unescaped '*'
	chSpace   // unescaped whitespace: separates words
)

type lchar struct {
	s    string
	kind uint8
	pos  int
}

// literal is a quoted string (text) or unquoted text (chars).
type literal struct {
	pos    int
	quoted bool
	text   string
	chars  []lchar
}

func (p *parser) readLiteral() (literal, error) {
	if p.q[p.i] == '"' {
		return p.readQuoted()
	}
	return p.readUnquoted()
}

// readQuoted reads a quoted string at p.i. As in Kibana, \" \\ \t \r \n and
// \uXXXX are escapes and any other backslash is kept as it is.
func (p *parser) readQuoted() (literal, error) {
	start := p.i
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.q) {
			return literal{}, p.errAt(start, "unterminated quoted string: missing closing '\"'")
		}
		c := p.q[p.i]
		if c == '"' {
			p.i++
			return literal{pos: start, quoted: true, text: b.String()}, nil
		}
		if c == '\\' && p.i+1 < len(p.q) {
			switch n := p.q[p.i+1]; n {
			case 't':
				b.WriteByte('\t')
				p.i += 2
				continue
			case 'r':
				b.WriteByte('\r')
				p.i += 2
				continue
			case 'n':
				b.WriteByte('\n')
				p.i += 2
				continue
			case '\\', '"':
				b.WriteByte(n)
				p.i += 2
				continue
			case 'u':
				if r, ok := hex4(p.q, p.i+2); ok {
					b.WriteRune(r)
					p.i += 6
					continue
				}
			}
		}
		b.WriteByte(c)
		p.i++
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

// readUnquoted reads unquoted text at p.i: up to a special character, or
// whitespace followed by a keyword. Whitespace inside is kept (as chSpace);
// trailing whitespace is not consumed.
func (p *parser) readUnquoted() (literal, error) {
	lit := literal{pos: p.i}
	for p.i < len(p.q) {
		i := p.i
		if w := wsWidth(p.q, i); w > 0 {
			j := i
			for j < len(p.q) && wsWidth(p.q, j) > 0 {
				j += wsWidth(p.q, j)
			}
			if j == len(p.q) {
				break
			}
			if kw, _ := keywordAt(p.q, j); kw != "" {
				break
			}
			for k := i; k < j; k += wsWidth(p.q, k) {
				lit.chars = append(lit.chars, lchar{s: p.q[k : k+wsWidth(p.q, k)], kind: chSpace, pos: k})
			}
			p.i = j
			continue
		}
		c := p.q[i]
		switch {
		case c == '\\':
			wordStart := len(lit.chars) == 0 || lit.chars[len(lit.chars)-1].kind == chSpace
			s, n, err := p.escape(i, wordStart)
			if err != nil {
				return literal{}, err
			}
			lit.chars = append(lit.chars, lchar{s: s, kind: chEscaped, pos: i})
			p.i += n
		case c == '*':
			lit.chars = append(lit.chars, lchar{s: "*", kind: chWild, pos: i})
			p.i++
		case specialChar(c):
			return lit.trimmed(), nil
		default:
			_, w := utf8.DecodeRuneInString(p.q[i:])
			lit.chars = append(lit.chars, lchar{s: p.q[i : i+w], kind: chPlain, pos: i})
			p.i += w
		}
	}
	return lit.trimmed(), nil
}

func (l literal) trimmed() literal {
	for len(l.chars) > 0 && l.chars[len(l.chars)-1].kind == chSpace {
		l.chars = l.chars[:len(l.chars)-1]
	}
	return l
}

// escape decodes the escape sequence at p.q[i] == '\\' in unquoted text and
// returns the text it stands for and its length. wordStart tells that the
// backslash starts a word.
func (p *parser) escape(i int, wordStart bool) (string, int, error) {
	if i+1 >= len(p.q) {
		return "", 0, p.errAt(i, "'\\' at the end of the query: write '\\\\' for a backslash")
	}
	c := p.q[i+1]
	// "\not" standing alone is the word "not". Kibana's grammar tries "\n"
	// (a newline) first, which makes "\not" a newline and "ot"; we keep that
	// reading inside a longer word ("\nothing", "x\not").
	if kw, end := keywordAt(p.q, i+1); kw == "not" && wordStart {
		return p.q[i+1 : end], end - i, nil
	}
	switch c {
	case 't':
		return "\t", 2, nil
	case 'r':
		return "\r", 2, nil
	case 'n':
		return "\n", 2, nil
	case 'u':
		if r, ok := hex4(p.q, i+2); ok {
			return string(r), 6, nil
		}
	}
	// \or, \and, \not (any case): the keyword as a plain word.
	for _, kw := range [...]string{"or", "and", "not"} {
		if j := i + 1 + len(kw); j <= len(p.q) && strings.EqualFold(p.q[i+1:j], kw) {
			return p.q[i+1 : j], j - i, nil
		}
	}
	if c == 'u' {
		return "", 0, p.errAt(i, "invalid escape '\\u': expected four hexadecimal digits")
	}
	if specialChar(c) {
		return p.q[i+1 : i+2], 2, nil
	}
	r, _ := utf8.DecodeRuneInString(p.q[i+1:])
	return "", 0, p.errAt(i, "invalid escape '\\%c': only \\ ( ) : < > \" * { }, \\t \\r \\n, \\uXXXX and the keywords \\and \\or \\not can be escaped", r)
}

// fieldName turns the literal before ':' or a range operator into a field
// name. Whitespace inside an unquoted name is kept, as in Kibana.
func (p *parser) fieldName(lit literal, op string) (string, error) {
	var name string
	if lit.quoted {
		name = lit.text
	} else {
		var b strings.Builder
		for _, c := range lit.chars {
			b.WriteString(c.s)
		}
		name = b.String()
	}
	if name == "" {
		return "", p.errAt(lit.pos, "expected a field name before '%s'", op)
	}
	return name, nil
}

// parseFieldValue parses what follows "field" at p.q[p.i] == ':'.
func (p *parser) parseFieldValue(field string) (Node, error) {
	p.i++
	p.skipWS()
	if p.i < len(p.q) && p.q[p.i] == '{' {
		return p.parseNested(field)
	}
	return p.parseValueList(field, "':'")
}

func (p *parser) parseNested(path string) (Node, error) {
	open := p.i
	if strings.Contains(path, "*") {
		return nil, p.errAt(open, "a nested query needs a field name, not a pattern, before ':{'")
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.i++
	p.skipWS()
	q, err := p.parseOr("'{'")
	if err != nil {
		return nil, err
	}
	if err := p.expectClose('}', open); err != nil {
		return nil, err
	}
	return prepareNested(&Nested{Path: path, Query: q}, p.now), nil
}

// parseValueList parses a value or a parenthesized group of values with
// and, or and not, all for field.
func (p *parser) parseValueList(field, ctx string) (Node, error) {
	if p.i >= len(p.q) || p.q[p.i] != '(' {
		return p.parseValue(field, ctx)
	}
	open := p.i
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.i++
	p.skipWS()
	n, err := p.parseOrValues(field, "'('")
	if err != nil {
		return nil, err
	}
	if err := p.expectClose(')', open); err != nil {
		return nil, err
	}
	return n, nil
}

func (p *parser) parseOrValues(field, ctx string) (Node, error) {
	nodes, err := p.chain("or", ctx, func(c string) (Node, error) { return p.parseAndValues(field, c) })
	if err != nil {
		return nil, err
	}
	return makeOr(nodes), nil
}

func (p *parser) parseAndValues(field, ctx string) (Node, error) {
	nodes, err := p.chain("and", ctx, func(c string) (Node, error) { return p.parseNotValues(field, c) })
	if err != nil {
		return nil, err
	}
	return makeAnd(nodes), nil
}

func (p *parser) parseNotValues(field, ctx string) (Node, error) {
	if kw, end := keywordAt(p.q, p.i); kw == "not" {
		op := p.q[p.i:end]
		if err := p.enter(p.i); err != nil {
			return nil, err
		}
		p.i = end
		p.skipWS()
		n, err := p.parseNotValues(field, "'"+op+"'")
		if err != nil {
			return nil, err
		}
		p.depth--
		return &Not{Node: n}, nil
	}
	return p.parseValueList(field, ctx)
}

// parseValue parses one quoted or unquoted value for field.
func (p *parser) parseValue(field, ctx string) (Node, error) {
	pos := p.i
	if pos >= len(p.q) {
		return nil, p.errAt(pos, "expected a value%s", after(ctx))
	}
	if kw, _ := keywordAt(p.q, pos); kw != "" {
		hint := ""
		if kw == "not" && ctx == "':'" {
			hint = " (write 'not field:value' or 'field:(not value)')"
		}
		return nil, p.errAt(pos, "expected a value%s, found %s%s", after(ctx), p.found(pos), hint)
	}
	if c := p.q[pos]; c != '"' && c != '\\' && c != '*' && specialChar(c) {
		return nil, p.errAt(pos, "expected a value%s, found %s", after(ctx), p.found(pos))
	}
	lit, err := p.readLiteral()
	if err != nil {
		return nil, err
	}
	return p.valueNode(field, lit)
}

// valueNode builds the node for a value of field ("" for free text). An
// unquoted value of several words is an 'or' of its words, which is what
// Kibana's match query of the words does; a word that is only wildcards is
// an existence test.
func (p *parser) valueNode(field string, lit literal) (Node, error) {
	if field == "*" {
		field = ""
	}
	if lit.quoted {
		return p.term(&Term{Field: field, Value: lit.text, Phrase: true}, lit.pos)
	}
	var nodes []Node
	for i := 0; i < len(lit.chars); {
		if lit.chars[i].kind == chSpace {
			i++
			continue
		}
		j := i
		allWild, anyWild := true, false
		for j < len(lit.chars) && lit.chars[j].kind != chSpace {
			if lit.chars[j].kind == chWild {
				anyWild = true
			} else {
				allWild = false
			}
			j++
		}
		word := lit.chars[i:j]
		switch {
		case allWild && field == "":
			nodes = append(nodes, &MatchAll{})
		case allWild:
			nodes = append(nodes, newExists(field))
		default:
			var b strings.Builder
			for _, c := range word {
				switch {
				case c.kind == chWild:
					b.WriteByte('*')
				case anyWild && (c.s == "*" || c.s == "\\"):
					b.WriteByte('\\')
					b.WriteString(c.s)
				default:
					b.WriteString(c.s)
				}
			}
			n, err := p.term(&Term{Field: field, Value: b.String(), Wildcard: anyWild}, word[0].pos)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, n)
		}
		i = j
	}
	if len(nodes) == 0 {
		return nil, p.errAt(lit.pos, "expected a value")
	}
	return makeOr(nodes), nil
}

// term checks and prepares a Term whose value starts at pos.
func (p *parser) term(t *Term, pos int) (Node, error) {
	if t.Field == TimestampField {
		if t.Wildcard {
			return nil, p.errAt(pos, "wildcards are not supported on %s: use a range such as '%s >= 2026-01-01'", TimestampField, TimestampField)
		}
		if _, _, ok := ParseTime(t.Value, p.now); !ok {
			return nil, p.errAt(pos, "invalid date %q for %s: expected a date such as 2026-01-02 or 2026-01-02T15:04:05Z, epoch milliseconds, or date math such as now-15m", t.Value, TimestampField)
		}
	}
	t.prep = prepareTerm(t, p.now)
	return t, nil
}

// parseRange parses "field op value" at the operator.
func (p *parser) parseRange(field, op string) (Node, error) {
	p.i += len(op)
	p.skipWS()
	pos := p.i
	if pos >= len(p.q) {
		return nil, p.errAt(pos, "expected a value after '%s'", op)
	}
	if kw, _ := keywordAt(p.q, pos); kw != "" {
		return nil, p.errAt(pos, "expected a value after '%s', found %s", op, p.found(pos))
	}
	c := p.q[pos]
	if c == '*' {
		return nil, p.errAt(pos, "a range value cannot be a wildcard (use field:* to test that a field exists)")
	}
	if c != '"' && c != '\\' && specialChar(c) {
		return nil, p.errAt(pos, "expected a value after '%s', found %s", op, p.found(pos))
	}
	lit, err := p.readLiteral()
	if err != nil {
		return nil, err
	}
	value := lit.text
	if !lit.quoted {
		var b strings.Builder
		for _, c := range lit.chars {
			if c.kind == chWild {
				return nil, p.errAt(c.pos, "a range value cannot contain a wildcard (escape it as '\\*')")
			}
			b.WriteString(c.s)
		}
		value = b.String()
	}
	if field == TimestampField {
		if _, _, ok := ParseTime(value, p.now); !ok {
			return nil, p.errAt(pos, "invalid date %q for %s: expected a date such as 2026-01-02 or 2026-01-02T15:04:05Z, epoch milliseconds, or date math such as now-15m", value, TimestampField)
		}
	}
	r := &Range{Field: field, Op: op, Value: value}
	r.prep = prepareRange(r, p.now)
	return r, nil
}

// makeOr and makeAnd build a node of several operands, flattening operands
// of the same kind ((a or b) or c is a or b or c) so that every query has
// one canonical tree.
func makeOr(nodes []Node) Node {
	if len(nodes) == 1 {
		return nodes[0]
	}
	out := make([]Node, 0, len(nodes))
	for _, n := range nodes {
		if o, ok := n.(*Or); ok && len(o.Nodes) > 0 {
			out = append(out, o.Nodes...)
		} else {
			out = append(out, n)
		}
	}
	return &Or{Nodes: out}
}

func makeAnd(nodes []Node) Node {
	if len(nodes) == 1 {
		return nodes[0]
	}
	out := make([]Node, 0, len(nodes))
	for _, n := range nodes {
		if a, ok := n.(*And); ok && len(a.Nodes) > 0 {
			out = append(out, a.Nodes...)
		} else {
			out = append(out, n)
		}
	}
	return &And{Nodes: out}
}
