// Package dissect is the "dissect" function: split text into fields at
// fixed delimiters, as Logstash's dissect filter does. It uses no regular
// expressions and copies nothing: values are substrings of the input.
//
// A pattern is a sequence of %{...} fields and the delimiters between them:
// %{ts} %{+ts} %{+ts} %{host} %{} %{prog}[%{pid}]: %{msg}. Reading the
// input from the left, each field takes the text up to the first
// occurrence of the delimiter that follows it, and the last field takes
// the rest; text before the first field must start the input, and text
// after the last field ends it (whatever follows is ignored). Two
// consecutive delimiters give an empty value ("a,,b" with %{x},%{y},%{z}
// makes y ""). Field notations, as in Logstash:
//
//   - %{key} sets key (a later field of the same name wins);
//   - %{} and %{?key} skip the text; %{*key} is Elasticsearch's spelling of
//     %{?key};
//   - %{+key} appends the text to key, joined by the delimiter before the
//     field (a space when there is none) or by append_separator when set;
//     %{+key/2} orders the appends (by number; unnumbered appends come
//     first, in pattern order). A %{key} of the same name is the first
//     part, and so is an existing field when the pattern has no %{key};
//   - %{&key} sets the field named by the value of key (the event's field
//     if it has one, else the pattern's %{key}, %{?key} or %{*key}); an
//     empty name sets nothing: "%{?k}=%{&k}" on "error=refused" sets
//     error: refused;
//   - a -> suffix (%{key->}) skips repeats of the delimiter after the field,
//     for text padded to align columns.
//
// Keys may be dotted (source.ip) or use Logstash's brackets ([source][ip]).
// Fields are set in Logstash's order: normal fields, then appends, then
// indirect fields; values replace existing fields (under target when set).
// convert_datatype turns fields into int (a decimal number, or one with a
// fraction, truncated) or float; a value that cannot be converted stays a
// string and the event is tagged _dataconversionuncoercible_FIELD_TYPE
// (_dataconversionnullvalue_FIELD_TYPE when the field is absent), as in
// Logstash; such events are also counted as failed.
//
// When a delimiter is missing, or the text is empty, dissection fails: the
// event is tagged with tag_on_failure, counted as failed and otherwise left
// unchanged. A missing field is not a failure (Logstash only logs it): the
// event passes unchanged. A value that is not a string is dissected in its
// text form. Two fields with no delimiter between them (%{a}%{b}) are a
// config error, as the first could never hold anything. Where the
// implementation of Logstash's dissect 1.2 has quirks this follows its
// documentation instead: an input that starts with the delimiter after the
// first field gives that field an empty value (Logstash does not skip
// that delimiter, which shifts every later value), and a -> field does not
// fail when its delimiter is not repeated.
package dissect

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the dissect function's configuration.
type Config struct {
	Field           string            `yaml:"field" doc:"field to dissect"`
	Pattern         string            `yaml:"pattern" doc:"the dissection: %{key} fields and the delimiters between them, as in Logstash's mapping (%{?skip}, %{+append/N}, %{&indirect}, %{key->})"`
	Target          string            `yaml:"target" doc:"field under which the keys are placed; empty means the event root"`
	ConvertDatatype map[string]string `yaml:"convert_datatype" doc:"keys to convert after dissection: int or float"`
	AppendSeparator *string           `yaml:"append_separator" doc:"joins %{+key} parts; default: the delimiter before each part (a space when there is none)"`
	TagOnFailure    []string          `yaml:"tag_on_failure" doc:"tags added when the text does not fit the pattern"`

	pat *pattern
}

// Validate parses the pattern.
func (c *Config) Validate() error {
	if c.Field == "" {
		return component.Errorf("field", "must name the field to dissect (default message)")
	}
	if c.Target != "" && (strings.HasPrefix(c.Target, ".") || strings.HasSuffix(c.Target, ".")) {
		return component.Errorf("target", "%q is not a field name", c.Target)
	}
	if c.Pattern == "" {
		return component.Errorf("pattern", "dissect needs a pattern, such as '%%{ts} %%{+ts} %%{+ts} %%{host} %%{prog}[%%{pid}]: %%{msg}'")
	}
	p, err := parsePattern(c.Pattern)
	if err != nil {
		return component.Errorf("pattern", "%v", err)
	}
	hasIndirect := slices.ContainsFunc(p.fields, func(f field) bool { return f.kind == indirect })
	for k, typ := range c.ConvertDatatype {
		if typ != "int" && typ != "float" {
			return component.Errorf("convert_datatype", "%s: unknown type %q (int or float)", k, typ)
		}
		if !p.has(k) && !hasIndirect {
			return component.Errorf("convert_datatype", "%s is not a key of the pattern", k)
		}
	}
	c.pat = p
	return nil
}

// conversion is one convert_datatype entry.
type conversion struct {
	key     string // event key
	toInt   bool
	badType *fnutil.Failure // _dataconversionuncoercible_...
	missing *fnutil.Failure // _dataconversionnullvalue_...
}

type fn struct {
	field string
	pat   *pattern
	// normals are the indexes of the %{key} fields to set, the last of each
	// name only; appends are the %{+key} fields in append order; indirects
	// the %{&key} fields.
	normals, appends, indirects []int
	keys                        []string // event key of each field
	// distinct is set when no key of normals is below another (a.b and a),
	// so that when the event holds none of them (nor anything below them)
	// they can be appended without looking for each.
	distinct    bool
	sep         *string
	target      string
	conversions []conversion
	fail        *fnutil.Failure
}

func newFn(c *Config, env component.Env) *fn {
	f := &fn{field: c.Field, pat: c.pat, sep: c.AppendSeparator, target: c.Target, fail: fnutil.NewFailure(env, c.TagOnFailure)}
	for i, fd := range c.pat.fields {
		f.keys = append(f.keys, fnutil.Join(c.Target, fd.name))
		switch fd.kind {
		case normal:
			if !slices.ContainsFunc(c.pat.fields[i+1:], func(g field) bool { return g.kind == normal && g.name == fd.name }) {
				f.normals = append(f.normals, i)
			}
		case appended:
			f.appends = append(f.appends, i)
		case indirect:
			f.indirects = append(f.indirects, i)
		}
	}
	f.distinct = true
	for _, i := range f.normals {
		for _, j := range f.normals {
			if i != j && fnutil.Under(f.keys[i], f.keys[j]) {
				f.distinct = false
			}
		}
	}
	slices.SortStableFunc(f.appends, func(a, b int) int { return cmp.Compare(c.pat.fields[a].order, c.pat.fields[b].order) })
	for _, k := range slices.Sorted(maps.Keys(c.ConvertDatatype)) {
		typ := c.ConvertDatatype[k]
		f.conversions = append(f.conversions, conversion{
			key:     fnutil.Join(c.Target, k),
			toInt:   typ == "int",
			badType: fnutil.NewFailure(env, []string{"_dataconversionuncoercible_" + k + "_" + typ}),
			missing: fnutil.NewFailure(env, []string{"_dataconversionnullvalue_" + k + "_" + typ}),
		})
	}
	return f
}

// stackFields is how many fields a pattern may have for the match to keep
// its positions on the stack.
const stackFields = 32

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	s, ok := ev.GetString(f.field) // the text of any value
	if !ok {
		return true
	}
	var buf [stackFields]span
	spans := buf[:]
	if len(f.pat.fields) > stackFields {
		spans = make([]span, len(f.pat.fields))
	}
	if !f.pat.match(s, spans) {
		f.fail.Fail(ev)
		return true
	}
	fresh := f.distinct && !f.holdsKey(ev)
	ev.Grow(len(f.normals) + len(f.appends) + len(f.indirects))
	for _, i := range f.normals {
		if fresh {
			ev.AppendField(f.keys[i], event.String(s[spans[i].start:spans[i].end]))
		} else {
			ev.SetValue(f.keys[i], event.String(s[spans[i].start:spans[i].end]))
		}
	}
	for _, i := range f.appends {
		val := s[spans[i].start:spans[i].end]
		if old, ok := ev.Lookup(f.keys[i]); ok {
			val = old.Text() + f.separator(i) + val
		}
		ev.SetValue(f.keys[i], event.String(val))
	}
	for _, i := range f.indirects {
		name := f.indirectName(ev, s, spans, i)
		if name == "" {
			continue
		}
		ev.SetValue(fnutil.Join(f.target, name), event.String(s[spans[i].start:spans[i].end]))
	}
	for i := range f.conversions {
		f.conversions[i].apply(ev)
	}
	return true
}

// holdsKey reports whether ev has a field named like one of the normal
// fields, or below one.
func (f *fn) holdsKey(ev *event.Event) bool {
	for _, fd := range ev.Fields() {
		for _, i := range f.normals {
			if fnutil.Under(fd.Key, f.keys[i]) {
				return true
			}
		}
	}
	return false
}

// separator returns what joins the appended field i to what comes before.
func (f *fn) separator(i int) string {
	if f.sep != nil {
		return *f.sep
	}
	if p := f.pat.fields[i].prev; p != "" {
		return p
	}
	return " "
}

// indirectName returns the name the %{&key} field i sets: the value of key
// in the event, else that of the first other field of the pattern called
// key.
func (f *fn) indirectName(ev *event.Event, s string, spans []span, i int) string {
	key := f.pat.fields[i].name
	if v, ok := ev.Lookup(f.keys[i]); ok {
		return v.Text()
	}
	for j, g := range f.pat.fields {
		if j != i && g.name == key {
			return s[spans[j].start:spans[j].end]
		}
	}
	return ""
}

// apply converts the field, or tags the event when it cannot.
func (c *conversion) apply(ev *event.Event) {
	v, ok := ev.Lookup(c.key)
	if !ok || v.IsNull() {
		c.missing.Fail(ev)
		return
	}
	s := strings.TrimSpace(v.Text())
	if c.toInt {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			ev.SetValue(c.key, event.Int(i))
			return
		}
		if x, err := strconv.ParseFloat(s, 64); err == nil && x >= math.MinInt64 && x < math.MaxInt64 {
			ev.SetValue(c.key, event.Int(int64(x)))
			return
		}
	} else if x, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
		ev.SetValue(c.key, event.Float(x))
		return
	}
	c.badType.Fail(ev)
}

// Spec registers the dissect function.
var Spec = component.FunctionSpec{
	Type: "dissect",
	Doc: "Splits a field at fixed delimiters, as Logstash's dissect filter does: `%{key}` fields and the text between them " +
		"(`%{?skip}`, `%{+append/N}`, `%{&indirect}`, `%{key->}` for padding); no regexps, no copies. " +
		"Text that does not fit is tagged `_dissectfailure`.",
	Example: `- type: dissect
  field: message
  pattern: '%{timestamp} %{+timestamp} %{+timestamp} %{host.name} %{process.name}[%{process.pid}]: %{message}'
  convert_datatype:
    process.pid: int
  tag_on_failure: [_dissectfailure]`,
	NewConfig: func() any {
		return &Config{Field: event.MessageField, TagOnFailure: []string{"_dissectfailure"}}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("dissect", cfg)
		if err != nil {
			return nil, err
		}
		if c.pat == nil {
			if err := c.Validate(); err != nil {
				return nil, err
			}
		}
		return newFn(c, env), nil
	},
}
