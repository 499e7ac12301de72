// Package docker is the "docker" function: parse the lines of Docker's
// json-file logs (/var/lib/docker/containers/*/*-json.log),
// {"log":"text\n","stream":"stdout","time":"<RFC 3339>"}, and join the lines
// Docker cut at 16KiB.
//
// A line sets, under target: message (log without its final "\n", or
// "\r\n"), stream ("stdout" or "stderr", as Filebeat's container input
// names it), docker.attrs.<name> for each attribute Docker added (--log-opt
// labels, env, tag; Filebeat's names) and the time, which becomes the
// event's @timestamp when target is empty and the time field
// <target>.@timestamp otherwise. Parse is exported for sources that read
// these files.
//
// Joining (join_partial, on by default): Docker writes a log line longer
// than 16KiB as several JSON lines, all but the last without the final
// newline. The lines of one message are those of one log (the key template,
// log.file.path by default) and one stream. A line without the newline is
// held and its event dropped; the line with the newline passes on as one
// event: the event of the message's first line (its fields, attributes and
// @timestamp) with message set to the text of all its lines. The bounds are
// the cri function's (max_bytes, max_pending, flush_timeout; see package
// cri), and messages passed on before their last line are tagged
// _docker_partial_truncated; an event carrying that tag is passed on
// untouched. A program's last output without a newline is held like a
// partial line, until flush_timeout. Held lines were acknowledged to their
// source when dropped: a crash loses them.
//
// A line that is not such a JSON object (or not a string) leaves the event
// unchanged apart from the tag_on_failure tags and is counted as a failure.
// An event without the field is left alone and is not a failure.
package docker

import (
	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/cri"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Tags of the function.
const (
	// TagFailure is the default tag of lines that do not parse.
	TagFailure = "_dockerparsefailure"
	// TagTruncated marks a message passed on before its last line.
	TagTruncated = "_docker_partial_truncated"
)

// AttrsPrefix is the prefix of attribute fields (under target).
const AttrsPrefix = "docker.attrs."

// Config is the docker function's configuration.
type Config struct {
	Field          string   `yaml:"field" doc:"Field holding the json-file log line."`
	Target         string   `yaml:"target" doc:"Prefix of the parsed fields: empty sets message, stream, docker.attrs.* and @timestamp; \"x\" sets them under x (x.@timestamp is a time field)."`
	TagOnFailure   []string `yaml:"tag_on_failure" doc:"Tags added when the line does not parse."`
	cri.JoinConfig `yaml:",inline"`
}

// NewConfig returns a Config with every default set.
func NewConfig() *Config {
	return &Config{Field: event.MessageField, TagOnFailure: []string{TagFailure}, JoinConfig: cri.DefaultJoinConfig()}
}

// Validate checks the options.
func (c *Config) Validate() error {
	if err := cri.ValidateFieldTarget(c.Field, c.Target); err != nil {
		return err
	}
	return c.JoinConfig.Validate()
}

// Spec registers the docker function.
var Spec = component.FunctionSpec{
	Type: "docker",
	Doc: "Parses Docker json-file log lines (`{\"log\":\"...\\n\",\"stream\":\"stdout\",\"time\":\"...\"}`) into " +
		"message (without the final newline), stream, docker.attrs.* and @timestamp, and joins the lines Docker cut " +
		"at 16KiB (no final newline) with the lines that follow in the same log (key, default log.file.path) and " +
		"stream; the partial lines' events are dropped and the joined message carries the first line's fields. " +
		"Bounds as in cri; messages passed on early are tagged `_docker_partial_truncated`. Unparsable lines: " +
		"`_dockerparsefailure`.",
	Example:   "- type: docker\n  key: \"%{log.file.path}\"\n  max_bytes: 1MiB\n",
	NewConfig: func() any { return NewConfig() },
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("docker", cfg)
		if err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		out := cri.NewOutput(c.Target)
		attrsPrefix := fnutil.Join(c.Target, AttrsPrefix)
		parse := func(ev *event.Event, s string) (cri.Line, bool) {
			l, ok := Parse(s)
			if !ok {
				return cri.Line{}, false
			}
			out.Set(ev, l.Stream, l.Time)
			for _, a := range l.Attrs {
				ev.SetValue(attrsPrefix+a.Key, event.String(a.Value))
			}
			return cri.Line{Time: l.Time, Stream: l.Stream, Partial: l.Partial, Message: l.Message}, true
		}
		return cri.NewFunction(c.Field, out.Message(), &c.JoinConfig, TagTruncated, fnutil.NewFailure(env, c.TagOnFailure), parse), nil
	},
}
