package esapi

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
)

// searchSpec is a parsed _search or _count request.
type searchSpec struct {
	req        SearchRequest
	aggQuery   kql.Node // the query before post_filter
	aggFrom    time.Time
	aggTo      time.Time
	none       bool // the indices matched nothing
	shards     int
	sorted     bool // an explicit sort on @timestamp: hits carry sort values
	sortDoc    bool
	source     sourceFilter
	trackTotal int64 // -1: exact; 0: no total; n: count up to n
	totalInt   bool
	aggs       []*aggSpec
	version    bool
	seqNo      bool
	typedKeys  bool
	now        time.Time
}

// bodyKeys are the members of a search body: true when they change
// the result, false when they are accepted and ignored.
var bodyKeys = map[string]bool{
	"query": true, "size": true, "from": true, "sort": true, "_source": true, "track_total_hits": true,
	"aggs": true, "aggregations": true, "version": true, "seq_no_primary_term": true, "post_filter": true,
	"timeout": false, "highlight": false, "explain": false, "stored_fields": false, "docvalue_fields": false,
	"fields": false, "script_fields": false, "min_score": false, "terminate_after": false, "indices_boost": false,
	"profile": false, "stats": false, "track_scores": false, "rescore": false, "ext": false,
	"allow_partial_search_results": false,
}

// search serves _search and _count.
func (c *call) search(indexExpr string, count bool) {
	body, e := c.readJSON()
	if e != nil {
		c.fail(e)
		return
	}
	if src := c.q.Get("source"); body == nil && src != "" {
		// GET with ?source={...} instead of a body.
		if body, e = decodeObject([]byte(src)); e != nil {
			c.fail(e)
			return
		}
	}
	b, e := c.runSearch(indexExpr, count, body, c.q)
	if e != nil {
		c.fail(e)
		return
	}
	c.json(200, b)
}

// runSearch runs one search (or count) and returns its response body.
func (c *call) runSearch(indexExpr string, count bool, body map[string]any, q url.Values) ([]byte, *esbulk.Error) {
	spec, e := c.parseSearch(indexExpr, count, body, q)
	if e != nil {
		return nil, e
	}
	var res *SearchResult
	if spec.none {
		res = &SearchResult{}
	} else {
		var err error
		res, err = c.h.b.Search(c.ctx, &spec.req)
		if err != nil {
			return nil, c.h.asError(err, indexExpr)
		}
	}
	shards := strconv.Itoa(spec.shards)
	shardsJSON := `"_shards":{"total":` + shards + `,"successful":` + shards + `,"skipped":0,"failed":0}`
	if count {
		b := []byte(`{"count":`)
		b = strconv.AppendInt(b, res.Total, 10)
		b = append(b, ',')
		b = append(b, shardsJSON...)
		return append(b, '}'), nil
	}
	var aggsJSON []byte
	if len(spec.aggs) > 0 {
		ar := aggRun{c: c, spec: spec, budget: c.h.opts.MaxBuckets}
		base := spec.req
		base.Query = spec.aggQuery
		base.From, base.To = spec.aggFrom, spec.aggTo
		base.Size, base.Offset = 0, 0
		aggsJSON, e = ar.run(&base, spec.aggs, spec.none)
		if e != nil {
			return nil, e
		}
	}
	b := make([]byte, 0, 256+len(res.Hits)*512+len(aggsJSON))
	b = append(b, `{"took":`...)
	b = strconv.AppendInt(b, c.h.opts.Now().Sub(c.start).Milliseconds(), 10)
	b = append(b, `,"timed_out":false,`...)
	b = append(b, shardsJSON...)
	b = append(b, `,"hits":{`...)
	switch {
	case spec.totalInt:
		b = append(b, `"total":`...)
		b = strconv.AppendInt(b, res.Total, 10)
		b = append(b, ',')
	case spec.trackTotal != 0:
		v, rel := res.Total, "eq"
		if spec.trackTotal > 0 && v > spec.trackTotal {
			v, rel = spec.trackTotal, "gte"
		}
		b = append(b, `"total":{"value":`...)
		b = strconv.AppendInt(b, v, 10)
		b = append(b, `,"relation":"`...)
		b = append(b, rel...)
		b = append(b, `"},`...)
	}
	score := "1.0"
	if spec.sorted || spec.sortDoc {
		score = "null"
	}
	b = append(b, `"max_score":`...)
	if len(res.Hits) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, score...)
	}
	b = append(b, `,"hits":[`...)
	for i := range res.Hits {
		hit := &res.Hits[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"_index":`...)
		b = event.AppendJSONString(b, hit.Index)
		if c.compat == 7 {
			b = append(b, `,"_type":"_doc"`...)
		}
		b = append(b, `,"_id":`...)
		b = event.AppendJSONString(b, docID(hit))
		if spec.version {
			b = append(b, `,"_version":1`...)
		}
		if spec.seqNo {
			b = append(b, `,"_seq_no":0,"_primary_term":1`...)
		}
		b = append(b, `,"_score":`...)
		b = append(b, score...)
		if !spec.source.disabled {
			b = append(b, `,"_source":`...)
			b = appendSource(b, &hit.Event, &spec.source)
		}
		if spec.sorted {
			b = append(b, `,"sort":[`...)
			b = strconv.AppendInt(b, hit.Event.Time.UnixMilli(), 10)
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	if aggsJSON != nil {
		b = append(b, `,"aggregations":`...)
		b = append(b, aggsJSON...)
	}
	return append(b, '}'), nil
}

func (c *call) parseSearch(indexExpr string, count bool, body map[string]any, q url.Values) (*searchSpec, *esbulk.Error) {
	h := c.h
	var e *esbulk.Error
	if q.Get("scroll") != "" {
		return nil, badRequest("scroll searches are not supported: page with from and size, or narrow the time range")
	}
	spec := &searchSpec{trackTotal: 10_000, now: h.opts.Now()}
	tr := &translator{now: spec.now}
	for k := range body {
		if count {
			if k != "query" && k != "min_score" && k != "terminate_after" {
				return nil, parsingError("request does not support [" + k + "]")
			}
			continue
		}
		if _, ok := bodyKeys[k]; !ok {
			switch k {
			case "search_after", "pit", "collapse", "slice", "runtime_mappings", "suggest", "knn", "retriever", "rank", "point_in_time":
				return nil, badRequest("[" + k + "] is not supported by Sluice")
			}
			return nil, parsingError("Unknown key for a VALUE_STRING in [" + k + "].")
		}
	}
	// Query.
	var node kql.Node = &kql.MatchAll{}
	if qs := q.Get("q"); qs != "" {
		p := luceneParser{t: tr, defaultOp: "or"}
		if df := q.Get("df"); df != "" {
			p.fields = []string{df}
		}
		if op := q.Get("default_operator"); op != "" {
			p.defaultOp = strings.ToLower(op)
		}
		n, e := p.parse(qs)
		if e != nil {
			return nil, e
		}
		node = n
	} else if qv, ok := body["query"]; ok {
		n, e := tr.query(qv)
		if e != nil {
			return nil, e
		}
		node = n
	}
	spec.aggQuery = node
	if pf, ok := body["post_filter"]; ok {
		n, e := tr.query(pf)
		if e != nil {
			return nil, e
		}
		node = &kql.And{Nodes: []kql.Node{node, n}}
	}
	// Indices.
	idx, none, e := c.resolve(indexExpr, isTrue(q, "ignore_unavailable"))
	if e != nil {
		return nil, e
	}
	spec.none = none
	spec.req.Indices = idx
	spec.shards = 1
	if len(idx) > 1 {
		spec.shards = len(idx)
	}
	if none {
		spec.shards = 0
	}
	spec.req.Query = kql.Prepare(node, spec.now)
	spec.aggQuery = kql.Prepare(spec.aggQuery, spec.now)
	spec.req.From, spec.req.To = timeRange(spec.req.Query)
	spec.aggFrom, spec.aggTo = timeRange(spec.aggQuery)
	if count {
		return spec, nil
	}
	// Paging.
	size, from := 10, 0
	if v, ok := body["size"]; ok {
		n, e := intValue("size", v)
		if e != nil {
			return nil, e
		}
		size = n
	}
	if v, ok := body["from"]; ok {
		n, e := intValue("from", v)
		if e != nil {
			return nil, e
		}
		from = n
	}
	if size, e = intParam(q, "size", size); e != nil {
		return nil, e
	}
	if from, e = intParam(q, "from", from); e != nil {
		return nil, e
	}
	if size < 0 {
		return nil, badRequest("[size] parameter cannot be negative, found [" + strconv.Itoa(size) + "]")
	}
	if from < 0 {
		return nil, badRequest("[from] parameter cannot be negative, found [" + strconv.Itoa(from) + "]")
	}
	if from+size > h.opts.MaxResultWindow {
		iae := badRequest("Result window is too large, from + size must be less than or equal to: [" +
			strconv.Itoa(h.opts.MaxResultWindow) + "] but was [" + strconv.Itoa(from+size) +
			"]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.")
		return nil, &esbulk.Error{Status: 400, Type: "search_phase_execution_exception", Reason: "all shards failed",
			Meta: []esbulk.Meta{{Key: "phase", Value: "query"}, {Key: "grouped", Value: true}}, CausedBy: iae}
	}
	spec.req.Size, spec.req.Offset = size, from
	// Sort.
	if v, ok := body["sort"]; ok {
		if e := spec.parseSort(v); e != nil {
			return nil, e
		}
	}
	if s := q.Get("sort"); s != "" {
		var list []any
		for _, part := range splitList(s) {
			f, order, _ := strings.Cut(part, ":")
			if order == "" {
				list = append(list, f)
			} else {
				list = append(list, map[string]any{f: order})
			}
		}
		if e := spec.parseSort(list); e != nil {
			return nil, e
		}
	}
	// Source.
	if v, ok := body["_source"]; ok {
		sf, e := sourceFromBody(v)
		if e != nil {
			return nil, e
		}
		spec.source = sf
	}
	if ps := sourceFromParams(q); ps.disabled || ps.active() {
		spec.source = ps
	}
	// Totals.
	if v, ok := body["track_total_hits"]; ok {
		if e := spec.parseTrackTotal(v); e != nil {
			return nil, e
		}
	}
	if s := q.Get("track_total_hits"); s != "" {
		var v any = json.Number(s)
		if s == "true" || s == "false" {
			v = s == "true"
		}
		if e := spec.parseTrackTotal(v); e != nil {
			return nil, e
		}
	}
	if isTrue(q, "rest_total_hits_as_int") {
		spec.totalInt = true
	}
	spec.version, _ = body["version"].(bool)
	spec.seqNo, _ = body["seq_no_primary_term"].(bool)
	if isTrue(q, "version") {
		spec.version = true
	}
	spec.typedKeys = isTrue(q, "typed_keys")
	// Aggregations.
	aggs, ok := body["aggs"]
	if !ok {
		aggs, ok = body["aggregations"]
	}
	if ok {
		list, e := parseAggs(aggs, tr)
		if e != nil {
			return nil, e
		}
		spec.aggs = list
	}
	return spec, nil
}

// timeRange returns the @timestamp range a query implies, as
// SearchRequest.From and To (To exclusive).
func timeRange(n kql.Node) (from, to time.Time) {
	f, t, ok := kql.TimeBounds(n)
	if !ok {
		return time.Time{}, time.Time{}
	}
	if !t.IsZero() {
		t = t.Add(1)
	}
	return f, t
}

// msearch serves _msearch: NDJSON pairs of a header ({"index": ...} and
// search parameters) and a search body; each response carries its status.
func (c *call) msearch(defaultIndex string) {
	raw, e := c.readBody(c.h.opts.MaxSearchBytes)
	if e != nil {
		c.fail(e)
		return
	}
	lines := strings.Split(string(raw), "\n")
	b := []byte(`{"took":`)
	var items [][]byte
	for i := 0; i < len(lines); i++ {
		hdrLine := strings.TrimSpace(lines[i])
		if hdrLine == "" {
			continue
		}
		if i+1 >= len(lines) {
			c.fail(badRequest("The msearch request must be terminated by a newline [\\n]"))
			return
		}
		hdr, e := decodeObject([]byte(hdrLine))
		if e != nil {
			c.fail(e)
			return
		}
		body, e := decodeObject([]byte(lines[i+1]))
		if e != nil {
			c.fail(e)
			return
		}
		i++
		q := url.Values{}
		for k, v := range c.q {
			q[k] = v
		}
		index := defaultIndex
		for k, v := range hdr {
			switch k {
			case "index":
				switch x := v.(type) {
				case string:
					index = x
				case []any:
					var names []string
					for _, n := range x {
						if s, ok := n.(string); ok {
							names = append(names, s)
						}
					}
					index = strings.Join(names, ",")
				}
			default:
				if s, ok := text(v); ok {
					q.Set(k, s)
				}
			}
		}
		resp, e := c.runSearch(index, false, body, q)
		if e != nil {
			item := esbulk.AppendErrorResponse(nil, e)
			items = append(items, item)
			continue
		}
		items = append(items, append(resp[:len(resp)-1], `,"status":200}`...))
	}
	if len(items) == 0 {
		c.fail(esbulk.ValidationError("no requests added"))
		return
	}
	b = strconv.AppendInt(b, c.h.opts.Now().Sub(c.start).Milliseconds(), 10)
	b = append(b, `,"responses":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	c.json(200, append(b, "]}"...))
}

func intValue(name string, v any) (int, *esbulk.Error) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.Atoi(x.String())
		if err == nil {
			return n, nil
		}
	case string:
		n, err := strconv.Atoi(x)
		if err == nil {
			return n, nil
		}
	}
	return 0, parsingError("[" + name + "] must be an integer")
}

func (s *searchSpec) parseTrackTotal(v any) *esbulk.Error {
	switch x := v.(type) {
	case bool:
		if x {
			s.trackTotal = -1
		} else {
			s.trackTotal = 0
		}
	case json.Number:
		n, err := strconv.ParseInt(x.String(), 10, 64)
		if err != nil || n < -1 {
			return badRequest("[track_total_hits] parameter must be positive or equals to -1, got " + x.String())
		}
		s.trackTotal = n
		if n == 0 {
			s.trackTotal = 0
		}
	default:
		return parsingError("[track_total_hits] must be a boolean or an integer")
	}
	return nil
}

// parseSort reads a sort specification. Only @timestamp sorts (and _score
// and _doc, which keep the default order); the first key decides.
func (s *searchSpec) parseSort(v any) *esbulk.Error {
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	default:
		list = []any{x}
	}
	for i, item := range list {
		field, order := "", ""
		switch x := item.(type) {
		case string:
			field = x
		case map[string]any:
			if len(x) != 1 {
				return parsingError("[sort] each sort object must have exactly one field")
			}
			for k, o := range x {
				field = k
				switch o := o.(type) {
				case string:
					order = o
				case map[string]any:
					order, _ = o["order"].(string)
				}
			}
		default:
			return parsingError("[sort] malformed")
		}
		order = strings.ToLower(order)
		if order != "" && order != "asc" && order != "desc" {
			return badRequest("Unknown SortOrder [" + order + "]")
		}
		if i > 0 {
			continue // ties: Sluice orders by time, then by its own order
		}
		switch field {
		case event.TimestampField, "timestamp":
			s.sorted = true
			s.req.Ascending = order != "desc"
		case "_score":
			s.req.Ascending = order == "asc"
		case "_doc":
			s.sortDoc = true
			s.req.Ascending = order != "desc"
		default:
			return badRequest("Sluice sorts on [@timestamp] only (and _score, _doc); cannot sort on [" + field + "]")
		}
	}
	return nil
}
