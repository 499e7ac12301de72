// Package cri is the "cri" function: parse the lines of CRI container log
// files (containerd, CRI-O; what Kubernetes nodes write under
// /var/log/pods), "<RFC3339Nano time> <stdout|stderr> <P|F> <message>", and
// join the partial lines of long messages.
//
// A line sets, under target: message (the log text), stream ("stdout" or
// "stderr", as Filebeat's container input and Vector's kubernetes_logs name
// it) and the time, which becomes the event's @timestamp when target is
// empty and the time field <target>.@timestamp otherwise. Parse is exported
// for sources that read these files.
//
// Joining (join_partial, on by default): the runtime cuts lines longer than
// its buffer (16KiB) into P lines followed by an F line. The lines of one
// message are those of one log (the key template, log.file.path by
// default) and one stream. A P line is held and its event dropped; the F
// line that follows passes on as one event: the event of the message's
// first line (its fields and @timestamp) with message set to the text of
// all its lines. The fields of the other lines are discarded. Memory is
// bounded: a message that reaches max_bytes is passed on at once (the
// event of the line that made it reach the limit carries it) and its
// further lines make a new message; at most max_pending messages are held,
// and a new one beyond that passes on the one least recently added to
// (through the pipeline, right after the line being processed). A message
// that gets no line for flush_timeout is passed on by the runtime's flush
// (a batch from "pipeline:NAME" that enters the routes from the top), and so
// are all held messages when the pipeline stops or reloads. Every message
// passed on before its F line is tagged _cri_partial_truncated; an event
// that carries that tag is passed on untouched, so that one coming back
// through the routes is not parsed twice. Held lines were acknowledged to
// their source when dropped: a crash loses them.
//
// A line that does not parse leaves the event unchanged apart from the
// tag_on_failure tags and is counted as a failure, as is a field that is not
// a string. An event without the field is left alone and is not a failure.
package cri

import (
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
)

// Tags of the function.
const (
	// TagFailure is the default tag of lines that do not parse.
	TagFailure = "_criparsefailure"
	// TagTruncated marks a message passed on before its last line.
	TagTruncated = "_cri_partial_truncated"
)

// StreamField is the field the stream goes to (under target).
const StreamField = "stream"

// Config is the cri function's configuration.
type Config struct {
	Field        string   `yaml:"field" doc:"Field holding the CRI log line."`
	Target       string   `yaml:"target" doc:"Prefix of the parsed fields: empty sets message, stream and @timestamp; \"x\" sets x.message, x.stream and x.@timestamp (a time field)."`
	TagOnFailure []string `yaml:"tag_on_failure" doc:"Tags added when the line does not parse."`
	JoinConfig   `yaml:",inline"`
}

// NewConfig returns a Config with every default set.
func NewConfig() *Config {
	return &Config{Field: event.MessageField, TagOnFailure: []string{TagFailure}, JoinConfig: DefaultJoinConfig()}
}

// Validate checks the options.
func (c *Config) Validate() error {
	if err := ValidateFieldTarget(c.Field, c.Target); err != nil {
		return err
	}
	return c.JoinConfig.Validate()
}

// ValidateFieldTarget checks the field and target options of the cri and
// docker functions.
func ValidateFieldTarget(field, target string) error {
	if field == "" {
		return component.Errorf("field", "must name the field that holds the log line (default message)")
	}
	if target == event.TimestampField || strings.HasPrefix(target, ".") || strings.HasSuffix(target, ".") {
		return component.Errorf("target", "must be empty (the event's root) or a field prefix such as \"container\", not %q", target)
	}
	return nil
}

// Output names where a parsed line goes and sets it on events.
type Output struct {
	message, stream, timestamp string
	rootTime                   bool
}

// NewOutput returns the output fields under target.
func NewOutput(target string) Output {
	return Output{
		message:   fnutil.Join(target, event.MessageField),
		stream:    fnutil.Join(target, StreamField),
		timestamp: fnutil.Join(target, event.TimestampField),
		rootTime:  target == "",
	}
}

// Message is the name of the message field.
func (o *Output) Message() string { return o.message }

// Set sets the stream and the time of a line on ev.
func (o *Output) Set(ev *event.Event, stream string, t time.Time) {
	ev.SetValue(o.stream, event.String(stream))
	if o.rootTime {
		ev.Time = t
	} else {
		ev.SetValue(o.timestamp, event.Time(t))
	}
}

// LineParser parses a line s of a container log for NewFunction: it sets
// on ev the fields the line holds apart from its text (stream, time,
// attributes) and returns the line. ok is false, and ev left unchanged,
// when s does not parse.
type LineParser func(ev *event.Event, s string) (l Line, ok bool)

// NewFunction returns the function of a container log format (cri,
// docker), whose lines parse reads. It parses the field of each event: an
// event without the field is left alone; one whose field is not a string or
// does not parse is tagged and counted by fail. A line's text goes to
// msgKey. When join.JoinPartial is set (join validated), partial lines are
// joined as Joiner.Add says, messages passed on before their last line are
// tagged truncatedTag, and an event that already carries that tag is
// passed on untouched.
func NewFunction(field, msgKey string, join *JoinConfig, truncatedTag string, fail *fnutil.Failure, parse LineParser) component.Function {
	base := fn{field: field, msgKey: msgKey, fail: fail, parseLine: parse}
	if !join.JoinPartial {
		return &base
	}
	return &joinFn{fn: base, join: NewJoiner(join, msgKey, truncatedTag)}
}

// fn is the function without joining.
type fn struct {
	field     string
	msgKey    string
	fail      *fnutil.Failure
	parseLine LineParser
}

// Apply implements component.Function without joining.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	l, ok := f.parse(ev)
	if ok {
		ev.SetValue(f.msgKey, event.String(l.Message))
	}
	return true
}

// parse parses the field of ev and sets what the line holds apart from its
// text. ok is false when the event has no field (left alone) or it does not
// parse (tagged).
func (f *fn) parse(ev *event.Event) (Line, bool) {
	v, ok := ev.Lookup(f.field)
	if !ok {
		return Line{}, false
	}
	s, isStr := v.Str()
	if !isStr {
		f.fail.Fail(ev)
		return Line{}, false
	}
	l, ok := f.parseLine(ev, s)
	if !ok {
		f.fail.Fail(ev)
		return l, false
	}
	return l, true
}

// joinFn is the function with joining: a component.Flusher.
type joinFn struct {
	fn
	join *Joiner
}

// Apply implements component.Function.
func (f *joinFn) Apply(ev *event.Event, emit func(event.Event)) bool {
	if ev.HasTag(f.join.Tag()) {
		return true
	}
	l, ok := f.parse(ev)
	if !ok {
		return true
	}
	if !l.Partial && f.join.Pending() == 0 {
		ev.SetValue(f.msgKey, event.String(l.Message))
		return true
	}
	var buf [128]byte
	return f.join.Add(ev, f.join.AppendKey(buf[:0], ev, l.Stream), l.Message, l.Partial, emit)
}

// FlushInterval implements component.Flusher.
func (f *joinFn) FlushInterval() time.Duration { return f.join.FlushInterval() }

// Flush implements component.Flusher: it passes on the messages held too
// long, or all of them when final.
func (f *joinFn) Flush(now time.Time, final bool, emit func(event.Event)) {
	f.join.Flush(now, final, emit)
}

// Spec registers the cri function.
var Spec = component.FunctionSpec{
	Type: "cri",
	Doc: "Parses CRI container log lines (containerd, CRI-O: `<time> <stdout|stderr> <P|F> <message>`) into " +
		"message, stream and @timestamp, and joins partial (P) lines with the lines that follow in the same log " +
		"(key, default log.file.path) and stream up to the F line; the partial lines' events are dropped and the " +
		"joined message carries the first line's fields. Held messages are bounded by max_bytes, max_pending and " +
		"flush_timeout; those passed on early are tagged `_cri_partial_truncated`. Unparsable lines: `_criparsefailure`.",
	Example:   "- type: cri\n  key: \"%{log.file.path}\"\n  max_bytes: 1MiB\n  flush_timeout: 5s\n",
	NewConfig: func() any { return NewConfig() },
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("cri", cfg)
		if err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		out := NewOutput(c.Target)
		parse := func(ev *event.Event, s string) (Line, bool) {
			l, ok := Parse(s)
			if ok {
				out.Set(ev, l.Stream, l.Time)
			}
			return l, ok
		}
		return NewFunction(c.Field, out.Message(), &c.JoinConfig, TagTruncated, fnutil.NewFailure(env, c.TagOnFailure), parse), nil
	},
}
