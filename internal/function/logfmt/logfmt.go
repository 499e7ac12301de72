// Package logfmt is the "logfmt" function: parse a logfmt line (key=value
// pairs as Heroku, Go's slog.TextHandler and many Go services write them)
// into event fields, with the key/value Parser of the kv package; and the
// logfmt encoder that the serialize function uses.
//
// Rules (those of go-logfmt, Vector's parse_logfmt and Grafana's logfmt
// parser, with the differences noted): pairs are separated by whitespace;
// a key is a run of bytes above ' ' other than '=' and '"'; "key=value"
// runs to the next whitespace and may contain '=' and '"' (go-logfmt
// rejects those, but URLs with query strings are common in real logs);
// "key=\"…\"" is a double-quoted string with JSON escapes (\" \\ \n \t
// \uXXXX…); "key=" is the empty string; a bare "key" is true. Values are
// otherwise strings: numbers are not converted. A repeated key gets a list
// of its values, as in the kv function.
//
// Malformed input is a failure (tag_on_failure, default
// _logfmtparsefailure) and leaves the event unchanged apart from the tags:
// an unterminated or badly escaped quoted value, anything but whitespace
// right after a closing quote, a quote in a key, or '=' with no key before
// it. A missing field is not a failure; a field that is not a string is.
// Pairs go to the event's root (replacing fields of the same name) or
// replace the target field as a whole.
package logfmt

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/function/kv"
)

// Config is the logfmt function's configuration.
type Config struct {
	Field        string   `yaml:"field" doc:"Field holding the logfmt text."`
	Target       string   `yaml:"target" doc:"Field replaced by the parsed pairs; empty sets them at the event's root."`
	TagOnFailure []string `yaml:"tag_on_failure" doc:"Tags added when the text is not valid logfmt or the field is not a string."`

	parser *kv.Parser
}

func newConfig() any {
	return &Config{Field: event.MessageField, TagOnFailure: []string{"_logfmtparsefailure"}}
}

// Validate checks the options and builds the parser.
func (c *Config) Validate() error {
	if err := fnutil.CheckTextField("field", c.Field); err != nil {
		return err
	}
	if err := kv.CheckTarget(c.Target); err != nil {
		return err
	}
	if err := fnutil.CheckTags("tag_on_failure", c.TagOnFailure); err != nil {
		return err
	}
	p, err := kv.NewParser(kv.Options{Syntax: kv.Logfmt, Target: c.Target, AllowDuplicateValues: true})
	if err != nil {
		return err
	}
	c.parser = p
	return nil
}

type fn struct {
	field  string
	parser *kv.Parser
	fail   *fnutil.Failure
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	if s, ok := fnutil.Input(ev, f.field, f.fail); ok && f.parser.Parse(ev, s) != nil {
		f.fail.Fail(ev)
	}
	return true
}

// Spec registers the logfmt function.
var Spec = component.FunctionSpec{
	Type: "logfmt",
	Doc: "Parses a logfmt line (level=info msg=\"request done\" status=200) from a field (default message) into fields at the root or below a target: " +
		"quoted values with escapes, a bare key is true, a repeated key gives a list, values stay strings. " +
		"Malformed input (an unterminated quote, say) is a failure (tag_on_failure, default _logfmtparsefailure).",
	Example: `- type: logfmt
  field: message
  target: app`,
	NewConfig: newConfig,
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("logfmt", cfg)
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
