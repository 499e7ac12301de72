// Package regex is the "regex" function: extract fields from text with the
// named groups of a regular expression, as Cribl Stream's Regex Extract and
// Vector's parse_regex do.
//
// patterns are Go RE2 regular expressions (linear-time matching, no
// look-around or backreferences). Each named group, written (?P<name>...)
// or (?<name>...), becomes a field called name (under target, when set); as
// Go group names are letters, digits and _ only, use target or a rename to
// nest them. Unnamed groups capture nothing. The patterns are tried in
// order against the field and the first that matches wins; a pattern
// matches anywhere in the text unless anchored with ^ or \A. Values are
// strings, substrings of the input (no copy). A group that matched empty
// text sets its field to ""; a group that took no part in the match (in an
// alternative not taken, or an optional group) sets nothing. A field that
// already exists is replaced; when two groups have the same name, the later
// one that took part wins.
//
// When no pattern matches, the event is tagged with tag_on_failure and
// counted as failed. A missing field is not a failure: the event passes
// unchanged. A field that is not a string is matched in its text form (a
// number as written in JSON, say).
package regex

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the regex function's configuration.
type Config struct {
	Field        string   `yaml:"field" doc:"field to match"`
	Patterns     []string `yaml:"patterns" doc:"Go RE2 regular expressions whose named groups (?P<name>...) become fields; the first that matches wins"`
	Target       string   `yaml:"target" doc:"field under which the groups are placed; empty means the event root"`
	TagOnFailure []string `yaml:"tag_on_failure" doc:"tags added when no pattern matches"`

	progs []*program
}

// Validate compiles the patterns.
func (c *Config) Validate() error {
	if c.Field == "" {
		return component.Errorf("field", "must name the field to match (default message)")
	}
	if c.Target != "" && (strings.HasPrefix(c.Target, ".") || strings.HasSuffix(c.Target, ".")) {
		return component.Errorf("target", "%q is not a field name", c.Target)
	}
	if len(c.Patterns) == 0 {
		return component.Errorf("patterns", "regex needs at least one pattern, such as '^(?P<level>\\w+): (?P<text>.*)'")
	}
	c.progs = c.progs[:0]
	for i, pat := range c.Patterns {
		p, err := compile(pat, c.Target)
		if err != nil {
			return component.Errorf("patterns", "pattern %d (%s): %v", i, pat, err)
		}
		c.progs = append(c.progs, p)
	}
	return nil
}

// group is a named group of a pattern.
type group struct {
	index int    // submatch index
	key   string // event key
}

// program is one compiled pattern.
type program struct {
	// anchored is the pattern anchored at the start of the text, tried
	// first: Go's NFA is several times faster when it need not restart the
	// match at every position, and a match at position 0 is exactly the one
	// the unanchored search would find (the leftmost). nil when the pattern
	// is anchored already or Go can tell where a match must start (a literal
	// prefix).
	anchored *regexp.Regexp
	full     *regexp.Regexp
	groups   []group
}

func compile(pat, target string) (*program, error) {
	if pat == "" {
		return nil, fmt.Errorf("the pattern is empty")
	}
	full, err := regexp.Compile(pat)
	if err != nil {
		return nil, err
	}
	p := &program{full: full}
	for i, name := range full.SubexpNames() {
		if name != "" {
			p.groups = append(p.groups, group{index: i, key: fnutil.Join(target, name)})
		}
	}
	if len(p.groups) == 0 {
		return nil, fmt.Errorf("no named groups: write (?P<name>...) for each part to extract")
	}
	if prefix, _ := full.LiteralPrefix(); prefix == "" && !strings.HasPrefix(pat, "^") && !strings.HasPrefix(pat, `\A`) {
		if p.anchored, err = regexp.Compile(`\A(?:` + pat + `)`); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// find returns the submatch indexes of the leftmost match in s, or nil.
func (p *program) find(s string) []int {
	if p.anchored != nil {
		if loc := p.anchored.FindStringSubmatchIndex(s); loc != nil {
			return loc
		}
	}
	return p.full.FindStringSubmatchIndex(s)
}

type fn struct {
	field string
	progs []*program
	fail  *fnutil.Failure
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	s, ok := ev.GetString(f.field) // the text of any value
	if !ok {
		return true
	}
	for _, p := range f.progs {
		loc := p.find(s)
		if loc == nil {
			continue
		}
		ev.Grow(len(p.groups))
		for _, g := range p.groups {
			if start := loc[2*g.index]; start >= 0 {
				ev.SetValue(g.key, event.String(s[start:loc[2*g.index+1]]))
			}
		}
		return true
	}
	f.fail.Fail(ev)
	return true
}

// Spec registers the regex function.
var Spec = component.FunctionSpec{
	Type: "regex",
	Doc: "Extracts the named groups `(?P<name>...)` of Go RE2 regular expressions into fields; the first pattern that matches wins. " +
		"Events no pattern matches are tagged `_regexparsefailure`; a missing field is left alone.",
	Example: `- type: regex
  field: message
  patterns:
    - '^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+)'
    - 'user=(?P<user>\w+)'
  target: parsed
  tag_on_failure: [_regexparsefailure]`,
	NewConfig: func() any {
		return &Config{Field: event.MessageField, TagOnFailure: []string{"_regexparsefailure"}}
	},
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("regex", cfg)
		if err != nil {
			return nil, err
		}
		if len(c.progs) != len(c.Patterns) {
			if err := c.Validate(); err != nil {
				return nil, err
			}
		}
		return &fn{field: c.Field, progs: c.progs, fail: fnutil.NewFailure(env, c.TagOnFailure)}, nil
	},
}
