package event

import (
	"sort"
	"strings"
	"time"
)

// TimestampField and MessageField are the ECS names of the two fields every
// event has in practice.
const (
	TimestampField = "@timestamp"
	MessageField   = "message"
	TagsField      = "tags"
)

// Field is one named value of an event. Key is the full dotted path.
type Field struct {
	Key   string
	Value Value
}

// Event is one log record: a timestamp and a flat list of fields.
//
// An Event is a plain value owned by whoever holds the Batch it is in; it is
// not safe for concurrent use. Copying an Event shares its field slice; use
// Clone for an independent copy.
type Event struct {
	// Time is the event's @timestamp.
	Time   time.Time
	fields []Field
}

// New returns an event with the given time and message.
func New(t time.Time, message string) Event {
	return Event{Time: t, fields: []Field{{Key: MessageField, Value: String(message)}}}
}

// NewSized returns an event with time t and no fields whose field slice has
// room for at least n fields, so that n AppendField or SetValue calls do not
// reallocate. Sources that know roughly how many fields they will add use it
// to allocate the slice once, at the right size. n <= 0 allocates nothing.
func NewSized(t time.Time, n int) Event {
	e := Event{Time: t}
	e.Grow(n)
	return e
}

// Grow makes sure the event has room for at least n more fields, so that the
// next n AppendField or SetValue calls do not reallocate. When it has to
// reallocate, the new capacity is exactly the current number of fields plus
// n (not doubled, as append would), so grow once by a good estimate rather
// than by one field at a time. The fields themselves do not change, and
// copies of e made before Grow keep seeing the same fields. n <= 0 does
// nothing.
func (e *Event) Grow(n int) {
	l := len(e.fields)
	if n <= 0 || cap(e.fields)-l >= n {
		return
	}
	f := make([]Field, l, l+n)
	copy(f, e.fields)
	e.fields = f
}

// Fields returns the event's fields in insertion order. The slice is owned by
// the event: callers may read it but must not keep it past the next change.
func (e *Event) Fields() []Field { return e.fields }

// Len returns the number of fields, not counting @timestamp.
func (e *Event) Len() int { return len(e.fields) }

// Reset clears e for reuse, keeping the capacity of its field slice.
func (e *Event) Reset() {
	clear(e.fields)
	e.fields = e.fields[:0]
	e.Time = time.Time{}
}

// Clone returns a deep enough copy of e: a new field slice (values are
// immutable once set, so they are shared).
func (e *Event) Clone() Event {
	c := Event{Time: e.Time}
	if len(e.fields) > 0 {
		c.fields = make([]Field, len(e.fields), len(e.fields)+2)
		copy(c.fields, e.fields)
	}
	return c
}

func (e *Event) index(key string) int {
	for i := range e.fields {
		if e.fields[i].Key == key {
			return i
		}
	}
	return -1
}

// Lookup returns the value of the field with exactly this key.
// It does not build objects from prefixes; see Get for that.
func (e *Event) Lookup(key string) (Value, bool) {
	if i := e.index(key); i >= 0 {
		return e.fields[i].Value, true
	}
	if key == TimestampField && !e.Time.IsZero() {
		return Time(e.Time), true
	}
	return Value{}, false
}

// GetString returns the string value of key. Non-string values are returned
// in their Text form; ok is false when the field is absent.
func (e *Event) GetString(key string) (s string, ok bool) {
	v, ok := e.Lookup(key)
	if !ok {
		return "", false
	}
	if s, isStr := v.Str(); isStr {
		return s, true
	}
	return v.Text(), true
}

// Message returns the message field as text, or "".
func (e *Event) Message() string {
	s, _ := e.GetString(MessageField)
	return s
}

// Get returns the value at path as a plain Go value. A path that names an
// object (a prefix of other fields, like "kubernetes.labels") returns a
// nested map[string]any built on the fly. "@timestamp" returns a time.Time.
func (e *Event) Get(path string) (any, bool) {
	if i := e.index(path); i >= 0 {
		return e.fields[i].Value.Interface(), true
	}
	if path == TimestampField {
		if e.Time.IsZero() {
			return nil, false
		}
		return e.Time, true
	}
	var obj map[string]any
	for i := range e.fields {
		k := e.fields[i].Key
		if len(k) > len(path) && k[len(path)] == '.' && strings.HasPrefix(k, path) {
			if obj == nil {
				obj = make(map[string]any)
			}
			setNested(obj, k[len(path)+1:], e.fields[i].Value.Interface())
		}
	}
	if obj == nil {
		return nil, false
	}
	return obj, true
}

// Has reports whether path names a field or an object.
func (e *Event) Has(path string) bool {
	if path == TimestampField {
		return !e.Time.IsZero()
	}
	for i := range e.fields {
		k := e.fields[i].Key
		if k == path || (len(k) > len(path) && k[len(path)] == '.' && strings.HasPrefix(k, path)) {
			return true
		}
	}
	return false
}

func setNested(m map[string]any, path string, v any) {
	for {
		dot := strings.IndexByte(path, '.')
		if dot < 0 {
			m[path] = v
			return
		}
		head := path[:dot]
		child, ok := m[head].(map[string]any)
		if !ok {
			if _, leaf := m[head]; leaf {
				// A leaf and an object share a name: keep the dotted key.
				m[path] = v
				return
			}
			child = make(map[string]any)
			m[head] = child
		}
		m, path = child, path[dot+1:]
	}
}

// SetValue sets the field key to v, replacing any field with the same key and
// any object below it. It is the fast path for sources: no flattening.
func (e *Event) SetValue(key string, v Value) {
	if key == TimestampField {
		if t, ok := v.v.(time.Time); ok {
			e.Time = t
			return
		}
	}
	if i := e.index(key); i >= 0 {
		e.fields[i].Value = v
		return
	}
	e.deletePrefix(key)
	e.fields = append(e.fields, Field{Key: key, Value: v})
}

// AppendField adds a field without checking for an existing one. Sources use
// it when they build a fresh event whose keys are known to be distinct.
func (e *Event) AppendField(key string, v Value) {
	e.fields = append(e.fields, Field{Key: key, Value: v})
}

// SetString sets key to the string s.
func (e *Event) SetString(key, s string) { e.SetValue(key, String(s)) }

// Set sets path to the Go value x. Objects (map[string]any) are flattened into
// dotted fields below path; "@timestamp" accepts a time.Time, an RFC 3339
// string or epoch milliseconds.
func (e *Event) Set(path string, x any) {
	if path == TimestampField {
		if t, ok := toTime(x); ok {
			e.Time = t
			return
		}
	}
	if m, ok := x.(map[string]any); ok {
		e.Delete(path)
		e.flatten(path, m)
		return
	}
	e.SetValue(path, Any(x))
}

// Merge flattens the object m into the event at the root, as a JSON parser
// into the root does. Existing fields with the same keys are replaced.
func (e *Event) Merge(m map[string]any) {
	for k, v := range m {
		e.Set(k, v)
	}
}

func (e *Event) flatten(prefix string, m map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if child, ok := v.(map[string]any); ok && len(child) > 0 {
			e.flatten(key, child)
			continue
		}
		if key == TimestampField {
			if t, ok := toTime(v); ok {
				e.Time = t
				continue
			}
		}
		e.SetValue(key, Any(v))
	}
}

func toTime(x any) (time.Time, bool) {
	switch t := x.(type) {
	case time.Time:
		return t, true
	case Value:
		if tt, ok := t.v.(time.Time); ok {
			return tt, true
		}
		if s, ok := t.Str(); ok {
			return toTime(s)
		}
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
			if tt, err := time.Parse(layout, t); err == nil {
				return tt, true
			}
		}
	case int64:
		return time.UnixMilli(t), true
	case int:
		return time.UnixMilli(int64(t)), true
	case float64:
		return time.UnixMilli(int64(t)), true
	}
	return time.Time{}, false
}

// Delete removes path and every field below it. It reports whether anything
// was removed.
func (e *Event) Delete(path string) bool {
	if path == TimestampField {
		had := !e.Time.IsZero()
		e.Time = time.Time{}
		return had
	}
	under := func(k string) bool {
		return k == path || (len(k) > len(path) && k[len(path)] == '.' && strings.HasPrefix(k, path))
	}
	// Find the first field to delete before writing anything: most calls
	// delete nothing, and rewriting the slice costs write barriers.
	first := -1
	for i := range e.fields {
		if under(e.fields[i].Key) {
			first = i
			break
		}
	}
	if first < 0 {
		return false
	}
	out := e.fields[:first]
	for _, f := range e.fields[first+1:] {
		if !under(f.Key) {
			out = append(out, f)
		}
	}
	clear(e.fields[len(out):])
	e.fields = out
	return true
}

func (e *Event) deletePrefix(path string) {
	for i := range e.fields {
		k := e.fields[i].Key
		if len(k) > len(path) && k[len(path)] == '.' && strings.HasPrefix(k, path) {
			e.Delete(path)
			return
		}
	}
}

// Rename moves the field or object at from to to. It reports whether from
// existed. An existing field at to is replaced.
func (e *Event) Rename(from, to string) bool {
	if from == to {
		return e.Has(from)
	}
	if from == TimestampField {
		if e.Time.IsZero() {
			return false
		}
		t := e.Time
		e.Time = time.Time{}
		e.SetValue(to, Time(t))
		return true
	}
	var moved []Field
	out := e.fields[:0]
	for _, f := range e.fields {
		k := f.Key
		switch {
		case k == from:
			moved = append(moved, Field{Key: to, Value: f.Value})
		case len(k) > len(from) && k[len(from)] == '.' && strings.HasPrefix(k, from):
			moved = append(moved, Field{Key: to + k[len(from):], Value: f.Value})
		default:
			out = append(out, f)
		}
	}
	clear(e.fields[len(out):])
	e.fields = out
	if len(moved) == 0 {
		return false
	}
	e.Delete(to)
	if to == TimestampField && len(moved) == 1 {
		if t, ok := toTime(moved[0].Value); ok {
			e.Time = t
			return true
		}
	}
	e.fields = append(e.fields, moved...)
	return true
}

// AddTag appends tag to the tags array unless it is already there.
func (e *Event) AddTag(tag string) {
	i := e.index(TagsField)
	if i < 0 {
		e.fields = append(e.fields, Field{Key: TagsField, Value: Value{v: []any{tag}}})
		return
	}
	switch t := e.fields[i].Value.v.(type) {
	case []any:
		for _, x := range t {
			if x == tag {
				return
			}
		}
		// Copy: the array may be shared with a clone.
		n := make([]any, len(t), len(t)+1)
		copy(n, t)
		e.fields[i].Value = Value{v: append(n, tag)}
	case nil:
		s := e.fields[i].Value.s
		if s == tag {
			e.fields[i].Value = Value{v: []any{s}}
			return
		}
		e.fields[i].Value = Value{v: []any{s, tag}}
	default:
		e.fields[i].Value = Value{v: []any{e.fields[i].Value.Interface(), tag}}
	}
}

// HasTag reports whether tags contains tag.
func (e *Event) HasTag(tag string) bool {
	v, ok := e.Lookup(TagsField)
	if !ok {
		return false
	}
	switch t := v.v.(type) {
	case []any:
		for _, x := range t {
			if x == tag {
				return true
			}
		}
	case nil:
		return v.s == tag
	}
	return false
}

// Object returns the event as one nested map, with @timestamp as a time.Time.
// Internal fields are included when internal is true.
func (e *Event) Object(internal bool) map[string]any {
	m := make(map[string]any, len(e.fields)+1)
	if !e.Time.IsZero() {
		m[TimestampField] = e.Time
	}
	for _, f := range e.fields {
		if !internal && IsInternal(f.Key) {
			continue
		}
		setNested(m, f.Key, f.Value.Interface())
	}
	return m
}

// IsInternal reports whether key names internal metadata (a top-level name
// that starts with "_"), which external destinations never receive.
func IsInternal(key string) bool { return len(key) > 0 && key[0] == '_' }

// SortedKeys returns the field keys in sorted order (for stable output in
// tests and tools).
func (e *Event) SortedKeys() []string {
	keys := make([]string, len(e.fields))
	for i, f := range e.fields {
		keys[i] = f.Key
	}
	sort.Strings(keys)
	return keys
}
