package gen

import (
	"strings"
)

// A msgTemplate is a message with typed slots ("Accepted publickey for
// {user} from {ip} port {port}"), parsed once at init so that rendering is
// a loop of appends.
type msgTemplate []segment

type segment struct {
	lit  string
	slot slot
}

type slot uint8

const (
	slotNone   slot = iota
	slotIP          // client address, mostly private
	slotUser        // login name
	slotUID         // application user id, skewed
	slotPort        // ephemeral port
	slotSmall       // 1..64
	slotN           // 1..9999
	slotBig         // 10000..9999999
	slotMS          // duration in ms, skewed towards fast
	slotPath        // URL path
	slotHost        // host name
	slotPID         // process id
	slotHex8        // 8 hex digits
	slotHex16       // 16 hex digits
	slotSvc         // service name
	slotWord        // search word / category
	slotTable       // SQL table
	slotPod         // Kubernetes pod name
	slotMethod      // HTTP method
	slotStatus      // HTTP status
)

var slotNames = map[string]slot{
	"ip": slotIP, "user": slotUser, "uid": slotUID, "port": slotPort, "small": slotSmall,
	"n": slotN, "big": slotBig, "ms": slotMS, "path": slotPath, "host": slotHost,
	"pid": slotPID, "hex8": slotHex8, "hex16": slotHex16, "svc": slotSvc, "word": slotWord,
	"table": slotTable, "pod": slotPod, "method": slotMethod, "status": slotStatus,
}

// parseTemplate parses s; an unknown slot is a programming error.
func parseTemplate(s string) msgTemplate {
	var t msgTemplate
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			t = append(t, segment{lit: s})
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			panic("gen: unclosed slot in template " + s)
		}
		sl, ok := slotNames[s[i+1:i+j]]
		if !ok {
			panic("gen: unknown slot " + s[i:i+j+1])
		}
		t = append(t, segment{lit: s[:i], slot: sl})
		s = s[i+j+1:]
	}
	return t
}

func (t msgTemplate) append(dst []byte, r *rng) []byte {
	for _, seg := range t {
		dst = append(dst, seg.lit...)
		if seg.slot != slotNone {
			dst = appendSlot(dst, seg.slot, r)
		}
	}
	return dst
}

func appendSlot(dst []byte, s slot, r *rng) []byte {
	switch s {
	case slotIP:
		return appendIP(dst, r)
	case slotUser:
		return append(dst, pickOne(r, users)...)
	case slotUID:
		return appendUID(dst, r)
	case slotPort:
		return appendInt(dst, r.between(32768, 60999))
	case slotSmall:
		return appendInt(dst, r.between(1, 64))
	case slotN:
		return appendInt(dst, 1+r.skewed(9999))
	case slotBig:
		return appendInt(dst, r.between(10000, 9999999))
	case slotMS:
		return appendInt(dst, 1+r.skewed(r.between(20, 3000)))
	case slotPath:
		return paths.pick(r).append(dst, r)
	case slotHost:
		return append(dst, pickOne(r, hosts)...)
	case slotPID:
		return appendInt(dst, r.between(300, 65000))
	case slotHex8:
		return appendHex(dst, r, 8)
	case slotHex16:
		return appendHex(dst, r, 16)
	case slotSvc:
		return append(dst, pickOne(r, services)...)
	case slotWord:
		return append(dst, pickOne(r, words)...)
	case slotTable:
		return append(dst, pickOne(r, tables)...)
	case slotPod:
		return appendPod(dst, r, pickOne(r, services))
	case slotMethod:
		return append(dst, methods.pick(r)...)
	case slotStatus:
		return appendInt(dst, statuses.pick(r))
	}
	return dst
}

// appendIP appends a client address: mostly from a few private /16s, the
// rest from the documentation ranges, so that top-values look like real
// traffic (a few busy clients, a long tail).
func appendIP(dst []byte, r *rng) []byte {
	if r.percent(70) {
		dst = append(dst, "10."...)
		dst = appendInt(dst, r.skewed(8))
		dst = append(dst, '.')
		dst = appendInt(dst, r.skewed(256))
		dst = append(dst, '.')
		return appendInt(dst, 1+r.intn(254))
	}
	dst = append(dst, pickOne(r, publicNets)...)
	return appendInt(dst, 1+r.skewed(254))
}

func appendUID(dst []byte, r *rng) []byte {
	dst = append(dst, "u-"...)
	return appendInt(dst, 1000+r.skewed(50000))
}

// appendPod appends a Deployment pod name, svc-<replicaset hash>-<pod
// suffix>, with two ReplicaSets and six pods each, so names repeat the way
// they do in a cluster.
func appendPod(dst []byte, r *rng, svc string) []byte {
	var h uint64
	for i := 0; i < len(svc); i++ {
		h = h*31 + uint64(svc[i])
	}
	rs := mix64(h + uint64(r.intn(2)))
	pod := mix64(rs + uint64(r.intn(6)) + 1)
	dst = append(dst, svc...)
	dst = append(dst, '-')
	dst = appendPodChars(dst, rs, 10)
	dst = append(dst, '-')
	return appendPodChars(dst, pod, 5)
}

// appendPodChars appends n characters from Kubernetes' name alphabet.
func appendPodChars(dst []byte, x uint64, n int) []byte {
	const alnum = "bcdfghjklmnpqrstvwxz2456789"
	for i := 0; i < n; i++ {
		dst = append(dst, alnum[x%uint64(len(alnum))])
		x /= uint64(len(alnum))
	}
	return dst
}
