package syslog

import (
	"time"

	"github.com/sluicehq/sluice/internal/event"
)

// ECS field names set by this source.
const (
	fieldPriority     = "log.syslog.priority"
	fieldFacilityCode = "log.syslog.facility.code"
	fieldFacilityName = "log.syslog.facility.name"
	fieldSeverityCode = "log.syslog.severity.code"
	fieldSeverityName = "log.syslog.severity.name"
	fieldLevel        = "log.level"
	fieldVersion      = "log.syslog.version"
	fieldHostname     = "log.syslog.hostname"
	fieldHostHostname = "host.hostname"
	fieldAppname      = "log.syslog.appname"
	fieldProcid       = "log.syslog.procid"
	fieldMsgid        = "log.syslog.msgid"
	fieldSDPrefix     = "log.syslog.structured_data."
	fieldSourceAddr   = "log.source.address"
	fieldOriginal     = "event.original"
)

// Tags added to events.
const (
	tagParseFailure = "_syslogparsefailure"
	tagTruncated    = "_truncated"
)

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

// maxInternedKeys bounds a builder's structured-data key cache.
const maxInternedKeys = 4096

// builder turns raw messages into events. It owns a parser and caches, so
// each goroutine (a TCP connection, the UDP loop) has its own.
type builder struct {
	p            *parser
	keepOriginal bool
	keys         map[string]string // "id\x00name" → full field name
	keyBuf       []byte
}

func newBuilder(loc *time.Location, keepOriginal bool) *builder {
	return &builder{p: newParser(loc), keepOriginal: keepOriginal, keys: make(map[string]string)}
}

// build parses raw, received at recv from addr, into an event with room
// for extra more fields (tags the caller adds). ok is false for malformed
// input, which is kept whole in message and tagged _syslogparsefailure.
// The event's strings point into raw.
func (b *builder) build(raw string, recv time.Time, addr string, extra int) (event.Event, bool) {
	m, ok := b.p.parse(raw, recv)
	n := extra
	if addr != "" {
		n++
	}
	if b.keepOriginal {
		n++
	}
	if !ok {
		n += 2 // message, tags
		if m.pri >= 0 {
			n += 6
		}
		ev := event.NewSized(recv, n)
		ev.AppendField(event.MessageField, event.String(raw))
		if m.pri >= 0 {
			appendPriority(&ev, m.pri)
		}
		b.appendSource(&ev, raw, addr)
		ev.AddTag(tagParseFailure)
		return ev, false
	}
	n += 7 + len(m.sd) // message, priority fields, structured data
	if m.version > 0 {
		n++
	}
	if m.hostname != "" {
		n += 2
	}
	if m.appname != "" {
		n++
	}
	if m.procid != "" {
		n++
	}
	if m.msgid != "" {
		n++
	}
	t := recv
	if !m.ts.IsZero() {
		t = m.ts
	}
	ev := event.NewSized(t, n)
	ev.AppendField(event.MessageField, event.String(m.msg))
	appendPriority(&ev, m.pri)
	if m.version > 0 {
		ev.AppendField(fieldVersion, event.Int(int64(m.version)))
	}
	if m.hostname != "" {
		ev.AppendField(fieldHostname, event.String(m.hostname))
		ev.AppendField(fieldHostHostname, event.String(m.hostname))
	}
	if m.appname != "" {
		ev.AppendField(fieldAppname, event.String(m.appname))
	}
	if m.procid != "" {
		ev.AppendField(fieldProcid, event.String(m.procid))
	}
	if m.msgid != "" {
		ev.AppendField(fieldMsgid, event.String(m.msgid))
	}
	for _, sd := range m.sd {
		ev.AppendField(b.sdKey(sd.id, sd.name), event.String(sd.value))
	}
	b.appendSource(&ev, raw, addr)
	return ev, true
}

func appendPriority(ev *event.Event, pri int) {
	fac, sev := pri/8, pri%8
	ev.AppendField(fieldPriority, event.Int(int64(pri)))
	ev.AppendField(fieldFacilityCode, event.Int(int64(fac)))
	ev.AppendField(fieldFacilityName, event.String(facilityNames[fac]))
	ev.AppendField(fieldSeverityCode, event.Int(int64(sev)))
	ev.AppendField(fieldSeverityName, event.String(severityNames[sev]))
	ev.AppendField(fieldLevel, event.String(levels[sev]))
}

func (b *builder) appendSource(ev *event.Event, raw, addr string) {
	if addr != "" {
		ev.AppendField(fieldSourceAddr, event.String(addr))
	}
	if b.keepOriginal {
		ev.AppendField(fieldOriginal, event.String(raw))
	}
}

// sdKey returns "log.syslog.structured_data.<id>.<name>", from a cache so
// that the usual repeated SD-IDs cost no allocation.
func (b *builder) sdKey(id, name string) string {
	kb := append(b.keyBuf[:0], id...)
	kb = append(kb, 0)
	kb = append(kb, name...)
	b.keyBuf = kb
	if k, ok := b.keys[string(kb)]; ok {
		return k
	}
	k := fieldSDPrefix + id + "." + name
	if len(b.keys) < maxInternedKeys {
		b.keys[string(kb)] = k
	}
	return k
}
