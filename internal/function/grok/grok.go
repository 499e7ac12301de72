// Package grok is the "grok" function: parse text into fields with named
// regular expressions, as Logstash's grok filter does.
//
// A pattern is a regular expression in Go's RE2 syntax in which
// %{NAME:field} stands for the library pattern NAME captured into field.
// %{NAME} matches without capturing (unless named_captures_only is false,
// when it captures into a field called NAME), and %{NAME:field:int} or
// :float converts the capture (long and double are aliases, as go-grok
// accepts). Conversions are Ruby's to_i and to_f, as in Logstash: the
// numeric prefix of the text, 0 when there is none. Field names may be
// dotted (%{IP:source.ip}) or use Logstash's brackets ([source][ip]); inline
// groups (?<name>...) capture too, with ___ in the name standing for a dot
// (go-grok's convention, since Go group names are words). As in Logstash,
// text after the field and type, up to the }, is ignored; a type other
// than int, long, float, double or string (which Logstash would ignore) is
// a config error.
//
// The library is go-grok's (github.com/elastic/go-grok), Elastic's
// ECS-compatible port of logstash-patterns-core: COMBINEDAPACHELOG yields
// source.address, http.request.method, http.response.status_code (an int)
// and so on. pattern_definitions adds patterns or replaces library ones.
// Like Logstash (whose regexps are Ruby's), `.` matches newlines and ^ and
// $ match at line boundaries; use \A and \z for the ends of the text. Go's
// \w, \d, \b and \s are ASCII-only where Ruby's are Unicode, and Go has no
// look-around, atomic groups or possessive quantifiers, so Logstash
// patterns that use them must be rewritten. Matching runs in time linear in
// the input (a bit-state backtracker that never explores a state twice, for
// inputs up to a few thousand bytes, and Go's regexp NFA beyond; both find
// the same match), so there is no timeout setting: no pattern can backtrack
// catastrophically.
//
// patterns are tried in order against the field and, with break_on_match
// (the default), the first that matches wins; with break_on_match false
// every pattern is tried and the captures of all that match are kept. A
// pattern matches anywhere in the text unless anchored. When no pattern
// matches, the event is tagged with tag_on_failure and counted as failed.
// A missing field is matched as the empty string, as in Logstash, so it
// fails unless a pattern matches empty text. A field holding an array is
// matched element by element (each may match); other non-string values are
// matched in their text form.
//
// Captures follow Logstash's rules. Captures that did not take part in the
// match and empty captures are skipped unless keep_empty_captures is set
// (then they are null and "" respectively). A capture whose field is listed
// in overwrite replaces the field. Otherwise an absent (or null) field is
// set; a field holding a string becomes an array of the old and new values,
// and an array gets the new value appended: so %{GREEDYDATA:message} on the
// message field, without overwrite: [message], makes message an array of
// both texts. A field holding anything else (a number, an object) is left
// as it is. overwrite names fields as captured, before target is applied.
package grok

import (
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the grok function's configuration.
type Config struct {
	Field              string            `yaml:"field" doc:"field to parse"`
	Patterns           []string          `yaml:"patterns" doc:"grok patterns (%{NAME:field} or %{NAME:field:int|float}), tried in order"`
	PatternDefinitions map[string]string `yaml:"pattern_definitions" doc:"custom patterns by name, which may refer to others with %{NAME}; they replace library patterns of the same name"`
	BreakOnMatch       bool              `yaml:"break_on_match" doc:"stop at the first pattern that matches; false tries every pattern and keeps all their captures"`
	NamedCapturesOnly  bool              `yaml:"named_captures_only" doc:"only %{NAME:field} captures; false also captures %{NAME} into a field called NAME"`
	KeepEmptyCaptures  bool              `yaml:"keep_empty_captures" doc:"keep empty captures as \"\" and unmatched groups as null instead of skipping them"`
	Overwrite          []string          `yaml:"overwrite" doc:"captured fields that replace an existing value; other existing fields become arrays of old and new values"`
	Target             string            `yaml:"target" doc:"field under which captures are placed; empty means the event root"`
	TagOnFailure       []string          `yaml:"tag_on_failure" doc:"tags added when no pattern matches"`

	progs []*program
}

// Validate compiles the patterns.
func (c *Config) Validate() error {
	if c.Field == "" {
		return component.Errorf("field", "must name the field to parse (default message)")
	}
	if c.Target != "" && (strings.HasPrefix(c.Target, ".") || strings.HasSuffix(c.Target, ".")) {
		return component.Errorf("target", "%q is not a field name", c.Target)
	}
	for name, def := range c.PatternDefinitions {
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return r >= 0x80 || !isNameByte(byte(r)) }) >= 0 {
			return component.Errorf("pattern_definitions", "pattern name %q must be letters, digits and _", name)
		}
		if def == "" {
			return component.Errorf("pattern_definitions", "pattern %s is empty", name)
		}
	}
	for i, o := range c.Overwrite {
		if o == "" {
			return component.Errorf("overwrite", "entry %d is empty; give a captured field name such as message", i)
		}
	}
	if len(c.Patterns) == 0 {
		return component.Errorf("patterns", "grok needs at least one pattern, such as %%{COMBINEDAPACHELOG}")
	}
	o := options{defs: c.PatternDefinitions, namedOnly: c.NamedCapturesOnly, target: c.Target, overwrite: c.Overwrite}
	c.progs = c.progs[:0]
	for i, pat := range c.Patterns {
		if pat == "" {
			return component.Errorf("patterns", "pattern %d is empty", i)
		}
		p, err := compile(pat, o)
		if err != nil {
			return component.Errorf("patterns", "pattern %d (%s): %v", i, pat, err)
		}
		c.progs = append(c.progs, p)
	}
	return nil
}

type fn struct {
	field        string
	progs        []*program
	breakOnMatch bool
	keepEmpty    bool
	fail         *fnutil.Failure
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	var matched bool
	v, _ := ev.Lookup(f.field)
	if s, ok := v.Str(); ok {
		matched = f.match(ev, s)
	} else if arr, ok := v.Interface().([]any); ok {
		for _, x := range arr {
			if f.match(ev, event.Any(x).Text()) {
				matched = true
			}
		}
	} else {
		matched = f.match(ev, v.Text())
	}
	if !matched {
		f.fail.Fail(ev)
	}
	return true
}

// match applies the patterns to s and stores the captures of those that
// match; it reports whether one did.
func (f *fn) match(ev *event.Event, s string) bool {
	matched := false
	var buf [64]int
	for _, p := range f.progs {
		loc := p.find(s, buf[:])
		if loc == nil {
			continue
		}
		matched = true
		ev.Grow(len(p.captures))
		for i := range p.captures {
			c := &p.captures[i]
			start, end := loc[2*c.group], loc[2*c.group+1]
			var val event.Value
			switch {
			case start < 0:
				if !f.keepEmpty {
					continue
				}
				val = event.Null
			case start == end && !f.keepEmpty:
				continue
			case c.typ != convString:
				val = convert(s[start:end], c.typ)
			default:
				val = event.String(s[start:end])
			}
			store(ev, c, val)
		}
		if f.breakOnMatch {
			break
		}
	}
	return matched
}

// store sets a capture's field as Logstash's grok does (see the package
// documentation).
func store(ev *event.Event, c *capture, v event.Value) {
	if c.over {
		ev.SetValue(c.key, v)
		return
	}
	fields := ev.Fields()
	idx, object := -1, false
	for i := range fields {
		k := fields[i].Key
		if k == c.key {
			idx = i
			break
		}
		if len(k) > len(c.key) && k[len(c.key)] == '.' && k[:len(c.key)] == c.key {
			object = true
		}
	}
	if idx < 0 {
		if !object {
			ev.AppendField(c.key, v)
		}
		return
	}
	old := fields[idx].Value
	if old.IsNull() {
		ev.SetValue(c.key, v)
		return
	}
	if s, ok := old.Str(); ok {
		ev.SetValue(c.key, event.Any([]any{s, v.Interface()}))
		return
	}
	if arr, ok := old.Interface().([]any); ok {
		// A new array: the old one may be shared with a clone.
		n := make([]any, len(arr), len(arr)+1)
		copy(n, arr)
		ev.SetValue(c.key, event.Any(append(n, v.Interface())))
	}
}

// Spec registers the grok function.
var Spec = component.FunctionSpec{
	Type: "grok",
	Doc: "Parses a field with grok patterns, as Logstash's grok filter does: `%{NAME:field}` captures the library pattern NAME " +
		"(go-grok's ECS-compatible port of the Logstash patterns: COMBINEDAPACHELOG, SYSLOGLINE, ...) into field, and " +
		"`%{NAME:field:int}` or `:float` converts it; the first pattern that matches wins. Events no pattern matches are tagged " +
		"`_grokparsefailure`. Regexps are Go's RE2 (linear time, so no timeout is needed); `.` matches newlines and `^` `$` lines, as in Logstash.",
	Example: `- type: grok
  field: message
  patterns:
    - '%{COMBINEDAPACHELOG}'
    - '^%{APP_TIME:timestamp} %{LOGLEVEL:log.level} \[%{DATA:service.name}\] %{GREEDYDATA:message}'
  pattern_definitions:
    APP_TIME: '%{TIMESTAMP_ISO8601}'
  overwrite: [message]
  tag_on_failure: [_grokparsefailure, unparsed_access_log]`,
	NewConfig: func() any {
		return &Config{
			Field:             event.MessageField,
			BreakOnMatch:      true,
			NamedCapturesOnly: true,
			TagOnFailure:      []string{"_grokparsefailure"},
		}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("grok", cfg)
		if err != nil {
			return nil, err
		}
		if len(c.progs) != len(c.Patterns) {
			if err := c.Validate(); err != nil {
				return nil, err
			}
		}
		return &fn{
			field:        c.Field,
			progs:        c.progs,
			breakOnMatch: c.BreakOnMatch,
			keepEmpty:    c.KeepEmptyCaptures,
			fail:         fnutil.NewFailure(env, c.TagOnFailure),
		}, nil
	},
}
