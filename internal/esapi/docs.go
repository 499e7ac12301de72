package esapi

import (
	"errors"
	"net/http"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
)

// getDoc serves GET|HEAD /{index}/_doc/{id} (and _source/{id} when
// sourceOnly): the document, if the backend can find it by id.
func (c *call) getDoc(index, id string, sourceOnly bool) {
	h := c.h
	if e := ValidateIndexName(index); e != nil {
		c.fail(e)
		return
	}
	exists, err := h.b.IndexExists(c.ctx, index)
	if err != nil {
		c.fail(h.asError(err, index))
		return
	}
	if !exists {
		c.fail(indexNotFound(index))
		return
	}
	var hit Hit
	found := false
	if g, ok := h.b.(DocGetter); ok {
		hit, err = g.Get(c.ctx, index, id)
		switch {
		case err == nil:
			found = true
		case errors.Is(err, ErrNotFound):
		default:
			c.fail(h.asError(err, index))
			return
		}
	}
	if !found {
		if c.r.Method == http.MethodHead {
			c.head(404)
			return
		}
		if sourceOnly {
			c.fail(&esbulk.Error{Status: 404, Type: "resource_not_found_exception",
				Reason: "Document not found [" + index + "]/[" + id + "]"})
			return
		}
		b := []byte(`{"_index":`)
		b = event.AppendJSONString(b, index)
		if c.compat == 7 {
			b = append(b, `,"_type":"_doc"`...)
		}
		b = append(b, `,"_id":`...)
		b = event.AppendJSONString(b, id)
		b = append(b, `,"found":false}`...)
		c.json(404, b)
		return
	}
	if c.r.Method == http.MethodHead {
		c.head(200)
		return
	}
	sf := sourceFromParams(c.q)
	if sourceOnly {
		c.json(200, appendSource(nil, &hit.Event, &sf))
		return
	}
	b := []byte(`{"_index":`)
	b = event.AppendJSONString(b, index)
	if c.compat == 7 {
		b = append(b, `,"_type":"_doc"`...)
	}
	b = append(b, `,"_id":`...)
	b = event.AppendJSONString(b, id)
	b = append(b, `,"_version":1,"_seq_no":0,"_primary_term":1,"found":true`...)
	if !sf.disabled {
		b = append(b, `,"_source":`...)
		b = appendSource(b, &hit.Event, &sf)
	}
	b = append(b, '}')
	c.json(200, b)
}
