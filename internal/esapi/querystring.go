package esapi

import (
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
)

// luceneParser parses the query_string syntax (Lucene's classic query
// parser, as Elasticsearch extends it) into a kql tree:
//
//	word  field:word  field:"a phrase"  "a phrase"~2  word~1  word^2
//	AND && OR || NOT !  +required -prohibited  (grouping)  field:(a b)
//	wild*card  qu?ck  field:*  _exists_:field  *  *:*
//	field:[a TO b]  field:{a TO b}  field:[a TO *]  field:>=10  field:<now-1h
//
// Boolean logic follows Lucene, not operator precedence: each clause is
// required, optional or prohibited. AND makes its neighbours required, OR
// (with default_operator OR) leaves them optional; a query with required
// clauses ignores its optional ones (they only score). Fuzziness (~1),
// proximity ("a b"~3, read as all the words) and boosts (^2) do not change
// what matches here. '?' matches like '*' (kql has no single-character
// wildcard). Regular expressions (/.../) are refused.
type luceneParser struct {
	t         *translator
	fields    []string // default fields; none means every field
	defaultOp string   // "or" or "and"
	s         string
	i         int
	depth     int
}

type occur uint8

const (
	should occur = iota
	must
	mustNot
)

type lclause struct {
	occur occur
	node  kql.Node
}

type qsError struct {
	pos int
	msg string
}

func (p *luceneParser) parse(q string) (kql.Node, *esbulk.Error) {
	p.s = q
	if strings.TrimSpace(q) == "" {
		return &kql.Or{}, nil // an empty query string matches nothing
	}
	n, err := p.query(p.fields, false)
	if err == nil && p.i < len(p.s) {
		err = p.errf("Encountered \" \")\" \") \"\"")
	}
	if err != nil {
		if err.pos < 0 {
			return nil, &esbulk.Error{Status: 400, Type: "illegal_argument_exception", Reason: err.msg}
		}
		return nil, &esbulk.Error{Status: 400, Type: "query_shard_exception", Reason: "Failed to parse query [" + q + "]",
			CausedBy: &esbulk.Error{Type: "parse_exception",
				Reason: "Cannot parse '" + q + "': " + err.msg + " at line 1, column " + strconv.Itoa(err.pos+1)}}
	}
	return n, nil
}

func (p *luceneParser) errf(msg string) *qsError { return &qsError{pos: p.i, msg: msg} }

func (p *luceneParser) eof() bool { return p.i >= len(p.s) }

func (p *luceneParser) skipWS() {
	for p.i < len(p.s) && isSpaceByte(p.s[p.i]) {
		p.i++
	}
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// keyword consumes an operator word (AND, OR, NOT) when it stands alone.
func (p *luceneParser) keyword(w string) bool {
	if !strings.HasPrefix(p.s[p.i:], w) {
		return false
	}
	j := p.i + len(w)
	if j < len(p.s) && !isSpaceByte(p.s[j]) && p.s[j] != '(' && p.s[j] != '"' {
		return false
	}
	p.i = j
	return true
}

func (p *luceneParser) symbol(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// query parses clauses up to the end or a closing parenthesis.
func (p *luceneParser) query(fields []string, inParen bool) (kql.Node, *qsError) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 64 {
		return nil, p.errf("too deeply nested")
	}
	var clauses []lclause
	for {
		p.skipWS()
		if p.eof() || (inParen && p.s[p.i] == ')') {
			break
		}
		conj := 0 // 1 AND, 2 OR
		switch {
		case p.keyword("AND"), p.symbol("&&"):
			conj = 1
		case p.keyword("OR"), p.symbol("||"):
			conj = 2
		}
		if conj != 0 && len(clauses) == 0 {
			return nil, p.errf("Encountered an operator without a clause before it")
		}
		p.skipWS()
		mod := 0 // 1 required, 2 prohibited
		switch {
		case p.symbol("+"):
			mod = 1
		case p.symbol("-"), p.keyword("NOT"), p.symbol("!"):
			mod = 2
		}
		p.skipWS()
		if p.eof() || (inParen && p.s[p.i] == ')') {
			return nil, p.errf("Encountered \"<EOF>\"")
		}
		n, err := p.clause(fields)
		if err != nil {
			return nil, err
		}
		clauses = p.addClause(clauses, conj, mod, n)
	}
	return combine(clauses), nil
}

// addClause is Lucene's QueryParserBase.addClause.
func (p *luceneParser) addClause(clauses []lclause, conj, mod int, n kql.Node) []lclause {
	and := p.defaultOp == "and"
	if len(clauses) > 0 {
		prev := &clauses[len(clauses)-1]
		if conj == 1 && prev.occur != mustNot {
			prev.occur = must
		}
		if and && conj == 2 && prev.occur != mustNot {
			prev.occur = should
		}
	}
	prohibited := mod == 2
	var required bool
	if !and {
		required = mod == 1
		if conj == 1 && !prohibited {
			required = true
		}
	} else {
		required = !prohibited && conj != 2
	}
	o := should
	switch {
	case prohibited:
		o = mustNot
	case required:
		o = must
	}
	return append(clauses, lclause{o, n})
}

// combine turns clauses into one node with Lucene's boolean semantics.
func combine(clauses []lclause) kql.Node {
	var musts, shoulds, nots []kql.Node
	for _, c := range clauses {
		switch c.occur {
		case must:
			musts = append(musts, c.node)
		case should:
			shoulds = append(shoulds, c.node)
		default:
			nots = append(nots, c.node)
		}
	}
	var pos kql.Node
	switch {
	case len(musts) > 0:
		pos = andOf(musts)
	case len(shoulds) == 1:
		pos = shoulds[0]
	case len(shoulds) > 1:
		pos = &kql.Or{Nodes: shoulds}
	}
	if len(nots) == 0 {
		if pos == nil {
			return &kql.Or{}
		}
		return pos
	}
	var neg kql.Node
	if len(nots) == 1 {
		neg = &kql.Not{Node: nots[0]}
	} else {
		neg = &kql.Not{Node: &kql.Or{Nodes: nots}}
	}
	if pos == nil {
		return neg // a purely negative query matches everything else
	}
	return &kql.And{Nodes: []kql.Node{pos, neg}}
}

func andOf(nodes []kql.Node) kql.Node {
	if len(nodes) == 1 {
		return nodes[0]
	}
	return &kql.And{Nodes: nodes}
}

// special reports the characters that end an unescaped term.
func lspecial(c byte) bool {
	switch c {
	case '+', '-', '!', '(', ')', ':', '^', '[', ']', '"', '{', '}', '~', '/', '\\':
		return true
	}
	return isSpaceByte(c)
}

// readTerm reads a term (escapes kept) at p.i: the first character may not
// be + - !, the others may.
func (p *luceneParser) readTerm() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '\\' {
			p.i += 2
			continue
		}
		if lspecial(c) && !((c == '-' || c == '+' || c == '!') && p.i > start) {
			break
		}
		if c == '&' && strings.HasPrefix(p.s[p.i:], "&&") || c == '|' && strings.HasPrefix(p.s[p.i:], "||") {
			break
		}
		p.i++
	}
	if p.i > len(p.s) {
		p.i = len(p.s)
	}
	return p.s[start:p.i]
}

func unescapeLucene(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// clause parses [field:] (term | phrase | range | (query)).
func (p *luceneParser) clause(fields []string) (kql.Node, *qsError) {
	save := p.i
	if term := p.readTerm(); term != "" && p.i < len(p.s) && p.s[p.i] == ':' {
		p.i++
		f := unescapeLucene(term)
		fields = []string{f}
		p.skipWS()
	} else {
		p.i = save
	}
	if p.eof() {
		return nil, p.errf("Encountered \"<EOF>\"")
	}
	if p.s[p.i] == '(' {
		p.i++
		n, err := p.query(fields, true)
		if err != nil {
			return nil, err
		}
		if p.eof() || p.s[p.i] != ')' {
			return nil, p.errf("Encountered \"<EOF>\", expected \")\"")
		}
		p.i++
		p.boost()
		return n, nil
	}
	return p.term(fields)
}

// boost skips ^N.
func (p *luceneParser) boost() {
	if p.i < len(p.s) && p.s[p.i] == '^' {
		p.i++
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
	}
}

// fuzzy skips ~ and an optional number, and reports whether it was there.
func (p *luceneParser) fuzzy() bool {
	if p.i < len(p.s) && p.s[p.i] == '~' {
		p.i++
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
		return true
	}
	return false
}

func (p *luceneParser) term(fields []string) (kql.Node, *qsError) {
	switch c := p.s[p.i]; c {
	case '"':
		start := p.i
		p.i++
		var b strings.Builder
		for {
			if p.eof() {
				p.i = start
				return nil, p.errf("Lexical error: unterminated quoted string")
			}
			c := p.s[p.i]
			if c == '\\' && p.i+1 < len(p.s) {
				b.WriteByte(p.s[p.i+1])
				p.i += 2
				continue
			}
			if c == '"' {
				p.i++
				break
			}
			b.WriteByte(c)
			p.i++
		}
		slop := p.fuzzy()
		p.boost()
		phrase := b.String()
		return p.perField(fields, func(f string) (kql.Node, *qsError) {
			if slop && len(strings.Fields(phrase)) > 1 {
				var nodes []kql.Node
				for _, w := range strings.Fields(phrase) {
					nodes = append(nodes, &kql.Term{Field: f, Value: w})
				}
				return &kql.And{Nodes: nodes}, nil
			}
			if e := p.t.checkTimestampValue(f, phrase); e != nil {
				return nil, &qsError{pos: -1, msg: e.Reason}
			}
			return &kql.Term{Field: f, Value: phrase, Phrase: true}, nil
		})
	case '[', '{':
		return p.rangeTerm(fields)
	case '/':
		return nil, &qsError{pos: -1, msg: "regular expressions (/.../) in query_string are not supported by Sluice"}
	case '>', '<':
		op := string(c)
		p.i++
		if p.i < len(p.s) && p.s[p.i] == '=' {
			op += "="
			p.i++
		}
		var v string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			n, err := p.term(nil)
			if err != nil {
				return nil, err
			}
			if t, ok := n.(*kql.Term); ok {
				v = t.Value
			}
		} else {
			v = unescapeLucene(p.readTerm())
		}
		if v == "" {
			return nil, p.errf("Encountered \"<EOF>\" after \"" + op + "\"")
		}
		return p.perField(fields, func(f string) (kql.Node, *qsError) {
			return p.rangeNode(f, op, v)
		})
	}
	raw := p.readTerm()
	if raw == "" {
		return nil, p.errf("Encountered \"" + string(p.s[p.i]) + "\"")
	}
	p.fuzzy()
	p.boost()
	return p.perField(fields, func(f string) (kql.Node, *qsError) {
		switch {
		case f == "_exists_":
			return &kql.Exists{Field: p.t.field(unescapeLucene(raw))}, nil
		case raw == "*":
			if f == "" {
				return &kql.MatchAll{}, nil
			}
			return &kql.Exists{Field: f}, nil
		case strings.ContainsAny(raw, "*?"):
			return wildcardTerm(f, luceneWildcard(raw)), nil
		}
		v := unescapeLucene(raw)
		if e := p.t.checkTimestampValue(f, v); e != nil {
			return nil, &qsError{pos: -1, msg: e.Reason}
		}
		return &kql.Term{Field: f, Value: v}, nil
	})
}

// perField applies build to each field (the default fields, or every
// field), or-ing the results.
func (p *luceneParser) perField(fields []string, build func(f string) (kql.Node, *qsError)) (kql.Node, *qsError) {
	if len(fields) == 0 {
		fields = []string{"*"}
	}
	var nodes []kql.Node
	for _, f := range fields {
		if f == "*:*" {
			f = "*"
		}
		name := f
		if f != "_exists_" {
			name = p.t.field(f)
		}
		n, err := build(name)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	return &kql.Or{Nodes: nodes}, nil
}

// rangeTerm parses [a TO b], {a TO b} and the mixed forms.
func (p *luceneParser) rangeTerm(fields []string) (kql.Node, *qsError) {
	inclLower := p.s[p.i] == '['
	p.i++
	read := func() (string, *qsError) {
		p.skipWS()
		if p.eof() {
			return "", p.errf("Encountered \"<EOF>\" in range")
		}
		if p.s[p.i] == '"' {
			start := p.i + 1
			j := start
			for j < len(p.s) && p.s[j] != '"' {
				if p.s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(p.s) {
				return "", p.errf("Lexical error: unterminated quoted string in range")
			}
			p.i = j + 1
			return unescapeLucene(p.s[start:j]), nil
		}
		start := p.i
		for p.i < len(p.s) && !isSpaceByte(p.s[p.i]) && p.s[p.i] != ']' && p.s[p.i] != '}' {
			p.i++
		}
		return p.s[start:p.i], nil
	}
	lower, err := read()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if !p.keyword("TO") {
		return nil, p.errf("Encountered \"" + lower + "\", expected \"TO\"")
	}
	upper, err := read()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.eof() || (p.s[p.i] != ']' && p.s[p.i] != '}') {
		return nil, p.errf("Encountered \"<EOF>\", expected \"]\" or \"}\"")
	}
	inclUpper := p.s[p.i] == ']'
	p.i++
	p.boost()
	return p.perField(fields, func(f string) (kql.Node, *qsError) {
		var nodes []kql.Node
		if lower != "*" {
			op := ">"
			if inclLower {
				op = ">="
			}
			n, err := p.rangeNode(f, op, lower)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, n)
		}
		if upper != "*" {
			op := "<"
			if inclUpper {
				op = "<="
			}
			n, err := p.rangeNode(f, op, upper)
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, n)
		}
		if len(nodes) == 0 {
			if f == "" {
				return &kql.MatchAll{}, nil
			}
			return &kql.Exists{Field: f}, nil
		}
		return andOf(nodes), nil
	})
}

func (p *luceneParser) rangeNode(f, op, v string) (kql.Node, *qsError) {
	if f == "" {
		return nil, &qsError{pos: -1, msg: "range queries in query_string need a field (field:[a TO b])"}
	}
	if f == event.TimestampField || strings.HasPrefix(v, "now") || strings.Contains(v, "||") {
		tm, e := resolveDate(v, "", nil, op == ">" || op == "<=", p.t.now)
		if e != nil {
			if f != event.TimestampField {
				return &kql.Range{Field: f, Op: op, Value: v}, nil
			}
			return nil, &qsError{pos: -1, msg: e.Reason}
		}
		v = tm.Format(instantLayout)
	}
	return &kql.Range{Field: f, Op: op, Value: v}, nil
}

// simpleParser parses simple_query_string: words, "phrases", prefix*,
// + (and), | (or), - (not), ( ), ~N. It never fails: what it cannot read
// is taken as text. Operators apply left to right, as in Lucene's
// SimpleQueryParser.
type simpleParser struct {
	t         *translator
	fields    []string
	defaultOp string
	s         string
	i         int
}

func (p *simpleParser) parse(q string) kql.Node {
	p.s = q
	n := p.expr(0)
	if n == nil {
		return &kql.Or{}
	}
	return n
}

func (p *simpleParser) expr(depth int) kql.Node {
	var top kql.Node
	topOp := ""
	add := func(op string, n kql.Node) {
		if top == nil {
			top, topOp = n, ""
			return
		}
		if topOp == op {
			switch t := top.(type) {
			case *kql.And:
				t.Nodes = append(t.Nodes, n)
				return
			case *kql.Or:
				t.Nodes = append(t.Nodes, n)
				return
			}
		}
		if op == "and" {
			top = &kql.And{Nodes: []kql.Node{top, n}}
		} else {
			top = &kql.Or{Nodes: []kql.Node{top, n}}
		}
		topOp = op
	}
	op := ""
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case isSpaceByte(c):
			p.i++
			continue
		case c == '|':
			op = "or"
			p.i++
			continue
		case c == '+':
			op = "and"
			p.i++
			continue
		case c == ')':
			if depth > 0 {
				p.i++
				return top
			}
			p.i++
			continue
		}
		neg := false
		for p.i < len(p.s) && p.s[p.i] == '-' {
			neg = !neg
			p.i++
		}
		var n kql.Node
		if p.i < len(p.s) && p.s[p.i] == '(' && depth < 32 {
			p.i++
			n = p.expr(depth + 1)
		} else {
			n = p.term()
		}
		if n == nil {
			continue
		}
		if neg {
			n = &kql.Not{Node: n}
		}
		if op == "" {
			op = p.defaultOp
			if op != "and" {
				op = "or"
			}
		}
		add(op, n)
		op = ""
	}
	return top
}

func (p *simpleParser) term() kql.Node {
	if p.i >= len(p.s) {
		return nil
	}
	if p.s[p.i] == '"' {
		j := strings.IndexByte(p.s[p.i+1:], '"')
		var phrase string
		if j < 0 {
			phrase = p.s[p.i+1:]
			p.i = len(p.s)
		} else {
			phrase = p.s[p.i+1 : p.i+1+j]
			p.i += j + 2
		}
		p.skipTilde()
		if strings.TrimSpace(phrase) == "" {
			return nil
		}
		return p.perField(func(f string) kql.Node { return &kql.Term{Field: f, Value: phrase, Phrase: true} })
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if isSpaceByte(c) || c == '|' || c == '+' || c == '(' || c == ')' || c == '"' || c == '~' {
			break
		}
		if c == '\\' && p.i+1 < len(p.s) {
			p.i++
		}
		p.i++
	}
	raw := p.s[start:p.i]
	p.skipTilde()
	if raw == "" {
		if p.i < len(p.s) {
			p.i++
		}
		return nil
	}
	if raw == "*" {
		return &kql.MatchAll{}
	}
	if strings.HasSuffix(raw, "*") && !strings.HasSuffix(raw, `\*`) {
		pat := escapeWildcard(unescapeLucene(strings.TrimSuffix(raw, "*"))) + "*"
		return p.perField(func(f string) kql.Node { return &kql.Term{Field: f, Value: pat, Wildcard: true} })
	}
	v := unescapeLucene(raw)
	return p.perField(func(f string) kql.Node { return &kql.Term{Field: f, Value: v} })
}

func (p *simpleParser) skipTilde() {
	if p.i < len(p.s) && p.s[p.i] == '~' {
		p.i++
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
	}
}

func (p *simpleParser) perField(build func(f string) kql.Node) kql.Node {
	fields := p.fields
	if len(fields) == 0 {
		fields = []string{"*"}
	}
	var nodes []kql.Node
	for _, f := range fields {
		nodes = append(nodes, build(p.t.field(f)))
	}
	if len(nodes) == 1 {
		return nodes[0]
	}
	return &kql.Or{Nodes: nodes}
}
