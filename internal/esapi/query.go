package esapi

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
)

// The query DSL is translated into a kql tree: Sluice's query semantics
// (see the kql package) are KQL's, and Kibana itself translates KQL into
// this DSL. Term-level queries (term, terms, prefix, wildcard) match like
// a KQL field query: case-insensitively, on whole tokens of the value —
// the closest a schemaless store gets to both text and keyword fields.

// translator turns query DSL into kql nodes.
type translator struct {
	now time.Time
	// nested is the path of the nested query being translated; its
	// fields are made relative to it.
	nested string
	depth  int
}

// maxQueryDepth bounds the nesting of compound queries (Elasticsearch's
// indices.query.bool.max_nested_depth is 30).
const maxQueryDepth = 64

func (t *translator) field(f string) string {
	f = strings.TrimSuffix(f, ".keyword")
	switch f {
	case "_all", "*", "":
		return ""
	case "_id":
		return FieldID
	}
	if t.nested != "" {
		if rest, ok := strings.CutPrefix(f, t.nested+"."); ok {
			return rest
		}
	}
	return f
}

// unknownKey is Elasticsearch's error for a member it does not know.
func unknownKey(query, key string) *esbulk.Error {
	return parsingError("[" + query + "] query does not support [" + key + "]")
}

// query translates one query object: {"<type>": {...}}.
func (t *translator) query(v any) (kql.Node, *esbulk.Error) {
	t.depth++
	defer func() { t.depth-- }()
	if t.depth > maxQueryDepth {
		return nil, badRequest("the query is nested more than " + strconv.Itoa(maxQueryDepth) + " levels deep")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, parsingError("query malformed, must start with start_object")
	}
	if len(m) == 0 {
		return &kql.MatchAll{}, nil
	}
	if len(m) > 1 {
		keys := sortedKeys(m)
		return nil, parsingError("[" + keys[0] + "] malformed query, expected [END_OBJECT] but found [FIELD_NAME]")
	}
	for typ, body := range m {
		return t.typed(typ, body)
	}
	return nil, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (t *translator) typed(typ string, body any) (kql.Node, *esbulk.Error) {
	switch typ {
	case "match_all":
		return &kql.MatchAll{}, nil
	case "match_none":
		return &kql.Or{}, nil
	case "match", "match_phrase", "match_phrase_prefix", "match_bool_prefix":
		return t.match(typ, body)
	case "multi_match":
		return t.multiMatch(body)
	case "term", "terms", "prefix", "wildcard":
		return t.termLevel(typ, body)
	case "ids":
		return t.ids(body)
	case "range":
		return t.rangeQuery(body)
	case "exists":
		m, ok := body.(map[string]any)
		f, _ := m["field"].(string)
		if !ok || f == "" {
			return nil, parsingError("[exists] must be provided with a [field]")
		}
		return &kql.Exists{Field: t.field(f)}, nil
	case "bool":
		return t.boolQuery(body)
	case "constant_score":
		m, _ := body.(map[string]any)
		f, ok := m["filter"]
		if !ok {
			return nil, parsingError("[constant_score] requires a 'filter' element")
		}
		return t.query(f)
	case "boosting":
		m, _ := body.(map[string]any)
		p, ok := m["positive"]
		if !ok {
			return nil, parsingError("[boosting] query requires 'positive' query")
		}
		return t.query(p)
	case "dis_max":
		m, _ := body.(map[string]any)
		qs, _ := m["queries"].([]any)
		or := &kql.Or{}
		for _, q := range qs {
			n, e := t.query(q)
			if e != nil {
				return nil, e
			}
			or.Nodes = append(or.Nodes, n)
		}
		return or, nil
	case "query_string":
		return t.queryString(body)
	case "simple_query_string":
		return t.simpleQueryString(body)
	case "nested":
		m, _ := body.(map[string]any)
		path, _ := m["path"].(string)
		q, ok := m["query"]
		if path == "" || !ok {
			return nil, parsingError("[nested] requires 'path' and 'query' fields")
		}
		inner := &translator{now: t.now, nested: path, depth: t.depth}
		n, e := inner.query(q)
		if e != nil {
			return nil, e
		}
		return &kql.Nested{Path: t.field(path), Query: n}, nil
	case "regexp", "fuzzy", "script", "script_score", "function_score", "more_like_this", "percolate",
		"geo_distance", "geo_bounding_box", "geo_shape", "geo_polygon", "has_child", "has_parent",
		"parent_id", "span_term", "span_near", "span_or", "span_not", "span_first", "intervals",
		"distance_feature", "rank_feature", "knn", "semantic", "sparse_vector", "text_expansion", "pinned",
		"combined_fields", "terms_set", "wrapper":
		return nil, &esbulk.Error{Status: 400, Type: "illegal_argument_exception",
			Reason: "query [" + typ + "] is not supported by Sluice; use query_string, match, match_phrase, term(s), prefix, wildcard, range, exists or bool"}
	}
	return nil, parsingError("unknown query [" + typ + "]")
}

// fieldBody reads the {"<field>": value-or-object} shape of the field
// queries.
func fieldBody(typ string, body any) (field string, v any, e *esbulk.Error) {
	m, ok := body.(map[string]any)
	if !ok {
		return "", nil, parsingError("[" + typ + "] query malformed, no start_object after query name")
	}
	var fields []string
	for k := range m {
		if k == "boost" || k == "_name" {
			continue
		}
		fields = append(fields, k)
	}
	if len(fields) != 1 {
		if len(fields) == 0 {
			return "", nil, parsingError("[" + typ + "] query doesn't have a field")
		}
		sort.Strings(fields)
		return "", nil, parsingError("[" + typ + "] query doesn't support multiple fields, found [" + fields[0] + "] and [" + fields[1] + "]")
	}
	return fields[0], m[fields[0]], nil
}

// text returns a scalar's text: strings as they are, numbers in their
// JSON form, booleans as true or false.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}

func (t *translator) match(typ string, body any) (kql.Node, *esbulk.Error) {
	field, v, e := fieldBody(typ, body)
	if e != nil {
		return nil, e
	}
	operator := "or"
	var msm any
	if obj, ok := v.(map[string]any); ok {
		q, ok := obj["query"]
		if !ok {
			return nil, parsingError("[" + typ + "] requires query value")
		}
		if op, ok := obj["operator"].(string); ok {
			operator = strings.ToLower(op)
		}
		msm = obj["minimum_should_match"]
		v = q
	}
	s, ok := text(v)
	if !ok {
		return nil, parsingError("[" + typ + "] unknown token [START_ARRAY] after [query]")
	}
	f := t.field(field)
	if err := t.checkTimestampValue(f, s); err != nil {
		return nil, err
	}
	switch typ {
	case "match_phrase":
		return &kql.Term{Field: f, Value: s, Phrase: true}, nil
	case "match_phrase_prefix", "match_bool_prefix":
		return &kql.Term{Field: f, Value: escapeWildcard(s) + "*", Wildcard: true}, nil
	}
	words := strings.Fields(s)
	if len(words) == 0 {
		return &kql.Or{}, nil // no terms: matches nothing (zero_terms_query: none)
	}
	nodes := make([]kql.Node, len(words))
	for i, w := range words {
		nodes[i] = &kql.Term{Field: f, Value: w}
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	if operator == "and" {
		return &kql.And{Nodes: nodes}, nil
	}
	if msm != nil {
		k, e := minimumShouldMatch(msm, len(nodes))
		if e != nil {
			return nil, e
		}
		return atLeast(k, nodes)
	}
	return &kql.Or{Nodes: nodes}, nil
}

func (t *translator) multiMatch(body any) (kql.Node, *esbulk.Error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, parsingError("[multi_match] malformed query")
	}
	q, ok := m["query"]
	if !ok {
		return nil, parsingError("No text specified for multi_match query")
	}
	typ := "match"
	switch m["type"] {
	case "phrase":
		typ = "match_phrase"
	case "phrase_prefix", "bool_prefix":
		typ = "match_phrase_prefix"
	}
	inner := map[string]any{"query": q}
	for _, k := range []string{"operator", "minimum_should_match"} {
		if v, ok := m[k]; ok {
			inner[k] = v
		}
	}
	var fields []string
	switch fs := m["fields"].(type) {
	case []any:
		for _, f := range fs {
			if s, ok := f.(string); ok {
				fields = append(fields, s)
			}
		}
	case string:
		fields = []string{fs}
	}
	if len(fields) == 0 {
		fields = []string{"*"}
	}
	or := &kql.Or{}
	for _, f := range fields {
		if i := strings.IndexByte(f, '^'); i >= 0 {
			f = f[:i] // boosts do not change what matches
		}
		n, e := t.match(typ, map[string]any{f: inner})
		if e != nil {
			return nil, e
		}
		or.Nodes = append(or.Nodes, n)
	}
	if len(or.Nodes) == 1 {
		return or.Nodes[0], nil
	}
	return or, nil
}

func (t *translator) termLevel(typ string, body any) (kql.Node, *esbulk.Error) {
	field, v, e := fieldBody(typ, body)
	if e != nil {
		return nil, e
	}
	f := t.field(field)
	if typ == "terms" {
		list, ok := v.([]any)
		if !ok {
			return nil, parsingError("[terms] query does not support [" + field + "]: a list of values is expected (terms lookup is not supported)")
		}
		or := &kql.Or{}
		for _, x := range list {
			s, ok := text(x)
			if !ok {
				return nil, parsingError("[terms] query values must be strings, numbers or booleans")
			}
			if err := t.checkTimestampValue(f, s); err != nil {
				return nil, err
			}
			or.Nodes = append(or.Nodes, &kql.Term{Field: f, Value: s, Phrase: true})
		}
		return or, nil
	}
	if obj, ok := v.(map[string]any); ok {
		key := "value"
		if typ == "wildcard" {
			if _, ok := obj["wildcard"]; ok {
				key = "wildcard"
			}
		}
		x, ok := obj[key]
		if !ok {
			return nil, parsingError("[" + typ + "] query requires a value")
		}
		v = x
	}
	s, ok := text(v)
	if !ok {
		return nil, parsingError("[" + typ + "] query does not support arrays or objects as value")
	}
	switch typ {
	case "term":
		if err := t.checkTimestampValue(f, s); err != nil {
			return nil, err
		}
		return &kql.Term{Field: f, Value: s, Phrase: true}, nil
	case "prefix":
		return &kql.Term{Field: f, Value: escapeWildcard(s) + "*", Wildcard: true}, nil
	default: // wildcard
		return wildcardTerm(f, luceneWildcard(s)), nil
	}
}

// wildcardTerm is a kql wildcard term, or a plain term when the pattern
// has no wildcard left.
func wildcardTerm(field, pattern string) kql.Node {
	if pattern == "*" {
		if field == "" {
			return &kql.MatchAll{}
		}
		return &kql.Exists{Field: field}
	}
	if !hasUnescapedStar(pattern) {
		return &kql.Term{Field: field, Value: unescapeWildcard(pattern), Phrase: true}
	}
	return &kql.Term{Field: field, Value: pattern, Wildcard: true}
}

func hasUnescapedStar(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' {
			i++
			continue
		}
		if p[i] == '*' {
			return true
		}
	}
	return false
}

func unescapeWildcard(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			i++
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// escapeWildcard makes a literal safe inside a kql wildcard pattern.
func escapeWildcard(s string) string {
	if !strings.ContainsAny(s, `*\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '*' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// luceneWildcard converts a Lucene wildcard pattern (* and ?, \ escapes)
// to a kql pattern: kql has no single-character wildcard, so '?' widens
// to '*'.
func luceneWildcard(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				if s[i] == '*' || s[i] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(s[i])
			}
		case '?':
			b.WriteByte('*')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (t *translator) ids(body any) (kql.Node, *esbulk.Error) {
	m, _ := body.(map[string]any)
	list, ok := m["values"].([]any)
	if !ok {
		return nil, parsingError("[ids] query requires [values]")
	}
	or := &kql.Or{}
	for _, x := range list {
		s, ok := text(x)
		if !ok {
			return nil, parsingError("[ids] values must be strings")
		}
		or.Nodes = append(or.Nodes, &kql.Term{Field: FieldID, Value: s, Phrase: true})
	}
	return or, nil
}

func (t *translator) rangeQuery(body any) (kql.Node, *esbulk.Error) {
	field, v, e := fieldBody("range", body)
	if e != nil {
		return nil, e
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, parsingError("[range] query malformed, no start_object after field name")
	}
	f := t.field(field)
	format, _ := obj["format"].(string)
	tz, _ := obj["time_zone"].(string)
	loc, err := parseZone(tz)
	if err != nil {
		return nil, err
	}
	type bound struct {
		op string
		v  any
	}
	var bounds []bound
	inclLower, inclUpper := true, true
	if b, ok := obj["include_lower"].(bool); ok {
		inclLower = b
	}
	if b, ok := obj["include_upper"].(bool); ok {
		inclUpper = b
	}
	for k, x := range obj {
		if x == nil {
			continue
		}
		switch k {
		case "gt":
			bounds = append(bounds, bound{">", x})
		case "gte":
			bounds = append(bounds, bound{">=", x})
		case "lt":
			bounds = append(bounds, bound{"<", x})
		case "lte":
			bounds = append(bounds, bound{"<=", x})
		case "from":
			op := ">="
			if !inclLower {
				op = ">"
			}
			bounds = append(bounds, bound{op, x})
		case "to":
			op := "<="
			if !inclUpper {
				op = "<"
			}
			bounds = append(bounds, bound{op, x})
		case "format", "time_zone", "boost", "_name", "relation", "include_lower", "include_upper":
		default:
			return nil, parsingError("[range] query does not support [" + k + "]")
		}
	}
	// Lower bounds first, for a readable tree.
	sort.SliceStable(bounds, func(i, j int) bool { return bounds[i].op[0] == '>' && bounds[j].op[0] == '<' })
	and := &kql.And{}
	isDate := f == event.TimestampField || format != "" || tz != ""
	for _, b := range bounds {
		s, ok := text(b.v)
		if !ok {
			return nil, parsingError("[range] query bounds must be strings or numbers")
		}
		if !isDate {
			if str, isStr := b.v.(string); isStr && (strings.HasPrefix(str, "now") || strings.Contains(str, "||")) {
				isDate = true
			}
		}
		if isDate {
			tm, e := resolveDate(b.v, format, loc, b.op == ">" || b.op == "<=", t.now)
			if e != nil {
				return nil, e
			}
			s = tm.Format(instantLayout)
		}
		and.Nodes = append(and.Nodes, &kql.Range{Field: f, Op: b.op, Value: s})
	}
	if len(and.Nodes) == 0 {
		// A range without bounds matches documents that have the field.
		return &kql.Exists{Field: f}, nil
	}
	if len(and.Nodes) == 1 {
		return and.Nodes[0], nil
	}
	return and, nil
}

func (t *translator) boolQuery(body any) (kql.Node, *esbulk.Error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, parsingError("[bool] query malformed, no start_object after query name")
	}
	clauses := func(key string) ([]kql.Node, *esbulk.Error) {
		v, ok := m[key]
		if !ok || v == nil {
			return nil, nil
		}
		var list []any
		switch x := v.(type) {
		case []any:
			list = x
		case map[string]any:
			list = []any{x}
		default:
			return nil, parsingError("[bool] query does not support [" + key + "]")
		}
		var out []kql.Node
		for _, q := range list {
			n, e := t.query(q)
			if e != nil {
				return nil, e
			}
			out = append(out, n)
		}
		return out, nil
	}
	for k := range m {
		switch k {
		case "must", "filter", "should", "must_not", "minimum_should_match", "boost", "_name", "adjust_pure_negative":
		default:
			return nil, parsingError("[bool] query does not support [" + k + "]")
		}
	}
	must, e := clauses("must")
	if e != nil {
		return nil, e
	}
	filter, e := clauses("filter")
	if e != nil {
		return nil, e
	}
	should, e := clauses("should")
	if e != nil {
		return nil, e
	}
	mustNot, e := clauses("must_not")
	if e != nil {
		return nil, e
	}
	and := &kql.And{}
	and.Nodes = append(and.Nodes, must...)
	and.Nodes = append(and.Nodes, filter...)
	if len(should) > 0 {
		k := 0
		if len(and.Nodes) == 0 {
			k = 1
		}
		if v, ok := m["minimum_should_match"]; ok {
			if k, e = minimumShouldMatch(v, len(should)); e != nil {
				return nil, e
			}
		}
		if k > 0 {
			n, e := atLeast(k, should)
			if e != nil {
				return nil, e
			}
			and.Nodes = append(and.Nodes, n)
		}
	}
	switch len(mustNot) {
	case 0:
	case 1:
		and.Nodes = append(and.Nodes, &kql.Not{Node: mustNot[0]})
	default:
		and.Nodes = append(and.Nodes, &kql.Not{Node: &kql.Or{Nodes: mustNot}})
	}
	switch len(and.Nodes) {
	case 0:
		return &kql.MatchAll{}, nil
	case 1:
		return and.Nodes[0], nil
	}
	return and, nil
}

// minimumShouldMatch reads minimum_should_match (3, "3", "-1", "75%",
// "-25%") for n optional clauses.
func minimumShouldMatch(v any, n int) (int, *esbulk.Error) {
	s, ok := text(v)
	if !ok {
		return 0, parsingError("[minimum_should_match] must be a number or a percentage")
	}
	s = strings.TrimSpace(s)
	if strings.Contains(s, "<") {
		return 0, badRequest("conditional minimum_should_match [" + s + "] is not supported")
	}
	k := 0
	if p, isPct := strings.CutSuffix(s, "%"); isPct {
		f, err := strconv.Atoi(p)
		if err != nil {
			return 0, parsingError("invalid minimum_should_match [" + s + "]")
		}
		k = n * f / 100
		if f < 0 {
			k = n + n*f/100
		}
	} else {
		f, err := strconv.Atoi(s)
		if err != nil {
			return 0, parsingError("invalid minimum_should_match [" + s + "]")
		}
		k = f
		if f < 0 {
			k = n + f
		}
	}
	return max(k, 0), nil
}

// atLeast returns a node matching when at least k of nodes match.
func atLeast(k int, nodes []kql.Node) (kql.Node, *esbulk.Error) {
	switch {
	case k <= 0:
		return &kql.MatchAll{}, nil
	case k > len(nodes):
		return &kql.Or{}, nil
	case k == 1:
		if len(nodes) == 1 {
			return nodes[0], nil
		}
		return &kql.Or{Nodes: nodes}, nil
	case k == len(nodes):
		return &kql.And{Nodes: nodes}, nil
	}
	if len(nodes) > 12 {
		return nil, badRequest("minimum_should_match between 2 and n-1 is supported for at most 12 should clauses")
	}
	or := &kql.Or{}
	var pick func(start int, chosen []kql.Node)
	pick = func(start int, chosen []kql.Node) {
		if len(chosen) == k {
			or.Nodes = append(or.Nodes, &kql.And{Nodes: append([]kql.Node(nil), chosen...)})
			return
		}
		for i := start; i <= len(nodes)-(k-len(chosen)); i++ {
			pick(i+1, append(chosen, nodes[i]))
		}
	}
	pick(0, nil)
	return or, nil
}

// checkTimestampValue rejects a term on @timestamp that is not a date, as
// Elasticsearch does for a date field.
func (t *translator) checkTimestampValue(field, s string) *esbulk.Error {
	if field != event.TimestampField {
		return nil
	}
	if _, _, ok := kql.ParseTime(s, t.now); !ok {
		return dateError(s, "")
	}
	return nil
}

func (t *translator) queryString(body any) (kql.Node, *esbulk.Error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, parsingError("[query_string] query malformed")
	}
	q, ok := m["query"].(string)
	if !ok {
		return nil, parsingError("[query_string] must be provided with a [query]")
	}
	p := luceneParser{t: t, defaultOp: "or"}
	if op, ok := m["default_operator"].(string); ok {
		p.defaultOp = strings.ToLower(op)
	}
	if df, ok := m["default_field"].(string); ok {
		p.fields = []string{df}
	}
	if fs, ok := m["fields"].([]any); ok {
		p.fields = nil
		for _, f := range fs {
			if s, ok := f.(string); ok {
				if i := strings.IndexByte(s, '^'); i >= 0 {
					s = s[:i]
				}
				p.fields = append(p.fields, s)
			}
		}
	}
	return p.parse(q)
}

func (t *translator) simpleQueryString(body any) (kql.Node, *esbulk.Error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, parsingError("[simple_query_string] query malformed")
	}
	q, ok := m["query"].(string)
	if !ok {
		return nil, parsingError("[simple_query_string] query text missing")
	}
	p := simpleParser{t: t, defaultOp: "or"}
	if op, ok := m["default_operator"].(string); ok {
		p.defaultOp = strings.ToLower(op)
	}
	if fs, ok := m["fields"].([]any); ok {
		for _, f := range fs {
			if s, ok := f.(string); ok {
				if i := strings.IndexByte(s, '^'); i >= 0 {
					s = s[:i]
				}
				p.fields = append(p.fields, s)
			}
		}
	}
	return p.parse(q), nil
}
