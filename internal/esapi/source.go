package esapi

import (
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/esbulk"
	"github.com/sluicehq/sluice/internal/event"
)

// sourceFilter is the _source option of a search or get: whether to return
// the source, and which fields.
type sourceFilter struct {
	disabled bool
	includes []string
	excludes []string
}

func (f *sourceFilter) active() bool { return len(f.includes) > 0 || len(f.excludes) > 0 }

// sourceFromParams reads _source, _source_includes and _source_excludes
// from the query string.
func sourceFromParams(q url.Values) sourceFilter {
	var f sourceFilter
	if v, ok := q["_source"]; ok && len(v) > 0 {
		switch v[0] {
		case "false":
			f.disabled = true
		case "true", "":
		default:
			f.includes = splitList(v[0])
		}
	}
	if v := q.Get("_source_includes"); v != "" {
		f.includes = splitList(v)
	}
	if v := q.Get("_source_excludes"); v != "" {
		f.excludes = splitList(v)
	}
	return f
}

// sourceFromBody reads the _source member of a search body: a boolean, a
// pattern, a list of patterns, or {includes, excludes}.
func sourceFromBody(v any) (sourceFilter, *esbulk.Error) {
	var f sourceFilter
	switch v := v.(type) {
	case bool:
		f.disabled = !v
	case string:
		f.includes = []string{v}
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return f, parsingError("[_source] must be a boolean, a string, an array of strings or an object")
			}
			f.includes = append(f.includes, s)
		}
	case map[string]any:
		for k, x := range v {
			var list *[]string
			switch k {
			case "includes", "include":
				list = &f.includes
			case "excludes", "exclude":
				list = &f.excludes
			default:
				return f, parsingError("Unknown key for a START_OBJECT in [_source]: [" + k + "]")
			}
			switch x := x.(type) {
			case string:
				*list = append(*list, x)
			case []any:
				for _, y := range x {
					if s, ok := y.(string); ok {
						*list = append(*list, s)
					}
				}
			}
		}
	case nil:
	default:
		return f, parsingError("[_source] must be a boolean, a string, an array of strings or an object")
	}
	return f, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// docID returns a hit's _id: the client's (FieldID), else the backend's.
func docID(h *Hit) string {
	if v, ok := h.Event.Lookup(FieldID); ok {
		if s, ok := v.Str(); ok {
			return s
		}
	}
	return h.ID
}

// appendSource appends the event as its _source: fields without the
// internal ones, and @timestamp unless the document had none.
func appendSource(dst []byte, ev *event.Event, f *sourceFilter) []byte {
	e := *ev // shares the fields, which AppendJSON only reads
	if _, ok := ev.Lookup(FieldNoTimestamp); ok {
		e.Time = time.Time{}
	}
	if f != nil && f.active() {
		e = filterFields(&e, f)
	}
	return event.AppendJSON(dst, &e, false)
}

// filterFields returns the fields of ev selected by includes and excludes
// (patterns with '*'; a name also selects what is below it).
func filterFields(ev *event.Event, f *sourceFilter) event.Event {
	keep := func(key string) bool {
		if len(f.includes) > 0 && !matchAnyField(f.includes, key) {
			return false
		}
		return !matchAnyField(f.excludes, key)
	}
	out := event.NewSized(time.Time{}, ev.Len())
	if !ev.Time.IsZero() && keep(event.TimestampField) {
		out.Time = ev.Time
	}
	for _, fl := range ev.Fields() {
		if keep(fl.Key) {
			out.AppendField(fl.Key, fl.Value)
		}
	}
	return out
}

// matchAnyField reports whether key is selected by one of the patterns:
// the pattern matches the key, or one of the key's parent objects.
func matchAnyField(patterns []string, key string) bool {
	for _, p := range patterns {
		if wildMatch(p, key) {
			return true
		}
		for i := 0; i < len(key); i++ {
			if key[i] == '.' && wildMatch(p, key[:i]) {
				return true
			}
		}
	}
	return false
}

// wildMatch matches s against a pattern where '*' matches any run of
// characters.
func wildMatch(p, s string) bool {
	if !strings.Contains(p, "*") {
		return p == s
	}
	parts := strings.Split(p, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
