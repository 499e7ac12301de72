package gen

import (
	"bytes"
	"time"
)

// jsonGen makes ECS-style application log objects, one per line. About
// two thirds are HTTP request logs (http.*, url.*, client.ip, user_agent),
// the rest application messages; all carry service, host, trace and the id:
//
//	{"@timestamp":"…","id":"RUN-SEQ","log.level":"info","message":"GET /api/v1/cart 200 12ms",
//	 "ecs.version":"8.11.0","service":{"name":"cart",…},"host":{"name":"…"},
//	 "http":{"request":{"method":"GET"},"response":{"status_code":200,…}},"url":{"path":"…"},
//	 "user":{"id":"u-1234"},"trace":{"id":"…"},"event":{"duration":12000000}}
//
// "id" comes right after @timestamp so that ExtractID, which takes the first
// "id" key, never mistakes trace.id for it.
type jsonGen struct{ o Options }

var serviceVersions = []string{"1.14.2", "1.15.0", "2.3.1", "2.4.0-rc.1"}

// Append implements Generator.
func (g *jsonGen) Append(dst []byte, seq uint64, now time.Time) []byte {
	r := lineRNG(g.o.Seed, seq)
	svc := pickOne(&r, services)
	access := r.percent(65)
	var lvl level
	var status, ms int
	var method string
	if access {
		status = statuses.pick(&r)
		method = methods.pick(&r)
		ms = 1 + r.skewed(r.between(20, 2000))
		lvl = statusLevel(status)
	} else {
		lvl = levels.pick(&r)
		ms = r.skewed(500)
	}

	dst = append(dst, `{"@timestamp":"`...)
	dst = appendRFC3339(dst, now, 3)
	dst = append(dst, `","id":"`...)
	dst = appendID(dst, g.o.RunID, seq)
	dst = append(dst, `","log.level":"`...)
	dst = append(dst, lvl.name...)
	dst = append(dst, `","message":"`...)
	var pathStart, pathEnd int
	if access {
		dst = append(dst, method...)
		dst = append(dst, ' ')
		pathStart = len(dst)
		dst = paths.pick(&r).append(dst, &r)
		pathEnd = len(dst)
		dst = append(dst, ' ')
		dst = appendInt(dst, status)
		dst = append(dst, ' ')
		dst = appendInt(dst, ms)
		dst = append(dst, "ms"...)
	} else {
		dst = pickOne(&r, appMessages[lvl.name]).append(dst, &r)
	}
	dst = append(dst, `","ecs.version":"8.11.0","service":{"name":"`...)
	dst = append(dst, svc...)
	dst = append(dst, `","version":"`...)
	dst = append(dst, pickOne(&r, serviceVersions)...)
	dst = append(dst, `","environment":"production"},"host":{"name":"`...)
	dst = append(dst, hosts[r.intn(len(hosts))]...)
	dst = append(dst, `"}`...)
	if access {
		dst = append(dst, `,"http":{"request":{"method":"`...)
		dst = append(dst, method...)
		dst = append(dst, `"},"response":{"status_code":`...)
		dst = appendInt(dst, status)
		dst = append(dst, `,"body":{"bytes":`...)
		dst = appendInt(dst, bodyBytes(&r, status))
		dst = append(dst, `}}},"url":{"path":"`...)
		// Copy the path out of the message, splitting off the query as ECS does.
		path := dst[pathStart:pathEnd]
		query := []byte(nil)
		if q := bytes.IndexByte(path, '?'); q >= 0 {
			path, query = path[:q], path[q+1:]
		}
		dst = append(dst, path...)
		if query != nil {
			dst = append(dst, `","query":"`...)
			dst = append(dst, query...)
		}
		dst = append(dst, `"},"client":{"ip":"`...)
		dst = appendIP(dst, &r)
		dst = append(dst, `"},"user_agent":{"original":"`...)
		dst = append(dst, userAgents.pick(&r)...)
		dst = append(dst, `"}`...)
	}
	if access || r.percent(50) {
		dst = append(dst, `,"user":{"id":"`...)
		dst = appendUID(dst, &r)
		dst = append(dst, `"}`...)
	}
	dst = append(dst, `,"trace":{"id":"`...)
	dst = appendHex(dst, &r, 32)
	dst = append(dst, `"},"event":{"duration":`...)
	dst = appendInt(dst, ms*1000000+r.intn(1000000))
	return append(dst, `}}`...)
}

// statusLevel is the level a service logs a request with.
func statusLevel(status int) level {
	switch {
	case status >= 500:
		return lvlError
	case status >= 400:
		return lvlWarn
	}
	return lvlInfo
}
