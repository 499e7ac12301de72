package kv

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Syntax selects the grammar a Parser reads.
type Syntax uint8

const (
	// Logstash is the grammar of Logstash's kv filter: configurable field
	// and value separators, quoted and bracketed values kept raw, pairs
	// found anywhere in free text, empty values skipped.
	Logstash Syntax = iota
	// Logfmt is the logfmt grammar: space-separated key=value pairs,
	// double-quoted values with JSON-style escapes, a bare key meaning
	// true, and malformed input (an unterminated quote, say) rejected.
	Logfmt
)

// Options configures a Parser. The options marked "Logstash syntax only" are
// ignored by the Logfmt syntax.
type Options struct {
	Syntax Syntax
	// Target is where the pairs go: "" sets each key at the event's root;
	// a name replaces that field and everything below it with the pairs.
	Target string
	// Prefix is prepended to every parsed key (not to DefaultKeys).
	Prefix string
	// FieldSplit and ValueSplit are sets of ASCII characters, written as
	// Logstash writes them: each character stands for itself and a
	// backslash escapes the next (\t, \n and \r are control characters).
	// Logstash syntax only; FieldSplit defaults to " ", ValueSplit to "=".
	FieldSplit, ValueSplit string
	// Strict disallows spaces around the value separator (Logstash's
	// whitespace => strict). Logstash syntax only.
	Strict bool
	// IncludeBrackets makes (…), […] and <…> quote values, as "…" and '…'
	// do. Logstash syntax only.
	IncludeBrackets bool
	// TrimKey and TrimValue are character sets (written as FieldSplit)
	// removed from both ends of keys and values. Logstash syntax only.
	TrimKey, TrimValue string
	// IncludeKeys, when not empty, keeps only these keys; ExcludeKeys drops
	// these. Both match the key as parsed (after TrimKey, before Prefix).
	IncludeKeys, ExcludeKeys []string
	// AllowDuplicateValues, when false, does not add a value to a repeated
	// key that already has it. Either way a repeated key gets a list.
	AllowDuplicateValues bool
	// DefaultKeys are set (below Target, without Prefix) when the input
	// does not have them, even when there is no input at all.
	DefaultKeys map[string]string
}

// Parser parses key/value text into event fields. It is safe for concurrent
// use: per-call scratch state is pooled.
type Parser struct {
	syntax   Syntax
	target   string
	keyBase  string // what goes before a parsed key: "target." and prefix
	fs, vs   charSet
	keyStop  charSet // fs ∪ vs
	lenient  bool
	brackets bool
	trimKey  charSet
	trimVal  charSet
	hasTrimK bool
	hasTrimV bool
	include  map[string]struct{}
	exclude  map[string]struct{}
	allowDup bool
	defaults []pair // full key and value, sorted by key
	pool     sync.Pool
}

// pair is one parsed key (full field name) and its value; a repeated key
// collects its values in list.
type pair struct {
	key  string
	val  event.Value
	list []any
}

// scratch is the per-call state of a Parser.
type scratch struct {
	pairs []pair
	// index maps keys to positions in pairs once there are many pairs.
	index map[string]int
	// keys caches full field names by parsed key when a target or prefix
	// makes them differ, so that repeated keys cost no allocation.
	keys map[string]string
	// del collects the fields that pairs replace.
	del []string
	// noCloser marks the quote characters that do not occur in the rest of
	// the input, so that many unclosed quotes do not make the scan
	// quadratic.
	noCloser charSet
}

const (
	// indexFrom is the number of pairs from which lookups use a map.
	indexFrom = 16
	// maxCachedKeys bounds a scratch's key cache; it is cleared when full.
	maxCachedKeys = 1024
)

// NewParser checks o and returns a Parser. Errors name the option's config
// key (field_split, value_split, trim_key, trim_value, default_keys).
func NewParser(o Options) (*Parser, error) {
	p := &Parser{
		syntax:   o.Syntax,
		target:   o.Target,
		keyBase:  o.Prefix,
		lenient:  !o.Strict,
		brackets: o.IncludeBrackets,
		allowDup: o.AllowDuplicateValues,
	}
	if o.Target != "" {
		p.keyBase = o.Target + "." + o.Prefix
	}
	if o.Syntax == Logstash {
		fs, vs := o.FieldSplit, o.ValueSplit
		if fs == "" {
			fs = " "
		}
		if vs == "" {
			vs = "="
		}
		var err error
		if p.fs, err = parseSet("field_split", fs); err != nil {
			return nil, err
		}
		if p.vs, err = parseSet("value_split", vs); err != nil {
			return nil, err
		}
		for c := range p.fs {
			if p.fs[c] && p.vs[c] {
				return nil, component.Errorf("value_split", "character %q is also in field_split; the two sets must not overlap", rune(c))
			}
			p.keyStop[c] = p.fs[c] || p.vs[c]
		}
		if p.trimKey, err = parseSet("trim_key", o.TrimKey); err != nil {
			return nil, err
		}
		if p.trimVal, err = parseSet("trim_value", o.TrimValue); err != nil {
			return nil, err
		}
		p.hasTrimK, p.hasTrimV = o.TrimKey != "", o.TrimValue != ""
	}
	p.include = keySet(o.IncludeKeys)
	p.exclude = keySet(o.ExcludeKeys)
	for k, v := range o.DefaultKeys {
		if !fnutil.ValidField(k) {
			return nil, component.Errorf("default_keys", "%q is not a field name", k)
		}
		key := k
		if o.Target != "" {
			key = o.Target + "." + k
		}
		p.defaults = append(p.defaults, pair{key: key, val: event.String(v)})
	}
	sort.Slice(p.defaults, func(i, j int) bool { return p.defaults[i].key < p.defaults[j].key })
	p.pool.New = func() any { return new(scratch) }
	return p, nil
}

func keySet(keys []string) map[string]struct{} {
	if len(keys) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		m[k] = struct{}{}
	}
	return m
}

// Parse parses s and sets the pairs it holds (and the default keys it
// lacks) on ev. Input without pairs and no default keys leaves ev alone.
// Values are strings that may share memory with s, except a logfmt bare
// key, which is true. Only the Logfmt syntax returns errors (a
// *SyntaxError); ev is then left unchanged.
func (p *Parser) Parse(ev *event.Event, s string) error {
	sc := p.pool.Get().(*scratch)
	defer p.put(sc)
	if err := p.collect(sc, s); err != nil {
		return err
	}
	p.write(ev, sc)
	return nil
}

// ParseList parses every string in list as Parse does, as one input: a key
// found in two elements gets a list. Other elements are skipped (Logstash
// does the same with an array field).
func (p *Parser) ParseList(ev *event.Event, list []any) error {
	sc := p.pool.Get().(*scratch)
	defer p.put(sc)
	for _, x := range list {
		if s, ok := x.(string); ok {
			if err := p.collect(sc, s); err != nil {
				return err
			}
		}
	}
	p.write(ev, sc)
	return nil
}

func (p *Parser) put(sc *scratch) {
	clear(sc.pairs)
	sc.pairs = sc.pairs[:0]
	clear(sc.del)
	sc.del = sc.del[:0]
	if len(sc.index) > maxCachedKeys {
		sc.index = nil
	}
	clear(sc.index)
	p.pool.Put(sc)
}

func (p *Parser) collect(sc *scratch, s string) error {
	if p.syntax == Logfmt {
		return p.scanLogfmt(sc, s)
	}
	p.scanLogstash(sc, s)
	return nil
}

// add records one parsed pair: key filtering, prefixing and duplicates.
func (p *Parser) add(sc *scratch, key string, v event.Value) {
	if p.hasTrimK {
		key = p.trimKey.trim(key)
	}
	if key == "" {
		return
	}
	if p.include != nil {
		if _, ok := p.include[key]; !ok {
			return
		}
	}
	if p.exclude != nil {
		if _, ok := p.exclude[key]; ok {
			return
		}
	}
	key = p.fullKey(sc, key)
	i := sc.find(key)
	if i < 0 {
		sc.pairs = append(sc.pairs, pair{key: key, val: v})
		switch n := len(sc.pairs); {
		case n == indexFrom:
			if sc.index == nil {
				sc.index = make(map[string]int, 2*indexFrom)
			}
			for j, pr := range sc.pairs {
				sc.index[pr.key] = j
			}
		case n > indexFrom:
			sc.index[key] = n - 1
		}
		return
	}
	pr := &sc.pairs[i]
	x := v.Interface()
	if !p.allowDup && (pr.list == nil && pr.val.Interface() == x || pr.list != nil && slices.Contains(pr.list, x)) {
		return
	}
	if pr.list == nil {
		pr.list = []any{pr.val.Interface(), x}
	} else {
		pr.list = append(pr.list, x)
	}
}

func (sc *scratch) find(key string) int {
	if len(sc.pairs) >= indexFrom {
		if i, ok := sc.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range sc.pairs {
		if sc.pairs[i].key == key {
			return i
		}
	}
	return -1
}

// fullKey returns the field name of a parsed key, from the cache when a
// target or prefix makes it differ from the key.
func (p *Parser) fullKey(sc *scratch, key string) string {
	if p.keyBase == "" {
		return key
	}
	if k, ok := sc.keys[key]; ok {
		return k
	}
	full := p.keyBase + key
	if sc.keys == nil || len(sc.keys) >= maxCachedKeys {
		sc.keys = make(map[string]string, 64)
	}
	// The map key is the tail of full, so it does not keep the input alive.
	sc.keys[full[len(p.keyBase):]] = full
	return full
}

// write sets the collected pairs and missing default keys on ev.
func (p *Parser) write(ev *event.Event, sc *scratch) {
	if len(sc.pairs) == 0 && len(p.defaults) == 0 {
		return
	}
	if p.target != "" {
		// Like Logstash's event.set(target, hash): the target is replaced.
		ev.Delete(p.target)
	} else {
		// Like one event.set per pair: a pair replaces the field of its
		// name and any object below it. Finding those in one pass, rather
		// than calling SetValue per pair, keeps a line with many pairs
		// linear.
		sc.del = sc.del[:0]
		for _, f := range ev.Fields() {
			if p.replaces(sc, f.Key) {
				sc.del = append(sc.del, f.Key)
			}
		}
		for _, k := range sc.del {
			ev.Delete(k)
		}
	}
	ev.Grow(len(sc.pairs) + len(p.defaults))
	for i := range sc.pairs {
		pr := &sc.pairs[i]
		if pr.list != nil {
			ev.AppendField(pr.key, event.Any(pr.list))
		} else {
			ev.AppendField(pr.key, pr.val)
		}
	}
	for _, d := range p.defaults {
		if sc.find(d.key) < 0 {
			ev.AppendField(d.key, d.val)
		}
	}
}

// replaces reports whether writing the pairs (or default keys) at the root
// replaces the existing field key: a pair has its name or the name of an
// object above it.
func (p *Parser) replaces(sc *scratch, key string) bool {
	for i := len(key); i > 0; i = strings.LastIndexByte(key[:i], '.') {
		name := key[:i]
		if sc.find(name) >= 0 {
			return true
		}
		for _, d := range p.defaults {
			if d.key == name {
				return true
			}
		}
	}
	return false
}

// charSet is a set of bytes.
type charSet [256]bool

// parseSet reads a character set written as Logstash writes one: each
// character stands for itself and a backslash escapes the next one.
// Ranges (a-z) are not supported: '-' is just a character.
func parseSet(key, spec string) (charSet, error) {
	var s charSet
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c == '\\' && i+1 < len(spec) {
			i++
			switch c = spec[i]; c {
			case 't':
				c = '\t'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			}
		}
		if c >= 0x80 {
			return s, component.Errorf(key, "%q: only ASCII characters are supported", spec)
		}
		s[c] = true
	}
	return s, nil
}

// trim removes the characters of s from both ends of x.
func (s *charSet) trim(x string) string {
	i, j := 0, len(x)
	for i < j && s[x[i]] {
		i++
	}
	for j > i && s[x[j-1]] {
		j--
	}
	return x[i:j]
}
