package esapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
)

// info serves GET /.
func (c *call) info() {
	o := &c.h.opts
	b := []byte(`{"name":`)
	b = event.AppendJSONString(b, o.NodeName)
	b = append(b, `,"cluster_name":`...)
	b = event.AppendJSONString(b, o.ClusterName)
	b = append(b, `,"cluster_uuid":`...)
	b = event.AppendJSONString(b, c.h.clusterUUID)
	b = append(b, `,"version":{"number":`...)
	b = event.AppendJSONString(b, o.Version)
	b = append(b, `,"build_flavor":"default","build_type":"tar","build_hash":"sluice","build_date":"2024-12-11T12:08:05.663969764Z","build_snapshot":false,"lucene_version":`...)
	b = event.AppendJSONString(b, o.LuceneVersion)
	b = append(b, `,"minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}`...)
	c.json(200, b)
}

func (c *call) acknowledged() {
	c.json(200, []byte(`{"acknowledged":true}`))
}

// createIndex serves PUT /{index}. Settings, mappings and aliases in the
// body are accepted and not applied: Sluice's indices are schemaless.
func (c *call) createIndex(index string) {
	if e := ValidateIndexName(index); e != nil {
		c.fail(e)
		return
	}
	if _, e := c.readJSON(); e != nil {
		c.fail(e)
		return
	}
	if err := c.h.b.CreateIndex(c.ctx, index); err != nil {
		c.fail(c.h.asError(err, index))
		return
	}
	b := []byte(`{"acknowledged":true,"shards_acknowledged":true,"index":`)
	b = event.AppendJSONString(b, index)
	c.json(200, append(b, '}'))
}

// deleteIndex serves DELETE /{index}: a comma-separated list of names.
// Wildcards are refused, as Elasticsearch 8 does by default
// (action.destructive_requires_name).
func (c *call) deleteIndex(expr string) {
	names := splitList(expr)
	for _, n := range names {
		if strings.Contains(n, "*") || n == "_all" {
			c.fail(badRequest("Wildcard expressions or all indices are not allowed"))
			return
		}
	}
	ignore := isTrue(c.q, "ignore_unavailable")
	for _, n := range names {
		ok, err := c.h.b.IndexExists(c.ctx, n)
		if err != nil {
			c.fail(c.h.asError(err, n))
			return
		}
		if !ok && !ignore {
			c.fail(indexNotFound(n))
			return
		}
	}
	for _, n := range names {
		if err := c.h.b.DeleteIndex(c.ctx, n); err != nil && !(ignore && errors.Is(err, ErrIndexNotFound)) {
			c.fail(c.h.asError(err, n))
			return
		}
	}
	c.acknowledged()
}

// indexExists serves HEAD /{index}: 200 when every name (or pattern)
// matches an index, 404 otherwise.
func (c *call) indexExists(expr string) {
	idx, none, e := c.resolve(expr, isTrue(c.q, "ignore_unavailable"))
	if e != nil || none {
		c.head(404)
		return
	}
	if len(idx) > 0 && hasPattern(idx) {
		infos, err := c.h.b.Indices(c.ctx)
		if err != nil {
			c.head(500)
			return
		}
		if len(matchIndices(infos, idx)) == 0 {
			c.head(404)
			return
		}
	}
	c.head(200)
}

func hasPattern(idx []string) bool {
	for _, s := range idx {
		if strings.Contains(s, "*") {
			return true
		}
	}
	return false
}

// getIndex serves GET /{index}: aliases, mappings and settings of each
// index (mappings are empty: indices are schemaless).
func (c *call) getIndex(expr string) {
	infos, e := c.matching(expr)
	if e != nil {
		c.fail(e)
		return
	}
	b := []byte{'{'}
	for i, in := range infos {
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendJSONString(b, in.Name)
		b = append(b, `:{"aliases":{},"mappings":{},"settings":`...)
		b = appendSettings(b, in)
		b = append(b, '}')
	}
	c.json(200, append(b, '}'))
}

func appendSettings(b []byte, in IndexInfo) []byte {
	b = append(b, `{"index":{"creation_date":"`...)
	b = strconv.AppendInt(b, in.Created.UnixMilli(), 10)
	b = append(b, `","number_of_shards":"1","number_of_replicas":"0","uuid":`...)
	b = event.AppendJSONString(b, uuidFor("index:"+in.Name))
	b = append(b, `,"version":{"created":"8521000"},"provided_name":`...)
	b = event.AppendJSONString(b, in.Name)
	return append(b, `}}`...)
}

// getSettings serves GET /{index}/_settings.
func (c *call) getSettings(expr string) {
	infos, e := c.matching(expr)
	if e != nil {
		c.fail(e)
		return
	}
	b := []byte{'{'}
	for i, in := range infos {
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendJSONString(b, in.Name)
		b = append(b, `:{"settings":`...)
		b = appendSettings(b, in)
		b = append(b, '}')
	}
	c.json(200, append(b, '}'))
}

// matching returns the indices an expression names, for the APIs that
// list them; a missing concrete name is index_not_found_exception.
func (c *call) matching(expr string) ([]IndexInfo, *esbulk.Error) {
	idx, none, e := c.resolve(expr, isTrue(c.q, "ignore_unavailable"))
	if e != nil {
		return nil, e
	}
	if none {
		return nil, nil
	}
	infos, err := c.h.b.Indices(c.ctx)
	if err != nil {
		return nil, c.h.asError(err, "")
	}
	out := matchIndices(infos, idx)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// matchIndices returns the infos whose name matches one of the patterns
// (all of them when there are none).
func matchIndices(infos []IndexInfo, patterns []string) []IndexInfo {
	if len(patterns) == 0 {
		return slices.Clone(infos)
	}
	var out []IndexInfo
	for _, in := range infos {
		for _, p := range patterns {
			if wildMatch(p, in.Name) {
				out = append(out, in)
				break
			}
		}
	}
	return out
}

// resolve turns an index expression from a URL (comma-separated names and
// patterns, _all, exclusions with '-') into the patterns of a search.
// Concrete names that do not exist are index_not_found_exception unless
// ignore is set (the ignore_unavailable parameter). none reports that the
// expression selects no index at all (the search is then empty).
func (c *call) resolve(expr string, ignore bool) (indices []string, none bool, e *esbulk.Error) {
	if expr == "" || expr == "_all" || expr == "*" {
		return nil, false, nil
	}
	parts := splitList(expr)
	exclusions := false
	for _, p := range parts {
		if strings.HasPrefix(p, "-") {
			exclusions = true
			continue
		}
		if strings.Contains(p, "*") || p == "_all" {
			indices = append(indices, p)
			continue
		}
		ok, err := c.h.b.IndexExists(c.ctx, p)
		if err != nil {
			return nil, false, c.h.asError(err, p)
		}
		if !ok {
			if ignore {
				continue
			}
			return nil, false, indexNotFound(p)
		}
		indices = append(indices, p)
	}
	if exclusions {
		infos, err := c.h.b.Indices(c.ctx)
		if err != nil {
			return nil, false, c.h.asError(err, "")
		}
		set := map[string]bool{}
		for _, p := range parts {
			if ex, ok := strings.CutPrefix(p, "-"); ok {
				for _, in := range infos {
					if wildMatch(ex, in.Name) {
						delete(set, in.Name)
					}
				}
				continue
			}
			if p == "_all" {
				p = "*"
			}
			for _, in := range infos {
				if wildMatch(p, in.Name) {
					set[in.Name] = true
				}
			}
		}
		indices = indices[:0]
		for n := range set {
			indices = append(indices, n)
		}
		sort.Strings(indices)
	}
	for i, p := range indices {
		if p == "_all" {
			indices[i] = "*"
		}
	}
	return indices, len(indices) == 0, nil
}

// refresh serves /_refresh and /{index}/_refresh: writes are visible to
// search once Write returns, so there is nothing to do.
func (c *call) refresh(expr string) {
	infos, e := c.matching(expr)
	if e != nil {
		c.fail(e)
		return
	}
	n := max(len(infos), 1)
	b := []byte(`{"_shards":{"total":`)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, `,"successful":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	c.json(200, append(b, `,"failed":0}}`...))
}

// clusterHealth serves /_cluster/health: one node, every index green
// (there are no replicas to miss).
func (c *call) clusterHealth(expr string) {
	infos, e := c.matching(expr)
	if e != nil {
		c.fail(e)
		return
	}
	n := int64(len(infos))
	b := []byte(`{"cluster_name":`)
	b = event.AppendJSONString(b, c.h.opts.ClusterName)
	b = append(b, `,"status":"green","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,"active_primary_shards":`...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `,"active_shards":`...)
	b = strconv.AppendInt(b, n, 10)
	b = append(b, `,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0,"unassigned_primary_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0}`...)
	c.json(200, b)
}

// license serves GET /_license: a basic license, which Logstash and
// Beats check for.
func (c *call) license() {
	b := []byte(`{"license":{"status":"active","uid":`)
	b = event.AppendJSONString(b, uuidFor("license:"+c.h.opts.ClusterName))
	b = append(b, `,"type":"basic","issue_date":"2024-01-01T00:00:00.000Z","issue_date_in_millis":1704067200000,"max_nodes":1000,"max_resource_units":null,"issued_to":`...)
	b = event.AppendJSONString(b, c.h.opts.ClusterName)
	b = append(b, `,"issuer":"elasticsearch","start_date_in_millis":-1}}`...)
	c.json(200, b)
}

// xpack serves GET /_xpack: the basic license and no features.
func (c *call) xpack() {
	b := []byte(`{"build":{"hash":"sluice","date":"2024-12-11T12:08:05.663969764Z"},"license":{"uid":`)
	b = event.AppendJSONString(b, uuidFor("license:"+c.h.opts.ClusterName))
	b = append(b, `,"type":"basic","mode":"basic","status":"active"},"features":{}}`...)
	c.json(200, b)
}

// templateAPI serves the template, ingest pipeline and ILM policy APIs
// that shippers call at startup (Filebeat loads its index template,
// Logstash its ILM policy): definitions are kept in memory and read back,
// not applied. It reports false for a path it does not serve.
func (c *call) templateAPI(segs []string) bool {
	// /_index_template/{name}, /_component_template/{name},
	// /_template/{name}, /_ingest/pipeline/{id}, /_ilm/policy/{name}
	kind := segs[0]
	rest := segs[1:]
	if kind == "_ingest" || kind == "_ilm" {
		if len(rest) == 0 || (kind == "_ingest" && rest[0] != "pipeline") || (kind == "_ilm" && rest[0] != "policy") {
			return false
		}
		kind += "/" + rest[0]
		rest = rest[1:]
	}
	if len(rest) > 1 {
		return false
	}
	name := segOr(rest, 0)
	key := kind + "/" + name
	switch c.r.Method {
	case http.MethodPut, http.MethodPost:
		if name == "" {
			c.badMethod("GET")
			return true
		}
		body, e := c.readBody(c.h.opts.MaxSearchBytes)
		if e != nil {
			c.fail(e)
			return true
		}
		if _, e := decodeObject(body); e != nil {
			c.fail(e)
			return true
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			body = []byte("{}")
		}
		c.h.templates.Store(key, json.RawMessage(body))
		c.acknowledged()
	case http.MethodDelete:
		if _, ok := c.h.templates.LoadAndDelete(key); !ok {
			c.fail(&esbulk.Error{Status: 404, Type: "resource_not_found_exception", Reason: kind + " [" + name + "] missing"})
			return true
		}
		c.acknowledged()
	case http.MethodHead:
		if _, ok := c.h.templates.Load(key); ok || name == "" {
			c.head(200)
		} else {
			c.head(404)
		}
	case http.MethodGet:
		c.getTemplates(kind, name)
	default:
		c.badMethod("DELETE", "GET", "HEAD", "PUT")
	}
	return true
}

func (c *call) getTemplates(kind, name string) {
	type entry struct {
		name string
		body json.RawMessage
	}
	var found []entry
	c.h.templates.Range(func(k, v any) bool {
		key := k.(string)
		n, ok := strings.CutPrefix(key, kind+"/")
		if ok && (name == "" || wildMatch(name, n)) {
			found = append(found, entry{n, v.(json.RawMessage)})
		}
		return true
	})
	sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
	if len(found) == 0 && name != "" && !strings.Contains(name, "*") {
		c.fail(&esbulk.Error{Status: 404, Type: "resource_not_found_exception", Reason: kind + " [" + name + "] missing"})
		return
	}
	var b []byte
	switch kind {
	case "_index_template", "_component_template":
		field := strings.TrimPrefix(kind, "_")
		b = append(b, `{"`+field+`s":[`...)
		for i, e := range found {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = event.AppendJSONString(b, e.name)
			b = append(b, `,"`+field+`":`...)
			b = append(b, e.body...)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	case "_ilm/policy":
		b = append(b, '{')
		for i, e := range found {
			if i > 0 {
				b = append(b, ',')
			}
			b = event.AppendJSONString(b, e.name)
			b = append(b, `:{"version":1,"modified_date":"2024-01-01T00:00:00.000Z","policy":`...)
			var wrapper struct {
				Policy json.RawMessage `json:"policy"`
			}
			if json.Unmarshal(e.body, &wrapper) == nil && len(wrapper.Policy) > 0 {
				b = append(b, wrapper.Policy...)
			} else {
				b = append(b, e.body...)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	default: // _template, _ingest/pipeline: {name: body}
		b = append(b, '{')
		for i, e := range found {
			if i > 0 {
				b = append(b, ',')
			}
			b = event.AppendJSONString(b, e.name)
			b = append(b, ':')
			b = append(b, e.body...)
		}
		b = append(b, '}')
	}
	c.json(200, b)
}

// dataStream serves /_data_stream/{name}: a data stream is an index here.
func (c *call) dataStream(name string) {
	switch c.r.Method {
	case http.MethodPut:
		c.createIndex(name)
	case http.MethodDelete:
		c.deleteIndex(name)
	case http.MethodGet:
		infos, e := c.matching(name)
		if e != nil {
			c.fail(e)
			return
		}
		b := []byte(`{"data_streams":[`)
		for i, in := range infos {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = event.AppendJSONString(b, in.Name)
			b = append(b, `,"timestamp_field":{"name":"@timestamp"},"indices":[{"index_name":`...)
			b = event.AppendJSONString(b, in.Name)
			b = append(b, `,"index_uuid":`...)
			b = event.AppendJSONString(b, uuidFor("index:"+in.Name))
			b = append(b, `}],"generation":1,"status":"GREEN","template":"","hidden":false,"system":false}`...)
		}
		c.json(200, append(b, "]}"...))
	default:
		c.badMethod("DELETE", "GET", "PUT")
	}
}
