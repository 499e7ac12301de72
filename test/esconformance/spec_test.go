package esconformance

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// apiSpec is one API of the REST spec: its paths and what it accepts.
type apiSpec struct {
	name        string
	paths       []apiPath
	params      map[string]bool
	contentType string // the first content type the API takes, if any
	body        bool   // the API takes a body
}

type apiPath struct {
	path    string
	methods []string
	parts   []string
}

var partRe = regexp.MustCompile(`\{([^}]+)\}`)

// loadSpecs reads every api/*.json file of dir, in both layouts: current
// (url.paths is a list of {path, methods, parts}) and legacy (methods at the
// top, url.paths a list of strings).
func loadSpecs(dir string) (map[string]*apiSpec, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	specs := map[string]*apiSpec{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for name, raw := range doc {
			if strings.HasPrefix(name, "_") {
				continue // "_common" and the like
			}
			s, err := parseSpec(name, raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			specs[name] = s
		}
	}
	return specs, nil
}

func parseSpec(name string, raw json.RawMessage) (*apiSpec, error) {
	var api struct {
		Methods []string `json:"methods"`
		URL     struct {
			Path   string            `json:"path"`
			Paths  []json.RawMessage `json:"paths"`
			Parts  map[string]any    `json:"parts"`
			Params map[string]any    `json:"params"`
		} `json:"url"`
		Params  map[string]any `json:"params"`
		Headers struct {
			ContentType []string `json:"content_type"`
		} `json:"headers"`
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(raw, &api); err != nil {
		return nil, err
	}
	s := &apiSpec{name: name, params: map[string]bool{}}
	for p := range api.Params {
		s.params[p] = true
	}
	for p := range api.URL.Params {
		s.params[p] = true
	}
	if len(api.Headers.ContentType) > 0 {
		s.contentType = api.Headers.ContentType[0]
	}
	s.body = len(api.Body) > 0 && string(api.Body) != "null"
	for _, rp := range api.URL.Paths {
		var p apiPath
		var str string
		if json.Unmarshal(rp, &str) == nil { // legacy
			p = apiPath{path: str, methods: api.Methods}
		} else {
			var cur struct {
				Path    string         `json:"path"`
				Methods []string       `json:"methods"`
				Parts   map[string]any `json:"parts"`
			}
			if err := json.Unmarshal(rp, &cur); err != nil {
				return nil, err
			}
			p = apiPath{path: cur.Path, methods: cur.Methods}
		}
		for _, m := range partRe.FindAllStringSubmatch(p.path, -1) {
			p.parts = append(p.parts, m[1])
		}
		s.paths = append(s.paths, p)
	}
	if len(s.paths) == 0 && api.URL.Path != "" {
		p := apiPath{path: api.URL.Path, methods: api.Methods}
		for _, m := range partRe.FindAllStringSubmatch(p.path, -1) {
			p.parts = append(p.parts, m[1])
		}
		s.paths = append(s.paths, p)
	}
	if len(s.paths) == 0 {
		return nil, fmt.Errorf("API %s has no paths", name)
	}
	return s, nil
}

// paramError is a client-side error (catch: param): the call cannot be
// built from the parameters.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// request is an HTTP request built from a do step.
type request struct {
	method string
	path   string // with the query string
	body   []byte
	ctype  string
	ignore map[int]bool
}

// build makes the request for a call of the API with params (body
// included). It picks the path whose parts are all given, preferring the
// one that uses the most of them; the other params go to the query string.
func (s *apiSpec) build(params map[string]any) (*request, error) {
	r := &request{ignore: map[int]bool{}}
	var body any
	hasBody := false
	rest := map[string]any{}
	for k, v := range params {
		switch k {
		case "body":
			body, hasBody = v, true
		case "ignore":
			switch x := v.(type) {
			case []any:
				for _, c := range x {
					if n, err := strconv.Atoi(fmt.Sprint(c)); err == nil {
						r.ignore[n] = true
					}
				}
			default:
				if n, err := strconv.Atoi(fmt.Sprint(x)); err == nil {
					r.ignore[n] = true
				}
			}
		default:
			rest[k] = v
		}
	}
	var best *apiPath
	for i := range s.paths {
		p := &s.paths[i]
		ok := true
		for _, part := range p.parts {
			if _, has := rest[part]; !has {
				ok = false
				break
			}
		}
		if ok && (best == nil || len(p.parts) > len(best.parts)) {
			best = p
		}
	}
	if best == nil {
		return nil, &paramError{fmt.Sprintf("API [%s]: no path takes the parameters %v", s.name, sortedKeys(rest))}
	}
	path := best.path
	for _, part := range best.parts {
		path = strings.ReplaceAll(path, "{"+part+"}", pathPart(rest[part]))
		delete(rest, part)
	}
	q := url.Values{}
	for _, k := range sortedKeys(rest) {
		q.Set(k, paramString(rest[k]))
	}
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r.path = path
	r.method = best.methods[0]
	for _, m := range best.methods {
		if m == "GET" {
			r.method = m // without a body, GET when the API has it
		}
	}
	if hasBody {
		for _, m := range best.methods {
			if m == "PUT" || m == "POST" {
				r.method = m
				break
			}
		}
		b, err := encodeBody(body, s.contentType == "application/x-ndjson")
		if err != nil {
			return nil, err
		}
		r.body = b
		r.ctype = s.contentType
		if r.ctype == "" || (strings.Contains(r.ctype, "ndjson") && !isList(body) && !isNDJSONString(body)) {
			r.ctype = "application/json"
		}
	}
	return r, nil
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func isNDJSONString(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(strings.TrimSpace(s), "\n")
}

// encodeBody encodes a body: an object as JSON, a list as NDJSON (one
// line per element), a string as it is.
func encodeBody(v any, ndjson bool) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if ndjson && !strings.HasSuffix(x, "\n") {
			x += "\n"
		}
		return []byte(x), nil
	case []any:
		var b []byte
		for _, e := range x {
			if s, ok := e.(string); ok {
				b = append(b, strings.TrimRight(s, "\n")...)
			} else {
				line, err := json.Marshal(jsonable(e))
				if err != nil {
					return nil, err
				}
				b = append(b, line...)
			}
			b = append(b, '\n')
		}
		return b, nil
	default:
		return json.Marshal(jsonable(v))
	}
}

// jsonable converts YAML-decoded values (map[string]any, map[any]any) for
// encoding/json.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

// pathPart is a path part: escaped, lists joined by commas.
func pathPart(v any) string {
	if l, ok := v.([]any); ok {
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = url.PathEscape(paramString(e))
		}
		return strings.Join(parts, ",")
	}
	return url.PathEscape(paramString(v))
}

// paramString is a URL parameter's text: lists joined by commas.
func paramString(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = paramString(e)
		}
		return strings.Join(parts, ",")
	case string:
		return x
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
