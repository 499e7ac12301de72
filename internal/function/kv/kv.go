// Package kv is the "kv" function: parse key=value pairs out of a text
// field, like Logstash's kv filter, and the key/value Parser that the
// logfmt function shares.
//
// Semantics (Logstash's, unless said otherwise):
//
//   - The input is the field `field` (default "message"). A string is
//     parsed; a list parses each of its strings (a key found in several
//     gets a list); a missing field parses nothing (default_keys are still
//     set, as in Logstash); any other value is a failure (Logstash only
//     logs a warning). Text that holds no pairs is not a failure.
//   - Pairs are found as Logstash's scan regexp finds them (see
//     scanLogstash): keys are runs of characters outside field_split and
//     value_split, values are quoted ("…", '…', and (…), […], <…> with
//     include_brackets) or run to the next field_split, and pairs with an
//     empty value are skipped. Quotes are removed; backslash escapes are
//     honoured (an escaped separator does not split) but kept in the text,
//     as Logstash does. field_split, value_split, trim_key and trim_value
//     are sets of ASCII characters; '-' is not a range.
//   - Keys: trim_key is applied, then include_keys / exclude_keys are
//     checked, then prefix is prepended. Keys that trim to nothing are
//     skipped. A key repeated in the input gets a list of its values;
//     with allow_duplicate_values: false a value already in that list is
//     not added again. Values are strings, trimmed by trim_value after the
//     empty check.
//   - Output: with no target each pair is set at the root, replacing a
//     field of the same name (and any object below it) that the event had;
//     pairs do not replace each other ("host=a host.name=b" keeps both,
//     as Logstash, which does not nest dotted names, does). With a target the
//     target field is replaced as a whole by the pairs (Logstash's
//     event.set(target, hash)); when nothing was found and there are no
//     default_keys the event is left alone.
//   - default_keys are set for the keys the input lacks, at the root or
//     below the target, without prefix.
//
// Not implemented from Logstash: field_split_pattern / value_split_pattern
// (regexps), recursive, transform_key / transform_value, remove_char_key /
// remove_char_value, timeout_millis (the scan is linear), and %{field}
// references in include_keys, exclude_keys and prefix.
package kv

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Config is the kv function's configuration.
type Config struct {
	Field                string            `yaml:"field" doc:"Field holding the key=value text (a list of strings is parsed element by element)."`
	Target               string            `yaml:"target" doc:"Field replaced by the pairs; empty sets them at the event's root."`
	FieldSplit           string            `yaml:"field_split" doc:"Characters that separate pairs (a set, like Logstash's; backslash escapes, \\t is a tab)."`
	ValueSplit           string            `yaml:"value_split" doc:"Characters that separate a key from its value (a set)."`
	Whitespace           string            `yaml:"whitespace" doc:"lenient allows spaces around value_split (key = value); strict does not."`
	IncludeBrackets      bool              `yaml:"include_brackets" doc:"Treat (…), […] and <…> as quotes around values, like \"…\" and '…'."`
	TrimKey              string            `yaml:"trim_key" doc:"Characters removed from both ends of keys."`
	TrimValue            string            `yaml:"trim_value" doc:"Characters removed from both ends of values."`
	IncludeKeys          []string          `yaml:"include_keys" doc:"Keep only these keys (as parsed, before prefix); empty keeps all."`
	ExcludeKeys          []string          `yaml:"exclude_keys" doc:"Drop these keys (as parsed, before prefix)."`
	Prefix               string            `yaml:"prefix" doc:"String prepended to every parsed key."`
	AllowDuplicateValues bool              `yaml:"allow_duplicate_values" doc:"A repeated key gets a list of its values; false leaves out values the list already has."`
	DefaultKeys          map[string]string `yaml:"default_keys" doc:"Keys and values set when the input does not have them."`
	TagOnFailure         []string          `yaml:"tag_on_failure" doc:"Tags added when the field holds neither a string nor a list."`

	parser *Parser
}

func newConfig() any {
	return &Config{
		Field:                event.MessageField,
		FieldSplit:           " ",
		ValueSplit:           "=",
		Whitespace:           "lenient",
		IncludeBrackets:      true,
		AllowDuplicateValues: true,
		TagOnFailure:         []string{"_kv_filter_error"},
	}
}

// Validate checks the options and builds the parser.
func (c *Config) Validate() error {
	if err := fnutil.CheckTextField("field", c.Field); err != nil {
		return err
	}
	if err := CheckTarget(c.Target); err != nil {
		return err
	}
	if c.FieldSplit == "" {
		return component.Errorf("field_split", "must not be empty (default \" \")")
	}
	if c.ValueSplit == "" {
		return component.Errorf("value_split", "must not be empty (default \"=\")")
	}
	if c.Whitespace != "lenient" && c.Whitespace != "strict" {
		return component.Errorf("whitespace", "must be lenient or strict, got %q", c.Whitespace)
	}
	if err := fnutil.CheckTags("tag_on_failure", c.TagOnFailure); err != nil {
		return err
	}
	p, err := NewParser(Options{
		Syntax:               Logstash,
		Target:               c.Target,
		Prefix:               c.Prefix,
		FieldSplit:           c.FieldSplit,
		ValueSplit:           c.ValueSplit,
		Strict:               c.Whitespace == "strict",
		IncludeBrackets:      c.IncludeBrackets,
		TrimKey:              c.TrimKey,
		TrimValue:            c.TrimValue,
		IncludeKeys:          c.IncludeKeys,
		ExcludeKeys:          c.ExcludeKeys,
		AllowDuplicateValues: c.AllowDuplicateValues,
		DefaultKeys:          c.DefaultKeys,
	})
	if err != nil {
		return err
	}
	c.parser = p
	return nil
}

// CheckTarget validates a `target` option: empty (the root) or a field
// name other than @timestamp. Errors name the key "target".
func CheckTarget(target string) error {
	if target == "" {
		return nil
	}
	if !fnutil.ValidField(target) {
		return component.Errorf("target", "%q is not a field name (use a dotted name like parsed.kv, or leave it empty for the root)", target)
	}
	if target == event.TimestampField {
		return component.Errorf("target", "@timestamp is the event's time and cannot hold fields")
	}
	return nil
}

type fn struct {
	field  string
	parser *Parser
	fail   *fnutil.Failure
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	v, ok := ev.Lookup(f.field)
	if !ok {
		if ev.Has(f.field) {
			f.fail.Fail(ev) // an object
			return true
		}
		_ = f.parser.Parse(ev, "") // default_keys; never fails
		return true
	}
	if s, isStr := v.Str(); isStr {
		_ = f.parser.Parse(ev, s) // the Logstash syntax never fails
		return true
	}
	if list, isList := v.Interface().([]any); isList {
		_ = f.parser.ParseList(ev, list)
		return true
	}
	f.fail.Fail(ev)
	return true
}

// Spec registers the kv function.
var Spec = component.FunctionSpec{
	Type: "kv",
	Doc: "Parses key=value pairs out of a text field (default message), like Logstash's kv filter: configurable field_split and value_split " +
		"character sets, quoted and bracketed values, trimming, include/exclude lists, a prefix, default keys, and a list for a repeated key. " +
		"Pairs go to the root or replace a target field. A field that is neither a string nor a list is a failure (tag_on_failure, default _kv_filter_error).",
	Example: `- type: kv
  field: message
  target: fw
  field_split: " ,"
  trim_value: "<>"
  exclude_keys: [password]
  default_keys:
    action: unknown`,
	NewConfig: newConfig,
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("kv", cfg)
		if err != nil {
			return nil, err
		}
		if c.parser == nil {
			if err := c.Validate(); err != nil {
				return nil, err
			}
		}
		return &fn{field: c.Field, parser: c.parser, fail: fnutil.NewFailure(env, c.TagOnFailure)}, nil
	},
}
