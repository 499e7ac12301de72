// Package serialize is the "serialize" function: write fields of the event
// into one string field as JSON or logfmt, the reverse of the json and
// logfmt parsers (Cribl Stream's Serialize, Vector's encode_json and
// encode_logfmt).
//
// Semantics:
//
//   - fields lists what to write: a name takes that field and, when it
//     names an object, every field below it ("http" takes http.method and
//     http.status); "@timestamp" takes the event's time. Names that match
//     nothing are skipped. An empty list takes the whole event: its time
//     and every field but internal ones (top-level names starting with
//     "_"), the target's current value included.
//   - format json writes one object with dotted names nested as
//     destinations write events (event.AppendJSON: keys sorted, @timestamp
//     first). format logfmt writes key=value pairs with the full dotted
//     names as keys, in the order of fields (the fields below an object
//     name sorted), or with an empty list @timestamp first and then every
//     field sorted; see logfmt.AppendPair for quoting.
//   - The result replaces the target field (default "message") and
//     anything below it, even when nothing was selected ("{}" or "").
//   - remove_fields deletes the written fields afterwards (never the
//     event's time, which is not a field, nor internal fields with an
//     empty list).
//
// Nothing here can fail, so there is no tag_on_failure.
package serialize

import (
	"slices"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/logfmt"
)

// Config is the serialize function's configuration.
type Config struct {
	Format       string   `yaml:"format" doc:"json or logfmt."`
	Fields       []string `yaml:"fields" doc:"Fields (or objects, or @timestamp) to write, in order; empty writes the whole event except internal fields."`
	Target       string   `yaml:"target" doc:"Field that receives the serialized text (replaced)."`
	RemoveFields bool     `yaml:"remove_fields" doc:"Delete the written fields afterwards (the event's time stays)."`
}

func newConfig() any { return &Config{Format: "json", Target: event.MessageField} }

// Validate checks the options.
func (c *Config) Validate() error {
	if c.Format != "json" && c.Format != "logfmt" {
		return component.Errorf("format", "must be json or logfmt, got %q", c.Format)
	}
	if err := fnutil.CheckTextField("target", c.Target); err != nil {
		return err
	}
	for i, f := range c.Fields {
		if !fnutil.ValidField(f) {
			return component.Errorf("fields", "entry %d: %q is not a field name", i+1, f)
		}
	}
	return nil
}

// scratch is the per-call state, pooled.
type scratch struct {
	buf []byte
	tmp event.Event
	idx []int
}

type fn struct {
	logfmt  bool
	fields  []string
	target  string
	remove  bool
	scratch sync.Pool
}

// covered reports whether key is the field or object entry names.
func covered(entry, key string) bool {
	return key == entry || len(key) > len(entry) && key[len(entry)] == '.' && strings.HasPrefix(key, entry)
}

// selected returns the index of the entry that first selects key, or -1.
func (f *fn) selected(key string) int {
	for i, e := range f.fields {
		if covered(e, key) {
			return i
		}
	}
	return -1
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	sc := f.scratch.Get().(*scratch)
	defer f.put(sc)
	switch {
	case !f.logfmt && len(f.fields) == 0:
		sc.buf = event.AppendJSON(sc.buf[:0], ev, false)
	case !f.logfmt:
		sc.buf = f.appendJSON(sc, ev)
	default:
		sc.buf = f.appendLogfmt(sc, ev)
	}
	out := string(sc.buf)
	if f.remove {
		f.removeFields(ev)
	}
	ev.SetValue(f.target, event.String(out))
	return true
}

func (f *fn) put(sc *scratch) {
	sc.tmp.Reset()
	sc.idx = sc.idx[:0]
	if cap(sc.buf) > 64<<10 {
		sc.buf = nil // do not pin one huge event's buffer
	}
	f.scratch.Put(sc)
}

// appendJSON writes the selected fields through a scratch event, so that
// they nest exactly as a destination would write them.
func (f *fn) appendJSON(sc *scratch, ev *event.Event) []byte {
	tmp := &sc.tmp
	if slices.Contains(f.fields, event.TimestampField) {
		tmp.Time = ev.Time
	}
	for _, fl := range ev.Fields() {
		if f.selected(fl.Key) >= 0 {
			tmp.AppendField(fl.Key, fl.Value)
		}
	}
	return event.AppendJSON(sc.buf[:0], tmp, true)
}

func (f *fn) appendLogfmt(sc *scratch, ev *event.Event) []byte {
	buf := sc.buf[:0]
	fields := ev.Fields()
	pair := func(key string, v event.Value) {
		if len(buf) > 0 {
			buf = append(buf, ' ')
		}
		buf = logfmt.AppendPair(buf, key, v)
	}
	writeTime := func() {
		if !ev.Time.IsZero() {
			if len(buf) > 0 {
				buf = append(buf, ' ')
			}
			// As logfmt.AppendPair writes a time, without boxing it.
			buf = append(buf, event.TimestampField+"="...)
			buf = event.AppendTimestamp(buf, ev.Time)
		}
	}
	if len(f.fields) == 0 {
		writeTime()
		for i, fl := range fields {
			if !event.IsInternal(fl.Key) {
				sc.idx = append(sc.idx, i)
			}
		}
		sortByKey(sc.idx, fields)
		for _, i := range sc.idx {
			pair(fields[i].Key, fields[i].Value)
		}
		return buf
	}
	for n, e := range f.fields {
		if e == event.TimestampField {
			writeTime()
			continue
		}
		sc.idx = sc.idx[:0]
		for i, fl := range fields {
			if f.selected(fl.Key) == n {
				sc.idx = append(sc.idx, i)
			}
		}
		sortByKey(sc.idx, fields)
		for _, i := range sc.idx {
			pair(fields[i].Key, fields[i].Value)
		}
	}
	return buf
}

func sortByKey(idx []int, fields []event.Field) {
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(fields[a].Key, fields[b].Key) })
}

// removeFields deletes what was serialized, before the target is set.
func (f *fn) removeFields(ev *event.Event) {
	if len(f.fields) > 0 {
		for _, e := range f.fields {
			if e != event.TimestampField {
				ev.Delete(e)
			}
		}
		return
	}
	for {
		i := slices.IndexFunc(ev.Fields(), func(fl event.Field) bool { return !event.IsInternal(fl.Key) })
		if i < 0 {
			return
		}
		ev.Delete(ev.Fields()[i].Key)
	}
}

// Spec registers the serialize function.
var Spec = component.FunctionSpec{
	Type: "serialize",
	Doc: "Writes fields (or the whole event but internal fields) as JSON or logfmt into one string field (default message), " +
		"the reverse of the json and logfmt functions; remove_fields deletes what was written.",
	Example: `- type: serialize
  format: logfmt
  fields: ["@timestamp", level, msg, http]
  target: message`,
	NewConfig: newConfig,
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("serialize", cfg)
		if err != nil {
			return nil, err
		}
		f := &fn{logfmt: c.Format == "logfmt", fields: c.Fields, target: c.Target, remove: c.RemoveFields}
		f.scratch.New = func() any { return new(scratch) }
		return f, nil
	},
}
