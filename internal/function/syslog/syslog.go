// Package syslog is the "syslog" function: parse a syslog line held in a
// field (from a raw TCP source, a file, a JSON envelope) into the same
// fields the syslog source makes, with the same parser (package
// syslogparse).
//
// The line is RFC 5424 when it starts "<PRI>1 ", RFC 3164 (BSD, Cisco IOS
// and ASA variants included) otherwise. A parsed line sets, under target:
// message (the MSG part), log.syslog.priority, log.syslog.facility.code and
// .name, log.syslog.severity.code and .name, log.level, and when the line
// has them log.syslog.version (5424), log.syslog.hostname and host.hostname,
// log.syslog.appname, log.syslog.procid, log.syslog.msgid and
// log.syslog.structured_data.<SD-ID>.<PARAM>; event.original (the whole
// line) with keep_original. Fields the line does not have are left as they
// are. The line's timestamp becomes the event's @timestamp when target is
// empty, or the time field <target>.@timestamp otherwise; a line without a
// timestamp leaves both alone. RFC 3164 timestamps carry no zone (timezone
// applies) and no year: the year is that of the event's current @timestamp
// (normally when it was received; the clock when it has none), or the year
// before when that would put the line more than 7 days after it, or the
// year after for a January line seen in late December (as the source does;
// see syslogparse.InferYear).
//
// A line that cannot be parsed (no valid <PRI>, or an RFC 5424 header or
// structured data that breaks the RFC) leaves the event unchanged apart
// from the tag_on_failure tags, and is counted as a failure. Unlike the
// source, which keeps such a line and its priority fields, the function
// adds no fields then. An event without the field is left alone and is not
// a failure (as Logstash's date and json filters do); a field that is not
// a string is parsed in its text form (and so fails).
package syslog

import (
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/component"
	"github.com/sluicehq/sluice/internal/event"
	"github.com/sluicehq/sluice/internal/function/fnutil"
	"github.com/sluicehq/sluice/internal/syslogparse"
)

// Config is the syslog function's configuration.
type Config struct {
	Field        string   `yaml:"field" doc:"Field holding the syslog line."`
	Target       string   `yaml:"target" doc:"Prefix of the parsed fields: empty puts message, log.syslog.* and host.hostname at the root and the line's timestamp in @timestamp; \"x\" puts them under x (x.message, x.@timestamp, ...)."`
	Timezone     string   `yaml:"timezone" doc:"Time zone of RFC 3164 timestamps, which carry none: an IANA name (Europe/Berlin), Local, UTC or an offset (+02:00)."`
	KeepOriginal bool     `yaml:"keep_original" doc:"Also store the whole line in event.original (under target)."`
	TagOnFailure []string `yaml:"tag_on_failure" doc:"Tags added when the line cannot be parsed."`
	loc          *time.Location
}

// NewConfig returns a Config with every default set.
func NewConfig() *Config {
	return &Config{
		Field:        event.MessageField,
		Timezone:     "UTC",
		TagOnFailure: []string{syslogparse.TagParseFailure},
	}
}

// Validate checks the options and loads the time zone.
func (c *Config) Validate() error {
	if c.Field == "" {
		return component.Errorf("field", "must name the field that holds the syslog line (default message)")
	}
	if c.Target == event.TimestampField || strings.HasPrefix(c.Target, ".") || strings.HasSuffix(c.Target, ".") {
		return component.Errorf("target", "must be empty (the event's root) or a field prefix such as \"syslog\", not %q", c.Target)
	}
	loc, err := syslogparse.LoadLocation(c.Timezone)
	if err != nil {
		return component.Errorf("timezone", "%v", err)
	}
	c.loc = loc
	return nil
}

// keys are the output field names under the target.
type keys struct {
	message, priority, facilityCode, facilityName, severityCode, severityName, level,
	version, hostname, hostHostname, appname, procid, msgid, original, timestamp string
}

func newKeys(target string) keys {
	j := func(k string) string { return fnutil.Join(target, k) }
	return keys{
		message:      j(event.MessageField),
		priority:     j(syslogparse.FieldPriority),
		facilityCode: j(syslogparse.FieldFacilityCode),
		facilityName: j(syslogparse.FieldFacilityName),
		severityCode: j(syslogparse.FieldSeverityCode),
		severityName: j(syslogparse.FieldSeverityName),
		level:        j(syslogparse.FieldLevel),
		version:      j(syslogparse.FieldVersion),
		hostname:     j(syslogparse.FieldHostname),
		hostHostname: j(syslogparse.FieldHostHostname),
		appname:      j(syslogparse.FieldAppname),
		procid:       j(syslogparse.FieldProcid),
		msgid:        j(syslogparse.FieldMsgid),
		original:     j(syslogparse.FieldOriginal),
		timestamp:    j(event.TimestampField),
	}
}

// state is what one goroutine needs to parse: the parser's scratch space and
// the structured-data name cache. States are pooled.
type state struct {
	p    *syslogparse.Parser
	keys *syslogparse.KeyCache
}

type fn struct {
	field        string
	rootTime     bool // the line's timestamp goes to the event's @timestamp
	keepOriginal bool
	k            keys
	fail         *fnutil.Failure
	pool         sync.Pool
}

// Apply implements component.Function.
func (f *fn) Apply(ev *event.Event, _ func(event.Event)) bool {
	v, ok := ev.Lookup(f.field)
	if !ok {
		return true
	}
	raw, isStr := v.Str()
	if !isStr {
		raw = v.Text()
	}
	recv := ev.Time
	if recv.IsZero() {
		recv = time.Now()
	}
	st := f.pool.Get().(*state)
	defer f.pool.Put(st)
	m, ok := st.p.Parse(raw, recv)
	if !ok {
		f.fail.Fail(ev)
		return true
	}
	ev.Grow(9 + len(m.SD))
	k := &f.k
	ev.SetValue(k.message, event.String(m.Msg))
	fac, sev := m.Priority/8, m.Priority%8
	ev.SetValue(k.priority, event.Int(int64(m.Priority)))
	ev.SetValue(k.facilityCode, event.Int(int64(fac)))
	ev.SetValue(k.facilityName, event.String(syslogparse.FacilityName(fac)))
	ev.SetValue(k.severityCode, event.Int(int64(sev)))
	ev.SetValue(k.severityName, event.String(syslogparse.SeverityName(sev)))
	ev.SetValue(k.level, event.String(syslogparse.Level(sev)))
	if m.Version > 0 {
		ev.SetValue(k.version, event.Int(int64(m.Version)))
	}
	if m.Hostname != "" {
		ev.SetValue(k.hostname, event.String(m.Hostname))
		ev.SetValue(k.hostHostname, event.String(m.Hostname))
	}
	if m.AppName != "" {
		ev.SetValue(k.appname, event.String(m.AppName))
	}
	if m.ProcID != "" {
		ev.SetValue(k.procid, event.String(m.ProcID))
	}
	if m.MsgID != "" {
		ev.SetValue(k.msgid, event.String(m.MsgID))
	}
	for _, sd := range m.SD {
		ev.SetValue(st.keys.Key(sd.ID, sd.Name), event.String(sd.Value))
	}
	if f.keepOriginal {
		ev.SetValue(k.original, event.String(raw))
	}
	if !m.Timestamp.IsZero() {
		if f.rootTime {
			ev.Time = m.Timestamp
		} else {
			ev.SetValue(k.timestamp, event.Time(m.Timestamp))
		}
	}
	return true
}

// Spec registers the syslog function.
var Spec = component.FunctionSpec{
	Type: "syslog",
	Doc: "Parses a syslog line (RFC 5424 or RFC 3164, Cisco variants included) held in a field into the fields " +
		"the syslog source makes: message (the MSG part), log.syslog.priority, facility and severity codes and names, " +
		"log.level, hostname (also host.hostname), appname, procid, msgid, version and " +
		"log.syslog.structured_data.<id>.<param>, all under target; the line's timestamp becomes @timestamp " +
		"(RFC 3164: year inferred from the event's time, `timezone` applies). Unparsable lines are left as they are " +
		"and tagged `_syslogparsefailure`; events without the field are left alone.",
	Example:   "- type: syslog\n  field: message\n  timezone: Europe/Berlin\n  keep_original: true\n",
	NewConfig: func() any { return NewConfig() },
	Build: func(cfg any, env component.Env) (component.Function, error) {
		c, err := fnutil.Config[Config]("syslog", cfg)
		if err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		loc, sdPrefix := c.loc, fnutil.Join(c.Target, syslogparse.FieldSDPrefix)
		f := &fn{
			field:        c.Field,
			rootTime:     c.Target == "",
			keepOriginal: c.KeepOriginal,
			k:            newKeys(c.Target),
			fail:         fnutil.NewFailure(env, c.TagOnFailure),
		}
		f.pool.New = func() any {
			return &state{p: syslogparse.NewParser(loc), keys: syslogparse.NewKeyCache(sdPrefix)}
		}
		return f, nil
	},
}
