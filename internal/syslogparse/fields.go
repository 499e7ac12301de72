package syslogparse

import (
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// ECS field names of parsed messages.
const (
	FieldPriority     = "log.syslog.priority"
	FieldFacilityCode = "log.syslog.facility.code"
	FieldFacilityName = "log.syslog.facility.name"
	FieldSeverityCode = "log.syslog.severity.code"
	FieldSeverityName = "log.syslog.severity.name"
	FieldLevel        = "log.level"
	FieldVersion      = "log.syslog.version"
	FieldHostname     = "log.syslog.hostname"
	FieldHostHostname = "host.hostname"
	FieldAppname      = "log.syslog.appname"
	FieldProcid       = "log.syslog.procid"
	FieldMsgid        = "log.syslog.msgid"
	// FieldSDPrefix is followed by "<SD-ID>.<PARAM-NAME>".
	FieldSDPrefix   = "log.syslog.structured_data."
	FieldSourceAddr = "log.source.address"
	FieldOriginal   = "event.original"
)

// TagParseFailure is the tag of events whose message could not be parsed.
const TagParseFailure = "_syslogparsefailure"

// facilityNames and severityNames are Filebeat's labels, so that dashboards
// and queries built for Filebeat's syslog input keep working.
var facilityNames = [24]string{
	"kernel", "user-level", "mail", "system", "security/authorization", "syslogd",
	"line printer", "network news", "UUCP", "clock", "security/authorization", "FTP",
	"NTP", "log audit", "log alert", "clock", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7",
}

var severityNames = [8]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// levels are the severity names in lower case, for log.level.
var levels = [8]string{"emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"}

// FacilityName returns the name of a facility code (0 to 23), as Filebeat
// labels it ("kernel", "user-level", ..., "local7"), or "" out of range.
func FacilityName(code int) string {
	if code < 0 || code >= len(facilityNames) {
		return ""
	}
	return facilityNames[code]
}

// SeverityName returns the name of a severity code (0 to 7), as Filebeat
// labels it ("Emergency", ..., "Debug"), or "" out of range.
func SeverityName(code int) string {
	if code < 0 || code >= len(severityNames) {
		return ""
	}
	return severityNames[code]
}

// Level returns the log.level of a severity code (0 to 7): its name in lower
// case ("emergency", ..., "debug"), or "" out of range.
func Level(code int) string {
	if code < 0 || code >= len(levels) {
		return ""
	}
	return levels[code]
}

// maxInternedKeys bounds a KeyCache.
const maxInternedKeys = 4096

// KeyCache names structured-data fields, "<prefix><id>.<name>", from a cache
// so that the usual repeated SD-IDs cost no allocation. It is not safe for
// concurrent use.
type KeyCache struct {
	prefix string
	keys   map[string]string // "id\x00name" → full field name
	keyBuf []byte
}

// NewKeyCache returns a cache of names that start with prefix (normally
// FieldSDPrefix, with a dot at the end).
func NewKeyCache(prefix string) *KeyCache {
	return &KeyCache{prefix: prefix, keys: make(map[string]string)}
}

// Key returns "<prefix><id>.<name>".
func (c *KeyCache) Key(id, name string) string {
	kb := append(c.keyBuf[:0], id...)
	kb = append(kb, 0)
	kb = append(kb, name...)
	c.keyBuf = kb
	if k, ok := c.keys[string(kb)]; ok {
		return k
	}
	k := c.prefix + id + "." + name
	if len(c.keys) < maxInternedKeys {
		c.keys[string(kb)] = k
	}
	return k
}

// Builder turns raw messages into new events, as the syslog source makes
// them. It owns a Parser and caches, so each goroutine (a TCP connection,
// the UDP loop) has its own.
type Builder struct {
	p            *Parser
	keepOriginal bool
	keys         *KeyCache
}

// NewBuilder returns a Builder whose parser reads RFC 3164 timestamps in
// loc, and that also stores the raw message in event.original when
// keepOriginal is set.
func NewBuilder(loc *time.Location, keepOriginal bool) *Builder {
	return &Builder{p: NewParser(loc), keepOriginal: keepOriginal, keys: NewKeyCache(FieldSDPrefix)}
}

// Build parses raw, received at recv from addr ("" for none), into an event
// with room for extra more fields (tags the caller adds). The event's
// @timestamp is the message's, or recv when it has none; message is the
// MSG part. ok is false for malformed input, which is kept whole in message
// and tagged _syslogparsefailure (with the priority fields when the PRI was
// valid). The event's strings point into raw.
func (b *Builder) Build(raw string, recv time.Time, addr string, extra int) (event.Event, bool) {
	m, ok := b.p.Parse(raw, recv)
	n := extra
	if addr != "" {
		n++
	}
	if b.keepOriginal {
		n++
	}
	if !ok {
		n += 2 // message, tags
		if m.Priority >= 0 {
			n += 6
		}
		ev := event.NewSized(recv, n)
		ev.AppendField(event.MessageField, event.String(raw))
		if m.Priority >= 0 {
			appendPriority(&ev, m.Priority)
		}
		b.appendSource(&ev, raw, addr)
		ev.AddTag(TagParseFailure)
		return ev, false
	}
	n += 7 + len(m.SD) // message, priority fields, structured data
	if m.Version > 0 {
		n++
	}
	if m.Hostname != "" {
		n += 2
	}
	if m.AppName != "" {
		n++
	}
	if m.ProcID != "" {
		n++
	}
	if m.MsgID != "" {
		n++
	}
	t := recv
	if !m.Timestamp.IsZero() {
		t = m.Timestamp
	}
	ev := event.NewSized(t, n)
	ev.AppendField(event.MessageField, event.String(m.Msg))
	appendPriority(&ev, m.Priority)
	if m.Version > 0 {
		ev.AppendField(FieldVersion, event.Int(int64(m.Version)))
	}
	if m.Hostname != "" {
		ev.AppendField(FieldHostname, event.String(m.Hostname))
		ev.AppendField(FieldHostHostname, event.String(m.Hostname))
	}
	if m.AppName != "" {
		ev.AppendField(FieldAppname, event.String(m.AppName))
	}
	if m.ProcID != "" {
		ev.AppendField(FieldProcid, event.String(m.ProcID))
	}
	if m.MsgID != "" {
		ev.AppendField(FieldMsgid, event.String(m.MsgID))
	}
	for _, sd := range m.SD {
		ev.AppendField(b.keys.Key(sd.ID, sd.Name), event.String(sd.Value))
	}
	b.appendSource(&ev, raw, addr)
	return ev, true
}

func appendPriority(ev *event.Event, pri int) {
	fac, sev := pri/8, pri%8
	ev.AppendField(FieldPriority, event.Int(int64(pri)))
	ev.AppendField(FieldFacilityCode, event.Int(int64(fac)))
	ev.AppendField(FieldFacilityName, event.String(facilityNames[fac]))
	ev.AppendField(FieldSeverityCode, event.Int(int64(sev)))
	ev.AppendField(FieldSeverityName, event.String(severityNames[sev]))
	ev.AppendField(FieldLevel, event.String(levels[sev]))
}

func (b *Builder) appendSource(ev *event.Event, raw, addr string) {
	if addr != "" {
		ev.AppendField(FieldSourceAddr, event.String(addr))
	}
	if b.keepOriginal {
		ev.AppendField(FieldOriginal, event.String(raw))
	}
}
