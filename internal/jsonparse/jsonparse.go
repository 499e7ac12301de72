// Package jsonparse parses JSON objects straight into event fields, without
// encoding/json and without an intermediate map: nested objects become dotted
// field names ("kubernetes":{"pod":{"name":"x"}} → "kubernetes.pod.name"),
// strings without escapes point into the input, and the common log line
// costs a handful of allocations.
//
// It is the hot path of every JSON-speaking source (HTTP NDJSON, _bulk, HEC),
// so it is written by hand: one pass over the bytes, a pooled scratch state,
// and a slow path only for the rare inputs that need it (duplicate keys, keys
// with dots, an event that already has fields). jsonparse.go holds the API,
// objects and field building; string.go the string scanner and unescaping;
// value.go numbers, literals and the arrays and objects kept as Go values.
//
// # Memory contract
//
// ParseObject does not copy strings that contain no escapes: top-level keys
// and string values are built with unsafe.String and share memory with data
// (nested names like "kubernetes.pod.name" are built once and interned). The
// caller MUST NOT modify data (or reuse its buffer) for as long as the event
// or any copy of its values lives, which in practice means: allocate the
// buffer once per request or read and never return it to a pool. Breaking
// this contract silently changes events that are already queued.
package jsonparse

import (
	"strconv"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// MaxDepth is the deepest nesting of objects and arrays ParseObject accepts;
// the top-level object is depth 1.
const MaxDepth = 64

// SyntaxError describes invalid input. Offset is the byte offset in data
// where the problem was found.
type SyntaxError struct {
	Offset int
	Msg    string
}

// Error returns "cannot parse JSON at offset N: what was wrong".
func (e *SyntaxError) Error() string {
	return "cannot parse JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// ParseObject parses data, which must hold one JSON object, and sets its
// members on ev, flattening nested objects into dotted names. Strings in ev
// may point into data, so the caller must not modify data afterwards.
//
// Values map to event values as follows: strings to strings, numbers
// without fraction or exponent that fit in an int64 to event.Int, other
// numbers to event.Float (numbers that overflow float64 are an error, as in
// encoding/json), true/false to event.Bool, null to event.Null, arrays to
// []any of plain Go values (string, int64, float64, bool, nil, []any, and
// map[string]any for objects inside arrays), and an empty object to an empty
// map[string]any. A top-level "@timestamp" string that parses as RFC 3339
// sets ev.Time instead of a field; otherwise ev.Time is left alone.
//
// Duplicate keys: the last one wins, and a repeated key replaces the whole
// value of the earlier one, objects included, exactly as encoding/json does
// when decoding into map[string]any. When two different paths flatten to the
// same name ({"a.b":1,"a":{"b":2}}) the one later in the input wins. Fields
// already on ev are replaced as Event.Merge does: each top-level member
// removes the field of the same name and every field below it.
//
// Strings are unescaped fully (\uXXXX surrogate pairs included; a lone
// surrogate becomes U+FFFD as in encoding/json). Invalid UTF-8 in string
// values is kept byte for byte (event encoders replace it on output); in keys
// each invalid byte is replaced by U+FFFD, as encoding/json does, because keys
// become field names.
//
// On error ev is left unchanged and the error is a *SyntaxError naming the
// byte offset. Leading and trailing whitespace is allowed; anything else
// after the object is an error. Nesting deeper than MaxDepth is an error.
func ParseObject(ev *event.Event, data []byte) error {
	p := parserPool.Get().(*parser)
	err := p.parse(ev, data)
	p.reset()
	parserPool.Put(p)
	return err
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

// keyPos is a key seen in an object that is being parsed, and the index of
// the first field its value produced.
type keyPos struct {
	key   string
	start int
}

// parser is the scratch state of one ParseObject call. It is pooled; of what
// events may point to, only interned key strings (immutable, owned by no
// one) survive the call.
type parser struct {
	data []byte
	// out collects the new fields. Parsing into a scratch event and cloning
	// it gives the result one exactly sized allocation instead of a slice
	// that grows field by field, and leaves ev untouched on error.
	//
	// Writing the fields straight into ev after ev.Grow(guess) was tried
	// (guessing from the previous object's size, bounded by the ':' count)
	// and measured: it saved about 1% of a parse on uniform lines, within
	// noise, while lines of mixed shapes then cost a second allocation and
	// oversized slices. The allocation, not the copy, is what Clone costs,
	// and an exact count up front would need a second pass over the input.
	out event.Event
	// prefix is the dotted path of the object being parsed, ending in '.'
	// below the top level.
	prefix []byte
	// keys holds the keys of every open object, innermost last, to find
	// duplicates. The top level's keys stay until the end.
	keys []keyPos
	// dead marks fields of out that a later duplicate replaced.
	dead    []bool
	anyDead bool
	// dotted is set when a key contains '.', the only way two different
	// paths can flatten to the same field name.
	dotted bool
	// arena holds the unescaped strings of this call, which events will
	// point to. A fresh chunk is allocated per call, never reused.
	arena []byte
	// keyBuf builds nested names; interned maps them to shared strings.
	// Both survive across calls: interned strings are ordinary heap
	// strings that point into nothing else.
	keyBuf   []byte
	interned map[string]string
	// recent holds the nested names of the previous object in order;
	// nested counts this object's nested names so far.
	recent  []string
	nested  int
	hasTime bool
	time    time.Time
}

func (p *parser) reset() {
	p.data = nil
	p.out.Reset()
	p.prefix = p.prefix[:0]
	clear(p.keys[:cap(p.keys)]) // nested levels left stale entries past len
	p.keys = p.keys[:0]
	p.dead = p.dead[:0]
	p.anyDead = false
	p.dotted = false
	p.arena = nil
	p.nested = 0
	p.hasTime = false
	p.time = time.Time{}
}

func (p *parser) parse(ev *event.Event, data []byte) error {
	p.data = data
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return p.errAt(i, "expected '{' at start of JSON object")
	}
	i, err := p.parseObject(i, 1)
	if err != nil {
		return err
	}
	if i = skipWS(data, i); i < len(data) {
		return p.errAt(i, "unexpected data after the JSON object")
	}
	p.finish(ev)
	return nil
}

// finish moves the parsed fields into ev.
func (p *parser) finish(ev *event.Event) {
	if p.dotted {
		p.dedupFlattened()
	}
	if ev.Len() == 0 && !p.anyDead {
		// The common case: a fresh event and no duplicates.
		t := ev.Time
		if p.out.Len() > 0 {
			*ev = p.out.Clone()
		}
		ev.Time = t
		if p.hasTime {
			ev.Time = p.time
		}
		return
	}
	if ev.Len() > 0 {
		// Merge semantics: a top-level member replaces the field of the same
		// name and everything below it. Remaining fields cannot clash with
		// the new ones, whose names all start with a top-level key.
		for _, k := range p.keys {
			if k.key != event.TimestampField {
				ev.Delete(k.key)
			}
		}
	}
	merge := ev.Len() > 0
	for i, f := range p.out.Fields() {
		switch {
		case p.isDead(i):
		case merge && f.Key == event.TimestampField:
			// The top-level loop above left an old "@timestamp" field.
			ev.SetValue(f.Key, f.Value)
		default:
			ev.AppendField(f.Key, f.Value)
		}
	}
	if p.hasTime {
		ev.Time = p.time
	}
}

// dedupFlattened marks all but the last of the fields that share a name
// because of dotted keys. ECS loggers write dotted keys ("log.level") on
// every line, so small objects are checked without allocating.
func (p *parser) dedupFlattened() {
	fields := p.out.Fields()
	if len(fields) <= 32 {
		for i := range fields {
			if p.isDead(i) {
				continue
			}
			for j := i + 1; j < len(fields); j++ {
				if fields[j].Key == fields[i].Key && !p.isDead(j) {
					p.markDead(i, i+1)
					break
				}
			}
		}
		return
	}
	seen := make(map[string]struct{}, len(fields))
	for i := len(fields) - 1; i >= 0; i-- {
		if p.isDead(i) {
			continue
		}
		if _, dup := seen[fields[i].Key]; dup {
			p.markDead(i, i+1)
			continue
		}
		seen[fields[i].Key] = struct{}{}
	}
}

func (p *parser) isDead(i int) bool { return p.anyDead && i < len(p.dead) && p.dead[i] }

func (p *parser) markDead(from, to int) {
	if from >= to {
		return
	}
	for len(p.dead) < p.out.Len() {
		p.dead = append(p.dead, false)
	}
	for i := from; i < to; i++ {
		p.dead[i] = true
	}
	p.anyDead = true
}

func (p *parser) errAt(i int, msg string) error {
	if i >= len(p.data) {
		return &SyntaxError{Offset: len(p.data), Msg: "unexpected end of input: " + msg}
	}
	return &SyntaxError{Offset: i, Msg: msg}
}

// parseObject parses the object at data[i] == '{' whose members become
// fields under p.prefix. It returns the offset after the closing brace.
func (p *parser) parseObject(i, depth int) (int, error) {
	data := p.data
	levelStart := len(p.keys)
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return i, p.errAt(i, "expected '\"' at start of object key")
		}
		key, j, err := p.parseKey(i)
		if err != nil {
			return j, err
		}
		i = skipWS(data, j)
		if i >= len(data) || data[i] != ':' {
			return i, p.errAt(i, "expected ':' after object key")
		}
		i = skipWS(data, i+1)

		// A repeated key replaces everything its earlier value produced.
		for k := levelStart; k < len(p.keys); k++ {
			if p.keys[k].key == key {
				end := p.out.Len()
				if k+1 < len(p.keys) {
					end = p.keys[k+1].start
				}
				p.markDead(p.keys[k].start, end)
				if depth == 1 && key == event.TimestampField {
					p.hasTime = false
				}
			}
		}
		p.keys = append(p.keys, keyPos{key: key, start: p.out.Len()})

		if i >= len(data) {
			return i, p.errAt(i, "expected value after ':'")
		}
		switch c := data[i]; {
		case c == '"':
			s, j, err := p.parseString(i)
			if err != nil {
				return j, err
			}
			i = j
			if depth == 1 && key == event.TimestampField {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					p.hasTime, p.time = true, t
					break
				}
			}
			p.leaf(key, event.String(s))
		case c == '{':
			if depth >= MaxDepth {
				return i, p.errAt(i, "nesting deeper than "+strconv.Itoa(MaxDepth))
			}
			if j := skipWS(data, i+1); j < len(data) && data[j] == '}' {
				p.leaf(key, event.Any(map[string]any{}))
				i = j + 1
				break
			}
			n := len(p.prefix)
			p.prefix = append(p.prefix, key...)
			p.prefix = append(p.prefix, '.')
			j, err := p.parseObject(i, depth+1)
			p.prefix = p.prefix[:n]
			if err != nil {
				return j, err
			}
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			// Numbers go straight into a Value: through an any they would
			// be boxed twice.
			n, f, isInt, j, err := p.parseNumber(i)
			if err != nil {
				return j, err
			}
			i = j
			if isInt {
				p.leaf(key, event.Int(n))
			} else {
				p.leaf(key, event.Float(f))
			}
		default:
			v, j, err := p.parseValue(i, depth)
			if err != nil {
				return j, err
			}
			i = j
			p.leaf(key, event.Any(v))
		}

		i = skipWS(data, i)
		if i >= len(data) {
			return i, p.errAt(i, "expected ',' or '}' after object member")
		}
		if data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if data[i] == '}' {
			if depth > 1 {
				p.keys = p.keys[:levelStart]
			}
			return i + 1, nil
		}
		return i, p.errAt(i, "expected ',' or '}' after object member")
	}
}

// leaf adds the field prefix+key.
func (p *parser) leaf(key string, v event.Value) {
	if len(p.prefix) > 0 {
		key = p.nestedKey(key)
	}
	p.out.AppendField(key, v)
}

// maxInterned bounds the interned key cache of one parser.
const maxInterned = 2048

// nestedKey returns prefix+key. Nested names repeat from line to line
// ("kubernetes.pod.name"), so they are interned: no allocation, and events
// in queues share one copy of each name. Lines of one stream usually have
// their keys in the same order, so the n-th nested name of the previous
// object is tried first, before the map.
func (p *parser) nestedKey(key string) string {
	n := p.nested
	p.nested++
	if n < len(p.recent) {
		if c := p.recent[n]; len(c) == len(p.prefix)+len(key) && c[len(p.prefix):] == key && c[:len(p.prefix)] == string(p.prefix) {
			return c
		}
	}
	p.keyBuf = append(append(p.keyBuf[:0], p.prefix...), key...)
	s, ok := p.interned[string(p.keyBuf)]
	if !ok {
		s = string(p.keyBuf)
		if p.interned == nil || len(p.interned) >= maxInterned {
			p.interned = make(map[string]string, 64)
		}
		p.interned[s] = s
	}
	switch {
	case n < len(p.recent):
		p.recent[n] = s
	case n < 64:
		p.recent = append(p.recent, s)
	}
	return s
}

// alloc returns n bytes from the call's arena.
func (p *parser) alloc(n int) []byte {
	if cap(p.arena)-len(p.arena) < n {
		if n > 128 {
			return make([]byte, n)
		}
		p.arena = make([]byte, 0, 256)
	}
	l := len(p.arena)
	p.arena = p.arena[:l+n]
	return p.arena[l : l+n : l+n]
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}
