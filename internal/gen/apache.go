package gen

import (
	"bytes"
	"time"
)

// apacheGen makes Apache combined log lines, with the id as the last query
// parameter of the request path:
//
//	IP - USER [02/Jan/2006:15:04:05 +0000] "GET /path?id=RUN-SEQ HTTP/1.1" 200 1234 "REFERER" "USER-AGENT"
type apacheGen struct{ o Options }

var protocols = newWeighted(choice[string]{80, "HTTP/1.1"}, choice[string]{20, "HTTP/2.0"})

// Append implements Generator.
func (g *apacheGen) Append(dst []byte, seq uint64, now time.Time) []byte {
	r := lineRNG(g.o.Seed, seq)
	dst = appendIP(dst, &r)
	dst = append(dst, " - "...)
	if r.percent(10) {
		dst = append(dst, pickOne(&r, users)...)
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, " ["...)
	dst = appendCLFTime(dst, now)
	dst = append(dst, "] \""...)
	dst = append(dst, methods.pick(&r)...)
	dst = append(dst, ' ')
	start := len(dst)
	dst = paths.pick(&r).append(dst, &r)
	if bytes.IndexByte(dst[start:], '?') >= 0 {
		dst = append(dst, "&id="...)
	} else {
		dst = append(dst, "?id="...)
	}
	dst = appendID(dst, g.o.RunID, seq)
	dst = append(dst, ' ')
	dst = append(dst, protocols.pick(&r)...)
	dst = append(dst, "\" "...)
	status := statuses.pick(&r)
	dst = appendInt(dst, status)
	dst = append(dst, ' ')
	if n := bodyBytes(&r, status); n > 0 {
		dst = appendInt(dst, n)
	} else {
		dst = append(dst, '-') // %b writes "-" for an empty body
	}
	dst = append(dst, " \""...)
	dst = append(dst, referers.pick(&r)...)
	dst = append(dst, "\" \""...)
	dst = append(dst, userAgents.pick(&r)...)
	return append(dst, '"')
}

// bodyBytes returns a response size that fits status.
func bodyBytes(r *rng, status int) int {
	switch {
	case status == 204 || status == 304:
		return 0
	case status >= 300:
		return r.between(150, 600)
	}
	return 200 + r.skewed(60000)
}
