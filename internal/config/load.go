package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/expr"
)

// Options changes how a config is loaded.
type Options struct {
	// LookupEnv resolves ${VAR}; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
	// Reserved are addresses the process already listens on (the API), which
	// sources must not take.
	Reserved []component.Address
	// PipelinesOnly accepts a config without sources, routes or
	// destinations (for sluice preview, which only runs a pipeline).
	PipelinesOnly bool
	// Untrusted is for configs sent over the API (preview): ${...}
	// references and functions that read files are refused, so a request
	// cannot read the server's environment or files.
	Untrusted bool
}

// Load reads and validates the config file at path.
func Load(path string, reg *component.Registry, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, reg, opts)
}

type loader struct {
	file string
	reg  *component.Registry
	opts Options
	errs Errors
}

func (l *loader) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Parse validates a config held in memory; file names it in messages.
func Parse(data []byte, file string, reg *component.Registry, opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	l := &loader{file: file, reg: reg, opts: opts}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	cfg := &Config{File: file, Pipelines: map[string]*Pipeline{}, Shutdown: Shutdown{DrainTimeout: Duration(25e9)}}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Msg: "config is empty: it needs at least sources, routes and destinations"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		l.errorf(root, "", "config must be a mapping of sections (sources, routes, pipelines, destinations)")
		return nil, l.errs
	}
	l.interpolate(root, "")
	sections := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "sources", "routes", "pipelines", "destinations", "shutdown", "store":
			if sections[k.Value] != nil {
				l.errorf(k, k.Value, "section appears twice")
			}
			sections[k.Value] = v
		default:
			l.errorf(k, k.Value, "unknown section%s (sections are sources, routes, pipelines, destinations, shutdown, store)", suggest(k.Value, []string{"sources", "routes", "pipelines", "destinations", "shutdown", "store"}))
		}
	}
	if n := sections["shutdown"]; n != nil {
		l.decodeStrict(n, "shutdown", &cfg.Shutdown)
	}
	l.storeSection(sections["store"], cfg)
	l.sources(sections["sources"], cfg)
	l.destinations(sections["destinations"], cfg)
	l.pipelines(sections["pipelines"], cfg)
	l.routes(sections["routes"], cfg)
	l.deadLetters(sections["destinations"], cfg)
	l.ports(cfg)
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
		return nil, l.errs
	}
	return cfg, nil
}

// mapping checks that n is a mapping and returns its key/value pairs.
func (l *loader) mapping(n *yaml.Node, path string) [][2]*yaml.Node {
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, path, "must be a mapping of name: settings")
		return nil
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if seen[k.Value] {
			l.errorf(k, path+"."+k.Value, "defined twice")
			continue
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out
}

// split takes the common keys out of a plugin's mapping node and returns the
// rest as a new mapping node for the plugin's own config.
func (l *loader) split(n *yaml.Node, path string, common map[string]**yaml.Node) *yaml.Node {
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if dst, ok := common[k.Value]; ok {
			*dst = v
			continue
		}
		rest.Content = append(rest.Content, k, v)
	}
	return rest
}

var nameOK = func(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (l *loader) sources(n *yaml.Node, cfg *Config) {
	if n == nil {
		if l.opts.PipelinesOnly {
			return
		}
		l.errorf(nil, "sources", "no sources: add at least one (e.g. sources: {syslog: {type: syslog}})")
		return
	}
	for _, kv := range l.mapping(n, "sources") {
		name, body := kv[0].Value, kv[1]
		path := "sources." + name
		if !nameOK(name) {
			l.errorf(kv[0], path, "names may use letters, digits, '_', '-' and '.'")
		}
		if body.Kind != yaml.MappingNode {
			l.errorf(body, path, "must be a mapping with a type")
			continue
		}
		var typeNode *yaml.Node
		rest := l.split(body, path, map[string]**yaml.Node{"type": &typeNode})
		typ, ok := l.typeOf(typeNode, body, path, "source", l.reg.SourceTypes())
		if !ok {
			continue
		}
		spec, _ := l.reg.Source(typ)
		pc := spec.NewConfig()
		if !l.decodePlugin(rest, path, pc) {
			continue
		}
		cfg.Sources = append(cfg.Sources, &Source{Name: name, Type: typ, Config: pc, Hash: hashOf(typ, nodeText(rest)), Line: kv[0].Line})
	}
	if len(cfg.Sources) == 0 && len(l.errs) == 0 {
		l.errorf(n, "sources", "no sources: add at least one")
	}
}

func (l *loader) destinations(n *yaml.Node, cfg *Config) {
	if n == nil {
		if l.opts.PipelinesOnly {
			return
		}
		l.errorf(nil, "destinations", "no destinations: add at least one (e.g. destinations: {out: {type: stdout}})")
		return
	}
	for _, kv := range l.mapping(n, "destinations") {
		name, body := kv[0].Value, kv[1]
		path := "destinations." + name
		if !nameOK(name) {
			l.errorf(kv[0], path, "names may use letters, digits, '_', '-' and '.'")
		}
		if body.Kind != yaml.MappingNode {
			l.errorf(body, path, "must be a mapping with a type")
			continue
		}
		var typeNode, queueNode, batchNode, retryNode, dlqNode *yaml.Node
		rest := l.split(body, path, map[string]**yaml.Node{"type": &typeNode, "queue": &queueNode, "batch": &batchNode, "retry": &retryNode, "dead_letter": &dlqNode})
		typ, ok := l.typeOf(typeNode, body, path, "destination", l.reg.DestinationTypes())
		if !ok {
			continue
		}
		d := &Destination{Name: name, Type: typ, Queue: defaultQueue(), Batch: defaultBatch(), Retry: defaultRetry(), Line: kv[0].Line}
		if queueNode == nil || l.decodeStrict(queueNode, path+".queue", &d.Queue) {
			if err := d.Queue.validate(); err != nil {
				l.validationError(queueNode, path+".queue", err)
			}
		}
		if batchNode != nil && l.decodeStrict(batchNode, path+".batch", &d.Batch) && d.Batch.MaxEvents <= 0 {
			l.errorf(batchNode, path+".batch.max_events", "must be positive")
		}
		if retryNode != nil && l.decodeStrict(retryNode, path+".retry", &d.Retry) && d.Retry.MaxBackoff < d.Retry.InitialBackoff {
			l.errorf(retryNode, path+".retry", "max_backoff must not be less than initial_backoff")
		}
		if dlqNode != nil && l.decodeStrict(dlqNode, path+".dead_letter", &d.DeadLetter) && d.DeadLetter.Destination == "" {
			l.errorf(dlqNode, path+".dead_letter.destination", "is required")
		}
		spec, _ := l.reg.Destination(typ)
		pc := spec.NewConfig()
		if !l.decodePlugin(rest, path, pc) {
			continue
		}
		d.Config = pc
		d.Hash = hashOf(typ, nodeText(body))
		cfg.Destinations = append(cfg.Destinations, d)
	}
}

func (l *loader) pipelines(n *yaml.Node, cfg *Config) {
	for _, kv := range l.mapping(n, "pipelines") {
		name, body := kv[0].Value, kv[1]
		path := "pipelines." + name
		p := &Pipeline{Name: name, Line: kv[0].Line}
		cfg.Pipelines[name] = p
		if body.Kind == yaml.MappingNode {
			// Also accept {functions: [...]} as Cribl writes it.
			var fns *yaml.Node
			rest := l.split(body, path, map[string]**yaml.Node{"functions": &fns})
			l.checkKeys(rest, path, reflect.TypeOf(struct{}{}))
			body = fns
			if body == nil {
				continue
			}
		}
		if body.Kind != yaml.SequenceNode {
			l.errorf(body, path, "must be a list of functions")
			continue
		}
		for i, fn := range body.Content {
			fpath := fmt.Sprintf("%s[%d]", path, i)
			if fn.Kind != yaml.MappingNode {
				l.errorf(fn, fpath, "must be a mapping with a type")
				continue
			}
			var typeNode, ifNode, descNode, disabledNode *yaml.Node
			rest := l.split(fn, fpath, map[string]**yaml.Node{"type": &typeNode, "if": &ifNode, "description": &descNode, "disabled": &disabledNode})
			typ, ok := l.typeOf(typeNode, fn, fpath, "function", l.reg.FunctionTypes())
			if !ok {
				continue
			}
			if disabledNode != nil && disabledNode.Value == "true" {
				continue
			}
			f := &Function{Type: typ, Line: fn.Line}
			if descNode != nil {
				f.Description = descNode.Value
			}
			if ifNode != nil {
				f.If = ifNode.Value
				prog, err := expr.Compile(f.If)
				if err != nil {
					l.errorf(ifNode, fpath+".if", "%v", err)
				}
				f.Program = prog
			}
			spec, _ := l.reg.Function(typ)
			if spec.ReadsFiles && l.opts.Untrusted {
				l.errorf(typeNode, fpath+".type", "a %s function reads files on the server, so it cannot run from a config sent over the API; use sluice preview, or preview the running config", typ)
				continue
			}
			pc := spec.NewConfig()
			if !l.decodePlugin(rest, fpath, pc) {
				continue
			}
			f.Config = pc
			p.Functions = append(p.Functions, f)
		}
	}
}

type routeYAML struct {
	Name        string `yaml:"name"`
	Filter      string `yaml:"filter"`
	Pipeline    string `yaml:"pipeline"`
	Destination string `yaml:"destination"`
	Output      string `yaml:"output"`
	Final       *bool  `yaml:"final"`
	Description string `yaml:"description"`
	Disabled    bool   `yaml:"disabled"`
}

func (l *loader) routes(n *yaml.Node, cfg *Config) {
	if n == nil {
		if l.opts.PipelinesOnly {
			return
		}
		l.errorf(nil, "routes", "no routes: add one (e.g. routes: [{name: all, destination: out}])")
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "routes", "must be a list of routes, checked top-down")
		return
	}
	names := map[string]bool{}
	for i, rn := range n.Content {
		path := fmt.Sprintf("routes[%d]", i)
		var ry routeYAML
		if !l.decodeStrict(rn, path, &ry) {
			continue
		}
		if ry.Disabled {
			continue
		}
		if ry.Name == "" {
			ry.Name = fmt.Sprintf("route%d", i)
		}
		if names[ry.Name] {
			l.errorf(rn, path+".name", "route name %q is used twice", ry.Name)
		}
		names[ry.Name] = true
		if ry.Destination == "" {
			ry.Destination = ry.Output
		}
		r := &Route{Name: ry.Name, Filter: strings.TrimSpace(ry.Filter), Pipeline: ry.Pipeline, Destination: ry.Destination, Final: ry.Final == nil || *ry.Final, Line: rn.Line}
		if r.Filter != "" && r.Filter != "true" {
			prog, err := expr.Compile(r.Filter)
			if err != nil {
				l.errorf(keyNode(rn, "filter"), path+".filter", "%v", err)
			}
			r.Program = prog
		}
		if r.Pipeline != "" && cfg.Pipelines[r.Pipeline] == nil {
			l.errorf(keyNode(rn, "pipeline"), path+".pipeline", "no pipeline named %q%s", r.Pipeline, suggest(r.Pipeline, mapKeys(cfg.Pipelines)))
		}
		switch {
		case r.Destination == "":
			l.errorf(rn, path, "a route needs a destination")
		case cfg.Destination(r.Destination) == nil:
			var dn []string
			for _, d := range cfg.Destinations {
				dn = append(dn, d.Name)
			}
			l.errorf(keyNode(rn, "destination"), path+".destination", "no destination named %q%s", r.Destination, suggest(r.Destination, dn))
		}
		cfg.Routes = append(cfg.Routes, r)
	}
	if len(cfg.Routes) == 0 && len(l.errs) == 0 {
		l.errorf(n, "routes", "no routes: events would go nowhere")
	}
	catchAll := false
	for _, r := range cfg.Routes {
		catchAll = catchAll || (r.Final && r.Program == nil)
	}
	if len(cfg.Routes) > 0 && !catchAll {
		cfg.Warnings = append(cfg.Warnings, "no route without a filter: events that match no final route are dropped (counted as sluice_events_dropped_total{reason=\"no_route\"}); add a last route with no filter to catch them")
	}
}

// deadLetters checks that dead_letter names another destination that has no
// dead letter destination of its own (so rejects cannot go round in circles).
func (l *loader) deadLetters(n *yaml.Node, cfg *Config) {
	for _, d := range cfg.Destinations {
		name := d.DeadLetter.Destination
		if name == "" {
			continue
		}
		at := keyNode(keyNode(n, d.Name), "dead_letter")
		path := "destinations." + d.Name + ".dead_letter.destination"
		target := cfg.Destination(name)
		switch {
		case name == d.Name:
			l.errorf(at, path, "a destination cannot be its own dead letter destination")
		case target == nil:
			var names []string
			for _, o := range cfg.Destinations {
				names = append(names, o.Name)
			}
			l.errorf(at, path, "no destination named %q%s", name, suggest(name, names))
		case target.DeadLetter.Destination != "":
			l.errorf(at, path, "%q has a dead letter destination of its own; a dead letter destination must not", name)
		}
	}
}

func keyNode(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	}
	return n
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (l *loader) typeOf(typeNode, body *yaml.Node, path, kind string, known []string) (string, bool) {
	if typeNode == nil || typeNode.Value == "" {
		l.errorf(body, path, "missing type (%s types: %s)", kind, strings.Join(known, ", "))
		return "", false
	}
	for _, k := range known {
		if k == typeNode.Value {
			return k, true
		}
	}
	l.errorf(typeNode, path+".type", "unknown %s type %q%s (known: %s)", kind, typeNode.Value, suggest(typeNode.Value, known), strings.Join(known, ", "))
	return "", false
}

// decodePlugin decodes a plugin's own keys into pc and validates it.
func (l *loader) decodePlugin(n *yaml.Node, path string, pc any) bool {
	if !l.decodeStrict(n, path, pc) {
		return false
	}
	if v, ok := pc.(component.Validator); ok {
		if err := v.Validate(); err != nil {
			l.validationError(n, path, err)
			return false
		}
	}
	return true
}

func (l *loader) validationError(n *yaml.Node, path string, err error) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var fe *component.FieldError
		if errors.As(e, &fe) {
			l.errorf(keyNode(n, strings.SplitN(fe.Field, ".", 2)[0]), path+"."+fe.Field, "%v", fe.Err)
			continue
		}
		l.errorf(n, path, "%v", e)
	}
}

// decodeStrict decodes n into out after checking every key is known.
func (l *loader) decodeStrict(n *yaml.Node, path string, out any) bool {
	before := len(l.errs)
	l.checkKeys(n, path, reflect.TypeOf(out))
	if len(l.errs) > before {
		return false
	}
	if err := n.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, m := range te.Errors {
				l.errs = append(l.errs, &Error{File: l.file, Line: lineOf(m, n.Line), Path: path, Msg: cleanYAMLMessage(m)})
			}
		} else {
			l.errorf(n, path, "%s", cleanYAMLMessage(err.Error()))
		}
		return false
	}
	return true
}

func lineOf(msg string, def int) int {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil {
		return line
	}
	return def
}

func cleanYAMLMessage(m string) string {
	m = strings.TrimPrefix(m, "yaml: ")
	if strings.HasPrefix(m, "line ") {
		if i := strings.Index(m, ": "); i >= 0 {
			m = m[i+2:]
		}
	}
	m = strings.ReplaceAll(m, "unmarshal errors:\n", "")
	return strings.TrimSpace(m)
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkKeys reports keys of n that t (a struct, or pointer to one) does not
// have, recursing into nested structs, slices and maps of structs.
func (l *loader) checkKeys(n *yaml.Node, path string, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n == nil || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
				l.errorf(n, path, "must be a mapping")
			}
			return
		}
		fields := map[string]reflect.Type{}
		structKeys(t, fields)
		var names []string
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				l.errorf(k, path+"."+k.Value, "unknown field%s (fields: %s)", suggest(k.Value, names), strings.Join(names, ", "))
				continue
			}
			l.checkKeys(n.Content[i+1], path+"."+k.Value, ft)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				l.checkKeys(c, fmt.Sprintf("%s[%d]", path, i), t.Elem())
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				l.checkKeys(n.Content[i+1], path+"."+n.Content[i].Value, t.Elem())
			}
		}
	}
}

func structKeys(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				structKeys(ft, out)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
}

func nodeText(n *yaml.Node) string {
	b, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Sprint(n.Line)
	}
	return string(b)
}

// suggest returns ` (did you mean "x"?)` for the closest known name.
func suggest(got string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		d := levenshtein(strings.ToLower(got), strings.ToLower(k))
		if p := commonPrefix(got, k); p >= 4 && p >= min(len(got), len(k))-2 {
			d = min(d, 2)
		}
		if d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ports reports two sources (or a source and the API) on one port.
func (l *loader) ports(cfg *Config) {
	type owner struct {
		what string
		addr component.Address
	}
	var taken []owner
	for _, r := range l.opts.Reserved {
		taken = append(taken, owner{"the API listener", r})
	}
	for _, s := range cfg.Sources {
		ls, ok := s.Config.(component.Listener)
		if !ok {
			continue
		}
		for _, a := range ls.Addresses() {
			for _, t := range taken {
				if sameSocket(a, t.addr) {
					l.errs = append(l.errs, &Error{File: l.file, Line: s.Line, Path: "sources." + s.Name,
						Msg: fmt.Sprintf("%s address %s is already used by %s", a.Network, a.Address, t.what)})
				}
			}
			taken = append(taken, owner{"source " + s.Name, a})
		}
	}
}

func sameSocket(a, b component.Address) bool {
	if netFamily(a.Network) != netFamily(b.Network) {
		return false
	}
	ha, pa, err1 := net.SplitHostPort(a.Address)
	hb, pb, err2 := net.SplitHostPort(b.Address)
	if err1 != nil || err2 != nil {
		return a.Address == b.Address
	}
	if pa != pb || pa == "0" {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return wild(ha) || wild(hb) || ha == hb
}

func netFamily(n string) string {
	if strings.HasPrefix(n, "udp") {
		return "udp"
	}
	return "tcp"
}
