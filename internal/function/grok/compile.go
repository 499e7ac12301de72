package grok

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/elastic/go-grok/patterns"

	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// library is the built-in pattern library: every pattern set go-grok ships
// (its ECS-compatible port of logstash-patterns-core), merged once. The sets
// have no names in common.
var library = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 512)
	for _, set := range []map[string]string{
		patterns.Default, patterns.AWS, patterns.Bind9, patterns.Bro, patterns.Exim,
		patterns.HAProxy, patterns.Httpd, patterns.Firewalls, patterns.Java,
		patterns.Junos, patterns.Maven, patterns.MCollective, patterns.MongoDB,
		patterns.PostgreSQL, patterns.Rails, patterns.Redis, patterns.Ruby,
		patterns.Squid, patterns.Syslog,
	} {
		maps.Copy(m, set)
	}
	return m
})

// convType is the type a capture is converted to.
type convType uint8

const (
	convString convType = iota
	convInt
	convFloat
)

// types maps the type suffixes of %{NAME:field:type} to conversions: int and
// float as in Logstash, plus the aliases go-grok's patterns use.
var types = map[string]convType{
	"int": convInt, "long": convInt,
	"float": convFloat, "double": convFloat,
	"string": convString,
}

// capture is one capture group of a compiled pattern that becomes a field.
type capture struct {
	group int      // index of the group in the regexp
	name  string   // field name as written (what overwrite lists)
	key   string   // event key: name under the target
	typ   convType // conversion of the captured text
	over  bool     // name is listed in overwrite
}

// program is one compiled grok pattern.
type program struct {
	bt *backtracker
	// anchored and full are the pattern for Go's regexp, which matches the
	// inputs too long for the backtracker's bit set. anchored is the pattern
	// anchored at the start of the text, tried first: the NFA is several
	// times faster when it need not restart the match at every position,
	// and a match at position 0 is exactly the one the unanchored search
	// would find (the leftmost). It is nil when the pattern is anchored.
	anchored *regexp.Regexp
	full     *regexp.Regexp
	ncap     int      // capture slots: 2 per group plus 2 for the whole match
	required []string // literals every match contains
	captures []capture
}

// find returns the submatch indexes of the leftmost match of p in s, or nil.
// buf is used for the result when it has room for ncap slots.
func (p *program) find(s string, buf []int) []int {
	if !mayMatch(p.required, s) {
		return nil
	}
	if len(s) <= p.bt.maxLen {
		if len(buf) < p.ncap {
			buf = make([]int, p.ncap)
		}
		buf = buf[:p.ncap]
		if p.bt.match(s, buf) {
			return buf
		}
		return nil
	}
	if p.anchored != nil {
		if loc := p.anchored.FindStringSubmatchIndex(s); loc != nil {
			return loc
		}
	}
	return p.full.FindStringSubmatchIndex(s)
}

// groupPrefix names the groups the expansion generates; inline named groups
// may not use it.
const groupPrefix = "sluicegrok"

// maxExpanded bounds the size of an expanded pattern, against definitions
// that refer to each other exponentially often.
const maxExpanded = 1 << 20

// spec is a semantic capture found while expanding references.
type spec struct {
	name string
	typ  convType
}

// expander expands %{NAME:field:type} references into a regexp.
type expander struct {
	defs      map[string]string // pattern_definitions, looked up first
	namedOnly bool
	specs     []spec
}

func (x *expander) lookup(name string) (string, bool) {
	if d, ok := x.defs[name]; ok {
		return d, true
	}
	d, ok := library()[name]
	return d, ok
}

// expand returns pat with every reference replaced by a group around the
// expansion of its definition. stack holds the names being expanded, to
// report cycles.
func (x *expander) expand(pat string, stack []string) (string, error) {
	if strings.Contains(pat, groupPrefix) {
		return "", fmt.Errorf("%q is reserved for the names of the groups grok generates%s", groupPrefix, within(stack))
	}
	var b strings.Builder
	for {
		i := strings.Index(pat, "%{")
		if i < 0 {
			b.WriteString(pat)
			break
		}
		b.WriteString(pat[:i])
		r, n, err := parseRef(pat[i:])
		if err != nil {
			return "", err
		}
		pat = pat[i+n:]
		def, ok := x.lookup(r.pattern)
		if !ok {
			return "", fmt.Errorf("unknown pattern %s%s", r.pattern, within(stack))
		}
		if slices.Contains(stack, r.pattern) {
			return "", fmt.Errorf("pattern %s refers to itself (%s → %s)", r.pattern, strings.Join(stack, " → "), r.pattern)
		}
		inner, err := x.expand(def, append(stack, r.pattern))
		if err != nil {
			return "", err
		}
		switch {
		case r.field == "" && x.namedOnly:
			b.WriteString("(?:")
		case r.field == "":
			// Logstash names unnamed references after the pattern when
			// named_captures_only is false.
			b.WriteString("(?P<" + groupPrefix + strconv.Itoa(len(x.specs)) + ">")
			x.specs = append(x.specs, spec{name: r.pattern, typ: r.typ})
		default:
			b.WriteString("(?P<" + groupPrefix + strconv.Itoa(len(x.specs)) + ">")
			x.specs = append(x.specs, spec{name: r.field, typ: r.typ})
		}
		b.WriteString(inner)
		b.WriteByte(')')
		if b.Len() > maxExpanded {
			return "", fmt.Errorf("the expanded pattern is larger than %d bytes; do the definitions refer to each other too often?", maxExpanded)
		}
	}
	return b.String(), nil
}

func within(stack []string) string {
	if len(stack) == 0 {
		return ""
	}
	return " (in " + strings.Join(stack, " → ") + ")"
}

// ref is a parsed %{NAME:field:type} reference.
type ref struct {
	pattern, field string
	typ            convType
}

// parseRef parses the reference at the start of s (which starts with "%{")
// and returns its length. The syntax is Logstash's: NAME is letters, digits
// and _; field may hold letters, digits and _ . - @ [ ]; anything else
// before the closing } is ignored, as Logstash does.
func parseRef(s string) (ref, int, error) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return ref{}, 0, fmt.Errorf("unterminated reference %q: expected %%{NAME}, %%{NAME:field} or %%{NAME:field:type}", s)
	}
	body := s[2:end]
	i := 0
	for i < len(body) && isNameByte(body[i]) {
		i++
	}
	if i == 0 {
		return ref{}, 0, fmt.Errorf("invalid reference %q: expected %%{NAME}, %%{NAME:field} or %%{NAME:field:type}", s[:end+1])
	}
	r := ref{pattern: body[:i]}
	rest := body[i:]
	if rest != "" && rest[0] == ':' {
		j := 1
		for j < len(rest) && isSubnameByte(rest[j]) {
			j++
		}
		sub := rest[1:j]
		rest = rest[j:]
		if sub != "" {
			parts := strings.Split(sub, ":")
			if len(parts) > 2 {
				return ref{}, 0, fmt.Errorf("invalid reference %q: expected %%{NAME:field:type}", s[:end+1])
			}
			field, err := fieldName(parts[0])
			if err != nil {
				return ref{}, 0, fmt.Errorf("reference %q: %w", s[:end+1], err)
			}
			r.field = field
			if len(parts) == 2 {
				t, ok := types[parts[1]]
				if !ok {
					return ref{}, 0, fmt.Errorf("reference %q: unknown type %q (expected int, long, float, double or string)", s[:end+1], parts[1])
				}
				r.typ = t
			}
		}
	}
	if strings.HasPrefix(rest, "=") {
		return ref{}, 0, fmt.Errorf("reference %q: inline definitions (%%{NAME=regexp}) are not supported; use pattern_definitions", s[:end+1])
	}
	return r, end + 1, nil
}

func isNameByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isSubnameByte(c byte) bool {
	return isNameByte(c) || c == ':' || c == '.' || c == '-' || c == '@' || c == '[' || c == ']'
}

// fieldName turns a capture name into an event key: Logstash's bracket
// notation [source][ip] becomes source.ip; dotted names stay as they are.
func fieldName(s string) (string, error) {
	s, ok := fnutil.FieldName(s)
	if !ok {
		return "", fmt.Errorf("invalid field name %q", s)
	}
	if s == "@timestamp" {
		return "", errors.New("cannot capture into @timestamp: capture into a field (timestamp) and parse it with the date function")
	}
	return s, nil
}

// options are the config settings compile needs.
type options struct {
	defs      map[string]string
	namedOnly bool
	target    string
	overwrite []string
}

// compile expands pat and compiles it as Logstash does (Ruby regexps: `.`
// matches newlines and ^ $ match at line boundaries, so the flags are
// (?ms)). Groups that are not named are made non-capturing: they cannot
// become fields, and every capture slot costs time in Go's engine.
func compile(pat string, o options) (*program, error) {
	x := &expander{defs: o.defs, namedOnly: o.namedOnly}
	expanded, err := x.expand(pat, nil)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse("(?ms)"+expanded, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("invalid regexp: %w", err)
	}
	var specs []spec
	var walkErr error
	var walk func(re *syntax.Regexp) *syntax.Regexp
	walk = func(re *syntax.Regexp) *syntax.Regexp {
		if re.Op == syntax.OpCapture {
			switch {
			case re.Name == "":
				return walk(re.Sub[0])
			case strings.HasPrefix(re.Name, groupPrefix):
				// Only expand writes such names (it rejects them in
				// patterns), so they parse.
				id, _ := strconv.Atoi(re.Name[len(groupPrefix):])
				specs = append(specs, x.specs[id])
			default:
				// An inline (?<name>...) group: go-grok's patterns write
				// dots in those names as ___, Go group names being words.
				name, err := fieldName(strings.ReplaceAll(re.Name, "___", "."))
				if err != nil && walkErr == nil {
					walkErr = fmt.Errorf("group (?<%s>): %w", re.Name, err)
				}
				specs = append(specs, spec{name: name})
			}
			// Number the groups kept from 1, as the program's capture
			// slots and the regexp's SubexpNames will.
			re.Cap = len(specs)
			re.Name = "c" + strconv.Itoa(len(specs))
		}
		for i, sub := range re.Sub {
			re.Sub[i] = walk(sub)
		}
		return re
	}
	tree = walk(tree)
	if walkErr != nil {
		return nil, walkErr
	}
	simple := tree.Simplify()
	prog, err := syntax.Compile(simple)
	if err != nil {
		return nil, fmt.Errorf("invalid regexp: %w", err)
	}
	src := tree.String()
	full, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("invalid regexp: %w", err)
	}
	names := full.SubexpNames()
	if len(names) != len(specs)+1 {
		return nil, fmt.Errorf("internal error: %d groups for %d captures", len(names)-1, len(specs))
	}
	p := &program{bt: newBacktracker(prog), full: full, ncap: prog.NumCap, required: required(simple)}
	if p.ncap != 2*len(specs)+2 {
		return nil, fmt.Errorf("internal error: %d capture slots for %d captures", p.ncap, len(specs))
	}
	for i, s := range specs {
		if names[i+1] != "c"+strconv.Itoa(i+1) {
			return nil, fmt.Errorf("internal error: group %d is %q", i+1, names[i+1])
		}
		p.captures = append(p.captures, capture{
			group: i + 1,
			name:  s.name,
			key:   fnutil.Join(o.target, s.name),
			typ:   s.typ,
			over:  slices.Contains(o.overwrite, s.name),
		})
	}
	if !p.bt.anchored {
		if p.anchored, err = regexp.Compile(`\A(?:` + src + `)`); err != nil {
			return nil, fmt.Errorf("invalid regexp: %w", err)
		}
	}
	return p, nil
}
