package gen

import (
	"strings"
	"time"
)

// shortHosts are the host names without their domain, as RFC 3164 senders
// write them.
var shortHosts = func() []string {
	s := make([]string, len(hosts))
	for i, h := range hosts {
		s[i], _, _ = strings.Cut(h, ".")
	}
	return s
}()

// syslog5424 makes RFC 5424 lines:
//
//	<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD-ELEMENT...] MSG id=RUN-SEQ
type syslog5424 struct{ o Options }

var sdElements = newWeighted(
	choice[string]{50, `[sluice@32473 env="production" zone="eu-west-1a" team="payments"]`},
	choice[string]{20, `[sluice@32473 env="production" zone="eu-west-1b" team="storefront"]`},
	choice[string]{30, "-"},
)

var msgIDs = newWeighted(choice[string]{80, "-"}, choice[string]{10, "audit"}, choice[string]{10, "access"})

// Append implements Generator.
func (g *syslog5424) Append(dst []byte, seq uint64, now time.Time) []byte {
	r := lineRNG(g.o.Seed, seq)
	app := syslogApps.pick(&r)
	m := app.msgs.pick(&r)
	dst = appendPRI(dst, app.facility, m.severity)
	dst = append(dst, '1', ' ')
	dst = appendRFC3339(dst, now, 6)
	dst = append(dst, ' ')
	dst = append(dst, hosts[r.intn(len(hosts))]...)
	dst = append(dst, ' ')
	dst = append(dst, app.name...)
	dst = append(dst, ' ')
	if app.facility == 0 {
		dst = append(dst, '-')
	} else {
		dst = appendInt(dst, r.between(300, 65000))
	}
	dst = append(dst, ' ')
	dst = append(dst, msgIDs.pick(&r)...)
	dst = append(dst, ' ')
	sd := sdElements.pick(&r)
	dst = append(dst, sd...)
	if sd != "-" && r.percent(30) {
		// meta is registered by RFC 5424; sequenceId is 1..2147483647.
		dst = append(dst, `[meta sequenceId="`...)
		dst = appendUint(dst, seq%2147483647+1)
		dst = append(dst, `"]`...)
	}
	dst = append(dst, ' ')
	dst = m.t.append(dst, &r)
	dst = append(dst, " id="...)
	return appendID(dst, g.o.RunID, seq)
}

// syslog3164 makes BSD syslog lines:
//
//	<PRI>Mmm dd hh:mm:ss HOST APP[PID]: MSG id=RUN-SEQ
type syslog3164 struct{ o Options }

// Append implements Generator.
func (g *syslog3164) Append(dst []byte, seq uint64, now time.Time) []byte {
	r := lineRNG(g.o.Seed, seq)
	app := syslogApps.pick(&r)
	m := app.msgs.pick(&r)
	dst = appendPRI(dst, app.facility, m.severity)
	dst = appendBSDTime(dst, now)
	dst = append(dst, ' ')
	dst = append(dst, shortHosts[r.intn(len(shortHosts))]...)
	dst = append(dst, ' ')
	dst = append(dst, app.name...)
	if app.facility == 0 {
		dst = append(dst, ": ["...)
		dst = appendInt(dst, r.between(100, 9000000))
		dst = append(dst, '.')
		dst = appendFrac(dst, r.intn(1000000)*1000, 6)
		dst = append(dst, "] "...)
	} else {
		dst = append(dst, '[')
		dst = appendInt(dst, r.between(300, 65000))
		dst = append(dst, "]: "...)
	}
	dst = m.t.append(dst, &r)
	dst = append(dst, " id="...)
	return appendID(dst, g.o.RunID, seq)
}

func appendPRI(dst []byte, facility, severity int) []byte {
	dst = append(dst, '<')
	dst = appendInt(dst, facility*8+severity)
	return append(dst, '>')
}
