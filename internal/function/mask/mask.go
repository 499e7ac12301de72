// Package mask is the "mask" function: redact secrets and personal data in
// field values with regex rules, like Cribl Stream's Mask.
//
// Each rule is a built-in preset or a regex (Go RE2 syntax). The rules run in
// order over each string of the listed fields (default message; a name
// covers every field below it, arrays are masked element by element, and
// numbers are masked in their text form, so a card number held as a JSON
// number is caught and becomes a string). Every match is masked in one of two
// ways, chosen by with:
//
//   - text (default): the masked part becomes replace (default "***"), in
//     which $1 and $name refer to the rule's groups, as in regexp.Expand
//     ($$ is a dollar sign). In a config file ${...} is environment
//     interpolation, so write $${1} for the braced form;
//   - sha256: the masked part becomes the hex SHA-256 of itself, or its
//     HMAC-SHA256 keyed by salt when salt is set (use salt: ${MASK_SALT} to
//     keep it out of the config), so that equal values still correlate
//     without being readable.
//
// The masked part is the whole match, or for a regex rule the group chosen
// by group; the rest of the match stays. Presets mask only the secret and
// keep its context ("Authorization: Bearer ***", "password=***"):
//
//   - email: name@domain.tld
//   - credit_card: 13-19 digits, or 4-4-4-4 / 4-6-5 groups split by spaces
//     or dashes, that pass the Luhn check (so order ids are left alone)
//   - ipv4: dotted quads with parts 0-255
//   - bearer_token: the token after "Bearer "
//   - authorization: the credentials of an Authorization header or key,
//     after its scheme (Basic, Bearer, Digest...)
//   - aws_access_key: AKIA.../ASIA... access key ids
//   - kv_secret: the value of key=value, key: value or "key": "value" when
//     the key contains password, passwd, pwd, secret, token, api_key,
//     access_key, private_key or credential (any case)
//   - jwt: JSON Web Tokens (eyJ....eyJ....sig)
//
// Matches of zero length are never masked. When anything was masked in an
// event, add_tag (if set) is added to its tags.
//
// Speed: before running a regex, a rule checks cheaply whether it can match
// at all, either with a literal every match must contain (derived from the
// regex: "@" for email, "bearer" for bearer_token...) or with a hand-written
// scan (a run of 13 digits for credit_card), so a line with nothing to mask
// costs a few substring searches and no allocation.
package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"regexp"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Rule is one masking rule.
type Rule struct {
	// Preset names a built-in rule; Regex is a rule of one's own. One of the
	// two is required.
	Preset string `yaml:"preset" doc:"built-in rule: email, credit_card, ipv4, bearer_token, authorization, aws_access_key, kv_secret or jwt"`
	Regex  string `yaml:"regex" doc:"regex (Go RE2 syntax) of one's own"`
	// Group is the group of Regex to mask (0, the default, is the whole
	// match).
	Group int `yaml:"group" doc:"group of regex to mask; the rest of the match stays"`
	// Replace is the text for the masked part (with: text); nil means
	// "***".
	Replace *string `yaml:"replace" doc:"text for the masked part, $1 and $name refer to groups (default ***)"`
	// With is text (default) or sha256.
	With string `yaml:"with" doc:"text (replace) or sha256 (hex hash, HMAC with salt)"`
}

// Config is the mask function's configuration.
type Config struct {
	Fields []string `yaml:"fields" doc:"fields to mask, each with everything below it"`
	Rules  []Rule   `yaml:"rules" doc:"rules run in order, each {preset: email|credit_card|ipv4|bearer_token|authorization|aws_access_key|kv_secret|jwt} or {regex, group (default 0, the whole match)}, plus with: text (default) or sha256, and replace (default ***; $1 refers to a group)"`
	Salt   string   `yaml:"salt" doc:"key of the HMAC-SHA256 used by rules with sha256 (empty: plain SHA-256); use ${ENV_VAR}"`
	AddTag string   `yaml:"add_tag" doc:"tag added to events in which something was masked"`
	rules  []rule
}

// rule is a compiled Rule.
type rule struct {
	re        *regexp.Regexp
	groups    []int
	check     func(string) bool
	prefilter func(string) bool
	window    *window
	replace   string
	expand    bool // replace holds $ references
	hash      bool
}

// Validate compiles the rules.
func (c *Config) Validate() error {
	if len(c.Fields) == 0 {
		return component.Errorf("fields", "mask needs at least one field (default [message])")
	}
	for i, f := range c.Fields {
		if f == "" {
			return component.Errorf("fields", "entry %d is empty", i)
		}
	}
	if len(c.Rules) == 0 {
		return component.Errorf("rules", "mask needs at least one rule (rules: [{preset: email}, {regex: 'token=(\\w+)', group: 1}])")
	}
	c.rules = c.rules[:0]
	hashing := false
	for i := range c.Rules {
		r, err := compile(&c.Rules[i])
		if err != nil {
			return component.Errorf("rules", "rule %d: %v", i, err)
		}
		hashing = hashing || r.hash
		c.rules = append(c.rules, r)
	}
	if c.Salt != "" && !hashing {
		return component.Errorf("salt", "salt is only used by rules with: sha256, and none has it")
	}
	return nil
}

func compile(r *Rule) (rule, error) {
	var out rule
	switch r.With {
	case "", "text":
		out.replace = "***"
		if r.Replace != nil {
			out.replace = *r.Replace
		}
		out.expand = strings.Contains(out.replace, "$")
	case "sha256":
		if r.Replace != nil {
			return out, fmt.Errorf("replace is for with: text; with: sha256 replaces with the hash")
		}
		out.hash = true
	default:
		return out, fmt.Errorf("with must be text or sha256, not %q", r.With)
	}
	src := r.Regex
	switch {
	case r.Preset != "" && r.Regex != "":
		return out, fmt.Errorf("give either preset or regex, not both")
	case r.Preset != "":
		p, ok := presets[r.Preset]
		if !ok {
			return out, fmt.Errorf("unknown preset %q (presets: %s)", r.Preset, presetNames)
		}
		if r.Group != 0 {
			return out, fmt.Errorf("group is for regex rules; preset %s masks its own part", r.Preset)
		}
		src, out.groups, out.check, out.prefilter, out.window = p.regex, p.groups, p.check, p.prefilter, p.window
	case r.Regex != "":
		out.groups = []int{r.Group}
	default:
		return out, fmt.Errorf("needs a preset (%s) or a regex", presetNames)
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return out, fmt.Errorf("cannot compile regex: %w", err)
	}
	if re.MatchString("") {
		return out, fmt.Errorf("regex %q matches the empty string, so it would mask nothing", src)
	}
	if r.Group < 0 || r.Group > re.NumSubexp() {
		return out, fmt.Errorf("group %d does not exist (the regex has %d)", r.Group, re.NumSubexp())
	}
	out.re = re
	if out.prefilter == nil {
		if ls := requiredLiterals(src); ls != nil {
			out.prefilter = ls.match
		}
	}
	return out, nil
}

type fn struct {
	fields []string
	rules  []rule
	addTag string
	hmacs  *sync.Pool // of hash.Hash keyed by salt; nil without salt
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	masked := false
	fields := ev.Fields()
	for i := range fields {
		key := fields[i].Key
		for _, name := range f.fields {
			if !fnutil.Under(key, name) {
				continue
			}
			if v, changed := f.maskValue(fields[i].Value); changed {
				// The key exists, so SetValue replaces the value in place.
				ev.SetValue(key, v)
				masked = true
			}
			break
		}
	}
	if masked && f.addTag != "" {
		ev.AddTag(f.addTag)
	}
	return true
}

func (f *fn) maskValue(v event.Value) (event.Value, bool) {
	if s, ok := v.Str(); ok {
		out, changed := f.maskString(s)
		return event.String(out), changed
	}
	switch x := v.Interface().(type) {
	case int64, float64:
		out, changed := f.maskString(v.Text())
		return event.String(out), changed
	case []any:
		var out []any
		for i, el := range x {
			var s string
			switch t := el.(type) {
			case string:
				s = t
			case int64, float64:
				s = event.Any(t).Text()
			default:
				continue
			}
			m, changed := f.maskString(s)
			if !changed {
				continue
			}
			if out == nil {
				// Copy: the array may be shared with a clone of the event.
				out = make([]any, len(x))
				copy(out, x)
			}
			out[i] = m
		}
		if out != nil {
			return event.Any(out), true
		}
	}
	return v, false
}

// maskString applies every rule to s in turn.
func (f *fn) maskString(s string) (string, bool) {
	changed := false
	for i := range f.rules {
		if out, ok := f.apply(&f.rules[i], s); ok {
			s, changed = out, true
		}
	}
	return s, changed
}

// apply masks the matches of r in s.
func (f *fn) apply(r *rule, s string) (string, bool) {
	if r.prefilter != nil && !r.prefilter(s) {
		return s, false
	}
	matches := r.find(s)
	if matches == nil {
		return s, false
	}
	var b []byte
	last, done := 0, false
	for _, m := range matches {
		start, end := part(m, r.groups)
		if start == end || (r.check != nil && !r.check(s[start:end])) {
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s)+64)
		}
		b = append(b, s[last:start]...)
		switch {
		case r.hash:
			b = f.appendHash(b, s[start:end])
		case r.expand:
			b = r.re.ExpandString(b, r.replace, s, m)
		default:
			b = append(b, r.replace...)
		}
		last, done = end, true
	}
	if !done {
		return s, false
	}
	b = append(b, s[last:]...)
	return string(b), true
}

// find returns the matches of r in s, as FindAllStringSubmatchIndex does.
func (r *rule) find(s string) [][]int {
	w := r.window
	if w == nil {
		return r.re.FindAllStringSubmatchIndex(s, -1)
	}
	var out [][]int
	// from is where the whole-string search would resume: a match may not
	// start before the end of the previous one.
	from := 0
	for pos := 0; pos < len(s); {
		at := indexFrom(s, pos, w.anchor)
		if at == len(s) {
			break
		}
		start, end := at, at+1
		for start > from && w.left[s[start-1]] {
			start--
		}
		for end < len(s) && w.right[s[end]] {
			end++
		}
		for _, m := range r.re.FindAllStringSubmatchIndex(s[start:end], -1) {
			for i := range m {
				if m[i] >= 0 {
					m[i] += start
				}
			}
			out = append(out, m)
			from = m[1]
		}
		pos = end
	}
	return out
}

// part returns the bounds of the first of groups that took part in match m
// (start == end when none did).
func part(m []int, groups []int) (int, int) {
	for _, g := range groups {
		if m[2*g] >= 0 {
			return m[2*g], m[2*g+1]
		}
	}
	return 0, 0
}

func (f *fn) appendHash(dst []byte, s string) []byte {
	var sum [sha256.Size]byte
	if f.hmacs == nil {
		sum = sha256.Sum256([]byte(s))
	} else {
		h := f.hmacs.Get().(hash.Hash)
		h.Reset()
		h.Write([]byte(s))
		h.Sum(sum[:0])
		f.hmacs.Put(h)
	}
	return hex.AppendEncode(dst, sum[:])
}

// Spec registers the mask function.
var Spec = component.FunctionSpec{
	Type: "mask",
	Doc: "Masks secrets and personal data in fields (default `message`) with regex rules or built-in presets " +
		"(email, credit_card with a Luhn check, ipv4, bearer_token, authorization, aws_access_key, kv_secret, jwt), replacing each match with text (default `***`, `$1` refers to a group) " +
		"or with its SHA-256, keyed by `salt`.",
	Example: `- type: mask
  fields: [message, url.query]
  rules:
    - preset: credit_card
    - preset: kv_secret
    - preset: bearer_token
    - preset: email
      with: sha256
    - regex: 'ssn=(\d{3}-\d{2}-\d{4})'
      group: 1
      replace: XXX-XX-XXXX
  salt: ${MASK_SALT:-change-me}
  add_tag: masked`,
	NewConfig: func() any { return &Config{Fields: []string{event.MessageField}} },
	Build: func(cfg any, _ component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("mask", cfg)
		if err != nil {
			return nil, err
		}
		f := &fn{fields: c.Fields, rules: c.rules, addTag: c.AddTag}
		if c.Salt != "" {
			key := []byte(c.Salt)
			f.hmacs = &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}
		}
		return f, nil
	},
}
