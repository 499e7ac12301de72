package esapi

import (
	"sort"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// Sluice's indices have no mappings: fields take whatever type their
// values have. _mapping and _field_caps, which tools such as Grafana read
// to list fields, describe what the newest events of each index hold, with
// the types Elasticsearch's dynamic mapping would have given them
// (strings as text with a .keyword sub-field).

// mappingSample is the number of newest events per index read to infer
// field types.
const mappingSample = 500

// fieldTypes infers field types from a sample of an index's events.
func (c *call) fieldTypes(index string) (map[string]string, error) {
	res, err := c.h.b.Search(c.ctx, &SearchRequest{Indices: []string{index}, Size: mappingSample})
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	for i := range res.Hits {
		ev := &res.Hits[i].Event
		if !ev.Time.IsZero() {
			if _, noTS := ev.Lookup(FieldNoTimestamp); !noTS {
				types[event.TimestampField] = "date"
			}
		}
		for _, f := range ev.Fields() {
			if event.IsInternal(f.Key) {
				continue
			}
			if t := typeOf(f.Value.Interface()); t != "" {
				if _, seen := types[f.Key]; !seen {
					types[f.Key] = t
				}
			}
		}
	}
	return types, nil
}

func typeOf(x any) string {
	switch v := x.(type) {
	case string:
		return "text"
	case int64:
		return "long"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Time:
		return "date"
	case []any:
		for _, e := range v {
			if t := typeOf(e); t != "" {
				return t
			}
		}
	case map[string]any:
		return "object"
	}
	return ""
}

// getMapping serves GET /_mapping and /{index}/_mapping.
func (c *call) getMapping(expr string) {
	infos, e := c.matching(expr)
	if e != nil {
		c.fail(e)
		return
	}
	b := []byte{'{'}
	for i, in := range infos {
		types, err := c.fieldTypes(in.Name)
		if err != nil {
			c.fail(c.h.asError(err, in.Name))
			return
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendJSONString(b, in.Name)
		b = append(b, `:{"mappings":`...)
		b = appendProperties(b, types)
		b = append(b, '}')
	}
	c.json(200, append(b, '}'))
}

// appendProperties writes {"properties":{...}} for dotted field names.
func appendProperties(b []byte, types map[string]string) []byte {
	type node struct {
		typ      string
		children map[string]*node
	}
	root := &node{children: map[string]*node{}}
	for name, typ := range types {
		n := root
		parts := strings.Split(name, ".")
		for i, p := range parts {
			child := n.children[p]
			if child == nil {
				child = &node{children: map[string]*node{}}
				n.children[p] = child
			}
			if i == len(parts)-1 && child.typ == "" {
				child.typ = typ
			}
			n = child
		}
	}
	var write func(b []byte, n *node) []byte
	write = func(b []byte, n *node) []byte {
		b = append(b, `{"properties":{`...)
		names := make([]string, 0, len(n.children))
		for k := range n.children {
			names = append(names, k)
		}
		sort.Strings(names)
		for i, k := range names {
			ch := n.children[k]
			if i > 0 {
				b = append(b, ',')
			}
			b = event.AppendJSONString(b, k)
			b = append(b, ':')
			switch {
			case len(ch.children) > 0:
				b = write(b, ch)
			case ch.typ == "text":
				b = append(b, `{"type":"text","fields":{"keyword":{"type":"keyword","ignore_above":256}}}`...)
			case ch.typ == "object":
				b = append(b, `{"type":"object"}`...)
			default:
				b = append(b, `{"type":"`+ch.typ+`"}`...)
			}
		}
		return append(b, "}}"...)
	}
	return write(b, root)
}

// fieldCaps serves /_field_caps and /{index}/_field_caps.
func (c *call) fieldCaps(expr string) {
	infos, e := c.matching(expr)
	if e != nil {
		c.fail(e)
		return
	}
	patterns := splitList(c.q.Get("fields"))
	if body, e := c.readJSON(); e == nil && body != nil {
		if fs, ok := body["fields"].([]any); ok {
			for _, f := range fs {
				if s, ok := f.(string); ok {
					patterns = append(patterns, s)
				}
			}
		}
	}
	if len(patterns) == 0 {
		patterns = []string{"*"}
	}
	all := map[string]string{}
	names := make([]string, 0, len(infos))
	for _, in := range infos {
		names = append(names, in.Name)
		types, err := c.fieldTypes(in.Name)
		if err != nil {
			c.fail(c.h.asError(err, in.Name))
			return
		}
		for f, t := range types {
			if t == "text" {
				all[f+".keyword"] = "keyword"
			}
			if _, ok := all[f]; !ok {
				all[f] = t
			}
		}
	}
	b := []byte(`{"indices":[`)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendJSONString(b, n)
	}
	b = append(b, `],"fields":{`...)
	fields := make([]string, 0, len(all))
	for f := range all {
		for _, p := range patterns {
			if wildMatch(p, f) {
				fields = append(fields, f)
				break
			}
		}
	}
	sort.Strings(fields)
	for i, f := range fields {
		t := all[f]
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendJSONString(b, f)
		b = append(b, `:{"`+t+`":{"type":"`+t+`","metadata_field":false,"searchable":true,"aggregatable":`...)
		if t == "text" || t == "object" {
			b = append(b, "false"...)
		} else {
			b = append(b, "true"...)
		}
		b = append(b, "}}"...)
	}
	c.json(200, append(b, "}}"...))
}
