package esapi

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
)

// ValidateIndexName checks an index name against Elasticsearch's rules and
// returns its invalid_index_name_exception (400) when it breaks one.
func ValidateIndexName(name string) *esbulk.Error {
	why := ""
	switch {
	case name == "":
		why = "must not be empty"
	case strings.ToLower(name) != name:
		why = "must be lowercase"
	case name == "." || name == "..":
		why = "must not be '.' or '..'"
	case strings.ContainsAny(name, ` "*,/<>?\|`):
		why = `must not contain the following characters [' ','"','*',',','/','<','>','?','\','|']`
	case strings.Contains(name, ":"):
		why = "must not contain ':'"
	case strings.Contains(name, "#"):
		why = "must not contain '#'"
	case name[0] == '_' || name[0] == '-' || name[0] == '+':
		why = "must not start with '_', '-', or '+'"
	case len(name) > 255:
		return &esbulk.Error{Status: 400, Type: "invalid_index_name_exception",
			Reason: "Invalid index name [" + name + "], index name is too long, (" + strconv.Itoa(len(name)) + " > 255)",
			Meta:   []esbulk.Meta{{Key: "index_uuid", Value: "_na_"}, {Key: "index", Value: name}}}
	case !utf8.ValidString(name):
		why = "must be valid UTF-8"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		why = "must not contain control characters"
	default:
		return nil
	}
	return &esbulk.Error{Status: 400, Type: "invalid_index_name_exception",
		Reason: "Invalid index name [" + name + "], " + why,
		Meta:   []esbulk.Meta{{Key: "index_uuid", Value: "_na_"}, {Key: "index", Value: name}}}
}

// metadataFields are names Elasticsearch reserves; a document may not
// carry them as fields.
var metadataFields = []string{"_id", "_index", "_source", "_routing", "_seq_no", "_version",
	"_primary_term", "_ignored", "_field_names", "_doc_count", "_tier", FieldNoTimestamp}

// prepareEvent readies a parsed document for the backend: the client's id
// in FieldID, and the receive time (marked with FieldNoTimestamp) when the
// document has no @timestamp.
func prepareEvent(ev *event.Event, id string, now time.Time) *esbulk.Error {
	extra := 0
	for _, f := range ev.Fields() {
		if f.Key[0] != '_' {
			continue
		}
		for _, m := range metadataFields {
			if f.Key == m || (len(f.Key) > len(m) && f.Key[len(m)] == '.' && strings.HasPrefix(f.Key, m)) {
				return &esbulk.Error{Status: 400, Type: "document_parsing_exception",
					Reason: "[1:1] Field [" + m + "] is a metadata field and cannot be added inside a document. Use the index API request parameters."}
			}
		}
	}
	if id != "" {
		extra++
	}
	if ev.Time.IsZero() {
		extra++
	}
	if extra == 0 {
		return nil
	}
	ev.Grow(extra)
	if id != "" {
		ev.AppendField(FieldID, event.String(id))
	}
	if ev.Time.IsZero() {
		ev.Time = now
		ev.AppendField(FieldNoTimestamp, event.Bool(true))
	}
	return nil
}

// bulkScratch is the per-request memory of a bulk request, pooled.
type bulkScratch struct {
	items   []esbulk.Item
	results []esbulk.Result
	resp    []byte
}

var bulkScratches = sync.Pool{New: func() any { return new(bulkScratch) }}

// bulk serves POST /_bulk and /{index}/_bulk.
func (c *call) bulk(defaultIndex string) {
	h := c.h
	body, e := c.readBody(h.opts.MaxRequestBytes)
	if e != nil {
		c.fail(e)
		return
	}
	p := h.parsers.Get().(*esbulk.Parser)
	sc := bulkScratches.Get().(*bulkScratch)
	defer func() {
		clear(sc.items)
		clear(sc.results)
		sc.items, sc.results, sc.resp = sc.items[:0], sc.results[:0], sc.resp[:0]
		if cap(sc.items) <= 1<<16 && cap(sc.resp) <= 16<<20 {
			bulkScratches.Put(sc)
		}
	}()
	items, perr := p.Parse(sc.items[:0], body, defaultIndex)
	h.parsers.Put(p)
	sc.items = items
	if perr != nil {
		c.fail(perr)
		return
	}
	if cap(sc.results) < len(items) {
		sc.results = make([]esbulk.Result, len(items))
	}
	results := sc.results[:len(items)]
	sc.results = results
	h.store(c.ctx, items, results)
	sc.resp = esbulk.AppendResponse(sc.resp[:0], h.opts.Now().Sub(c.start), items, results,
		esbulk.ResponseOptions{Type7: c.compat == 7})
	c.json(200, sc.resp)
}

// store writes the items that parsed to the backend, one Write per index,
// and fills their results.
func (h *Handler) store(ctx context.Context, items []esbulk.Item, results []esbulk.Result) {
	now := h.opts.Now()
	type group struct {
		index string
		pos   []int
		err   *esbulk.Error
	}
	var groups []*group
	byIndex := make(map[string]*group, 4)
	for i := range items {
		it := &items[i]
		if it.Err != nil {
			continue
		}
		g := byIndex[it.Index]
		if g == nil {
			g = &group{index: it.Index, err: ValidateIndexName(it.Index)}
			byIndex[it.Index] = g
			groups = append(groups, g)
		}
		if g.err != nil {
			results[i].Err = g.err
			continue
		}
		if e := prepareEvent(&it.Event, it.ID, now); e != nil {
			results[i].Err = e
			continue
		}
		g.pos = append(g.pos, i)
	}
	write := func(g *group) {
		if len(g.pos) == 0 {
			return
		}
		evs := make([]event.Event, len(g.pos))
		for k, i := range g.pos {
			evs[k] = items[i].Event
		}
		res := make([]WriteResult, len(g.pos))
		err := h.b.Write(ctx, g.index, evs, res)
		var callErr *esbulk.Error
		if err != nil {
			callErr = h.asError(err, g.index)
		}
		for k, i := range g.pos {
			switch {
			case res[k].Err != nil:
				results[i].Err = itemError(res[k].Err)
			case callErr != nil:
				results[i].Err = callErr
			default:
				results[i].ID = res[k].ID
			}
		}
	}
	if len(groups) == 1 {
		write(groups[0])
	} else {
		sem := make(chan struct{}, h.opts.WriteConcurrency)
		var wg sync.WaitGroup
		for _, g := range groups {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				write(g)
				<-sem
			}()
		}
		wg.Wait()
	}
	for i := range items {
		if items[i].ID == "" && results[i].ID == "" {
			results[i].ID = h.newID(now)
		}
		if items[i].Err == nil && results[i].Err == nil {
			results[i].SeqNo = h.seqNo.Add(1) - 1
		}
	}
}

// itemError is the item error for an event the backend rejected.
func itemError(err error) *esbulk.Error {
	var ee *esbulk.Error
	if errors.As(err, &ee) {
		return ee
	}
	return &esbulk.Error{Status: 400, Type: "document_parsing_exception", Reason: "failed to parse: " + err.Error(),
		CausedBy: &esbulk.Error{Type: "illegal_argument_exception", Reason: err.Error()}}
}

// indexDoc serves the single-document index and create APIs: POST
// /{index}/_doc, PUT|POST /{index}/_doc/{id}, PUT|POST /{index}/_create/{id}.
// Without an id, the handler makes one and stores it with the document, so
// that GET finds it.
func (c *call) indexDoc(index, id string, create bool) {
	h := c.h
	if e := ValidateIndexName(index); e != nil {
		c.fail(e)
		return
	}
	if len(id) > esbulk.MaxIDBytes {
		c.fail(esbulk.ValidationError("id [" + id + "] is too long, must be no longer than 512 bytes but was: " + strconv.Itoa(len(id))))
		return
	}
	body, e := c.readBody(h.opts.MaxRequestBytes)
	if e != nil {
		c.fail(e)
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		c.fail(esbulk.ParseException("request body is required"))
		return
	}
	if len(body) > h.opts.MaxEventBytes {
		c.fail(esbulk.TooLarge("document of " + strconv.Itoa(len(body)) + " bytes is larger than the maximum event size of " +
			strconv.Itoa(h.opts.MaxEventBytes) + " bytes"))
		return
	}
	ev, e := esbulk.ParseDocument(body, id, true)
	if e != nil {
		c.fail(e)
		return
	}
	now := h.opts.Now()
	if id == "" {
		id = h.newID(now)
	}
	if e := prepareEvent(&ev, id, now); e != nil {
		c.fail(e)
		return
	}
	res := make([]WriteResult, 1)
	if err := h.b.Write(c.ctx, index, []event.Event{ev}, res); err != nil {
		c.fail(h.asError(err, index))
		return
	}
	if res[0].Err != nil {
		c.fail(itemError(res[0].Err))
		return
	}
	b := []byte(`{"_index":`)
	b = event.AppendJSONString(b, index)
	if c.compat == 7 {
		b = append(b, `,"_type":"_doc"`...)
	}
	b = append(b, `,"_id":`...)
	b = event.AppendJSONString(b, id)
	b = append(b, `,"_version":1,"result":"created"`...)
	if isTrue(c.q, "refresh") {
		b = append(b, `,"forced_refresh":true`...)
	}
	b = append(b, `,"_shards":{"total":1,"successful":1,"failed":0},"_seq_no":`...)
	b = strconv.AppendInt(b, h.seqNo.Add(1)-1, 10)
	b = append(b, `,"_primary_term":1}`...)
	c.w.Header().Set("Location", "/"+index+"/_doc/"+id)
	_ = create // documents are append-only: create and index both add one
	c.json(201, b)
}
