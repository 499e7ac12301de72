package esapi

import (
	"net/http"
	"net/url"
	"strings"
)

// route dispatches a request on its path. Elasticsearch's paths mix fixed
// names starting with '_' and index names, which never start with '_', so
// the first segment decides.
func (h *Handler) route(c *call) {
	segs, ok := splitPath(c.r.URL.EscapedPath())
	if !ok {
		c.noHandler()
		return
	}
	m := c.r.Method
	if len(segs) == 0 {
		switch m {
		case http.MethodGet:
			c.info()
		case http.MethodHead:
			c.head(200)
		default:
			c.badMethod("GET", "HEAD")
		}
		return
	}
	first := segs[0]
	if strings.HasPrefix(first, "_") {
		h.routeAPI(c, segs)
		return
	}
	index := first
	if len(segs) == 1 {
		switch m {
		case http.MethodPut, http.MethodPost:
			c.createIndex(index)
		case http.MethodDelete:
			c.deleteIndex(index)
		case http.MethodHead:
			c.indexExists(index)
		case http.MethodGet:
			c.getIndex(index)
		default:
			c.badMethod("DELETE", "GET", "HEAD", "POST", "PUT")
		}
		return
	}
	op := segs[1]
	switch {
	case op == "_bulk" && len(segs) == 2:
		if m != http.MethodPost && m != http.MethodPut {
			c.badMethod("POST", "PUT")
			return
		}
		c.bulk(index)
	case op == "_doc" && len(segs) == 2:
		if m != http.MethodPost {
			c.badMethod("POST")
			return
		}
		c.indexDoc(index, "", false)
	case op == "_doc" && len(segs) == 3:
		id := segs[2]
		switch m {
		case http.MethodPut, http.MethodPost:
			c.indexDoc(index, id, c.q.Get("op_type") == "create")
		case http.MethodGet, http.MethodHead:
			c.getDoc(index, id, false)
		case http.MethodDelete:
			c.fail(badRequest("deleting documents is not supported: Sluice's indices are append-only; delete the index or let retention remove old data"))
		default:
			c.badMethod("DELETE", "GET", "HEAD", "POST", "PUT")
		}
	case op == "_create" && len(segs) == 3:
		if m != http.MethodPost && m != http.MethodPut {
			c.badMethod("POST", "PUT")
			return
		}
		c.indexDoc(index, segs[2], true)
	case op == "_source" && len(segs) == 3:
		if m != http.MethodGet && m != http.MethodHead {
			c.badMethod("GET", "HEAD")
			return
		}
		c.getDoc(index, segs[2], true)
	case op == "_update" && len(segs) == 3:
		c.fail(badRequest("updating documents is not supported: Sluice's indices are append-only"))
	case (op == "_search" || op == "_count") && len(segs) == 2:
		if m != http.MethodGet && m != http.MethodPost {
			c.badMethod("GET", "POST")
			return
		}
		c.search(index, op == "_count")
	case op == "_msearch" && len(segs) == 2:
		if m != http.MethodGet && m != http.MethodPost {
			c.badMethod("GET", "POST")
			return
		}
		c.msearch(index)
	case op == "_refresh" && len(segs) == 2:
		if m != http.MethodGet && m != http.MethodPost {
			c.badMethod("GET", "POST")
			return
		}
		c.refresh(index)
	case (op == "_mapping" || op == "_mappings") && len(segs) == 2:
		if m != http.MethodGet && m != http.MethodHead {
			if m == http.MethodPut || m == http.MethodPost {
				c.acknowledged() // mappings are accepted and not applied
				return
			}
			c.badMethod("GET", "PUT")
			return
		}
		c.getMapping(index)
	case op == "_settings" && len(segs) == 2:
		switch m {
		case http.MethodGet:
			c.getSettings(index)
		case http.MethodPut:
			c.acknowledged()
		default:
			c.badMethod("GET", "PUT")
		}
	case op == "_field_caps" && len(segs) == 2:
		c.fieldCaps(index)
	case op == "_delete_by_query":
		c.fail(badRequest("_delete_by_query is not supported: Sluice's indices are append-only"))
	default:
		c.noHandler()
	}
}

// routeAPI serves the paths that start with an API name.
func (h *Handler) routeAPI(c *call, segs []string) {
	m := c.r.Method
	get := m == http.MethodGet || m == http.MethodHead
	switch segs[0] {
	case "_bulk":
		if len(segs) != 1 {
			break
		}
		if m != http.MethodPost && m != http.MethodPut {
			c.badMethod("POST", "PUT")
			return
		}
		c.bulk("")
		return
	case "_search", "_count":
		if len(segs) != 1 {
			if segs[0] == "_search" && len(segs) >= 2 && segs[1] == "scroll" {
				c.fail(badRequest("scroll searches are not supported: page with from and size, or narrow the time range"))
				return
			}
			break
		}
		if m != http.MethodGet && m != http.MethodPost {
			c.badMethod("GET", "POST")
			return
		}
		c.search("", segs[0] == "_count")
		return
	case "_msearch":
		if len(segs) == 1 {
			if m != http.MethodGet && m != http.MethodPost {
				c.badMethod("GET", "POST")
				return
			}
			c.msearch("")
			return
		}
	case "_refresh":
		if len(segs) == 1 {
			c.refresh("")
			return
		}
	case "_mapping":
		if len(segs) == 1 && get {
			c.getMapping("")
			return
		}
	case "_field_caps":
		if len(segs) == 1 {
			c.fieldCaps("")
			return
		}
	case "_cat":
		if !get {
			c.badMethod("GET")
			return
		}
		switch {
		case len(segs) == 1:
			c.catHelp()
			return
		case segs[1] == "indices" && len(segs) <= 3:
			c.catIndices(segOr(segs, 2))
			return
		case segs[1] == "health" && len(segs) == 2:
			c.catHealth()
			return
		case segs[1] == "count" && len(segs) <= 3:
			c.catCount(segOr(segs, 2))
			return
		}
	case "_cluster":
		if len(segs) >= 2 && segs[1] == "health" && len(segs) <= 3 {
			if !get {
				c.badMethod("GET")
				return
			}
			c.clusterHealth(segOr(segs, 2))
			return
		}
		if len(segs) == 2 && segs[1] == "settings" {
			if get {
				c.json(200, []byte(`{"persistent":{},"transient":{}}`))
			} else {
				c.json(200, []byte(`{"acknowledged":true,"persistent":{},"transient":{}}`))
			}
			return
		}
	case "_license":
		if len(segs) == 1 && get {
			c.license()
			return
		}
	case "_xpack":
		if len(segs) == 1 && get {
			c.xpack()
			return
		}
	case "_index_template", "_component_template", "_template", "_ingest", "_ilm":
		if c.templateAPI(segs) {
			return
		}
	case "_data_stream":
		if len(segs) == 2 {
			c.dataStream(segs[1])
			return
		}
	case "_all":
		// /_all/_search and friends.
		if len(segs) == 2 && (segs[1] == "_search" || segs[1] == "_count") {
			if m != http.MethodGet && m != http.MethodPost {
				c.badMethod("GET", "POST")
				return
			}
			c.search("_all", segs[1] == "_count")
			return
		}
		if len(segs) == 2 && segs[1] == "_refresh" {
			c.refresh("")
			return
		}
	}
	c.noHandler()
}

func segOr(segs []string, i int) string {
	if i < len(segs) {
		return segs[i]
	}
	return ""
}

// splitPath splits an escaped URL path into unescaped segments, ignoring
// empty ones (a trailing slash). ok is false for a malformed escape.
func splitPath(p string) ([]string, bool) {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs = append(segs, u)
	}
	return segs, true
}
