package esconformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// suite is one .yml file: documents for requires, setup, teardown and
// tests.
type suite struct {
	file       string
	serverless bool // requires.serverless (default true)
	stack      bool // requires.stack (default true)
	setup      []any
	teardown   []any
	tests      []testCase
}

type testCase struct {
	name  string
	steps []any
}

// parseSuite reads a YAML test file: a stream of documents, each a
// mapping of requires/setup/teardown or test names to steps.
func parseSuite(name string, data []byte) (*suite, error) {
	s := &suite{file: name, serverless: true, stack: true}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if doc.Kind == 0 || len(doc.Content) == 0 {
			continue
		}
		m := doc.Content[0]
		if m.Kind == yaml.ScalarNode && m.Tag == "!!null" {
			continue
		}
		if m.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: a document must be a mapping", m.Line)
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			key := m.Content[i].Value
			var v any
			if err := m.Content[i+1].Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", m.Content[i].Line, err)
			}
			switch key {
			case "requires":
				req, _ := v.(map[string]any)
				if b, ok := req["serverless"].(bool); ok {
					s.serverless = b
				}
				if b, ok := req["stack"].(bool); ok {
					s.stack = b
				}
			case "setup":
				s.setup = asList(v)
			case "teardown":
				s.teardown = asList(v)
			default:
				s.tests = append(s.tests, testCase{name: key, steps: asList(v)})
			}
		}
	}
	return s, nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// runner executes steps against a server.
type runner struct {
	base    string
	client  *http.Client
	specs   map[string]*apiSpec
	version string // the server's version, for skip ranges

	stash      map[string]any
	last       any // the last response's body: parsed JSON, text, or for HEAD whether it was 2xx
	lastStatus int
	lastRaw    []byte
	lastMethod string
}

// skipError makes a test skipped rather than failed.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

// supportedFeatures are the test-runner features this runner implements.
var supportedFeatures = map[string]bool{
	"headers": true, "warnings": true, "allowed_warnings": true, "warnings_regex": true,
	"allowed_warnings_regex": true, "contains": true, "close_to": true, "catch_unauthorized": true,
	"default_shards": true, "stash_in_key": true, "stash_in_path": true, "stash_path_replace": true,
	"embedded_stash_key": true, "node_selector": true, "is_after": false, "transform_and_set": false,
	"arbitrary_key": false, "groovy_scripting": false, "spi_on_classpath_jdk9": false,
}

// run executes steps in order; it stops at the first failure.
func (r *runner) run(steps []any) error {
	for i, st := range steps {
		m, ok := st.(map[string]any)
		if !ok || len(m) != 1 {
			return fmt.Errorf("step %d: a step is a mapping with one key, got %v", i+1, st)
		}
		for kind, arg := range m {
			if err := r.step(kind, arg); err != nil {
				var skip *skipError
				if errors.As(err, &skip) {
					return err
				}
				return fmt.Errorf("step %d (%s): %w", i+1, kind, err)
			}
		}
	}
	return nil
}

func (r *runner) step(kind string, arg any) error {
	switch kind {
	case "skip":
		return r.skip(arg)
	case "requires":
		return r.requires(arg)
	case "do":
		return r.do(arg)
	case "set":
		m, _ := arg.(map[string]any)
		for path, name := range m {
			v, err := r.lookup(path)
			if err != nil {
				return err
			}
			r.stash[fmt.Sprint(name)] = v
		}
		return nil
	case "match":
		return r.eachPath(arg, func(path string, actual, expected any) error {
			return matchValue(path, actual, expected)
		})
	case "length":
		return r.eachPath(arg, func(path string, actual, expected any) error {
			n, ok := lengthOf(actual)
			if !ok {
				return fmt.Errorf("length: [%s] is %s, which has no length", path, show(actual))
			}
			want, ok := toFloat(expected)
			if !ok || float64(n) != want {
				return fmt.Errorf("length: [%s] has length %d, want %v", path, n, expected)
			}
			return nil
		})
	case "is_true", "is_false":
		path := fmt.Sprint(arg)
		if arg == nil {
			path = ""
		}
		v, err := r.lookupPath(path)
		if err != nil {
			v = nil
		}
		if truthy(v) != (kind == "is_true") {
			return fmt.Errorf("%s: [%s] is %s", kind, path, show(v))
		}
		return nil
	case "gt", "gte", "lt", "lte":
		return r.eachPath(arg, func(path string, actual, expected any) error {
			c, ok := compare(actual, expected)
			if !ok {
				return fmt.Errorf("%s: cannot compare [%s] = %s with %s", kind, path, show(actual), show(expected))
			}
			good := map[string]bool{"gt": c > 0, "gte": c >= 0, "lt": c < 0, "lte": c <= 0}[kind]
			if !good {
				return fmt.Errorf("%s: [%s] = %s, expected %s %s", kind, path, show(actual), kind, show(expected))
			}
			return nil
		})
	case "contains":
		return r.eachPath(arg, func(path string, actual, expected any) error {
			list, ok := actual.([]any)
			if !ok {
				return fmt.Errorf("contains: [%s] is not a list: %s", path, show(actual))
			}
			for _, e := range list {
				if containsValue(e, expected) {
					return nil
				}
			}
			return fmt.Errorf("contains: [%s] = %s does not contain %s", path, show(actual), show(expected))
		})
	case "close_to":
		return r.eachPath(arg, func(path string, actual, expected any) error {
			m, _ := expected.(map[string]any)
			want, ok1 := toFloat(m["value"])
			tol, ok2 := toFloat(m["error"])
			got, ok3 := toFloat(actual)
			if !ok1 || !ok2 || !ok3 || math.Abs(got-want) > tol {
				return fmt.Errorf("close_to: [%s] = %s, want %v ± %v", path, show(actual), m["value"], m["error"])
			}
			return nil
		})
	case "transform_and_set":
		return &skipError{"the transform_and_set step is not supported by this runner"}
	}
	return fmt.Errorf("unknown step %q", kind)
}

// eachPath applies check to each path: expected pair of arg, with stashed
// values substituted in paths and expected values.
func (r *runner) eachPath(arg any, check func(path string, actual, expected any) error) error {
	m, ok := arg.(map[string]any)
	if !ok {
		return fmt.Errorf("expected a mapping of paths, got %s", show(arg))
	}
	for _, path := range sortedKeys(m) {
		actual, err := r.lookup(path)
		if err != nil {
			return err
		}
		if err := check(path, actual, r.subst(m[path])); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) skip(arg any) error {
	m, _ := arg.(map[string]any)
	reason, _ := m["reason"].(string)
	if f, ok := m["features"]; ok {
		for _, feat := range asList(f) {
			name := fmt.Sprint(feat)
			if !supportedFeatures[name] {
				return &skipError{"needs the runner feature [" + name + "]"}
			}
		}
	}
	if v, ok := m["version"].(string); ok && v != "" {
		if r.versionIn(v) {
			return &skipError{"version " + v + ": " + reason}
		}
	}
	if _, ok := m["cluster_features"]; ok {
		return &skipError{"skipped on clusters with features " + show(m["cluster_features"]) + ": " + reason}
	}
	if _, ok := m["awaits_fix"]; ok {
		return &skipError{"awaits fix: " + fmt.Sprint(m["awaits_fix"])}
	}
	return nil
}

func (r *runner) requires(arg any) error {
	m, _ := arg.(map[string]any)
	for _, feat := range asList(m["test_runner_features"]) {
		name := fmt.Sprint(feat)
		if !supportedFeatures[name] {
			return &skipError{"needs the runner feature [" + name + "]"}
		}
	}
	if cf := asList(m["cluster_features"]); len(cf) > 0 {
		return &skipError{"needs the cluster features " + show(cf)}
	}
	return nil
}

// versionIn reports whether the server's version is in a skip range:
// "all", "8.0.0 - 8.5.99", " - 7.99.99", "8.1.0 - ", or several ranges
// separated by commas.
func (r *runner) versionIn(spec string) bool {
	spec = strings.TrimSpace(spec)
	if spec == "all" {
		return true
	}
	v := parseVersion(r.version)
	for _, rng := range strings.Split(spec, ",") {
		lo, hi, found := strings.Cut(rng, "-")
		if !found {
			if parseVersion(strings.TrimSpace(rng)) == v {
				return true
			}
			continue
		}
		loV, hiV := parseVersion(strings.TrimSpace(lo)), parseVersion(strings.TrimSpace(hi))
		if strings.TrimSpace(hi) == "" {
			hiV = [3]int{math.MaxInt32}
		}
		if !less(v, loV) && !less(hiV, v) {
			return true
		}
	}
	return false
}

func parseVersion(s string) [3]int {
	var v [3]int
	for i, p := range strings.SplitN(strings.SplitN(s, "-", 2)[0], ".", 3) {
		v[i], _ = strconv.Atoi(p)
	}
	return v
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// catches maps the catch names to the statuses they accept.
var catches = map[string]func(int) bool{
	"missing":         func(s int) bool { return s == 404 },
	"conflict":        func(s int) bool { return s == 409 },
	"bad_request":     func(s int) bool { return s == 400 },
	"unauthorized":    func(s int) bool { return s == 401 },
	"forbidden":       func(s int) bool { return s == 403 },
	"request_timeout": func(s int) bool { return s == 408 },
	"unavailable":     func(s int) bool { return s == 503 },
	"request":         func(s int) bool { return s >= 400 },
}

func (r *runner) do(arg any) error {
	m, ok := arg.(map[string]any)
	if !ok {
		return fmt.Errorf("do: expected a mapping")
	}
	m = r.subst(m).(map[string]any)
	catch, _ := m["catch"].(string)
	var headers map[string]any
	var warnings, allowed []string
	var warningsRe, allowedRe []*regexp.Regexp
	api := ""
	var params map[string]any
	for k, v := range m {
		switch k {
		case "catch":
		case "headers":
			headers, _ = v.(map[string]any)
		case "warnings":
			warnings = stringList(v)
		case "allowed_warnings":
			allowed = stringList(v)
		case "warnings_regex", "allowed_warnings_regex":
			for _, s := range stringList(v) {
				re, err := regexp.Compile(s)
				if err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				if k == "warnings_regex" {
					warningsRe = append(warningsRe, re)
				} else {
					allowedRe = append(allowedRe, re)
				}
			}
		case "node_selector":
		default:
			if api != "" {
				return fmt.Errorf("do: two APIs, %s and %s", api, k)
			}
			api = k
			params, _ = v.(map[string]any)
			if params == nil {
				params = map[string]any{}
			}
		}
	}
	spec := r.specs[api]
	if spec == nil {
		return fmt.Errorf("do: no API spec for [%s]", api)
	}
	req, err := spec.build(params)
	if err != nil {
		var pe *paramError
		if errors.As(err, &pe) && catch == "param" {
			return nil
		}
		return err
	}
	if catch == "param" {
		return fmt.Errorf("do %s: expected a client-side parameter error, but the call was built: %s %s", api, req.method, req.path)
	}
	hreq, err := http.NewRequest(req.method, r.base+req.path, bytes.NewReader(req.body))
	if err != nil {
		return err
	}
	if req.body != nil {
		hreq.Header.Set("Content-Type", req.ctype)
	}
	for k, v := range headers {
		hreq.Header.Set(k, fmt.Sprint(v))
	}
	res, err := r.client.Do(hreq)
	if err != nil {
		return fmt.Errorf("do %s: %w", api, err)
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return fmt.Errorf("do %s: reading the response: %w", api, err)
	}
	r.lastStatus, r.lastRaw, r.lastMethod = res.StatusCode, raw, req.method
	switch {
	case req.method == http.MethodHead:
		r.last = res.StatusCode >= 200 && res.StatusCode < 300
	case strings.Contains(res.Header.Get("Content-Type"), "json") && len(bytes.TrimSpace(raw)) > 0:
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("do %s: the response is not JSON: %w: %s", api, err, raw)
		}
		r.last = v
	default:
		r.last = string(raw)
	}
	if err := checkWarnings(res.Header.Values("Warning"), warnings, allowed, warningsRe, allowedRe); err != nil {
		return fmt.Errorf("do %s: %w", api, err)
	}
	what := fmt.Sprintf("%s %s → %d %s", req.method, req.path, res.StatusCode, abbrev(raw))
	if catch != "" {
		if strings.HasPrefix(catch, "/") && strings.HasSuffix(catch, "/") && len(catch) > 1 {
			re, err := compileYAMLRegex(catch)
			if err != nil {
				return err
			}
			if res.StatusCode < 400 || !re.Match(raw) {
				return fmt.Errorf("do %s: expected an error matching %s, got %s", api, catch, what)
			}
			return nil
		}
		ok, known := catches[catch]
		if !known {
			return fmt.Errorf("do %s: unknown catch %q", api, catch)
		}
		if !ok(res.StatusCode) {
			return fmt.Errorf("do %s: expected catch [%s], got %s", api, catch, what)
		}
		return nil
	}
	if res.StatusCode >= 400 && !req.ignore[res.StatusCode] && !(req.method == http.MethodHead && res.StatusCode == 404) {
		return fmt.Errorf("do %s: unexpected error %s", api, what)
	}
	return nil
}

func abbrev(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

func stringList(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// warningText extracts the message of a Warning header:
// 299 Elasticsearch-8.17.0-hash "message" "date".
func warningText(h string) string {
	i := strings.IndexByte(h, '"')
	if i < 0 {
		return h
	}
	var b strings.Builder
	for j := i + 1; j < len(h); j++ {
		switch h[j] {
		case '\\':
			if j+1 < len(h) {
				j++
				b.WriteByte(h[j])
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(h[j])
		}
	}
	return b.String()
}

// checkWarnings: every expected warning must be there; every other one
// must be allowed.
func checkWarnings(headers, expected, allowed []string, expectedRe, allowedRe []*regexp.Regexp) error {
	got := map[string]bool{}
	for _, h := range headers {
		got[warningText(h)] = true
	}
	for _, w := range expected {
		if !got[w] {
			return fmt.Errorf("expected the warning %q, got %v", w, sortedKeys(got))
		}
	}
	for _, re := range expectedRe {
		found := false
		for w := range got {
			found = found || re.MatchString(w)
		}
		if !found {
			return fmt.Errorf("expected a warning matching %s, got %v", re, sortedKeys(got))
		}
	}
outer:
	for w := range got {
		for _, e := range append(append([]string(nil), expected...), allowed...) {
			if e == w {
				continue outer
			}
		}
		for _, re := range append(append([]*regexp.Regexp(nil), expectedRe...), allowedRe...) {
			if re.MatchString(w) {
				continue outer
			}
		}
		return fmt.Errorf("unexpected warning %q", w)
	}
	return nil
}

// ---- values and paths

// subst replaces stashed values: a string "$name" by the value, and
// "${name}" inside strings by its text. Map keys are substituted too.
func (r *runner) subst(v any) any {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "$") && !strings.HasPrefix(x, "${") && x != "$body" {
			if val, ok := r.stash[x[1:]]; ok {
				return val
			}
		}
		if x == "$body" {
			return x
		}
		if strings.Contains(x, "${") {
			return stashRe.ReplaceAllStringFunc(x, func(m string) string {
				name := m[2 : len(m)-1]
				if val, ok := r.stash[name]; ok {
					return textOf(val)
				}
				return m
			})
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[r.substKey(k)] = r.subst(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.subst(e)
		}
		return out
	}
	return v
}

var stashRe = regexp.MustCompile(`\$\{[^}]+\}`)

func (r *runner) substKey(k string) string {
	if s, ok := r.subst(k).(string); ok {
		return s
	}
	return textOf(r.subst(k))
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// lookup returns the value at a path of the last response, with stashed
// values substituted in the path's segments.
func (r *runner) lookup(path string) (any, error) {
	return r.lookupPath(path)
}

func (r *runner) lookupPath(path string) (any, error) {
	if path == "$body" || path == "" {
		if path == "" && r.lastMethod != http.MethodHead {
			return r.last, nil
		}
		return r.last, nil
	}
	v := r.last
	for _, seg := range splitPath(path) {
		if strings.HasPrefix(seg, "$") {
			if val, ok := r.stash[strings.Trim(seg, "${}")]; ok {
				seg = textOf(val)
			}
		}
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, nil
			}
			v = x[i]
		default:
			return nil, nil
		}
	}
	return v, nil
}

// splitPath splits a dotted path; "\." is a literal dot.
func splitPath(p string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p) && p[i+1] == '.':
			cur.WriteByte('.')
			i++
		case p[i] == '.':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(p[i])
		}
	}
	return append(out, cur.String())
}

// compileYAMLRegex compiles a /regex/ of the test format: Java's COMMENTS
// mode, where unescaped whitespace and #-comments outside classes are
// ignored.
func compileYAMLRegex(s string) (*regexp.Regexp, error) {
	s = strings.TrimSpace(s)
	body := s[1 : len(s)-1]
	var b strings.Builder
	inClass := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			next := body[i+1]
			if next == ' ' || next == '#' {
				b.WriteByte(next)
			} else {
				b.WriteByte(c)
				b.WriteByte(next)
			}
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
		case c == '#':
			for i < len(body) && body[i] != '\n' {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return regexp.Compile("(?s)" + b.String())
}

func isRegex(v any) (string, bool) {
	s, ok := v.(string)
	s = strings.TrimSpace(s)
	return s, ok && len(s) > 1 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/")
}

// matchValue checks a match assertion.
func matchValue(path string, actual, expected any) error {
	if re, ok := isRegex(expected); ok {
		rx, err := compileYAMLRegex(re)
		if err != nil {
			return fmt.Errorf("match: bad regex %s: %w", re, err)
		}
		if actual == nil || !rx.MatchString(textOf(actual)) {
			return fmt.Errorf("match: [%s] = %s does not match %s", path, show(actual), re)
		}
		return nil
	}
	if !equalValues(actual, expected) {
		return fmt.Errorf("match: [%s] = %s, want %s", path, show(actual), show(expected))
	}
	return nil
}

// equalValues compares a JSON value with a YAML one: numbers by value,
// maps and lists deeply.
func equalValues(a, b any) bool {
	if fa, ok := toNumber(a); ok {
		if fb, ok := toNumber(b); ok {
			return fa == fb
		}
		return false
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := jsonable(b).(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	if _, ok := toNumber(b); ok {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// toNumber returns a numeric value (JSON numbers and YAML ints/floats), not
// strings.
func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// toFloat also reads numeric strings.
func toFloat(v any) (float64, bool) {
	if f, ok := toNumber(v); ok {
		return f, true
	}
	if s, ok := v.(string); ok {
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	}
	return 0, false
}

func compare(a, b any) (int, bool) {
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if ok1 && ok2 {
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	}
	sa, ok1 := a.(string)
	sb, ok2 := b.(string)
	if ok1 && ok2 {
		return strings.Compare(sa, sb), true
	}
	return 0, false
}

func lengthOf(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case map[string]any:
		return len(x), true
	case string:
		return len(x), true
	}
	return 0, false
}

// truthy is is_true: set, and not "", false, "false" or 0.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	s := textOf(v)
	return s != "" && !strings.EqualFold(s, "false") && s != "0"
}

func containsValue(elem, want any) bool {
	if wm, ok := jsonable(want).(map[string]any); ok {
		em, ok := elem.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range wm {
			if !equalValues(em[k], v) {
				return false
			}
		}
		return true
	}
	return equalValues(elem, want)
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ---- results

type result struct {
	file, test string
	status     string // passed, failed, skipped
	reason     string
	dur        time.Duration
}

func summarize(results []result) string {
	type counts struct{ passed, failed, skipped int }
	per := map[string]*counts{}
	var files []string
	for _, r := range results {
		c := per[r.file]
		if c == nil {
			c = &counts{}
			per[r.file] = c
			files = append(files, r.file)
		}
		switch r.status {
		case "passed":
			c.passed++
		case "failed":
			c.failed++
		default:
			c.skipped++
		}
	}
	sort.Strings(files)
	var b strings.Builder
	var total counts
	fmt.Fprintf(&b, "%-34s %6s %6s %7s\n", "file", "passed", "failed", "skipped")
	for _, f := range files {
		c := per[f]
		total.passed += c.passed
		total.failed += c.failed
		total.skipped += c.skipped
		fmt.Fprintf(&b, "%-34s %6d %6d %7d\n", f, c.passed, c.failed, c.skipped)
	}
	fmt.Fprintf(&b, "%-34s %6d %6d %7d\n", "total", total.passed, total.failed, total.skipped)
	for _, r := range results {
		if r.status != "passed" {
			fmt.Fprintf(&b, "%s %s / %s: %s\n", strings.ToUpper(r.status), r.file, r.test, r.reason)
		}
	}
	return b.String()
}
