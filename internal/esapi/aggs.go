package esapi

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/kql"
)

// Aggregations: date_histogram (on @timestamp), terms, filter, filters,
// and the metrics min/max (on @timestamp, and on numbers), avg, sum,
// stats, value_count and cardinality. Sub-aggregations are computed per
// bucket by narrowing the request to the bucket (its time range, or its
// term), one backend call per bucket, within the max_buckets budget.

type aggSpec struct {
	name string
	kind string
	body map[string]any
	subs []*aggSpec
	// filter and filters aggregations.
	filter       kql.Node
	filters      []namedFilter
	filtersKeyed bool
}

type namedFilter struct {
	name string
	node kql.Node
}

var aggKinds = map[string]bool{
	"date_histogram": true, "terms": true, "filter": true, "filters": true,
	"min": true, "max": true, "avg": true, "sum": true, "stats": true, "value_count": true, "cardinality": true,
}

func parseAggs(v any, tr *translator) ([]*aggSpec, *esbulk.Error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, parsingError("Expected [START_OBJECT] under [aggregations]")
	}
	var out []*aggSpec
	for _, name := range sortedKeys(m) {
		def, ok := m[name].(map[string]any)
		if !ok {
			return nil, parsingError("Expected [START_OBJECT] under [" + name + "], but got a value")
		}
		a := &aggSpec{name: name}
		for k, x := range def {
			switch k {
			case "aggs", "aggregations":
				subs, e := parseAggs(x, tr)
				if e != nil {
					return nil, e
				}
				a.subs = subs
			case "meta":
			default:
				if a.kind != "" {
					return nil, parsingError("Found two aggregation type definitions in [" + name + "]: [" + a.kind + "] and [" + k + "]")
				}
				a.kind = k
				a.body, _ = x.(map[string]any)
			}
		}
		if a.kind == "" {
			return nil, parsingError("Missing definition for aggregation [" + name + "]")
		}
		if !aggKinds[a.kind] {
			return nil, badRequest("aggregation type [" + a.kind + "] of [" + name +
				"] is not supported by Sluice; supported: date_histogram, terms, filter, filters, min, max, avg, sum, stats, value_count, cardinality")
		}
		switch a.kind {
		case "filter":
			n, e := tr.query(a.body)
			if e != nil {
				return nil, e
			}
			a.filter = kql.Prepare(n, tr.now)
		case "filters":
			switch fs := a.body["filters"].(type) {
			case map[string]any:
				a.filtersKeyed = true
				for _, k := range sortedKeys(fs) {
					n, e := tr.query(fs[k])
					if e != nil {
						return nil, e
					}
					a.filters = append(a.filters, namedFilter{k, kql.Prepare(n, tr.now)})
				}
			case []any:
				for _, q := range fs {
					n, e := tr.query(q)
					if e != nil {
						return nil, e
					}
					a.filters = append(a.filters, namedFilter{"", kql.Prepare(n, tr.now)})
				}
			default:
				return nil, parsingError("[filters] requires a [filters] object or array")
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// aggRun computes aggregations for one search.
type aggRun struct {
	c      *call
	spec   *searchSpec
	budget int
}

func (r *aggRun) take(n int) *esbulk.Error {
	r.budget -= n
	if r.budget < 0 {
		max := r.c.h.opts.MaxBuckets
		return &esbulk.Error{Status: 400, Type: "too_many_buckets_exception",
			Reason: "Trying to create too many buckets. Must be less than or equal to: [" + strconv.Itoa(max) + "] but was [" +
				strconv.Itoa(max-r.budget) + "]. This limit can be set by changing the [search.max_buckets] cluster level setting.",
			Meta: []esbulk.Meta{{Key: "max_buckets", Value: max}}}
	}
	return nil
}

// run returns the JSON object of aggregation results for req.
func (r *aggRun) run(req *SearchRequest, aggs []*aggSpec, none bool) ([]byte, *esbulk.Error) {
	b := []byte{'{'}
	for i, a := range aggs {
		if i > 0 {
			b = append(b, ',')
		}
		body, typ, e := r.one(req, a, none)
		if e != nil {
			return nil, e
		}
		name := a.name
		if r.spec.typedKeys {
			name = typ + "#" + name
		}
		b = event.AppendJSONString(b, name)
		b = append(b, ':')
		b = append(b, body...)
	}
	return append(b, '}'), nil
}

// subs appends the sub-aggregations of a bucket (members of the bucket's
// object, with a leading comma).
func (r *aggRun) subs(b []byte, req *SearchRequest, a *aggSpec, none bool) ([]byte, *esbulk.Error) {
	if len(a.subs) == 0 {
		return b, nil
	}
	sub, e := r.run(req, a.subs, none)
	if e != nil {
		return nil, e
	}
	if len(sub) > 2 {
		b = append(b, ',')
		b = append(b, sub[1:len(sub)-1]...)
	}
	return b, nil
}

func (r *aggRun) one(req *SearchRequest, a *aggSpec, none bool) ([]byte, string, *esbulk.Error) {
	switch a.kind {
	case "date_histogram":
		b, e := r.dateHistogram(req, a, none)
		return b, "date_histogram", e
	case "terms":
		return r.terms(req, a, none)
	case "filter":
		sub := *req
		sub.Query = andNode(req.Query, a.filter)
		n, e := r.count(&sub, none)
		if e != nil {
			return nil, "", e
		}
		b := []byte(`{"doc_count":`)
		b = strconv.AppendInt(b, n, 10)
		b, e = r.subs(b, &sub, a, none)
		return append(b, '}'), "filter", e
	case "filters":
		b, e := r.filters(req, a, none)
		return b, "filters", e
	default:
		b, e := r.metric(req, a, none)
		return b, a.kind, e
	}
}

func andNode(a, b kql.Node) kql.Node {
	if a == nil {
		return b
	}
	if _, ok := a.(*kql.MatchAll); ok {
		return b
	}
	return &kql.And{Nodes: []kql.Node{a, b}}
}

func (r *aggRun) count(req *SearchRequest, none bool) (int64, *esbulk.Error) {
	if none {
		return 0, nil
	}
	q := *req
	q.Size, q.Offset = 0, 0
	res, err := r.c.h.b.Search(r.c.ctx, &q)
	if err != nil {
		return 0, r.c.h.asError(err, "")
	}
	return res.Total, nil
}

func (r *aggRun) filters(req *SearchRequest, a *aggSpec, none bool) ([]byte, *esbulk.Error) {
	if e := r.take(len(a.filters)); e != nil {
		return nil, e
	}
	b := []byte(`{"buckets":`)
	if a.filtersKeyed {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	for i, f := range a.filters {
		if i > 0 {
			b = append(b, ',')
		}
		sub := *req
		sub.Query = andNode(req.Query, f.node)
		n, e := r.count(&sub, none)
		if e != nil {
			return nil, e
		}
		if a.filtersKeyed {
			b = event.AppendJSONString(b, f.name)
			b = append(b, ':')
		}
		b = append(b, `{"doc_count":`...)
		b = strconv.AppendInt(b, n, 10)
		if b, e = r.subs(b, &sub, a, none); e != nil {
			return nil, e
		}
		b = append(b, '}')
	}
	if a.filtersKeyed {
		b = append(b, '}')
	} else {
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// ---- date_histogram

// histInterval is a date_histogram interval: fixed (a duration) or
// calendar (a unit: m h d w M q y).
type histInterval struct {
	fixed time.Duration
	cal   byte
}

var calendarNames = map[string]byte{
	"1m": 'm', "minute": 'm', "1h": 'h', "hour": 'h', "1d": 'd', "day": 'd', "1w": 'w', "week": 'w',
	"1M": 'M', "month": 'M', "1q": 'q', "quarter": 'q', "1y": 'y', "year": 'y',
}

// parseFixed reads an Elasticsearch time value: 500ms, 30s, 5m, 2h, 1d.
func parseFixed(s string) (time.Duration, bool) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second},
		{"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if err != nil || v <= 0 {
				return 0, false
			}
			return time.Duration(v) * u.d, true
		}
	}
	return 0, false
}

func parseHistInterval(body map[string]any) (histInterval, *esbulk.Error) {
	get := func(k string) string { s, _ := body[k].(string); return s }
	if s := get("fixed_interval"); s != "" {
		d, ok := parseFixed(s)
		if !ok {
			return histInterval{}, badRequest("failed to parse setting [date_histogram.fixedInterval] with value [" + s +
				"] as a time value: unit is missing or unrecognized")
		}
		return histInterval{fixed: d}, nil
	}
	if s := get("calendar_interval"); s != "" {
		u, ok := calendarNames[s]
		if !ok {
			return histInterval{}, badRequest("The supplied interval [" + s + "] could not be parsed as a calendar interval.")
		}
		return histInterval{cal: u}, nil
	}
	if s := get("interval"); s != "" {
		if u, ok := calendarNames[s]; ok {
			return histInterval{cal: u}, nil
		}
		if d, ok := parseFixed(s); ok {
			return histInterval{fixed: d}, nil
		}
		return histInterval{}, badRequest("Unable to parse interval [" + s + "]")
	}
	return histInterval{}, badRequest("Invalid interval specified, must be non-null and non-empty")
}

func gcd(a, b time.Duration) time.Duration {
	if a < 0 {
		a = -a
	}
	if b < 0 {
		b = -b
	}
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

type histogram struct {
	iv     histInterval
	loc    *time.Location
	offset time.Duration
}

// key returns the start of t's bucket.
func (h *histogram) key(t time.Time) time.Time {
	if h.iv.fixed > 0 {
		_, off := t.In(h.loc).Zone()
		shift := time.Duration(off)*time.Second - h.offset
		n := t.UnixNano() + int64(shift)
		k := floorDiv(n, int64(h.iv.fixed)) * int64(h.iv.fixed)
		return time.Unix(0, k-int64(shift)).UTC()
	}
	lt := t.Add(-h.offset).In(h.loc)
	k, _ := truncCalendar(lt, h.iv.cal)
	return k.Add(h.offset).UTC()
}

// next returns the start of the bucket after the one starting at k.
func (h *histogram) next(k time.Time) time.Time {
	if h.iv.fixed > 0 {
		return k.Add(h.iv.fixed)
	}
	lt := k.Add(-h.offset).In(h.loc)
	n, _ := addCalendar(lt, h.iv.cal, 1)
	n, _ = truncCalendar(n, h.iv.cal)
	return n.Add(h.offset).UTC()
}

// base returns the backend histogram interval from which buckets are
// summed: the interval itself for fixed intervals in UTC, else a common
// divisor of the unit, the offset and the zone's offsets.
func (h *histogram) base(req *SearchRequest) time.Duration {
	if h.iv.fixed > 0 && h.loc == time.UTC && h.offset%h.iv.fixed == 0 {
		return h.iv.fixed
	}
	g := h.iv.fixed
	if g == 0 {
		switch h.iv.cal {
		case 'm':
			g = time.Minute
		case 'h':
			g = time.Hour
		default:
			g = 24 * time.Hour
		}
	}
	if h.offset != 0 {
		g = gcd(g, h.offset)
	}
	if h.loc != time.UTC {
		zg := time.Hour
		for _, t := range []time.Time{req.From, req.To, time.Now()} {
			if t.IsZero() {
				continue
			}
			_, off := t.In(h.loc).Zone()
			zg = gcd(zg, time.Duration(off)*time.Second)
		}
		if zg == 0 {
			zg = time.Hour
		}
		g = gcd(g, zg)
	}
	if g < time.Millisecond {
		g = time.Millisecond
	}
	return g
}

func (r *aggRun) dateHistogram(req *SearchRequest, a *aggSpec, none bool) ([]byte, *esbulk.Error) {
	body := a.body
	field, _ := body["field"].(string)
	if strings.TrimSuffix(field, ".keyword") != event.TimestampField {
		return nil, badRequest("date_histogram [" + a.name + "]: Sluice builds date histograms on [@timestamp] only, not [" + field + "]")
	}
	iv, e := parseHistInterval(body)
	if e != nil {
		return nil, e
	}
	tz, _ := body["time_zone"].(string)
	loc, e := parseZone(tz)
	if e != nil {
		return nil, e
	}
	h := &histogram{iv: iv, loc: loc}
	if s, ok := body["offset"].(string); ok && s != "" {
		neg := strings.HasPrefix(s, "-")
		d, ok := parseFixed(strings.TrimLeft(s, "+-"))
		if !ok {
			return nil, badRequest("failed to parse offset [" + s + "]")
		}
		if neg {
			d = -d
		}
		h.offset = d
	}
	format, _ := body["format"].(string)
	minDocs := int64(0)
	if v, ok := body["min_doc_count"]; ok {
		n, e := intValue("min_doc_count", v)
		if e != nil {
			return nil, e
		}
		minDocs = int64(n)
	}
	keyed, _ := body["keyed"].(bool)
	now := r.spec.now
	bounds := func(k string) (lo, hi time.Time, has bool, e *esbulk.Error) {
		m, ok := body[k].(map[string]any)
		if !ok {
			return
		}
		if v, ok := m["min"]; ok && v != nil {
			if lo, e = resolveDate(v, format, loc, false, now); e != nil {
				return
			}
		}
		if v, ok := m["max"]; ok && v != nil {
			if hi, e = resolveDate(v, format, loc, false, now); e != nil {
				return
			}
		}
		return lo, hi, true, nil
	}
	extLo, extHi, hasExt, e := bounds("extended_bounds")
	if e != nil {
		return nil, e
	}
	hardLo, hardHi, hasHard, e := bounds("hard_bounds")
	if e != nil {
		return nil, e
	}

	q := *req
	if hasHard {
		if !hardLo.IsZero() && (q.From.IsZero() || q.From.Before(hardLo)) {
			q.From = hardLo
		}
		if !hardHi.IsZero() && (q.To.IsZero() || q.To.After(hardHi)) {
			q.To = hardHi
		}
	}
	// Sum the backend's buckets into ours.
	type bucket struct {
		key   time.Time
		count int64
	}
	var buckets []bucket
	if !none {
		g := h.base(&q)
		if !q.From.IsZero() && !q.To.IsZero() && q.To.Sub(q.From)/g > time.Duration(r.budget)*4+100_000 {
			return nil, r.take(int(q.To.Sub(q.From)/g) + 1)
		}
		raw, err := r.c.h.b.Histogram(r.c.ctx, &q, g)
		if err != nil {
			return nil, r.c.h.asError(err, "")
		}
		for _, rb := range raw {
			if rb.Count == 0 {
				continue
			}
			k := h.key(rb.Time)
			if n := len(buckets); n > 0 && buckets[n-1].key.Equal(k) {
				buckets[n-1].count += rb.Count
				continue
			}
			buckets = append(buckets, bucket{k, rb.Count})
		}
	}
	// Empty buckets between the first and the last, and to the extended
	// bounds, when min_doc_count is 0.
	if minDocs == 0 {
		var lo, hi time.Time
		if len(buckets) > 0 {
			lo, hi = buckets[0].key, buckets[len(buckets)-1].key
		}
		if hasExt {
			if !extLo.IsZero() && (lo.IsZero() || extLo.Before(lo)) {
				lo = h.key(extLo)
			}
			if !extHi.IsZero() && (hi.IsZero() || extHi.After(hi)) {
				hi = h.key(extHi)
			}
		}
		if hasHard {
			if !hardLo.IsZero() && lo.Before(hardLo) {
				lo = h.key(hardLo)
			}
			if !hardHi.IsZero() && hi.After(hardHi) {
				hi = h.key(hardHi)
			}
		}
		if !lo.IsZero() && !hi.IsZero() {
			var filled []bucket
			j := 0
			for k := lo; !k.After(hi); k = h.next(k) {
				if len(filled) >= r.budget+1 {
					return nil, r.take(len(filled) + 1)
				}
				for j < len(buckets) && buckets[j].key.Before(k) {
					filled = append(filled, buckets[j])
					j++
				}
				if j < len(buckets) && buckets[j].key.Equal(k) {
					filled = append(filled, buckets[j])
					j++
					continue
				}
				filled = append(filled, bucket{k, 0})
			}
			filled = append(filled, buckets[j:]...)
			buckets = filled
		}
	} else {
		kept := buckets[:0]
		for _, b := range buckets {
			if b.count >= minDocs {
				kept = append(kept, b)
			}
		}
		buckets = kept
	}
	if e := r.take(len(buckets)); e != nil {
		return nil, e
	}
	if o, ok := body["order"].(map[string]any); ok {
		for k, v := range o {
			desc := v == "desc"
			switch k {
			case "_key":
				if desc {
					for i, j := 0, len(buckets)-1; i < j; i, j = i+1, j-1 {
						buckets[i], buckets[j] = buckets[j], buckets[i]
					}
				}
			case "_count":
				sort.SliceStable(buckets, func(i, j int) bool {
					if desc {
						return buckets[i].count > buckets[j].count
					}
					return buckets[i].count < buckets[j].count
				})
			}
		}
	}
	b := []byte(`{"buckets":`)
	if keyed {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	for i, bk := range buckets {
		if i > 0 {
			b = append(b, ',')
		}
		ks := formatDate(bk.key, format, loc)
		if keyed {
			b = event.AppendJSONString(b, ks)
			b = append(b, ':')
		}
		b = append(b, `{"key_as_string":`...)
		b = event.AppendJSONString(b, ks)
		b = append(b, `,"key":`...)
		b = strconv.AppendInt(b, bk.key.UnixMilli(), 10)
		b = append(b, `,"doc_count":`...)
		b = strconv.AppendInt(b, bk.count, 10)
		if len(a.subs) > 0 {
			sub := q
			if sub.From.IsZero() || sub.From.Before(bk.key) {
				sub.From = bk.key
			}
			if nx := h.next(bk.key); sub.To.IsZero() || sub.To.After(nx) {
				sub.To = nx
			}
			var e *esbulk.Error
			if b, e = r.subs(b, &sub, a, none || bk.count == 0); e != nil {
				return nil, e
			}
		}
		b = append(b, '}')
	}
	if keyed {
		b = append(b, '}')
	} else {
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// ---- terms

func (r *aggRun) terms(req *SearchRequest, a *aggSpec, none bool) ([]byte, string, *esbulk.Error) {
	body := a.body
	field, _ := body["field"].(string)
	if field == "" {
		if _, ok := body["script"]; ok {
			return nil, "", badRequest("terms [" + a.name + "]: scripts are not supported by Sluice")
		}
		return nil, "", badRequest("Required one of fields [field, script], but none were specified.")
	}
	field = (&translator{}).field(field)
	size := 10
	if v, ok := body["size"]; ok {
		n, e := intValue("size", v)
		if e != nil {
			return nil, "", e
		}
		if n <= 0 {
			return nil, "", badRequest("[size] must be greater than 0. Found [" + strconv.Itoa(n) + "] in [" + a.name + "]")
		}
		size = n
	}
	minDocs := int64(1)
	if v, ok := body["min_doc_count"]; ok {
		n, e := intValue("min_doc_count", v)
		if e != nil {
			return nil, "", e
		}
		minDocs = int64(n)
	}
	orderKey, orderDesc := "_count", true
	if o, ok := body["order"]; ok {
		var list []any
		switch x := o.(type) {
		case []any:
			list = x
		default:
			list = []any{x}
		}
		if len(list) > 0 {
			if m, ok := list[0].(map[string]any); ok {
				for k, v := range m {
					orderKey, orderDesc = k, v == "desc"
				}
			}
		}
		if orderKey != "_count" && orderKey != "_key" && orderKey != "_term" {
			return nil, "", badRequest("terms [" + a.name + "]: Sluice orders terms by _count or _key only")
		}
	}
	var include, exclude func(string) bool
	for _, k := range []string{"include", "exclude"} {
		v, ok := body[k]
		if !ok {
			continue
		}
		var f func(string) bool
		switch x := v.(type) {
		case string:
			re, err := regexp.Compile("^(?:" + x + ")$")
			if err != nil {
				return nil, "", badRequest("terms [" + a.name + "]: invalid " + k + " pattern [" + x + "]")
			}
			f = re.MatchString
		case []any:
			set := map[string]bool{}
			for _, y := range x {
				if s, ok := text(y); ok {
					set[s] = true
				}
			}
			f = func(s string) bool { return set[s] }
		case map[string]any:
			return nil, "", badRequest("terms [" + a.name + "]: partitioned include is not supported")
		}
		if k == "include" {
			include = f
		} else {
			exclude = f
		}
	}
	fetch := size
	if orderKey != "_count" || include != nil || exclude != nil {
		fetch = max(size*10, 1000)
	}
	var res *TermsResult
	if none {
		res = &TermsResult{}
	} else {
		var err error
		res, err = r.c.h.b.Terms(r.c.ctx, req, field, fetch)
		if err != nil {
			return nil, "", r.c.h.asError(err, "")
		}
	}
	buckets := res.Buckets
	other := res.Other
	if include != nil || exclude != nil {
		kept := buckets[:0:0]
		for _, bk := range buckets {
			t := bk.Key.Text()
			if (include != nil && !include(t)) || (exclude != nil && exclude(t)) {
				continue
			}
			kept = append(kept, bk)
		}
		buckets = kept
	}
	if orderKey != "_count" {
		sort.SliceStable(buckets, func(i, j int) bool {
			less := compareKeys(buckets[i].Key, buckets[j].Key) < 0
			if orderDesc {
				return compareKeys(buckets[i].Key, buckets[j].Key) > 0
			}
			return less
		})
	} else if !orderDesc {
		sort.SliceStable(buckets, func(i, j int) bool { return buckets[i].Count < buckets[j].Count })
	}
	kept := buckets[:0:0]
	for _, bk := range buckets {
		if bk.Count >= minDocs {
			kept = append(kept, bk)
		}
	}
	buckets = kept
	if len(buckets) > size {
		for _, bk := range buckets[size:] {
			other += bk.Count
		}
		buckets = buckets[:size]
	}
	if e := r.take(len(buckets)); e != nil {
		return nil, "", e
	}
	typ := "sterms"
	numeric := len(buckets) > 0
	for _, bk := range buckets {
		switch bk.Key.Interface().(type) {
		case int64, float64, bool:
		default:
			numeric = false
		}
	}
	if numeric {
		typ = "lterms"
	}
	b := []byte(`{"doc_count_error_upper_bound":0,"sum_other_doc_count":`)
	b = strconv.AppendInt(b, other, 10)
	b = append(b, `,"buckets":[`...)
	for i, bk := range buckets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		switch k := bk.Key.Interface().(type) {
		case int64:
			b = strconv.AppendInt(b, k, 10)
		case float64:
			b = appendFloat(b, k)
		case bool:
			if k {
				b = append(b, `1,"key_as_string":"true"`...)
			} else {
				b = append(b, `0,"key_as_string":"false"`...)
			}
		default:
			b = event.AppendJSONString(b, bk.Key.Text())
		}
		b = append(b, `,"doc_count":`...)
		b = strconv.AppendInt(b, bk.Count, 10)
		if len(a.subs) > 0 {
			sub := *req
			keyText := bk.Key.Text()
			sub.Query = kql.Prepare(andNode(req.Query, &kql.Term{Field: field, Value: keyText, Phrase: true}), r.spec.now)
			prev, prevFields := req.Match, req.MatchFields
			match := exactMatch(field, keyText)
			if prev != nil {
				sub.Match = func(ev *event.Event) bool { return prev(ev) && match(ev) }
				sub.MatchFields = append(append([]string(nil), prevFields...), field)
			} else {
				sub.Match = match
				sub.MatchFields = []string{field}
			}
			var e *esbulk.Error
			if b, e = r.subs(b, &sub, a, none); e != nil {
				return nil, "", e
			}
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), typ, nil
}

// exactMatch returns a check that the event's field (or an element of it)
// has exactly the text form want.
func exactMatch(field, want string) func(*event.Event) bool {
	return func(ev *event.Event) bool {
		v, ok := ev.Lookup(field)
		if !ok {
			return false
		}
		if list, ok := v.Interface().([]any); ok {
			for _, x := range list {
				if event.Any(x).Text() == want {
					return true
				}
			}
			return false
		}
		return v.Text() == want
	}
}

// compareKeys orders term keys: numbers numerically, otherwise by text.
func compareKeys(a, b event.Value) int {
	fa, aok := numberOf(a)
	fb, bok := numberOf(b)
	if aok && bok {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(a.Text(), b.Text())
}

func numberOf(v event.Value) (float64, bool) {
	switch x := v.Interface().(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// appendFloat writes a double as Elasticsearch does: always with a
// fraction (12.0).
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	b = append(b, s...)
	if !strings.ContainsAny(s, ".eE") {
		b = append(b, ".0"...)
	}
	return b
}

// ---- metrics

func (r *aggRun) metric(req *SearchRequest, a *aggSpec, none bool) ([]byte, *esbulk.Error) {
	field, _ := a.body["field"].(string)
	if field == "" {
		return nil, badRequest(a.kind + " [" + a.name + "]: a [field] is required (scripts are not supported)")
	}
	field = (&translator{}).field(field)
	if field == event.TimestampField && (a.kind == "min" || a.kind == "max" || a.kind == "value_count") {
		return r.timeMetric(req, a, none)
	}
	switch a.kind {
	case "value_count":
		sub := *req
		sub.Query = kql.Prepare(andNode(req.Query, &kql.Exists{Field: field}), r.spec.now)
		n, e := r.count(&sub, none)
		if e != nil {
			return nil, e
		}
		b := []byte(`{"value":`)
		b = strconv.AppendInt(b, n, 10)
		return append(b, '}'), nil
	}
	// The other metrics read the field's distinct values and their counts.
	limit := r.c.h.opts.MaxBuckets
	var res *TermsResult
	if none {
		res = &TermsResult{}
	} else {
		var err error
		res, err = r.c.h.b.Terms(r.c.ctx, req, field, limit)
		if err != nil {
			return nil, r.c.h.asError(err, "")
		}
	}
	if a.kind == "cardinality" {
		b := []byte(`{"value":`)
		b = strconv.AppendInt(b, int64(len(res.Buckets)), 10)
		return append(b, '}'), nil
	}
	if res.Other > 0 {
		return nil, badRequest(a.kind + " [" + a.name + "]: [" + field + "] has more than " + strconv.Itoa(limit) +
			" distinct values; Sluice computes numeric metrics over at most that many")
	}
	var count int64
	sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, bk := range res.Buckets {
		f, ok := numberOf(bk.Key)
		if !ok {
			continue
		}
		count += bk.Count
		sum += f * float64(bk.Count)
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	value := func(b []byte, f float64) []byte {
		if count == 0 {
			return append(b, "null"...)
		}
		return appendFloat(b, f)
	}
	b := []byte{'{'}
	switch a.kind {
	case "min":
		b = append(b, `"value":`...)
		b = value(b, lo)
	case "max":
		b = append(b, `"value":`...)
		b = value(b, hi)
	case "sum":
		b = append(b, `"value":`...)
		b = appendFloat(b, sum)
	case "avg":
		b = append(b, `"value":`...)
		b = value(b, sum/float64(max(count, 1)))
	case "stats":
		b = append(b, `"count":`...)
		b = strconv.AppendInt(b, count, 10)
		b = append(b, `,"min":`...)
		b = value(b, lo)
		b = append(b, `,"max":`...)
		b = value(b, hi)
		b = append(b, `,"avg":`...)
		b = value(b, sum/float64(max(count, 1)))
		b = append(b, `,"sum":`...)
		b = appendFloat(b, sum)
	}
	return append(b, '}'), nil
}

// timeMetric computes min, max and value_count of @timestamp.
func (r *aggRun) timeMetric(req *SearchRequest, a *aggSpec, none bool) ([]byte, *esbulk.Error) {
	if a.kind == "value_count" {
		n, e := r.count(req, none)
		if e != nil {
			return nil, e
		}
		b := []byte(`{"value":`)
		b = strconv.AppendInt(b, n, 10)
		return append(b, '}'), nil
	}
	var hits []Hit
	if !none {
		q := *req
		q.Size, q.Offset, q.Ascending = 1, 0, a.kind == "min"
		res, err := r.c.h.b.Search(r.c.ctx, &q)
		if err != nil {
			return nil, r.c.h.asError(err, "")
		}
		hits = res.Hits
	}
	if len(hits) == 0 {
		return []byte(`{"value":null}`), nil
	}
	t := hits[0].Event.Time
	format, _ := a.body["format"].(string)
	b := []byte(`{"value":`)
	b = appendFloat(b, float64(t.UnixMilli()))
	b = append(b, `,"value_as_string":`...)
	b = event.AppendJSONString(b, formatDate(t, format, time.UTC))
	return append(b, '}'), nil
}
